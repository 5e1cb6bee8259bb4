import { appendFile, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';

/**
 * The small file-system seam the speed history writes through, so that its logic runs in tests against an in-memory
 * fake or a temp folder. Paths are absolute.
 */
export interface TextFiles {
  /** The file's text, or null when it does not exist. Throws when it exists but cannot be read. */
  read(path: string): Promise<string | null>;
  /** Replaces the file's content so that a crash leaves either the old or the new content, never half of each. */
  writeAtomic(path: string, content: string): Promise<void>;
  /** Appends to the file, creating it (and its folder) when missing. */
  append(path: string, content: string): Promise<void>;
  rename(fromPath: string, toPath: string): Promise<void>;
}

function isMissingFileError(error: unknown): boolean {
  return typeof error === 'object' && error !== null && 'code' in error && error.code === 'ENOENT';
}

/** `TextFiles` over node:fs (the adapter points it at the extension's global storage folder). */
export const nodeTextFiles: TextFiles = {
  async read(path) {
    try {
      return await readFile(path, 'utf8');
    } catch (error) {
      if (isMissingFileError(error)) return null;
      throw error;
    }
  },
  async writeAtomic(path, content) {
    await mkdir(dirname(path), { recursive: true });
    const temporaryPath = `${path}.${process.pid}.tmp`;
    await writeFile(temporaryPath, content, 'utf8');
    await rename(temporaryPath, path);
  },
  async append(path, content) {
    await mkdir(dirname(path), { recursive: true });
    await appendFile(path, content, 'utf8');
  },
  async rename(fromPath, toPath) {
    await rename(fromPath, toPath);
  },
};
