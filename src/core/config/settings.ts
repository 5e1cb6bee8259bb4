/**
 * The typed registry of every `latencyCopilot.*` setting: its key, type, default and scope.
 *
 * package.json `contributes.configuration` is the single source of truth that users see; this registry is the code's
 * view of it, and test/unit/core/config/settings.test.ts keeps the two equal (keys, types, defaults, enums, scopes, ranges). Adding a
 * setting is two edits: its entry in package.json (with a description) and one line in `SETTINGS` below.
 *
 * Every number setting has a range and is clamped to it on read: a value a workspace or a typo can give (a timeout of -1
 * fails every request, 0 disables the timeout) never reaches the code that uses it.
 */

/** The section every setting of the extension lives under (`latencyCopilot.<key>`). */
export const SETTINGS_SECTION = 'latencyCopilot';

/** The JSON-schema type of a setting, as package.json declares it. */
export type SettingType = 'boolean' | 'number' | 'integer' | 'string' | 'array' | 'object';

/**
 * Where a setting may be set. `machine` and `application` settings are never read from a workspace: a repository must
 * not be able to point the extension (and the person's API keys) at its own server.
 */
export type SettingScope =
  'application' | 'machine' | 'machine-overridable' | 'window' | 'resource' | 'language-overridable';

/** One entry of the registry. */
export interface SettingSpec {
  readonly type: SettingType;
  readonly default: unknown;
  /** package.json `scope`; omitted means VS Code's default (`window`). */
  readonly scope?: SettingScope;
  /** The allowed values of a string setting. */
  readonly enum?: readonly string[];
  /** The smallest value of a number setting (package.json `minimum`); smaller values are read as this. */
  readonly minimum?: number;
  /** The largest value of a number setting (package.json `maximum`); larger values are read as this. */
  readonly maximum?: number;
  /**
   * True when the setting is listed in `capabilities.untrustedWorkspaces.restrictedConfigurations`: in an untrusted
   * workspace only its user-level value (or the default) is used.
   */
  readonly restricted?: boolean;
}

/**
 * Every setting, keyed without the `latencyCopilot.` prefix. Keep one entry per line, grouped by feature.
 * `array` and `object` settings are read raw and parsed by their owner (e.g. src/core/config/backendConfig.ts).
 */
export const SETTINGS = {
  // Backends (src/core/config/backendConfig.ts): machine scope, restricted in untrusted workspaces.
  'backends.burst': { type: 'array', default: [], scope: 'machine', restricted: true },
  'backends.longContext': { type: 'array', default: [], scope: 'machine', restricted: true },
  'backends.useSimulator': { type: 'boolean', default: false, scope: 'machine', restricted: true },
  'backends.offerSimulator': { type: 'boolean', default: true, scope: 'application' },
  'simulator.tokensPerSecond': { type: 'number', default: 1500, scope: 'machine', minimum: 1, maximum: 100_000 },
  'simulator.ttftMs': { type: 'number', default: 80, scope: 'machine', minimum: 0, maximum: 60_000 },
  // Speed UI (src/core/speed/statusText.ts): the status bar's warning colour below this decode speed, tokens/s.
  'statusBar.slowThresholdTokensPerSec': { type: 'number', default: 100, minimum: 0, maximum: 100_000 },
  // Speed UI (src/vscode/speedUi.ts): open the model-speed panel with the window.
  'speedPanel.showOnStartup': { type: 'boolean', default: false },
  // Repository context and routing (src/core/repo, src/core/routing). A trusted project may tune them (window scope); an
  // untrusted one may not (restricted): they decide how much code is sent, and whether a second provider is paid for.
  'repo.maxFileSizeKb': { type: 'number', default: 256, restricted: true, minimum: 1, maximum: 4096 },
  'repo.maxContextTokens': { type: 'number', default: 200000, restricted: true, minimum: 1000, maximum: 2_000_000 },
  'routing.hedgeInline': { type: 'boolean', default: true, restricted: true },
  // Network (src/core/stream/transport.ts): how long this machine's servers may take is the machine's business, never a
  // repository's (a timeout of -1 fails every request and opens every breaker).
  'network.headersTimeoutMs': {
    type: 'number',
    default: 30000,
    scope: 'machine',
    restricted: true,
    minimum: 1000,
    maximum: 600_000,
  },
  'network.idleTimeoutMs': {
    type: 'number',
    default: 30000,
    scope: 'machine',
    restricted: true,
    minimum: 1000,
    maximum: 600_000,
  },
  // Inline completions (src/core/inline/inlineSettings.ts).
  'inline.enabled': { type: 'boolean', default: true },
  'inline.languages': { type: 'object', default: { '*': true, plaintext: false, markdown: false, scminput: false } },
  'inline.multiline': { type: 'string', default: 'auto', enum: ['auto', 'always', 'never'] },
  'inline.minDisplayDelayMs': { type: 'number', default: 0, minimum: 0, maximum: 2000 },
  'inline.adaptiveDelay': { type: 'boolean', default: false },
  'nextEdit.enabled': { type: 'boolean', default: true },
  'nextEdit.regionLines': { type: 'number', default: 10, minimum: 2, maximum: 50 },
  'nextEdit.historyEdits': { type: 'number', default: 6, minimum: 0, maximum: 30 },
  'nextEdit.budgetMs': { type: 'number', default: 400, minimum: 100, maximum: 5000 },
  'nextEdit.format': { type: 'string', default: 'auto', enum: ['auto', 'generic', 'zeta', 'sweep', 'instinct'] },
  'cost.dailyBudgetUsd': { type: 'number', default: 0, minimum: 0, maximum: 100_000 },
  // Speculative requests cost tokens at the person's provider: a trusted project may turn them off, an untrusted one not on.
  'inline.speculativeRequests': { type: 'boolean', default: true, restricted: true },
  'inline.allowInUntrustedWorkspaces': { type: 'boolean', default: false, scope: 'application' },
  // Local engine (src/core/localEngine, src/vscode/localEngine.ts): paths and URLs run code and load files, so machine scope, restricted.
  'localEngine.modelPath': { type: 'string', default: '', scope: 'machine', restricted: true },
  'localEngine.modelUrl': { type: 'string', default: '', scope: 'machine', restricted: true },
  'localEngine.modelSha256': { type: 'string', default: '', scope: 'machine', restricted: true },
  'localEngine.nodeLlamaCppPath': { type: 'string', default: '', scope: 'machine', restricted: true },
  'localEngine.idleStopMinutes': { type: 'number', default: 10, scope: 'machine', minimum: 1, maximum: 1440 },
} as const satisfies Readonly<Record<string, SettingSpec>>;

