import { describe, expect, it } from 'vitest';
import { headroomFrom, isHeadroomLow, RateLimitBook } from '../../../../src/core/routing/rateLimitHeadroom';

describe('rate-limit headroom', () => {
  it.each<[string, Record<string, string>, boolean | null]>([
    [
      'OpenAI-style plenty',
      {
        'x-ratelimit-remaining-requests': '900',
        'x-ratelimit-limit-requests': '1000',
        'x-ratelimit-remaining-tokens': '50000',
        'x-ratelimit-limit-tokens': '60000',
      },
      false,
    ],
    [
      'OpenAI-style tokens nearly spent',
      { 'x-ratelimit-remaining-tokens': '3000', 'x-ratelimit-limit-tokens': '60000' },
      true,
    ],
    [
      'Cerebras per-minute tokens nearly spent',
      { 'x-ratelimit-remaining-tokens-minute': '2000', 'x-ratelimit-limit-tokens-minute': '60000' },
      true,
    ],
    ['only remaining requests, a few left', { 'x-ratelimit-remaining-requests': '2' }, true],
    ['only remaining requests, many left', { 'x-ratelimit-remaining-requests': '40' }, false],
    ['no rate-limit headers', { 'content-type': 'text/event-stream' }, null],
  ])('%s', (_name, headers, low) => {
    const headroom = headroomFrom(headers);
    if (low === null) {
      expect(headroom).toBeNull();
      return;
    }
    expect(headroom).not.toBeNull();
    if (headroom) expect(isHeadroomLow(headroom)).toBe(low);
  });

  it('keeps the latest stated headroom per endpoint', () => {
    const book = new RateLimitBook();
    book.record('burst#0', { 'x-ratelimit-remaining-requests': '1', 'x-ratelimit-limit-requests': '100' });
    expect(book.isLow('burst#0')).toBe(true);
    book.record('burst#0', { 'content-type': 'text/event-stream' });
    expect(book.isLow('burst#0')).toBe(true);
    book.record('burst#0', { 'x-ratelimit-remaining-requests': '99', 'x-ratelimit-limit-requests': '100' });
    expect(book.isLow('burst#0')).toBe(false);
    expect(book.isLow('burst#1')).toBe(false);
  });
});
