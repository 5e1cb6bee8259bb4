// The demo `npm start` opens (src/tools/start.ts): the shipped demo workspace (demo/) copied into the cache without
// overwriting the person's edits, where the cursor goes in example.ts, and the address that opens both in code-server.
// Kept apart from start.ts, which runs on import, so that test/unit/tools/startDemo.test.ts can check these parts alone.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import { isRecord } from '../core/json';

/** The file the demo opens, relative to the demo workspace. */
export const DEMO_FILE = 'example.ts';

/**
 * What earlier versions of `npm start` wrote into the demo workspace, by file. Nobody typed these, so they are replaced
 * by the shipped version like a file that was copied and not edited since.
 */
const EARLIER_VERSIONS: Readonly<Record<string, readonly string[]>> = {
  [DEMO_FILE]: [
    '// Type below: ghost text streams from the simulated burst backend; the status bar shows its tokens/s.\n' +
      '// Select code and run "Latency Copilot: Refactor Selection…" from the command palette.\n\n' +
      'export function parseDuration(text: string): number {\n',
  ],
};

/** What `syncDemoWorkspace` did, by path relative to the workspace ('/'-separated). */
export interface DemoSyncReport {
  /** Files that were missing and were copied. */
  readonly added: readonly string[];
  /** Files not edited since an earlier copy (or an earlier `npm start` wrote them) that the shipped version replaced. */
  readonly updated: readonly string[];
  /** Files that differ from what was copied: the person's edits, left alone. */
  readonly kept: readonly string[];
}

function sha256(content: Buffer | string): string {
  return createHash('sha256').update(content).digest('hex');
}

/** Every file under `dir` (dot files included), as '/'-separated paths relative to it, sorted. */
export function listFiles(dir: string): string[] {
  const found: string[] = [];
  const walk = (current: string): void => {
    for (const entry of readdirSync(current, { withFileTypes: true })) {
      const full = join(current, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.isFile()) found.push(relative(dir, full).split(sep).join('/'));
    }
  };
  walk(dir);
  return found.sort();
}

/** The hashes of what the last sync wrote, by file; empty when the record is missing or damaged (nothing is then replaced). */
function readRecord(recordFile: string): Map<string, string> {
  const record = new Map<string, string>();
  try {
    const parsed: unknown = JSON.parse(readFileSync(recordFile, 'utf8'));
    if (isRecord(parsed) && isRecord(parsed['files'])) {
      for (const [path, hash] of Object.entries(parsed['files'])) if (typeof hash === 'string') record.set(path, hash);
    }
  } catch {
    // No record yet, or a damaged one: treat every differing file as the person's.
  }
  return record;
}

/**
 * Brings the demo workspace `target` up to the shipped `source` without losing the person's work. A file is copied when
 * it is missing, and replaced only when it still holds exactly what an earlier sync wrote (or an earlier `npm start`
 * generated): then the shipped version is newer and nobody edited the old one. Anything else is the person's and stays.
 * `recordFile` (outside the workspace, so it never shows in the editor) remembers the hash of every file written.
 * Files that are no longer shipped are left where they are.
 */
export function syncDemoWorkspace(source: string, target: string, recordFile: string): DemoSyncReport {
  const record = readRecord(recordFile);
  const added: string[] = [];
  const updated: string[] = [];
  const kept: string[] = [];
  for (const path of listFiles(source)) {
    const shipped = readFileSync(join(source, path));
    const shippedHash = sha256(shipped);
    const destination = join(target, path);
    if (existsSync(destination)) {
      const currentHash = sha256(readFileSync(destination));
      if (currentHash === shippedHash) {
        record.set(path, shippedHash);
        continue;
      }
      const untouched =
        currentHash === record.get(path) || (EARLIER_VERSIONS[path] ?? []).some((text) => sha256(text) === currentHash);
      if (!untouched) {
        kept.push(path);
        continue;
      }
      updated.push(path);
    } else {
      added.push(path);
    }
    mkdirSync(dirname(destination), { recursive: true });
    writeFileSync(destination, shipped);
    record.set(path, shippedHash);
  }
  mkdirSync(dirname(recordFile), { recursive: true });
  writeFileSync(recordFile, `${JSON.stringify({ files: Object.fromEntries([...record].sort()) }, null, 2)}\n`);
  return { added, updated, kept };
}

