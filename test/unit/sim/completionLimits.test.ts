// Stop strings and token caps on every wire: the stream ends right before the first stop string with each API's own
// stop reason, a cap ends it with the "length" reason, and `x-sim-ignore-stops` models a server that honours neither.
import { describe, expect, it } from 'vitest';
import { limitCompletion, tokenizeAtLeast, type CompletionLimits } from '../../../src/sim/completionLimits';
import type { RunningSimulator } from '../../../src/sim/simulator';
import { takeTokens, tokenizeText } from '../../../src/sim/tokenPieces';
import {
  field,
  lastRequestOf,
  ndjsonLines,
  parseRecord,
  postJson,
  readTimed,
  simulatorForFile,
  sseEvents,
  testAgent,
  type TimedEvent,
} from './simHelpers';

const TEXT = 'const first = 1;\nconst second = 2;\n<END>\nconst third = 3;\n';
const BEFORE_END = 'const first = 1;\nconst second = 2;\n';

const agent = testAgent();
let sim: RunningSimulator;

simulatorForFile({ ttftMs: 1, tokensPerSec: 20_000, completionFor: () => TEXT }, agent, (running) => {
  sim = running;
});

interface Limits {
  readonly stop?: string | readonly string[];
  readonly cap?: number;
  readonly stream: boolean;
}

interface Answer {
  readonly text: string;
  /** The fields that say why the answer ended, as the API names them. */
  readonly end: Record<string, unknown>;
}

interface WireCase {
  readonly name: string;
  readonly path: string;
  readonly ndjson: boolean;
  body(limits: Limits): Record<string, unknown>;
  streamed(events: readonly Record<string, unknown>[], named: readonly TimedEvent[]): Answer;
  whole(body: Record<string, unknown>): Answer;
  readonly stopEnd: Record<string, unknown>;
  readonly lengthEnd: Record<string, unknown>;
  readonly naturalEnd: Record<string, unknown>;
}

const text = (value: unknown): string => (typeof value === 'string' ? value : '');
const pick = (record: unknown, keys: readonly string[]): Record<string, unknown> =>
  Object.fromEntries(keys.map((key) => [key, field(record, key)]));
const present = <T extends Record<string, unknown>>(value: T): Partial<T> =>
  Object.fromEntries(Object.entries(value).filter(([, item]) => item !== undefined)) as Partial<T>;

const LLAMA_END_KEYS = ['stop_type', 'stopping_word', 'stopped_word', 'stopped_limit', 'stopped_eos'];

function openAiCase(
  name: string,
  path: string,
  body: (limits: Limits) => Record<string, unknown>,
  contentOf: (choice: unknown) => string,
  wholeContent: (choice: unknown) => string,
): WireCase {
  return {
    name,
    path,
    ndjson: false,
    body,
    streamed: (events) => {
      const chunks = events.filter(
        (event) => Array.isArray(event['choices']) && field(event, 'choices', 0) !== undefined,
      );
      const finish = chunks.find((chunk) => field(chunk, 'choices', 0, 'finish_reason') !== null);
      return {
        text: chunks.map((chunk) => contentOf(field(chunk, 'choices', 0))).join(''),
        end: { finish_reason: field(finish, 'choices', 0, 'finish_reason') },
      };
    },
    whole: (whole) => ({
      text: wholeContent(field(whole, 'choices', 0)),
      end: { finish_reason: field(whole, 'choices', 0, 'finish_reason') },
    }),
    stopEnd: { finish_reason: 'stop' },
    lengthEnd: { finish_reason: 'length' },
    naturalEnd: { finish_reason: 'stop' },
  };
}

