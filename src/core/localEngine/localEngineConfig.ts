import { basename, join } from 'node:path';
import type { ResolvedEndpoint } from '../endpoint';
import type { SettingKey, SettingsSource } from '../config/settings';
import { readNumberSetting, readStringSetting } from '../config/settings';
import { LOCAL_ENGINE_BASE_URL } from './localEngineTransport';

/** The local engine's settings, read and trimmed. */
export interface LocalEngineConfig {
  /** A GGUF file to run; wins over `modelUrl`. */
  readonly modelPath: string;
  /** Where to download the model from when `modelPath` is empty. */
  readonly modelUrl: string;
  /** Expected SHA-256 of the download (hex, lower case), or '' for a size-only check. */
  readonly modelSha256: string;
  /** Folder node-llama-cpp resolves from, or '' for the default in the extension's storage. */
  readonly nodeLlamaCppPath: string;
  /** The engine stops after this long without a request, in ms. */
  readonly idleStopMs: number;
}

/** Every setting of the local engine (a change to any means the engine restarts with the new values). */
export const LOCAL_ENGINE_SETTING_KEYS: readonly SettingKey[] = [
  'localEngine.modelPath',
  'localEngine.modelUrl',
  'localEngine.modelSha256',
  'localEngine.nodeLlamaCppPath',
  'localEngine.idleStopMinutes',
];

/**
 * The window the local engine allocates, in tokens (less when the model was trained on fewer). 8,192 holds an inline
 * prompt and a refactor of a large function; the KV cache of a 0.5B model at this size is about 100 MB.
 */
export const LOCAL_ENGINE_CONTEXT_TOKENS = 8192;

/** Reads the local engine's settings (user-level only, as the settings source enforces for machine-scoped keys). */
export function readLocalEngineConfig(settings: SettingsSource): LocalEngineConfig {
  return {
    modelPath: readStringSetting(settings, 'localEngine.modelPath').trim(),
    modelUrl: readStringSetting(settings, 'localEngine.modelUrl').trim(),
    modelSha256: readStringSetting(settings, 'localEngine.modelSha256').trim().toLowerCase(),
    nodeLlamaCppPath: readStringSetting(settings, 'localEngine.nodeLlamaCppPath').trim(),
    // At least a minute (the settings registry clamps to 1-1,440): a model load costs seconds, sooner only costs time.
    idleStopMs: readNumberSetting(settings, 'localEngine.idleStopMinutes') * 60_000,
  };
}

/** True when a model is configured (a path or a URL): only then does the local engine become a backend. */
export function isLocalEngineConfigured(config: LocalEngineConfig): boolean {
  return config.modelPath !== '' || config.modelUrl !== '';
}

/** The file a URL's model is downloaded to: `<storage>/models/<last path segment>` (`model.gguf` when it has none). */
export function downloadDestination(storageDir: string, modelUrl: string): string {
  let name: string;
  try {
    name = basename(decodeURIComponent(new URL(modelUrl).pathname));
  } catch {
    name = '';
  }
  const safe = name.replace(/[^A-Za-z0-9._-]/g, '_');
  return join(storageDir, 'models', safe === '' || safe.startsWith('.') ? 'model.gguf' : safe);
}

/** A display name for the model: its file name without `.gguf`. */
export function localModelName(config: LocalEngineConfig): string {
  const source =
    config.modelPath !== '' ? basename(config.modelPath) : basename(downloadDestination('', config.modelUrl));
  return source.replace(/\.gguf$/i, '');
}

/**
 * The local engine as a burst endpoint, after the configured ones. Its base URL is the port-0 placeholder that
 * `LocalEngineTransport` fills in. Its window is the one the engine is asked to allocate: detection from `/v1/models`
 * cannot run before first use (GETs never start the engine). FIM goes to `/v1/completions` with `suffix`, which the
 * engine runs with the model's own FIM tokens.
 */
export function localEngineEndpoint(config: LocalEngineConfig): ResolvedEndpoint {
  return {
    // Not an index: the configured entries' ids follow their positions in the setting, usable or not.
    id: 'burst#local',
    role: 'burst',
    label: `Local engine ${localModelName(config)}`,
    preset: 'local',
    target: { baseUrl: LOCAL_ENGINE_BASE_URL, protocol: 'openai-chat', model: localModelName(config) },
    // What the engine allocates; a model trained on less serves less, and a prompt over that is refused as
    // context-too-long (the router then re-routes and remembers the refused size).
    contextWindow: LOCAL_ENGINE_CONTEXT_TOKENS,
    fim: 'openai-suffix',
    simulated: false,
    // The engine's OpenAI server does not take `prediction`.
    predictedOutputs: false,
    price: { kind: 'free', why: 'local-engine' },
  };
}
