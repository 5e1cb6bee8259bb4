/** One remembered prompt: its text, and its token ids when it was short enough to tokenise. */
interface CachedPrompt {
  readonly text: string;
  readonly ids: readonly number[] | null;
}

/** How many recent prompts the simulated prompt cache keeps, and how many characters of them in all. */
export const PROMPT_CACHE_ENTRIES = 8;
/** About 2M tokens of prompts: the cache never holds more, however long the prompts. */
export const PROMPT_CACHE_MAX_CHARS = 8_000_000;

function commonPrefixLength<T>(a: ArrayLike<T>, b: ArrayLike<T>): number {
  const limit = Math.min(a.length, b.length);
  let index = 0;
  while (index < limit && a[index] === b[index]) index++;
  return index;
}

/**
 * A server-wide prompt cache as hosted providers and vLLM/SGLang keep one: a new prompt's prefix shared with any recent
 * prompt is served from cache. Counted exactly in tokens when both prompts were tokenised, else in characters at the
 * simulator's estimate of characters per token (long prompts are never tokenised, see `promptTokenIds`). Bounded: the
 * oldest prompts are dropped first past `PROMPT_CACHE_ENTRIES` or `PROMPT_CACHE_MAX_CHARS`.
 */
export class PromptCache {
  private readonly entries: CachedPrompt[] = [];
  private chars = 0;

  constructor(private readonly charsPerToken: number) {}

  /**
   * Tokens of a prompt (`count` in all) already in the cache, then remembers it. At least its last token is never
   * cached, as a server always computes one to start the answer.
   */
  lookUpAndRemember(text: string, ids: readonly number[] | null, count: number): number {
    let best = 0;
    for (const entry of this.entries) {
      const tokens =
        ids !== null && entry.ids !== null
          ? commonPrefixLength(entry.ids, ids)
          : Math.floor(commonPrefixLength(entry.text, text) / this.charsPerToken);
      best = Math.max(best, tokens);
    }
    this.remember({ text, ids });
    return Math.max(0, Math.min(best, count - 1));
  }

  /** The most characters any remembered prompt shares with the start of `text` (explicit caching matches whole marks). */
  commonChars(text: string): number {
    let best = 0;
    for (const entry of this.entries) best = Math.max(best, commonPrefixLength(entry.text, text));
    return best;
  }

  /** Prompts held now. */
  get size(): number {
    return this.entries.length;
  }

  private remember(prompt: CachedPrompt): void {
    // The same prompt again only moves to the front of the queue.
    const same = this.entries.findIndex((entry) => entry.text === prompt.text);
    if (same >= 0) {
      this.entries.splice(same, 1);
      this.chars -= prompt.text.length;
    }
    if (prompt.text.length > PROMPT_CACHE_MAX_CHARS) return;
    this.entries.push(prompt);
    this.chars += prompt.text.length;
    while (this.entries.length > PROMPT_CACHE_ENTRIES || this.chars > PROMPT_CACHE_MAX_CHARS) {
      const oldest = this.entries.shift();
      if (oldest === undefined) break;
      this.chars -= oldest.text.length;
    }
  }
}
