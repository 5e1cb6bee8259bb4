import { describe, expect, it } from 'vitest';
import type { ResolvedEndpoint } from '../../../../src/core/endpoint';
import { BACKEND_ERROR_REASONS, BackendError } from '../../../../src/core/errors';
import { messageForBackendError, messageForUnexpectedError } from '../../../../src/core/speed/userMessages';
import { resolvedEndpoint } from '../../builders/endpoints';

const KEY = 'gsk_abcdefghijklmnopqrstuvwx';

function endpoint(overrides: Partial<ResolvedEndpoint['target']> = {}): ResolvedEndpoint {
  return resolvedEndpoint({
    label: 'Groq llama-3.1-8b-instant',
    preset: 'groq',
    target: { baseUrl: 'https://api.groq.com/openai/v1', model: 'llama-3.1-8b-instant', apiKey: KEY, ...overrides },
    fim: 'chat',
  });
}

describe('messageForBackendError', () => {
  it.each([
    ['output-tokens', 'kept writing past the token limit'],
    ['output-bytes', 'far more data than one answer needs'],
    ['event-size', 'one event without end'],
  ] as const)('a stream stopped by the %s limit says what the server did, not "check the protocol"', (limit, words) => {
    const message = messageForBackendError(new BackendError('malformed', 'stopped', { limit }), endpoint());
    expect(message.text).toContain(words);
    expect(message.text).toContain('the text so far is kept');
    expect(message.text).not.toContain('protocol');
    expect(message.actions).toEqual(['showLog']);
    // An answer that cannot be read still points at the protocol setting.
    expect(messageForBackendError(new BackendError('malformed', 'bad JSON'), endpoint()).text).toContain(
      'protocol "openai-chat"',
    );
  });

  it('401 with a key: names the endpoint and says to set the key again', () => {
    const message = messageForBackendError(
      new BackendError('unauthorized', 'The server refused the API key (HTTP 401)', { status: 401 }),
      endpoint(),
    );
    expect(message.text).toContain('Groq llama-3.1-8b-instant (burst#0)');
    expect(message.text).toContain('HTTP 401');
    expect(message.text).toContain('Latency Copilot: Set API Key');
    expect(message.actions[0]).toBe('setApiKey');
  });

  it('401 without a key: says the server wants one', () => {
    const local = {
      ...endpoint(),
      target: { baseUrl: 'http://127.0.0.1:8080', protocol: 'llamacpp-infill' as const, model: 'default' },
    };
    expect(messageForBackendError(new BackendError('unauthorized', 'x', { status: 401 }), local).text).toContain(
      'wants an API key',
    );
  });

  it.each([404, 405, 501])('%i: the path is not offered: check the base URL and protocol', (status) => {
    const message = messageForBackendError(new BackendError('http', `HTTP ${status}`, { status }), endpoint());
    expect(message.text).toContain('does not offer');
    expect(message.text).toContain('base URL');
    expect(message.text).toContain('openai-chat');
    expect(message.severity).toBe('error');
  });

  it('rate-limited: says when to retry, in seconds', () => {
    const message = messageForBackendError(
      new BackendError('rate-limited', 'Rate limited', { status: 429, retryAfterMs: 12_000 }),
      endpoint(),
    );
    expect(message.text).toContain('retry in 12 s');
    expect(message.severity).toBe('warning');
  });

  it('network on a local server asks whether it is running; on a remote one points at network and proxy', () => {
    const error = new BackendError('network', 'connect ECONNREFUSED 127.0.0.1:8080');
    const local = {
      ...endpoint(),
      target: { baseUrl: 'http://127.0.0.1:8080', protocol: 'llamacpp-infill' as const, model: 'm' },
    };
    expect(messageForBackendError(error, local).text).toContain('Is the server running');
    expect(messageForBackendError(error, endpoint()).text).toContain('proxy');
  });

  it('never repeats the key, even when the server echoed it into the error', () => {
    for (const reason of BACKEND_ERROR_REASONS) {
      const error = new BackendError(reason, `echo: Authorization: Bearer ${KEY} / raw ${KEY}`, { status: 400 });
      expect(messageForBackendError(error, endpoint()).text).not.toContain(KEY);
    }
  });

  it('gives every reason a non-empty message', () => {
    for (const reason of BACKEND_ERROR_REASONS) {
      const message = messageForBackendError(new BackendError(reason, 'detail', { status: 500 }), endpoint());
      expect(message.text.length).toBeGreaterThan(10);
    }
  });

  it('server errors are transient warnings; other client errors carry the detail', () => {
    expect(messageForBackendError(new BackendError('http', 'HTTP 503', { status: 503 }), endpoint()).severity).toBe(
      'warning',
    );
    expect(
      messageForBackendError(new BackendError('http', 'HTTP 400: bad max_tokens', { status: 400 }), endpoint()).text,
    ).toContain('bad max_tokens');
  });
});

describe('messageForUnexpectedError', () => {
  it('points at the log and redacts', () => {
    const message = messageForUnexpectedError(new Error(`boom sk-abcdefghijklmnop123456`), 'Refactor');
    expect(message.text).toContain('Refactor failed unexpectedly');
    expect(message.text).not.toContain('abcdefghijklmnop123456');
    expect(message.actions).toEqual(['showLog']);
  });
});
