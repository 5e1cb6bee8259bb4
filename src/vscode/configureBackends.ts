import * as vscode from 'vscode';
import {
  apiKeySecretName,
  backendSettingKey,
  entryForSettings,
  normaliseBaseUrl,
  originOf,
  parseBackendList,
  problemWithPastedKey,
} from '../core/config/backendConfig';
import { checkSecretNameArgument } from '../core/commands/commandArguments';
import { runClearKeyCommand } from '../core/commands/commandFlows';
import type { BackendRole, ProtocolId } from '../core/endpoint';
import { PROTOCOL_IDS } from '../core/endpoint';
import type { Logger } from '../core/logger';
import type { BackendPreset } from '../core/config/presets';
import { PRESETS } from '../core/config/presets';
import { CONFIG_COMMANDS } from './endpointRegistry';
import type { EndpointRegistry } from './endpointRegistry';
import type { ApiKeyStore } from './secrets';
import { originOfSecret } from './secrets';
import { openBackendSettings, updateUserSetting, userSettingValue } from './settingsSource';

/** What the configuration commands work with. */
export interface ConfigCommandDeps {
  readonly registry: EndpointRegistry;
  readonly keys: ApiKeyStore;
  readonly log: Logger & { show(): void };
  /** Remembers across sessions that the simulator was offered (globalState; holds no secret). */
  readonly globalState: vscode.Memento;
}

const ROLE_NAMES: Readonly<Record<BackendRole, string>> = { burst: 'burst', longContext: 'long-context' };

interface Choice<T> extends vscode.QuickPickItem {
  readonly value: T;
}

function separator<T>(label: string): Choice<T | null> {
  return { label, kind: vscode.QuickPickItemKind.Separator, value: null };
}

async function pick<T>(
  items: readonly Choice<T>[],
  placeHolder: string,
  title = 'Latency Copilot: Configure Backends',
): Promise<T | undefined> {
  const chosen = await vscode.window.showQuickPick(items, {
    placeHolder,
    title,
    ignoreFocusOut: true,
    matchOnDescription: true,
  });
  return chosen?.value;
}

/** The raw list the person has in user settings for a role (never workspace values). */
function userList(role: BackendRole): unknown[] {
  const value = userSettingValue(backendSettingKey(role));
  return Array.isArray(value) ? [...value] : [];
}

async function pickRole(purpose: string): Promise<BackendRole | undefined> {
  return pick<BackendRole>(
    [
      { label: 'Burst', description: 'fast: inline completions and refactors', value: 'burst' },
      {
        label: 'Long context',
        description: 'fallback for prompts that do not fit, and repository tasks',
        value: 'longContext',
      },
    ],
    purpose,
  );
}

async function pickPreset(role: BackendRole): Promise<BackendPreset | 'custom' | undefined> {
  const item = (preset: BackendPreset): Choice<BackendPreset | 'custom' | null> => ({
    label: preset.name,
    description: preset.baseUrl,
    detail: `${preset.detail}${preset.apiKey === 'required' ? '' : preset.apiKey === 'optional' ? ' No key unless the server wants one.' : ' No key needed.'}`,
    value: preset,
  });
  const suggested = PRESETS.filter((preset) => !preset.local && preset.suggestedRole === role);
  const otherCloud = PRESETS.filter((preset) => !preset.local && preset.suggestedRole !== role);
  const local = PRESETS.filter((preset) => preset.local);
  const chosen = await pick<BackendPreset | 'custom' | null>(
    [
      separator(`Suggested for ${ROLE_NAMES[role]}`),
      ...suggested.map(item),
      separator('Other providers'),
      ...otherCloud.map(item),
      separator('On this machine'),
      ...local.map(item),
      separator('Other'),
      {
        label: 'Custom endpoint…',
        detail: 'Any OpenAI-compatible, llama.cpp, Ollama or Anthropic server: give its base URL.',
        value: 'custom',
      },
    ],
    `Pick a provider for the ${ROLE_NAMES[role]} role`,
  );
  return chosen ?? undefined;
}

async function askModel(defaultModel: string | null, serverHint: string): Promise<string | undefined> {
  const model = await vscode.window.showInputBox({
    title: 'Latency Copilot: Model',
    prompt:
      defaultModel === null
        ? `The model name the server expects (${serverHint} lists them).`
        : 'The model name (the preset default is filled in; edit it if you like).',
    value: defaultModel ?? '',
    ignoreFocusOut: true,
    validateInput: (text) => (text.trim() === '' ? 'Give a model name.' : null),
  });
  return model?.trim();
}

