import type { ResolvedEndpoint } from '../endpoint';
import type { Clock } from '../clock';
import type { BackendError } from '../errors';
import { MAX_RATE_LIMIT_REST_MS } from '../stream/httpErrors';

/** Tunables of the health book; the defaults suit burst providers with per-minute quotas and local servers. */
export interface HealthOptions {
  /** Consecutive failures (network, 5xx, timeout) that open the circuit breaker. */
  readonly failuresToOpen: number;
  /** First rest after the breaker opens, in ms; doubles on each re-open up to `maxRestMs`. */
  readonly baseRestMs: number;
  /** Longest rest, in ms. */
  readonly maxRestMs: number;
  /** Rest after a 429 that named no retry time, in ms (per-minute quotas usually reset within seconds). */
  readonly defaultRateLimitRestMs: number;
  /**
   * Longest rest a retry time can ask for, in ms; past it the endpoint gets a trial request. A server that says a year,
   * or a daily quota's reset, must not take a fast endpoint away for longer than a person would wait to notice.
   */
  readonly maxRateLimitRestMs: number;
  /** TTFT samples kept per endpoint for the p50/p95 estimates. */
  readonly ttftWindow: number;
  /** Samples needed before a p95 is trusted (hedging waits for it). */
  readonly minTtftSamples: number;
  /** Weight of the newest outcome in the rolling error rate and decode speed (exponential moving average). */
  readonly smoothing: number;
}

/**
 * Defaults: open after 3 failures, rest 5 s doubling to 60 s, 10 s after an unexplained 429, at most 5 minutes whatever
 * the server asks, p95 over the last 64 TTFTs.
 */
export const DEFAULT_HEALTH_OPTIONS: HealthOptions = {
  failuresToOpen: 3,
  baseRestMs: 5_000,
  maxRestMs: 60_000,
  defaultRateLimitRestMs: 10_000,
  maxRateLimitRestMs: MAX_RATE_LIMIT_REST_MS,
  ttftWindow: 64,
  minTtftSamples: 8,
  smoothing: 0.2,
};

/** The circuit breaker's state: `closed` (in use), `open` (resting), `half-open` (rest over, next request is a trial). */
export type BreakerState = 'closed' | 'open' | 'half-open';

/** What the health book knows about one endpoint, for the router, the panel and the log. Durations in ms, speeds in tok/s. */
export interface EndpointHealthSnapshot {
  readonly endpointId: string;
  readonly state: BreakerState;
  /** Ms until the endpoint may be tried again; 0 when it is not resting. */
  readonly restRemainingMs: number;
  /** Why it rests (`rate-limited`, `network`, `timeout`, `http-503`, ...), or null. */
  readonly restCause: string | null;
  readonly consecutiveFailures: number;
  /** Rolling error rate, 0..1 (exponential moving average over outcomes). */
  readonly errorRate: number;
  readonly ttftP50Ms: number | null;
  readonly ttftP95Ms: number | null;
  readonly ttftSamples: number;
  /** Rolling decode speed (TTFT excluded), or null before a request with two tokens finished. */
  readonly decodeTokensPerSec: number | null;
}

interface MutableHealth {
  ttftSamples: number[];
  nextTtftSlot: number;
  decodeTokensPerSec: number | null;
  errorRate: number;
  consecutiveFailures: number;
  /** Clock time (ms) until which the endpoint rests; null when the breaker is closed. */
  restUntilMs: number | null;
  restCause: string | null;
  /** How many times in a row the breaker opened; the rest doubles with each. */
  opens: number;
}

function percentile(sortedAscending: readonly number[], fraction: number): number | null {
  if (sortedAscending.length === 0) return null;
  const index = Math.min(sortedAscending.length - 1, Math.ceil(fraction * sortedAscending.length) - 1);
  return sortedAscending[Math.max(0, index)] ?? null;
}

/**
 * Rolling health per endpoint (TTFT percentiles, decode speed, error rate) and a circuit breaker that rests an endpoint
 * after repeated failures, or at once after a 429, for as long as the server asked (Retry-After, or the reset of the
 * limit that was hit) up to `maxRateLimitRestMs`; then a trial request. A successful probe ends a rest (`endRest`).
 */
export class EndpointHealthBook {
  private readonly byId = new Map<string, MutableHealth>();
  /** What each id named when last seen (protocol, base URL, model). */
  private readonly fingerprints = new Map<string, string>();
  private readonly options: HealthOptions;

  constructor(
    private readonly clock: Clock,
    options: Partial<HealthOptions> = {},
  ) {
    this.options = { ...DEFAULT_HEALTH_OPTIONS, ...options };
  }

  /**
   * Forgets what was learned about an endpoint id once it names a different server or model: ids are positions in
   * the configuration (`burst#0`), and a new server in that place must not inherit the old one's rest or speed.
   */
  reconcile(endpoints: readonly ResolvedEndpoint[]): void {
    for (const endpoint of endpoints) {
      const fingerprint = `${endpoint.target.protocol} ${endpoint.target.baseUrl} ${endpoint.target.model}`;
      const known = this.fingerprints.get(endpoint.id);
      if (known === fingerprint) continue;
      if (known !== undefined) this.byId.delete(endpoint.id);
      this.fingerprints.set(endpoint.id, fingerprint);
    }
  }

