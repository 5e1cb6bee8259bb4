import * as esbuild from 'esbuild';

/** Builds the local engine's child program as esbuild.mjs does (node-llama-cpp left external) into `outfile`. */
export async function buildLocalEngineHost(outfile: string): Promise<void> {
  await esbuild.build({
    entryPoints: ['src/localEngineHost/main.ts'],
    outfile,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    external: ['node-llama-cpp'],
    logLevel: 'error',
  });
}
