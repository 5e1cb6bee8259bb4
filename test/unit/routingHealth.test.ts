import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/core/clock';
import { BackendError } from '../../src/core/errors';
import type { ResolvedEndpoint } from '../../src/core/endpoint';
import { EndpointHealthBook } from '../../src/core/routing/endpointHealth';
import { HedgeBudget } from '../../src/core/routing/hedgeBudget';
import { failoverCause, isFallbackReason } from '../../src/core/routing/routeReason';

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
    book.recordFailure('b', new BackendError('rate-limited', '429', { status: 429, retryAfterMs: 12_000 }), 'rate-limited');
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

describe('EndpointHealthBook.reconcile', () => {
  const at = (baseUrl: string, model = 'm'): ResolvedEndpoint => ({
    id: 'burst#0', role: 'burst', label: 'B', preset: null, target: { baseUrl, protocol: 'openai-chat', model }, contextWindow: null, fim: 'none', simulated: false,
  });

  it('forgets a rest when another server takes the same place in the configuration, and keeps it otherwise', () => {
    const book = new EndpointHealthBook(new ManualClock());
    book.reconcile([at('http://127.0.0.1:1/v1')]);
    book.recordFailure('burst#0', new BackendError('rate-limited', 'slow down', { status: 429, retryAfterMs: 60_000 }), 'rate-limited');
    expect(book.restRemainingMs('burst#0')).toBe(60_000);
    book.reconcile([at('http://127.0.0.1:1/v1')]);
    expect(book.restRemainingMs('burst#0')).toBe(60_000);
    book.reconcile([at('http://127.0.0.1:2/v1')]);
    expect(book.restRemainingMs('burst#0')).toBe(0);
    book.recordFailure('burst#0', new BackendError('rate-limited', 'slow down', { status: 429, retryAfterMs: 5_000 }), 'rate-limited');
    book.reconcile([at('http://127.0.0.1:2/v1', 'another-model')]);
    expect(book.restRemainingMs('burst#0')).toBe(0);
  });
});
