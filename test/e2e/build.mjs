// Builds what the end-to-end runners need:
//   dist/extension.js (and its chunks)  the extension, through the project's own esbuild.mjs
//   dist/e2e/suite.js                   the suite VS Code loads inside its extension host (`vscode` is the host's)
//   dist/e2e/runCodeServer.js           runner: code-server + headless chromium (npm run test:e2e)
//   dist/e2e/runElectron.js             runner: @vscode/test-electron with a desktop VS Code (npm run test:e2e:electron)
//   dist/e2e/benchK2g.js                benchmark: keystroke to ghost text in code-server (npm run bench:k2g)
// Usage: node test/e2e/build.mjs
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

const extensionBuild = spawnSync(process.execPath, ['esbuild.mjs'], { cwd: root, stdio: 'inherit' });
if (extensionBuild.status !== 0) process.exit(extensionBuild.status ?? 1);

const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  sourcemap: 'inline',
  logLevel: 'error',
  absWorkingDir: root,
};

await Promise.all([
  esbuild.build({
    ...common,
    entryPoints: { suite: 'test/e2e/suite/index.ts' },
    outdir: 'dist/e2e',
    external: ['vscode'],
  }),
  esbuild.build({
    ...common,
    entryPoints: {
      runCodeServer: 'test/e2e/runCodeServer.ts',
      runElectron: 'test/e2e/runElectron.ts',
      benchK2g: 'test/e2e/benchK2g.ts',
    },
    outdir: 'dist/e2e',
    // Loaded from node_modules at run time (they find their own files relative to themselves).
    external: ['playwright-core', '@vscode/test-electron'],
  }),
]);
