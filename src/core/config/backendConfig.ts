import type { BackendRole, FimSupport, ProtocolId, ResolvedEndpoint } from '../endpoint';
import { isProtocolId, PROTOCOL_IDS } from '../endpoint';
import { isRecord } from '../json';
import type { EndpointPrice, TokenPrices } from '../price';
import type { ApiKeyNeed, BackendPreset } from './presets';
import { findPreset, presetIds } from './presets';
import { redact } from './redact';
import { fullSettingKey } from './settings';

/** Every fill-in-the-middle method an endpoint can pin. */
export const FIM_SUPPORTS: readonly FimSupport[] = [
  'auto',
  'llamacpp-infill',
  'openai-suffix',
  'ollama-suffix',
  'mistral-fim',
  'template',
  'chat',
  'none',
];

/** True when `value` names a fill-in-the-middle method. */
export function isFimSupport(value: unknown): value is FimSupport {
  return FIM_SUPPORTS.some((fim) => fim === value);
}

/** The settings key holding a role's endpoint list (without the section prefix). */
export function backendSettingKey(role: BackendRole): 'backends.burst' | 'backends.longContext' {
  return role === 'burst' ? 'backends.burst' : 'backends.longContext';
}

/** What is wrong with one configured entry. */
export type BackendConfigProblemKind =
  | 'not-a-list'
  | 'not-an-entry'
  | 'unknown-preset'
  | 'missing-base-url'
  | 'malformed-url'
  | 'wrong-base-path'
  | 'unknown-protocol'
  | 'missing-protocol'
  | 'missing-model'
  | 'bad-context-window'
  | 'unknown-fim'
  | 'bad-predicted-outputs'
  | 'bad-price'
  | 'key-in-settings'
  | 'missing-key';

/** One problem with one configured entry: which entry, what is wrong, what to do. Never contains a key. */
export interface BackendConfigProblem {
  readonly role: BackendRole;
  /** Position in the settings list, or -1 when the list itself is wrong. */
  readonly index: number;
  readonly kind: BackendConfigProblemKind;
  /** The endpoint id (`burst#1`) when the entry got that far, else null. */
  readonly endpointId: string | null;
  /** The key under which a Set API Key command stores the key, for `missing-key` and `key-in-settings`. */
  readonly secretName: string | null;
  /** Usable as-is: names the entry and says what to do. */
  readonly message: string;
  /** True when the entry is still used despite the problem (e.g. a key found in settings is ignored, not the entry). */
  readonly entryStillUsed: boolean;
}

/** An endpoint as configured, before its API key is fetched. */
export interface EndpointConfig {
  /** `${role}#${index}`, the index being the entry's position in its settings list. */
  readonly id: string;
  readonly role: BackendRole;
  readonly label: string;
  readonly preset: string | null;
  readonly baseUrl: string;
  readonly protocol: ProtocolId;
  readonly model: string;
  readonly contextWindow: number | null;
  readonly fim: FimSupport;
  /** Whether requests may carry the expected output (`prediction`): the entry's own value, else the preset's. */
  readonly predictedOutputs: boolean;
  /** What its tokens cost (see `ResolvedEndpoint.price`). */
  readonly price: EndpointPrice;
  readonly apiKey: ApiKeyNeed;
  /** The SecretStorage key holding this endpoint's API key (see `apiKeySecretName`). */
  readonly secretName: string;
}

/** The result of parsing one role's settings list: the good entries and one problem per bad one. */
export interface ParsedBackendList {
  readonly configs: readonly EndpointConfig[];
  readonly problems: readonly BackendConfigProblem[];
}

/** The result of resolving configs against the stored keys. */
export interface ResolvedBackendList {
  readonly endpoints: readonly ResolvedEndpoint[];
  readonly problems: readonly BackendConfigProblem[];
}

/** Prefix of every SecretStorage key the extension writes. */
export const API_KEY_SECRET_PREFIX = 'latencyCopilot.apiKey:';

/**
 * The SecretStorage key for an endpoint's API key: one per server origin (scheme, host, port), so that two entries on
 * the same provider (a burst model and a long-context model on Cerebras, say) share one key, and a key is never sent
 * to any other server. Example: `latencyCopilot.apiKey:https://api.cerebras.ai`.
 */
