import type { NextEditTrigger, RecentEditDiff } from './nextEditTypes';
import { countLineBreaks } from './editableRegion';

/** One change of an editor change event, as VS Code reports it: offsets into the document before the event. */
export interface TextChange {
  readonly offset: number;
  /** Characters replaced from `offset` (0 for an insertion). */
  readonly length: number;
  /** The text put in their place ('' for a deletion). */
  readonly text: string;
}

/** At most this many hunks are kept (the prompt asks for far fewer; older ones are dropped first). */
export const MAX_HISTORY_ENTRIES = 50;
/** A hunk this many lines or more from the newest one starts a new entry; closer (or touching) edits merge into it. */
export const MERGE_DISTANCE_LINES = 2;
/** Context lines shown above and below each hunk. */
export const CONTEXT_LINES = 2;
/** Lines longer than this are cut in the diffs (minified code would otherwise fill the prompt with one line). */
export const MAX_DIFF_LINE_CHARS = 400;
/** At most this many lines of each side of a hunk are shown (and kept once the hunk can no longer grow). */
export const MAX_HUNK_LINES = 40;

/** What the history keeps of one open document: its own copy of the text and where its last line lookup was. */
interface DocumentCopy {
  readonly path: string;
  text: string;
  /** A known (offset, line) pair at a line start, so finding the line of a nearby edit is O(distance), not O(file). */
  knownLineStart: number;
  knownLine: number;
}

/** One coalesced hunk: the lines as they were before its first edit and as they are after its latest. */
interface HistoryEntry {
  readonly documentKey: string;
  readonly path: string;
  /** First changed line (0-based); the same in the before and after text, since nothing above it changed meanwhile. */
  startLine: number;
  before: string[];
  after: string[];
  /** Unchanged lines just above and below the hunk, taken when it was last edited. */
  contextAbove: string[];
  contextBelow: string[];
  editedAtMs: number;
}

/** Entries older than this are left out of `diffs` when a time is given (stale edits mislead the model). */
const MAX_ENTRY_AGE_MS = 30 * 60 * 1000;

/**
 * The recent edits of the open documents, as coalesced unified diffs for next-edit prompts. It keeps its own copy of
 * each document the caller opened (after the file gate) and applies the editor's change events to it, so a keystroke
 * costs the change's size plus string slicing, never a diff of the whole file. Text of documents never opened is never
 * seen, kept or emitted.
 */
export class EditHistory {
  private readonly documents = new Map<string, DocumentCopy>();
  private entries: HistoryEntry[] = [];

  /** Starts following a document (its text as now); a document already followed is re-read. */
  opened(documentKey: string, path: string, text: string): void {
    this.documents.set(documentKey, { path, text, knownLineStart: 0, knownLine: 0 });
  }

  /** Stops following a document and drops its copy; its past hunks stay in the history. */
  closed(documentKey: string): void {
    this.documents.delete(documentKey);
  }

  /**
   * Applies one change event, records it, and says how it should trigger a prediction: `structural` for a rename-like
   * event (several changes), a line break inserted or removed, a `,` or a whole argument deleted, or a paste over a
   * selection; `typing` for a small in-line insertion or deletion; null when nothing changed or the document is not
   * followed. When the copy is missing or the changes do not fit it (an event was missed), the copy is re-read from
   * `currentText` and nothing is recorded for this event.
   */
  changed(
    documentKey: string,
    changes: readonly TextChange[],
    nowMs: number,
    currentText: () => string,
  ): NextEditTrigger | null {
    const copy = this.documents.get(documentKey);
    if (copy === undefined) return null;
    const ordered = [...changes].sort((a, b) => b.offset - a.offset);
    if (!fitsCopy(ordered, copy.text.length)) {
      copy.text = currentText();
      copy.knownLineStart = 0;
      copy.knownLine = 0;
      return classifyBlind(ordered);
    }
    const real = ordered.filter((change) => !isNoOp(change, copy.text));
    const trigger = classify(real, copy.text);
    // Highest offset first: each change leaves the offsets of the ones below it valid.
    for (const change of real) this.apply(documentKey, copy, change, nowMs);
    return trigger;
  }

