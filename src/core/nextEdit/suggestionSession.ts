import type { Clock } from '../clock';
import type { NextEditOutcome, NextEditPredictionInfo, NextEditReporter, PredictedHunk } from './nextEditTypes';

/**
 * What the person sees of next-edit predictions, and what Tab and Escape do to it: the presentation state machine
 * between the engine's stream of hunks and the editor adapter, which only converts and draws.
 *
 * Rules it keeps:
 * - A hunk is applied only with Tab and only once its prediction is `complete` (the whole answer arrived and passed the
 *   checks). Tab on a hunk of a prediction still streaming waits for the end; a discarded or failed prediction withdraws
 *   every hunk it showed and applies none, so an answer is never applied in part.
 * - Hunks are held in offsets of the live document: the prediction's snapshot text plus the session's own applies. Any
 *   other change to a document withdraws everything (the engine starts a new prediction from the new text).
 * - A hunk far from the cursor is reached in two presses: the first Tab jumps there, the second applies.
 */

/** Lines between the cursor and a hunk beyond which Tab jumps to the hunk before applying it (so nothing is applied unseen). */
export const NEAR_LINES = 3;

/** One change of a document event, as VS Code reports it: offsets into the text before the event. */
export interface DocumentTextChange {
  readonly offset: number;
  readonly length: number;
  readonly text: string;
}

/** Where the person is looking in the editor showing a document (0-based lines, inclusive). */
export interface ViewportLines {
  readonly cursorLine: number;
  readonly firstVisibleLine: number;
  readonly lastVisibleLine: number;
}

/** What the session needs from its host. */
export interface SuggestionSessionDeps {
  readonly clock: Clock;
  readonly reporter: NextEditReporter;
  /** The document's current version, or null when it is not open (a prediction for another version is stale). */
  readonly liveVersion: (documentKey: string) => number | null;
  /** Where the editor showing the document is looking, or null when none shows it (Tab then applies without a jump). */
  readonly viewport: (documentKey: string) => ViewportLines | null;
  /** Something the person sees changed: redraw from `view()`. */
  readonly onDidChange: () => void;
}

/** A hunk as drawn, in offsets and lines of the live document. */
export interface HunkView {
  /** Stable within the session, so an adapter can tell a hunk it already announced. */
  readonly id: number;
  readonly start: number;
  readonly end: number;
  /** The line of `start` (0-based). */
  readonly line: number;
  readonly oldText: string;
  readonly newText: string;
  /** The part that changes, for drawing: a line-level hunk without the text its two sides share. */
  readonly shown: DisplayedChange;
}

/** What is drawn of a hunk: `oldText` struck through at `start`-`end`, `newText` beside it. */
export interface DisplayedChange {
  readonly start: number;
  readonly end: number;
  readonly oldText: string;
  readonly newText: string;
}

/**
 * The part of a hunk that changes: the text both sides start and end with is left out, so a rewritten line shows
 * `n` struck through beside `count` rather than the whole line twice. Drawing only: Tab applies the whole hunk.
 */
export function displayedChange(hunk: { start: number; oldText: string; newText: string }): DisplayedChange {
  const { oldText, newText } = hunk;
  let prefix = 0;
  const shorter = Math.min(oldText.length, newText.length);
  while (prefix < shorter && oldText[prefix] === newText[prefix]) prefix += 1;
  let suffix = 0;
  while (suffix < shorter - prefix && oldText[oldText.length - 1 - suffix] === newText[newText.length - 1 - suffix]) {
    suffix += 1;
  }
  return {
    start: hunk.start + prefix,
    end: hunk.start + oldText.length - suffix,
    oldText: oldText.slice(prefix, oldText.length - suffix),
    newText: newText.slice(prefix, newText.length - suffix),
  };
}

