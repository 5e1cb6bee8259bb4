import { isSecretFileName } from '../repo/fileSafety';
import { compileIgnoreFile, matchPatterns } from '../repo/ignoreRules';
import type { IgnorePattern } from '../repo/ignoreRules';
import { readBooleanSetting, readNumberSetting, readRawSetting, readStringSetting } from '../settings';
import type { SettingsSource } from '../settings';
import { DEFAULT_INLINE_OPTIONS } from './inlineEngine';
import type { InlineEngineOptions } from './inlineEngine';

/** The extension's own ignore file: files it matches (gitignore syntax, from the workspace folder root) get no requests. */
export const INLINE_IGNORE_FILE = '.latencycopilotignore';

/** The engine options from the `latencyCopilot.inline.*` settings (the rest stay at their defaults). */
export function readInlineOptions(source: SettingsSource): InlineEngineOptions {
  const multiline = readStringSetting(source, 'inline.multiline');
  return {
    ...DEFAULT_INLINE_OPTIONS,
    multiline: multiline === 'always' || multiline === 'never' ? multiline : 'auto',
    minDisplayDelayMs: Math.min(2000, Math.max(0, readNumberSetting(source, 'inline.minDisplayDelayMs'))),
    adaptiveDelay: readBooleanSetting(source, 'inline.adaptiveDelay'),
    speculate: readBooleanSetting(source, 'inline.speculativeRequests'),
  };
}

/** Whether `languageId` is enabled by the raw `inline.languages` setting (`*` is the fallback; true when unset). */
export function isLanguageEnabled(languages: unknown, languageId: string): boolean {
  if (typeof languages !== 'object' || languages === null) return true;
  const own: unknown = Object.getOwnPropertyDescriptor(languages, languageId)?.value;
  if (typeof own === 'boolean') return own;
  const fallback: unknown = Object.getOwnPropertyDescriptor(languages, '*')?.value;
  return typeof fallback === 'boolean' ? fallback : true;
}

/** Reads `inline.languages` for one language. */
export function languageEnabled(source: SettingsSource, languageId: string): boolean {
  return isLanguageEnabled(readRawSetting(source, 'inline.languages'), languageId);
}

/** The document as the gate sees it. */
export interface GateInput {
  readonly enabled: boolean;
  readonly languageEnabled: boolean;
  /** The file's name without folders, e.g. `.env.local`. */
  readonly fileName: string;
  /** Path relative to its workspace folder (POSIX), or null outside any folder. */
  readonly relativePath: string | null;
  readonly workspaceTrusted: boolean;
  readonly allowUntrusted: boolean;
  /** Patterns of the workspace folder's `.latencycopilotignore`. */
  readonly ignorePatterns: readonly IgnorePattern[];
}

/** Why no request is made for a document. */
export type GateVerdict = 'off' | 'language-off' | 'secret-file' | 'ignored-file' | 'untrusted-workspace';

/**
 * Whether a document may be sent for inline completion: never for a secret-bearing file (`.env*`, `*.pem`, `*.key`,
 * `id_rsa*`, credential files) or a file the ignore file matches, nor in an untrusted workspace unless allowed. Null means
 * "go ahead".
 */
export function gateVerdict(input: GateInput): GateVerdict | null {
  if (!input.enabled) return 'off';
  if (isSecretFileName(input.fileName)) return 'secret-file';
  if (input.relativePath !== null && isIgnoredPath(input.ignorePatterns, input.relativePath)) return 'ignored-file';
  if (!input.workspaceTrusted && !input.allowUntrusted) return 'untrusted-workspace';
  if (!input.languageEnabled) return 'language-off';
  return null;
}

/** True when `relativePath` or one of its folders is matched by the patterns. */
export function isIgnoredPath(patterns: readonly IgnorePattern[], relativePath: string): boolean {
  if (patterns.length === 0) return false;
  const segments = relativePath.split('/');
  for (let depth = 1; depth < segments.length; depth += 1) {
    if (matchPatterns(patterns, segments.slice(0, depth).join('/'), true) === 'ignored') return true;
  }
  return matchPatterns(patterns, relativePath, false) === 'ignored';
}

/** Compiles the text of a `.latencycopilotignore` file. */
export function compileInlineIgnore(text: string): IgnorePattern[] {
  return compileIgnoreFile(text);
}