export function apiKeySecretName(baseUrl: string): string {
  return `${API_KEY_SECRET_PREFIX}${originOf(baseUrl)}`;
}

/** The origin of a URL (`https://host:port`), or the trimmed text when it does not parse. */
export function originOf(baseUrl: string): string {
  try {
    return new URL(baseUrl).origin;
  } catch {
    return baseUrl.trim();
  }
}

/** True when the URL's host is this machine (no key normally needed, no data leaves it). */
export function isLoopbackUrl(baseUrl: string): boolean {
  try {
    const host = new URL(baseUrl).hostname;
    return host === 'localhost' || host === '[::1]' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
  } catch {
    return false;
  }
}

/** How a base URL failed to normalise. */
type UrlCheck =
  | { readonly ok: true; readonly url: string }
  | { readonly ok: false; readonly kind: BackendConfigProblemKind; readonly why: string };

// Path endings people paste by mistake: the full request path instead of the base.
const REQUEST_PATH_SUFFIXES = [
  '/chat/completions',
  '/completions',
  '/fim/completions',
  '/infill',
  '/completion',
  '/api/generate',
  '/api/chat',
  '/v1/messages',
  '/messages',
];

/**
 * Normalises a base URL: trims it, drops trailing slashes, and rejects what cannot work (not http(s), credentials
 * in the URL, a query or fragment, a full request path, a protocol whose paths sit at the server root given `/v1`).
 */
export function normaliseBaseUrl(raw: string, protocol: ProtocolId): UrlCheck {
  const text = raw.trim();
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return {
      ok: false,
      kind: 'malformed-url',
      why: `"${redact(text)}" is not a URL (expected e.g. https://api.example.com/v1)`,
    };
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    return { ok: false, kind: 'malformed-url', why: `"${redact(text)}" must start with http:// or https://` };
  }
  if (url.username !== '' || url.password !== '') {
    return {
      ok: false,
      kind: 'key-in-settings',
      why: 'the base URL contains credentials; remove them from the URL and store the key with "Latency Copilot: Set API Key"',
    };
  }
  if (url.search !== '' || url.hash !== '') {
    return {
      ok: false,
      kind: 'malformed-url',
      why: `"${redact(text)}" must not have a query (?...) or fragment (#...)`,
    };
  }
  const path = url.pathname.replace(/\/+$/, '');
  const pastedPath = REQUEST_PATH_SUFFIXES.find((suffix) => path.endsWith(suffix));
  if (pastedPath !== undefined) {
    const base = `${url.origin}${path.slice(0, path.length - pastedPath.length)}`;
    return {
      ok: false,
      kind: 'wrong-base-path',
      why: `"${text}" is a request path, not a base URL; use "${base}" (the extension adds "${pastedPath}" itself)`,
    };
  }
  if (serverRootProtocol(protocol) && path.endsWith('/v1')) {
    const base = `${url.origin}${path.slice(0, -3)}`;
    return {
      ok: false,
      kind: 'wrong-base-path',
      why: `protocol "${protocol}" is served at the server root: use "${base}" without /v1 (or protocol "openai-chat" to keep /v1)`,
    };
  }
  return { ok: true, url: `${url.origin}${path}` };
}

function serverRootProtocol(protocol: ProtocolId): boolean {
  return (
    protocol === 'llamacpp-infill' ||
    protocol === 'ollama-generate' ||
    protocol === 'ollama-chat' ||
    protocol === 'anthropic'
  );
}

function nonEmptyString(value: unknown): string | undefined {
  return typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined;
}

const KEY_FIELD_NAMES = ['apiKey', 'api_key', 'key', 'token', 'apiToken', 'authorization', 'headers'];

/**
 * Parses one role's raw settings list. Each entry is a preset id (`"groq"`) or an object (`{ "preset": "groq",
 * "model": "..." }` or `{ "baseUrl", "protocol", "model", ... }`). Good entries come back as configs; every bad one
 * gives exactly one problem naming the entry and what to do, and the rest are still used.
 */
