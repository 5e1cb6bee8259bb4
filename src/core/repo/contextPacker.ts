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
  /**
   * Share of the budget kept for the request's own files (`DEFAULT_QUESTION_SHARE`); the rest holds the repository's
   * question-independent core, which a provider's prompt cache can serve to the next question.
   */
  readonly questionShare?: number;
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
  /**
   * Markdown: the repository map, the core's file sections in path order, then the request's own sections in rank
   * order. The first `stablePrefixChars` characters depend only on the repository and the budget.
   */
  readonly text: string;
  /** Characters at the start of `text` that are the same for every request about this repository at this budget. */
  readonly stablePrefixChars: number;
  /** Estimated tokens of `text` (cl100k). */
  readonly tokens: number;
  /** Estimated tokens of the stable prefix (map and core). */
  readonly stableTokens: number;
  /** The request's own sections first, then the core's; each in the request's rank order (the prompt keeps the core
   * in path order). */
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

/**
 * Default share of the budget for the request's own files. Small, so that a second question about the same repository
 * is served mostly from the provider's prompt cache (the rest is the stable core); the floor below keeps room for the
 * best matches when the budget is small.
 */
export const DEFAULT_QUESTION_SHARE = 0.08;

/** The least room for the request's own files, in tokens (at most half of what sections may use). */
const MIN_QUESTION_TOKENS = 2_000;

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
 * Every chunk of the repository in an order that depends on nothing but the repository: shallow files first (READMEs,
 * manifests, entry points carry the most overview per token), then by path, each file's chunks in order. The chunks are
 * made lazily: packing stops at the budget, so on a large repository only the chunks it reaches are ever made (making
 * all 40,000 up front cost 6 MB of objects per pack).
 */
function* coreOrder(index: RepoIndex, candidates: ReadonlyMap<number, Candidate>): Generator<Candidate> {
  const files = [...index.files()];
  const depths = new Map(files.map((file) => [file.path, pathDepth(file.path)]));
  files.sort(
    (a, b) => (depths.get(a.path) ?? 0) - (depths.get(b.path) ?? 0) || (a.path < b.path ? -1 : a.path > b.path ? 1 : 0),
  );
  for (const file of files) {
    for (const chunkId of file.chunkIds) {
      const location = index.chunk(chunkId);
      if (location === null) continue;
      // A core chunk the request also matches says so: what the person is told about the context leads with it.
      const why = candidates.get(chunkId)?.why ?? FILLS_THE_BUDGET;
      yield { chunkId, ...location, score: 0, why };
    }
  }
}

