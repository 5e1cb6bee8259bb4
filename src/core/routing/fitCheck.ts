/**
 * cl100k counts differ from the served model's tokenizer: Llama 3 and Qwen are within a few percent on code, older
 * SentencePiece vocabularies (CodeLlama, StarCoder) can need 10-15% more tokens for the same text. The fit check adds this
 * fraction to every estimated prompt so that an estimate never claims a fit the server then refuses.
 */
export const PROMPT_ESTIMATE_MARGIN = 0.15;

/** Tokens a chat template or FIM wrapper adds around the prompt (role headers, special tokens), in tokens. */
export const TEMPLATE_OVERHEAD_TOKENS = 64;

/** The tokens a request needs from a window: the prompt estimate with its safety margin, template overhead and the answer budget. */
export function requiredWindowTokens(promptTokens: number, maxOutputTokens: number): number {
  return Math.ceil(promptTokens * (1 + PROMPT_ESTIMATE_MARGIN)) + TEMPLATE_OVERHEAD_TOKENS + maxOutputTokens;
}

/** True when a request needing `requiredTokens` fits `contextWindow`; an unknown window (null) is taken to fit (the server will say). */
export function fitsWindow(requiredTokens: number, contextWindow: number | null): boolean {
  return contextWindow === null || requiredTokens <= contextWindow;
}

/**
 * The largest prompt (estimated tokens) that fits `contextWindow` with `maxOutputTokens` of answer: the inverse of
 * `requiredWindowTokens`, for packers that fill a window.
 */
export function promptBudgetFor(contextWindow: number, maxOutputTokens: number): number {
  const room = contextWindow - TEMPLATE_OVERHEAD_TOKENS - maxOutputTokens;
  return room <= 0 ? 0 : Math.floor(room / (1 + PROMPT_ESTIMATE_MARGIN));
}