/** Everything the adapter draws. */
export interface SessionView {
  /** The document the hunks belong to; null when nothing is shown. */
  readonly documentKey: string | null;
  /** Hunks drawn as decorations (the current one included, unless it goes out as ghost text). */
  readonly decorated: readonly HunkView[];
  /** The hunk Tab acts on; null when nothing is suggested. */
  readonly current: HunkView | null;
  /** The current hunk is an insertion at the cursor of a complete prediction: the inline provider shows it. */
  readonly currentIsGhostText: boolean;
  /** The prediction has ended complete (Tab applies at once); false while it streams. */
  readonly complete: boolean;
}

/** What the adapter does for a Tab. */
export type TabAction =
  /** Nothing is suggested. */
  | { readonly kind: 'none' }
  /** The prediction is still streaming: the Tab is remembered and acted on when it ends complete. */
  | { readonly kind: 'wait' }
  /** Move the cursor to the hunk and reveal it; the next Tab applies it. */
  | { readonly kind: 'jump'; readonly documentKey: string; readonly offset: number; readonly line: number }
  /** Replace `start`-`end` with `newText` as one undo step, then put the cursor at `cursorAfter`. */
  | {
      readonly kind: 'apply';
      readonly documentKey: string;
      /** The document version the offsets are for: the adapter refuses the edit when the document has moved on. */
      readonly version: number | null;
      readonly start: number;
      readonly end: number;
      readonly newText: string;
      readonly cursorAfter: number;
    };

/** How the session read a document change. */
export type ChangeVerdict =
  /** One of the session's own applies (or its ghost text accepted), with hunks of the prediction still to come. */
  | 'applied'
  /** The session's own apply of the prediction's last hunk: the next prediction is a chained one. */
  | 'applied-last'
  /** The person's edit (or another extension's): whatever was shown is withdrawn. */
  | 'foreign';

interface LiveHunk {
  readonly id: number;
  start: number;
  end: number;
  readonly oldText: string;
  readonly newText: string;
}

interface Dismissal {
  readonly documentKey: string;
  start: number;
  readonly oldText: string;
  readonly newText: string;
}

interface PendingApply {
  readonly documentKey: string;
  readonly hunkId: number;
  /** The document text the apply should produce: a change event is ours only when it produces exactly this. */
  readonly expectedText: string;
}

/** True when `newText` is ghost-text material: no line break, or a single one at its end. */
function isSingleLineInsertion(newText: string): boolean {
  const lineBreak = newText.search(/[\r\n]/);
  return lineBreak === -1 || newText.slice(lineBreak).replace(/^\r?\n/, '') === '';
}

/** `text` after a VS Code change event (offsets into the text before it; changes never overlap). */
function applyChanges(text: string, changes: readonly DocumentTextChange[]): string {
  const ordered = [...changes].sort((a, b) => b.offset - a.offset);
  let result = text;
  for (const change of ordered) {
    result = result.slice(0, change.offset) + change.text + result.slice(change.offset + change.length);
  }
  return result;
}

/** Offsets where each line starts, for offset -> line. */
function lineStartsOf(text: string): number[] {
  const starts = [0];
  for (let index = text.indexOf('\n'); index !== -1; index = text.indexOf('\n', index + 1)) starts.push(index + 1);
  return starts;
}

/** The presentation state of next-edit predictions for the whole editor (one prediction at a time). */
export class SuggestionSession {
  private prediction: NextEditPredictionInfo | null = null;
  private complete = false;
  /** The live text of the prediction's document: its snapshot plus the session's own applies. */
  private text = '';
  private lineStarts: number[] = [0];
  /** Remaining hunks in document order; the first is the current one. */
  private hunks: LiveHunk[] = [];
  private shownReported = false;
  private tabQueued = false;
  /** The hunk the last Tab jumped to: the next Tab applies it even if the viewport has not caught up yet. */
  private jumpedTo: number | null = null;
  private pendingApply: PendingApply | null = null;
  private cursor: { documentKey: string; offset: number } | null = null;
  /** Hunks dismissed since the person last typed, in live offsets: a chained prediction may not show them again. */
  private dismissals: Dismissal[] = [];
  private nextHunkId = 1;

  constructor(private readonly deps: SuggestionSessionDeps) {}

