import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  fullSettingKey,
  readBooleanSetting,
  readNumberSetting,
  readRawSetting,
  SETTINGS,
  SETTINGS_SECTION,
  settingKeys,
  settingSpec,
  settingsFromObject,
  userLevelOnly,
} from '../../src/core/settings';

interface ManifestProperty {
  type?: string | string[];
  default?: unknown;
  scope?: string;
  enum?: unknown[];
  description?: string;
  markdownDescription?: string;
}

const manifest: unknown = JSON.parse(readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8'));

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function manifestProperties(): Record<string, ManifestProperty> {
  if (!isRecord(manifest) || !isRecord(manifest.contributes)) throw new Error('package.json has no contributes');
  const configuration = manifest.contributes.configuration;
  // `configuration` may be one object or an array of sections; both are valid manifests.
  const sections = Array.isArray(configuration) ? configuration : [configuration];
  const properties: Record<string, ManifestProperty> = {};
  for (const section of sections) {
    if (!isRecord(section) || !isRecord(section.properties)) continue;
    for (const [key, value] of Object.entries(section.properties)) properties[key] = value as ManifestProperty;
  }
  return properties;
}

function restrictedConfigurations(): string[] {
  if (!isRecord(manifest) || !isRecord(manifest.capabilities)) return [];
  const untrusted = manifest.capabilities.untrustedWorkspaces;
  if (!isRecord(untrusted) || !Array.isArray(untrusted.restrictedConfigurations)) return [];
  return untrusted.restrictedConfigurations.filter((key): key is string => typeof key === 'string');
}

describe('settings registry vs package.json', () => {
  const properties = manifestProperties();
  const prefix = `${SETTINGS_SECTION}.`;

  it('has exactly the keys package.json declares', () => {
    const manifestKeys = Object.keys(properties).filter((key) => key.startsWith(prefix)).sort();
    const registryKeys = settingKeys().map(fullSettingKey).sort();
    expect(registryKeys).toEqual(manifestKeys);
    // Every contributed setting lives under the section.
    expect(Object.keys(properties).filter((key) => !key.startsWith(prefix))).toEqual([]);
  });

  it.each(settingKeys())('%s: type, default, scope and enum match the manifest, and it has a description', (key) => {
    const property = properties[fullSettingKey(key)];
    expect(property, `package.json lacks ${fullSettingKey(key)}`).toBeDefined();
    const spec = settingSpec(key);
    expect(property?.type).toEqual(spec.type);
    expect(property?.default).toEqual(spec.default);
    expect(property?.scope ?? 'window').toEqual(spec.scope ?? 'window');
    expect(property?.enum).toEqual(spec.enum);
    const description = property?.markdownDescription ?? property?.description ?? '';
    expect(description.length, 'every setting needs a description').toBeGreaterThan(10);
  });

  it('the restricted settings are exactly those listed for untrusted workspaces', () => {
    const restricted = settingKeys()
      .filter((key) => settingSpec(key).restricted === true)
      .map(fullSettingKey)
      .sort();
    expect(restrictedConfigurations().sort()).toEqual(restricted);
  });

  it('backend URLs and models can only be set in user settings', () => {
    for (const key of ['backends.burst', 'backends.longContext'] as const) {
      expect(['machine', 'application']).toContain(SETTINGS[key].scope);
      expect(SETTINGS[key].restricted).toBe(true);
    }
  });
});

describe('typed readers', () => {
  it('return the value when it has the right type', () => {
    const source = settingsFromObject({ 'backends.useSimulator': true, 'simulator.tokensPerSecond': 900 });
    expect(readBooleanSetting(source, 'backends.useSimulator')).toBe(true);
    expect(readNumberSetting(source, 'simulator.tokensPerSecond')).toBe(900);
  });

  it('fall back to the default for a missing or wrongly typed value', () => {
    const source = settingsFromObject({ 'backends.useSimulator': 'yes', 'simulator.tokensPerSecond': Number.NaN });
    expect(readBooleanSetting(source, 'backends.useSimulator')).toBe(false);
    expect(readNumberSetting(source, 'simulator.tokensPerSecond')).toBe(SETTINGS['simulator.tokensPerSecond'].default);
    expect(readRawSetting(settingsFromObject({}), 'backends.burst')).toEqual([]);
  });
});

describe('userLevelOnly', () => {
  it('backend settings are read from user settings only, trusted or not', () => {
    expect(userLevelOnly('backends.burst', true)).toBe(true);
    expect(userLevelOnly('backends.longContext', false)).toBe(true);
  });
  it('every restricted setting is user-level only in an untrusted workspace', () => {
    for (const key of settingKeys()) if (settingSpec(key).restricted === true) expect(userLevelOnly(key, false)).toBe(true);
  });
});
