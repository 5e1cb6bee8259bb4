import { isRecord } from '../../core/json';
import type { PlannedEvent } from '../tokenPieces';
import type { SimProtocol, SimServerTimings } from '../simOptions';

/** A generation request as the simulator understood it, whatever protocol it came in. */
export interface ParsedGeneration {
  readonly protocol: SimProtocol;
  readonly model: string | null;
  readonly stream: boolean;
  /** The request's own token cap (`max_tokens`, `n_predict`, `num_predict`), or null when it gives none. */
  readonly maxTokens: number | null;
  readonly stop: readonly string[];
  /** OpenAI `stream_options.include_usage`. */
  readonly includeUsage: boolean;
  /** llama.cpp `cache_prompt` (its default is true). */
  readonly cachePrompt: boolean;
  /**
   * Explicit caching (Anthropic `cache_control`): only `promptText` before this offset is read from or written to the
   * prompt cache (0 when nothing is marked). Absent: the protocol caches any repeated prefix on its own.
   */
  readonly cacheBreakpointChars?: number;
  readonly promptText: string;
  readonly prefix: string;
  readonly suffix: string;
  readonly messages: readonly { readonly role: string; readonly content: string }[];
  /**
   * The expected output (OpenAI `prediction: {type: "content", content}`, predicted outputs); null when the request has
   * none or its protocol has no such field.
   */
  readonly prediction: string | null;
}

/** The outcome of parsing a request body: a generation, or a 400 with the protocol's wording. */
export type ParseResult =
  { readonly ok: true; readonly generation: ParsedGeneration } | { readonly ok: false; readonly message: string };

/** Per-response facts every wire format needs. */
export interface WireContext {
  /** The response id (`chatcmpl-...`, `msg_...`). */
  readonly id: string;
  readonly model: string;
  /** Unix time in seconds (OpenAI `created`). */
  readonly createdS: number;
  /** ISO 8601 wall-clock time (Ollama `created_at`). */
  readonly createdIso: string;
  readonly promptTokens: number;
  /** Prompt tokens served from the simulated prompt cache (llama.cpp `cache_n`). */
  readonly cachedPromptTokens: number;
  /** Prompt tokens written to the cache by this request under explicit caching (Anthropic `cache_creation_input_tokens`). */
  readonly cacheWrittenTokens: number;
  /**
   * The server-wide prompt cache is on: the OpenAI and Anthropic usage report cached tokens in their own fields (off,
   * they keep the shape they had before there was a cache to report).
   */
  readonly reportsPromptCache: boolean;
  readonly includeUsage: boolean;
  readonly sendUsage: boolean;
  readonly roleChunk: boolean;
  /** Provider timings on the OpenAI finish chunk. */
  readonly serverTimings: SimServerTimings;
  /** The server slot generating the answer (llama.cpp `id_slot`). */
  readonly slotId: number;
}

/** How a generation ended, with the server-side figures a real server would report (from the simulator's schedule). */
export interface WireSummary {
  readonly completionTokens: number;
  /** `stop` for a natural end or a stop word, `length` when capped. */
  readonly finish: 'stop' | 'length';
  /** The stop string that ended the text, if one did. */
  readonly stopWord: string | null;
  /** Simulated prefill time, in ms (the TTFT). */
  readonly promptMs: number;
  /** Simulated decode time, in ms: completionTokens / rate. */
  readonly predictedMs: number;
  /** Time from request to last token, in ms. */
  readonly totalMs: number;
  /**
   * How the answer used the request's prediction, or null without one: `accepted` prediction tokens appeared in the
   * answer, `rejected` ones did not (OpenAI bills them inside `completion_tokens`, and the OpenAI wire reports them so).
   */
  readonly prediction: { readonly accepted: number; readonly rejected: number } | null;
}

/** One protocol's stream and body shapes. Every string returned is a complete SSE event or NDJSON line. */
export interface WireFormat {
  readonly contentType: string;
  /** Events that open a stream: with a role chunk they go out at once, otherwise right before the first content. */
  opening(context: WireContext): readonly string[];
  /** One content event; `isFirst` is true for the first one. */
  content(context: WireContext, event: PlannedEvent, isFirst: boolean, tokensSoFar: number): string;
  /** A garbage event in this protocol's framing (the malformed fault). */
  malformed(): string;
  /** Events that close a stream: finish reason, usage, timings, `[DONE]` where the protocol has one. */
  closing(context: WireContext, summary: WireSummary): readonly string[];
  /** The body of a non-streamed response. */
  whole(context: WireContext, text: string, summary: WireSummary): unknown;
}

/** One SSE event with a JSON `data:` line. */
export function sseData(payload: unknown): string {
  return `data: ${JSON.stringify(payload)}\n\n`;
}

/** One SSE event with an `event:` name and a JSON `data:` line (Anthropic). */
export function sseNamed(name: string, payload: unknown): string {
  return `event: ${name}\ndata: ${JSON.stringify(payload)}\n\n`;
}

/** A string field, or '' when absent or not a string. */
export function stringField(body: Readonly<Record<string, unknown>>, key: string): string {
  const value = body[key];
  return typeof value === 'string' ? value : '';
}

/** A finite number field, or null. */
export function numberField(body: Readonly<Record<string, unknown>>, key: string): number | null {
  const value = body[key];
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}

/** Stop strings from a `stop`-like field: a string or an array of strings. */
export function stopStrings(value: unknown): string[] {
  if (typeof value === 'string') return value.length > 0 ? [value] : [];
  if (Array.isArray(value)) return value.filter((item): item is string => typeof item === 'string' && item.length > 0);
  return [];
}

/** Message content as text: a string, or the text parts of an array of content blocks. */
export function contentText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content.map((part) => (isRecord(part) && typeof part['text'] === 'string' ? part['text'] : '')).join('');
}

/** Chat messages from a `messages` array, with their content flattened to text; null when the field is malformed. */
export function chatMessages(value: unknown): { role: string; content: string }[] | null {
  if (!Array.isArray(value)) return null;
  const messages: { role: string; content: string }[] = [];
  for (const item of value) {
    if (!isRecord(item) || typeof item['role'] !== 'string') return null;
    messages.push({ role: item['role'], content: contentText(item['content']) });
  }
  return messages;
}

/** The prompt text of a conversation: each message's content on its own line. */
export function joinMessages(messages: readonly { readonly content: string }[]): string {
  return messages.map((message) => message.content).join('\n');
}
