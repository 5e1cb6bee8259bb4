import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../../../src/core/clock';
import { BackendError } from '../../../../src/core/errors';
import type { ResolvedEndpoint } from '../../../../src/core/endpoint';
import { MAX_RATE_LIMIT_REST_MS, httpError, retryAfterMsFrom } from '../../../../src/core/stream/httpErrors';
import { EndpointHealthBook } from '../../../../src/core/routing/endpointHealth';
import { HedgeBudget } from '../../../../src/core/routing/hedgeBudget';
import { describeRouteReason, isFallbackReason, parseRouteReason } from '../../../../src/core/routeReason';
import { failoverCause } from '../../../../src/core/routing/failover';
import { resolvedEndpoint } from '../../builders/endpoints';

describe('EndpointHealthBook (circuit breaker)', () => {
  it('rests an endpoint after three network failures in a row, then lets one trial through', () => {
    const clock = new ManualClock();
    const book = new EndpointHealthBook(clock);
    const refused = new BackendError('network', 'refused');
    book.recordFailure('b', refused, 'network');
    book.recordFailure('b', refused, 'network');
    expect(book.restRemainingMs('b')).toBe(0);
    book.recordFailure('b', refused, 'network');
    expect(book.restRemainingMs('b')).toBe(5_000);
    expect(book.snapshot('b').state).toBe('open');
    clock.advance(5_000);
    expect(book.snapshot('b').state).toBe('half-open');
    // The trial fails: rest again, twice as long.
    book.recordFailure('b', refused, 'network');
    expect(book.restRemainingMs('b')).toBe(10_000);
    clock.advance(10_000);
    book.recordFirstToken('b', 120);
    expect(book.snapshot('b')).toMatchObject({ state: 'closed', consecutiveFailures: 0, restCause: null });
  });

  it('honours Retry-After on a 429 at once', () => {
    const clock = new ManualClock();
    const book = new EndpointHealthBook(clock);
    book.recordFailure(
      'b',
      new BackendError('rate-limited', '429', { status: 429, retryAfterMs: 12_000 }),
      'rate-limited',
    );
    expect(book.restRemainingMs('b')).toBe(12_000);
    expect(book.snapshot('b').restCause).toBe('rate-limited');
    clock.advance(11_999);
    expect(book.restRemainingMs('b')).toBe(1);
    clock.advance(1);
    expect(book.restRemainingMs('b')).toBe(0);
  });

  it('rests after a 429 with no retry time, for the default rest', () => {
    const book = new EndpointHealthBook(new ManualClock(), { defaultRateLimitRestMs: 7_000 });
    book.recordFailure('b', new BackendError('rate-limited', '429', { status: 429 }), 'rate-limited');
    expect(book.restRemainingMs('b')).toBe(7_000);
  });

  it('ignores cancellation and does not rest on errors the endpoint did not cause by load (401, 400)', () => {
    const book = new EndpointHealthBook(new ManualClock(), { failuresToOpen: 1 });
    book.recordFailure('b', new BackendError('aborted', 'x'), 'aborted');
    expect(book.snapshot('b').errorRate).toBe(0);
    book.recordFailure('b', new BackendError('unauthorized', 'x', { status: 401 }), 'unauthorized');
    book.recordFailure('b', new BackendError('http', 'x', { status: 400 }), 'http-400');
    expect(book.restRemainingMs('b')).toBe(0);
    expect(book.snapshot('b').errorRate).toBeGreaterThan(0);
  });

  it('keeps p50/p95 TTFT over a rolling window and trusts p95 only after enough samples', () => {
    const book = new EndpointHealthBook(new ManualClock(), { ttftWindow: 20, minTtftSamples: 8 });
    for (let i = 1; i <= 7; i += 1) book.recordFirstToken('b', i * 10);
    expect(book.ttftP95Ms('b')).toBeNull();
    for (let i = 8; i <= 20; i += 1) book.recordFirstToken('b', i * 10);
    expect(book.ttftP95Ms('b')).toBe(190);
    expect(book.snapshot('b').ttftP50Ms).toBe(100);
    // 20 new fast samples push the old ones out of the window.
    for (let i = 0; i < 20; i += 1) book.recordFirstToken('b', 5);
    expect(book.ttftP95Ms('b')).toBe(5);
  });

  it('smooths decode speed and the error rate', () => {
    const book = new EndpointHealthBook(new ManualClock(), { smoothing: 0.5 });
    book.recordSuccess('b', 1_000);
    book.recordSuccess('b', 2_000);
    expect(book.snapshot('b').decodeTokensPerSec).toBe(1_500);
    book.recordFailure('b', new BackendError('http', 'x', { status: 500 }), 'http-500');
    expect(book.snapshot('b').errorRate).toBe(0.5);
  });
});

