import type { ContextSnippet } from './fimTemplates';
import type { LineTokenMemo } from './promptWindow';

/** Where a candidate snippet came from; recent edits are the strongest hint of what the person works on. */
export type SnippetOrigin = 'recent-edit' | 'open-editor';

/** A piece of another file that might help the model. */
export interface SnippetCandidate extends ContextSnippet {
  readonly origin: SnippetOrigin;
}

const IDENTIFIER = /[A-Za-z_$][A-Za-z0-9_$]{2,}/g;
/** Words too common in code to say anything about relevance. */
const COMMON = new Set([
  'const',
  'let',
  'var',
  'function',
  'return',
  'this',
  'import',
  'export',
  'from',
  'def',
  'self',
  'class',
  'new',
  'for',
  'while',
  'else',
  'true',
  'false',
  'null',
  'undefined',
  'None',
  'async',
  'await',
  'type',
  'interface',
  'public',
  'private',
  'static',
  'void',
  'string',
  'number',
]);

function identifiers(text: string): Set<string> {
  const found = new Set<string>();
  for (const match of text.matchAll(IDENTIFIER)) if (!COMMON.has(match[0])) found.add(match[0]);
  return found;
}

/** Share of the cursor's identifiers that the snippet also has (0..1). */
function overlap(near: ReadonlySet<string>, snippet: ReadonlySet<string>): number {
  if (near.size === 0) return 0;
  let shared = 0;
  for (const word of near) if (snippet.has(word)) shared += 1;
  return shared / near.size;
}

/**
 * Picks the snippets worth their tokens: ranked by how many identifiers near the cursor they share (recent edits get a
 * bonus), then taken while they fit `budgetTokens`. Snippets sharing nothing are left out.
 */
export function selectSnippets(
  candidates: readonly SnippetCandidate[],
  textNearCursor: string,
  budgetTokens: number,
  memo: LineTokenMemo,
): ContextSnippet[] {
  if (candidates.length === 0 || budgetTokens <= 0) return [];
  const near = identifiers(textNearCursor);
  const ranked = candidates
    .map((candidate) => ({
      candidate,
      score: overlap(near, identifiers(candidate.text)) + (candidate.origin === 'recent-edit' ? 0.2 : 0),
    }))
    .filter(({ score }) => score > 0.2)
    .sort((a, b) => b.score - a.score);
  const chosen: ContextSnippet[] = [];
  let used = 0;
  for (const { candidate } of ranked) {
    const tokens = candidate.text.split('\n').reduce((sum, line) => sum + memo.lineTokens(line), 0);
    if (used + tokens > budgetTokens) continue;
    used += tokens;
    chosen.push({ path: candidate.path, text: candidate.text });
  }
  return chosen;
}
