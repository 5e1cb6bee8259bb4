// Runner one: the end-to-end suite inside a real VS Code (code-server 4.139.1, VS Code 1.139.1, on Node 24), with the
// workbench opened in headless chromium through playwright-core.
//
// It builds nothing (npm run test:e2e builds first), runs test/e2e/setup.sh (installs into ~/.cache/latency-copilot/
// when missing), then per session: starts code-server in its own process group with its own profile, XDG folders and
// short TMPDIR on 127.0.0.1, opens the workbench with the extension under development and the suite in the URL
// payload (smoke-test-driver mode), relays the suite's output, answers UI-bridge requests (screenshots, queries, key
// presses), waits for the suite's exit, and stops everything it started. The last line it prints is
// `N passed, N failed` (`, N skipped` when some were skipped); it exits non-zero when anything failed.
//
// Usage: npm run test:e2e [-- --filter name1,name2] [--session default|untrusted] [--keep] [--verbose] [--timeout-s 600]
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import {
  type BridgeRequest,
  type BridgeResponse,
  type ScenarioResult,
  type SessionKind,
  type UiElement,
  artifactFileName,
  e2eEnv,
  isBridgeRequest,
  isSuiteResults,
} from './bridgeProtocol';
import {
  type Installed,
  type RunningCodeServer,
  baseUserSettings,
  createProfile,
  killStartedGroups,
  launchBrowser,
  projectRoot,
  remoteUri,
  runSetup,
  sleep,
  startCodeServer,
  workbenchUrl,
} from './codeServerSession';

const artifactsDir = join(projectRoot, 'e2e-artifacts');
const suiteFile = join(projectRoot, 'dist', 'e2e', 'suite.js');

// ---------------------------------------------------------------------------------------------------------------------
// Options

interface RunnerOptions {
  readonly filter: string | undefined;
  readonly keep: boolean;
  readonly verbose: boolean;
  /** Hard limit for the whole run after setup, in seconds; everything is stopped when it passes. */
  readonly timeoutS: number;
  /** Run only this session (e.g. `untrusted` while working on a trust scenario); default: `default`, then what it asks for. */
  readonly onlySession: SessionKind | undefined;
}

function parseOptions(argv: readonly string[]): RunnerOptions {
  let filter = process.env[e2eEnv.filter];
  let keep = false;
  let verbose = false;
  let timeoutS = Number(process.env.LATENCY_COPILOT_E2E_TIMEOUT_S ?? 600);
  let onlySession: SessionKind | undefined;
  for (let index = 0; index < argv.length; index++) {
    const arg = argv[index];
    if (arg === '--filter') filter = argv[++index];
    else if (arg === '--keep') keep = true;
    else if (arg === '--verbose') verbose = true;
    else if (arg === '--timeout-s') timeoutS = Number(argv[++index]);
    else if (arg === '--session') {
      const kind = argv[++index];
      if (kind !== 'default' && kind !== 'untrusted') throw new Error('--session takes default or untrusted');
      onlySession = kind;
    } else
      throw new Error(
        `unknown option ${arg} (known: --filter a,b  --session default|untrusted  --keep  --verbose  --timeout-s N)`,
      );
  }
  if (!Number.isFinite(timeoutS) || timeoutS <= 0) throw new Error('--timeout-s needs a positive number of seconds');
  return { filter, keep, verbose, timeoutS, onlySession };
}

// ---------------------------------------------------------------------------------------------------------------------
// Output

const startedAtMs = performance.now();
function elapsed(): string {
  return `${((performance.now() - startedAtMs) / 1000).toFixed(1)} s`;
}
function say(line: string): void {
  process.stdout.write(`${line}\n`);
}
function info(line: string): void {
  say(`[e2e ${elapsed()}] ${line}`);
}

// ---------------------------------------------------------------------------------------------------------------------
// The UI bridge: the suite asks, the runner acts on the page it drives.

/** Runs in the page: describes the elements matching a selector. A string, because the runner is compiled without DOM types. */
const collectElementsSource = `(selector) => Array.from(document.querySelectorAll(selector)).map((element) => {
  const rect = element.getBoundingClientRect();
  const style = getComputedStyle(element);
  return {
    text: (element.textContent || '').replace(/\\s+/g, ' ').trim(),
    ariaLabel: element.getAttribute('aria-label'),
    id: element.id || null,
    className: typeof element.className === 'string' ? element.className : '',
    visible: rect.width > 0 && rect.height > 0 && style.visibility !== 'hidden' && style.display !== 'none' && Number(style.opacity) > 0,
  };
})`;

