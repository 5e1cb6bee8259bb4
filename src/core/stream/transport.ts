import { rootCertificates } from 'node:tls';
import { Pool, EnvHttpProxyAgent, type Dispatcher } from 'undici';
import { BackendError } from '../errors';
import { stringAt } from '../json';

/** One HTTP request as the transport sends it. */
export interface HttpRequest {
  readonly url: string;
  readonly method: 'GET' | 'POST';
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: string;
  readonly signal?: AbortSignal;
  /** Max wait for the response headers, in ms. */
  readonly headersTimeoutMs?: number;
  /** Max silence between two body chunks, in ms. */
  readonly idleTimeoutMs?: number;
}

/** A response whose body is read as it arrives. */
export interface HttpResponse {
  readonly status: number;
  /** Header names in lower case; repeated headers joined with `, `. */
  readonly headers: Readonly<Record<string, string>>;
  /** The body as it arrives. Throws a `BackendError` (`network`, `timeout`, `aborted`) when the stream breaks. */
  readonly body: AsyncIterable<Uint8Array>;
  /** Stops reading and releases the connection (destroys it if the body is unfinished). Safe to call twice. */
  dispose(): void;
}

/** The one network seam: every byte the extension exchanges with a backend goes through here. */
export interface Transport {
  request(request: HttpRequest): Promise<HttpResponse>;
  /**
   * Opens connections to `url`'s origin ahead of need (a cheap GET of `url`, body discarded), so the first real request
   * pays no connect or TLS handshake. Never throws; never on the critical path.
   */
  warm(url: string): Promise<void>;
  /** New TCP connections opened so far, across all origins (benchmarks count reconnects with it). */
  readonly connectionsOpened: number;
  close(): Promise<void>;
}

/** Tuning and proxy settings of the transport. */
export interface TransportOptions {
  /** How long an idle connection is kept, in ms. undici's default of 4 s made every request after a typing pause reconnect. */
  readonly keepAliveMs?: number;
  /** Idle connections kept ready per plain-http origin, so an aborted stream (which destroys its socket) never leaves the next request waiting for a connect. */
  readonly spareConnections?: number;
  /** Max connections per origin. */
  readonly maxConnectionsPerOrigin?: number;
  /** Default max wait for response headers, in ms. */
  readonly headersTimeoutMs?: number;
  /** Default max silence between body chunks, in ms. */
  readonly idleTimeoutMs?: number;
  /** VS Code's `http.proxy` setting; takes precedence over HTTP(S)_PROXY. Empty means none. */
  readonly proxyUrl?: string;
  /** Environment to read HTTP_PROXY / HTTPS_PROXY / NO_PROXY from (defaults to `process.env`). */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Extra trusted certificate authorities in PEM (a company CA, a local server's own certificate), added to Node's roots. */
  readonly extraCaCertificates?: readonly string[];
}

const DEFAULT_KEEP_ALIVE_MS = 65_000;
const DEFAULT_SPARE_CONNECTIONS = 2;
const DEFAULT_MAX_CONNECTIONS = 8;
const DEFAULT_HEADERS_TIMEOUT_MS = 30_000;
const DEFAULT_IDLE_TIMEOUT_MS = 30_000;
/** A warm-up that has not answered in this many ms is abandoned; it must never hold anything up. */
const WARM_TIMEOUT_MS = 5_000;

/** Creates the undici-based transport. */
export function createTransport(options: TransportOptions = {}): Transport {
  return new UndiciTransport(options);
}

/** True for origins on this machine; these never go through a proxy. */
function isLoopbackHost(hostname: string): boolean {
  return hostname === 'localhost' || hostname === '[::1]' || hostname === '::1' || hostname.startsWith('127.');
}

interface OriginPool {
  readonly pool: Pool;
  /** Path (with query) used to open spare connections; the last URL given to `warm()`, else `/`. */
  warmPath: string;
  /** Warm-up requests in flight, so a top-up never overshoots. */
  warmingCount: number;
  readonly keepSpares: boolean;
}

class UndiciTransport implements Transport {
  private readonly origins = new Map<string, OriginPool>();
  private readonly proxyAgent: EnvHttpProxyAgent | null;
  private opened = 0;
  private closed = false;

