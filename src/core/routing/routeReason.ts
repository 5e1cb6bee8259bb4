import type { BackendError } from '../errors';
import { isRecord, stringAt } from '../json';

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
  | 'fits'
  | 'too-long'
  | 'repo-task'
  | 'cooling-down'
  | 'requested'
  | 'hedge'
  | `failover:${FailoverCause}`;

/** True for reasons that mean "not the endpoint the person would normally get" (the status bar shows a fallback). */
export function isFallbackReason(reason: string): boolean {
  return reason.startsWith('failover:') || reason === 'too-long' || reason === 'cooling-down';
}

/** True when the error (or one of its causes, a few levels deep) is a refused TCP connection. */
export function isConnectionRefused(error: BackendError): boolean {
  let current: unknown = error.cause;
  for (let depth = 0; depth < 5 && current !== undefined; depth += 1) {
    if (stringAt(current, 'code') === 'ECONNREFUSED') return true;
    // AggregateError (happy eyeballs tries several addresses) keeps the individual errors in `errors`.
    const inner = isRecord(current) ? current['errors'] : undefined;
    if (Array.isArray(inner) && inner.some((each: unknown) => stringAt(each, 'code') === 'ECONNREFUSED')) return true;
    current = isRecord(current) ? current['cause'] : undefined;
  }
  return false;
}

/**
 * The failover cause for an error that happened before the first token, or null when the request must not move to
 * another endpoint (cancelled by the caller, a wrong key, a malformed answer, a 4xx the next endpoint would repeat).
 */
export function failoverCause(error: BackendError): FailoverCause | null {
  switch (error.reason) {
    case 'network':
      return isConnectionRefused(error) ? 'refused' : 'network';
    case 'timeout':
      return 'timeout';
    case 'rate-limited':
      return 'rate-limited';
    case 'context-too-long':
      return 'context-too-long';
    case 'http':
      return error.status !== null && error.status >= 500 ? `http-${error.status}` : null;
    case 'unauthorized':
    case 'malformed':
    case 'aborted':
    case 'not-configured':
      return null;
  }
}
