import { isSecretPath } from './fileSafety';
import { REPOSITORY_EXCLUDE_FILE } from './fileGate';
import type { RepoDirectoryEntry, RepoFileRead, RepoFileSystem } from './repoFileSystem';

/**
 * The repository as the index may see it, for the two rules of the shared gate (`fileGate.ts`) that need more than a
 * file's name:
 * - secrets by folder (`isSecretPath`: `.kube/config`, `.ssh/*`, `.aws/*`, `.docker/config.json`) are neither listed
 *   nor read, whatever asks (the walk, a watcher update, the packer);
 * - git's global excludes file is part of the repository's exclude rules: `.git/info/exclude` reads as the global file
 *   followed by the repository's own, which is git's order of precedence (a later pattern wins; every `.gitignore` comes
 *   after both). `.git/` is never indexed or packed, so this text reaches no prompt.
 */
export function gatedRepoFileSystem(inner: RepoFileSystem, globalExcludes: string | null): RepoFileSystem {
  const missing: RepoFileRead = { kind: 'missing' };
  const gated: RepoFileSystem = {
    async readDirectory(path: string): Promise<readonly RepoDirectoryEntry[]> {
      const entries = await inner.readDirectory(path);
      const prefix = path === '' ? '' : `${path}/`;
      return entries.filter((entry) => entry.kind !== 'file' || !isSecretPath(`${prefix}${entry.name}`));
    },
    async readFile(path: string, maxBytes: number): Promise<RepoFileRead> {
      if (isSecretPath(path)) return missing;
      const read = await inner.readFile(path, maxBytes);
      if (path !== REPOSITORY_EXCLUDE_FILE || globalExcludes === null) return read;
      const own = read.kind === 'ok' ? new TextDecoder().decode(read.bytes) : '';
      return {
        kind: 'ok',
        bytes: new TextEncoder().encode(`${globalExcludes}\n${own}`),
        mtimeMs: read.kind === 'ok' ? read.mtimeMs : 0,
      };
    },
    lendFile<T>(path: string, maxBytes: number, use: (read: RepoFileRead) => T): Promise<T> {
      return isSecretPath(path) ? Promise.resolve(use(missing)) : inner.lendFile(path, maxBytes, use);
    },
    kindOf: (path) => inner.kindOf(path),
  };
  const lendFiles = inner.lendFiles?.bind(inner);
  if (lendFiles === undefined) return gated;
  return {
    ...gated,
    async lendFiles(paths, maxBytes, use, signal) {
      const allowed: string[] = [];
      for (const path of paths) {
        // A secret is reported missing (so the index drops anything it held for it), never read.
        if (isSecretPath(path)) use(path, missing, null);
        else allowed.push(path);
      }
      return lendFiles(allowed, maxBytes, use, signal);
    },
  };
}
