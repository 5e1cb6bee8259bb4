import { numberAt, recordAt, stringAt } from '../json';
import type { FramedMessage } from '../stream/framing';
import { inStreamError } from '../stream/httpErrors';
import type { StreamEvent } from '../streamEvents';
import type { ProtocolAdapter, ProtocolHttpRequest, StreamDecoder } from './protocol';
import { messagesOf, parseJsonObject, trimBaseUrl } from './shared';

/** The API version this decoder was written against. */
const ANTHROPIC_VERSION = '2023-06-01';

/** Anthropic's cache breakpoint: everything up to and including the block that carries it is cached for 5 minutes. */
const EPHEMERAL = { type: 'ephemeral' } as const;

type AnthropicBlock = { type: 'text'; text: string; cache_control?: typeof EPHEMERAL };

/**
 * The system text and the messages with one cache breakpoint where the first `prefixChars` characters end (counted over
 * the system messages' contents, then the others', as the API orders them). A breakpoint inside a message splits it into
 * two text blocks (the same text); one inside the system text is not placed (the prefix is then too short to matter;
 * a prefix below the model's minimum is ignored by the API anyway).
 */
function withCacheBreakpoint(
  systemParts: readonly string[],
  messages: readonly { readonly role: string; readonly content: string }[],
  prefixChars: number,
): { system: string | AnthropicBlock[]; messages: { role: string; content: string | AnthropicBlock[] }[] } {
  const systemText = systemParts.join('\n\n');
  const plain = messages.map((message): { role: string; content: string | AnthropicBlock[] } => ({
    role: message.role,
    content: message.content,
  }));
  let left = prefixChars - systemParts.reduce((sum, part) => sum + part.length, 0);
  if (prefixChars <= 0 || left < 0) return { system: systemText, messages: plain };
  if (left === 0) {
    const system = systemText.length > 0 ? [{ type: 'text' as const, text: systemText, cache_control: EPHEMERAL }] : '';
    return { system, messages: plain };
  }
  for (const [position, message] of messages.entries()) {
    if (left > message.content.length) {
      left -= message.content.length;
      continue;
    }
    const head: AnthropicBlock = { type: 'text', text: message.content.slice(0, left), cache_control: EPHEMERAL };
    const rest = message.content.slice(left);
    plain[position] = { role: message.role, content: rest.length > 0 ? [head, { type: 'text', text: rest }] : [head] };
    break;
  }
  // A prefix longer than the prompt marks nothing: the request is not what its builder measured.
  return { system: systemText, messages: plain };
}

/**
 * Anthropic `/v1/messages`: named SSE events (`message_start`, `content_block_delta`, `message_delta`, `message_stop`,
 * `ping`, `error`). Input tokens come in `message_start`, output tokens in `message_delta`.
 */
export const anthropicProtocol: ProtocolAdapter = {
  id: 'anthropic',
  framing: 'sse',
  buildRequest(target, request): ProtocolHttpRequest {
    const all = messagesOf(request);
    const marked = withCacheBreakpoint(
      all.filter((message) => message.role === 'system').map((message) => message.content),
      all.filter((message) => message.role !== 'system'),
      request.cacheablePrefixChars ?? 0,
    );
    const body: Record<string, unknown> = {
      model: target.model,
      max_tokens: request.maxTokens,
      stream: true,
      messages: marked.messages,
    };
    if (marked.system.length > 0) body['system'] = marked.system;
    if (request.temperature !== undefined) body['temperature'] = request.temperature;
    if (request.stop && request.stop.length > 0) body['stop_sequences'] = request.stop;
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      'anthropic-version': ANTHROPIC_VERSION,
    };
    if (target.apiKey) headers['x-api-key'] = target.apiKey;
    return { url: `${trimBaseUrl(target.baseUrl)}/v1/messages`, headers, body: { ...body, ...request.extraBody } };
  },
  createDecoder(): StreamDecoder {
    let finished = false;
    let promptTokens: number | null = null;
    let cachedPromptTokens: number | null = null;
    let cacheWritePromptTokens: number | null = null;
    return {
      get finished() {
        return finished;
      },
      decode(message: FramedMessage): readonly StreamEvent[] {
        if (message.data.trim().length === 0) return [];
        const payload = parseJsonObject(message.data);
        const type = stringAt(payload, 'type') ?? message.event;
        switch (type) {
          case 'message_start': {
            const usage = recordAt(recordAt(payload, 'message'), 'usage');
            // `input_tokens` counts only what came after the last cache breakpoint: the prompt is all three together,
            // and what was read from the cache is its cached part (written tokens are billed, not served, from it).
            const uncached = numberAt(usage, 'input_tokens');
            const read = numberAt(usage, 'cache_read_input_tokens');
            const written = numberAt(usage, 'cache_creation_input_tokens');
            promptTokens = uncached === null ? null : uncached + (read ?? 0) + (written ?? 0);
            cachedPromptTokens = read;
            cacheWritePromptTokens = written;
            return [];
          }
          case 'content_block_delta': {
            const delta = recordAt(payload, 'delta');
            const deltaType = stringAt(delta, 'type');
            if (deltaType === 'text_delta') {
              const text = stringAt(delta, 'text');
              return text ? [{ kind: 'text', text }] : [];
            }
            if (deltaType === 'thinking_delta') {
              const thinking = stringAt(delta, 'thinking');
              return thinking ? [{ kind: 'reasoning', text: thinking }] : [];
            }
            return [];
          }
          case 'message_delta': {
            const events: StreamEvent[] = [];
            const stopReason = stringAt(recordAt(payload, 'delta'), 'stop_reason');
            if (stopReason) events.push({ kind: 'finish', reason: stopReason });
            const usage = recordAt(payload, 'usage');
            if (usage) {
              events.push({
                kind: 'usage',
                promptTokens,
                completionTokens: numberAt(usage, 'output_tokens'),
                cachedPromptTokens,
                cacheWritePromptTokens,
                // The Messages API has no predicted outputs.
                acceptedPredictionTokens: null,
                rejectedPredictionTokens: null,
              });
            }
            return events;
          }
          case 'message_stop':
            finished = true;
            return [];
          case 'error':
            throw inStreamError(payload);
          default:
            // `ping`, `content_block_start`, `content_block_stop` and future event types carry nothing we need.
            return [];
        }
      },
    };
  },
  warmUrl: (target) => `${trimBaseUrl(target.baseUrl)}/v1/models`,
};
