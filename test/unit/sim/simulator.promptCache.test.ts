import { describe, expect, it } from 'vitest';
import { PROMPT_CACHE_ENTRIES, PromptCache } from '../../../src/sim/promptCache';
import { prefillMs, type RunningSimulator } from '../../../src/sim/simulator';
import { resolveRequestSettings } from '../../../src/sim/simOptions';
import { field, lastRequestOf, parseRecord, postJson, simulatorForFile, testAgent } from './simHelpers';

const agent = testAgent();
let sim: RunningSimulator;
simulatorForFile({ promptCache: true, ttftMs: 400, tokensPerSec: 100_000, completionTokens: 4 }, agent, (started) => {
  sim = started;
});

/** A long shared context (about 3,000 tokens) that differs per test, so that tests do not share cache entries. */
function context(tag: string): string {
  return Array.from({ length: 300 }, (_, line) => `// ${tag} line ${line}: export const value${line} = ${line};`).join(
    '\n',
  );
}

async function timedPost(path: string, body: unknown, headers: Record<string, string> = {}) {
  const started = performance.now();
  const response = await postJson(agent, `${sim.baseUrl}${path}`, body, headers);
  const json = parseRecord(await response.text());
  return { json, elapsedMs: performance.now() - started, record: lastRequestOf(sim) };
}

describe('the simulated prompt cache', () => {
  it('OpenAI chat: a repeated prefix is reported as cached_tokens and only the uncached part costs TTFT', async () => {
    const shared = context('openai');
    const ask = (question: string) =>
      timedPost('/v1/chat/completions', {
        model: 'm',
        max_tokens: 8,
        messages: [
          { role: 'system', content: 'Answer questions.' },
          { role: 'user', content: `${shared}\n\nQuestion: ${question}` },
        ],
      });
    const first = await ask('where is value7 defined?');
    const second = await ask('what does value200 hold?');
    expect(field(first.json, 'usage', 'prompt_tokens_details', 'cached_tokens')).toBe(0);
    const prompt = Number(field(second.json, 'usage', 'prompt_tokens'));
    const cached = Number(field(second.json, 'usage', 'prompt_tokens_details', 'cached_tokens'));
    expect(cached / prompt).toBeGreaterThan(0.99);
    expect(second.record.cachedPromptTokens).toBe(cached);
    expect(first.elapsedMs).toBeGreaterThanOrEqual(390);
    expect(second.elapsedMs).toBeLessThan(150);
  });

  it('Anthropic: caches up to the cache_control mark, written first, read after; unmarked prompts are not cached', async () => {
    const shared = context('anthropic');
    const ask = (question: string, marked: boolean) =>
      timedPost('/v1/messages', {
        model: 'claude',
        max_tokens: 8,
        system: 'Answer questions.',
        messages: [
          {
            role: 'user',
            content: [
              { type: 'text', text: shared, ...(marked ? { cache_control: { type: 'ephemeral' } } : {}) },
              { type: 'text', text: `\n\nQuestion: ${question}` },
            ],
          },
        ],
      });
    const usage = (json: Record<string, unknown>) => ({
      input: Number(field(json, 'usage', 'input_tokens')),
      written: Number(field(json, 'usage', 'cache_creation_input_tokens')),
      read: Number(field(json, 'usage', 'cache_read_input_tokens')),
    });
    const first = await ask('one?', true);
    const written = usage(first.json);
    expect(written.read).toBe(0);
    expect(written.written / first.record.promptTokens).toBeGreaterThan(0.95);
    expect(written.input + written.written).toBe(first.record.promptTokens);

    const second = await ask('two?', true);
    const read = usage(second.json);
    expect(read.written).toBe(0);
    expect(read.read).toBe(written.written);
    expect(read.input + read.read).toBe(second.record.promptTokens);
    expect(read.read).toBe(second.record.cachedPromptTokens);
    expect(second.elapsedMs).toBeLessThan(150);

    // The same prefix without a mark: Anthropic caches nothing it was not asked to.
    const unmarked = usage((await ask('three?', false)).json);
    expect(unmarked).toMatchObject({ read: 0, written: 0 });
  });

  it('llama.cpp: cache_n from the server-wide cache, none when the request turns cache_prompt off', async () => {
    const shared = context('llamacpp');
    const complete = (tail: string, cachePrompt: boolean) =>
      timedPost('/completion', { prompt: `${shared}\n${tail}`, n_predict: 8, cache_prompt: cachePrompt });
    await complete('// first', true);
    const again = await complete('// second', true);
    const timings = field(again.json, 'timings');
    expect(Number(field(timings, 'cache_n'))).toBeGreaterThan(0);
    expect(Number(field(timings, 'cache_n')) + Number(field(timings, 'prompt_n'))).toBe(again.record.promptTokens);
    const fresh = await complete('// third', false);
    expect(field(fresh.json, 'timings', 'cache_n')).toBe(0);
    expect(fresh.elapsedMs).toBeGreaterThanOrEqual(390);
  });

  it('is off per request with x-sim-prompt-cache: 0, and OpenAI usage then has its usual shape', async () => {
    const body = { model: 'm', max_tokens: 8, messages: [{ role: 'user', content: context('off') }] };
    await timedPost('/v1/chat/completions', body, { 'x-sim-prompt-cache': '0' });
    const again = await timedPost('/v1/chat/completions', body, { 'x-sim-prompt-cache': '0' });
    expect(field(again.json, 'usage', 'prompt_tokens_details')).toBeUndefined();
    expect(again.record.cachedPromptTokens).toBe(0);
    expect(again.elapsedMs).toBeGreaterThanOrEqual(390);
  });
});

describe('prefillMs', () => {
  const settings = (headers: Record<string, string>) => resolveRequestSettings({ ttftMs: 100 }, headers);
  it('keeps the TTFT without a cache, scales it by the uncached share with one, or adds a prefill rate', () => {
    expect(prefillMs(settings({}), 1_000, 900)).toBe(100);
    expect(prefillMs(settings({ 'x-sim-prompt-cache': '1' }), 1_000, 900)).toBeCloseTo(10);
    expect(prefillMs(settings({ 'x-sim-prompt-cache': '1' }), 0, 0)).toBe(100);
    expect(prefillMs(settings({ 'x-sim-prefill-tokens-per-sec': '1000' }), 1_000, 900)).toBeCloseTo(200);
    expect(() => settings({ 'x-sim-prompt-cache': 'maybe' })).toThrow(/x-sim-prompt-cache/);
  });
});

describe('PromptCache', () => {
  it('finds the longest prefix among recent prompts, never the last token, and forgets the oldest', () => {
    const cache = new PromptCache(4);
    expect(cache.lookUpAndRemember('abc', [1, 2, 3], 3)).toBe(0);
    expect(cache.lookUpAndRemember('abd', [1, 2, 4], 3)).toBe(2);
    expect(cache.lookUpAndRemember('abc', [1, 2, 3], 3)).toBe(2);
    // Prompts too long to tokenise are compared in characters, at the estimate of 4 per token.
    const long = 'x'.repeat(4_000);
    cache.lookUpAndRemember(`${long}A`, null, 1_001);
    expect(cache.lookUpAndRemember(`${long}B`, null, 1_001)).toBe(1_000);
    for (let entry = 0; entry < PROMPT_CACHE_ENTRIES + 4; entry += 1)
      cache.lookUpAndRemember(`other ${entry}`, null, 3);
    expect(cache.size).toBe(PROMPT_CACHE_ENTRIES);
    expect(cache.lookUpAndRemember(`${long}C`, null, 1_001)).toBe(0);
  });
});