  /** Hunks the engine confirmed while streaming (the listener's `hunks`). */
  hunksArrived(prediction: NextEditPredictionInfo, hunks: readonly PredictedHunk[]): void {
    if (this.prediction?.id === prediction.id) {
      if (this.complete) return;
      const added = this.liveHunksOf(prediction, hunks);
      if (added === null) return this.withdraw();
      if (added.length === 0) return;
      this.hunks = this.merged(this.hunks, added);
      this.shown();
      this.deps.onDidChange();
      return;
    }
    this.adopt(prediction, hunks, false);
  }

  /**
   * The prediction ended (the listener's `ended`). A complete one replaces the streamed hunks with its final list and
   * carries out a Tab pressed while it streamed; any other outcome withdraws what it showed.
   */
  ended(prediction: NextEditPredictionInfo, outcome: NextEditOutcome): TabAction {
    if (this.prediction?.id !== prediction.id) {
      // An engine may send a prediction's hunks only at its end.
      if (outcome.kind === 'complete') this.adopt(prediction, outcome.hunks, true);
      return { kind: 'none' };
    }
    if (outcome.kind !== 'complete') {
      this.withdraw();
      return { kind: 'none' };
    }
    const final = this.liveHunksOf(prediction, outcome.hunks);
    if (final === null) {
      this.withdraw();
      return { kind: 'none' };
    }
    this.complete = true;
    this.hunks = final;
    this.shown();
    const queued = this.tabQueued;
    this.tabQueued = false;
    this.deps.onDidChange();
    return queued ? this.accept() : { kind: 'none' };
  }

  /** Tab: apply the current hunk, jump to it first when it is far from the cursor, or wait for the stream to end. */
  accept(): TabAction {
    const prediction = this.prediction;
    const current = this.hunks[0];
    if (prediction === null || current === undefined) return { kind: 'none' };
    if (!this.complete) {
      this.tabQueued = true;
      return { kind: 'wait' };
    }
    const documentKey = prediction.documentKey;
    const line = this.lineOf(current.start);
    const viewport = this.deps.viewport(documentKey);
    if (viewport !== null && this.jumpedTo !== current.id) {
      const outside = line < viewport.firstVisibleLine || line > viewport.lastVisibleLine;
      if (outside || Math.abs(line - viewport.cursorLine) > NEAR_LINES) {
        this.jumpedTo = current.id;
        return { kind: 'jump', documentKey, offset: current.start, line };
      }
    }
    const expectedText = this.text.slice(0, current.start) + current.newText + this.text.slice(current.end);
    this.pendingApply = { documentKey, hunkId: current.id, expectedText };
    return {
      kind: 'apply',
      documentKey,
      version: this.deps.liveVersion(documentKey),
      start: current.start,
      end: current.end,
      newText: current.newText,
      cursorAfter: current.start + current.newText.length,
    };
  }

  /** The adapter could not make the edit Tab asked for (the document moved on, or the editor refused): withdraw all. */
  applyFailed(): void {
    this.pendingApply = null;
    this.withdraw();
  }

  /** Escape: the current hunk goes (remembered until the person types) and the next becomes current. */
  dismiss(): boolean {
    const prediction = this.prediction;
    const current = this.hunks[0];
    if (prediction === null || current === undefined) return false;
    this.hunks = this.hunks.slice(1);
    this.dismissals.push({
      documentKey: prediction.documentKey,
      start: current.start,
      oldText: current.oldText,
      newText: current.newText,
    });
    this.reportDismissed(prediction);
    this.deps.onDidChange();
    return true;
  }

