import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../../../src/core/clock';
import type { EndpointPrice } from '../../../../src/core/cost/costTypes';
import type { ResolvedEndpoint } from '../../../../src/core/endpoint';
import type { RequestRecord, RequestStats } from '../../../../src/core/requestStats';
import { ManualScheduler } from '../../../../src/core/scheduler';
import { COST_DAYS_SHOWN } from '../../../../src/core/speed/panelProtocol';
import type { EndpointSummary } from '../../../../src/core/speed/panelProtocol';
import { localDate } from '../../../../src/core/cost/dailyBudget';
import { StatsHub, isPromptCacheHit } from '../../../../src/core/speed/statsHub';
import { resolvedEndpoint } from '../../builders/endpoints';
import { requestRecord } from '../../builders/requestRecords';

/** $1 per million prompt tokens, $0.10 cached, $10 per million output tokens: easy sums. */
const PRICED: EndpointPrice = {
  kind: 'priced',
  prices: { inputPerMillion: 1, cachedInputPerMillion: 0.1, outputPerMillion: 10 },
  source: 'preset',
  readOn: '2026-11-01',
};

const priced = resolvedEndpoint({ id: 'burst#0', label: 'Paid burst', target: { model: 'fast' }, price: PRICED });
const unknown = resolvedEndpoint({
  id: 'burst#1',
  label: 'Mystery burst',
  target: { model: 'mystery' },
  price: { kind: 'unknown' },
});
const free = resolvedEndpoint({
  id: 'longContext#0',
  role: 'longContext',
  label: 'Local server',
  target: { model: 'local' },
  price: { kind: 'free', why: 'self-hosted' },
});

/** 10:00 local time on 3 December 2026: "today" in these tests. */
const TODAY_10AM = new Date(2026, 11, 3, 10, 0).getTime();
const YESTERDAY_10AM = new Date(2026, 11, 2, 10, 0).getTime();

/** 200 prompt tokens (none cached, as the server reported), 50 output: $0.0002 + $0.0005 = $0.0007 at `PRICED`. */
const COST_OF_ONE = 0.0007;

function record(
  endpoint: ResolvedEndpoint,
  overrides: Partial<RequestRecord> = {},
  stats: Partial<RequestStats> = {},
): RequestRecord {
  return requestRecord(
    {
      startedAtEpochMs: TODAY_10AM,
      endpointId: `${endpoint.id}:${endpoint.target.model}`,
      endpointLabel: endpoint.label,
      ...overrides,
    },
    { promptTokens: 200, cachedPromptTokens: 0, outputTokens: 50, ...stats },
  );
}

function setup(endpoints: readonly ResolvedEndpoint[] = [priced, unknown, free]) {
  const clock = new ManualClock(1_000);
  const scheduler = new ManualScheduler(clock, (ms) => clock.advance(ms));
  let epochMs = TODAY_10AM + 60_000;
  const hub = new StatsHub({ clock, scheduler, endpoints: () => endpoints, epochNow: () => epochMs });
  let nextId = 1;
  const finish = (...records: RequestRecord[]) => {
    for (const one of records) hub.requestFinished(nextId++, one);
  };
  return {
    hub,
    finish,
    setEpoch: (ms: number) => {
      epochMs = ms;
    },
  };
}

function row(hub: StatsHub, label: string): EndpointSummary {
  const found = hub.snapshot().endpoints.find((endpoint) => endpoint.label === label);
  if (found === undefined) throw new Error(`no row ${label}`);
  return found;
}

