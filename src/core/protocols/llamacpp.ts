import { numberAt, recordAt, stringAt } from '../json';
import type { FramedMessage } from '../stream/framing';
import { inStreamError } from '../stream/httpErrors';
import type { StreamEvent, TimingsEvent } from '../streamEvents';
import type { ProtocolAdapter, ProtocolHttpRequest, StreamDecoder } from './protocol';
import { bearerHeaders, parseJsonObject, promptOf, trimBaseUrl } from './shared';

/** llama.cpp's `timings` object (durations in ms) as a normalised timings event. */
export function llamaCppTimings(timings: Record<string, unknown>): TimingsEvent {
  return {
    kind: 'timings',
    origin: 'llamacpp',
    promptTokens: numberAt(timings, 'prompt_n'),
    promptMs: numberAt(timings, 'prompt_ms'),
    predictedTokens: numberAt(timings, 'predicted_n'),
    predictedMs: numberAt(timings, 'predicted_ms'),
    cachedPromptTokens: numberAt(timings, 'cache_n'),
  };
}

/** llama.cpp's `stop_type` in the words the rest of the extension uses. */
function finishReasonOf(stopType: string | undefined): string {
  if (stopType === 'limit') return 'length';
  if (stopType === 'eos' || stopType === 'word') return 'stop';
  return stopType ?? 'stop';
}

/**
 * llama.cpp server `/infill`: native fill-in-the-middle. Each event is `{"content", "tokens", "stop": false}`; the last
 * one has `stop: true` and `timings`, and there is NO `[DONE]`.
 */
export const llamaCppInfillProtocol: ProtocolAdapter = {
  id: 'llamacpp-infill',
  framing: 'sse',
  buildRequest(target, request): ProtocolHttpRequest {
    const body: Record<string, unknown> = {
      input_prefix: promptOf(request),
      input_suffix: request.suffix ?? '',
      input_extra: (request.extraContext ?? []).map((chunk) => ({ filename: chunk.filename, text: chunk.text })),
      n_predict: request.maxTokens,
      stream: true,
      // Reuse the KV cache of the previous request: consecutive completions share most of their prompt.
      cache_prompt: true,
    };
    if (request.temperature !== undefined) body['temperature'] = request.temperature;
    if (request.stop && request.stop.length > 0) body['stop'] = request.stop;
    return {
      url: `${trimBaseUrl(target.baseUrl)}/infill`,
      headers: bearerHeaders(target),
      body: { ...body, ...request.extraBody },
    };
  },
  createDecoder(): StreamDecoder {
    let finished = false;
    return {
      get finished() {
        return finished;
      },
      decode(message: FramedMessage): readonly StreamEvent[] {
        const data = message.data.trim();
        if (data.length === 0 || data === '[DONE]') return [];
        const chunk = parseJsonObject(data);
        if (chunk['error'] !== undefined && chunk['error'] !== null) throw inStreamError(chunk);
        const events: StreamEvent[] = [];
        const content = stringAt(chunk, 'content');
        const tokenIds = chunk['tokens'];
        if (content) {
          events.push(
            Array.isArray(tokenIds) && tokenIds.length > 0
              ? { kind: 'text', text: content, tokens: tokenIds.length }
              : { kind: 'text', text: content },
          );
        }
        if (chunk['stop'] === true) {
          finished = true;
          events.push({ kind: 'finish', reason: finishReasonOf(stringAt(chunk, 'stop_type')) });
          const timings = recordAt(chunk, 'timings');
          if (timings) events.push(llamaCppTimings(timings));
        }
        return events;
      },
    };
  },
  warmUrl: (target) => `${trimBaseUrl(target.baseUrl)}/health`,
};
