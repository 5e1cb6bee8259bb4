import { describe, expect, it } from 'vitest';
import type { BackendRole, ResolvedEndpoint } from '../../../../src/core/endpoint';
import type { RequestTask } from '../../../../src/core/requestStats';
import { requiredWindowTokens, promptBudgetFor, fitsWindow } from '../../../../src/core/routing/fitCheck';
import { firstCandidateHolds, hedgePartner, planRoute } from '../../../../src/core/routing/router';
import { resolvedEndpoint } from '../../builders/endpoints';

function endpoint(role: BackendRole, index: number, contextWindow: number | null): ResolvedEndpoint {
  return resolvedEndpoint({
    id: `${role}#${index}`,
    role,
    label: `${role} ${index}`,
    target: { model: `m-${role}-${index}` },
    contextWindow,
    simulated: true,
  });
}

const burst8k = endpoint('burst', 0, 8_192);
const burst32k = endpoint('burst', 1, 32_768);
const long200k = endpoint('longContext', 0, 200_000);
const longUnknown = endpoint('longContext', 1, null);

interface Row {
  readonly name: string;
  readonly task: RequestTask;
  readonly role?: BackendRole;
  readonly endpointIds?: readonly string[];
  readonly promptTokens: number;
  readonly maxOutputTokens: number;
  readonly endpoints: readonly ResolvedEndpoint[];
  readonly resting?: Readonly<Record<string, number>>;
  /** Expected candidates as `id:reason`, in order. */
  readonly expected: readonly string[];
  readonly skipped?: readonly string[];
  readonly noRoute?: string;
  readonly retryAfterMs?: number;
}

// prettier-ignore
const table: readonly Row[] = [
  { name: 'small inline fits the first burst endpoint', task: 'inline', promptTokens: 1_000, maxOutputTokens: 128,
    endpoints: [burst8k, burst32k, long200k], expected: ['burst#0:fits', 'burst#1:fits', 'longContext#0:fits'] },
  { name: 'too long for 8k goes to the 32k burst endpoint', task: 'refactor', promptTokens: 7_000, maxOutputTokens: 1_000,
    endpoints: [burst8k, burst32k, long200k], expected: ['burst#1:too-long', 'longContext#0:too-long'],
    skipped: ['burst#0:too-long'] },
  { name: 'too long for every burst endpoint goes to long context', task: 'refactor', promptTokens: 40_000,
    maxOutputTokens: 4_000, endpoints: [burst8k, burst32k, long200k], expected: ['longContext#0:too-long'],
    skipped: ['burst#0:too-long', 'burst#1:too-long'] },
  { name: 'the safety margin counts: 7,000 estimated + 1,000 answer does not fit 8,192', task: 'refactor',
    promptTokens: 7_000, maxOutputTokens: 1_000, endpoints: [burst8k], expected: [], skipped: ['burst#0:too-long'],
    noRoute: 'too-long' },
  { name: 'repository tasks start on long context, then burst if it fits', task: 'repo', promptTokens: 2_000,
    maxOutputTokens: 1_000, endpoints: [burst8k, long200k], expected: ['longContext#0:repo-task', 'burst#0:fits'] },
  { name: 'a repository task too large for burst has no burst fallback', task: 'repo', promptTokens: 150_000,
    maxOutputTokens: 8_000, endpoints: [burst8k, long200k], expected: ['longContext#0:repo-task'],
    skipped: ['burst#0:too-long'] },
  { name: 'a resting burst endpoint is passed over as cooling-down', task: 'inline', promptTokens: 500,
    maxOutputTokens: 64, endpoints: [burst8k, burst32k, long200k], resting: { 'burst#0': 12_000 },
    expected: ['burst#1:cooling-down', 'longContext#0:cooling-down'], skipped: ['burst#0:cooling-down'] },
  { name: 'every endpoint resting: no route, retry after the shortest rest', task: 'inline', promptTokens: 500,
    maxOutputTokens: 64, endpoints: [burst8k, long200k], resting: { 'burst#0': 12_000, 'longContext#0': 3_000 },
    expected: [], skipped: ['burst#0:cooling-down', 'longContext#0:cooling-down'], noRoute: 'cooling-down',
    retryAfterMs: 3_000 },
  { name: 'requested role restricts to long context', task: 'refactor', role: 'longContext', promptTokens: 500,
    maxOutputTokens: 500, endpoints: [burst8k, long200k], expected: ['longContext#0:requested'] },
  { name: 'an unknown window is taken to fit (the server will say)', task: 'refactor', promptTokens: 300_000,
    maxOutputTokens: 1_000, endpoints: [burst8k, long200k, longUnknown], expected: ['longContext#1:too-long'],
    skipped: ['burst#0:too-long', 'longContext#0:too-long'] },
  { name: 'no endpoints configured', task: 'inline', promptTokens: 10, maxOutputTokens: 10, endpoints: [], expected: [],
    noRoute: 'no-endpoint' },
  { name: 'only long context configured serves inline as fits', task: 'inline', promptTokens: 100, maxOutputTokens: 64,
    endpoints: [long200k], expected: ['longContext#0:fits'] },
  { name: 'next edit keeps to the endpoints within its budget, without listing the others as skipped', task: 'next-edit',
    endpointIds: ['burst#1'], promptTokens: 1_000, maxOutputTokens: 400, endpoints: [burst8k, burst32k, long200k],
    expected: ['burst#1:fits'] },
  { name: 'an empty endpoint list finds no route', task: 'next-edit', endpointIds: [], promptTokens: 100,
    maxOutputTokens: 64, endpoints: [burst8k], expected: [], noRoute: 'no-endpoint' },
];

