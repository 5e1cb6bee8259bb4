// The HTTP face of the local engine: the same OpenAI protocol the rest of the extension speaks (and that llama-server
// serves), on 127.0.0.1 only. Streams are SSE: a role-only first chunk for chat, one chunk per decoded piece, a final
// chunk with `finish_reason` and llama.cpp-style `timings`, the `usage` chunk (`choices: []`) when
// `stream_options.include_usage` asks for it, then `data: [DONE]`.
import { createHash, randomUUID, timingSafeEqual } from 'node:crypto';
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { isRecord } from '../core/json';
import { ContextTooLongError } from './localModel';
import type { ChatMessage, GenerationInput, GenerationOutcome, SamplingParams } from './localModel';

/** What the server needs from the model: one generation at a time (the server queues). */
export interface ServedModel {
  readonly contextSize: number;
  generate(
    input: GenerationInput,
    params: SamplingParams,
    onText: (text: string) => void,
    signal: AbortSignal,
  ): Promise<GenerationOutcome>;
}

/** Largest request body accepted, in bytes: a long-context prompt is a few MB of text. */
const MAX_BODY_BYTES = 32 * 1024 * 1024;
/** Answer length when the request names none, in tokens. */
const DEFAULT_MAX_TOKENS = 256;

type Json = Record<string, unknown>;

/** A request the server refuses, with its HTTP status and OpenAI error type. */
class RequestError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly type: string = 'invalid_request_error',
  ) {
    super(message);
  }
}

function sendJson(response: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  response.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  response.end(text);
}

function sendError(response: ServerResponse, error: RequestError): void {
  sendJson(response, error.status, { error: { message: error.message, type: error.type, code: error.status } });
}

