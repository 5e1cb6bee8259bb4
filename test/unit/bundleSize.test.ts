import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';

const root = join(__dirname, '..', '..');
/** Issue 3: the minified extension bundle stays under 400 KB (lazily loaded chunks excluded). */
const MAX_BUNDLE_BYTES = 400 * 1024;

describe('extension bundle', () => {
  it('minified, it stays under 400 KB, and the heavy chunks stay out of it', async () => {
    // The same options as `node esbuild.mjs --production` for dist/extension.js, built in memory so that a test run never
    // touches dist/ (other builds may be running).
    const externals = /external:\s*\[([^\]]*'\.\/tokenizer\.js'[^\]]*)\]/.exec(
      readFileSync(join(root, 'esbuild.mjs'), 'utf8'),
    );
    expect(externals, 'esbuild.mjs lists the extension externals').not.toBeNull();
    const external = [...(externals?.[1] ?? '').matchAll(/'([^']+)'/g)].map((match) => match[1] ?? '');
    expect(external).toContain('./simulator.js');
    expect(external).toContain('./transport.js');
    const result = await build({
      absWorkingDir: root,
      entryPoints: ['src/extension.ts'],
      bundle: true,
      platform: 'node',
      target: 'node20',
      format: 'cjs',
      minify: true,
      legalComments: 'none',
      external,
      write: false,
      logLevel: 'silent',
      metafile: true,
    });
    const bytes = result.outputFiles[0]?.contents.byteLength ?? Infinity;
    console.log(`dist/extension.js (minified): ${(bytes / 1024).toFixed(1)} KB of ${MAX_BUNDLE_BYTES / 1024} KB`);
    expect(bytes).toBeLessThan(MAX_BUNDLE_BYTES);
    // The tokenizer ranks and the simulator are chunks of their own, loaded on demand, never part of activation.
    const inputs = Object.keys(result.metafile.inputs);
    expect(inputs.filter((input) => input.includes('gpt-tokenizer/') && input.includes('encoding'))).toEqual([]);
    expect(inputs.filter((input) => input.startsWith('src/sim/'))).toEqual([]);
    // undici (about 520 KB minified) is the transport chunk's, dist/transport.js.
    expect(inputs.filter((input) => input.includes('node_modules/undici/'))).toEqual([]);
  }, 30_000);
});
