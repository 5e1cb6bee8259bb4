import type { BackendRole, ResolvedEndpoint } from '../endpoint';
import type { RequestTask } from '../requestStats';
import { fitsWindow, requiredWindowTokens } from './fitCheck';
import type { RouteReason } from '../routeReason';

/** What the router needs to know about a request. */
export interface RouteQuery {
  readonly task: RequestTask;
  /** Restricts routing to one role (e.g. "Retry on the long-context model"). */
  readonly role?: BackendRole;
  /**
   * Restricts routing to these endpoints (by id), on top of the role: next-edit predictions keep to the backends whose
   * measured speed meets their latency budget. Endpoints left out are not candidates and not listed as skipped.
   */
  readonly endpointIds?: readonly string[];
  /** Estimated prompt tokens (cl100k); the fit check adds its safety margin. */
  readonly promptTokens: number;
  readonly maxOutputTokens: number;
}

/** What the router needs to know about the endpoints besides their configuration. */
export interface RouteConditions {
  /** The context window in tokens (detected, else preset, else setting), or null when unknown. */
  windowOf(endpoint: ResolvedEndpoint): number | null;
  /** Ms until the endpoint may be tried again (0 when available). */
  restRemainingMs(endpoint: ResolvedEndpoint): number;
}

/** An endpoint the request may go to, in the order to try them, with the reason it would serve if chosen first. */
export interface RouteCandidate {
  readonly endpoint: ResolvedEndpoint;
  readonly reason: RouteReason;
  readonly contextWindow: number | null;
}

/** An endpoint passed over, and why (for the log). */
export interface SkippedEndpoint {
  readonly endpoint: ResolvedEndpoint;
  readonly why: 'too-long' | 'cooling-down';
  readonly contextWindow: number | null;
  /** Ms of rest left, for `cooling-down`. */
  readonly restRemainingMs: number;
}

/** Why no endpoint can take the request: none configured, none large enough, or every fitting one resting. */
export type NoRouteReason = 'no-endpoint' | 'too-long' | 'cooling-down';

/** The router's decision: candidates in order (first = primary, the rest = failover order) and what it skipped. */
export interface RoutePlan {
  readonly candidates: readonly RouteCandidate[];
  readonly skipped: readonly SkippedEndpoint[];
  /** Tokens the request needs from a window (prompt with safety margin + template overhead + answer budget). */
  readonly requiredTokens: number;
  /** Set when `candidates` is empty. */
  readonly noRoute: NoRouteReason | null;
  /** For `cooling-down`: ms until the first resting endpoint may be tried again. */
  readonly retryAfterMs: number | null;
}

/** The order of roles to try: repository tasks start on the long-context model, everything else on burst. */
export function roleOrder(query: RouteQuery): readonly BackendRole[] {
  if (query.role !== undefined) return [query.role];
  return query.task === 'repo' ? ['longContext', 'burst'] : ['burst', 'longContext'];
}

function reasonFor(
  query: RouteQuery,
  endpoint: ResolvedEndpoint,
  skippedBefore: readonly SkippedEndpoint[],
): RouteReason {
  const firstSkipped = skippedBefore[0];
  if (firstSkipped !== undefined) return firstSkipped.why;
  if (query.task === 'repo' && endpoint.role === 'longContext') return 'repo-task';
  if (query.role !== undefined) return 'requested';
  return 'fits';
}

/**
 * Plans where a request goes. Pure: the same query, endpoints and conditions always give the same plan.
 * Endpoints are tried in role order (burst first, then long context; the reverse for repository tasks), each role in
 * configuration order; an endpoint whose window cannot hold the request is skipped as `too-long`, a resting one as
 * `cooling-down`. The first candidate's reason says why it, and not an earlier endpoint, serves.
 */
export function planRoute(
  query: RouteQuery,
  endpoints: readonly ResolvedEndpoint[],
  conditions: RouteConditions,
): RoutePlan {
  const requiredTokens = requiredWindowTokens(query.promptTokens, query.maxOutputTokens);
  const candidates: RouteCandidate[] = [];
  const skipped: SkippedEndpoint[] = [];
  for (const role of roleOrder(query)) {
    for (const endpoint of endpoints) {
      if (endpoint.role !== role) continue;
      if (query.endpointIds !== undefined && !query.endpointIds.includes(endpoint.id)) continue;
      const contextWindow = conditions.windowOf(endpoint);
      if (!fitsWindow(requiredTokens, contextWindow)) {
        skipped.push({ endpoint, why: 'too-long', contextWindow, restRemainingMs: 0 });
        continue;
      }
      const restRemainingMs = conditions.restRemainingMs(endpoint);
      if (restRemainingMs > 0) {
        skipped.push({ endpoint, why: 'cooling-down', contextWindow, restRemainingMs });
        continue;
      }
      candidates.push({ endpoint, reason: reasonFor(query, endpoint, skipped), contextWindow });
    }
  }
  if (candidates.length > 0) return { candidates, skipped, requiredTokens, noRoute: null, retryAfterMs: null };
  const resting = skipped.filter((entry) => entry.why === 'cooling-down');
  if (resting.length > 0) {
    const retryAfterMs = Math.min(...resting.map((entry) => entry.restRemainingMs));
    return { candidates, skipped, requiredTokens, noRoute: 'cooling-down', retryAfterMs };
  }
  return {
    candidates,
    skipped,
    requiredTokens,
    noRoute: skipped.length > 0 ? 'too-long' : 'no-endpoint',
    retryAfterMs: null,
  };
}

/**
 * True when `plan`, made for a smaller request, would start the same way for a request needing `requiredTokens` (under
 * the same conditions): its first candidate's window holds the larger request, and no endpoint it passed over as
 * resting would now be passed over as too long instead (the first skipped one gives the first candidate its reason).
 * Endpoints skipped as too long stay too long, so the first candidate and its reason are unchanged; a plan with no
 * candidate holds too (a larger request finds none either). A caller that sized its request to the plan's first window
 * uses this to keep that plan instead of asking the router again.
 */
export function firstCandidateHolds(plan: RoutePlan, requiredTokens: number): boolean {
  const first = plan.candidates[0];
  if (first === undefined) return true;
  if (!fitsWindow(requiredTokens, first.contextWindow)) return false;
  return plan.skipped.every((entry) => entry.why === 'too-long' || fitsWindow(requiredTokens, entry.contextWindow));
}

/**
 * The endpoint to hedge an inline request with: the next burst candidate after a burst primary, or null (not inline,
 * no second burst endpoint, or the primary is not burst).
 */
export function hedgePartner(task: RequestTask, plan: RoutePlan): ResolvedEndpoint | null {
  if (task !== 'inline') return null;
  const [primary, second] = plan.candidates;
  if (primary === undefined || second === undefined) return null;
  if (primary.endpoint.role !== 'burst' || second.endpoint.role !== 'burst') return null;
  return second.endpoint;
}
