import { BackendError, excerpt } from '../errors';
import { isRecord, recordAt, stringAt } from '../json';

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

/**
 * The longest a rate limit keeps an endpoint out of use, in ms. A server may say a year (`Retry-After: 31536000`) or
 * name a daily quota's reset hours away; past this cap the endpoint gets a trial request instead (a success ends the
 * rest, another 429 rests it again), and "Probe Backends" ends a rest at once when its probe succeeds.
 */
export const MAX_RATE_LIMIT_REST_MS = 5 * 60_000;

/** Reset values at least this large are Unix times in seconds, not durations (some providers send those). */
const EPOCH_SECONDS_THRESHOLD = 1_000_000_000;

/** Parses a reset value into ms from now: OpenAI/Groq durations (`6m0s`, `1.5s`, `20ms`), Cerebras seconds, Unix seconds. */
function parseResetDuration(value: string, nowEpochMs: number): number | null {
  const trimmed = value.trim();
  if (/^\d+(?:\.\d+)?$/.test(trimmed)) {
    const amount = Number(trimmed);
    return Math.round(amount >= EPOCH_SECONDS_THRESHOLD ? Math.max(0, amount * 1000 - nowEpochMs) : amount * 1000);
  }
  const pattern = /(\d+(?:\.\d+)?)(ms|h|m|s)/g;
  let total = 0;
  let matched = false;
  for (const match of trimmed.matchAll(pattern)) {
    matched = true;
    const amount = Number(match[1]);
    const unit = match[2];
    total += unit === 'h' ? amount * 3_600_000 : unit === 'm' ? amount * 60_000 : unit === 's' ? amount * 1000 : amount;
  }
  return matched ? Math.round(total) : null;
}

/** One rate limit a response describes: when it resets (ms from now), and what is left of it (null when not said). */
interface StatedLimit {
  readonly resetMs: number;
  readonly remaining: number | null;
  readonly limit: number | null;
}

function numberHeader(headers: Readonly<Record<string, string>>, name: string): number | null {
  const value = headers[name];
  if (value === undefined || value.trim() === '') return null;
  const parsed = Number(value.trim());
  return Number.isFinite(parsed) ? parsed : null;
}

/**
 * Every limit the headers describe, reset paired with remaining and limit by the limit's name:
 * - OpenAI, Groq: `x-ratelimit-{reset,remaining,limit}-{requests,tokens}` (durations such as `6m0s`);
 * - Cerebras: `x-ratelimit-{reset,remaining,limit}-{requests-day,tokens-minute}` (seconds);
 * - Anthropic: `anthropic-ratelimit-{requests,tokens,input-tokens,output-tokens}-{reset,remaining,limit}` (RFC 3339 times).
 */
function statedLimits(headers: Readonly<Record<string, string>>, nowEpochMs: number): StatedLimit[] {
  const limits: StatedLimit[] = [];
  for (const [name, value] of Object.entries(headers)) {
    if (name.startsWith('x-ratelimit-reset-')) {
      const kind = name.slice('x-ratelimit-reset-'.length);
      const resetMs = parseResetDuration(value, nowEpochMs);
      if (resetMs === null) continue;
      limits.push({
        resetMs,
        remaining: numberHeader(headers, `x-ratelimit-remaining-${kind}`),
        limit: numberHeader(headers, `x-ratelimit-limit-${kind}`),
      });
    } else if (name.startsWith('anthropic-ratelimit-') && name.endsWith('-reset')) {
      const kind = name.slice('anthropic-ratelimit-'.length, -'-reset'.length);
      const at = Date.parse(value);
      if (!Number.isFinite(at)) continue;
      limits.push({
        resetMs: Math.max(0, at - nowEpochMs),
        remaining: numberHeader(headers, `anthropic-ratelimit-${kind}-remaining`),
        limit: numberHeader(headers, `anthropic-ratelimit-${kind}-limit`),
      });
    }
  }
  return limits;
}

/**
 * The reset of the limit that was hit: the latest reset among limits with nothing remaining; else the limit with the
 * least left for its size (a request can need more tokens than remain); else the soonest reset, which is when a trial
 * makes sense. Never the longest reset regardless: a per-minute 429 with Cerebras' headers would then wait for the
 * daily quota's reset, about 9 hours away.
 */
