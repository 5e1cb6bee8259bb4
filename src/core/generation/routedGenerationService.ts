import type { Clock } from '../clock';
import type { BackendRole, ResolvedEndpoint } from '../endpoint';
import { BackendError, isBackendError } from '../errors';
import { generate } from '../stream/generate';
import type {
  GenerationRun,
  GenerationSpec,
  LiveRequestView,
  PlanningGenerationService,
  RouteInfo,
  StatsSink,
} from './generationService';
import { SpeedMeter, type TokenCounter } from '../stream/meter';
import { redactionTotal, redactRequest, type PromptRedactionCounts } from './promptRedaction';
import type { RequestOutcome, RequestRecord, RequestTask } from '../requestStats';
import { EndpointHealthBook } from '../routing/endpointHealth';
import { HedgeBudget } from '../routing/hedgeBudget';
import type { RouteReason } from '../routeReason';
import { failoverCause } from '../routing/failover';
import { hedgePartner, planRoute, type RoutePlan, type RouteQuery, type SkippedEndpoint } from '../routing/router';
import { systemScheduler, type ScheduledTask, type Scheduler } from '../scheduler';
import { DEFAULT_DEADLINE_MS } from '../stream/streamLimits';
import type { StreamEvent } from '../streamEvents';
import type { Transport } from '../stream/transport';

/**
 * How long to wait for the first token before giving up on an endpoint and failing over, per task, in ms. Only applied
 * when another endpoint is left to try: the last candidate waits as long as the transport allows.
 * Inline and next edit: burst backends answer in 100-300 ms, so 2.5 s means the endpoint is in trouble (a next edit
 * is useless by then anyway). Refactor: 10 s. Repository
 * tasks: 60 s, because prefill of 100,000+ tokens takes tens of seconds even on fast hardware.
 */
export const DEFAULT_FIRST_TOKEN_TIMEOUT_MS: Readonly<Record<RequestTask, number>> = {
  inline: 2_500,
  'next-edit': 2_500,
  refactor: 10_000,
  repo: 60_000,
  probe: 15_000,
};

/** One routing decision, for the log: where the request went, why, and what was passed over. */
export interface RouteDecision {
  readonly requestId: number;
  readonly task: RequestTask;
  readonly endpointId: string;
  readonly endpointLabel: string;
  readonly reason: RouteReason;
  /** Tokens the request needs from a window (prompt with safety margin + overhead + answer budget). */
  readonly requiredTokens: number;
  readonly contextWindow: number | null;
  readonly skipped: readonly {
    readonly endpointId: string;
    readonly why: string;
    readonly contextWindow: number | null;
    readonly restRemainingMs: number;
  }[];
  /** The failure that made the router move on, when `reason` is `failover:*`. */
  readonly previousError: string | null;
}

/** What the routed service needs from its surroundings. */
export interface RoutedGenerationServiceDeps {
  readonly transport: Transport;
  readonly clock: Clock;
  /** Timers for hedging and first-token timeouts (defaults to `setTimeout`). */
  readonly scheduler?: Scheduler;
  /** The configured endpoints of a role, in order. */
  readonly endpoints: (role: BackendRole) => readonly ResolvedEndpoint[];
  readonly sink: StatsSink;
  readonly countTokens: TokenCounter;
  /** The context window in tokens as known now (detected, else preset, else setting); defaults to the configured one. */
  readonly contextWindowOf?: (endpoint: ResolvedEndpoint) => number | null;
  /** Shared health book (the panel reads it); one is made when absent. */
  readonly health?: EndpointHealthBook;
  readonly hedgeBudget?: HedgeBudget;
  /** Wall-clock time for record timestamps (display only). */
  readonly epochNow?: () => number;
  /** Per-task first-token timeouts in ms (see `DEFAULT_FIRST_TOKEN_TIMEOUT_MS`). */
  readonly firstTokenTimeoutMs?: (task: RequestTask) => number;
  /** Per-task wall time for a whole request in ms, after which it fails as `timeout` (see `DEFAULT_DEADLINE_MS`). */
  readonly deadlineMs?: (task: RequestTask) => number;
  /** Transport timeouts in ms for each request. */
  readonly timeouts?: () => { readonly headersTimeoutMs?: number; readonly idleTimeoutMs?: number };
  /** Receives every routing decision (the log shows them). */
  readonly onDecision?: (decision: RouteDecision) => void;
  /** Whether inline requests may be hedged (setting `latencyCopilot.routing.hedgeInline`); default true. */
  readonly hedging?: () => boolean;
  /**
   * The key values to remove from every prompt before it is sent (the extension's API keys): see `promptRedaction.ts`.
   * Required, so that no composition can send prompts unchecked.
   */
  readonly knownSecrets: () => readonly string[];
  /** Told when a prompt had keys removed (the log says how many of each kind, never the values). */
  readonly onPromptRedacted?: (endpoint: ResolvedEndpoint, task: RequestTask, counts: PromptRedactionCounts) => void;
  /** Receives every response's headers with the endpoint that sent them (rate-limit headroom lives there). */
  readonly onResponseHeaders?: (endpoint: ResolvedEndpoint, headers: Readonly<Record<string, string>>) => void;
}

