// Pure steps that turn streamed completion text into what is shown as ghost text. Each step is a plain function of
// (text, context) so that it can be tested alone from a table; `shownSuggestion` chains them.

/** Where the suggestion goes, as the steps need it. */
export interface SuggestionContext {
  /** The cursor's line up to the cursor. */
  readonly linePrefix: string;
  /** The cursor's line after the cursor. */
  readonly lineSuffix: string;
  /** The lines after the cursor's line, nearest first (a handful is enough). */
  readonly followingLines: readonly string[];
  /** Show a whole block (true) or the rest of one line (false). */
  readonly multiline: boolean;
  /** Most lines a multi-line suggestion may have. */
  readonly maxLines: number;
  /** Columns per tab, for comparing indentation. */
  readonly tabSize: number;
}

/** The part of the streamed text that can be shown, and whether it is final (line or block complete, or stream ended). */
export interface ExtractedSuggestion {
  readonly text: string;
  readonly complete: boolean;
  /** Characters of the raw text that had to arrive to decide (the line break or the line that ends the block included). */
  readonly consumed: number;
}

const OPENERS = '([{';
const CLOSERS = ')]}';

/** Indentation width of a line in columns. */
export function indentColumns(line: string, tabSize: number): number {
  let columns = 0;
  for (const char of line) {
    if (char === ' ') columns += 1;
    else if (char === '\t') columns += tabSize - (columns % tabSize);
    else break;
  }
  return columns;
}

function isBlank(line: string): boolean {
  return line.trim().length === 0;
}

/** Opened minus closed brackets in `text` (strings and comments are not parsed: a heuristic that is right for code lines). */
export function bracketDelta(text: string): number {
  let delta = 0;
  for (const char of text) {
    if (OPENERS.includes(char)) delta += 1;
    else if (CLOSERS.includes(char)) delta -= 1;
  }
  return delta;
}

function isCloserLine(line: string): boolean {
  return /^\s*[)\]}]/.test(line);
}

