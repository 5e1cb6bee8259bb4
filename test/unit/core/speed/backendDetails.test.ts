import { describe, expect, it } from 'vitest';
import { backendDetails } from '../../../../src/core/speed/backendDetails';
import { ManualClock } from '../../../../src/core/clock';
import type { ResolvedEndpoint } from '../../../../src/core/endpoint';
import { BackendError } from '../../../../src/core/errors';
import { ContextWindowBook } from '../../../../src/core/routing/contextWindowBook';
import { EndpointHealthBook } from '../../../../src/core/routing/endpointHealth';
import { resolvedEndpoint } from '../../builders/endpoints';

function endpoint(id: string, contextWindow: number | null): ResolvedEndpoint {
  return resolvedEndpoint({
    id,
    role: id.startsWith('burst') ? 'burst' : 'longContext',
    label: `Label ${id}`,
    target: { baseUrl: `http://127.0.0.1:9/${id}` },
    contextWindow,
    fim: 'auto',
  });
}

const burst = endpoint('burst#0', 8_192);
const longContext = endpoint('longContext#0', null);

describe('backendDetails', () => {
  it('lists every configured endpoint with its configured window when nothing else is known', () => {
    const details = backendDetails([burst, longContext], {}, 1_700_000_000_000);
    expect(details.map((row) => row.endpointId)).toEqual(['burst#0', 'longContext#0']);
    expect(details[0]?.contextWindow).toEqual({ tokens: 8_192, source: 'configured', detail: 'configured value' });
    expect(details[1]?.contextWindow.source).toBe('unknown');
    expect(details[0]?.health).toBeNull();
  });

  it('shows the window the endpoint reported, and where in its answer', async () => {
    const book = new ContextWindowBook(async (target) =>
      target.id === 'burst#0'
        ? { contextWindow: 131_072, source: 'endpoint', detail: 'GET /props default_generation_settings.n_ctx' }
        : Promise.reject(new Error('down')),
    );
    await book.refresh([burst, longContext]);
    const details = backendDetails([burst, longContext], { contextWindowOf: (target) => book.infoOf(target) }, 0);
    expect(details[0]?.contextWindow).toEqual({
      tokens: 131_072,
      source: 'endpoint',
      detail: 'GET /props default_generation_settings.n_ctx',
    });
    // Detection failed: the configured value (none here) stands and says it was not detected.
    expect(details[1]?.contextWindow).toMatchObject({ tokens: null, source: 'unknown' });
  });

  it('turns a rest into a wall-clock end time in whole seconds, with its cause', () => {
    const clock = new ManualClock(1_000);
    const health = new EndpointHealthBook(clock);
    health.recordFailure(
      'burst#0',
      new BackendError('rate-limited', '429', { status: 429, retryAfterMs: 12_000 }),
      'rate-limited',
    );
    const nowEpochMs = 1_700_000_000_250;
    const [row] = backendDetails([burst], { healthOf: (target) => health.snapshot(target.id) }, nowEpochMs);
    expect(row?.health).toMatchObject({ state: 'open', restCause: 'rate-limited', consecutiveFailures: 1 });
    expect(row?.health?.restUntilEpochMs).toBe(1_700_000_013_000);
    expect(row?.health?.errorRate).toBeGreaterThan(0);
  });

  it('has no rest end time once the rest is over (half-open) or for a healthy endpoint', () => {
    const clock = new ManualClock(0);
    const health = new EndpointHealthBook(clock);
    health.recordFailure('burst#0', new BackendError('rate-limited', '429', { retryAfterMs: 2_000 }), 'rate-limited');
    health.recordFirstToken('longContext#0', 420);
    health.recordSuccess('longContext#0', 180);
    clock.advance(2_500);
    const [resting, healthy] = backendDetails(
      [burst, longContext],
      { healthOf: (target) => health.snapshot(target.id) },
      5_000,
    );
    expect(resting?.health).toMatchObject({ state: 'half-open', restUntilEpochMs: null });
    expect(healthy?.health).toMatchObject({
      state: 'closed',
      restUntilEpochMs: null,
      ttftP50Ms: 420,
      decodeTokensPerSec: 180,
    });
  });
});
