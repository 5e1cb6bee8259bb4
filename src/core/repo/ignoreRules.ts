/**
 * A `.gitignore` matcher with git's semantics (gitignore(5)):
 * - blank lines and `#` comments are skipped; trailing unescaped spaces are dropped; `\` escapes the next character;
 * - `!` negates (re-includes) a path an earlier pattern excluded; the LAST matching pattern decides;
 * - a trailing `/` matches directories only;
 * - a pattern with a `/` at its start or in its middle is anchored to the ignore file's directory, otherwise it matches
 *   a name at any depth below it;
 * - `*` and `?` never match `/`; `[...]` is a character class (`[!...]` negated); `**` as a whole segment matches any
 *   number of directories (`**​/x`, `a/**​/b`, `a/**`).
 * A file inside an excluded directory cannot be re-included (git does not descend there either): callers check the
 * directories on the way down, as the walker does.
 */

/** One compiled pattern. */
export interface IgnorePattern {
  readonly source: string;
  readonly negated: boolean;
  readonly directoryOnly: boolean;
  readonly regex: RegExp;
}

function escapeRegexChar(char: string): string {
  return /[\\^$.*+?()[\]{}|/-]/.test(char) ? `\\${char}` : char;
}

/** Translates a bracket expression starting at `pattern[start] === '['`; returns the regex and the index after `]`. */
function translateClass(pattern: string, start: number): { regex: string; end: number } | null {
  let index = start + 1;
  let negated = false;
  if (pattern[index] === '!' || pattern[index] === '^') {
    negated = true;
    index += 1;
  }
  let body = '';
  let first = true;
  while (index < pattern.length) {
    const char = pattern[index];
    if (char === undefined) break;
    if (char === ']' && !first) return { regex: `[${negated ? '^' : ''}${body}]`, end: index + 1 };
    if (char === '\\' && index + 1 < pattern.length) {
      body += escapeRegexChar(pattern[index + 1] ?? '');
      index += 2;
    } else {
      // `-` keeps its range meaning inside a class; everything else is literal.
      body += char === '-' ? '-' : escapeRegexChar(char);
      index += 1;
    }
    first = false;
  }
  return null;
}

/** Translates a glob body (no leading `/`, no trailing `/`) into a regex source matching a whole relative path. */
function translateGlob(glob: string): string {
  let out = '';
  let index = 0;
  while (index < glob.length) {
    const char = glob[index] ?? '';
    if (char === '*') {
      const isDouble = glob[index + 1] === '*';
      const atSegmentStart = index === 0 || glob[index - 1] === '/';
      const afterDouble = glob[index + 2];
      if (isDouble && atSegmentStart && (afterDouble === '/' || afterDouble === undefined)) {
        if (afterDouble === '/') {
          out += '(?:[^/]*/)*'; // `**/`: zero or more directories.
          index += 3;
        } else {
          out += '.*'; // trailing `/**` (the `/` is already emitted): everything inside.
          index += 2;
        }
        continue;
      }
      // A `**` not forming a whole segment acts as `*`.
      while (glob[index] === '*') index += 1;
      out += '[^/]*';
      continue;
    }
    if (char === '?') {
      out += '[^/]';
      index += 1;
      continue;
    }
    if (char === '[') {
      const translated = translateClass(glob, index);
      if (translated !== null) {
        out += translated.regex;
        index = translated.end;
        continue;
      }
      out += '\\[';
      index += 1;
      continue;
    }
    if (char === '\\' && index + 1 < glob.length) {
      out += escapeRegexChar(glob[index + 1] ?? '');
      index += 2;
      continue;
    }
    out += escapeRegexChar(char);
    index += 1;
  }
  return out;
}

/** Compiles one line of an ignore file; null for blank lines and comments. */
export function compileIgnoreLine(line: string): IgnorePattern | null {
  let text = line.replace(/\r$/, '');
  // Trailing spaces are dropped unless escaped with a backslash.
  text = text.replace(/(?<!\\)\s+$/, '');
  if (text.endsWith('\\ ')) text = `${text.slice(0, -2)} `;
  if (text === '' || text.startsWith('#')) return null;
  let negated = false;
  if (text.startsWith('!')) {
    negated = true;
    text = text.slice(1);
  } else if (text.startsWith('\\!') || text.startsWith('\\#')) {
    text = text.slice(1);
  }
  let directoryOnly = false;
  if (text.endsWith('/') && !text.endsWith('\\/')) {
    directoryOnly = true;
    text = text.replace(/\/+$/, '');
  }
  if (text === '') return null;
  const anchored = text.includes('/');
  if (text.startsWith('/')) text = text.slice(1);
  const body = translateGlob(text);
  const prefix = anchored ? '' : '(?:[^/]*/)*';
  return { source: line, negated, directoryOnly, regex: new RegExp(`^${prefix}${body}$`) };
}

