/**
 * Continuation modes: the simulator answers a completion request with what follows the prompt's prefix in a set of
 * files (`true`), with plausible code that is surely not what is typed next (`wrong`), or a seeded mix of both. The
 * lines of the files are indexed once (and again only for files whose text changed), so that a lookup costs about the
 * length of the prefix plus the places where its rarest line occurs, not a scan of every file per candidate tail.
 */
import { corpusCode, guessLanguage, stableHash } from './defaultCompletion';

/** A continuation mode: `true` continues like the file, `wrong` never does, `mixed` is `true` with probability `trueShare`. */
export type SimContinuationMode =
  { readonly kind: 'true' } | { readonly kind: 'wrong' } | { readonly kind: 'mixed'; readonly trueShare: number };

/** A mode as written in options, the CLI and the `x-sim-continuation` header: `true`, `wrong` or `mixed:P` (0 <= P <= 1). */
export type SimContinuationSpec = 'true' | 'wrong' | `mixed:${number}`;

/** Parses `true`, `wrong` or `mixed:P` with 0 <= P <= 1; null when invalid. */
export function parseContinuation(spec: string): SimContinuationMode | null {
  const trimmed = spec.trim();
  if (trimmed === 'true') return { kind: 'true' };
  if (trimmed === 'wrong') return { kind: 'wrong' };
  const match = /^mixed:(\d+(?:\.\d*)?|\.\d+)$/.exec(trimmed);
  if (match?.[1] === undefined) return null;
  const trueShare = Number(match[1]);
  return trueShare >= 0 && trueShare <= 1 ? { kind: 'mixed', trueShare } : null;
}

/** The spec of a mode (the inverse of `parseContinuation`). */
export function formatContinuation(mode: SimContinuationMode): SimContinuationSpec {
  switch (mode.kind) {
    case 'true':
      return 'true';
    case 'wrong':
      return 'wrong';
    case 'mixed':
      return `mixed:${mode.trueShare}`;
  }
}

/** Where the longest tail of a prefix was found. */
export interface ContinuationMatch {
  /** Index of the file in the array the files function returned. */
  readonly fileIndex: number;
  /** Offset in that file right after the matched tail: the true continuation starts here. */
  readonly offset: number;
  /** Characters of the prefix's tail that matched. */
  readonly matchedChars: number;
}

/** A tail shorter than this many non-blank characters says too little about where it came from. */
export const MIN_TAIL_NONBLANK_CHARS = 40;

/** The most characters a continuation carries: as long as a default completion, so that long benchmarks never run out. */
export const MAX_CONTINUATION_CHARS = 11_000;

// Candidate places looked at per lookup, at most: a prefix whose rarest line occurs more often than this (a file
// duplicated thousands of times) is matched against the first ones only.
const MAX_CANDIDATES = 20_000;

// Lines before the shortest tail looked at for a rarer anchor: about 6 KB of code.
const RARE_LINE_WINDOW = 200;

// Lines scanned for a `wrong` answer's starting place before falling back to the corpus.
const WRONG_SCAN_LINES = 400;

// FIM templates some clients put in a raw prompt (`/completion`, `/v1/completions` without `suffix`; see
// src/core/inline/fimTemplates.ts): the prefix is the text between `open` and `close`. A prompt counts as one only when
// it ends with the template's last marker (Codestral's `[SUFFIX]s[PREFIX]p` starts with its first), so that code that
// merely mentions the markers (a file about FIM templates) is taken as it is.
const FIM_TEMPLATES: readonly {
  readonly open: string;
  readonly close: string | null;
  readonly ends?: string;
  readonly starts?: string;
}[] = [
  { open: '<|fim_prefix|>', close: '<|fim_suffix|>', ends: '<|fim_middle|>' },
  { open: '<fim_prefix>', close: '<fim_suffix>', ends: '<fim_middle>' },
  { open: '<｜fim▁begin｜>', close: '<｜fim▁hole｜>', ends: '<｜fim▁end｜>' },
  { open: '<PRE> ', close: ' <SUF>', ends: ' <MID>' },
  { open: '[PREFIX]', close: null, starts: '[SUFFIX]' },
];

