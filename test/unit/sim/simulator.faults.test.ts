// Every simulator fault, shaped the way the real APIs fail: error statuses and bodies, a dropped connection, a stall,
// a garbage event, a character split across writes; plus context-too-long, API keys and a client that leaves.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startSimulator, type RunningSimulator } from '../../../src/sim/simulator';
import {
  delay,
  field,
  getUrl,
  lastRequestOf,
  parseRecord,
  postJson,
  rawPost,
  readTimed,
  simulatorForFile,
  sseEvents,
  testAgent,
  type TimedChunk,
} from './simHelpers';

const agent = testAgent();
let sim: RunningSimulator;

simulatorForFile({ ttftMs: 5, tokensPerSec: 5000 }, agent, (running) => {
  sim = running;
});

const lastRequest = () => lastRequestOf(sim);

const completionsBody = { model: 'm', prompt: 'function parse(', max_tokens: 40, stream: true };

/** Reads a body until it ends or fails, keeping what arrived. */
async function readUntilError(
  body: AsyncIterable<Uint8Array> | null,
): Promise<{ chunks: TimedChunk[]; error: unknown }> {
  const chunks: TimedChunk[] = [];
  if (body === null) return { chunks, error: null };
  try {
    for await (const bytes of body) chunks.push({ atMs: performance.now(), bytes });
    return { chunks, error: null };
  } catch (error) {
    return { chunks, error };
  }
}

function completionTexts(chunks: readonly TimedChunk[]): string[] {
  return sseEvents(chunks)
    .filter((event) => event.data !== '[DONE]')
    .map((event) => String(field(parseRecord(event.data), 'choices', 0, 'text')))
    .filter((text) => text.length > 0);
}

describe('status faults', () => {
  it('429 carries Retry-After and a Cerebras-style reset header, in each API family shape', async () => {
    const openai = await postJson(
      agent,
      `${sim.baseUrl}/v1/chat/completions`,
      { messages: [{ role: 'user', content: 'x' }] },
      {
        'x-sim-fault': '429',
      },
    );
    expect(openai.status).toBe(429);
    expect(openai.headers.get('retry-after')).toBe('2');
    expect(openai.headers.get('x-ratelimit-reset-tokens-minute')).toBe('2');
    expect(parseRecord(await openai.text())).toMatchObject({
      error: { type: 'rate_limit_error', code: 'rate_limit_exceeded' },
    });

    const anthropic = await postJson(
      agent,
      `${sim.baseUrl}/v1/messages`,
      { model: 'c', max_tokens: 5, messages: [{ role: 'user', content: 'x' }] },
      { 'x-sim-fault': '429', 'x-sim-retry-after-s': '7' },
    );
    expect(anthropic.headers.get('retry-after')).toBe('7');
    expect(parseRecord(await anthropic.text())).toMatchObject({ type: 'error', error: { type: 'rate_limit_error' } });

    const ollama = await postJson(
      agent,
      `${sim.baseUrl}/api/generate`,
      { model: 'm', prompt: 'x' },
      { 'x-sim-fault': '429' },
    );
    expect(ollama.status).toBe(429);
    expect(typeof parseRecord(await ollama.text())['error']).toBe('string');
    expect(lastRequest()).toMatchObject({ status: 429, outcome: 'error', tokensWritten: 0 });
  });

  it('500 and 503 come with the protocol error bodies', async () => {
    const openai = await postJson(agent, `${sim.baseUrl}/v1/completions`, completionsBody, { 'x-sim-fault': '500' });
    expect(openai.status).toBe(500);
    expect(parseRecord(await openai.text())).toMatchObject({ error: { type: 'server_error' } });
    const llama = await postJson(
      agent,
      `${sim.baseUrl}/infill`,
      { input_prefix: 'x', stream: true },
      { 'x-sim-fault': '503' },
    );
    expect(llama.status).toBe(503);
    expect(parseRecord(await llama.text())).toMatchObject({ error: { code: 503, type: 'unavailable_error' } });
  });

  it('a server-wide fault applies until a request header overrides it', async () => {
    sim.setDefaults({ fault: { kind: '500' } });
    try {
      const failing = await postJson(agent, `${sim.baseUrl}/v1/completions`, completionsBody);
      expect(failing.status).toBe(500);
      await failing.text();
      const healthy = await postJson(
        agent,
        `${sim.baseUrl}/v1/completions`,
        { ...completionsBody, stream: false },
        { 'x-sim-fault': 'none' },
      );
      expect(healthy.status).toBe(200);
      await healthy.text();
    } finally {
      sim.setDefaults({ fault: null });
    }
  });
});

