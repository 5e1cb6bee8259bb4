/** What a provider says is left of its rate limits, from its response headers. Null fields were not stated. */
export interface RateLimitHeadroom {
  readonly remainingRequests: number | null;
  readonly limitRequests: number | null;
  readonly remainingTokens: number | null;
  readonly limitTokens: number | null;
}

/** Headroom below this share of a limit counts as low: speculative requests are skipped to keep it for real ones. */
const LOW_SHARE = 0.1;
/** With no stated limit, this few requests left counts as low. */
const LOW_REQUESTS = 3;

function firstNumber(headers: Readonly<Record<string, string>>, names: readonly string[]): number | null {
  for (const name of names) {
    const value = headers[name];
    if (value === undefined) continue;
    const parsed = Number(value.trim());
    if (Number.isFinite(parsed)) return parsed;
  }
  return null;
}

/**
 * Reads rate-limit headroom from response headers: OpenAI/Groq/Together style `x-ratelimit-remaining-requests` /
 * `-tokens` with their `-limit-` pairs, and Cerebras' per-minute and per-day variants. Null when none is present.
 */
export function headroomFrom(headers: Readonly<Record<string, string>>): RateLimitHeadroom | null {
  const headroom: RateLimitHeadroom = {
    remainingRequests: firstNumber(headers, [
      'x-ratelimit-remaining-requests',
      'x-ratelimit-remaining-requests-minute',
      'x-ratelimit-remaining-requests-day',
    ]),
    limitRequests: firstNumber(headers, [
      'x-ratelimit-limit-requests',
      'x-ratelimit-limit-requests-minute',
      'x-ratelimit-limit-requests-day',
    ]),
    remainingTokens: firstNumber(headers, [
      'x-ratelimit-remaining-tokens',
      'x-ratelimit-remaining-tokens-minute',
      'x-ratelimit-remaining-tokens-day',
    ]),
    limitTokens: firstNumber(headers, [
      'x-ratelimit-limit-tokens',
      'x-ratelimit-limit-tokens-minute',
      'x-ratelimit-limit-tokens-day',
    ]),
  };
  const stated = Object.values(headroom).some((value) => value !== null);
  return stated ? headroom : null;
}

/** True when what is left is a small share of the limit (or, without a stated limit, only a few requests). */
export function isHeadroomLow(headroom: RateLimitHeadroom): boolean {
  const lowShare = (remaining: number | null, limit: number | null): boolean =>
    remaining !== null && limit !== null && limit > 0 && remaining / limit < LOW_SHARE;
  if (
    lowShare(headroom.remainingRequests, headroom.limitRequests) ||
    lowShare(headroom.remainingTokens, headroom.limitTokens)
  )
    return true;
  return (
    headroom.limitRequests === null && headroom.remainingRequests !== null && headroom.remainingRequests < LOW_REQUESTS
  );
}

/** The latest headroom per endpoint, fed from every response's headers. */
export class RateLimitBook {
  private readonly latest = new Map<string, RateLimitHeadroom>();

  /** Remembers what an endpoint's latest response said; a response that says nothing leaves the last word standing. */
  record(endpointId: string, headers: Readonly<Record<string, string>>): void {
    const headroom = headroomFrom(headers);
    if (headroom) this.latest.set(endpointId, headroom);
  }

  /** True when the endpoint's latest stated headroom is low. */
  isLow(endpointId: string): boolean {
    const headroom = this.latest.get(endpointId);
    return headroom !== undefined && isHeadroomLow(headroom);
  }

  /** The latest headroom an endpoint stated, if any. */
  headroomOf(endpointId: string): RateLimitHeadroom | undefined {
    return this.latest.get(endpointId);
  }
}
