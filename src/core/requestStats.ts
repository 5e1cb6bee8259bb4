import type { BackendErrorReason } from './errors';
import type { RecordedRouteReason } from './routeReason';

/** Whether token counts came from the server itself or were estimated by the extension's tokenizer. */
export type TokensSource = 'server' | 'estimate';

/** What the speed meter measured for one request. All durations in milliseconds, speeds in tokens per second. */
export interface RequestStats {
  /** Request sent -> first chunk carrying non-empty text or reasoning. Null when no token came. */
  readonly ttftMs: number | null;
  /** (output tokens after the first chunk) / (last token time - first token time). TTFT is excluded. */
  readonly decodeTokensPerSec: number | null;
  /** The server's own decode speed, when it reports one (llama.cpp `predicted_per_second`, Ollama, Groq, ...). */
  readonly serverDecodeTokensPerSec: number | null;
  readonly outputTokens: number;
  readonly tokensSource: TokensSource;
  readonly promptTokens: number | null;
  readonly cachedPromptTokens: number | null;
  /** Prompt tokens per second of prefill, when the server reports prompt timing. */
  readonly prefillTokensPerSec: number | null;
  /** Request sent -> stream ended (or failed). */
  readonly totalMs: number;
}

/** What kind of work a request served. */
export type RequestTask = 'inline' | 'next-edit' | 'refactor' | 'repo' | 'probe';

/** How a request ended. */
export type RequestOutcome = 'ok' | 'cancelled' | 'error';

/** One finished request as the stats hub, the panel and the history file keep it. */
export interface RequestRecord {
  /** Wall-clock time the request started, in ms since the epoch; for display only, never for durations. */
  readonly startedAtEpochMs: number;
  readonly task: RequestTask;
  /** The endpoint's id within its configuration (`ResolvedEndpoint.id`), e.g. `burst#0`; `endpointLabel` names the model. */
  readonly endpointId: string;
  /** A short human name, e.g. `Cerebras llama3.1-8b`. */
  readonly endpointLabel: string;
  /** Why the router chose this endpoint (`fits`, `too-long`, `failover:<why>`, ...), or `cache` for a cache hit. */
  readonly routeReason: RecordedRouteReason;
  readonly outcome: RequestOutcome;
  readonly errorReason: BackendErrorReason | null;
  /**
   * How long a rate-limited server asked to wait before the next request, in ms from when this one ended (Retry-After,
   * x-ratelimit-reset-*); null otherwise. The status bar turns it into "retry in N s". Not kept in the history file.
   */
  readonly retryAfterMs: number | null;
  /** Served from the completion cache without a request. */
  readonly fromCache: boolean;
  readonly stats: RequestStats;
}