const WIRES: readonly WireCase[] = [
  openAiCase(
    'OpenAI chat',
    '/v1/chat/completions',
    ({ stop, cap, stream }) =>
      present({ model: 'm', stream, messages: [{ role: 'user', content: 'go' }], stop, max_tokens: cap }),
    (choice) => text(field(choice, 'delta', 'content')),
    (choice) => text(field(choice, 'message', 'content')),
  ),
  openAiCase(
    'OpenAI completions',
    '/v1/completions',
    ({ stop, cap, stream }) =>
      present({ model: 'm', stream, prompt: 'const zero = 0;\n', suffix: '\n', stop, max_tokens: cap }),
    (choice) => text(field(choice, 'text')),
    (choice) => text(field(choice, 'text')),
  ),
  ...(['/completion', '/infill'] as const).map((path): WireCase => ({
    name: `llama.cpp ${path}`,
    path,
    ndjson: false,
    body: ({ stop, cap, stream }) =>
      present({
        stream,
        prompt: 'const zero = 0;\n',
        input_prefix: 'const zero = 0;\n',
        input_suffix: '\n',
        stop: typeof stop === 'string' ? [stop] : stop,
        n_predict: cap,
      }),
    streamed: (events) => ({
      text: events.map((event) => text(event['content'])).join(''),
      end: pick(events.at(-1), LLAMA_END_KEYS),
    }),
    whole: (whole) => ({ text: text(whole['content']), end: pick(whole, LLAMA_END_KEYS) }),
    stopEnd: {
      stop_type: 'word',
      stopping_word: '<END>',
      stopped_word: true,
      stopped_limit: false,
      stopped_eos: false,
    },
    lengthEnd: { stop_type: 'limit', stopping_word: '', stopped_word: false, stopped_limit: true, stopped_eos: false },
    naturalEnd: { stop_type: 'eos', stopping_word: '', stopped_word: false, stopped_limit: false, stopped_eos: true },
  })),
  {
    name: 'Ollama generate',
    path: '/api/generate',
    ndjson: true,
    body: ({ stop, cap, stream }) => ({
      model: 'm',
      stream,
      prompt: 'const zero = 0;\n',
      options: present({ stop, num_predict: cap }),
    }),
    streamed: (lines) => ({
      text: lines.map((line) => text(line['response'])).join(''),
      end: pick(lines.at(-1), ['done_reason']),
    }),
    whole: (whole) => ({ text: text(whole['response']), end: pick(whole, ['done_reason']) }),
    stopEnd: { done_reason: 'stop' },
    lengthEnd: { done_reason: 'length' },
    naturalEnd: { done_reason: 'stop' },
  },
  {
    name: 'Ollama chat',
    path: '/api/chat',
    ndjson: true,
    body: ({ stop, cap, stream }) => ({
      model: 'm',
      stream,
      messages: [{ role: 'user', content: 'go' }],
      options: present({ stop, num_predict: cap }),
    }),
    streamed: (lines) => ({
      text: lines.map((line) => text(field(line, 'message', 'content'))).join(''),
      end: pick(lines.at(-1), ['done_reason']),
    }),
    whole: (whole) => ({ text: text(field(whole, 'message', 'content')), end: pick(whole, ['done_reason']) }),
    stopEnd: { done_reason: 'stop' },
    lengthEnd: { done_reason: 'length' },
    naturalEnd: { done_reason: 'stop' },
  },
  {
    name: 'Anthropic',
    path: '/v1/messages',
    ndjson: false,
    body: ({ stop, cap, stream }) =>
      present({
        model: 'm',
        stream,
        messages: [{ role: 'user', content: 'go' }],
        stop_sequences: typeof stop === 'string' ? [stop] : stop,
        max_tokens: cap ?? 4096,
      }),
    streamed: (events, named) => {
      const deltas = named
        .filter((event) => event.event === 'content_block_delta')
        .map((event) => text(field(parseRecord(event.data), 'delta', 'text')));
      const messageDelta = events.find((event) => event['type'] === 'message_delta');
      return { text: deltas.join(''), end: pick(field(messageDelta, 'delta'), ['stop_reason', 'stop_sequence']) };
    },
    whole: (whole) => ({
      text: text(field(whole, 'content', 0, 'text')),
      end: pick(whole, ['stop_reason', 'stop_sequence']),
    }),
    stopEnd: { stop_reason: 'stop_sequence', stop_sequence: '<END>' },
    lengthEnd: { stop_reason: 'max_tokens', stop_sequence: null },
    naturalEnd: { stop_reason: 'end_turn', stop_sequence: null },
  },
];

