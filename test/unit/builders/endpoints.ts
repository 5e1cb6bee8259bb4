// Resolved endpoints as the configuration hands them out: plain defaults that a test overrides field by field. Imports
// only types: the end-to-end suite bundle (test/e2e/build.mjs) can use it too.
import type { EndpointTarget, ResolvedEndpoint } from '../../../src/core/endpoint';

/** What a test may change: any field, and any part of the target (the rest of it keeps the defaults). */
export type EndpointOverrides = Partial<Omit<ResolvedEndpoint, 'target'>> & {
  readonly target?: Partial<EndpointTarget>;
};

/**
 * A hand-made, real (not simulated) burst endpoint `burst#0` speaking OpenAI chat to model `m` on a loopback port
 * nothing listens on (1), with no known context window, no fill-in-the-middle and an unknown price; `overrides` win.
 */
export function resolvedEndpoint(overrides: EndpointOverrides = {}): ResolvedEndpoint {
  const { target, ...fields } = overrides;
  const defaults: ResolvedEndpoint = {
    id: 'burst#0',
    role: 'burst',
    label: 'Burst 0',
    preset: null,
    target: { baseUrl: 'http://127.0.0.1:1/v1', protocol: 'openai-chat', model: 'm' },
    contextWindow: null,
    fim: 'none',
    simulated: false,
    predictedOutputs: false,
    price: { kind: 'unknown' },
  };
  // Spread over the defaults, so the fields keep the interface's order (an endpoint written as JSON reads the same).
  return { ...defaults, ...fields, target: { ...defaults.target, ...target } };
}