async function askCustomEndpoint(): Promise<{ baseUrl: string; protocol: ProtocolId } | undefined> {
  const protocol = await pick<ProtocolId>(
    PROTOCOL_IDS.map((id) => ({ label: id, value: id })),
    'Which protocol does the server speak?',
  );
  if (protocol === undefined) return undefined;
  const example = protocol.startsWith('openai')
    ? 'http://127.0.0.1:8000/v1'
    : protocol === 'anthropic'
      ? 'https://api.anthropic.com'
      : 'http://127.0.0.1:8080';
  const raw = await vscode.window.showInputBox({
    title: 'Latency Copilot: Base URL',
    prompt: `The base URL as the server documents it, e.g. ${example}. OpenAI-compatible servers end in /v1; llama.cpp, Ollama and Anthropic are the server root.`,
    value: example,
    ignoreFocusOut: true,
    validateInput: (text) => {
      const check = normaliseBaseUrl(text, protocol);
      return check.ok ? null : check.why;
    },
  });
  if (raw === undefined) return undefined;
  const check = normaliseBaseUrl(raw, protocol);
  return check.ok ? { baseUrl: check.url, protocol } : undefined;
}

/** Asks for a key in a password box. Returns undefined when cancelled, '' when skipped (optional keys). */
async function askKey(
  serverName: string,
  origin: string,
  keyUrl: string | null,
  optional: boolean,
): Promise<string | undefined> {
  const where = keyUrl === null ? '' : ` Get one at ${keyUrl}.`;
  const key = await vscode.window.showInputBox({
    title: `Latency Copilot: API key for ${serverName}`,
    prompt: `Paste the API key for ${origin}.${where} It is stored in the OS keychain (SecretStorage), never in settings.${optional ? ' Leave empty if the server needs none.' : ''}`,
    password: true,
    ignoreFocusOut: true,
    validateInput: (text) => (optional && text.trim() === '' ? null : problemWithPastedKey(text)),
  });
  return key?.trim();
}

/** The configuration commands: Configure Backends, Set/Clear API Key, Show Log, Use Simulated Backends. */
export class ConfigCommands {
  constructor(private readonly deps: ConfigCommandDeps) {}

  /** Registers the commands; the disposables go on the extension context. */
  register(): vscode.Disposable[] {
    return [
      vscode.commands.registerCommand(CONFIG_COMMANDS.configureBackends, () => this.configure()),
      vscode.commands.registerCommand(CONFIG_COMMANDS.setApiKey, (secretName?: unknown) => this.setApiKey(secretName)),
      vscode.commands.registerCommand(CONFIG_COMMANDS.clearApiKey, (secretName?: unknown) =>
        this.clearApiKey(secretName),
      ),
      vscode.commands.registerCommand(CONFIG_COMMANDS.showLog, () => this.deps.log.show()),
      vscode.commands.registerCommand(USE_SIMULATOR_COMMAND, () => this.useSimulator(true)),
    ];
  }

  /** The Configure Backends menu. */
  async configure(): Promise<void> {
    await this.deps.registry.ready();
    const { registry } = this.deps;
    const counts =
      `Burst: ${registry.endpoints('burst').length}, long-context: ${registry.endpoints('longContext').length} usable` +
      `${registry.problems().length > 0 ? `, ${registry.problems().length} problem(s)` : ''}${registry.usingSimulator() ? ' (SIMULATED)' : ''}`;
    type Action = 'add' | 'manage' | 'setKey' | 'clearKey' | 'simulatorOn' | 'simulatorOff' | 'json';
    const action = await pick<Action>(
      [
        { label: '$(add) Add an endpoint…', detail: 'Pick a provider, a model, paste a key.', value: 'add' },
        { label: '$(list-ordered) Reorder or remove endpoints…', value: 'manage' },
        { label: '$(key) Set API key…', value: 'setKey' },
        { label: '$(trash) Clear API key…', value: 'clearKey' },
        registry.usingSimulator()
          ? { label: '$(debug-stop) Stop using the simulated backends', value: 'simulatorOff' }
          : {
              label: '$(beaker) Use the built-in simulated backends',
              detail: 'For trying the extension: a local simulator, no real model.',
              value: 'simulatorOn',
            },
        { label: '$(settings-gear) Open the backend settings', value: 'json' },
      ],
      counts,
    );
    switch (action) {
      case 'add':
        return this.addEndpoint();
      case 'manage':
        return this.manageEndpoints();
      case 'setKey':
        return this.setApiKey(undefined);
      case 'clearKey':
        return this.clearApiKey(undefined);
      case 'simulatorOn':
        return this.useSimulator(true);
      case 'simulatorOff':
        return this.useSimulator(false);
      case 'json':
        await openBackendSettings();
        return;
      case undefined:
        return;
    }
  }

