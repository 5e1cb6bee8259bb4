/**
 * The structured format in which the long-context model proposes edits across a repository, and its validation.
 * Search/replace blocks (as aider popularised) cost far fewer output tokens than whole files and are checkable: each
 * SEARCH text must occur exactly once in the current file, so an edit can never land in the wrong place.
 *
 *     ### FILE: src/path/to/file.ts
 *     <<<<<<< SEARCH
 *     exact lines from the current file
 *     =======
 *     the lines that replace them
 *     >>>>>>> REPLACE
 *
 * Several blocks may follow one FILE line. An empty SEARCH section creates a new file (the path must not exist).
 * Code fences around blocks and prose between files are allowed and ignored.
 */

import { fenceFor } from './contextPacker';
import type { EditAdmission } from './editSafety';

/** The instructions given to the model (the prompt's format section). */
export const EDIT_FORMAT_INSTRUCTIONS = [
  'Propose the change as edits in this exact format, and nothing else between the markers:',
  '',
  '### FILE: relative/path/from/repository/root.ext',
  '<<<<<<< SEARCH',
  'exact lines copied from the current file, enough of them to be unique',
  '=======',
  'the lines that replace them',
  '>>>>>>> REPLACE',
  '',
  'Rules: one FILE line per file, followed by one or more SEARCH/REPLACE blocks for that file, in file order.',
  'SEARCH text must match the current file exactly (whitespace included) and occur once. Keep blocks small.',
  'To create a new file, leave the SEARCH section empty. Only edit files shown in the context. Create new files only',
  'when the change asks for them, in a folder shown in the context.',
  'You may write a short explanation before the first FILE line.',
].join('\n');

/** One replacement inside a file, in offsets of the current text (`start`..`end` replaced by `text`). */
export interface TextReplacement {
  readonly start: number;
  readonly end: number;
  readonly text: string;
}

/** A validated edit of one file. */
export interface ProposedFileEdit {
  readonly path: string;
  readonly kind: 'modify' | 'create';
  /** Replacements in ascending, non-overlapping order (a single one at offset 0 for `create`). */
  readonly replacements: readonly TextReplacement[];
  /** The file's text after the edit. */
  readonly updatedText: string;
  /** The file's text before the edit ('' for `create`). */
  readonly originalText: string;
  /** Why this file needs a tick of its own in the preview (a protected file: `.git/`, `.github/`, a lockfile), or null. */
  readonly needsTick: string | null;
}

/** An edit the safety rules refused (it is not offered), with the 1-based line of its FILE block and the reason. */
export interface RefusedEdit {
  readonly line: number;
  readonly path: string;
  readonly reason: string;
}

/** A problem in the answer, with the 1-based line of the answer where it was found. */
export interface EditFormatProblem {
  readonly line: number;
  readonly path: string | null;
  readonly message: string;
}

/**
 * The result of parsing and validating an answer: either every edit the safety rules admit (and those they refused,
 * each with its reason), or every problem (never a partial set: a malformed answer changes nothing).
 */
export type EditParseResult =
  | {
      readonly ok: true;
      readonly edits: readonly ProposedFileEdit[];
      readonly refused: readonly RefusedEdit[];
      readonly explanation: string;
    }
  | { readonly ok: false; readonly problems: readonly EditFormatProblem[] };

interface RawBlock {
  readonly path: string;
  readonly search: string;
  readonly replace: string;
  readonly line: number;
}

