import { originOf, isLoopbackUrl } from '../config/backendConfig';
import type { ResolvedEndpoint } from '../endpoint';
import type { BackendError, StreamLimit } from '../errors';
import { redact } from '../config/redact';

/** A button the adapter can offer next to a message; the adapter maps each to a command. */
export type UserAction = 'setApiKey' | 'configureBackends' | 'openSettings' | 'showLog' | 'retry';

/** One message for a person: what happened to which endpoint, and what to do. */
export interface UserMessage {
  /** `error` for failures the person must act on, `warning` for transient ones, `info` when nothing failed. */
  readonly severity: 'error' | 'warning' | 'info';
  readonly text: string;
  /** Offered as buttons, most useful first. */
  readonly actions: readonly UserAction[];
}

/** What the message needs to know about the endpoint: a `ResolvedEndpoint` fits. */
export type EndpointForMessage = Pick<ResolvedEndpoint, 'id' | 'label' | 'target' | 'simulated'>;

/** HTTP statuses meaning "this server does not offer that path or method": a wrong base URL or protocol. */
const PATH_NOT_OFFERED = new Set([404, 405, 501]);

function seconds(ms: number): string {
  const value = ms / 1000;
  return value < 10 ? value.toFixed(1).replace(/\.0$/, '') : String(Math.round(value));
}

/** What the server did, for each client-side stream limit. */
const LIMIT_WORDS: Record<StreamLimit, string> = {
  'output-tokens': 'kept writing past the token limit it was given',
  'output-bytes': 'sent far more data than one answer needs',
  'event-size': 'sent one event without end',
};

/**
 * Turns a failed request into one clear, actionable message naming the endpoint (label, id and server) and what to do.
 * The text never contains a key: the error's own text passes through `redact` with the endpoint's key.
 */
export function messageForBackendError(error: BackendError, endpoint: EndpointForMessage): UserMessage {
  const name = `${endpoint.label} (${endpoint.id})`;
  const server = originOf(endpoint.target.baseUrl);
  const secrets = endpoint.target.apiKey === undefined ? [] : [endpoint.target.apiKey];
  const detail = redact(error.message, secrets);
  const status = error.status === null ? '' : ` (HTTP ${error.status})`;

  switch (error.reason) {
    case 'unauthorized':
      return {
        severity: 'error',
        text:
          endpoint.target.apiKey === undefined
            ? `${name}: ${server} wants an API key${status}. Set it with "Latency Copilot: Set API Key".`
            : `${name}: ${server} refused the API key${status}. Check it (and that it may use model "${endpoint.target.model}"), then set it again with "Latency Copilot: Set API Key".`,
        actions: ['setApiKey', 'showLog'],
      };
    case 'rate-limited':
      return {
        severity: 'warning',
        text:
          error.retryAfterMs !== null
            ? `${name} is rate-limited${status}: retry in ${seconds(error.retryAfterMs)} s. Other endpoints are used meanwhile.`
            : `${name} is rate-limited${status}: retry in a little while. Other endpoints are used meanwhile.`,
        actions: ['configureBackends'],
      };
    case 'context-too-long':
      return {
        severity: 'warning',
        text: `${name}: the prompt does not fit model "${endpoint.target.model}"'s context window${status}. Add a long-context endpoint with "Latency Copilot: Configure Backends", or select less text.`,
        actions: ['configureBackends'],
      };
    case 'network':
      return {
        severity: 'error',
        text: isLoopbackUrl(endpoint.target.baseUrl)
          ? `${name}: cannot reach ${server}. Is the server running on that port? (${detail})`
          : `${name}: cannot reach ${server}. Check the network, a proxy (http.proxy), and the base URL. (${detail})`,
        actions: ['configureBackends', 'showLog'],
      };
    case 'timeout':
      return {
        severity: 'warning',
        text: `${name}: ${server} did not answer in time (${detail}). A model may still be loading; try again in a moment.`,
        actions: ['retry', 'showLog'],
      };
    case 'malformed':
      if (error.limit !== null) {
        // The server spoke the protocol but would not stop: the protocol setting is not the problem.
        return {
          severity: 'warning',
          text: `${name}: ${server} ${LIMIT_WORDS[error.limit]}, so the request was stopped; the text so far is kept. If it repeats, check the server's settings for model "${endpoint.target.model}" (${detail}).`,
          actions: ['showLog'],
        };
      }
      return {
        severity: 'error',
        text: `${name}: ${server} answered in a form protocol "${endpoint.target.protocol}" cannot read. Check that the protocol matches the server (${detail}).`,
        actions: ['configureBackends', 'showLog'],
      };
    case 'aborted':
      return { severity: 'info', text: `${name}: the request was cancelled.`, actions: [] };
    case 'not-configured':
      return {
        severity: 'error',
        text: `${detail} Or use the built-in simulated backends to try the extension.`,
        actions: ['configureBackends'],
      };
    case 'http':
      if (error.status !== null && PATH_NOT_OFFERED.has(error.status)) {
        return {
          severity: 'error',
          text: `${name}: ${endpoint.target.baseUrl} does not offer what protocol "${endpoint.target.protocol}" asks for${status}. Check the base URL (OpenAI-compatible servers end in /v1; llama.cpp, Ollama and Anthropic are the server root), the protocol, and that model "${endpoint.target.model}" exists there.`,
          actions: ['configureBackends', 'openSettings'],
        };
      }
      if (error.status !== null && error.status >= 500) {
        return {
          severity: 'warning',
          text: `${name}: ${server} had a server error${status}. This is on the server's side; other endpoints are used meanwhile, or try again later.`,
          actions: ['retry', 'showLog'],
        };
      }
      return {
        severity: 'error',
        text: `${name}: ${server} rejected the request${status}: ${detail}`,
        actions: ['showLog', 'configureBackends'],
      };
  }
}

/** A message for anything thrown that is not a `BackendError` (a bug): says so and points at the log. */
export function messageForUnexpectedError(error: unknown, what: string): UserMessage {
  const detail = error instanceof Error ? error.message : String(error);
  return {
    severity: 'error',
    text: `${what} failed unexpectedly: ${redact(detail)}. Details are in the Latency Copilot log.`,
    actions: ['showLog'],
  };
}