describe('stream faults', () => {
  it('disconnect:N destroys the socket after exactly N tokens', async () => {
    const response = await postJson(agent, `${sim.baseUrl}/v1/completions`, completionsBody, {
      'x-sim-fault': 'disconnect:5',
    });
    expect(response.status).toBe(200);
    const { chunks, error } = await readUntilError(response.body);
    expect(error).not.toBeNull();
    expect(completionTexts(chunks)).toHaveLength(5);
    await vi.waitFor(() => expect(lastRequest().outcome).toBe('server-disconnected'));
    expect(lastRequest().tokensWritten).toBe(5);
  });

  it('disconnect:N with several tokens per event still cuts after N tokens', async () => {
    const response = await postJson(
      agent,
      `${sim.baseUrl}/infill`,
      { input_prefix: 'x', n_predict: 40, stream: true },
      {
        'x-sim-fault': 'disconnect:6',
        'x-sim-tokens-per-event': '4',
      },
    );
    const { chunks, error } = await readUntilError(response.body);
    expect(error).not.toBeNull();
    const tokenIds = sseEvents(chunks).flatMap((event) => {
      const tokens = parseRecord(event.data)['tokens'];
      return Array.isArray(tokens) ? tokens : [];
    });
    expect(tokenIds).toHaveLength(6);
  });

  it('stall:N writes N tokens, then nothing, and keeps the socket open until the client leaves', async () => {
    const controller = new AbortController();
    const response = await postJson(
      agent,
      `${sim.baseUrl}/v1/completions`,
      completionsBody,
      { 'x-sim-fault': 'stall:3' },
      controller.signal,
    );
    const chunks: TimedChunk[] = [];
    const reading = readUntilError(
      (async function* () {
        if (response.body === null) return;
        for await (const bytes of response.body) {
          chunks.push({ atMs: performance.now(), bytes });
          yield bytes;
        }
      })(),
    );
    await vi.waitFor(() => expect(lastRequest().tokensWritten).toBe(3));
    await delay(250);
    expect(lastRequest().outcome).toBe('stalled');
    expect(completionTexts(chunks)).toHaveLength(3);
    controller.abort();
    await reading;
    await vi.waitFor(() => expect(lastRequest().outcome).toBe('client-left'));
    expect(lastRequest()).toMatchObject({ tokensWritten: 3, clientDisconnected: true, tokensNotGenerated: 37 });
  });

  it('stall:0 sends headers, then silence', async () => {
    const controller = new AbortController();
    const response = await postJson(
      agent,
      `${sim.baseUrl}/v1/completions`,
      completionsBody,
      { 'x-sim-fault': 'stall:0' },
      controller.signal,
    );
    expect(response.status).toBe(200);
    await delay(100);
    expect(lastRequest()).toMatchObject({ outcome: 'stalled', tokensWritten: 0, firstTokenMs: null });
    controller.abort();
    await vi.waitFor(() => expect(lastRequest().outcome).toBe('client-left'));
  });

  it('malformed:N sends a garbage event after N tokens, then goes on', async () => {
    const response = await postJson(
      agent,
      `${sim.baseUrl}/v1/chat/completions`,
      {
        messages: [{ role: 'user', content: 'x' }],
        max_tokens: 10,
        stream: true,
      },
      { 'x-sim-fault': 'malformed:4', 'x-sim-role-chunk': '0' },
    );
    const events = sseEvents(await readTimed(response.body));
    const parses = events.map((event) => {
      if (event.data === '[DONE]') return 'done';
      try {
        JSON.parse(event.data);
        return 'ok';
      } catch {
        return 'bad';
      }
    });
    expect(parses.slice(0, 5)).toEqual(['ok', 'ok', 'ok', 'ok', 'bad']);
    expect(parses.filter((kind) => kind === 'bad')).toHaveLength(1);
    expect(parses.at(-1)).toBe('done');
  });

  it('malformed:N breaks an NDJSON line for Ollama', async () => {
    const response = await postJson(
      agent,
      `${sim.baseUrl}/api/generate`,
      { model: 'm', prompt: 'x', options: { num_predict: 5 } },
      {
        'x-sim-fault': 'malformed:2',
      },
    );
    const text = await response.text();
    const lines = text.split('\n').filter((line) => line.length > 0);
    expect(() => JSON.parse(lines[2] ?? '')).toThrow();
    expect(lines).toHaveLength(7);
  });

  it('split-utf8 writes a multi-byte character split across two writes with a gap', async () => {
    const result = await rawPost(`${sim.baseUrl}/v1/completions`, completionsBody, { 'x-sim-fault': 'split-utf8' });
    expect(result.error).toBeNull();
    const strict = new TextDecoder('utf-8', { fatal: true });
    const invalidAlone = result.reads.filter((read) => {
      try {
        strict.decode(read);
        return false;
      } catch {
        return true;
      }
    });
    expect(invalidAlone.length).toBeGreaterThanOrEqual(1);
    const whole = strict.decode(Buffer.concat(result.reads));
    // eslint-disable-next-line no-control-regex -- the whole ASCII range, control characters included, on purpose.
    expect(whole).toMatch(/[^\x00-\x7f]/);
    expect(whole.trimEnd().endsWith('data: [DONE]')).toBe(true);
  });
});

