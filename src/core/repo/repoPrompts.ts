import type { ChatMessage } from '../endpoint';
import { EDIT_FORMAT_INSTRUCTIONS } from './repoEditFormat';

/** The three repository tasks. */
export type RepoTaskKind = 'ask' | 'explain' | 'refactor';

/** Answer budgets per task, in tokens: an answer, an overview, or edits across several files. */
export const REPO_ANSWER_TOKENS: Readonly<Record<RepoTaskKind, number>> = {
  ask: 4_096,
  explain: 4_096,
  refactor: 16_384,
};

const CITATION_RULE =
  'Cite the files you rely on as Markdown links with the path relative to the repository root, e.g. ' +
  '[src/core/router.ts](src/core/router.ts#L42) (the line is 1-based and optional). Cite only files that appear in the context.';

const SYSTEM_PROMPTS: Readonly<Record<RepoTaskKind, string>> = {
  ask:
    'You answer questions about a software repository. The context shows the most relevant files (some only in part) ' +
    'and a map of the rest. Answer from the context; say so when it does not contain the answer. Answer in Markdown. ' +
    CITATION_RULE,
  explain:
    'You explain software repositories to engineers who are new to them. From the context (the most relevant files and a ' +
    'map of the rest), write a Markdown overview: what the project does, how it is organised (main folders and modules ' +
    'and what each is for), how data flows through it, the key abstractions, and how to build, test and run it. ' +
    CITATION_RULE,
  refactor:
    'You change code across a software repository. The context shows the most relevant files (some only in part) and a ' +
    'map of the rest. Make the smallest complete change that does what is asked, consistent with the code around it.\n\n' +
    EDIT_FORMAT_INSTRUCTIONS,
};

/** The default request of "Explain This Repository" (also its ranking query: the words of an overview). */
export const EXPLAIN_QUERY = 'overview architecture main entry point modules readme package configuration build test';

const CONTEXT_HEADING = '# Repository context\n\n';

/**
 * Characters at the start of a task's messages (contents in order, nothing between them) that stay the same across
 * requests of one kind about one repository: the system prompt, the heading and the packed context's stable prefix.
 * The request comes after all of them, so it never breaks the prefix a provider caches.
 */
export function repoTaskCacheablePrefixChars(kind: RepoTaskKind, stablePrefixChars: number): number {
  return SYSTEM_PROMPTS[kind].length + CONTEXT_HEADING.length + stablePrefixChars;
}

/** Builds the chat messages of a repository task from the packed context and the person's request (last). */
export function repoTaskMessages(kind: RepoTaskKind, packedContext: string, request: string): ChatMessage[] {
  const task =
    kind === 'ask'
      ? `Question: ${request}`
      : kind === 'explain'
        ? 'Explain this repository.'
        : `Change to make: ${request}`;
  return [
    { role: 'system', content: SYSTEM_PROMPTS[kind] },
    { role: 'user', content: `${CONTEXT_HEADING}${packedContext}\n\n# Task\n\n${task}` },
  ];
}

/** The prompt overhead of a task without the context, for budgeting. */
export function repoTaskOverhead(kind: RepoTaskKind, request: string): string {
  return repoTaskMessages(kind, '', request)
    .map((message) => message.content)
    .join('\n');
}

/**
 * Rewrites the answer's file citations into links that open the file: `[text](src/a.ts#L12)` with a known relative path
 * becomes `[text](<uri>#L12)`. Unknown paths and external links are left as they are.
 */
export function linkCitations(
  markdown: string,
  isKnownPath: (path: string) => boolean,
  uriOf: (path: string) => string,
): string {
  return markdown.replace(
    /\[([^\]\n]+)\]\(([^)\s#]+)(#L\d+(?:-L?\d+)?)?\)/g,
    (whole, text: string, target: string, anchor?: string) => {
      const path = target.replace(/^\.\//, '');
      if (/^[a-z][a-z0-9+.-]*:/i.test(path) || !isKnownPath(path)) return whole;
      return `[${text}](${uriOf(path)}${anchor ?? ''})`;
    },
  );
}
