// The few pieces of node-llama-cpp the host uses, described structurally: the package is not a dependency of the
// project (it is installed wherever the person put it, with only their platform's CPU binary), so its types are not
// available at build time. The loaded module is checked against these shapes before use.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { isAbsolute, join, relative, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

/** A token id. */
export type Token = number;

/** node-llama-cpp's `TokenBias` (OpenAI `logit_bias` maps to `{ logit }`). */
export interface TokenBiasLike {
  set(input: Token, bias: { logit: number }): unknown;
}

/** node-llama-cpp's `LlamaText` as far as the host needs it. */
export interface LlamaTextLike {
  tokenize(tokenizer: unknown): Token[];
}

/** The options of `generateCompletionWithMeta` the host passes. */
export interface CompletionOptions {
  onToken?: (tokens: Token[]) => void;
  onTextChunk?: (text: string) => void;
  signal?: AbortSignal;
  stopOnAbortSignal?: boolean;
  maxTokens?: number;
  temperature?: number;
  topP?: number;
  topK?: number;
  seed?: number;
  tokenBias?: TokenBiasLike;
  customStopTriggers?: readonly (string | LlamaTextLike)[];
}

/** What a generation ended with. */
export interface CompletionResult {
  readonly response: string;
  readonly metadata: { readonly stopReason: string };
}

/** node-llama-cpp's `LlamaCompletion`. */
export interface LlamaCompletionLike {
  /** True when the model has fill-in-the-middle tokens. */
  readonly infillSupported: boolean;
  generateCompletionWithMeta(input: Token[], options: CompletionOptions): Promise<CompletionResult>;
  generateInfillCompletionWithMeta(
    prefix: Token[],
    suffix: Token[],
    options: CompletionOptions,
  ): Promise<CompletionResult>;
  dispose(): void;
}

/** node-llama-cpp's `LlamaContextSequence`. */
export interface LlamaContextSequenceLike {
  readonly contextTokens: Token[];
}

/** node-llama-cpp's `LlamaContext`. */
export interface LlamaContextLike {
  readonly contextSize: number;
  getSequence(): LlamaContextSequenceLike;
  dispose(): Promise<void>;
}

/** node-llama-cpp's `LlamaModel`. */
export interface LlamaModelLike {
  readonly trainContextSize: number;
  readonly tokenizer: unknown;
  tokenize(text: string, specialTokens?: boolean): Token[];
  createContext(options: { contextSize?: number; threads?: number; sequences?: number }): Promise<LlamaContextLike>;
  dispose(): Promise<void>;
}

/** node-llama-cpp's `Llama` (the loaded native binding). */
export interface LlamaLike {
  loadModel(options: { modelPath: string; gpuLayers?: number }): Promise<LlamaModelLike>;
  dispose(): Promise<void>;
}

/** One chat turn in node-llama-cpp's history format. */
export type ChatHistoryItem =
  | { readonly type: 'system'; readonly text: string }
  | { readonly type: 'user'; readonly text: string }
  | { readonly type: 'model'; readonly response: string[] };

/** node-llama-cpp's `ChatWrapper`: renders a history with the model's own chat template. */
export interface ChatWrapperLike {
  generateContextState(options: { chatHistory: readonly ChatHistoryItem[] }): {
    readonly contextText: LlamaTextLike;
    readonly stopGenerationTriggers: readonly LlamaTextLike[];
  };
}

/** The module's exports the host uses. */
export interface NodeLlamaCppModule {
  getLlama(options: { gpu: false; build: 'never'; logLevel?: string; progressLogs?: boolean }): Promise<LlamaLike>;
  LlamaCompletion: new (options: { contextSequence: LlamaContextSequenceLike }) => LlamaCompletionLike;
  TokenBias: new (tokenizer: unknown) => TokenBiasLike;
  resolveChatWrapper(model: LlamaModelLike): ChatWrapperLike | null;
}

/** True when the loaded module has the functions and classes the host calls. */
export function isNodeLlamaCppModule(value: unknown): value is NodeLlamaCppModule {
  if (typeof value !== 'object' || value === null) return false;
  return (
    'getLlama' in value &&
    typeof value.getLlama === 'function' &&
    'LlamaCompletion' in value &&
    typeof value.LlamaCompletion === 'function' &&
    'TokenBias' in value &&
    typeof value.TokenBias === 'function' &&
    'resolveChatWrapper' in value &&
    typeof value.resolveChatWrapper === 'function'
  );
}

/** Where node-llama-cpp was found: its package folder and the entry file its own package.json names. */
export interface NodeLlamaCppFound {
  readonly found: true;
  readonly packageDir: string;
  readonly entry: string;
}

/** Why node-llama-cpp was not found, with every place looked at (for the error message). */
export interface NodeLlamaCppMissing {
  readonly found: false;
  readonly looked: readonly string[];
  /** What was wrong with a candidate that was there (a package of another name, an entry outside the package). */
  readonly problems: readonly string[];
}

export type NodeLlamaCppLocation = NodeLlamaCppFound | NodeLlamaCppMissing;