/** Compiles the text of an ignore file. */
export function compileIgnoreFile(text: string): IgnorePattern[] {
  const patterns: IgnorePattern[] = [];
  for (const line of text.split('\n')) {
    const pattern = compileIgnoreLine(line);
    if (pattern !== null) patterns.push(pattern);
  }
  return patterns;
}

/**
 * The verdict of one pattern list for a path relative to the list's directory: `ignored`, `included` (a negation
 * matched last), or null when no pattern matched.
 */
export function matchPatterns(
  patterns: readonly IgnorePattern[],
  relativePath: string,
  isDirectory: boolean,
): 'ignored' | 'included' | null {
  for (let index = patterns.length - 1; index >= 0; index -= 1) {
    const pattern = patterns[index];
    if (pattern === undefined) continue;
    if (pattern.directoryOnly && !isDirectory) continue;
    if (pattern.regex.test(relativePath)) return pattern.negated ? 'included' : 'ignored';
  }
  return null;
}

/** Ignore patterns that apply below one directory (`''` for the workspace root). */
export interface IgnoreScope {
  readonly directory: string;
  readonly patterns: readonly IgnorePattern[];
}

/**
 * The ignore rules of a whole tree: every `.gitignore` (and the extension's own ignore file) by the directory it sits
 * in. Deeper files override shallower ones, as in git.
 */
export class IgnoreRules {
  private readonly scopes = new Map<string, IgnorePattern[]>();

  /** Adds (or, when called again for the same directory, extends) the patterns that apply below `directory`. */
  add(directory: string, patterns: readonly IgnorePattern[]): void {
    if (patterns.length === 0) return;
    const existing = this.scopes.get(directory);
    if (existing === undefined) this.scopes.set(directory, [...patterns]);
    else existing.push(...patterns);
  }

  /** Forgets the patterns of `directory` (its ignore file changed or went away). */
  clear(directory: string): void {
    this.scopes.delete(directory);
  }

  /** Replaces the patterns that apply below `directory` (its ignore files were read again). */
  set(directory: string, patterns: readonly IgnorePattern[]): void {
    this.clear(directory);
    this.add(directory, patterns);
  }

  /**
   * True when `path` (POSIX, relative to the root) is ignored by the rules of its own ancestors. It does not check
   * whether an ancestor directory is ignored: use `isIgnoredWithAncestors` for a path seen out of a walk.
   */
  isIgnored(path: string, isDirectory: boolean): boolean {
    // Walk from the deepest scope up: the first scope with a verdict decides.
    let directory = parentOf(path);
    for (;;) {
      const patterns = this.scopes.get(directory);
      if (patterns !== undefined) {
        const relative = directory === '' ? path : path.slice(directory.length + 1);
        const verdict = matchPatterns(patterns, relative, isDirectory);
        if (verdict !== null) return verdict === 'ignored';
      }
      if (directory === '') return false;
      directory = parentOf(directory);
    }
  }

  /** True when `path` or any directory above it is ignored (for watcher events, which arrive outside a walk). */
  isIgnoredWithAncestors(path: string, isDirectory: boolean): boolean {
    const segments = path.split('/');
    let prefix = '';
    for (let index = 0; index < segments.length - 1; index += 1) {
      prefix = prefix === '' ? (segments[index] ?? '') : `${prefix}/${segments[index] ?? ''}`;
      if (this.isIgnored(prefix, true)) return true;
    }
    return this.isIgnored(path, isDirectory);
  }
}

/** The ignore files of one directory, compiled (an empty list for a file that is not there). */
export interface DirectoryIgnoreFiles {
  /** `.gitignore`. */
  readonly gitignore: readonly IgnorePattern[];
  /** The extension's own `.latencycopilotignore`, read like a `.gitignore` that comes after it. */
  readonly own: readonly IgnorePattern[];
}

/** What git adds at the root of a repository, below every `.gitignore`. */
export interface RepositoryExcludes {
  /** git's global excludes file (`core.excludesFile`). */
  readonly global: readonly IgnorePattern[];
  /** `$GIT_DIR/info/exclude`. */
  readonly repository: readonly IgnorePattern[];
}

/**
 * The patterns of one directory's scope in git's order of precedence (the last match wins within a scope, and a deeper
 * scope wins over a shallower one): at the root, the global excludes file, then `info/exclude`, then `.gitignore`, then
 * the extension's own ignore file. So `!x` in a `.gitignore` re-includes what the global file excluded, as in git.
 */
export function scopePatterns(files: DirectoryIgnoreFiles, excludes: RepositoryExcludes | null): IgnorePattern[] {
  const patterns = excludes === null ? [] : [...excludes.global, ...excludes.repository];
  patterns.push(...files.gitignore, ...files.own);
  return patterns;
}

/** The parent directory of a POSIX relative path (`''` for a top-level entry). */
export function parentOf(path: string): string {
  const slash = path.lastIndexOf('/');
  return slash < 0 ? '' : path.slice(0, slash);
}