  /**
   * A document changed (the adapter passes every change of a document the gate allows). The session's own apply, or
   * its ghost text accepted, moves the remaining hunks by the applied hunk's length change; anything else withdraws
   * every hunk and forgets the dismissals (the person typed).
   */
  documentChanged(documentKey: string, changes: readonly DocumentTextChange[]): ChangeVerdict {
    const prediction = this.prediction;
    if (prediction !== null && prediction.documentKey === documentKey && changes.length > 0) {
      const applied = this.ownApply(changes);
      if (applied !== null) {
        this.applied(prediction, applied);
        return this.hunks.length > 0 ? 'applied' : 'applied-last';
      }
    }
    this.pendingApply = null;
    this.dismissals = [];
    if (prediction !== null) {
      if (this.complete && this.shownReported && this.hunks.length > 0) this.reportDismissed(prediction);
      this.withdraw();
    }
    return 'foreign';
  }

  /** The cursor moved (it decides whether the current hunk goes out as ghost text). */
  cursorMoved(documentKey: string, offset: number): void {
    const before = this.currentIsGhostText();
    this.cursor = { documentKey, offset };
    if (this.currentIsGhostText() !== before) this.deps.onDidChange();
  }

  /**
   * The ghost text for the inline provider at `offset`, or null: only an insertion at the cursor of a complete
   * prediction, one line (or one line and its line break). Called on every keystroke, so it only compares fields.
   */
  ghostText(documentKey: string, offset: number): string | null {
    const current = this.hunks[0];
    if (!this.complete || current === undefined || this.prediction?.documentKey !== documentKey) return null;
    return current.start === offset && current.end === offset && isSingleLineInsertion(current.newText)
      ? current.newText
      : null;
  }

  /** Withdraws everything shown (next edit switched off, the document closed, a newer prediction failed). */
  withdraw(): void {
    const hadSomething = this.prediction !== null;
    this.prediction = null;
    this.complete = false;
    this.hunks = [];
    this.text = '';
    this.lineStarts = [0];
    this.tabQueued = false;
    this.jumpedTo = null;
    this.pendingApply = null;
    if (hadSomething) this.deps.onDidChange();
  }

  /** What to draw. */
  view(): SessionView {
    const prediction = this.prediction;
    const first = this.hunks[0];
    if (prediction === null || first === undefined) {
      return {
        documentKey: null,
        decorated: [],
        current: null,
        currentIsGhostText: false,
        complete: this.complete,
      };
    }
    const views = this.hunks.map((hunk) => {
      const shown = displayedChange(hunk);
      return { ...hunk, line: this.lineOf(shown.start), shown };
    });
    const ghost = this.currentIsGhostText();
    return {
      documentKey: prediction.documentKey,
      decorated: ghost ? views.slice(1) : views,
      current: views[0] ?? null,
      currentIsGhostText: ghost,
      complete: this.complete,
    };
  }

  private currentIsGhostText(): boolean {
    const cursor = this.cursor;
    return cursor !== null && this.ghostText(cursor.documentKey, cursor.offset) !== null;
  }

  /** Takes a new prediction in place of the one shown, when it has something not dismissed to show. */
  private adopt(prediction: NextEditPredictionInfo, hunks: readonly PredictedHunk[], complete: boolean): void {
    if (this.deps.liveVersion(prediction.documentKey) !== prediction.version) return;
    const live = this.liveHunksOf(prediction, hunks);
    // A newer prediction that (so far) repeats only dismissed hunks does not replace what is shown.
    if (live === null || live.length === 0) return;
    this.prediction = prediction;
    this.complete = complete;
    this.text = prediction.text;
    this.lineStarts = lineStartsOf(prediction.text);
    this.hunks = live;
    this.shownReported = false;
    this.tabQueued = false;
    this.jumpedTo = null;
    this.pendingApply = null;
    this.shown();
    this.deps.onDidChange();
  }

