// The one message protocol between the extension host and the model-speed webview.
// Rules (design.md invariant 5): one discriminated union per direction; the webview says `ready` before the host sends
// anything; the host only ever sends complete snapshots (a hidden webview keeps just the newest message, so a delta could be
// lost); every message from the webview is untrusted input and goes through `parseWebviewMessage` before use.
// The webview script imports only TYPES from here, so this file must stay free of Node and DOM specifics.
import type { EndpointPrice } from '../cost/costTypes';
import type { BackendErrorReason } from '../errors';
import type { BackendRole } from '../endpoint';
import { isPlainObject } from '../json';
import type { RequestRecord, RequestTask, TokensSource } from '../requestStats';
import type { RouteReason } from '../routeReason';

/** The protocol's version; the webview shows a notice instead of guessing when it meets another one. */
export const PANEL_PROTOCOL_VERSION = 1;

/** The 50th and 95th percentile of a series. */
export interface Percentiles {
  readonly p50: number;
  readonly p95: number;
  /** How many values the percentiles were taken over. */
  readonly count: number;
}

/**
 * Keystroke to suggestion, as far as the extension can see it: VS Code's call to the inline provider -> the suggestion
 * handed back. VS Code waits its own fixed 50 ms after a keystroke before it calls, which is not in these figures (no
 * extension can see or change it), so the displays name it beside them.
 */
export interface SuggestionLatency {
  /** Provider called -> suggestion handed back, in ms. */
  readonly latencyMs: Percentiles;
  /** Share (0..1) of these suggestions served without a new request: from the cache or a stream already running. */
  readonly fromCacheShare: number;
  /** Suggestions shown this session (every one, not only those the latency figures keep). */
  readonly shown: number;
  /** Of them, accepted with Tab (VS Code ran the suggestion's command after inserting it). */
  readonly accepted: number;
}

/**
 * Predicted outputs on one backend, over its kept requests that carried a prediction the server used (some servers
 * report zero counts on every request; those are not counted as predictions).
 */
export interface PredictionSummary {
  readonly requests: number;
  /** Prediction tokens the answers used. */
  readonly acceptedTokens: number;
  /** Prediction tokens the answers did not use: billed, never received. */
  readonly rejectedTokens: number;
  /** The answer's own tokens per second of decode time (rejected tokens left out), over those requests. */
  readonly effectiveTokensPerSec: Percentiles | null;
}

/**
 * Next-edit suggestions on one backend. Requests come from the kept records (task `next-edit`); shown, applied,
 * dismissed and the latencies are this session's (over the last 500 shown; not kept in the history file).
 */
export interface NextEditSummary {
  readonly requests: number;
  /** Predictions whose first hunk was shown. */
  readonly shown: number;
  /** Predicted hunks applied with Tab. */
  readonly applied: number;
  /** Predicted hunks dismissed (Escape, or typing elsewhere). */
  readonly dismissed: number;
  /** The edit -> the first hunk shown, in ms. */
  readonly firstHunkMs: Percentiles | null;
  /** The edit -> the whole region received, in ms, over predictions that had ended when their first hunk showed. */
  readonly wholeRegionMs: Percentiles | null;
}

/**
 * Money spent over some requests. A request whose backend's price is unknown is counted apart, never as zero, so a sum
 * is never silently low.
 */
export interface SpendFigure {
  /** US dollars over the requests whose cost is known (free ones count as 0). */
  readonly usd: number;
  /** Requests whose cost is known (in `usd`). */
  readonly pricedRequests: number;
  /** Requests whose backend's price is unknown (not in `usd`). */
  readonly unknownRequests: number;
  /** True when a cost in `usd` rests on an estimated token count. */
  readonly estimated: boolean;
}

/**
 * What one backend cost over the kept requests (history included). Figures over shown and accepted suggestions are this
 * session's, as the shown counts are: they set this session's spend against them.
 */