  /**
   * The newest `maxEdits` hunks as unified diffs, oldest first and newest last. With `nowMs`, hunks last edited more
   * than 30 minutes earlier are left out.
   */
  diffs(maxEdits: number, nowMs?: number): readonly RecentEditDiff[] {
    const shown: RecentEditDiff[] = [];
    for (let index = this.entries.length - 1; index >= 0 && shown.length < maxEdits; index--) {
      const entry = this.entries[index];
      if (entry === undefined) continue;
      if (nowMs !== undefined && nowMs - entry.editedAtMs > MAX_ENTRY_AGE_MS) break;
      const diff = renderDiff(entry);
      if (diff !== null) shown.push({ path: entry.path, diff });
    }
    return shown.reverse();
  }

  private apply(documentKey: string, copy: DocumentCopy, change: TextChange, nowMs: number): void {
    const old = copy.text;
    const changeEnd = change.offset + change.length;
    const firstLineStart = lineStartAt(old, change.offset);
    const firstLine = this.lineOf(copy, firstLineStart);
    const removedBreaks = countLineBreaks(old, change.offset, changeEnd);
    const lastLine = firstLine + removedBreaks;

    const newest = this.entries[this.entries.length - 1];
    const merging =
      newest !== undefined &&
      newest.documentKey === documentKey &&
      firstLine <= newest.startLine + newest.after.length - 1 + MERGE_DISTANCE_LINES + 1 &&
      lastLine >= newest.startLine - MERGE_DISTANCE_LINES - 1;

    // The lines the new hunk spans, in the text before this change: the change's lines, and the newest hunk's too
    // when merging (with the unchanged lines between them).
    const spanFirst = merging ? Math.min(firstLine, newest.startLine) : firstLine;
    const spanLast = merging ? Math.max(lastLine, newest.startLine + newest.after.length - 1) : lastLine;
    const spanStart = walkLinesUp(old, firstLineStart, firstLine - spanFirst);
    const spanEnd = walkLinesDown(old, lineEndAt(old, changeEnd), spanLast - lastLine);
    const oldSpan = old.slice(spanStart, spanEnd);
    const newSpan =
      old.slice(spanStart, change.offset) + change.text + old.slice(changeEnd, Math.max(changeEnd, spanEnd));
    const oldLines = oldSpan.split('\n');
    const newLines = newSpan.split('\n');

    let before = oldLines;
    if (merging) {
      // Lines of the span outside the newest hunk are unchanged since before its first edit.
      const hunkFrom = newest.startLine - spanFirst;
      const hunkTo = hunkFrom + newest.after.length;
      before = [...oldLines.slice(0, hunkFrom), ...newest.before, ...oldLines.slice(hunkTo)];
    }

    copy.text = old.slice(0, change.offset) + change.text + old.slice(changeEnd);
    copy.knownLineStart = spanStart;
    copy.knownLine = spanFirst;

    const entry: HistoryEntry = {
      documentKey,
      path: copy.path,
      startLine: spanFirst,
      before,
      after: newLines,
      contextAbove: linesAbove(old, spanStart, CONTEXT_LINES),
      contextBelow: linesBelow(old, spanEnd, CONTEXT_LINES),
      editedAtMs: nowMs,
    };
    if (merging) this.entries.pop();
    // A hunk whose edits cancelled out disappears (typing a word and deleting it leaves no trace).
    if (sameLines(entry.before, entry.after)) return;
    if (!merging && newest !== undefined) compact(newest);
    this.entries.push(entry);
    if (this.entries.length > MAX_HISTORY_ENTRIES) this.entries = this.entries.slice(-MAX_HISTORY_ENTRIES);
  }

  /** The 0-based line of `lineStart` (an offset at a line start), counted from the last known line start. */
  private lineOf(copy: DocumentCopy, lineStart: number): number {
    const text = copy.text;
    const known = Math.min(copy.knownLineStart, text.length);
    if (lineStart >= known) return copy.knownLine + countLineBreaks(text, known, lineStart);
    return copy.knownLine - countLineBreaks(text, lineStart, known);
  }
}

/** Whether every change lies inside the copy and none overlaps the next (they are sorted highest offset first). */
function fitsCopy(ordered: readonly TextChange[], length: number): boolean {
  let limit = length;
  for (const change of ordered) {
    if (!Number.isSafeInteger(change.offset) || !Number.isSafeInteger(change.length)) return false;
    if (change.offset < 0 || change.length < 0 || change.offset + change.length > limit) return false;
    limit = change.offset;
  }
  return true;
}

/** Whether a change puts back exactly the text it replaces (an editor may report such changes, e.g. on format). */
function isNoOp(change: TextChange, old: string): boolean {
  return change.text.length === change.length && old.startsWith(change.text, change.offset);
}

