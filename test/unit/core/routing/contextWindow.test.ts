import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  contextWindowFromLlamaCppProps,
  contextWindowFromModelsList,
  contextWindowFromOllamaShow,
  detectContextWindow,
  detectionProbesFor,
  OLLAMA_REQUESTED_WINDOW,
} from '../../../../src/core/routing/contextWindow';
import type { EndpointTarget, ProtocolId } from '../../../../src/core/endpoint';
import { isBackendError } from '../../../../src/core/errors';
import { createTransport } from '../../../../src/core/stream/transport';
import type { Transport } from '../../../../src/core/stream/transport';
import { closedPort } from '../../builders/ports';

// Answers as the real servers send them (trimmed to the fields that matter, plus neighbours that must be ignored).
const LLAMACPP_MODELS = {
  models: [{ name: 'tiny.gguf', model: 'tiny.gguf' }],
  object: 'list',
  data: [
    {
      id: 'tiny.gguf',
      aliases: ['tiny'],
      object: 'model',
      owned_by: 'llamacpp',
      meta: { vocab_type: 2, n_vocab: 151936, n_ctx: 4096, n_ctx_train: 8192, n_embd: 64, n_params: 10_000_000 },
    },
  ],
};
const LLAMACPP_PROPS = {
  default_generation_settings: { params: { n_predict: -1 }, n_ctx: 4096 },
  total_slots: 1,
  chat_template: '...',
};
const VLLM_MODELS = {
  object: 'list',
  data: [{ id: 'Qwen/Qwen2.5-Coder-7B', object: 'model', owned_by: 'vllm', max_model_len: 32768 }],
};
const GROQ_MODELS = {
  object: 'list',
  data: [
    { id: 'llama-3.1-8b-instant', object: 'model', context_window: 131072 },
    { id: 'whisper-large-v3', object: 'model', context_window: 448 },
  ],
};
const OPENROUTER_MODELS = {
  data: [
    { id: 'a/other', context_length: 8000 },
    { id: 'qwen/qwen-2.5-coder-32b-instruct', context_length: 32768, top_provider: { context_length: 16384 } },
  ],
};
const OLLAMA_SHOW = {
  modelfile: '# Modelfile ...',
  parameters: 'stop                           "<|im_end|>"\ntemperature                    0.7',
  model_info: { 'general.architecture': 'qwen2', 'qwen2.context_length': 32768, 'qwen2.embedding_length': 896 },
};

describe('contextWindowFromModelsList', () => {
  it('prefers llama.cpp meta.n_ctx (the served window) over meta.n_ctx_train', () => {
    expect(contextWindowFromModelsList(LLAMACPP_MODELS, 'anything')).toEqual({
      tokens: 4096,
      field: 'data[0].meta.n_ctx',
    });
  });

  it('falls back to n_ctx_train when llama.cpp gives no slot window', () => {
    const body = { data: [{ id: 'm', meta: { n_ctx_train: 8192 } }] };
    expect(contextWindowFromModelsList(body, 'm')).toEqual({ tokens: 8192, field: 'data[0].meta.n_ctx_train' });
  });

  it('reads vLLM max_model_len', () => {
    expect(contextWindowFromModelsList(VLLM_MODELS, 'Qwen/Qwen2.5-Coder-7B')?.tokens).toBe(32768);
  });

  it('picks the entry of the named model from a list of many (Groq context_window)', () => {
    expect(contextWindowFromModelsList(GROQ_MODELS, 'llama-3.1-8b-instant')).toEqual({
      tokens: 131072,
      field: 'data[0].context_window',
    });
    expect(contextWindowFromModelsList(GROQ_MODELS, 'whisper-large-v3')?.tokens).toBe(448);
  });

  it('uses the model-wide context_length before a provider-specific one (OpenRouter)', () => {
    expect(contextWindowFromModelsList(OPENROUTER_MODELS, 'qwen/qwen-2.5-coder-32b-instruct')).toEqual({
      tokens: 32768,
      field: 'data[1].context_length',
    });
  });

  it('matches a llama.cpp alias', () => {
    const body = { data: [LLAMACPP_MODELS.data[0], { id: 'other', meta: { n_ctx: 1 } }] };
    expect(contextWindowFromModelsList(body, 'tiny')?.tokens).toBe(4096);
  });

  it('does not guess among several models when none matches', () => {
    expect(contextWindowFromModelsList(GROQ_MODELS, 'not-listed')).toBeNull();
  });

  it('accepts a bare array (Together) and numeric strings, and rejects nonsense values', () => {
    expect(contextWindowFromModelsList([{ id: 'm', context_length: '16384' }], 'm')?.tokens).toBe(16384);
    expect(contextWindowFromModelsList([{ id: 'm', context_length: -1 }], 'm')).toBeNull();
    expect(contextWindowFromModelsList([{ id: 'm', context_length: 1.5 }], 'm')).toBeNull();
    expect(contextWindowFromModelsList([{ id: 'm', context_length: 1e12 }], 'm')).toBeNull();
    expect(contextWindowFromModelsList({ data: [{ id: 'm' }] }, 'm')).toBeNull();
    expect(contextWindowFromModelsList('<html>', 'm')).toBeNull();
    expect(contextWindowFromModelsList(null, 'm')).toBeNull();
  });
});