export interface EndpointCostSummary {
  readonly price: EndpointPrice;
  /** Every network request (cancelled, failed and hedged ones included: a provider bills the prompt it read). */
  readonly spend: SpendFigure;
  /** Mean US dollars per request whose cost is known; null when none is. */
  readonly perRequestUsd: number | null;
  /**
   * This session's spend on inline and next-edit requests over the suggestions shown from this backend this session
   * (inline suggestions and next-edit predictions); null before one was shown or when no cost is known.
   */
  readonly perShownUsd: number | null;
  /**
   * This session's next-edit spend per predicted hunk applied with Tab. Next edits only: the hub gets no signal when an
   * inline suggestion is accepted. Null before one was applied or when no cost is known.
   */
  readonly perAcceptedUsd: number | null;
  /**
   * Share (0..1) of the known spend that went on requests that showed nothing: cancelled (typed past, or a hedge that
   * lost), failed, or finished without a token of answer. A finished answer that was never put on screen cannot be told
   * apart (records do not say which suggestion they fed), so it counts as shown. Null when nothing was spent.
   */
  readonly wastedShare: number | null;
  /**
   * Decode tokens/s (p50) per US dollar per million output tokens: speed per dollar, to set a fast, dear backend against
   * a slow, cheap one. Null when the price is not a paid one (free or unknown) or the decode speed is not known.
   */
  readonly tokensPerSecPerDollar: number | null;
}

/**
 * The provider's prompt cache on one backend, over its kept requests whose server reported cached prompt tokens (a
 * server that never reports them says nothing about its cache, so it has no figures).
 */
export interface PromptCacheSummary {
  /** Requests whose server reported cached prompt tokens (0 included). */
  readonly requests: number;
  readonly promptTokens: number;
  readonly cachedPromptTokens: number;
  /** cachedPromptTokens / promptTokens; null with no prompt tokens. */
  readonly hitShare: number | null;
  /** Requests that hit: more than half their prompt served from the cache. */
  readonly hits: number;
  /** TTFT p50 of the requests that hit, in ms. */
  readonly ttftHitMs: number | null;
  /** TTFT p50 of the requests that did not hit, in ms. */
  readonly ttftMissMs: number | null;
}

/** Spend on one kind of task, over every backend. */
export interface TaskSpend {
  readonly task: RequestTask;
  readonly spend: SpendFigure;
}

/** Spend on one local calendar day, over every backend. */
export interface DaySpend {
  /** The local date, `YYYY-MM-DD`. */
  readonly day: string;
  readonly spend: SpendFigure;
}

/** Spend over every backend: in all, per task kind and per local day (from the kept history). */
export interface CostTotals {
  readonly total: SpendFigure;
  /** Task kinds with at least one request, in the order inline, next edit, refactor, repository, probe. */
  readonly byTask: readonly TaskSpend[];
  /** Days with at least one request, newest first, at most `COST_DAYS_SHOWN`. */
  readonly byDay: readonly DaySpend[];
  /** Today's local date, `YYYY-MM-DD`. */
  readonly today: string;
  /** Today's spend; null before today's first request. */
  readonly todaySpend: SpendFigure | null;
}

/** How many days of spend a snapshot carries. */
export const COST_DAYS_SHOWN = 7;

/** How many failures of one reason an endpoint had. */
export interface ReasonCount {
  readonly reason: BackendErrorReason;
  readonly count: number;
}

