import type { Clock } from '../clock';
import { localDate } from '../cost/dailyBudget';
import type { EndpointPrice } from '../cost/costTypes';
import { requestCost } from '../cost/requestCost';
import type { BackendRole, ResolvedEndpoint } from '../endpoint';
import { BACKEND_ERROR_REASONS } from '../errors';
import type { BackendErrorReason } from '../errors';
import type { LiveRequestView, RouteInfo, StatsSink } from '../generation/generationService';
import type { SuggestionSource } from '../inline/inlineEngine';
import type { NextEditReporter, NextEditShownSample } from '../nextEdit/nextEditTypes';
import { COST_DAYS_SHOWN } from './panelProtocol';
import type {
  CostTotals,
  DaySpend,
  EndpointCostSummary,
  EndpointSummary,
  NextEditSummary,
  Percentiles,
  PredictionSummary,
  PromptCacheSummary,
  RunningRequestRow,
  SpendFigure,
  SpeedTotals,
  SuggestionLatency,
} from './panelProtocol';
import type { RequestRecord, RequestTask } from '../requestStats';
import { isFallbackReason } from '../routeReason';
import type { Scheduler, ScheduledTask } from '../scheduler';
import type { EndpointFacts, FinishedFact, RunningFact, StatusFacts, SuggestionFact } from './statusText';

/** The most finished requests the hub (and the history file) keeps: about 4 MB on disk, a few MB in memory. */
export const STATS_HISTORY_CAPACITY = 10_000;

/** The shortest gap between two change notifications, in ms: displays redraw at most 4 times a second. */
export const MIN_CHANGE_INTERVAL_MS = 250;

/** How many recent requests a panel snapshot carries for its charts and log. */
export const SNAPSHOT_RECENT_COUNT = 200;

/** How many recent requests of an endpoint its "recent decode speed" (the idle status bar figure) is the median of. */
export const RECENT_DECODE_WINDOW = 20;

/**
 * How many of a backend's newest shown suggestions its keystroke-to-suggestion figures are taken over: enough for a
 * steady p95 (25 values above it), few enough to follow a change of network or server within a session of typing.
 */
export const SUGGESTION_WINDOW = 500;

/** The most backends whose shown suggestions are kept; each settings change can add one, and the oldest goes first. */
const SUGGESTION_BACKENDS_KEPT = 32;

/** How many of a backend's newest shown next-edit predictions its latency figures are taken over (as for suggestions). */
export const NEXT_EDIT_WINDOW = 500;

/** One inline suggestion handed to VS Code, as the inline adapter reports it. */
export interface SuggestionSample {
  /** The endpoint that generated the text (`ResolvedEndpoint.id`, e.g. `burst#0`); null when its stream was never routed. */
  readonly endpointId: string | null;
  readonly endpointLabel: string | null;
  /** VS Code's call to the provider -> the suggestion handed back, in ms on the clock seam. */
  readonly latencyMs: number;
  /** `cache` or `in-flight` (a stream already running): no new request; `network`: a request made for this call. */
  readonly source: SuggestionSource;
  /** The stream the text came from. */
  readonly streamId: number;
}

/** Options for `StatsHub`. */
export interface StatsHubOptions {
  readonly clock: Clock;
  readonly scheduler: Scheduler;
  /** The endpoints currently configured, so the panel lists them before their first request. */
  readonly endpoints?: () => readonly ResolvedEndpoint[];
  readonly capacity?: number;
  readonly minChangeIntervalMs?: number;
  /** Wall-clock time in ms since the epoch, for "today" in local time; `Date.now` when absent. */
  readonly epochNow?: () => number;
}

/** Something a listener can stop. */
export interface Subscription {
  dispose(): void;
}

/** The parts of a panel snapshot that come from the hub (the panel adds probe results, notices and settings). */
export interface HubSnapshot {
  readonly totals: SpeedTotals;
  readonly endpoints: readonly EndpointSummary[];
  readonly running: readonly RunningRequestRow[];
  readonly recent: readonly RequestRecord[];
  readonly historyKept: number;
  readonly historyCapacity: number;
  readonly cost: CostTotals;
}

interface RunningEntry {
  readonly view: LiveRequestView;
  readonly startedAtMs: number;
}

interface FinishedEntry {
  readonly record: RequestRecord;
  readonly finishedAtMs: number;
  readonly retryAtMs: number | null;
}

/**
 * True when a record's endpoint id and label name `endpoint`. Records carry either `${id}:${model}` (e.g.
 * `burst#0:llama3.1-8b`) or the bare `${role}#${index}` id; a bare id only matches when the label matches too, so that
 * history from before a reordering of the settings is not put under the wrong model.
 */
export function recordMatchesEndpoint(endpoint: ResolvedEndpoint, endpointId: string, endpointLabel: string): boolean {
  if (endpointId === `${endpoint.id}:${endpoint.target.model}`) return true;
  return endpointId === endpoint.id && endpointLabel === endpoint.label;
}

function endpointFactsOf(endpoint: ResolvedEndpoint): EndpointFacts {
  return { label: endpoint.label, role: endpoint.role, simulated: endpoint.simulated };
}

/** Nearest-rank percentile of an ascending array; `q` in 0..1. */
export function percentileOfSorted(sorted: readonly number[], q: number): number | null {
  if (sorted.length === 0) return null;
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil(q * sorted.length)));
  return sorted[rank - 1] ?? null;
}

/**
 * Moves the k-th smallest value of `values[from..to]` to index k (Hoare's selection, median-of-three pivot): O(n)
 * on average, where a full sort of 10,000 values is O(n log n) and allocates.
 */
function selectKth(values: Float64Array, k: number, from = 0, to = values.length - 1): number {
  let left = from;
  let right = to;
  while (right > left) {
    const middle = (left + right) >> 1;
    const a = values[left] ?? 0;
    const b = values[middle] ?? 0;
    const c = values[right] ?? 0;
    const pivot = a < b ? (b < c ? b : a < c ? c : a) : a < c ? a : b < c ? c : b;
    let i = left;
    let j = right;
    while (i <= j) {
      while ((values[i] ?? 0) < pivot) i++;
      while ((values[j] ?? 0) > pivot) j--;
      if (i <= j) {
        const swap = values[i] ?? 0;
        values[i] = values[j] ?? 0;
        values[j] = swap;
        i++;
        j--;
      }
    }
    if (k <= j) right = j;
    else if (k >= i) left = i;
    else break;
  }
  return values[k] ?? 0;
}

