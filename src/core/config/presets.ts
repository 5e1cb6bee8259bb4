import type { BackendRole, FimSupport, ProtocolId } from '../endpoint';

/** Whether an endpoint needs an API key: cloud providers always; local servers only when started with one. */
export type ApiKeyNeed = 'required' | 'optional' | 'none';

/** A provider preset: what a person picks before pasting a key. Every field is a documented fact or null. */
export interface BackendPreset {
  /** Stable id used in settings (`"preset": "cerebras"`). Never rename one: settings refer to it. */
  readonly id: string;
  /** The provider's name as people know it. */
  readonly name: string;
  /** The base URL as the provider documents it (OpenAI-compatible: ends in `/v1`; llama.cpp, Ollama, Anthropic: root). */
  readonly baseUrl: string;
  readonly protocol: ProtocolId;
  /**
   * A sensible model to start with, or null where the server serves whatever it was started with (vLLM, SGLang,
   * LM Studio): then the person must name it. Provider catalogues change; the model is always editable.
   */
  readonly defaultModel: string | null;
  /** Context window of the default model in tokens; null when it varies (by tier, by model) and is detected later. */
  readonly contextWindow: number | null;
  readonly fim: FimSupport;
  /**
   * True only where the provider documents OpenAI-style `prediction: {type: "content", content}` on chat completions
   * (predicted outputs); each true one names its page. A server that does not take it may refuse the field, so a
   * guess is false: a person can still turn it on per entry with `"predictedOutputs": true`.
   */
  readonly predictedOutputs: boolean;
  readonly apiKey: ApiKeyNeed;
  /** Where to get a key, or null when none is needed. */
  readonly keyUrl: string | null;
  /** The role it suits best; offered first in that role's picker. */
  readonly suggestedRole: BackendRole;
  /** Runs on the person's own machine (no key, loopback URL). */
  readonly local: boolean;
  /** One line shown in the picker. */
  readonly detail: string;
}

/**
 * The presets, in picker order: burst providers first, then general ones, then local servers.
 * Base URLs and key pages come from each provider's own documentation. Context windows are given only where the
 * provider documents one number for the default model; elsewhere null, and the endpoint's own answer (`/v1/models`,
 * `/props`, `/api/show`) fills it in (issue 7).
 */
