import type { ResolvedEndpoint } from '../endpoint';
import type { BudgetStage, EndpointPrice } from './costTypes';

/**
 * Shares of the daily budget at which each stage begins. Speculation goes first at 70% because it is the spend that buys
 * the least (hedges and requests for states the person may never reach); a typing pause at 85% cuts the request per
 * keystroke while suggestions still come; the cheapest backend only once the budget is spent, so that the person keeps
 * completions (slower, cheaper) instead of losing them. The gaps leave room to notice a message before the next stage.
 */
export const STAGE_THRESHOLDS: readonly { readonly share: number; readonly stage: BudgetStage }[] = [
  { share: 1, stage: 'cheapest' },
  { share: 0.85, stage: 'typing-pause' },
  { share: 0.7, stage: 'no-speculation' },
];

/** Stages in the order they are entered as the spend grows. */
export const BUDGET_STAGES: readonly BudgetStage[] = ['normal', 'no-speculation', 'typing-pause', 'cheapest'];

/** The stage for today's spend against the daily budget; a budget of 0 (or not a positive number) means no budget. */
export function budgetStage(spentTodayUsd: number, dailyBudgetUsd: number): BudgetStage {
  if (!(dailyBudgetUsd > 0) || !Number.isFinite(spentTodayUsd)) return 'normal';
  const share = spentTodayUsd / dailyBudgetUsd;
  return STAGE_THRESHOLDS.find((threshold) => share >= threshold.share)?.stage ?? 'normal';
}

/** True when `stage` is `least` or further along. */
export function stageAtLeast(stage: BudgetStage, least: BudgetStage): boolean {
  return BUDGET_STAGES.indexOf(stage) >= BUDGET_STAGES.indexOf(least);
}

/** True when hedged and speculative requests (and next edits requested ahead) may go out at `stage`. */
export function speculationAllowed(stage: BudgetStage): boolean {
  return !stageAtLeast(stage, 'no-speculation');
}

/** True when inline completions and next edits must wait for a pause in typing at `stage`. */
export function typingPauseRequired(stage: BudgetStage): boolean {
  return stageAtLeast(stage, 'typing-pause');
}

/** "$0.12" (cents), or "$0.0031" below a cent, so that a small figure never reads as $0.00. */
export function formatUsd(usd: number): string {
  if (usd !== 0 && Math.abs(usd) < 0.01) return `$${usd.toPrecision(2)}`;
  return `$${usd.toFixed(2)}`;
}

const SETTING = 'latencyCopilot.cost.dailyBudgetUsd';

/** What is held back at each stage, for the person (cumulative: a later stage holds back the earlier stages' too). */
const HELD_BACK: Readonly<Record<BudgetStage, string>> = {
  normal: 'nothing is held back',
  'no-speculation': 'hedged and speculative requests (and next edits requested ahead) are now held back',
  'typing-pause':
    'hedged and speculative requests are held back, and inline completions and next edits now wait for a pause in typing',
  cheapest:
    'hedged and speculative requests are held back, suggestions wait for a pause in typing, and inline completions and next edits now go only to the cheapest healthy backend',
};

/** The message shown when a stage is entered: the figures, what is held back now, and how to change the budget. */
export function describeStageEntered(stage: BudgetStage, spentTodayUsd: number, dailyBudgetUsd: number): string {
  const percent = dailyBudgetUsd > 0 ? Math.round((spentTodayUsd / dailyBudgetUsd) * 100) : 0;
  const figures = `Today's spend ${formatUsd(spentTodayUsd)} is ${percent}% of the ${formatUsd(dailyBudgetUsd)} daily budget`;
  if (stage === 'normal') return `${figures}: ${HELD_BACK.normal}.`;
  return `${figures}: ${HELD_BACK[stage]}. Raise ${SETTING} (0 for no budget) to lift this.`;
}

/** The local calendar date of `epochMs`, `YYYY-MM-DD`: the budget is a day of the person's own, not of UTC. */
export function localDate(epochMs: number): string {
  const date = new Date(epochMs);
  const pad = (value: number) => String(value).padStart(2, '0');
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
}

/** A change of stage, as `DailyBudget` reports it. */
export interface StageChange {
  readonly from: BudgetStage;
  readonly to: BudgetStage;
  readonly spentTodayUsd: number;
  readonly dailyBudgetUsd: number;
  /** True the first time today this stage is entered (other than `normal`): the person is told then, once. */
  readonly announce: boolean;
  /** One line for the log. */
  readonly logLine: string;
}

/** What `DailyBudget` needs around it. */
export interface DailyBudgetDeps {
  /** The setting, in US dollars; 0 means no budget. */
  readonly dailyBudgetUsd: () => number;
  /** What has been spent today, in US dollars (requests of unknown price count as nothing: they cannot be summed). */
  readonly spentTodayUsd: () => number;
  /** Today's date (YYYY-MM-DD, local time): the day the announcements are counted in. */
  readonly today: () => string;
  /** Told of every change of stage (the log gets a line each; the person a message when `announce`). */
  readonly onChange: (change: StageChange) => void;
}

/**
 * The daily budget as the features see it: the stage for today's spend, read when they are about to spend. A change of
 * stage is reported once as it is seen; each stage is announced to the person at most once a day, so a spend that
 * hovers around a threshold (or a budget edited back and forth) does not repeat the message.
 */
