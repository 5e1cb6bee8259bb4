import type { ChatMessage } from '../endpoint';
import {
  CONTEXT_LINES,
  CURSOR_MARKER,
  diffHunks,
  diffSides,
  layoutFor,
  markedExcerpt,
  REGION_END_MARKER,
  REGION_START_MARKER,
  START_OF_FILE_MARKER,
  toLf,
  type NextEditLayout,
} from './nextEditLayout';
import type { NextEditFormatId, NextEditPromptInput, RecentEditDiff } from './nextEditTypes';

export { createAnswerParser, type NextEditAnswerParser, type NextEditAnswerEnd } from './nextEditAnswerParser';

/** A next-edit request in a format: chat messages or a raw prompt, its stop strings, and the unchanged answer. */
export interface NextEditPrompt {
  /** Chat messages (the generic format). */
  readonly messages?: readonly ChatMessage[];
  /** A raw prompt in the model's own trained format (the native formats). */
  readonly prompt?: string;
  readonly stop: readonly string[];
  /**
   * Exactly what the model prints when it changes nothing (the region in the format's answer wrapping, without the
   * cursor marker): sent as the predicted output, so it must match the model's own text token for token.
   */
  readonly expectedAnswer: string;
}

// Model names are matched loosely, as the FIM families are: `zed-industries/zeta`, `sweep-next-edit-1.5b`,
// `nate/instinct`, `continuedev/instinct-7b`...
const FORMAT_PATTERNS: readonly { readonly format: NextEditFormatId; readonly pattern: RegExp }[] = [
  { format: 'zeta', pattern: /zeta/i },
  { format: 'instinct', pattern: /instinct/i },
  { format: 'sweep', pattern: /sweep|next[-_ ]?edit/i },
];

/** The format for a model: the setting when it names one, else the model's native format by name, else generic. */
export function chooseNextEditFormat(model: string, setting: 'auto' | NextEditFormatId): NextEditFormatId {
  if (setting !== 'auto') return setting;
  return FORMAT_PATTERNS.find(({ pattern }) => pattern.test(model))?.format ?? 'generic';
}

/** The system prompt of the generic format; the simulator recognises a generic next-edit request by it. */
export const GENERIC_SYSTEM_PROMPT = [
  'You predict the next edit a developer makes to their code.',
  'You are given their recent edits as unified diffs (oldest first, newest last), snippets of files they viewed, and',
  `the file they are editing, in which an editable region is marked by a ${REGION_START_MARKER} line and a`,
  `${REGION_END_MARKER} line, with the cursor at ${CURSOR_MARKER}.`,
  'Rules:',
  '- Carry on what the recent edits started (a rename, an added parameter, a changed call) where the region still needs it.',
  "- Never undo the developer's recent edits, and change nothing the edits do not call for; keep the indentation and style.",
  '- Rewrite only the editable region. Answer with the rewritten region in one fenced code block and nothing else, without',
  '  the region markers and without the cursor marker.',
  '- If nothing should change, repeat the region unchanged.',
].join('\n');

/** The heading line before the file excerpt in the generic format's user message. */
export const GENERIC_FILE_HEADING = 'The file being edited, with the editable region and the cursor marked:';
/** The closing instruction of the generic format's user message. */
export const GENERIC_INSTRUCTION =
  'Rewrite only the editable region: answer with the rewritten region in one fenced code block and nothing else. ' +
  'If nothing should change, repeat it unchanged.';

/** Zeta's instruction, word for word as the model was trained with it. */
export const ZETA_INSTRUCTION =
  'You are a code completion assistant and your task is to analyze user edits and then rewrite an excerpt that the ' +
  'user provides, suggesting the appropriate edits within the excerpt, taking into account the cursor location.';

