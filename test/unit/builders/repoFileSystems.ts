import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import type { RepoFileSystem } from '../../../src/core/repo/repoFileSystem';
import { PROJECT_ROOT } from '../projectRoot';

/** `inner`, with every path it is asked to read (not list) pushed to `readPaths`: a secret must never even be opened. */
export function recordingFileSystem(inner: RepoFileSystem, readPaths: string[]): RepoFileSystem {
  return {
    readDirectory: (path) => inner.readDirectory(path),
    kindOf: (path) => inner.kindOf(path),
    readFile: (path, maxBytes) => {
      readPaths.push(path);
      return inner.readFile(path, maxBytes);
    },
    lendFile: (path, maxBytes, use) => {
      readPaths.push(path);
      return inner.lendFile(path, maxBytes, use);
    },
  };
}

/** The repository reader thread's script, built as esbuild.mjs builds dist/repoFileReader.js, in a temporary folder. */
export async function buildReaderScript(prefix: string): Promise<{ readonly script: string; dispose(): void }> {
  const outDir = mkdtempSync(join(tmpdir(), prefix));
  const script = join(outDir, 'repoFileReader.js');
  await build({
    entryPoints: [join(PROJECT_ROOT, 'src', 'repoFileReader', 'main.ts')],
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    outfile: script,
    logLevel: 'error',
  });
  return { script, dispose: () => rmSync(outDir, { recursive: true, force: true }) };
}
