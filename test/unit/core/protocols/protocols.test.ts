import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { EndpointTarget, GenerationRequest, ProtocolId } from '../../../../src/core/endpoint';
import { BackendError } from '../../../../src/core/errors';
import { generate } from '../../../../src/core/stream/generate';
import { protocolFor } from '../../../../src/core/protocols/registry';
import type { StreamEvent } from '../../../../src/core/streamEvents';
import type { HttpRequest, HttpResponse, Transport } from '../../../../src/core/stream/transport';
import { PROJECT_ROOT } from '../../projectRoot';

const fixture = (name: string): Uint8Array =>
  new Uint8Array(readFileSync(join(PROJECT_ROOT, 'test', 'fixtures', 'streams', name)));

/** A transport that answers every request with one canned response, cut into reads of `readSize` bytes. */
class CannedTransport implements Transport {
  readonly connectionsOpened = 0;
  readonly sent: HttpRequest[] = [];

  constructor(
    private readonly status: number,
    private readonly bytes: Uint8Array,
    private readonly readSize = 7,
    private readonly headers: Record<string, string> = {},
  ) {}

  async request(request: HttpRequest): Promise<HttpResponse> {
    this.sent.push(request);
    const { bytes, readSize } = this;
    return {
      status: this.status,
      headers: this.headers,
      body: {
        async *[Symbol.asyncIterator]() {
          for (let offset = 0; offset < bytes.length; offset += readSize)
            yield bytes.subarray(offset, offset + readSize);
        },
      },
      dispose: () => undefined,
    };
  }

  async warm(): Promise<void> {}
  async close(): Promise<void> {}
}

const request: GenerationRequest = { prompt: 'def add(a, b):', suffix: '\n', maxTokens: 16 };
const targetFor = (protocol: ProtocolId): EndpointTarget => ({
  baseUrl: 'http://127.0.0.1:9/v1/',
  protocol,
  model: 'm',
  apiKey: 'sk-test-key',
});

async function collect(protocol: ProtocolId, bytes: Uint8Array, readSize = 7): Promise<StreamEvent[]> {
  const events: StreamEvent[] = [];
  for await (const event of generate(new CannedTransport(200, bytes, readSize), targetFor(protocol), request))
    events.push(event);
  return events;
}

const textOf = (events: readonly StreamEvent[]): string =>
  events.flatMap((event) => (event.kind === 'text' ? [event.text] : [])).join('');

