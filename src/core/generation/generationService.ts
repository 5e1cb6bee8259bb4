import type { BackendRole, EndpointTarget, GenerationRequest, ResolvedEndpoint } from '../endpoint';
import type { RequestRecord, RequestTask } from '../requestStats';
import type { RouteReason } from '../routeReason';
import type { RoutePlan, RouteQuery } from '../routing/router';
import type { StreamEvent } from '../streamEvents';

/** A request shaped for one endpoint: where it goes and what it asks. */
export interface GenerationPlan {
  readonly target: EndpointTarget;
  readonly request: GenerationRequest;
}

/** What a feature asks the generation service for. The service routes, streams, meters and records it. */
export interface GenerationSpec {
  readonly task: RequestTask;
  readonly signal: AbortSignal;
  /** Estimated prompt tokens, for the router's fit check. */
  readonly promptTokens: number;
  /** The answer budget in tokens, for the router's fit check. */
  readonly maxOutputTokens: number;
  /** Restricts routing to one role (`longContext` for repository tasks and "Retry on the long-context model"). */
  readonly role?: BackendRole;
  /** Restricts routing to these endpoint ids (next edit keeps to backends that meet its latency budget). */
  readonly endpointIds?: readonly string[];
  /** Builds the request for the endpoint the router chose; called again for each failover candidate. */
  build(endpoint: ResolvedEndpoint): GenerationPlan;
}

/** Which endpoint served (or is serving) a request, and why the router chose it. */
export interface RouteInfo {
  readonly endpoint: ResolvedEndpoint;
  readonly reason: RouteReason;
}

/** One running generation. */
export interface GenerationRun {
  /** Events as they arrive. Throws a `BackendError` (with `partialText`) on failure. Iterate it once. */
  readonly events: AsyncIterable<StreamEvent>;
  /** The endpoint currently serving the request and why; null until the router has picked one. */
  route(): RouteInfo | null;
  /** Live decode speed in tokens/s (TTFT excluded); null before a second token arrives. */
  liveTokensPerSec(): number | null;
  /** Output tokens so far (server count when known, else estimated). */
  outputTokens(): number;
  /**
   * Says the caller has all it needs: when it then stops reading `events` (break), the request is ended upstream and
   * recorded as finished (`ok`), not cancelled. A caller that stops reading without it is recorded as cancelling.
   */
  complete(): void;
  /**
   * The finished record (also given to the stats sink). Resolves when the stream ends or fails; never rejects.
   * Resolves with null when nothing was sent (no endpoint configured).
   */
  readonly finished: Promise<RequestRecord | null>;
}

/** The one way features talk to backends. */
export interface GenerationService {
  start(spec: GenerationSpec): GenerationRun;
}

/**
 * A generation service that can also say where a request would go without sending it (the routed service). Repository
 * tasks size their context to the window of the endpoint it names, and say where it is going before it is sent.
 */
export interface PlanningGenerationService extends GenerationService {
  plan(query: RouteQuery): RoutePlan;
}

/** A read-only view of a running request, for live displays that sample it (at most 4 times a second). */
export interface LiveRequestView {
  readonly id: number;
  readonly task: RequestTask;
  route(): RouteInfo | null;
  liveTokensPerSec(): number | null;
  outputTokens(): number;
}

/**
 * Where finished requests go (the stats hub implements it). Nothing is called per token: live figures are sampled from
 * `LiveRequestView` by whoever displays them, so metering costs the streaming path nothing extra.
 */
export interface StatsSink {
  requestStarted(view: LiveRequestView): void;
  /** A request started with `requestStarted` (same `id`) ended, or one attempt of it did (a fresh id). */
  requestFinished(id: number, record: RequestRecord): void;
  /** A suggestion was served from the completion cache: a record with no running request behind it, so no id. */
  cacheServed(record: RequestRecord): void;
}
