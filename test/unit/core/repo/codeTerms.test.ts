import { describe, expect, it } from 'vitest';
import { queryTerms, termsOf as terms } from '../../../../src/core/repo/codeTerms';
import { TermDictionary } from '../../../../src/core/repo/termDictionary';

describe('code terms', () => {
  it('keeps identifiers lowercased, with their camelCase and snake_case parts', () => {
    expect(terms('getUserName')).toEqual({ getusername: 1, get: 1, user: 1, name: 1 });
    expect(terms('parseHTTPHeader')).toEqual({ parsehttpheader: 1, parse: 1, http: 1, header: 1 });
    expect(terms('MAX_RETRY_COUNT')).toEqual({ max_retry_count: 1, max: 1, retry: 1, count: 1 });
    expect(terms('_private_value')).toEqual({ _private_value: 1, private: 1, value: 1 });
    expect(terms('utf8Decoder')).toEqual({ utf8decoder: 1, utf: 1, decoder: 1 });
  });
  it('drops single letters, numbers, punctuation and prose stop words', () => {
    expect(terms('a = 1234 + b; // the x')).toEqual({});
    expect(terms('café déjà')).toEqual({ caf: 1 });
  });
  it('counts repeats', () => {
    expect(terms('token token Token')).toEqual({ token: 3 });
  });
  it('interns terms case-insensitively and finds them again without adding', () => {
    const dictionary = new TermDictionary(['the']);
    const text = 'Token token TOKEN other';
    const first = dictionary.idOfRange(text, 0, 5);
    expect(dictionary.idOfRange(text, 6, 11)).toBe(first);
    expect(dictionary.idOfRange(text, 12, 17)).toBe(first);
    expect(dictionary.term(first)).toBe('token');
    expect(dictionary.isStopWord(dictionary.lookup('the') ?? -1)).toBe(true);
    expect(dictionary.lookup('missing')).toBeUndefined();
    // Growing the table keeps every id findable.
    for (let i = 0; i < 100_000; i += 1) dictionary.idOfRange(`w${i}`, 0, `w${i}`.length);
    expect(dictionary.lookup('token')).toBe(first);
    expect(dictionary.lookup('w99999')).toBe(dictionary.size() - 1);
  });

  it('turns a question into distinct terms', () => {
    expect(queryTerms('How does the RateLimiter acquire tokens?')).toEqual([
      'ratelimiter',
      'rate',
      'limiter',
      'acquire',
      'tokens',
    ]);
  });
});
