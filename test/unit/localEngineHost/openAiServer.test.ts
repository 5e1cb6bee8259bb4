// The local engine's HTTP server (src/localEngineHost/openAiServer.ts) with a fake model: the protocol the extension
// speaks, checked through the extension's own transport, `generate` and decoders. node-llama-cpp is not needed here;
// the engine suite (test/engine/localEngine.engine.ts) runs the same server over a real model.
import { request as httpRequest } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { detectContextWindow } from '../../../src/core/routing/contextWindow';
import type { GenerationRequest, ProtocolId } from '../../../src/core/endpoint';
import { BackendError } from '../../../src/core/errors';
import { generate } from '../../../src/core/stream/generate';
import type { StreamEvent } from '../../../src/core/streamEvents';
import { createTransport } from '../../../src/core/stream/transport';
import type { Transport } from '../../../src/core/stream/transport';
import { ContextTooLongError } from '../../../src/localEngineHost/localModel';
import type { GenerationInput, GenerationOutcome, SamplingParams } from '../../../src/localEngineHost/localModel';
import { OpenAiServer } from '../../../src/localEngineHost/openAiServer';
import type { ServedModel } from '../../../src/localEngineHost/openAiServer';

const CONTEXT_SIZE = 512;

/** A model that writes `piece` `maxTokens` times, one piece per 2 ms, and records what it was asked. */
class FakeModel implements ServedModel {
  readonly contextSize = CONTEXT_SIZE;
  readonly calls: { input: GenerationInput; params: SamplingParams }[] = [];
  running = 0;
  maxRunning = 0;
  aborted = 0;

  async generate(
    input: GenerationInput,
    params: SamplingParams,
    onText: (text: string) => void,
    signal: AbortSignal,
  ): Promise<GenerationOutcome> {
    this.calls.push({ input, params });
    const prompt =
      input.kind === 'prompt'
        ? input.prompt
        : input.kind === 'infill'
          ? input.prefix + input.suffix
          : input.messages.map((message) => message.content).join(' ');
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
    return {
      finishReason: 'length',
      promptTokens: 7,
      cachedPromptTokens: 2,
      completionTokens: produced,
      promptMs: 5,
      predictedMs: 20,
      aborted: signal.aborted,
    };
  }
}

