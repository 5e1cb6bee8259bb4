import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../../../src/core/clock';
import type {
  NextEditPredictionInfo,
  NextEditReporter,
  NextEditShownSample,
  PredictedHunk,
} from '../../../../src/core/nextEdit/nextEditTypes';
import { displayedChange, SuggestionSession } from '../../../../src/core/nextEdit/suggestionSession';
import type { ViewportLines } from '../../../../src/core/nextEdit/suggestionSession';

const KEY = 'file:///w/calc.py';
// A rename of `n` to `count` at the declaration; its three uses below (lines 1, 2 and 12) are what is predicted.
const TEXT = [
  'def total(count):', // 0
  '    s = n', // 1
  '    s = s + n', // 2
  ...Array.from({ length: 9 }, (_, index) => `    # line ${index + 3}`), // 3-11
  '    return n', // 12
  '',
].join('\n');

function hunkAt(text: string, needle: string, newText: string, from = 0): PredictedHunk {
  const start = text.indexOf(needle, from);
  if (start === -1) throw new Error(`${needle} not in text`);
  return { start, end: start + needle.length, oldText: needle, newText };
}

const USE_1 = hunkAt(TEXT, 'n', 'count', TEXT.indexOf('s = n'));
const USE_2 = hunkAt(TEXT, 'n', 'count', TEXT.indexOf('s + n') + 3);
const USE_3 = hunkAt(TEXT, 'n', 'count', TEXT.indexOf('return n') + 7);

class RecordingReporter implements NextEditReporter {
  readonly shown: NextEditShownSample[] = [];
  readonly applied: string[] = [];
  readonly dismissed: string[] = [];
  nextEditShown(sample: NextEditShownSample): void {
    this.shown.push(sample);
  }
  nextEditApplied(endpointId: string): void {
    this.applied.push(endpointId);
  }
  nextEditDismissed(endpointId: string): void {
    this.dismissed.push(endpointId);
  }
}

let nextId = 1;
function prediction(text: string, version: number, editedAtMs = 0): NextEditPredictionInfo {
  return {
    id: nextId++,
    documentKey: KEY,
    version,
    text,
    region: { start: 0, end: text.length, startLine: 0, endLine: 14, text, cursorOffset: 0 },
    editedAtMs,
    endpoint: () => ({ id: 'burst#0', label: 'Sim' }),
  };
}

/** A session over a document the test edits by hand (`replace` mimics VS Code's change event and version bump). */
function setUp(viewport: ViewportLines | null = { cursorLine: 0, firstVisibleLine: 0, lastVisibleLine: 40 }) {
  const clock = new ManualClock(1_000);
  const reporter = new RecordingReporter();
  const document = { text: TEXT, version: 1 };
  let changes = 0;
  let currentViewport = viewport;
  const session = new SuggestionSession({
    clock,
    reporter,
    liveVersion: (key) => (key === KEY ? document.version : null),
    viewport: () => currentViewport,
    onDidChange: () => {
      changes += 1;
    },
  });
  const replace = (start: number, end: number, text: string) => {
    document.text = document.text.slice(0, start) + text + document.text.slice(end);
    document.version += 1;
    return session.documentChanged(KEY, [{ offset: start, length: end - start, text }]);
  };
  return {
    clock,
    reporter,
    document,
    session,
    replace,
    changes: () => changes,
    setViewport: (next: ViewportLines | null) => {
      currentViewport = next;
    },
  };
}

/** Carries out a Tab's apply as the adapter does: the edit, then the change event the editor reports. */
function performApply(setup: ReturnType<typeof setUp>) {
  const action = setup.session.accept();
  if (action.kind !== 'apply') throw new Error(`expected an apply, got ${action.kind}`);
  return { action, verdict: setup.replace(action.start, action.end, action.newText) };
}