/** What the panel shows per backend. Latency figures leave out cache hits (they never reach the network). */
export interface EndpointSummary {
  /** The endpoint id as request records carry it, e.g. `burst#0:llama3.1-8b`. */
  readonly endpointId: string;
  readonly label: string;
  /** Null for an endpoint known only from history (no longer configured). */
  readonly role: BackendRole | null;
  readonly simulated: boolean;
  /** True when the endpoint is in the current configuration. */
  readonly configured: boolean;
  /** Requests sent over the network (cache hits excluded). */
  readonly requests: number;
  readonly ok: number;
  readonly cancelled: number;
  readonly errors: number;
  readonly errorsByReason: readonly ReasonCount[];
  /** Request sent -> first token, in ms, over finished requests that got a token. */
  readonly ttftMs: Percentiles | null;
  /** Decode speed (TTFT excluded), in tokens/s. */
  readonly decodeTokensPerSec: Percentiles | null;
  /** Median prompt tokens/s, when the server reports prompt timing. */
  readonly prefillTokensPerSec: number | null;
  /** Share (0..1) of decode figures that came from the server's own token counts rather than an estimate. */
  readonly serverCountedShare: number | null;
  readonly outputTokens: number;
  /** Requests routed here as a fallback (`failover:*`, `cooling-down` or `too-long`). */
  readonly fallbacks: number;
  /** Hedged copies sent here. */
  readonly hedges: number;
  /** Inline completions served from the cache with text this endpoint produced. */
  readonly cacheHits: number;
  /** cacheHits / (cacheHits + inline requests); null before any inline work. */
  readonly cacheHitRate: number | null;
  /**
   * Over the last 500 suggestions with this endpoint's text shown in this session (not kept in the history file);
   * null before the first.
   */
  readonly keystrokeToSuggestion: SuggestionLatency | null;
  /** Predicted outputs on this backend; null when none of its kept requests carried a prediction. */
  readonly predictions: PredictionSummary | null;
  /** Next-edit suggestions on this backend; null before its first next-edit request or shown prediction. */
  readonly nextEdit: NextEditSummary | null;
  /** What this backend cost; null before its first network request. */
  readonly cost: EndpointCostSummary | null;
  /** The provider's prompt cache here; null when its server never reported cached prompt tokens. */
  readonly promptCache: PromptCacheSummary | null;
}

/** Totals over every endpoint. */
export interface SpeedTotals {
  readonly requests: number;
  readonly errors: number;
  readonly fallbacks: number;
  readonly hedges: number;
  readonly cacheHits: number;
  readonly cacheHitRate: number | null;
}

/** A request still streaming, sampled when the snapshot was made. */
export interface RunningRequestRow {
  readonly id: number;
  readonly task: RequestTask;
  readonly endpointLabel: string | null;
  readonly routeReason: RouteReason | null;
  readonly liveTokensPerSec: number | null;
  readonly outputTokens: number;
}

/** Where one endpoint's probe is. */
export type ProbeStatus = 'pending' | 'running' | 'ok' | 'error';

/** One endpoint's probe result, shown side by side with the others. */
export interface ProbeRow {
  readonly endpointId: string;
  readonly label: string;
  readonly status: ProbeStatus;
  readonly ttftMs: number | null;
  readonly decodeTokensPerSec: number | null;
  readonly outputTokens: number | null;
  readonly tokensSource: TokensSource | null;
  readonly contextWindow: number | null;
  /** Fill-in-the-middle path found, when the probe checks it. */
  readonly fim: string | null;
  readonly errorReason: BackendErrorReason | null;
  /** A short human sentence (already redacted) for errors. */
  readonly message: string | null;
}

/** The probe part of the snapshot: progress and results. */
export interface ProbeState {
  /** False when the extension has no prober wired in (the button is shown disabled). */
  readonly available: boolean;
  readonly running: boolean;
  readonly startedAtEpochMs: number | null;
  readonly rows: readonly ProbeRow[];
}

/** Where a context window figure came from (as `ContextWindowSource` in contextWindow.ts, which the webview may not import). */
export type ContextWindowOrigin = 'endpoint' | 'configured' | 'unknown';

/** The context window the router uses for a backend. */
export interface ContextWindowRow {
  /** In tokens; null when unknown. */
  readonly tokens: number | null;
  /** `endpoint`: the server said; `configured`: the preset or setting; `unknown`: neither. */
  readonly source: ContextWindowOrigin;
  /** Which answer and field gave it (e.g. `GET /props default_generation_settings.n_ctx`). */
  readonly detail: string;
}