/** The prefix inside a raw FIM-template prompt, or the text itself when it is not one. */
export function prefixOfPrompt(text: string): string {
  for (const { open, close, ends, starts } of FIM_TEMPLATES) {
    if ((ends !== undefined && !text.endsWith(ends)) || (starts !== undefined && !text.startsWith(starts))) continue;
    const start = text.lastIndexOf(open);
    if (start < 0) continue;
    const from = start + open.length;
    const end = close === null ? text.length : text.indexOf(close, from);
    if (end >= 0) return text.slice(from, end);
  }
  return text;
}

function isBlankCode(code: number): boolean {
  // Space, tab, CR, LF, vertical tab, form feed: what code indentation is made of.
  return code === 32 || (code >= 9 && code <= 13);
}

function nonBlankCount(text: string): number {
  let count = 0;
  for (let index = 0; index < text.length; index++) if (!isBlankCode(text.charCodeAt(index))) count += 1;
  return count;
}

/** Index of the first non-blank character of `text` from `from`, or -1. */
function firstNonBlank(text: string, from = 0, end = text.length): number {
  for (let index = from; index < end; index++) if (!isBlankCode(text.charCodeAt(index))) return index;
  return -1;
}

/** One file's line starts, with a sentinel: line i spans [starts[i], starts[i + 1] - 1). */
interface IndexedFile {
  readonly text: string;
  readonly starts: Int32Array;
  /** Where the file is in the array the files function returned last (a file there twice is indexed once, first place). */
  position: number;
  /** Entries it added to the line index. */
  postings: number;
}

function lineCount(file: IndexedFile): number {
  return file.starts.length - 1;
}

function lineEnd(file: IndexedFile, line: number): number {
  return (file.starts[line + 1] ?? 0) - 1;
}

const EMPTY_FILE: IndexedFile = { text: '', starts: new Int32Array([0, 1]), position: -1, postings: 0 };

function lineStarts(text: string): Int32Array {
  let count = 1;
  for (let at = text.indexOf('\n'); at >= 0; at = text.indexOf('\n', at + 1)) count += 1;
  const starts = new Int32Array(count + 1);
  let line = 1;
  for (let at = text.indexOf('\n'); at >= 0; at = text.indexOf('\n', at + 1)) starts[line++] = at + 1;
  starts[count] = text.length + 1;
  return starts;
}

/** A prefix cut into its complete lines and the partial line at the cursor. */
interface PrefixLines {
  readonly lines: readonly string[];
  readonly partial: string;
}

function splitPrefix(prefix: string): PrefixLines {
  const parts = prefix.split('\n');
  const partial = parts.pop() ?? '';
  return { lines: parts, partial };
}

/**
 * The lines of a set of files, indexed for continuation lookups. The files come from a function, called on every
 * lookup: when it returns a different array than last time, the index is brought up to date on that lookup, so a
 * caller must return the same array while the files are unchanged. Only files whose text is new are indexed then (a
 * save changes one file of hundreds); a file that went away leaves stale entries, skipped, until they are half of the
 * index, which is then rebuilt.
 */
export class ContinuationIndex {
  private source: readonly string[] | null = null;
  /** The indexed files in the order of `source`. */
  private byPosition: IndexedFile[] = [];
  /** Live files by id; the line index refers to files by id, so that other files can come and go. */
  private readonly byId = new Map<number, IndexedFile>();
  private idOfText = new Map<string, number>();
  private nextId = 0;
  /** Non-blank line text -> flat [file id, line, file id, line, ...] of where it occurs. */
  private lines = new Map<string, number[]>();
  private livePostings = 0;
  private stalePostings = 0;
  private updateCount = 0;
  private indexedCount = 0;

  constructor(private readonly filesOf: () => readonly string[]) {}

  /** How many times the index was brought up to date with a new array of files. */
  get updates(): number {
    return this.updateCount;
  }

  /** How many file texts have had their lines indexed, in all (a test can see that unchanged files are not redone). */
  get indexedFiles(): number {
    return this.indexedCount;
  }