describe('SuggestionSession: streaming and completion', () => {
  it('shows hunks as they stream; Tab waits for completion, then applies the current one', () => {
    const setup = setUp();
    const { session, reporter, clock } = setup;
    const info = prediction(TEXT, 1, 900);
    session.hunksArrived(info, [USE_1]);
    expect(session.view().current).toMatchObject({ start: USE_1.start, newText: 'count', line: 1 });
    expect(session.view().complete).toBe(false);
    expect(reporter.shown).toEqual([
      { endpointId: 'burst#0', endpointLabel: 'Sim', latencyMs: 100, wholeRegionMs: null },
    ]);
    expect(session.accept()).toEqual({ kind: 'wait' });
    expect(setup.document.text).toBe(TEXT);
    clock.advance(50);
    session.hunksArrived(info, [USE_2]);
    const action = session.ended(info, { kind: 'complete', hunks: [USE_1, USE_2] });
    // The Tab pressed while streaming is carried out now.
    expect(action).toMatchObject({ kind: 'apply', start: USE_1.start, end: USE_1.end, newText: 'count', version: 1 });
    expect(reporter.shown).toHaveLength(1);
  });

  it('a discarded prediction withdraws every shown hunk and applies nothing, even with a Tab waiting', () => {
    const { session, document } = setUp();
    const info = prediction(TEXT, 1);
    session.hunksArrived(info, [USE_1, USE_2]);
    expect(session.accept()).toEqual({ kind: 'wait' });
    expect(session.ended(info, { kind: 'discarded', why: 'outside-region' })).toEqual({ kind: 'none' });
    expect(session.view().current).toBeNull();
    expect(session.view().decorated).toEqual([]);
    expect(session.accept()).toEqual({ kind: 'none' });
    expect(document.text).toBe(TEXT);
  });

  it.each([{ kind: 'failed' as const, message: 'boom' }, { kind: 'aborted' as const }])(
    'a $kind prediction withdraws what it showed',
    (outcome) => {
      const { session } = setUp();
      const info = prediction(TEXT, 1);
      session.hunksArrived(info, [USE_1]);
      session.ended(info, outcome);
      expect(session.view().current).toBeNull();
    },
  );

  it('a prediction for an older version of the document is stale and never shown', () => {
    const { session, reporter } = setUp();
    session.hunksArrived(prediction(TEXT, 0), [USE_1]);
    session.ended(prediction(TEXT, 0), { kind: 'complete', hunks: [USE_1] });
    expect(session.view().current).toBeNull();
    expect(reporter.shown).toEqual([]);
  });

  it('a prediction whose hunks only arrive at its end is shown then, with the whole-region time', () => {
    const { session, reporter, clock } = setUp();
    clock.advance(200);
    session.ended(prediction(TEXT, 1, 1_000), { kind: 'complete', hunks: [USE_1] });
    expect(session.view()).toMatchObject({ complete: true, current: { start: USE_1.start } });
    expect(reporter.shown).toEqual([
      { endpointId: 'burst#0', endpointLabel: 'Sim', latencyMs: 200, wholeRegionMs: 200 },
    ]);
  });

  it('a hunk that does not match the snapshot drops the whole prediction', () => {
    const { session } = setUp();
    const info = prediction(TEXT, 1);
    session.ended(info, { kind: 'complete', hunks: [USE_1, { ...USE_2, oldText: 'x' }] });
    expect(session.view().current).toBeNull();
  });

  it('an answer equal to the original shows nothing', () => {
    const { session } = setUp();
    session.ended(prediction(TEXT, 1), { kind: 'complete', hunks: [{ ...USE_1, newText: 'n' }] });
    expect(session.view().current).toBeNull();
  });
});

