import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../../../src/core/clock';
import type { ResolvedEndpoint } from '../../../../src/core/endpoint';
import type { LiveRequestView, RouteInfo } from '../../../../src/core/generation/generationService';
import type { RequestRecord } from '../../../../src/core/requestStats';
import { ManualScheduler } from '../../../../src/core/scheduler';
import { HISTORY_HEADER, parseHistoryText } from '../../../../src/core/speed/speedHistory';
import { isFallbackReason } from '../../../../src/core/routeReason';
import {
  StatsHub,
  SUGGESTION_WINDOW,
  percentileOfSorted,
  recordMatchesEndpoint,
} from '../../../../src/core/speed/statsHub';
import type { SuggestionSample } from '../../../../src/core/speed/statsHub';
import { resolvedEndpoint } from '../../builders/endpoints';
import { requestRecord } from '../../builders/requestRecords';

function endpoint(id: string, model: string, label: string, extra: Partial<ResolvedEndpoint> = {}): ResolvedEndpoint {
  const role = id.startsWith('burst') ? 'burst' : 'longContext';
  return resolvedEndpoint({ id, role, label, target: { model }, contextWindow: 8192, ...extra });
}

const burst = endpoint('burst#0', 'llama3.1-8b', 'Cerebras llama3.1-8b');
const longContext = endpoint('longContext#0', 'gemini', 'Gemini 2.5 Pro');

let nextStreamId = 1;

/** A suggestion shown from a new stream (so it counts), unless `streamId` says otherwise. */
function shown(
  latencyMs: number,
  source: SuggestionSample['source'],
  overrides: Partial<SuggestionSample> = {},
): SuggestionSample {
  return {
    endpointId: 'burst#0',
    endpointLabel: 'Cerebras llama3.1-8b',
    latencyMs,
    source,
    streamId: nextStreamId++,
    ...overrides,
  };
}

class CountingView implements LiveRequestView {
  samples = 0;
  tokens = 0;
  constructor(
    readonly id: number,
    readonly task: LiveRequestView['task'],
    private readonly routeInfo: RouteInfo | null,
  ) {}
  route(): RouteInfo | null {
    return this.routeInfo;
  }
  liveTokensPerSec(): number | null {
    this.samples++;
    return this.tokens > 1 ? 1234 : null;
  }
  outputTokens(): number {
    return this.tokens;
  }
}

function setup(options: { capacity?: number; endpoints?: readonly ResolvedEndpoint[] } = {}) {
  const clock = new ManualClock(1_000);
  const scheduler = new ManualScheduler(clock, (ms) => clock.advance(ms));
  const hub = new StatsHub({
    clock,
    scheduler,
    capacity: options.capacity,
    endpoints: () => options.endpoints ?? [burst, longContext],
  });
  let changes = 0;
  hub.onDidChange(() => changes++);
  return { clock, scheduler, hub, changes: () => changes };
}

