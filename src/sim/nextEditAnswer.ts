import { readNextEditPrompt, type EditSides, type NextEditPromptReading } from '../core/nextEdit/nextEditPromptReader';
import type { ParsedGeneration } from './wire/wireFormat';

/**
 * A broken next-edit answer the simulator can give, for the bad-input tests:
 * - `garbage`: prose instead of the format;
 * - `repeat`: the region twice over;
 * - `drop`: an empty region;
 * - `outside`: a change to a line outside the region (in the echoed context for Zeta; for the formats that answer with
 *   the region alone, the line above the region, changed, put in front of it).
 */
export type NextEditSimFault = 'garbage' | 'repeat' | 'drop' | 'outside';

/** Every fault, for option and header validation. */
export const NEXT_EDIT_SIM_FAULTS: readonly NextEditSimFault[] = ['garbage', 'repeat', 'drop', 'outside'];

/** The prose the `garbage` fault answers with. */
export const GARBAGE_ANSWER = 'I am not sure what you would like me to change here. Could you share more of the file?';

/** What the `outside` fault appends to the outside line it changes. */
const OUTSIDE_MARK = ' // changed outside';

/**
 * The scripted answer to a next-edit request, so tests and benchmarks know the truth: the region with a known change
 * derived from the newest edit (a rename carried to the region's other uses, or an added parameter carried to the
 * calls), else the region unchanged, in the format's own answer shape. Null when the request is not a next-edit prompt,
 * so ordinary completions are untouched.
 */
export function nextEditAnswer(generation: ParsedGeneration, fault: NextEditSimFault | null): string | null {
  const reading = readNextEditPrompt(generation);
  if (reading === null) return null;
  switch (fault) {
    case 'garbage':
      return GARBAGE_ANSWER;
    case 'repeat':
      return reading.answer(`${reading.region}\n${reading.region}`);
    case 'drop':
      return reading.answer('');
    case 'outside':
      return outsideAnswer(reading);
    case null:
      return reading.answer(scriptedRegion(reading.region, reading.newestEdit));
  }
}

/** The region after the scripted change for the newest edit (the region itself when the edit suggests none). */
export function scriptedRegion(region: string, newestEdit: EditSides | null): string {
  if (newestEdit === null) return region;
  const rename = renameIn(newestEdit);
  if (rename !== null) return region.replace(wholeWord(rename.from), () => rename.to);
  const added = addedParameterIn(newestEdit);
  if (added !== null) return withArgumentAdded(region, added);
  return region;
}

function outsideAnswer(reading: NextEditPromptReading): string {
  const echo = reading.echo;
  if (echo !== null) {
    // Zeta echoes the code around the region: change the line just above it (or just below, at the top of a file).
    const above = reading.lineAbove;
    if (above !== null && echo.before.includes(`${above}\n`)) {
      const at = echo.before.lastIndexOf(`${above}\n`);
      const before = `${echo.before.slice(0, at)}${above}${OUTSIDE_MARK}${echo.before.slice(at + above.length)}`;
      return reading.answer(reading.region, { before, after: echo.after });
    }
    const below = reading.lineBelow;
    const at = below === null ? -1 : echo.after.indexOf(`\n${below}`);
    if (below !== null && at !== -1) {
      const after = `${echo.after.slice(0, at + 1 + below.length)}${OUTSIDE_MARK}${echo.after.slice(at + 1 + below.length)}`;
      return reading.answer(reading.region, { before: echo.before, after });
    }
    return reading.answer(reading.region, { before: `// outside\n${echo.before}`, after: echo.after });
  }
  if (reading.lineAbove !== null) return reading.answer(`${reading.lineAbove}${OUTSIDE_MARK}\n${reading.region}`);
  if (reading.lineBelow !== null) return reading.answer(`${reading.region}\n${reading.lineBelow}${OUTSIDE_MARK}`);
  return reading.answer(reading.region);
}

const WORD = /[A-Za-z_$][\w$]*|\S/g;
const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;

