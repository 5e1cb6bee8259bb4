import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import {
  DEFAULT_MAX_FILE_BYTES,
  exclusionByContent,
  exclusionByName,
  isSkippedDirectory,
} from '../core/repo/fileSafety';

/** What `readContinuationDir` read, for the CLI to report. */
export interface ContinuationDir {
  readonly texts: readonly string[];
  /** Files left out: secrets (by name, never opened), binaries, lockfiles, minified code, files over the size limit. */
  readonly skipped: number;
}

// Enough for any demo workspace; a directory bigger than this (a home folder by mistake) is cut short, not read whole.
const MAX_FILES = 5_000;

/**
 * Reads the text files under `dir` (sorted, so that seeded choices are stable) for the simulator's continuations. It
 * follows the repository index's rules (src/core/repo/fileSafety.ts): node_modules, .git and other dependency or cache
 * folders are not entered, secret files are judged by name and never opened, and files over 256 KB, binaries,
 * lockfiles and minified code are left out. Symbolic links are not followed.
 */
export function readContinuationDir(dir: string, maxFileBytes = DEFAULT_MAX_FILE_BYTES): ContinuationDir {
  const texts: string[] = [];
  let skipped = 0;
  const visit = (folder: string): void => {
    const entries = readdirSync(folder, { withFileTypes: true }).sort((a, b) =>
      a.name < b.name ? -1 : a.name > b.name ? 1 : 0,
    );
    for (const entry of entries) {
      if (texts.length >= MAX_FILES) return;
      const path = join(folder, entry.name);
      if (entry.isDirectory()) {
        if (!isSkippedDirectory(entry.name)) visit(path);
        continue;
      }
      if (!entry.isFile()) continue;
      if (exclusionByName(entry.name, statSync(path).size, maxFileBytes) !== null) {
        skipped += 1;
        continue;
      }
      const bytes = readFileSync(path);
      if (exclusionByContent(bytes) !== null) {
        skipped += 1;
        continue;
      }
      texts.push(bytes.toString('utf8'));
    }
  };
  visit(dir);
  return { texts, skipped };
}
