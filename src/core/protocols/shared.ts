import { BackendError, excerpt } from '../errors';
import type { ChatMessage, EndpointTarget, GenerationRequest } from '../endpoint';
import { isRecord } from '../json';

/** The base URL without trailing slashes, so paths join with exactly one `/`. */
export function trimBaseUrl(baseUrl: string): string {
  return baseUrl.replace(/\/+$/, '');
}

/** JSON headers plus a bearer token when the endpoint has a key. */
export function bearerHeaders(target: EndpointTarget): Record<string, string> {
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    accept: 'text/event-stream, application/x-ndjson, application/json',
  };
  if (target.apiKey) headers['authorization'] = `Bearer ${target.apiKey}`;
  return headers;
}

/** Chat messages for a request: its own, or its raw prompt as one user message. */
export function messagesOf(request: GenerationRequest): readonly ChatMessage[] {
  if (request.messages && request.messages.length > 0) return request.messages;
  return [{ role: 'user', content: request.prompt ?? '' }];
}

/** A raw prompt for a request: its own, or its messages' contents joined. */
export function promptOf(request: GenerationRequest): string {
  if (request.prompt !== undefined) return request.prompt;
  return (request.messages ?? []).map((message) => message.content).join('\n\n');
}

/** A JSON object, or a `malformed` error that says what arrived. */
export function parseJsonObject(data: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(data);
  } catch {
    throw new BackendError('malformed', `The server sent an event that is not JSON: ${excerpt(data)}`);
  }
  if (!isRecord(parsed))
    throw new BackendError('malformed', `The server sent an event that is not a JSON object: ${excerpt(data)}`);
  return parsed;
}
