// Builds the extension bundle, the lazily loaded tokenizer chunk, the speed panel's script, and the command-line tools.
// Usage: node esbuild.mjs [--production] [--tools] [--watch] [--quiet]
//   (no flag)      dist/extension.js, dist/tokenizer.js, media bundle (sourcemaps, not minified)
//   --production   the same, minified, no sourcemaps (what `npm run package` ships)
//   --tools        also (or, with --quiet, only the tools) dist/tools/*.js: simulator, probe, benchmarks
import * as esbuild from 'esbuild';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

const args = new Set(process.argv.slice(2));

/**
 * undici's main entry pulls in fetch, WebSocket, caches and mocks (535 KB minified). The transport needs only `Pool`,
 * `EnvHttpProxyAgent` and the `request()` API, so `undici` resolves to this lean entry, built the way undici's own
 * index.js wires the same pieces (it assigns the api functions to `Dispatcher.prototype`). Types still come from the
 * real package. undici also carries its HTTP parser twice, as SIMD and plain WebAssembly (72 KB each), and uses the plain
 * one only where SIMD fails to compile (old Node on ppc64, which no VS Code runs on): the plain copy is left out, and
 * asking for it throws an error that says so.
 */
/** @type {esbuild.Plugin} */
const leanUndici = {
  name: 'lean-undici',
  setup(build) {
    build.onResolve({ filter: /^undici$/ }, () => ({ path: 'undici-lean', namespace: 'lean-undici' }));
    build.onResolve({ filter: /\/llhttp\/llhttp-wasm\.js$/ }, () => ({
      path: 'llhttp-plain',
      namespace: 'lean-undici',
    }));
    build.onLoad({ filter: /^llhttp-plain$/, namespace: 'lean-undici' }, () => ({
      loader: 'js',
      contents:
        "throw new Error('Latency Copilot bundles only the WebAssembly SIMD build of the HTTP parser, and this platform cannot compile it.');",
    }));
    build.onLoad({ filter: /^undici-lean$/, namespace: 'lean-undici' }, () => ({
      resolveDir: join(process.cwd(), 'node_modules', 'undici'),
      loader: 'js',
      contents: [
        "const Dispatcher = require('./lib/dispatcher/dispatcher');",
        "Dispatcher.prototype.request = require('./lib/api/api-request');",
        "module.exports = { Pool: require('./lib/dispatcher/pool'), EnvHttpProxyAgent: require('./lib/dispatcher/env-http-proxy-agent') };",
      ].join('\n'),
    }));
  },
};
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
  plugins: [leanUndici],
};

const builds = [];

if (!toolsOnly) {
  builds.push(
    esbuild.build({
      ...nodeDefaults,
      entryPoints: { extension: 'src/extension.ts' },
      outdir: 'dist',
      // `vscode` is provided by the host; the tokenizer is a separate chunk loaded on demand (it is 1 MB of ranks).
      external: ['vscode', './tokenizer.js', './simulator.js', './transport.js'],
    }),
    // The built-in simulated backends: loaded only when turned on (the simulator carries its own tokenizer).
    // The transport: undici alone is larger than the 400 KB budget of dist/extension.js; loaded after activation.
    esbuild.build({
      ...nodeDefaults,
      entryPoints: { simulator: 'src/chunks/simulatorChunk.ts', transport: 'src/chunks/transportChunk.ts' },
      outdir: 'dist',
      sourcemap: false,
      minify: true,
    }),
    // The local engine host: a separate Node program run with child_process.fork. node-llama-cpp is never bundled: it
    // is loaded at run time from the folder the person installed it in (latencyCopilot.localEngine.nodeLlamaCppPath).
    esbuild.build({
      ...nodeDefaults,
      entryPoints: { localEngineHost: 'src/localEngineHost/main.ts' },
      outdir: 'dist',
      external: ['node-llama-cpp'],
    }),
    // The repository index's file reader: a worker thread started by path (worker_threads needs a file of its own).
    esbuild.build({
      ...nodeDefaults,
      entryPoints: { repoFileReader: 'src/repoFileReader/main.ts' },
      outdir: 'dist',
      sourcemap: false,
      minify: true,
    }),
    esbuild.build({
      ...nodeDefaults,
      entryPoints: { tokenizer: 'src/core/stream/tokenizerChunk.ts' },
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
  // bench:repo starts the index's reader thread from dist/tools/repoFileReader.js.
  toolEntries.repoFileReader = 'src/repoFileReader/main.ts';
  builds.push(
    esbuild.build({
      ...nodeDefaults,
      sourcemap: true,
      entryPoints: toolEntries,
      outdir: 'dist/tools',
      external: ['vscode'],
    }),
  );
}

await Promise.all(builds);
