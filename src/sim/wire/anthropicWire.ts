import { isRecord } from '../../core/json';
import type { PlannedEvent } from '../tokenPieces';
import {
  chatMessages,
  contentText,
  joinMessages,
  numberField,
  sseNamed,
  stopStrings,
  stringField,
  type ParseResult,
  type WireContext,
  type WireFormat,
  type WireSummary,
} from './wireFormat';

/**
 * Where the last `cache_control` breakpoint ends in the prompt text (`joinMessages` of the system text and the
 * messages), or 0 when no block is marked: Anthropic caches only up to a breakpoint.
 */
function cacheBreakpointChars(parts: readonly unknown[]): number {
  let offset = 0;
  let breakpoint = 0;
  parts.forEach((content, position) => {
    if (position > 0) offset += 1;
    if (!Array.isArray(content)) {
      offset += contentText(content).length;
      return;
    }
    for (const block of content) {
      offset += contentText([block]).length;
      if (isRecord(block) && isRecord(block['cache_control'])) breakpoint = offset;
    }
  });
  return breakpoint;
}

/** Parses an Anthropic `POST /v1/messages` body. Like the real API, `max_tokens` is required. */
export function parseAnthropic(body: Readonly<Record<string, unknown>>): ParseResult {
  const messages = chatMessages(body['messages']);
  if (messages === null) return { ok: false, message: 'messages: Field required' };
  const maxTokens = numberField(body, 'max_tokens');
  if (maxTokens === null) return { ok: false, message: 'max_tokens: Field required' };
  const system = contentText(body['system']);
  const all = system.length > 0 ? [{ role: 'system', content: system }, ...messages] : messages;
  const last = messages[messages.length - 1];
  return {
    ok: true,
    generation: {
      protocol: 'anthropic',
      model: stringField(body, 'model') || null,
      stream: body['stream'] === true,
      maxTokens,
      stop: stopStrings(body['stop_sequences']),
      includeUsage: true,
      cachePrompt: false,
      cacheBreakpointChars: cacheBreakpointChars([
        ...(system.length > 0 ? [body['system']] : []),
        ...(Array.isArray(body['messages'])
          ? body['messages'].map((item) => (isRecord(item) ? item['content'] : ''))
          : []),
      ]),
      promptText: joinMessages(all),
      prefix: last?.content ?? '',
      suffix: '',
      messages: all,
      prediction: null,
    },
  };
}

/**
 * Anthropic's input usage: `input_tokens` counts only what was neither read from the cache
 * (`cache_read_input_tokens`) nor written to it (`cache_creation_input_tokens`).
 */
function inputUsage(context: WireContext): Record<string, number> {
  if (!context.reportsPromptCache) return { input_tokens: context.promptTokens };
  return {
    input_tokens: context.promptTokens - context.cachedPromptTokens - context.cacheWrittenTokens,
    cache_creation_input_tokens: context.cacheWrittenTokens,
    cache_read_input_tokens: context.cachedPromptTokens,
  };
}

function stopReason(summary: WireSummary): string {
  if (summary.finish === 'length') return 'max_tokens';
  return summary.stopWord === null ? 'end_turn' : 'stop_sequence';
}

/** Anthropic messages: named SSE events from `message_start` to `message_stop`. */
export const anthropicWire: WireFormat = {
  contentType: 'text/event-stream; charset=utf-8',
  opening(context) {
    return [
      sseNamed('message_start', {
        type: 'message_start',
        message: {
          id: context.id,
          type: 'message',
          role: 'assistant',
          model: context.model,
          content: [],
          stop_reason: null,
          stop_sequence: null,
          usage: { ...inputUsage(context), output_tokens: 1 },
        },
      }),
      sseNamed('content_block_start', {
        type: 'content_block_start',
        index: 0,
        content_block: { type: 'text', text: '' },
      }),
      sseNamed('ping', { type: 'ping' }),
    ];
  },
  content(_context, event: PlannedEvent) {
    return sseNamed('content_block_delta', {
      type: 'content_block_delta',
      index: 0,
      delta: { type: 'text_delta', text: event.text },
    });
  },
  malformed() {
    return 'event: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":\n\n';
  },
  closing(_context, summary) {
    return [
      sseNamed('content_block_stop', { type: 'content_block_stop', index: 0 }),
      sseNamed('message_delta', {
        type: 'message_delta',
        delta: { stop_reason: stopReason(summary), stop_sequence: summary.stopWord },
        usage: { output_tokens: summary.completionTokens },
      }),
      sseNamed('message_stop', { type: 'message_stop' }),
    ];
  },
  whole(context, text, summary) {
    return {
      id: context.id,
      type: 'message',
      role: 'assistant',
      model: context.model,
      content: [{ type: 'text', text }],
      stop_reason: stopReason(summary),
      stop_sequence: summary.stopWord,
      usage: { ...inputUsage(context), output_tokens: summary.completionTokens },
    };
  },
};