  /** The number of files (after bringing the index up to date). */
  get fileCount(): number {
    this.refresh();
    return this.byPosition.length;
  }

  /**
   * Finds the longest tail of `prefix` that occurs in a file: the whole prefix, else the tail from one of its lines on,
   * down to the shortest tail that holds at least MIN_TAIL_NONBLANK_CHARS non-blank characters and one non-blank whole
   * line. A prefix too short for that matches only at the start of a file. The first file wins a tie.
   */
  find(prefix: string): ContinuationMatch | null {
    this.refresh();
    if (prefix.length === 0 || this.byPosition.length === 0) return null;
    const { lines, partial } = splitPrefix(prefix);
    // The shortest tail allowed starts at line `minStart`: enough non-blank characters, and a non-blank whole line
    // (only whole lines are indexed).
    let nonBlank = nonBlankCount(partial);
    let minStart = -1;
    let lastNonBlankLine = -1;
    for (let index = lines.length - 1; index >= 0; index--) {
      const count = nonBlankCount(lines[index] ?? '');
      if (count > 0 && lastNonBlankLine < 0) lastNonBlankLine = index;
      nonBlank += count;
      if (nonBlank >= MIN_TAIL_NONBLANK_CHARS && lastNonBlankLine >= 0) {
        minStart = index;
        break;
      }
    }
    if (minStart < 0) return this.findAtFileStart(prefix);
    return this.findTail(lines, partial, minStart);
  }

  /** The true continuation: the text after the match, at most MAX_CONTINUATION_CHARS. */
  textAfter(match: ContinuationMatch, maxChars = MAX_CONTINUATION_CHARS): string {
    const text = this.byPosition[match.fileIndex]?.text ?? '';
    return text.slice(match.offset, match.offset + maxChars);
  }

  /**
   * Code from a seed-chosen place in the files whose first non-blank character is not `avoid` (null avoids nothing),
   * starting at that character; null when none is found nearby.
   */
  codeNotStartingWith(avoid: string | null, seed: number, maxChars = MAX_CONTINUATION_CHARS): string | null {
    this.refresh();
    const files = this.byPosition;
    if (files.length === 0) return null;
    let position = seed % files.length;
    let line = (seed >>> 8) % Math.max(1, lineCount(files[position] ?? EMPTY_FILE));
    for (let scanned = 0; scanned < WRONG_SCAN_LINES; scanned++) {
      const file = files[position];
      if (file === undefined) return null;
      if (line >= lineCount(file)) {
        position = (position + 1) % files.length;
        line = 0;
        continue;
      }
      const at = firstNonBlank(file.text, file.starts[line] ?? 0, lineEnd(file, line));
      if (at >= 0 && file.text[at] !== avoid) return file.text.slice(at, at + maxChars);
      line += 1;
    }
    return null;
  }

  private refresh(): void {
    const source = this.filesOf();
    if (source === this.source) return;
    this.updateCount += 1;
    this.update(source);
    if (this.stalePostings > this.livePostings) {
      // Start again from the files in use, dropping the entries of files that went away.
      this.lines = new Map();
      this.byId.clear();
      this.idOfText = new Map();
      this.livePostings = 0;
      this.stalePostings = 0;
      this.update(source);
    }
  }

  /** Indexes the files of `source` not indexed yet, and forgets those no longer in it. */
  private update(source: readonly string[]): void {
    this.source = source;
    const idOfText = new Map<string, number>();
    const byPosition: IndexedFile[] = [];
    for (let position = 0; position < source.length; position++) {
      const text = source[position] ?? '';
      const seen = idOfText.get(text);
      if (seen !== undefined) {
        byPosition.push(this.byId.get(seen) ?? EMPTY_FILE);
        continue;
      }
      const id = this.idOfText.get(text) ?? this.addFile(text);
      const file = this.byId.get(id) ?? EMPTY_FILE;
      file.position = position;
      idOfText.set(text, id);
      byPosition.push(file);
    }
    for (const [text, id] of this.idOfText) {
      if (idOfText.has(text)) continue;
      const gone = this.byId.get(id);
      this.byId.delete(id);
      this.livePostings -= gone?.postings ?? 0;
      this.stalePostings += gone?.postings ?? 0;
    }
    this.idOfText = idOfText;
    this.byPosition = byPosition;
  }

