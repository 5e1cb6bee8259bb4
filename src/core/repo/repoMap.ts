import type { RepoIndex, IndexedFile } from './repoIndex';

/** Options of `renderRepoMap`. */
export interface RepoMapOptions {
  readonly budgetTokens: number;
  /** Files already shown in full: left out of the map. */
  readonly exclude: ReadonlySet<string>;
  /** Files to list first (most relevant first); the rest follow, shallow paths before deep ones. */
  readonly priority: readonly string[];
  readonly countTokens: (text: string) => number;
}

/** The rendered map. */
export interface RepoMap {
  readonly text: string;
  readonly tokens: number;
  /** Files listed. */
  readonly files: number;
  readonly listed: ReadonlySet<string>;
}

/** Stop listing after this many files in a row did not fit the budget left. */
const MAX_CONSECUTIVE_MISSES = 32;

/** Symbols shown per file in the map line. */
const SYMBOLS_PER_LINE = 12;

/** One map line for a file: its name and outline, e.g. `router.ts: function planRoute L72, function hedgePartner L110`. */
export function mapLine(file: IndexedFile): string {
  const name = file.path.slice(file.path.lastIndexOf('/') + 1);
  const symbols = file.symbols
    .slice(0, SYMBOLS_PER_LINE)
    .map((symbol) => `${symbol.kind} ${symbol.name} L${symbol.line + 1}`);
  const more = file.symbols.length > SYMBOLS_PER_LINE ? `, +${file.symbols.length - SYMBOLS_PER_LINE} more` : '';
  return symbols.length === 0 ? `  ${name} (${file.lineCount} lines)` : `  ${name}: ${symbols.join(', ')}${more}`;
}

function directoryOf(path: string): string {
  const slash = path.lastIndexOf('/');
  return slash < 0 ? '.' : path.slice(0, slash);
}

function depth(path: string): number {
  let count = 0;
  for (let index = 0; index < path.length; index += 1) if (path.charCodeAt(index) === 47) count += 1;
  return count;
}

/**
 * The repository map: a tree of files (grouped by directory, with each file's symbol outline) for what the prompt does
 * not show in full, within a token budget. Relevant files come first; when the budget runs out, the remaining files are
 * summarised as counts per top-level directory.
 */
export function renderRepoMap(index: RepoIndex, options: RepoMapOptions): RepoMap {
  const title = '## Repository map (files not shown above, with their symbols and 1-based line numbers)\n';
  let budget = options.budgetTokens - options.countTokens(title) - 40;
  const ordered: IndexedFile[] = [];
  const queued = new Set<string>();
  for (const path of options.priority) {
    const file = index.file(path);
    if (file !== undefined && !options.exclude.has(path) && !queued.has(path)) {
      queued.add(path);
      ordered.push(file);
    }
  }
  const rest = [...index.files()].filter((file) => !queued.has(file.path) && !options.exclude.has(file.path));
  rest.sort((a, b) => depth(a.path) - depth(b.path) || (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  ordered.push(...rest);

  const listed = new Map<string, string>();
  const directoriesListed = new Set<string>();
  let misses = 0;
  for (const file of ordered) {
    // A nearly spent budget would otherwise render and count a line for every remaining file (20,000 on a large
    // repository) to list none of them.
    if (budget <= 0 || misses >= MAX_CONSECUTIVE_MISSES) break;
    const line = mapLine(file);
    const directory = directoryOf(file.path);
    const cost =
      options.countTokens(line) + 1 + (directoriesListed.has(directory) ? 0 : options.countTokens(directory) + 2);
    if (cost > budget) {
      misses += 1;
      continue;
    }
    misses = 0;
    budget -= cost;
    directoriesListed.add(directory);
    listed.set(file.path, line);
  }
  if (listed.size === 0 && ordered.length === 0) return { text: '', tokens: 0, files: 0, listed: new Set() };

  const byDirectory = new Map<string, string[]>();
  for (const path of [...listed.keys()].sort()) {
    const directory = directoryOf(path);
    const lines = byDirectory.get(directory) ?? [];
    lines.push(listed.get(path) ?? '');
    byDirectory.set(directory, lines);
  }
  const out: string[] = [title];
  for (const [directory, lines] of byDirectory) out.push(`${directory}/\n${lines.join('\n')}\n`);
  const omitted = ordered.filter((file) => !listed.has(file.path));
  if (omitted.length > 0) {
    const counts = new Map<string, number>();
    for (const file of omitted) {
      const top = file.path.includes('/') ? `${file.path.slice(0, file.path.indexOf('/'))}/` : '.';
      counts.set(top, (counts.get(top) ?? 0) + 1);
    }
    const summary = [...counts]
      .sort((a, b) => b[1] - a[1])
      .slice(0, 12)
      .map(([top, count]) => `${top} ${count}`);
    out.push(`(${omitted.length} more files not listed: ${summary.join(', ')})\n`);
  }
  const text = out.join('');
  return { text, tokens: options.countTokens(text), files: listed.size, listed: new Set(listed.keys()) };
}
