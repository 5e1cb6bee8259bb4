import { lstat, realpath } from 'node:fs/promises';
import { join } from 'node:path';
import { stringAt } from '../json';
import type { EditTargetFacts, EditTargetInspector } from './editSafety';

function hasCode(value: unknown, code: string): boolean {
  return stringAt(value, 'code') === code;
}

/** An error that means "nothing usable there" (not a fault of the check). */
function isAbsent(error: unknown): boolean {
  return hasCode(error, 'ENOENT') || hasCode(error, 'ENOTDIR');
}

/** The folders above a POSIX relative path, nearest first, ending with the root (`''`). */
function foldersAbove(path: string): string[] {
  const folders: string[] = [];
  for (let slash = path.lastIndexOf('/'); slash > 0; slash = path.lastIndexOf('/', slash - 1))
    folders.push(path.slice(0, slash));
  folders.push('');
  return folders;
}

/**
 * The node:fs `EditTargetInspector` for a workspace folder at `rootPath`: lstat for the target (a link is reported, not
 * followed) and the real path of the nearest existing folder above it, which must be the root's real path joined with
 * the folder's relative path. Real paths come from the platform (`realpath(3)`, `GetFinalPathNameByHandle`), so links,
 * junctions, 8.3 short names and, where the platform canonicalises it, letter case are all seen as another name.
 */
export function nodeEditTargets(rootPath: string): EditTargetInspector {
  let realRoot: Promise<string> | null = null;
  const nearestFolderIsDirect = async (path: string): Promise<boolean> => {
    realRoot ??= realpath(rootPath);
    let root: string;
    try {
      root = await realRoot;
    } catch {
      // The workspace folder itself is gone or unreadable: nothing under it can be judged, so nothing passes.
      return false;
    }
    for (const folder of foldersAbove(path)) {
      try {
        return (await realpath(join(rootPath, folder))) === (folder === '' ? root : join(root, folder));
      } catch (error) {
        // A folder the edit would create: the next one up decides.
        if (!isAbsent(error)) return false;
      }
    }
    return false;
  };
  return {
    async inspect(path): Promise<EditTargetFacts> {
      const reachedDirectly = await nearestFolderIsDirect(path);
      try {
        const info = await lstat(join(rootPath, path));
        if (info.isSymbolicLink()) return { kind: 'link', sizeBytes: 0, reachedDirectly };
        if (!info.isFile()) return { kind: 'other', sizeBytes: 0, reachedDirectly };
        return { kind: 'file', sizeBytes: info.size, reachedDirectly };
      } catch (error) {
        if (isAbsent(error)) return { kind: 'missing', sizeBytes: 0, reachedDirectly };
        return { kind: 'other', sizeBytes: 0, reachedDirectly };
      }
    },
  };
}