/** Instinct's system prompt: who it is, what the sections of the user message hold, and what to answer. */
export const INSTINCT_SYSTEM_PROMPT = [
  'You are Instinct, a next-edit predictor. Predict the edit the developer makes next inside the code marked by',
  `${REGION_START_MARKER} and ${REGION_END_MARKER}.`,
  '',
  '- "### Context:" holds snippets of possibly related files, each a <|context_file|> marker and its path, then a',
  '  <|snippet|> marker and the code.',
  '- "### User Edits:" holds the latest changes as unified diffs, most recent first.',
  '- "### User Excerpt:" holds the current file\'s path and an excerpt of it containing the editable region; the',
  `  ${CURSOR_MARKER} marker shows the cursor. Do not write that marker.`,
  '',
  'Output only the revised code of the editable region, without the region markers and without code outside them.',
  "Do not revert the developer's last change.",
].join('\n');

/** The first paragraph of Instinct's user message. */
export const INSTINCT_USER_PREFIX =
  "Reference the user excerpt, user edits, and the snippets to understand the developer's intent. Update the " +
  'editable region of the user excerpt by predicting and completing the changes they would have made next.';

/** Sweep's file separator (Qwen2.5-Coder's repository token, which the model was trained on). */
export const SWEEP_FILE_SEPARATOR = '<|file_sep|>';

/** Builds the request for `format`: the prompt, its stop strings and the answer that changes nothing. */
export function buildNextEditPrompt(format: NextEditFormatId, input: NextEditPromptInput): NextEditPrompt {
  const layout = layoutFor(input, CONTEXT_LINES[format]);
  switch (format) {
    case 'generic':
      return genericPrompt(input, layout);
    case 'zeta':
      return zetaPrompt(input, layout);
    case 'sweep':
      return sweepPrompt(input, layout);
    case 'instinct':
      return instinctPrompt(input, layout);
  }
}