/** Nearest-rank p50 and p95 of `values` (works on a copy). */
function percentiles(values: ArrayLike<number>): Percentiles | null {
  const count = values.length;
  if (count === 0) return null;
  const buffer = Float64Array.from(values);
  const rank = (q: number) => Math.min(count, Math.max(1, Math.ceil(q * count))) - 1;
  const p95Rank = rank(0.95);
  const p95 = selectKth(buffer, p95Rank);
  // After selecting p95, everything below its index is <= p95: p50 is found in that part alone.
  const p50Rank = rank(0.5);
  const p50 = p50Rank === p95Rank ? p95 : selectKth(buffer, p50Rank, 0, p95Rank - 1);
  return { p50, p95, count };
}

/** True when a suggestion was shown without a request made for it. */
function servedWithoutRequest(source: SuggestionSource): boolean {
  switch (source) {
    case 'cache':
    case 'in-flight':
      return true;
    case 'network':
      return false;
  }
}

/** One backend's newest shown suggestions: a fixed ring, so a day of typing costs no more than 500 of them. */
class SuggestionWindow {
  private readonly latencies = new Float64Array(SUGGESTION_WINDOW);
  private readonly withoutRequest = new Uint8Array(SUGGESTION_WINDOW);
  private next = 0;
  private size = 0;
  /** Every suggestion counted this session (the ring keeps only the newest): what this session's spend bought. */
  total = 0;
  /** Suggestions the person accepted this session (VS Code runs the item's command after inserting it). */
  accepted = 0;
  /** The figures until the next sample: the status bar asks up to 4 times a second. */
  private cached: SuggestionLatency | null = null;

  constructor(
    readonly endpointId: string,
    readonly label: string,
  ) {}

  add(latencyMs: number, withoutRequest: boolean): void {
    this.latencies[this.next] = latencyMs;
    this.withoutRequest[this.next] = withoutRequest ? 1 : 0;
    this.next = (this.next + 1) % SUGGESTION_WINDOW;
    this.size = Math.min(SUGGESTION_WINDOW, this.size + 1);
    this.total++;
    this.cached = null;
  }

  /** Drops the figures kept for the status bar's samples (a count they show changed). */
  invalidate(): void {
    this.cached = null;
  }

  figures(): SuggestionLatency | null {
    if (this.cached !== null) return this.cached;
    // Until the ring is full its samples are the first `size` slots.
    const latencyMs = percentiles(this.latencies.subarray(0, this.size));
    if (latencyMs === null) return null;
    let withoutRequest = 0;
    for (let index = 0; index < this.size; index++) withoutRequest += this.withoutRequest[index] ?? 0;
    this.cached = { latencyMs, fromCacheShare: withoutRequest / this.size, shown: this.total, accepted: this.accepted };
    return this.cached;
  }
}

/**
 * One backend's next-edit figures this session: counts, and the newest 500 shown predictions' latencies in fixed rings.
 */
class NextEditWindow {
  private readonly firstHunk = new Float64Array(NEXT_EDIT_WINDOW);
  private readonly wholeRegion = new Float64Array(NEXT_EDIT_WINDOW);
  private firstHunkNext = 0;
  private firstHunkSize = 0;
  private wholeRegionNext = 0;
  private wholeRegionSize = 0;
  shown = 0;
  applied = 0;
  dismissed = 0;
  /** The percentiles until the next sample (the panel asks up to 4 times a second). */
  private cached: { firstHunkMs: Percentiles | null; wholeRegionMs: Percentiles | null } | null = null;

  constructor(
    readonly endpointId: string,
    readonly label: string,
  ) {}

  add(sample: NextEditShownSample): void {
    this.shown++;
    this.firstHunk[this.firstHunkNext] = sample.latencyMs;
    this.firstHunkNext = (this.firstHunkNext + 1) % NEXT_EDIT_WINDOW;
    this.firstHunkSize = Math.min(NEXT_EDIT_WINDOW, this.firstHunkSize + 1);
    const whole = sample.wholeRegionMs;
    if (whole !== null && Number.isFinite(whole) && whole >= 0) {
      this.wholeRegion[this.wholeRegionNext] = whole;
      this.wholeRegionNext = (this.wholeRegionNext + 1) % NEXT_EDIT_WINDOW;
      this.wholeRegionSize = Math.min(NEXT_EDIT_WINDOW, this.wholeRegionSize + 1);
    }
    this.cached = null;
  }

  latencies(): { firstHunkMs: Percentiles | null; wholeRegionMs: Percentiles | null } {
    if (this.cached === null) {
      this.cached = {
        firstHunkMs: percentiles(this.firstHunk.subarray(0, this.firstHunkSize)),
        wholeRegionMs: percentiles(this.wholeRegion.subarray(0, this.wholeRegionSize)),
      };
    }
    return this.cached;
  }
}

interface Accumulator {
  endpointId: string;
  label: string;
  requests: number;
  ok: number;
  cancelled: number;
  errors: number;
  errorsByReason: Map<BackendErrorReason, number>;
  ttft: number[];
  decode: number[];
  prefill: number[];
  serverCounted: number;
  outputTokens: number;
  fallbacks: number;
  hedges: number;
  cacheHits: number;
  inlineRequests: number;
  suggestions: SuggestionLatency | null;
  predictionRequests: number;
  acceptedPredictionTokens: number;
  rejectedPredictionTokens: number;
  effective: number[];
  nextEditRequests: number;
  nextEdit: NextEditWindow | null;
  suggestionsShown: number;
  suggestionsAccepted: number;
  price: EndpointPrice;
  spend: MutableSpend;
  /** Known spend on requests that showed nothing (see `EndpointCostSummary.wastedShare`). */
  wastedUsd: number;
  /** This session's known spend on inline and next-edit requests, set against what was shown this session. */
  sessionShownUsd: number;
  sessionShownKnown: number;
  cache: CacheAccumulator;
}

interface MutableSpend {
  usd: number;
  pricedRequests: number;
  unknownRequests: number;
  estimated: boolean;
}