describe('protocol decoders on recorded streams', () => {
  it('OpenAI chat from llama.cpp: role-only chunk gives no text; usage and timings come through', async () => {
    for (const readSize of [1, 7, 4096]) {
      const events = await collect('openai-chat', fixture('openai-chat-llamacpp.sse'), readSize);
      expect(textOf(events)).toBe('def add(a, b):');
      expect(events.filter((event) => event.kind === 'text')).toHaveLength(3);
      expect(events).toContainEqual({ kind: 'finish', reason: 'length' });
      expect(events).toContainEqual({
        kind: 'usage',
        promptTokens: 12,
        completionTokens: 3,
        cachedPromptTokens: null,
        acceptedPredictionTokens: null,
        rejectedPredictionTokens: null,
      });
      expect(events).toContainEqual({
        kind: 'timings',
        origin: 'llamacpp',
        promptTokens: 12,
        promptMs: 40.5,
        predictedTokens: 3,
        predictedMs: 9,
        cachedPromptTokens: 4,
      });
    }
  });

  it('OpenAI chat from Groq: x_groq.usage becomes timings in ms', async () => {
    const events = await collect('openai-chat', fixture('openai-chat-groq.sse'));
    expect(textOf(events)).toBe('return x');
    expect(events).toContainEqual({
      kind: 'timings',
      origin: 'groq',
      promptTokens: 20,
      promptMs: 2,
      predictedTokens: 2,
      predictedMs: 4,
      cachedPromptTokens: null,
    });
  });

  it('OpenAI chat from Cerebras: ends at finish_reason without [DONE]; time_info and cached tokens read', async () => {
    const events = await collect('openai-chat', fixture('openai-chat-cerebras.sse'));
    expect(textOf(events)).toBe('x = 1');
    expect(events).toContainEqual({
      kind: 'usage',
      promptTokens: 30,
      completionTokens: 4,
      cachedPromptTokens: 16,
      acceptedPredictionTokens: null,
      rejectedPredictionTokens: null,
    });
    expect(events).toContainEqual({
      kind: 'timings',
      origin: 'cerebras',
      promptTokens: 30,
      promptMs: 3,
      predictedTokens: 4,
      predictedMs: 2,
      cachedPromptTokens: null,
    });
  });

  it('OpenAI chat with predicted outputs: accepted and rejected prediction tokens come from completion_tokens_details', async () => {
    const events = await collect('openai-chat', fixture('openai-chat-prediction.sse'));
    expect(textOf(events)).toBe('const email = "";');
    expect(events).toContainEqual({
      kind: 'usage',
      promptTokens: 60,
      completionTokens: 14,
      cachedPromptTokens: 0,
      acceptedPredictionTokens: 4,
      rejectedPredictionTokens: 8,
    });
  });

  it('OpenAI completions: text per choice, the usage chunk with choices: [] is not text', async () => {
    const events = await collect('openai-completions', fixture('openai-completions-usage.sse'));
    expect(textOf(events)).toBe('    return a + b');
    expect(events.filter((event) => event.kind === 'usage')).toEqual([
      {
        kind: 'usage',
        promptTokens: 9,
        completionTokens: 5,
        cachedPromptTokens: null,
        acceptedPredictionTokens: null,
        rejectedPredictionTokens: null,
      },
    ]);
  });

  it('Mistral /fim/completions (completions request, chat-style delta.content answer)', async () => {
    const events = await collect('openai-completions', fixture('mistral-fim.sse'));
    expect(textOf(events)).toBe('    return a + b');
    expect(events).toContainEqual({
      kind: 'usage',
      promptTokens: 12,
      completionTokens: 4,
      cachedPromptTokens: null,
      acceptedPredictionTokens: null,
      rejectedPredictionTokens: null,
    });
  });

  it('llama.cpp /infill: no [DONE]; stop:true ends it with timings and cache_n', async () => {
    const events = await collect('llamacpp-infill', fixture('llamacpp-infill.sse'));
    expect(textOf(events)).toBe('    return a');
    expect(events.filter((event) => event.kind === 'text')).toEqual([
      { kind: 'text', text: '    ret', tokens: 1 },
      { kind: 'text', text: 'urn a', tokens: 1 },
    ]);
    expect(events).toContainEqual({ kind: 'finish', reason: 'length' });
    expect(events).toContainEqual({
      kind: 'timings',
      origin: 'llamacpp',
      promptTokens: 8,
      promptMs: 12,
      predictedTokens: 2,
      predictedMs: 4,
      cachedPromptTokens: 32,
    });
  });

  it('Ollama generate and chat: NDJSON with counts and nanosecond durations', async () => {
    const generated = await collect('ollama-generate', fixture('ollama-generate.ndjson'));
    expect(textOf(generated)).toBe('if x:');
    expect(generated).toContainEqual({
      kind: 'usage',
      promptTokens: 26,
      completionTokens: 2,
      cachedPromptTokens: null,
      acceptedPredictionTokens: null,
      rejectedPredictionTokens: null,
    });
    expect(generated).toContainEqual({
      kind: 'timings',
      origin: 'ollama',
      promptTokens: 26,
      promptMs: 13,
      predictedTokens: 2,
      predictedMs: 4,
      cachedPromptTokens: null,
    });
    const chat = await collect('ollama-chat', fixture('ollama-chat.ndjson'));
    expect(textOf(chat)).toBe('ok');
    expect(chat).toContainEqual({ kind: 'reasoning', text: 'hmm' });
    expect(chat).toContainEqual({ kind: 'finish', reason: 'length' });
  });

  it('Anthropic: named events; input tokens from message_start, output from message_delta', async () => {
    const events = await collect('anthropic', fixture('anthropic.sse'), 3);
    expect(textOf(events)).toBe('Hello world');
    expect(events).toContainEqual({
      kind: 'usage',
      // input_tokens (25) counts only what was not read from the cache (5).
      promptTokens: 30,
      completionTokens: 3,
      cachedPromptTokens: 5,
      // This recording has no cache_creation_input_tokens: unknown, not 0.
      cacheWritePromptTokens: null,
      acceptedPredictionTokens: null,
      rejectedPredictionTokens: null,
    });
    expect(events).toContainEqual({ kind: 'finish', reason: 'end_turn' });
  });
});