export function parseBackendList(role: BackendRole, raw: unknown): ParsedBackendList {
  const settingPath = fullSettingKey(backendSettingKey(role));
  if (raw === undefined || raw === null) return { configs: [], problems: [] };
  if (!Array.isArray(raw)) {
    return {
      configs: [],
      problems: [
        problem(
          role,
          -1,
          'not-a-list',
          null,
          null,
          `${settingPath} must be a list of endpoints; run "Latency Copilot: Configure Backends" to set it up.`,
        ),
      ],
    };
  }
  const configs: EndpointConfig[] = [];
  const problems: BackendConfigProblem[] = [];
  raw.forEach((entry: unknown, index) => {
    const parsed = parseEntry(role, index, entry, `${settingPath}[${index}]`);
    if (parsed.config !== null) configs.push(parsed.config);
    problems.push(...parsed.problems);
  });
  return { configs, problems };
}

function problem(
  role: BackendRole,
  index: number,
  kind: BackendConfigProblemKind,
  endpointId: string | null,
  secretName: string | null,
  message: string,
  entryStillUsed = false,
): BackendConfigProblem {
  return { role, index, kind, endpointId, secretName, message, entryStillUsed };
}

function parseEntry(
  role: BackendRole,
  index: number,
  entry: unknown,
  where: string,
): { config: EndpointConfig | null; problems: BackendConfigProblem[] } {
  const id = `${role}#${index}`;
  const fail = (kind: BackendConfigProblemKind, what: string): { config: null; problems: BackendConfigProblem[] } => ({
    config: null,
    problems: [
      problem(role, index, kind, null, null, `${where}: ${what}. This endpoint is skipped until it is fixed.`),
    ],
  });
  const fields: Readonly<Record<string, unknown>> | null =
    typeof entry === 'string' ? { preset: entry } : isRecord(entry) ? entry : null;
  if (fields === null) {
    return fail(
      'not-an-entry',
      'an endpoint must be a preset name such as "groq" or an object with preset or baseUrl, protocol and model',
    );
  }

  let preset: BackendPreset | undefined;
  const presetId = nonEmptyString(fields.preset);
  if (fields.preset !== undefined) {
    preset = presetId === undefined ? undefined : findPreset(presetId);
    if (preset === undefined) {
      return fail(
        'unknown-preset',
        `unknown preset "${redact(String(fields.preset))}"; use one of ${presetIds().join(', ')}`,
      );
    }
  }

  const protocolRaw = fields.protocol ?? preset?.protocol;
  if (protocolRaw === undefined)
    return fail('missing-protocol', `no "protocol" given; use one of ${PROTOCOL_IDS.join(', ')} (or a "preset")`);
  if (!isProtocolId(protocolRaw)) {
    return fail(
      'unknown-protocol',
      `unknown protocol "${redact(String(protocolRaw))}"; use one of ${PROTOCOL_IDS.join(', ')}`,
    );
  }
  const protocol = protocolRaw;

  const baseUrlRaw = fields.baseUrl ?? preset?.baseUrl;
  if (baseUrlRaw === undefined)
    return fail(
      'missing-base-url',
      'no "baseUrl" given (e.g. "http://127.0.0.1:8080" or "https://api.example.com/v1"), or name a "preset"',
    );
  if (typeof baseUrlRaw !== 'string') return fail('malformed-url', '"baseUrl" must be a string');
  const urlCheck = normaliseBaseUrl(baseUrlRaw, protocol);
  if (!urlCheck.ok) return fail(urlCheck.kind, urlCheck.why);
  const baseUrl = urlCheck.url;

  if (fields.model !== undefined && nonEmptyString(fields.model) === undefined) {
    return fail('missing-model', '"model" must be the model name as a non-empty string');
  }
  const model = nonEmptyString(fields.model) ?? preset?.defaultModel ?? undefined;
  if (model === undefined) {
    const hint =
      preset?.local === true ? ` ${preset.name} serves the model it was started with; ${baseUrl}/models lists it` : '';
    return fail('missing-model', `no "model" given; set "model" to the name the server expects.${hint}`);
  }

  let contextWindow = preset?.contextWindow ?? null;
  if (fields.contextWindow !== undefined && fields.contextWindow !== null) {
    const value = fields.contextWindow;
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 256) {
      return fail(
        'bad-context-window',
        `"contextWindow" must be a whole number of tokens (at least 256), or left out to detect it`,
      );
    }
    contextWindow = value;
  }

  const fimRaw = fields.fim ?? preset?.fim ?? 'auto';
  if (!isFimSupport(fimRaw))
    return fail(
      'unknown-fim',
      `unknown "fim" value "${redact(String(fimRaw))}"; use one of ${FIM_SUPPORTS.join(', ')}`,
    );

  const predictedOutputsRaw = fields.predictedOutputs ?? preset?.predictedOutputs ?? false;
  if (typeof predictedOutputsRaw !== 'boolean')
    return fail(
      'bad-predicted-outputs',
      '"predictedOutputs" must be true (the server takes OpenAI-style "prediction") or false, or left out',
    );

  const secretName = apiKeySecretName(baseUrl);
  const problems: BackendConfigProblem[] = [];
  let price = presetPrice(preset, model);
  if (fields.price !== undefined) {
    const parsed = parsePriceSetting(fields.price);
    if (typeof parsed === 'string') {
      // A wrong price must not take a working endpoint away: it keeps serving, its cost shown as unknown.
      price = { kind: 'unknown' };
      problems.push(
        problem(
          role,
          index,
          'bad-price',
          id,
          null,
          `${where}: ${parsed}. Until it is fixed this endpoint's cost is shown as unknown.`,
          true,
        ),
      );
    } else {
      price = { kind: 'priced', prices: parsed, source: 'setting', readOn: null };
    }
  }
  const keyField = KEY_FIELD_NAMES.find((name) => fields[name] !== undefined);
  if (keyField !== undefined) {
    problems.push(
      problem(
        role,
        index,
        'key-in-settings',
        id,
        secretName,
        `${where}: "${keyField}" is ignored: API keys are never read from settings. Remove it from settings.json and run "Latency Copilot: Set API Key" (the key goes to the OS keychain).`,
        true,
      ),
    );
  }

  const label = nonEmptyString(fields.label) ?? defaultLabel(preset, baseUrl, model);
  const apiKey: ApiKeyNeed =
    preset !== undefined && preset.baseUrl === baseUrl
      ? preset.apiKey
      : isLoopbackUrl(baseUrl)
        ? 'optional'
        : (preset?.apiKey ?? 'optional');
  return {
    config: {
      id,
      role,
      label,
      preset: preset?.id ?? null,
      baseUrl,
      protocol,
      model,
      contextWindow,
      fim: fimRaw,
      predictedOutputs: predictedOutputsRaw,
      price,
      apiKey,
      secretName,
    },
    problems,
  };
}

