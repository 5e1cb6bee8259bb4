import type { EndpointPrice } from './price';

/** The wire protocols the extension speaks. */
export type ProtocolId =
  'openai-chat' | 'openai-completions' | 'llamacpp-infill' | 'ollama-generate' | 'ollama-chat' | 'anthropic';

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
  /**
   * The context window the server should serve this request with, in tokens: the window the router checked the fit
   * against. Ollama takes it as `options.num_ctx` (without it Ollama serves its own small default and silently drops
   * the start of a longer prompt); the other protocols ignore it (their servers have one window).
   */
  readonly contextWindow?: number;
  /**
   * The expected output: sent as OpenAI-style `prediction: {type: 'content', content}` where the endpoint takes it
   * (`ResolvedEndpoint.predictedOutputs`); other protocols ignore it. The server reuses the tokens of it that the answer
   * repeats (speculative decoding), so an edit that changes little of the text streams several times faster. Features
   * set it only for endpoints that take it: a server that does not may refuse the unknown field.
   */
  readonly prediction?: string;
  /** Extra body fields merged into the request as-is (e.g. `logit_bias`, `cache_prompt`, `n_indent`). */
  readonly extraBody?: Readonly<Record<string, unknown>>;
  /**
   * Characters at the start of the prompt that stay the same across requests (the messages' contents in order, nothing
   * between them; a system message counts where the protocol puts it, first). Where caching is explicit (Anthropic
   * `cache_control`) the adapter marks the cache breakpoint there; the other protocols cache a repeated prefix on their
   * own and ignore it. Absent or 0: nothing is marked.
   */
  readonly cacheablePrefixChars?: number;
  /** Extra request headers (a provider's own headers; the simulator's `x-sim-*` controls in tests). */
  readonly extraHeaders?: Readonly<Record<string, string>>;
}

/** The two roles an endpoint can play: fast everyday work, or the long-context fallback. */
export type BackendRole = 'burst' | 'longContext';

/**
 * How an endpoint does fill-in-the-middle. `auto` means "probe once and remember" (issue 4); the others pin a path.
 * - `llamacpp-infill`: llama.cpp `/infill`; `openai-suffix`: `/v1/completions` with `suffix`; `ollama-suffix`: Ollama
 *   `/api/generate` with `suffix`; `mistral-fim`: `/v1/fim/completions`; `template`: a model-family FIM template over a raw
 *   completions endpoint; `chat`: a hole-filling chat prompt; `none`: not used for inline completions.
 */
export type FimSupport =
  'auto' | 'llamacpp-infill' | 'openai-suffix' | 'ollama-suffix' | 'mistral-fim' | 'template' | 'chat' | 'none';

/** An endpoint as configured and resolved for use: settings parsed, key fetched from SecretStorage. */
export interface ResolvedEndpoint {
  /** Stable within a configuration: `${role}#${index}`, e.g. `burst#0`. */
  readonly id: string;
  readonly role: BackendRole;
  /** A short human name, e.g. `Cerebras llama3.1-8b`. */
  readonly label: string;
  /** The preset it came from (`cerebras`, `groq`, `llamacpp`, ...), or null for a hand-made endpoint. */
  readonly preset: string | null;
  readonly target: EndpointTarget;
  /** The context window in tokens as configured or known from the preset; the endpoint's own answer may refine it. */
  readonly contextWindow: number | null;
  readonly fim: FimSupport;
  /** True for the built-in simulated backends: the UI must say so plainly. */
  readonly simulated: boolean;
  /**
   * True when the endpoint takes the expected output (`GenerationRequest.prediction`): its preset's provider documents
   * OpenAI-style `prediction` on chat completions, the settings entry says `"predictedOutputs": true`, or it is a
   * simulated backend (the simulator honours it).
   */
  readonly predictedOutputs: boolean;
  /**
   * What its tokens cost: the entry's own `price`, else its preset's published prices (for the preset's default model
   * only), free for the local engine, the self-hosted presets (llama.cpp, Ollama, vLLM, ...) and the simulator, else
   * unknown (never zero).
   */
  readonly price: EndpointPrice;
}