describe('SuggestionSession: Tab applies, rebases, jumps', () => {
  it('applies the current hunk, rebases the rest by its length change, and the next becomes current', () => {
    const setup = setUp();
    const { session, reporter } = setup;
    const info = prediction(TEXT, 1);
    session.ended(info, { kind: 'complete', hunks: [USE_1, USE_2, USE_3] });
    const first = performApply(setup);
    expect(first.verdict).toBe('applied');
    expect(first.action.cursorAfter).toBe(USE_1.start + 'count'.length);
    expect(reporter.applied).toEqual(['burst#0']);
    const delta = 'count'.length - 1;
    expect(session.view().current).toMatchObject({ start: USE_2.start + delta, end: USE_2.end + delta, line: 2 });
    expect(setup.document.text.slice(USE_2.start + delta, USE_2.end + delta)).toBe('n');
    // The cursor is now on line 1: the second use, on line 2, is near and applies at once.
    setup.setViewport({ cursorLine: 1, firstVisibleLine: 0, lastVisibleLine: 40 });
    expect(performApply(setup).verdict).toBe('applied');
    expect(setup.document.text.split('\n')[2]).toBe('    s = s + count');
  });

  it('Tab first jumps to a hunk more than a few lines from the cursor, and the next Tab applies it', () => {
    const setup = setUp({ cursorLine: 2, firstVisibleLine: 0, lastVisibleLine: 40 });
    const { session } = setup;
    session.ended(prediction(TEXT, 1), { kind: 'complete', hunks: [USE_3] });
    expect(session.accept()).toEqual({ kind: 'jump', documentKey: KEY, offset: USE_3.start, line: 12 });
    // Even if the editor has not reported the new cursor yet, the next Tab applies.
    const { verdict } = performApply(setup);
    expect(verdict).toBe('applied-last');
    expect(setup.document.text.split('\n')[12]).toBe('    return count');
    expect(session.view().current).toBeNull();
  });

  it('Tab jumps to a hunk outside the visible lines even when it is near the cursor', () => {
    const setup = setUp({ cursorLine: 0, firstVisibleLine: 0, lastVisibleLine: 0 });
    setup.session.ended(prediction(TEXT, 1), { kind: 'complete', hunks: [USE_1] });
    expect(setup.session.accept()).toMatchObject({ kind: 'jump', line: 1 });
  });

  it('with no editor showing the document, Tab applies without a jump', () => {
    const setup = setUp(null);
    setup.session.ended(prediction(TEXT, 1), { kind: 'complete', hunks: [USE_3] });
    expect(setup.session.accept()).toMatchObject({ kind: 'apply' });
  });

  it('an edit that is not the pending apply withdraws everything and counts as a dismissal', () => {
    const setup = setUp();
    const { session, reporter } = setup;
    session.ended(prediction(TEXT, 1), { kind: 'complete', hunks: [USE_1, USE_2] });
    expect(setup.replace(0, 0, '#')).toBe('foreign');
    expect(session.view().current).toBeNull();
    expect(reporter.dismissed).toEqual(['burst#0']);
    expect(session.accept()).toEqual({ kind: 'none' });
  });

  it('an apply the editor refused withdraws everything', () => {
    const setup = setUp();
    setup.session.ended(prediction(TEXT, 1), { kind: 'complete', hunks: [USE_1] });
    expect(setup.session.accept().kind).toBe('apply');
    setup.session.applyFailed();
    expect(setup.session.view().current).toBeNull();
  });

  it('recognises its own apply however the editor splits the change', () => {
    const setup = setUp();
    setup.session.ended(prediction(TEXT, 1), { kind: 'complete', hunks: [USE_1, USE_2] });
    const action = setup.session.accept();
    if (action.kind !== 'apply') throw new Error('expected an apply');
    // The editor reports `n` -> `count` as "insert `cou` before n, insert `t` after it".
    const verdict = setup.session.documentChanged(KEY, [
      { offset: action.start, length: 0, text: 'cou' },
      { offset: action.end, length: 0, text: 't' },
    ]);
    expect(verdict).toBe('applied');
  });
});

describe('SuggestionSession: Escape', () => {
  it('dismisses the current hunk; the next becomes current; a chained prediction may not show it again', () => {
    const setup = setUp();
    const { session, reporter } = setup;
    session.ended(prediction(TEXT, 1), { kind: 'complete', hunks: [USE_1, USE_2, USE_3] });
    performApply(setup);
    const delta = 'count'.length - 1;
    expect(session.dismiss()).toBe(true);
    expect(reporter.dismissed).toEqual(['burst#0']);
    expect(session.view().current).toMatchObject({ start: USE_3.start + delta });
    // A chained prediction of the text as it is now repeats the dismissed change and one more: only the new one shows.
    const chained = prediction(setup.document.text, setup.document.version);
    const again = hunkAt(setup.document.text, 'n', 'count', setup.document.text.indexOf('s + n') + 3);
    const other = hunkAt(setup.document.text, 'return n', 'return count');
    session.ended(chained, { kind: 'complete', hunks: [again, other] });
    expect(session.view().decorated.map((hunk) => hunk.newText)).toEqual(['return count']);
    // A chained prediction that only repeats the dismissed change replaces nothing.
    session.ended(prediction(setup.document.text, setup.document.version), { kind: 'complete', hunks: [again] });
    expect(session.view().decorated.map((hunk) => hunk.newText)).toEqual(['return count']);
  });

  it('after the person types, a dismissed change may be shown again', () => {
    const setup = setUp();
    const { session } = setup;
    session.ended(prediction(TEXT, 1), { kind: 'complete', hunks: [USE_1] });
    session.dismiss();
    setup.replace(setup.document.text.length, setup.document.text.length, ' ');
    setup.replace(setup.document.text.length - 1, setup.document.text.length, '');
    session.ended(prediction(setup.document.text, setup.document.version), { kind: 'complete', hunks: [USE_1] });
    expect(session.view().current).toMatchObject({ start: USE_1.start });
  });

  it('Escape with nothing suggested does nothing', () => {
    expect(setUp().session.dismiss()).toBe(false);
  });
});