async function readJson(request: IncomingMessage): Promise<Json> {
  const chunks: Buffer[] = [];
  let bytes = 0;
  for await (const chunk of request) {
    if (!(chunk instanceof Buffer)) continue;
    bytes += chunk.length;
    if (bytes > MAX_BODY_BYTES) throw new RequestError(413, `request body over ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new RequestError(400, 'the request body is not JSON');
  }
  if (!isRecord(parsed)) throw new RequestError(400, 'the request body is not a JSON object');
  return parsed;
}

function optionalNumber(body: Json, key: string): number | undefined {
  const value = body[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value)) throw new RequestError(400, `'${key}' must be a number`);
  return value;
}

/** OpenAI sampling fields -> the model's parameters. */
function samplingOf(body: Json): SamplingParams {
  const maxTokens =
    optionalNumber(body, 'max_tokens') ?? optionalNumber(body, 'max_completion_tokens') ?? DEFAULT_MAX_TOKENS;
  if (!Number.isInteger(maxTokens) || maxTokens < 1)
    throw new RequestError(400, "'max_tokens' must be a positive integer");
  const rawStop = body['stop'];
  const stop =
    typeof rawStop === 'string'
      ? [rawStop]
      : Array.isArray(rawStop)
        ? rawStop.filter((item): item is string => typeof item === 'string' && item !== '')
        : [];
  const logitBias = new Map<number, number>();
  const rawBias = body['logit_bias'];
  if (isRecord(rawBias)) {
    for (const [token, bias] of Object.entries(rawBias)) {
      const id = Number(token);
      if (Number.isInteger(id) && id >= 0 && typeof bias === 'number' && Number.isFinite(bias)) logitBias.set(id, bias);
    }
  }
  return {
    maxTokens,
    temperature: optionalNumber(body, 'temperature'),
    topP: optionalNumber(body, 'top_p'),
    seed: optionalNumber(body, 'seed'),
    stop,
    logitBias,
  };
}

/** Text of an OpenAI message's content: a string, or the text parts of a content array. */
function contentText(content: unknown): string | null {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return null;
  return content
    .map((part) => (isRecord(part) && part['type'] === 'text' && typeof part['text'] === 'string' ? part['text'] : ''))
    .join('');
}

function chatMessagesOf(body: Json): ChatMessage[] {
  const raw = body['messages'];
  if (!Array.isArray(raw) || raw.length === 0) throw new RequestError(400, "'messages' must be a non-empty array");
  return raw.map((message, index): ChatMessage => {
    if (!isRecord(message)) throw new RequestError(400, `messages[${index}] is not an object`);
    const role = message['role'] === 'developer' ? 'system' : message['role'];
    const content = contentText(message['content']);
    if ((role !== 'system' && role !== 'user' && role !== 'assistant') || content === null) {
      throw new RequestError(400, `messages[${index}] needs a role (system, user, assistant) and text content`);
    }
    return { role, content };
  });
}

function promptOf(body: Json): string {
  const prompt = body['prompt'];
  if (typeof prompt === 'string') return prompt;
  if (Array.isArray(prompt) && prompt.length === 1 && typeof prompt[0] === 'string') return prompt[0];
  throw new RequestError(400, "'prompt' must be a string");
}

/** Runs one task at a time, in arrival order: the model has one sequence. */
class SerialQueue {
  private tail: Promise<void> = Promise.resolve();

  run<T>(task: () => Promise<T>): Promise<T> {
    const result = this.tail.then(task);
    this.tail = result.then(
      () => undefined,
      () => undefined,
    );
    return result;
  }
}

/** Options of the server. */
export interface OpenAiServerOptions {
  readonly model: ServedModel;
  /** The name `/v1/models` gives (the GGUF file's name). */
  readonly modelId: string;
  /** The per-run key every request must carry as `Authorization: Bearer <key>` (only the extension knows it). */
  readonly apiKey: string;
}

/** Equal keys, compared in constant time (hashed first: `timingSafeEqual` needs equal lengths). */
function sameKey(given: string, expected: string): boolean {
  const digest = (text: string): Buffer => createHash('sha256').update(text, 'utf8').digest();
  return timingSafeEqual(digest(given), digest(expected));
}

/** The media type of a Content-Type header, lower case, without parameters (`application/json; charset=utf-8`). */
function mediaType(contentType: string | undefined): string {
  return (contentType ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
}

/**
 * Why a request may not be served, or null. Loopback is reachable by every local process and by every web page the
 * person opens (a page can POST `text/plain` without a CORS preflight, and DNS rebinding points a page's own host name
 * at 127.0.0.1), so: the Host must be this server's loopback address (a rebound page sends its own name), no Origin at
 * all (browsers send one on cross-site POSTs; the extension never does), the per-run key, and JSON bodies only (a
 * page cannot send `application/json` cross-origin without a preflight, which this server never answers).
 */
function refusalOf(request: IncomingMessage, port: number, apiKey: string): RequestError | null {
  const host = (request.headers.host ?? '').toLowerCase();
  if (host !== `127.0.0.1:${port}` && host !== `localhost:${port}`)
    return new RequestError(
      403,
      'this server only answers requests addressed to 127.0.0.1 or localhost',
      'permission_error',
    );
  if (request.headers.origin !== undefined)
    return new RequestError(403, 'this server does not answer requests from web pages', 'permission_error');
  const bearer = /^Bearer\s+(\S+)$/i.exec(request.headers.authorization ?? '');
  if (!bearer?.[1] || !sameKey(bearer[1], apiKey))
    return new RequestError(
      401,
      'missing or wrong key: only the extension that started this engine may use it',
      'authentication_error',
    );
  if (request.method === 'POST' && mediaType(request.headers['content-type']) !== 'application/json') {
    return new RequestError(415, 'the request body must be sent as application/json');
  }
  return null;
}

/** The local engine's HTTP server. */
export class OpenAiServer {
  private readonly server: Server;
  private readonly queue = new SerialQueue();
  /** The port it listens on (0 until `listen()`): the only one a request's Host may name. */
  private port = 0;

  constructor(private readonly options: OpenAiServerOptions) {
    this.server = createServer((request, response) => {
      this.handle(request, response).catch((error: unknown) => {
        const failure =
          error instanceof RequestError
            ? error
            : new RequestError(500, error instanceof Error ? error.message : String(error), 'server_error');
        if (!response.headersSent) sendError(response, failure);
        else response.destroy();
      });
    });
    // Streams may pause for long prompt evaluations; the client decides when to give up.
    this.server.requestTimeout = 0;
    this.server.keepAliveTimeout = 65_000;
  }

  /** Listens on 127.0.0.1 on a port the system picks; resolves with the port. */
  listen(): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(0, '127.0.0.1', () => {
        const address: AddressInfo | string | null = this.server.address();
        if (address === null || typeof address === 'string') reject(new Error('the server has no TCP address'));
        else {
          this.port = address.port;
          resolve(address.port);
        }
      });
    });
  }

  /** Stops accepting and closes every connection. */
  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const refusal = refusalOf(request, this.port, this.options.apiKey);
    if (refusal) {
      // The body is not read; closing the connection spares reading it.
      response.setHeader('connection', 'close');
      throw refusal;
    }
    const path = (request.url ?? '/').split('?')[0] ?? '/';
    if (request.method === 'GET' && path === '/health') return sendJson(response, 200, { status: 'ok' });
    if (request.method === 'GET' && (path === '/v1/models' || path === '/models')) {
      return sendJson(response, 200, {
        object: 'list',
        data: [
          {
            id: this.options.modelId,
            object: 'model',
            owned_by: 'latency-copilot-local',
            context_length: this.options.model.contextSize,
          },
        ],
      });
    }
    if (request.method === 'POST' && (path === '/v1/chat/completions' || path === '/chat/completions')) {
      const body = await readJson(request);
      return this.complete(body, { kind: 'chat', messages: chatMessagesOf(body) }, response);
    }
    if (request.method === 'POST' && (path === '/v1/completions' || path === '/completions')) {
      const body = await readJson(request);
      // `suffix` asks for fill-in-the-middle (OpenAI's completions API); the model's own FIM tokens frame it.
      const suffix = body['suffix'];
      const input: GenerationInput =
        typeof suffix === 'string'
          ? { kind: 'infill', prefix: promptOf(body), suffix }
          : { kind: 'prompt', prompt: promptOf(body) };
      return this.complete(body, input, response);
    }
    throw new RequestError(404, `no route ${request.method ?? ''} ${path}`, 'not_found_error');
  }

  private async complete(body: Json, input: GenerationInput, response: ServerResponse): Promise<void> {
    const params = samplingOf(body);
    const stream = body['stream'] === true;
    const includeUsage = isRecord(body['stream_options']) && body['stream_options']['include_usage'] === true;
    const chat = input.kind === 'chat';
    const id = `${chat ? 'chatcmpl' : 'cmpl'}-${randomUUID()}`;
    const created = Math.floor(Date.now() / 1000);
    const object = chat ? 'chat.completion.chunk' : 'text_completion';
    const model = this.options.modelId;
    // The client leaving (closed connection) cancels its generation, queued or running.
    const controller = new AbortController();
    response.on('close', () => {
      if (!response.writableFinished) controller.abort();
    });
    const chunkOf = (choice: Json): Json => ({ id, object, created, model, choices: [{ index: 0, ...choice }] });
    const piece = (text: string): Json =>
      chat ? { delta: { content: text }, finish_reason: null } : { text, finish_reason: null };
    const write = (payload: Json): void => {
      response.write(`data: ${JSON.stringify(payload)}\n\n`);
    };

    let answer = '';
    const outcome = await this.queue.run(async () => {
      if (controller.signal.aborted) return null;
      try {
        return await this.options.model.generate(
          input,
          params,
          (text) => {
            if (!stream) {
              answer += text;
              return;
            }
            if (!response.headersSent) {
              response.writeHead(200, {
                'content-type': 'text/event-stream',
                'cache-control': 'no-cache',
                connection: 'keep-alive',
              });
              if (chat) write(chunkOf({ delta: { role: 'assistant', content: null }, finish_reason: null }));
            }
            write(chunkOf(piece(text)));
          },
          controller.signal,
        );
      } catch (error) {
        if (error instanceof ContextTooLongError)
          throw new RequestError(400, error.message, 'exceed_context_size_error');
        throw error;
      }
    });
    if (outcome === null || outcome.aborted) {
      response.destroy();
      return;
    }
    const timings = {
      prompt_n: outcome.promptTokens - outcome.cachedPromptTokens,
      prompt_ms: outcome.promptMs,
      cache_n: outcome.cachedPromptTokens,
      predicted_n: outcome.completionTokens,
      predicted_ms: outcome.predictedMs,
      predicted_per_second:
        outcome.predictedMs > 0 ? ((outcome.completionTokens - 1) * 1000) / outcome.predictedMs : null,
    };
    const usage = {
      prompt_tokens: outcome.promptTokens,
      completion_tokens: outcome.completionTokens,
      total_tokens: outcome.promptTokens + outcome.completionTokens,
    };
    if (!stream) {
      const choice = chat
        ? { index: 0, message: { role: 'assistant', content: answer }, finish_reason: outcome.finishReason }
        : { index: 0, text: answer, finish_reason: outcome.finishReason };
      return sendJson(response, 200, {
        id,
        object: chat ? 'chat.completion' : 'text_completion',
        created,
        model,
        choices: [choice],
        usage,
        timings,
      });
    }
    if (!response.headersSent) {
      // Nothing was generated (an immediate stop): the stream still has its opening.
      response.writeHead(200, {
        'content-type': 'text/event-stream',
        'cache-control': 'no-cache',
        connection: 'keep-alive',
      });
      if (chat) write(chunkOf({ delta: { role: 'assistant', content: null }, finish_reason: null }));
    }
    write({
      ...chunkOf(
        chat ? { delta: {}, finish_reason: outcome.finishReason } : { text: '', finish_reason: outcome.finishReason },
      ),
      timings,
    });
    if (includeUsage) write({ id, object, created, model, choices: [], usage });
    response.end('data: [DONE]\n\n');
  }
}
