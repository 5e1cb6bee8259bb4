import { describe, expect, it } from 'vitest';
import { AdaptiveBudget } from '../../../../src/core/inline/adaptiveBudget';
import { CompletionCache, stateKey } from '../../../../src/core/inline/completionCache';
import { chatAnswerCode, CompletionStream } from '../../../../src/core/inline/completionStream';
import { selectSnippets } from '../../../../src/core/inline/contextSnippets';
import { PrefixTrie } from '../../../../src/core/inline/prefixTrie';
import { LineTokenMemo, prefixWindow, suffixWindow } from '../../../../src/core/inline/promptWindow';
import { adaptiveDelayMs, TypingPace } from '../../../../src/core/inline/typingPace';
import type { GenerationRun } from '../../../../src/core/generation/generationService';
import type { RequestStats } from '../../../../src/core/requestStats';
import type { StreamEvent } from '../../../../src/core/streamEvents';
import { requestStats } from '../../builders/requestRecords';

describe('PrefixTrie', () => {
  it('finds every stored key that is a prefix of the query, shortest first', () => {
    const trie = new PrefixTrie<string>();
    trie.insert('abc', 'k3');
    trie.insert('abcdef', 'k6');
    trie.insert('abx', 'x');
    trie.insert('', 'empty');
    trie.insert('abcdef', 'k6b');
    expect(trie.prefixesOf('abcdefgh').map((match) => [match.value, match.keyLength])).toEqual([
      ['empty', 0],
      ['k3', 3],
      ['k6', 6],
      ['k6b', 6],
    ]);
    expect(trie.prefixesOf('abd').map((match) => match.value)).toEqual(['empty']);
    expect(trie.prefixesOf('abxy').map((match) => match.value)).toEqual(['empty', 'x']);
    expect(trie.size).toBe(5);
  });

  it('deletes values and keeps answering correctly after pruning and merging', () => {
    const trie = new PrefixTrie<number>();
    const keys = ['function a() {', 'function a() {\n  return', 'function b', 'function a() {\n  ret', 'fun'];
    keys.forEach((key, index) => trie.insert(key, index));
    expect(trie.delete('function a() {\n  ret', 3)).toBe(true);
    expect(trie.delete('function a() {\n  ret', 3)).toBe(false);
    expect(trie.delete('fun', 4)).toBe(true);
    expect(trie.prefixesOf('function a() {\n  return x;').map((match) => match.value)).toEqual([0, 1]);
    expect(trie.prefixesOf('function b()').map((match) => match.value)).toEqual([2]);
    expect(trie.size).toBe(3);
  });

  it('agrees with a brute-force scan on random keys', () => {
    let seed = 7;
    const random = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed % n;
    };
    const word = () => Array.from({ length: random(6) }, () => 'ab\n'.charAt(random(3))).join('');
    const trie = new PrefixTrie<number>();
    const stored: [string, number][] = [];
    for (let index = 0; index < 300; index += 1) {
      const key = word();
      trie.insert(key, index);
      stored.push([key, index]);
      if (random(4) === 0 && stored.length > 0) {
        const [victimKey, victim] = stored.splice(random(stored.length), 1)[0] ?? ['', -1];
        expect(trie.delete(victimKey, victim)).toBe(true);
      }
    }
    for (let probe = 0; probe < 200; probe += 1) {
      const query = word() + word();
      const expected = stored
        .filter(([key]) => query.startsWith(key))
        .map(([, value]) => value)
        .sort((a, b) => a - b);
      const actual = trie
        .prefixesOf(query)
        .map((match) => match.value)
        .sort((a, b) => a - b);
      expect(actual).toEqual(expected);
    }
  });
});

