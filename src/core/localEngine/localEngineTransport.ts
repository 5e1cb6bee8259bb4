import { BackendError } from '../errors';
import type { HttpRequest, HttpResponse, Transport } from '../stream/transport';
import type { EngineLease, EngineSupervisor } from './engineSupervisor';
import { LocalEngineError } from './localEngineError';

/**
 * The origin local-engine endpoints are configured with. Port 0 can never be connected to: the real port is chosen by
 * the engine when it starts, and `LocalEngineTransport` puts it in each request's URL.
 */
export const LOCAL_ENGINE_ORIGIN = 'http://127.0.0.1:0';

/** The base URL of the local engine's OpenAI routes, as endpoints carry it. */
export const LOCAL_ENGINE_BASE_URL = `${LOCAL_ENGINE_ORIGIN}/v1`;

/** The part of the supervisor the transport uses. */
export type EngineLeases = Pick<EngineSupervisor, 'acquire' | 'state'>;

function isLocalEngineUrl(url: string): boolean {
  return url === LOCAL_ENGINE_ORIGIN || url.startsWith(`${LOCAL_ENGINE_ORIGIN}/`);
}

/** A BackendError for a local engine that could not serve; the message is the engine's own (it says what to do). */
function asBackendError(error: unknown): unknown {
  if (!(error instanceof LocalEngineError)) return error;
  // Missing files are a configuration problem; a failed start or repeated crashes behave like an unreachable server.
  const reason = error.reason === 'binary-missing' || error.reason === 'model-missing' ? 'not-configured' : 'network';
  return new BackendError(reason, error.message, { cause: error });
}

/** The request's headers with the engine's per-run key as the only credential (any other Authorization is dropped). */
function withEngineKey(headers: Readonly<Record<string, string>>, apiKey: string): Record<string, string> {
  const result: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) if (name.toLowerCase() !== 'authorization') result[name] = value;
  result['authorization'] = `Bearer ${apiKey}`;
  return result;
}

function abortError(): BackendError {
  return new BackendError('aborted', 'The request was cancelled while the local engine was starting.');
}

/** An empty response, for GETs (warm-ups, context-window detection) that must not start the engine. */
function notStartedResponse(): HttpResponse {
  return {
    status: 503,
    headers: {},
    body: (async function* (): AsyncGenerator<Uint8Array> {})(),
    dispose: () => undefined,
  };
}

/**
 * A transport that serves the local engine's endpoints through the supervisor: a POST to `LOCAL_ENGINE_ORIGIN` starts
 * the engine if needed (first use), holds a lease while the response is read (so it is never stopped for idleness
 * mid-answer), and goes to the port the engine reported with the engine's per-run key (its server answers nothing else). GETs (warm-ups on editor focus, window detection) never start
 * it: they are answered 503 while it is stopped, so an idle engine stays stopped. Everything else passes through.
 */
export class LocalEngineTransport implements Transport {
  constructor(
    private readonly inner: Transport,
    private readonly engine: EngineLeases,
  ) {}

  get connectionsOpened(): number {
    return this.inner.connectionsOpened;
  }

  async request(request: HttpRequest): Promise<HttpResponse> {
    if (!isLocalEngineUrl(request.url)) return this.inner.request(request);
    if (request.method === 'GET' && this.engine.state() !== 'running') return notStartedResponse();
    if (request.signal?.aborted) throw abortError();
    const lease = await this.acquire(request.signal);
    let released = false;
    const release = (): void => {
      if (released) return;
      released = true;
      lease.release();
    };
    let response: HttpResponse;
    try {
      response = await this.inner.request({
        ...request,
        url: lease.baseUrl + request.url.slice(LOCAL_ENGINE_ORIGIN.length),
        headers: withEngineKey(request.headers, lease.apiKey),
      });
    } catch (error) {
      release();
      throw error;
    }
    const body = response.body;
    return {
      status: response.status,
      headers: response.headers,
      body: (async function* (): AsyncGenerator<Uint8Array> {
        try {
          yield* body;
        } finally {
          release();
        }
      })(),
      dispose: () => {
        response.dispose();
        release();
      },
    };
  }

  /** Waits for the engine (it may be loading a model for seconds); a cancelled request stops waiting at once. */
  private acquire(signal: AbortSignal | undefined): Promise<EngineLease> {
    const acquiring = this.engine.acquire();
    if (!signal) return acquiring.catch((error: unknown) => Promise.reject(asBackendError(error)));
    return new Promise((resolve, reject) => {
      const onAbort = (): void => {
        reject(abortError());
        // The start goes on (the next keystroke will want the engine); the lease it brings is handed straight back.
        void acquiring.then(
          (lease) => lease.release(),
          () => undefined,
        );
      };
      signal.addEventListener('abort', onAbort, { once: true });
      acquiring.then(
        (lease) => {
          signal.removeEventListener('abort', onAbort);
          if (signal.aborted) return;
          resolve(lease);
        },
        (error: unknown) => {
          signal.removeEventListener('abort', onAbort);
          reject(asBackendError(error));
        },
      );
    });
  }

  /** Never warms the local engine: a warm-up must not load a model, and a loopback connect costs well under 1 ms. */
  async warm(url: string): Promise<void> {
    if (!isLocalEngineUrl(url)) return this.inner.warm(url);
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}
