import { describe, expect, it } from 'vitest';
import { BackendError } from '../../../../src/core/errors';
import type { EngineLease, EngineState } from '../../../../src/core/localEngine/engineSupervisor';
import { hostArgumentList, parseHostArguments, parseHostMessage } from '../../../../src/core/localEngine/hostMessages';
import { LocalEngineError } from '../../../../src/core/localEngine/localEngineError';
import { LOCAL_ENGINE_BASE_URL, LocalEngineTransport } from '../../../../src/core/localEngine/localEngineTransport';
import type { EngineLeases } from '../../../../src/core/localEngine/localEngineTransport';
import type { HttpRequest, HttpResponse, Transport } from '../../../../src/core/stream/transport';

/** An inner transport that records URLs and headers and answers with two body chunks. */
class RecordingTransport implements Transport {
  readonly urls: string[] = [];
  readonly headers: Readonly<Record<string, string>>[] = [];
  readonly warmed: string[] = [];
  connectionsOpened = 0;
  async request(request: HttpRequest): Promise<HttpResponse> {
    this.urls.push(request.url);
    this.headers.push(request.headers);
    return {
      status: 200,
      headers: {},
      body: (async function* () {
        yield new Uint8Array([1]);
        yield new Uint8Array([2]);
      })(),
      dispose: () => undefined,
    };
  }
  async warm(url: string): Promise<void> {
    this.warmed.push(url);
  }
  async close(): Promise<void> {}
}

/** Leases on a fake engine: counts acquisitions and live leases; `gate` holds a start until the test opens it. */
class FakeEngine implements EngineLeases {
  current: EngineState = 'stopped';
  acquired = 0;
  live = 0;
  failWith: LocalEngineError | null = null;
  gate: Promise<void> = Promise.resolve();
  state(): EngineState {
    return this.current;
  }
  async acquire(): Promise<EngineLease> {
    this.acquired++;
    await this.gate;
    if (this.failWith) throw this.failWith;
    this.current = 'running';
    this.live++;
    let released = false;
    return {
      baseUrl: 'http://127.0.0.1:43210',
      apiKey: ENGINE_KEY,
      release: () => {
        if (!released) this.live--;
        released = true;
      },
    };
  }
}

const ENGINE_KEY = 'engine-key-0123456789abcdef0123456789abcdef';

function post(url: string, signal?: AbortSignal): HttpRequest {
  return { url, method: 'POST', headers: {}, body: '{}', signal };
}

