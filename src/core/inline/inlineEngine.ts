import type { Clock } from '../clock';
import { BackendError } from '../errors';
import type { GenerationRun, GenerationService } from '../generation/generationService';
import type { TokenCounter } from '../stream/meter';
import type { RequestRecord } from '../requestStats';
import type { BudgetStage } from '../cost/costTypes';
import { NO_BUDGET_LIMITS, speculationAllowed, typingPauseRequired, type BudgetLimits } from '../cost/dailyBudget';
import { AdaptiveBudget } from './adaptiveBudget';
import type { InlineBudget } from './adaptiveBudget';
import { CompletionCache, stateKey } from './completionCache';
import { CompletionStream } from './completionStream';
import { selectSnippets } from './contextSnippets';
import type { SnippetCandidate } from './contextSnippets';
import type { FimPathProbe } from './fimPathProbe';
import { buildFimPlan } from './fimRequest';
import type { FimBudget, FimPrompt } from './fimRequest';
import { LineTokenMemo, prefixWindow, suffixWindow } from './promptWindow';
import { ServerParallelism } from './serverParallelism';
import { indentColumns, shownSuggestion } from './suggestionText';
import type { SuggestionContext } from './suggestionText';
import { adaptiveDelayMs, TypingPace } from './typingPace';

/** The document state at the cursor, as the adapter snapshots it. */
export interface InlineDocumentState {
  /** The document's identity (its URI). */
  readonly documentId: string;
  readonly languageId: string;
  /** Workspace-relative path, shown to the model. */
  readonly path: string;
  /** The workspace folder's name (repo-level FIM templates). */
  readonly repoName: string;
  /** Everything before the cursor (from a start that stays put while typing; see the adapter). */
  readonly prefix: string;
  /** Everything after the cursor. */
  readonly suffix: string;
  readonly tabSize: number;
  /** Snippets of open editors and recent edits; only called when a request is made (never for a cache hit). */
  readonly snippets: () => readonly SnippetCandidate[];
}

/** Where a shown suggestion came from. */
export type SuggestionSource = 'cache' | 'in-flight' | 'network';

/** What the provider shows. */
export interface InlineSuggestion {
  /** The ghost text, inserted at the cursor. */
  readonly text: string;
  readonly source: SuggestionSource;
  /** The provider call's duration, in ms. */
  readonly latencyMs: number;
  /** When the stream that produced it was started, on the engine's clock (ms). */
  readonly streamStartedAtMs: number;
  /** The stream's text up to the end of what was shown (what the server had to generate for it). */
  readonly generatedText: string;
  /** The id of the stream that produced it. */
  readonly streamId: number;
  /** The endpoint that generated it (null when the stream was never routed). */
  readonly endpointId: string | null;
  readonly endpointLabel: string | null;
}

/** How inline completions behave; read on every call so that settings apply at once. */
export interface InlineEngineOptions {
  /** `auto`: a block where the cursor starts one and the backend is fast; else the rest of the line. */
  readonly multiline: 'auto' | 'always' | 'never';
  readonly maxLines: number;
  readonly prefixTokens: number;
  readonly suffixTokens: number;
  readonly snippetTokens: number;
  /** Wait for a pause in typing before a network request (never before a cache hit). */
  readonly adaptiveDelay: boolean;
  readonly maxAdaptiveDelayMs: number;
  /** Never show a suggestion sooner than this after the provider was called, in ms (0: as soon as it is usable). */
  readonly minDisplayDelayMs: number;
  /** Request the state after accepting a shown suggestion when nothing beyond it is known. */
  readonly speculate: boolean;
  /**
   * How long a suggestion must stay on screen before that request goes out, in ms. A person who mistyped and deletes
   * the character (or types on past a wrong suggestion) within this time costs no request; accepting with Tab takes longer.
   */
  readonly speculationDelayMs: number;
}