/** A run whose events the test pushes. */
function scriptedRun(): { run: GenerationRun; push(text: string): void; end(): void } {
  const queue: StreamEvent[] = [];
  let ended = false;
  let wake: (() => void) | null = null;
  async function* events(): AsyncGenerator<StreamEvent> {
    for (;;) {
      const next = queue.shift();
      if (next !== undefined) {
        yield next;
        continue;
      }
      if (ended) return;
      await new Promise<void>((resolve) => {
        wake = resolve;
      });
    }
  }
  const poke = () => {
    const resolve = wake;
    wake = null;
    resolve?.();
  };
  return {
    run: {
      events: events(),
      route: () => null,
      liveTokensPerSec: () => null,
      outputTokens: () => 0,
      complete: () => undefined,
      finished: Promise.resolve(null),
    },
    push: (text) => {
      queue.push({ kind: 'text', text });
      poke();
    },
    end: () => {
      ended = true;
      poke();
    },
  };
}

async function settle(): Promise<void> {
  for (let index = 0; index < 5; index += 1) await new Promise((resolve) => setImmediate(resolve));
}

describe('CompletionCache', () => {
  const doc = 'file:///a.ts';

  it('serves states reached by typing along a completion, and not others', async () => {
    const cache = new CompletionCache();
    const stream = new CompletionStream(stateKey(doc, 'const x = '), '', 0, false, 64);
    const script = scriptedRun();
    const consumed = stream.consume(script.run);
    script.push('compute(1);\nconst y = 2;');
    script.end();
    await consumed;
    cache.add(stream);
    expect(cache.lookup(stateKey(doc, 'const x = '), '')).toMatchObject({ typedLength: 0, ahead: false });
    expect(cache.lookup(stateKey(doc, 'const x = comp'), '')).toMatchObject({ typedLength: 4 });
    expect(cache.lookup(stateKey(doc, 'const x = compX'), '')).toBeNull();
    expect(cache.lookup(stateKey(doc, 'const x = comp'), ')')).toBeNull();
    expect(cache.lookup(stateKey('file:///b.ts', 'const x = comp'), '')).toBeNull();
    // Everything typed: exhausted, passed over.
    expect(cache.lookup(stateKey(doc, 'const x = compute(1);\nconst y = 2;'), '')).toBeNull();
  });

  it('follows a stream still arriving, also when the typing runs ahead of it', async () => {
    const cache = new CompletionCache();
    const stream = new CompletionStream(stateKey(doc, 'a'), '', 0, false, 64);
    const script = scriptedRun();
    void stream.consume(script.run);
    script.push('bc');
    await settle();
    cache.add(stream);
    expect(cache.lookup(stateKey(doc, 'ab'), '')).toMatchObject({ typedLength: 1, ahead: false });
    expect(cache.lookup(stateKey(doc, 'abcd'), '')).toMatchObject({ typedLength: 3, ahead: true });
    expect(cache.isUseful(stream, stateKey(doc, 'abcd'), '')).toBe(true);
    expect(cache.isUseful(stream, stateKey(doc, 'ax'), '')).toBe(false);
    script.end();
  });

  it('evicts the least recently used entry at capacity', () => {
    const cache = new CompletionCache(2);
    const streams = ['a', 'b', 'c'].map((prefix) => new CompletionStream(stateKey(doc, prefix), '', 0, false, 8));
    const [first, second, third] = streams;
    if (!first || !second || !third) throw new Error('setup');
    cache.add(first);
    cache.add(second);
    cache.lookup(stateKey(doc, 'a'), '');
    cache.add(third);
    expect(cache.size).toBe(2);
    expect(cache.lookup(stateKey(doc, 'b'), '')).toBeNull();
  });
});

describe('chatAnswerCode', () => {
  const rows: { raw: string; code: string }[] = [
    { raw: 'return a + b;', code: 'return a + b;' },
    { raw: '```ts\nreturn a + b;\n```', code: 'return a + b;' },
    { raw: 'Here it is:\n```python\nx = 1\n```\nDone.', code: 'x = 1' },
    { raw: '```', code: '' },
    { raw: '```ts\nreturn', code: 'return' },
  ];
  it.each(rows)('$raw', ({ raw, code }) => {
    expect(chatAnswerCode(raw)).toBe(code);
  });
});