describe('StatsHub cost figures', () => {
  it('sums a priced backend: total, mean per request, wasted share and speed per dollar', () => {
    const { hub, finish } = setup();
    finish(
      record(priced),
      record(priced, {}, { decodeTokensPerSec: 3000 }),
      // Typed past before a token came: the prompt is still billed, and nothing was shown.
      record(priced, { outcome: 'cancelled' }, { outputTokens: 0, ttftMs: null, decodeTokensPerSec: null }),
    );
    const cost = row(hub, 'Paid burst').cost;
    const wasted = 200 / 1_000_000;
    expect(cost?.price).toEqual(PRICED);
    expect(cost?.spend.usd).toBeCloseTo(2 * COST_OF_ONE + wasted, 12);
    expect(cost?.spend).toMatchObject({ pricedRequests: 3, unknownRequests: 0, estimated: false });
    expect(cost?.perRequestUsd).toBeCloseTo((2 * COST_OF_ONE + wasted) / 3, 12);
    expect(cost?.wastedShare).toBeCloseTo(wasted / (2 * COST_OF_ONE + wasted), 12);
    // Decode p50 of [1000, 3000] is 1000 tok/s, at $10 per million output tokens.
    expect(cost?.tokensPerSecPerDollar).toBe(100);
  });

  it('counts failed requests and empty answers as spend that showed nothing', () => {
    const { hub, finish } = setup();
    finish(
      record(priced),
      record(priced, { outcome: 'error', errorReason: 'http' }, { outputTokens: 0 }),
      record(priced, {}, { outputTokens: 0 }),
    );
    const cost = row(hub, 'Paid burst').cost;
    expect(cost?.wastedShare).toBeCloseTo((2 * 200) / (200 + 500 + 2 * 200), 12);
  });

  it('never shows an unknown price as zero: requests are counted apart and per-request is null', () => {
    const { hub, finish } = setup();
    finish(record(unknown), record(unknown), record(priced));
    const cost = row(hub, 'Mystery burst').cost;
    expect(cost?.price).toEqual({ kind: 'unknown' });
    expect(cost?.spend).toEqual({ usd: 0, pricedRequests: 0, unknownRequests: 2, estimated: false });
    expect(cost?.perRequestUsd).toBeNull();
    expect(cost?.wastedShare).toBeNull();
    expect(cost?.tokensPerSecPerDollar).toBeNull();
    const total = hub.snapshot().cost.total;
    expect(total.usd).toBeCloseTo(COST_OF_ONE, 12);
    expect(total).toMatchObject({ pricedRequests: 1, unknownRequests: 2 });
  });

  it('a free backend costs 0 and has no speed per dollar (nothing to divide by)', () => {
    const { hub, finish } = setup();
    finish(record(free), record(free));
    const cost = row(hub, 'Local server').cost;
    expect(cost?.spend).toEqual({ usd: 0, pricedRequests: 2, unknownRequests: 0, estimated: false });
    expect(cost?.perRequestUsd).toBe(0);
    expect(cost?.tokensPerSecPerDollar).toBeNull();
  });

  it('labels a cost estimated when the server did not report its cached prompt tokens', () => {
    const { hub, finish } = setup();
    finish(record(priced, {}, { cachedPromptTokens: null }));
    expect(row(hub, 'Paid burst').cost?.spend.estimated).toBe(true);
    expect(hub.snapshot().cost.total.estimated).toBe(true);
  });

  it('has no cost row before a backend’s first request, and completion-cache hits cost nothing', () => {
    const { hub, finish } = setup();
    expect(row(hub, 'Paid burst').cost).toBeNull();
    hub.cacheServed(record(priced, { fromCache: true, routeReason: 'cache' }));
    expect(row(hub, 'Paid burst').cost).toBeNull();
    finish(record(priced));
    expect(row(hub, 'Paid burst').cost?.spend.pricedRequests).toBe(1);
  });

  it('sets this session’s spend against shown suggestions and applied next edits; loaded history is left out', () => {
    const { hub, finish } = setup();
    // A day of history: spend, but no shown counts survive a restart, so it must not make "per shown" dearer.
    hub.load([
      record(priced, { startedAtEpochMs: YESTERDAY_10AM }),
      record(priced, { startedAtEpochMs: YESTERDAY_10AM }),
    ]);
    finish(record(priced), record(priced), record(priced, { task: 'next-edit' }), record(priced, { task: 'refactor' }));
    const streams = [1, 2];
    for (const streamId of streams) {
      hub.suggestionShown({
        endpointId: priced.id,
        endpointLabel: priced.label,
        latencyMs: 40,
        source: 'network',
        streamId,
      });
    }
    hub.nextEditShown({ endpointId: priced.id, endpointLabel: priced.label, latencyMs: 300, wholeRegionMs: null });
    hub.nextEditApplied(priced.id);
    let cost = row(hub, 'Paid burst').cost;
    // Three inline and next-edit requests this session over three shown (two inline, one next edit).
    expect(cost?.perShownUsd).toBeCloseTo(COST_OF_ONE, 12);
    // The same three requests bought one accepted suggestion (the applied hunk).
    expect(cost?.perAcceptedUsd).toBeCloseTo(3 * COST_OF_ONE, 12);
    // The person takes one ghost text with Tab: two accepted now.
    hub.suggestionAccepted(priced.id, priced.label);
    cost = row(hub, 'Paid burst').cost;
    expect(cost?.perAcceptedUsd).toBeCloseTo(1.5 * COST_OF_ONE, 12);
    // An acceptance for a backend that showed nothing this session is not counted.
    hub.suggestionAccepted('burst#9', 'Never shown');
    expect(row(hub, 'Paid burst').cost?.perAcceptedUsd).toBeCloseTo(1.5 * COST_OF_ONE, 12);
    expect(cost?.spend.pricedRequests).toBe(6);
  });

  it('has no per-shown or per-accepted figure before anything was shown or applied', () => {
    const { hub, finish } = setup();
    finish(record(priced));
    const cost = row(hub, 'Paid burst').cost;
    expect(cost?.perShownUsd).toBeNull();
    expect(cost?.perAcceptedUsd).toBeNull();
  });

  it('spends per task kind (in a fixed order) and per local day, newest first, with today apart', () => {
    const { hub, finish } = setup();
    hub.load([
      record(priced, { startedAtEpochMs: YESTERDAY_10AM, task: 'repo' }),
      record(unknown, { startedAtEpochMs: YESTERDAY_10AM }),
    ]);
    finish(record(priced, { task: 'next-edit' }), record(priced), record(priced));
    const cost = hub.snapshot().cost;
    expect(cost.byTask.map((entry) => [entry.task, entry.spend.pricedRequests, entry.spend.unknownRequests])).toEqual([
      ['inline', 2, 1],
      ['next-edit', 1, 0],
      ['repo', 1, 0],
    ]);
    expect(cost.today).toBe(localDate(TODAY_10AM));
    expect(cost.byDay.map((entry) => entry.day)).toEqual([localDate(TODAY_10AM), localDate(YESTERDAY_10AM)]);
    expect(cost.byDay[1]?.spend).toMatchObject({ pricedRequests: 1, unknownRequests: 1 });
    expect(cost.todaySpend?.usd).toBeCloseTo(3 * COST_OF_ONE, 12);
  });

  it(`keeps the newest ${COST_DAYS_SHOWN} days`, () => {
    const { hub } = setup();
    hub.load(
      Array.from({ length: COST_DAYS_SHOWN + 3 }, (_, day) =>
        record(priced, { startedAtEpochMs: new Date(2026, 10, 1 + day, 12).getTime() }),
      ),
    );
    const days = hub.snapshot().cost.byDay;
    expect(days).toHaveLength(COST_DAYS_SHOWN);
    expect(days[0]?.day).toBe('2026-11-10');
  });

  it('tells the status bar today’s spend, kept up to date as requests finish and started afresh at midnight', () => {
    const { hub, finish, setEpoch } = setup();
    hub.load([record(priced, { startedAtEpochMs: YESTERDAY_10AM })]);
    expect(hub.statusFacts().todaySpend).toBeNull();
    finish(record(priced));
    expect(hub.statusFacts().todaySpend?.usd).toBeCloseTo(COST_OF_ONE, 12);
    finish(record(priced), record(unknown), record(priced, { fromCache: true, routeReason: 'cache' }));
    expect(hub.statusFacts().todaySpend).toMatchObject({ pricedRequests: 2, unknownRequests: 1 });
    expect(hub.statusFacts().todaySpend?.usd).toBeCloseTo(2 * COST_OF_ONE, 12);
    setEpoch(new Date(2026, 11, 4, 0, 5).getTime());
    expect(hub.statusFacts().todaySpend).toBeNull();
  });

  it('prices a backend that is not configured by the price it had on a live route', () => {
    const { hub } = setup([]);
    const handMade = resolvedEndpoint({ id: 'burst#7', label: 'Hand-made', target: { model: 'h' }, price: PRICED });
    hub.requestStarted({
      id: 1,
      task: 'inline',
      route: () => ({ endpoint: handMade, reason: 'fits' }),
      liveTokensPerSec: () => null,
      outputTokens: () => 0,
    });
    hub.requestFinished(1, record(handMade));
    // Records of another backend known only from history: its price is not known.
    hub.requestFinished(2, record(resolvedEndpoint({ id: 'burst#8', label: 'Gone', price: PRICED })));
    expect(row(hub, 'Hand-made').cost?.spend.usd).toBeCloseTo(COST_OF_ONE, 12);
    expect(row(hub, 'Gone').cost?.spend.unknownRequests).toBe(1);
  });

  it('counts today from the history loaded at start', () => {
    const { hub } = setup();
    hub.load([record(priced, { startedAtEpochMs: TODAY_10AM - 60_000 })]);
    expect(hub.statusFacts().todaySpend?.pricedRequests).toBe(1);
    hub.reset();
    expect(hub.statusFacts().todaySpend).toBeNull();
  });
});