function isElementList(value: unknown): value is Array<Omit<UiElement, 'frameIndex'>> {
  return (
    Array.isArray(value) &&
    value.every(
      (element: unknown) =>
        typeof element === 'object' &&
        element !== null &&
        'text' in element &&
        typeof element.text === 'string' &&
        'visible' in element,
    )
  );
}

class UiBridge {
  private server: Server | undefined;
  private readonly token = randomBytes(16).toString('hex');
  /** The page of the session running now; requests between sessions are refused. */
  page: Page | undefined;

  async start(): Promise<string> {
    this.server = createServer((request, response) => void this.handle(request, response));
    await new Promise<void>((resolveListen) => this.server?.listen(0, '127.0.0.1', resolveListen));
    const address = this.server.address();
    if (address === null || typeof address === 'string') throw new Error('the UI bridge has no port');
    return `http://127.0.0.1:${address.port}/${this.token}`;
  }

  async close(): Promise<void> {
    const server = this.server;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolveClose) => server.close(() => resolveClose()));
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const answer = (status: number, body: BridgeResponse): void => {
      response.writeHead(status, { 'content-type': 'application/json' });
      response.end(JSON.stringify(body));
    };
    if (request.method !== 'POST' || request.url !== `/${this.token}`) {
      answer(404, { ok: false, error: 'not found' });
      return;
    }
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk)));
    let parsed: unknown;
    try {
      parsed = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    } catch {
      answer(400, { ok: false, error: 'the request is not JSON' });
      return;
    }
    if (!isBridgeRequest(parsed)) {
      answer(400, { ok: false, error: 'unknown bridge request' });
      return;
    }
    const page = this.page;
    if (!page) {
      answer(409, { ok: false, error: 'no page is open right now' });
      return;
    }
    try {
      answer(200, await this.act(page, parsed));
    } catch (error) {
      answer(500, {
        ok: false,
        error: error instanceof Error ? (error.message.split('\n')[0] ?? 'error') : String(error),
      });
    }
  }

  private async act(page: Page, request: BridgeRequest): Promise<BridgeResponse> {
    switch (request.kind) {
      case 'screenshot': {
        mkdirSync(artifactsDir, { recursive: true });
        const path = join(artifactsDir, artifactFileName(request.name));
        await page.screenshot({ path, timeout: 15_000 });
        info(`screenshot ${path}`);
        return { ok: true, kind: 'screenshot', path };
      }
      case 'query': {
        const frames = request.inWebviews ? page.frames() : [page.mainFrame()];
        const elements: UiElement[] = [];
        for (const [frameIndex, frame] of frames.entries()) {
          const found: unknown = await frame
            .evaluate(`(${collectElementsSource})(${JSON.stringify(request.selector)})`)
            .catch(() => []);
          if (isElementList(found)) elements.push(...found.map((element) => ({ ...element, frameIndex })));
        }
        return { ok: true, kind: 'query', elements };
      }
      case 'press':
        await page.keyboard.press(request.key);
        return { ok: true, kind: 'done' };
      case 'typeKeys':
        await page.keyboard.type(request.text, { delay: request.delayMs });
        return { ok: true, kind: 'done' };
      case 'click':
        await page.locator(request.selector).first().click({ timeout: 5_000 });
        return { ok: true, kind: 'done' };
    }
  }
}

// ---------------------------------------------------------------------------------------------------------------------
// One VS Code session: code-server + a browser page running the suite.

interface SessionOutcome {
  readonly results: readonly ScenarioResult[];
  readonly pendingSessions: readonly SessionKind[];
}

/** User settings of the test profile: the shared test profile; workspace trust only in the untrusted session. */
function userSettings(session: SessionKind): Record<string, unknown> {
  return baseUserSettings(session === 'untrusted');
}

class Session {
  private codeServer: RunningCodeServer | undefined;
  private browser: BrowserContext | undefined;
  private readonly dir: string;
  private readonly workbenchLog: string[] = [];

  constructor(
    private readonly kind: SessionKind,
    runDir: string,
    private readonly installed: Installed,
    private readonly bridge: UiBridge,
    private readonly bridgeUrl: string,
    private readonly options: RunnerOptions,
  ) {
    this.dir = join(runDir, kind === 'default' ? 'd' : 'u');
  }

