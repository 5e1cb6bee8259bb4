import { describe, expect, it } from 'vitest';
import { matchPrediction, tokenSchedule } from '../../../src/sim/predictionMatch';

const ids = (text: string): number[] => [...text].map((char) => char.charCodeAt(0));
const mask = (match: { acceptedMask: Uint8Array }): string => [...match.acceptedMask].join('');

describe('matchPrediction', () => {
  it('accepts every token of an answer equal to the prediction, and rejects none', () => {
    const match = matchPrediction(ids('abcdefgh'), ids('abcdefgh'));
    expect(match).toMatchObject({ accepted: 8, rejected: 0 });
    expect(mask(match)).toBe('11111111');
  });

  it('re-synchronises after a replaced token, so the rest is accepted', () => {
    const match = matchPrediction(ids('abcXefgh'), ids('abcdefgh'));
    expect(mask(match)).toBe('11101111');
    expect(match).toMatchObject({ accepted: 7, rejected: 1 });
  });

  it('keeps its place across inserted tokens, and skips forward over deleted ones', () => {
    const inserted = matchPrediction(ids('abcXYdefgh'), ids('abcdefgh'));
    expect(mask(inserted)).toBe('1110011111');
    expect(inserted).toMatchObject({ accepted: 8, rejected: 0 });
    const deleted = matchPrediction(ids('abfghijk'), ids('abcdefghijk'));
    // 'f' is generated (the place was at 'c'), then the place jumps to 'g' and the rest is accepted.
    expect(mask(deleted)).toBe('11011111');
    expect(deleted).toMatchObject({ accepted: 7, rejected: 4 });
  });

  it('accepts nothing of an unrelated prediction and rejects all of it; matches only forward, in order', () => {
    expect(matchPrediction(ids('uvwxyz'), ids('abcdefgh'))).toMatchObject({ accepted: 0, rejected: 8 });
    // The answer repeats the prediction's start after its end: the place never moves back.
    const twice = matchPrediction(ids('abcdabcd'), ids('abcd'));
    expect(twice).toMatchObject({ accepted: 4, rejected: 0 });
    expect(mask(twice)).toBe('11110000');
  });

  it('handles empty answers and predictions', () => {
    expect(matchPrediction([], ids('abc'))).toMatchObject({ accepted: 0, rejected: 3 });
    expect(matchPrediction(ids('abc'), [])).toMatchObject({ accepted: 0, rejected: 0 });
  });
});

describe('tokenSchedule', () => {
  it('spaces generated tokens at the rate and accepted ones `speedup` times closer', () => {
    const { offsetsMs, decodeMs } = tokenSchedule(Uint8Array.from([0, 1, 1, 0]), 1000, 4);
    expect([...offsetsMs]).toEqual([0, 0.25, 0.5, 1.5]);
    expect(decodeMs).toBe(2.5);
  });
});