  /** Role -> preset -> model -> key -> saved to user settings + SecretStorage. */
  async addEndpoint(): Promise<void> {
    const role = await pickRole('Which role is the new endpoint for?');
    if (role === undefined) return;
    const preset = await pickPreset(role);
    if (preset === undefined) return;

    let entry: Readonly<Record<string, string>>;
    let baseUrl: string;
    let name: string;
    let keyNeed: BackendPreset['apiKey'];
    let keyUrl: string | null = null;
    if (preset === 'custom') {
      const custom = await askCustomEndpoint();
      if (custom === undefined) return;
      const model = await askModel(null, `${custom.baseUrl}/models`);
      if (model === undefined) return;
      entry = { baseUrl: custom.baseUrl, protocol: custom.protocol, model };
      baseUrl = custom.baseUrl;
      name = originOf(custom.baseUrl);
      keyNeed = 'optional';
    } else {
      const model = await askModel(preset.defaultModel, `${preset.baseUrl}/models`);
      if (model === undefined) return;
      entry = entryForSettings({ preset, model });
      baseUrl = preset.baseUrl;
      name = preset.name;
      keyNeed = preset.apiKey;
      keyUrl = preset.keyUrl;
    }

    const secretName = apiKeySecretName(baseUrl);
    let key = '';
    if (keyNeed !== 'none' && !this.deps.keys.has(secretName)) {
      const pasted = await askKey(name, originOf(baseUrl), keyUrl, keyNeed === 'optional');
      if (pasted === undefined) return;
      key = pasted;
    }

    // The key goes in first, so the endpoint is usable the moment the settings change is seen.
    if (key !== '') await this.deps.keys.set(secretName, key);
    const list = userList(role);
    list.push(entry);
    await updateUserSetting(backendSettingKey(role), list);
    if (this.deps.registry.usingSimulator()) await updateUserSetting('backends.useSimulator', false);
    void vscode.window.showInformationMessage(
      `Latency Copilot: added ${name} as ${ROLE_NAMES[role]} endpoint ${list.length}.`,
    );
  }

  /** Reorder, remove, or set the key of one configured entry. */
  async manageEndpoints(): Promise<void> {
    const role = await pickRole("Which role's endpoints?");
    if (role === undefined) return;
    const list = userList(role);
    if (list.length === 0) {
      void vscode.window.showInformationMessage(
        `Latency Copilot: no ${ROLE_NAMES[role]} endpoints in your user settings yet.`,
      );
      return;
    }
    const parsed = parseBackendList(role, list);
    const index = await pick<number>(
      list.map((entry, position) => {
        const config = parsed.configs.find((candidate) => candidate.id === `${role}#${position}`);
        return {
          label: `${position + 1}. ${config?.label ?? 'Invalid entry'}`,
          description: config === undefined ? JSON.stringify(entry) : `${config.protocol} ${config.baseUrl}`,
          value: position,
        };
      }),
      `The ${ROLE_NAMES[role]} endpoints, tried in this order. Pick one.`,
    );
    if (index === undefined) return;
    type Move = 'up' | 'down' | 'remove' | 'key';
    const move = await pick<Move>(
      [
        ...(index > 0 ? [{ label: '$(arrow-up) Move up', value: 'up' as const }] : []),
        ...(index < list.length - 1 ? [{ label: '$(arrow-down) Move down', value: 'down' as const }] : []),
        { label: '$(trash) Remove', value: 'remove' },
        { label: '$(key) Set its API key…', value: 'key' },
      ],
      `Endpoint ${index + 1}`,
    );
    if (move === undefined) return;
    if (move === 'key') {
      const config = parsed.configs.find((candidate) => candidate.id === `${role}#${index}`);
      return this.setApiKey(config?.secretName);
    }
    const [entry] = list.splice(index, 1);
    if (move === 'up') list.splice(index - 1, 0, entry);
    if (move === 'down') list.splice(index + 1, 0, entry);
    await updateUserSetting(backendSettingKey(role), list);
  }

  /**
   * Stores a key for one server origin (asked for when not given). A server given as an argument is checked; the key
   * itself is always typed by the person into a box that names the server.
   */
  async setApiKey(secretNameArgument: unknown): Promise<void> {
    const check = checkSecretNameArgument('Set API Key', secretNameArgument);
    if (!check.ok) {
      this.refuse(check.problem);
      return;
    }
    let secretName = check.value ?? undefined;
    if (secretName === undefined) secretName = await this.pickServer('Which server is the key for?', true);
    if (secretName === undefined) return;
    const origin = originOfSecret(secretName);
    const preset = PRESETS.find((candidate) => apiKeySecretName(candidate.baseUrl) === secretName);
    const key = await askKey(preset?.name ?? origin, origin, preset?.keyUrl ?? null, false);
    if (key === undefined || key === '') return;
    await this.deps.keys.set(secretName, key);
    void vscode.window.showInformationMessage(
      `Latency Copilot: the API key for ${origin} is stored in the OS keychain.`,
    );
  }

