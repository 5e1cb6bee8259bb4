import { describe, expect, it } from 'vitest';
import type { EndpointPrice } from '../../../../src/core/cost/costTypes';
import {
  budgetLimits,
  budgetStage,
  cheapestHealthy,
  DailyBudget,
  describeStageEntered,
  promptCostUsd,
  repoBudgetQuestion,
  speculationAllowed,
  typingPauseRequired,
  type StageChange,
} from '../../../../src/core/cost/dailyBudget';
import type { ResolvedEndpoint } from '../../../../src/core/endpoint';
import { resolvedEndpoint } from '../../builders/endpoints';

const priced = (inputPerMillion: number, outputPerMillion: number): EndpointPrice => ({
  kind: 'priced',
  prices: { inputPerMillion, cachedInputPerMillion: null, outputPerMillion },
  source: 'preset',
  readOn: '2026-11-01',
});

describe('budgetStage', () => {
  it('is normal without a budget, whatever was spent', () => {
    expect(budgetStage(1_000, 0)).toBe('normal');
    expect(budgetStage(1_000, -5)).toBe('normal');
    expect(budgetStage(1_000, Number.NaN)).toBe('normal');
  });

  it('moves through the stages at 70%, 85% and 100% of the budget', () => {
    expect(budgetStage(6.99, 10)).toBe('normal');
    expect(budgetStage(7, 10)).toBe('no-speculation');
    expect(budgetStage(8.49, 10)).toBe('no-speculation');
    expect(budgetStage(8.5, 10)).toBe('typing-pause');
    expect(budgetStage(9.99, 10)).toBe('typing-pause');
    expect(budgetStage(10, 10)).toBe('cheapest');
    expect(budgetStage(25, 10)).toBe('cheapest');
  });

  it('holds back speculation from the first stage on and asks for a typing pause from the second', () => {
    expect([
      speculationAllowed('normal'),
      speculationAllowed('no-speculation'),
      speculationAllowed('cheapest'),
    ]).toEqual([true, false, false]);
    expect([
      typingPauseRequired('no-speculation'),
      typingPauseRequired('typing-pause'),
      typingPauseRequired('cheapest'),
    ]).toEqual([false, true, true]);
  });
});

describe('DailyBudget', () => {
  function setup(budgetUsd = 10) {
    const state = { spent: 0, budget: budgetUsd, day: '2026-12-03' };
    const changes: StageChange[] = [];
    const budget = new DailyBudget({
      dailyBudgetUsd: () => state.budget,
      spentTodayUsd: () => state.spent,
      today: () => state.day,
      onChange: (change) => changes.push(change),
    });
    return { state, changes, budget };
  }

  it('reports each change of stage once, and announces each stage once a day', () => {
    const { state, changes, budget } = setup();
    expect(budget.stage()).toBe('normal');
    expect(changes).toHaveLength(0);
    state.spent = 7.2;
    expect(budget.stage()).toBe('no-speculation');
    expect(budget.stage()).toBe('no-speculation');
    expect(changes.map((change) => [change.from, change.to, change.announce])).toEqual([
      ['normal', 'no-speculation', true],
    ]);
    expect(changes[0]?.logLine).toBe('Daily budget: normal -> no-speculation (spent $7.20 of $10.00 today)');
    // The person raises the budget, then lowers it again: the stage is logged again but announced only once today.
    state.budget = 20;
    expect(budget.stage()).toBe('normal');
    state.budget = 10;
    expect(budget.stage()).toBe('no-speculation');
    expect(changes.map((change) => change.announce)).toEqual([true, false, false]);
    state.spent = 10;
    expect(budget.stage()).toBe('cheapest');
    expect(changes.at(-1)).toMatchObject({ from: 'no-speculation', to: 'cheapest', announce: true });
  });

  it('announces again on a new day', () => {
    const { state, changes, budget } = setup();
    state.spent = 9;
    budget.stage();
    state.day = '2026-12-04';
    state.spent = 0;
    budget.stage();
    state.spent = 9;
    budget.stage();
    expect(changes.map((change) => [change.to, change.announce])).toEqual([
      ['typing-pause', true],
      ['normal', false],
      ['typing-pause', true],
    ]);
  });

  it('asks before a repository task that the budget does not cover', () => {
    const { state, budget } = setup();
    state.spent = 9.8;
    expect(budget.questionBeforeSending(100_000, priced(3, 15))).toBe(
      "Today's spend $9.80 of $10.00 budget; this question costs about $0.30. Send anyway?",
    );
    expect(budget.questionBeforeSending(100_000, priced(1, 5))).toBeNull();
  });
});

