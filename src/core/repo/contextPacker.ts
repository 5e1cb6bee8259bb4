import type { RepoFileSystem } from './repoFileSystem';
import type { RepoIndex } from './repoIndex';
import { renderRepoMap } from './repoMap';

/** Counts tokens in a piece of text (cl100k estimate). */
export type CountTokens = (text: string) => number;

/** What to pack, and the signals that rank it. */
export interface PackRequest {
  /** The person's request: its words are matched against the chunks (BM25). */
  readonly query: string;
  /** Tokens the packed context may use (file sections plus the repository map). */
  readonly budgetTokens: number;
  /** The file in the active editor: always first when it fits. */
  readonly activePath?: string | null;
  /** Files open in editors. */
  readonly openPaths?: readonly string[];
  /** Recently edited files, most recent first. */
  readonly recentEdits?: readonly string[];
  /** Share of the budget kept for the repository map (the rest of the room left by sections is added to it). */
  readonly mapShare?: number;
  readonly signal?: AbortSignal;
}

/** One contiguous piece of a file in the packed context. Lines are 0-based, `endLine` exclusive. */
export interface PackedSection {
  readonly path: string;
  readonly startLine: number;
  readonly endLine: number;
  readonly tokens: number;
  /** Why it was chosen: `matches the request`, `active editor`, `open editor`, `recent edit`, `import neighbour`. */
  readonly why: readonly string[];
}

/** The packed context. */
export interface PackResult {
  /** Markdown: file sections in fences, then the repository map. */
  readonly text: string;
  /** Estimated tokens of `text` (cl100k). */
  readonly tokens: number;
  readonly sections: readonly PackedSection[];
  /** Distinct files with at least one section. */
  readonly files: number;
  readonly mapTokens: number;
  /** Files listed in the map. */
  readonly mapFiles: number;
  /** Indexed files in neither the sections nor the map. */
  readonly omittedFiles: number;
}

/** Default share of the budget for the repository map. */
export const DEFAULT_MAP_SHARE = 0.1;

/** Chunks considered from the BM25 ranking. */
const MAX_HITS = 4_000;

/** Give up filling sections after this many chunks in a row did not fit (the rest are no smaller on average). */
const MAX_CONSECUTIVE_MISSES = 64;

interface Candidate {
  readonly chunkId: number;
  readonly path: string;
  readonly startLine: number;
  readonly endLine: number;
  readonly score: number;
  readonly why: readonly string[];
}

const decoder = new TextDecoder('utf-8');

function pathDepth(path: string): number {
  let depth = 0;
  for (let index = 0; index < path.length; index += 1) if (path.charCodeAt(index) === 47) depth += 1;
  return depth;
}

function languageOf(path: string): string {
  const dot = path.lastIndexOf('.');
  const extension = dot < 0 ? '' : path.slice(dot + 1).toLowerCase();
  // prettier-ignore
  const known: Readonly<Record<string, string>> = {
    ts: 'ts', tsx: 'tsx', js: 'js', jsx: 'jsx', mjs: 'js', cjs: 'js', py: 'python', go: 'go', rs: 'rust', java: 'java',
    kt: 'kotlin', cs: 'csharp', c: 'c', h: 'c', cpp: 'cpp', hpp: 'cpp', rb: 'ruby', php: 'php', swift: 'swift',
    md: 'markdown', json: 'json', yml: 'yaml', yaml: 'yaml', toml: 'toml', sh: 'bash', css: 'css', html: 'html', sql: 'sql',
  };
  return known[extension] ?? '';
}