describe('planRoute (decision table)', () => {
  it.each(table)('$name', (row) => {
    const plan = planRoute(
      {
        task: row.task,
        role: row.role,
        endpointIds: row.endpointIds,
        promptTokens: row.promptTokens,
        maxOutputTokens: row.maxOutputTokens,
      },
      row.endpoints,
      { windowOf: (e) => e.contextWindow, restRemainingMs: (e) => row.resting?.[e.id] ?? 0 },
    );
    expect(plan.candidates.map((c) => `${c.endpoint.id}:${c.reason}`)).toEqual(row.expected);
    expect(plan.skipped.map((s) => `${s.endpoint.id}:${s.why}`)).toEqual(row.skipped ?? []);
    expect(plan.noRoute).toBe(row.noRoute ?? null);
    expect(plan.retryAfterMs).toBe(row.retryAfterMs ?? null);
  });

  it('uses the detected window over the configured one', () => {
    const plan = planRoute({ task: 'refactor', promptTokens: 20_000, maxOutputTokens: 1_000 }, [burst8k, long200k], {
      windowOf: (e) => (e.id === 'burst#0' ? 131_072 : e.contextWindow),
      restRemainingMs: () => 0,
    });
    expect(plan.candidates[0]?.endpoint.id).toBe('burst#0');
    expect(plan.candidates[0]?.contextWindow).toBe(131_072);
  });
});

describe('fit check', () => {
  it('adds a safety margin and template overhead to the estimate', () => {
    expect(requiredWindowTokens(1_000, 100)).toBeGreaterThan(1_100);
    expect(requiredWindowTokens(1_000, 100)).toBe(1_150 + 64 + 100);
  });
  it('promptBudgetFor is the inverse of requiredWindowTokens', () => {
    for (const window of [8_192, 32_768, 200_000]) {
      const budget = promptBudgetFor(window, 4_000);
      expect(fitsWindow(requiredWindowTokens(budget, 4_000), window)).toBe(true);
      expect(fitsWindow(requiredWindowTokens(budget + 2, 4_000), window)).toBe(false);
    }
    expect(promptBudgetFor(100, 200)).toBe(0);
  });
});

describe('hedgePartner', () => {
  const conditions = { windowOf: (e: ResolvedEndpoint) => e.contextWindow, restRemainingMs: () => 0 };
  it('pairs an inline burst primary with the second burst endpoint', () => {
    const plan = planRoute(
      { task: 'inline', promptTokens: 100, maxOutputTokens: 64 },
      [burst8k, burst32k, long200k],
      conditions,
    );
    expect(hedgePartner('inline', plan)?.id).toBe('burst#1');
  });
  it('never hedges refactors, nor onto the long-context model', () => {
    const both = planRoute(
      { task: 'refactor', promptTokens: 100, maxOutputTokens: 64 },
      [burst8k, burst32k],
      conditions,
    );
    expect(hedgePartner('refactor', both)).toBeNull();
    const single = planRoute(
      { task: 'inline', promptTokens: 100, maxOutputTokens: 64 },
      [burst8k, long200k],
      conditions,
    );
    expect(hedgePartner('inline', single)).toBeNull();
  });
});

