import { diffLines } from '../refactor/lineDiff';
import type { EditableRegion, PredictedHunk } from './nextEditTypes';

/** How `StreamingRegionDiff.end()` judges a whole answer. */
export type StreamingRegionDiffResult =
  | {
      readonly ok: true;
      /** Every hunk in document order, those already returned by `push` included (the same objects). */
      readonly hunks: readonly PredictedHunk[];
      /** The answer equals the region: nothing to show. */
      readonly unchanged: boolean;
    }
  | { readonly ok: false; readonly why: 'drops-region' | 'repeats-region' };

/**
 * Characters of a new line (after its indentation) that must equal the start of an original line before a pending
 * hunk is confirmed on that line's start, without waiting for its end. Eight characters are about three tokens: the
 * first hunk shows a few milliseconds after the changed line instead of a whole line later, which at 1,000 tok/s is
 * most of the time budget. A wrong guess costs nothing but looks: the next line then starts a hunk of its own, right
 * after the confirmed one, and together they still rewrite the region exactly.
 */
const EARLY_PREFIX_CHARS = 8;

/**
 * A re-join on one non-trivial line may delete at most this many original lines net (lines skipped minus lines
 * written); past it a second matching line is needed. A model rarely deletes more than a couple of lines as a
 * next edit, while a new line that happens to equal a line far below (a repeated `return result;`) is common, and a
 * false re-join would show a large deletion early.
 */
const MAX_SINGLE_LINE_NET_DELETION = 2;

/**
 * The word-level refinement gives up past this many token edits and shows the changed lines' differing middle as
 * one hunk: that is what such a rewrite is, and it keeps the cost bounded (Myers is O((n + m) d)).
 */
const MAX_TOKEN_EDITS = 200;

/** Identifiers and numbers, a line break, a run of other whitespace, or any other single character. */
const TOKEN = /[\p{L}\p{N}_$]+|\r\n|[^\S\r\n]+|[\s\S]/gu;

const NO_HUNKS: readonly PredictedHunk[] = [];

/** A hunk under construction, in offsets within the old and new texts being compared. */
interface TokenEdit {
  oldStart: number;
  oldEnd: number;
  newStart: number;
  newEnd: number;
}

/** New lines that differ from the original, starting at original line `oldStart`, not yet re-joined. */
interface PendingHunk {
  readonly oldStart: number;
  readonly newLines: string[];
  /** The early prefixes of `newLines`. */
  readonly prefixes: Set<string>;
}

/** A new line that equals original lines at `candidates`, waiting for the next line to confirm one of them. */
interface HeldLine {
  line: string;
  readonly prefix: string | null;
  readonly candidates: readonly number[];
}

/**
 * The streaming diff of a next-edit answer against its editable region: a changed hunk is returned as soon as the
 * stream has passed it and re-joined the original, long before the answer is complete.
 *
 * Lines are matched as they complete (an equal line advances both sides; differing new lines form a pending hunk,
 * confirmed when a following new line equals an original line at or after the hunk's start: lines skipped there were
 * deleted, new lines before it inserted). A re-join on a trivial line (blank, punctuation only such as `}` or `);`, a
 * lone keyword such as `end` or `else`), or one that would delete more than two lines net, needs a second matching line
 * in a row, since such lines repeat everywhere. A pending hunk is also confirmed as soon as the line being written
 * starts (eight characters past its indentation) like exactly one original line within reach, without waiting for
 * that line's end: chunking does not change the outcome, since the check always looks at that same prefix. A confirmed
 * line hunk is refined with a word-level diff, so a renamed identifier is a hunk of just the old and new names.
 *
 * Rejected at the end: an answer repeating the region (half its distinct non-trivial lines written more times than the
 * region has them, or over 2x its length + 200 characters; `overrun` says so as soon as it is true) and an answer
 * that drops it (the rule is in `finish`).
 *
 * Line breaks: when the region uses one style throughout, the answer's breaks are written in it (a CRLF file stays CRLF
 * whatever the model writes); when the region ends with a break and the answer does not, the answer is taken to end
 * with the region's (models often drop the last one, and applying that would join the next line onto the region);
 * when the region ends at the end of a file without a break and the answer adds one, it is dropped. Apart from that,
 * applying every hunk replaces the region with the answer exactly.
 *
 * Hunks returned by `push` are for display only: nothing may apply them until `end()` returns `ok` (the engine applies
 * only a `complete` prediction, and only on the person's Tab), so a rejection that only the end of the answer reveals
 * (a dropped or repeated region) is safe. Cost: each pushed character is scanned once, each complete line costs one
 * map lookup, and each confirmed hunk one word diff of its own lines; a 20-line region (about 250 tokens) in
 * 4-character chunks takes about 35 microseconds in all once warm.
 */