interface CacheAccumulator {
  requests: number;
  promptTokens: number;
  cachedPromptTokens: number;
  hits: number;
  ttftHit: number[];
  ttftMiss: number[];
}

function newSpend(): MutableSpend {
  return { usd: 0, pricedRequests: 0, unknownRequests: 0, estimated: false };
}

function addSpend(spend: MutableSpend, usd: number | null, estimated: boolean): void {
  if (usd === null) {
    spend.unknownRequests++;
    return;
  }
  spend.usd += usd;
  spend.pricedRequests++;
  if (estimated) spend.estimated = true;
}

function spendFigure(spend: MutableSpend): SpendFigure {
  return { ...spend };
}

/**
 * A request "hit" the provider's prompt cache when more than half its prompt was served from it: a long shared prefix
 * (repository map, files) was reused, which is what shortens the TTFT. A few cached tokens of a system prompt do not.
 */
export function isPromptCacheHit(promptTokens: number, cachedPromptTokens: number): boolean {
  return cachedPromptTokens > promptTokens / 2;
}

/** The order task kinds are listed in: the person's own work first, probes last. */
const TASK_ORDER: readonly RequestTask[] = ['inline', 'next-edit', 'refactor', 'repo', 'probe'];

function newAccumulator(endpointId: string, label: string, price: EndpointPrice): Accumulator {
  return {
    endpointId,
    label,
    requests: 0,
    ok: 0,
    cancelled: 0,
    errors: 0,
    errorsByReason: new Map(),
    ttft: [],
    decode: [],
    prefill: [],
    serverCounted: 0,
    outputTokens: 0,
    fallbacks: 0,
    hedges: 0,
    cacheHits: 0,
    inlineRequests: 0,
    suggestions: null,
    predictionRequests: 0,
    acceptedPredictionTokens: 0,
    rejectedPredictionTokens: 0,
    effective: [],
    nextEditRequests: 0,
    nextEdit: null,
    suggestionsShown: 0,
    suggestionsAccepted: 0,
    price,
    spend: newSpend(),
    wastedUsd: 0,
    sessionShownUsd: 0,
    sessionShownKnown: 0,
    cache: { requests: 0, promptTokens: 0, cachedPromptTokens: 0, hits: 0, ttftHit: [], ttftMiss: [] },
  };
}

function addToAccumulator(acc: Accumulator, record: RequestRecord): void {
  acc.label = record.endpointLabel;
  if (record.fromCache) {
    acc.cacheHits++;
    return;
  }
  acc.requests++;
  if (record.task === 'inline') acc.inlineRequests++;
  else if (record.task === 'next-edit') acc.nextEditRequests++;
  if (record.outcome === 'ok') acc.ok++;
  else if (record.outcome === 'cancelled') acc.cancelled++;
  else {
    acc.errors++;
    const reason = record.errorReason;
    if (reason !== null) acc.errorsByReason.set(reason, (acc.errorsByReason.get(reason) ?? 0) + 1);
  }
  // The router's own definition, so the panel counts what the status bar calls a fallback.
  if (isFallbackReason(record.routeReason)) acc.fallbacks++;
  if (record.routeReason === 'hedge') acc.hedges++;
  const stats = record.stats;
  acc.outputTokens += stats.outputTokens;
  if (stats.ttftMs !== null) acc.ttft.push(stats.ttftMs);
  if (stats.decodeTokensPerSec !== null) {
    acc.decode.push(stats.decodeTokensPerSec);
    if (stats.tokensSource === 'server') acc.serverCounted++;
  }
  if (stats.prefillTokensPerSec !== null) acc.prefill.push(stats.prefillTokensPerSec);
  // The meter leaves both counts null for a request without a prediction.
  if (stats.acceptedPredictionTokens !== null || stats.rejectedPredictionTokens !== null) {
    acc.predictionRequests++;
    acc.acceptedPredictionTokens += stats.acceptedPredictionTokens ?? 0;
    acc.rejectedPredictionTokens += stats.rejectedPredictionTokens ?? 0;
    if (stats.effectiveTokensPerSec !== null) acc.effective.push(stats.effectiveTokensPerSec);
  }
}

/**
 * Adds a network request's cost and prompt-cache figures. `inSession`: it finished in this session, so it counts
 * against this session's shown and applied suggestions.
 */
function addCostToAccumulator(
  acc: Accumulator,
  record: RequestRecord,
  usd: number | null,
  estimated: boolean,
  inSession: boolean,
): void {
  addSpend(acc.spend, usd, estimated);
  const stats = record.stats;
  if (usd !== null) {
    // Nothing reached the screen from these: cancelled (typed past, a hedge that lost), failed, or an empty answer.
    if (record.outcome !== 'ok' || stats.outputTokens === 0) acc.wastedUsd += usd;
    if (inSession && (record.task === 'inline' || record.task === 'next-edit')) {
      acc.sessionShownUsd += usd;
      acc.sessionShownKnown++;
    }
  }
  const prompt = stats.promptTokens;
  const cached = stats.cachedPromptTokens;
  // Only servers that report cached tokens say anything about their cache; a missing count is not a miss.
  if (prompt === null || cached === null || prompt <= 0) return;
  const cache = acc.cache;
  cache.requests++;
  cache.promptTokens += prompt;
  cache.cachedPromptTokens += Math.min(cached, prompt);
  const hit = isPromptCacheHit(prompt, cached);
  if (hit) cache.hits++;
  if (stats.ttftMs !== null) (hit ? cache.ttftHit : cache.ttftMiss).push(stats.ttftMs);
}

function costSummary(acc: Accumulator, decodeP50: number | null): EndpointCostSummary | null {
  if (acc.requests === 0) return null;
  const spend = acc.spend;
  const shown = acc.suggestionsShown + (acc.nextEdit?.shown ?? 0);
  // Accepted: inline suggestions taken with Tab and next-edit hunks applied, against this session's spend on both.
  const accepted = acc.suggestionsAccepted + (acc.nextEdit?.applied ?? 0);
  const price = acc.price;
  const outputPrice = price.kind === 'priced' ? price.prices.outputPerMillion : 0;
  return {
    price,
    spend: spendFigure(spend),
    perRequestUsd: spend.pricedRequests === 0 ? null : spend.usd / spend.pricedRequests,
    perShownUsd: shown === 0 || acc.sessionShownKnown === 0 ? null : acc.sessionShownUsd / shown,
    perAcceptedUsd: accepted === 0 || acc.sessionShownKnown === 0 ? null : acc.sessionShownUsd / accepted,
    wastedShare: spend.usd > 0 ? acc.wastedUsd / spend.usd : null,
    tokensPerSecPerDollar: decodeP50 === null || outputPrice <= 0 ? null : decodeP50 / outputPrice,
  };
}

