// The contract between the suite (running inside VS Code's extension host) and the runner (driving the browser).
//
// The runner passes everything through environment variables of the VS Code process, which the extension host
// inherits. The UI bridge is a small HTTP server of the runner on 127.0.0.1: the suite POSTs a request, the runner
// acts on the page it drives (screenshot, query, key press) and answers. Only the Playwright runner has a bridge;
// under @vscode/test-electron there is no browser to drive and the UI helpers answer "unavailable".

/** Environment variable names the runners set and the suite reads. */
export const e2eEnv = {
  /** Base URL of the UI bridge, with its access token in the path; absent when no UI bridge exists. */
  bridgeUrl: 'LATENCY_COPILOT_E2E_BRIDGE',
  /** File the suite writes its results to (JSON, `SuiteResults`). */
  resultsFile: 'LATENCY_COPILOT_E2E_RESULTS',
  /** Folder for screenshots and other artifacts (`e2e-artifacts/` of the project). */
  artifactsDir: 'LATENCY_COPILOT_E2E_ARTIFACTS',
  /** Root of VS Code's logs for this run (the extension's log file is found under it). */
  logsDir: 'LATENCY_COPILOT_E2E_LOGS',
  /** Comma-separated substrings: only scenarios whose name contains one of them run. */
  filter: 'LATENCY_COPILOT_E2E_FILTER',
  /** Which session this VS Code is: `default` (trusted workspace) or `untrusted` (restricted mode). */
  session: 'LATENCY_COPILOT_E2E_SESSION',
  /** Which runner started the suite: `code-server` or `electron`. */
  runner: 'LATENCY_COPILOT_E2E_RUNNER',
} as const;

/** The kinds of VS Code session a scenario can need; each is a separate VS Code start with its own profile. */
export type SessionKind = 'default' | 'untrusted';

/** One element found by a UI query, as a person would see it. */
export interface UiElement {
  /** `textContent`, whitespace collapsed. */
  readonly text: string;
  /** `aria-label`, when present (status bar items carry their full text there). */
  readonly ariaLabel: string | null;
  /** The element's `id` attribute, when present. */
  readonly id: string | null;
  /** The element's class list, space-separated. */
  readonly className: string;
  /** True when the element has a box on screen and is not hidden by CSS. */
  readonly visible: boolean;
  /** Index of the frame the element was found in: 0 is the workbench, higher numbers are webview frames. */
  readonly frameIndex: number;
}

/** Requests the suite sends to the UI bridge. */
export type BridgeRequest =
  | { readonly kind: 'screenshot'; readonly name: string }
  | { readonly kind: 'query'; readonly selector: string; readonly inWebviews: boolean }
  | { readonly kind: 'press'; readonly key: string }
  | { readonly kind: 'typeKeys'; readonly text: string; readonly delayMs: number }
  | { readonly kind: 'click'; readonly selector: string };

/** Answers of the UI bridge. */
export type BridgeResponse =
  | { readonly ok: true; readonly kind: 'screenshot'; readonly path: string }
  | { readonly ok: true; readonly kind: 'query'; readonly elements: readonly UiElement[] }
  | { readonly ok: true; readonly kind: 'done' }
  | { readonly ok: false; readonly error: string };

/** One scenario's outcome. */
export interface ScenarioResult {
  readonly name: string;
  readonly outcome: 'passed' | 'failed' | 'skipped';
  /** Why it failed or was skipped. */
  readonly detail?: string;
  readonly durationMs: number;
}

/** What the suite writes to the results file when it ends. */
export interface SuiteResults {
  readonly session: SessionKind;
  readonly results: readonly ScenarioResult[];
  /** Sessions that scenarios need and this session did not run (the runner starts them next). */
  readonly pendingSessions: readonly SessionKind[];
}

/** Turns a screenshot name into a safe file name (letters, digits, dot, dash, underscore). */
export function artifactFileName(name: string): string {
  const safe = name.replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^-+|-+$/g, '');
  return `${safe.length > 0 ? safe : 'screenshot'}.png`;
}

/** Checks, at runtime, that a parsed JSON value is suite results. */
export function isSuiteResults(value: unknown): value is SuiteResults {
  if (typeof value !== 'object' || value === null) return false;
  if (!('results' in value) || !Array.isArray(value.results)) return false;
  if (!('session' in value) || (value.session !== 'default' && value.session !== 'untrusted')) return false;
  if (!('pendingSessions' in value) || !Array.isArray(value.pendingSessions)) return false;
  return value.results.every(
    (result: unknown) =>
      typeof result === 'object' &&
      result !== null &&
      'name' in result &&
      typeof result.name === 'string' &&
      'outcome' in result &&
      (result.outcome === 'passed' || result.outcome === 'failed' || result.outcome === 'skipped'),
  );
}

/** Checks, at runtime, that a parsed JSON value is a bridge request. */
export function isBridgeRequest(value: unknown): value is BridgeRequest {
  if (typeof value !== 'object' || value === null || !('kind' in value)) return false;
  switch (value.kind) {
    case 'screenshot':
      return 'name' in value && typeof value.name === 'string';
    case 'query':
      return (
        'selector' in value &&
        typeof value.selector === 'string' &&
        'inWebviews' in value &&
        typeof value.inWebviews === 'boolean'
      );
    case 'press':
      return 'key' in value && typeof value.key === 'string';
    case 'typeKeys':
      return (
        'text' in value && typeof value.text === 'string' && 'delayMs' in value && typeof value.delayMs === 'number'
      );
    case 'click':
      return 'selector' in value && typeof value.selector === 'string';
    default:
      return false;
  }
}

/** Checks, at runtime, that a parsed JSON value is a bridge response. */
export function isBridgeResponse(value: unknown): value is BridgeResponse {
  if (typeof value !== 'object' || value === null || !('ok' in value)) return false;
  if (value.ok === false) return 'error' in value && typeof value.error === 'string';
  if (value.ok !== true || !('kind' in value)) return false;
  switch (value.kind) {
    case 'screenshot':
      return 'path' in value && typeof value.path === 'string';
    case 'query':
      return 'elements' in value && Array.isArray(value.elements);
    case 'done':
      return true;
    default:
      return false;
  }
}