describe('StatsHub prompt cache figures', () => {
  it('sums cached prompt tokens and splits TTFT by hit (more than half the prompt cached) and miss', () => {
    const { hub, finish } = setup();
    finish(
      record(priced, { task: 'repo' }, { promptTokens: 10_000, cachedPromptTokens: 9_500, ttftMs: 120 }),
      record(priced, { task: 'repo' }, { promptTokens: 10_000, cachedPromptTokens: 9_000, ttftMs: 140 }),
      record(priced, { task: 'repo' }, { promptTokens: 10_000, cachedPromptTokens: 0, ttftMs: 900 }),
      // Its server did not say: no evidence either way.
      record(priced, { task: 'repo' }, { promptTokens: 10_000, cachedPromptTokens: null, ttftMs: 5_000 }),
    );
    expect(row(hub, 'Paid burst').promptCache).toEqual({
      requests: 3,
      promptTokens: 30_000,
      cachedPromptTokens: 18_500,
      hitShare: 18_500 / 30_000,
      hits: 2,
      ttftHitMs: 120,
      ttftMissMs: 900,
    });
  });

  it('has no cache figures for a server that never reports cached prompt tokens', () => {
    const { hub, finish } = setup();
    finish(record(free, {}, { cachedPromptTokens: null }));
    expect(row(hub, 'Local server').promptCache).toBeNull();
  });

  it('a hit is more than half the prompt', () => {
    expect(isPromptCacheHit(1_000, 501)).toBe(true);
    expect(isPromptCacheHit(1_000, 500)).toBe(false);
  });
});