describe('LocalEngineTransport', () => {
  it('starts the engine on a POST, sends it to the reported port, and holds the lease until the body is read', async () => {
    const inner = new RecordingTransport();
    const engine = new FakeEngine();
    const transport = new LocalEngineTransport(inner, engine);
    const response = await transport.request(post(`${LOCAL_ENGINE_BASE_URL}/chat/completions`));
    expect(inner.urls).toEqual(['http://127.0.0.1:43210/v1/chat/completions']);
    expect(engine.live).toBe(1);
    const chunks: number[] = [];
    for await (const chunk of response.body) chunks.push(...chunk);
    expect(chunks).toEqual([1, 2]);
    expect(engine.live).toBe(0);
    response.dispose();
    expect(engine.live).toBe(0);
  });

  it("adds the engine's per-run key to every request it forwards to the engine (and only to those)", async () => {
    const inner = new RecordingTransport();
    const engine = new FakeEngine();
    const transport = new LocalEngineTransport(inner, engine);
    (
      await transport.request({
        ...post(`${LOCAL_ENGINE_BASE_URL}/completions`),
        headers: { 'content-type': 'application/json', authorization: 'Bearer someone-elses' },
      })
    ).dispose();
    expect(inner.headers.at(-1)).toEqual({ 'content-type': 'application/json', authorization: `Bearer ${ENGINE_KEY}` });
    engine.current = 'running';
    (
      await transport.request({
        url: `${LOCAL_ENGINE_BASE_URL}/models`,
        method: 'GET',
        headers: { accept: 'application/json' },
      })
    ).dispose();
    expect(inner.headers.at(-1)).toEqual({ accept: 'application/json', authorization: `Bearer ${ENGINE_KEY}` });
    (await transport.request(post('https://api.example.com/v1/completions'))).dispose();
    expect(inner.headers.at(-1)).toEqual({});
  });

  it('releases the lease on dispose without reading, and passes other origins through untouched', async () => {
    const inner = new RecordingTransport();
    const engine = new FakeEngine();
    const transport = new LocalEngineTransport(inner, engine);
    (await transport.request(post(`${LOCAL_ENGINE_BASE_URL}/completions`))).dispose();
    expect(engine.live).toBe(0);
    await transport.request(post('https://api.example.com/v1/completions'));
    expect(inner.urls.at(-1)).toBe('https://api.example.com/v1/completions');
    expect(engine.acquired).toBe(1);
  });

  it('never starts the engine for GETs or warm-ups: 503 while stopped, forwarded while running', async () => {
    const inner = new RecordingTransport();
    const engine = new FakeEngine();
    const transport = new LocalEngineTransport(inner, engine);
    const stopped = await transport.request({ url: `${LOCAL_ENGINE_BASE_URL}/models`, method: 'GET', headers: {} });
    expect(stopped.status).toBe(503);
    await transport.warm(`${LOCAL_ENGINE_BASE_URL}/models`);
    expect(engine.acquired).toBe(0);
    expect(inner.warmed).toEqual([]);
    engine.current = 'running';
    const running = await transport.request({ url: `${LOCAL_ENGINE_BASE_URL}/models`, method: 'GET', headers: {} });
    expect(running.status).toBe(200);
    expect(inner.urls).toEqual(['http://127.0.0.1:43210/v1/models']);
    await transport.warm('https://api.example.com/v1/models');
    expect(inner.warmed).toEqual(['https://api.example.com/v1/models']);
  });

  it('turns a missing model or binary into not-configured, a failed start into network, keeping the message', async () => {
    const engine = new FakeEngine();
    const transport = new LocalEngineTransport(new RecordingTransport(), engine);
    engine.failWith = new LocalEngineError('model-missing', 'Set latencyCopilot.localEngine.modelPath.');
    const missing = await transport
      .request(post(`${LOCAL_ENGINE_BASE_URL}/completions`))
      .catch((error: unknown) => error);
    expect(missing).toBeInstanceOf(BackendError);
    expect(missing instanceof BackendError ? [missing.reason, missing.message] : null).toEqual([
      'not-configured',
      'Set latencyCopilot.localEngine.modelPath.',
    ]);
    engine.failWith = new LocalEngineError('start-failed', 'exited');
    const failed = await transport
      .request(post(`${LOCAL_ENGINE_BASE_URL}/completions`))
      .catch((error: unknown) => error);
    expect(failed instanceof BackendError ? failed.reason : null).toBe('network');
  });

  it('a request cancelled while the engine starts fails as aborted at once; the lease the start brings is handed back', async () => {
    const engine = new FakeEngine();
    let open: () => void = () => {};
    engine.gate = new Promise((resolve) => {
      open = resolve;
    });
    const transport = new LocalEngineTransport(new RecordingTransport(), engine);
    const controller = new AbortController();
    const pending = transport
      .request(post(`${LOCAL_ENGINE_BASE_URL}/completions`, controller.signal))
      .catch((error: unknown) => error);
    controller.abort();
    const error = await pending;
    expect(error instanceof BackendError ? error.reason : null).toBe('aborted');
    open();
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(engine.acquired).toBe(1);
    expect(engine.live).toBe(0);
  });
});

describe('host messages', () => {
  it('round-trips the host arguments and rejects incomplete ones', () => {
    const args = { modelPath: '/m/model.gguf', moduleDir: '/opt/nlc', contextSize: 4096, threads: 1 };
    expect(parseHostArguments(hostArgumentList(args))).toEqual(args);
    expect(parseHostArguments(['--model', '/m.gguf'])).toBeNull();
    expect(parseHostArguments([...hostArgumentList(args).slice(0, 5), 'many', '--threads', '1'])).toBeNull();
  });

  it('accepts only well-formed messages from the host process', () => {
    expect(parseHostMessage({ type: 'ready', port: 4000, contextSize: 2048, loadMs: 900 })).toEqual({
      type: 'ready',
      port: 4000,
      contextSize: 2048,
      loadMs: 900,
    });
    expect(parseHostMessage({ type: 'ready', port: 0, contextSize: 2048, loadMs: 1 })).toBeNull();
    expect(parseHostMessage({ type: 'ready', port: '4000' })).toBeNull();
    expect(parseHostMessage({ type: 'failed', reason: 'binary-missing', message: 'install it' })).toEqual({
      type: 'failed',
      reason: 'binary-missing',
      message: 'install it',
    });
    expect(parseHostMessage({ type: 'failed', reason: 'exploded', message: 'x' })).toBeNull();
    expect(parseHostMessage('ready')).toBeNull();
  });
});
