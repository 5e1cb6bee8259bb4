import { detachString } from './detachString';
import { LineStarts } from './lineStarts';

/**
 * A light, language-agnostic outline of a source file: top-level declarations (functions, classes, types, constants)
 * found by line patterns, and the import specifiers. It feeds the repository map and the import-neighbour signal.
 * Regular expressions, not parsers: cheap enough for 20,000 files, and wrong only in ways a map can afford.
 */

/** One declaration: its name, kind word and 0-based line. */
export interface OutlineSymbol {
  readonly name: string;
  readonly kind: string;
  readonly line: number;
}

/** Declarations kept per file: a map line, not an index. */
export const MAX_SYMBOLS_PER_FILE = 40;

const SCRIPT_DECLARATIONS: readonly RegExp[] = [
  // TypeScript / JavaScript
  /^(?:export\s+)?(?:default\s+)?(?:declare\s+)?(?:abstract\s+)?(?:async\s+)?(function\*?|class|interface|type|enum|namespace)\s+([A-Za-z_$][\w$]*)/,
  /^(?:export\s+)(const|let|var)\s+([A-Za-z_$][\w$]*)/,
];
const PYTHON_DECLARATIONS: readonly RegExp[] = [/^(?: {4}|\t)?(?:async\s+)?(def|class)\s+([A-Za-z_]\w*)/];
const GO_DECLARATIONS: readonly RegExp[] = [
  /^(func)\s+(?:\([^)]*\)\s*)?([A-Za-z_]\w*)/,
  /^(type)\s+([A-Za-z_]\w*)\s+(?:struct|interface)/,
];
const RUST_DECLARATIONS: readonly RegExp[] = [
  /^(?:pub(?:\([^)]*\))?\s+)?(?:async\s+)?(fn|struct|enum|trait|mod|impl)(?:\s*<[^>]*>)?\s+([A-Za-z_]\w*)/,
];
const CLASS_DECLARATIONS: readonly RegExp[] = [
  // Java / C# / Kotlin / Scala classes
  /^(?:public\s+|private\s+|protected\s+|internal\s+)?(?:final\s+|abstract\s+|static\s+|sealed\s+|data\s+|open\s+)*(class|interface|record|object)\s+([A-Za-z_]\w*)/,
];
const ANY_DECLARATIONS: readonly RegExp[] = [
  ...SCRIPT_DECLARATIONS,
  ...PYTHON_DECLARATIONS,
  ...GO_DECLARATIONS,
  ...RUST_DECLARATIONS,
  ...CLASS_DECLARATIONS,
];

/** The declaration patterns worth testing for a file, by its extension (every pattern for an unknown one). */
export function declarationPatternsFor(path: string): readonly RegExp[] {
  const dot = path.lastIndexOf('.');
  switch (dot < 0 ? '' : path.slice(dot + 1).toLowerCase()) {
    case 'ts':
    case 'tsx':
    case 'mts':
    case 'cts':
    case 'js':
    case 'jsx':
    case 'mjs':
    case 'cjs':
      return SCRIPT_DECLARATIONS;
    case 'py':
    case 'pyi':
      return PYTHON_DECLARATIONS;
    case 'go':
      return GO_DECLARATIONS;
    case 'rs':
      return RUST_DECLARATIONS;
    case 'java':
    case 'kt':
    case 'kts':
    case 'cs':
    case 'scala':
      return CLASS_DECLARATIONS;
    case 'md':
    case 'txt':
    case 'json':
    case 'yml':
    case 'yaml':
    case 'toml':
    case 'lock':
    case 'csv':
    case 'svg':
    case 'xml':
    case 'html':
      return [];
    default:
      return ANY_DECLARATIONS;
  }
}

const IMPORT_PATTERNS: readonly RegExp[] = [
  /^\s*import\s+(?:type\s+)?(?:[\w*${}\s,]+\s+from\s+)?['"]([^'"]+)['"]/,
  /^\s*export\s+(?:type\s+)?[\w*${}\s,]+\s+from\s+['"]([^'"]+)['"]/,
  /\brequire\(\s*['"]([^'"]+)['"]\s*\)/,
  /^\s*from\s+(\.*[\w.]*)\s+import\s/,
  /^\s*import\s+([\w.]+)\s*$/,
  /^\s*#\s*include\s+"([^"]+)"/,
];

/** What the outline pass found in one file. */
export interface FileOutline {
  readonly symbols: readonly OutlineSymbol[];
  readonly imports: readonly string[];
}

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8');

/** Outlines a file's text; `path` picks the declaration patterns of its language. */
export function outlineSource(text: string, path = ''): FileOutline {
  return outlineBytes(encoder.encode(text), path);
}

/** True when `bytes[at..end)` starts with the ASCII `word`. */
function startsWithWord(bytes: Uint8Array, at: number, end: number, word: string): boolean {
  if (end - at < word.length) return false;
  for (let index = 0; index < word.length; index += 1) if (bytes[at + index] !== word.charCodeAt(index)) return false;
  return true;
}

/** True for a line indented once (four spaces or a tab) and then `def `, `class ` or `async ` (a Python method). */
function isIndentedDeclaration(bytes: Uint8Array, start: number, end: number): boolean {
  const at = bytes[start] === 9 ? start + 1 : startsWithWord(bytes, start, end, '    ') ? start + 4 : -1;
  if (at < 0) return false;
  return (
    startsWithWord(bytes, at, end, 'def ') ||
    startsWithWord(bytes, at, end, 'class ') ||
    startsWithWord(bytes, at, end, 'async ')
  );
}