/** A fence longer than any backtick run inside `text`, so code containing ``` cannot end it early. */
export function fenceFor(text: string): string {
  let longest = 0;
  for (const match of text.matchAll(/`+/g)) longest = Math.max(longest, match[0].length);
  return '`'.repeat(Math.max(3, longest + 1));
}

/** Renders one file's sections (1-based line numbers in the header, as people and models cite them). */
export function renderFileSection(
  path: string,
  startLine: number,
  endLine: number,
  text: string,
  lineCount: number,
): string {
  const whole = startLine === 0 && endLine >= lineCount;
  const header = whole ? `### ${path}` : `### ${path} (lines ${startLine + 1}-${endLine})`;
  const fence = fenceFor(text);
  return `${header}\n${fence}${languageOf(path)}\n${text}\n${fence}\n`;
}

/** Why a chunk was packed when nothing about the request chose it: only to fill the budget. */
export const FILL_REASON = 'fills the budget';

/** The reason of every chunk packed only to fill the budget: one shared array, not one per chunk of the repository. */
const FILLS_THE_BUDGET: readonly string[] = [FILL_REASON];

/**
 * The packed files split by why they are there: `chosen` for the request (words, editors, edits, imports), in the order
 * they rank, and `filler` packed only to use the rest of the budget. What a person is told about the context leads with
 * the first; on a large repository the second can be hundreds of files.
 */
export function filesByReason(sections: readonly PackedSection[]): {
  readonly chosen: readonly string[];
  readonly filler: readonly string[];
} {
  const chosen = new Set<string>();
  for (const section of sections) if (section.why.some((why) => why !== FILL_REASON)) chosen.add(section.path);
  const filler = new Set<string>();
  for (const section of sections) if (!chosen.has(section.path)) filler.add(section.path);
  return { chosen: [...chosen], filler: [...filler] };
}

/**
 * The ranked candidates, then every other chunk of the repository to fill the room left: shallow files first (READMEs,
 * manifests, entry points carry the most overview per token), each file's chunks in order. The filler is made lazily:
 * packing stops at the budget, so on a large repository only the chunks it reaches are ever made (making all 40,000 up
 * front cost 6 MB of objects per pack).
 */
function* rankedThenFiller(
  index: RepoIndex,
  ranked: readonly Candidate[],
  candidates: ReadonlyMap<number, Candidate>,
): Generator<Candidate> {
  yield* ranked;
  const files = [...index.files()];
  const depths = new Map(files.map((file) => [file.path, pathDepth(file.path)]));
  files.sort(
    (a, b) => (depths.get(a.path) ?? 0) - (depths.get(b.path) ?? 0) || (a.path < b.path ? -1 : a.path > b.path ? 1 : 0),
  );
  for (const file of files) {
    for (const chunkId of file.chunkIds) {
      if (candidates.has(chunkId)) continue;
      const location = index.chunk(chunkId);
      if (location !== null) yield { chunkId, ...location, score: 0, why: FILLS_THE_BUDGET };
    }
  }
}

/**
 * Ranks the repository for a request and packs the best of it into a token budget: chunks by BM25 score against the
 * request's words, boosted for the active editor, open editors, recent edits and import neighbours; then a repository
 * map (tree and symbol outline) of what did not fit. Files are re-read from disk at pack time (the index keeps no text),
 * and only files the index holds are read, so ignored and secret files can never be packed.
 */
export async function packContext(
  index: RepoIndex,
  fs: RepoFileSystem,
  request: PackRequest,
  countTokens: CountTokens,
): Promise<PackResult> {
  const mapShare = request.mapShare ?? DEFAULT_MAP_SHARE;
  const mapReserve = Math.floor(request.budgetTokens * mapShare);
  const sectionBudget = request.budgetTokens - mapReserve;

  const boosts = new Map<string, { boost: number; why: string[] }>();
  const boost = (path: string | null | undefined, amount: number, why: string): void => {
    if (path === null || path === undefined || !index.isReadable(path)) return;
    const entry = boosts.get(path) ?? { boost: 0, why: [] };
    entry.boost += amount;
    if (!entry.why.includes(why)) entry.why.push(why);
    boosts.set(path, entry);
  };
  boost(request.activePath, 1.0, 'active editor');
  for (const path of request.openPaths ?? []) boost(path, 0.5, 'open editor');
  const recent = request.recentEdits ?? [];
  recent.forEach((path, position) => boost(path, 0.4 * (1 - position / Math.max(1, recent.length)), 'recent edit'));

  const hits = index.search(request.query, MAX_HITS);
  const topScore = hits[0]?.score ?? 1;
  // Import neighbours of the active file and of the three best-matching files.
  if (request.activePath) for (const path of index.neighbours(request.activePath)) boost(path, 0.4, 'import neighbour');
  const topFiles = [...new Set(hits.map((hit) => hit.path))].slice(0, 3);
  for (const top of topFiles) for (const path of index.neighbours(top)) boost(path, 0.2, 'import neighbour');

  const candidates = new Map<number, Candidate>();
  for (const hit of hits) {
    const fileBoost = boosts.get(hit.path);
    const why = ['matches the request', ...(fileBoost?.why ?? [])];
    candidates.set(hit.chunkId, { ...hit, score: hit.score / topScore + (fileBoost?.boost ?? 0), why });
  }
  for (const [path, fileBoost] of boosts) {
    const file = index.file(path);
    if (file === undefined) continue;
    for (const chunkId of file.chunkIds) {
      if (candidates.has(chunkId)) continue;
      const location = index.chunk(chunkId);
      if (location === null) continue;
      // Slightly below a matching chunk of the same file, so the matching part goes first.
      candidates.set(chunkId, { chunkId, ...location, score: fileBoost.boost * 0.9, why: fileBoost.why });
    }
  }
  const ranked = [...candidates.values()].sort((a, b) => b.score - a.score || a.chunkId - b.chunkId);

  const lineCache = new Map<string, string[] | null>();
  const linesOf = async (path: string): Promise<string[] | null> => {
    if (lineCache.has(path)) return lineCache.get(path) ?? null;
    const read = await fs.readFile(path, Number.MAX_SAFE_INTEGER);
    const lines = read.kind === 'ok' ? decoder.decode(read.bytes).split('\n') : null;
    lineCache.set(path, lines);
    return lines;
  };

  const chosen: (Candidate & { readonly tokens: number })[] = [];
  const headerCost = new Map<string, number>();
  let used = 0;
  let misses = 0;
  for (const candidate of rankedThenFiller(index, ranked, candidates)) {
    request.signal?.throwIfAborted();
    if (sectionBudget - used < 32 || misses >= MAX_CONSECUTIVE_MISSES) break;
    const lines = await linesOf(candidate.path);
    if (lines === null) continue;
    const text = lines.slice(candidate.startLine, candidate.endLine).join('\n');
    // The header and fences cost a few tokens once per file.
    const header = headerCost.has(candidate.path)
      ? 0
      : countTokens(`### ${candidate.path} (lines 1-1)\n\`\`\`\n\n\`\`\`\n`);
    const tokens = countTokens(text) + 1;
    if (used + tokens + header > sectionBudget) {
      misses += 1;
      continue;
    }
    misses = 0;
    if (header > 0) headerCost.set(candidate.path, header);
    used += tokens + header;
    chosen.push({ ...candidate, tokens });
  }

  // Assemble: files in order of their best chunk, each file's chunks in line order, adjacent chunks merged.
  const byFile = new Map<string, (Candidate & { readonly tokens: number })[]>();
  for (const chunk of chosen) {
    const list = byFile.get(chunk.path) ?? [];
    list.push(chunk);
    byFile.set(chunk.path, list);
  }
  const sections: PackedSection[] = [];
  const parts: string[] = [];
  const fullyShown = new Set<string>();
  for (const [path, chunks] of byFile) {
    const lines = (await linesOf(path)) ?? [];
    chunks.sort((a, b) => a.startLine - b.startLine);
    const merged: { startLine: number; endLine: number; tokens: number; why: Set<string> }[] = [];
    for (const chunk of chunks) {
      const last = merged[merged.length - 1];
      if (last !== undefined && last.endLine === chunk.startLine) {
        last.endLine = chunk.endLine;
        last.tokens += chunk.tokens;
        for (const why of chunk.why) last.why.add(why);
      } else {
        merged.push({
          startLine: chunk.startLine,
          endLine: chunk.endLine,
          tokens: chunk.tokens,
          why: new Set(chunk.why),
        });
      }
    }
    const file = index.file(path);
    for (const range of merged) {
      const text = lines.slice(range.startLine, range.endLine).join('\n');
      parts.push(renderFileSection(path, range.startLine, range.endLine, text, file?.lineCount ?? lines.length));
      sections.push({
        path,
        startLine: range.startLine,
        endLine: range.endLine,
        tokens: range.tokens,
        why: [...range.why],
      });
    }
    if (
      merged.length === 1 &&
      merged[0]?.startLine === 0 &&
      (merged[0]?.endLine ?? 0) >= (file?.lineCount ?? lines.length)
    ) {
      fullyShown.add(path);
    }
  }

  // The map lists these first; it orders the rest itself the way the filler does (shallow first).
  const rankedPaths: string[] = [];
  const seen = new Set<string>();
  for (const candidate of ranked) {
    if (!seen.has(candidate.path)) {
      seen.add(candidate.path);
      rankedPaths.push(candidate.path);
    }
  }
  const map = renderRepoMap(index, {
    budgetTokens: request.budgetTokens - used,
    exclude: fullyShown,
    priority: rankedPaths,
    countTokens,
  });
  const text = parts.length > 0 ? `${parts.join('\n')}\n${map.text}` : map.text;
  return {
    text,
    tokens: used + map.tokens,
    sections,
    files: byFile.size,
    mapTokens: map.tokens,
    mapFiles: map.files,
    omittedFiles: index.fileCount() - new Set([...byFile.keys(), ...map.listed]).size,
  };
}
