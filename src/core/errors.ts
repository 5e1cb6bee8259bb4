/**
 * Why a backend request failed. Callers branch on this, never on message text.
 * - `rate-limited`: HTTP 429 (or a provider's equivalent); `retryAfterMs` says when to try again, when known.
 * - `unauthorized`: HTTP 401/403; the key is missing or wrong.
 * - `context-too-long`: the prompt does not fit the model's context window.
 * - `http`: any other non-success status.
 * - `network`: the connection was refused, reset, or lost mid-stream.
 * - `timeout`: no response headers in time, or too long a silence between chunks.
 * - `malformed`: the server sent something that does not parse.
 * - `aborted`: the caller cancelled.
 * - `not-configured`: no endpoint is configured for the task (nothing was sent).
 */
export type BackendErrorReason =
  | 'rate-limited'
  | 'unauthorized'
  | 'context-too-long'
  | 'http'
  | 'network'
  | 'timeout'
  | 'malformed'
  | 'aborted'
  | 'not-configured';

/** Every reason, in a stable order (for tables, counters and validation). */
export const BACKEND_ERROR_REASONS: readonly BackendErrorReason[] = [
  'rate-limited',
  'unauthorized',
  'context-too-long',
  'http',
  'network',
  'timeout',
  'malformed',
  'aborted',
  'not-configured',
];

/**
 * Which of the client's own stream limits a `malformed` answer broke (see `streamLimits.ts`, `framing.ts`): the server
 * spoke the protocol, but without end. Told apart so the message does not blame the protocol setting.
 */
export type StreamLimit = 'output-tokens' | 'output-bytes' | 'event-size';

/** Details a `BackendError` carries besides its message. */
export interface BackendErrorDetails {
  readonly status?: number | null;
  readonly limit?: StreamLimit | null;
  readonly retryAfterMs?: number | null;
  /** Text that had already streamed when the error happened; never thrown away. */
  readonly partialText?: string;
  readonly cause?: unknown;
}

/** A failed backend request, told apart by `reason`. Its message never contains a key or an Authorization header. */
export class BackendError extends Error {
  readonly reason: BackendErrorReason;
  readonly status: number | null;
  readonly retryAfterMs: number | null;
  /** For `malformed`: the client-side limit the stream broke, or null for an answer that could not be read. */
  readonly limit: StreamLimit | null;
  /** Text that had already streamed before the failure. */
  partialText: string;

  constructor(reason: BackendErrorReason, message: string, details: BackendErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = 'BackendError';
    this.reason = reason;
    this.status = details.status ?? null;
    this.retryAfterMs = details.retryAfterMs ?? null;
    this.limit = details.limit ?? null;
    this.partialText = details.partialText ?? '';
  }

  /** A plain object for JSON output (probe CLI, panel, history). */
  toJSON(): { reason: BackendErrorReason; status: number | null; retryAfterMs: number | null; message: string } {
    return { reason: this.reason, status: this.status, retryAfterMs: this.retryAfterMs, message: this.message };
  }
}

/** True when `value` is a `BackendError` (also across bundle boundaries, where `instanceof` can fail). */
export function isBackendError(value: unknown): value is BackendError {
  return value instanceof BackendError;
}

/** A short, single-line excerpt of server text for an error message (servers send whole HTML pages as error bodies). */
export function excerpt(text: string, maxChars = 200): string {
  const oneLine = text.replace(/\s+/g, ' ').trim();
  return oneLine.length > maxChars ? `${oneLine.slice(0, maxChars)}…` : oneLine;
}
