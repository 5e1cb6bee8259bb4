import type { RequestStats } from '../requestStats';

/** What one inline request may ask for, from the backend's measured speed. */
export interface InlineBudget {
  readonly maxTokens: number;
  /** llama.cpp `t_max_predict_ms`: decode time allowed once a line has ended, in ms. */
  readonly timeLimitMs: number;
  /** True when the backend is fast enough that a whole block arrives about as soon as one line would. */
  readonly multilineEager: boolean;
}

/** Tuning of the budget; the defaults are for people, not for a benchmark. */
export interface BudgetOptions {
  /**
   * Decode time one request may use, in ms. At 1,000 tokens/s this is 300 tokens, enough to fill the cache for
   * several lines of typing; at 20 tokens/s it is the floor below.
   */
  readonly decodeHorizonMs: number;
  readonly minTokens: number;
  readonly maxTokens: number;
  /** Decode speed (tokens/s) from which multi-line suggestions are shown eagerly. */
  readonly multilineFromTokensPerSec: number;
  /** Tokens assumed before the first measurement (a modest first request that teaches the speed). */
  readonly initialTokens: number;
}

/** The defaults. */
export const DEFAULT_BUDGET_OPTIONS: BudgetOptions = {
  decodeHorizonMs: 300,
  minTokens: 24,
  maxTokens: 512,
  multilineFromTokensPerSec: 150,
  initialTokens: 96,
};

/** Weight of the newest measurement in the moving averages (about the last 5 requests count). */
const SMOOTHING = 0.3;

interface EndpointSpeed {
  decodeTokensPerSec: number | null;
  ttftMs: number | null;
}

/**
 * Budgets that follow the measured speed of each backend (not fixed timers, which mean 300 tokens at 2,000 tokens/s
 * and 3 tokens at 20 tokens/s): max tokens = decode speed x horizon, clamped; multi-line eagerness from decode speed.
 */
export class AdaptiveBudget {
  private readonly speeds = new Map<string, EndpointSpeed>();

  constructor(private readonly options: BudgetOptions = DEFAULT_BUDGET_OPTIONS) {}

  /** Feeds one finished request's figures. */
  observe(endpointId: string, stats: RequestStats): void {
    const speed = this.speeds.get(endpointId) ?? { decodeTokensPerSec: null, ttftMs: null };
    const decode = stats.serverDecodeTokensPerSec ?? stats.decodeTokensPerSec;
    if (decode !== null && Number.isFinite(decode) && decode > 0)
      speed.decodeTokensPerSec = smooth(speed.decodeTokensPerSec, decode);
    if (stats.ttftMs !== null && Number.isFinite(stats.ttftMs)) speed.ttftMs = smooth(speed.ttftMs, stats.ttftMs);
    this.speeds.set(endpointId, speed);
  }

  /** Smoothed decode speed of an endpoint in tokens/s; null before a measurement. */
  decodeTokensPerSec(endpointId: string): number | null {
    return this.speeds.get(endpointId)?.decodeTokensPerSec ?? null;
  }

  /** Smoothed TTFT of an endpoint in ms; null before a measurement. */
  ttftMs(endpointId: string): number | null {
    return this.speeds.get(endpointId)?.ttftMs ?? null;
  }

  /** The budget for the next request to `endpointId` (null: the endpoint is not known yet). */
  budgetFor(endpointId: string | null): InlineBudget {
    const { decodeHorizonMs, minTokens, maxTokens, multilineFromTokensPerSec, initialTokens } = this.options;
    const decode = endpointId === null ? null : this.decodeTokensPerSec(endpointId);
    if (decode === null) return { maxTokens: initialTokens, timeLimitMs: decodeHorizonMs, multilineEager: false };
    const tokens = Math.round((decode * decodeHorizonMs) / 1000);
    const clamped = Math.min(maxTokens, Math.max(minTokens, tokens));
    return {
      maxTokens: clamped,
      // Enough time for the clamped budget at the measured speed, so the server's timer never cuts what was asked for.
      timeLimitMs: Math.max(decodeHorizonMs, Math.ceil((clamped / decode) * 1000)),
      multilineEager: decode >= multilineFromTokensPerSec,
    };
  }
}

function smooth(previous: number | null, next: number): number {
  return previous === null ? next : previous + SMOOTHING * (next - previous);
}