  constructor(private readonly options: TransportOptions) {
    const env = options.env ?? process.env;
    const proxy = options.proxyUrl?.trim() || undefined;
    const httpProxy = proxy ?? env['HTTP_PROXY'] ?? env['http_proxy'];
    const httpsProxy = proxy ?? env['HTTPS_PROXY'] ?? env['https_proxy'];
    this.proxyAgent =
      httpProxy || httpsProxy
        ? new EnvHttpProxyAgent({
            httpProxy,
            httpsProxy,
            noProxy: env['NO_PROXY'] ?? env['no_proxy'] ?? '',
            keepAliveTimeout: this.keepAliveMs,
          })
        : null;
  }

  get connectionsOpened(): number {
    return this.opened;
  }

  private get keepAliveMs(): number {
    return this.options.keepAliveMs ?? DEFAULT_KEEP_ALIVE_MS;
  }

  async request(request: HttpRequest): Promise<HttpResponse> {
    if (this.closed) throw new BackendError('network', 'The transport is closed.');
    let url: URL;
    try {
      url = new URL(request.url);
    } catch {
      throw new BackendError('network', `Not a valid URL: ${request.url}`);
    }
    const { dispatcher, originPool } = this.dispatcherFor(url);
    if (request.signal?.aborted) throw new BackendError('aborted', 'The request was cancelled before it was sent.');
    let response: Dispatcher.ResponseData;
    try {
      response = await dispatcher.request({
        origin: url.origin,
        path: url.pathname + url.search,
        method: request.method,
        headers: request.headers,
        body: request.body,
        signal: request.signal,
        headersTimeout: request.headersTimeoutMs ?? this.options.headersTimeoutMs ?? DEFAULT_HEADERS_TIMEOUT_MS,
        bodyTimeout: request.idleTimeoutMs ?? this.options.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS,
      });
    } catch (error) {
      throw toBackendError(error, request.signal, 'before the response');
    } finally {
      // The request has taken a connection (or failed): make sure the next one will find a spare.
      if (originPool) this.topUpSpares(originPool);
    }
    const body = response.body;
    const signal = request.signal;
    return {
      status: response.statusCode,
      headers: flattenHeaders(response.headers),
      body: {
        async *[Symbol.asyncIterator](): AsyncGenerator<Uint8Array> {
          try {
            for await (const chunk of body) {
              yield chunk;
            }
          } catch (error) {
            throw toBackendError(error, signal, 'mid-stream');
          }
        },
      },
      dispose: () => {
        if (body.destroyed) return;
        // undici's body emits `error` when destroyed unread; with no listener that would be an uncaught exception.
        body.on('error', () => undefined);
        body.destroy();
      },
    };
  }

  async warm(url: string): Promise<void> {
    if (this.closed) return;
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      return;
    }
    const { originPool } = this.dispatcherFor(parsed);
    if (!originPool) {
      await this.warmOnce(this.proxyAgent, parsed.origin, parsed.pathname + parsed.search);
      return;
    }
    originPool.warmPath = parsed.pathname + parsed.search;
    const target = originPool.keepSpares ? this.spareTarget() : 1;
    const stats = originPool.pool.stats;
    const missing = Math.max(0, target - stats.free - originPool.warmingCount);
    const warmUps: Promise<void>[] = [];
    for (let i = 0; i < missing; i++) warmUps.push(this.warmPooled(originPool));
    await Promise.all(warmUps);
  }

  async close(): Promise<void> {
    this.closed = true;
    const closing = [...this.origins.values()].map((entry) => entry.pool.destroy().catch(() => undefined));
    if (this.proxyAgent) closing.push(this.proxyAgent.destroy().catch(() => undefined));
    this.origins.clear();
    await Promise.all(closing);
  }

  private spareTarget(): number {
    return this.options.spareConnections ?? DEFAULT_SPARE_CONNECTIONS;
  }

