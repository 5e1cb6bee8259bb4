import type { Clock } from '../clock';
import { NO_BUDGET_LIMITS, speculationAllowed, typingPauseRequired, type BudgetLimits } from '../cost/dailyBudget';
import type { ResolvedEndpoint } from '../endpoint';
import { isBackendError } from '../errors';
import type { GenerationService } from '../generation/generationService';
import type { ScheduledTask, Scheduler } from '../scheduler';
import type { TokenCounter } from '../stream/meter';
import { readBooleanSetting, readNumberSetting, readStringSetting, type SettingsSource } from '../config/settings';
import { editableRegion } from './editableRegion';
import {
  chainDepth,
  describeNextEditStatus,
  judgeNextEditBudget,
  type BudgetVerdict,
  type MeasuredSpeed,
} from './nextEditBudget';
import {
  buildNextEditPrompt,
  chooseNextEditFormat,
  createAnswerParser,
  type NextEditAnswerParser,
} from './nextEditFormats';
import type { StreamEvent } from '../streamEvents';
import {
  NEXT_EDIT_FORMAT_IDS,
  type EditableRegion,
  type NextEditDocumentSnapshot,
  type NextEditFormatId,
  type NextEditListener,
  type NextEditOutcome,
  type NextEditPredictionInfo,
  type NextEditPromptInput,
  type NextEditStatus,
  type NextEditTrigger,
  type PredictedHunk,
  type RewriteRejection,
} from './nextEditTypes';
import { StreamingRegionDiff } from './streamingRegionDiff';

/** The next-edit settings, read on every prediction (so a change applies to the next edit). */
export interface NextEditOptions {
  readonly enabled: boolean;
  /** Lines above and below the cursor the model may rewrite. */
  readonly regionLines: number;
  /** Recent edits shown to the model. */
  readonly historyEdits: number;
  /** The latency budget, ms: p95 TTFT + the region at the decode speed must fit. */
  readonly budgetMs: number;
  readonly format: 'auto' | NextEditFormatId;
}

/** The `latencyCopilot.nextEdit.*` settings. */
export function readNextEditOptions(source: SettingsSource): NextEditOptions {
  const format = readStringSetting(source, 'nextEdit.format');
  return {
    enabled: readBooleanSetting(source, 'nextEdit.enabled'),
    regionLines: readNumberSetting(source, 'nextEdit.regionLines'),
    historyEdits: readNumberSetting(source, 'nextEdit.historyEdits'),
    budgetMs: readNumberSetting(source, 'nextEdit.budgetMs'),
    format: NEXT_EDIT_FORMAT_IDS.find((id) => id === format) ?? 'auto',
  };
}

/** What the engine needs from the rest of the extension. */
export interface NextEditEngineDeps {
  readonly service: GenerationService;
  readonly clock: Clock;
  readonly scheduler: Scheduler;
  /** Token estimate for the router's fit check. */
  readonly countTokens: TokenCounter;
  readonly options: () => NextEditOptions;
  /** Every configured endpoint, burst first, in routing order. */
  readonly endpoints: () => readonly ResolvedEndpoint[];
  /** What the router's health book has measured of an endpoint. */
  readonly speedOf: (endpointId: string) => MeasuredSpeed | null;
  /** One line per discarded rewrite or failure (never the prompt or the answer's text). */
  readonly log: (line: string) => void;
  /** Extra headers for every request (the end-to-end suite steers the simulator with them). */
  readonly extraHeaders?: () => Readonly<Record<string, string>> | undefined;
  /**
   * What the daily budget allows now: no predictions made ahead once speculation is held back, a longer typing pause
   * from `typing-pause` on, and only its endpoint ids (when set) among those within the latency budget. Default: no budget.
   */
  readonly budget?: () => BudgetLimits;
}

/**
 * The pause after a keystroke before a prediction is asked for, ms. Short on purpose: a burst backend answers a region in
 * a few hundred ms, and a newer keystroke aborts the request anyway. It doubles with each suggestion the person
 * dismisses in a row (up to `MAX_TYPING_PAUSE_MS`), as Copilot's next edit backs off, and resets when one is applied.
 */
export const BASE_TYPING_PAUSE_MS = 50;
const MAX_TYPING_PAUSE_MS = 1_600;
/**
 * The typing pause at least, ms, once the daily budget asks for one: long enough that a prediction goes out when the
 * person stops, not between keystrokes (each aborted one is billed its prompt), short enough to still feel prompt.
 */
