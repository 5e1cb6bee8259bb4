// What the model-speed panel shows about each configured backend besides its request figures: the context window the
// router uses (and where that number came from) and the router's own view of the backend's health.
import type { ContextWindowInfo } from '../routing/contextWindow';
import type { ResolvedEndpoint } from '../endpoint';
import type { BackendDetails } from './panelProtocol';
import type { EndpointHealthSnapshot } from '../routing/endpointHealth';

/** Where the panel reads context windows and health from (both optional: the panel shows "unknown" without them). */
export interface BackendDetailSources {
  /** `ContextWindowBook.infoOf`: detected from the endpoint, else the preset or setting. */
  readonly contextWindowOf?: (endpoint: ResolvedEndpoint) => ContextWindowInfo;
  /** The router's `EndpointHealthBook.snapshot` of an endpoint (the composition root decides how the book keys it). */
  readonly healthOf?: (endpoint: ResolvedEndpoint) => EndpointHealthSnapshot;
}

/**
 * Rest end times are rounded to whole seconds, in ms: the monotonic remaining time plus a wall clock read a moment later
 * would otherwise differ by a millisecond or two on every snapshot, and the panel would be sent identical snapshots
 * that never compare equal.
 */
const REST_END_ROUNDING_MS = 1_000;

/**
 * The panel's per-backend details for every configured endpoint, in configuration order. `nowEpochMs` turns the health
 * book's "ms left to rest" (monotonic) into a wall-clock time the webview can count down to on its own.
 */
export function backendDetails(
  endpoints: readonly ResolvedEndpoint[],
  sources: BackendDetailSources,
  nowEpochMs: number,
): BackendDetails[] {
  return endpoints.map((endpoint) => {
    const window = sources.contextWindowOf?.(endpoint) ?? null;
    const health = sources.healthOf?.(endpoint) ?? null;
    return {
      endpointId: endpoint.id,
      label: endpoint.label,
      contextWindow:
        window === null
          ? {
              tokens: endpoint.contextWindow,
              source: endpoint.contextWindow === null ? 'unknown' : 'configured',
              detail: 'configured value',
            }
          : { tokens: window.contextWindow, source: window.source, detail: window.detail },
      health:
        health === null
          ? null
          : {
              state: health.state,
              restUntilEpochMs:
                health.restRemainingMs > 0
                  ? Math.ceil((nowEpochMs + health.restRemainingMs) / REST_END_ROUNDING_MS) * REST_END_ROUNDING_MS
                  : null,
              restCause: health.restCause,
              consecutiveFailures: health.consecutiveFailures,
              errorRate: health.errorRate,
              ttftP50Ms: health.ttftP50Ms,
              ttftP95Ms: health.ttftP95Ms,
              ttftSamples: health.ttftSamples,
              decodeTokensPerSec: health.decodeTokensPerSec,
            },
    };
  });
}
