import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../../../src/core/clock';
import { BackendError } from '../../../../src/core/errors';
import { ManualScheduler } from '../../../../src/core/scheduler';
import { roughTokenCount } from '../../../../src/core/stream/meter';
import { editableRegion } from '../../../../src/core/nextEdit/editableRegion';
import type { MeasuredSpeed } from '../../../../src/core/nextEdit/nextEditBudget';
import type { BudgetLimits } from '../../../../src/core/cost/dailyBudget';
import type { ResolvedEndpoint } from '../../../../src/core/endpoint';
import {
  applyHunks,
  BASE_TYPING_PAUSE_MS,
  BUDGET_TYPING_PAUSE_MS,
  NextEditEngine,
  type NextEditOptions,
} from '../../../../src/core/nextEdit/nextEditEngine';
import { buildNextEditPrompt } from '../../../../src/core/nextEdit/nextEditFormats';
import type {
  NextEditDocumentSnapshot,
  NextEditOutcome,
  NextEditPredictionInfo,
  PredictedHunk,
} from '../../../../src/core/nextEdit/nextEditTypes';
import { resolvedEndpoint } from '../../builders/endpoints';
import { ScriptedGenerationService } from '../../builders/scriptedGenerationService';

const endpoint = resolvedEndpoint({ id: 'burst#0', label: 'Fast burst', target: { model: 'llama-3.1-8b' } });

const ORIGINAL = [
  'function total(items, rate) {',
  '  let sum = 0;',
  '  for (const item of items) {',
  '    sum += item.price * rate;',
  '    log(item.name);',
  '  }',
  '  return sum * rate;',
  '}',
  '',
].join('\n');

/** The person renamed `rate` to `taxRate` in the signature; its uses below are the edits to predict. */
const AFTER_RENAME = ORIGINAL.replace('items, rate)', 'items, taxRate)');
const CURSOR = AFTER_RENAME.indexOf('taxRate') + 'taxRate'.length;

function snapshot(text = AFTER_RENAME, cursorOffset = CURSOR, version = 2): NextEditDocumentSnapshot {
  return {
    documentKey: 'file:///w/total.js',
    version,
    path: 'total.js',
    languageId: 'javascript',
    text,
    cursorOffset,
    history: () => [
      {
        path: 'total.js',
        diff: '--- a/total.js\n+++ b/total.js\n@@ -1 +1 @@\n-function total(items, rate) {\n+function total(items, taxRate) {\n',
      },
    ],
    snippets: () => [],
  };
}

interface Seen {
  readonly hunks: { readonly id: number; readonly hunks: readonly PredictedHunk[] }[];
  readonly ended: { readonly info: NextEditPredictionInfo; readonly outcome: NextEditOutcome }[];
}

interface SetupExtras {
  readonly budget?: () => BudgetLimits;
  readonly endpoints?: readonly ResolvedEndpoint[];
  readonly speedOf?: (endpointId: string) => MeasuredSpeed | null;
}

function setup(
  options: Partial<NextEditOptions> = {},
  speed: MeasuredSpeed | null = null,
  serving = endpoint,
  extras: SetupExtras = {},
) {
  const clock = new ManualClock(1_000);
  const scheduler = new ManualScheduler(clock, (ms) => clock.advance(ms));
  const service = new ScriptedGenerationService(serving);
  const logLines: string[] = [];
  const engine = new NextEditEngine({
    service,
    clock,
    scheduler,
    countTokens: roughTokenCount,
    options: () => ({ enabled: true, regionLines: 10, historyEdits: 6, budgetMs: 400, format: 'generic', ...options }),
    endpoints: () => extras.endpoints ?? [serving],
    speedOf: extras.speedOf ?? (() => speed),
    log: (line) => logLines.push(line),
    ...(extras.budget === undefined ? {} : { budget: extras.budget }),
  });
  const seen: Seen = { hunks: [], ended: [] };
  engine.subscribe({
    hunks: (info, hunks) => seen.hunks.push({ id: info.id, hunks }),
    ended: (info, outcome) => seen.ended.push({ info, outcome }),
  });
  return { clock, scheduler, service, engine, seen, logLines };
}

