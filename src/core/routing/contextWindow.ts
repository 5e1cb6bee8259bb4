import type { ResolvedEndpoint } from '../endpoint';
import { isRecord, tryParseJson } from '../json';
import type { HttpResponse, Transport } from '../stream/transport';

/**
 * Where a context-window figure came from:
 * - `endpoint`: the server said so (`/v1/models`, llama.cpp `/props`, Ollama `/api/show`);
 * - `configured`: the endpoint did not say; the setting or preset value stands;
 * - `unknown`: nobody knows (the router then lets the request go and lets the server decide).
 */
export type ContextWindowSource = 'endpoint' | 'configured' | 'unknown';

/** A context window and where it came from. */
export interface ContextWindowInfo {
  /** In tokens; null when unknown. */
  readonly contextWindow: number | null;
  readonly source: ContextWindowSource;
  /** Which answer and field gave it (e.g. `GET /props default_generation_settings.n_ctx`), for logs and the panel. */
  readonly detail: string;
}

/** One figure found in one answer. */
export interface ContextWindowField {
  readonly tokens: number;
  /** The field's path in the answer, e.g. `data[0].meta.n_ctx`. */
  readonly field: string;
  /**
   * True when the figure is the most the model can take, not what the server serves (Ollama's
   * `model_info.*.context_length`): requests then ask for a window (`num_ctx`), see `OLLAMA_REQUESTED_WINDOW`.
   */
  readonly modelMaximum?: boolean;
}

/**
 * The window asked of an Ollama model that has no `num_ctx` of its own, unless the endpoint's `contextWindow` is set:
 * Ollama's default is a few thousand tokens, and asking for the model's maximum (often 128k) would allocate a KV cache
 * of many gigabytes. Asked the same on every request, so the model is never reloaded for a different size.
 */
export const OLLAMA_REQUESTED_WINDOW = 8_192;

/** Larger figures than this are treated as nonsense (no model has a 100M-token window). */
const MAX_PLAUSIBLE_WINDOW = 100_000_000;

/** Each detection request waits at most this long, in ms: detection is background work and must never hang. */
const DEFAULT_DETECT_TIMEOUT_MS = 5_000;

/** Detection answers are read up to this many bytes (a `/props` answer with a chat template is ~10 KB). */
const MAX_ANSWER_BYTES = 1_000_000;

/** A positive whole number of tokens, also from a numeric string; null otherwise. */
function tokensOf(value: unknown): number | null {
  const number = typeof value === 'string' && /^\d+$/.test(value.trim()) ? Number(value) : value;
  if (typeof number !== 'number' || !Number.isInteger(number)) return null;
  return number > 0 && number <= MAX_PLAUSIBLE_WINDOW ? number : null;
}

/** The value at a dotted path inside nested objects. */
function at(value: unknown, path: readonly string[]): unknown {
  let current = value;
  for (const key of path) {
    if (!isRecord(current)) return undefined;
    current = current[key];
  }
  return current;
}

/**
 * Fields of a `/v1/models` entry that hold a context window, best first. llama.cpp's `meta.n_ctx` is the window its
 * slots actually serve (the `-c` flag), so it comes before the model's training length `meta.n_ctx_train`.
 */
const MODEL_ENTRY_FIELDS: readonly (readonly string[])[] = [
  ['meta', 'n_ctx'], // llama.cpp server
  ['max_model_len'], // vLLM, SGLang
  ['context_length'], // OpenRouter, Together, Fireworks, DeepInfra, the simulator
  ['context_window'], // Groq
  ['loaded_context_length'], // LM Studio (the loaded instance)
  ['max_context_length'], // LM Studio, Mistral
  ['top_provider', 'context_length'], // OpenRouter
  ['max_input_tokens'], // Anthropic-style model listings
  ['meta', 'n_ctx_train'], // llama.cpp: the model's training length, when no slot window is given
];

function modelEntries(body: unknown): readonly unknown[] {
  if (Array.isArray(body)) return body;
  if (isRecord(body) && Array.isArray(body['data'])) return body['data'];
  return [];
}

function entryNames(entry: Record<string, unknown>): string[] {
  const names = [entry['id'], entry['name'], entry['model']];
  const aliases = entry['aliases'];
  if (Array.isArray(aliases)) names.push(...aliases);
  return names.filter((name): name is string => typeof name === 'string');
}