describe('HedgeBudget', () => {
  it('never hedges more than 10% of the last 100 requests', () => {
    const budget = new HedgeBudget();
    let granted = 0;
    for (let i = 0; i < 1_000; i += 1) {
      const slot = budget.noteRequest();
      if (budget.tryHedge(slot)) granted += 1;
      const { requests, hedged } = budget.counts();
      expect(hedged).toBeLessThanOrEqual(0.1 * requests);
    }
    expect(granted).toBeGreaterThanOrEqual(95);
    expect(granted).toBeLessThanOrEqual(100);
  });

  it('grants no hedge before ten requests, and at most one per request', () => {
    const budget = new HedgeBudget();
    for (let i = 0; i < 9; i += 1) expect(budget.tryHedge(budget.noteRequest())).toBe(false);
    const slot = budget.noteRequest();
    expect(budget.tryHedge(slot)).toBe(true);
    expect(budget.tryHedge(slot)).toBe(false);
  });
});

describe('failoverCause', () => {
  it.each([
    [new BackendError('network', 'x', { cause: { code: 'ECONNREFUSED' } }), 'refused'],
    [new BackendError('network', 'x', { cause: new AggregateError([{ code: 'ECONNREFUSED' }]) }), 'refused'],
    [new BackendError('network', 'x', { cause: { code: 'ECONNRESET' } }), 'network'],
    [new BackendError('timeout', 'x'), 'timeout'],
    [new BackendError('rate-limited', 'x', { status: 429 }), 'rate-limited'],
    [new BackendError('http', 'x', { status: 503 }), 'http-503'],
    [new BackendError('http', 'x', { status: 404 }), null],
    [new BackendError('context-too-long', 'x', { status: 400 }), 'context-too-long'],
    [new BackendError('unauthorized', 'x', { status: 401 }), null],
    [new BackendError('aborted', 'x'), null],
    [new BackendError('malformed', 'x'), null],
  ])('%s -> %s', (error, expected) => {
    expect(failoverCause(error)).toBe(expected);
  });

  it('labels fallbacks for the status bar', () => {
    expect(isFallbackReason('failover:http-503')).toBe(true);
    expect(isFallbackReason('too-long')).toBe(true);
    expect(isFallbackReason('fits')).toBe(false);
    expect(isFallbackReason('hedge')).toBe(false);
  });
});

describe('parseRouteReason', () => {
  it.each([
    ['fits', 'fits'],
    ['too-long', 'too-long'],
    ['repo-task', 'repo-task'],
    ['cooling-down', 'cooling-down'],
    ['requested', 'requested'],
    ['hedge', 'hedge'],
    ['cache', 'cache'],
    ['failover:refused', 'failover:refused'],
    ['failover:network', 'failover:network'],
    ['failover:rate-limited', 'failover:rate-limited'],
    ['failover:timeout', 'failover:timeout'],
    ['failover:context-too-long', 'failover:context-too-long'],
    ['failover:http-503', 'failover:http-503'],
    // What versions before the router wrote: the router's name for the same choice.
    ['first-endpoint', 'fits'],
    ['only-endpoint', 'fits'],
    ['failover:no-burst-endpoint', 'fits'],
    ['failover:http-5x', null],
    ['failover:http-0503', null],
    ['failover:', null],
    ['failover:unknown', null],
    ['constructor', null],
    ['`fits`', null],
    ['', null],
    [7, null],
    [null, null],
  ])('%j -> %j', (value, expected) => {
    expect(parseRouteReason(value)).toBe(expected);
  });

  it('reads back every reason the router gives, and words each one', () => {
    const reasons = [
      'fits',
      'too-long',
      'repo-task',
      'cooling-down',
      'requested',
      'hedge',
      'cache',
      'failover:refused',
      'failover:http-502',
    ] as const;
    for (const reason of reasons) {
      expect(parseRouteReason(reason)).toBe(reason);
      expect(describeRouteReason(reason)).toMatch(/^[a-z].* /);
    }
    expect(describeRouteReason('failover:http-502')).toContain('HTTP 502');
  });
});