/** A code fence longer than any run of backticks in `texts`, so code holding ``` cannot close it early. */
export function fenceFor(...texts: readonly string[]): string {
  let longest = 2;
  for (const text of texts) {
    for (const run of text.match(/`{3,}/g) ?? []) longest = Math.max(longest, run.length);
  }
  return '`'.repeat(longest + 1);
}

/** The generic format's answer fence for a layout (the prompt's excerpt uses the same one). */
export function genericFence(layout: NextEditLayout): string {
  return fenceFor(layout.before, layout.body, layout.after);
}

function genericPrompt(input: NextEditPromptInput, layout: NextEditLayout): NextEditPrompt {
  const fence = genericFence(layout);
  const sections: string[] = [];
  if (input.history.length === 0) sections.push('Recent edits: none.');
  else {
    const diffs = input.history.map((edit) => fenced(`diff`, toLf(edit.diff).replace(/\n+$/, '')));
    sections.push(`Recent edits, oldest first, newest last:\n\n${diffs.join('\n\n')}`);
  }
  if (input.snippets.length > 0) {
    const snippets = input.snippets.map((snippet) => `\`${snippet.path}\`:\n${fenced('', toLf(snippet.text))}`);
    sections.push(`Recently viewed files:\n\n${snippets.join('\n\n')}`);
  }
  const excerpt = markedExcerpt(layout, layout.bodyWithCursor);
  sections.push(
    `${GENERIC_FILE_HEADING}\n\`${input.path}\` (${input.languageId})\n${fence}${input.languageId}\n${excerpt}\n${fence}`,
  );
  sections.push(GENERIC_INSTRUCTION);
  return {
    messages: [
      { role: 'system', content: GENERIC_SYSTEM_PROMPT },
      { role: 'user', content: sections.join('\n\n') },
    ],
    stop: [],
    expectedAnswer: `${fence}${input.languageId}\n${layout.body}\n${fence}`,
  };
}

function fenced(info: string, text: string): string {
  const fence = fenceFor(text);
  return `${fence}${info}\n${text}\n${fence}`;
}

/** Zeta's excerpt (and its answer, which echoes it): a fence named by the path around the marked excerpt. */
export function zetaExcerpt(path: string, layout: NextEditLayout, region: string): string {
  const startOfFile = layout.atFileStart ? `${START_OF_FILE_MARKER}\n` : '';
  return `\`\`\`${path}\n${startOfFile}${markedExcerpt(layout, region)}\n\`\`\``;
}

function zetaPrompt(input: NextEditPromptInput, layout: NextEditLayout): NextEditPrompt {
  const events = input.history
    .map((edit) => `User edited "${edit.path}":\n\`\`\`diff\n${diffHunks(toLf(edit.diff))}\n\`\`\``)
    .join('\n\n');
  const prompt =
    `### Instruction:\n${ZETA_INSTRUCTION}\n\n### User Edits:\n\n${events}\n\n### User Excerpt:\n\n` +
    `${zetaExcerpt(input.path, layout, layout.bodyWithCursor)}\n\n### Response:\n`;
  return { prompt, stop: ['<|endoftext|>'], expectedAnswer: zetaExcerpt(input.path, layout, layout.body) };
}

function sweepPrompt(input: NextEditPromptInput, layout: NextEditLayout): NextEditPrompt {
  const parts: string[] = [];
  for (const snippet of input.snippets) parts.push(`${SWEEP_FILE_SEPARATOR}${snippet.path}\n${toLf(snippet.text)}`);
  const window = [layout.before, layout.body, layout.after].filter((part) => part !== '').join('\n');
  parts.push(`${SWEEP_FILE_SEPARATOR}${input.path}\n${window}`);
  for (const edit of input.history) {
    const sides = diffSides(toLf(edit.diff));
    parts.push(`${SWEEP_FILE_SEPARATOR}${edit.path}.diff\noriginal:\n${sides.before}\nupdated:\n${sides.after}`);
  }
  parts.push(`${SWEEP_FILE_SEPARATOR}original/${input.path}\n${regionBeforeNewestEdit(input, layout.body)}`);
  parts.push(`${SWEEP_FILE_SEPARATOR}current/${input.path}\n${layout.body}`);
  parts.push(`${SWEEP_FILE_SEPARATOR}updated/${input.path}\n`);
  return {
    prompt: parts.join('\n'),
    stop: [SWEEP_FILE_SEPARATOR, '<|endoftext|>'],
    expectedAnswer: `${layout.body}\n`,
  };
}

/**
 * Sweep's `original` block: the region as it was before the newest edit of this file, found by putting the edit's
 * before-lines back where its after-lines are; the region as it is when the edit is not inside it.
 */
function regionBeforeNewestEdit(input: NextEditPromptInput, body: string): string {
  const newest: RecentEditDiff | undefined = input.history.filter((edit) => edit.path === input.path).at(-1);
  if (newest === undefined) return body;
  const sides = diffSides(toLf(newest.diff));
  if (sides.after === '' || sides.before === sides.after) return body;
  const at = body.indexOf(sides.after);
  return at === -1 ? body : `${body.slice(0, at)}${sides.before}${body.slice(at + sides.after.length)}`;
}

function instinctPrompt(input: NextEditPromptInput, layout: NextEditLayout): NextEditPrompt {
  const context = input.snippets
    .map((snippet) => `<|context_file|> ${snippet.path}\n<|snippet|>\n${toLf(snippet.text)}`)
    .join('\n');
  // Instinct lists the edits most recent first, as it was trained.
  const edits = [...input.history]
    .reverse()
    .map((edit) => `User edited file "${edit.path}"\n\n\`\`\`diff\n${diffHunks(toLf(edit.diff))}\n\`\`\``)
    .join('\n');
  const user = [
    INSTINCT_USER_PREFIX,
    '',
    '### Context:',
    context,
    '',
    '### User Edits:',
    '',
    edits,
    '',
    '### User Excerpt:',
    input.path,
    '',
    markedExcerpt(layout, layout.bodyWithCursor),
    // The lone fence after the excerpt is in the template Instinct was trained on.
    '```',
    '### Response:',
  ].join('\n');
  const prompt =
    `<|im_start|>system\n${INSTINCT_SYSTEM_PROMPT}<|im_end|>\n` +
    `<|im_start|>user\n${user}<|im_end|>\n<|im_start|>assistant\n`;
  return { prompt, stop: ['<|im_end|>', '<|endoftext|>'], expectedAnswer: layout.body };
}