describe('prompt caching', () => {
  it('Anthropic: the prompt is uncached + read + written tokens, and the read ones are its cached part', async () => {
    const events = await collect('anthropic', fixture('anthropic-cache.sse'), 5);
    expect(textOf(events)).toBe('The router plans routes.');
    expect(events).toContainEqual({
      kind: 'usage',
      promptTokens: 412 + 48_210,
      completionTokens: 6,
      cachedPromptTokens: 48_210,
      cacheWritePromptTokens: 0,
      acceptedPredictionTokens: null,
      rejectedPredictionTokens: null,
    });
    const written = new TextEncoder().encode(
      new TextDecoder()
        .decode(fixture('anthropic-cache.sse'))
        .replace(
          '"cache_creation_input_tokens":0,"cache_read_input_tokens":48210',
          '"cache_creation_input_tokens":48210,"cache_read_input_tokens":0',
        ),
    );
    expect((await collect('anthropic', written)).find((event) => event.kind === 'usage')).toMatchObject({
      promptTokens: 412 + 48_210,
      cachedPromptTokens: 0,
      // Written to the cache: billed above the input price, so the cost counts them apart.
      cacheWritePromptTokens: 48_210,
    });
  });

  it('Anthropic: marks the end of the cacheable prefix with cache_control, splitting the message there', () => {
    const build = (cacheablePrefixChars?: number) =>
      protocolFor('anthropic').buildRequest(targetFor('anthropic'), {
        messages: [
          { role: 'system', content: 'rules' },
          { role: 'user', content: 'MAPFILESquestion?' },
        ],
        maxTokens: 5,
        ...(cacheablePrefixChars === undefined ? {} : { cacheablePrefixChars }),
      }).body;
    expect(build(5 + 8)).toMatchObject({
      system: 'rules',
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'MAPFILES', cache_control: { type: 'ephemeral' } },
            { type: 'text', text: 'question?' },
          ],
        },
      ],
    });
    // The prefix ends with the system text: the system block carries the mark.
    expect(build(5)).toMatchObject({
      system: [{ type: 'text', text: 'rules', cache_control: { type: 'ephemeral' } }],
      messages: [{ role: 'user', content: 'MAPFILESquestion?' }],
    });
    // No prefix, or one longer than the prompt: plain strings, nothing marked.
    for (const chars of [undefined, 0, 500]) expect(JSON.stringify(build(chars))).not.toContain('cache_control');
  });

  it('llama.cpp /infill asks for its prompt cache on every request', () => {
    const body = protocolFor('llamacpp-infill').buildRequest(targetFor('llamacpp-infill'), {
      messages: [{ role: 'user', content: 'context then question' }],
      maxTokens: 5,
      cacheablePrefixChars: 12,
    }).body;
    expect(body).toMatchObject({ cache_prompt: true });
  });
});

describe('request shapes', () => {
  it('joins paths to the base URL as each provider documents it', () => {
    const openAi = { baseUrl: 'https://api.cerebras.ai/v1/', model: 'm' };
    expect(protocolFor('openai-chat').buildRequest({ ...openAi, protocol: 'openai-chat' }, request).url).toBe(
      'https://api.cerebras.ai/v1/chat/completions',
    );
    expect(
      protocolFor('openai-completions').buildRequest({ ...openAi, protocol: 'openai-completions' }, request).url,
    ).toBe('https://api.cerebras.ai/v1/completions');
    const root = { baseUrl: 'http://127.0.0.1:8080', model: 'm' };
    expect(protocolFor('llamacpp-infill').buildRequest({ ...root, protocol: 'llamacpp-infill' }, request).url).toBe(
      'http://127.0.0.1:8080/infill',
    );
    expect(protocolFor('ollama-generate').buildRequest({ ...root, protocol: 'ollama-generate' }, request).url).toBe(
      'http://127.0.0.1:8080/api/generate',
    );
    expect(protocolFor('ollama-chat').buildRequest({ ...root, protocol: 'ollama-chat' }, request).url).toBe(
      'http://127.0.0.1:8080/api/chat',
    );
    expect(protocolFor('anthropic').buildRequest({ ...root, protocol: 'anthropic' }, request).url).toBe(
      'http://127.0.0.1:8080/v1/messages',
    );
  });

  it('asks OpenAI-compatible servers for usage, llama.cpp for prompt caching, and sends FIM suffixes', () => {
    const chat = protocolFor('openai-chat').buildRequest(targetFor('openai-chat'), request);
    expect(chat.body['stream_options']).toEqual({ include_usage: true });
    expect(chat.headers['authorization']).toBe('Bearer sk-test-key');
    const completions = protocolFor('openai-completions').buildRequest(targetFor('openai-completions'), request);
    expect(completions.body['suffix']).toBe('\n');
    const infill = protocolFor('llamacpp-infill').buildRequest(targetFor('llamacpp-infill'), {
      ...request,
      extraContext: [{ filename: 'a.py', text: 'x = 1' }],
    });
    expect(infill.body).toMatchObject({
      input_prefix: 'def add(a, b):',
      input_suffix: '\n',
      cache_prompt: true,
      n_predict: 16,
      input_extra: [{ filename: 'a.py', text: 'x = 1' }],
    });
    // Predicted outputs: chat completions carry the expected output in OpenAI's shape; other protocols leave it out.
    const predicted = { ...request, prediction: 'def add(a, b):\n    return a + b' };
    expect(protocolFor('openai-chat').buildRequest(targetFor('openai-chat'), predicted).body['prediction']).toEqual({
      type: 'content',
      content: 'def add(a, b):\n    return a + b',
    });
    expect(chat.body['prediction']).toBeUndefined();
    for (const other of [
      'openai-completions',
      'llamacpp-infill',
      'ollama-generate',
      'ollama-chat',
      'anthropic',
    ] as const)
      expect(JSON.stringify(protocolFor(other).buildRequest(targetFor(other), predicted).body)).not.toContain(
        'prediction',
      );
    const anthropic = protocolFor('anthropic').buildRequest(targetFor('anthropic'), {
      messages: [
        { role: 'system', content: 'be brief' },
        { role: 'user', content: 'hi' },
      ],
      maxTokens: 5,
    });
    expect(anthropic.headers['x-api-key']).toBe('sk-test-key');
    expect(anthropic.headers['authorization']).toBeUndefined();
    expect(anthropic.body).toMatchObject({
      system: 'be brief',
      messages: [{ role: 'user', content: 'hi' }],
      max_tokens: 5,
    });
  });
});