/** The rename an edit made: its before and after differ in exactly one word, an identifier on both sides. */
function renameIn(edit: EditSides): { from: string; to: string } | null {
  const before = edit.before.match(WORD) ?? [];
  const after = edit.after.match(WORD) ?? [];
  if (before.length !== after.length) return null;
  let rename: { from: string; to: string } | null = null;
  for (let index = 0; index < before.length; index++) {
    const from = before[index] ?? '';
    const to = after[index] ?? '';
    if (from === to) continue;
    if (rename !== null || !IDENTIFIER.test(from) || !IDENTIFIER.test(to)) return null;
    rename = { from, to };
  }
  return rename;
}

function wholeWord(word: string): RegExp {
  return new RegExp(`(?<![\\w$])${word.replace(/\$/g, '\\$')}(?![\\w$])`, 'g');
}

/** A parameter appended to a declaration: `name(a, b)` became `name(a, b, c)`. */
interface AddedParameter {
  readonly name: string;
  /** The argument count calls had before (calls with it get the new argument). */
  readonly oldCount: number;
  /** The new parameter's name, which calls pass along. */
  readonly argument: string;
}

function addedParameterIn(edit: EditSides): AddedParameter | null {
  const before = new Map(callsIn(edit.before).map((call) => [call.name, call.args]));
  for (const call of callsIn(edit.after)) {
    const old = before.get(call.name);
    if (old === undefined || call.args.length !== old.length + 1) continue;
    if (!old.every((arg, index) => arg === call.args[index])) continue;
    const argument = /^\.{0,3}([A-Za-z_$][\w$]*)/.exec(call.args[call.args.length - 1] ?? '')?.[1];
    if (argument !== undefined) return { name: call.name, oldCount: old.length, argument };
  }
  return null;
}

/** One `name(...)` in a text: where its arguments end and what they are (top-level, trimmed). */
interface Call {
  readonly name: string;
  /** Just past the last argument (before any spaces ahead of the closing parenthesis). */
  readonly argsEnd: number;
  readonly args: readonly string[];
  /** Whether a declaration keyword comes right before the name (`function name(`, `def name(`). */
  readonly declaration: boolean;
}

function callsIn(text: string): Call[] {
  const calls: Call[] = [];
  for (const match of text.matchAll(/(?<![\w$.])([A-Za-z_$][\w$]*)\s*\(/g)) {
    const name = match[1] ?? '';
    const open = match.index + match[0].length - 1;
    const close = matchingParen(text, open);
    if (close === -1) continue;
    const inner = text.slice(open + 1, close);
    const args = inner.trim() === '' ? [] : splitTopLevel(inner).map((arg) => arg.trim());
    const declaration = /\b(function|def|fn|func|fun)\s+$/.test(text.slice(Math.max(0, match.index - 10), match.index));
    calls.push({ name, argsEnd: open + 1 + inner.trimEnd().length, args, declaration });
  }
  return calls;
}

function matchingParen(text: string, open: number): number {
  let depth = 0;
  for (let index = open; index < text.length; index++) {
    const char = text[index];
    if (char === '(') depth++;
    else if (char === ')' && --depth === 0) return index;
  }
  return -1;
}

function splitTopLevel(inner: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let index = 0; index < inner.length; index++) {
    const char = inner[index];
    if (char === '(' || char === '[' || char === '{') depth++;
    else if (char === ')' || char === ']' || char === '}') depth--;
    else if (char === ',' && depth === 0) {
      parts.push(inner.slice(start, index));
      start = index + 1;
    }
  }
  parts.push(inner.slice(start));
  return parts;
}

/** Appends the new argument to every call of the function with the old argument count (declarations left alone). */
function withArgumentAdded(region: string, added: AddedParameter): string {
  const targets = callsIn(region).filter(
    (call) => call.name === added.name && call.args.length === added.oldCount && !call.declaration,
  );
  let result = region;
  // From the furthest insertion point back, so the earlier ones stay valid (an outer call ends after its inner ones).
  for (const call of [...targets].sort((a, b) => b.argsEnd - a.argsEnd)) {
    const separator = call.args.length === 0 ? '' : ', ';
    result = `${result.slice(0, call.argsEnd)}${separator}${added.argument}${result.slice(call.argsEnd)}`;
  }
  return result;
}
