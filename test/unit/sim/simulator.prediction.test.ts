// Predicted outputs in the simulator, over HTTP: usage reports accepted and rejected prediction tokens as OpenAI does
// (rejected ones inside completion_tokens), and accepted tokens stream faster, so the client's meter sees a higher
// effective speed with a good prediction than without one.
import { encode } from 'gpt-tokenizer/encoding/cl100k_base';
import { describe, expect, it } from 'vitest';
import { systemClock } from '../../../src/core/clock';
import { generate } from '../../../src/core/stream/generate';
import { SpeedMeter } from '../../../src/core/stream/meter';
import { countTokens } from '../../../src/core/stream/tokenCount';
import { createTransport } from '../../../src/core/stream/transport';
import type { RunningSimulator } from '../../../src/sim/simulator';
import { field, parseRecord, postJson, readTimed, simulatorForFile, sseEvents, testAgent } from './simHelpers';

const LINES = Array.from({ length: 30 }, (_, index) => `  const value${index} = compute(${index}, options);`);
const ORIGINAL = `function run(options) {\n${LINES.join('\n')}\n}\n`;
// The answer renames one word on one line: nearly all of it repeats the original.
const ANSWER = ORIGINAL.replace('value7 = compute(7', 'renamed7 = compute(7');
const answerTokens = encode(ANSWER).length;
const originalTokens = encode(ORIGINAL).length;

const agent = testAgent();
let sim: RunningSimulator;
simulatorForFile({ ttftMs: 20, tokensPerSec: 1_000, completionFor: () => ANSWER }, agent, (running) => {
  sim = running;
});

const chatBody = (extra: Record<string, unknown> = {}) => ({
  model: 'sim',
  stream: true,
  max_tokens: 2_000,
  stream_options: { include_usage: true },
  messages: [{ role: 'user', content: `Rename value7.\n${ORIGINAL}` }],
  ...extra,
});

async function usageOf(body: Record<string, unknown>): Promise<unknown> {
  const response = await postJson(agent, `${sim.baseUrl}/v1/chat/completions`, body);
  const events = sseEvents(await readTimed(response.body));
  const last = events.filter((event) => event.data !== '[DONE]').at(-1);
  return field(parseRecord(last?.data ?? '{}'), 'usage');
}

describe('predicted outputs in the simulator', { timeout: 20_000 }, () => {
  it('reports accepted and rejected prediction tokens, rejected ones billed inside completion_tokens', async () => {
    const good = await usageOf(chatBody({ prediction: { type: 'content', content: ORIGINAL } }));
    const accepted = Number(field(good, 'completion_tokens_details', 'accepted_prediction_tokens'));
    const rejected = Number(field(good, 'completion_tokens_details', 'rejected_prediction_tokens'));
    // Only the renamed word's tokens are not from the prediction.
    expect(accepted).toBeGreaterThan(answerTokens - 6);
    expect(accepted + rejected).toBe(originalTokens);
    expect(field(good, 'completion_tokens')).toBe(answerTokens + rejected);

    const unrelated = await usageOf(
      chatBody({ prediction: { type: 'content', content: 'SELECT name FROM users WHERE id = 7;' } }),
    );
    expect(field(unrelated, 'completion_tokens_details', 'accepted_prediction_tokens')).toBe(0);
    const unrelatedTokens = encode('SELECT name FROM users WHERE id = 7;').length;
    expect(field(unrelated, 'completion_tokens_details', 'rejected_prediction_tokens')).toBe(unrelatedTokens);
    expect(field(unrelated, 'completion_tokens')).toBe(answerTokens + unrelatedTokens);

    // Text parts are taken as OpenAI takes them; without a prediction usage has no details.
    const parts = await usageOf(
      chatBody({ prediction: { type: 'content', content: [{ type: 'text', text: ORIGINAL }] } }),
    );
    expect(field(parts, 'completion_tokens_details', 'accepted_prediction_tokens')).toBe(accepted);
    const none = await usageOf(chatBody());
    expect(field(none, 'completion_tokens')).toBe(answerTokens);
    expect(field(none, 'completion_tokens_details')).toBeUndefined();
  });

  it('streams accepted tokens faster: the meter reads a higher effective speed and leaves rejected tokens out', async () => {
    const transport = createTransport();
    try {
      const target = { baseUrl: `${sim.baseUrl}/v1`, protocol: 'openai-chat' as const, model: 'sim' };
      const measure = async (prediction: string | undefined) => {
        const meter = new SpeedMeter(systemClock, countTokens);
        meter.start();
        const request = {
          messages: [{ role: 'user' as const, content: `Rename value7.\n${ORIGINAL}` }],
          maxTokens: 2_000,
          ...(prediction === undefined ? {} : { prediction }),
        };
        for await (const event of generate(transport, target, request)) meter.observe(event);
        return meter.finish();
      };
      const plain = await measure(undefined);
      const predicted = await measure(ORIGINAL);
      const poor = await measure('SELECT name FROM users WHERE id = 7;');

      expect(plain.effectiveTokensPerSec).toBeNull();
      expect(plain.acceptedPredictionTokens).toBeNull();
      expect(predicted.outputTokens).toBe(answerTokens);
      expect(predicted.acceptedPredictionTokens).toBeGreaterThan(answerTokens - 6);
      // About 4x at the default speedup; 2x leaves room for a loaded machine.
      expect(predicted.effectiveTokensPerSec ?? 0).toBeGreaterThan(2 * (plain.decodeTokensPerSec ?? Infinity));
      // A wholly rejected prediction: no faster, and its rejected tokens do not count as output.
      expect(poor.outputTokens).toBe(answerTokens);
      expect(poor.rejectedPredictionTokens).toBeGreaterThan(0);
      expect(poor.effectiveTokensPerSec ?? Infinity).toBeLessThan(1.5 * (plain.decodeTokensPerSec ?? 0));
    } finally {
      await transport.close();
    }
  });

  it('takes the speedup as an option (1 = no faster), and refuses one below 1', async () => {
    sim.setDefaults({ predictionSpeedup: 1 });
    try {
      const response = await postJson(
        agent,
        `${sim.baseUrl}/v1/chat/completions`,
        chatBody({ prediction: { type: 'content', content: ORIGINAL } }),
      );
      const events = sseEvents(await readTimed(response.body)).filter((event) => event.data !== '[DONE]');
      const spanMs = (events.at(-1)?.atMs ?? 0) - (events[1]?.atMs ?? 0);
      // answerTokens at 1,000 tok/s, with no speedup: most of answerTokens ms (the timing is the server's schedule).
      expect(spanMs).toBeGreaterThan(0.6 * answerTokens);
    } finally {
      sim.setDefaults({ predictionSpeedup: 4 });
    }
    expect(() => sim.setDefaults({ predictionSpeedup: 0.5 })).toThrow(RangeError);
  });
});
