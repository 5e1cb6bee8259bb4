import type { SimProtocol } from '../simOptions';

/** The API families whose error bodies differ. */
export type ErrorFamily = 'openai' | 'llamacpp' | 'ollama' | 'anthropic';

/** The kinds of error the simulator sends. */
export type SimErrorKind =
  'rate-limited' | 'server' | 'unavailable' | 'unauthorized' | 'bad-request' | 'context' | 'not-found';

/** An error response: status and JSON body, shaped the way the real API shapes it. */
export interface SimErrorResponse {
  readonly status: number;
  readonly body: unknown;
}

const STATUS: Readonly<Record<SimErrorKind, number>> = {
  'rate-limited': 429,
  server: 500,
  unavailable: 503,
  unauthorized: 401,
  'bad-request': 400,
  context: 400,
  'not-found': 404,
};

/** The error family a protocol belongs to. */
export function errorFamilyOf(protocol: SimProtocol): ErrorFamily {
  switch (protocol) {
    case 'openai-chat':
    case 'openai-completions':
      return 'openai';
    case 'llamacpp-infill':
    case 'llamacpp-completion':
      return 'llamacpp';
    case 'ollama-generate':
    case 'ollama-chat':
      return 'ollama';
    case 'anthropic':
      return 'anthropic';
  }
}

const OPENAI_TYPE: Readonly<Record<SimErrorKind, { type: string; code: string | null }>> = {
  'rate-limited': { type: 'rate_limit_error', code: 'rate_limit_exceeded' },
  server: { type: 'server_error', code: null },
  unavailable: { type: 'server_error', code: 'service_unavailable' },
  unauthorized: { type: 'invalid_request_error', code: 'invalid_api_key' },
  'bad-request': { type: 'invalid_request_error', code: null },
  context: { type: 'invalid_request_error', code: 'context_length_exceeded' },
  'not-found': { type: 'invalid_request_error', code: 'not_found' },
};

const LLAMACPP_TYPE: Readonly<Record<SimErrorKind, string>> = {
  'rate-limited': 'unavailable_error',
  server: 'server_error',
  unavailable: 'unavailable_error',
  unauthorized: 'authentication_error',
  'bad-request': 'invalid_request_error',
  context: 'exceed_context_size_error',
  'not-found': 'not_found_error',
};

const ANTHROPIC_TYPE: Readonly<Record<SimErrorKind, string>> = {
  'rate-limited': 'rate_limit_error',
  server: 'api_error',
  unavailable: 'overloaded_error',
  unauthorized: 'authentication_error',
  'bad-request': 'invalid_request_error',
  context: 'invalid_request_error',
  'not-found': 'not_found_error',
};

/** Builds the error response a real server of `family` would send for `kind`. */
export function errorResponse(
  family: ErrorFamily,
  kind: SimErrorKind,
  message: string,
  extra: Readonly<Record<string, unknown>> = {},
): SimErrorResponse {
  const status = STATUS[kind];
  switch (family) {
    case 'openai': {
      const { type, code } = OPENAI_TYPE[kind];
      return { status, body: { error: { message, type, param: null, code, ...extra } } };
    }
    case 'llamacpp':
      return { status, body: { error: { code: status, message, type: LLAMACPP_TYPE[kind], ...extra } } };
    case 'ollama':
      return { status, body: { error: message } };
    case 'anthropic':
      return { status, body: { type: 'error', error: { type: ANTHROPIC_TYPE[kind], message } } };
  }
}

/** The message each fault status carries. */
export const FAULT_MESSAGES: Readonly<Record<'rate-limited' | 'server' | 'unavailable', string>> = {
  'rate-limited': 'Rate limit exceeded: too many tokens per minute (simulated).',
  server: 'The server had an error while processing your request (simulated).',
  unavailable: 'The service is temporarily overloaded, please try again later (simulated).',
};
