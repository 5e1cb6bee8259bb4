// The local engine's HTTP server (src/localEngineHost/openAiServer.ts) with a fake model: the protocol the extension
// speaks, checked through the extension's own transport, `generate` and decoders. node-llama-cpp is not needed here;
// the engine suite (test/engine/localEngine.engine.ts) runs the same server over a real model.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { detectContextWindow } from '../../src/core/contextWindow';
import type { GenerationRequest, ProtocolId } from '../../src/core/endpoint';
import { BackendError } from '../../src/core/errors';
import { generate } from '../../src/core/generate';
import type { StreamEvent } from '../../src/core/streamEvents';
import { createTransport } from '../../src/core/transport';
import type { Transport } from '../../src/core/transport';
import { ContextTooLongError } from '../../src/localEngineHost/localModel';
import type { GenerationInput, GenerationOutcome, SamplingParams } from '../../src/localEngineHost/localModel';
import { OpenAiServer } from '../../src/localEngineHost/openAiServer';
import type { ServedModel } from '../../src/localEngineHost/openAiServer';

const CONTEXT_SIZE = 512;

/** A model that writes `piece` `maxTokens` times, one piece per 2 ms, and records what it was asked. */
class FakeModel implements ServedModel {
  readonly contextSize = CONTEXT_SIZE;
  readonly calls: { input: GenerationInput; params: SamplingParams }[] = [];
  running = 0;
  maxRunning = 0;
  aborted = 0;

  async generate(input: GenerationInput, params: SamplingParams, onText: (text: string) => void, signal: AbortSignal): Promise<GenerationOutcome> {
    this.calls.push({ input, params });
    const prompt = input.kind === 'prompt' ? input.prompt : input.kind === 'infill' ? input.prefix + input.suffix : input.messages.map((message) => message.content).join(' ');
    if (prompt.length > CONTEXT_SIZE) throw new ContextTooLongError(prompt.length, CONTEXT_SIZE);
    this.running++;
    this.maxRunning = Math.max(this.maxRunning, this.running);
    let produced = 0;
    try {
      while (produced < params.maxTokens && !signal.aborted) {
        await new Promise((resolve) => setTimeout(resolve, 2));
        onText('ab ');
        produced++;
      }
    } finally {
      this.running--;
    }
    if (signal.aborted) this.aborted++;
    return { finishReason: 'length', promptTokens: 7, cachedPromptTokens: 2, completionTokens: produced, promptMs: 5, predictedMs: 20, aborted: signal.aborted };
  }
}

const model = new FakeModel();
const server = new OpenAiServer({ model, modelId: 'fake-model' });
let baseUrl = '';
let transport: Transport;

beforeAll(async () => {
  baseUrl = `http://127.0.0.1:${await server.listen()}`;
  transport = createTransport();
});

afterAll(async () => {
  await transport.close();
  await server.close();
});

async function run(protocol: ProtocolId, request: GenerationRequest, signal?: AbortSignal, onEvent?: (event: StreamEvent) => void) {
  const events: StreamEvent[] = [];
  let error: BackendError | null = null;
  try {
    for await (const event of generate(transport, { baseUrl: `${baseUrl}/v1`, protocol, model: 'fake-model' }, request, { signal })) {
      events.push(event);
      onEvent?.(event);
    }
  } catch (caught) {
    if (!(caught instanceof BackendError)) throw caught;
    error = caught;
  }
  return { events, error, text: events.map((event) => (event.kind === 'text' ? event.text : '')).join('') };
}

