import { describe, expect, it } from 'vitest';
import {
  chainDepth,
  describeNextEditStatus,
  estimateNextEditMs,
  judgeNextEditBudget,
  MAX_CHAIN_DEPTH,
  type MeasuredSpeed,
} from '../../../../src/core/nextEdit/nextEditBudget';
import { resolvedEndpoint } from '../../builders/endpoints';

const slow = resolvedEndpoint({ id: 'burst#0', label: 'Slow burst' });
const fast = resolvedEndpoint({ id: 'burst#1', label: 'Fast burst' });
const longContext = resolvedEndpoint({ id: 'longContext#0', role: 'longContext', label: 'Long model' });

function speeds(table: Readonly<Record<string, MeasuredSpeed>>): (id: string) => MeasuredSpeed | null {
  return (id) => table[id] ?? null;
}

describe('the next-edit latency budget', () => {
  it('estimates p95 TTFT plus the region at the decode speed', () => {
    expect(estimateNextEditMs({ ttftP95Ms: 150, decodeTokensPerSec: 1_000 }, 250)).toBe(400);
    expect(estimateNextEditMs({ ttftP95Ms: 30, decodeTokensPerSec: 3_000 }, 300)).toBe(130);
    expect(estimateNextEditMs({ ttftP95Ms: null, decodeTokensPerSec: 3_000 }, 300)).toBeNull();
    expect(estimateNextEditMs(null, 300)).toBeNull();
    expect(estimateNextEditMs({ ttftP95Ms: 10, decodeTokensPerSec: 0 }, 300)).toBe(Number.POSITIVE_INFINITY);
  });

  it('passes over a backend over the budget for a faster one, in routing order', () => {
    const verdict = judgeNextEditBudget(
      [slow, fast, longContext],
      speeds({
        'burst#0': { ttftP95Ms: 300, decodeTokensPerSec: 500 },
        'burst#1': { ttftP95Ms: 40, decodeTokensPerSec: 3_000 },
        'longContext#0': { ttftP95Ms: 900, decodeTokensPerSec: 80 },
      }),
      250,
      400,
    );
    expect(verdict.usableIds).toEqual(['burst#1']);
    const status = describeNextEditStatus(true, [slow, fast, longContext], verdict);
    expect(status.state).toBe('on');
    expect(status.endpointLabel).toBe('Fast burst');
    expect(status.detail).toContain('Fast burst, ~123 ms (p95 TTFT 40 ms + 250 tokens at 3,000 tok/s), budget 400 ms');
    expect(status.detail).toContain('Passed over: Slow burst ~800 ms');
  });

  it('tries an unmeasured backend, so that it gets measured', () => {
    const verdict = judgeNextEditBudget([slow], speeds({}), 250, 400);
    expect(verdict.usableIds).toEqual(['burst#0']);
    expect(describeNextEditStatus(true, [slow], verdict).detail).toContain('not measured yet');
  });

  it('says why next edit is paused when no backend fits, naming the fastest and what to change', () => {
    const verdict = judgeNextEditBudget(
      [slow, longContext],
      speeds({
        'burst#0': { ttftP95Ms: 300, decodeTokensPerSec: 500 },
        'longContext#0': { ttftP95Ms: 900, decodeTokensPerSec: 80 },
      }),
      250,
      400,
    );
    expect(verdict.usableIds).toEqual([]);
    const status = describeNextEditStatus(true, [slow, longContext], verdict);
    expect(status.state).toBe('over-budget');
    expect(status.detail).toContain('no backend fits the 400 ms budget');
    expect(status.detail).toContain('The fastest, Slow burst, takes ~800 ms');
    expect(status.detail).toContain('latencyCopilot.nextEdit.budgetMs');
  });

  it('says off and no backend plainly', () => {
    expect(describeNextEditStatus(false, [slow], null).state).toBe('off');
    expect(describeNextEditStatus(true, [], null).state).toBe('no-backend');
  });

  it('chains as many predictions ahead as fit the budget after the shown one', () => {
    expect(chainDepth(100, 400)).toBe(MAX_CHAIN_DEPTH);
    expect(chainDepth(130, 400)).toBe(2);
    expect(chainDepth(190, 400)).toBe(1);
    expect(chainDepth(250, 400)).toBe(0);
    expect(chainDepth(null, 400)).toBe(1);
  });
});
