import { BackendError } from './errors';
import { excerpt, isRecord, recordAt, stringAt } from './protocols/shared';

/**
 * Phrases by which servers say a prompt does not fit. Matching server text is done here, at the edge, once; everything
 * downstream branches on the `context-too-long` reason instead.
 */
const CONTEXT_TOO_LONG_PATTERNS: readonly RegExp[] = [
  /context_length_exceeded/i,
  /exceed(?:s|ed)? the available context size/i,
  /exceed_context_size/i,
  /prompt is too long/i,
  /maximum context length/i,
  /context length (?:of|is|exceeded)/i,
  /context window/i,
  /too many (?:input )?tokens/i,
  /input is too long/i,
  /reduce the length of the (?:messages|prompt)/i,
];

/** True when a server's error text says the prompt did not fit the context window. */
export function saysContextTooLong(text: string): boolean {
  return CONTEXT_TOO_LONG_PATTERNS.some((pattern) => pattern.test(text));
}

/** Parses an OpenAI-style duration such as `6m0s`, `1.5s`, `20ms` into ms; null when it is not one. */
function parseResetDuration(value: string): number | null {
  const trimmed = value.trim();
  if (/^\d+(?:\.\d+)?$/.test(trimmed)) return Number(trimmed) * 1000;
  const pattern = /(\d+(?:\.\d+)?)(ms|h|m|s)/g;
  let total = 0;
  let matched = false;
  for (const match of trimmed.matchAll(pattern)) {
    matched = true;
    const amount = Number(match[1]);
    const unit = match[2];
    total += unit === 'h' ? amount * 3_600_000 : unit === 'm' ? amount * 60_000 : unit === 's' ? amount * 1000 : amount;
  }
  return matched ? total : null;
}

/**
 * When to retry after a rate limit, in ms, from the response headers: `retry-after-ms`, `Retry-After` (seconds or an
 * HTTP date), else the longest of the `x-ratelimit-reset-*` headers (OpenAI durations, Cerebras seconds). Null if none.
 */
export function retryAfterMsFrom(headers: Readonly<Record<string, string>>, nowEpochMs: number = Date.now()): number | null {
  const retryAfterMs = headers['retry-after-ms'];
  if (retryAfterMs !== undefined && Number.isFinite(Number(retryAfterMs))) return Math.max(0, Number(retryAfterMs));
  const retryAfter = headers['retry-after'];
  if (retryAfter !== undefined) {
    if (/^\s*\d+(?:\.\d+)?\s*$/.test(retryAfter)) return Math.max(0, Number(retryAfter) * 1000);
    const date = Date.parse(retryAfter);
    if (Number.isFinite(date)) return Math.max(0, date - nowEpochMs);
  }
  let longest: number | null = null;
  for (const [name, value] of Object.entries(headers)) {
    if (!name.startsWith('x-ratelimit-reset')) continue;
    const ms = parseResetDuration(value);
    if (ms !== null && (longest === null || ms > longest)) longest = ms;
  }
  return longest;
}

/** The human message inside a JSON error body (`error.message`, `error` as a string, `message`), else an excerpt. */
function messageOf(bodyText: string): string {
  try {
    const parsed: unknown = JSON.parse(bodyText);
    const nested = recordAt(parsed, 'error');
    const message = stringAt(nested, 'message') ?? stringAt(parsed, 'error') ?? stringAt(parsed, 'message') ?? stringAt(parsed, 'detail');
    if (message) return excerpt(message);
  } catch {
    // Not JSON: fall through to the raw excerpt.
  }
  return excerpt(bodyText);
}

/**
 * Maps a non-success HTTP response to a `BackendError`. The message carries a short excerpt of the server's own words
 * and never the request's headers (so never a key).
 */
export function httpError(status: number, headers: Readonly<Record<string, string>>, bodyText: string): BackendError {
  const serverSays = messageOf(bodyText);
  const suffix = serverSays ? `: ${serverSays}` : '';
  if (status === 429) {
    const retryAfterMs = retryAfterMsFrom(headers);
    return new BackendError('rate-limited', `Rate limited (HTTP 429)${suffix}`, { status, retryAfterMs });
  }
  if (status === 401 || status === 403) {
    return new BackendError('unauthorized', `The server refused the API key (HTTP ${status})${suffix}`, { status });
  }
  if ((status === 400 || status === 413 || status === 422 || status === 500) && saysContextTooLong(bodyText)) {
    return new BackendError('context-too-long', `The prompt does not fit the model's context window (HTTP ${status})${suffix}`, { status });
  }
  return new BackendError('http', `HTTP ${status}${suffix}`, { status });
}

/**
 * Maps an error object a server sends inside an otherwise successful stream (OpenAI `{"error":{...}}`, Anthropic
 * `{"type":"error","error":{...}}`, Ollama `{"error":"..."}`).
 */
export function inStreamError(payload: Record<string, unknown>): BackendError {
  const errorValue = payload['error'];
  const nested = isRecord(errorValue) ? errorValue : undefined;
  const message = stringAt(nested, 'message') ?? (typeof errorValue === 'string' ? errorValue : JSON.stringify(errorValue ?? payload));
  const type = `${stringAt(nested, 'type') ?? ''} ${stringAt(nested, 'code') ?? ''}`;
  const statusValue = nested?.['code'];
  const status = typeof statusValue === 'number' ? statusValue : null;
  if (saysContextTooLong(`${type} ${message}`)) {
    return new BackendError('context-too-long', `The prompt does not fit the model's context window: ${excerpt(message)}`, { status });
  }
  if (/rate_limit|rate limit|too many requests/i.test(`${type} ${message}`)) {
    return new BackendError('rate-limited', `Rate limited: ${excerpt(message)}`, { status: status ?? 429 });
  }
  if (/authentication|unauthori[sz]ed|invalid.*key/i.test(`${type} ${message}`)) {
    return new BackendError('unauthorized', `The server refused the API key: ${excerpt(message)}`, { status: status ?? 401 });
  }
  return new BackendError('http', `The server reported an error mid-stream: ${excerpt(message)}`, { status });
}
