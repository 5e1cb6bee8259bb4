import { numberAt, recordAt, stringAt } from '../json';
import type { FramedMessage } from '../stream/framing';
import { inStreamError } from '../stream/httpErrors';
import type { StreamEvent } from '../streamEvents';
import type { ProtocolAdapter, ProtocolHttpRequest, StreamDecoder } from './protocol';
import { messagesOf, parseJsonObject, trimBaseUrl } from './shared';

/** The API version this decoder was written against. */
const ANTHROPIC_VERSION = '2023-06-01';

/**
 * Anthropic `/v1/messages`: named SSE events (`message_start`, `content_block_delta`, `message_delta`, `message_stop`,
 * `ping`, `error`). Input tokens come in `message_start`, output tokens in `message_delta`.
 */
export const anthropicProtocol: ProtocolAdapter = {
  id: 'anthropic',
  framing: 'sse',
  buildRequest(target, request): ProtocolHttpRequest {
    const all = messagesOf(request);
    const system = all
      .filter((message) => message.role === 'system')
      .map((message) => message.content)
      .join('\n\n');
    const body: Record<string, unknown> = {
      model: target.model,
      max_tokens: request.maxTokens,
      stream: true,
      messages: all
        .filter((message) => message.role !== 'system')
        .map((message) => ({ role: message.role, content: message.content })),
    };
    if (system) body['system'] = system;
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
            promptTokens = numberAt(usage, 'input_tokens');
            cachedPromptTokens = numberAt(usage, 'cache_read_input_tokens');
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
