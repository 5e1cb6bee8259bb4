import type { FileGateVerdict } from '../repo/fileGate';
import { readBooleanSetting, readNumberSetting, readRawSetting, readStringSetting } from '../config/settings';
import type { SettingsSource } from '../config/settings';
import { DEFAULT_INLINE_OPTIONS } from './inlineEngine';
import type { InlineEngineOptions } from './inlineEngine';

/** The engine options from the `latencyCopilot.inline.*` settings (the rest stay at their defaults). */
export function readInlineOptions(source: SettingsSource): InlineEngineOptions {
  const multiline = readStringSetting(source, 'inline.multiline');
  return {
    ...DEFAULT_INLINE_OPTIONS,
    multiline: multiline === 'always' || multiline === 'never' ? multiline : 'auto',
    // Clamped to 0-2,000 ms by the settings registry.
    minDisplayDelayMs: readNumberSetting(source, 'inline.minDisplayDelayMs'),
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
  /** The shared file gate's verdict for the document (`core/repo/fileGate.ts`): the rules repository tasks follow. */
  readonly file: FileGateVerdict;
  readonly workspaceTrusted: boolean;
  readonly allowUntrusted: boolean;
}

/** Why no request is made for a document. */
export type GateVerdict =
  | 'off'
  | 'language-off'
  | 'not-a-file'
  | 'outside-workspace'
  | 'secret-file'
  | 'ignored-file'
  | 'rules-loading'
  | 'untrusted-workspace';

/** The file gate's refusals in the inline gate's words (`allowed` is absent: it lets the other checks decide). */
const FILE_REFUSALS: Readonly<Record<Exclude<FileGateVerdict, 'allowed'>, GateVerdict>> = {
  'not-a-file': 'not-a-file',
  'outside-workspace': 'outside-workspace',
  secret: 'secret-file',
  vendored: 'ignored-file',
  ignored: 'ignored-file',
  loading: 'rules-loading',
};

/**
 * Whether a document may be sent for inline completion: only what repository tasks may send (a file on disk inside a
 * workspace folder, never a secret, never ignored; `rules-loading` while its folder's ignore files are being read), and
 * not in an untrusted workspace unless allowed. Null means "go ahead".
 */
export function gateVerdict(input: GateInput): GateVerdict | null {
  if (!input.enabled) return 'off';
  if (input.file !== 'allowed') return FILE_REFUSALS[input.file];
  if (!input.workspaceTrusted && !input.allowUntrusted) return 'untrusted-workspace';
  if (!input.languageEnabled) return 'language-off';
  return null;
}