function promptCacheSummary(cache: CacheAccumulator): PromptCacheSummary | null {
  if (cache.requests === 0) return null;
  return {
    requests: cache.requests,
    promptTokens: cache.promptTokens,
    cachedPromptTokens: cache.cachedPromptTokens,
    hitShare: cache.promptTokens === 0 ? null : cache.cachedPromptTokens / cache.promptTokens,
    hits: cache.hits,
    ttftHitMs: percentiles(cache.ttftHit)?.p50 ?? null,
    ttftMissMs: percentiles(cache.ttftMiss)?.p50 ?? null,
  };
}

function predictionSummary(acc: Accumulator): PredictionSummary | null {
  if (acc.predictionRequests === 0) return null;
  return {
    requests: acc.predictionRequests,
    acceptedTokens: acc.acceptedPredictionTokens,
    rejectedTokens: acc.rejectedPredictionTokens,
    effectiveTokensPerSec: percentiles(acc.effective),
  };
}

function nextEditSummary(acc: Accumulator): NextEditSummary | null {
  const window = acc.nextEdit;
  if (acc.nextEditRequests === 0 && window === null) return null;
  const latencies = window?.latencies() ?? { firstHunkMs: null, wholeRegionMs: null };
  return {
    requests: acc.nextEditRequests,
    shown: window?.shown ?? 0,
    applied: window?.applied ?? 0,
    dismissed: window?.dismissed ?? 0,
    ...latencies,
  };
}

/**
 * Implements `StatsSink`: keeps the running requests and the last 10,000 finished ones (and each backend's last 500
 * shown inline suggestions), works out per-endpoint aggregates on demand, and tells listeners about changes at most 4
 * times a second. Nothing here runs per token: live figures are sampled from the running requests' views when a
 * change notification fires (every 250 ms while anything streams), so the streaming path pays nothing for the displays.
 * It is also the next-edit feature's `NextEditReporter`: shown, applied and dismissed predictions, for this session.
 */
export class StatsHub implements StatsSink, NextEditReporter {
  private readonly clock: Clock;
  private readonly scheduler: Scheduler;
  private readonly configuredEndpoints: () => readonly ResolvedEndpoint[];
  private readonly capacity: number;
  private readonly minChangeIntervalMs: number;

  private readonly runningById = new Map<number, RunningEntry>();
  private readonly ring: (RequestRecord | undefined)[];
  private ringStart = 0;
  private ringSize = 0;
  /**
   * Endpoints seen on live routes, by record endpoint id and label (ids such as `burst#0` are reused when the settings
   * change): remembers role and the simulated flag for display.
   */
  private readonly seenEndpoints = new Map<string, EndpointFacts>();
  /** The prices of endpoints seen on live routes, by the same keys: a backend no longer configured keeps its price. */
  private readonly seenPrices = new Map<string, EndpointPrice>();
  private lastOutcome: FinishedEntry | null = null;
  private lastServed: FinishedEntry | null = null;
  private readonly lastRetryAtByEndpoint = new Map<string, number>();
  /** Shown suggestions per backend, by `seenKey(endpointId, label)`, oldest backend first. */
  private readonly suggestions = new Map<string, SuggestionWindow>();
  /** The backend of the newest counted suggestion: the one serving inline completions now. */
  private lastSuggestionKey: string | null = null;
  private lastSuggestionStreamId: number | null = null;
  /** Next-edit figures per backend, by `seenKey(endpointId, label)`, oldest backend first. */
  private readonly nextEdits = new Map<string, NextEditWindow>();
  /** The newest next-edit key per endpoint id: applied and dismissed name only the id. */
  private readonly nextEditKeyById = new Map<string, string>();

  private readonly changeListeners = new Set<() => void>();
  private readonly recordListeners = new Set<(record: RequestRecord) => void>();
  private pendingChange: ScheduledTask | null = null;
  private lastChangeAtMs = Number.NEGATIVE_INFINITY;
  private summaryCache: Summaries | null = null;
  /** Today's spend for the status bar, until the next record or the next day: it must not walk all 10,000 records. */
  private todayCache: TodaySpend | null = null;
  /** Records that finished in this session (the rest were loaded from history): shown suggestions are this session's. */
  private sessionRecords = new WeakSet<RequestRecord>();
  private readonly epochNow: () => number;
  private disposed = false;

  constructor(options: StatsHubOptions) {
    this.clock = options.clock;
    this.scheduler = options.scheduler;
    this.configuredEndpoints = options.endpoints ?? (() => []);
    this.capacity = Math.max(1, Math.floor(options.capacity ?? STATS_HISTORY_CAPACITY));
    this.minChangeIntervalMs = options.minChangeIntervalMs ?? MIN_CHANGE_INTERVAL_MS;
    this.ring = new Array<RequestRecord | undefined>(this.capacity);
    this.epochNow = options.epochNow ?? Date.now;
  }

  requestStarted(view: LiveRequestView): void {
    this.runningById.set(view.id, { view, startedAtMs: this.clock.now() });
    this.markChanged();
  }

  requestFinished(id: number, record: RequestRecord): void {
    const running = this.runningById.get(id);
    if (running !== undefined) {
      this.rememberRoute(running.view.route());
      this.runningById.delete(id);
    }
    this.finished(record);
  }

  cacheServed(record: RequestRecord): void {
    this.finished(record);
  }

  private finished(record: RequestRecord): void {
    this.sessionRecords.add(record);
    this.append(record);
    if (this.todayCache !== null) {
      addToToday(this.todayCache, record, this.priceOf(record.endpointId, record.endpointLabel));
    }
    const nowMs = this.clock.now();
    const retryAfterMs = record.errorReason === 'rate-limited' ? record.retryAfterMs : null;
    const retryAtMs = retryAfterMs === null ? null : nowMs + retryAfterMs;
    if (retryAtMs !== null) this.lastRetryAtByEndpoint.set(record.endpointId, retryAtMs);
    if (record.task !== 'probe') {
      const entry: FinishedEntry = { record, finishedAtMs: nowMs, retryAtMs };
      // A cancelled request says nothing about the backend's health (the person typed on), so it does not replace
      // the state the status bar shows.
      if (record.outcome !== 'cancelled') this.lastOutcome = entry;
      if (!record.fromCache && record.stats.ttftMs !== null) this.lastServed = entry;
    }
    for (const listener of this.recordListeners) listener(record);
    this.markChanged();
  }

