// The few pieces of node-llama-cpp the host uses, described structurally: the package is not a dependency of the
// project (it is installed wherever the person put it, with only their platform's CPU binary), so its types are not
// available at build time. The loaded module is checked against these shapes before use.
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
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
  generateInfillCompletionWithMeta(prefix: Token[], suffix: Token[], options: CompletionOptions): Promise<CompletionResult>;
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

/**
 * Where node-llama-cpp's entry file is: resolved from `moduleDir` as Node would (its `node_modules`, then parents), or
 * `moduleDir` itself when it is the package folder. Null when it is not there.
 */
export function resolveNodeLlamaCpp(moduleDir: string): string | null {
  try {
    return createRequire(join(moduleDir, 'package.json')).resolve('node-llama-cpp');
  } catch {
    // Not below moduleDir: maybe moduleDir is the package itself.
  }
  const manifest = join(moduleDir, 'package.json');
  if (!existsSync(manifest)) return null;
  try {
    const parsed: unknown = JSON.parse(readFileSync(manifest, 'utf8'));
    if (typeof parsed === 'object' && parsed !== null && 'name' in parsed && parsed.name === 'node-llama-cpp') {
      const entry = join(moduleDir, 'dist', 'index.js');
      return existsSync(entry) ? entry : null;
    }
  } catch {
    return null;
  }
  return null;
}

/** Loads node-llama-cpp (an ES module) from its entry file; null when it does not have the expected exports. */
export async function importNodeLlamaCpp(entry: string): Promise<NodeLlamaCppModule | null> {
  const loaded: unknown = await import(pathToFileURL(entry).href);
  return isNodeLlamaCppModule(loaded) ? loaded : null;
}
