// The simulator's CLI: the base URL is the first line of stdout, each request gets a log line, and SIGTERM exits 0.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { field, parseRecord, postJson, testAgent } from '../sim/simHelpers';
import { PROJECT_ROOT } from '../projectRoot';

const root = PROJECT_ROOT;
const outDir = mkdtempSync(join(tmpdir(), 'sim-cli-'));
const cliPath = join(outDir, 'sim.js');
const agent = testAgent();
const children: ChildProcessWithoutNullStreams[] = [];

beforeAll(async () => {
  // Build only the simulator's CLI (as `node esbuild.mjs --tools` does for every tool), so that this test does not
  // depend on other tools compiling.
  await build({
    entryPoints: [join(root, 'src', 'tools', 'sim.ts')],
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    outfile: cliPath,
    logLevel: 'error',
  });
}, 60_000);

afterAll(async () => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  await agent.close();
  rmSync(outDir, { recursive: true, force: true });
});

/** Starts the CLI and collects stdout lines; resolves once `count` lines have arrived. */
function startCli(args: readonly string[]): {
  child: ChildProcessWithoutNullStreams;
  lines: string[];
  waitForLines: (count: number) => Promise<void>;
  exited: Promise<number | null>;
} {
  const child = spawn(process.execPath, [cliPath, ...args], { stdio: 'pipe' });
  children.push(child);
  const lines: string[] = [];
  let buffer = '';
  const waiters: { count: number; resolve: () => void }[] = [];
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (text: string) => {
    buffer += text;
    const parts = buffer.split('\n');
    buffer = parts.pop() ?? '';
    lines.push(...parts);
    for (const waiter of waiters.filter((entry) => lines.length >= entry.count)) waiter.resolve();
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return {
    child,
    lines,
    exited,
    waitForLines: (count) =>
      new Promise<void>((resolve, reject) => {
        if (lines.length >= count) return resolve();
        waiters.push({ count, resolve });
        void exited.then(() => reject(new Error(`the CLI exited after ${lines.length} lines: ${lines.join(' | ')}`)));
      }),
  };
}

describe('sim CLI', () => {
  it('prints the base URL first, logs each request, and exits 0 on SIGTERM', async () => {
    const cli = startCli(['--port', '0', '--ttft-ms', '1', '--tokens-per-sec', '20000']);
    await cli.waitForLines(1);
    const baseUrl = cli.lines[0] ?? '';
    expect(baseUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const response = await postJson(agent, `${baseUrl}/v1/completions`, { prompt: 'x', max_tokens: 5, stream: true });
    expect(response.status).toBe(200);
    await response.text();
    await cli.waitForLines(3);
    expect(cli.lines[2]).toMatch(
      /^#1 POST \/v1\/completions openai-completions 200 stream, ttft [\d.]+ ms, 5\/5 tokens/,
    );
    cli.child.kill('SIGTERM');
    expect(await cli.exited).toBe(0);
  }, 30_000);

  it('applies flags: an API key and a fault', async () => {
    const cli = startCli(['--port', '0', '--api-key', 'k-123', '--fault', '503', '--quiet']);
    await cli.waitForLines(1);
    const baseUrl = cli.lines[0] ?? '';
    const unauthorized = await postJson(agent, `${baseUrl}/v1/completions`, { prompt: 'x' });
    expect(unauthorized.status).toBe(401);
    await unauthorized.text();
    const failing = await postJson(
      agent,
      `${baseUrl}/v1/completions`,
      { prompt: 'x' },
      { authorization: 'Bearer k-123' },
    );
    expect(failing.status).toBe(503);
    await failing.text();
    cli.child.kill('SIGINT');
    expect(await cli.exited).toBe(0);
  }, 30_000);

  it('--slots 1 queues the second request and its log line says how long it waited; --ignore-stops ignores the cap', async () => {
    const cli = startCli([
      '--port',
      '0',
      '--ttft-ms',
      '1',
      '--tokens-per-sec',
      '1000',
      '--slots',
      '1',
      '--ignore-stops',
      '--completion-tokens',
      '30',
    ]);
    await cli.waitForLines(1);
    const baseUrl = cli.lines[0] ?? '';
    // 30 tokens at 50 tok/s hold the slot for 0.6 s, long after the second request has arrived.
    const first = await postJson(
      agent,
      `${baseUrl}/v1/completions`,
      { prompt: 'x', max_tokens: 5, stream: true },
      { 'x-sim-tokens-per-sec': '50' },
    );
    const second = await postJson(agent, `${baseUrl}/v1/completions`, { prompt: 'y', max_tokens: 5, stream: true });
    await Promise.all([first.text(), second.text()]);
    await cli.waitForLines(4);
    const logged = cli.lines.slice(2, 4).join('\n');
    expect(logged).toMatch(
      /#1 POST \/v1\/completions openai-completions 200 stream, ttft [\d.]+ ms, 30\/30 tokens at [\d.]+ tok\/s, finish stop/,
    );
    expect(logged).toMatch(/#2 POST .* ttft [\d.]+ ms \(waited [\d.]+ ms for slot 0\), 30\/30 tokens/);
    cli.child.kill('SIGTERM');
    expect(await cli.exited).toBe(0);
  }, 30_000);

  it('--continuation true --continuation-dir DIR answers with the text that follows the prefix in a file there', async () => {
    const dir = join(outDir, 'workspace');
    mkdirSync(dir, { recursive: true });
    const code = Array.from({ length: 30 }, (_, n) => `export const value${n} = compute(${n}, 'item ${n}');\n`).join(
      '',
    );
    writeFileSync(join(dir, 'values.ts'), code);
    const cli = startCli([
      '--port',
      '0',
      '--ttft-ms',
      '1',
      '--tokens-per-sec',
      '20000',
      '--continuation',
      'true',
      '--continuation-dir',
      dir,
      '--quiet',
    ]);
    await cli.waitForLines(1);
    const cursor = code.indexOf('export const value20');
    const response = await postJson(agent, `${cli.lines[0] ?? ''}/v1/completions`, {
      prompt: code.slice(0, cursor),
      max_tokens: 12,
    });
    const text = String(field(parseRecord(await response.text()), 'choices', 0, 'text'));
    expect(text.length).toBeGreaterThan(10);
    expect(code.slice(cursor).startsWith(text)).toBe(true);
    cli.child.kill('SIGTERM');
    expect(await cli.exited).toBe(0);
  }, 30_000);

  it.each([
    [['--continuation', 'mixed:2', '--continuation-dir', '.'], 'mixed:P with 0 <= P <= 1'],
    [['--continuation', 'true'], '--continuation needs --continuation-dir'],
    [['--slots', '0'], '--slots needs a number >= 1'],
  ])(
    'exits 2 on %j',
    async (args, message) => {
      const cli = startCli(args);
      let stderr = '';
      cli.child.stderr.on('data', (chunk: Buffer) => {
        stderr += chunk.toString('utf8');
      });
      expect(await cli.exited).toBe(2);
      expect(stderr).toContain(message);
    },
    30_000,
  );

  it('exits 2 with a message on a bad flag', async () => {
    const cli = startCli(['--fault', 'explode']);
    let stderr = '';
    cli.child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString('utf8');
    });
    expect(await cli.exited).toBe(2);
    expect(stderr).toContain('unknown fault explode');
  }, 30_000);
});