/** The answer a chat model gives in the generic format when it rewrites the region into `newText`. */
function answerFor(text: string, cursorOffset: number, newText: string): string {
  const region = editableRegion(text, cursorOffset, 10);
  const prompt = buildNextEditPrompt('generic', {
    path: 'total.js',
    languageId: 'javascript',
    text,
    region,
    history: [],
    snippets: [],
  });
  const newRegion = newText.slice(region.start, newText.length - (text.length - region.end));
  return prompt.expectedAnswer.replace(region.text, newRegion);
}

async function settle(): Promise<void> {
  for (let index = 0; index < 20; index += 1) await new Promise((resolve) => setImmediate(resolve));
}

const RENAMED = AFTER_RENAME.replaceAll(' rate', ' taxRate');

describe('NextEditEngine', () => {
  it('waits for a pause after typing, but starts at once after a structural edit', async () => {
    const { service, engine, scheduler } = setup();
    engine.edited(() => snapshot(), 'typing');
    await settle();
    expect(service.runs).toHaveLength(0);
    scheduler.advance(BASE_TYPING_PAUSE_MS - 1);
    expect(service.runs).toHaveLength(0);
    scheduler.advance(1);
    expect(service.runs).toHaveLength(1);
    engine.edited(() => snapshot(), 'structural');
    expect(service.runs).toHaveLength(2);
    expect(service.runs[1]?.spec.task).toBe('next-edit');
    expect(service.runs[1]?.spec.endpointIds).toEqual(['burst#0']);
  });

  it('sends the unchanged region as the predicted output only to an endpoint that takes one', async () => {
    const plain = setup();
    plain.engine.edited(() => snapshot(), 'structural');
    await settle();
    expect(plain.service.runs[0]?.plan?.request.prediction).toBeUndefined();

    const predicting = setup({}, null, resolvedEndpoint({ ...endpoint, predictedOutputs: true }));
    predicting.engine.edited(() => snapshot(), 'structural');
    await settle();
    const request = predicting.service.runs[0]?.plan?.request;
    expect(request?.prediction).toBe(answerFor(AFTER_RENAME, CURSOR, AFTER_RENAME));
    expect(request?.temperature).toBe(0);
  });

  it('a newer edit aborts the prediction in flight', async () => {
    const { service, engine } = setup();
    engine.edited(() => snapshot(), 'structural');
    await settle();
    engine.edited(() => snapshot(), 'structural');
    await settle();
    expect(service.runs[0]?.aborted()).toBe(true);
    expect(service.runs[1]?.aborted()).toBe(false);
  });

  it('shows the first hunk before the region is complete, and applies nothing until the whole answer passed', async () => {
    const { service, engine, seen } = setup();
    engine.edited(() => snapshot(), 'structural');
    await settle();
    const run = service.runs[0];
    const answer = answerFor(AFTER_RENAME, CURSOR, RENAMED);
    // Up to and past the first use (line 4) and the line after it, which re-joins the original.
    const cut = answer.indexOf('log(item.name);\n') + 'log(item.name);\n'.length;
    run?.push(answer.slice(0, cut));
    await settle();
    expect(seen.hunks.length).toBeGreaterThan(0);
    const first = seen.hunks[0]?.hunks[0];
    expect(first?.oldText).toBe('rate');
    expect(first?.newText).toBe('taxRate');
    expect(AFTER_RENAME.slice(first?.start, first?.end)).toBe('rate');
    expect(seen.ended).toHaveLength(0);
    run?.push(answer.slice(cut));
    run?.end();
    await settle();
    expect(seen.ended).toHaveLength(1);
    const outcome = seen.ended[0]?.outcome;
    expect(outcome?.kind).toBe('complete');
    if (outcome?.kind !== 'complete') return;
    expect(applyHunks(AFTER_RENAME, outcome.hunks)).toBe(RENAMED);
  });

  it('discards an answer that does not parse, with one log line and no hunk', async () => {
    const { service, engine, seen, logLines } = setup();
    engine.edited(() => snapshot(), 'structural');
    await settle();
    service.runs[0]?.push('I would rename the other uses of rate as well.');
    service.runs[0]?.end();
    await settle();
    expect(seen.hunks).toHaveLength(0);
    expect(seen.ended[0]?.outcome).toEqual({ kind: 'discarded', why: 'unparsable' });
    expect(logLines).toHaveLength(1);
    expect(logLines[0]).toContain('Next edit from Fast burst: discarded');
    expect(logLines[0]).not.toContain('rate');
  });

  it('says a failure in one line and ends the prediction as failed', async () => {
    const { service, engine, seen, logLines } = setup();
    engine.edited(() => snapshot(), 'structural');
    await settle();
    service.runs[0]?.fail(new BackendError('http', 'The server answered 500.', { status: 500 }));
    await settle();
    expect(seen.ended[0]?.outcome).toEqual({ kind: 'failed', message: 'The server answered 500.' });
    expect(logLines).toEqual(['Next edit from Fast burst failed: The server answered 500.']);
  });

  it('sends nothing when switched off, or when no backend fits the budget, and the status says why', async () => {
    const off = setup({ enabled: false });
    off.engine.edited(() => snapshot(), 'structural');
    await settle();
    expect(off.service.runs).toHaveLength(0);
    expect(off.engine.status().state).toBe('off');

    const slow = setup({}, { ttftP95Ms: 350, decodeTokensPerSec: 400 });
    slow.engine.edited(() => snapshot(), 'structural');
    await settle();
    expect(slow.service.runs).toHaveLength(0);
    expect(slow.engine.status().state).toBe('over-budget');
    expect(slow.engine.status().detail).toContain('Fast burst');
  });

  it('requests the next prediction ahead, and shows it at once when the Tab produces that text', async () => {
    // 30 ms p95 TTFT at 3,000 tok/s: a region of ~50 tokens takes ~47 ms, so two predictions chain ahead.
    const { service, engine, seen } = setup({}, { ttftP95Ms: 30, decodeTokensPerSec: 3_000 });
    engine.edited(() => snapshot(), 'structural');
    await settle();
    service.runs[0]?.push(answerFor(AFTER_RENAME, CURSOR, RENAMED));
    service.runs[0]?.end();
    await settle();
    const outcome = seen.ended[0]?.outcome;
    expect(outcome?.kind).toBe('complete');
    if (outcome?.kind !== 'complete') return;
    // The prediction ahead is for the text with every shown hunk applied; it is not shown.
    expect(service.runs).toHaveLength(2);
    const cursorAfter = RENAMED.lastIndexOf('taxRate') + 'taxRate'.length;
    service.runs[1]?.push(answerFor(RENAMED, cursorAfter, RENAMED));
    service.runs[1]?.end();
    await settle();
    expect(seen.ended).toHaveLength(1);
    // The person applied every hunk: the prediction made ahead is shown without a new request.
    engine.edited(() => snapshot(RENAMED, cursorAfter, 5), 'applied');
    await settle();
    expect(service.runs).toHaveLength(2);
    expect(seen.ended).toHaveLength(2);
    expect(seen.ended[1]?.info.version).toBe(5);
    expect(seen.ended[1]?.outcome).toEqual({ kind: 'complete', hunks: [] });
  });

  it('typing makes every prediction made ahead stale: they are aborted', async () => {
    const { service, engine } = setup({}, { ttftP95Ms: 30, decodeTokensPerSec: 3_000 });
    engine.edited(() => snapshot(), 'structural');
    await settle();
    service.runs[0]?.push(answerFor(AFTER_RENAME, CURSOR, RENAMED));
    service.runs[0]?.end();
    await settle();
    expect(service.runs).toHaveLength(2);
    engine.edited(() => snapshot(AFTER_RENAME + 'x'), 'typing');
    expect(service.runs[1]?.aborted()).toBe(true);
  });

  it('backs off the typing pause with each dismissal in a row, and resets when one is applied', () => {
    const { engine } = setup();
    expect(engine.typingPauseMs()).toBe(BASE_TYPING_PAUSE_MS);
    engine.noteDismissed();
    engine.noteDismissed();
    expect(engine.typingPauseMs()).toBe(BASE_TYPING_PAUSE_MS * 4);
    for (let index = 0; index < 10; index += 1) engine.noteDismissed();
    expect(engine.typingPauseMs()).toBe(1_600);
    engine.noteApplied();
    expect(engine.typingPauseMs()).toBe(BASE_TYPING_PAUSE_MS);
  });

  describe('under the daily budget', () => {
    const cheap = resolvedEndpoint({ id: 'burst#1', label: 'Cheap burst', target: { model: 'llama-3.1-8b' } });
    const fastSpeed: MeasuredSpeed = { ttftP95Ms: 30, decodeTokensPerSec: 3_000 };

    it('requests no prediction ahead once speculation is held back', async () => {
      const { service, engine, seen } = setup({}, fastSpeed, endpoint, {
        budget: () => ({ stage: 'no-speculation', endpointIds: null }),
      });
      engine.edited(() => snapshot(), 'structural');
      await settle();
      service.runs[0]?.push(answerFor(AFTER_RENAME, CURSOR, RENAMED));
      service.runs[0]?.end();
      await settle();
      expect(seen.ended[0]?.outcome.kind).toBe('complete');
      expect(service.runs).toHaveLength(1);
    });

    it('waits a longer typing pause from typing-pause on', () => {
      let limits: BudgetLimits = { stage: 'no-speculation', endpointIds: null };
      const { engine, scheduler, service } = setup({}, null, endpoint, { budget: () => limits });
      expect(engine.typingPauseMs()).toBe(BASE_TYPING_PAUSE_MS);
      limits = { stage: 'typing-pause', endpointIds: null };
      expect(engine.typingPauseMs()).toBe(BUDGET_TYPING_PAUSE_MS);
      for (let index = 0; index < 10; index += 1) engine.noteDismissed();
      expect(engine.typingPauseMs()).toBe(1_600);
      engine.noteApplied();
      engine.edited(() => snapshot(), 'typing');
      scheduler.advance(BUDGET_TYPING_PAUSE_MS - 1);
      expect(service.runs).toHaveLength(0);
      scheduler.advance(1);
      expect(service.runs).toHaveLength(1);
    });

    it('at cheapest, sends only to the cheapest backend within the latency budget', async () => {
      const { service, engine } = setup({}, null, endpoint, {
        endpoints: [endpoint, cheap],
        budget: () => ({ stage: 'cheapest', endpointIds: ['burst#1'] }),
      });
      engine.edited(() => snapshot(), 'structural');
      await settle();
      expect(service.runs[0]?.spec.endpointIds).toEqual(['burst#1']);
      expect(engine.status().state).toBe('on');
      expect(engine.status().detail).toContain('Cheap burst');
      expect(engine.status().detail).toContain('cheapest backend only');
    });

    it('at cheapest, pauses and says so when the cheapest backend does not fit the latency budget', async () => {
      const { service, engine } = setup({}, null, endpoint, {
        endpoints: [endpoint, cheap],
        speedOf: (id) => (id === 'burst#1' ? { ttftP95Ms: 350, decodeTokensPerSec: 400 } : fastSpeed),
        budget: () => ({ stage: 'cheapest', endpointIds: ['burst#1'] }),
      });
      engine.edited(() => snapshot(), 'structural');
      await settle();
      expect(service.runs).toHaveLength(0);
      const status = engine.status();
      expect(status.state).toBe('over-budget');
      expect(status.detail).toContain('daily budget');
      expect(status.detail).toContain('Cheap burst');
      expect(status.detail).toContain('latencyCopilot.cost.dailyBudgetUsd');
    });
  });
});
