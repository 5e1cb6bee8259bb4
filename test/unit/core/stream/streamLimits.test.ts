import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../../../src/core/clock';
import type { EndpointTarget } from '../../../../src/core/endpoint';
import { BackendError } from '../../../../src/core/errors';
import { generate } from '../../../../src/core/stream/generate';
import type { GenerationSpec } from '../../../../src/core/generation/generationService';
import type { RequestTask } from '../../../../src/core/requestStats';
import { RoutedGenerationService } from '../../../../src/core/generation/routedGenerationService';
import { ManualScheduler } from '../../../../src/core/scheduler';
import { DEFAULT_DEADLINE_MS, OutputBudget, streamLimitsFor } from '../../../../src/core/stream/streamLimits';
import { countTokens } from '../../../../src/core/stream/tokenCount';
import {
  createTransport,
  type HttpRequest,
  type HttpResponse,
  type Transport,
} from '../../../../src/core/stream/transport';
import { resolvedEndpoint } from '../../builders/endpoints';
import { RecordingSink } from '../../builders/statsSinks';

const MIB = 1_048_576;
const encoder = new TextEncoder();

interface TestServer {
  readonly url: string;
  close(): Promise<void>;
}

async function startServer(handler: (request: IncomingMessage, response: ServerResponse) => void): Promise<TestServer> {
  const sockets = new Set<Socket>();
  const server = createServer((request, response) => {
    request.resume();
    handler(request, response);
  });
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/v1`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

const textEvent = (text: string): string =>
  `data: ${JSON.stringify({ choices: [{ index: 0, delta: { content: text }, finish_reason: null }] })}\n\n`;

/** Writes `parts` in order, waiting for the socket to drain, unless the client leaves; then ends the response. */
async function writeAll(response: ServerResponse, parts: Iterable<string>): Promise<void> {
  for (const part of parts) {
    if (response.destroyed) return;
    if (!response.write(part))
      await new Promise<void>((resolve) => response.once('drain', resolve).once('close', resolve));
  }
  if (!response.destroyed) response.end();
}

function* repeat(part: string, times: number): Generator<string> {
  for (let i = 0; i < times; i++) yield part;
}

let transport: Transport;
const servers: TestServer[] = [];
beforeAll(() => {
  transport = createTransport();
});
afterAll(async () => {
  await transport.close();
});
afterEach(async () => {
  while (servers.length > 0) await servers.pop()?.close();
});

async function serve(handler: (request: IncomingMessage, response: ServerResponse) => void): Promise<EndpointTarget> {
  const server = await startServer(handler);
  servers.push(server);
  return { baseUrl: server.url, protocol: 'openai-chat', model: 'test' };
}

async function collect(
  target: EndpointTarget,
  maxTokens: number,
  deadlineMs?: number,
): Promise<{ text: string; error: BackendError | null }> {
  let text = '';
  try {
    for await (const event of generate(
      transport,
      target,
      { messages: [{ role: 'user', content: 'hi' }], maxTokens },
      { deadlineMs },
    )) {
      if (event.kind === 'text') text += event.text;
    }
    return { text, error: null };
  } catch (error) {
    if (error instanceof BackendError) return { text, error };
    throw error;
  }
}

describe('stream limits (issue 14, item 5)', () => {
  it('sizes the budget at about twice max tokens, and lets an event hold an echoed prompt', () => {
    const inline = streamLimitsFor(48, 2_000);
    expect(inline.maxOutputTokens).toBe(2 * 48 + 32);
    expect(inline.maxMessageChars).toBe(MIB + 4_000);
    expect(inline.maxStreamBytes).toBeGreaterThan(MIB);
    expect(inline.maxStreamBytes).toBeLessThan(2 * MIB);
    // A 100,000-token prompt (about 400,000 characters) may come back in one event (Ollama's `context`, llama.cpp's `prompt`).
    expect(streamLimitsFor(4_096, 400_000).maxMessageChars).toBeGreaterThanOrEqual(MIB + 800_000);
    expect(streamLimitsFor(Number.NaN, 10).maxOutputTokens).toBe(Number.POSITIVE_INFINITY);
  });

  it("counts the server's own token counts exactly and estimates the rest at 4 characters a token", () => {
    const counted = new OutputBudget(10, 4);
    for (let i = 0; i < 10; i++) counted.add({ kind: 'text', text: 'a long token text', tokens: 1 });
    expect(() => counted.add({ kind: 'text', text: 'x', tokens: 1 })).toThrow(/ignores the token limit/);
    const estimated = new OutputBudget(10, 4);
    estimated.add({ kind: 'reasoning', text: 'r'.repeat(20) });
    estimated.add({ kind: 'text', text: 't'.repeat(20) });
    estimated.add({
      kind: 'usage',
      promptTokens: 1,
      completionTokens: 999,
      cachedPromptTokens: null,
      acceptedPredictionTokens: null,
      rejectedPredictionTokens: null,
    });
    let thrown: unknown = null;
    try {
      estimated.add({ kind: 'text', text: 't' });
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toMatchObject({ reason: 'malformed', limit: 'output-tokens' });
  });

  it('stops an oversized SSE event as malformed, says so, and keeps the text that came before', async () => {
    // The server would send a 64 MB line without an end; how much it got to write shows where the client stopped it.
    let writes = 0;
    let closed = false;
    const target = await serve((_request, response) => {
      response.writeHead(200, { 'content-type': 'text/event-stream' });
      response.on('close', () => {
        closed = true;
      });
      const parts = [textEvent('ok'), 'data: ', ...repeat('x'.repeat(64 * 1024), 1024)];
      void writeAll(
        response,
        (function* counted() {
          for (const part of parts) {
            writes += 1;
            yield part;
          }
        })(),
      );
    });
    const outcome = await collect(target, 64);
    expect(outcome.error?.reason).toBe('malformed');
    expect(outcome.error?.message).toMatch(/oversized event/);
    expect(outcome.error?.limit).toBe('event-size');
    expect(outcome.text).toBe('ok');
    expect(outcome.error?.partialText).toBe('ok');
    await expect.poll(() => closed, { timeout: 3000, interval: 20 }).toBe(true);
    // 1 MiB read, plus what the sockets buffered: nowhere near the 64 MB on offer.
    expect(writes).toBeLessThan(256);
  });

  it('stops a stream whose bytes pass the cap, even when they carry no text (endless comments)', async () => {
    const target = await serve((_request, response) => {
      response.writeHead(200, { 'content-type': 'text/event-stream' });
      void writeAll(response, [textEvent('ok'), ...repeat(`: ${'k'.repeat(1000)}\n\n`, 3_000), 'data: [DONE]\n\n']);
    });
    const outcome = await collect(target, 4);
    expect(outcome.error?.reason).toBe('malformed');
    expect(outcome.error?.message).toMatch(/more than [\d,]+ bytes/);
    expect(outcome.error?.limit).toBe('output-bytes');
    expect(outcome.error?.partialText).toBe('ok');
  });

  it('stops a trickling stream at the deadline as timeout, keeping the partial text', async () => {
    const target = await serve((_request, response) => {
      response.writeHead(200, { 'content-type': 'text/event-stream' });
      let sent = 0;
      // One event every 20 ms for 4 s: never silent long enough for the idle timeout.
      const timer = setInterval(() => {
        sent += 1;
        if (sent > 200) {
          clearInterval(timer);
          response.end('data: [DONE]\n\n');
        } else response.write(textEvent('a'));
      }, 20);
      response.on('close', () => clearInterval(timer));
    });
    const outcome = await collect(target, 10_000, 300);
    expect(outcome.error?.reason).toBe('timeout');
    expect(outcome.error?.message).toMatch(/not complete after/);
    expect(outcome.text.length).toBeGreaterThan(0);
    expect(outcome.error?.partialText).toBe(outcome.text);
  });
});

/** A server that sends one text event and then nothing, until the request is aborted. */
class StallingTransport implements Transport {
  readonly connectionsOpened = 0;
  request(request: HttpRequest): Promise<HttpResponse> {
    const signal = request.signal;
    async function* body(): AsyncGenerator<Uint8Array> {
      yield encoder.encode(textEvent('partial'));
      await new Promise<never>((_resolve, reject) => {
        const fail = (): void => reject(new BackendError('aborted', 'The request was cancelled.'));
        if (signal?.aborted) fail();
        else signal?.addEventListener('abort', fail, { once: true });
      });
    }
    return Promise.resolve({ status: 200, headers: {}, body: body(), dispose: () => undefined });
  }
  warm(): Promise<void> {
    return Promise.resolve();
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
}

describe('per-task deadlines in the routed service', () => {
  const burst = resolvedEndpoint({ target: { baseUrl: 'http://127.0.0.1:9/v1' } });

  async function settleTimes(task: RequestTask): Promise<{ notYet: boolean; error: unknown; text: string }> {
    const clock = new ManualClock();
    const scheduler = new ManualScheduler(clock, (ms) => clock.advance(ms));
    const routed = new RoutedGenerationService({
      knownSecrets: () => [],
      transport: new StallingTransport(),
      clock,
      scheduler,
      endpoints: (role) => (role === 'burst' ? [burst] : []),
      sink: new RecordingSink(),
      countTokens,
    });
    const spec: GenerationSpec = {
      task,
      signal: new AbortController().signal,
      promptTokens: 10,
      maxOutputTokens: 64,
      role: 'burst',
      build: (endpoint) => ({
        target: endpoint.target,
        request: { messages: [{ role: 'user', content: 'x' }], maxTokens: 64 },
      }),
    };
    const run = routed.start(spec);
    let text = '';
    let settled = false;
    let error: unknown = null;
    const drained = (async () => {
      try {
        for await (const event of run.events) if (event.kind === 'text') text += event.text;
      } catch (caught) {
        error = caught;
      } finally {
        settled = true;
      }
    })();
    await expect.poll(() => text, { timeout: 2000, interval: 5 }).toBe('partial');
    scheduler.advance(DEFAULT_DEADLINE_MS[task] - 1);
    await new Promise((resolve) => setTimeout(resolve, 20));
    const notYet = !settled;
    scheduler.advance(1);
    await expect.poll(() => settled, { timeout: 2000, interval: 5 }).toBe(true);
    await drained;
    return { notYet, error, text };
  }

  it.each<RequestTask>(['inline', 'refactor', 'repo'])(
    '%s: a stalled stream ends as timeout exactly at its deadline, text kept',
    async (task) => {
      const outcome = await settleTimes(task);
      expect(outcome.notYet).toBe(true);
      expect(outcome.error).toMatchObject({ reason: 'timeout', partialText: 'partial' });
    },
  );

  it('gives refactors and repository tasks far longer than inline completions', () => {
    expect(DEFAULT_DEADLINE_MS.inline).toBeLessThanOrEqual(60_000);
    expect(DEFAULT_DEADLINE_MS.refactor).toBeGreaterThanOrEqual(10 * DEFAULT_DEADLINE_MS.inline);
    expect(DEFAULT_DEADLINE_MS.repo).toBeGreaterThan(DEFAULT_DEADLINE_MS.refactor);
  });
});