let nextRequestId = 1;

/** A unique id for a request (and for each extra attempt of one) in this process: the hub keys running requests by it. */
function newRequestId(): number {
  return nextRequestId++;
}

/** How a failure maps onto a record's outcome: the caller's abort is a cancellation, anything else an error. */
function outcomeOf(error: unknown): RequestOutcome {
  return error instanceof BackendError && error.reason === 'aborted' ? 'cancelled' : 'error';
}

function isToken(event: StreamEvent): boolean {
  return (event.kind === 'text' || event.kind === 'reasoning') && event.text.length > 0;
}

function asBackendError(error: unknown): BackendError {
  if (isBackendError(error)) return error;
  return new BackendError('network', 'The request failed unexpectedly.', { cause: error });
}

/**
 * One request to one endpoint, pumped in the background into a queue so that the router can race it (hedging), time
 * out its first token, and switch endpoints before anything reached the caller.
 */
class Attempt {
  readonly controller = new AbortController();
  readonly meter: SpeedMeter;
  readonly startedAtEpochMs: number;
  /** The router's prompt estimate, kept on the record to cost an attempt the server never counted. */
  private readonly promptTokensEstimate: number;
  private readonly queue: StreamEvent[] = [];
  private readIndex = 0;
  private wake: (() => void) | null = null;
  private firstTokenTimer: ScheduledTask | null = null;
  private timedOut = false;
  /** True once a token arrived. */
  gotToken = false;
  done = false;
  error: BackendError | null = null;
  /** Resolves once the attempt produced a token, ended, or failed: whichever comes first. */
  readonly settled: Promise<Attempt>;

  constructor(
    readonly route: RouteInfo,
    deps: RoutedGenerationServiceDeps,
    spec: GenerationSpec,
    firstTokenTimeoutMs: number | null,
    scheduler: Scheduler,
  ) {
    this.meter = new SpeedMeter(deps.clock, deps.countTokens);
    this.startedAtEpochMs = (deps.epochNow ?? Date.now)();
    this.promptTokensEstimate = spec.promptTokens;
    const onCallerAbort = (): void => this.controller.abort();
    if (spec.signal.aborted) this.controller.abort();
    else spec.signal.addEventListener('abort', onCallerAbort, { once: true });
    if (firstTokenTimeoutMs !== null) {
      this.firstTokenTimer = scheduler.schedule(firstTokenTimeoutMs, () => {
        if (this.gotToken || this.done) return;
        this.timedOut = true;
        this.controller.abort();
      });
    }
    let settle: (attempt: Attempt) => void = () => undefined;
    this.settled = new Promise<Attempt>((resolve) => {
      settle = resolve;
    });
    this.meter.start();
    void this.pump(deps, spec, firstTokenTimeoutMs, settle).finally(() => {
      spec.signal.removeEventListener('abort', onCallerAbort);
      this.firstTokenTimer?.cancel();
    });
  }

