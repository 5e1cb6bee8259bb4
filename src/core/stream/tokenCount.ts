import * as cl100k from 'gpt-tokenizer/encoding/cl100k_base';

const NO_SPECIAL_TOKENS = new Set<string>();

/**
 * Counts tokens with cl100k_base. Model tokenizers differ (Llama, Qwen, ...), so every count made here is an
 * estimate and is labelled as one. Special-token text such as `<|im_start|>` is counted as plain text, not thrown on.
 * gpt-tokenizer's own count: the same tokens as `encode(text).length` without building the array of them.
 */
export function countTokens(text: string): number {
  if (text.length === 0) return 0;
  return cl100k.countTokens(text, { disallowedSpecial: NO_SPECIAL_TOKENS });
}