describe('EndpointHealthBook.reconcile', () => {
  const at = (baseUrl: string, model = 'm'): ResolvedEndpoint =>
    resolvedEndpoint({ label: 'B', target: { baseUrl, model } });

  it('forgets a rest when another server takes the same place in the configuration, and keeps it otherwise', () => {
    const book = new EndpointHealthBook(new ManualClock());
    book.reconcile([at('http://127.0.0.1:1/v1')]);
    book.recordFailure(
      'burst#0',
      new BackendError('rate-limited', 'slow down', { status: 429, retryAfterMs: 60_000 }),
      'rate-limited',
    );
    expect(book.restRemainingMs('burst#0')).toBe(60_000);
    book.reconcile([at('http://127.0.0.1:1/v1')]);
    expect(book.restRemainingMs('burst#0')).toBe(60_000);
    book.reconcile([at('http://127.0.0.1:2/v1')]);
    expect(book.restRemainingMs('burst#0')).toBe(0);
    book.recordFailure(
      'burst#0',
      new BackendError('rate-limited', 'slow down', { status: 429, retryAfterMs: 5_000 }),
      'rate-limited',
    );
    book.reconcile([at('http://127.0.0.1:2/v1', 'another-model')]);
    expect(book.restRemainingMs('burst#0')).toBe(0);
  });
});