/**
 * The code-server demo profile's user settings. A workspace setting would come too late for the secondary side bar:
 * VS Code lays out the window before it reads a remote folder's settings.
 */
export const DEMO_USER_SETTINGS: Readonly<Record<string, unknown>> = {
  'workbench.startupEditor': 'none',
  'telemetry.telemetryLevel': 'off',
  'update.mode': 'none',
  'extensions.autoUpdate': false,
  'chat.disableAIFeatures': true,
  // The side bar would hold only the chat view, which the line above turns off: closed, the editor gets its width.
  'workbench.secondarySideBar.defaultVisibility': 'hidden',
};

/**
 * The settings.json text to write so that it holds every key of `defaults`: all of them for a missing file (`existing`
 * null), the missing ones added to a file that has some, and null when nothing is to be written: every key is there
 * (the person's values always win), or the file is not plain JSON (VS Code allows comments there: someone edited it by
 * hand, so it is left alone).
 */
export function settingsWithDefaults(
  existing: string | null,
  defaults: Readonly<Record<string, unknown>>,
): string | null {
  let current: Readonly<Record<string, unknown>> = {};
  if (existing !== null && existing.trim() !== '') {
    try {
      const parsed: unknown = JSON.parse(existing);
      if (!isRecord(parsed)) return null;
      current = parsed;
    } catch {
      return null;
    }
  }
  const missing = Object.keys(defaults).filter((key) => !(key in current));
  if (existing !== null && missing.length === 0) return null;
  return `${JSON.stringify({ ...current, ...Object.fromEntries(missing.map((key) => [key, defaults[key]])) }, null, 2)}\n`;
}

/** A place in a file, both 1-based, as VS Code's `--goto file:line:column` and `gotoLineMode` take it. */
export interface Cursor {
  readonly line: number;
  readonly column: number;
}

/**
 * Where the person starts typing in example.ts: at the end of the first line that holds only indentation (the body of
 * the half-written function, so typing continues it at the right depth); in a file without one, at its end.
 */
export function typingCursor(text: string): Cursor {
  const lines = text.split('\n');
  const indented = lines.findIndex((line) => /^[ \t]+\r?$/.test(line));
  if (indented !== -1) return { line: indented + 1, column: (lines[indented] ?? '').replace(/\r$/, '').length + 1 };
  const last = lines.length - 1;
  return { line: last + 1, column: (lines[last] ?? '').length + 1 };
}

/** What the code-server address opens. */
export interface DemoUrlOptions {
  /** The host and port code-server listens on, e.g. `127.0.0.1:8765`. */
  readonly authority: string;
  /** The workspace folder, an absolute path on the code-server machine. */
  readonly folder: string;
  /** The file to open, an absolute path. */
  readonly file: string;
  readonly cursor: Cursor;
}

/** An absolute POSIX path as a URI path: each segment percent-encoded, so spaces, `#` and `?` survive. */
function uriPath(path: string): string {
  return path.split('/').map(encodeURIComponent).join('/');
}

/**
 * The address that opens `folder` in code-server with `file` in the editor and the cursor at `cursor`. VS Code for the
 * web reads `payload` (URL-encoded JSON pairs): `openFile` takes a `vscode-remote://` URI on the server's own authority,
 * and `gotoLineMode` makes it read a trailing `:line:column` off that URI's path.
 */
export function codeServerDemoUrl(options: DemoUrlOptions): string {
  const { authority, folder, file, cursor } = options;
  const payload = [
    ['openFile', `vscode-remote://${authority}${uriPath(file)}:${cursor.line}:${cursor.column}`],
    ['gotoLineMode', 'true'],
  ];
  return `http://${authority}/?folder=${queryValue(folder)}&payload=${queryValue(JSON.stringify(payload))}`;
}

/**
 * `value` for a URL query: percent-encoded, except `/`, `:` and `,`, which a query may hold as they are (RFC 3986), so
 * the printed address stays readable. A `%` in `value` is still encoded, so the URI inside the payload keeps its own.
 */
function queryValue(value: string): string {
  return encodeURIComponent(value).replace(/%2F/g, '/').replace(/%3A/g, ':').replace(/%2C/g, ',');
}