/** The conditions an `import()` in Node matches in `exports`, as Node checks them (in the object's own key order). */
const IMPORT_CONDITIONS: ReadonlySet<string> = new Set(['import', 'node', 'default']);

/** The target of a conditional `exports` value for `import()`: a string, the first matching condition, or the first usable array item. */
function exportTarget(value: unknown): string | null {
  if (typeof value === 'string') return value;
  if (Array.isArray(value)) {
    for (const item of value) {
      const target = exportTarget(item);
      if (target !== null) return target;
    }
    return null;
  }
  if (typeof value !== 'object' || value === null) return null;
  for (const [condition, nested] of Object.entries(value)) {
    if (!IMPORT_CONDITIONS.has(condition)) continue;
    const target = exportTarget(nested);
    if (target !== null) return target;
  }
  return null;
}

/** The package's main entry as its package.json declares it: `exports['.']` (or sugar), else `main`, else `index.js`. */
function declaredEntry(manifest: Record<string, unknown>): string | null {
  const exportsField = manifest['exports'];
  if (exportsField !== undefined && exportsField !== null) {
    if (typeof exportsField === 'object' && !Array.isArray(exportsField)) {
      const keys = Object.keys(exportsField);
      // Subpath keys start with '.'; otherwise the whole object is the conditions of '.'.
      if (keys.some((key) => key.startsWith('.'))) return '.' in exportsField ? exportTarget(exportsField['.']) : null;
    }
    return exportTarget(exportsField);
  }
  const main = manifest['main'];
  return typeof main === 'string' && main !== '' ? main : 'index.js';
}

/** The parsed package.json of `packageDir` when it is node-llama-cpp's; else a reason (null: there is none). */
function readManifest(packageDir: string): Record<string, unknown> | string | null {
  const manifestPath = join(packageDir, 'package.json');
  if (!existsSync(manifestPath)) return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(manifestPath, 'utf8'));
  } catch {
    return `${manifestPath} is not valid JSON`;
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    return `${manifestPath} is not a package manifest`;
  const manifest: Record<string, unknown> = Object.fromEntries(Object.entries(parsed));
  if (manifest['name'] !== 'node-llama-cpp')
    return `${manifestPath} is the package ${JSON.stringify(manifest['name'] ?? null)}, not node-llama-cpp`;
  return manifest;
}

/**
 * Finds node-llama-cpp in exactly two places: `<moduleDir>/node_modules/node-llama-cpp` (an `npm install` in that folder)
 * or `moduleDir` itself (the package folder). Never Node's resolution, which also walks every parent folder's
 * `node_modules`: anyone who can create a folder above (`C:\node_modules`, `/tmp/node_modules`) could plant a module
 * there, and importing it runs it. The candidate's package.json must name node-llama-cpp, and the entry comes from its
 * own `exports`/`main` and must stay inside the package folder. Nothing is imported or run here.
 */
export function locateNodeLlamaCpp(moduleDir: string): NodeLlamaCppLocation {
  const base = resolve(moduleDir);
  const candidates = [join(base, 'node_modules', 'node-llama-cpp'), base];
  const problems: string[] = [];
  for (const packageDir of candidates) {
    const manifest = readManifest(packageDir);
    if (manifest === null) continue;
    if (typeof manifest === 'string') {
      problems.push(manifest);
      continue;
    }
    const declared = declaredEntry(manifest);
    if (declared === null) {
      problems.push(`${join(packageDir, 'package.json')} declares no entry for import()`);
      continue;
    }
    const entry = resolve(packageDir, declared);
    const inside = relative(packageDir, entry);
    if (inside === '' || inside.startsWith('..') || isAbsolute(inside)) {
      problems.push(`${join(packageDir, 'package.json')} points its entry outside the package (${declared})`);
      continue;
    }
    if (!existsSync(entry) || !statSync(entry).isFile()) {
      problems.push(`${entry} (the entry ${join(packageDir, 'package.json')} names) does not exist`);
      continue;
    }
    return { found: true, packageDir, entry };
  }
  return { found: false, looked: candidates.map((candidate) => join(candidate, 'package.json')), problems };
}

/** The one-line error for a node-llama-cpp that was not found: where it was looked for, and what to do. */
export function nodeLlamaCppMissingMessage(moduleDir: string, missing: NodeLlamaCppMissing): string {
  const problems = missing.problems.length > 0 ? ` (${missing.problems.join('; ')})` : '';
  return (
    `node-llama-cpp is not installed in ${moduleDir}: looked for ${missing.looked.join(' and ')}${problems}; parent folders are never searched. ` +
    'Install it there (npm install node-llama-cpp with NODE_LLAMA_CPP_SKIP_DOWNLOAD=true) and point latencyCopilot.localEngine.nodeLlamaCppPath at that folder.'
  );
}

/** Loads node-llama-cpp (an ES module) from the entry `locateNodeLlamaCpp` found; null when it lacks the expected exports. */
export async function importNodeLlamaCpp(location: NodeLlamaCppFound): Promise<NodeLlamaCppModule | null> {
  const loaded: unknown = await import(pathToFileURL(location.entry).href);
  return isNodeLlamaCppModule(loaded) ? loaded : null;
}