async function ask(wire: WireCase, limits: Limits, headers: Record<string, string> = {}): Promise<Answer> {
  const response = await postJson(agent, `${sim.baseUrl}${wire.path}`, wire.body(limits), headers);
  expect(response.status).toBe(200);
  if (!limits.stream) return wire.whole(parseRecord(await response.text()));
  const chunks = await readTimed(response.body);
  const events = wire.ndjson ? ndjsonLines(chunks) : sseEvents(chunks);
  const records = events.filter((event) => event.data !== '[DONE]').map((event) => parseRecord(event.data));
  return wire.streamed(records, events);
}

describe.each(WIRES)('$name', (wire) => {
  it.each([true, false])(
    'ends right before the first stop string with the API stop reason (stream %s)',
    async (stream) => {
      const answer = await ask(wire, { stop: ['never-there', '<END>'], stream });
      expect(answer.text).toBe(BEFORE_END);
      expect(answer.end).toEqual(wire.stopEnd);
      expect(lastRequestOf(sim)).toMatchObject({ outcome: 'completed', finishReason: 'stop', textWritten: BEFORE_END });
    },
  );

  it.each([true, false])('ends at the token cap with the API length reason (stream %s)', async (stream) => {
    const answer = await ask(wire, { stop: ['<END>'], cap: 4, stream });
    expect(answer.end).toEqual(wire.lengthEnd);
    expect(lastRequestOf(sim)).toMatchObject({ tokensWritten: 4, finishReason: 'length' });
    expect(answer.text).toBe(takeTokens(tokenizeText(TEXT), 4).pieces.join(''));
    expect(BEFORE_END.startsWith(answer.text)).toBe(true);
    expect(answer.text.length).toBeLessThan(BEFORE_END.length);
  });

  it('ignores stop strings and caps with x-sim-ignore-stops: 1, running to the natural end', async () => {
    const answer = await ask(wire, { stop: ['<END>'], cap: 4, stream: true }, { 'x-sim-ignore-stops': '1' });
    expect(answer.text).toBe(TEXT);
    expect(answer.end).toEqual(wire.naturalEnd);
    expect(lastRequestOf(sim).tokensWritten).toBe(tokenizeText(TEXT).ids.length);
  });
});

describe('stop strings on each API', () => {
  it('takes a single string as OpenAI does, and the earliest of several stops', async () => {
    const single = await ask(WIRES[0] ?? fail(), { stop: '<END>', stream: true });
    expect(single.text).toBe(BEFORE_END);
    const earliest = await ask(WIRES[2] ?? fail(), { stop: ['third', '\nconst second'], stream: true });
    expect(earliest.text).toBe('const first = 1;');
    expect(earliest.end['stopping_word']).toBe('\nconst second');
  });

  it('reports a natural end (no stop word) when the natural length ends the text before the stop string', async () => {
    const llama = await ask(WIRES[2] ?? fail(), { stop: ['<END>'], stream: true }, { 'x-sim-completion-tokens': '3' });
    expect(llama.end).toEqual(WIRES[2]?.naturalEnd);
    const anthropic = await ask(
      WIRES[6] ?? fail(),
      { stop: ['<END>'], stream: true },
      { 'x-sim-completion-tokens': '3' },
    );
    expect(anthropic.end).toEqual({ stop_reason: 'end_turn', stop_sequence: null });
  });

  it('a server-wide ignoreStops also ignores the default cap; a header turns it off per request', async () => {
    sim.setDefaults({ ignoreStops: true, maxTokensDefault: 2 });
    try {
      const ignored = await ask(WIRES[1] ?? fail(), { stop: ['<END>'], stream: true });
      expect(ignored.text).toBe(TEXT);
      const honoured = await ask(WIRES[1] ?? fail(), { stop: ['<END>'], stream: true }, { 'x-sim-ignore-stops': '0' });
      expect(honoured.end).toEqual({ finish_reason: 'length' });
      expect(lastRequestOf(sim).tokensWritten).toBe(2);
    } finally {
      sim.setDefaults({ ignoreStops: false, maxTokensDefault: null });
    }
  });

  it('rejects an x-sim-ignore-stops value it does not understand', async () => {
    const response = await postJson(
      agent,
      `${sim.baseUrl}/v1/completions`,
      { prompt: 'x' },
      { 'x-sim-ignore-stops': 'maybe' },
    );
    expect(response.status).toBe(400);
    expect(await response.text()).toContain('x-sim-ignore-stops');
  });
});