const model = new FakeModel();
/** The per-run key the launcher would generate; the server answers nothing without it. */
const KEY = 'test-engine-key-0123456789abcdef0123456789';
const server = new OpenAiServer({ model, modelId: 'fake-model', apiKey: KEY });
let baseUrl = '';
let port = 0;
/** What the extension's transport sends with every request to the engine. */
const JSON_AUTH = { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' };
let transport: Transport;

beforeAll(async () => {
  port = await server.listen();
  baseUrl = `http://127.0.0.1:${port}`;
  transport = createTransport();
});

afterAll(async () => {
  await transport.close();
  await server.close();
});

async function run(
  protocol: ProtocolId,
  request: GenerationRequest,
  signal?: AbortSignal,
  onEvent?: (event: StreamEvent) => void,
) {
  const events: StreamEvent[] = [];
  let error: BackendError | null = null;
  try {
    for await (const event of generate(
      transport,
      { baseUrl: `${baseUrl}/v1`, protocol, model: 'fake-model', apiKey: KEY },
      request,
      { signal },
    )) {
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
    const outcome = await run('openai-chat', {
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'hi' },
      ],
      maxTokens: 3,
      temperature: 0.2,
    });
    expect(outcome.error).toBeNull();
    expect(outcome.events.map((event) => event.kind)).toEqual(['text', 'text', 'text', 'finish', 'timings', 'usage']);
    expect(outcome.text).toBe('ab ab ab ');
    expect(outcome.events).toContainEqual({
      kind: 'usage',
      promptTokens: 7,
      completionTokens: 3,
      cachedPromptTokens: null,
      acceptedPredictionTokens: null,
      rejectedPredictionTokens: null,
    });
    expect(outcome.events).toContainEqual(
      expect.objectContaining({
        kind: 'timings',
        origin: 'llamacpp',
        promptTokens: 5,
        cachedPromptTokens: 2,
        predictedTokens: 3,
        predictedMs: 20,
      }),
    );
    const call = model.calls.at(-1);
    expect(call?.input).toEqual({
      kind: 'chat',
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'hi' },
      ],
    });
    expect(call?.params.temperature).toBe(0.2);
  });

  it('streams a completion and passes stop strings and logit_bias through', async () => {
    const outcome = await run('openai-completions', {
      prompt: 'def f(',
      maxTokens: 2,
      stop: ['\n\n'],
      extraBody: { logit_bias: { '151643': 8, nonsense: 1 } },
    });
    expect(outcome.error).toBeNull();
    expect(outcome.text).toBe('ab ab ');
    const call = model.calls.at(-1);
    expect(call?.input).toEqual({ kind: 'prompt', prompt: 'def f(' });
    expect(call?.params.stop).toEqual(['\n\n']);
    expect([...(call?.params.logitBias ?? new Map())]).toEqual([[151643, 8]]);
  });

  it('a completion with a suffix is fill-in-the-middle', async () => {
    const outcome = await run('openai-completions', {
      prompt: 'function add(a, b) {\n  ',
      suffix: '\n}\n',
      maxTokens: 1,
    });
    expect(outcome.error).toBeNull();
    expect(model.calls.at(-1)?.input).toEqual({ kind: 'infill', prefix: 'function add(a, b) {\n  ', suffix: '\n}\n' });
  });

  it('answers /v1/models with the served context_length (detected as the window) and /health', async () => {
    const window = await detectContextWindow(transport, {
      target: { baseUrl: `${baseUrl}/v1`, protocol: 'openai-chat', model: 'fake-model', apiKey: KEY },
      contextWindow: null,
    });
    expect(window).toMatchObject({ contextWindow: CONTEXT_SIZE, source: 'endpoint' });
    expect((await fetch(`${baseUrl}/health`, { headers: JSON_AUTH })).status).toBe(200);
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
    for (let attempt = 0; attempt < 200 && model.aborted === abortedBefore; attempt++)
      await new Promise((resolve) => setTimeout(resolve, 10));
    expect(model.aborted).toBe(abortedBefore + 1);
    const next = await run('openai-completions', { prompt: 'x', maxTokens: 1 });
    expect(next.text).toBe('ab ');
  });

  it('maps a prompt over the window to a 400 the extension reads as context-too-long, and bad requests to 400', async () => {
    const tooLong = await run('openai-completions', { prompt: 'x'.repeat(CONTEXT_SIZE + 1), maxTokens: 1 });
    expect(tooLong.error?.reason).toBe('context-too-long');
    const bad = await fetch(`${baseUrl}/v1/chat/completions`, {
      method: 'POST',
      headers: JSON_AUTH,
      body: JSON.stringify({ messages: [] }),
    });
    expect(bad.status).toBe(400);
    const notJson = await fetch(`${baseUrl}/v1/completions`, { method: 'POST', headers: JSON_AUTH, body: '{' });
    expect(notJson.status).toBe(400);
    expect((await fetch(`${baseUrl}/nothing`, { headers: JSON_AUTH })).status).toBe(404);
  });

  it('answers without streaming when stream is false', async () => {
    const response = await fetch(`${baseUrl}/v1/chat/completions`, {
      method: 'POST',
      headers: JSON_AUTH,
      body: JSON.stringify({ messages: [{ role: 'user', content: 'hi' }], max_tokens: 2 }),
    });
    const body: unknown = await response.json();
    expect(body).toMatchObject({
      object: 'chat.completion',
      choices: [{ message: { role: 'assistant', content: 'ab ab ' }, finish_reason: 'length' }],
      usage: { completion_tokens: 2 },
    });
  });
});

