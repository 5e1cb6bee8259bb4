import * as vscode from 'vscode';
import type { NumberSettingKey, SettingClamp, SettingKey, SettingsSource } from '../core/config/settings';
import { resolveSettingValue, SETTINGS_SECTION, SettingRangeWarnings, userLevelOnly } from '../core/config/settings';

/**
 * The `SettingsSource` the extension reads settings through. `warn` is told once per out-of-range number setting as it
 * is set (the value is clamped on every read; see `SettingRangeWarnings`).
 */
export function createSettingsSource(warn?: (message: string) => void): SettingsSource {
  const ranges = warn === undefined ? undefined : new SettingRangeWarnings(warn);
  return {
    get(key: SettingKey): unknown {
      const configuration = vscode.workspace.getConfiguration(SETTINGS_SECTION);
      const trusted = vscode.workspace.isTrusted;
      // VS Code's own merge (it also knows policies and remote settings) for keys a workspace may set.
      if (!userLevelOnly(key, trusted)) return configuration.get(key);
      // Only what the person set for themselves (or the default); workspace and folder values are ignored.
      return resolveSettingValue(key, configuration.inspect(key) ?? {}, trusted);
    },
    ...(ranges === undefined
      ? {}
      : { noteRange: (key: NumberSettingKey, clamp: SettingClamp | null) => ranges.note(key, clamp) }),
  };
}

/** The raw list the person has in their user settings for `key` (for commands that append or reorder entries). */
export function userSettingValue(key: SettingKey): unknown {
  return vscode.workspace.getConfiguration(SETTINGS_SECTION).inspect(key)?.globalValue;
}

/** Writes a setting to user settings. */
export async function updateUserSetting(key: SettingKey, value: unknown): Promise<void> {
  await vscode.workspace.getConfiguration(SETTINGS_SECTION).update(key, value, vscode.ConfigurationTarget.Global);
}

/** True when a configuration change touches one of `keys`. */
export function affectsAny(event: vscode.ConfigurationChangeEvent, keys: readonly SettingKey[]): boolean {
  return keys.some((key) => event.affectsConfiguration(`${SETTINGS_SECTION}.${key}`));
}

/**
 * Opens the settings where the backend lists live. They are machine-scoped, so in a remote window (code-server, SSH,
 * containers) they are in the remote machine's settings file, not the local user file: the Settings editor, filtered to
 * the backends, shows the right one and links to its JSON.
 */
export async function openBackendSettings(): Promise<void> {
  await vscode.commands.executeCommand('workbench.action.openSettings', `${SETTINGS_SECTION}.backends`);
}

/** VS Code's own `http.proxy` setting (empty when unset); the transport honours it before HTTP(S)_PROXY. */
export function readHttpProxy(): string {
  return vscode.workspace.getConfiguration('http').get<string>('proxy') ?? '';
}