  private async pump(
    deps: RoutedGenerationServiceDeps,
    spec: GenerationSpec,
    firstTokenTimeoutMs: number | null,
    settle: (attempt: Attempt) => void,
  ): Promise<void> {
    try {
      const endpoint = this.route.endpoint;
      const built = spec.build(endpoint);
      // Every prompt passes the key check on its way out, whichever feature built it.
      const redaction = redactRequest(built.request, deps.knownSecrets());
      if (redactionTotal(redaction.counts) > 0) deps.onPromptRedacted?.(endpoint, spec.task, redaction.counts);
      const request = redaction.request;
      // The server serves the window the fit was checked against (Ollama: num_ctx), unless the builder chose one.
      const window = deps.contextWindowOf?.(endpoint) ?? endpoint.contextWindow;
      const plan = {
        target: built.target,
        request:
          window === null || request.contextWindow !== undefined ? request : { ...request, contextWindow: window },
      };
      const onResponseHeaders = deps.onResponseHeaders;
      const options = {
        signal: this.controller.signal,
        ...deps.timeouts?.(),
        deadlineMs: (deps.deadlineMs ?? ((task: RequestTask) => DEFAULT_DEADLINE_MS[task]))(spec.task),
        scheduler: deps.scheduler,
        onHeaders: onResponseHeaders
          ? (headers: Readonly<Record<string, string>>) => onResponseHeaders(endpoint, headers)
          : undefined,
      };
      for await (const event of generate(deps.transport, plan.target, plan.request, options)) {
        this.meter.observe(event);
        this.queue.push(event);
        if (!this.gotToken && isToken(event)) {
          this.gotToken = true;
          this.firstTokenTimer?.cancel();
          settle(this);
        }
        this.notify();
      }
    } catch (error) {
      let failure = asBackendError(error);
      if (this.timedOut && failure.reason === 'aborted') {
        failure = new BackendError(
          'timeout',
          `No first token from ${this.route.endpoint.label} within ${firstTokenTimeoutMs ?? 0} ms.`,
          { partialText: failure.partialText },
        );
      }
      this.error = failure;
    } finally {
      this.done = true;
      settle(this);
      this.notify();
    }
  }

  private notify(): void {
    const wake = this.wake;
    this.wake = null;
    wake?.();
  }

  /** The events in order, the buffered ones first; throws the attempt's error at the end. Read it once. */
  async *drain(): AsyncGenerator<StreamEvent, void, undefined> {
    for (;;) {
      while (this.readIndex < this.queue.length) {
        const event = this.queue[this.readIndex];
        this.readIndex += 1;
        if (event !== undefined) yield event;
      }
      // Release what was read: a long stream must not keep every event alive.
      this.queue.length = 0;
      this.readIndex = 0;
      if (this.done) {
        if (this.error !== null) throw this.error;
        return;
      }
      await new Promise<void>((resolve) => {
        this.wake = resolve;
      });
    }
  }

  /** The record of this attempt. */
  record(task: RequestTask, outcome: RequestOutcome, error: BackendError | null): RequestRecord {
    return {
      startedAtEpochMs: this.startedAtEpochMs,
      task,
      endpointId: this.route.endpoint.id,
      endpointLabel: this.route.endpoint.label,
      routeReason: this.route.reason,
      outcome,
      errorReason: error?.reason ?? null,
      retryAfterMs: error?.retryAfterMs ?? null,
      fromCache: false,
      promptTokensEstimate: this.promptTokensEstimate,
      stats: this.meter.finish(),
    };
  }
}