  /**
   * Takes one suggestion handed to VS Code. A suggestion from the same stream as the one before is not counted again:
   * that is the person typing through ghost text already on screen (VS Code keeps showing it while it asks), and
   * counting each of those sub-millisecond answers would hide the wait for the suggestions that are new. A suggestion
   * without an endpoint cannot be put under a backend and is left out.
   */
  suggestionShown(sample: SuggestionSample): void {
    const sameStream = sample.streamId === this.lastSuggestionStreamId;
    this.lastSuggestionStreamId = sample.streamId;
    const { endpointId, endpointLabel, latencyMs } = sample;
    if (sameStream || endpointId === null || endpointLabel === null || !Number.isFinite(latencyMs) || latencyMs < 0)
      return;
    const key = seenKey(endpointId, endpointLabel);
    let window = this.suggestions.get(key);
    if (window === undefined) {
      const oldest = this.suggestions.keys().next();
      if (this.suggestions.size >= SUGGESTION_BACKENDS_KEPT && oldest.done !== true)
        this.suggestions.delete(oldest.value);
      window = new SuggestionWindow(endpointId, endpointLabel);
      this.suggestions.set(key, window);
    }
    window.add(latencyMs, servedWithoutRequest(sample.source));
    this.lastSuggestionKey = key;
    this.summaryCache = null;
    this.markChanged();
  }

  /**
   * The person accepted an inline suggestion from this backend (VS Code ran the item's command after inserting it). A
   * backend with no suggestion shown this session is left out: nothing it showed could have been accepted.
   */
  suggestionAccepted(endpointId: string, endpointLabel: string): void {
    const window = this.suggestions.get(seenKey(endpointId, endpointLabel));
    if (window === undefined) return;
    window.accepted++;
    window.invalidate();
    this.summaryCache = null;
    this.markChanged();
  }

  /** A prediction's first hunk was shown; `latencyMs` runs from the edit that triggered it. */
  nextEditShown(sample: NextEditShownSample): void {
    if (!Number.isFinite(sample.latencyMs) || sample.latencyMs < 0) return;
    this.nextEditWindow(sample.endpointId, sample.endpointLabel).add(sample);
    this.nextEditChanged();
  }

  /** The person applied a predicted hunk with Tab. */
  nextEditApplied(endpointId: string): void {
    this.nextEditWindow(endpointId, null).applied++;
    this.nextEditChanged();
  }

  /** The person dismissed a predicted hunk. */
  nextEditDismissed(endpointId: string): void {
    this.nextEditWindow(endpointId, null).dismissed++;
    this.nextEditChanged();
  }

  /**
   * The window of a backend's next-edit figures. Applied and dismissed name only the endpoint id: they go under the
   * label its last shown prediction had (a hunk is shown before it is applied), else the configured endpoint's label.
   */
  private nextEditWindow(endpointId: string, label: string | null): NextEditWindow {
    const knownKey = label === null ? this.nextEditKeyById.get(endpointId) : undefined;
    const resolvedLabel =
      label ?? this.configuredEndpoints().find((endpoint) => endpoint.id === endpointId)?.label ?? endpointId;
    const key = knownKey ?? seenKey(endpointId, resolvedLabel);
    let window = this.nextEdits.get(key);
    if (window === undefined) {
      const oldest = this.nextEdits.keys().next();
      if (this.nextEdits.size >= SUGGESTION_BACKENDS_KEPT && oldest.done !== true) this.nextEdits.delete(oldest.value);
      window = new NextEditWindow(endpointId, resolvedLabel);
      this.nextEdits.set(key, window);
    }
    this.nextEditKeyById.set(endpointId, key);
    return window;
  }

  private nextEditChanged(): void {
    this.summaryCache = null;
    this.markChanged();
  }

  /**
   * Seeds the hub from saved history (oldest first) without telling record listeners (the records are saved already).
   * The loaded records go before any that finished while the file was being read.
   */
  load(records: readonly RequestRecord[]): void {
    const newer = this.records();
    this.ring.fill(undefined);
    this.ringStart = 0;
    this.ringSize = 0;
    for (const record of records) this.append(record);
    for (const record of newer) this.append(record);
    this.todayCache = null;
    this.markChanged();
  }

  /** The configured endpoints changed: per-endpoint figures are worked out again and listeners told. */
  endpointsChanged(): void {
    this.summaryCache = null;
    this.todayCache = null;
    this.markChanged();
  }

  /** Forgets every finished request (running ones stay). */
  reset(): void {
    this.ring.fill(undefined);
    this.ringStart = 0;
    this.ringSize = 0;
    this.lastOutcome = null;
    this.lastServed = null;
    this.lastRetryAtByEndpoint.clear();
    this.suggestions.clear();
    this.lastSuggestionKey = null;
    this.lastSuggestionStreamId = null;
    this.nextEdits.clear();
    this.nextEditKeyById.clear();
    this.sessionRecords = new WeakSet();
    this.summaryCache = null;
    this.todayCache = null;
    this.markChanged();
  }

  /** Calls `listener` after changes, at most once per 250 ms, and every 250 ms while requests stream. */
  onDidChange(listener: () => void): Subscription {
    this.changeListeners.add(listener);
    return { dispose: () => this.changeListeners.delete(listener) };
  }

  /** Calls `listener` once for every finished request as it finishes (the history file appends from here). */
  onDidRecord(listener: (record: RequestRecord) => void): Subscription {
    this.recordListeners.add(listener);
    return { dispose: () => this.recordListeners.delete(listener) };
  }

  /** How many requests are streaming now. */
  runningCount(): number {
    return this.runningById.size;
  }

  /** How many finished requests are kept. */
  size(): number {
    return this.ringSize;
  }

  /** The kept finished requests, oldest first. */
  records(): RequestRecord[] {
    return this.newest(this.ringSize).reverse();
  }