export class StreamingRegionDiff {
  private readonly oldLines: readonly string[];
  /** Offset in the region of each original line's start, and the region's length at the end. */
  private readonly oldOffsets: readonly number[];
  /** Original line text (with its break) -> its indexes, ascending. */
  private readonly oldIndex = new Map<string, number[]>();
  /** Each original line's early prefix (see `earlyPrefix`), and prefix -> indexes, ascending. */
  private readonly oldPrefixes: readonly (string | null)[];
  private readonly prefixIndex = new Map<string, number[]>();
  /** Trimmed non-trivial original line -> how often it occurs, for telling a repeated region from an edit. */
  private readonly oldCounts = new Map<string, number>();
  private readonly answerCounts = new Map<string, number>();
  private readonly lineBreak: '\r\n' | '\n' | null;
  private readonly finalBreak: string;
  private readonly regionNonBlank: number;
  private readonly lengthLimit: number;
  private readonly repeatThreshold: number;

  private buffer = '';
  /** Whether the early re-join check has run for the line now in `buffer`. */
  private earlyChecked = false;
  /** The next original line to match when no hunk is pending. */
  private next = 0;
  private pending: PendingHunk | null = null;
  private held: HeldLine | null = null;
  private readonly hunks: PredictedHunk[] = [];
  private confirmed: PredictedHunk[] = [];
  private answerLength = 0;
  private answerNonBlank = 0;
  private keptNonBlank = 0;
  /** New non-trivial lines beyond the number of times the original has them. */
  private excess = 0;
  private overran = false;
  private result: StreamingRegionDiffResult | null = null;

  constructor(private readonly region: EditableRegion) {
    const lines = region.text.match(/[^\n]*\n|[^\n]+$/g) ?? [];
    this.oldLines = lines;
    const offsets = [0];
    let offset = 0;
    let nonBlank = 0;
    let nonTrivial = 0;
    let crlf = 0;
    let lf = 0;
    this.oldPrefixes = lines.map((line) => earlyPrefix(withoutBreak(line)));
    lines.forEach((line, index) => {
      offset += line.length;
      offsets.push(offset);
      addIndex(this.oldIndex, line, index);
      const prefix = this.oldPrefixes[index];
      if (prefix !== undefined && prefix !== null) addIndex(this.prefixIndex, prefix, index);
      if (line.endsWith('\r\n')) crlf += 1;
      else if (line.endsWith('\n')) lf += 1;
      const trimmed = line.trim();
      if (trimmed !== '') nonBlank += 1;
      if (!isTrivial(trimmed)) {
        nonTrivial += 1;
        this.oldCounts.set(trimmed, (this.oldCounts.get(trimmed) ?? 0) + 1);
      }
    });
    this.oldOffsets = offsets;
    this.lineBreak = crlf > 0 && lf === 0 ? '\r\n' : lf > 0 && crlf === 0 ? '\n' : null;
    const last = lines[lines.length - 1] ?? '';
    this.finalBreak = last.endsWith('\r\n') ? '\r\n' : last.endsWith('\n') ? '\n' : '';
    this.regionNonBlank = nonBlank;
    this.lengthLimit = 2 * region.text.length + 200;
    // Half the region's distinct content written a second time is a repeat, not an edit (a next edit duplicates a
    // line or two at most); a region of one or two such lines must have them all repeated.
    this.repeatThreshold = nonTrivial === 0 ? Infinity : Math.min(nonTrivial, Math.max(2, Math.ceil(nonTrivial / 2)));
  }

  /**
   * Feeds more of the rewritten region's text (already stripped of format markers). Returns hunks confirmed by this
   * text, in document order, in snapshot offsets (region.start + offset in region).
   */
  push(text: string): readonly PredictedHunk[] {
    if (this.result !== null) throw new Error('StreamingRegionDiff.push after end()');
    if (this.overran) return NO_HUNKS;
    this.answerLength += text.length;
    if (this.answerLength > this.lengthLimit) {
      this.overran = true;
      return NO_HUNKS;
    }
    this.confirmed = [];
    const searchFrom = this.buffer.length;
    this.buffer += text;
    let lineStart = 0;
    let lineEnd = this.buffer.indexOf('\n', searchFrom);
    while (lineEnd !== -1) {
      this.completeLine(this.withRegionBreak(this.buffer.slice(lineStart, lineEnd + 1)));
      if (this.overran) return NO_HUNKS;
      lineStart = lineEnd + 1;
      lineEnd = this.buffer.indexOf('\n', lineStart);
    }
    if (lineStart > 0) this.buffer = this.buffer.slice(lineStart);
    this.checkPartialLine();
    return this.confirmed.length === 0 ? NO_HUNKS : this.confirmed;
  }