export const PRESETS: readonly BackendPreset[] = [
  {
    id: 'cerebras',
    name: 'Cerebras',
    baseUrl: 'https://api.cerebras.ai/v1',
    protocol: 'openai-chat',
    defaultModel: 'gpt-oss-120b',
    // The free tier has a smaller window than paid tiers.
    contextWindow: null,
    fim: 'chat',
    // Predicted outputs: inference-docs.cerebras.ai/capabilities/predicted-outputs (public preview; gpt-oss-120b and
    // zai-glm-4.7).
    predictedOutputs: true,
    apiKey: 'required',
    keyUrl: 'https://cloud.cerebras.ai',
    suggestedRole: 'burst',
    local: false,
    detail: 'Wafer-scale inference, thousands of tokens/s.',
  },
  {
    id: 'groq',
    name: 'Groq',
    baseUrl: 'https://api.groq.com/openai/v1',
    protocol: 'openai-chat',
    defaultModel: 'llama-3.1-8b-instant',
    contextWindow: null,
    fim: 'chat',
    // Groq's OpenAI-compatibility page does not list `prediction`.
    predictedOutputs: false,
    apiKey: 'required',
    keyUrl: 'https://console.groq.com/keys',
    suggestedRole: 'burst',
    local: false,
    detail: 'LPU inference, OpenAI-compatible.',
  },
  {
    id: 'sambanova',
    name: 'SambaNova',
    baseUrl: 'https://api.sambanova.ai/v1',
    protocol: 'openai-chat',
    defaultModel: 'Meta-Llama-3.3-70B-Instruct',
    contextWindow: null,
    fim: 'chat',
    // SambaNova's chat completions reference does not list `prediction`.
    predictedOutputs: false,
    apiKey: 'required',
    keyUrl: 'https://cloud.sambanova.ai/apis',
    suggestedRole: 'burst',
    local: false,
    detail: 'RDU inference, OpenAI-compatible.',
  },
  {
    id: 'openrouter',
    name: 'OpenRouter',
    baseUrl: 'https://openrouter.ai/api/v1',
    protocol: 'openai-chat',
    defaultModel: 'openai/gpt-oss-120b',
    contextWindow: null,
    fim: 'chat',
    // Not documented as a parameter OpenRouter passes on.
    predictedOutputs: false,
    apiKey: 'required',
    keyUrl: 'https://openrouter.ai/keys',
    suggestedRole: 'burst',
    local: false,
    detail: 'One key for many providers; /v1/models reports each context length.',
  },
  {
    id: 'together',
    name: 'Together AI',
    baseUrl: 'https://api.together.xyz/v1',
    protocol: 'openai-chat',
    defaultModel: 'openai/gpt-oss-120b',
    contextWindow: null,
    fim: 'chat',
    predictedOutputs: false,
    apiKey: 'required',
    keyUrl: 'https://api.together.ai/settings/api-keys',
    suggestedRole: 'burst',
    local: false,
    detail: 'Open models, OpenAI-compatible.',
  },
  {
    id: 'fireworks',
    name: 'Fireworks AI',
    baseUrl: 'https://api.fireworks.ai/inference/v1',
    protocol: 'openai-chat',
    defaultModel: 'accounts/fireworks/models/gpt-oss-120b',
    contextWindow: null,
    fim: 'chat',
    // Predicted outputs: docs.fireworks.ai/guides/predicted-outputs (the prediction counts against max_tokens).
    predictedOutputs: true,
    apiKey: 'required',
    keyUrl: 'https://fireworks.ai/account/api-keys',
    suggestedRole: 'burst',
    local: false,
    detail: 'Open models, OpenAI-compatible.',
  },
  {
    id: 'deepseek',
    name: 'DeepSeek',
    // DeepSeek serves fill-in-the-middle (`/completions` with `suffix`) only under its `/beta` base URL, which also
    // serves chat; its documented root is https://api.deepseek.com.
    baseUrl: 'https://api.deepseek.com/beta',
    protocol: 'openai-chat',
    defaultModel: 'deepseek-chat',
    contextWindow: null,
    fim: 'openai-suffix',
    predictedOutputs: false,
    apiKey: 'required',
    keyUrl: 'https://platform.deepseek.com/api_keys',
    suggestedRole: 'burst',
    local: false,
    detail: 'DeepSeek chat with native fill-in-the-middle (beta endpoint).',
  },
  {
    id: 'codestral',
    name: 'Mistral Codestral',
    // The Codestral endpoint takes a Codestral key (console: Codestral section); a La Plateforme key uses `mistral`.
    baseUrl: 'https://codestral.mistral.ai/v1',
    protocol: 'openai-chat',
    defaultModel: 'codestral-latest',
    contextWindow: null,
    fim: 'mistral-fim',
    // Mistral documents predicted outputs for La Plateforme models, not for this Codestral-key endpoint.
    predictedOutputs: false,
    apiKey: 'required',
    keyUrl: 'https://console.mistral.ai/codestral',
    suggestedRole: 'burst',
    local: false,
    detail: 'Codestral with native fill-in-the-middle (/v1/fim/completions), Codestral key.',
  },
  {
    id: 'mistral',
    name: 'Mistral (La Plateforme)',
    baseUrl: 'https://api.mistral.ai/v1',
    protocol: 'openai-chat',
    defaultModel: 'codestral-latest',
    contextWindow: null,
    fim: 'mistral-fim',
    // Predicted outputs: docs.mistral.ai/capabilities/predicted-outputs (codestral-2501, mistral-large-2411).
    predictedOutputs: true,
    apiKey: 'required',
    keyUrl: 'https://console.mistral.ai/api-keys',
    suggestedRole: 'burst',
    local: false,
    detail: 'Mistral models incl. Codestral FIM, La Plateforme key.',
  },
  {
    id: 'minimax',
    name: 'MiniMax',
    baseUrl: 'https://api.minimax.io/v1',
    protocol: 'openai-chat',
    defaultModel: 'MiniMax-M2.7',
    // MiniMax documents 204,800 tokens for every M2.x model.
    contextWindow: 204_800,
    fim: 'chat',
    predictedOutputs: false,
    apiKey: 'required',
    keyUrl: 'https://platform.minimax.io/user-center/basic-information/interface-key',
    suggestedRole: 'longContext',
    local: false,
    detail: 'Long-context reasoning models (international platform).',
  },
  {
    id: 'xiaomi-mimo',
    name: 'Xiaomi MiMo',
    baseUrl: 'https://api.xiaomimimo.com/v1',
    protocol: 'openai-chat',
    defaultModel: 'mimo-v2.5-pro',
    contextWindow: null,
    fim: 'chat',
    predictedOutputs: false,
    apiKey: 'required',
    keyUrl: 'https://platform.xiaomimimo.com/#/console/api-keys',
    suggestedRole: 'longContext',
    local: false,
    detail: 'MiMo models, OpenAI-compatible (thinking on by default).',
  },
  {
    id: 'openai',
    name: 'OpenAI',
    baseUrl: 'https://api.openai.com/v1',
    protocol: 'openai-chat',
    defaultModel: 'gpt-4.1-mini',
    // OpenAI documents 1,047,576 tokens for the GPT-4.1 family.
    contextWindow: 1_047_576,
    fim: 'chat',
    // Predicted outputs: OpenAI's Predicted Outputs guide (gpt-4o, gpt-4o-mini and the gpt-4.1 family).
    predictedOutputs: true,
    apiKey: 'required',
    keyUrl: 'https://platform.openai.com/api-keys',
    suggestedRole: 'longContext',
    local: false,
    detail: 'OpenAI models; a good long-context fallback.',
  },
  {
    id: 'anthropic',
    name: 'Anthropic',
    baseUrl: 'https://api.anthropic.com',
    protocol: 'anthropic',
    defaultModel: 'claude-sonnet-4-5',
    contextWindow: 200_000,
    fim: 'chat',
    predictedOutputs: false,
    apiKey: 'required',
    keyUrl: 'https://console.anthropic.com/settings/keys',
    suggestedRole: 'longContext',
    local: false,
    detail: 'Claude via the Messages API; a good long-context fallback.',
  },
  {
    id: 'ollama',
    name: 'Ollama',
    baseUrl: 'http://127.0.0.1:11434',
    protocol: 'ollama-generate',
    defaultModel: 'qwen2.5-coder:1.5b-base',
    // Ollama reports the loaded model's window at /api/show.
    contextWindow: null,
    fim: 'ollama-suffix',
    predictedOutputs: false,
    apiKey: 'none',
    keyUrl: null,
    suggestedRole: 'burst',
    local: true,
    detail: 'Local models; fill-in-the-middle through /api/generate with suffix.',
  },
  {
    id: 'llamacpp',
    name: 'llama.cpp server',
    baseUrl: 'http://127.0.0.1:8080',
    protocol: 'llamacpp-infill',
    // llama-server serves the one model it was started with and ignores the name.
    defaultModel: 'default',
    contextWindow: null,
    fim: 'llamacpp-infill',
    predictedOutputs: false,
    apiKey: 'optional',
    keyUrl: null,
    suggestedRole: 'burst',
    local: true,
    detail: 'llama-server with /infill; a key only when started with --api-key.',
  },
  {
    id: 'vllm',
    name: 'vLLM',
    baseUrl: 'http://127.0.0.1:8000/v1',
    protocol: 'openai-chat',
    defaultModel: null,
    contextWindow: null,
    fim: 'auto',
    // vLLM's OpenAI server does not take `prediction` (its feature requests were closed unimplemented).
    predictedOutputs: false,
    apiKey: 'optional',
    keyUrl: null,
    suggestedRole: 'burst',
    local: true,
    detail: 'vLLM OpenAI-compatible server (default port 8000); name the model it serves.',
  },
  {
    id: 'sglang',
    name: 'SGLang',
    baseUrl: 'http://127.0.0.1:30000/v1',
    protocol: 'openai-chat',
    defaultModel: null,
    contextWindow: null,
    fim: 'auto',
    predictedOutputs: false,
    apiKey: 'optional',
    keyUrl: null,
    suggestedRole: 'burst',
    local: true,
    detail: 'SGLang OpenAI-compatible server (default port 30000); name the model it serves.',
  },
  {
    id: 'lmstudio',
    name: 'LM Studio',
    baseUrl: 'http://127.0.0.1:1234/v1',
    protocol: 'openai-chat',
    defaultModel: null,
    contextWindow: null,
    fim: 'auto',
    predictedOutputs: false,
    apiKey: 'none',
    keyUrl: null,
    suggestedRole: 'burst',
    local: true,
    detail: 'LM Studio local server (default port 1234); name the loaded model.',
  },
];

/** The preset with `id`, or undefined. */
export function findPreset(id: string): BackendPreset | undefined {
  return PRESETS.find((preset) => preset.id === id);
}

/** Every preset id, for validation and the package.json enum. */
export function presetIds(): readonly string[] {
  return PRESETS.map((preset) => preset.id);
}