const FILE_LINE = /^#{1,6}\s*FILE:\s*(.+?)\s*$/;
const SEARCH_LINE = /^<{5,9}\s*SEARCH\s*$/;
const DIVIDER_LINE = /^={5,9}\s*$/;
const REPLACE_LINE = /^>{5,9}\s*REPLACE\s*$/;
const FENCE_LINE = /^\s*(```|~~~)/;

/** Checks a path from the answer: relative, POSIX, inside the workspace. Returns the normalised path or a problem. */
export function checkEditPath(raw: string): { path: string } | { problem: string } {
  let path = raw
    .trim()
    .replace(/^`+|`+$/g, '')
    .replace(/\\/g, '/');
  if (path.startsWith('./')) path = path.slice(2);
  if (path === '') return { problem: 'The FILE line names no path.' };
  if (path.startsWith('/') || /^[A-Za-z]:/.test(path))
    return { problem: `"${path}" is absolute; paths must be relative to the repository root.` };
  if (path.split('/').some((segment) => segment === '..' || segment === '')) {
    return { problem: `"${path}" leaves the repository or is malformed.` };
  }
  return { path };
}

/** Splits the answer into raw blocks, or problems for anything malformed between the markers. */
function scan(answer: string): { blocks: RawBlock[]; problems: EditFormatProblem[]; explanation: string } {
  const lines = answer.replace(/\r\n/g, '\n').split('\n');
  const blocks: RawBlock[] = [];
  const problems: EditFormatProblem[] = [];
  const explanation: string[] = [];
  let path: string | null = null;
  let index = 0;
  while (index < lines.length) {
    const line = lines[index] ?? '';
    const fileMatch = FILE_LINE.exec(line);
    if (fileMatch?.[1] !== undefined) {
      const checked = checkEditPath(fileMatch[1]);
      if ('problem' in checked) {
        problems.push({ line: index + 1, path: fileMatch[1], message: checked.problem });
        path = null;
      } else {
        path = checked.path;
      }
      index += 1;
      continue;
    }
    if (SEARCH_LINE.test(line)) {
      const startLine = index + 1;
      const search: string[] = [];
      const replace: string[] = [];
      let section: 'search' | 'replace' = 'search';
      let closed = false;
      index += 1;
      while (index < lines.length) {
        const inner = lines[index] ?? '';
        if (section === 'search' && DIVIDER_LINE.test(inner)) {
          section = 'replace';
        } else if (section === 'replace' && REPLACE_LINE.test(inner)) {
          closed = true;
          index += 1;
          break;
        } else if (SEARCH_LINE.test(inner) || (section === 'search' && REPLACE_LINE.test(inner))) {
          break;
        } else if (section === 'search') {
          search.push(inner);
        } else {
          replace.push(inner);
        }
        index += 1;
      }
      if (!closed) {
        problems.push({
          line: startLine,
          path,
          message:
            section === 'search'
              ? 'A SEARCH block has no ======= divider.'
              : 'A SEARCH block is not closed by >>>>>>> REPLACE.',
        });
        continue;
      }
      if (path === null) {
        problems.push({ line: startLine, path: null, message: 'A SEARCH block comes before any "### FILE:" line.' });
        continue;
      }
      blocks.push({ path, search: search.join('\n'), replace: replace.join('\n'), line: startLine });
      continue;
    }
    if (DIVIDER_LINE.test(line) || REPLACE_LINE.test(line)) {
      problems.push({
        line: index + 1,
        path,
        message: 'A divider or REPLACE marker without a SEARCH marker before it.',
      });
    } else if (path === null && blocks.length === 0 && !FENCE_LINE.test(line)) {
      explanation.push(line);
    }
    index += 1;
  }
  return { blocks, problems, explanation: explanation.join('\n').trim() };
}

function occurrences(haystack: string, needle: string): number[] {
  const found: number[] = [];
  for (let at = haystack.indexOf(needle); at >= 0; at = haystack.indexOf(needle, at + 1)) {
    found.push(at);
    if (found.length > 1) break;
  }
  return found;
}

/** Finds the SEARCH text in the file: exactly first; else with trailing spaces ignored per line (models drop them). */
function locate(text: string, search: string): { start: number; end: number } | 'missing' | 'ambiguous' {
  const exact = occurrences(text, search);
  if (exact.length === 1 && exact[0] !== undefined) return { start: exact[0], end: exact[0] + search.length };
  if (exact.length > 1) return 'ambiguous';
  // Tolerant pass: compare line by line with trailing whitespace removed.
  const fileLines = text.split('\n');
  const searchLines = search.split('\n').map((line) => line.trimEnd());
  const matches: number[] = [];
  for (let start = 0; start + searchLines.length <= fileLines.length; start += 1) {
    let same = true;
    for (let offset = 0; offset < searchLines.length; offset += 1) {
      if ((fileLines[start + offset] ?? '').trimEnd() !== searchLines[offset]) {
        same = false;
        break;
      }
    }
    if (same) matches.push(start);
    if (matches.length > 1) return 'ambiguous';
  }
  const line = matches[0];
  if (line === undefined) return 'missing';
  let startOffset = 0;
  for (let index = 0; index < line; index += 1) startOffset += (fileLines[index] ?? '').length + 1;
  let endOffset = startOffset;
  for (let index = line; index < line + searchLines.length; index += 1)
    endOffset += (fileLines[index] ?? '').length + 1;
  return { start: startOffset, end: Math.min(text.length, endOffset - 1) };
}

/** What the validator may know about the workspace. */
export interface EditContext {
  /** The current text of a file (open editor or disk), or null when it does not exist. */
  readText(path: string): Promise<string | null>;
  /**
   * Whether the path may be edited (`editSafety.ts`: `editAdmitter`), asked before its text is read, so a refused
   * file (a secret, a link) is never read.
   */
  admit(path: string, change: 'modify' | 'create'): Promise<EditAdmission>;
}

/**
 * Parses and validates the model's answer. Every block must apply cleanly (a unique SEARCH match, no overlap, new
 * files only where none exists); if any does not, the result lists every problem and no edit, so a bad answer changes
 * nothing. Files the safety rules refuse are left out and listed with their reasons; the rest are proposed.
 */
export async function parseProposedEdits(answer: string, context: EditContext): Promise<EditParseResult> {
  const { blocks, problems, explanation } = scan(answer);
  if (blocks.length === 0 && problems.length === 0) {
    problems.push({
      line: 1,
      path: null,
      message: 'The answer contains no "### FILE:" line with a SEARCH/REPLACE block.',
    });
  }
  const byPath = new Map<string, RawBlock[]>();
  for (const block of blocks) {
    const list = byPath.get(block.path) ?? [];
    list.push(block);
    byPath.set(block.path, list);
  }
  const edits: ProposedFileEdit[] = [];
  const refused: RefusedEdit[] = [];
  for (const [path, fileBlocks] of byPath) {
    const firstLine = fileBlocks[0]?.line ?? 1;
    const isCreate = fileBlocks.length === 1 && fileBlocks[0]?.search.trim() === '';
    const admission = await context.admit(path, isCreate ? 'create' : 'modify');
    if (admission.kind === 'refused') {
      refused.push({ line: firstLine, path, reason: admission.reason });
      continue;
    }
    const needsTick = admission.kind === 'needs-tick' ? admission.reason : null;
    const current = await context.readText(path);
    if (isCreate) {
      if (current !== null && current.length > 0) {
        problems.push({
          line: firstLine,
          path,
          message: `${path} already exists; an empty SEARCH section only creates new files.`,
        });
        continue;
      }
      const text = fileBlocks[0]?.replace ?? '';
      const withNewline = text.endsWith('\n') ? text : `${text}\n`;
      edits.push({
        path,
        kind: 'create',
        replacements: [{ start: 0, end: 0, text: withNewline }],
        updatedText: withNewline,
        originalText: '',
        needsTick,
      });
      continue;
    }
    if (current === null) {
      problems.push({ line: firstLine, path, message: `${path} does not exist.` });
      continue;
    }
    const original = current.replace(/\r\n/g, '\n');
    const replacements: TextReplacement[] = [];
    let fileOk = true;
    fileBlocks.forEach((block, position) => {
      if (block.search.trim() === '') {
        problems.push({
          line: block.line,
          path,
          message: `Edit ${position + 1} of ${path} has an empty SEARCH section.`,
        });
        fileOk = false;
        return;
      }
      const found = locate(original, block.search);
      if (found === 'missing' || found === 'ambiguous') {
        problems.push({
          line: block.line,
          path,
          message:
            found === 'missing'
              ? `Edit ${position + 1} of ${path}: the SEARCH text is not in the file.`
              : `Edit ${position + 1} of ${path}: the SEARCH text occurs more than once; it needs more surrounding lines.`,
        });
        fileOk = false;
        return;
      }
      replacements.push({ start: found.start, end: found.end, text: block.replace });
    });
    if (!fileOk) continue;
    replacements.sort((a, b) => a.start - b.start);
    const overlap = replacements.some(
      (replacement, position) => position > 0 && replacement.start < (replacements[position - 1]?.end ?? 0),
    );
    if (overlap) {
      problems.push({ line: firstLine, path, message: `Two edits of ${path} overlap.` });
      continue;
    }
    let updated = '';
    let cursor = 0;
    for (const replacement of replacements) {
      updated += original.slice(cursor, replacement.start) + replacement.text;
      cursor = replacement.end;
    }
    updated += original.slice(cursor);
    if (updated === original) continue;
    edits.push({ path, kind: 'modify', replacements, updatedText: updated, originalText: original, needsTick });
  }
  if (problems.length > 0) {
    // Nothing is proposed: the refusals are listed with the problems, so none goes unmentioned.
    const refusals = refused.map((refusal): EditFormatProblem => ({
      line: refusal.line,
      path: refusal.path,
      message: refusal.reason,
    }));
    return { ok: false, problems: [...problems, ...refusals].sort((a, b) => a.line - b.line) };
  }
  if (edits.length === 0 && refused.length === 0)
    return { ok: false, problems: [{ line: 1, path: null, message: 'The proposed edits change nothing.' }] };
  return { ok: true, edits, refused, explanation };
}

/** One readable line for the edits the safety rules refused: "Not offered: a (why); b (why)." */
export function describeRefusals(refused: readonly RefusedEdit[]): string {
  const shown = refused.slice(0, 3).map((refusal) => refusal.reason);
  const more = refused.length > 3 ? ` (and ${refused.length - 3} more)` : '';
  return `${refused.length} proposed edit${refused.length === 1 ? ' was' : 's were'} refused and not offered: ${shown.join(' ')}${more}`;
}

/** One readable error message for a failed parse (the first few problems, with answer line numbers). */
export function describeProblems(problems: readonly EditFormatProblem[]): string {
  const shown = problems.slice(0, 5).map((problem) => `line ${problem.line}: ${problem.message}`);
  const more = problems.length > 5 ? ` (and ${problems.length - 5} more)` : '';
  return `The model's answer could not be applied, so nothing was changed. ${shown.join(' ')}${more}`;
}

/**
 * The Markdown document that shows the person every refused edit with its reason, then the model's whole answer, so
 * nothing it proposed is dropped unseen.
 */
export function refusalReport(request: string, refused: readonly RefusedEdit[], answer: string): string {
  const fence = fenceFor(answer);
  return [
    `# Edits not offered: ${request}`,
    '',
    'The model proposed these changes, and they were refused before anything was read or shown in the preview:',
    '',
    ...refused.map((refusal) => `- \`${refusal.path}\` (answer line ${refusal.line}): ${refusal.reason}`),
    '',
    "## The model's answer",
    '',
    `${fence}text`,
    answer,
    fence,
    '',
  ].join('\n');
}