  /**
   * True once the answer is clearly repeating the region or running far past it (over 2x the region's length + 200
   * characters): the caller aborts the request early, and `end()` will reject it as `repeats-region`.
   */
  get overrun(): boolean {
    return this.overran;
  }

  /** The answer ended: all hunks in order (those already returned by push included), or a rejection. */
  end(): StreamingRegionDiffResult {
    if (this.result !== null) return this.result;
    this.result = this.finish();
    return this.result;
  }

  private finish(): StreamingRegionDiffResult {
    if (this.overran) return { ok: false, why: 'repeats-region' };
    this.confirmed = [];
    const last = this.buffer;
    this.buffer = '';
    if (last !== '') {
      this.completeLine(last + this.finalBreak);
      if (this.overran) return { ok: false, why: 'repeats-region' };
    } else if (this.finalBreak === '' && this.oldLines.length > 0) {
      this.dropFinalBreak();
    }
    this.diffTail();
    if (this.answerNonBlank === 0 && this.regionNonBlank > 0) return { ok: false, why: 'drops-region' };
    // A drop is a short answer made of new text: a model that wrote only the changed line or two, or a placeholder,
    // instead of the whole region. A legitimate deletion, even of most of the region, keeps what survives verbatim.
    // So: a region of 3+ non-blank lines, an answer with under a third as many, and under two thirds of the answer's
    // lines kept from the region. (Blank lines count on neither side: they carry nothing.)
    if (
      this.regionNonBlank >= 3 &&
      this.answerNonBlank * 3 < this.regionNonBlank &&
      this.keptNonBlank * 3 < this.answerNonBlank * 2
    ) {
      return { ok: false, why: 'drops-region' };
    }
    return { ok: true, hunks: this.hunks, unchanged: this.hunks.length === 0 };
  }

  /** A line of the answer, with its break (or, the last one, without when the region has none). */
  private completeLine(line: string): void {
    const trimmed = line.trim();
    if (trimmed !== '') this.answerNonBlank += 1;
    const originalCount = this.oldCounts.get(trimmed);
    if (originalCount !== undefined) {
      const count = (this.answerCounts.get(trimmed) ?? 0) + 1;
      this.answerCounts.set(trimmed, count);
      if (count > originalCount) {
        this.excess += 1;
        if (this.excess >= this.repeatThreshold) {
          this.overran = true;
          return;
        }
      }
    }
    if (!this.earlyChecked) {
      // The same check a partial line gets, on the same prefix, so that the hunks do not depend on how the text was
      // chunked.
      const prefix = earlyPrefix(withoutBreak(line));
      if (prefix !== null) this.earlyRejoin(prefix);
    }
    this.earlyChecked = false;
    this.matchLine(line);
  }

  private checkPartialLine(): void {
    if (this.earlyChecked || this.pending === null || this.buffer === '') return;
    // A trailing `\r` may be the start of a line break: leave it out until the next character says.
    const content = this.buffer.endsWith('\r') ? this.buffer.slice(0, -1) : this.buffer;
    const prefix = earlyPrefix(content);
    if (prefix === null) return;
    this.earlyChecked = true;
    this.earlyRejoin(prefix);
  }

  /** Confirms the pending hunk when the line being written starts like an original line just after it. */
  private earlyRejoin(prefix: string): void {
    const pending = this.pending;
    if (pending === null) return;
    const held = this.held;
    if (held !== null) {
      const candidate = held.candidates.find((index) => this.oldPrefixes[index + 1] === prefix);
      if (candidate !== undefined) {
        this.confirm(candidate, 1);
        return;
      }
    }
    // An original line starts with `prefix` exactly when its own prefix is `prefix`: the prefix ends past the
    // indentation, so both lines have the same indentation and so the same prefix length.
    // The prefix must name one original line within reach (lines sharing a start, such as consecutive
    // `console.log(` calls, are told apart only by the whole line), and must not also be how the pending lines start
    // when it names the line they would be inserted before: then they may as well be that line, changed.
    const written = pending.newLines.length + (held === null ? 0 : 1);
    const last = pending.oldStart + written + MAX_SINGLE_LINE_NET_DELETION;
    const inReach = (this.prefixIndex.get(prefix) ?? []).filter((index) => index >= pending.oldStart && index <= last);
    const rejoin = inReach[0];
    if (rejoin === undefined || inReach.length > 1) return;
    if (rejoin === pending.oldStart && (pending.prefixes.has(prefix) || (held !== null && held.prefix === prefix))) {
      return;
    }
    // The held line did not re-join where it matched: it is new text of the pending hunk.
    if (held !== null) addNewLine(pending, held.line);
    this.held = null;
    this.confirm(rejoin, 0);
  }