  /** The `count` most recent finished requests, newest first. */
  newest(count: number): RequestRecord[] {
    const result: RequestRecord[] = [];
    const wanted = Math.min(count, this.ringSize);
    for (let offset = this.ringSize - 1; offset >= this.ringSize - wanted; offset--) {
      const record = this.ring[(this.ringStart + offset) % this.capacity];
      if (record !== undefined) result.push(record);
    }
    return result;
  }

  /**
   * The median decode speed of an endpoint's last 20 network requests that measured one, in tokens/s. With `label`,
   * only records of that label count: ids such as `longContext#0` name another backend after a settings change.
   */
  recentDecodeTokensPerSec(endpointId: string, label?: string): number | null {
    const values: number[] = [];
    for (let offset = this.ringSize - 1; offset >= 0 && values.length < RECENT_DECODE_WINDOW; offset--) {
      const record = this.ring[(this.ringStart + offset) % this.capacity];
      if (record === undefined || record.endpointId !== endpointId || record.fromCache) continue;
      if (label !== undefined && record.endpointLabel !== label) continue;
      const decode = record.stats.decodeTokensPerSec;
      if (decode !== null) values.push(decode);
    }
    values.sort((a, b) => a - b);
    return percentileOfSorted(values, 0.5);
  }

  /** What the status bar needs, sampled now. */
  statusFacts(): StatusFacts {
    return {
      running: this.newestRunning(),
      lastOutcome: this.finishedFact(this.lastOutcome),
      lastServed: this.finishedFact(this.lastServed),
      configuredEndpoints: this.configuredEndpoints().length,
      inlineSuggestions: this.suggestionFact(),
      todaySpend: this.todaySpend(),
    };
  }

  /**
   * Today's spend (local date) over every backend, or null before today's first request. Worked out once a day (or
   * after a load, reset or settings change) by walking back from the newest record only as far as today goes, then
   * kept up to date as requests finish: the status bar asks up to 4 times a second and must not walk 10,000 records.
   */
  todaySpend(): SpendFigure | null {
    const nowEpochMs = this.epochNow();
    let today = this.todayCache;
    if (today === null || nowEpochMs < today.fromEpochMs || nowEpochMs >= today.toEpochMs) {
      today = this.countToday(nowEpochMs);
      this.todayCache = today;
    }
    return today.counted === 0 ? null : spendFigure(today.spend);
  }

  private countToday(nowEpochMs: number): TodaySpend {
    const now = new Date(nowEpochMs);
    const fromEpochMs = new Date(now.getFullYear(), now.getMonth(), now.getDate()).getTime();
    const toEpochMs = new Date(now.getFullYear(), now.getMonth(), now.getDate() + 1).getTime();
    const today: TodaySpend = { fromEpochMs, toEpochMs, spend: newSpend(), counted: 0 };
    const prices = new Map<string, EndpointPrice>();
    for (let offset = this.ringSize - 1; offset >= 0; offset--) {
      const record = this.ring[(this.ringStart + offset) % this.capacity];
      if (record === undefined) continue;
      // Records are kept in the order they finished; one that started an hour before midnight ends the walk (a
      // request that began before midnight and ended after it must not hide today's earlier ones).
      if (record.startedAtEpochMs < fromEpochMs - HOUR_MS) break;
      const key = seenKey(record.endpointId, record.endpointLabel);
      let price = prices.get(key);
      if (price === undefined) {
        price = this.priceOf(record.endpointId, record.endpointLabel);
        prices.set(key, price);
      }
      addToToday(today, record, price);
    }
    return today;
  }

  /** Per-endpoint aggregates, totals, running requests and the recent log, for the panel. */
  snapshot(): HubSnapshot {
    const summary = this.summaries();
    const running: RunningRequestRow[] = [...this.runningById.values()].map(({ view }) => {
      const route = view.route();
      return {
        id: view.id,
        task: view.task,
        endpointLabel: route?.endpoint.label ?? null,
        routeReason: route?.reason ?? null,
        liveTokensPerSec: view.liveTokensPerSec(),
        outputTokens: view.outputTokens(),
      };
    });
    const today = localDate(this.epochNow());
    const todaySpend = summary.byDay.get(today);
    const byDay: DaySpend[] = [...summary.byDay.entries()]
      .sort(([a], [b]) => (a < b ? 1 : a > b ? -1 : 0))
      .slice(0, COST_DAYS_SHOWN)
      .map(([day, spend]) => ({ day, spend: spendFigure(spend) }));
    const cost: CostTotals = {
      total: spendFigure(summary.total),
      byTask: TASK_ORDER.flatMap((task) => {
        const spend = summary.byTask.get(task);
        return spend === undefined ? [] : [{ task, spend: spendFigure(spend) }];
      }),
      byDay,
      today,
      todaySpend: todaySpend === undefined ? null : spendFigure(todaySpend),
    };
    return {
      totals: summary.totals,
      endpoints: summary.endpoints,
      cost,
      running,
      recent: this.newest(SNAPSHOT_RECENT_COUNT).reverse(),
      historyKept: this.ringSize,
      historyCapacity: this.capacity,
    };
  }

  /** Stops timers and listeners. */
  dispose(): void {
    this.disposed = true;
    this.pendingChange?.cancel();
    this.pendingChange = null;
    this.changeListeners.clear();
    this.recordListeners.clear();
  }

  private append(record: RequestRecord): void {
    if (this.ringSize < this.capacity) {
      this.ring[(this.ringStart + this.ringSize) % this.capacity] = record;
      this.ringSize++;
    } else {
      this.ring[this.ringStart] = record;
      this.ringStart = (this.ringStart + 1) % this.capacity;
    }
    this.summaryCache = null;
  }

  /**
   * What a record's backend charges: the configured endpoint's price, else the price it had on a live route this
   * session; for one known only from history, free when it was simulated and unknown otherwise (its price is no longer
   * configured, and unknown is never shown as zero).
   */
  private priceOf(endpointId: string, label: string): EndpointPrice {
    for (const endpoint of this.configuredEndpoints()) {
      if (recordMatchesEndpoint(endpoint, endpointId, label)) return endpoint.price;
    }
    const seen = this.seenPrices.get(seenKey(endpointId, label));
    if (seen !== undefined) return seen;
    return this.endpointFacts(endpointId, label).simulated ? { kind: 'free', why: 'simulated' } : { kind: 'unknown' };
  }