  /** Indexes a file's lines under a new id. */
  private addFile(text: string): number {
    const id = this.nextId++;
    const file: IndexedFile = { text, starts: lineStarts(text), position: 0, postings: 0 };
    const count = lineCount(file);
    const lines = this.lines;
    for (let line = 0; line < count; line++) {
      const start = file.starts[line] ?? 0;
      const end = lineEnd(file, line);
      if (firstNonBlank(text, start, end) < 0) continue;
      const key = text.slice(start, end);
      const places = lines.get(key);
      if (places === undefined) lines.set(key, [id, line]);
      else places.push(id, line);
      file.postings += 1;
    }
    this.byId.set(id, file);
    this.livePostings += file.postings;
    this.indexedCount += 1;
    return id;
  }

  private findAtFileStart(prefix: string): ContinuationMatch | null {
    const fileIndex = this.byPosition.findIndex((file) => file.text.startsWith(prefix));
    return fileIndex < 0 ? null : { fileIndex, offset: prefix.length, matchedChars: prefix.length };
  }

  private findTail(lines: readonly string[], partial: string, minStart: number): ContinuationMatch | null {
    const last = lines.length - 1;
    // The first line of the prefix may have been cut by the client's prompt window: it matches the end of a file line.
    // Every other line must match a whole file line, and every line of the shortest tail must occur somewhere, so the
    // search can start from the places of the rarest of them.
    let required = -1;
    let requiredPlaces: readonly number[] = [];
    for (let index = Math.max(minStart, 1); index <= last; index++) {
      const text = lines[index] ?? '';
      if (nonBlankCount(text) === 0) continue;
      const places = this.lines.get(text) ?? [];
      if (places.length === 0) return null;
      if (required < 0 || places.length < requiredPlaces.length) {
        required = index;
        requiredPlaces = places;
      }
    }
    if (required < 0) {
      // Only the first line is non-blank in the shortest tail: look it up whole (a cut first line then finds nothing).
      required = 0;
      requiredPlaces = this.lines.get(lines[0] ?? '') ?? [];
    }
    // The shortest tail may hold only common lines (`}`, `return result;`: thousands of places in a workspace). A rarer
    // line further back settles it faster: a match through it is longer than any match without it, so if it has one,
    // that is the answer.
    let rare = -1;
    let rarePlaces = requiredPlaces;
    for (let index = Math.max(1, last - RARE_LINE_WINDOW); index < minStart; index++) {
      const text = lines[index] ?? '';
      if (nonBlankCount(text) === 0) continue;
      const places = this.lines.get(text);
      if (places !== undefined && places.length < rarePlaces.length) {
        rare = index;
        rarePlaces = places;
      }
    }
    if (rare >= 0) {
      const found = this.searchFrom(lines, partial, rare, rarePlaces, rare);
      if (found !== null) return found;
    }
    return this.searchFrom(lines, partial, required, requiredPlaces, minStart);
  }

  /**
   * The longest match among the places where prefix line `anchor` occurs, of tails that start at line `startBy` or
   * earlier.
   */
  private searchFrom(
    lines: readonly string[],
    partial: string,
    anchor: number,
    places: readonly number[],
    startBy: number,
  ): ContinuationMatch | null {
    const last = lines.length - 1;
    let best: ContinuationMatch | null = null;
    const candidates = Math.min(places.length, MAX_CANDIDATES * 2);
    for (let slot = 0; slot < candidates; slot += 2) {
      // A file that went away leaves its entries behind until the next rebuild.
      const file = this.byId.get(places[slot] ?? -1);
      if (file === undefined) continue;
      // The file line where the prefix's last whole line sits, and the one after it, where the cursor is.
      const lastLine = (places[slot + 1] ?? 0) + (last - anchor);
      const cursorLine = lastLine + 1;
      if (cursorLine >= lineCount(file)) continue;
      const cursorLineStart = file.starts[cursorLine] ?? 0;
      if (!file.text.startsWith(partial, cursorLineStart)) continue;
      let matchedChars = partial.length;
      let start = last + 1;
      while (start > 0) {
        const index = start - 1;
        const fileLine = lastLine - (last - index);
        if (fileLine < 0 || !this.lineMatches(file, fileLine, lines[index] ?? '', index === 0)) break;
        matchedChars += (lines[index] ?? '').length + 1;
        start = index;
      }
      if (start > startBy) continue;
      if (
        best === null ||
        matchedChars > best.matchedChars ||
        (matchedChars === best.matchedChars && file.position < best.fileIndex)
      ) {
        best = { fileIndex: file.position, offset: cursorLineStart + partial.length, matchedChars };
      }
    }
    return best;
  }

