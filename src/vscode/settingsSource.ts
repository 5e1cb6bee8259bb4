import * as vscode from 'vscode';
import type { SettingKey, SettingsSource } from '../core/settings';
import { SETTINGS_SECTION, userLevelOnly } from '../core/settings';

/** The `SettingsSource` the extension reads settings through. */
export function createSettingsSource(): SettingsSource {
  return {
    get(key: SettingKey): unknown {
      const configuration = vscode.workspace.getConfiguration(SETTINGS_SECTION);
      if (!userLevelOnly(key, vscode.workspace.isTrusted)) return configuration.get(key);
      const inspected = configuration.inspect(key);
      // Only what the person set for themselves (or the default); workspace and folder values are ignored.
      return inspected?.globalValue ?? inspected?.defaultValue;
    },
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
