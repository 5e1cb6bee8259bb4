import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../../../src/core/clock';
import { SpeedMeter } from '../../../../src/core/stream/meter';
import { countTokens } from '../../../../src/core/stream/tokenCount';

/** One token per word here, so expectations are easy to read. */
const wordCount = (text: string): number => text.split(/(?=\s)/).filter((piece) => piece.length > 0).length;

describe('SpeedMeter', () => {
  it('stamps TTFT at the first real text, not at a role-only or empty chunk', () => {
    const clock = new ManualClock(1000);
    const meter = new SpeedMeter(clock, wordCount);
    meter.start();
    clock.advance(1.4);
    meter.observe({ kind: 'text', text: '' });
    clock.advance(200.6);
    meter.observe({ kind: 'text', text: 'hello' });
    expect(meter.ttftMs()).toBe(202);
  });

  it('counts reasoning text as the first token too', () => {
    const clock = new ManualClock();
    const meter = new SpeedMeter(clock, wordCount);
    meter.start();
    clock.advance(50);
    meter.observe({ kind: 'reasoning', text: 'thinking' });
    expect(meter.finish().ttftMs).toBe(50);
  });

  it('excludes TTFT from decode speed: (tokens after the first) / (last - first)', () => {
    const clock = new ManualClock();
    const meter = new SpeedMeter(clock, wordCount);
    meter.start();
    clock.advance(500); // a slow prefill must not drag the decode figure down
    meter.observe({ kind: 'text', text: 'a' });
    for (let i = 0; i < 100; i++) {
      clock.advance(1); // 1,000 tokens/s
      meter.observe({ kind: 'text', text: ' b' });
    }
    const stats = meter.finish();
    expect(stats.ttftMs).toBe(500);
    expect(stats.decodeTokensPerSec).toBeCloseTo(1000, 6);
    expect(stats.outputTokens).toBe(101);
    expect(stats.tokensSource).toBe('estimate');
  });

  it('stays exact when each chunk holds several tokens', () => {
    const clock = new ManualClock();
    const meter = new SpeedMeter(clock, wordCount);
    meter.start();
    clock.advance(100);
    meter.observe({ kind: 'text', text: 'a b c d' });
    for (let i = 0; i < 50; i++) {
      clock.advance(4); // 4 tokens every 4 ms: 1,000 tokens/s
      meter.observe({ kind: 'text', text: ' e f g h' });
    }
    expect(meter.finish().decodeTokensPerSec).toBeCloseTo(1000, 6);
    expect(meter.liveTokensPerSec()).toBeCloseTo(1000, 6);
  });

  it('prefers the server count, labels it, and a usage chunk does not move the last-token time', () => {
    const clock = new ManualClock();
    const meter = new SpeedMeter(clock, wordCount);
    meter.start();
    clock.advance(100);
    meter.observe({ kind: 'text', text: 'one' });
    clock.advance(10);
    meter.observe({ kind: 'text', text: ' two three' }); // our estimate says 3 tokens in all
    clock.advance(5000); // the usage chunk arrives late
    meter.observe({
      kind: 'usage',
      promptTokens: 40,
      completionTokens: 11,
      cachedPromptTokens: 8,
      acceptedPredictionTokens: null,
      rejectedPredictionTokens: null,
    });
    const stats = meter.finish();
    expect(stats.outputTokens).toBe(11);
    expect(stats.tokensSource).toBe('server');
    expect(stats.promptTokens).toBe(40);
    expect(stats.cachedPromptTokens).toBe(8);
    // 11 tokens, the first chunk being 1/3 of them by estimate: (11 * 2/3) tokens over 10 ms.
    expect(stats.decodeTokensPerSec).toBeCloseTo((11 * (2 / 3) * 1000) / 10, 6);
    expect(stats.totalMs).toBe(5110);
  });

  it('uses per-event token counts when the server gives them (llama.cpp), not the tokenizer', () => {
    const clock = new ManualClock();
    const byCharacters = (text: string): number => text.length; // a deliberately wrong tokenizer
    const meter = new SpeedMeter(clock, byCharacters);
    meter.start();
    clock.advance(40);
    meter.observe({ kind: 'text', text: 'abcd', tokens: 1 });
    for (let i = 0; i < 10; i++) {
      clock.advance(1);
      meter.observe({ kind: 'text', text: ' xy', tokens: 1 });
    }
    expect(meter.outputTokens()).toBe(11);
    expect(meter.liveTokensPerSec()).toBeCloseTo(1000, 6);
    meter.observe({
      kind: 'timings',
      origin: 'llamacpp',
      promptTokens: 5,
      promptMs: 10,
      predictedTokens: 11,
      predictedMs: 11,
      cachedPromptTokens: 0,
    });
    expect(meter.finish().decodeTokensPerSec).toBeCloseTo(1000, 6);
  });

  it('reports the server decode and prefill speeds from timings', () => {
    const clock = new ManualClock();
    const meter = new SpeedMeter(clock, wordCount);
    meter.start();
    clock.advance(20);
    meter.observe({ kind: 'text', text: 'x' });
    clock.advance(20);
    meter.observe({ kind: 'text', text: ' y' });
    meter.observe({
      kind: 'timings',
      origin: 'llamacpp',
      promptTokens: 300,
      promptMs: 150,
      predictedTokens: 2,
      predictedMs: 4,
      cachedPromptTokens: 256,
    });
    const stats = meter.finish();
    expect(stats.serverDecodeTokensPerSec).toBe(500);
    expect(stats.prefillTokensPerSec).toBe(2000);
    expect(stats.cachedPromptTokens).toBe(256);
    expect(stats.tokensSource).toBe('server');
  });

  it('has no decode figure for zero or one chunk, and still times a failed request', () => {
    const clock = new ManualClock();
    const meter = new SpeedMeter(clock, wordCount);
    meter.start();
    clock.advance(30);
    const nothing = meter.finish();
    expect(nothing).toMatchObject({ ttftMs: null, decodeTokensPerSec: null, outputTokens: 0, totalMs: 30 });
    const single = new SpeedMeter(clock, wordCount);
    single.start();
    single.observe({ kind: 'text', text: 'only' });
    expect(single.finish().decodeTokensPerSec).toBeNull();
  });

  it('estimates with the real tokenizer when given it', () => {
    const clock = new ManualClock();
    const meter = new SpeedMeter(clock, countTokens);
    meter.start();
    const text = 'export function add(a: number, b: number): number {\n  return a + b;\n}\n';
    meter.observe({ kind: 'text', text });
    expect(meter.finish().outputTokens).toBe(countTokens(text));
    expect(countTokens(text)).toBeGreaterThan(10);
    expect(countTokens('<|im_start|>user')).toBeGreaterThan(1);
  });

  describe('predicted outputs', () => {
    const usage = (completionTokens: number, accepted: number | null, rejected: number | null) =>
      ({
        kind: 'usage',
        promptTokens: 100,
        completionTokens,
        cachedPromptTokens: null,
        acceptedPredictionTokens: accepted,
        rejectedPredictionTokens: rejected,
      }) as const;

    /** 1 token, then 100 more at 1 ms each (1,000 tok/s as the client sees them), then the usage chunk. */
    function streamed(meter: SpeedMeter, clock: ManualClock): void {
      meter.start();
      clock.advance(80);
      meter.observe({ kind: 'text', text: 'a' });
      for (let i = 0; i < 100; i++) {
        clock.advance(1);
        meter.observe({ kind: 'text', text: ' b' });
      }
    }

    it('leaves rejected prediction tokens out of the output count and of decode tok/s, and reports them', () => {
      const clock = new ManualClock();
      const meter = new SpeedMeter(clock, wordCount);
      streamed(meter, clock);
      // OpenAI bills the 40 rejected tokens inside completion_tokens: 101 answer tokens + 40 = 141.
      meter.observe(usage(141, 90, 40));
      const stats = meter.finish();
      expect(stats.outputTokens).toBe(101);
      expect(stats.tokensSource).toBe('server');
      expect(stats.acceptedPredictionTokens).toBe(90);
      expect(stats.rejectedPredictionTokens).toBe(40);
      // 100 tokens after the first over 100 ms: not (140 / 100 ms) as the raw server count would say.
      expect(stats.decodeTokensPerSec).toBeCloseTo(1000, 6);
      expect(stats.effectiveTokensPerSec).toBeCloseTo(1000, 6);
      expect(meter.outputTokens()).toBe(101);
    });

    it('has no prediction figures without a prediction, even when the server reports zeros (Cerebras)', () => {
      for (const [accepted, rejected] of [
        [null, null],
        [0, 0],
      ] as const) {
        const clock = new ManualClock();
        const meter = new SpeedMeter(clock, wordCount);
        streamed(meter, clock);
        meter.observe(usage(101, accepted, rejected));
        const stats = meter.finish();
        expect(stats.acceptedPredictionTokens).toBeNull();
        expect(stats.rejectedPredictionTokens).toBeNull();
        expect(stats.effectiveTokensPerSec).toBeNull();
        expect(stats.outputTokens).toBe(101);
        expect(stats.decodeTokensPerSec).toBeCloseTo(1000, 6);
      }
    });

    it('a prediction wholly rejected still yields an effective speed over the answer alone', () => {
      const clock = new ManualClock();
      const meter = new SpeedMeter(clock, wordCount);
      streamed(meter, clock);
      meter.observe(usage(101 + 300, 0, 300));
      const stats = meter.finish();
      expect(stats.acceptedPredictionTokens).toBe(0);
      expect(stats.rejectedPredictionTokens).toBe(300);
      expect(stats.outputTokens).toBe(101);
      expect(stats.effectiveTokensPerSec).toBeCloseTo(1000, 6);
    });

    it('a faster stream of accepted tokens shows as a higher effective speed, TTFT excluded', () => {
      const clock = new ManualClock();
      const meter = new SpeedMeter(clock, wordCount);
      meter.start();
      clock.advance(300); // a long TTFT does not lower the figure
      meter.observe({ kind: 'text', text: 'a' });
      for (let i = 0; i < 100; i++) {
        clock.advance(0.25); // accepted tokens at 4,000 tok/s
        meter.observe({ kind: 'text', text: ' b' });
      }
      meter.observe(usage(101 + 2, 100, 2));
      const stats = meter.finish();
      expect(stats.ttftMs).toBe(300);
      expect(stats.outputTokens).toBe(101);
      // 100 tokens after the first over 25 ms.
      expect(stats.effectiveTokensPerSec).toBeCloseTo(4000, 6);
    });
  });
});