/** The defaults (package.json holds the user-facing ones for the settings among them). */
export const DEFAULT_INLINE_OPTIONS: InlineEngineOptions = {
  multiline: 'auto',
  maxLines: 12,
  prefixTokens: 1536,
  suffixTokens: 384,
  snippetTokens: 512,
  adaptiveDelay: false,
  maxAdaptiveDelayMs: 300,
  minDisplayDelayMs: 0,
  speculate: true,
  speculationDelayMs: 150,
};

/**
 * The options as the daily budget leaves them: no speculative requests once speculation is held back, and a wait for a
 * pause in typing (the adaptive delay) once that stage is reached, whatever the settings say.
 */
export function optionsUnderBudget(options: InlineEngineOptions, stage: BudgetStage): InlineEngineOptions {
  const speculate = options.speculate && speculationAllowed(stage);
  const adaptiveDelay = options.adaptiveDelay || typingPauseRequired(stage);
  if (speculate === options.speculate && adaptiveDelay === options.adaptiveDelay) return options;
  return { ...options, speculate, adaptiveDelay };
}

/** What the engine needs from its surroundings. */
export interface InlineEngineDeps {
  readonly service: GenerationService;
  readonly clock: Clock;
  readonly countTokens: TokenCounter;
  readonly probe: FimPathProbe;
  readonly options: () => InlineEngineOptions;
  /** Waits `ms` (resolves early when `signal` aborts). */
  readonly sleep: (ms: number, signal: AbortSignal) => Promise<void>;
  /** A suggestion served from the cache, as a record for the stats hub (task `inline`, `fromCache: true`). */
  readonly onCacheServed?: (record: RequestRecord) => void;
  /** True when the endpoint's rate-limit headroom is low: no speculative requests then. */
  readonly rateLimitLow?: (endpointId: string) => boolean;
  /**
   * What the daily budget allows now (read on every call): its stage tightens the options (`optionsUnderBudget`), and
   * its endpoint ids, when set, are the only backends requests may go to. Default: no budget.
   */
  readonly budget?: () => BudgetLimits;
  readonly log?: (line: string) => void;
  /** Wall-clock time for records (display only). */
  readonly epochNow?: () => number;
  /** Runs `task` after `delayMs`, off the current call's path (default: a timer). */
  readonly defer?: (task: () => void, delayMs: number) => void;
}

/** Counters of what the engine did, for logs, tests and the benchmark. */
export interface InlineEngineCounters {
  requests: number;
  speculativeRequests: number;
  pathRetries: number;
  /** Streams aborted because they no longer fit what is typed, or lost a race. */
  abortedStreams: number;
  /** Requests that raced an older stream which had not yet produced text covering what was typed. */
  racedRequests: number;
  /** Streams the engine stopped reading once they held the whole suggestion for their own state (or their budget). */
  completedEarly: number;
}

/** Characters of the text after the cursor that must be unchanged for a cached completion to apply. */
const SUFFIX_KEY_CHARS = 256;
/** Lines after the cursor's line that the post-processing looks at. */
const FOLLOWING_LINES = 8;
/** Characters before the cursor that snippet ranking compares against. */
const NEAR_CURSOR_CHARS = 600;

/**
 * What a request is for, which bounds what it may generate:
 * - `rest-of-line`: the cursor's line goes on (`const x|`): the server stops at the line's end.
 * - `next-line`: single-line mode where the model will start a new line first (`foo();|`, `if (x) {|`): a newline stop
 *   would end it empty, so it is read until its first non-blank line is whole.
 * - `block`: multi-line mode, or the state after an accepted suggestion: read until the block is whole.
 */
type RequestShape = 'rest-of-line' | 'next-line' | 'block';

/** Most tokens a request of each shape asks for (the measured-speed budget may ask for fewer). */
const SHAPE_TOKEN_CAPS: Readonly<Record<RequestShape, number>> = { 'rest-of-line': 48, 'next-line': 96, block: 512 };