/** How an event triggers a prediction, given its changes that do change the text and the text they replaced. */
function classify(real: readonly TextChange[], old: string): NextEditTrigger | null {
  if (real.length === 0) return null;
  if (real.length > 1) return 'structural';
  const [change] = real;
  if (change === undefined) return null;
  const removed = old.slice(change.offset, change.offset + change.length);
  if (removed.includes('\n') || change.text.includes('\n')) return 'structural';
  if (change.text === '' && (removed.includes(',') || removesWholeArgument(old, change.offset, removed))) {
    return 'structural';
  }
  if (change.length > 0 && change.text.length > 1) return 'structural';
  // New code typed at the end of a line is the inline completion's moment (its ghost text is what the person is
  // typing through); a prediction of the half-typed line would be noise and a request per keystroke. Next edit waits
  // for the line to end (a line break is structural) or for an edit of code already there.
  if (change.length === 0 && restOfLineIsBlank(old, change.offset)) return null;
  return 'typing';
}

/** Whether nothing but spaces and tabs follows `offset` on its line. */
function restOfLineIsBlank(text: string, offset: number): boolean {
  for (let index = offset; index < text.length; index++) {
    const char = text[index];
    if (char === '\n' || char === '\r') return true;
    if (char !== ' ' && char !== '\t') return false;
  }
  return true;
}

/** How an event triggers when the copy could not be trusted: judged from the inserted text and the counts alone. */
function classifyBlind(ordered: readonly TextChange[]): NextEditTrigger | null {
  const real = ordered.filter((change) => change.length > 0 || change.text.length > 0);
  if (real.length === 0) return null;
  if (real.length > 1) return 'structural';
  const [change] = real;
  if (change === undefined) return null;
  if (change.text.includes('\n') || (change.length > 0 && change.text.length > 1)) return 'structural';
  return 'typing';
}

/** Whether deleting `removed` at `offset` removed a whole argument: `(x)` -> `()`, `(a, b)` -> `(a, )`. */
function removesWholeArgument(old: string, offset: number, removed: string): boolean {
  if (removed.trim() === '') return false;
  let left = offset - 1;
  while (left >= 0 && (old[left] === ' ' || old[left] === '\t')) left--;
  let right = offset + removed.length;
  while (right < old.length && (old[right] === ' ' || old[right] === '\t')) right++;
  const before = old[left];
  const after = old[right];
  return (before === '(' || before === ',') && (after === ')' || after === ',');
}

function lineStartAt(text: string, offset: number): number {
  return offset <= 0 ? 0 : text.lastIndexOf('\n', offset - 1) + 1;
}

/** The offset of the line break ending the line that holds `offset` (or the text's length on the last line). */
function lineEndAt(text: string, offset: number): number {
  const lineBreak = text.indexOf('\n', offset);
  return lineBreak === -1 ? text.length : lineBreak;
}

/** The start of the line `count` lines above the line starting at `lineStart` (clipped at the first line). */
function walkLinesUp(text: string, lineStart: number, count: number): number {
  let start = lineStart;
  for (let step = 0; step < count && start > 0; step++) start = lineStartAt(text, start - 1);
  return start;
}

/** The end (before its line break) of the line `count` lines below the line ending at `lineEnd` (clipped). */
function walkLinesDown(text: string, lineEnd: number, count: number): number {
  let end = lineEnd;
  for (let step = 0; step < count && end < text.length; step++) end = lineEndAt(text, end + 1);
  return end;
}

/** Up to `count` whole lines ending just above the line that starts at `lineStart`. */
function linesAbove(text: string, lineStart: number, count: number): string[] {
  if (lineStart === 0) return [];
  const from = walkLinesUp(text, lineStart, count);
  return text.slice(from, lineStart - 1).split('\n');
}

/** Up to `count` whole lines starting just below the line that ends at `lineEnd`. */
function linesBelow(text: string, lineEnd: number, count: number): string[] {
  if (lineEnd >= text.length) return [];
  const to = walkLinesDown(text, lineEndAt(text, lineEnd + 1), count - 1);
  const lines = text.slice(lineEnd + 1, to).split('\n');
  // The empty "line" after a final line break is not a line of the file as a diff counts them.
  if (to === text.length && lines.at(-1) === '') lines.pop();
  return lines;
}

function sameLines(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((line, index) => line === b[index]);
}

