import { roughTokenCount, type TokenCounter } from './meter';

/** A token counter that answers at once and gets exact once its tokenizer has loaded. */
export interface LazyTokenCounter {
  /** Counts with the real tokenizer once loaded, with the rough 4-characters-per-token rule before. */
  readonly count: TokenCounter;
  /** Starts loading (idempotent); resolves when the real tokenizer is in use, or stays rough if loading failed. */
  load(): Promise<void>;
  /** True once the real tokenizer is in use. */
  readonly isExact: boolean;
}

/**
 * Wraps a tokenizer that is expensive to load (1 MB of BPE ranks, about 0.1-0.2 s to parse) so that activation never
 * waits for it: the extension starts loading it when idle, and counts are rough only until then.
 */
export function createLazyTokenCounter(loadTokenizer: () => Promise<TokenCounter>): LazyTokenCounter {
  let exact: TokenCounter | null = null;
  let loading: Promise<void> | null = null;
  return {
    count: (text) => (exact ?? roughTokenCount)(text),
    load() {
      loading ??= loadTokenizer().then(
        (counter) => {
          exact = counter;
        },
        () => {
          // Rough counts are labelled as estimates anyway; a failed load must never break completions.
        },
      );
      return loading;
    },
    get isExact() {
      return exact !== null;
    },
  };
}