describe('rate-limit rests are capped and follow the limit that was hit (issue 14, item 6)', () => {
  const NOW = Date.parse('2026-01-01T12:00:00Z');

  it('rests at most 5 minutes however long Retry-After says, then lets a trial through', () => {
    const clock = new ManualClock();
    const book = new EndpointHealthBook(clock);
    const yearLong = httpError(429, { 'retry-after': '31536000' }, '');
    expect(yearLong.retryAfterMs).toBe(MAX_RATE_LIMIT_REST_MS);
    expect(MAX_RATE_LIMIT_REST_MS).toBe(300_000);
    book.recordFailure('b', yearLong, 'rate-limited');
    expect(book.restRemainingMs('b')).toBe(300_000);
    // An error that carries the server's word uncapped is capped by the book too.
    book.recordFailure(
      'c',
      new BackendError('rate-limited', '429', { status: 429, retryAfterMs: 31_536_000_000 }),
      'rate-limited',
    );
    expect(book.restRemainingMs('c')).toBe(300_000);
    clock.advance(300_000);
    expect(book.snapshot('b').state).toBe('half-open');
    expect(book.restRemainingMs('b')).toBe(0);
    // The trial is rate-limited again: another capped rest, no more.
    book.recordFailure('b', httpError(429, { 'retry-after': '31536000' }, ''), 'rate-limited');
    expect(book.restRemainingMs('b')).toBe(300_000);
  });

  it.each<[string, Record<string, string>, number | null]>([
    [
      'Cerebras, per-minute tokens spent: the minute reset, not the daily one 9 hours away',
      {
        'x-ratelimit-limit-requests-day': '14400',
        'x-ratelimit-remaining-requests-day': '14000',
        'x-ratelimit-reset-requests-day': '33011.38',
        'x-ratelimit-limit-tokens-minute': '60000',
        'x-ratelimit-remaining-tokens-minute': '0',
        'x-ratelimit-reset-tokens-minute': '11.38',
      },
      11_380,
    ],
    [
      'Cerebras, daily requests spent: the daily reset (then capped)',
      {
        'x-ratelimit-remaining-requests-day': '0',
        'x-ratelimit-reset-requests-day': '33011.38',
        'x-ratelimit-remaining-tokens-minute': '59000',
        'x-ratelimit-reset-tokens-minute': '11.38',
      },
      33_011_380,
    ],
    [
      'OpenAI/Groq, tokens spent: the token reset',
      {
        'x-ratelimit-remaining-requests': '499',
        'x-ratelimit-reset-requests': '2m59.56s',
        'x-ratelimit-remaining-tokens': '0',
        'x-ratelimit-reset-tokens': '7.66s',
      },
      7_660,
    ],
    [
      'OpenAI, requests spent: the request reset',
      {
        'x-ratelimit-remaining-requests': '0',
        'x-ratelimit-reset-requests': '1s',
        'x-ratelimit-remaining-tokens': '149000',
        'x-ratelimit-reset-tokens': '6m0s',
      },
      1_000,
    ],
    [
      'nothing at zero: the limit with the least left for its size (a request needed more tokens than remained)',
      {
        'x-ratelimit-limit-requests': '500',
        'x-ratelimit-remaining-requests': '400',
        'x-ratelimit-reset-requests': '2m',
        'x-ratelimit-limit-tokens': '6000',
        'x-ratelimit-remaining-tokens': '100',
        'x-ratelimit-reset-tokens': '20s',
      },
      20_000,
    ],
    [
      'no remaining stated: the soonest reset',
      { 'x-ratelimit-reset-requests-day': '33011', 'x-ratelimit-reset-tokens-minute': '7.5' },
      7_500,
    ],
    [
      'Anthropic, output tokens spent: its RFC 3339 reset time',
      {
        'anthropic-ratelimit-requests-limit': '50',
        'anthropic-ratelimit-requests-remaining': '49',
        'anthropic-ratelimit-requests-reset': '2026-01-01T12:00:01Z',
        'anthropic-ratelimit-output-tokens-limit': '8000',
        'anthropic-ratelimit-output-tokens-remaining': '0',
        'anthropic-ratelimit-output-tokens-reset': '2026-01-01T12:00:42Z',
      },
      42_000,
    ],
    [
      'Retry-After wins over reset headers',
      { 'retry-after': '3', 'x-ratelimit-remaining-tokens': '0', 'x-ratelimit-reset-tokens': '1m' },
      3_000,
    ],
    ['nothing stated', {}, null],
  ])('%s', (_name, headers, expected) => {
    expect(retryAfterMsFrom(headers, NOW)).toBe(expected);
  });

  it('a per-minute 429 with Cerebras headers rests the endpoint for seconds, not hours', () => {
    const book = new EndpointHealthBook(new ManualClock());
    const error = httpError(
      429,
      {
        'x-ratelimit-remaining-requests-day': '14000',
        'x-ratelimit-reset-requests-day': '33011.38',
        'x-ratelimit-remaining-tokens-minute': '0',
        'x-ratelimit-reset-tokens-minute': '11.38',
      },
      '{"message":"Tokens per minute limit exceeded"}',
    );
    book.recordFailure('b', error, 'rate-limited');
    expect(book.restRemainingMs('b')).toBe(11_380);
  });

  it('a successful probe ends a rest at once (and closes the breaker)', () => {
    const clock = new ManualClock();
    const book = new EndpointHealthBook(clock);
    book.recordFailure(
      'b',
      new BackendError('rate-limited', '429', { status: 429, retryAfterMs: 120_000 }),
      'rate-limited',
    );
    expect(book.snapshot('b').state).toBe('open');
    book.endRest('b');
    expect(book.snapshot('b')).toMatchObject({
      state: 'closed',
      restRemainingMs: 0,
      restCause: null,
      consecutiveFailures: 0,
    });
    book.endRest('never-seen');
    expect(book.restRemainingMs('never-seen')).toBe(0);
  });
});