describe('firstCandidateHolds', () => {
  const long5k = endpoint('longContext', 2, 5_000);
  const planFor = (
    promptTokens: number,
    endpoints: readonly ResolvedEndpoint[],
    resting: Readonly<Record<string, number>> = {},
  ) =>
    planRoute({ task: 'repo', promptTokens, maxOutputTokens: 4_096 }, endpoints, {
      windowOf: (e) => e.contextWindow,
      restRemainingMs: (e) => resting[e.id] ?? 0,
    });
  const firstOf = (plan: ReturnType<typeof planFor>) =>
    plan.candidates[0] === undefined ? null : `${plan.candidates[0].endpoint.id}:${plan.candidates[0].reason}`;

  it('whenever it says a plan holds, planning at the larger size names the same first candidate for the same reason', () => {
    const setups: [readonly ResolvedEndpoint[], Readonly<Record<string, number>>][] = [
      [[burst8k, long200k], {}],
      [[burst8k, burst32k, long200k], { 'longContext#0': 5_000 }],
      [[long5k, long200k], { 'longContext#2': 5_000 }],
      [[long5k, longUnknown], {}],
      [[burst8k], {}],
      [[], {}],
    ];
    let held = 0;
    for (const [endpoints, resting] of setups) {
      const small = planFor(0, endpoints, resting);
      for (const promptTokens of [0, 500, 700, 3_000, 25_000, 170_000, 400_000]) {
        const large = planFor(promptTokens, endpoints, resting);
        if (!firstCandidateHolds(small, large.requiredTokens)) continue;
        held += 1;
        expect(firstOf(large)).toBe(firstOf(small));
      }
    }
    expect(held).toBeGreaterThan(20);
  });

  it('does not hold when the first window is outgrown, or a resting endpoint would now be too small', () => {
    const outgrown = planFor(0, [long5k, burst32k]);
    expect(firstOf(outgrown)).toBe('longContext#2:repo-task');
    expect(firstCandidateHolds(outgrown, planFor(1_000, [long5k, burst32k]).requiredTokens)).toBe(false);
    expect(firstOf(planFor(1_000, [long5k, burst32k]))).toBe('burst#1:too-long');

    const resting = { 'longContext#2': 5_000 };
    const passedOver = planFor(0, [long5k, long200k], resting);
    expect(firstOf(passedOver)).toBe('longContext#0:cooling-down');
    expect(firstCandidateHolds(passedOver, planFor(1_000, [long5k, long200k], resting).requiredTokens)).toBe(false);
    expect(firstOf(planFor(1_000, [long5k, long200k], resting))).toBe('longContext#0:too-long');
  });

  it('holds for a plan with no candidate: a larger request finds none either', () => {
    expect(firstCandidateHolds(planFor(0, []), 1_000_000)).toBe(true);
  });
});

describe('ContextWindowBook', () => {
  it('uses the detected window once known, the configured one before, and detects each endpoint once', async () => {
    const { ContextWindowBook } = await import('../../../../src/core/routing/contextWindowBook');
    let calls = 0;
    const detected: string[] = [];
    const book = new ContextWindowBook(
      async (e) => {
        calls += 1;
        return {
          contextWindow: e.id === 'burst#0' ? 131_072 : null,
          source: e.id === 'burst#0' ? 'endpoint' : 'unknown',
          detail: 'test',
        };
      },
      (e, info) => detected.push(`${e.id}:${info.contextWindow}`),
    );
    expect(book.windowOf(burst8k)).toBe(8_192);
    expect(book.infoOf(burst8k).source).toBe('configured');
    await book.refresh([burst8k, longUnknown]);
    expect(book.windowOf(burst8k)).toBe(131_072);
    expect(book.infoOf(burst8k).source).toBe('endpoint');
    expect(book.windowOf(longUnknown)).toBeNull();
    await book.refresh([burst8k, longUnknown]);
    expect(calls).toBe(2);
    expect(detected).toEqual(['burst#0:131072', 'longContext#1:null']);
  });
});