describe('local engine server (OpenAI protocol over a fake model)', () => {
  it('streams a chat: role-only chunk yields no event, text, finish, usage with server counts, llama.cpp timings, [DONE]', async () => {
    const outcome = await run('openai-chat', { messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'hi' }], maxTokens: 3, temperature: 0.2 });
    expect(outcome.error).toBeNull();
    expect(outcome.events.map((event) => event.kind)).toEqual(['text', 'text', 'text', 'finish', 'timings', 'usage']);
    expect(outcome.text).toBe('ab ab ab ');
    expect(outcome.events).toContainEqual({ kind: 'usage', promptTokens: 7, completionTokens: 3, cachedPromptTokens: null });
    expect(outcome.events).toContainEqual(expect.objectContaining({ kind: 'timings', origin: 'llamacpp', promptTokens: 5, cachedPromptTokens: 2, predictedTokens: 3, predictedMs: 20 }));
    const call = model.calls.at(-1);
    expect(call?.input).toEqual({ kind: 'chat', messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'hi' }] });
    expect(call?.params.temperature).toBe(0.2);
  });

  it('streams a completion and passes stop strings and logit_bias through', async () => {
    const outcome = await run('openai-completions', { prompt: 'def f(', maxTokens: 2, stop: ['\n\n'], extraBody: { logit_bias: { '151643': 8, nonsense: 1 } } });
    expect(outcome.error).toBeNull();
    expect(outcome.text).toBe('ab ab ');
    const call = model.calls.at(-1);
    expect(call?.input).toEqual({ kind: 'prompt', prompt: 'def f(' });
    expect(call?.params.stop).toEqual(['\n\n']);
    expect([...(call?.params.logitBias ?? new Map())]).toEqual([[151643, 8]]);
  });

  it('a completion with a suffix is fill-in-the-middle', async () => {
    const outcome = await run('openai-completions', { prompt: 'function add(a, b) {\n  ', suffix: '\n}\n', maxTokens: 1 });
    expect(outcome.error).toBeNull();
    expect(model.calls.at(-1)?.input).toEqual({ kind: 'infill', prefix: 'function add(a, b) {\n  ', suffix: '\n}\n' });
  });

  it('answers /v1/models with the served context_length (detected as the window) and /health', async () => {
    const window = await detectContextWindow(transport, { target: { baseUrl: `${baseUrl}/v1`, protocol: 'openai-chat', model: 'fake-model' }, contextWindow: null });
    expect(window).toMatchObject({ contextWindow: CONTEXT_SIZE, source: 'endpoint' });
    expect((await fetch(`${baseUrl}/health`)).status).toBe(200);
  });

  it('runs one generation at a time: concurrent requests queue and all complete', async () => {
    model.maxRunning = 0;
    const outcomes = await Promise.all([1, 2, 3].map(() => run('openai-completions', { prompt: 'x', maxTokens: 5 })));
    for (const outcome of outcomes) expect(outcome.text).toBe('ab '.repeat(5));
    expect(model.maxRunning).toBe(1);
  });

  it('a client that disconnects mid-stream aborts its generation (the model sees the signal)', async () => {
    const abortedBefore = model.aborted;
    const controller = new AbortController();
    let texts = 0;
    const outcome = await run('openai-completions', { prompt: 'x', maxTokens: 10_000 }, controller.signal, (event) => {
      if (event.kind === 'text' && ++texts === 3) controller.abort();
    });
    expect(outcome.error?.reason).toBe('aborted');
    for (let attempt = 0; attempt < 200 && model.aborted === abortedBefore; attempt++) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(model.aborted).toBe(abortedBefore + 1);
    const next = await run('openai-completions', { prompt: 'x', maxTokens: 1 });
    expect(next.text).toBe('ab ');
  });

  it('maps a prompt over the window to a 400 the extension reads as context-too-long, and bad requests to 400', async () => {
    const tooLong = await run('openai-completions', { prompt: 'x'.repeat(CONTEXT_SIZE + 1), maxTokens: 1 });
    expect(tooLong.error?.reason).toBe('context-too-long');
    const bad = await fetch(`${baseUrl}/v1/chat/completions`, { method: 'POST', body: JSON.stringify({ messages: [] }) });
    expect(bad.status).toBe(400);
    const notJson = await fetch(`${baseUrl}/v1/completions`, { method: 'POST', body: '{' });
    expect(notJson.status).toBe(400);
    expect((await fetch(`${baseUrl}/nothing`)).status).toBe(404);
  });

  it('answers without streaming when stream is false', async () => {
    const response = await fetch(`${baseUrl}/v1/chat/completions`, { method: 'POST', body: JSON.stringify({ messages: [{ role: 'user', content: 'hi' }], max_tokens: 2 }) });
    const body: unknown = await response.json();
    expect(body).toMatchObject({ object: 'chat.completion', choices: [{ message: { role: 'assistant', content: 'ab ab ' }, finish_reason: 'length' }], usage: { completion_tokens: 2 } });
  });
});
