import type { EndpointTarget, GenerationRequest } from '../endpoint';
import { BackendError } from '../errors';
import { frameMessages } from './framing';
import { httpError } from './httpErrors';
import { protocolFor } from '../protocols/registry';
import { systemScheduler, type ScheduledTask, type Scheduler } from '../scheduler';
import { OutputBudget, capBodyBytes, streamLimitsFor } from './streamLimits';
import type { StreamEvent } from '../streamEvents';
import type { HttpResponse, Transport } from './transport';

/** Per-request options of `generate`. */
export interface GenerateOptions {
  readonly signal?: AbortSignal;
  /** Max wait for response headers, in ms (the transport's default when absent). */
  readonly headersTimeoutMs?: number;
  /** Max silence between chunks, in ms (the transport's default when absent). */
  readonly idleTimeoutMs?: number;
  /** Called with the response headers as soon as they arrive (rate-limit headroom, request ids). */
  readonly onHeaders?: (headers: Readonly<Record<string, string>>) => void;
  /**
   * Wall time for the whole request, in ms (see `DEFAULT_DEADLINE_MS` per task): past it the request is stopped and
   * fails as `timeout` with its text kept. None when absent.
   */
  readonly deadlineMs?: number;
  /** Timers for the deadline (defaults to `setTimeout`). */
  readonly scheduler?: Scheduler;
}

/** Error bodies are read up to this many bytes: enough for any JSON error, bounded against a misbehaving server. */
const MAX_ERROR_BODY_BYTES = 16_384;

async function readErrorBody(response: HttpResponse): Promise<string> {
  const decoder = new TextDecoder();
  let text = '';
  try {
    for await (const chunk of response.body) {
      text += decoder.decode(chunk, { stream: true });
      if (text.length >= MAX_ERROR_BODY_BYTES) break;
    }
  } catch {
    // A body that breaks while we read the error is not worth a second error: the status already says enough.
  } finally {
    response.dispose();
  }
  return text;
}

/**
 * Streams one generation from one endpoint as common `StreamEvent`s. Throws a `BackendError` told apart by `reason`;
 * its `partialText` holds every bit of text that had arrived, so nothing already streamed is lost.
 */
export async function* generate(
  transport: Transport,
  target: EndpointTarget,
  request: GenerationRequest,
  options: GenerateOptions = {},
): AsyncGenerator<StreamEvent, void, undefined> {
  const protocol = protocolFor(target.protocol);
  const httpRequest = protocol.buildRequest(target, request);
  const body = JSON.stringify(httpRequest.body);
  // Limits against a server that floods, never ends an event, or ignores max tokens; each is O(1) per event or chunk.
  const limits = streamLimitsFor(request.maxTokens, body.length);
  const budget = new OutputBudget(limits.maxOutputTokens, request.maxTokens);
  // One signal for the transport: the caller's cancel, or the deadline (told apart afterwards by `deadlineHit`).
  const controller = new AbortController();
  const callerSignal = options.signal;
  const onCallerAbort = (): void => controller.abort();
  if (callerSignal?.aborted) controller.abort();
  else callerSignal?.addEventListener('abort', onCallerAbort, { once: true });
  let deadlineHit = false;
  const deadlineMs = options.deadlineMs;
  const deadline: ScheduledTask | null =
    deadlineMs === undefined
      ? null
      : (options.scheduler ?? systemScheduler).schedule(deadlineMs, () => {
          deadlineHit = true;
          controller.abort();
        });
  const cancelled = (cause?: unknown): BackendError =>
    deadlineHit && !callerSignal?.aborted
      ? new BackendError(
          'timeout',
          `The answer was not complete after ${Math.round((deadlineMs ?? 0) / 1000)} s, the limit for this task; the request was stopped.`,
          { cause },
        )
      : new BackendError('aborted', 'The request was cancelled.', { cause });
  let partialText = '';
  let response: HttpResponse | null = null;
  try {
    response = await transport.request({
      url: httpRequest.url,
      method: 'POST',
      headers: request.extraHeaders ? { ...request.extraHeaders, ...httpRequest.headers } : httpRequest.headers,
      body,
      signal: controller.signal,
      headersTimeoutMs: options.headersTimeoutMs,
      idleTimeoutMs: options.idleTimeoutMs,
    });
    options.onHeaders?.(response.headers);
    if (response.status < 200 || response.status >= 300) {
      const status = response.status;
      const headers = response.headers;
      const bodyText = await readErrorBody(response);
      throw httpError(status, headers, bodyText);
    }
    const decoder = protocol.createDecoder();
    const framed = frameMessages(capBodyBytes(response.body, limits.maxStreamBytes), protocol.framing, {
      maxMessageChars: limits.maxMessageChars,
    });
    for await (const batch of framed) {
      for (const message of batch) {
        for (const event of decoder.decode(message)) {
          if (event.kind === 'text') partialText += event.text;
          yield event;
          // Checked after the event went out, so that `partialText` is exactly the text the caller received.
          budget.add(event);
        }
      }
      // No early exit on the end marker: the usage chunk can follow `finish_reason`, and leaving a body unread would
      // destroy a connection that is about to be reusable.
    }
    if (!decoder.finished) {
      if (controller.signal.aborted) throw cancelled();
      throw new BackendError('network', 'The connection closed before the answer was complete.');
    }
  } catch (error) {
    const backendError =
      controller.signal.aborted && (!(error instanceof BackendError) || error.reason === 'aborted')
        ? cancelled(error)
        : error instanceof BackendError
          ? error
          : new BackendError(
              'network',
              `The stream failed: ${error instanceof Error ? error.message : String(error)}`,
              { cause: error },
            );
    backendError.partialText = partialText;
    throw backendError;
  } finally {
    deadline?.cancel();
    callerSignal?.removeEventListener('abort', onCallerAbort);
    // Also stops the body when the stream ended early (a cap, the caller's break): the connection is not reusable then.
    response?.dispose();
  }
}

/** The URL to warm for an endpoint (a cheap GET on its origin). */
export function warmUrlFor(target: EndpointTarget): string {
  return protocolFor(target.protocol).warmUrl(target);
}