/**
 * The context window of `model` in an OpenAI-style `GET /v1/models` answer (`{data:[...]}` or a bare array). The entry
 * whose id, name or alias equals `model` wins; when there is none and the list holds exactly one model (llama.cpp,
 * vLLM serving one model, which answer to any model name), that one is used.
 */
export function contextWindowFromModelsList(body: unknown, model: string): ContextWindowField | null {
  const entries = modelEntries(body);
  let index = entries.findIndex((entry) => isRecord(entry) && entryNames(entry).includes(model));
  if (index < 0 && entries.length === 1) index = 0;
  const entry = entries[index];
  if (!isRecord(entry)) return null;
  for (const path of MODEL_ENTRY_FIELDS) {
    const tokens = tokensOf(at(entry, path));
    if (tokens !== null) return { tokens, field: `data[${index}].${path.join('.')}` };
  }
  return null;
}

/** The window llama.cpp's slots serve, from `GET /props`: `default_generation_settings.n_ctx`, or a top-level `n_ctx`. */
export function contextWindowFromLlamaCppProps(body: unknown): ContextWindowField | null {
  const candidates: readonly (readonly string[])[] = [['default_generation_settings', 'n_ctx'], ['n_ctx']];
  for (const path of candidates) {
    const tokens = tokensOf(at(body, path));
    if (tokens !== null) return { tokens, field: path.join('.') };
  }
  return null;
}

/** `num_ctx` in Ollama's `parameters` text (one `name value` pair per line). */
function numCtxParameter(parameters: unknown): number | null {
  if (typeof parameters !== 'string') return null;
  const match = /^\s*num_ctx\s+(\d+)\s*$/m.exec(parameters);
  return match ? tokensOf(match[1]) : null;
}

/**
 * The context window from Ollama's `POST /api/show`. A `num_ctx` parameter (the Modelfile's setting, which Ollama serves)
 * comes first; otherwise `model_info["<arch>.context_length"]`, the model's maximum (marked `modelMaximum`: without a
 * `num_ctx` Ollama serves its own default window unless a request sets `options.num_ctx`).
 */
export function contextWindowFromOllamaShow(body: unknown): ContextWindowField | null {
  if (!isRecord(body)) return null;
  const numCtx = numCtxParameter(body['parameters']);
  if (numCtx !== null) return { tokens: numCtx, field: 'parameters num_ctx' };
  const info = body['model_info'];
  if (!isRecord(info)) return null;
  const architecture = info['general.architecture'];
  if (typeof architecture === 'string') {
    const tokens = tokensOf(info[`${architecture}.context_length`]);
    if (tokens !== null) return { tokens, field: `model_info.${architecture}.context_length`, modelMaximum: true };
  }
  // Some builds omit general.architecture: take the one `*.context_length` key when there is exactly one.
  const keys = Object.keys(info).filter((key) => key.endsWith('.context_length'));
  const only = keys.length === 1 ? keys[0] : undefined;
  if (only === undefined) return null;
  const tokens = tokensOf(info[only]);
  return tokens === null ? null : { tokens, field: `model_info.${only}`, modelMaximum: true };
}

/** One detection request: where it goes, and how its JSON answer is read. */
interface DetectionProbe {
  readonly method: 'GET' | 'POST';
  readonly url: string;
  readonly body?: string;
  /** Short name for `detail`, e.g. `GET /props`. */
  readonly label: string;
  read(body: unknown): ContextWindowField | null;
}

/** The server root of an OpenAI-style base URL (`http://host:8080/v1` -> `http://host:8080`). */
function rootOf(baseUrl: string): string {
  return baseUrl.replace(/\/+$/, '').replace(/\/v1$/, '');
}