  async run(deadlineMs: number): Promise<SessionOutcome> {
    const dirs = createProfile(this.dir, userSettings(this.kind));
    const resultsFile = join(this.dir, 'results.json');
    rmSync(resultsFile, { force: true });

    info(`session ${this.kind}: starting code-server (profile ${this.dir})`);
    const codeServer = await startCodeServer({
      installed: this.installed,
      dirs,
      extraArgs: [
        '--vscode-option',
        'enable-smoke-test-driver',
        ...(this.kind === 'untrusted' ? [] : ['--disable-workspace-trust']),
      ],
      extraEnv: {
        [e2eEnv.bridgeUrl]: this.bridgeUrl,
        [e2eEnv.resultsFile]: resultsFile,
        [e2eEnv.artifactsDir]: artifactsDir,
        [e2eEnv.logsDir]: join(dirs.userData, 'logs'),
        [e2eEnv.session]: this.kind,
        [e2eEnv.runner]: 'code-server',
        ...(this.options.filter ? { [e2eEnv.filter]: this.options.filter } : {}),
      },
      deadlineMs,
    });
    this.codeServer = codeServer;
    const { authority } = codeServer;
    let serverExit: number | null | undefined;
    void codeServer.exited.then((code) => (serverExit = code));
    info(`session ${this.kind}: code-server is up on ${authority}`);

    this.browser = await launchBrowser(this.installed, dirs);
    const page = this.browser.pages()[0] ?? (await this.browser.newPage());

    let exitCode: number | undefined;
    const exited = new Promise<number>((resolveExit) => {
      void page.exposeFunction('codeAutomationExit', (code: unknown) => {
        exitCode = typeof code === 'number' ? code : 1;
        resolveExit(exitCode);
      });
    });
    await page.exposeFunction('codeAutomationLog', (type: unknown, args: unknown) => this.relayLog(type, args));
    page.on('pageerror', (error) => this.workbenchLog.push(`[pageerror] ${error.message}`));
    this.bridge.page = page;

    const url = workbenchUrl(authority, dirs.workspace, [
      ['extensionDevelopmentPath', remoteUri(authority, projectRoot)],
      ['extensionTestsPath', remoteUri(authority, suiteFile)],
    ]);
    // 'commit': the workbench keeps loading after this; waiting for more only delays relaying the suite's output.
    await page.goto(url, { waitUntil: 'commit', timeout: 60_000 });
    info(`session ${this.kind}: workbench opened; the suite runs inside it`);

    const timedOut = Symbol('timeout');
    const serverDied = codeServer.exited.then((): 'server-died' => 'server-died');
    const outcome = await Promise.race([
      exited,
      serverDied,
      sleep(Math.max(0, deadlineMs - performance.now())).then(() => timedOut),
    ]);
    this.bridge.page = undefined;
    info(
      `session ${this.kind}: ${outcome === timedOut ? 'timed out' : outcome === 'server-died' ? 'code-server died' : `the suite exited with code ${exitCode}`}`,
    );

    const parsed: unknown = existsSync(resultsFile) ? JSON.parse(readFileSync(resultsFile, 'utf8')) : undefined;
    if (isSuiteResults(parsed)) {
      if (outcome === timedOut)
        info(`session ${this.kind}: the suite wrote results but VS Code did not report its exit in time`);
      return { results: parsed.results, pendingSessions: parsed.pendingSessions };
    }
    // No results: say why, with a picture and the end of the workbench's log.
    await page
      .screenshot({ path: join(artifactsDir, artifactFileName(`session-${this.kind}-no-results`)) })
      .catch(() => undefined);
    const why =
      outcome === timedOut
        ? 'the run hit its overall timeout'
        : outcome === 'server-died'
          ? `code-server exited (code ${serverExit}); see ${codeServer.logPath}`
          : `the suite ended with exit code ${exitCode} without writing results`;
    say(`not ok session ${this.kind}: ${why}`);
    for (const line of this.workbenchLog.slice(-40)) say(`#   ${line}`);
    return {
      results: [{ name: `session ${this.kind}`, outcome: 'failed', detail: why, durationMs: 0 }],
      pendingSessions: [],
    };
  }