function noRouteError(plan: RoutePlan, role: BackendRole | undefined): BackendError {
  switch (plan.noRoute) {
    case 'cooling-down': {
      const seconds = Math.ceil((plan.retryAfterMs ?? 0) / 1000);
      return new BackendError(
        'rate-limited',
        `Every backend that fits this request is resting; retry in ${seconds} s.`,
        {
          retryAfterMs: plan.retryAfterMs,
        },
      );
    }
    case 'too-long': {
      const largest = Math.max(0, ...plan.skipped.map((entry) => entry.contextWindow ?? 0));
      return new BackendError(
        'context-too-long',
        `This request needs about ${plan.requiredTokens.toLocaleString('en-US')} tokens (prompt, safety margin and answer), ` +
          `more than the largest configured context window (${largest.toLocaleString('en-US')} tokens). ` +
          'Select less, or configure a long-context backend with a larger window.',
      );
    }
    case 'no-endpoint':
    case null:
      return new BackendError(
        'not-configured',
        `No ${role === 'longContext' ? 'long-context ' : role === 'burst' ? 'burst ' : ''}backend is configured. Run "Latency Copilot: Configure Backends".`,
      );
  }
}

function describeSkipped(skipped: readonly SkippedEndpoint[]): RouteDecision['skipped'] {
  return skipped.map((entry) => ({
    endpointId: entry.endpoint.id,
    why: entry.why,
    contextWindow: entry.contextWindow,
    restRemainingMs: entry.restRemainingMs,
  }));
}

/**
 * The latency-aware `GenerationService`: every request is routed by `planRoute` (fit, role order, resting endpoints),
 * fails over down the candidate list on refused connections, 5xx, 429 and timeouts before the first token, re-routes
 * once on `context-too-long` to a larger window, and hedges inline requests onto a second burst endpoint after the
 * first has waited past its p95 TTFT (at most 10% of inline requests). Every attempt is metered and recorded; the
 * caller sees one stream from the endpoint that won, and `route()` says which and why.
 */
export class RoutedGenerationService implements PlanningGenerationService {
  readonly health: EndpointHealthBook;
  readonly hedgeBudget: HedgeBudget;
  private readonly scheduler: Scheduler;
  /** Windows learned from `context-too-long` answers: the endpoint refused this many tokens, so its window is smaller. */
  private readonly refusedTokens = new Map<string, number>();

  constructor(private readonly deps: RoutedGenerationServiceDeps) {
    this.health = deps.health ?? new EndpointHealthBook(deps.clock);
    this.hedgeBudget = deps.hedgeBudget ?? new HedgeBudget();
    this.scheduler = deps.scheduler ?? systemScheduler;
  }

  /** The window the router uses: the known one, lowered below any size the endpoint has refused. */
  windowOf(endpoint: ResolvedEndpoint): number | null {
    const known = this.deps.contextWindowOf?.(endpoint) ?? endpoint.contextWindow;
    const refused = this.refusedTokens.get(endpoint.id);
    if (refused === undefined) return known;
    return known === null ? refused - 1 : Math.min(known, refused - 1);
  }

  /** Plans a request without sending it (for the progress message: "sending N tokens to X"). */
  plan(spec: RouteQuery): RoutePlan {
    const endpoints = [...this.deps.endpoints('burst'), ...this.deps.endpoints('longContext')];
    this.health.reconcile(endpoints);
    return planRoute(
      {
        task: spec.task,
        role: spec.role,
        endpointIds: spec.endpointIds,
        promptTokens: spec.promptTokens,
        maxOutputTokens: spec.maxOutputTokens,
      },
      endpoints,
      {
        windowOf: (endpoint) => this.windowOf(endpoint),
        restRemainingMs: (endpoint) => this.health.restRemainingMs(endpoint.id),
      },
    );
  }

