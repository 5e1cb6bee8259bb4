import { describe, expect, it } from 'vitest';
import type { ResolvedEndpoint } from '../../../../src/core/endpoint';
import type { ProbeState } from '../../../../src/core/speed/panelProtocol';
import type { ProbeResult } from '../../../../src/core/stream/probe';
import { ManualClock } from '../../../../src/core/clock';
import { BackendError } from '../../../../src/core/errors';
import { ProbeBoard, proberEndingRests } from '../../../../src/core/speed/probeBoard';
import { EndpointHealthBook } from '../../../../src/core/routing/endpointHealth';
import { resolvedEndpoint } from '../../builders/endpoints';

function endpoint(id: string, apiKey?: string): ResolvedEndpoint {
  const target = { baseUrl: 'http://127.0.0.1:9/v1', apiKey };
  return resolvedEndpoint({ id, label: `Label ${id}`, target, contextWindow: 32_768, fim: 'auto' });
}

function result(ok: boolean, message = ''): ProbeResult {
  return {
    ok,
    protocol: 'openai-chat',
    model: 'm',
    ttftMs: ok ? 120 : null,
    decodeTokensPerSec: ok ? 1500 : null,
    outputTokens: ok ? 64 : 0,
    tokensSource: 'server',
    promptTokens: 30,
    totalMs: 200,
    error: ok ? null : { reason: 'unauthorized', status: 401, retryAfterMs: null, message },
  };
}

describe('ProbeBoard', () => {
  it('shows every endpoint at once, probes them one at a time, and records results side by side', async () => {
    const states: ProbeState[] = [];
    const board: ProbeBoard = new ProbeBoard(
      () => 5,
      () => states.push(board.state()),
    );
    let inFlight = 0;
    let maxInFlight = 0;
    await board.run([endpoint('burst#0'), endpoint('burst#1', 'sk-secretsecretsecret')], async (target) => {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      await new Promise((resolve) => setTimeout(resolve, 5));
      inFlight--;
      return target.id === 'burst#0'
        ? result(true)
        : result(false, 'bad key sk-secretsecretsecret for Bearer abcdefghijk');
    });
    expect(maxInFlight).toBe(1);
    expect(states[0]?.rows.map((row) => row.status)).toEqual(['pending', 'pending']);
    expect(states[1]?.rows.map((row) => row.status)).toEqual(['running', 'pending']);
    const final = board.state();
    expect(final.running).toBe(false);
    expect(final.startedAtEpochMs).toBe(5);
    expect(final.rows[0]).toMatchObject({ status: 'ok', ttftMs: 120, decodeTokensPerSec: 1500, contextWindow: 32_768 });
    expect(final.rows[1]).toMatchObject({ status: 'error', errorReason: 'unauthorized' });
    expect(final.rows[1]?.message).not.toContain('sk-secret');
    expect(final.rows[1]?.message).not.toContain('abcdefghijk');
  });

  it('forgets the results of backends that were replaced or removed, and keeps the others', async () => {
    let changes = 0;
    const board = new ProbeBoard(
      () => 5,
      () => changes++,
    );
    await board.run([endpoint('burst#0'), endpoint('burst#1')], async () => result(true));
    const before = changes;
    board.keepOnly([endpoint('burst#0'), endpoint('burst#1')]);
    expect(changes).toBe(before);
    // burst#1 now names another backend (another label): its old figures must not be shown under that name.
    board.keepOnly([endpoint('burst#0'), { ...endpoint('burst#1'), label: 'Groq llama' }]);
    expect(board.state().rows.map((row) => row.endpointId)).toEqual(['burst#0']);
    expect(changes).toBe(before + 1);
    board.keepOnly([]);
    expect(board.state()).toMatchObject({ rows: [], startedAtEpochMs: null });
  });

  it('turns a thrown error into an error row and ignores a second run while one is going', async () => {
    const board = new ProbeBoard(
      () => 0,
      () => undefined,
    );
    let calls = 0;
    const first = board.run([endpoint('burst#0')], async () => {
      calls++;
      throw new Error('boom');
    });
    await board.run([endpoint('burst#0')], async () => {
      calls++;
      return result(true);
    });
    await first;
    expect(calls).toBe(1);
    expect(board.state().rows[0]).toMatchObject({ status: 'error', message: 'boom' });
  });

  it('cancel stops the run; the rest stay pending', async () => {
    const board: ProbeBoard = new ProbeBoard(
      () => 0,
      () => undefined,
    );
    await board.run([endpoint('burst#0'), endpoint('burst#1')], async (_target, signal) => {
      board.cancel();
      expect(signal.aborted).toBe(true);
      return result(false, 'aborted');
    });
    expect(board.state().rows.map((row) => row.status)).toEqual(['error', 'pending']);
  });
});

describe('Probe Backends ends a rest (issue 14, item 6)', () => {
  it('a successful probe puts a resting endpoint back in use at once; a failed one leaves the rest as it is', async () => {
    const health = new EndpointHealthBook(new ManualClock());
    const limited = new BackendError('rate-limited', '429', { status: 429, retryAfterMs: 300_000 });
    health.recordFailure('burst#0', limited, 'rate-limited');
    health.recordFailure('burst#1', limited, 'rate-limited');
    const board = new ProbeBoard(
      () => 5,
      () => undefined,
    );
    await board.run(
      [endpoint('burst#0'), endpoint('burst#1')],
      proberEndingRests((target) => Promise.resolve(result(target.id === 'burst#0')), health),
    );
    expect(health.snapshot('burst#0')).toMatchObject({ state: 'closed', restRemainingMs: 0 });
    expect(health.snapshot('burst#1')).toMatchObject({ state: 'open', restRemainingMs: 300_000 });
    expect(board.state().rows.map((row) => row.status)).toEqual(['ok', 'error']);
  });
});