  private matchLine(line: string): void {
    let pending = this.pending;
    if (pending === null) {
      if (this.oldLines[this.next] === line) {
        this.keep(this.next, 1);
        this.next += 1;
        return;
      }
      pending = { oldStart: this.next, newLines: [], prefixes: new Set() };
      this.pending = pending;
    }
    const held = this.held;
    if (held !== null) {
      this.held = null;
      for (const candidate of held.candidates) {
        if (this.oldLines[candidate + 1] === line) {
          this.confirm(candidate, 2);
          return;
        }
      }
      addNewLine(pending, held.line);
    }
    const oldStart = pending.oldStart;
    const candidates = (this.oldIndex.get(line) ?? []).filter((index) => index >= oldStart);
    const first = candidates[0];
    if (first === undefined) {
      addNewLine(pending, line);
      return;
    }
    if (!isTrivial(line.trim()) && first - oldStart - pending.newLines.length <= MAX_SINGLE_LINE_NET_DELETION) {
      this.confirm(first, 1);
      return;
    }
    const pairable = candidates.filter((index) => index + 1 < this.oldLines.length);
    if (pairable.length === 0) addNewLine(pending, line);
    else this.held = { line, prefix: earlyPrefix(withoutBreak(line)), candidates: pairable };
  }

  /** The pending hunk ends at original line `rejoin`; the next `matched` new lines equal the original from there. */
  private confirm(rejoin: number, matched: number): void {
    const pending = this.pending;
    if (pending === null) return;
    this.emitLineHunk(pending.oldStart, rejoin, pending.newLines.join(''));
    this.keep(rejoin, matched);
    this.next = rejoin + matched;
    this.pending = null;
    this.held = null;
  }

  /** The answer ended with a break after its last line while the region has none: the break is dropped. */
  private dropFinalBreak(): void {
    const held = this.held;
    if (held !== null) {
      held.line = withoutBreak(held.line);
      return;
    }
    const newLines = this.pending?.newLines;
    const lastIndex = (newLines?.length ?? 0) - 1;
    const lastLine = newLines?.[lastIndex];
    if (newLines !== undefined && lastLine !== undefined) newLines[lastIndex] = withoutBreak(lastLine);
  }

  /** At the end: whatever is pending or unmatched, diffed by lines against the rest of the region. */
  private diffTail(): void {
    const from = this.pending?.oldStart ?? this.next;
    const newTail = [...(this.pending?.newLines ?? [])];
    if (this.held !== null) newTail.push(this.held.line);
    this.pending = null;
    this.held = null;
    const oldTail = this.oldLines.slice(from);
    if (oldTail.length === 0 && newTail.length === 0) return;
    let oldLine = from;
    let runStart = -1;
    let runText = '';
    const flush = (): void => {
      if (runStart >= 0) this.emitLineHunk(runStart, oldLine, runText);
      runStart = -1;
      runText = '';
    };
    for (const op of diffLines(oldTail, newTail)) {
      if (op.kind === 'same') {
        flush();
        this.keep(oldLine, 1);
        oldLine += 1;
        continue;
      }
      if (runStart < 0) runStart = oldLine;
      if (op.kind === 'removed') oldLine += 1;
      else runText += newTail[op.newIndex] ?? '';
    }
    flush();
  }

  private keep(firstLine: number, count: number): void {
    for (let index = firstLine; index < firstLine + count; index += 1) {
      if ((this.oldLines[index] ?? '').trim() !== '') this.keptNonBlank += 1;
    }
  }