  start(spec: GenerationSpec): GenerationRun {
    const deps = this.deps;
    // `events` below is a generator function (there are no arrow generators): it reaches the service through this name.
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- see the line above
    const service = this;
    const id = newRequestId();
    let current: Attempt | null = null;
    let resolveFinished: (record: RequestRecord | null) => void = () => undefined;
    const finished = new Promise<RequestRecord | null>((resolve) => {
      resolveFinished = resolve;
    });
    const view: LiveRequestView = {
      id,
      task: spec.task,
      route: () => current?.route ?? null,
      liveTokensPerSec: () => current?.meter.liveTokensPerSec() ?? null,
      outputTokens: () => current?.meter.outputTokens() ?? 0,
    };

    const timeoutFor = (remainingCandidates: number): number | null =>
      remainingCandidates > 0
        ? (deps.firstTokenTimeoutMs ?? ((task) => DEFAULT_FIRST_TOKEN_TIMEOUT_MS[task]))(spec.task)
        : null;

    const report = (attempt: Attempt, plan: RoutePlan, previousError: BackendError | null): void => {
      deps.onDecision?.({
        requestId: id,
        task: spec.task,
        endpointId: attempt.route.endpoint.id,
        endpointLabel: attempt.route.endpoint.label,
        reason: attempt.route.reason,
        requiredTokens: plan.requiredTokens,
        contextWindow: service.windowOf(attempt.route.endpoint),
        skipped: describeSkipped(plan.skipped),
        previousError:
          previousError === null
            ? null
            : `${previousError.reason}${previousError.status === null ? '' : ` ${previousError.status}`}`,
      });
    };

    /** Records a losing or failed attempt as its own request (it was one: the panel counts its error). */
    const recordLoser = (attempt: Attempt, outcome: RequestOutcome): void => {
      const error = outcome === 'cancelled' ? null : attempt.error;
      deps.sink.requestFinished(newRequestId(), attempt.record(spec.task, outcome, error));
    };

    let completedByCaller = false;
    async function* events(): AsyncGenerator<StreamEvent, void, undefined> {
      const plan = service.plan(spec);
      const first = plan.candidates[0];
      if (first === undefined) {
        resolveFinished(null);
        throw noRouteError(plan, spec.role);
      }
      const tried = new Set<string>();
      let remaining = plan.candidates.slice(1);
      const partner = hedgePartner(spec.task, plan);
      const hedgeSlot = spec.task === 'inline' ? service.hedgeBudget.noteRequest() : -1;
      let reroutedForLength = false;
      let route: RouteInfo = { endpoint: first.endpoint, reason: first.reason };
      let previousError: BackendError | null = null;
      let winner: Attempt | null = null;
      const running = new Set<Attempt>();
      let hedgeTimer: ScheduledTask | null = null;
      /** Wakes the race when a hedge joins it. */
      let wakeRace: () => void = () => undefined;

      const launch = (next: RouteInfo): Attempt => {
        tried.add(next.endpoint.id);
        remaining = remaining.filter((candidate) => candidate.endpoint.id !== next.endpoint.id);
        const attempt = new Attempt(next, deps, spec, timeoutFor(remaining.length), service.scheduler);
        running.add(attempt);
        if (current === null || !current.gotToken) current = attempt;
        report(attempt, plan, previousError);
        return attempt;
      };

      deps.sink.requestStarted(view);
      try {
        let primary = launch(route);
        // Hedge: only the first attempt of an inline request, only onto a second burst endpoint, only once its p95 is known.
        const p95 = service.health.ttftP95Ms(primary.route.endpoint.id);
        if (partner !== null && p95 !== null && spec.task === 'inline' && (deps.hedging?.() ?? true)) {
          hedgeTimer = service.scheduler.schedule(p95, () => {
            if (winner !== null || primary.gotToken || primary.done || spec.signal.aborted) return;
            if (tried.has(partner.id) || service.health.restRemainingMs(partner.id) > 0) return;
            if (!service.hedgeBudget.tryHedge(hedgeSlot)) return;
            launch({ endpoint: partner, reason: 'hedge' });
            wakeRace();
          });
        }
        while (winner === null) {
          // Wait for any running attempt to produce a token, end, or fail (or for a hedge to join the race).
          const hedgeJoined = new Promise<null>((resolve) => {
            wakeRace = () => resolve(null);
          });
          const settled = await Promise.race([...[...running].map((attempt) => attempt.settled), hedgeJoined]);
          if (settled === null) continue;
          running.delete(settled);
          if (settled.error === null) {
            winner = settled;
            break;
          }
          const error = settled.error;
          const cause = failoverCause(error);
          service.health.recordFailure(settled.route.endpoint.id, error, cause ?? error.reason);
          if (running.size > 0) {
            // The other racer may still answer; this one is done.
            recordLoser(settled, outcomeOf(error));
            continue;
          }
          if (cause === null || spec.signal.aborted) {
            winner = settled;
            break;
          }
          let next = remaining.find((candidate) => service.health.restRemainingMs(candidate.endpoint.id) === 0);
          if (cause === 'context-too-long') {
            const refusedWindow = service.windowOf(settled.route.endpoint);
            service.refusedTokens.set(settled.route.endpoint.id, plan.requiredTokens);
            next = reroutedForLength
              ? undefined
              : remaining.find((candidate) => {
                  const window = service.windowOf(candidate.endpoint);
                  return window === null || refusedWindow === null || window > refusedWindow;
                });
            reroutedForLength = true;
          }
          if (next === undefined) {
            winner = settled;
            break;
          }
          recordLoser(settled, 'error');
          previousError = error;
          route = { endpoint: next.endpoint, reason: `failover:${cause}` };
          primary = launch(route);
        }
        hedgeTimer?.cancel();
        current = winner;
        // Cancel every other racer: the first to answer wins.
        for (const other of running) {
          other.controller.abort();
          void other.settled.then(() => recordLoser(other, 'cancelled'));
        }
        running.clear();
        let outcome: RequestOutcome = 'cancelled';
        let failure: BackendError | null = null;
        try {
          for await (const event of winner.drain()) yield event;
          outcome = 'ok';
          if (winner.gotToken) {
            const ttft = winner.meter.ttftMs();
            if (ttft !== null) service.health.recordFirstToken(winner.route.endpoint.id, ttft);
          }
          service.health.recordSuccess(winner.route.endpoint.id, winner.meter.liveTokensPerSec());
        } catch (error) {
          failure = asBackendError(error);
          outcome = outcomeOf(failure);
          throw failure;
        } finally {
          // Stopped early by the caller (break/return): stop the stream too. A caller that said it had all it needed
          // (`complete()`) finished the request; one that just stopped reading cancelled it.
          winner.controller.abort();
          if (completedByCaller && failure === null) outcome = 'ok';
          if (winner.gotToken) {
            const ttft = winner.meter.ttftMs();
            if (ttft !== null && outcome !== 'ok') service.health.recordFirstToken(winner.route.endpoint.id, ttft);
          }
          const record = winner.record(spec.task, outcome, failure);
          deps.sink.requestFinished(id, record);
          resolveFinished(record);
        }
      } finally {
        hedgeTimer?.cancel();
        for (const other of running) other.controller.abort();
        // A run abandoned before any winner still resolves `finished` (never leaves a waiter hanging).
        resolveFinished(null);
      }
    }

    return {
      events: events(),
      route: () => current?.route ?? null,
      liveTokensPerSec: () => current?.meter.liveTokensPerSec() ?? null,
      outputTokens: () => current?.meter.outputTokens() ?? 0,
      complete: () => {
        completedByCaller = true;
      },
      finished,
    };
  }
}

/** One log line for a routing decision: where, why, the fit figures, and what was passed over. */
export function describeRouteDecision(decision: RouteDecision): string {
  const window = decision.contextWindow === null ? 'window unknown' : `window ${decision.contextWindow}`;
  const skipped = decision.skipped
    .map(
      (entry) =>
        `${entry.endpointId} ${entry.why}${entry.why === 'cooling-down' ? ` ${Math.ceil(entry.restRemainingMs / 1000)} s` : ''}`,
    )
    .join(', ');
  const after = decision.previousError === null ? '' : ` after ${decision.previousError}`;
  return (
    `Route #${decision.requestId} ${decision.task} -> ${decision.endpointLabel} (${decision.endpointId}): ${decision.reason}${after}; ` +
    `needs ${decision.requiredTokens} tokens, ${window}${skipped === '' ? '' : `; skipped ${skipped}`}`
  );
}
