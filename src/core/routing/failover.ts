import type { BackendError } from '../errors';
import { isRecord, stringAt } from '../json';
import type { FailoverCause } from '../routeReason';

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