/** The router's circuit breaker for a backend: `closed` (in use), `open` (resting), `half-open` (next request is a trial). */
export type BreakerStateName = 'closed' | 'open' | 'half-open';

/** The router's rolling view of a backend's health. Durations in ms, speeds in tokens/s. */
export interface HealthRow {
  readonly state: BreakerStateName;
  /** Wall-clock time (epoch ms, whole seconds) until which the backend rests; null when it is not resting. */
  readonly restUntilEpochMs: number | null;
  /** Why it rests or rested last (`rate-limited`, `refused`, `http-503`, ...), or null. */
  readonly restCause: string | null;
  readonly consecutiveFailures: number;
  /** Rolling error rate, 0..1. */
  readonly errorRate: number;
  readonly ttftP50Ms: number | null;
  /** Null until enough first tokens were seen to trust it (hedging waits for it too). */
  readonly ttftP95Ms: number | null;
  readonly ttftSamples: number;
  /** Rolling decode speed (exponential moving average), or null before a request with two tokens finished. */
  readonly decodeTokensPerSec: number | null;
}

/** What the router knows about one configured backend: its context window and its health. */
export interface BackendDetails {
  /** The configured endpoint's id (`burst#0`), equal to `EndpointSummary.endpointId` of configured endpoints. */
  readonly endpointId: string;
  readonly label: string;
  readonly contextWindow: ContextWindowRow;
  /** Null when the extension has no router wired in. */
  readonly health: HealthRow | null;
}

/** Everything the panel draws. Sent whole every time. */
export interface PanelSnapshot {
  readonly protocolVersion: typeof PANEL_PROTOCOL_VERSION;
  readonly totals: SpeedTotals;
  readonly endpoints: readonly EndpointSummary[];
  /** Context window and health of every configured backend, in configuration order. */
  readonly details: readonly BackendDetails[];
  readonly running: readonly RunningRequestRow[];
  /** The most recent finished requests, oldest first (for the charts and the log). */
  readonly recent: readonly RequestRecord[];
  /** Records kept in history, and the most it keeps. */
  readonly historyKept: number;
  readonly historyCapacity: number;
  /** Spend over every backend. */
  readonly cost: CostTotals;
  readonly probe: ProbeState;
  /** A one-line notice for the top of the panel (e.g. an unreadable history file was set aside), or null. */
  readonly notice: string | null;
  /** Decode speeds below this (tokens/s) are marked slow, as in the status bar. */
  readonly slowThresholdTokensPerSec: number;
}

/** Export formats for the speed history. */
export type ExportFormat = 'json' | 'csv';

/** Host -> webview. */
export type HostToWebviewMessage = { readonly type: 'snapshot'; readonly snapshot: PanelSnapshot };

/** Webview -> host. Untrusted: parse with `parseWebviewMessage`. */
export type WebviewToHostMessage =
  | { readonly type: 'ready' }
  | { readonly type: 'runProbe' }
  | { readonly type: 'export'; readonly format: ExportFormat }
  | { readonly type: 'reset' };

/** True when `value` is an export format. */
export function isExportFormat(value: unknown): value is ExportFormat {
  return value === 'json' || value === 'csv';
}

function hasOnlyKeys(value: Record<string, unknown>, allowed: readonly string[]): boolean {
  return Object.keys(value).every((key) => allowed.includes(key));
}

/**
 * Checks a message from the webview. Returns the typed message, or null for anything else: unknown types, extra
 * fields, wrong field types. The caller ignores (and may log) a null; it never acts on unchecked input.
 */
export function parseWebviewMessage(value: unknown): WebviewToHostMessage | null {
  if (!isPlainObject(value)) return null;
  const type = value['type'];
  switch (type) {
    case 'ready':
    case 'runProbe':
    case 'reset':
      return hasOnlyKeys(value, ['type']) ? { type } : null;
    case 'export': {
      const format = value['format'];
      return hasOnlyKeys(value, ['type', 'format']) && isExportFormat(format) ? { type, format } : null;
    }
    default:
      return null;
  }
}