/**
 * Whole lines read past a shown new line or block before the stream is ended: typing on along a right suggestion (the
 * hit path) is then served from the cache instead of a request per line. A stream that stops fitting is aborted at the
 * next keystroke or text event anyway, so on the miss path these lines are never generated. Speculative requests get
 * none: nobody has typed towards them yet.
 */
const LOOKAHEAD_LINES = 4;

/** The server-side stop of a `rest-of-line` request. */
const LINE_STOP: readonly string[] = ['\n'];

function requestShape(context: SuggestionContext, speculative: boolean): RequestShape {
  if (context.multiline || speculative) return 'block';
  const typedOnLine = context.linePrefix.trim().length > 0;
  const lineEnded = context.lineSuffix.trim().length === 0 && /([;{},:]|=>)\s*$/.test(context.linePrefix);
  return typedOnLine && !lineEnded ? 'rest-of-line' : 'next-line';
}

type WaitResult =
  | { readonly kind: 'shown'; readonly text: string; readonly generatedText: string }
  | { readonly kind: 'empty' | 'diverged' | 'cancelled' | 'failed' };

interface ShownRecord {
  readonly stream: CompletionStream;
  readonly typedLength: number;
  readonly textLength: number;
}

interface SpeculationCandidate {
  readonly state: InlineDocumentState;
  readonly acceptedKey: string;
  readonly suffixKey: string;
  readonly stream: CompletionStream;
  /** Not before this time (engine clock, ms): the suggestion must have stayed on screen a little. */
  readonly notBeforeMs: number;
}

/**
 * Inline completions at the speed of the backend: the cache is checked before any waiting; a stream that still fits
 * what is typed is reused; a new request goes out at once (VS Code's own 50 ms is the only debounce by default) and
 * returns as soon as its first line (or block) is usable, while the rest of the stream fills the cache.
 */
export class InlineEngine {
  private readonly cache = new CompletionCache();
  private readonly budget = new AdaptiveBudget();
  private readonly pace = new TypingPace();
  private readonly parallelism = new ServerParallelism();
  private readonly memo: LineTokenMemo;
  private readonly running = new Set<CompletionStream>();
  private lastEndpointId: string | null = null;
  private lastShown: ShownRecord | null = null;
  private lastKey: string | null = null;
  private lastSuffixKey = '';
  private speculation: SpeculationCandidate | null = null;

  constructor(private readonly deps: InlineEngineDeps) {
    this.memo = new LineTokenMemo(deps.countTokens, 20_000, true);
  }

  /** What the engine has done so far. */
  readonly counters: InlineEngineCounters = {
    requests: 0,
    speculativeRequests: 0,
    pathRetries: 0,
    abortedStreams: 0,
    racedRequests: 0,
    completedEarly: 0,
  };

  /** Number of requests running (benchmarks and tests watch it). */
  get runningRequests(): number {
    return this.running.size;
  }