describe('StatsHub', () => {
  it('keeps at most `capacity` records, dropping the oldest', () => {
    const { hub } = setup({ capacity: 3 });
    for (let i = 0; i < 5; i++) hub.requestFinished(i, requestRecord({ startedAtEpochMs: i }));
    expect(hub.size()).toBe(3);
    expect(hub.records().map((r) => r.startedAtEpochMs)).toEqual([2, 3, 4]);
    expect(hub.newest(2).map((r) => r.startedAtEpochMs)).toEqual([4, 3]);
  });

  it('computes nearest-rank p50 and p95 of TTFT and decode speed per endpoint', () => {
    const { hub } = setup();
    for (let i = 1; i <= 100; i++) hub.requestFinished(i, requestRecord({}, { ttftMs: i, decodeTokensPerSec: i * 10 }));
    const summary = hub.snapshot().endpoints.find((e) => e.endpointId === 'burst#0');
    expect(summary?.ttftMs).toEqual({ p50: 50, p95: 95, count: 100 });
    expect(summary?.decodeTokensPerSec).toEqual({ p50: 500, p95: 950, count: 100 });
    expect(summary?.requests).toBe(100);
    expect(summary?.configured).toBe(true);
  });

  it('counts errors by reason, fallbacks, hedges and the cache hit rate; cache hits stay out of latency figures', () => {
    const { hub } = setup();
    hub.requestFinished(
      1,
      requestRecord({ outcome: 'error', errorReason: 'rate-limited' }, { ttftMs: null, decodeTokensPerSec: null }),
    );
    hub.requestFinished(
      2,
      requestRecord({ outcome: 'error', errorReason: 'network' }, { ttftMs: null, decodeTokensPerSec: null }),
    );
    hub.requestFinished(
      3,
      requestRecord({ outcome: 'error', errorReason: 'network' }, { ttftMs: null, decodeTokensPerSec: null }),
    );
    hub.requestFinished(4, requestRecord({ routeReason: 'hedge' }));
    hub.requestFinished(5, requestRecord({ fromCache: true }, { ttftMs: 0.2, decodeTokensPerSec: null }));
    // How the inline adapter reports a cache hit: a record with no running request (and so no id) behind it.
    hub.cacheServed(requestRecord({ fromCache: true }, { ttftMs: 0.2, decodeTokensPerSec: null }));
    hub.requestFinished(
      7,
      requestRecord({
        task: 'refactor',
        endpointId: 'longContext#0',
        endpointLabel: 'Gemini 2.5 Pro',
        routeReason: 'failover:network',
      }),
    );
    hub.requestFinished(
      8,
      requestRecord({
        task: 'refactor',
        endpointId: 'longContext#0',
        endpointLabel: 'Gemini 2.5 Pro',
        routeReason: 'too-long',
      }),
    );
    hub.requestFinished(9, requestRecord({ outcome: 'cancelled' }, { ttftMs: null, decodeTokensPerSec: null }));
    const snapshot = hub.snapshot();
    const burstSummary = snapshot.endpoints[0];
    const longSummary = snapshot.endpoints[1];
    expect(burstSummary?.endpointId).toBe('burst#0');
    expect(burstSummary?.errorsByReason).toEqual([
      { reason: 'rate-limited', count: 1 },
      { reason: 'network', count: 2 },
    ]);
    expect(burstSummary?.errors).toBe(3);
    expect(burstSummary?.cancelled).toBe(1);
    expect(burstSummary?.requests).toBe(5);
    expect(burstSummary?.hedges).toBe(1);
    expect(burstSummary?.cacheHits).toBe(2);
    // 2 hits out of 2 hits + 5 inline network requests.
    expect(burstSummary?.cacheHitRate).toBeCloseTo(2 / 7);
    expect(burstSummary?.ttftMs?.count).toBe(1);
    expect(longSummary?.fallbacks).toBe(2);
    expect(longSummary?.cacheHitRate).toBeNull();
    expect(snapshot.totals).toMatchObject({ requests: 7, errors: 3, fallbacks: 2, hedges: 1, cacheHits: 2 });
  });

  it('lists configured endpoints before their first request, and history-only endpoints after them', () => {
    const { hub } = setup();
    hub.requestFinished(1, requestRecord({ endpointId: 'burst#3:old-model', endpointLabel: 'Old thing' }));
    const ids = hub.snapshot().endpoints.map((e) => [e.endpointId, e.requests, e.configured]);
    expect(ids).toEqual([
      ['burst#0', 0, true],
      ['longContext#0', 0, true],
      ['burst#3:old-model', 1, false],
    ]);
  });

  it('works the figures out again when the configured endpoints change', () => {
    let configured: readonly ResolvedEndpoint[] = [];
    const clock = new ManualClock();
    const scheduler = new ManualScheduler(clock, (ms) => clock.advance(ms));
    const hub = new StatsHub({ clock, scheduler, endpoints: () => configured });
    let changes = 0;
    hub.onDidChange(() => changes++);
    expect(hub.snapshot().endpoints).toEqual([]);
    configured = [burst];
    hub.endpointsChanged();
    scheduler.advance(300);
    expect(changes).toBe(1);
    expect(hub.snapshot().endpoints.map((e) => [e.endpointId, e.configured])).toEqual([['burst#0', true]]);
  });

  it('matches records by `id:model`, or by a bare id only when the label matches too', () => {
    expect(recordMatchesEndpoint(burst, 'burst#0:llama3.1-8b', 'anything')).toBe(true);
    expect(recordMatchesEndpoint(burst, 'burst#0', 'Cerebras llama3.1-8b')).toBe(true);
    expect(recordMatchesEndpoint(burst, 'burst#0', 'Groq llama-3.3-70b')).toBe(false);
    expect(recordMatchesEndpoint(burst, 'burst#1:llama3.1-8b', 'Cerebras llama3.1-8b')).toBe(false);
  });

  it('tells the first change at once and coalesces the rest to at most one per 250 ms', () => {
    const { hub, scheduler, changes } = setup();
    hub.requestFinished(1, requestRecord());
    expect(changes()).toBe(0);
    scheduler.runDue();
    expect(changes()).toBe(1);
    // 1,000 requests finishing over one second: one notification per 250 ms window.
    for (let i = 0; i < 1000; i++) {
      hub.requestFinished(i + 2, requestRecord());
      scheduler.advance(1);
    }
    expect(changes()).toBeGreaterThanOrEqual(4);
    expect(changes()).toBeLessThanOrEqual(5);
    scheduler.advance(1_000);
    const settled = changes();
    scheduler.advance(5_000);
    expect(changes()).toBe(settled);
  });

  it('ticks every 250 ms while a request streams, samples the view only then, and stops when it ends', () => {
    const { hub, scheduler, changes } = setup();
    const view = new CountingView(7, 'refactor', { endpoint: burst, reason: 'fits' });
    hub.onDidChange(() => hub.statusFacts());
    hub.requestStarted(view);
    scheduler.runDue();
    expect(changes()).toBe(1);
    // 2 seconds of streaming at 1,000 tok/s: the meter counts tokens; the hub is never called per token.
    for (let ms = 0; ms < 2_000; ms++) {
      view.tokens++;
      scheduler.advance(1);
    }
    expect(changes()).toBe(9);
    expect(view.samples).toBe(9);
    hub.requestFinished(7, requestRecord({ task: 'refactor' }));
    scheduler.advance(2_000);
    expect(changes()).toBe(10);
    expect(hub.runningCount()).toBe(0);
  });

  it('gives the status bar the newest running request, the last outcome (not a cancellation) and the last served request', () => {
    const { hub } = setup();
    const view = new CountingView(1, 'inline', { endpoint: longContext, reason: 'too-long' });
    view.tokens = 5;
    hub.requestStarted(view);
    expect(hub.statusFacts().running).toMatchObject({
      task: 'inline',
      endpoint: { label: 'Gemini 2.5 Pro', role: 'longContext', simulated: false },
      routeReason: 'too-long',
      liveTokensPerSec: 1234,
      outputTokens: 5,
    });
    hub.requestFinished(
      1,
      requestRecord({ endpointId: 'longContext#0', endpointLabel: 'Gemini 2.5 Pro', routeReason: 'too-long' }),
    );
    hub.requestFinished(
      2,
      requestRecord({ outcome: 'error', errorReason: 'network' }, { ttftMs: null, decodeTokensPerSec: null }),
    );
    hub.requestFinished(3, requestRecord({ outcome: 'cancelled' }, { ttftMs: null }));
    hub.requestFinished(4, requestRecord({ task: 'probe', outcome: 'error', errorReason: 'http' }));
    const facts = hub.statusFacts();
    expect(facts.running).toBeNull();
    expect(facts.lastOutcome?.record.errorReason).toBe('network');
    expect(facts.lastServed?.record.endpointId).toBe('longContext#0');
    expect(facts.lastServed?.endpoint.role).toBe('longContext');
  });

  it('turns a record’s retryAfterMs into a retry time on the hub clock', () => {
    const { hub, clock } = setup();
    const limited = {
      ...requestRecord({ outcome: 'error', errorReason: 'rate-limited' }, { ttftMs: null }),
      retryAfterMs: 12_000,
    };
    hub.requestFinished(1, limited);
    expect(hub.statusFacts().lastOutcome?.retryAtMs).toBe(clock.now() + 12_000);
  });

  it('reports the median of an endpoint’s last 20 decode speeds as its recent speed', () => {
    const { hub } = setup();
    for (let i = 0; i < 30; i++)
      hub.requestFinished(i, requestRecord({}, { decodeTokensPerSec: i < 10 ? 1 : 2000 + i }));
    hub.requestFinished(99, requestRecord({ fromCache: true }, { decodeTokensPerSec: 5 }));
    // The last 20 are 2010..2029; nearest-rank median is the 10th.
    expect(hub.recentDecodeTokensPerSec('burst#0')).toBe(2019);
    // Another backend under the same id (the settings changed): its figures are not mixed into the status bar's.
    hub.requestFinished(99, requestRecord({ endpointLabel: 'Groq llama' }, { decodeTokensPerSec: 400 }));
    expect(hub.recentDecodeTokensPerSec('burst#0', 'Groq llama')).toBe(400);
    expect(hub.statusFacts().lastServed?.recentDecodeTokensPerSec).toBe(400);
  });

  it('loads history without telling record listeners, forwards new records, and resets', () => {
    const { hub } = setup();
    const seen: RequestRecord[] = [];
    hub.onDidRecord((r) => seen.push(r));
    hub.requestFinished(1, requestRecord({ task: 'refactor' }));
    hub.load([requestRecord({ startedAtEpochMs: 1 }), requestRecord({ startedAtEpochMs: 2 })]);
    expect(seen.map((r) => r.task)).toEqual(['refactor']);
    expect(hub.records().map((r) => r.task)).toEqual(['inline', 'inline', 'refactor']);
    expect(hub.size()).toBe(3);
    hub.reset();
    expect(hub.size()).toBe(0);
    expect(hub.statusFacts().lastServed).toBeNull();
    expect(hub.snapshot().endpoints[0]?.requests).toBe(0);
  });

  it('remembers a history-only endpoint as simulated even after its id is reused by another backend', () => {
    const { hub } = setup({ endpoints: [] });
    const simulatedBurst = endpoint('burst#0', 'sim-burst', 'Simulated burst', { simulated: true });
    const realBurst = endpoint('burst#0', 'llama', 'Cerebras llama');
    const simulatedView = new CountingView(1, 'inline', { endpoint: simulatedBurst, reason: 'fits' });
    hub.requestStarted(simulatedView);
    hub.requestFinished(1, requestRecord({ endpointId: 'burst#0', endpointLabel: 'Simulated burst' }));
    const realView = new CountingView(2, 'inline', { endpoint: realBurst, reason: 'fits' });
    hub.requestStarted(realView);
    hub.requestFinished(2, requestRecord({ endpointId: 'burst#0', endpointLabel: 'Cerebras llama' }));
    const rows = hub.snapshot().endpoints;
    expect(rows.find((row) => row.label === 'Simulated burst')).toMatchObject({ simulated: true, configured: false });
    expect(rows.find((row) => row.label === 'Cerebras llama')).toMatchObject({ simulated: false, configured: false });
  });

  it('helpers: fallback routes and percentiles', () => {
    expect(isFallbackReason('failover:rate-limited')).toBe(true);
    expect(isFallbackReason('too-long')).toBe(true);
    expect(isFallbackReason('repo-task')).toBe(false);
    expect(isFallbackReason('cooling-down')).toBe(true);
    expect(isFallbackReason('hedge')).toBe(false);
    expect(percentileOfSorted([], 0.5)).toBeNull();
    expect(percentileOfSorted([1, 2, 3, 4], 0.5)).toBe(2);
    expect(percentileOfSorted([1, 2, 3, 4], 0.95)).toBe(4);
  });
});

