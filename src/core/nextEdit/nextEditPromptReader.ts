import {
  GENERIC_FILE_HEADING,
  GENERIC_INSTRUCTION,
  GENERIC_SYSTEM_PROMPT,
  INSTINCT_USER_PREFIX,
  SWEEP_FILE_SEPARATOR,
} from './nextEditFormats';
import {
  CURSOR_MARKER,
  diffSides,
  REGION_END_MARKER,
  REGION_START_MARKER,
  START_OF_FILE_MARKER,
} from './nextEditLayout';
import type { NextEditFormatId } from './nextEditTypes';

/** The two sides of an edit: its before and after lines, joined. */
export interface EditSides {
  readonly before: string;
  readonly after: string;
}

/** Zeta's echoed context: what it prints before the region (through the start marker's line) and after the end marker. */
export interface EchoedContext {
  readonly before: string;
  readonly after: string;
}

/**
 * A next-edit prompt read back from a request: what a scripted model (the simulator) needs to answer it the way the
 * real model would.
 */
export interface NextEditPromptReading {
  readonly format: NextEditFormatId;
  /** The editable region as the prompt shows it (LF, without its final line break and without the cursor marker). */
  readonly region: string;
  /** The line just above the region in the prompt's code, or null when it shows none. */
  readonly lineAbove: string | null;
  /** The line just below the region in the prompt's code, or null when it shows none. */
  readonly lineBelow: string | null;
  /** The newest edit of the history, or null when the prompt has none. */
  readonly newestEdit: EditSides | null;
  /** Zeta's echoed context; null for formats whose answer is the region alone. */
  readonly echo: EchoedContext | null;
  /** The answer that rewrites the region to `region`, in the format's own answer shape (`echo` for Zeta's context). */
  answer(region: string, echo?: EchoedContext): string;
}

/** What the reader needs of a request: its chat messages, or its raw prompt. */
export interface NextEditRequestText {
  readonly messages: readonly { readonly role: string; readonly content: string }[];
  readonly promptText: string;
}

/** Reads a next-edit prompt of any of the four formats; null for any other request (ordinary completions, chat). */
export function readNextEditPrompt(request: NextEditRequestText): NextEditPromptReading | null {
  const system = request.messages.find((message) => message.role === 'system');
  if (system?.content === GENERIC_SYSTEM_PROMPT) {
    const user = request.messages.filter((message) => message.role === 'user').at(-1);
    return user === undefined ? null : readGeneric(user.content);
  }
  const text = request.promptText;
  if (text.startsWith('### Instruction:\n') && text.endsWith('\n\n### Response:\n')) return readZeta(text);
  if (text.startsWith('<|im_start|>system\n') && text.includes(INSTINCT_USER_PREFIX)) return readInstinct(text);
  if (text.includes(`${SWEEP_FILE_SEPARATOR}updated/`)) return readSweep(text);
  return null;
}

/** An excerpt with the region marked, split into the code above, the region and the code below. */
interface SplitExcerpt {
  readonly before: string;
  readonly region: string;
  readonly after: string;
  /** Offsets in the excerpt: where the region starts, and where the `\n` before the end marker is. */
  readonly regionStart: number;
  readonly regionEnd: number;
}

function splitExcerpt(excerpt: string): SplitExcerpt | null {
  const startLine = `${REGION_START_MARKER}\n`;
  const markerAt = excerpt.startsWith(startLine) ? 0 : excerpt.indexOf(`\n${startLine}`) + 1;
  if (markerAt === 0 && !excerpt.startsWith(startLine)) return null;
  const regionStart = markerAt + startLine.length;
  let regionEnd = excerpt.indexOf(`\n${REGION_END_MARKER}`, regionStart - 1);
  while (regionEnd !== -1) {
    const next = excerpt[regionEnd + 1 + REGION_END_MARKER.length];
    if (next === undefined || next === '\n') break;
    regionEnd = excerpt.indexOf(`\n${REGION_END_MARKER}`, regionEnd + 1);
  }
  if (regionEnd === -1 || regionEnd < regionStart - 1) return null;
  const afterStart = regionEnd + 1 + REGION_END_MARKER.length + 1;
  return {
    before: markerAt === 0 ? '' : excerpt.slice(0, markerAt - 1),
    region: excerpt.slice(regionStart, Math.max(regionStart, regionEnd)).split(CURSOR_MARKER).join(''),
    after: afterStart > excerpt.length ? '' : excerpt.slice(afterStart),
    regionStart,
    regionEnd: Math.max(regionStart, regionEnd),
  };
}

function lastLine(text: string): string | null {
  return text === '' ? null : text.slice(text.lastIndexOf('\n') + 1);
}

function firstLine(text: string): string | null {
  if (text === '') return null;
  const lineBreak = text.indexOf('\n');
  return lineBreak === -1 ? text : text.slice(0, lineBreak);
}