/** One raw request (node:http, so Host and Origin are exactly what the test says); resolves with status and body. */
function rawRequest(
  method: 'GET' | 'POST',
  path: string,
  headers: Record<string, string>,
  body?: string,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const request = httpRequest({ host: '127.0.0.1', port, method, path, headers }, (response) => {
      let text = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (text += chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body: text }));
    });
    request.on('error', reject);
    request.end(body);
  });
}

describe('local engine server: only the extension may talk to it (issue 14, item 10)', () => {
  const chat = JSON.stringify({ messages: [{ role: 'user', content: 'hi' }], max_tokens: 1 });

  it('refuses a request without the per-run key, or with another key, before any generation', async () => {
    const callsBefore = model.calls.length;
    const none = await rawRequest('POST', '/v1/chat/completions', { 'content-type': 'application/json' }, chat);
    expect(none.status).toBe(401);
    const wrong = await rawRequest(
      'POST',
      '/v1/chat/completions',
      { 'content-type': 'application/json', authorization: `Bearer ${KEY.slice(0, -1)}x` },
      chat,
    );
    expect(wrong.status).toBe(401);
    expect((await rawRequest('GET', '/v1/models', {})).status).toBe(401);
    expect((await rawRequest('GET', '/health', {})).status).toBe(401);
    expect(model.calls.length).toBe(callsBefore);
    expect(none.body).not.toContain(KEY);
  });

  it("a web page's text/plain POST (no preflight) is refused even with the key: POST needs application/json", async () => {
    const callsBefore = model.calls.length;
    const plain = await rawRequest(
      'POST',
      '/v1/completions',
      { authorization: `Bearer ${KEY}`, 'content-type': 'text/plain;charset=UTF-8' },
      JSON.stringify({ prompt: 'x', max_tokens: 1 }),
    );
    expect(plain.status).toBe(415);
    const missing = await rawRequest(
      'POST',
      '/v1/completions',
      { authorization: `Bearer ${KEY}` },
      JSON.stringify({ prompt: 'x', max_tokens: 1 }),
    );
    expect(missing.status).toBe(415);
    expect(model.calls.length).toBe(callsBefore);
    const charset = await rawRequest(
      'POST',
      '/v1/completions',
      { authorization: `Bearer ${KEY}`, 'content-type': 'Application/JSON; charset=utf-8' },
      JSON.stringify({ prompt: 'x', max_tokens: 1 }),
    );
    expect(charset.status).toBe(200);
  });

  it('refuses any Origin header and any Host but 127.0.0.1:<port> or localhost:<port> (DNS rebinding)', async () => {
    const callsBefore = model.calls.length;
    const withOrigin = await rawRequest(
      'POST',
      '/v1/chat/completions',
      { ...JSON_AUTH, origin: 'https://attacker.example' },
      chat,
    );
    expect(withOrigin.status).toBe(403);
    const nullOrigin = await rawRequest('POST', '/v1/chat/completions', { ...JSON_AUTH, origin: 'null' }, chat);
    expect(nullOrigin.status).toBe(403);
    const rebound = await rawRequest(
      'POST',
      '/v1/chat/completions',
      { ...JSON_AUTH, host: `attacker.example:${port}` },
      chat,
    );
    expect(rebound.status).toBe(403);
    const otherPort = await rawRequest('GET', '/v1/models', { ...JSON_AUTH, host: `127.0.0.1:${port + 1}` });
    expect(otherPort.status).toBe(403);
    expect(model.calls.length).toBe(callsBefore);
    expect((await rawRequest('GET', '/v1/models', { ...JSON_AUTH, host: `localhost:${port}` })).status).toBe(200);
    expect((await rawRequest('GET', '/v1/models', { ...JSON_AUTH, host: `127.0.0.1:${port}` })).status).toBe(200);
  });
});