describe('a client that leaves', () => {
  it('stops generating at once and records what was not generated', async () => {
    const controller = new AbortController();
    const response = await postJson(
      agent,
      `${sim.baseUrl}/v1/completions`,
      { ...completionsBody, max_tokens: 2000 },
      {
        'x-sim-tokens-per-sec': '1000',
      },
      controller.signal,
    );
    const body = response.body;
    if (body === null) throw new Error('no body');
    let received = 0;
    for await (const _ of body) {
      received += 1;
      if (received >= 20) break;
    }
    controller.abort();
    await vi.waitFor(() => expect(lastRequest().outcome).toBe('client-left'));
    const entry = lastRequest();
    const writtenThen = entry.tokensWritten;
    expect(writtenThen).toBeGreaterThanOrEqual(20);
    expect(writtenThen).toBeLessThan(2000);
    expect(entry.tokensNotGenerated).toBe(entry.tokensPlanned - writtenThen);
    expect(entry.tokensGeneratedAfterDisconnect).toBe(0);
    expect(entry.clientDisconnectedMs).not.toBeNull();
    await delay(100);
    expect(lastRequest().tokensWritten).toBe(writtenThen);
  });
});

describe('context too long', () => {
  const longPrompt = 'const value = computeSomething(input);\n'.repeat(40);

  it('OpenAI: 400 with code context_length_exceeded when prompt + max_tokens exceed the window', async () => {
    const response = await postJson(
      agent,
      `${sim.baseUrl}/v1/completions`,
      { prompt: longPrompt, max_tokens: 100 },
      {
        'x-sim-context-window': '200',
      },
    );
    expect(response.status).toBe(400);
    const body = parseRecord(await response.text());
    expect(body).toMatchObject({ error: { code: 'context_length_exceeded', type: 'invalid_request_error' } });
    expect(String(field(body, 'error', 'message'))).toContain('maximum context length is 200 tokens');
  });

  it('llama.cpp: exceed_context_size_error with its own message', async () => {
    const response = await postJson(
      agent,
      `${sim.baseUrl}/infill`,
      { input_prefix: longPrompt, stream: true },
      {
        'x-sim-context-window': '100',
      },
    );
    expect(response.status).toBe(400);
    expect(parseRecord(await response.text())).toMatchObject({
      error: {
        code: 400,
        type: 'exceed_context_size_error',
        message: 'the request exceeds the available context size, try increasing it',
      },
    });
  });

  it('Anthropic: "prompt is too long: N tokens > M maximum"', async () => {
    const response = await postJson(
      agent,
      `${sim.baseUrl}/v1/messages`,
      { model: 'c', max_tokens: 10, messages: [{ role: 'user', content: longPrompt }] },
      { 'x-sim-context-window': '100' },
    );
    expect(response.status).toBe(400);
    const body = parseRecord(await response.text());
    expect(body).toMatchObject({ type: 'error', error: { type: 'invalid_request_error' } });
    expect(String(field(body, 'error', 'message'))).toMatch(/^prompt is too long: \d+ tokens > 100 maximum$/);
  });

  it('counts a very long prompt by estimate (characters / 4) instead of blocking the loop to tokenise it', async () => {
    const prompt = 'x'.repeat(400_004);
    const response = await postJson(
      agent,
      `${sim.baseUrl}/v1/completions`,
      { prompt, max_tokens: 0 },
      {
        'x-sim-context-window': '100000',
      },
    );
    expect(response.status).toBe(400);
    expect(String(field(parseRecord(await response.text()), 'error', 'message'))).toContain(
      '(100001 in the messages, 0 in the completion)',
    );
  });

  it('a prompt that fits is served', async () => {
    const response = await postJson(
      agent,
      `${sim.baseUrl}/v1/completions`,
      { prompt: 'short', max_tokens: 10 },
      {
        'x-sim-context-window': '200',
      },
    );
    expect(response.status).toBe(200);
    await response.text();
  });
});