  private rememberRoute(route: RouteInfo | null): void {
    if (route === null) return;
    const endpoint = route.endpoint;
    for (const key of [
      seenKey(endpoint.id, endpoint.label),
      seenKey(`${endpoint.id}:${endpoint.target.model}`, endpoint.label),
    ]) {
      this.seenEndpoints.set(key, endpointFactsOf(endpoint));
      this.seenPrices.set(key, endpoint.price);
    }
  }

  private endpointFacts(endpointId: string, label: string): EndpointFacts {
    for (const endpoint of this.configuredEndpoints()) {
      if (recordMatchesEndpoint(endpoint, endpointId, label)) return endpointFactsOf(endpoint);
    }
    const seen = this.seenEndpoints.get(seenKey(endpointId, label));
    if (seen !== undefined) return seen;
    return { label, role: roleFromEndpointId(endpointId), simulated: false };
  }

  private finishedFact(entry: FinishedEntry | null): FinishedFact | null {
    if (entry === null) return null;
    const record = entry.record;
    return {
      record,
      finishedAtMs: entry.finishedAtMs,
      retryAtMs: entry.retryAtMs ?? this.lastRetryAtByEndpoint.get(record.endpointId) ?? null,
      endpoint: this.endpointFacts(record.endpointId, record.endpointLabel),
      recentDecodeTokensPerSec: this.recentDecodeTokensPerSec(record.endpointId, record.endpointLabel),
    };
  }

  private suggestionFact(): SuggestionFact | null {
    const window = this.lastSuggestionKey === null ? undefined : this.suggestions.get(this.lastSuggestionKey);
    const figures = window?.figures() ?? null;
    if (window === undefined || figures === null) return null;
    return { ...figures, endpoint: this.endpointFacts(window.endpointId, window.label) };
  }

  private newestRunning(): RunningFact | null {
    let newest: RunningEntry | null = null;
    for (const entry of this.runningById.values()) {
      if (entry.view.task === 'probe') continue;
      if (newest === null || entry.startedAtMs >= newest.startedAtMs) newest = entry;
    }
    if (newest === null) return null;
    const route = newest.view.route();
    if (route !== null) this.rememberRoute(route);
    return {
      task: newest.view.task,
      elapsedMs: this.clock.now() - newest.startedAtMs,
      endpoint: route === null ? null : endpointFactsOf(route.endpoint),
      routeReason: route?.reason ?? null,
      liveTokensPerSec: newest.view.liveTokensPerSec(),
      outputTokens: newest.view.outputTokens(),
    };
  }

