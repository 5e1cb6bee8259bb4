import { describe, expect, it } from 'vitest';
import { createLazyTokenCounter } from '../../../../src/core/stream/lazyTokenCounter';
import { countTokens } from '../../../../src/core/stream/tokenCount';

describe('createLazyTokenCounter', () => {
  it('counts roughly before the tokenizer loads and exactly after', async () => {
    const lazy = createLazyTokenCounter(async () => countTokens);
    const text = 'export const answer = compute(42);';
    expect(lazy.isExact).toBe(false);
    expect(lazy.count(text)).toBe(Math.ceil(text.length / 4));
    await lazy.load();
    expect(lazy.isExact).toBe(true);
    expect(lazy.count(text)).toBe(countTokens(text));
  });

  it('loads once however often it is asked, and survives a failed load', async () => {
    let loads = 0;
    const lazy = createLazyTokenCounter(async () => {
      loads += 1;
      throw new Error('missing chunk');
    });
    await Promise.all([lazy.load(), lazy.load(), lazy.load()]);
    expect(loads).toBe(1);
    expect(lazy.isExact).toBe(false);
    expect(lazy.count('abcdefgh')).toBe(2);
  });
});