describe('SuggestionSession: insertions at the cursor go out as ghost text', () => {
  const CURSOR = TEXT.indexOf('\n', TEXT.indexOf('s = n'));
  const INSERT: PredictedHunk = { start: CURSOR, end: CURSOR, oldText: '', newText: '  # renamed' };

  it('offers a single-line insertion at the cursor only once the prediction is complete', () => {
    const { session } = setUp();
    const info = prediction(TEXT, 1);
    session.cursorMoved(KEY, CURSOR);
    session.hunksArrived(info, [INSERT]);
    expect(session.ghostText(KEY, CURSOR)).toBeNull();
    expect(session.view().decorated).toHaveLength(1);
    session.ended(info, { kind: 'complete', hunks: [INSERT] });
    expect(session.ghostText(KEY, CURSOR)).toBe('  # renamed');
    expect(session.ghostText(KEY, CURSOR + 1)).toBeNull();
    expect(session.ghostText('file:///other', CURSOR)).toBeNull();
    expect(session.view()).toMatchObject({ currentIsGhostText: true, decorated: [] });
  });

  it.each([
    { newText: 'x = 1\n', ghost: true },
    { newText: 'x = 1\r\n', ghost: true },
    { newText: 'x = 1\ny = 2', ghost: false },
    { newText: '\nx = 1', ghost: false },
  ])('$newText as ghost text: $ghost', ({ newText, ghost }) => {
    const { session } = setUp();
    session.ended(prediction(TEXT, 1), { kind: 'complete', hunks: [{ ...INSERT, newText }] });
    expect(session.ghostText(KEY, CURSOR) !== null).toBe(ghost);
  });

  it('a replacement at the cursor stays a decoration', () => {
    const { session } = setUp();
    session.cursorMoved(KEY, USE_1.start);
    session.ended(prediction(TEXT, 1), { kind: 'complete', hunks: [USE_1] });
    expect(session.ghostText(KEY, USE_1.start)).toBeNull();
    expect(session.view().currentIsGhostText).toBe(false);
  });

  it('the ghost text accepted by the editor counts as an apply', () => {
    const setup = setUp();
    setup.session.ended(prediction(TEXT, 1), { kind: 'complete', hunks: [INSERT, USE_3] });
    expect(setup.replace(CURSOR, CURSOR, INSERT.newText)).toBe('applied');
    expect(setup.reporter.applied).toEqual(['burst#0']);
    expect(setup.session.view().current).toMatchObject({ start: USE_3.start + INSERT.newText.length });
  });
});

describe('SuggestionSession: redraws', () => {
  it('tells the adapter when what it draws changes, and not for a cursor move that changes nothing', () => {
    const setup = setUp();
    const info = prediction(TEXT, 1);
    setup.session.hunksArrived(info, [USE_1]);
    const afterShow = setup.changes();
    expect(afterShow).toBeGreaterThan(0);
    setup.session.cursorMoved(KEY, 3);
    expect(setup.changes()).toBe(afterShow);
    setup.session.withdraw();
    expect(setup.changes()).toBe(afterShow + 1);
  });
});

describe('displayedChange: what is drawn of a hunk', () => {
  it.each([
    {
      name: 'a rewritten line shows only the renamed word',
      hunk: { start: 10, oldText: '    s = n\n', newText: '    s = count\n' },
      shown: { start: 18, end: 19, oldText: 'n', newText: 'count' },
    },
    {
      name: 'an added argument is an insertion',
      hunk: { start: 0, oldText: 'f(a)', newText: 'f(a, b)' },
      shown: { start: 3, end: 3, oldText: '', newText: ', b' },
    },
    {
      name: 'a deleted line is a deletion',
      hunk: { start: 5, oldText: 'x\ny\n', newText: 'x\n' },
      shown: { start: 7, end: 9, oldText: 'y\n', newText: '' },
    },
    {
      name: 'repeated characters are not counted twice',
      hunk: { start: 0, oldText: 'aa', newText: 'aaa' },
      shown: { start: 2, end: 2, oldText: '', newText: 'a' },
    },
  ])('$name', ({ hunk, shown }) => {
    expect(displayedChange(hunk)).toEqual(shown);
  });
});
