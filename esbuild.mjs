// Builds the extension bundle, the lazily loaded tokenizer chunk, the speed panel's script, and the command-line tools.
// Usage: node esbuild.mjs [--production] [--tools] [--watch] [--quiet]
//   (no flag)      dist/extension.js, dist/tokenizer.js, media bundle (sourcemaps, not minified)
//   --production   the same, minified, no sourcemaps (what `npm run package` ships)
//   --tools        also (or, with --quiet, only the tools) dist/tools/*.js: simulator, probe, benchmarks
import * as esbuild from 'esbuild';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

const args = new Set(process.argv.slice(2));
const production = args.has('--production');
const toolsOnly = args.has('--tools');
const quiet = args.has('--quiet');

/** @type {esbuild.BuildOptions} */
const nodeDefaults = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  sourcemap: !production,
  minify: production,
  logLevel: quiet ? 'error' : 'info',
  legalComments: 'none',
};

const builds = [];

if (!toolsOnly) {
  builds.push(
    esbuild.build({
      ...nodeDefaults,
      entryPoints: { extension: 'src/extension.ts' },
      outdir: 'dist',
      // `vscode` is provided by the host; the tokenizer is a separate chunk loaded on demand (it is 1 MB of ranks).
      external: ['vscode', './tokenizer.js', './simulator.js'],
    }),
    // The built-in simulated backends: loaded only when turned on (the simulator carries its own tokenizer).
    esbuild.build({
      ...nodeDefaults,
      entryPoints: { simulator: 'src/vscode/simulatorChunk.ts' },
      outdir: 'dist',
      sourcemap: false,
      minify: true,
    }),
    esbuild.build({
      ...nodeDefaults,
      entryPoints: { tokenizer: 'src/core/tokenizerChunk.ts' },
      outdir: 'dist',
      sourcemap: false,
      minify: true,
    }),
  );
  if (existsSync('media/src/panel.ts')) {
    builds.push(
      esbuild.build({
        ...nodeDefaults,
        platform: 'browser',
        format: 'iife',
        target: 'es2022',
        entryPoints: { panel: 'media/src/panel.ts' },
        outdir: 'media/dist',
      }),
    );
  }
}

if (toolsOnly) {
  const toolEntries = Object.fromEntries(
    readdirSync('src/tools')
      .filter((name) => name.endsWith('.ts'))
      .map((name) => [name.replace(/\.ts$/, ''), join('src/tools', name)]),
  );
  builds.push(
    esbuild.build({ ...nodeDefaults, sourcemap: true, entryPoints: toolEntries, outdir: 'dist/tools', external: ['vscode'] }),
  );
}

await Promise.all(builds);