  /** Original lines [fromLine, toLine) become `newText`: the word-level hunks of that change. */
  private emitLineHunk(fromLine: number, toLine: number, newText: string): void {
    const oldFrom = this.oldOffsets[fromLine] ?? this.region.text.length;
    const oldTo = this.oldOffsets[toLine] ?? this.region.text.length;
    const oldText = this.region.text.slice(oldFrom, oldTo);
    if (oldText === newText) return;
    const base = this.region.start + oldFrom;
    for (const edit of wordEdits(oldText, newText)) {
      const hunk: PredictedHunk = {
        start: base + edit.oldStart,
        end: base + edit.oldEnd,
        oldText: oldText.slice(edit.oldStart, edit.oldEnd),
        newText: newText.slice(edit.newStart, edit.newEnd),
      };
      this.hunks.push(hunk);
      this.confirmed.push(hunk);
    }
  }

  /** A complete line of the answer with its break in the region's style. */
  private withRegionBreak(line: string): string {
    if (this.lineBreak === '\r\n' && !line.endsWith('\r\n')) return `${line.slice(0, -1)}\r\n`;
    if (this.lineBreak === '\n' && line.endsWith('\r\n')) return `${line.slice(0, -2)}\n`;
    return line;
  }
}

/**
 * The smallest word-level changes turning `oldText` into `newText` (offsets within each). Edits separated only by
 * spaces or tabs no longer than both are merged (`let x` -> `const y` reads as one change, not two), never across a
 * line break or punctuation, so two renames on a line stay two hunks.
 */
function wordEdits(oldText: string, newText: string): TokenEdit[] {
  const oldTokens = oldText.match(TOKEN) ?? [];
  const newTokens = newText.match(TOKEN) ?? [];
  const edits: TokenEdit[] = [];
  let current: TokenEdit | null = null;
  let oldPos = 0;
  let newPos = 0;
  for (const op of diffLines(oldTokens, newTokens, MAX_TOKEN_EDITS)) {
    if (op.kind === 'same') {
      if (current !== null) edits.push(current);
      current = null;
      oldPos += (oldTokens[op.oldIndex] ?? '').length;
      newPos += (newTokens[op.newIndex] ?? '').length;
      continue;
    }
    current ??= { oldStart: oldPos, oldEnd: oldPos, newStart: newPos, newEnd: newPos };
    if (op.kind === 'removed') {
      oldPos += (oldTokens[op.oldIndex] ?? '').length;
      current.oldEnd = oldPos;
    } else {
      newPos += (newTokens[op.newIndex] ?? '').length;
      current.newEnd = newPos;
    }
  }
  if (current !== null) edits.push(current);
  const merged: TokenEdit[] = [];
  for (const edit of edits) {
    const previous = merged[merged.length - 1];
    if (previous !== undefined) {
      const gap = oldText.slice(previous.oldEnd, edit.oldStart);
      if (/^[ \t]+$/.test(gap) && gap.length <= editSize(previous) && gap.length <= editSize(edit)) {
        previous.oldEnd = edit.oldEnd;
        previous.newEnd = edit.newEnd;
        continue;
      }
    }
    merged.push(edit);
  }
  return merged;
}

function editSize(edit: TokenEdit): number {
  return Math.max(edit.oldEnd - edit.oldStart, edit.newEnd - edit.newStart);
}

/**
 * Lines that occur everywhere and so prove nothing about where the answer is: blank, punctuation and symbols only
 * (`}`, `});`, `*\/`), or a lone block keyword. `trimmed` is the line without surrounding whitespace.
 */
function isTrivial(trimmed: string): boolean {
  return (
    /^[\p{P}\p{S}]*$/u.test(trimmed) ||
    /^(?:end|else|fi|done|esac|endif|begin|then|do|try|finally|pass|break|continue|return)[;:,]?$/.test(trimmed)
  );
}

/** The first characters of a line that the early re-join compares, or null when the line is too short or trivial. */
function earlyPrefix(content: string): string | null {
  const indent = /^[ \t]*/.exec(content)?.[0].length ?? 0;
  const length = indent + EARLY_PREFIX_CHARS;
  if (content.length < length) return null;
  const prefix = content.slice(0, length);
  return /[\p{L}\p{N}]/u.test(prefix) ? prefix : null;
}

function addNewLine(pending: PendingHunk, line: string): void {
  pending.newLines.push(line);
  const prefix = earlyPrefix(withoutBreak(line));
  if (prefix !== null) pending.prefixes.add(prefix);
}

function addIndex(map: Map<string, number[]>, key: string, index: number): void {
  const indexes = map.get(key);
  if (indexes === undefined) map.set(key, [index]);
  else indexes.push(index);
}

function withoutBreak(line: string): string {
  if (line.endsWith('\r\n')) return line.slice(0, -2);
  if (line.endsWith('\n')) return line.slice(0, -1);
  return line;
}