describe('prompt windows sized in tokens', () => {
  const memo = new LineTokenMemo((text) => text.length);

  it('keeps whole lines nearest the cursor within the budget', () => {
    const prefix = 'aaaa\nbbbb\ncccc\ndd';
    // Each line costs its length + 1 (its newline) with this counter.
    expect(prefixWindow(prefix, 9, memo)).toEqual({ text: 'cccc\ndd', tokens: 8 });
    expect(prefixWindow(prefix, 100, memo).text).toBe(prefix);
    expect(prefixWindow('\n\nx', 100, memo).text).toBe('\n\nx');
  });

  it('estimates lines not counted yet (on the large side) and counts them exactly later', () => {
    let calls = 0;
    const lazy = new LineTokenMemo(
      (text) => {
        calls += 1;
        return Math.ceil(text.length / 4);
      },
      100,
      true,
    );
    const line = 'const value = compute(input);';
    expect(lazy.lineTokens(line)).toBe(Math.ceil(line.length / 3) + 1);
    expect(calls).toBe(0);
    expect(lazy.queuedLines).toBe(1);
    lazy.countQueued();
    expect(calls).toBe(1);
    expect(lazy.lineTokens(line)).toBe(Math.ceil(line.length / 4) + 1);
    expect(lazy.queuedLines).toBe(0);
  });

  it('keeps the rest of the cursor line and whole following lines', () => {
    expect(suffixWindow(')\nline1\nline2', 10, memo)).toEqual({ text: ')\nline1', tokens: 8 });
    expect(suffixWindow('tail', 1, memo).text).toBe('tail');
  });
});

describe('AdaptiveBudget', () => {
  const stats = (decode: number, ttft: number): RequestStats =>
    requestStats({
      ttftMs: ttft,
      decodeTokensPerSec: decode,
      outputTokens: 100,
      tokensSource: 'estimate',
      promptTokens: null,
      totalMs: 300,
    });

  it('follows the measured decode speed, clamped, and is eager for blocks only when fast', () => {
    const budget = new AdaptiveBudget();
    expect(budget.budgetFor('e')).toMatchObject({ maxTokens: 96, multilineEager: false });
    budget.observe('fast', stats(1000, 150));
    expect(budget.budgetFor('fast')).toMatchObject({ maxTokens: 300, multilineEager: true });
    budget.observe('slow', stats(20, 400));
    expect(budget.budgetFor('slow')).toMatchObject({ maxTokens: 24, multilineEager: false, timeLimitMs: 1200 });
    budget.observe('huge', stats(10_000, 50));
    expect(budget.budgetFor('huge').maxTokens).toBe(512);
    budget.observe('fast', stats(2000, 150));
    expect(budget.decodeTokensPerSec('fast')).toBeCloseTo(1300);
  });
});

describe('typing pace and the adaptive delay', () => {
  it('learns the keystroke gap, ignoring pauses', () => {
    const pace = new TypingPace();
    for (const at of [0, 100, 200, 300, 5000, 5100]) pace.note(at);
    expect(pace.keystrokeGapMs()).toBeCloseTo(100);
  });

  it('waits for a pause longer than the usual gap, minus what TTFT covers', () => {
    expect(adaptiveDelayMs(null, 100, 300)).toBe(0);
    expect(adaptiveDelayMs(200, 100, 300)).toBe(150);
    expect(adaptiveDelayMs(200, 400, 300)).toBe(0);
    expect(adaptiveDelayMs(1000, 0, 300)).toBe(300);
  });
});

describe('selectSnippets', () => {
  it('takes the snippets that share identifiers with the cursor, within budget', () => {
    const memo = new LineTokenMemo((text) => text.length);
    const chosen = selectSnippets(
      [
        { path: 'unrelated.ts', text: 'export const colour = 1;', origin: 'open-editor' },
        { path: 'user.ts', text: 'export function loadUser(userId) {}', origin: 'open-editor' },
        { path: 'big.ts', text: `loadUser userId ${'x'.repeat(500)}`, origin: 'recent-edit' },
      ],
      'const user = loadUser(userId);',
      100,
      memo,
    );
    expect(chosen.map((snippet) => snippet.path)).toEqual(['user.ts']);
  });
});
