// Checks of the arguments the extension's commands accept. Any other extension, a keybinding or a command link can run a
// command with any arguments, so they are untrusted input: each is checked here (pure, table-tested), and where a
// command writes a file or deletes a secret the adapter still asks the person; an argument may only pre-fill that
// question. A rejected argument gets one line that says what was expected, and never echoes the value (a key pasted
// into the wrong place must not end up in a notification).
import { API_KEY_SECRET_PREFIX } from '../config/backendConfig';
import type { BackendRole } from '../endpoint';
import type { ExportFormat } from '../speed/panelProtocol';
import { isPlainObject } from '../json';
import { findRefactorPreset } from '../refactor/refactorPresets';

/** A checked argument list, or what is wrong with it. */
export type ArgumentCheck<T> =
  { readonly ok: true; readonly value: T } | { readonly ok: false; readonly problem: string };

/** What a value is, in words, without its content. */
export function describeArgument(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return `a list of ${value.length} item(s)`;
  if (typeof value === 'string') return `a text of ${value.length} character(s)`;
  if (typeof value === 'object') return 'an object';
  return `a ${typeof value}`;
}

function fail<T>(problem: string): ArgumentCheck<T> {
  return { ok: false, problem };
}

/** An options object with only the `allowed` fields (a typo would otherwise run something other than meant). */
function optionsObject(
  command: string,
  usage: string,
  raw: unknown,
  allowed: readonly string[],
): ArgumentCheck<Record<string, unknown>> {
  if (!isPlainObject(raw)) return fail(`${command}: ${usage}, not ${describeArgument(raw)}.`);
  const unknown = Object.keys(raw).filter((key) => !allowed.includes(key));
  if (unknown.length > 0) return fail(`${command}: ${usage}; ${unknown.length} unknown field(s).`);
  return { ok: true, value: raw };
}

/** A text a person could have typed: not blank, at most `MAX_INSTRUCTION_CHARS` characters. */
function isTypedText(value: unknown): value is string {
  return typeof value === 'string' && value.trim() !== '' && value.length <= MAX_INSTRUCTION_CHARS;
}

/** What "Export Speed History" was asked for: both only pre-fill the format pick and the save dialog. */
export interface ExportArguments<Location> {
  /** The format to pre-select, or null to ask. */
  readonly format: ExportFormat | null;
  /** Where the save dialog starts, or null for the default place. */
  readonly suggestedLocation: Location | null;
}

/**
 * `latencyCopilot.exportSpeedHistory(format?, location?)`: the format is 'json' or 'csv', the location a URI (told
 * apart by `isLocation`, which the adapter gives). Neither skips the save dialog.
 */
export function checkExportArguments<Location>(
  format: unknown,
  location: unknown,
  isLocation: (value: unknown) => value is Location,
): ArgumentCheck<ExportArguments<Location>> {
  if (format !== undefined && format !== null && format !== 'json' && format !== 'csv') {
    return fail(
      `Export Speed History: the format must be 'json' or 'csv', not ${describeArgument(format)}. Run it from the Command Palette to pick one.`,
    );
  }
  if (location !== undefined && location !== null && !isLocation(location)) {
    return fail(`Export Speed History: the suggested location must be a file URI, not ${describeArgument(location)}.`);
  }
  return {
    ok: true,
    value: {
      format: format === 'json' || format === 'csv' ? format : null,
      suggestedLocation: location === undefined || location === null ? null : location,
    },
  };
}

/**
 * The server a key command is for: `latencyCopilot.apiKey:<origin>` with an http(s) origin exactly as
 * `apiKeySecretName` writes it, or nothing (null: the command asks). Used by Set and Clear API Key.
 */
export function checkSecretNameArgument(command: string, value: unknown): ArgumentCheck<string | null> {
  if (value === undefined || value === null) return { ok: true, value: null };
  const problem = `${command}: expected no argument or a server's key name such as ${API_KEY_SECRET_PREFIX}https://api.groq.com, not ${describeArgument(value)}. Run it from the Command Palette to pick the server.`;
  if (typeof value !== 'string' || !value.startsWith(API_KEY_SECRET_PREFIX)) return fail(problem);
  const origin = value.slice(API_KEY_SECRET_PREFIX.length);
  try {
    const url = new URL(origin);
    if ((url.protocol !== 'https:' && url.protocol !== 'http:') || url.origin !== origin) return fail(problem);
  } catch {
    return fail(problem);
  }
  return { ok: true, value };
}

/** The modal question before a key is deleted: it names the server, and what stops working. */
export interface ClearKeyConfirmation {
  readonly message: string;
  readonly detail: string;
  /** The button that deletes; closing the dialog keeps the key. */
  readonly confirm: string;
}

