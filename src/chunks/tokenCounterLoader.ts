import { roughTokenCount, type TokenCounter } from '../core/stream/meter';

let loaded: Promise<TokenCounter> | null = null;

function isCounterModule(value: unknown): value is { countTokens: (text: string) => unknown } {
  return (
    typeof value === 'object' && value !== null && 'countTokens' in value && typeof value.countTokens === 'function'
  );
}

/**
 * The cl100k token counter from the lazily loaded `dist/tokenizer.js` chunk (1 MB of BPE ranks, so it is not parsed at
 * activation). Loaded on the first call; if the chunk cannot be loaded the rough 4-characters-per-token estimate is used
 * and the failure is reported once through `onFallback`.
 */
export function loadTokenCounter(onFallback: (reason: string) => void): Promise<TokenCounter> {
  loaded ??= new Promise<TokenCounter>((resolve) => {
    try {
      // A literal path: esbuild keeps it external (see esbuild.mjs), and Node resolves it next to dist/extension.js.
      const chunk: unknown = require('./tokenizer.js');
      if (!isCounterModule(chunk)) throw new Error('dist/tokenizer.js does not export countTokens');
      const count = chunk.countTokens;
      resolve((text) => {
        const tokens = count(text);
        return typeof tokens === 'number' ? tokens : roughTokenCount(text);
      });
    } catch (error) {
      onFallback(error instanceof Error ? error.message : String(error));
      resolve(roughTokenCount);
    }
  });
  return loaded;
}