function fail(): never {
  throw new Error('missing wire case');
}

describe('limitCompletion', () => {
  const limits = (partial: Partial<CompletionLimits>): CompletionLimits => ({
    stop: [],
    naturalTokens: null,
    requestCap: null,
    hardCap: Number.POSITIVE_INFINITY,
    ignoreStops: false,
    ...partial,
  });

  it('applies the natural length, then the stop string, then the cap', () => {
    expect(limitCompletion(TEXT, limits({ stop: ['<END>'] }), tokenizeText)).toMatchObject({
      finish: 'stop',
      stopWord: '<END>',
    });
    const natural = limitCompletion(TEXT, limits({ stop: ['<END>'], naturalTokens: 3 }), tokenizeText);
    expect(natural).toMatchObject({ finish: 'stop', stopWord: null });
    expect(natural.tokens.ids.length).toBe(3);
    const capped = limitCompletion(TEXT, limits({ stop: ['<END>'], requestCap: 2 }), tokenizeText);
    expect(capped).toMatchObject({ finish: 'length', stopWord: null });
    expect(capped.tokens.ids.length).toBe(2);
    // A stop string at the very start leaves nothing, and that is a stop, not a cap.
    const empty = limitCompletion(TEXT, limits({ stop: ['const first'], requestCap: 0 }), tokenizeText);
    expect(empty).toMatchObject({ finish: 'stop', stopWord: 'const first' });
    expect(empty.tokens.ids).toEqual([]);
  });

  it('keeps the hard cap (the context window) even when told to ignore stops and caps', () => {
    const result = limitCompletion(
      TEXT,
      limits({ stop: ['<END>'], requestCap: 2, hardCap: 5, ignoreStops: true }),
      tokenizeText,
    );
    expect(result).toMatchObject({ finish: 'length', stopWord: null });
    expect(result.tokens.ids.length).toBe(5);
  });

  it('tokenises only a slice of a long text under a small cap, with the same first tokens as the whole text', () => {
    const long = `${'  let value_1 = compute(value_0, "x");\n'.repeat(400)}\u00e9\u00e9 ${'    '.repeat(200)}end`;
    const whole = tokenizeText(long);
    for (const cap of [0, 1, 7, 64, 300]) {
      const seen: number[] = [];
      const partial = tokenizeAtLeast(long, cap, (slice) => {
        seen.push(slice.length);
        return tokenizeText(slice);
      });
      expect(partial.ids.slice(0, cap)).toEqual(whole.ids.slice(0, cap));
      expect(Math.max(...seen)).toBeLessThan(long.length);
    }
    const spaces = ' '.repeat(5000);
    expect(tokenizeAtLeast(spaces, 3, tokenizeText).ids.slice(0, 3)).toEqual(tokenizeText(spaces).ids.slice(0, 3));
  });
});