describe('API key', () => {
  let keyed: RunningSimulator;
  beforeAll(async () => {
    keyed = await startSimulator({ apiKey: 'sim-key-1', ttftMs: 1, tokensPerSec: 50_000 });
  });
  afterAll(async () => {
    await keyed.close();
  });

  it('answers 401 without the key, in the protocol shape', async () => {
    const openai = await postJson(agent, `${keyed.baseUrl}/v1/completions`, { prompt: 'x', max_tokens: 1 });
    expect(openai.status).toBe(401);
    expect(parseRecord(await openai.text())).toMatchObject({ error: { code: 'invalid_api_key' } });
    const anthropic = await postJson(
      agent,
      `${keyed.baseUrl}/v1/messages`,
      { max_tokens: 1, messages: [] },
      { 'x-api-key': 'wrong' },
    );
    expect(anthropic.status).toBe(401);
    expect(parseRecord(await anthropic.text())).toMatchObject({
      type: 'error',
      error: { type: 'authentication_error' },
    });
  });

  it('accepts the key as a bearer token or x-api-key, and keeps /health public', async () => {
    const bearer = await postJson(
      agent,
      `${keyed.baseUrl}/v1/completions`,
      { prompt: 'x', max_tokens: 1 },
      {
        authorization: 'Bearer sim-key-1',
      },
    );
    expect(bearer.status).toBe(200);
    await bearer.text();
    const header = await postJson(
      agent,
      `${keyed.baseUrl}/v1/messages`,
      { max_tokens: 1, messages: [{ role: 'user', content: 'x' }] },
      {
        'x-api-key': 'sim-key-1',
      },
    );
    expect(header.status).toBe(200);
    await header.text();
    const health = await getUrl(agent, `${keyed.baseUrl}/health`);
    expect(health.status).toBe(200);
    await health.text();
    expect(JSON.stringify(keyed.requests)).not.toContain('sim-key-1');
  });
});
