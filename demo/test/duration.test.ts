import { describe, expect, it } from 'vitest';
import { formatDuration, parseDuration } from '../src/duration';

describe('parseDuration', () => {
  it.each([
    ['250ms', 250],
    ['90s', 90_000],
    ['1m30s', 90_000],
    ['2m 30s', 150_000],
    ['1.5h', 5_400_000],
    ['1d2h', 93_600_000],
    [' 10 s ', 10_000],
  ])('reads %j as %d ms', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each(['', '10', 'ten seconds', '1h junk', '5 minutes', '-1s'])('refuses %j', (text) => {
    expect(() => parseDuration(text)).toThrow(RangeError);
  });
});

describe('formatDuration', () => {
  it.each([
    [0, '0ms'],
    [250, '250ms'],
    [90_000, '1m30s'],
    [5_400_000, '1h30m'],
    [93_600_250, '1d2h250ms'],
  ])('writes %d ms as %j', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });

  it('writes what parseDuration reads back', () => {
    for (const ms of [1, 999, 61_001, 3_600_000, 86_399_999]) expect(parseDuration(formatDuration(ms))).toBe(ms);
  });

  it.each([-1, Number.NaN, Number.POSITIVE_INFINITY])('refuses %d', (ms) => {
    expect(() => formatDuration(ms)).toThrow(RangeError);
  });
});