describe('percentiles by selection', () => {
  it('equal nearest-rank percentiles of a sorted copy, for random series of every small size', () => {
    let seed = 42;
    const random = () => (seed = (seed * 16807) % 2147483647) / 2147483647;
    for (let size = 1; size <= 120; size++) {
      const clock = new ManualClock();
      const hub = new StatsHub({
        clock,
        scheduler: new ManualScheduler(clock, (ms) => clock.advance(ms)),
        endpoints: () => [],
      });
      const values = Array.from({ length: size }, () => Math.round(random() * 50) * 10);
      values.forEach((value, i) =>
        hub.requestFinished(i, requestRecord({}, { ttftMs: value, prefillTokensPerSec: value })),
      );
      const sorted = [...values].sort((a, b) => a - b);
      const summary = hub.snapshot().endpoints[0];
      expect(summary?.ttftMs).toEqual({
        p50: percentileOfSorted(sorted, 0.5),
        p95: percentileOfSorted(sorted, 0.95),
        count: size,
      });
      expect(summary?.prefillTokensPerSec).toBe(percentileOfSorted(sorted, 0.5));
    }
  });
});

describe('keystroke to suggestion', () => {
  it('gives each backend the p50 / p95 of its shown suggestions and the share needing no new request', () => {
    const { hub } = setup();
    hub.suggestionShown(shown(180, 'network'));
    hub.suggestionShown(shown(0.4, 'cache'));
    hub.suggestionShown(shown(250, 'network'));
    hub.suggestionShown(shown(12, 'in-flight'));
    hub.suggestionShown(shown(90, 'network'));
    // Another backend's suggestions stay under its own row.
    hub.suggestionShown(shown(900, 'network', { endpointId: 'longContext#0', endpointLabel: 'Gemini 2.5 Pro' }));
    hub.suggestionShown(shown(60, 'network'));
    const rows = hub.snapshot().endpoints;
    // Sorted: 0.4, 12, 60, 90, 180, 250. Nearest rank: p50 is the 3rd, p95 the 6th. 2 of 6 needed no request.
    expect(rows.find((row) => row.endpointId === 'burst#0')?.keystrokeToSuggestion).toEqual({
      latencyMs: { p50: 60, p95: 250, count: 6 },
      fromCacheShare: 2 / 6,
      shown: 6,
      accepted: 0,
    });
    expect(rows.find((row) => row.endpointId === 'longContext#0')?.keystrokeToSuggestion).toEqual({
      latencyMs: { p50: 900, p95: 900, count: 1 },
      fromCacheShare: 0,
      shown: 1,
      accepted: 0,
    });
    // Accepting one counts under its own backend only.
    hub.suggestionAccepted('burst#0', 'Cerebras llama3.1-8b');
    expect(hub.snapshot().endpoints.find((row) => row.endpointId === 'burst#0')?.keystrokeToSuggestion?.accepted).toBe(
      1,
    );
    // The status bar follows the backend of the newest suggestion.
    expect(hub.statusFacts().inlineSuggestions).toEqual({
      latencyMs: { p50: 60, p95: 250, count: 6 },
      fromCacheShare: 2 / 6,
      shown: 6,
      accepted: 1,
      endpoint: { label: 'Cerebras llama3.1-8b', role: 'burst', simulated: false },
    });
  });

  it('counts typing through the suggestion on screen once, and leaves out suggestions of no known backend', () => {
    const { hub } = setup();
    hub.suggestionShown(shown(200, 'network', { streamId: 7 }));
    // Typing along the ghost text: VS Code asks again and the same stream answers from the cache.
    for (let i = 0; i < 5; i++) hub.suggestionShown(shown(0.1, 'cache', { streamId: 7 }));
    hub.suggestionShown(shown(300, 'network', { streamId: 8 }));
    // Back to stream 7 after another one was shown (a deleted character): the ghost text reappears, a new showing.
    hub.suggestionShown(shown(0.2, 'cache', { streamId: 7 }));
    hub.suggestionShown(shown(5, 'network', { endpointId: null, endpointLabel: null }));
    const figures = hub.snapshot().endpoints[0]?.keystrokeToSuggestion;
    expect(figures?.latencyMs).toEqual({ p50: 200, p95: 300, count: 3 });
    expect(figures?.fromCacheShare).toBeCloseTo(1 / 3);
  });

  it('keeps each backend’s last 500, tells listeners, and forgets them on reset', () => {
    const { hub, scheduler, changes } = setup();
    for (let ms = 1; ms <= SUGGESTION_WINDOW + 100; ms++)
      hub.suggestionShown(shown(ms, ms % 4 === 0 ? 'cache' : 'network'));
    scheduler.runDue();
    expect(changes()).toBe(1);
    const figures = hub.snapshot().endpoints[0]?.keystrokeToSuggestion;
    // The window holds 101..600: p50 is its 250th value, p95 its 475th; every 4th was from the cache.
    expect(figures).toEqual({
      latencyMs: { p50: 350, p95: 575, count: SUGGESTION_WINDOW },
      fromCacheShare: 125 / 500,
      shown: SUGGESTION_WINDOW + 100,
      accepted: 0,
    });
    hub.reset();
    expect(hub.snapshot().endpoints[0]?.keystrokeToSuggestion).toBeNull();
    expect(hub.statusFacts().inlineSuggestions).toBeNull();
  });

  it('puts suggestions of a backend no longer configured on the row of its records', () => {
    const { hub } = setup();
    hub.requestFinished(1, requestRecord({ endpointId: 'burst#0', endpointLabel: 'Groq llama' }));
    hub.suggestionShown(shown(42, 'network', { endpointLabel: 'Groq llama' }));
    const rows = hub
      .snapshot()
      .endpoints.map((row) => [
        row.label,
        row.configured,
        row.requests,
        row.keystrokeToSuggestion?.latencyMs.p50 ?? null,
      ]);
    expect(rows).toHaveLength(3);
    expect(rows).toContainEqual(['Groq llama', false, 1, 42]);
    expect(rows).toContainEqual(['Cerebras llama3.1-8b', true, 0, null]);
  });

  it('loads a history file written before these figures existed, and starts them empty', () => {
    // Two lines exactly as the history file has held them since version 1 (no suggestion fields anywhere).
    const oldFile = [
      JSON.stringify(HISTORY_HEADER),
      '{"startedAtEpochMs":1700000000000,"task":"inline","endpointId":"burst#0","endpointLabel":"Cerebras llama3.1-8b","routeReason":"fits","outcome":"ok","errorReason":null,"fromCache":false,"stats":{"ttftMs":212,"decodeTokensPerSec":1184,"serverDecodeTokensPerSec":null,"outputTokens":40,"tokensSource":"server","promptTokens":1830,"cachedPromptTokens":null,"prefillTokensPerSec":null,"totalMs":260}}',
      '{"startedAtEpochMs":1700000001000,"task":"inline","endpointId":"burst#0","endpointLabel":"Cerebras llama3.1-8b","routeReason":"cache","outcome":"ok","errorReason":null,"fromCache":true,"stats":{"ttftMs":0.3,"decodeTokensPerSec":null,"serverDecodeTokensPerSec":null,"outputTokens":0,"tokensSource":"estimate","promptTokens":null,"cachedPromptTokens":null,"prefillTokensPerSec":null,"totalMs":0.3}}',
      '',
    ].join('\n');
    const parsed = parseHistoryText(oldFile, 10_000);
    expect(parsed).toMatchObject({ valid: true, damagedLines: 0 });
    const { hub } = setup();
    hub.load(parsed.records);
    const row = hub.snapshot().endpoints[0];
    expect(row).toMatchObject({
      requests: 1,
      cacheHits: 1,
      ttftMs: { p50: 212, p95: 212, count: 1 },
      keystrokeToSuggestion: null,
    });
    expect(hub.statusFacts().inlineSuggestions).toBeNull();
    // Suggestions live only in the session: the records the history file stores are unchanged.
    hub.suggestionShown(shown(80, 'network'));
    expect(hub.records()).toEqual(parsed.records);
    expect(hub.snapshot().endpoints[0]?.keystrokeToSuggestion?.latencyMs.p50).toBe(80);
  });
});