function opensBlock(line: string): boolean {
  return /[{([:]\s*$/.test(line) || /=>\s*$/.test(line);
}

/**
 * Single-line mode: the rest of the cursor's line. When the model starts with a line break (the cursor sits at the end of
 * a line such as `if (x) {`), the suggestion runs through the first non-blank line. Complete once that line has ended.
 */
export function firstLine(raw: string, done: boolean): ExtractedSuggestion {
  let end = 0;
  for (;;) {
    const newline = raw.indexOf('\n', end);
    if (newline === -1) return { text: raw, complete: done, consumed: raw.length };
    if (!isBlank(raw.slice(end, newline)))
      return { text: raw.slice(0, newline), complete: true, consumed: newline + 1 };
    end = newline + 1;
  }
}

/**
 * Multi-line mode: the first block. After a line that opens a block, the block ends at the first line indented no deeper
 * than that line (a closing bracket line is kept). Otherwise it ends at a dedent below the cursor's line, or at a blank
 * line once brackets balance. Only whole lines are judged, so a block is complete once its ending line has arrived.
 */
export function firstBlock(raw: string, done: boolean, context: SuggestionContext): ExtractedSuggestion {
  const lines = raw.split('\n');
  const wholeLines = done ? lines.length : lines.length - 1;
  const firstText = lines[0] ?? '';
  const cursorLine = context.linePrefix + firstText;
  const blockOpened = opensBlock(cursorLine);
  const baseIndent = indentColumns(isBlank(cursorLine) ? context.linePrefix : cursorLine, context.tabSize);
  let depth = bracketDelta(firstText);
  const kept: string[] = [firstText];
  let seenContent = !isBlank(cursorLine);
  let lineStart = firstText.length + 1;
  const through = (line: string) => Math.min(raw.length, lineStart + line.length + 1);
  for (let index = 1; index < wholeLines; index += 1, lineStart += (lines[index - 1] ?? '').length + 1) {
    const line = lines[index] ?? '';
    if (kept.length >= context.maxLines) return { text: kept.join('\n'), complete: true, consumed: lineStart };
    if (isBlank(line)) {
      if (seenContent && !blockOpened && depth <= 0)
        return { text: kept.join('\n'), complete: true, consumed: through(line) };
      kept.push(line);
      continue;
    }
    const indent = indentColumns(line, context.tabSize);
    const dedented = blockOpened ? indent <= baseIndent : indent < baseIndent;
    if (dedented && seenContent) {
      if (isCloserLine(line) && (blockOpened || depth > 0)) kept.push(line);
      return { text: kept.join('\n'), complete: true, consumed: through(line) };
    }
    seenContent = true;
    depth += bracketDelta(line);
    kept.push(line);
  }
  // The line still arriving already shows a dedent once its first character is there (a closer might still grow: wait).
  const arriving = done ? '' : (lines[lines.length - 1] ?? '');
  if (lines.length > 1 && seenContent && !isBlank(arriving) && !isCloserLine(arriving)) {
    const indent = indentColumns(arriving, context.tabSize);
    const consumed = raw.length - arriving.length + (arriving.length - arriving.trimStart().length) + 1;
    if (blockOpened ? indent <= baseIndent : indent < baseIndent)
      return { text: kept.join('\n'), complete: true, consumed };
  }
  return { text: kept.join('\n'), complete: done, consumed: raw.length };
}

/** Chooses the single-line or multi-line extraction. */
export function extractSuggestion(raw: string, done: boolean, context: SuggestionContext): ExtractedSuggestion {
  return context.multiline ? firstBlock(raw, done, context) : firstLine(raw, done);
}

/**
 * Stops where the completion starts repeating the rest of the cursor's line: with `foo(|)` and a model answer `a, b)`,
 * the `)` is already there. A match only counts where the completion's own brackets are balanced.
 */
export function stopAtSuffixRepeat(text: string, context: SuggestionContext): string {
  const suffix = context.lineSuffix.trim();
  if (suffix.length === 0) return text;
  const lineEnd = text.indexOf('\n');
  const first = lineEnd === -1 ? text : text.slice(0, lineEnd);
  let from = 0;
  for (;;) {
    const at = first.indexOf(suffix, from);
    if (at === -1) return text;
    if (bracketDelta(first.slice(0, at)) <= 0) return text.slice(0, at);
    from = at + 1;
  }
}

/** Drops the completion from the first line that repeats the next non-blank line after the cursor's line. */
export function dropRepeatedFollowingLines(text: string, context: SuggestionContext): string {
  const next = context.followingLines.find((line) => !isBlank(line))?.trim();
  if (next === undefined) return text;
  const lines = text.split('\n');
  const at = lines.findIndex((line, index) => index > 0 && line.trim() === next);
  if (at === -1) return text;
  return lines.slice(0, at).join('\n');
}

/**
 * Balances brackets against what the editor already has: trailing closers that the completion did not open and that
 * the rest of the line already provides (auto-closed pairs) are dropped.
 */
export function balanceBrackets(text: string, context: SuggestionContext): string {
  const suffix = context.lineSuffix.trimStart();
  let end = text.length;
  let provided = 0;
  while (end > 0) {
    const char = text.charAt(end - 1);
    if (!CLOSERS.includes(char)) break;
    const body = text.slice(0, end - 1);
    // A closer that the completion itself opened stays; one that closes the editor's bracket is the suffix's job.
    if (bracketDelta(body) > 0 || suffix.charAt(provided) !== char) break;
    provided += 1;
    end -= 1;
  }
  return text.slice(0, end);
}

/**
 * Keeps indentation consistent with the editor: a model that repeats the indentation already left of the cursor (chat
 * models do) has it removed from its first line; spaces become tabs when the line uses tabs.
 */
export function keepIndentation(text: string, context: SuggestionContext): string {
  let result = text;
  const leftIsIndent = context.linePrefix.length > 0 && isBlank(context.linePrefix);
  if (leftIsIndent && result.startsWith(context.linePrefix) && !isBlank(result.split('\n')[0] ?? '')) {
    result = result.slice(context.linePrefix.length);
  }
  if (context.linePrefix.startsWith('\t')) {
    const size = context.tabSize;
    result = result.replace(
      /^( +)/gm,
      (run) => '\t'.repeat(Math.floor(run.length / size)) + ' '.repeat(run.length % size),
    );
  }
  return result;
}

/** Removes trailing whitespace and line breaks: ghost text that ends in a blank line only adds noise. */
export function trimTrailingWhitespace(text: string): string {
  return text.trimEnd();
}

/** The cleanup chain, in order. Exported so tests and the benchmark can name the steps. */
export const CLEANUP_STEPS: readonly {
  readonly name: string;
  apply(text: string, context: SuggestionContext): string;
}[] = [
  { name: 'keepIndentation', apply: keepIndentation },
  { name: 'dropRepeatedFollowingLines', apply: dropRepeatedFollowingLines },
  { name: 'stopAtSuffixRepeat', apply: stopAtSuffixRepeat },
  { name: 'balanceBrackets', apply: balanceBrackets },
  { name: 'trimTrailingWhitespace', apply: (text) => trimTrailingWhitespace(text) },
];

/** What to show for streamed `raw` text: extraction (line or block) then every cleanup step. */
export function shownSuggestion(raw: string, done: boolean, context: SuggestionContext): ExtractedSuggestion {
  const extracted = extractSuggestion(raw, done, context);
  const text = CLEANUP_STEPS.reduce((current, step) => step.apply(current, context), extracted.text);
  return { text, complete: extracted.complete, consumed: extracted.consumed };
}