/** The answers to ask, best first, for an endpoint's protocol. */
export function detectionProbesFor(endpoint: Pick<ResolvedEndpoint, 'target'>): DetectionProbe[] {
  const { baseUrl, protocol, model } = endpoint.target;
  const base = baseUrl.replace(/\/+$/, '');
  const models = (url: string, label: string): DetectionProbe => ({
    method: 'GET',
    url,
    label,
    read: (body) => contextWindowFromModelsList(body, model),
  });
  const props = (root: string): DetectionProbe => ({
    method: 'GET',
    url: `${root}/props`,
    label: 'GET /props',
    read: contextWindowFromLlamaCppProps,
  });
  switch (protocol) {
    case 'openai-chat':
    case 'openai-completions':
      // `/props` answers only on llama.cpp; elsewhere it is a cheap 404.
      return [models(`${base}/models`, 'GET /v1/models'), props(rootOf(base))];
    case 'llamacpp-infill':
      return [props(base), models(`${base}/v1/models`, 'GET /v1/models')];
    case 'ollama-generate':
    case 'ollama-chat':
      return [
        {
          method: 'POST',
          url: `${base}/api/show`,
          body: JSON.stringify({ model }),
          label: 'POST /api/show',
          read: contextWindowFromOllamaShow,
        },
      ];
    case 'anthropic':
      return [models(`${base}/v1/models`, 'GET /v1/models')];
  }
}

/** Reads a response body as text, bounded, and always releases the connection. */
async function readBounded(response: HttpResponse): Promise<string> {
  const decoder = new TextDecoder();
  let text = '';
  try {
    for await (const chunk of response.body) {
      text += decoder.decode(chunk, { stream: true });
      if (text.length > MAX_ANSWER_BYTES) return '';
    }
    return text + decoder.decode();
  } finally {
    response.dispose();
  }
}

/** Options of `detectContextWindow`. */
export interface DetectContextWindowOptions {
  readonly signal?: AbortSignal;
  /** Max wait per detection request, in ms. */
  readonly timeoutMs?: number;
}

/**
 * Asks the endpoint for its context window (see `detectionProbesFor`), in order, and returns the first answer. When the
 * endpoint says nothing usable (error status, no field, network failure, timeout) the configured value stands. Never
 * throws except when `signal` aborts (then it rethrows the transport's `aborted` BackendError).
 */
export async function detectContextWindow(
  transport: Transport,
  endpoint: Pick<ResolvedEndpoint, 'target' | 'contextWindow'>,
  options: DetectContextWindowOptions = {},
): Promise<ContextWindowInfo> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_DETECT_TIMEOUT_MS;
  const headers: Record<string, string> = { accept: 'application/json' };
  const key = endpoint.target.apiKey;
  if (key !== undefined && key !== '') {
    if (endpoint.target.protocol === 'anthropic') {
      headers['x-api-key'] = key;
      headers['anthropic-version'] = '2023-06-01';
    } else {
      headers['authorization'] = `Bearer ${key}`;
    }
  }
  for (const probe of detectionProbesFor(endpoint)) {
    const probeHeaders = probe.body === undefined ? headers : { ...headers, 'content-type': 'application/json' };
    try {
      const response = await transport.request({
        url: probe.url,
        method: probe.method,
        headers: probeHeaders,
        body: probe.body,
        signal: options.signal,
        headersTimeoutMs: timeoutMs,
        idleTimeoutMs: timeoutMs,
      });
      if (response.status < 200 || response.status >= 300) {
        // Drained rather than disposed: the connection stays reusable, and an unread body is never torn down.
        await readBounded(response);
        continue;
      }
      const found = probe.read(tryParseJson(await readBounded(response)));
      if (found !== null && found.modelMaximum === true) {
        // Served as asked: the configured window, else OLLAMA_REQUESTED_WINDOW, never more than the model takes.
        const asked = Math.min(found.tokens, endpoint.contextWindow ?? OLLAMA_REQUESTED_WINDOW);
        const why =
          endpoint.contextWindow === null
            ? 'the default asked of Ollama; set contextWindow for more'
            : 'the configured contextWindow';
        return {
          contextWindow: asked,
          source: 'endpoint',
          detail: `${probe.label} ${found.field} ${found.tokens} is the model's maximum; requests ask for num_ctx ${asked} (${why})`,
        };
      }
      if (found !== null) {
        return { contextWindow: found.tokens, source: 'endpoint', detail: `${probe.label} ${found.field}` };
      }
    } catch (error) {
      if (options.signal?.aborted === true) throw error;
      // A failed probe is not an error of the extension: the next probe, or the configured value, stands.
    }
  }
  if (endpoint.contextWindow !== null) {
    return {
      contextWindow: endpoint.contextWindow,
      source: 'configured',
      detail: 'the endpoint did not say; configured value',
    };
  }
  return { contextWindow: null, source: 'unknown', detail: 'the endpoint did not say and none is configured' };
}
