import { takeTokens, type TokenizedText } from './tokenPieces';

/** What ends a completion early, besides the end of its text. */
export interface CompletionLimits {
  /** The request's stop strings (`stop`, `options.stop`, `stop_sequences`): the text ends right before the first one. */
  readonly stop: readonly string[];
  /** The natural length in tokens (the `completionTokens` knob): a natural end, not a cap; null for the whole text. */
  readonly naturalTokens: number | null;
  /** The request's token cap (`max_tokens`, `n_predict`, `num_predict`, or the server default); null for none. */
  readonly requestCap: number | null;
  /** A cap no server can ignore, in tokens (llama.cpp's room left in the context window); Infinity for none. */
  readonly hardCap: number;
  /** Model a broken server: stop strings and `requestCap` are ignored (the text runs to its natural end). */
  readonly ignoreStops: boolean;
}

/** The completion as it will be sent, with the reason it ended. */
export interface LimitedCompletion {
  readonly tokens: TokenizedText;
  /** `stop` for a natural end or a stop string, `length` when a cap cut it. */
  readonly finish: 'stop' | 'length';
  /** The stop string that ended the text, or null. */
  readonly stopWord: string | null;
}

// A cl100k token of code is rarely more than 12 characters (runs of spaces are the long ones); with a cap of N tokens,
// tokenising the first N * 12 + 256 characters usually yields more than N tokens, and then the rest of an 11,000-character
// text need not be tokenised at all. When it yields too few, the whole text is tokenised: only speed depends on this guess.
const CHARS_PER_TOKEN_BOUND = 12;
const SLICE_SLACK_CHARS = 256;
// Tokens past the cap that a slice must yield before its first N tokens are trusted: cutting the text changes only the
// tokens of the last pre-token chunk or two before the cut (cl100k splits text into chunks by regex before BPE).
const SLICE_SAFETY_TOKENS = 16;

/** The earliest occurrence of any of `stops` in `text`, with the stop string found there. */
export function earliestStop(text: string, stops: readonly string[]): { index: number; word: string } | null {
  let best: { index: number; word: string } | null = null;
  for (const word of stops) {
    if (word.length === 0) continue;
    const index = text.indexOf(word);
    if (index >= 0 && (best === null || index < best.index)) best = { index, word };
  }
  return best;
}

/**
 * Tokens of `text` of which at least the first `limit` are exactly those of the whole text: a prefix slice when that
 * is enough (so that a 64-token cap never tokenises 11,000 characters), else the whole text.
 */
export function tokenizeAtLeast(text: string, limit: number, tokenize: (text: string) => TokenizedText): TokenizedText {
  if (!Number.isFinite(limit)) return tokenize(text);
  const sliceChars = limit * CHARS_PER_TOKEN_BOUND + SLICE_SLACK_CHARS;
  if (text.length <= sliceChars) return tokenize(text);
  const partial = tokenize(text.slice(0, sliceChars));
  return partial.ids.length > limit + SLICE_SAFETY_TOKENS ? partial : tokenize(text);
}

/**
 * Applies a request's limits to the text the simulated model would write: first its natural length, then the first
 * stop string (the text ends right before it, as every API does), then the caps. A cap that cuts the text makes the
 * finish `length`; a stop string that ends it makes the finish `stop` with the word.
 */
export function limitCompletion(
  text: string,
  limits: CompletionLimits,
  tokenize: (text: string) => TokenizedText,
): LimitedCompletion {
  let kept = text;
  let tokens: TokenizedText | null = null;
  if (limits.naturalTokens !== null) {
    const whole = tokenizeAtLeast(text, limits.naturalTokens, tokenize);
    if (whole.ids.length > limits.naturalTokens) {
      tokens = takeTokens(whole, limits.naturalTokens);
      kept = tokens.pieces.join('');
    } else {
      tokens = whole;
    }
  }
  const stop = limits.ignoreStops ? null : earliestStop(kept, limits.stop);
  if (stop !== null) {
    kept = kept.slice(0, stop.index);
    tokens = null;
  }
  const requestCap = limits.ignoreStops ? null : limits.requestCap;
  const cap = Math.min(requestCap ?? Number.POSITIVE_INFINITY, limits.hardCap);
  tokens ??= tokenizeAtLeast(kept, cap, tokenize);
  if (tokens.ids.length > cap) return { tokens: takeTokens(tokens, cap), finish: 'length', stopWord: null };
  return { tokens, finish: 'stop', stopWord: stop?.word ?? null };
}
