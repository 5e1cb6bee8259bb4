import type { BackendErrorReason } from './errors';
import type { RecordedRouteReason } from './routeReason';

/** Whether token counts came from the server itself or were estimated by the extension's tokenizer. */
export type TokensSource = 'server' | 'estimate';

/** What the speed meter measured for one request. All durations in milliseconds, speeds in tokens per second. */
export interface RequestStats {
  /** Request sent -> first chunk carrying non-empty text or reasoning. Null when no token came. */
  readonly ttftMs: number | null;
  /**
   * (output tokens after the first chunk) / (last token time - first token time). TTFT is excluded. Counts only the
   * answer's own tokens: rejected prediction tokens, which OpenAI includes in `completion_tokens`, are left out, so a
   * prediction can never inflate it.
   */
  readonly decodeTokensPerSec: number | null;
  /** The server's own decode speed, when it reports one (llama.cpp `predicted_per_second`, Ollama, Groq, ...). */
  readonly serverDecodeTokensPerSec: number | null;
  /** The answer's tokens (the server's completion count less any rejected prediction tokens it includes). */
  readonly outputTokens: number;
  readonly tokensSource: TokensSource;
  readonly promptTokens: number | null;
  readonly cachedPromptTokens: number | null;
  /** Prompt tokens written to the provider's cache, billed above the input price (Anthropic); absent when not reported. */
  readonly cacheWritePromptTokens?: number | null;
  /** Prompt tokens per second of prefill, when the server reports prompt timing. */
  readonly prefillTokensPerSec: number | null;
  /** Request sent -> stream ended (or failed). */
  readonly totalMs: number;
  /**
   * Tokens of the request's prediction (predicted outputs) the answer used, as the server counts them; null for a
   * request without a prediction (a server that reports 0 accepted and 0 rejected had none to use).
   */
  readonly acceptedPredictionTokens: number | null;
  /** Tokens of the prediction the answer did not use (billed, not part of the answer); null without a prediction. */
  readonly rejectedPredictionTokens: number | null;
  /**
   * The speed the answer arrived at with a prediction: the answer's own tokens (completion tokens minus rejected
   * prediction tokens) after the first chunk, per second of decode time (first token -> last token; TTFT excluded).
   * OpenAI bills rejected prediction tokens inside `completion_tokens`, so a rate over the server's count would credit
   * the backend with tokens nobody received; this one counts only what streamed. It equals `decodeTokensPerSec` (which
   * leaves rejected tokens out too) and is kept apart so the panel can set prediction requests against the backend's
   * plain decode speed. Null without a prediction, or when decode speed is unknown.
   */
  readonly effectiveTokensPerSec: number | null;
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
  /**
   * The router's estimate of the prompt sent, in tokens, for costing attempts that ended before the server counted it
   * (aborted, hedged or failed: a provider bills an aborted request's prompt). Null for a cache hit (nothing was sent)
   * and for records from before it was kept.
   */
  readonly promptTokensEstimate: number | null;
  readonly stats: RequestStats;
}
