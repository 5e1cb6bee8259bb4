/**
 * Which of the model's proposed edits a repository task may offer, decided per target file before its text is read.
 * The model's answer is untrusted (the repository it read may carry instructions), so a path's text is not enough: the
 * file system says whether the path is reached through a link, and the prompt says what the model was shown.
 *
 * - refused: never offered (shown to the person with the reason): through a link or outside the workspace, a link or
 *   a non-file, secrets, ignored files, dependencies and caches, files over the size limit, files the model was not
 *   shown, new files the request did not ask for.
 * - needs a tick: offered in the preview on its own, unticked and labelled with why (`.git/`, `.vscode/`, `.github/`,
 *   hooks, CI and dev-container configuration, lockfiles): each takes a tick of its own, never the proposal's.
 * - allowed: offered as part of the proposal.
 */
import { exclusionByName, isSecretPath, isSkippedDirectory } from './fileSafety';

/** What the file system says about an edit's target, gathered without following a link and before any read. */
export interface EditTargetFacts {
  /** The target itself (a link at its end not followed): a regular file, nothing yet, a symbolic link, or else. */
  readonly kind: 'file' | 'missing' | 'link' | 'other';
  /** The target's size in bytes (0 unless `kind` is `file`). */
  readonly sizeBytes: number;
  /**
   * True when the nearest existing folder on the target's path is exactly where the path says: its real path is the
   * workspace root's real path joined with its relative path (no link, junction, short name or case alias on the way).
   */
  readonly reachedDirectly: boolean;
}

/** Gathers `EditTargetFacts` for a path relative to the workspace root (node:fs in the extension, a table in tests). */
export interface EditTargetInspector {
  inspect(path: string): Promise<EditTargetFacts>;
}

/** What the task showed and asked, against which its edits are judged. */
export interface EditScope {
  /** The person's request, as typed. */
  readonly request: string;
  /** Files whose text (all or part) was in the prompt. A name in the repository map does not count. */
  readonly shownFiles: ReadonlySet<string>;
  /** True when the ignore files (`.gitignore`, `.latencycopilotignore`, git's excludes) keep `path` out. */
  isIgnored(path: string): boolean;
  /** The index's size limit in bytes: a larger file was never shown whole. */
  readonly maxFileBytes: number;
}

/** The verdict on one edit. `reason` is a sentence for the person (it starts with the path). */
export type EditAdmission =
  | { readonly kind: 'allowed' }
  | { readonly kind: 'needs-tick'; readonly reason: string }
  | { readonly kind: 'refused'; readonly reason: string };

/** Folders whose files run things (git, the editor, CI, hooks, dev containers), lowercased, with why. */
const PROTECTED_FOLDERS: ReadonlyMap<string, string> = new Map([
  ['.git', 'git runs what its config and hooks say (core.fsmonitor, hooks)'],
  ['.vscode', 'VS Code runs the tasks and launch configurations in .vscode/'],
  ['.github', "GitHub runs the workflows and actions in .github/, with the repository's secrets"],
  ['.gitlab', 'GitLab reads CI templates from .gitlab/'],
  ['.circleci', 'CircleCI runs the pipeline in .circleci/'],
  ['.devcontainer', 'dev containers run the commands in .devcontainer/ when the folder is opened'],
  ['.husky', 'git runs the hooks in .husky/ on commit and push'],
  ['.githooks', 'git runs the hooks in .githooks/ on commit and push'],
]);

/** Files that run things wherever they are, lowercased, with why. */
const PROTECTED_FILES: ReadonlyMap<string, string> = new Map([
  ['.git', 'a .git file tells git where the repository (and its config) lives'],
  ['.gitlab-ci.yml', 'GitLab runs the pipeline in .gitlab-ci.yml'],
  ['.gitmodules', 'git fetches submodules from the URLs in .gitmodules'],
]);

/** Words of a request that asks for new files (English; a request in other words can still name the file). */
const ASKS_FOR_NEW_FILES = /\b(create|add|new|split|extract|move|generate|scaffold|write|introduce)(s|es|ed|ing)?\b/i;

/** The folder of a POSIX relative path ('' for the root). */
function folderOf(path: string): string {
  const slash = path.lastIndexOf('/');
  return slash < 0 ? '' : path.slice(0, slash);
}

/** A segment as case-insensitive file systems compare it. */
function comparable(segment: string): string {
  return segment.toLowerCase();
}

/**
 * Why a path's text alone rules it out, or null: a name Windows reads as another one (a trailing dot or space is
 * dropped, so `.git./config` is `.git/config`; a `:` names a stream) or a control character.
 */
function unsafeName(path: string): string | null {
  for (const segment of path.split('/')) {
    // eslint-disable-next-line no-control-regex -- control characters are what this looks for
    if (/[\u0000-\u001f:]/.test(segment)) return `${path} has a name with a colon or a control character.`;
    if (/[. ]$/.test(segment))
      return `${path} has a name ending in a dot or a space, which Windows reads as another name.`;
  }
  return null;
}