export const BUDGET_TYPING_PAUSE_MS = 400;

/** Answer budget: the rewritten region plus a margin for the format's markers; the streaming diff stops a runaway early. */
function answerBudget(regionTokens: number): number {
  return Math.ceil(regionTokens * 1.5) + 64;
}

/** A cheap token estimate of the region (it sizes the budget judgement on every edit, so it must not tokenise). */
function regionTokensOf(region: EditableRegion): number {
  return Math.max(1, Math.ceil(region.text.length / 4));
}

const REJECTION_WORDS: Readonly<Record<RewriteRejection, string>> = {
  unparsable: 'was not in the format asked for',
  'outside-region': 'changed text outside the editable region',
  'drops-region': 'dropped the whole region',
  'repeats-region': 'repeated the region',
  incomplete: 'ended before the region did',
};

/** A prediction the person has not asked for yet: made for the text as it will be once every shown hunk is applied. */
interface AheadResult {
  readonly region: EditableRegion;
  readonly hunks: readonly PredictedHunk[];
  readonly endpoint: { readonly id: string; readonly label: string } | null;
  /** Chained predictions still allowed after this one. */
  readonly depthLeft: number;
}

/** One prediction streaming: shown to the listeners, or made ahead (kept, and shown only if promoted by a Tab). */
interface PredictionRun {
  readonly controller: AbortController;
  /** The document text the prediction is for. */
  readonly text: string;
  shown: boolean;
  info: NextEditPredictionInfo;
  /** Hunks confirmed so far, for a run promoted after some arrived. */
  readonly hunks: PredictedHunk[];
}

/** Applies `hunks` (snapshot offsets, in order, not overlapping) to `text`. */
export function applyHunks(text: string, hunks: readonly PredictedHunk[]): string {
  let out = text;
  for (let index = hunks.length - 1; index >= 0; index--) {
    const hunk = hunks[index];
    if (hunk === undefined) continue;
    out = out.slice(0, hunk.start) + hunk.newText + out.slice(hunk.end);
  }
  return out;
}

/** Where the cursor will be once `hunks` are applied: just after the last one's new text. */
function cursorAfter(hunks: readonly PredictedHunk[]): number {
  let shift = 0;
  let cursor = 0;
  for (const hunk of hunks) {
    cursor = hunk.start + shift + hunk.newText.length;
    shift += hunk.newText.length - (hunk.end - hunk.start);
  }
  return cursor;
}

/**
 * Next-edit predictions: after an edit, asks a backend within the latency budget to rewrite the region around the
 * cursor, streams the answer through the format's parser and the streaming diff, and tells the listeners each hunk as
 * soon as the stream has passed it. A newer edit aborts the prediction in flight. When a prediction completes, the
 * prediction for the text after its hunks are applied may be requested ahead (as many as the measured speed fits in the
 * budget), so that the Tab that applies the last hunk finds the next prediction ready.
 */
export class NextEditEngine {
  private readonly listeners = new Set<NextEditListener>();
  private pending: ScheduledTask | null = null;
  private readonly running = new Set<PredictionRun>();
  /** Predictions made ahead, by the text they were made for (at most `MAX_CHAIN_DEPTH`). */
  private readonly ahead = new Map<string, AheadResult>();
  private nextId = 1;
  private dismissedInARow = 0;
  private lastVerdict: BudgetVerdict | null = null;
  /** The endpoint ids the daily budget allowed at the latest judgement (null: any). */
  private lastAllowed: readonly string[] | null = null;

  constructor(private readonly deps: NextEditEngineDeps) {}

