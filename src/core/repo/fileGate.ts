import { isSecretPath, isSkippedDirectory } from './fileSafety';
import { compileIgnoreFile, IgnoreRules, parentOf, scopePatterns } from './ignoreRules';
import type { DirectoryIgnoreFiles, IgnorePattern, RepositoryExcludes } from './ignoreRules';

/**
 * The one gate between a file and a model request, shared by repository tasks and inline completions: a file may be
 * sent only when it is on disk (`file` scheme), inside a workspace folder, not a secret (by name or by folder), not in a
 * folder the index never enters, and not ignored by git's rules (every `.gitignore` from the folder down,
 * `.latencycopilotignore`, `.git/info/exclude`, git's global excludes file).
 *
 * Inline completions ask on every keystroke, so the verdict is kept per document (whatever its version) and the ignore
 * files are read asynchronously, once per directory, and again only when a watcher says one changed. Until the rules a
 * document needs are read the answer is `loading` (treat as "no", never wait): the caller asks again later.
 */

/** The ignore files read in every directory, in this order (the later one wins within a directory). */
export const IGNORE_FILE_NAMES = ['.gitignore', '.latencycopilotignore'] as const;

/** The repository's own excludes (below every `.gitignore`), relative to the workspace folder. */
export const REPOSITORY_EXCLUDE_FILE = '.git/info/exclude';

/** Why a file is kept out of every prompt by where it is. */
export type FileLocationVerdict = 'secret' | 'vendored' | 'ignored';

/** The gate's answer for a document. `allowed` means "may be sent"; `loading` means "not yet known: do not send". */
export type FileGateVerdict = 'allowed' | 'loading' | 'not-a-file' | 'outside-workspace' | FileLocationVerdict;

/** A document as the gate sees it (the adapter converts an editor document to this). */
export interface GateDocument {
  /** The URI scheme (`file`, `untitled`, `vscode-userdata`, ...). */
  readonly scheme: string;
  /** A key of the workspace folder holding the document (e.g. its URI), or null outside every folder. */
  readonly folder: string | null;
  /** The folder's name (for prompts); `''` outside every folder. */
  readonly folderName: string;
  /** The path relative to the folder (POSIX); the file name outside every folder. */
  readonly relativePath: string;
}

/** A verdict with the document it was given for (kept together, so the keystroke path converts nothing twice). */
export interface GateEntry {
  readonly verdict: FileGateVerdict;
  readonly document: GateDocument;
}

/** What the path alone decides, before any ignore rule is needed: a secret, or a folder the index never enters. */
function verdictWithoutRules(relativePath: string): FileLocationVerdict | null {
  if (isSecretPath(relativePath)) return 'secret';
  const segments = relativePath.split('/');
  for (let index = 0; index < segments.length - 1; index += 1) {
    if (isSkippedDirectory(segments[index] ?? '')) return 'vendored';
  }
  return null;
}

/** The folders whose ignore files decide about `relativePath`: the root (`''`) and every folder on the way down. */
function ancestorsOf(relativePath: string): string[] {
  const directories = [''];
  let slash = relativePath.indexOf('/');
  while (slash >= 0) {
    directories.push(relativePath.slice(0, slash));
    slash = relativePath.indexOf('/', slash + 1);
  }
  return directories;
}

/** What the gate reads, off the keystroke path. */
export interface FileGateReader {
  /** A file of a workspace folder as text; null when it is missing, unreadable or too large to be an ignore file. */
  readFolderFile(folder: string, relativePath: string): Promise<string | null>;
  /** The text of git's global excludes file; null when there is none. */
  readGlobalExcludes(): Promise<string | null>;
}

/** A directory's ignore files: being read (with the read's token, so a stale read is dropped), or read. */
type DirectoryState =
  | { readonly kind: 'loading'; readonly token: number }
  | { readonly kind: 'loaded'; readonly files: DirectoryIgnoreFiles; readonly repository: readonly IgnorePattern[] };

/** The rules of one workspace folder, filled directory by directory as documents need them. */
interface FolderRules {
  readonly rules: IgnoreRules;
  readonly directories: Map<string, DirectoryState>;
}

/** More documents than this in the verdict cache (never closed?) and it starts afresh: a bound, not a policy. */
const MAX_CACHED_VERDICTS = 10_000;

/** The gate with its caches. One per extension; `decide`/`cached` are synchronous and never read a file. */
export class WorkspaceFileGate {
  private readonly verdicts = new Map<string, GateEntry>();
  private readonly folders = new Map<string, FolderRules>();
  private globalPatterns: readonly IgnorePattern[] | null = null;
  private globalToken = 0;
  private globalStarted = false;
  private nextToken = 1;
  private readonly pending = new Set<Promise<void>>();

  /** `onRulesLoaded` is told when rules finish loading (a caller that was told `loading` may ask again). */
  constructor(
    private readonly reader: FileGateReader,
    private readonly onRulesLoaded: () => void = () => undefined,
  ) {}

  /** The cached entry for a document key (e.g. its URI), or undefined: the keystroke path's only work when cached. */
  cached(key: string): GateEntry | undefined {
    return this.verdicts.get(key);
  }

  /**
   * Decides for a document and caches the verdict under `key` (not `loading`: that one is asked again). Starts reading
   * what is missing; never waits for it.
   */
  decide(key: string, document: GateDocument): GateEntry {
    const verdict = this.verdictOf(document);
    const entry: GateEntry = { verdict, document };
    if (verdict !== 'loading') {
      if (this.verdicts.size >= MAX_CACHED_VERDICTS) this.verdicts.clear();
      this.verdicts.set(key, entry);
    }
    return entry;
  }

