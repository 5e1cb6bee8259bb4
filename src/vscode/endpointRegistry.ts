import * as vscode from 'vscode';
import type { BackendConfigProblem, EndpointConfig } from '../core/config/backendConfig';
import { backendSettingKey, parseBackendList, resolveEndpoints } from '../core/config/backendConfig';
import type { BackendRole, ResolvedEndpoint } from '../core/endpoint';
import { localEngineEndpoint, readLocalEngineConfig } from '../core/localEngine/localEngineConfig';
import type { Logger } from '../core/logger';
import type { SettingKey, SettingsSource } from '../core/config/settings';
import { readBooleanSetting, readNumberSetting, readRawSetting } from '../core/config/settings';
import type { ApiKeyStore } from './secrets';
import type { SimulatedBackends } from './simulatedBackends';
import { affectsAny, openBackendSettings } from './settingsSource';

/** The settings whose change means the endpoints must be resolved again. */
const WATCHED_SETTINGS: readonly SettingKey[] = [
  'backends.burst',
  'backends.longContext',
  'backends.useSimulator',
  'simulator.tokensPerSecond',
  'simulator.ttftMs',
  'localEngine.modelPath',
  'localEngine.modelUrl',
];

/** A snapshot of the resolved configuration. */
interface RegistryState {
  readonly burst: readonly ResolvedEndpoint[];
  readonly longContext: readonly ResolvedEndpoint[];
  readonly problems: readonly BackendConfigProblem[];
  /** The parsed configs (with or without their key), for commands that list endpoints. */
  readonly configs: readonly EndpointConfig[];
  readonly usingSimulator: boolean;
}

const EMPTY_STATE: RegistryState = { burst: [], longContext: [], problems: [], configs: [], usingSimulator: false };

/** What the registry needs. */
export interface EndpointRegistryDeps {
  readonly settings: SettingsSource;
  readonly keys: ApiKeyStore;
  readonly simulator: SimulatedBackends;
  readonly log: Logger;
  /** Shows one problem to the person (a warning with buttons); called once per distinct problem. */
  readonly reportProblem: (problem: BackendConfigProblem) => void;
  /** The extension's own local engine: when a model is configured it is added as the last burst endpoint. */
  readonly localEngine?: { configured(): boolean };
}

/**
 * The configured endpoints, resolved and ready: settings parsed (user-level values only for backend lists), keys
 * fetched from SecretStorage ahead of need, and everything resolved again when settings, keys or trust change.
 * `endpoints(role)` is synchronous, so features never wait on it; it is empty until the first refresh finishes.
 */
export class EndpointRegistry implements vscode.Disposable {
  private state: RegistryState = EMPTY_STATE;
  private refreshGeneration = 0;
  private readonly shownProblems = new Set<string>();
  private readonly changed = new vscode.EventEmitter<void>();
  private readonly subscriptions: vscode.Disposable[] = [];
  private firstRefresh: Promise<void> | null = null;

  /** Fires after the endpoints (or their problems) changed. */
  readonly onDidChange: vscode.Event<void> = this.changed.event;

  constructor(private readonly deps: EndpointRegistryDeps) {}

  /** Starts watching settings, keys and trust, and resolves for the first time (in the background). */
  start(): void {
    this.subscriptions.push(
      vscode.workspace.onDidChangeConfiguration((event) => {
        if (affectsAny(event, WATCHED_SETTINGS)) void this.refresh();
      }),
      vscode.workspace.onDidGrantWorkspaceTrust(() => void this.refresh()),
      this.deps.keys.onDidChange(() => void this.refresh()),
    );
    this.firstRefresh = this.refresh();
  }

  /** Resolves after the first refresh (for commands that need the endpoints; activation never waits on it). */
  async ready(): Promise<void> {
    await (this.firstRefresh ?? this.refresh());
  }

  /** The usable endpoints of a role, in the configured order. */
  endpoints(role: BackendRole): readonly ResolvedEndpoint[] {
    return role === 'burst' ? this.state.burst : this.state.longContext;
  }

  /** Every usable endpoint, burst first. */
  allEndpoints(): readonly ResolvedEndpoint[] {
    return [...this.state.burst, ...this.state.longContext];
  }

  /** Every parsed endpoint config, usable or waiting for a key. */
  configs(): readonly EndpointConfig[] {
    return this.state.configs;
  }

  /** The problems of the current configuration. */
  problems(): readonly BackendConfigProblem[] {
    return this.state.problems;
  }

  /** True while the built-in simulated backends are in use. */
  usingSimulator(): boolean {
    return this.state.usingSimulator;
  }

  /** True when the person has configured nothing at all (no entries, simulator off). */
  nothingConfigured(): boolean {
    const { settings } = this.deps;
    const isEmpty = (value: unknown): boolean => !Array.isArray(value) || value.length === 0;
    return (
      isEmpty(readRawSetting(settings, 'backends.burst')) &&
      isEmpty(readRawSetting(settings, 'backends.longContext')) &&
      !readBooleanSetting(settings, 'backends.useSimulator') &&
      !this.deps.localEngine?.configured()
    );
  }

