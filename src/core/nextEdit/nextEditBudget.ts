import type { ResolvedEndpoint } from '../endpoint';
import type { NextEditStatus } from './nextEditTypes';

/** What the router's health book has measured of an endpoint: the figures the budget is judged on. */
export interface MeasuredSpeed {
  /** Rolling p95 time to first token, ms; null before enough samples. */
  readonly ttftP95Ms: number | null;
  /** Smoothed decode speed, tokens/s; null before a measured request. */
  readonly decodeTokensPerSec: number | null;
}

/** One endpoint judged against the next-edit latency budget. */
export interface BudgetJudgement {
  readonly endpoint: ResolvedEndpoint;
  readonly speed: MeasuredSpeed | null;
  /** p95 TTFT + the region's tokens at the decode speed, ms; null while either figure is unmeasured. */
  readonly estimateMs: number | null;
  /** True when the estimate fits the budget, or is not known yet (an unmeasured backend is tried, so it gets measured). */
  readonly within: boolean;
}

/** The budget's verdict for one prediction: the endpoints it may use (in routing order) and why. */
export interface BudgetVerdict {
  readonly budgetMs: number;
  readonly regionTokens: number;
  readonly judgements: readonly BudgetJudgement[];
  /** Ids of the endpoints within the budget, for `RouteQuery.endpointIds`. */
  readonly usableIds: readonly string[];
}

/**
 * Judges every endpoint for a next-edit prediction of `regionTokens` tokens: p95 TTFT plus the region at the measured
 * decode speed must fit `budgetMs`. The p95 (not the median) because a suggestion that arrives after the person has
 * moved on is worse than none; the region's tokens because the answer is the whole rewritten region. An endpoint with
 * no measurement yet is allowed, so that the first predictions measure it; the next ones are judged.
 */
export function judgeNextEditBudget(
  endpoints: readonly ResolvedEndpoint[],
  speedOf: (endpointId: string) => MeasuredSpeed | null,
  regionTokens: number,
  budgetMs: number,
): BudgetVerdict {
  const judgements = endpoints.map((endpoint): BudgetJudgement => {
    const speed = speedOf(endpoint.id);
    const estimateMs = estimateNextEditMs(speed, regionTokens);
    return { endpoint, speed, estimateMs, within: estimateMs === null || estimateMs <= budgetMs };
  });
  const usableIds = judgements.filter((judgement) => judgement.within).map((judgement) => judgement.endpoint.id);
  return { budgetMs, regionTokens, judgements, usableIds };
}

/** p95 TTFT + `regionTokens` at the decode speed, in ms; null while either is unmeasured. */
export function estimateNextEditMs(speed: MeasuredSpeed | null, regionTokens: number): number | null {
  if (speed === null || speed.ttftP95Ms === null || speed.decodeTokensPerSec === null) return null;
  if (speed.decodeTokensPerSec <= 0) return Number.POSITIVE_INFINITY;
  return speed.ttftP95Ms + (regionTokens / speed.decodeTokensPerSec) * 1000;
}

/** Predictions requested ahead of Tab, at most: each one costs a region's tokens that a dismissal wastes. */
export const MAX_CHAIN_DEPTH = 2;

/**
 * How many predictions may be requested ahead of the person's Tab (each for the text after the previous one is applied):
 * as many as fit the budget after the one being shown, at most `MAX_CHAIN_DEPTH`. A backend at a third of the budget
 * chains two; one at more than half of it chains none. Unmeasured: one, a cautious middle.
 */
export function chainDepth(estimateMs: number | null, budgetMs: number): number {
  if (estimateMs === null) return 1;
  if (estimateMs <= 0) return MAX_CHAIN_DEPTH;
  return Math.max(0, Math.min(MAX_CHAIN_DEPTH, Math.floor(budgetMs / estimateMs) - 1));
}

function formatMs(ms: number): string {
  return `${Math.round(ms).toLocaleString('en-US')} ms`;
}

function formatRate(tokensPerSec: number): string {
  return `${Math.round(tokensPerSec).toLocaleString('en-US')} tok/s`;
}

/** "~180 ms (p95 TTFT 120 ms + 250 tokens at 4,100 tok/s)", or "not measured yet". */
function describeEstimate(judgement: BudgetJudgement, regionTokens: number): string {
  const { speed, estimateMs } = judgement;
  if (estimateMs === null || speed === null || speed.ttftP95Ms === null || speed.decodeTokensPerSec === null)
    return 'not measured yet';
  return `~${formatMs(estimateMs)} (p95 TTFT ${formatMs(speed.ttftP95Ms)} + ${regionTokens} tokens at ${formatRate(speed.decodeTokensPerSec)})`;
}

/**
 * The status bar tooltip's next-edit line: the backend predictions go to and its estimate against the budget, or why
 * next edit is off. `verdict` is the latest judgement (null before the first edit).
 */
export function describeNextEditStatus(
  enabled: boolean,
  endpoints: readonly ResolvedEndpoint[],
  verdict: BudgetVerdict | null,
): NextEditStatus {
  if (!enabled) return { state: 'off', endpointLabel: null, detail: 'Next edit: off (setting).' };
  if (endpoints.length === 0)
    return { state: 'no-backend', endpointLabel: null, detail: 'Next edit: no backend is configured.' };
  if (verdict === null) {
    const first = endpoints[0];
    return {
      state: 'on',
      endpointLabel: first?.label ?? null,
      detail: `Next edit: on · ${first?.label ?? ''} (speed not measured yet).`,
    };
  }
  const chosen = verdict.judgements.find((judgement) => judgement.within);
  if (chosen === undefined) {
    const fastest = [...verdict.judgements].sort(
      (a, b) => (a.estimateMs ?? Number.POSITIVE_INFINITY) - (b.estimateMs ?? Number.POSITIVE_INFINITY),
    )[0];
    const why =
      fastest === undefined
        ? ''
        : ` The fastest, ${fastest.endpoint.label}, takes ${describeEstimate(fastest, verdict.regionTokens)}.`;
    return {
      state: 'over-budget',
      endpointLabel: null,
      detail: `Next edit: paused, no backend fits the ${formatMs(verdict.budgetMs)} budget.${why} Raise latencyCopilot.nextEdit.budgetMs or add a faster backend.`,
    };
  }
  const passedOver = verdict.judgements.slice(0, verdict.judgements.indexOf(chosen));
  const over =
    passedOver.length === 0
      ? ''
      : ` Passed over: ${passedOver.map((judgement) => `${judgement.endpoint.label} ${describeEstimate(judgement, verdict.regionTokens)}`).join('; ')}.`;
  return {
    state: 'on',
    endpointLabel: chosen.endpoint.label,
    detail: `Next edit: on · ${chosen.endpoint.label}, ${describeEstimate(chosen, verdict.regionTokens)}, budget ${formatMs(verdict.budgetMs)}.${over}`,
  };
}