  private verdictOf(document: GateDocument): FileGateVerdict {
    if (document.scheme !== 'file') return 'not-a-file';
    if (document.folder === null) return 'outside-workspace';
    const byPath = verdictWithoutRules(document.relativePath);
    if (byPath !== null) return byPath;
    const folder = this.folderRules(document.folder);
    let ready = this.globalReady();
    for (const directory of ancestorsOf(document.relativePath)) {
      const state = folder.directories.get(directory);
      if (state === undefined) this.loadDirectory(document.folder, folder, directory);
      if (state?.kind !== 'loaded') ready = false;
    }
    if (!ready) return 'loading';
    return folder.rules.isIgnoredWithAncestors(document.relativePath, false) ? 'ignored' : 'allowed';
  }

  /** Forgets a document's verdict (it was closed). */
  forget(key: string): void {
    this.verdicts.delete(key);
  }

  /**
   * A file of a folder changed, appeared or went away. When it is an ignore file (or `.git/info/exclude`), its
   * directory's rules are read again and the folder's verdicts are dropped; true in that case.
   */
  fileChanged(folder: string, relativePath: string): boolean {
    const name = relativePath.slice(relativePath.lastIndexOf('/') + 1);
    const isIgnoreFile = IGNORE_FILE_NAMES.some((ignoreName) => ignoreName === name);
    if (!isIgnoreFile && relativePath !== REPOSITORY_EXCLUDE_FILE) return false;
    const directory = isIgnoreFile ? parentOf(relativePath) : '';
    const rules = this.folders.get(folder);
    // Rules never read cannot be behind a cached verdict: nothing to drop.
    if (rules === undefined || !rules.directories.has(directory)) return false;
    // Until the new rules are read, paths below this directory are `loading`: an ignore file that just gained a line is
    // never ignored for a moment.
    rules.rules.clear(directory);
    this.loadDirectory(folder, rules, directory);
    this.dropVerdictsOf(folder);
    return true;
  }

  /** git's global excludes file (or the config naming it) changed: read it again; every verdict is dropped. */
  globalExcludesChanged(): void {
    this.globalPatterns = null;
    this.globalStarted = false;
    this.verdicts.clear();
  }

  /** Workspace folders changed: start afresh. */
  reset(): void {
    this.verdicts.clear();
    this.folders.clear();
  }

  /** Resolves when no read is in flight (tests, and callers that want the rules before deciding). */
  async settled(): Promise<void> {
    while (this.pending.size > 0) await Promise.all([...this.pending]);
  }

  private dropVerdictsOf(folder: string): void {
    for (const [key, entry] of this.verdicts) if (entry.document.folder === folder) this.verdicts.delete(key);
  }

  private folderRules(folder: string): FolderRules {
    let rules = this.folders.get(folder);
    if (rules === undefined) {
      rules = { rules: new IgnoreRules(), directories: new Map() };
      this.folders.set(folder, rules);
    }
    return rules;
  }

  private globalReady(): boolean {
    if (this.globalPatterns !== null) return true;
    if (!this.globalStarted) {
      this.globalStarted = true;
      const token = ++this.globalToken;
      this.track(
        this.reader
          .readGlobalExcludes()
          .catch(() => null)
          .then((text) => {
            if (token !== this.globalToken) return;
            this.globalPatterns = text === null ? [] : compileIgnoreFile(text);
            // Every folder's root scope holds the global patterns.
            for (const rules of this.folders.values()) {
              const root = rules.directories.get('');
              if (root?.kind === 'loaded')
                rules.rules.set('', scopePatterns(root.files, this.rootExcludes(root.repository)));
            }
          }),
      );
    }
    return false;
  }

  private rootExcludes(repository: readonly IgnorePattern[]): RepositoryExcludes {
    return { global: this.globalPatterns ?? [], repository };
  }

  private loadDirectory(folder: string, rules: FolderRules, directory: string): void {
    const token = this.nextToken++;
    rules.directories.set(directory, { kind: 'loading', token });
    const read = (relativePath: string) =>
      this.reader
        .readFolderFile(folder, relativePath)
        .catch(() => null)
        .then((text) => (text === null ? [] : compileIgnoreFile(text)));
    const prefix = directory === '' ? '' : `${directory}/`;
    this.track(
      Promise.all([
        read(`${prefix}${IGNORE_FILE_NAMES[0]}`),
        read(`${prefix}${IGNORE_FILE_NAMES[1]}`),
        directory === '' ? read(REPOSITORY_EXCLUDE_FILE) : Promise.resolve([]),
      ]).then(([gitignore, own, repository]) => {
        const current = rules.directories.get(directory);
        // A newer read started (the file changed again), or the folder was forgotten: this one is stale.
        if (current?.kind !== 'loading' || current.token !== token || this.folders.get(folder) !== rules) return;
        const files: DirectoryIgnoreFiles = { gitignore, own };
        rules.directories.set(directory, { kind: 'loaded', files, repository });
        rules.rules.set(directory, scopePatterns(files, directory === '' ? this.rootExcludes(repository) : null));
      }),
    );
  }

  private track(work: Promise<void>): void {
    const tracked = work
      .catch(() => undefined)
      .finally(() => {
        this.pending.delete(tracked);
        this.onRulesLoaded();
      });
    this.pending.add(tracked);
  }
}