  /** Tells `listener` of every shown prediction's hunks and end, until the returned function is called. */
  subscribe(listener: NextEditListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * The person edited (or applied the last shown hunk, or asked): aborts what is in flight and asks for a prediction
   * after the trigger's pause. `source` is read when the pause ends, so a burst of keystrokes reads the document once.
   * After an apply, predictions made ahead keep running: one of them may be for exactly the text the Tab produced.
   */
  edited(source: () => NextEditDocumentSnapshot | null, trigger: NextEditTrigger): void {
    const editedAtMs = this.deps.clock.now();
    this.pending?.cancel();
    this.pending = null;
    if (trigger === 'applied') this.abortWhere((run) => run.shown);
    else this.forgetAhead();
    if (!this.deps.options().enabled) return;
    const delayMs = trigger === 'typing' ? this.typingPauseMs() : 0;
    const start = () => {
      this.pending = null;
      const snapshot = source();
      if (snapshot !== null) this.predict(snapshot, editedAtMs);
    };
    if (delayMs === 0) start();
    else this.pending = this.deps.scheduler.schedule(delayMs, start);
  }

  /** The person applied a hunk: the typing pause returns to its base. */
  noteApplied(): void {
    this.dismissedInARow = 0;
  }

  /** The person dismissed a hunk: the typing pause doubles (up to a limit), so a person who does not want them gets fewer. */
  noteDismissed(): void {
    this.dismissedInARow = Math.min(this.dismissedInARow + 1, 10);
  }

  /** The pause after a keystroke before a prediction is requested, ms. */
  typingPauseMs(): number {
    const pause = Math.min(MAX_TYPING_PAUSE_MS, BASE_TYPING_PAUSE_MS * 2 ** this.dismissedInARow);
    return typingPauseRequired(this.limits().stage) ? Math.max(BUDGET_TYPING_PAUSE_MS, pause) : pause;
  }

  /** Stops everything in flight and forgets predictions made ahead (the feature was switched off, the editor closed). */
  cancel(): void {
    this.pending?.cancel();
    this.pending = null;
    this.forgetAhead();
  }

  /** Whether next edit runs now, on which backend, and why (from the latest budget judgement). */
  status(): NextEditStatus {
    const status = describeNextEditStatus(this.deps.options().enabled, this.deps.endpoints(), this.lastVerdict);
    const allowed = this.lastAllowed;
    const verdict = this.lastVerdict;
    if (allowed === null || verdict === null || status.state === 'off' || status.state === 'no-backend') return status;
    if (verdict.usableIds.length > 0)
      return { ...status, detail: `${status.detail} Daily budget reached: the cheapest backend only.` };
    const cheapest = this.deps.endpoints().find((endpoint) => allowed.includes(endpoint.id));
    return {
      state: 'over-budget',
      endpointLabel: null,
      detail:
        `Next edit: paused, the daily budget is spent and allows only the cheapest backend, ${cheapest?.label ?? allowed.join(', ')}, ` +
        `which does not fit the ${Math.round(verdict.budgetMs)} ms latency budget. Raise latencyCopilot.cost.dailyBudgetUsd or latencyCopilot.nextEdit.budgetMs.`,
    };
  }

  /** Requests still streaming (shown and ahead), for tests and the benchmark. */
  inFlight(): number {
    return this.running.size;
  }

  private limits(): BudgetLimits {
    return this.deps.budget?.() ?? NO_BUDGET_LIMITS;
  }

  /**
   * The latency budget's verdict, narrowed to the endpoints the daily budget allows (the intersection: the cheapest
   * backend is used only when it also fits the latency budget). `remember`: the status reads this judgement.
   */
  private judge(region: EditableRegion, budgetMs: number, remember: boolean): BudgetVerdict {
    const verdict = judgeNextEditBudget(this.deps.endpoints(), this.deps.speedOf, regionTokensOf(region), budgetMs);
    const allowed = this.limits().endpointIds;
    if (remember) this.lastAllowed = allowed;
    if (allowed === null) return verdict;
    return {
      ...verdict,
      judgements: verdict.judgements.filter((judgement) => allowed.includes(judgement.endpoint.id)),
      usableIds: verdict.usableIds.filter((id) => allowed.includes(id)),
    };
  }

  private abortWhere(matches: (run: PredictionRun) => boolean): void {
    for (const run of [...this.running]) {
      if (!matches(run)) continue;
      this.running.delete(run);
      run.controller.abort();
    }
  }

  private forgetAhead(): void {
    this.abortWhere(() => true);
    this.ahead.clear();
  }

  private predict(snapshot: NextEditDocumentSnapshot, editedAtMs: number): void {
    // Made ahead for exactly this text: shown at once.
    const ready = this.ahead.get(snapshot.text);
    if (ready !== undefined) {
      this.ahead.delete(snapshot.text);
      this.replay(snapshot, editedAtMs, ready);
      return;
    }
    // Being made ahead for exactly this text: shown from now on, with what has arrived so far.
    const streaming = [...this.running].find((run) => !run.shown && run.text === snapshot.text);
    if (streaming !== undefined) {
      this.promote(streaming, snapshot, editedAtMs);
      return;
    }
    this.forgetAhead();
    const options = this.deps.options();
    const region = editableRegion(snapshot.text, snapshot.cursorOffset, options.regionLines);
    const verdict = this.judge(region, options.budgetMs, true);
    this.lastVerdict = verdict;
    if (verdict.usableIds.length === 0) return;
    void this.stream(snapshot, region, editedAtMs, verdict, null);
  }

  /** A prediction made ahead for exactly this text: shown at once, as if it had streamed. */
  private replay(snapshot: NextEditDocumentSnapshot, editedAtMs: number, ready: AheadResult): void {
    const info = this.infoFor(snapshot, ready.region, editedAtMs, () => ready.endpoint);
    if (ready.hunks.length > 0) this.emitHunks(info, ready.hunks);
    this.emitEnded(info, { kind: 'complete', hunks: ready.hunks });
    this.chainAhead(snapshot, ready.hunks, ready.depthLeft);
  }

  /** A prediction made ahead becomes the shown one: the listeners get what arrived so far, then the rest as it comes. */
  private promote(run: PredictionRun, snapshot: NextEditDocumentSnapshot, editedAtMs: number): void {
    run.shown = true;
    run.info = { ...run.info, documentKey: snapshot.documentKey, version: snapshot.version, editedAtMs };
    if (run.hunks.length > 0) this.emitHunks(run.info, run.hunks);
  }

  private infoFor(
    snapshot: NextEditDocumentSnapshot,
    region: EditableRegion,
    editedAtMs: number,
    endpoint: () => { readonly id: string; readonly label: string } | null,
  ): NextEditPredictionInfo {
    return {
      id: this.nextId++,
      documentKey: snapshot.documentKey,
      version: snapshot.version,
      text: snapshot.text,
      region,
      editedAtMs,
      endpoint,
    };
  }

  /**
   * Streams one prediction. `aheadDepth` is null for a prediction the person sees, or the chain depth left for one made
   * ahead (its result is kept for the Tab that produces its text).
   */
  private async stream(
    snapshot: NextEditDocumentSnapshot,
    region: EditableRegion,
    editedAtMs: number,
    verdict: BudgetVerdict,
    aheadDepth: number | null,
  ): Promise<void> {
    const { deps } = this;
    const options = deps.options();
    const controller = new AbortController();
    const input: NextEditPromptInput = {
      path: snapshot.path,
      languageId: snapshot.languageId,
      text: snapshot.text,
      region,
      history: options.historyEdits === 0 ? [] : snapshot.history().slice(-options.historyEdits),
      snippets: snapshot.snippets(),
    };
    let format: NextEditFormatId = 'generic';
    const maxTokens = answerBudget(verdict.regionTokens);
    const generation = deps.service.start({
      task: 'next-edit',
      signal: controller.signal,
      // The prompt holds the region, the code around it and the history; counting the text near the region is close
      // enough for the fit check and costs no full-file tokenisation per edit.
      promptTokens: deps.countTokens(snapshot.text.slice(Math.max(0, region.start - 4_000), region.end + 4_000)),
      maxOutputTokens: maxTokens,
      endpointIds: verdict.usableIds,
      build: (endpoint) => {
        format = chooseNextEditFormat(endpoint.target.model, options.format);
        const prompt = buildNextEditPrompt(format, input);
        const extraHeaders = deps.extraHeaders?.();
        return {
          target: endpoint.target,
          request: {
            ...(prompt.messages === undefined ? {} : { messages: prompt.messages }),
            ...(prompt.prompt === undefined ? {} : { prompt: prompt.prompt }),
            stop: prompt.stop,
            maxTokens,
            temperature: 0,
            // Most of the region comes back unchanged: where the API takes the expected output, the server can accept
            // it in bulk instead of decoding it token by token.
            ...(endpoint.predictedOutputs ? { prediction: prompt.expectedAnswer } : {}),
            ...(extraHeaders === undefined ? {} : { extraHeaders }),
          },
        };
      },
    });
    const routeOf = () => {
      const route = generation.route();
      return route === null ? null : { id: route.endpoint.id, label: route.endpoint.label };
    };
    const run: PredictionRun = {
      controller,
      text: snapshot.text,
      shown: aheadDepth === null,
      info: this.infoFor(snapshot, region, editedAtMs, routeOf),
      hunks: [],
    };
    this.running.add(run);
    const outcome = await this.consume(
      generation.events,
      region,
      input,
      () => format,
      controller,
      (hunks) => {
        run.hunks.push(...hunks);
        if (run.shown) this.emitHunks(run.info, hunks);
      },
    );
    const stillOurs = this.running.delete(run);
    const label = routeOf()?.label ?? 'the backend';
    if (outcome.kind === 'discarded')
      deps.log(`Next edit from ${label}: discarded, the answer ${REJECTION_WORDS[outcome.why]}.`);
    if (outcome.kind === 'failed') deps.log(`Next edit from ${label} failed: ${outcome.message}`);
    if (run.shown) this.emitEnded(run.info, outcome);
    if (!stillOurs || outcome.kind !== 'complete') return;
    const estimateMs =
      verdict.judgements.find((judgement) => judgement.endpoint.id === routeOf()?.id)?.estimateMs ?? null;
    const depthLeft = run.shown ? chainDepth(estimateMs, verdict.budgetMs) : (aheadDepth ?? 0);
    // Kept even when it predicts no change: the Tab that produces this text then shows "nothing more" without a request.
    if (!run.shown) this.ahead.set(snapshot.text, { region, hunks: outcome.hunks, endpoint: routeOf(), depthLeft });
    this.chainAhead(snapshot, outcome.hunks, depthLeft);
  }

  /** Requests the prediction for the text after `hunks` are applied, when the chain depth allows one more. */
  private chainAhead(snapshot: NextEditDocumentSnapshot, hunks: readonly PredictedHunk[], depthLeft: number): void {
    // A prediction made ahead is speculation: a dismissal wastes it, so the daily budget holds it back first.
    if (depthLeft <= 0 || hunks.length === 0 || !speculationAllowed(this.limits().stage)) return;
    const nextText = applyHunks(snapshot.text, hunks);
    if (this.ahead.has(nextText) || [...this.running].some((run) => run.text === nextText)) return;
    const options = this.deps.options();
    const cursorOffset = cursorAfter(hunks);
    const nextSnapshot: NextEditDocumentSnapshot = { ...snapshot, text: nextText, cursorOffset };
    const region = editableRegion(nextText, cursorOffset, options.regionLines);
    const verdict = this.judge(region, options.budgetMs, false);
    if (verdict.usableIds.length === 0) return;
    void this.stream(nextSnapshot, region, this.deps.clock.now(), verdict, depthLeft - 1);
  }

  /** Reads the answer: format parser -> streaming diff -> hunks as they are confirmed; the outcome when it ends. */
  private async consume(
    events: AsyncIterable<StreamEvent>,
    region: EditableRegion,
    input: NextEditPromptInput,
    format: () => NextEditFormatId,
    controller: AbortController,
    onHunks: (hunks: readonly PredictedHunk[]) => void,
  ): Promise<NextEditOutcome> {
    let parser: NextEditAnswerParser | null = null;
    const diff = new StreamingRegionDiff(region);
    try {
      for await (const event of events) {
        if (event.kind !== 'text') continue;
        // The format is known once the router has built the request (failover happens only before the first token).
        parser ??= createAnswerParser(format(), input);
        const hunks = diff.push(parser.push(event.text));
        if (hunks.length > 0) onHunks(hunks);
        // A runaway answer: stop paying for it (leaving the loop ends the request upstream).
        if (diff.overrun) return { kind: 'discarded', why: 'repeats-region' };
      }
    } catch (error) {
      if (controller.signal.aborted) return { kind: 'aborted' };
      if (isBackendError(error)) {
        if (error.reason === 'aborted') return { kind: 'aborted' };
        return { kind: 'failed', message: error.message };
      }
      throw error;
    }
    if (controller.signal.aborted) return { kind: 'aborted' };
    parser ??= createAnswerParser(format(), input);
    const parsed = parser.end(true);
    if (!parsed.ok) return { kind: 'discarded', why: parsed.why };
    const last = diff.push(parsed.rest);
    if (last.length > 0) onHunks(last);
    const ended = diff.end();
    if (!ended.ok) return { kind: 'discarded', why: ended.why };
    return { kind: 'complete', hunks: ended.hunks };
  }

  private emitHunks(info: NextEditPredictionInfo, hunks: readonly PredictedHunk[]): void {
    for (const listener of this.listeners) listener.hunks(info, hunks);
  }

  private emitEnded(info: NextEditPredictionInfo, outcome: NextEditOutcome): void {
    for (const listener of this.listeners) listener.ended(info, outcome);
  }
}
