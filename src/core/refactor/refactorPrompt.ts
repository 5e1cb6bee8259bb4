import type { ChatMessage } from '../endpoint';

/** Everything the prompt says about the code to refactor. */
export interface RefactorPromptInput {
  /** What to do, from a preset or typed by the person. */
  readonly instruction: string;
  /** The editor's language id, e.g. `typescript`. */
  readonly languageId: string;
  /** A workspace-relative path, for the model's orientation only. */
  readonly filePath: string;
  /** The code to rewrite. */
  readonly code: string;
  /** Lines just above and below the code, so that the model sees names and style; may be empty. */
  readonly contextBefore: string;
  readonly contextAfter: string;
  /** True when the answer is inserted below the code instead of replacing it. */
  readonly insertBelow: boolean;
}

// Why one fenced block: the extractor pulls the code out of whatever the model wraps it in, but a single block is the
// shape every chat model produces most reliably, and it lets the extractor drop any sentence before or after it.
const SYSTEM_PROMPT = [
  'You are a code refactoring engine inside a code editor.',
  'You receive a piece of code from a file and an instruction.',
  'Answer with the resulting code only, in exactly one fenced code block, with no explanation before or after it.',
  'Keep the code in the same language and style, and keep its indentation relative to its first line.',
  'Never add code that was not asked for, and never leave placeholders such as "rest of the code".',
].join(' ');

/** Builds the chat messages for a refactor request. */
export function buildRefactorMessages(input: RefactorPromptInput): ChatMessage[] {
  const fence = fenceFor(input.code + input.contextBefore + input.contextAfter);
  const parts: string[] = [`File: ${input.filePath} (${input.languageId})`];
  if (input.contextBefore.length > 0) {
    parts.push(`Code just above (context only, do not repeat it):\n${fence}\n${input.contextBefore}\n${fence}`);
  }
  parts.push(`The code:\n${fence}${input.languageId}\n${input.code}\n${fence}`);
  if (input.contextAfter.length > 0) {
    parts.push(`Code just below (context only, do not repeat it):\n${fence}\n${input.contextAfter}\n${fence}`);
  }
  parts.push(
    input.insertBelow
      ? `Instruction: ${input.instruction}\nYour answer is inserted below the code.`
      : `Instruction: ${input.instruction}\nYour answer replaces the code.`,
  );
  return [
    { role: 'system', content: SYSTEM_PROMPT },
    { role: 'user', content: parts.join('\n\n') },
  ];
}

/**
 * The expected output of a refactor, for endpoints that take predicted outputs: exactly what the model prints when it
 * changes nothing, which is the code in the one fenced block the prompt asks for, with the same fence and language tag
 * the prompt shows it in. Most of a refactor's answer repeats the code, and the server streams the repeated tokens
 * several times faster. Null when the answer is inserted below the code: new code has nothing to repeat.
 */
export function refactorPrediction(input: RefactorPromptInput): string | null {
  if (input.insertBelow) return null;
  const fence = fenceFor(input.code + input.contextBefore + input.contextAfter);
  return `${fence}${input.languageId}\n${input.code}\n${fence}`;
}

/** A fence longer than any run of backticks inside the text, so that code containing ``` cannot end the block early. */
function fenceFor(text: string): string {
  let longest = 0;
  for (const match of text.matchAll(/`+/g)) longest = Math.max(longest, match[0].length);
  return '`'.repeat(Math.max(3, longest + 1));
}

/**
 * The smallest answer budget, in tokens. A cut-off answer is never applied, so a budget too small wastes the whole
 * request, while a generous one costs nothing unless used: 1,024 tokens is about one second at burst speed, and room
 * for documentation or tests written around a three-line function.
 */
const MIN_OUTPUT_TOKENS = 1024;

/**
 * The answer budget in tokens for code of `codeTokens` tokens: the preset's factor plus room for a fence and a stray
 * sentence (64 tokens), at least `MIN_OUTPUT_TOKENS`, and at most `ceiling`.
 */
export function refactorOutputBudget(codeTokens: number, outputFactor: number, ceiling: number): number {
  return Math.min(ceiling, Math.max(MIN_OUTPUT_TOKENS, Math.ceil(codeTokens * outputFactor) + 64));
}

/**
 * The lines around `[startLine, endLine)` of `lines` to send as context: up to `maxLines` above and below. Returns
 * the joined text of each side (empty when there is none).
 */
export function surroundingContext(
  lines: readonly string[],
  startLine: number,
  endLine: number,
  maxLines: number,
): { before: string; after: string } {
  const before = lines.slice(Math.max(0, startLine - maxLines), startLine).join('\n');
  const after = lines.slice(endLine, Math.min(lines.length, endLine + maxLines)).join('\n');
  return { before, after };
}