/**
 * Ranks the repository for a request and packs the best of it into a token budget: chunks by BM25 score against the
 * request's words, boosted for the active editor, open editors, recent edits and import neighbours; then a repository
 * map (tree and symbol outline) of what did not fit. The layout keeps a stable prefix first (see below). Files are re-read from disk at pack time (the index keeps no text),
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
  const questionShare = request.questionShare ?? DEFAULT_QUESTION_SHARE;
  const questionRoom = Math.min(
    sectionBudget,
    Math.max(
      Math.floor(request.budgetTokens * questionShare),
      Math.min(MIN_QUESTION_TOKENS, Math.floor(sectionBudget / 2)),
    ),
  );
  const coreBudget = sectionBudget - questionRoom;

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

  type Chosen = Candidate & { readonly tokens: number };
  // Fills `budget` from `source` in order; chunks in `skip` are already packed. Returns what fit and the tokens used.
  const fill = async (
    source: Iterable<Candidate>,
    budget: number,
    skip: ReadonlySet<number>,
  ): Promise<{ chosen: Chosen[]; used: number }> => {
    const chosen: Chosen[] = [];
    const headerCost = new Set<string>();
    let used = 0;
    let misses = 0;
    for (const candidate of source) {
      request.signal?.throwIfAborted();
      if (budget - used < 32 || misses >= MAX_CONSECUTIVE_MISSES) break;
      if (skip.has(candidate.chunkId)) continue;
      const lines = await linesOf(candidate.path);
      if (lines === null) continue;
      const text = lines.slice(candidate.startLine, candidate.endLine).join('\n');
      // The header and fences cost a few tokens once per file.
      const header = headerCost.has(candidate.path)
        ? 0
        : countTokens(`### ${candidate.path} (lines 1-1)\n\`\`\`\n\n\`\`\`\n`);
      const tokens = countTokens(text) + 1;
      if (used + tokens + header > budget) {
        misses += 1;
        continue;
      }
      misses = 0;
      headerCost.add(candidate.path);
      used += tokens + header;
      chosen.push({ ...candidate, tokens });
    }
    return { chosen, used };
  };

  // Renders chosen chunks: files in the given order, each file's chunks in line order, adjacent chunks merged.
  const assemble = async (
    chosen: readonly Chosen[],
    byPath: boolean,
  ): Promise<{ parts: string[]; sections: PackedSection[]; files: Set<string>; fullyShown: Set<string> }> => {
    const byFile = new Map<string, Chosen[]>();
    for (const chunk of chosen) {
      const list = byFile.get(chunk.path) ?? [];
      list.push(chunk);
      byFile.set(chunk.path, list);
    }
    const paths = [...byFile.keys()];
    if (byPath) paths.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    const sections: PackedSection[] = [];
    const parts: string[] = [];
    const fullyShown = new Set<string>();
    for (const path of paths) {
      const chunks = [...(byFile.get(path) ?? [])].sort((a, b) => a.startLine - b.startLine);
      const lines = (await linesOf(path)) ?? [];
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
      const lineCount = file?.lineCount ?? lines.length;
      for (const range of merged) {
        const text = lines.slice(range.startLine, range.endLine).join('\n');
        parts.push(renderFileSection(path, range.startLine, range.endLine, text, lineCount));
        sections.push({
          path,
          startLine: range.startLine,
          endLine: range.endLine,
          tokens: range.tokens,
          why: [...range.why],
        });
      }
      const only = merged.length === 1 ? merged[0] : undefined;
      if (only !== undefined && only.startLine === 0 && only.endLine >= lineCount) fullyShown.add(path);
    }
    return { parts, sections, files: new Set(paths), fullyShown };
  };

  // The core first: chosen without the request, in path order, so that every question about this repository (at this
  // budget) starts with the same text and a provider's prompt cache serves it. The trade-off: the request's own files
  // get only their share of the budget (`questionShare`, at least `MIN_QUESTION_TOKENS`) instead of all of it; a match
  // already in the core costs nothing more.
  const core = await fill(coreOrder(index, candidates), coreBudget, new Set());
  const coreIds = new Set(core.chosen.map((chunk) => chunk.chunkId));
  const asked = await fill(ranked, questionRoom, coreIds);
  const coreParts = await assemble(core.chosen, true);
  const askedParts = await assemble(asked.chosen, false);

  // The map depends on nothing the request says either (no ranked paths first), so it belongs to the stable prefix; it
  // takes its own share and whatever room the core left.
  const map = renderRepoMap(index, {
    budgetTokens: mapReserve + coreBudget - core.used,
    exclude: coreParts.fullyShown,
    priority: [],
    countTokens,
  });
  const stable = [map.text, ...coreParts.parts].join('\n');
  const text = askedParts.parts.length > 0 ? `${stable}\n${askedParts.parts.join('\n')}` : stable;
  const packedFiles = new Set([...coreParts.files, ...askedParts.files]);
  // The prompt keeps the core in path order (its stable prefix); the sections are listed by the request's own ranking,
  // so that what mattered for this question leads wherever it sits in the prompt (the answer's "Context:" line).
  const rankOf = new Map<string, number>();
  ranked.forEach((candidate, index) => {
    if (!rankOf.has(candidate.path)) rankOf.set(candidate.path, index);
  });
  const byRank = (a: PackedSection, b: PackedSection) =>
    (rankOf.get(a.path) ?? Number.POSITIVE_INFINITY) - (rankOf.get(b.path) ?? Number.POSITIVE_INFINITY);
  const coreSections = [...coreParts.sections].sort(byRank);
  return {
    text,
    stablePrefixChars: stable.length,
    tokens: core.used + asked.used + map.tokens,
    stableTokens: core.used + map.tokens,
    sections: [...askedParts.sections, ...coreSections],
    files: packedFiles.size,
    mapTokens: map.tokens,
    mapFiles: map.files,
    omittedFiles: index.fileCount() - new Set([...packedFiles, ...map.listed]).size,
  };
}
