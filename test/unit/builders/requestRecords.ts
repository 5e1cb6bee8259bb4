// Request records and their measured stats as the stats hub, the status text and the history keep them: plain defaults
// (one inline request to `burst#0` that went well) that a test overrides field by field.
import type { RequestRecord, RequestStats } from '../../../src/core/requestStats';

/** What the meter measured: 50 tokens counted by the server, at 1,000 tok/s after a 100 ms TTFT; `overrides` win. */
export function requestStats(overrides: Partial<RequestStats> = {}): RequestStats {
  return {
    ttftMs: 100,
    decodeTokensPerSec: 1000,
    serverDecodeTokensPerSec: null,
    outputTokens: 50,
    tokensSource: 'server',
    promptTokens: 200,
    cachedPromptTokens: null,
    prefillTokensPerSec: null,
    totalMs: 150,
    acceptedPredictionTokens: null,
    rejectedPredictionTokens: null,
    effectiveTokensPerSec: null,
    ...overrides,
  };
}

/**
 * One finished inline request, served by `burst#0` (Cerebras llama3.1-8b) because it fit, with the stats of
 * `requestStats(statOverrides)`; `overrides` win over both (a whole `stats` included).
 */
export function requestRecord(
  overrides: Partial<RequestRecord> = {},
  statOverrides: Partial<RequestStats> = {},
): RequestRecord {
  return {
    startedAtEpochMs: 1_700_000_000_000,
    task: 'inline',
    endpointId: 'burst#0',
    endpointLabel: 'Cerebras llama3.1-8b',
    routeReason: 'fits',
    outcome: 'ok',
    errorReason: null,
    retryAfterMs: null,
    fromCache: false,
    promptTokensEstimate: null,
    stats: requestStats(statOverrides),
    ...overrides,
  };
}
