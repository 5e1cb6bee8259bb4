/**
 * Why a failed attempt was abandoned for the next endpoint: the error's reason, with the HTTP status for 5xx
 * (`http-503`) and `refused` when the connection was refused outright.
 */
export type FailoverCause = 'refused' | 'network' | `http-${number}` | 'rate-limited' | 'timeout' | 'context-too-long';

/**
 * Why the router chose an endpoint. The status bar, the panel and the log show it as is.
 * - `fits`: the first endpoint in order whose window holds the prompt and the answer budget.
 * - `too-long`: an earlier (burst) endpoint's window is too small, so a larger (long-context) one serves.
 * - `repo-task`: repository tasks go to the long-context model first.
 * - `cooling-down`: an earlier endpoint is resting (circuit breaker open or rate-limited), so the next one serves.
 * - `requested`: the caller asked for a role (e.g. "Retry on the long-context model").
 * - `hedge`: a second burst endpoint raced the first after it waited past its p95 TTFT, and answered first.
 * - `failover:<cause>`: the endpoint before this one failed before its first token.
 */
export type RouteReason =
  'fits' | 'too-long' | 'repo-task' | 'cooling-down' | 'requested' | 'hedge' | `failover:${FailoverCause}`;

/** A request record's route reason: the router's, or `cache` for a suggestion served from the completion cache. */
export type RecordedRouteReason = RouteReason | 'cache';

/** True for reasons that mean "not the endpoint the person would normally get" (the status bar shows a fallback). */
export function isFallbackReason(reason: RecordedRouteReason): boolean {
  return reason.startsWith('failover:') || reason === 'too-long' || reason === 'cooling-down';
}

/** A failover cause in words: what the endpoint before did. */
function failoverWords(cause: string): string {
  return `the preferred backend ${cause}, so this one took over`;
}

/**
 * A route reason in words, without the code: why the request went where it went. The one wording of a reason (status
 * bar tooltip and accessibility label, refactor messages); the switch is exhaustive, so a new reason without words
 * does not compile.
 */
export function describeRouteReason(reason: RecordedRouteReason): string {
  switch (reason) {
    case 'fits':
      return 'the request fits this model’s context window';
    case 'too-long':
      return 'the prompt does not fit the burst model’s context window, so the long-context model took it';
    case 'repo-task':
      return 'repository tasks go to the long-context model';
    case 'hedge':
      return 'the first backend was slower than its usual p95 time to first token, so a second copy was sent here and answered first';
    case 'cooling-down':
      return 'the preferred backend is resting after failures or a rate limit, so the next one took the request';
    case 'requested':
      return 'this model was asked for explicitly';
    case 'cache':
      return 'it was served from the completion cache, without a request';
    case 'failover:refused':
      return failoverWords('refused the connection (is its server running?)');
    case 'failover:network':
      return failoverWords('lost the connection');
    case 'failover:timeout':
      return failoverWords('sent no first token in time');
    case 'failover:rate-limited':
      return failoverWords('is rate-limited (HTTP 429)');
    case 'failover:context-too-long':
      return failoverWords('said the prompt is too long for its context window');
    default:
      return failoverWords(`answered with a server error (HTTP ${httpStatusOf(reason)})`);
  }
}

/** The status of an HTTP failover reason; typed so that any other reason reaching the switch's default fails to compile. */
function httpStatusOf(reason: `failover:http-${number}`): string {
  return reason.slice('failover:http-'.length);
}

/** Every recorded reason without a parameter. `satisfies` keeps the table complete: a new reason must be added here. */
const PLAIN_REASONS = {
  fits: true,
  'too-long': true,
  'repo-task': true,
  'cooling-down': true,
  requested: true,
  hedge: true,
  cache: true,
} as const satisfies Record<Exclude<RecordedRouteReason, `failover:${string}`>, true>;

/** Every failover cause without a parameter (the HTTP ones carry their status). */
const NAMED_FAILOVER_CAUSES = {
  refused: true,
  network: true,
  'rate-limited': true,
  timeout: true,
  'context-too-long': true,
} as const satisfies Record<Exclude<FailoverCause, `http-${number}`>, true>;

function isPlainReason(value: string): value is keyof typeof PLAIN_REASONS {
  return Object.hasOwn(PLAIN_REASONS, value);
}

function isNamedFailoverCause(value: string): value is keyof typeof NAMED_FAILOVER_CAUSES {
  return Object.hasOwn(NAMED_FAILOVER_CAUSES, value);
}

/**
 * Reasons that earlier versions wrote into the history file and the router no longer gives, in today's terms. The
 * first generation service took the first endpoint of a role (`first-endpoint`), or the long-context one when no burst
 * endpoint was configured (`failover:no-burst-endpoint`); the router calls both `fits`. `only-endpoint` was a reason
 * the status text knew by name. Mapped, not dropped, so that no one's history is lost.
 */
const LEGACY_REASONS: ReadonlyMap<string, RecordedRouteReason> = new Map([
  ['first-endpoint', 'fits'],
  ['only-endpoint', 'fits'],
  ['failover:no-burst-endpoint', 'fits'],
]);

/**
 * Reads a stored route reason (the history file): a reason this version gives, or an older version's mapped to it;
 * null for anything else.
 */
export function parseRouteReason(value: unknown): RecordedRouteReason | null {
  if (typeof value !== 'string') return null;
  if (isPlainReason(value)) return value;
  const cause = value.startsWith('failover:') ? value.slice('failover:'.length) : null;
  if (cause !== null && isNamedFailoverCause(cause)) return `failover:${cause}`;
  // Written by `failoverCause` from a 5xx status: three digits, no leading zero, so the text reads back unchanged.
  const status = cause === null ? undefined : /^http-([1-9]\d{2})$/.exec(cause)?.[1];
  if (status !== undefined) return `failover:http-${Number(status)}`;
  return LEGACY_REASONS.get(value) ?? null;
}