  /** Lines from the suite (`ok`, `not ok`, `skip`, `# ...`) are printed; the workbench's own log is kept for failures. */
  private relayLog(type: unknown, args: unknown): void {
    const parts = Array.isArray(args) ? args : [args];
    // Console lines from the extension host arrive with %c styling markers and their CSS arguments.
    const text = parts
      .filter((part) => typeof part !== 'string' || !/^(color|font|background)[-a-z]*:/.test(part))
      .map((part) => (typeof part === 'string' ? part : JSON.stringify(part)))
      .join(' ')
      .replace(/%c/g, '')
      .trim();
    for (const line of text.split('\n')) {
      const suiteLine = line.replace(/^.*?\[Extension Host\]\s*/, '');
      if (/^(ok |not ok |skip |# )/.test(suiteLine)) say(suiteLine);
      else {
        this.workbenchLog.push(`[${String(type)}] ${line}`);
        if (this.options.verbose) say(`#   [workbench ${String(type)}] ${line}`);
      }
    }
  }

  async stop(): Promise<void> {
    this.bridge.page = undefined;
    const browser = this.browser;
    this.browser = undefined;
    if (browser) {
      await browser.close().catch(() => undefined);
      info(`session ${this.kind}: browser closed`);
    }
    const codeServer = this.codeServer;
    this.codeServer = undefined;
    if (codeServer) {
      await codeServer.stop();
      info(`session ${this.kind}: code-server stopped (process group ${codeServer.process.pid ?? '?'})`);
    }
  }
}

// ---------------------------------------------------------------------------------------------------------------------

function closingLine(results: readonly ScenarioResult[]): string {
  const passed = results.filter((result) => result.outcome === 'passed').length;
  const failed = results.filter((result) => result.outcome === 'failed').length;
  const skipped = results.filter((result) => result.outcome === 'skipped').length;
  return `${passed} passed, ${failed} failed${skipped > 0 ? `, ${skipped} skipped` : ''}`;
}

async function main(): Promise<number> {
  const options = parseOptions(process.argv.slice(2));
  if (!existsSync(suiteFile))
    throw new Error(`${suiteFile} is missing: run node test/e2e/build.mjs first (npm run test:e2e does)`);
  mkdirSync(artifactsDir, { recursive: true });

  info('setup (test/e2e/setup.sh)');
  const installed = await runSetup();

  // A short path: VS Code puts unix sockets under TMPDIR, and their paths are limited to about 107 characters.
  const runDir = join('/tmp', `lce2e-${randomBytes(3).toString('hex')}`);
  mkdirSync(runDir, { recursive: true });
  const bridge = new UiBridge();
  const bridgeUrl = await bridge.start();
  const deadlineMs = performance.now() + options.timeoutS * 1000;
  const results: ScenarioResult[] = [];
  let current: Session | undefined;
  // The hard stop: if anything hangs past the deadline (plus time to shut down), stop every process group and leave.
  const watchdog = setTimeout(
    () => {
      say(`not ok e2e runner: still running ${options.timeoutS + 30} s after setup; stopping everything`);
      killStartedGroups('SIGKILL');
      if (!options.keep) rmSync(runDir, { recursive: true, force: true });
      say(closingLine([...results, { name: 'watchdog', outcome: 'failed', durationMs: 0 }]));
      process.exit(1);
    },
    (options.timeoutS + 30) * 1000,
  );
  watchdog.unref();

  const stopEverything = async (): Promise<void> => {
    await current?.stop();
    await bridge.close();
    if (!options.keep) rmSync(runDir, { recursive: true, force: true });
    else info(`kept ${runDir}`);
  };
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      say(`# interrupted by ${signal}; stopping what the run started`);
      void stopEverything().finally(() => {
        say(closingLine([...results, { name: 'interrupted', outcome: 'failed', durationMs: 0 }]));
        process.exit(130);
      });
    });
  }

  try {
    const sessionsToRun: SessionKind[] = [options.onlySession ?? 'default'];
    const sessionsRun = new Set<SessionKind>();
    for (let kind = sessionsToRun.shift(); kind !== undefined; kind = sessionsToRun.shift()) {
      sessionsRun.add(kind);
      current = new Session(kind, runDir, installed, bridge, bridgeUrl, options);
      try {
        const outcome = await current.run(deadlineMs);
        results.push(...outcome.results);
        for (const pending of options.onlySession ? [] : outcome.pendingSessions) {
          if (!sessionsRun.has(pending) && !sessionsToRun.includes(pending)) sessionsToRun.push(pending);
        }
      } catch (error) {
        const detail = error instanceof Error ? error.message : String(error);
        say(`not ok session ${kind}: ${detail}`);
        results.push({ name: `session ${kind}`, outcome: 'failed', detail, durationMs: 0 });
      } finally {
        await current.stop();
        current = undefined;
      }
      if (performance.now() > deadlineMs) {
        say(`# overall timeout of ${options.timeoutS} s reached`);
        break;
      }
    }
  } finally {
    await stopEverything();
    clearTimeout(watchdog);
  }

  info(`done; artifacts in ${artifactsDir}`);
  // The failures again, together, so that they are not lost in a long output.
  for (const result of results.filter((each) => each.outcome === 'failed'))
    say(`# failed: ${result.name}: ${result.detail ?? ''}`);
  say(closingLine(results));
  return results.some((result) => result.outcome === 'failed') || results.length === 0 ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    say(`not ok e2e runner: ${error instanceof Error ? error.message : String(error)}`);
    say('0 passed, 1 failed');
    process.exit(1);
  },
);