/** Why a path is protected (its edit needs a tick of its own), or null. Compared in any case. */
export function protectedReason(path: string): string | null {
  const segments = path.split('/').map(comparable);
  const folders = segments.slice(0, -1);
  for (const folder of folders) {
    const why = PROTECTED_FOLDERS.get(folder);
    if (why !== undefined) return why;
  }
  const name = segments[segments.length - 1] ?? '';
  const fileWhy = PROTECTED_FILES.get(name);
  if (fileWhy !== undefined) return fileWhy;
  if (exclusionByName(name, 0, Number.MAX_SAFE_INTEGER) === 'lockfile')
    return 'a lockfile decides which package versions are installed';
  return null;
}

/** Escapes a text for use inside a regular expression. */
function escapeForPattern(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** True when the request names `path`, or its file name, as a whole word in any case (`strings.ts`, not `strings.tsx`). */
function requestNames(request: string, path: string): boolean {
  const name = path.slice(path.lastIndexOf('/') + 1);
  return [path, name].some((needle) =>
    new RegExp(`(^|[^\\w./-])${escapeForPattern(needle)}(?![\\w/-]|\\.\\w)`, 'i').test(request),
  );
}

/**
 * Whether a new file was asked for: the request names it (path or file name), or it asks for new files (create, add,
 * split, extract, move, ...) and the file goes straight into a folder the prompt showed a file from, under a name that
 * is not a dot-file and in no dot-folder (those configure tools).
 */
function creationAsked(path: string, scope: EditScope): boolean {
  if (requestNames(scope.request, path)) return true;
  if (!ASKS_FOR_NEW_FILES.test(scope.request)) return false;
  if (path.split('/').some((segment) => segment.startsWith('.'))) return false;
  const folder = folderOf(path);
  for (const shown of scope.shownFiles) if (folderOf(shown) === folder) return true;
  return false;
}

/**
 * Judges one proposed edit of `path` (relative, POSIX, already checked by `checkEditPath`): `change` is `create` for an
 * empty SEARCH section. Pure: the file system's facts come in `facts`.
 */
export function admitEdit(
  path: string,
  change: 'modify' | 'create',
  facts: EditTargetFacts,
  scope: EditScope,
): EditAdmission {
  const refuse = (reason: string): EditAdmission => ({ kind: 'refused', reason });
  const badName = unsafeName(path);
  if (badName !== null) return refuse(badName);
  if (!facts.reachedDirectly)
    return refuse(
      `${path} is reached through a symbolic link (or another name for a folder) or lies outside the workspace folder.`,
    );
  if (facts.kind === 'link')
    return refuse(`${path} is a symbolic link; the file it points at is not edited through it.`);
  if (facts.kind === 'other') return refuse(`${path} is not a regular file.`);
  if (isSecretPath(path)) return refuse(`${path} holds secrets; it is never read or edited.`);
  const segments = path.split('/');
  const skipped = segments
    .slice(0, -1)
    .find((segment) => isSkippedDirectory(segment) && !PROTECTED_FOLDERS.has(comparable(segment)));
  if (skipped !== undefined)
    return refuse(`${path} is inside ${skipped}/ (dependencies, vendored code and caches are never edited).`);
  if (scope.isIgnored(path))
    return refuse(`${path} is ignored (.gitignore or .latencycopilotignore); it is never edited.`);
  if (facts.kind === 'file' && facts.sizeBytes > scope.maxFileBytes) {
    return refuse(
      `${path} is larger than the size limit (latencyCopilot.repo.maxFileSizeKb); the model never saw it whole.`,
    );
  }
  const protectedWhy = protectedReason(path);
  if (protectedWhy !== null) {
    const shown = scope.shownFiles.has(path) ? '' : ' The model was not shown this file.';
    return {
      kind: 'needs-tick',
      reason: `${path}: ${protectedWhy}. Tick it on its own only if you meant this change.${shown}`,
    };
  }
  if (change === 'modify') {
    return scope.shownFiles.has(path)
      ? { kind: 'allowed' }
      : refuse(`${path} was not shown to the model (at most its name was in the map), so it may not change it.`);
  }
  return creationAsked(path, scope)
    ? { kind: 'allowed' }
    : refuse(`${path} is a new file the request did not ask for; name it in the request to allow it.`);
}

/**
 * The verdict function a parse of the model's answer takes (`EditContext.admit`): the file system's facts for each path,
 * judged against what the task showed and asked.
 */
export function editAdmitter(
  inspector: EditTargetInspector,
  scope: EditScope,
): (path: string, change: 'modify' | 'create') => Promise<EditAdmission> {
  return async (path, change) => admitEdit(path, change, await inspector.inspect(path), scope);
}
