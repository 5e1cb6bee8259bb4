/** The wire protocols the extension speaks. */
export type ProtocolId =
  | 'openai-chat'
  | 'openai-completions'
  | 'llamacpp-infill'
  | 'ollama-generate'
  | 'ollama-chat'
  | 'anthropic';

/** Every protocol id, for validation and quick picks. */
export const PROTOCOL_IDS: readonly ProtocolId[] = [
  'openai-chat',
  'openai-completions',
  'llamacpp-infill',
  'ollama-generate',
  'ollama-chat',
  'anthropic',
];

/** True when `value` names a protocol the extension speaks. */
export function isProtocolId(value: unknown): value is ProtocolId {
  return PROTOCOL_IDS.some((id) => id === value);
}

/**
 * Where a request goes. `baseUrl` is taken as the provider documents it: OpenAI-compatible ones end in `/v1`;
 * llama.cpp, Ollama and Anthropic are the server root.
 */
export interface EndpointTarget {
  readonly baseUrl: string;
  readonly protocol: ProtocolId;
  readonly model: string;
  /** Sent as a bearer token (or `x-api-key` for Anthropic). Never logged. */
  readonly apiKey?: string;
}

/** A chat message. */
export interface ChatMessage {
  readonly role: 'system' | 'user' | 'assistant';
  readonly content: string;
}

/** What to generate: either a chat conversation or a raw prompt (with an optional suffix for fill-in-the-middle). */
export interface GenerationRequest {
  /** Chat messages, for chat protocols. A raw-prompt protocol given messages joins them. */
  readonly messages?: readonly ChatMessage[];
  /** A raw prompt (the prefix, for fill-in-the-middle). */
  readonly prompt?: string;
  /** Text after the cursor, for fill-in-the-middle. */
  readonly suffix?: string;
  /** Extra context chunks for llama.cpp `/infill` `input_extra`. */
  readonly extraContext?: readonly { readonly filename: string; readonly text: string }[];
  readonly maxTokens: number;
  readonly temperature?: number;
  readonly stop?: readonly string[];
  /** Extra body fields merged into the request as-is (e.g. `logit_bias`, `cache_prompt`, `n_indent`). */
  readonly extraBody?: Readonly<Record<string, unknown>>;
}
