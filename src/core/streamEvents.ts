/**
 * The one stream every backend protocol is decoded into. Protocol decoders emit these; the meter, the
 * completion engine and the refactor streamer consume them without knowing which API produced them.
 */
export type StreamEvent = TextEvent | ReasoningEvent | UsageEvent | TimingsEvent | FinishEvent;

/** Visible output text (code, prose). Never empty. */
export interface TextEvent {
  readonly kind: 'text';
  readonly text: string;
  /** How many tokens this text is, when the server says per event (llama.cpp's `tokens` array); else estimated. */
  readonly tokens?: number;
}

/** Reasoning ("thinking") text that some models stream before the answer. Never empty. */
export interface ReasoningEvent {
  readonly kind: 'reasoning';
  readonly text: string;
}

/** Token counts as the server reports them (OpenAI `usage`, Anthropic `usage`, Ollama counts, ...). */
export interface UsageEvent {
  readonly kind: 'usage';
  readonly promptTokens: number | null;
  readonly completionTokens: number | null;
  /** Prompt tokens served from the server's prompt cache, when it says. */
  readonly cachedPromptTokens: number | null;
  /**
   * Prompt tokens written to the provider's cache (Anthropic `cache_creation_input_tokens`), billed above the input
   * price; absent when the protocol has no such count.
   */
  readonly cacheWritePromptTokens?: number | null;
  /**
   * Tokens of the request's prediction that appeared in the answer (OpenAI `completion_tokens_details.
   * accepted_prediction_tokens`); null when the server does not say. Some servers report 0 without a prediction.
   */
  readonly acceptedPredictionTokens: number | null;
  /**
   * Tokens of the prediction that did not appear in the answer (`rejected_prediction_tokens`). OpenAI counts them inside
   * `completion_tokens` (they are billed), so they are not tokens of the answer. Null when the server does not say.
   */
  readonly rejectedPredictionTokens: number | null;
}

/**
 * Server-side timings, normalised: llama.cpp `timings`, Ollama `eval_count`/`eval_duration`,
 * Groq `x_groq.usage`, Cerebras `time_info`. Any field may be unknown.
 */
export interface TimingsEvent {
  readonly kind: 'timings';
  /** Where these figures came from, e.g. `llamacpp`, `ollama`, `groq`, `cerebras`. */
  readonly origin: string;
  readonly promptTokens: number | null;
  readonly promptMs: number | null;
  readonly predictedTokens: number | null;
  readonly predictedMs: number | null;
  /** Prompt tokens reused from the server's cache (llama.cpp `cache_n`). */
  readonly cachedPromptTokens: number | null;
}

/** The server said why generation ended (`stop`, `length`, `end_turn`, ...). */
export interface FinishEvent {
  readonly kind: 'finish';
  readonly reason: string;
}
