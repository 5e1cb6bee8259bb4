import type { EndpointTarget, GenerationRequest } from './endpoint';
import { BackendError } from './errors';
import { frameMessages } from './framing';
import { httpError } from './httpErrors';
import { protocolFor } from './protocols/registry';
import type { StreamEvent } from './streamEvents';
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
  let partialText = '';
  let response: HttpResponse | null = null;
  try {
    response = await transport.request({
      url: httpRequest.url,
      method: 'POST',
      headers: request.extraHeaders ? { ...request.extraHeaders, ...httpRequest.headers } : httpRequest.headers,
      body: JSON.stringify(httpRequest.body),
      signal: options.signal,
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
    for await (const batch of frameMessages(response.body, protocol.framing)) {
      for (const message of batch) {
        for (const event of decoder.decode(message)) {
          if (event.kind === 'text') partialText += event.text;
          yield event;
        }
      }
      // No early exit on the end marker: the usage chunk can follow `finish_reason`, and leaving a body unread would
      // destroy a connection that is about to be reusable.
    }
    if (!decoder.finished) {
      if (options.signal?.aborted) throw new BackendError('aborted', 'The request was cancelled.');
      throw new BackendError('network', 'The connection closed before the answer was complete.');
    }
  } catch (error) {
    const backendError =
      error instanceof BackendError
        ? error
        : options.signal?.aborted
          ? new BackendError('aborted', 'The request was cancelled.', { cause: error })
          : new BackendError('network', `The stream failed: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
    backendError.partialText = partialText;
    throw backendError;
  } finally {
    response?.dispose();
  }
}

/** The URL to warm for an endpoint (a cheap GET on its origin). */
export function warmUrlFor(target: EndpointTarget): string {
  return protocolFor(target.protocol).warmUrl(target);
}
