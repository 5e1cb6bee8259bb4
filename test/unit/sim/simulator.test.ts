// The simulator speaks each backend's wire format exactly: checked with plain undici fetch and eventsource-parser.
import { describe, expect, it } from 'vitest';
import type { RunningSimulator } from '../../../src/sim/simulator';
import {
  chatDelta,
  delay,
  field,
  getUrl,
  lastRequestOf,
  ndjsonLines,
  parseRecord,
  postJson,
  readTimed,
  simulatorForFile,
  sseEvents,
  testAgent,
} from './simHelpers';

const agent = testAgent();
let sim: RunningSimulator;

simulatorForFile({ ttftMs: 5, tokensPerSec: 20_000 }, agent, (running) => {
  sim = running;
});

const lastRequest = () => lastRequestOf(sim);

const chatBody = (extra: Record<string, unknown> = {}) => ({
  model: 'burst-model',
  stream: true,
  max_tokens: 20,
  messages: [{ role: 'user', content: 'Refactor: function add(a, b) { return a + b }' }],
  ...extra,
});

describe('OpenAI chat completions', () => {
  it('streams a role-only chunk, content chunks, a finish chunk, a usage chunk and [DONE]', async () => {
    const response = await postJson(
      agent,
      `${sim.baseUrl}/v1/chat/completions`,
      chatBody({ stream_options: { include_usage: true } }),
    );
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('text/event-stream');
    const events = sseEvents(await readTimed(response.body));
    expect(events.at(-1)?.data).toBe('[DONE]');
    const chunks = events.slice(0, -1).map((event) => parseRecord(event.data));
    for (const chunk of chunks) {
      expect(chunk['object']).toBe('chat.completion.chunk');
      expect(chunk['model']).toBe('burst-model');
      expect(typeof chunk['id']).toBe('string');
      expect(typeof chunk['created']).toBe('number');
    }
    expect(field(chunks[0], 'choices', 0, 'delta')).toEqual({ role: 'assistant', content: '' });
    const usageChunk = chunks.at(-1);
    expect(field(usageChunk, 'choices')).toEqual([]);
    expect(field(usageChunk, 'usage', 'completion_tokens')).toBe(20);
    const promptTokens = field(usageChunk, 'usage', 'prompt_tokens');
    expect(promptTokens).toBeGreaterThan(5);
    expect(field(usageChunk, 'usage', 'total_tokens')).toBe(Number(promptTokens) + 20);
    const finishChunk = chunks.at(-2);
    expect(field(finishChunk, 'choices', 0, 'finish_reason')).toBe('length');
    expect(field(finishChunk, 'choices', 0, 'delta')).toEqual({});
    const contentChunks = chunks.slice(1, -2);
    expect(contentChunks.length).toBe(20);
    for (const chunk of contentChunks) {
      expect(field(chunk, 'choices', 0, 'finish_reason')).toBeNull();
      expect(String(field(chunk, 'choices', 0, 'delta', 'content')).length).toBeGreaterThan(0);
    }
    const text = events
      .slice(1, -3)
      .map((event) => chatDelta(event.data))
      .join('');
    expect(text).toBe(lastRequest().textWritten);
    expect(lastRequest()).toMatchObject({
      protocol: 'openai-chat',
      tokensWritten: 20,
      outcome: 'completed',
      finishReason: 'length',
    });
  });

  it('puts the role in the first content chunk when the role-only chunk is off', async () => {
    const response = await postJson(agent, `${sim.baseUrl}/v1/chat/completions`, chatBody(), {
      'x-sim-role-chunk': '0',
    });
    const events = sseEvents(await readTimed(response.body));
    const first = parseRecord(events[0]?.data ?? '');
    expect(field(first, 'choices', 0, 'delta', 'role')).toBe('assistant');
    expect(String(field(first, 'choices', 0, 'delta', 'content')).length).toBeGreaterThan(0);
  });

  it('sends no usage chunk unless the client asks for it and usage is enabled', async () => {
    const notAsked = sseEvents(
      await readTimed((await postJson(agent, `${sim.baseUrl}/v1/chat/completions`, chatBody())).body),
    );
    expect(notAsked.some((event) => event.data.includes('"usage"'))).toBe(false);
    const disabled = sseEvents(
      await readTimed(
        (
          await postJson(
            agent,
            `${sim.baseUrl}/v1/chat/completions`,
            chatBody({ stream_options: { include_usage: true } }),
            {
              'x-sim-usage': '0',
            },
          )
        ).body,
      ),
    );
    expect(disabled.some((event) => event.data.includes('"usage"'))).toBe(false);
    expect(disabled.at(-1)?.data).toBe('[DONE]');
  });

  it('answers a non-streamed request with a chat.completion object', async () => {
    const response = await postJson(agent, `${sim.baseUrl}/v1/chat/completions`, chatBody({ stream: false }));
    const body = parseRecord(await response.text());
    expect(body['object']).toBe('chat.completion');
    expect(field(body, 'choices', 0, 'message', 'role')).toBe('assistant');
    expect(field(body, 'choices', 0, 'finish_reason')).toBe('length');
    expect(field(body, 'usage', 'completion_tokens')).toBe(20);
  });

  it('fences a chat answer with one sentence before it, or sends plain code when asked', async () => {
    const fenced = await postJson(
      agent,
      `${sim.baseUrl}/v1/chat/completions`,
      chatBody({ stream: false, max_tokens: 60 }),
    );
    const fencedText = String(field(parseRecord(await fenced.text()), 'choices', 0, 'message', 'content'));
    expect(fencedText).toMatch(/^[A-Z][^\n]*[.:]\n\n```ts\n/);
    const plain = await postJson(
      agent,
      `${sim.baseUrl}/v1/chat/completions`,
      chatBody({ stream: false, max_tokens: 60 }),
      {
        'x-sim-chat-style': 'plain',
      },
    );
    const plainText = String(field(parseRecord(await plain.text()), 'choices', 0, 'message', 'content'));
    expect(plainText).not.toContain('```');
    expect(plainText).toMatch(/function|class|const|=>/);
  });

  it('ends with finish_reason stop at a stop string', async () => {
    const response = await postJson(
      agent,
      `${sim.baseUrl}/v1/chat/completions`,
      chatBody({ max_tokens: 500, stop: ['\n\n'] }),
    );
    const events = sseEvents(await readTimed(response.body));
    const chunks = events.slice(0, -1).map((event) => parseRecord(event.data));
    expect(field(chunks.at(-1), 'choices', 0, 'finish_reason')).toBe('stop');
    const text = events.map((event) => (event.data === '[DONE]' ? '' : chatDelta(event.data))).join('');
    expect(text).not.toContain('\n\n');
    expect(text.length).toBeGreaterThan(10);
  });
});

describe('provider timings on the OpenAI finish chunk', () => {
  async function finishChunk(style: string): Promise<Record<string, unknown>> {
    const response = await postJson(agent, `${sim.baseUrl}/v1/chat/completions`, chatBody({ max_tokens: 10 }), {
      'x-sim-server-timings': style,
      'x-sim-tokens-per-sec': '2000',
    });
    const events = sseEvents(await readTimed(response.body)).filter((event) => event.data !== '[DONE]');
    const chunk = events
      .map((event) => parseRecord(event.data))
      .find((data) => field(data, 'choices', 0, 'finish_reason') !== null);
    if (chunk === undefined) throw new Error('no finish chunk');
    return chunk;
  }

  it('Groq: x_groq.usage with times in seconds', async () => {
    const chunk = await finishChunk('groq');
    expect(field(chunk, 'x_groq', 'usage', 'completion_tokens')).toBe(10);
    // 10 tokens at 2,000 tok/s = 5 ms; TTFT 5 ms.
    expect(field(chunk, 'x_groq', 'usage', 'completion_time')).toBeCloseTo(0.005, 6);
    expect(field(chunk, 'x_groq', 'usage', 'prompt_time')).toBeCloseTo(0.005, 6);
  });

  it('Cerebras: usage and time_info', async () => {
    const chunk = await finishChunk('cerebras');
    expect(field(chunk, 'usage', 'completion_tokens')).toBe(10);
    expect(field(chunk, 'time_info', 'completion_time')).toBeCloseTo(0.005, 6);
  });

  it('llama.cpp: timings in ms', async () => {
    const chunk = await finishChunk('llamacpp');
    expect(field(chunk, 'timings', 'predicted_n')).toBe(10);
    expect(field(chunk, 'timings', 'predicted_per_second')).toBeCloseTo(2000, 6);
  });

  it('none by default', async () => {
    const chunk = await finishChunk('none');
    expect(chunk['x_groq']).toBeUndefined();
    expect(chunk['time_info']).toBeUndefined();
    expect(chunk['timings']).toBeUndefined();
  });
});

describe('OpenAI completions', () => {
  it('streams text chunks, a finish chunk, usage when asked, and [DONE]', async () => {
    const response = await postJson(agent, `${sim.baseUrl}/v1/completions`, {
      model: 'fim',
      prompt: 'function fib(n: number): number {\n  ',
      suffix: '\n}\n',
      max_tokens: 12,
      stream: true,
      stream_options: { include_usage: true },
    });
    const events = sseEvents(await readTimed(response.body));
    expect(events.at(-1)?.data).toBe('[DONE]');
    const chunks = events.slice(0, -1).map((event) => parseRecord(event.data));
    expect(chunks.every((chunk) => chunk['object'] === 'text_completion')).toBe(true);
    const content = chunks.slice(0, -2);
    expect(content.length).toBe(12);
    expect(content.every((chunk) => String(field(chunk, 'choices', 0, 'text')).length > 0)).toBe(true);
    expect(field(chunks.at(-2), 'choices', 0, 'finish_reason')).toBe('length');
    expect(field(chunks.at(-1), 'choices')).toEqual([]);
    expect(field(chunks.at(-1), 'usage', 'completion_tokens')).toBe(12);
    expect(lastRequest().protocol).toBe('openai-completions');
  });

  it('answers non-streamed with a text_completion object', async () => {
    const response = await postJson(agent, `${sim.baseUrl}/v1/completions`, { prompt: 'def parse(', max_tokens: 10 });
    const body = parseRecord(await response.text());
    expect(body['object']).toBe('text_completion');
    expect(String(field(body, 'choices', 0, 'text')).length).toBeGreaterThan(0);
    expect(field(body, 'usage', 'completion_tokens')).toBe(10);
  });

  it('lists the model with its context window', async () => {
    const response = await getUrl(agent, `${sim.baseUrl}/v1/models`);
    const body = parseRecord(await response.text());
    expect(body['object']).toBe('list');
    expect(field(body, 'data', 0, 'object')).toBe('model');
    expect(field(body, 'data', 0, 'context_length')).toBe(32768);
    expect(field(body, 'data', 0, 'max_model_len')).toBe(32768);
  });
});

describe('llama.cpp', () => {
  it('streams /infill events with content and token ids, ends with stop: true and timings, and sends no [DONE]', async () => {
    const response = await postJson(agent, `${sim.baseUrl}/infill`, {
      input_prefix: 'def area(r):\n    ',
      input_suffix: '\n',
      input_extra: [{ filename: 'util.py', text: 'import math\n' }],
      n_predict: 8,
      cache_prompt: true,
      stream: true,
    });
    const events = sseEvents(await readTimed(response.body));
    expect(events.some((event) => event.data === '[DONE]')).toBe(false);
    const parsed = events.map((event) => parseRecord(event.data));
    const content = parsed.slice(0, -1);
    expect(content.length).toBe(8);
    for (const event of content) {
      expect(event['stop']).toBe(false);
      expect(String(event['content']).length).toBeGreaterThan(0);
      expect(Array.isArray(event['tokens'])).toBe(true);
    }
    const last = parsed.at(-1);
    expect(field(last, 'stop')).toBe(true);
    expect(field(last, 'content')).toBe('');
    expect(field(last, 'stop_type')).toBe('limit');
    for (const key of [
      'prompt_n',
      'prompt_ms',
      'prompt_per_token_ms',
      'prompt_per_second',
      'predicted_n',
      'predicted_ms',
      'predicted_per_token_ms',
      'predicted_per_second',
      'cache_n',
    ]) {
      expect(typeof field(last, 'timings', key)).toBe('number');
    }
    expect(field(last, 'timings', 'predicted_n')).toBe(8);
    expect(field(last, 'timings', 'predicted_per_second')).toBeCloseTo(20_000, 0);
    expect(lastRequest().protocol).toBe('llamacpp-infill');
  });

  it('reports eos when the text ends before n_predict, and counts the cached prompt prefix', async () => {
    const body = { prompt: 'fn main() {\n    let mut total = 0;\n', n_predict: 200, stream: true };
    await readTimed(
      (await postJson(agent, `${sim.baseUrl}/completion`, body, { 'x-sim-completion-tokens': '6' })).body,
    );
    const events = sseEvents(
      await readTimed(
        (await postJson(agent, `${sim.baseUrl}/completion`, body, { 'x-sim-completion-tokens': '6' })).body,
      ),
    );
    const last = parseRecord(events.at(-1)?.data ?? '');
    expect(last['stop_type']).toBe('eos');
    expect(field(last, 'timings', 'predicted_n')).toBe(6);
    const cached = field(last, 'timings', 'cache_n');
    expect(cached).toBeGreaterThan(0);
    expect(Number(field(last, 'timings', 'prompt_n')) + Number(cached)).toBe(lastRequest().promptTokens);
  });

  it('serves /health and /props with n_ctx in default_generation_settings', async () => {
    expect(parseRecord(await (await getUrl(agent, `${sim.baseUrl}/health`)).text())).toEqual({ status: 'ok' });
    const props = parseRecord(await (await getUrl(agent, `${sim.baseUrl}/props`)).text());
    expect(field(props, 'default_generation_settings', 'n_ctx')).toBe(32768);
  });
});

describe('Ollama', () => {
  it('streams /api/generate as NDJSON ending with done: true, counts and nanosecond durations', async () => {
    const response = await postJson(agent, `${sim.baseUrl}/api/generate`, {
      model: 'qwen2.5-coder',
      prompt: 'package main\n\nfunc ',
      suffix: '\n',
      options: { num_predict: 7 },
    });
    expect(response.headers.get('content-type')).toContain('application/x-ndjson');
    const lines = ndjsonLines(await readTimed(response.body)).map((line) => parseRecord(line.data));
    expect(lines.length).toBe(8);
    for (const line of lines.slice(0, -1)) {
      expect(line).toMatchObject({ model: 'qwen2.5-coder', done: false });
      expect(String(line['response']).length).toBeGreaterThan(0);
      expect(typeof line['created_at']).toBe('string');
    }
    const last = lines.at(-1);
    expect(last).toMatchObject({ done: true, done_reason: 'length', eval_count: 7 });
    // 7 tokens at 20,000 tok/s: 350 µs = 350,000 ns.
    expect(field(last, 'eval_duration')).toBe(350_000);
    expect(field(last, 'prompt_eval_duration')).toBe(5_000_000);
    expect(Number(field(last, 'prompt_eval_count'))).toBeGreaterThan(0);
    expect(typeof field(last, 'total_duration')).toBe('number');
  });

  it('streams /api/chat with message objects', async () => {
    const response = await postJson(agent, `${sim.baseUrl}/api/chat`, {
      model: 'm',
      messages: [{ role: 'user', content: 'rename the variables' }],
      options: { num_predict: 5 },
    });
    const lines = ndjsonLines(await readTimed(response.body)).map((line) => parseRecord(line.data));
    expect(lines.length).toBe(6);
    expect(field(lines[0], 'message', 'role')).toBe('assistant');
    expect(String(field(lines[0], 'message', 'content')).length).toBeGreaterThan(0);
    expect(lines.at(-1)).toMatchObject({ done: true, eval_count: 5, message: { role: 'assistant', content: '' } });
  });

  it('answers stream: false with one object, and shows the context length in /api/show', async () => {
    const whole = parseRecord(
      await (
        await postJson(agent, `${sim.baseUrl}/api/generate`, {
          model: 'm',
          prompt: 'x',
          stream: false,
          options: { num_predict: 3 },
        })
      ).text(),
    );
    expect(whole).toMatchObject({ done: true, eval_count: 3 });
    const show = parseRecord(await (await postJson(agent, `${sim.baseUrl}/api/show`, { model: 'm' })).text());
    expect(field(show, 'model_info', 'llama.context_length')).toBe(32768);
    const tags = parseRecord(await (await getUrl(agent, `${sim.baseUrl}/api/tags`)).text());
    expect(field(tags, 'models', 0, 'name')).toBe('sim-coder');
  });
});

describe('Anthropic messages', () => {
  it('streams the named event sequence from message_start to message_stop', async () => {
    const response = await postJson(
      agent,
      `${sim.baseUrl}/v1/messages`,
      {
        model: 'claude-x',
        max_tokens: 9,
        stream: true,
        system: 'Be brief.',
        messages: [{ role: 'user', content: 'refactor' }],
      },
      { 'anthropic-version': '2023-06-01' },
    );
    const events = sseEvents(await readTimed(response.body));
    const names = events.map((event) => event.event);
    expect(names.slice(0, 3)).toEqual(['message_start', 'content_block_start', 'ping']);
    expect(names.slice(-3)).toEqual(['content_block_stop', 'message_delta', 'message_stop']);
    expect(names.slice(3, -3)).toEqual(Array.from({ length: 9 }, () => 'content_block_delta'));
    for (const event of events) expect(parseRecord(event.data)['type']).toBe(event.event);
    const start = parseRecord(events[0]?.data ?? '');
    expect(Number(field(start, 'message', 'usage', 'input_tokens'))).toBeGreaterThan(0);
    expect(field(start, 'message', 'model')).toBe('claude-x');
    const delta = parseRecord(events[3]?.data ?? '');
    expect(field(delta, 'delta', 'type')).toBe('text_delta');
    expect(String(field(delta, 'delta', 'text')).length).toBeGreaterThan(0);
    const messageDelta = parseRecord(events.at(-2)?.data ?? '');
    expect(field(messageDelta, 'delta', 'stop_reason')).toBe('max_tokens');
    expect(field(messageDelta, 'usage', 'output_tokens')).toBe(9);
  });

  it('says end_turn when the text ends first, and requires max_tokens like the real API', async () => {
    const response = await postJson(
      agent,
      `${sim.baseUrl}/v1/messages`,
      { model: 'c', max_tokens: 100, stream: true, messages: [{ role: 'user', content: 'hi' }] },
      { 'x-sim-completion-tokens': '4' },
    );
    const events = sseEvents(await readTimed(response.body));
    expect(field(parseRecord(events.at(-2)?.data ?? ''), 'delta', 'stop_reason')).toBe('end_turn');
    const missing = await postJson(agent, `${sim.baseUrl}/v1/messages`, {
      model: 'c',
      messages: [{ role: 'user', content: 'hi' }],
    });
    expect(missing.status).toBe(400);
    expect(parseRecord(await missing.text())).toMatchObject({
      type: 'error',
      error: { type: 'invalid_request_error' },
    });
  });
});

describe('request handling', () => {
  it('reuses one keep-alive connection for sequential requests and advertises a 65 s keep-alive', async () => {
    const own = testAgent();
    const before = sim.connections;
    for (let index = 0; index < 3; index++) {
      const response = await getUrl(own, `${sim.baseUrl}/health`);
      expect(response.headers.get('keep-alive')).toBe('timeout=65');
      await response.text();
      // Let the client put the socket back in its pool before the next request (else it may open a second one).
      await delay(20);
    }
    expect(sim.connections - before).toBe(1);
    await own.close();
  });

  it('streams exactly the text completionFor chooses, and gives it the request', async () => {
    const seen: string[] = [];
    sim.setDefaults({
      completionFor: (request) => {
        seen.push(`${request.protocol}|${request.prefix}|${request.suffix}`);
        return 'return a + b;\n}\n';
      },
    });
    try {
      const response = await postJson(agent, `${sim.baseUrl}/v1/completions`, {
        prompt: 'function add(a, b) {\n  ',
        suffix: '\n',
        max_tokens: 100,
        stream: true,
      });
      const events = sseEvents(await readTimed(response.body));
      const text = events
        .filter((event) => event.data !== '[DONE]')
        .map((event) => String(field(parseRecord(event.data), 'choices', 0, 'text')))
        .join('');
      expect(text).toBe('return a + b;\n}\n');
      expect(seen).toEqual(['openai-completions|function add(a, b) {\n  |\n']);
      expect(lastRequest().finishReason).toBe('stop');
    } finally {
      sim.setDefaults({ completionFor: undefined });
    }
  });

  it('rejects an x-sim header it does not understand, and answers unknown paths with 404', async () => {
    const bad = await postJson(agent, `${sim.baseUrl}/v1/completions`, { prompt: 'x' }, { 'x-sim-fault': 'explode' });
    expect(bad.status).toBe(400);
    expect(String(field(parseRecord(await bad.text()), 'error', 'message'))).toContain('x-sim-fault');
    const missing = await getUrl(agent, `${sim.baseUrl}/v2/nothing`);
    expect(missing.status).toBe(404);
    await missing.text();
  });

  it('logs the body with keys redacted from the headers', async () => {
    await (
      await postJson(
        agent,
        `${sim.baseUrl}/v1/completions`,
        { prompt: 'MARKER-123', max_tokens: 1 },
        { authorization: 'Bearer sk-secret' },
      )
    ).text();
    const entry = lastRequest();
    expect(JSON.stringify(entry.body)).toContain('MARKER-123');
    expect(entry.headers['authorization']).toBe('[redacted]');
    expect(JSON.stringify(entry)).not.toContain('sk-secret');
  });
});
