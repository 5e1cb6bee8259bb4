import type { RouteInfo } from '../generation/generationService';
import { filesByReason } from './contextPacker';
import type { PreparedRepoTask } from './repoTask';

/** Files linked in an answer's "Context:" line; the rest are counted. */
export const CONTEXT_LINKS = 12;

/** A count as the repository commands show it: rounded, with thousands separators ("183,402"). */
export function formatCount(value: number): string {
  return Math.round(value).toLocaleString('en-US');
}

/** The distinct files the packed context holds text of, in the order they were packed. */
export function packedFiles(prepared: PreparedRepoTask): string[] {
  return [...new Set(prepared.packed.sections.map((section) => section.path))];
}

/** What the progress notification says before a task is sent: "Sending 183,402 tokens (42 files + a map of 1,203) to Long context 0 (repo-task)". */
export function sendingMessage(prepared: PreparedRepoTask): string {
  const target = prepared.route;
  const where = target === null ? 'no backend' : `${target.endpoint.label} (${target.reason})`;
  const map = prepared.packed.mapFiles > 0 ? ` + a map of ${formatCount(prepared.packed.mapFiles)}` : '';
  return `Sending ${formatCount(prepared.promptTokens)} tokens (${prepared.packed.files} files${map}) to ${where}`;
}

/**
 * The note under a repository answer: which model answered and why, how much context from how many files, and the
 * files chosen for the request as links (a dozen at most; those packed only to fill the budget are counted).
 * `linkOf` gives a file's link target (the adapter's URI of the path). Starts with the blank line and rule that part it
 * from the answer.
 */
export function repoAnswerFooter(
  prepared: PreparedRepoTask,
  route: RouteInfo | null,
  linkOf: (path: string) => string,
): string {
  const { chosen, filler } = filesByReason(prepared.packed.sections);
  const sources = chosen
    .slice(0, CONTEXT_LINKS)
    .map((path) => `[${path}](${linkOf(path)})`)
    .join(', ');
  const moreChosen = chosen.length > CONTEXT_LINKS ? ` and ${chosen.length - CONTEXT_LINKS} more` : '';
  const fillerNote =
    filler.length > 0
      ? `${chosen.length > 0 ? '; ' : ''}${formatCount(filler.length)} more files fill the rest of the budget`
      : '';
  const mapFiles = prepared.packed.mapFiles;
  return (
    `\n\n---\n_${route?.endpoint.label ?? 'Unknown model'} (${route?.reason ?? ''}); ` +
    `${formatCount(prepared.promptTokens)} tokens of context from ${packedFiles(prepared).length} files${mapFiles > 0 ? ` and a map of ${formatCount(mapFiles)}` : ''}._\n\n` +
    `Context: ${sources}${moreChosen}${fillerNote}\n`
  );
}