  private dispatcherFor(url: URL): { dispatcher: Dispatcher; originPool: OriginPool | null } {
    if (this.proxyAgent && !isLoopbackHost(url.hostname)) return { dispatcher: this.proxyAgent, originPool: null };
    let entry = this.origins.get(url.origin);
    if (!entry) {
      const isHttps = url.protocol === 'https:';
      const pool = new Pool(url.origin, {
        connections: this.options.maxConnectionsPerOrigin ?? DEFAULT_MAX_CONNECTIONS,
        keepAliveTimeout: this.keepAliveMs,
        keepAliveMaxTimeout: Math.max(this.keepAliveMs, 600_000),
        // HTTP/2 where the origin offers it (negotiated by ALPN): an abort is then a stream reset, not a lost connection.
        allowH2: isHttps,
        pipelining: 1,
        ...(isHttps && this.options.extraCaCertificates?.length
          ? { connect: { ca: [...rootCertificates, ...this.options.extraCaCertificates] } }
          : {}),
      });
      pool.on('connect', () => {
        this.opened += 1;
      });
      const created: OriginPool = {
        pool,
        warmPath: '/',
        warmingCount: 0,
        // Over HTTPS, h2 multiplexes on one connection, so spares are only needed for plain-http (local) servers.
        keepSpares: !isHttps,
      };
      pool.on('disconnect', () => {
        // An aborted stream destroys its socket over HTTP/1.1. Replace it off the critical path.
        if (!this.closed) setImmediate(() => this.topUpSpares(created));
      });
      this.origins.set(url.origin, created);
      entry = created;
    }
    return { dispatcher: entry.pool, originPool: entry };
  }

  private topUpSpares(entry: OriginPool): void {
    if (this.closed || !entry.keepSpares) return;
    const stats = entry.pool.stats;
    // Only top up an origin that is in use: it has live connections or requests (an idle origin is left to time out).
    if (stats.connected === 0) return;
    const missing = this.spareTarget() - stats.free - entry.warmingCount;
    for (let i = 0; i < missing; i++) void this.warmPooled(entry);
  }

  private async warmPooled(entry: OriginPool): Promise<void> {
    entry.warmingCount += 1;
    try {
      await this.warmOnce(entry.pool, undefined, entry.warmPath);
    } finally {
      entry.warmingCount -= 1;
    }
  }

  private async warmOnce(dispatcher: Dispatcher | null, origin: string | undefined, path: string): Promise<void> {
    if (!dispatcher) return;
    try {
      const response = await dispatcher.request({
        origin,
        path,
        method: 'GET',
        headersTimeout: WARM_TIMEOUT_MS,
        bodyTimeout: WARM_TIMEOUT_MS,
      });
      await response.body.dump();
    } catch {
      // A failed warm-up is harmless: the real request will connect (and report) by itself.
    }
  }
}

function flattenHeaders(headers: Record<string, string | string[] | undefined>): Record<string, string> {
  const flat: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    flat[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value;
  }
  return flat;
}

function errorCode(error: unknown): string {
  return stringAt(error, 'code') ?? '';
}

function errorName(error: unknown): string {
  return error instanceof Error ? error.name : '';
}

/** Maps undici and socket errors onto the extension's reasons. */
function toBackendError(error: unknown, signal: AbortSignal | undefined, when: string): BackendError {
  if (error instanceof BackendError) return error;
  const code = errorCode(error);
  const name = errorName(error);
  if (signal?.aborted || code === 'UND_ERR_ABORTED' || name === 'AbortError') {
    return new BackendError('aborted', 'The request was cancelled.', { cause: error });
  }
  if (code === 'UND_ERR_HEADERS_TIMEOUT') {
    return new BackendError('timeout', 'The server sent no response headers in time.', { cause: error });
  }
  if (code === 'UND_ERR_BODY_TIMEOUT') {
    return new BackendError('timeout', 'The server went silent mid-stream for too long.', { cause: error });
  }
  if (code === 'UND_ERR_CONNECT_TIMEOUT') {
    return new BackendError('timeout', 'Connecting to the server timed out.', { cause: error });
  }
  const detail = code || name || 'error';
  const message =
    code === 'ECONNREFUSED'
      ? 'The connection was refused: is the server running?'
      : `The connection failed ${when} (${detail}).`;
  return new BackendError('network', message, { cause: error });
}
