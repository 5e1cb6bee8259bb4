import type { ResolvedEndpoint } from '../endpoint';
import { fimCandidates, PATH_NOT_OFFERED_STATUSES } from './fimPaths';
import type { FimPath } from './fimPaths';

/** What is known about one endpoint's FIM paths. */
export interface FimPathState {
  /** The path that answered; used from then on without probing again. Null while still probing. */
  readonly confirmed: FimPath | null;
  /** Paths the server said it does not offer (404/405/501), in the order they failed. */
  readonly rejected: readonly FimPath[];
}

/** A remembered state per endpoint, for persistence across sessions (keyed by `probeKey`). */
export type FimPathMemory = Readonly<Record<string, FimPathState>>;

/** The key an endpoint's knowledge is kept under: a changed URL, protocol, model or pinned path starts over. */
export function probeKey(endpoint: ResolvedEndpoint): string {
  const { baseUrl, protocol, model } = endpoint.target;
  return `${protocol} ${baseUrl} ${model} ${endpoint.fim}`;
}

/**
 * "Probe once, remember": the first real request to an endpoint uses its best candidate path; a 404/405/501 rejects that path
 * (logged, with the next one named) and the next candidate is used; the first success confirms a path for good.
 */
export class FimPathProbe {
  private readonly states = new Map<string, FimPathState>();

  constructor(
    private readonly log: (line: string) => void,
    memory: FimPathMemory = {},
  ) {
    for (const [key, state] of Object.entries(memory)) this.states.set(key, state);
  }

  /** The path to use now: the confirmed one, else the first candidate not yet rejected; null when none is left. */
  pathFor(endpoint: ResolvedEndpoint): FimPath | null {
    const state = this.states.get(probeKey(endpoint));
    if (state?.confirmed) return state.confirmed;
    const rejected = state?.rejected ?? [];
    return fimCandidates(endpoint).find((path) => !rejected.includes(path)) ?? null;
  }

  /** True while the endpoint's path has not yet been confirmed by an answer. */
  isProbing(endpoint: ResolvedEndpoint): boolean {
    return !this.states.get(probeKey(endpoint))?.confirmed;
  }

  /** Records that `path` answered. */
  confirm(endpoint: ResolvedEndpoint, path: FimPath): void {
    const key = probeKey(endpoint);
    const state = this.states.get(key);
    if (state?.confirmed === path) return;
    this.states.set(key, { confirmed: path, rejected: state?.rejected ?? [] });
    this.log(`Inline completions: ${endpoint.label} uses FIM path "${path}".`);
  }

  /**
   * Records a failed request on `path`. Returns the path to try next when the status says the path is not offered, or
   * null when the failure was something else (the path stays) or no candidate is left.
   */
  reportFailure(endpoint: ResolvedEndpoint, path: FimPath, status: number | null): FimPath | null {
    if (status === null || !PATH_NOT_OFFERED_STATUSES.has(status)) return null;
    const key = probeKey(endpoint);
    const state = this.states.get(key);
    const rejected = [...(state?.rejected ?? []).filter((done) => done !== path), path];
    this.states.set(key, { confirmed: null, rejected });
    const next = this.pathFor(endpoint);
    this.log(
      `Inline completions: ${endpoint.label} answered HTTP ${status} on FIM path "${path}"; ` +
        (next === null ? 'no other path is left, inline completions are off for it.' : `trying "${next}" next.`),
    );
    return next;
  }

  /** Everything learned so far, for persistence. */
  memory(): FimPathMemory {
    return Object.fromEntries(this.states);
  }
}
