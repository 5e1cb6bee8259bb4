import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  fullSettingKey,
  readBooleanSetting,
  readNumberSetting,
  readRawSetting,
  resolveSettingValue,
  SettingRangeWarnings,
  SETTINGS,
  SETTINGS_SECTION,
  settingKeys,
  settingSpec,
  settingsFromLevels,
  settingsFromObject,
  userLevelOnly,
} from '../../../../src/core/config/settings';
import type { NumberSettingKey, SettingKey } from '../../../../src/core/config/settings';
import { PROJECT_ROOT } from '../../projectRoot';

interface ManifestProperty {
  type?: string | string[];
  default?: unknown;
  scope?: string;
  enum?: unknown[];
  minimum?: number;
  maximum?: number;
  description?: string;
  markdownDescription?: string;
}

const manifest: unknown = JSON.parse(readFileSync(join(PROJECT_ROOT, 'package.json'), 'utf8'));

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
    const manifestKeys = Object.keys(properties)
      .filter((key) => key.startsWith(prefix))
      .sort();
    const registryKeys = settingKeys().map(fullSettingKey).sort();
    expect(registryKeys).toEqual(manifestKeys);
    // Every contributed setting lives under the section.
    expect(Object.keys(properties).filter((key) => !key.startsWith(prefix))).toEqual([]);
  });

  it.each(settingKeys())(
    '%s: type, default, scope, enum and range match the manifest, and it has a description',
    (key) => {
      const property = properties[fullSettingKey(key)];
      expect(property, `package.json lacks ${fullSettingKey(key)}`).toBeDefined();
      const spec = settingSpec(key);
      expect(property?.type).toEqual(spec.type);
      expect(property?.default).toEqual(spec.default);
      expect(property?.scope ?? 'window').toEqual(spec.scope ?? 'window');
      expect(property?.enum).toEqual(spec.enum);
      expect(property?.minimum, 'minimum').toEqual(spec.minimum);
      expect(property?.maximum, 'maximum').toEqual(spec.maximum);
      const description = property?.markdownDescription ?? property?.description ?? '';
      expect(description.length, 'every setting needs a description').toBeGreaterThan(10);
    },
  );

  it('the restricted settings are exactly those listed for untrusted workspaces', () => {
    const restricted = settingKeys()
      .filter((key) => settingSpec(key).restricted === true)
      .map(fullSettingKey)
      .sort();
    expect(restrictedConfigurations().sort()).toEqual(restricted);
  });

  it('every number setting declares a range, and its default lies inside it', () => {
    for (const key of settingKeys()) {
      const spec = settingSpec(key);
      if (spec.type !== 'number' && spec.type !== 'integer') {
        expect(spec.minimum, key).toBeUndefined();
        continue;
      }
      expect(
        typeof spec.minimum === 'number' && typeof spec.maximum === 'number',
        `${key} needs a minimum and a maximum`,
      ).toBe(true);
      expect(spec.default, key).toBeGreaterThanOrEqual(spec.minimum ?? Number.NaN);
      expect(spec.default, key).toBeLessThanOrEqual(spec.maximum ?? Number.NaN);
    }
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
    for (const key of settingKeys())
      if (settingSpec(key).restricted === true) expect(userLevelOnly(key, false)).toBe(true);
  });
});

/** The keys an untrusted repository could use to break requests or run up costs (issue 14, item 7). */
const TIMEOUT_KEYS = [
  'network.headersTimeoutMs',
  'network.idleTimeoutMs',
] as const satisfies readonly NumberSettingKey[];
const PER_PROJECT_KEYS = [
  'repo.maxFileSizeKb',
  'repo.maxContextTokens',
  'routing.hedgeInline',
  'inline.speculativeRequests',
] as const satisfies readonly SettingKey[];

describe('workspace values of sensitive settings', () => {
  it.each([-1, 0])(
    'a workspace timeout of %d is ignored in an untrusted workspace: the user value (or the default) is used',
    (value) => {
      for (const key of TIMEOUT_KEYS) {
        const unset = settingsFromLevels({ [key]: { workspaceValue: value, workspaceFolderValue: value } }, false);
        expect(readNumberSetting(unset, key), key).toBe(SETTINGS[key].default);
        const userSet = settingsFromLevels({ [key]: { globalValue: 45_000, workspaceValue: value } }, false);
        expect(readNumberSetting(userSet, key), key).toBe(45_000);
      }
    },
  );

  it('timeouts are per machine: a trusted workspace cannot set them either', () => {
    for (const key of TIMEOUT_KEYS) {
      expect(SETTINGS[key].scope).toBe('machine');
      const source = settingsFromLevels({ [key]: { globalValue: 20_000, workspaceValue: 1_000 } }, true);
      expect(readNumberSetting(source, key), key).toBe(20_000);
    }
  });

  it('repository limits, hedging and speculative requests: ignored from an untrusted workspace, used from a trusted one', () => {
    for (const key of PER_PROJECT_KEYS) {
      const spec = settingSpec(key);
      expect(spec.restricted, key).toBe(true);
      const workspaceValue = spec.type === 'boolean' ? !spec.default : 5_000;
      const levels = { defaultValue: spec.default, workspaceValue };
      expect(resolveSettingValue(key, levels, false), key).toEqual(spec.default);
      expect(resolveSettingValue(key, levels, true), key).toEqual(workspaceValue);
    }
    // A trusted workspace's value is still clamped to the range.
    expect(
      readNumberSetting(
        settingsFromLevels({ 'repo.maxFileSizeKb': { workspaceValue: -1 } }, true),
        'repo.maxFileSizeKb',
      ),
    ).toBe(1);
  });
});

describe('number ranges', () => {
  it('an out-of-range user value is clamped, with one warning per change that names the key, the value and the range', () => {
    const warnings: string[] = [];
    const values: Partial<Record<SettingKey, unknown>> = { 'network.headersTimeoutMs': -1 };
    const source = settingsFromObject(values, new SettingRangeWarnings((message) => warnings.push(message)));
    const { minimum, maximum } = SETTINGS['network.headersTimeoutMs'];
    for (let read = 0; read < 3; read++) expect(readNumberSetting(source, 'network.headersTimeoutMs')).toBe(minimum);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain('latencyCopilot.network.headersTimeoutMs');
    expect(warnings[0]).toContain('-1');
    expect(warnings[0]).toContain(`${minimum}`);
    expect(warnings[0]).toContain(`${maximum}`);

    values['network.headersTimeoutMs'] = maximum * 10;
    expect(readNumberSetting(source, 'network.headersTimeoutMs')).toBe(maximum);
    expect(readNumberSetting(source, 'network.headersTimeoutMs')).toBe(maximum);
    expect(warnings).toHaveLength(2);

    // Back in range: no warning; out again with the first value: warned again (it is a new change).
    values['network.headersTimeoutMs'] = 5_000;
    expect(readNumberSetting(source, 'network.headersTimeoutMs')).toBe(5_000);
    values['network.headersTimeoutMs'] = -1;
    expect(readNumberSetting(source, 'network.headersTimeoutMs')).toBe(minimum);
    expect(warnings).toHaveLength(3);
  });

  it('every number setting is clamped to its declared range', () => {
    for (const key of settingKeys()) {
      const spec = settingSpec(key);
      if (spec.type !== 'number') continue;
      const numberKey = key as NumberSettingKey;
      expect(readNumberSetting(settingsFromObject({ [key]: -1e12 }), numberKey), key).toBe(spec.minimum);
      expect(readNumberSetting(settingsFromObject({ [key]: 1e12 }), numberKey), key).toBe(spec.maximum);
    }
  });
});