  /** The suggestion for `state`, or null (nothing to show, or cancelled through `signal`). */
  async provide(state: InlineDocumentState, signal: AbortSignal): Promise<InlineSuggestion | null> {
    const { clock } = this.deps;
    const calledAtMs = clock.now();
    this.pace.note(calledAtMs);
    const options = this.options();
    const key = stateKey(state.documentId, state.prefix);
    const suffixKey = state.suffix.slice(0, SUFFIX_KEY_CHARS);
    this.lastKey = key;
    this.lastSuffixKey = suffixKey;
    this.settleStreams(key, suffixKey, state.documentId);
    const context = this.suggestionContext(state, options);

    const hit = this.cache.lookup(key, suffixKey);
    if (hit !== null && !hit.ahead) {
      // Its text already covers what was typed: typing along a suggestion, or a stream that got there first. No request.
      const ready = shownSuggestion(hit.stream.text.slice(hit.typedLength), hit.stream.done, context);
      const instant = (ready.complete || hit.stream.done) && ready.text.length > 0;
      const result = await this.waitForSuggestion(hit.stream, key, context, signal);
      if (result.kind === 'shown')
        return this.finish(
          result,
          hit.stream,
          hit.typedLength,
          instant ? 'cache' : 'in-flight',
          calledAtMs,
          state,
          key,
          suffixKey,
          signal,
        );
      if (result.kind === 'cancelled') return null;
    }

    if (options.adaptiveDelay) {
      const ttft = this.lastEndpointId === null ? null : this.budget.ttftMs(this.lastEndpointId);
      const delay = adaptiveDelayMs(this.pace.keystrokeGapMs(), ttft, options.maxAdaptiveDelayMs);
      if (delay > 0) await this.deps.sleep(delay, signal);
      if (signal.aborted) return null;
    }

    // A stream that has not yet produced text covering what was typed may still turn out right, but waiting for it
    // costs up to a whole TTFT when it does not: race it against a new request instead. On a server that runs one
    // request at a time (a one-slot llama.cpp) the older stream would hold the slot the new one needs, so it goes.
    const older = hit !== null && hit.ahead && !hit.stream.done ? hit.stream : null;
    const rival = older !== null && this.mayRace(older) ? older : null;
    this.abortStreamsBehind(key, suffixKey, state.documentId, rival);
    const stream = this.startStream(state, key, suffixKey, options, context, false);
    if (rival !== null) this.counters.racedRequests += 1;
    const contenders = rival === null ? [stream] : [stream, rival];
    const won = await this.raceForSuggestion(contenders, key, context, signal);
    if (won === null) return null;
    return this.finish(
      won.result,
      won.stream,
      key.length - won.stream.key.length,
      won.stream === stream ? 'network' : 'in-flight',
      calledAtMs,
      state,
      key,
      suffixKey,
      signal,
    );
  }

  /**
   * Waits on several streams for the current state: the first to give a usable suggestion wins and the others are
   * aborted; one that diverges, fails or ends empty drops out (aborted if still running). Null when none gives one, or
   * the call was cancelled (the streams then keep running: the next keystroke decides their fate).
   */
  private async raceForSuggestion(
    contenders: readonly CompletionStream[],
    key: string,
    context: SuggestionContext,
    signal: AbortSignal,
  ): Promise<{
    readonly stream: CompletionStream;
    readonly result: { readonly text: string; readonly generatedText: string };
  } | null> {
    if (contenders.length === 1) {
      const only = contenders[0];
      if (only === undefined) return null;
      const result = await this.waitForSuggestion(only, key, context, signal);
      return result.kind === 'shown' ? { stream: only, result } : null;
    }
    // A call already cancelled would never hear of it through the listener below, and would wait for the streams.
    if (signal.aborted) return null;
    const stop = new AbortController();
    const onCancel = () => stop.abort();
    signal.addEventListener('abort', onCancel, { once: true });
    try {
      const waits = contenders.map(async (candidate) => ({
        candidate,
        result: await this.waitForSuggestion(candidate, key, context, stop.signal),
      }));
      let pending = waits;
      while (pending.length > 0) {
        const settled = await Promise.race(
          pending.map((wait, index) => wait.then((outcome) => ({ ...outcome, index }))),
        );
        pending = pending.filter((_, index) => index !== settled.index);
        if (settled.result.kind === 'cancelled') return null;
        if (settled.result.kind === 'shown') {
          const { text, generatedText } = settled.result;
          stop.abort();
          for (const other of contenders) if (other !== settled.candidate) this.abortStream(other);
          return { stream: settled.candidate, result: { text, generatedText } };
        }
        this.abortStream(settled.candidate);
      }
      return null;
    } finally {
      signal.removeEventListener('abort', onCancel);
    }
  }