/** A setting key without the section prefix, e.g. `backends.burst`. */
export type SettingKey = keyof typeof SETTINGS;

/** Keys of the settings whose type is `T`. */
type KeysOfType<T extends SettingType> = {
  [K in SettingKey]: (typeof SETTINGS)[K]['type'] extends T ? K : never;
}[SettingKey];

/** Keys of boolean settings. */
export type BooleanSettingKey = KeysOfType<'boolean'>;
/** Keys of number and integer settings. */
export type NumberSettingKey = KeysOfType<'number' | 'integer'>;
/** Keys of string settings (enums included). */
export type StringSettingKey = KeysOfType<'string'>;

/** A number setting's value outside its range, and the value used instead. */
export interface SettingClamp {
  readonly key: NumberSettingKey;
  /** The value as set. */
  readonly value: number;
  /** The value read instead: the nearer end of the range. */
  readonly used: number;
  readonly minimum: number;
  readonly maximum: number;
}

/** Where raw setting values come from: VS Code's configuration in the extension, a plain object in tests. */
export interface SettingsSource {
  /** The effective raw value of `key` (without the section prefix), or undefined when unset everywhere. */
  get(key: SettingKey): unknown;
  /**
   * Told after every read of a number setting: the clamp applied, or null when the value was used as set (or was not a
   * number). `SettingRangeWarnings.note` turns this into one log line per change.
   */
  readonly noteRange?: (key: NumberSettingKey, clamp: SettingClamp | null) => void;
}

/** The full key as VS Code knows it, e.g. `latencyCopilot.backends.burst`. */
export function fullSettingKey(key: SettingKey): string {
  return `${SETTINGS_SECTION}.${key}`;
}

/** True when `key` names a registered setting. */
export function isSettingKey(key: string): key is SettingKey {
  return Object.prototype.hasOwnProperty.call(SETTINGS, key);
}

/** The registry entry of `key`, widened to the common shape (for code that handles every setting alike). */
export function settingSpec(key: SettingKey): SettingSpec {
  const spec: SettingSpec = SETTINGS[key];
  return spec;
}

/** Every registered key, in registry order. */
export function settingKeys(): readonly SettingKey[] {
  return Object.keys(SETTINGS).filter(isSettingKey);
}

/** Reads a boolean setting; a value of the wrong type falls back to the default. */
export function readBooleanSetting(source: SettingsSource, key: BooleanSettingKey): boolean {
  const raw = source.get(key);
  return typeof raw === 'boolean' ? raw : SETTINGS[key].default;
}

/**
 * Reads a number setting, clamped to its range; a non-finite value or one of the wrong type falls back to the default.
 * The source is told whether the value was clamped (see `SettingsSource.noteRange`).
 */
