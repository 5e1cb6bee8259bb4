import type { Clock } from '../clock';
import type { BackendRole, ResolvedEndpoint } from '../endpoint';
import { BackendError } from '../errors';
import { generate } from '../stream/generate';
import type {
  GenerationRun,
  GenerationService,
  GenerationSpec,
  LiveRequestView,
  RouteInfo,
  StatsSink,
} from './generationService';
import { SpeedMeter, type TokenCounter } from '../stream/meter';
import type { RequestOutcome, RequestRecord, RequestTask } from '../requestStats';
import type { StreamEvent } from '../streamEvents';
import type { Transport } from '../stream/transport';

/** What the basic service needs from its surroundings. */
export interface GenerationServiceDeps {
  readonly transport: Transport;
  readonly clock: Clock;
  /** The configured endpoints of a role, in order. */
  readonly endpoints: (role: BackendRole) => readonly ResolvedEndpoint[];
  readonly sink: StatsSink;
  readonly countTokens: TokenCounter;
  /** Wall-clock time for record timestamps (display only). */
  readonly epochNow?: () => number;
  /** Timeouts in ms for each request. */
  readonly timeouts?: () => { readonly headersTimeoutMs?: number; readonly idleTimeoutMs?: number };
}

let nextRequestId = 1;

/** A unique id for a request within this process. */
export function newRequestId(): number {
  return nextRequestId++;
}

/** How a failure maps onto a record's outcome. */
export function outcomeOf(error: unknown): RequestOutcome {
  return error instanceof BackendError && error.reason === 'aborted' ? 'cancelled' : 'error';
}

/** The record of one finished attempt. */
export function recordOf(args: {
  readonly task: RequestTask;
  readonly route: RouteInfo;
  readonly meter: SpeedMeter;
  readonly outcome: RequestOutcome;
  readonly error: unknown;
  readonly startedAtEpochMs: number;
}): RequestRecord {
  return {
    startedAtEpochMs: args.startedAtEpochMs,
    task: args.task,
    endpointId: args.route.endpoint.id,
    endpointLabel: args.route.endpoint.label,
    routeReason: args.route.reason,
    outcome: args.outcome,
    errorReason: args.error instanceof BackendError ? args.error.reason : args.error === null ? null : 'network',
    fromCache: false,
    stats: args.meter.finish(),
  };
}

/**
 * The simplest `GenerationService`: the first endpoint of the requested role (burst by default, long-context when no
 * burst endpoint exists), streamed, metered and recorded. The latency-aware router replaces the choice of endpoint.
 */
export class BasicGenerationService implements GenerationService {
  constructor(private readonly deps: GenerationServiceDeps) {}

  start(spec: GenerationSpec): GenerationRun {
    const deps = this.deps;
    const role = spec.role ?? 'burst';
    const endpoint = deps.endpoints(role)[0] ?? (role === 'burst' ? deps.endpoints('longContext')[0] : undefined);
    const route: RouteInfo | null = endpoint
      ? { endpoint, reason: endpoint.role === role ? 'first-endpoint' : 'failover:no-burst-endpoint' }
      : null;
    const meter = new SpeedMeter(deps.clock, deps.countTokens);
    const id = newRequestId();
    const startedAtEpochMs = (deps.epochNow ?? Date.now)();
    let resolveFinished: (record: RequestRecord | null) => void = () => undefined;
    const finished = new Promise<RequestRecord | null>((resolve) => {
      resolveFinished = resolve;
    });
    const view: LiveRequestView = {
      id,
      task: spec.task,
      route: () => route,
      liveTokensPerSec: () => meter.liveTokensPerSec(),
      outputTokens: () => meter.outputTokens(),
    };

    let completedByCaller = false;
    async function* events(): AsyncGenerator<StreamEvent, void, undefined> {
      if (!route) {
        resolveFinished(null);
        throw new BackendError('not-configured', `No ${role === 'burst' ? 'burst' : 'long-context'} backend is configured. Run "Latency Copilot: Configure Backends".`);
      }
      deps.sink.requestStarted(view);
      const plan = spec.build(route.endpoint);
      let outcome: RequestOutcome = 'cancelled';
      let failure: unknown = null;
      meter.start();
      try {
        for await (const event of generate(deps.transport, plan.target, plan.request, { signal: spec.signal, ...deps.timeouts?.() })) {
          meter.observe(event);
          yield event;
        }
        outcome = 'ok';
      } catch (error) {
        failure = error;
        outcome = outcomeOf(error);
        throw error;
      } finally {
        if (completedByCaller && failure === null) outcome = 'ok';
        const record = recordOf({ task: spec.task, route, meter, outcome, error: failure, startedAtEpochMs });
        deps.sink.requestFinished(id, record);
        resolveFinished(record);
      }
    }

    return {
      events: events(),
      route: () => route,
      liveTokensPerSec: () => meter.liveTokensPerSec(),
      outputTokens: () => meter.outputTokens(),
      complete: () => {
        completedByCaller = true;
      },
      finished,
    };
  }
}