describe('repoBudgetQuestion', () => {
  it('asks when the spend has reached the budget, even for a free backend', () => {
    expect(repoBudgetQuestion(10, 10, 50_000, { kind: 'free', why: 'self-hosted' })).toBe(
      "Today's spend $10.00 of $10.00 budget; this question costs about $0.00. Send anyway?",
    );
  });

  it('asks when this prompt would take the spend past the budget, and not when it fits', () => {
    expect(repoBudgetQuestion(4, 5, 200_000, priced(6, 30))).toContain('costs about $1.20');
    expect(repoBudgetQuestion(3, 5, 200_000, priced(6, 30))).toBeNull();
  });

  it('says an unknown cost is unknown, and asks only once the budget is reached', () => {
    expect(repoBudgetQuestion(4.99, 5, 200_000, { kind: 'unknown' })).toBeNull();
    expect(repoBudgetQuestion(5, 5, 200_000, { kind: 'unknown' })).toContain('the cost of this question is unknown');
  });

  it('never asks without a budget', () => {
    expect(repoBudgetQuestion(100, 0, 1_000_000, priced(15, 75))).toBeNull();
  });

  it('prices the prompt at the input price, with small costs shown to two significant figures', () => {
    expect(promptCostUsd(1_000, priced(0.1, 1))).toBeCloseTo(0.0001);
    expect(repoBudgetQuestion(5, 5, 1_000, priced(0.1, 1))).toContain('costs about $0.00010');
  });
});

describe('describeStageEntered', () => {
  it('names the figures, what is held back now, and the setting that changes it', () => {
    const message = describeStageEntered('typing-pause', 8.6, 10);
    expect(message).toContain("Today's spend $8.60 is 86% of the $10.00 daily budget");
    expect(message).toContain('wait for a pause in typing');
    expect(message).toContain('latencyCopilot.cost.dailyBudgetUsd');
    expect(describeStageEntered('no-speculation', 7, 10)).toContain('hedged and speculative requests');
    expect(describeStageEntered('cheapest', 10, 10)).toContain('cheapest healthy backend');
  });
});

describe('cheapestHealthy', () => {
  const a = resolvedEndpoint({ id: 'burst#0', label: 'Fast' });
  const b = resolvedEndpoint({ id: 'burst#1', label: 'Cheap' });
  const c = resolvedEndpoint({ id: 'burst#2', label: 'Local' });
  const d = resolvedEndpoint({ id: 'burst#3', label: 'Mystery' });
  const prices: Readonly<Record<string, EndpointPrice>> = {
    'burst#0': priced(0.6, 1.2),
    'burst#1': priced(0.1, 0.4),
    'burst#2': { kind: 'free', why: 'local-engine' },
    'burst#3': { kind: 'unknown' },
  };
  const priceOf = (endpoint: ResolvedEndpoint): EndpointPrice => prices[endpoint.id] ?? { kind: 'unknown' };

  it('picks a free backend first, then the lowest output price, then input, and unknown prices last', () => {
    expect(cheapestHealthy([a, b, c, d], priceOf, () => false)?.label).toBe('Local');
    expect(cheapestHealthy([d, a, b], priceOf, () => false)?.label).toBe('Cheap');
    expect(cheapestHealthy([d, a], priceOf, () => false)?.label).toBe('Fast');
    const sameOutput = (endpoint: ResolvedEndpoint): EndpointPrice =>
      endpoint.id === 'burst#0' ? priced(0.5, 1) : priced(0.2, 1);
    expect(cheapestHealthy([a, b], sameOutput, () => false)?.label).toBe('Cheap');
  });

  it('passes over resting backends, and gives null when every one rests', () => {
    expect(cheapestHealthy([a, b, c], priceOf, (id) => id === 'burst#2')?.label).toBe('Cheap');
    expect(cheapestHealthy([a, b], priceOf, () => true)).toBeNull();
    expect(cheapestHealthy([], priceOf, () => false)).toBeNull();
  });

  it('limits requests to it only at the cheapest stage', () => {
    const pick = () => cheapestHealthy([a, b], priceOf, () => false);
    expect(budgetLimits('typing-pause', pick)).toEqual({ stage: 'typing-pause', endpointIds: null });
    expect(budgetLimits('cheapest', pick)).toEqual({ stage: 'cheapest', endpointIds: ['burst#1'] });
    expect(budgetLimits('cheapest', () => null)).toEqual({ stage: 'cheapest', endpointIds: null });
  });
});