/** The question "Clear API Key" asks before deleting the key of `origin`, used by the endpoints `usedBy`. */
export function clearKeyConfirmation(origin: string, usedBy: readonly string[]): ClearKeyConfirmation {
  const users =
    usedBy.length === 0
      ? 'No configured endpoint uses this server now.'
      : `${usedBy.join(', ')} ${usedBy.length === 1 ? 'uses' : 'use'} this server and will get no key until one is set again.`;
  return {
    message: `Delete the API key for ${origin}?`,
    detail: `It is removed from the OS keychain (SecretStorage). ${users}`,
    confirm: 'Delete Key',
  };
}

/** The most characters of an instruction given as an argument (a typed one is shorter by far). */
export const MAX_INSTRUCTION_CHARS = 4000;

/** Optional arguments of "Refactor Selection…" (keybindings that pass an instruction, the end-to-end suite). */
export interface RefactorArguments {
  readonly presetId?: string;
  readonly instruction?: string;
  readonly role?: BackendRole;
  /** Only the simulator's own `x-sim-*` test headers. */
  readonly extraHeaders?: Readonly<Record<string, string>>;
}

const REFACTOR_ARGUMENT_KEYS: readonly string[] = ['presetId', 'instruction', 'role', 'extraHeaders'];

/**
 * `latencyCopilot.refactorSelection(args?)`: `{ presetId?, instruction?, role?, extraHeaders? }`, each checked; an
 * unknown field is refused (a typo would otherwise run a different refactor than meant). The refactor still streams
 * into the open editor only and waits for the person's Accept.
 */
export function checkRefactorArguments(raw: unknown): ArgumentCheck<RefactorArguments> {
  if (raw === undefined || raw === null) return { ok: true, value: {} };
  const options = optionsObject(
    'Refactor Selection',
    'expected { presetId?, instruction?, role?, extraHeaders? }',
    raw,
    REFACTOR_ARGUMENT_KEYS,
  );
  if (!options.ok) return options;
  const { presetId, instruction, role, extraHeaders } = options.value;
  if (presetId !== undefined && (typeof presetId !== 'string' || findRefactorPreset(presetId) === undefined)) {
    return fail(`Refactor Selection: presetId names no refactor preset (${describeArgument(presetId)}).`);
  }
  if (instruction !== undefined && !isTypedText(instruction)) {
    return fail(
      `Refactor Selection: instruction must be a text of 1 to ${MAX_INSTRUCTION_CHARS} characters, not ${describeArgument(instruction)}.`,
    );
  }
  if (role !== undefined && role !== 'burst' && role !== 'longContext') {
    return fail(`Refactor Selection: role must be 'burst' or 'longContext', not ${describeArgument(role)}.`);
  }
  let headers: Record<string, string> | undefined;
  if (extraHeaders !== undefined) {
    if (!isPlainObject(extraHeaders))
      return fail(`Refactor Selection: extraHeaders must be an object, not ${describeArgument(extraHeaders)}.`);
    headers = {};
    for (const [name, value] of Object.entries(extraHeaders)) {
      // Only the simulator's test headers: anything else could carry credentials or steer a real server.
      if (
        !/^x-sim-[a-z0-9-]+$/i.test(name) ||
        typeof value !== 'string' ||
        value.length > 200 ||
        /[\r\n]/.test(value)
      ) {
        return fail(
          "Refactor Selection: extraHeaders may hold only the simulator's x-sim-* headers with short text values.",
        );
      }
      headers[name] = value;
    }
  }
  return {
    ok: true,
    value: {
      ...(typeof presetId === 'string' ? { presetId } : {}),
      ...(typeof instruction === 'string' ? { instruction } : {}),
      ...(role === 'burst' || role === 'longContext' ? { role } : {}),
      ...(headers === undefined ? {} : { extraHeaders: headers }),
    },
  };
}

/** Optional arguments of "Ask About This Repository…" and "Refactor Across Repository…" (the end-to-end suite, links). */
export interface RepoTaskArguments {
  /** Pre-fills the question box: the person still sends it, since the repository goes to a model. */
  readonly request?: string;
}

/**
 * `latencyCopilot.repo.ask(args?)` and `repo.refactor(args?)`: `{ request? }`, a text of 1 to
 * `MAX_INSTRUCTION_CHARS` characters; anything else is refused. The request only pre-fills the question box.
 */
export function checkRepoTaskArguments(command: string, raw: unknown): ArgumentCheck<RepoTaskArguments> {
  if (raw === undefined || raw === null) return { ok: true, value: {} };
  const options = optionsObject(command, 'expected { request? }', raw, ['request']);
  if (!options.ok) return options;
  const { request } = options.value;
  if (request === undefined) return { ok: true, value: {} };
  if (!isTypedText(request)) {
    return fail(
      `${command}: request must be a text of 1 to ${MAX_INSTRUCTION_CHARS} characters, not ${describeArgument(request)}.`,
    );
  }
  return { ok: true, value: { request } };
}