/** The ```diff blocks of a section, in order, as their before and after sides. */
function diffBlocks(section: string): EditSides[] {
  return [...section.matchAll(/(`{3,})diff\n([\s\S]*?)\n\1(?=\n|$)/g)].map((match) => diffSides(match[2] ?? ''));
}

function readGeneric(user: string): NextEditPromptReading | null {
  const headingAt = user.lastIndexOf(`${GENERIC_FILE_HEADING}\n`);
  if (headingAt === -1) return null;
  const pathLineEnd = user.indexOf('\n', headingAt + GENERIC_FILE_HEADING.length + 1);
  const fenceLineEnd = user.indexOf('\n', pathLineEnd + 1);
  if (pathLineEnd === -1 || fenceLineEnd === -1) return null;
  const fenceLine = user.slice(pathLineEnd + 1, fenceLineEnd);
  const fence = /^`{3,}/.exec(fenceLine)?.[0];
  if (fence === undefined) return null;
  const closing = user.lastIndexOf(`\n${fence}\n\n${GENERIC_INSTRUCTION}`);
  if (closing < fenceLineEnd) return null;
  const split = splitExcerpt(user.slice(fenceLineEnd + 1, closing));
  if (split === null) return null;
  return {
    format: 'generic',
    region: split.region,
    lineAbove: lastLine(split.before),
    lineBelow: firstLine(split.after),
    newestEdit: diffBlocks(user.slice(0, headingAt)).at(-1) ?? null,
    echo: null,
    answer: (region) => `${fenceLine}\n${region}\n${fence}`,
  };
}

function readZeta(text: string): NextEditPromptReading | null {
  const heading = '\n### User Excerpt:\n\n';
  const excerptAt = text.lastIndexOf(heading);
  if (excerptAt === -1) return null;
  const excerpt = text.slice(excerptAt + heading.length, text.length - '\n\n### Response:\n'.length);
  const fenceLineEnd = excerpt.indexOf('\n');
  if (!excerpt.startsWith('```') || fenceLineEnd === -1 || !excerpt.endsWith('\n```')) return null;
  let inner = excerpt.slice(fenceLineEnd + 1, excerpt.length - '\n```'.length);
  let skipped = fenceLineEnd + 1;
  if (inner.startsWith(`${START_OF_FILE_MARKER}\n`)) {
    inner = inner.slice(START_OF_FILE_MARKER.length + 1);
    skipped += START_OF_FILE_MARKER.length + 1;
  }
  const split = splitExcerpt(inner);
  if (split === null) return null;
  const echo: EchoedContext = {
    before: excerpt.slice(0, skipped + split.regionStart),
    after: excerpt.slice(skipped + split.regionEnd + 1 + REGION_END_MARKER.length),
  };
  const editsAt = text.indexOf('### User Edits:\n');
  return {
    format: 'zeta',
    region: split.region,
    lineAbove: lastLine(split.before),
    lineBelow: firstLine(split.after),
    newestEdit: diffBlocks(text.slice(editsAt, excerptAt)).at(-1) ?? null,
    echo,
    answer: (region, context = echo) => `${context.before}${region}\n${REGION_END_MARKER}${context.after}`,
  };
}

function readInstinct(text: string): NextEditPromptReading | null {
  const ending = '\n```\n### Response:<|im_end|>\n<|im_start|>assistant\n';
  const heading = '\n### User Excerpt:\n';
  const excerptAt = text.lastIndexOf(heading);
  if (!text.endsWith(ending) || excerptAt === -1) return null;
  const pathEnd = text.indexOf('\n', excerptAt + heading.length);
  if (pathEnd === -1) return null;
  // The path line is followed by a blank line, then the excerpt.
  const split = splitExcerpt(text.slice(pathEnd + 2, text.length - ending.length));
  if (split === null) return null;
  const editsAt = text.indexOf('### User Edits:\n');
  return {
    format: 'instinct',
    region: split.region,
    lineAbove: lastLine(split.before),
    lineBelow: firstLine(split.after),
    // Instinct lists the edits most recent first.
    newestEdit: diffBlocks(text.slice(editsAt, excerptAt))[0] ?? null,
    echo: null,
    answer: (region) => region,
  };
}

function readSweep(text: string): NextEditPromptReading | null {
  const updatedTag = `${SWEEP_FILE_SEPARATOR}updated/`;
  const updatedAt = text.lastIndexOf(updatedTag);
  if (!text.endsWith('\n')) return null;
  const path = text.slice(updatedAt + updatedTag.length, -1);
  if (path === '' || path.includes('\n')) return null;
  const currentTag = `${SWEEP_FILE_SEPARATOR}current/${path}\n`;
  const currentAt = text.lastIndexOf(currentTag, updatedAt);
  const originalAt = text.lastIndexOf(`${SWEEP_FILE_SEPARATOR}original/${path}\n`, currentAt);
  if (currentAt === -1 || originalAt === -1) return null;
  const region = text.slice(currentAt + currentTag.length, updatedAt - 1);

  const diffTag = '.diff\noriginal:\n';
  const diffAt = text.lastIndexOf(diffTag, originalAt);
  let newestEdit: EditSides | null = null;
  if (diffAt !== -1) {
    const block = text.slice(diffAt + diffTag.length, originalAt - 1);
    const split = block.indexOf('\nupdated:\n');
    if (split !== -1) newestEdit = { before: block.slice(0, split), after: block.slice(split + '\nupdated:\n'.length) };
  }

  let lineAbove: string | null = null;
  let lineBelow: string | null = null;
  const windowTag = `${SWEEP_FILE_SEPARATOR}${path}\n`;
  const windowAt = text.lastIndexOf(windowTag, originalAt);
  if (windowAt !== -1) {
    const windowEnd = text.indexOf(`\n${SWEEP_FILE_SEPARATOR}`, windowAt + windowTag.length);
    const window = text.slice(windowAt + windowTag.length, windowEnd === -1 ? originalAt : windowEnd);
    const at = window.indexOf(region);
    if (at !== -1) {
      lineAbove = at === 0 ? null : lastLine(window.slice(0, at - 1));
      const below = at + region.length + 1;
      lineBelow = below > window.length ? null : firstLine(window.slice(below));
    }
  }
  return {
    format: 'sweep',
    region,
    lineAbove,
    lineBelow,
    newestEdit,
    echo: null,
    answer: (rewritten) => `${rewritten}\n`,
  };
}