/**
 * The price an entry gets from its preset: a self-hosted preset is free whatever it serves; a hosted preset's
 * published prices hold only for the default model they were read for; anything else is unknown.
 */
function presetPrice(preset: BackendPreset | undefined, model: string): EndpointPrice {
  if (preset === undefined) return { kind: 'unknown' };
  if (preset.price.kind === 'free') return preset.price;
  return model === preset.defaultModel ? preset.price : { kind: 'unknown' };
}

/**
 * Per-million prices outside this range are taken for the wrong unit rather than believed: a per-token price
 * (0.0000006) sits far below it and no published per-million price comes near 1,000 dollars; 0 stays allowed (a free
 * tier).
 */
export const PRICE_PER_MILLION_RANGE = { min: 0.001, max: 1000 } as const;

const PRICE_EXAMPLE = '{ "input": 0.6, "cachedInput": 0.15, "output": 2.4 }';

/**
 * Checks an entry's `"price": { "input", "cachedInput"?, "output" }` (US dollars per million tokens). Returns the
 * prices, or what is wrong with them as a sentence naming the field and what to write instead.
 */
export function parsePriceSetting(raw: unknown): TokenPrices | string {
  if (!isRecord(raw)) return `"price" must be an object such as ${PRICE_EXAMPLE} (US dollars per million tokens)`;
  const input = pricePart(raw, 'input', true);
  if (typeof input === 'string') return input;
  const cachedInput = pricePart(raw, 'cachedInput', false);
  if (typeof cachedInput === 'string') return cachedInput;
  const output = pricePart(raw, 'output', true);
  if (typeof output === 'string') return output;
  if (input === null || output === null) return `"price" needs "input" and "output", e.g. ${PRICE_EXAMPLE}`;
  return { inputPerMillion: input, cachedInputPerMillion: cachedInput, outputPerMillion: output };
}