  private lineMatches(file: IndexedFile, line: number, text: string, mayBeCut: boolean): boolean {
    const start = file.starts[line] ?? 0;
    const end = lineEnd(file, line);
    if (mayBeCut) return end - start >= text.length && file.text.startsWith(text, end - text.length);
    return end - start === text.length && file.text.startsWith(text, start);
  }
}

/** What a continuation needs to know about a request. */
export interface ContinuationRequest {
  /** The text before the cursor (a raw FIM-template prompt is unwrapped). */
  readonly prefix: string;
  /** Everything the model is given: the seed of every choice, so that the same prompt gets the same answer. */
  readonly promptText: string;
}

/** True when a `mixed` mode picks the true continuation for this prompt (deterministic per prompt). */
export function picksTrue(mode: SimContinuationMode, promptText: string): boolean {
  if (mode.kind !== 'mixed') return mode.kind === 'true';
  // 2^32 buckets from the prompt's hash, mixed so that prompts that differ only in their last characters (successive
  // keystrokes) spread evenly: a share P of prompts lands below P.
  return mixSeed(stableHash(promptText)) / 0x1_0000_0000 < mode.trueShare;
}

// Two plausible openings with different first characters: one of them always differs from any given character.
const FALLBACK_OPENINGS = ['// TODO: handle the remaining cases\n', 'return undefined;\n'] as const;

/**
 * Code that surely does not continue like `truth`: its first non-blank character differs from the truth's. It keeps the
 * truth's leading whitespace (the line break and indentation a model would also write) and takes the code from another
 * place in the files, else from the corpus.
 */
export function wrongContinuation(truth: string, index: ContinuationIndex, seed: number, promptText: string): string {
  const first = firstNonBlank(truth);
  const avoid = first < 0 ? null : truth.charAt(first);
  const leading = first < 0 ? '' : truth.slice(0, first);
  const fromFiles = index.codeNotStartingWith(avoid, seed);
  if (fromFiles !== null) return leading + fromFiles;
  const corpus = corpusCode(guessLanguage(promptText), seed).trimStart();
  if (corpus.charAt(0) !== avoid) return leading + corpus;
  const opening = FALLBACK_OPENINGS.find((line) => line.charAt(0) !== avoid) ?? FALLBACK_OPENINGS[0];
  return leading + opening + corpus;
}

/** A finaliser over the prompt's hash (murmur-style): spreads small input differences over all 32 bits. */
function mixSeed(hash: number): number {
  let value = Math.imul(hash ^ (hash >>> 16), 0x45d9f3b) >>> 0;
  value = Math.imul(value ^ (value >>> 16), 0x45d9f3b) >>> 0;
  return (value ^ (value >>> 16)) >>> 0;
}

/**
 * The completion a continuation mode gives a request, or null when the prefix matches nothing in the files (the
 * caller then answers as it would without a mode).
 */
export function continuationCompletion(
  mode: SimContinuationMode,
  index: ContinuationIndex,
  request: ContinuationRequest,
): string | null {
  const match = index.find(prefixOfPrompt(request.prefix));
  if (match === null) return null;
  const truth = index.textAfter(match);
  if (picksTrue(mode, request.promptText)) return truth;
  return wrongContinuation(truth, index, stableHash(request.promptText), request.promptText);
}