  private entry(endpointId: string): MutableHealth {
    let health = this.byId.get(endpointId);
    if (health === undefined) {
      health = {
        ttftSamples: [],
        nextTtftSlot: 0,
        decodeTokensPerSec: null,
        errorRate: 0,
        consecutiveFailures: 0,
        restUntilMs: null,
        restCause: null,
        opens: 0,
      };
      this.byId.set(endpointId, health);
    }
    return health;
  }

  /** A request produced its first token (TTFT in ms from that attempt's start): the endpoint answers. */
  recordFirstToken(endpointId: string, ttftMs: number): void {
    const health = this.entry(endpointId);
    if (health.ttftSamples.length < this.options.ttftWindow) {
      health.ttftSamples.push(ttftMs);
    } else {
      health.ttftSamples[health.nextTtftSlot] = ttftMs;
      health.nextTtftSlot = (health.nextTtftSlot + 1) % this.options.ttftWindow;
    }
    this.closeBreaker(health);
  }

  /** A request ended well; `decodeTokensPerSec` is null when fewer than two tokens came. */
  recordSuccess(endpointId: string, decodeTokensPerSec: number | null): void {
    const health = this.entry(endpointId);
    const weight = this.options.smoothing;
    health.errorRate = health.errorRate * (1 - weight);
    if (decodeTokensPerSec !== null && Number.isFinite(decodeTokensPerSec) && decodeTokensPerSec > 0) {
      health.decodeTokensPerSec =
        health.decodeTokensPerSec === null
          ? decodeTokensPerSec
          : health.decodeTokensPerSec * (1 - weight) + decodeTokensPerSec * weight;
    }
    this.closeBreaker(health);
  }

  private closeBreaker(health: MutableHealth): void {
    health.consecutiveFailures = 0;
    health.restUntilMs = null;
    health.restCause = null;
    health.opens = 0;
  }

  /**
   * A request failed. Cancellation by the caller says nothing about the endpoint and is ignored. A 429 (or any error
   * with a retry time) rests the endpoint at once for as long as the server asked, at most `maxRateLimitRestMs`; network errors, 5xx and timeouts
   * rest it after `failuresToOpen` in a row, or at once when a trial after a rest fails.
   */
  recordFailure(endpointId: string, error: BackendError, cause: string): void {
    if (error.reason === 'aborted') return;
    const health = this.entry(endpointId);
    const weight = this.options.smoothing;
    health.errorRate = health.errorRate * (1 - weight) + weight;
    const breakerCounts =
      error.reason === 'network' ||
      error.reason === 'timeout' ||
      error.reason === 'rate-limited' ||
      (error.reason === 'http' && error.status !== null && error.status >= 500);
    if (!breakerCounts) return;
    const wasTrial = health.restUntilMs !== null && this.clock.now() >= health.restUntilMs;
    health.consecutiveFailures += 1;
    const now = this.clock.now();
    if (error.retryAfterMs !== null && error.retryAfterMs > 0) {
      this.rest(health, now + Math.min(error.retryAfterMs, this.options.maxRateLimitRestMs), cause);
      return;
    }
    if (error.reason === 'rate-limited') {
      this.rest(health, now + this.options.defaultRateLimitRestMs, cause);
      return;
    }
    if (wasTrial || health.consecutiveFailures >= this.options.failuresToOpen) {
      const restMs = Math.min(this.options.maxRestMs, this.options.baseRestMs * 2 ** health.opens);
      this.rest(health, now + restMs, cause);
    }
  }

  /**
   * A probe of the endpoint succeeded ("Probe Backends"): the person asked whether it answers, and it does, so a rest
   * ends now and the breaker closes. Probes are never routed, so they are the one way to end a rest early.
   */
  endRest(endpointId: string): void {
    const health = this.byId.get(endpointId);
    if (health !== undefined) this.closeBreaker(health);
  }

  private rest(health: MutableHealth, untilMs: number, cause: string): void {
    health.restUntilMs = Math.max(untilMs, health.restUntilMs ?? 0);
    health.restCause = cause;
    health.opens += 1;
  }

  /** Ms until the endpoint may be tried again; 0 when it is available (closed or half-open). */
  restRemainingMs(endpointId: string): number {
    const health = this.byId.get(endpointId);
    if (health === undefined || health.restUntilMs === null) return 0;
    return Math.max(0, health.restUntilMs - this.clock.now());
  }

  /** The p95 TTFT in ms, or null until `minTtftSamples` requests have produced a first token. */
  ttftP95Ms(endpointId: string): number | null {
    const health = this.byId.get(endpointId);
    if (health === undefined || health.ttftSamples.length < this.options.minTtftSamples) return null;
    return percentile(
      [...health.ttftSamples].sort((a, b) => a - b),
      0.95,
    );
  }

  /** Everything known about one endpoint (an endpoint never seen is healthy with no samples). */
  snapshot(endpointId: string): EndpointHealthSnapshot {
    const health = this.entry(endpointId);
    const sorted = [...health.ttftSamples].sort((a, b) => a - b);
    const restRemainingMs = this.restRemainingMs(endpointId);
    const state: BreakerState = health.restUntilMs === null ? 'closed' : restRemainingMs > 0 ? 'open' : 'half-open';
    return {
      endpointId,
      state,
      restRemainingMs,
      restCause: health.restCause,
      consecutiveFailures: health.consecutiveFailures,
      errorRate: health.errorRate,
      ttftP50Ms: percentile(sorted, 0.5),
      ttftP95Ms: sorted.length >= this.options.minTtftSamples ? percentile(sorted, 0.95) : null,
      ttftSamples: sorted.length,
      decodeTokensPerSec: health.decodeTokensPerSec,
    };
  }
}