function resetOfLimitHit(limits: readonly StatedLimit[]): number | null {
  const exhausted = limits.filter((limit) => limit.remaining !== null && limit.remaining <= 0);
  if (exhausted.length > 0) return Math.max(...exhausted.map((limit) => limit.resetMs));
  let tightest: { readonly share: number; readonly resetMs: number } | null = null;
  for (const limit of limits) {
    if (limit.remaining === null || limit.limit === null || limit.limit <= 0) continue;
    const share = limit.remaining / limit.limit;
    if (tightest === null || share < tightest.share) tightest = { share, resetMs: limit.resetMs };
  }
  if (tightest !== null) return tightest.resetMs;
  return limits.length === 0 ? null : Math.min(...limits.map((limit) => limit.resetMs));
}

/**
 * When to retry after a rate limit, in ms, from the response headers as the server states it: `retry-after-ms`,
 * `Retry-After` (seconds or an HTTP date), else the reset of the limit that was hit (see `resetOfLimitHit`). Null if
 * none. Not capped: `httpError` caps what it reports at `MAX_RATE_LIMIT_REST_MS`.
 */
export function retryAfterMsFrom(
  headers: Readonly<Record<string, string>>,
  nowEpochMs: number = Date.now(),
): number | null {
  const retryAfterMs = headers['retry-after-ms'];
  if (retryAfterMs !== undefined && Number.isFinite(Number(retryAfterMs))) return Math.max(0, Number(retryAfterMs));
  const retryAfter = headers['retry-after'];
  if (retryAfter !== undefined) {
    if (/^\s*\d+(?:\.\d+)?\s*$/.test(retryAfter)) return Math.max(0, Number(retryAfter) * 1000);
    const date = Date.parse(retryAfter);
    if (Number.isFinite(date)) return Math.max(0, date - nowEpochMs);
  }
  return resetOfLimitHit(statedLimits(headers, nowEpochMs));
}

/** The human message inside a JSON error body (`error.message`, `error` as a string, `message`), else an excerpt. */
function messageOf(bodyText: string): string {
  try {
    const parsed: unknown = JSON.parse(bodyText);
    const nested = recordAt(parsed, 'error');
    const message =
      stringAt(nested, 'message') ??
      stringAt(parsed, 'error') ??
      stringAt(parsed, 'message') ??
      stringAt(parsed, 'detail');
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
    // Capped, so that neither the rest nor the message ("retry in N s") believes a server that says a year.
    const stated = retryAfterMsFrom(headers);
    const retryAfterMs = stated === null ? null : Math.min(stated, MAX_RATE_LIMIT_REST_MS);
    return new BackendError('rate-limited', `Rate limited (HTTP 429)${suffix}`, { status, retryAfterMs });
  }
  if (status === 401 || status === 403) {
    return new BackendError('unauthorized', `The server refused the API key (HTTP ${status})${suffix}`, { status });
  }
  if ((status === 400 || status === 413 || status === 422 || status === 500) && saysContextTooLong(bodyText)) {
    return new BackendError(
      'context-too-long',
      `The prompt does not fit the model's context window (HTTP ${status})${suffix}`,
      { status },
    );
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
  const message =
    stringAt(nested, 'message') ??
    (typeof errorValue === 'string' ? errorValue : JSON.stringify(errorValue ?? payload));
  const type = `${stringAt(nested, 'type') ?? ''} ${stringAt(nested, 'code') ?? ''}`;
  const statusValue = nested?.['code'];
  const status = typeof statusValue === 'number' ? statusValue : null;
  if (saysContextTooLong(`${type} ${message}`)) {
    return new BackendError(
      'context-too-long',
      `The prompt does not fit the model's context window: ${excerpt(message)}`,
      { status },
    );
  }
  if (/rate_limit|rate limit|too many requests/i.test(`${type} ${message}`)) {
    return new BackendError('rate-limited', `Rate limited: ${excerpt(message)}`, { status: status ?? 429 });
  }
  if (/authentication|unauthori[sz]ed|invalid.*key/i.test(`${type} ${message}`)) {
    return new BackendError('unauthorized', `The server refused the API key: ${excerpt(message)}`, {
      status: status ?? 401,
    });
  }
  return new BackendError('http', `The server reported an error mid-stream: ${excerpt(message)}`, { status });
}
