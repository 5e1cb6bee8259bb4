// Guards for values that arrive as `unknown`: parsed JSON (server answers, the history file, settings), messages from
// other threads and processes, and modules loaded at run time. One module, so that every reader means the same thing
// by "an object" (a plain JSON object: not null, not an array) and none imports another feature's folder to get it.

/** True for a non-null object that is not an array (what `JSON.parse` gives for `{...}`). */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * True only for an object literal (prototype `Object.prototype` or null). Stricter than `isRecord`, for untrusted input
 * that must be data and nothing else (messages from the webview).
 */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (!isRecord(value)) return false;
  const prototype: unknown = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}

/** `value[key]` when it is an object. */
export function recordAt(value: unknown, key: string): Record<string, unknown> | undefined {
  if (!isRecord(value)) return undefined;
  const inner = value[key];
  return isRecord(inner) ? inner : undefined;
}

/** `value[key]` when it is a finite number. */
export function numberAt(value: unknown, key: string): number | null {
  if (!isRecord(value)) return null;
  const inner = value[key];
  return typeof inner === 'number' && Number.isFinite(inner) ? inner : null;
}

/** `value[key]` when it is a string. */
export function stringAt(value: unknown, key: string): string | undefined {
  if (!isRecord(value)) return undefined;
  const inner = value[key];
  return typeof inner === 'string' ? inner : undefined;
}

/** The first element of `value[key]` when that is a non-empty array. */
export function firstAt(value: unknown, key: string): unknown {
  if (!isRecord(value)) return undefined;
  const inner = value[key];
  return Array.isArray(inner) ? inner[0] : undefined;
}

/** The parsed value of `text`, or undefined when it is not JSON (for readers that treat bad JSON like a missing value). */
export function tryParseJson(text: string): unknown {
  try {
    const parsed: unknown = JSON.parse(text);
    return parsed;
  } catch {
    return undefined;
  }
}