  /**
   * The prediction's hunks in live offsets (the snapshot is the live text: any other edit withdrew the prediction),
   * without dismissed ones; null when one does not match the snapshot (a broken prediction is dropped whole).
   */
  private liveHunksOf(prediction: NextEditPredictionInfo, hunks: readonly PredictedHunk[]): LiveHunk[] | null {
    const live: LiveHunk[] = [];
    for (const hunk of hunks) {
      const fits =
        hunk.start >= 0 &&
        hunk.start <= hunk.end &&
        hunk.end <= prediction.text.length &&
        prediction.text.slice(hunk.start, hunk.end) === hunk.oldText;
      if (!fits) return null;
      if (hunk.oldText === hunk.newText) continue;
      const dismissed = this.dismissals.some(
        (dismissal) =>
          dismissal.documentKey === prediction.documentKey &&
          dismissal.start === hunk.start &&
          dismissal.oldText === hunk.oldText &&
          dismissal.newText === hunk.newText,
      );
      if (dismissed) continue;
      const previous = live[live.length - 1];
      // Overlapping hunks cannot both apply; the stream sends them in order, so an overlap is a broken prediction.
      if (previous !== undefined && hunk.start < previous.end) return null;
      live.push({
        id: this.nextHunkId++,
        start: hunk.start,
        end: hunk.end,
        oldText: hunk.oldText,
        newText: hunk.newText,
      });
    }
    return live;
  }

  /** Streamed hunks added to those held, in document order (a hunk at the same place as one held replaces it). */
  private merged(held: readonly LiveHunk[], added: readonly LiveHunk[]): LiveHunk[] {
    const kept = held.filter((hunk) => !added.some((other) => other.start < hunk.end && hunk.start < other.end));
    return [...kept, ...added].sort((a, b) => a.start - b.start);
  }

  /** The change the event made, when it is the pending apply or the current ghost text accepted; else null. */
  private ownApply(changes: readonly DocumentTextChange[]): LiveHunk | null {
    const current = this.hunks[0];
    if (current === undefined) return null;
    const pending = this.pendingApply;
    const expected =
      pending !== null && pending.hunkId === current.id
        ? pending.expectedText
        : this.complete && current.start === current.end
          ? this.text.slice(0, current.start) + current.newText + this.text.slice(current.end)
          : null;
    if (expected === null) return null;
    return applyChanges(this.text, changes) === expected ? current : null;
  }

  private applied(prediction: NextEditPredictionInfo, hunk: LiveHunk): void {
    const delta = hunk.newText.length - (hunk.end - hunk.start);
    this.text = this.text.slice(0, hunk.start) + hunk.newText + this.text.slice(hunk.end);
    this.lineStarts = lineStartsOf(this.text);
    this.pendingApply = null;
    this.jumpedTo = null;
    this.hunks = this.hunks.filter((other) => other.id !== hunk.id);
    for (const other of this.hunks) {
      if (other.start >= hunk.end) {
        other.start += delta;
        other.end += delta;
      }
    }
    for (const dismissal of this.dismissals) {
      if (dismissal.documentKey === prediction.documentKey && dismissal.start >= hunk.end) dismissal.start += delta;
    }
    const endpoint = prediction.endpoint();
    if (endpoint !== null) this.deps.reporter.nextEditApplied(endpoint.id);
    this.deps.onDidChange();
  }

  /** Reports the prediction's first shown hunk, once. */
  private shown(): void {
    const prediction = this.prediction;
    if (prediction === null || this.shownReported || this.hunks.length === 0) return;
    const endpoint = prediction.endpoint();
    if (endpoint === null) return;
    this.shownReported = true;
    const latencyMs = this.deps.clock.now() - prediction.editedAtMs;
    this.deps.reporter.nextEditShown({
      endpointId: endpoint.id,
      endpointLabel: endpoint.label,
      latencyMs,
      wholeRegionMs: this.complete ? latencyMs : null,
    });
  }

  private reportDismissed(prediction: NextEditPredictionInfo): void {
    const endpoint = prediction.endpoint();
    if (endpoint !== null) this.deps.reporter.nextEditDismissed(endpoint.id);
  }

  /** The line of a live offset (binary search over the line starts). */
  private lineOf(offset: number): number {
    const starts = this.lineStarts;
    let low = 0;
    let high = starts.length - 1;
    while (low < high) {
      const middle = (low + high + 1) >> 1;
      if ((starts[middle] ?? 0) <= offset) low = middle;
      else high = middle - 1;
    }
    return low;
  }
}
