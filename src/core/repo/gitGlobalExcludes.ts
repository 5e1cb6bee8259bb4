/**
 * Where git's global excludes file is (git-config(1) `core.excludesFile`), and its text. Git reads it below
 * `$GIT_DIR/info/exclude` and every `.gitignore`: a file a person keeps out of every repository of theirs (editor
 * swap files, a private notes folder, `.envrc`) is kept out of prompts too.
 *
 * Read: the XDG user config, then `~/.gitconfig` (a later value wins, as in git), or only `$GIT_CONFIG_GLOBAL` when it is
 * set. Not read: the system config and `[include]`/`[includeIf]` files (a value set only there is missed; the default
 * file is then used).
 */

/** The parts of the environment the lookup depends on. */
export interface GitConfigEnvironment {
  /** The home folder (`os.homedir()`). */
  readonly home: string;
  /** `$XDG_CONFIG_HOME`; unset or empty means `<home>/.config`, as in git. */
  readonly xdgConfigHome?: string;
  /** `$GIT_CONFIG_GLOBAL`: when set, git reads this file instead of the two user config files. */
  readonly gitConfigGlobal?: string;
}

/** Reads a file as text; null when it is missing or cannot be read. */
export type ReadTextFile = (path: string) => Promise<string | null>;

/** What was found: the excludes file's path (where it is or would be) and its text (null when there is none). */
export interface GitGlobalExcludes {
  readonly path: string;
  readonly text: string | null;
  /** The user config files consulted (watch them: a change may move the excludes file). */
  readonly configPaths: readonly string[];
}

function joinPath(folder: string, ...parts: string[]): string {
  const trimmed = folder.endsWith('/') || folder.endsWith('\\') ? folder.slice(0, -1) : folder;
  return [trimmed, ...parts].join('/');
}

function xdgConfigFolder(env: GitConfigEnvironment): string {
  return env.xdgConfigHome !== undefined && env.xdgConfigHome !== ''
    ? env.xdgConfigHome
    : joinPath(env.home, '.config');
}

/** The user config files git reads, in order (a later file's value wins). */
export function gitUserConfigPaths(env: GitConfigEnvironment): string[] {
  if (env.gitConfigGlobal !== undefined && env.gitConfigGlobal !== '')
    return [expandHome(env.gitConfigGlobal, env.home)];
  return [joinPath(xdgConfigFolder(env), 'git', 'config'), joinPath(env.home, '.gitconfig')];
}

/** Where git looks when no config names an excludes file: `$XDG_CONFIG_HOME/git/ignore` or `~/.config/git/ignore`. */
export function defaultGlobalExcludesPath(env: GitConfigEnvironment): string {
  return joinPath(xdgConfigFolder(env), 'git', 'ignore');
}

/** `~/x` and `~` are the home folder (git's path expansion); a relative path is taken from the home folder. */
export function expandHome(path: string, home: string): string {
  if (path === '~') return home;
  if (path.startsWith('~/') || path.startsWith('~\\')) return joinPath(home, path.slice(2));
  const absolute = path.startsWith('/') || path.startsWith('\\') || /^[A-Za-z]:[\\/]/.test(path);
  return absolute ? path : joinPath(home, path);
}

/** Reads one value: quotes removed, `\"`, `\\`, `\n`, `\t` unescaped, an unquoted `#` or `;` starting a comment. */
function parseValue(raw: string): string {
  let value = '';
  let quoted = false;
  // Spaces are kept inside quotes and between words; leading and trailing unquoted ones are dropped.
  let pendingSpace = '';
  for (let index = 0; index < raw.length; index += 1) {
    const char = raw[index] ?? '';
    if (char === '\\') {
      const next = raw[index + 1] ?? '';
      index += 1;
      value += pendingSpace + (next === 'n' ? '\n' : next === 't' ? '\t' : next === 'b' ? '' : next);
      pendingSpace = '';
      continue;
    }
    if (char === '"') {
      value += pendingSpace;
      pendingSpace = '';
      quoted = !quoted;
      continue;
    }
    if (!quoted && (char === '#' || char === ';')) break;
    if (!quoted && (char === ' ' || char === '\t')) {
      // As git: unquoted whitespace inside a value becomes one space per character.
      if (value !== '') pendingSpace += ' ';
      continue;
    }
    value += pendingSpace + char;
    pendingSpace = '';
  }
  return value;
}

/**
 * The last `core.excludesFile` value of one config file's text (section and key names in any case), or null when it
 * sets none. Lines continued with a trailing `\` are joined; `[core]` may share its line with the key.
 */
export function excludesFileFromConfig(text: string): string | null {
  const lines = text.replace(/\\\r?\n/g, '').split(/\r?\n/);
  let inCore = false;
  let found: string | null = null;
  for (const line of lines) {
    let rest = line.trim();
    if (rest.startsWith('[')) {
      const close = rest.indexOf(']');
      if (close < 0) continue;
      // `[core]` only: a subsection (`[core "x"]`) is a different section.
      inCore = rest.slice(1, close).trim().toLowerCase() === 'core';
      rest = rest.slice(close + 1).trim();
    }
    if (!inCore || rest === '' || rest.startsWith('#') || rest.startsWith(';')) continue;
    const equals = rest.indexOf('=');
    const key = (equals < 0 ? rest : rest.slice(0, equals)).trim().toLowerCase();
    if (key !== 'excludesfile' || equals < 0) continue;
    const value = parseValue(rest.slice(equals + 1));
    // An empty value turns the setting off for this file (git then reads no excludes file at all).
    found = value;
  }
  return found;
}

/** Finds git's global excludes file and reads it. Never throws: files that cannot be read count as missing. */
export async function readGitGlobalExcludes(
  env: GitConfigEnvironment,
  readText: ReadTextFile,
): Promise<GitGlobalExcludes> {
  const configPaths = gitUserConfigPaths(env);
  let configured: string | null = null;
  for (const configPath of configPaths) {
    const text = await readText(configPath).catch(() => null);
    const value = text === null ? null : excludesFileFromConfig(text);
    if (value !== null) configured = value;
  }
  if (configured === '') return { path: '', text: null, configPaths };
  const path = configured === null ? defaultGlobalExcludesPath(env) : expandHome(configured, env.home);
  const text = await readText(path).catch(() => null);
  return { path, text, configPaths };
}