export function readNumberSetting(source: SettingsSource, key: NumberSettingKey): number {
  const raw = source.get(key);
  const { default: fallback, minimum, maximum } = SETTINGS[key];
  if (typeof raw !== 'number' || !Number.isFinite(raw)) {
    source.noteRange?.(key, null);
    return fallback;
  }
  const used = Math.min(maximum, Math.max(minimum, raw));
  source.noteRange?.(key, used === raw ? null : { key, value: raw, used, minimum, maximum });
  return used;
}

/** One line for the log about a clamped setting: which key, what it is set to, the range, and what to do. */
export function describeClamp(clamp: SettingClamp): string {
  return (
    `Setting ${fullSettingKey(clamp.key)} is ${clamp.value}, outside its range ${clamp.minimum} to ${clamp.maximum}: ` +
    `${clamp.used} is used. Set a value in the range to silence this.`
  );
}

/**
 * Turns the clamp notes of a settings source into warnings: one per out-of-range value as it is set, never one per
 * read (settings are read on every request). A value that comes back into range and leaves it again is warned again.
 */
export class SettingRangeWarnings {
  /** The out-of-range value last warned about, per key. */
  private readonly warned = new Map<NumberSettingKey, number>();

  constructor(private readonly warn: (message: string) => void) {}

  /** Call with what `readNumberSetting` found (the `noteRange` hook of a source). */
  note(key: NumberSettingKey, clamp: SettingClamp | null): void {
    if (clamp === null) {
      this.warned.delete(key);
      return;
    }
    if (this.warned.get(key) === clamp.value) return;
    this.warned.set(key, clamp.value);
    this.warn(describeClamp(clamp));
  }
}

/** Reads a string setting; for an enum, a value outside it falls back to the default. */
export function readStringSetting(source: SettingsSource, key: StringSettingKey): string {
  const raw = source.get(key);
  const spec = settingSpec(key);
  const fallback = typeof spec.default === 'string' ? spec.default : '';
  if (typeof raw !== 'string') return fallback;
  if (spec.enum !== undefined && !spec.enum.includes(raw)) return fallback;
  return raw;
}

/** Reads an array or object setting raw, for its owner's parser; unset means the default. */
export function readRawSetting(source: SettingsSource, key: SettingKey): unknown {
  const raw = source.get(key);
  return raw === undefined ? SETTINGS[key].default : raw;
}

/**
 * Whether only the user-level value of a setting may be used. `machine` and `application` settings are never read from
 * workspace or folder settings (VS Code ignores them there too; reading the user value ourselves makes that independent
 * of the host version), and `restricted` settings are not while the workspace is untrusted: a repository must not point
 * the extension, and the person's keys, at its own server.
 */
export function userLevelOnly(key: SettingKey, workspaceTrusted: boolean): boolean {
  const spec = settingSpec(key);
  if (spec.scope === 'machine' || spec.scope === 'application') return true;
  return spec.restricted === true && !workspaceTrusted;
}

/**
 * A setting's value at each level, as VS Code's `inspect()` reports it (a level left out is unset there). Language
 * overrides are not listed: no setting of the extension is language-overridable.
 */
export interface SettingLevels {
  readonly defaultValue?: unknown;
  readonly globalValue?: unknown;
  readonly workspaceValue?: unknown;
  readonly workspaceFolderValue?: unknown;
}

/**
 * The value to use from a setting's levels: the most specific level that is set (folder, workspace, user, default), or
 * for a key that `userLevelOnly` keeps out of workspaces the user value (or the default). The settings source of the
 * extension reads every key through this.
 */
export function resolveSettingValue(key: SettingKey, levels: SettingLevels, workspaceTrusted: boolean): unknown {
  if (userLevelOnly(key, workspaceTrusted)) return levels.globalValue ?? levels.defaultValue;
  return levels.workspaceFolderValue ?? levels.workspaceValue ?? levels.globalValue ?? levels.defaultValue;
}

/** A `SettingsSource` over per-level values, resolved as the extension resolves them (tests of workspace trust). */
export function settingsFromLevels(
  levels: Readonly<Partial<Record<SettingKey, SettingLevels>>>,
  workspaceTrusted: boolean,
  ranges?: SettingRangeWarnings,
): SettingsSource {
  return {
    get: (key) => resolveSettingValue(key, { defaultValue: SETTINGS[key].default, ...levels[key] }, workspaceTrusted),
    ...(ranges === undefined
      ? {}
      : { noteRange: (key: NumberSettingKey, clamp: SettingClamp | null) => ranges.note(key, clamp) }),
  };
}

/** A `SettingsSource` over a plain object of raw values (tests, tools, the simulator CLI). */
export function settingsFromObject(
  values: Readonly<Partial<Record<SettingKey, unknown>>>,
  ranges?: SettingRangeWarnings,
): SettingsSource {
  return {
    get: (key) => values[key],
    ...(ranges === undefined
      ? {}
      : { noteRange: (key: NumberSettingKey, clamp: SettingClamp | null) => ranges.note(key, clamp) }),
  };
}