function pricePart(fields: Readonly<Record<string, unknown>>, name: string, required: boolean): number | null | string {
  const value = fields[name];
  if (value === undefined || value === null) {
    return required ? `"price.${name}" is missing; give US dollars per million tokens, e.g. ${PRICE_EXAMPLE}` : null;
  }
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    return `"price.${name}" must be a number of US dollars per million tokens, 0 or more (e.g. 0.6)`;
  }
  if (value !== 0 && (value < PRICE_PER_MILLION_RANGE.min || value > PRICE_PER_MILLION_RANGE.max)) {
    return (
      `"price.${name}" is ${value}, which looks like the wrong unit: give US dollars per million tokens as the ` +
      `provider publishes them (e.g. $0.0000006 per token is 0.6)`
    );
  }
  return value;
}

function defaultLabel(preset: BackendPreset | undefined, baseUrl: string, model: string): string {
  if (preset !== undefined) return `${preset.name} ${model}`;
  let host = baseUrl;
  try {
    host = new URL(baseUrl).host;
  } catch {
    // Already validated; keep the text.
  }
  return `${host} ${model}`;
}

/**
 * Turns configs into endpoints ready to use, with their keys. An endpoint whose preset requires a key that is not
 * stored is left out (every request would fail with 401) and reported with what to do.
 */
export function resolveEndpoints(
  configs: readonly EndpointConfig[],
  keyFor: (secretName: string) => string | undefined,
): ResolvedBackendList {
  const endpoints: ResolvedEndpoint[] = [];
  const problems: BackendConfigProblem[] = [];
  for (const config of configs) {
    const key = keyFor(config.secretName);
    const hasKey = key !== undefined && key !== '';
    if (!hasKey && config.apiKey === 'required') {
      const index = Number(config.id.slice(config.id.indexOf('#') + 1));
      problems.push(
        problem(
          config.role,
          index,
          'missing-key',
          config.id,
          config.secretName,
          `${config.label} (${config.id}) needs an API key for ${originOf(config.baseUrl)}: run "Latency Copilot: Set API Key".` +
            ' It is skipped until then.',
        ),
      );
      continue;
    }
    endpoints.push({
      id: config.id,
      role: config.role,
      label: config.label,
      preset: config.preset,
      target: hasKey
        ? { baseUrl: config.baseUrl, protocol: config.protocol, model: config.model, apiKey: key }
        : { baseUrl: config.baseUrl, protocol: config.protocol, model: config.model },
      contextWindow: config.contextWindow,
      fim: config.fim,
      simulated: false,
      predictedOutputs: config.predictedOutputs,
      price: config.price,
    });
  }
  return { endpoints, problems };
}

/** Builds an endpoint entry as it is written to settings by the Configure Backends command: only what differs from the preset. */
export function entryForSettings(options: {
  readonly preset: BackendPreset;
  readonly model: string;
  readonly baseUrl?: string;
}): Readonly<Record<string, string>> {
  const entry: Record<string, string> = { preset: options.preset.id };
  if (options.model !== options.preset.defaultModel) entry.model = options.model;
  if (options.baseUrl !== undefined && options.baseUrl !== options.preset.baseUrl) entry.baseUrl = options.baseUrl;
  return entry;
}

/** Why a pasted API key is refused, or null when it is acceptable (checked before it is stored). */
export function problemWithPastedKey(text: string): string | null {
  const key = text.trim();
  if (key === '') return 'Paste the key (or press Escape to cancel).';
  if (/\s/.test(key)) return 'A key has no spaces or line breaks: paste only the key (without "Bearer").';
  if (/^https?:\/\//i.test(key)) return 'That is a URL, not a key.';
  return null;
}