  /** Stops every request (extension shutdown, completions turned off). */
  cancelAll(): void {
    for (const stream of this.running) stream.abort();
  }

  private suggestionContext(state: InlineDocumentState, options: InlineEngineOptions): SuggestionContext {
    const linePrefix = state.prefix.slice(state.prefix.lastIndexOf('\n') + 1);
    const lineEnd = state.suffix.indexOf('\n');
    const lineSuffix = lineEnd === -1 ? state.suffix : state.suffix.slice(0, lineEnd);
    const followingLines =
      lineEnd === -1 ? [] : state.suffix.slice(lineEnd + 1, lineEnd + 1 + 4096).split('\n', FOLLOWING_LINES);
    let multiline = options.multiline === 'always';
    if (options.multiline === 'auto') {
      const eager = this.budget.budgetFor(this.lastEndpointId).multilineEager;
      const startsBlock = linePrefix.trim().length === 0 || /[{([:]\s*$/.test(linePrefix);
      multiline = eager && lineSuffix.trim().length === 0 && startsBlock;
    }
    return { linePrefix, lineSuffix, followingLines, multiline, maxLines: options.maxLines, tabSize: state.tabSize };
  }

  /** Waits until `stream` gives a usable suggestion for `key`, diverges from it, ends, or the call is cancelled. */
  private async waitForSuggestion(
    start: CompletionStream,
    key: string,
    context: SuggestionContext,
    signal: AbortSignal,
  ): Promise<WaitResult> {
    let stream = start;
    let cancelled: Promise<void> | null = null;
    for (;;) {
      if (signal.aborted) return { kind: 'cancelled' };
      const typed = key.slice(stream.key.length);
      const text = stream.text;
      const fits = key.startsWith(stream.key) && (text.startsWith(typed) || (!stream.done && typed.startsWith(text)));
      if (!fits) return { kind: 'diverged' };
      if (text.length >= typed.length) {
        const shown = shownSuggestion(text.slice(typed.length), stream.done, context);
        if (shown.text.length > 0 && (shown.complete || stream.done)) {
          const generatedEnd = Math.min(text.length, typed.length + shown.consumed);
          return { kind: 'shown', text: shown.text, generatedText: text.slice(0, generatedEnd) };
        }
      }
      if (stream.done) {
        if (stream.successor !== null) {
          stream = stream.successor;
          continue;
        }
        return { kind: stream.error !== null && stream.text.length === 0 ? 'failed' : 'empty' };
      }
      cancelled ??= new Promise((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
      await Promise.race([stream.changed(), cancelled]);
    }
  }

  private async finish(
    result: { readonly text: string; readonly generatedText: string },
    stream: CompletionStream,
    typedLength: number,
    source: SuggestionSource,
    calledAtMs: number,
    state: InlineDocumentState,
    key: string,
    suffixKey: string,
    signal: AbortSignal,
  ): Promise<InlineSuggestion | null> {
    const { clock } = this.deps;
    const options = this.options();
    const waitMs = calledAtMs + options.minDisplayDelayMs - clock.now();
    if (waitMs > 0) await this.deps.sleep(waitMs, signal);
    if (signal.aborted) return null;
    const latencyMs = clock.now() - calledAtMs;
    if (source === 'cache') this.reportCacheServed(stream, typedLength, result.text.length, latencyMs);
    this.lastShown = { stream, typedLength, textLength: result.text.length };
    if (options.speculate) {
      const notBeforeMs = clock.now() + options.speculationDelayMs;
      this.speculation = {
        state: { ...state, prefix: state.prefix + result.text },
        acceptedKey: key + result.text,
        suffixKey,
        stream,
        notBeforeMs,
      };
      // Starting a request costs a few ms of synchronous work: never before the suggestion is handed over.
      this.defer(() => this.maybeSpeculate(), options.speculationDelayMs);
    }
    return {
      text: result.text,
      source,
      latencyMs,
      streamStartedAtMs: stream.startedAtMs,
      generatedText: result.generatedText,
      streamId: stream.id,
      endpointId: stream.servedBy?.id ?? null,
      endpointLabel: stream.servedBy?.label ?? null,
    };
  }

  /** Reports a cache-served suggestion, once per suggestion (typing through the one already shown is not a new one). */
  private reportCacheServed(
    stream: CompletionStream,
    typedLength: number,
    textLength: number,
    latencyMs: number,
  ): void {
    const previous = this.lastShown;
    const typedThrough =
      previous !== null &&
      previous.stream === stream &&
      typedLength > previous.typedLength &&
      typedLength < previous.typedLength + previous.textLength;
    if (typedThrough || this.deps.onCacheServed === undefined) return;
    const endpoint = stream.servedBy;
    this.deps.onCacheServed({
      startedAtEpochMs: (this.deps.epochNow ?? Date.now)(),
      task: 'inline',
      endpointId: endpoint?.id ?? 'cache',
      endpointLabel: endpoint?.label ?? 'cache',
      routeReason: 'cache',
      outcome: 'ok',
      errorReason: null,
      retryAfterMs: null,
      fromCache: true,
      promptTokensEstimate: null,
      stats: {
        ttftMs: latencyMs,
        decodeTokensPerSec: null,
        serverDecodeTokensPerSec: null,
        outputTokens: 0,
        tokensSource: 'estimate',
        promptTokens: null,
        cachedPromptTokens: null,
        prefillTokensPerSec: null,
        totalMs: latencyMs,
        acceptedPredictionTokens: null,
        rejectedPredictionTokens: null,
        effectiveTokensPerSec: null,
      },
    });
  }

  /**
   * Requests the state after the shown suggestion is accepted, when nothing beyond it is known and its stream has ended,
   * the person is still on the way to that state, and the backend has rate-limit headroom.
   */
  private maybeSpeculate(): void {
    const candidate = this.speculation;
    if (candidate === null || !candidate.stream.done) return;
    const waitMs = candidate.notBeforeMs - this.deps.clock.now();
    if (waitMs > 0) {
      this.defer(() => this.maybeSpeculate(), waitMs);
      return;
    }
    this.speculation = null;
    const current = this.lastKey;
    if (current === null || !candidate.acceptedKey.startsWith(current)) return;
    if (this.cache.lookup(candidate.acceptedKey, candidate.suffixKey) !== null) return;
    const endpointId = candidate.stream.servedBy?.id ?? null;
    if (endpointId !== null && this.deps.rateLimitLow?.(endpointId) === true) return;
    if (candidate.stream.error !== null) return;
    // The budget may have reached its first stage since the suggestion was shown.
    const options = this.options();
    if (!options.speculate) return;
    this.startStream(
      candidate.state,
      candidate.acceptedKey,
      candidate.suffixKey,
      options,
      this.suggestionContext(candidate.state, options),
      true,
    );
  }

  /**
   * Streams of this document that no longer fit what is typed are aborted at once, on every transport: the spare
   * connections make an abort free over HTTP/1.1 too, and a stale stream left to finish would hold a one-slot server
   * and be billed by a hosted one. They stay in the cache: a typo fixed by backspace comes back to a state they serve.
   */
  private settleStreams(key: string, suffixKey: string, documentId: string): void {
    const documentPrefix = `${documentId}\u0000`;
    for (const stream of this.running) {
      if (stream.key.startsWith(documentPrefix) && !this.cache.isUseful(stream, key, suffixKey))
        this.abortStream(stream);
    }
  }

  /**
   * Before a new request for `key`: streams of this document that were started for an earlier state and have not
   * produced text covering what was typed since are aborted, except `keep` (the one raced against the new request).
   * Streams for a state further on (a speculative request the person is typing towards) are left alone.
   */
  private abortStreamsBehind(key: string, suffixKey: string, documentId: string, keep: CompletionStream | null): void {
    const documentPrefix = `${documentId}\u0000`;
    for (const stream of this.running) {
      if (stream === keep || !stream.key.startsWith(documentPrefix) || stream.key.length >= key.length) continue;
      if (!key.startsWith(stream.key) || stream.suffixKey !== suffixKey) continue;
      if (stream.text.length < key.length - stream.key.length) this.abortStream(stream);
    }
  }

  /** True when an older stream may race a new request: the server is not known to run one request at a time. */
  private mayRace(stream: CompletionStream): boolean {
    // A stream the router has not picked an endpoint for yet (no event read) goes where the last one went.
    const endpointId = stream.servedBy?.id ?? this.lastEndpointId;
    return endpointId === null || !this.parallelism.isSerial(endpointId);
  }

  /** A stream got more text: abort it at once when it no longer fits what is typed now. */
  private checkStillUseful(stream: CompletionStream): void {
    const key = this.lastKey;
    if (key === null || stream.done || stream.aborted) return;
    const separator = stream.key.indexOf('\u0000');
    if (separator === -1 || !key.startsWith(stream.key.slice(0, separator + 1))) return;
    if (!this.cache.isUseful(stream, key, this.lastSuffixKey)) this.abortStream(stream);
  }

  /** The settings as the daily budget leaves them now. */
  private options(): InlineEngineOptions {
    return optionsUnderBudget(this.deps.options(), this.limits().stage);
  }

  private limits(): BudgetLimits {
    return this.deps.budget?.() ?? NO_BUDGET_LIMITS;
  }

  private defer(task: () => void, delayMs: number): void {
    (this.deps.defer ?? ((run: () => void, ms: number) => setTimeout(run, ms)))(task, delayMs);
  }

  private abortStream(stream: CompletionStream): void {
    if (stream.done || stream.aborted) return;
    stream.abort();
    this.counters.abortedStreams += 1;
  }

  /** Starts a request for `state`; `context` is where its suggestion goes (the caller has it already for the same state). */
  private startStream(
    state: InlineDocumentState,
    key: string,
    suffixKey: string,
    options: InlineEngineOptions,
    context: SuggestionContext,
    speculative: boolean,
  ): CompletionStream {
    const { clock } = this.deps;
    const prefix = prefixWindow(state.prefix, options.prefixTokens, this.memo);
    const suffix = suffixWindow(state.suffix, options.suffixTokens, this.memo);
    const near = state.prefix.slice(-NEAR_CURSOR_CHARS);
    const snippets =
      options.snippetTokens > 0 ? selectSnippets(state.snippets(), near, options.snippetTokens, this.memo) : [];
    const linePrefix = state.prefix.slice(state.prefix.lastIndexOf('\n') + 1);
    const prompt: FimPrompt = {
      prefix: prefix.text,
      suffix: suffix.text,
      path: state.path,
      repoName: state.repoName,
      languageId: state.languageId,
      snippets,
      indentColumns: indentColumns(linePrefix, state.tabSize),
    };
    // What this request will show decides what it may generate: the rest of a line stops at the line's end on the
    // server; anything else is read until its line or block is whole (see `enough`) within a token budget.
    const shape = requestShape(context, speculative);
    const shaped = (budget: InlineBudget): FimBudget => ({
      maxTokens: Math.min(budget.maxTokens, SHAPE_TOKEN_CAPS[shape]),
      timeLimitMs: budget.timeLimitMs,
    });
    const expected = shaped(this.budget.budgetFor(this.lastEndpointId));
    const stream = new CompletionStream(key, suffixKey, clock.now(), speculative, expected.maxTokens);
    const lookahead = shape === 'rest-of-line' || speculative ? 0 : LOOKAHEAD_LINES;
    stream.enough = (text) => {
      const shown = shownSuggestion(text, false, context);
      if (!shown.complete) return false;
      let lines = 0;
      for (let at = text.indexOf('\n', shown.consumed); at !== -1 && lines < lookahead; at = text.indexOf('\n', at + 1))
        lines += 1;
      return lines >= lookahead;
    };
    // Streams just aborted are still in `running` until their reader finishes, but no longer hold the server.
    let overlapped = false;
    for (const other of this.running) if (!other.aborted && !other.done) overlapped = true;
    this.cache.add(stream);
    this.running.add(stream);
    const allowed = this.limits().endpointIds;
    const run = this.deps.service.start({
      task: 'inline',
      signal: stream.signal,
      ...(allowed === null ? {} : { endpointIds: allowed }),
      promptTokens: prefix.tokens + suffix.tokens,
      maxOutputTokens: expected.maxTokens,
      build: (endpoint) => {
        const path = this.deps.probe.pathFor(endpoint);
        stream.path = path;
        stream.chatAnswer = path === 'chat';
        const budget = shaped(this.budget.budgetFor(endpoint.id));
        stream.maxTokens = budget.maxTokens;
        const plan =
          path === null
            ? null
            : buildFimPlan(endpoint, path, prompt, budget, shape === 'rest-of-line' ? LINE_STOP : []);
        if (plan === null)
          throw new BackendError(
            'not-configured',
            `${endpoint.label} offers no fill-in-the-middle path for inline completions.`,
          );
        return plan;
      },
    });
    stream.servedBy = run.route()?.endpoint ?? null;
    this.counters.requests += 1;
    if (speculative) this.counters.speculativeRequests += 1;
    // Lines sized by estimate for this request are counted exactly once it is on its way.
    if (this.memo.queuedLines > 0) this.defer(() => this.memo.countQueued(), 0);
    void this.follow(stream, run, state, options, overlapped);
    return stream;
  }

  /** Reads a stream to its end, then learns from it: speed, FIM path, and a retry on the next path when one was refused. */
  private async follow(
    stream: CompletionStream,
    run: GenerationRun,
    state: InlineDocumentState,
    options: InlineEngineOptions,
    overlapped: boolean,
  ): Promise<void> {
    const record = await stream.consume(
      run,
      () => this.learnPath(stream, state, options),
      () => this.checkStillUseful(stream),
    );
    this.running.delete(stream);
    if (stream.completedEarly) this.counters.completedEarly += 1;
    const endpoint = stream.servedBy;
    if (endpoint !== null) this.lastEndpointId = endpoint.id;
    if (record !== null && record.outcome === 'ok' && endpoint !== null) this.budget.observe(endpoint.id, record.stats);
    if (record !== null && endpoint !== null) this.parallelism.observe(endpoint.id, record.stats.ttftMs, overlapped);
    const error = stream.error;
    if (error !== null && error.reason !== 'aborted')
      this.deps.log?.(`Inline completion request failed (${error.reason}): ${error.message}`);
    if (stream.text.length === 0) this.cache.remove(stream);
    this.maybeSpeculate();
  }

  /** Confirms the FIM path that answered, or moves to the next one when it was refused and retries on it at once. */
  private learnPath(stream: CompletionStream, state: InlineDocumentState, options: InlineEngineOptions): void {
    const endpoint = stream.servedBy;
    const error = stream.error;
    if (endpoint === null || stream.path === null) return;
    if (error === null || stream.text.length > 0) {
      this.deps.probe.confirm(endpoint, stream.path);
      return;
    }
    if (error.reason !== 'http') return;
    const next = this.deps.probe.reportFailure(endpoint, stream.path, error.status);
    if (next === null || stream.speculative || stream.aborted) return;
    this.cache.remove(stream);
    this.counters.pathRetries += 1;
    stream.successor = this.startStream(
      state,
      stream.key,
      stream.suffixKey,
      options,
      this.suggestionContext(state, options),
      false,
    );
  }
}