  /** Reads settings and keys again and publishes the result. Overlapping refreshes: the newest wins. */
  async refresh(): Promise<void> {
    const generation = ++this.refreshGeneration;
    let next: RegistryState;
    try {
      next = await this.resolve();
    } catch (error) {
      const detail = error instanceof Error ? error.message : String(error);
      this.deps.log.error(`Resolving the backends failed: ${detail}`);
      if (generation === this.refreshGeneration) {
        void vscode.window
          .showErrorMessage(`Latency Copilot: setting up the backends failed: ${detail}`, 'Show Log')
          .then((choice) => {
            if (choice !== undefined) void vscode.commands.executeCommand(CONFIG_COMMANDS.showLog);
          });
      }
      return;
    }
    if (generation !== this.refreshGeneration) return;
    this.state = next;
    this.logState(next);
    for (const problem of next.problems) {
      if (this.shownProblems.has(problem.message)) continue;
      this.shownProblems.add(problem.message);
      this.deps.reportProblem(problem);
    }
    this.changed.fire();
  }

  private async resolve(): Promise<RegistryState> {
    const { settings, keys, simulator } = this.deps;
    if (readBooleanSetting(settings, 'backends.useSimulator')) {
      const endpoints = await simulator.start({
        tokensPerSecond: readNumberSetting(settings, 'simulator.tokensPerSecond'),
        ttftMs: readNumberSetting(settings, 'simulator.ttftMs'),
      });
      return {
        burst: endpoints.filter((endpoint) => endpoint.role === 'burst'),
        longContext: endpoints.filter((endpoint) => endpoint.role === 'longContext'),
        problems: [],
        configs: [],
        usingSimulator: true,
      };
    }
    if (simulator.running) await simulator.stop();

    const roles: readonly BackendRole[] = ['burst', 'longContext'];
    const parsed = roles.map((role) => parseBackendList(role, readRawSetting(settings, backendSettingKey(role))));
    const configs = parsed.flatMap((list) => list.configs);
    await keys.load(configs.map((config) => config.secretName));
    const resolved = resolveEndpoints(configs, (name) => keys.get(name));
    const burst = resolved.endpoints.filter((endpoint) => endpoint.role === 'burst');
    return {
      burst: this.deps.localEngine?.configured()
        ? [...burst, localEngineEndpoint(readLocalEngineConfig(settings))]
        : burst,
      longContext: resolved.endpoints.filter((endpoint) => endpoint.role === 'longContext'),
      problems: [...parsed.flatMap((list) => list.problems), ...resolved.problems],
      configs,
      usingSimulator: false,
    };
  }

  private logState(state: RegistryState): void {
    const describe = (endpoint: ResolvedEndpoint): string =>
      `${endpoint.id} ${endpoint.label} [${endpoint.target.protocol} ${endpoint.target.baseUrl}` +
      `${endpoint.contextWindow === null ? '' : `, ${endpoint.contextWindow} tokens`}, fim ${endpoint.fim}` +
      `${endpoint.target.apiKey === undefined ? '' : ', key set'}]`;
    const all = [...state.burst, ...state.longContext];
    this.deps.log.info(
      all.length === 0
        ? 'No usable backend endpoints. Run "Latency Copilot: Configure Backends".'
        : `Backends${state.usingSimulator ? ' (SIMULATED)' : ''}: ${all.map(describe).join('; ')}`,
    );
    for (const problem of state.problems) this.deps.log.warn(problem.message);
  }

  dispose(): void {
    for (const subscription of this.subscriptions) subscription.dispose();
    this.changed.dispose();
  }
}

/** The commands a problem's buttons run (ids as declared in package.json). */
export const CONFIG_COMMANDS = {
  configureBackends: 'latencyCopilot.configureBackends',
  setApiKey: 'latencyCopilot.setApiKey',
  clearApiKey: 'latencyCopilot.clearApiKey',
  showLog: 'latencyCopilot.showLog',
} as const;

/** Shows a configuration problem as a non-modal warning with the buttons that fix it. */
export function showConfigProblem(problem: BackendConfigProblem): void {
  const setKey = 'Set API Key';
  const openSettings = 'Open Settings';
  const configure = 'Configure Backends';
  const buttons =
    problem.kind === 'missing-key'
      ? [setKey, configure]
      : problem.kind === 'key-in-settings'
        ? [setKey, openSettings]
        : [openSettings, configure];
  void vscode.window.showWarningMessage(`Latency Copilot: ${problem.message}`, ...buttons).then((choice) => {
    if (choice === setKey) {
      void vscode.commands.executeCommand(CONFIG_COMMANDS.setApiKey, problem.secretName ?? undefined);
    } else if (choice === openSettings) {
      void openBackendSettings();
    } else if (choice === configure) {
      void vscode.commands.executeCommand(CONFIG_COMMANDS.configureBackends);
    }
  });
}