  private summaries(): Summaries {
    if (this.summaryCache !== null) return this.summaryCache;
    const accumulators = new Map<string, Accumulator>();
    const configured = this.configuredEndpoints();
    // Configured endpoints are keyed by their own id; records that match one are counted under it.
    for (const endpoint of configured) {
      accumulators.set(endpoint.id, newAccumulator(endpoint.id, endpoint.label, endpoint.price));
    }
    const total = newSpend();
    const byTask = new Map<RequestTask, MutableSpend>();
    const byDay = new Map<string, MutableSpend>();
    // A Date per record is the dear part of a local day: records of one day share a start-of-day range.
    let dayRange = { from: 0, to: -1, day: '' };
    const dayOf = (epochMs: number): string => {
      if (epochMs >= dayRange.from && epochMs < dayRange.to) return dayRange.day;
      const date = new Date(epochMs);
      const from = new Date(date.getFullYear(), date.getMonth(), date.getDate()).getTime();
      const to = new Date(date.getFullYear(), date.getMonth(), date.getDate() + 1).getTime();
      dayRange = { from, to, day: localDate(epochMs) };
      return dayRange.day;
    };
    // Which accumulator a record belongs to, remembered per (endpoint id, label): 10,000 records share a handful.
    const keyCache = new Map<string, Map<string, string>>();
    const keyOf = (record: RequestRecord): string => {
      let byLabel = keyCache.get(record.endpointId);
      if (byLabel === undefined) {
        byLabel = new Map();
        keyCache.set(record.endpointId, byLabel);
      }
      let key = byLabel.get(record.endpointLabel);
      if (key === undefined) {
        const match = configured.find((endpoint) =>
          recordMatchesEndpoint(endpoint, record.endpointId, record.endpointLabel),
        );
        key = match?.id ?? `${record.endpointId}\u0000${record.endpointLabel}`;
        byLabel.set(record.endpointLabel, key);
      }
      return key;
    };
    for (let offset = 0; offset < this.ringSize; offset++) {
      const record = this.ring[(this.ringStart + offset) % this.capacity];
      if (record === undefined) continue;
      const key = keyOf(record);
      let acc = accumulators.get(key);
      if (acc === undefined) {
        acc = newAccumulator(
          record.endpointId,
          record.endpointLabel,
          this.priceOf(record.endpointId, record.endpointLabel),
        );
        accumulators.set(key, acc);
      }
      addToAccumulator(acc, record);
      // A cache hit sent nothing: no cost, and nothing about the provider's prompt cache.
      if (record.fromCache) continue;
      const cost = requestCost(record, acc.price);
      addCostToAccumulator(acc, record, cost.usd, cost.estimated, this.sessionRecords.has(record));
      addSpend(total, cost.usd, cost.estimated);
      let taskSpend = byTask.get(record.task);
      if (taskSpend === undefined) {
        taskSpend = newSpend();
        byTask.set(record.task, taskSpend);
      }
      addSpend(taskSpend, cost.usd, cost.estimated);
      const day = dayOf(record.startedAtEpochMs);
      let daySpend = byDay.get(day);
      if (daySpend === undefined) {
        daySpend = newSpend();
        byDay.set(day, daySpend);
      }
      addSpend(daySpend, cost.usd, cost.estimated);
    }
    // Shown suggestions go under the same row as the records of their backend (a bare id matches with its label).
    const accumulatorOf = (endpointId: string, label: string): Accumulator => {
      const match = configured.find((endpoint) => recordMatchesEndpoint(endpoint, endpointId, label));
      const key = match?.id ?? seenKey(endpointId, label);
      let acc = accumulators.get(key);
      if (acc === undefined) {
        acc = newAccumulator(endpointId, label, this.priceOf(endpointId, label));
        accumulators.set(key, acc);
      }
      return acc;
    };
    for (const window of this.suggestions.values()) {
      const acc = accumulatorOf(window.endpointId, window.label);
      acc.suggestions = window.figures();
      acc.suggestionsShown += window.total;
      acc.suggestionsAccepted += window.accepted;
    }
    for (const window of this.nextEdits.values()) accumulatorOf(window.endpointId, window.label).nextEdit = window;
    const configuredIds = new Map(configured.map((endpoint) => [endpoint.id, endpoint]));
    const endpoints: EndpointSummary[] = [...accumulators.entries()].map(([key, acc]) => {
      const endpoint = configuredIds.get(key);
      const facts = endpoint === undefined ? this.endpointFacts(acc.endpointId, acc.label) : null;
      const inlineTotal = acc.cacheHits + acc.inlineRequests;
      const decodeTokensPerSec = percentiles(acc.decode);
      return {
        endpointId: endpoint?.id ?? acc.endpointId,
        label: endpoint?.label ?? acc.label,
        role: endpoint?.role ?? facts?.role ?? null,
        simulated: endpoint?.simulated ?? facts?.simulated ?? false,
        configured: endpoint !== undefined,
        requests: acc.requests,
        ok: acc.ok,
        cancelled: acc.cancelled,
        errors: acc.errors,
        errorsByReason: BACKEND_ERROR_REASONS.flatMap((reason) => {
          const count = acc.errorsByReason.get(reason);
          return count === undefined ? [] : [{ reason, count }];
        }),
        ttftMs: percentiles(acc.ttft),
        decodeTokensPerSec,
        prefillTokensPerSec: percentiles(acc.prefill)?.p50 ?? null,
        serverCountedShare: acc.decode.length === 0 ? null : acc.serverCounted / acc.decode.length,
        outputTokens: acc.outputTokens,
        fallbacks: acc.fallbacks,
        hedges: acc.hedges,
        cacheHits: acc.cacheHits,
        cacheHitRate: inlineTotal === 0 ? null : acc.cacheHits / inlineTotal,
        keystrokeToSuggestion: acc.suggestions,
        predictions: predictionSummary(acc),
        nextEdit: nextEditSummary(acc),
        cost: costSummary(acc, decodeTokensPerSec?.p50 ?? null),
        promptCache: promptCacheSummary(acc.cache),
      };
    });
    const configuredOrder = [...configuredIds.keys()];
    endpoints.sort((a, b) => {
      const ia = configuredOrder.indexOf(a.endpointId);
      const ib = configuredOrder.indexOf(b.endpointId);
      if (ia >= 0 || ib >= 0) return (ia < 0 ? Number.MAX_SAFE_INTEGER : ia) - (ib < 0 ? Number.MAX_SAFE_INTEGER : ib);
      return a.label.localeCompare(b.label);
    });
    let requests = 0;
    let errors = 0;
    let fallbacks = 0;
    let hedges = 0;
    let cacheHits = 0;
    let inlineRequests = 0;
    for (const acc of accumulators.values()) {
      requests += acc.requests;
      errors += acc.errors;
      fallbacks += acc.fallbacks;
      hedges += acc.hedges;
      cacheHits += acc.cacheHits;
      inlineRequests += acc.inlineRequests;
    }
    const inlineTotal = cacheHits + inlineRequests;
    this.summaryCache = {
      totals: {
        requests,
        errors,
        fallbacks,
        hedges,
        cacheHits,
        cacheHitRate: inlineTotal === 0 ? null : cacheHits / inlineTotal,
      },
      endpoints,
      total,
      byTask,
      byDay,
    };
    return this.summaryCache;
  }

  /**
   * Coalesces change notifications: the first change after a quiet spell is told at once (next tick), later ones wait
   * until 250 ms have passed since the last notification. While anything streams, a notification follows every 250 ms
   * so that live figures move.
   */
  private markChanged(): void {
    if (this.disposed || this.pendingChange !== null) return;
    const delayMs = Math.max(0, this.lastChangeAtMs + this.minChangeIntervalMs - this.clock.now());
    this.pendingChange = this.scheduler.schedule(delayMs, () => this.notifyChange());
  }

  private notifyChange(): void {
    this.pendingChange = null;
    if (this.disposed) return;
    this.lastChangeAtMs = this.clock.now();
    for (const listener of this.changeListeners) listener();
    if (this.runningById.size > 0) this.markChanged();
  }
}

/** An hour in ms: longer than any request runs, so a record started this long before midnight is yesterday's. */
const HOUR_MS = 60 * 60 * 1000;

/** Today's spend as the hub keeps it between status bar redraws; today runs from local midnight to the next. */
interface TodaySpend {
  readonly fromEpochMs: number;
  readonly toEpochMs: number;
  readonly spend: MutableSpend;
  counted: number;
}

/** Adds a record's cost to today's spend when it started today (a cache hit sent nothing and is not counted). */
function addToToday(today: TodaySpend, record: RequestRecord, price: EndpointPrice): void {
  if (record.fromCache || record.startedAtEpochMs < today.fromEpochMs || record.startedAtEpochMs >= today.toEpochMs)
    return;
  const cost = requestCost(record, price);
  addSpend(today.spend, cost.usd, cost.estimated);
  today.counted++;
}

/** The hub's cached figures, until the next record or settings change. */
interface Summaries {
  readonly totals: SpeedTotals;
  readonly endpoints: readonly EndpointSummary[];
  readonly total: MutableSpend;
  readonly byTask: ReadonlyMap<RequestTask, MutableSpend>;
  /** By local date. */
  readonly byDay: ReadonlyMap<string, MutableSpend>;
}

/** The key of `StatsHub.seenEndpoints`: a record's endpoint id and label (a NUL does not occur in labels people type). */
function seenKey(endpointId: string, label: string): string {
  return `${endpointId}\u0000${label}`;
}

/** The role encoded at the front of a record endpoint id (`burst#0:...`), for endpoints no longer configured. */
function roleFromEndpointId(endpointId: string): BackendRole | null {
  if (endpointId.startsWith('burst#')) return 'burst';
  if (endpointId.startsWith('longContext#')) return 'longContext';
  return null;
}