/** Drops what a hunk that can no longer grow will never show: lines past the shown count, and long lines' tails. */
function compact(entry: HistoryEntry): void {
  entry.before = entry.before.slice(0, MAX_HUNK_LINES + CONTEXT_LINES).map(cutLine);
  entry.after = entry.after.slice(0, MAX_HUNK_LINES + CONTEXT_LINES).map(cutLine);
  entry.contextAbove = entry.contextAbove.map(cutLine);
  entry.contextBelow = entry.contextBelow.map(cutLine);
}

/** A line as the diff shows it: without a `\r` (CRLF documents) and cut when very long. */
function cutLine(line: string): string {
  const bare = line.endsWith('\r') ? line.slice(0, -1) : line;
  return bare.length <= MAX_DIFF_LINE_CHARS ? bare : `${bare.slice(0, MAX_DIFF_LINE_CHARS)}…`;
}

/** A hunk as a unified diff, or null when its before and after text are the same. */
function renderDiff(entry: HistoryEntry): string | null {
  const { before, after } = entry;
  let common = 0;
  while (common < before.length && common < after.length && before[common] === after[common]) common++;
  if (common === before.length && common === after.length) return null;
  let tail = 0;
  while (
    tail < before.length - common &&
    tail < after.length - common &&
    before[before.length - 1 - tail] === after[after.length - 1 - tail]
  ) {
    tail++;
  }
  const above = [...entry.contextAbove, ...before.slice(0, common)].slice(-CONTEXT_LINES);
  const below = [...before.slice(before.length - tail), ...entry.contextBelow].slice(0, CONTEXT_LINES);
  const removed = before.slice(common, before.length - tail).slice(0, MAX_HUNK_LINES);
  const added = after.slice(common, after.length - tail).slice(0, MAX_HUNK_LINES);
  const core = lineDiff(removed, added);
  // Line numbers are 1-based; both sides start at the same line (nothing above the hunk changed while it grew).
  const firstLine = entry.startLine + common - above.length + 1;
  const oldCount = above.length + core.filter((line) => !line.startsWith('+')).length + below.length;
  const newCount = above.length + core.filter((line) => !line.startsWith('-')).length + below.length;
  const header = `@@ -${rangeOf(firstLine, oldCount)} +${rangeOf(firstLine, newCount)} @@`;
  const lines = [
    `--- a/${entry.path}`,
    `+++ b/${entry.path}`,
    header,
    ...above.map((line) => ` ${cutLine(line)}`),
    ...core,
    ...below.map((line) => ` ${cutLine(line)}`),
  ];
  return `${lines.join('\n')}\n`;
}

/**
 * The changed lines of a hunk as diff lines, unchanged lines between two changes kept as context (a longest common
 * subsequence; both sides are at most MAX_HUNK_LINES long, so this stays small).
 */
function lineDiff(removed: readonly string[], added: readonly string[]): string[] {
  const rows = removed.length;
  const columns = added.length;
  // common[i][j]: the longest common subsequence of removed[i..] and added[j..], as a flat array.
  const common = new Array<number>((rows + 1) * (columns + 1)).fill(0);
  const at = (row: number, column: number): number => common[row * (columns + 1) + column] ?? 0;
  for (let row = rows - 1; row >= 0; row--) {
    for (let column = columns - 1; column >= 0; column--) {
      common[row * (columns + 1) + column] =
        removed[row] === added[column]
          ? at(row + 1, column + 1) + 1
          : Math.max(at(row + 1, column), at(row, column + 1));
    }
  }
  const lines: string[] = [];
  const minus: string[] = [];
  const plus: string[] = [];
  const flush = (): void => {
    lines.push(...minus.map((line) => `-${cutLine(line)}`), ...plus.map((line) => `+${cutLine(line)}`));
    minus.length = 0;
    plus.length = 0;
  };
  let row = 0;
  let column = 0;
  while (row < rows || column < columns) {
    const left = removed[row];
    if (row < rows && column < columns && left === added[column]) {
      flush();
      lines.push(` ${cutLine(left ?? '')}`);
      row++;
      column++;
    } else if (column >= columns || (row < rows && at(row + 1, column) >= at(row, column + 1))) {
      minus.push(left ?? '');
      row++;
    } else {
      plus.push(added[column] ?? '');
      column++;
    }
  }
  flush();
  return lines;
}

/** A unified-diff range: `start,count`, where an empty side names the line before it (as `diff -u` does). */
function rangeOf(firstLine: number, count: number): string {
  return count === 0 ? `${firstLine - 1},0` : `${firstLine},${count}`;
}