describe('contextWindowFromLlamaCppProps', () => {
  it('reads default_generation_settings.n_ctx', () => {
    expect(contextWindowFromLlamaCppProps(LLAMACPP_PROPS)).toEqual({
      tokens: 4096,
      field: 'default_generation_settings.n_ctx',
    });
  });

  it('reads a top-level n_ctx (older servers)', () => {
    expect(contextWindowFromLlamaCppProps({ n_ctx: 2048 })).toEqual({ tokens: 2048, field: 'n_ctx' });
  });

  it('returns null for a router-mode answer with n_ctx 0 and for non-objects', () => {
    expect(contextWindowFromLlamaCppProps({ default_generation_settings: { n_ctx: 0 } })).toBeNull();
    expect(contextWindowFromLlamaCppProps([])).toBeNull();
  });
});

describe('contextWindowFromOllamaShow', () => {
  it('reads model_info["<arch>.context_length"]', () => {
    expect(contextWindowFromOllamaShow(OLLAMA_SHOW)).toEqual({
      tokens: 32768,
      field: 'model_info.qwen2.context_length',
      modelMaximum: true,
    });
  });

  it('prefers a num_ctx parameter, which is the window Ollama serves', () => {
    const body = { ...OLLAMA_SHOW, parameters: 'num_ctx                        8192\nstop "<|im_end|>"' };
    expect(contextWindowFromOllamaShow(body)).toEqual({ tokens: 8192, field: 'parameters num_ctx' });
  });

  it('takes the single *.context_length key when general.architecture is missing', () => {
    expect(contextWindowFromOllamaShow({ model_info: { 'llama.context_length': 131072 } })?.tokens).toBe(131072);
    expect(contextWindowFromOllamaShow({ model_info: { 'a.context_length': 1, 'b.context_length': 2 } })).toBeNull();
    expect(contextWindowFromOllamaShow({ parameters: 'num_ctxx 5' })).toBeNull();
  });
});

describe('detectionProbesFor', () => {
  const target = (protocol: ProtocolId, baseUrl: string): { target: EndpointTarget } => ({
    target: { baseUrl, protocol, model: 'm' },
  });

  it('asks /v1/models then llama.cpp /props at the server root for OpenAI protocols', () => {
    expect(detectionProbesFor(target('openai-chat', 'http://h:8080/v1/')).map((probe) => probe.url)).toEqual([
      'http://h:8080/v1/models',
      'http://h:8080/props',
    ]);
  });

  it('asks /props first for llama.cpp infill, and POST /api/show for Ollama', () => {
    expect(detectionProbesFor(target('llamacpp-infill', 'http://h:8080')).map((probe) => probe.url)).toEqual([
      'http://h:8080/props',
      'http://h:8080/v1/models',
    ]);
    const [show] = detectionProbesFor(target('ollama-chat', 'http://h:11434'));
    expect(show?.method).toBe('POST');
    expect(show?.url).toBe('http://h:11434/api/show');
    expect(show?.body).toBe('{"model":"m"}');
  });
});