  /**
   * Removes a stored key, always after a modal question naming the server (`runClearKeyCommand`): a server given as an
   * argument only skips the pick.
   */
  async clearApiKey(secretNameArgument: unknown): Promise<void> {
    let cleared = '';
    const outcome = await runClearKeyCommand(secretNameArgument, {
      pickServer: () => this.pickServer('Clear the API key of which server?', false),
      usedBy: (secretName) =>
        this.deps.registry
          .configs()
          .filter((config) => config.secretName === secretName)
          .map((config) => config.id),
      confirm: async (question) =>
        (await vscode.window.showWarningMessage(
          question.message,
          { modal: true, detail: question.detail },
          question.confirm,
        )) === question.confirm,
      clear: async (secretName) => {
        await this.deps.keys.clear(secretName);
        cleared = originOfSecret(secretName);
      },
      showError: (message) => this.refuse(message),
    });
    if (outcome === 'done')
      void vscode.window.showInformationMessage(
        `Latency Copilot: the API key for ${cleared} was removed from the OS keychain.`,
      );
  }

  /** A command argument that was refused: one line in the log and an error message. */
  private refuse(problem: string): void {
    this.deps.log.warn(problem);
    void vscode.window.showErrorMessage(problem);
  }

  private async pickServer(placeHolder: string, allowOther: boolean): Promise<string | undefined> {
    await this.deps.registry.ready();
    const { keys, registry } = this.deps;
    const names = new Map<string, string[]>();
    for (const config of registry.configs())
      names.set(config.secretName, [...(names.get(config.secretName) ?? []), config.id]);
    for (const name of keys.names()) if (!names.has(name)) names.set(name, []);
    const items: Choice<string>[] = [...names.entries()].map(([name, ids]) => ({
      label: originOfSecret(name),
      description: `${keys.has(name) ? 'key stored' : 'no key'}${ids.length > 0 ? ` · used by ${ids.join(', ')}` : ''}`,
      value: name,
    }));
    if (allowOther) items.push({ label: 'Another server…', description: 'give its base URL', value: '' });
    if (items.length === 0) {
      void vscode.window.showInformationMessage('Latency Copilot: no API keys are stored.');
      return undefined;
    }
    const chosen = await pick(items, placeHolder, 'Latency Copilot: API keys');
    if (chosen !== '') return chosen;
    const url = await vscode.window.showInputBox({
      title: 'Latency Copilot: Server',
      prompt: "The server's base URL (the key is used for this origin only).",
      ignoreFocusOut: true,
      validateInput: (text) => {
        const check = normaliseBaseUrl(text, 'openai-chat');
        return check.ok || check.kind === 'wrong-base-path' ? null : check.why;
      },
    });
    return url === undefined ? undefined : apiKeySecretName(url);
  }

  /** Turns the simulated backends on or off (user setting). */
  async useSimulator(on: boolean): Promise<void> {
    await updateUserSetting('backends.useSimulator', on);
    if (on) {
      void vscode.window.showInformationMessage(
        'Latency Copilot: using the built-in SIMULATED backends (a local test server; no real model, the code it writes is filler). Run "Configure Backends" to add a real provider.',
      );
    }
  }
}

/** The command that turns the simulated backends on (used by the first-run offer and the walkthrough). */
export const USE_SIMULATOR_COMMAND = 'latencyCopilot.useSimulatedBackends';

/** globalState key: the first-run offer of the simulated backends was shown. Holds a boolean, never a secret. */
const SIMULATOR_OFFERED_KEY = 'latencyCopilot.simulatorOffered';

/**
 * With nothing configured, offers once (a non-modal notification) to use the built-in simulated backends, saying
 * plainly that they are simulated. Never awaited by activation.
 */
export async function offerSimulatorIfUnconfigured(deps: ConfigCommandDeps, offerEnabled: boolean): Promise<void> {
  await deps.registry.ready();
  if (
    !offerEnabled ||
    !deps.registry.nothingConfigured() ||
    deps.globalState.get<boolean>(SIMULATOR_OFFERED_KEY) === true
  )
    return;
  await deps.globalState.update(SIMULATOR_OFFERED_KEY, true);
  deps.log.info('Nothing is configured: offering the built-in simulated backends.');
  const use = 'Use simulated backends';
  const configure = 'Configure Backends';
  const never = "Don't ask again";
  const choice = await vscode.window.showInformationMessage(
    'Latency Copilot has no backend yet. Use the built-in simulated backends (for trying the extension; no real model), or configure a provider?',
    use,
    configure,
    never,
  );
  deps.log.info(`Simulated backends offer: ${choice ?? 'dismissed'}.`);
  if (choice === use) await vscode.commands.executeCommand(USE_SIMULATOR_COMMAND);
  else if (choice === configure) await vscode.commands.executeCommand(CONFIG_COMMANDS.configureBackends);
  else if (choice === never) await updateUserSetting('backends.offerSimulator', false);
}