export class DailyBudget {
  private last: BudgetStage = 'normal';
  private day: string | null = null;
  private readonly announced = new Set<BudgetStage>();

  constructor(private readonly deps: DailyBudgetDeps) {}

  /** The stage now (reports a change of stage to `onChange`). */
  stage(): BudgetStage {
    const spent = this.deps.spentTodayUsd();
    const budget = this.deps.dailyBudgetUsd();
    const today = this.deps.today();
    if (today !== this.day) {
      this.day = today;
      this.announced.clear();
    }
    const stage = budgetStage(spent, budget);
    if (stage === this.last) return stage;
    const from = this.last;
    this.last = stage;
    const announce = stage !== 'normal' && !this.announced.has(stage);
    if (announce) this.announced.add(stage);
    this.deps.onChange({
      from,
      to: stage,
      spentTodayUsd: spent,
      dailyBudgetUsd: budget,
      announce,
      logLine: `Daily budget: ${from} -> ${stage} (spent ${formatUsd(spent)} of ${budget > 0 ? formatUsd(budget) : 'no budget'} today)`,
    });
    return stage;
  }

  /**
   * Before a repository task of `promptTokens` goes to `endpoint` (priced `price`): the question to ask the person when
   * today's spend has reached the budget or this request would take it past, else null.
   */
  questionBeforeSending(promptTokens: number, price: EndpointPrice): string | null {
    return repoBudgetQuestion(this.deps.spentTodayUsd(), this.deps.dailyBudgetUsd(), promptTokens, price);
  }
}

/** The prompt's cost at the backend's input price, in US dollars: 0 when free, null when the price is unknown. */
export function promptCostUsd(promptTokens: number, price: EndpointPrice): number | null {
  if (price.kind === 'free') return 0;
  if (price.kind === 'unknown') return null;
  return (promptTokens * price.prices.inputPerMillion) / 1_000_000;
}

/**
 * The question a repository task asks before sending (null: send without asking): when today's spend is at or past the
 * budget, or this request's prompt (at the backend's input price; the answer is small beside it) would take it past. An
 * unknown price asks only once the budget is reached, and says the cost is unknown rather than guessing.
 */
export function repoBudgetQuestion(
  spentTodayUsd: number,
  dailyBudgetUsd: number,
  promptTokens: number,
  price: EndpointPrice,
): string | null {
  if (!(dailyBudgetUsd > 0)) return null;
  const cost = promptCostUsd(promptTokens, price);
  const reached = spentTodayUsd >= dailyBudgetUsd;
  const wouldPass = cost !== null && spentTodayUsd + cost > dailyBudgetUsd;
  if (!reached && !wouldPass) return null;
  const costText =
    cost === null ? 'the cost of this question is unknown' : `this question costs about ${formatUsd(cost)}`;
  return `Today's spend ${formatUsd(spentTodayUsd)} of ${formatUsd(dailyBudgetUsd)} budget; ${costText}. Send anyway?`;
}

/** Sort key of a price: free first, then by output then input price per million tokens; unknown last. */
function priceRank(price: EndpointPrice): readonly [number, number, number] {
  if (price.kind === 'free') return [0, 0, 0];
  if (price.kind === 'unknown') return [2, 0, 0];
  return [1, price.prices.outputPerMillion, price.prices.inputPerMillion];
}

/**
 * The cheapest endpoint that is not resting: free ones first, then by output price (most of a completion's cost, and
 * what a fast tier charges most for), then input price; unknown prices last, since one may well be the dearest. Ties
 * keep the given (routing) order. Null when every endpoint rests or none is given.
 */
export function cheapestHealthy(
  endpoints: readonly ResolvedEndpoint[],
  priceOf: (endpoint: ResolvedEndpoint) => EndpointPrice,
  isResting: (endpointId: string) => boolean,
): ResolvedEndpoint | null {
  let best: { readonly endpoint: ResolvedEndpoint; readonly rank: readonly [number, number, number] } | null = null;
  for (const endpoint of endpoints) {
    if (isResting(endpoint.id)) continue;
    const rank = priceRank(priceOf(endpoint));
    if (best === null || compareRanks(rank, best.rank) < 0) best = { endpoint, rank };
  }
  return best?.endpoint ?? null;
}

function compareRanks(a: readonly [number, number, number], b: readonly [number, number, number]): number {
  return a[0] - b[0] || a[1] - b[1] || a[2] - b[2];
}

/**
 * What the daily budget allows inline completions and next edits right now: the stage, and at `cheapest` the one
 * backend they may use (null: any, e.g. when every backend rests and the router must choose).
 */
export interface BudgetLimits {
  readonly stage: BudgetStage;
  readonly endpointIds: readonly string[] | null;
}

/** No budget, or one not yet near: nothing is held back. */
export const NO_BUDGET_LIMITS: BudgetLimits = { stage: 'normal', endpointIds: null };

/** The limits at `stage`, choosing the cheapest healthy of `endpoints` only at `cheapest` (it costs a pass over them). */
export function budgetLimits(stage: BudgetStage, cheapest: () => ResolvedEndpoint | null): BudgetLimits {
  if (stage !== 'cheapest') return { stage, endpointIds: null };
  const endpoint = cheapest();
  return { stage, endpointIds: endpoint === null ? null : [endpoint.id] };
}