describe('predicted outputs', () => {
  it('sums accepted and rejected prediction tokens per backend and takes effective tok/s over prediction requests only', () => {
    const { hub } = setup();
    hub.requestFinished(1, requestRecord({}, { decodeTokensPerSec: 1000 }));
    hub.requestFinished(
      2,
      requestRecord(
        { task: 'refactor' },
        { acceptedPredictionTokens: 180, rejectedPredictionTokens: 20, effectiveTokensPerSec: 3600 },
      ),
    );
    hub.requestFinished(
      3,
      requestRecord(
        { task: 'next-edit' },
        { acceptedPredictionTokens: 40, rejectedPredictionTokens: 60, effectiveTokensPerSec: 1400 },
      ),
    );
    const rows = hub.snapshot().endpoints;
    expect(rows.find((row) => row.endpointId === 'burst#0')?.predictions).toEqual({
      requests: 2,
      acceptedTokens: 220,
      rejectedTokens: 80,
      effectiveTokensPerSec: { p50: 1400, p95: 3600, count: 2 },
    });
    // A backend without prediction records shows none.
    expect(rows.find((row) => row.endpointId === 'longContext#0')?.predictions).toBeNull();
  });
});

describe('next edit', () => {
  const sample = (latencyMs: number, wholeRegionMs: number | null, endpointId = 'burst#0') => ({
    endpointId,
    endpointLabel: endpointId === 'burst#0' ? 'Cerebras llama3.1-8b' : 'Gemini 2.5 Pro',
    latencyMs,
    wholeRegionMs,
  });

  it('counts next-edit requests, shown, applied and dismissed, and the edit-to-hunk latencies per backend', () => {
    const { hub, scheduler, changes } = setup();
    for (let id = 1; id <= 3; id++) hub.requestFinished(id, requestRecord({ task: 'next-edit' }));
    hub.requestFinished(4, requestRecord({ task: 'inline' }));
    hub.nextEditShown(sample(120, 300));
    hub.nextEditShown(sample(80, null));
    hub.nextEditShown(sample(200, 260));
    hub.nextEditApplied('burst#0');
    hub.nextEditApplied('burst#0');
    hub.nextEditDismissed('burst#0');
    scheduler.runDue();
    expect(changes()).toBeGreaterThan(0);
    const rows = hub.snapshot().endpoints;
    expect(rows.find((row) => row.endpointId === 'burst#0')?.nextEdit).toEqual({
      requests: 3,
      shown: 3,
      applied: 2,
      dismissed: 1,
      // 80, 120, 200: p50 the 2nd, p95 the 3rd. The whole region only where it had ended (300, 260).
      firstHunkMs: { p50: 120, p95: 200, count: 3 },
      wholeRegionMs: { p50: 260, p95: 300, count: 2 },
    });
    expect(rows.find((row) => row.endpointId === 'longContext#0')?.nextEdit).toBeNull();
  });

  it('puts applied and dismissed under the backend that showed the prediction, ignores bad latencies, and resets', () => {
    const { hub } = setup({ endpoints: [] });
    hub.nextEditShown(sample(90, 150, 'longContext#0'));
    hub.nextEditShown(sample(Number.NaN, null, 'longContext#0'));
    hub.nextEditShown(sample(-5, null, 'longContext#0'));
    hub.nextEditApplied('longContext#0');
    // A backend with nothing shown yet still counts its dismissals, under its id.
    hub.nextEditDismissed('burst#7');
    const rows = hub.snapshot().endpoints;
    expect(rows.find((row) => row.label === 'Gemini 2.5 Pro')?.nextEdit).toMatchObject({
      shown: 1,
      applied: 1,
      dismissed: 0,
      firstHunkMs: { p50: 90, p95: 90, count: 1 },
    });
    expect(rows.find((row) => row.endpointId === 'burst#7')?.nextEdit).toMatchObject({ dismissed: 1, shown: 0 });
    hub.reset();
    expect(hub.snapshot().endpoints.every((row) => row.nextEdit === null)).toBe(true);
  });

  it('works the figures out once per change, not per snapshot', () => {
    const { hub } = setup();
    hub.nextEditShown(sample(100, 200));
    const first = hub.snapshot().endpoints.find((row) => row.endpointId === 'burst#0')?.nextEdit;
    expect(hub.snapshot().endpoints.find((row) => row.endpointId === 'burst#0')?.nextEdit).toBe(first);
    hub.nextEditShown(sample(50, 200));
    expect(hub.snapshot().endpoints.find((row) => row.endpointId === 'burst#0')?.nextEdit?.shown).toBe(2);
  });
});