/**
 * Outlines a file's UTF-8 bytes. Declarations and imports start at column 0 (Python methods: one indent, then
 * `def`/`class`/`async`), so only those lines are decoded and matched: most of a file is never turned into a string.
 * `lines` may carry the file's lines already found (the index finds them once for chunking and outlining).
 */
export function outlineBytes(bytes: Uint8Array, path = '', lines: LineStarts = linesOf(bytes)): FileOutline {
  const declarations = declarationPatternsFor(path);
  const symbols: OutlineSymbol[] = [];
  const imports: string[] = [];
  for (let lineNumber = 0; lineNumber < lines.count; lineNumber += 1) {
    const start = lines.start(lineNumber);
    const end = lines.end(lineNumber);
    const first = bytes[start] ?? -1;
    const indented = first === 32 || first === 9;
    // Bounds in bytes first (a line under 300 UTF-16 units has under 1,200 UTF-8 bytes), then exactly on the text.
    const candidate =
      end - start > 2 &&
      end - start < 1_200 &&
      first !== 47 &&
      first !== 42 &&
      first !== 125 &&
      first !== 10 &&
      first !== 13 &&
      (!indented || isIndentedDeclaration(bytes, start, end));
    if (candidate) {
      const line = decoder.decode(bytes.subarray(start, end));
      if (line.length > 2 && line.length < 300) outlineLine(line, lineNumber, indented, declarations, symbols, imports);
    }
  }
  return { symbols, imports };
}

function linesOf(bytes: Uint8Array): LineStarts {
  const lines = new LineStarts();
  lines.scan(bytes);
  return lines;
}

/** Symbol kinds are a handful of words: one shared string each instead of one copy per symbol. */
const KINDS = new Map<string, string>();

function internKind(kind: string): string {
  const known = KINDS.get(kind);
  if (known !== undefined) return known;
  const detached = detachString(kind);
  KINDS.set(detached, detached);
  return detached;
}

function outlineLine(
  line: string,
  lineNumber: number,
  indented: boolean,
  declarations: readonly RegExp[],
  symbols: OutlineSymbol[],
  imports: string[],
): void {
  if (symbols.length < MAX_SYMBOLS_PER_FILE) {
    for (const pattern of declarations) {
      const match = pattern.exec(line);
      if (match !== null && match[1] !== undefined && match[2] !== undefined) {
        symbols.push({ kind: internKind(match[1]), name: detachString(match[2]), line: lineNumber });
        break;
      }
    }
  }
  if (
    !indented &&
    (line.includes('import') || line.includes('require') || line.includes('include') || line.includes('from'))
  ) {
    for (const pattern of IMPORT_PATTERNS) {
      const match = pattern.exec(line);
      if (match?.[1] !== undefined) {
        imports.push(detachString(match[1]));
        break;
      }
    }
  }
}

// prettier-ignore
const RESOLVE_SUFFIXES = ['', '.ts', '.tsx', '.js', '.jsx', '.mjs', '.cjs', '.mts', '.cts', '.py', '.d.ts',
  '/index.ts', '/index.tsx', '/index.js', '/__init__.py'];

function normalise(path: string): string | null {
  const out: string[] = [];
  for (const segment of path.split('/')) {
    if (segment === '' || segment === '.') continue;
    if (segment === '..') {
      if (out.length === 0) return null;
      out.pop();
    } else {
      out.push(segment);
    }
  }
  return out.join('/');
}

/**
 * Resolves an import specifier written in `fromPath` to a file the index holds, or null (packages, unknown paths).
 * Handles relative JS/TS specifiers (with or without extension, `.js` written for a `.ts` file, `index` files),
 * relative Python imports (`from .x import`), dotted absolute Python modules, and C `#include "x.h"`.
 */
export function resolveImport(fromPath: string, specifier: string, hasFile: (path: string) => boolean): string | null {
  const slash = fromPath.lastIndexOf('/');
  const directory = slash < 0 ? '' : fromPath.slice(0, slash);
  const candidates: string[] = [];
  if (specifier.startsWith('./') || specifier.startsWith('../')) {
    const base = normalise(`${directory}/${specifier}`);
    if (base === null) return null;
    candidates.push(base);
    if (/\.(m|c)?js$/.test(base))
      candidates.push(base.replace(/\.(m|c)?js$/, '.ts'), base.replace(/\.(m|c)?js$/, '.tsx'));
    for (const suffix of RESOLVE_SUFFIXES) candidates.push(base + suffix);
  } else if (/^\.+[\w.]*$/.test(specifier)) {
    // Python relative import: one dot is this package, each further dot one level up.
    const dots = /^\.+/.exec(specifier)?.[0].length ?? 1;
    const rest = specifier
      .slice(dots)
      .split('.')
      .filter((part) => part !== '')
      .join('/');
    const up = '../'.repeat(dots - 1);
    const base = normalise(`${directory}/${up}${rest}`);
    if (base === null) return null;
    candidates.push(`${base}.py`, `${base}/__init__.py`);
  } else if (/^[A-Za-z_][\w]*(\.[A-Za-z_]\w*)+$/.test(specifier) || /^[\w/.-]+\.(h|hpp|hh)$/.test(specifier)) {
    const modulePath = /\.(h|hpp|hh)$/.test(specifier) ? specifier : specifier.split('.').join('/');
    const local = normalise(`${directory}/${modulePath}`);
    if (local !== null) candidates.push(local);
    candidates.push(modulePath, `${modulePath}.py`, `${modulePath}/__init__.py`, `src/${modulePath}.py`);
  } else {
    return null;
  }
  for (const candidate of candidates) if (candidate !== fromPath && hasFile(candidate)) return candidate;
  return null;
}