describe('failures keep the partial text and carry a reason', () => {
  const encoder = new TextEncoder();

  it('a stream that ends without its end marker is a lost connection, with the text so far', async () => {
    const cut = encoder.encode(
      'data: {"choices":[{"delta":{"content":"keep me"}}]}\n\ndata: {"choices":[{"delta":{"content":" and',
    );
    const error = await collect('openai-chat', cut).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(BackendError);
    expect(error).toMatchObject({ reason: 'network', partialText: 'keep me' });
  });

  it('an event that is not JSON is malformed, with the text so far', async () => {
    const bad = encoder.encode('data: {"content":"ok","stop":false}\n\ndata: {not json\n\n');
    const error = await collect('llamacpp-infill', bad).catch((caught: unknown) => caught);
    expect(error).toMatchObject({ reason: 'malformed', partialText: 'ok' });
  });

  it('an error object inside the stream is told apart by its kind', async () => {
    const overflow = encoder.encode(
      'data: {"error":{"code":400,"message":"the request exceeds the available context size, try increasing it","type":"exceed_context_size_error"}}\n\n',
    );
    expect(await collect('llamacpp-infill', overflow).catch((caught: unknown) => caught)).toMatchObject({
      reason: 'context-too-long',
    });
    const anthropicError = encoder.encode(
      'event: error\ndata: {"type":"error","error":{"type":"rate_limit_error","message":"slow down"}}\n\n',
    );
    expect(await collect('anthropic', anthropicError).catch((caught: unknown) => caught)).toMatchObject({
      reason: 'rate-limited',
    });
  });

  it('HTTP errors map to reasons and never echo the key', async () => {
    const cases: {
      status: number;
      body: string;
      headers?: Record<string, string>;
      reason: string;
      retryAfterMs?: number;
    }[] = [
      { status: 401, body: '{"error":{"message":"Invalid API key"}}', reason: 'unauthorized' },
      {
        status: 429,
        body: '{"error":{"message":"Too many tokens"}}',
        headers: { 'retry-after': '12' },
        reason: 'rate-limited',
        retryAfterMs: 12_000,
      },
      {
        status: 429,
        body: '',
        headers: { 'x-ratelimit-reset-tokens-minute': '7.5' },
        reason: 'rate-limited',
        retryAfterMs: 7_500,
      },
      {
        status: 400,
        body: '{"error":{"message":"This model\'s maximum context length is 8192 tokens","code":"context_length_exceeded"}}',
        reason: 'context-too-long',
      },
      {
        status: 400,
        body: '{"type":"error","error":{"type":"invalid_request_error","message":"prompt is too long: 210000 tokens > 200000 maximum"}}',
        reason: 'context-too-long',
      },
      { status: 404, body: 'Not Found', reason: 'http' },
      { status: 503, body: '<html>upstream down</html>', reason: 'http' },
    ];
    for (const testCase of cases) {
      const transport = new CannedTransport(testCase.status, encoder.encode(testCase.body), 7, testCase.headers);
      const error = await (async () => {
        for await (const _event of generate(transport, targetFor('openai-chat'), request)) {
          // Nothing streams on an error status.
        }
      })().catch((caught: unknown) => caught);
      expect(error, `HTTP ${testCase.status}`).toBeInstanceOf(BackendError);
      if (!(error instanceof BackendError)) continue;
      expect(error.reason).toBe(testCase.reason);
      expect(error.status).toBe(testCase.status);
      if (testCase.retryAfterMs !== undefined) expect(error.retryAfterMs).toBe(testCase.retryAfterMs);
      expect(error.message).not.toContain('sk-test-key');
    }
  });
});