describe('detectContextWindow over a real transport', () => {
  type Handler = (request: IncomingMessage, body: string, response: ServerResponse) => void;
  let server: Server;
  let baseUrl = '';
  let handler: Handler = (_request, _body, response) => response.writeHead(404).end();
  const seen: { method: string; url: string; authorization: string | undefined; body: string }[] = [];
  let transport: Transport;

  const json = (response: ServerResponse, value: unknown): void => {
    response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(value));
  };

  beforeAll(async () => {
    server = createServer((request, response) => {
      let body = '';
      request.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
      request.on('end', () => {
        seen.push({
          method: request.method ?? '',
          url: request.url ?? '',
          authorization: request.headers.authorization,
          body,
        });
        handler(request, body, response);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address() as AddressInfo;
    baseUrl = `http://127.0.0.1:${address.port}`;
    transport = createTransport();
  });

  afterEach(() => {
    seen.length = 0;
  });

  afterAll(async () => {
    await transport.close();
    // The silent-server tests leave requests open: end them so close() does not wait.
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('reads llama.cpp /props for an infill endpoint, with the bearer key', async () => {
    handler = (request, _body, response) =>
      request.url === '/props' ? json(response, LLAMACPP_PROPS) : response.writeHead(404).end();
    const info = await detectContextWindow(transport, {
      target: { baseUrl, protocol: 'llamacpp-infill', model: 'x', apiKey: 'secret-key' },
      contextWindow: 2048,
    });
    expect(info).toEqual({
      contextWindow: 4096,
      source: 'endpoint',
      detail: 'GET /props default_generation_settings.n_ctx',
    });
    expect(seen[0]?.authorization).toBe('Bearer secret-key');
  });

  it('falls through a 404 /v1/models to /props for an OpenAI endpoint on llama.cpp without models meta', async () => {
    handler = (request, _body, response) => {
      if (request.url === '/v1/models') json(response, { data: [{ id: 'a' }, { id: 'b' }] });
      else if (request.url === '/props') json(response, { n_ctx: 1024 });
      else response.writeHead(404).end();
    };
    const info = await detectContextWindow(transport, {
      target: { baseUrl: `${baseUrl}/v1`, protocol: 'openai-chat', model: 'c' },
      contextWindow: null,
    });
    expect(info.contextWindow).toBe(1024);
    expect(info.detail).toBe('GET /props n_ctx');
    // The transport's own warm-ups of spare connections (GET /) are not probes.
    expect(seen.map((request) => request.url).filter((url) => url !== '/')).toEqual(['/v1/models', '/props']);
  });

  it('POSTs the model name to Ollama /api/show', async () => {
    handler = (request, _body, response) =>
      request.url === '/api/show' ? json(response, OLLAMA_SHOW) : response.writeHead(404).end();
    const info = await detectContextWindow(transport, {
      target: { baseUrl, protocol: 'ollama-generate', model: 'qwen2.5:0.5b' },
      contextWindow: null,
    });
    // 32768 is the model's maximum, not what Ollama serves: requests ask for the default window, and the router uses it.
    expect(info.contextWindow).toBe(OLLAMA_REQUESTED_WINDOW);
    expect(info.detail).toMatch(/32768 is the model's maximum; requests ask for num_ctx 8192/);
    expect(seen[0]).toMatchObject({ method: 'POST', url: '/api/show', body: '{"model":"qwen2.5:0.5b"}' });
  });

  it('asks Ollama for the configured window, never more than the model takes', async () => {
    handler = (request, _body, response) =>
      request.url === '/api/show' ? json(response, OLLAMA_SHOW) : response.writeHead(404).end();
    const target = { baseUrl, protocol: 'ollama-chat' as const, model: 'qwen2.5:0.5b' };
    expect((await detectContextWindow(transport, { target, contextWindow: 16_384 })).contextWindow).toBe(16_384);
    expect((await detectContextWindow(transport, { target, contextWindow: 1_000_000 })).contextWindow).toBe(32_768);
  });

  it("takes a model's own num_ctx as served, whatever is configured", async () => {
    const withNumCtx = { ...OLLAMA_SHOW, parameters: 'num_ctx 4096' };
    handler = (request, _body, response) =>
      request.url === '/api/show' ? json(response, withNumCtx) : response.writeHead(404).end();
    const info = await detectContextWindow(transport, {
      target: { baseUrl, protocol: 'ollama-chat', model: 'm' },
      contextWindow: null,
    });
    expect(info).toMatchObject({ contextWindow: 4096, detail: 'POST /api/show parameters num_ctx' });
  });

  it('keeps the configured value when the endpoint answers errors or garbage', async () => {
    handler = (request, _body, response) => {
      if (request.url === '/v1/models') response.writeHead(200, { 'content-type': 'text/html' }).end('<html>not json');
      else response.writeHead(500).end('boom');
    };
    const info = await detectContextWindow(transport, {
      target: { baseUrl: `${baseUrl}/v1`, protocol: 'openai-completions', model: 'm' },
      contextWindow: 16000,
    });
    expect(info).toEqual({
      contextWindow: 16000,
      source: 'configured',
      detail: 'the endpoint did not say; configured value',
    });
  });

  it('says unknown when nothing answers and nothing is configured (connection refused)', async () => {
    const port = await closedPort();
    const info = await detectContextWindow(transport, {
      target: { baseUrl: `http://127.0.0.1:${port}`, protocol: 'anthropic', model: 'm' },
      contextWindow: null,
    });
    expect(info.source).toBe('unknown');
    expect(info.contextWindow).toBeNull();
  });

  it('gives up on a silent server after its timeout instead of hanging', async () => {
    handler = () => {
      // Never answers; the detection must time out on its own.
    };
    const started = performance.now();
    const info = await detectContextWindow(
      transport,
      { target: { baseUrl, protocol: 'llamacpp-infill', model: 'm' }, contextWindow: 512 },
      { timeoutMs: 200 },
    );
    expect(info.source).toBe('configured');
    // Generous bound: two probes of 200 ms each, on a loaded machine.
    expect(performance.now() - started).toBeLessThan(5_000);
  });

  it('rethrows when the caller aborts', async () => {
    handler = () => {
      // Never answers.
    };
    const controller = new AbortController();
    const pending = detectContextWindow(
      transport,
      { target: { baseUrl, protocol: 'llamacpp-infill', model: 'm' }, contextWindow: 512 },
      { signal: controller.signal },
    );
    setTimeout(() => controller.abort(), 50);
    const error: unknown = await pending.catch((caught: unknown) => caught);
    expect(isBackendError(error) && error.reason === 'aborted').toBe(true);
  });
});
