// The simulator's building blocks: token pieces that never break a character, event grouping with fault boundaries,
// fault parsing, per-request settings from headers, and a default completion that is code, not lorem ipsum.
import { describe, expect, it } from 'vitest';
import { encode } from 'gpt-tokenizer/encoding/cl100k_base';
import { CODE_CORPUS, CORPUS_LANGUAGES } from '../../../src/sim/codeCorpus';
import { corpusCode, defaultCompletion, guessLanguage, stableHash } from '../../../src/sim/defaultCompletion';
import { formatFault, parseFault, resolveRequestSettings, SimHeaderError } from '../../../src/sim/simOptions';
import { splitInsideMultiByteChar } from '../../../src/sim/streamRunner';
import { planEvents, takeTokens, tokenizeText } from '../../../src/sim/tokenPieces';
import type { SimCompletionRequest } from '../../../src/sim/simOptions';

function request(promptText: string): SimCompletionRequest {
  return {
    protocol: 'openai-chat',
    path: '/v1/chat/completions',
    model: 'm',
    promptText,
    prefix: promptText,
    suffix: '',
    messages: [],
    body: {},
  };
}

describe('tokenizeText', () => {
  it('gives each token the text it completes; pieces join to the text and are valid UTF-16', () => {
    const text = 'const label = "naïve café → 🚀"; // 日本語\n';
    const tokens = tokenizeText(text);
    expect(tokens.ids).toEqual(encode(text));
    expect(tokens.pieces.join('')).toBe(text);
    // The rocket takes several tokens: the ones before its last carry ''.
    expect(tokens.pieces.filter((piece) => piece === '').length).toBeGreaterThan(0);
    const loneSurrogate = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
    for (const piece of tokens.pieces) expect(loneSurrogate.test(piece)).toBe(false);
  });

  it('keeps a prefix of tokens', () => {
    const tokens = tokenizeText('function add(a, b) { return a + b; }');
    const first3 = takeTokens(tokens, 3);
    expect(first3.ids).toHaveLength(3);
    expect(tokens.pieces.join('').startsWith(first3.pieces.join(''))).toBe(true);
  });
});

describe('planEvents', () => {
  const tokens = tokenizeText('let total = 0;\nfor (const item of items) total += item.price * item.count;\n');

  it('groups N tokens per event and never emits an empty event', () => {
    const events = planEvents(tokens, 4, null);
    expect(events.map((event) => event.text).join('')).toBe(tokens.pieces.join(''));
    expect(events.every((event) => event.text.length > 0)).toBe(true);
    expect(events.slice(0, -1).every((event) => event.ids.length === 4)).toBe(true);
    expect(events.at(-1)?.lastToken).toBe(tokens.ids.length - 1);
  });

  it('forces a boundary after a fault token count', () => {
    const events = planEvents(tokens, 4, 6);
    expect(events.some((event) => event.lastToken === 5)).toBe(true);
  });

  it('joins a token that only starts a character to the next event', () => {
    const emoji = tokenizeText('🚀🚀');
    const events = planEvents(emoji, 1, null);
    expect(events.map((event) => event.text)).toEqual(['🚀', '🚀']);
    expect(events.reduce((sum, event) => sum + event.ids.length, 0)).toBe(emoji.ids.length);
  });
});

describe('faults and headers', () => {
  it('parses and formats every fault spec', () => {
    for (const spec of ['429', '500', '503', 'disconnect:3', 'stall:0', 'malformed:12', 'split-utf8']) {
      expect(formatFault(parseFault(spec))).toBe(spec);
    }
    expect(parseFault('disconnect')).toBeNull();
    expect(parseFault('stall:-1')).toBeNull();
    expect(parseFault('418')).toBeNull();
  });

  it('applies x-sim headers over the defaults and rejects bad values', () => {
    const settings = resolveRequestSettings(
      { ttftMs: 10, tokensPerSec: 500 },
      { 'x-sim-tokens-per-sec': '2000', 'x-sim-role-chunk': '0', 'x-sim-fault': 'stall:4', 'x-sim-max-tokens': '64' },
    );
    expect(settings).toMatchObject({
      ttftMs: 10,
      tokensPerSec: 2000,
      roleChunk: false,
      fault: { kind: 'stall', afterTokens: 4 },
      maxTokensDefault: 64,
    });
    expect(() => resolveRequestSettings({}, { 'x-sim-ttft-ms': 'soon' })).toThrow(SimHeaderError);
    expect(() => resolveRequestSettings({}, { 'x-sim-chat-style': 'poem' })).toThrow(SimHeaderError);
  });

  it('splits an event inside its first multi-byte character', () => {
    const halves = splitInsideMultiByteChar('data: {"text":"café"}\n\n');
    expect(halves).not.toBeNull();
    const [head, tail] = halves ?? [Buffer.alloc(0), Buffer.alloc(0)];
    expect(head.at(-1)).toBe(0xc3);
    expect(Buffer.concat([head, tail]).toString('utf8')).toBe('data: {"text":"café"}\n\n');
    expect(splitInsideMultiByteChar('ascii only')).toBeNull();
  });
});

describe('default completion', () => {
  it('is deterministic per prompt and differs between prompts', () => {
    const a = defaultCompletion(request('function one() {}'), 'plain');
    expect(defaultCompletion(request('function one() {}'), 'plain')).toBe(a);
    expect(stableHash('a')).not.toBe(stableHash('b'));
  });

  it('follows the language of the prompt', () => {
    expect(guessLanguage('import os\ndef main():\n    ')).toBe('python');
    expect(guessLanguage('package main\n\nfunc main() {\n')).toBe('go');
    expect(guessLanguage('fn main() {\n    let mut x = 1;\n')).toBe('rust');
    expect(guessLanguage('const x = 1;\n')).toBe('typescript');
    expect(defaultCompletion(request('def main():\n    '), 'plain')).toMatch(/\bdef \w+\(/);
  });

  it('holds at least 2,000 tokens of code in every language', () => {
    for (const language of CORPUS_LANGUAGES) {
      expect(CODE_CORPUS[language].length).toBeGreaterThanOrEqual(3);
      const code = corpusCode(language, 0);
      expect(encode(code).length, language).toBeGreaterThanOrEqual(2000);
    }
  });

  it('wraps a chat answer in a fence with one sentence before it', () => {
    const text = defaultCompletion(request('Refactor this TypeScript: const a = 1;'), 'fenced');
    const lines = text.split('\n');
    expect(lines[0]).toMatch(/^[A-Z].*[.:]$/);
    expect(lines[2]).toBe('```ts');
    expect(text.trimEnd().endsWith('```')).toBe(true);
  });
});
