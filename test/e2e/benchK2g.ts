// Benchmark: keystroke to ghost text in a real VS Code (code-server 4.139.1 = VS Code 1.139.1, headless Debian
// chromium through playwright-core, set up exactly as the end-to-end suite runs it: test/e2e/codeServerSession.ts).
//
// What it measures is what a person feels: from the keydown of a burst's last key to the first ghost-text node in the
// editor's DOM. In the page, a capture-phase keydown listener on window notes each key's `event.timeStamp` and
// MutationObservers on the editor's `.view-lines` (and `.view-zones`, where the extra lines of a multi-line suggestion
// go) note `performance.now()` (the same clock) whenever ghost-text nodes are added or the last ones go. Only ghost text
// added after the last keydown counts, and only the one that stays: ghost text of an earlier key of the burst, still
// there or re-rendered for a moment after the key, does not.
//
// A burst, at the end of a statement line of a real TypeScript file (gpt-tokenizer's and eventsource-parser's own
// sources, copied into the test workspace): End, Enter, then 7 characters, one key per 120 ms; then up to 3 s for ghost
// text; then Escape and undo until the editor is clean again, so every burst starts from the file as it is on disk.
// Each burst is at a line no earlier burst of the session used, walking up the files, so that the extension's cache
// never serves a burst from an earlier one (a prefix is never an extension of an earlier burst's prefix).
//
// Sessions (each its own code-server with a throwaway profile):
//   floor   the instant provider (test/e2e/fixtures/instant-provider: a one-line item at once), alone: VS Code's own
//           50 ms delay plus rendering, the least any provider costs in this rig
//   ours    Latency Copilot (this checkout's dist/), its burst backend set in user settings to the simulator
//           (llama.cpp /infill), which runs in this process; four configurations, one after another:
//           hit/miss x (TTFT 150 ms, 1,000 tok/s) / (TTFT 30 ms, 3,000 tok/s)
//           hit:  the simulator answers with the file's true continuation, and the burst types the true next line
//           miss: the burst types `const x`, and the simulator answers with plausible code whose first non-space
//                 character is never the one typed next
//
// Usage: npm run --silent bench:k2g -- [--json] [--bursts 30] [--warmup 3] [--only floor,hit-150,miss-150,hit-30,miss-30]
//                                      [--timeout-s 900] [--keep] [--screenshots DIR]
// With --json, stdout's last line is one JSON object; progress goes to stderr. It reports; it never fails on slowness.
import { randomBytes } from 'node:crypto';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { basename, join } from 'node:path';
import { countTokens } from 'gpt-tokenizer/encoding/cl100k_base';
import type { BrowserContext, Page } from 'playwright-core';
import { startSimulator, type RunningSimulator } from '../../src/sim/simulator';
import type { SimCompletionRequest } from '../../src/sim/simOptions';
import type { SimRequestLog } from '../../src/sim/simRequestLog';
import {
  type Installed,
  type ProfileDirs,
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

// ---------------------------------------------------------------------------------------------------------------------
// Constants

/** One key every this many ms: a brisk typist, and what the shared notes measured the miss path with. */
const KEY_INTERVAL_MS = 120;
/** How long after the last key the burst waits for ghost text before it counts as "no ghost text". */
const GHOST_WAIT_MS = 3_000;
/** After ghost text shows, requests the extension makes right away (speculative ones) still belong to the burst. */
const LINGER_MS = 300;
/** A pause after undoing a burst, so that what the undo set off is over before the next burst. */
const SETTLE_MS = 200;
/** What the miss path types after Enter (and the floor, whose provider never matches anything typed). */
const MISS_TYPED = 'const x';
/** Characters of the true next line the hit path types: as many keys as the miss path. */
const HIT_TYPED_CHARS = MISS_TYPED.length;
/** How much of the file a hit answer carries (the extension's own token cap cuts it). */
const HIT_ANSWER_CHARS = 3_000;
/** The end of a prompt prefix looked up in the source files to find where a request was made. */
const LOCATE_TAIL_CHARS = 600;
const SIM_LABEL = 'K2G bench sim';
const INSTANT_PROVIDER_DIR = join(projectRoot, 'test', 'e2e', 'fixtures', 'instant-provider');
const INSTANT_PROVIDER_READY_ID = 'latency-copilot-bench.instant-provider.ready';
const EXTENSION_LOG_DIR = 'latency-copilot.latency-copilot';
const EXTENSION_LOG_FILE = 'Latency Copilot.log';

/** Real TypeScript sources copied into the workspace (runtime dependencies, so always installed); names are unique. */
const SOURCE_FILES = [
  'node_modules/gpt-tokenizer/src/GptEncoding.ts',
  'node_modules/gpt-tokenizer/src/BytePairEncodingCore.ts',
  'node_modules/eventsource-parser/src/parse.ts',
  'node_modules/gpt-tokenizer/src/modelTypes.ts',
  'node_modules/gpt-tokenizer/src/functionCalling.ts',
  'node_modules/gpt-tokenizer/src/utfUtil.ts',
];

/**
 * The miss path's first lines: plausible code, none starting with a character of `const x`, so that whatever has been
 * typed, the suggestion never agrees with the next key (VS Code drops it and asks again, as for a real miss).
 */
const MISS_FIRST_LINES = [
  'await this.flush(pending)',
  'return undefined',
  "if (!options) throw new Error('options are required')",
];
/** The rest of a miss answer: a long plausible block, so that a stale stream costs what a real one would. */
const MISS_BODY_LINES = [
  'const result = await fetchData(options)',
  'if (!result.ok) return null',
  'const parsed: unknown = JSON.parse(result.body)',
  "if (typeof parsed !== 'object' || parsed === null) return null",
  'for (const [key, value] of Object.entries(parsed)) {',
  '  this.cache.set(key, String(value))',
  '}',
  'this.pending.length = 0',
  'return transform(result.body)',
];

type PathKind = 'hit' | 'miss';

interface Configuration {
  readonly id: string;
  readonly path: PathKind;
  readonly ttftMs: number;
  readonly tokensPerSec: number;
}

const CONFIGURATIONS: readonly Configuration[] = [
  { id: 'hit-150', path: 'hit', ttftMs: 150, tokensPerSec: 1_000 },
  { id: 'miss-150', path: 'miss', ttftMs: 150, tokensPerSec: 1_000 },
  { id: 'hit-30', path: 'hit', ttftMs: 30, tokensPerSec: 3_000 },
  { id: 'miss-30', path: 'miss', ttftMs: 30, tokensPerSec: 3_000 },
];

// ---------------------------------------------------------------------------------------------------------------------
// Options and output

interface Options {
  readonly json: boolean;
  readonly bursts: number;
  readonly warmup: number;
  readonly only: ReadonlySet<string> | undefined;
  readonly timeoutS: number;
  readonly keep: boolean;
  /** Folder for a screenshot at the end of each burst's wait (debugging the rig); undefined: none. */
  readonly screenshots: string | undefined;
}

function parseOptions(argv: readonly string[]): Options {
  let json = false;
  let bursts = 30;
  let warmup = 3;
  let only: Set<string> | undefined;
  let timeoutS = 900;
  let keep = false;
  let screenshots: string | undefined;
  const known = new Set(['floor', ...CONFIGURATIONS.map((config) => config.id)]);
  for (let index = 0; index < argv.length; index++) {
    const arg = argv[index];
    if (arg === '--json') json = true;
    else if (arg === '--keep') keep = true;
    else if (arg === '--screenshots') screenshots = argv[++index];
    else if (arg === '--bursts') bursts = Number(argv[++index]);
    else if (arg === '--warmup') warmup = Number(argv[++index]);
    else if (arg === '--timeout-s') timeoutS = Number(argv[++index]);
    else if (arg === '--only') {
      only = new Set((argv[++index] ?? '').split(',').filter((part) => part !== ''));
      for (const part of only)
        if (!known.has(part)) throw new Error(`--only: unknown part ${part} (known: ${[...known].join(', ')})`);
    } else
      throw new Error(
        `unknown option ${arg} (known: --json --bursts N --warmup N --only a,b --timeout-s N --keep --screenshots DIR)`,
      );
  }
  if (!Number.isSafeInteger(bursts) || bursts < 1) throw new Error('--bursts needs a positive whole number');
  if (!Number.isSafeInteger(warmup) || warmup < 0) throw new Error('--warmup needs a whole number');
  if (!Number.isFinite(timeoutS) || timeoutS <= 0) throw new Error('--timeout-s needs a positive number of seconds');
  return { json, bursts, warmup, only, timeoutS, keep, screenshots };
}

const startedAtMs = performance.now();
function progress(line: string): void {
  process.stderr.write(`[k2g ${((performance.now() - startedAtMs) / 1000).toFixed(1)} s] ${line}\n`);
}

// ---------------------------------------------------------------------------------------------------------------------
// Where bursts happen

interface SourceFile {
  readonly name: string;
  readonly text: string;
  readonly lines: readonly string[];
}

/** One burst's place: the end of `line` (1-based) of `file`; `nextContent` is the following line without its indent. */
interface BurstPosition {
  readonly file: SourceFile;
  readonly line: number;
  readonly nextContent: string;
}

function loadSources(): SourceFile[] {
  return SOURCE_FILES.map((path) => {
    const text = readFileSync(join(projectRoot, path), 'utf8');
    return { name: basename(path), text, lines: text.split('\n') };
  });
}

function indentOf(line: string): string {
  return /^\s*/.exec(line)?.[0] ?? '';
}

/**
 * Lines that end a statement and are followed by one at the same indent whose first characters are plain (letters,
 * digits, `_`, `.`, `=`, space: nothing that auto-closes or opens a suggest widget), so that after End and Enter VS Code
 * indents the new line as the file does and the hit path can type the true next line. Ordered bottom-up per file.
 */
function burstPositions(files: readonly SourceFile[]): BurstPosition[] {
  const positions: BurstPosition[] = [];
  for (const file of files) {
    const found: BurstPosition[] = [];
    for (let index = 0; index + 1 < file.lines.length; index++) {
      const line = file.lines[index] ?? '';
      const next = file.lines[index + 1] ?? '';
      const trimmed = line.trim();
      const indent = indentOf(line);
      if (indent.length < 2 || indent !== indentOf(next) || trimmed.length < 8) continue;
      if (!/[;)\]\w'"]$/.test(trimmed) || /^(\/\/|\*|\/\*|import|export \{|case |default:)/.test(trimmed)) continue;
      if (line.includes('//') || line.includes('`')) continue;
      const nextContent = next.slice(indent.length);
      if (
        nextContent.length < 14 ||
        !/^[A-Za-z_][A-Za-z0-9_ .=]{6}/.test(nextContent) ||
        /^(import|export|case )/.test(nextContent)
      )
        continue;
      found.push({ file, line: index + 1, nextContent });
    }
    positions.push(...found.reverse());
  }
  return positions;
}

// ---------------------------------------------------------------------------------------------------------------------
// The simulator's answers

interface SimMode {
  path: PathKind;
}

/** Where a request's prefix ends in the source files (the offset just after it), or undefined when it is not there. */
function locate(files: readonly SourceFile[], prefix: string): { file: SourceFile; end: number } | undefined {
  if (prefix.length === 0) return undefined;
  const tail = prefix.slice(-LOCATE_TAIL_CHARS);
  for (const file of files) {
    const at = file.text.lastIndexOf(tail);
    if (at !== -1) return { file, end: at + tail.length };
  }
  return undefined;
}

/** The miss answer for a prefix: its first non-space character differs from the key the miss burst types next. */
function missAnswer(prefix: string): string {
  const currentLine = prefix.slice(prefix.lastIndexOf('\n') + 1);
  const typed = currentLine.trimStart();
  const nextKey = MISS_TYPED.startsWith(typed) ? MISS_TYPED[typed.length] : undefined;
  const first = MISS_FIRST_LINES.find((line) => line.trimStart()[0] !== nextKey) ?? MISS_FIRST_LINES[0] ?? '';
  const indent = indentOf(currentLine);
  const body: string[] = [];
  let chars = first.length;
  while (chars < HIT_ANSWER_CHARS) {
    for (const line of MISS_BODY_LINES) {
      body.push(indent + line);
      chars += indent.length + line.length + 1;
    }
  }
  return `${first}\n${body.join('\n')}\n`;
}

function completionFor(files: readonly SourceFile[], mode: SimMode, request: SimCompletionRequest): string {
  if (mode.path === 'hit') {
    const found = locate(files, request.prefix);
    if (found) return found.file.text.slice(found.end, found.end + HIT_ANSWER_CHARS);
  }
  return missAnswer(request.prefix);
}

/** The first line of the answer to the burst's final state (what has to be generated before the line can show). */
function finalFirstLine(path: PathKind, position: BurstPosition, typed: string): string {
  if (path === 'hit') return position.nextContent.slice(typed.length);
  return missAnswer(`${indentOf(position.file.lines[position.line - 1] ?? '')}${typed}`).split('\n')[0] ?? '';
}

// ---------------------------------------------------------------------------------------------------------------------
// In the page

/**
 * The page's recorder, installed before the workbench loads. A string, because this file is compiled without DOM types.
 * `keys`: [key, event.timeStamp] per keydown (capture phase on window, so before VS Code sees the key).
 * `ghosts`: [performance.now(), present] per batch of mutations that added or removed ghost-text nodes in an observed
 * editor part: when ghost nodes were added (present = some ghost node is in the editor after the batch) or the last
 * ones went away (present = false).
 */
const RECORDER_SOURCE = `(() => {
  if (window.__k2g) return;
  const GHOST = 'span.ghost-text-decoration, .ghost-text';
  const IN_EDITOR = '.monaco-editor .view-lines span.ghost-text-decoration, .monaco-editor .view-zones .ghost-text';
  const observed = new WeakSet();
  const state = { keys: [], ghosts: [] };
  window.addEventListener('keydown', (event) => { state.keys.push([event.key, event.timeStamp]); }, true);
  const hasGhost = (node) => node.nodeType === 1 && (node.matches(GHOST) || node.querySelector(GHOST) !== null);
  const onMutations = (records) => {
    const at = performance.now();
    let added = false;
    let removed = false;
    for (const record of records) {
      for (const node of record.addedNodes) added = added || hasGhost(node);
      for (const node of record.removedNodes) removed = removed || hasGhost(node);
    }
    if (!added && !removed) return;
    const present = document.querySelector(IN_EDITOR) !== null;
    if (added || !present) state.ghosts.push([at, present]);
  };
  window.__k2g = {
    attach() {
      let count = 0;
      for (const element of document.querySelectorAll('.monaco-editor .view-lines, .monaco-editor .view-zones')) {
        count += 1;
        if (observed.has(element)) continue;
        observed.add(element);
        new MutationObserver(onMutations).observe(element, { childList: true, subtree: true });
      }
      return count;
    },
    reset() { state.keys.length = 0; state.ghosts.length = 0; },
    read() {
      const text = Array.from(document.querySelectorAll(IN_EDITOR)).map((element) => element.textContent || '').join('');
      return { keys: state.keys.slice(), ghosts: state.ghosts.slice(), ghostText: text, now: performance.now() };
    },
  };
})()`;

interface RecorderState {
  readonly keys: readonly (readonly [string, number])[];
  /** [time, whether ghost text is in the editor after that change]; see RECORDER_SOURCE. */
  readonly ghosts: readonly (readonly [number, boolean])[];
  readonly ghostText: string;
  readonly now: number;
}

function isKeyEntry(value: unknown): value is [string, number] {
  return Array.isArray(value) && value.length === 2 && typeof value[0] === 'string' && typeof value[1] === 'number';
}

function isGhostEntry(value: unknown): value is [number, boolean] {
  return Array.isArray(value) && value.length === 2 && typeof value[0] === 'number' && typeof value[1] === 'boolean';
}

function isRecorderState(value: unknown): value is RecorderState {
  return (
    typeof value === 'object' &&
    value !== null &&
    'keys' in value &&
    Array.isArray(value.keys) &&
    value.keys.every(isKeyEntry) &&
    'ghosts' in value &&
    Array.isArray(value.ghosts) &&
    value.ghosts.every(isGhostEntry) &&
    'ghostText' in value &&
    typeof value.ghostText === 'string' &&
    'now' in value &&
    typeof value.now === 'number'
  );
}

/**
 * The ghost text a person is left with after `afterMs`: the first time ghost nodes were added after it from which ghost
 * text stayed in the editor up to the last change recorded. A suggestion of an earlier key that VS Code re-renders for a
 * moment after the key (and then drops) is skipped; one typed through (re-rendered with no gap) counts from its
 * re-render. `flashes`: ghost text that came after the key and went again before the one that stayed.
 */
function settledGhost(ghosts: RecorderState['ghosts'], afterMs: number): { atMs: number | undefined; flashes: number } {
  let atMs: number | undefined;
  let flashes = 0;
  for (const [at, present] of ghosts) {
    if (at <= afterMs) continue;
    if (!present) {
      if (atMs !== undefined) flashes += 1;
      atMs = undefined;
    } else if (atMs === undefined) atMs = at;
  }
  return { atMs, flashes };
}

async function readRecorder(page: Page): Promise<RecorderState> {
  const state: unknown = await page.evaluate('window.__k2g.read()');
  if (!isRecorderState(state)) throw new Error('the page recorder answered something unexpected');
  return state;
}

/** The active editor tab: its label and whether it has unsaved changes. */
async function activeTab(page: Page): Promise<{ label: string; dirty: boolean } | undefined> {
  const found: unknown = await page.evaluate(`(() => {
    const tab = document.querySelector('.tabs-container .tab.active');
    return tab ? { label: tab.getAttribute('aria-label') || tab.textContent || '', dirty: tab.classList.contains('dirty') } : null;
  })()`);
  if (typeof found !== 'object' || found === null || !('label' in found) || !('dirty' in found)) return undefined;
  return typeof found.label === 'string' && typeof found.dirty === 'boolean'
    ? { label: found.label, dirty: found.dirty }
    : undefined;
}

/** The status bar's cursor position ("Ln 12, Col 5"), or '' when not shown. */
async function cursorStatus(page: Page): Promise<string> {
  const text: unknown = await page.evaluate(
    `(document.getElementById('status.editor.selection') || {}).textContent || ''`,
  );
  return typeof text === 'string' ? text : '';
}

async function waitUntil(
  what: string,
  probe: () => Promise<boolean>,
  timeoutMs: number,
  intervalMs = 100,
): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    if (await probe().catch(() => false)) return;
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(intervalMs);
  }
}

/**
 * The offset from the page's clock to this process's (both monotonic): this = page + offset. The round trip with the
 * smallest delay of several wins; half of it bounds the error.
 */
async function calibrateClock(page: Page): Promise<{ offsetMs: number; errorMs: number }> {
  let best: { offsetMs: number; errorMs: number } | undefined;
  for (let round = 0; round < 9; round++) {
    const before = performance.now();
    const pageNow: unknown = await page.evaluate('performance.now()');
    const after = performance.now();
    if (typeof pageNow !== 'number') continue;
    const errorMs = (after - before) / 2;
    if (best === undefined || errorMs < best.errorMs) best = { offsetMs: (before + after) / 2 - pageNow, errorMs };
  }
  if (best === undefined) throw new Error('could not read the page clock');
  return best;
}

// ---------------------------------------------------------------------------------------------------------------------
// A VS Code session for the benchmark

type SessionKind = 'floor' | 'ours';

class BenchSession {
  private codeServer: RunningCodeServer | undefined;
  private browser: BrowserContext | undefined;
  private openFileName: string | undefined;
  page: Page | undefined;
  dirs: ProfileDirs | undefined;

  constructor(
    private readonly kind: SessionKind,
    private readonly root: string,
    private readonly installed: Installed,
  ) {}

  async start(deadlineMs: number, simBaseUrl: string | undefined): Promise<Page> {
    const settings: Record<string, unknown> = {
      ...baseUserSettings(false),
      // Nothing but ghost text reacts to the keys: no suggest widget, parameter hints, hovers or auto-closing.
      'editor.quickSuggestions': { other: 'off', comments: 'off', strings: 'off' },
      'editor.suggestOnTriggerCharacters': false,
      'editor.wordBasedSuggestions': 'off',
      'editor.parameterHints.enabled': false,
      'editor.hover.enabled': false,
      'editor.autoClosingBrackets': 'never',
      'editor.autoClosingQuotes': 'never',
      'editor.minimap.enabled': false,
      'workbench.editor.enablePreview': false,
      // A full TypeScript server would take seconds of CPU per file on 2 shared cores and compete with the extension
      // host and the browser; syntax-only mode keeps the built-in extension (and its work per key) but not the project.
      'typescript.tsserver.useSyntaxServer': 'always',
      'typescript.validate.enable': false,
      'typescript.suggest.enabled': false,
      ...(simBaseUrl === undefined
        ? {}
        : {
            'latencyCopilot.backends.useSimulator': false,
            'latencyCopilot.backends.offerSimulator': false,
            'latencyCopilot.inline.enabled': true,
            'latencyCopilot.backends.burst': [
              {
                baseUrl: simBaseUrl,
                protocol: 'llamacpp-infill',
                model: 'qwen2.5-coder-sim',
                label: SIM_LABEL,
                fim: 'auto',
              },
            ],
          }),
    };
    const dirs = createProfile(this.root, settings);
    this.dirs = dirs;
    // In a remote window (code-server's is one) machine-scoped settings, such as the extension's backends, are read
    // from the remote machine's settings, not the user's.
    mkdirSync(join(dirs.userData, 'Machine'), { recursive: true });
    writeFileSync(join(dirs.userData, 'Machine', 'settings.json'), JSON.stringify(settings, null, 2));
    const sourceDir = join(dirs.workspace, 'src');
    mkdirSync(sourceDir, { recursive: true });
    for (const path of SOURCE_FILES) copyFileSync(join(projectRoot, path), join(sourceDir, basename(path)));

    progress(`${this.kind}: starting code-server (profile ${this.root})`);
    this.codeServer = await startCodeServer({
      installed: this.installed,
      dirs,
      extraArgs: ['--disable-workspace-trust', '--vscode-option', 'enable-smoke-test-driver'],
      extraEnv: {},
      deadlineMs,
    });
    const { authority } = this.codeServer;
    progress(`${this.kind}: code-server is up on ${authority}`);
    this.browser = await launchBrowser(this.installed, dirs);
    const page = this.browser.pages()[0] ?? (await this.browser.newPage());
    this.page = page;
    await page.addInitScript(RECORDER_SOURCE);
    const extensionPath = this.kind === 'floor' ? INSTANT_PROVIDER_DIR : projectRoot;
    await page.goto(
      workbenchUrl(authority, dirs.workspace, [['extensionDevelopmentPath', remoteUri(authority, extensionPath)]]),
      {
        waitUntil: 'domcontentloaded',
        timeout: 60_000,
      },
    );
    await waitUntil(
      'the workbench',
      async () => (await page.locator('.monaco-workbench .part.statusbar').count()) > 0,
      90_000,
      250,
    );
    progress(`${this.kind}: workbench up; waiting for the extension`);
    if (this.kind === 'floor') {
      await waitUntil(
        'the instant provider',
        async () => (await page.locator(`[id="${INSTANT_PROVIDER_READY_ID}"]`).count()) > 0,
        90_000,
        250,
      );
    } else {
      const logsDir = join(dirs.userData, 'logs');
      const backendLine = new RegExp(`Backends: [^\\n]*${SIM_LABEL}`);
      await waitUntil(
        'Latency Copilot to use the simulator',
        async () => backendLine.test(readExtensionLog(logsDir)),
        90_000,
        250,
      );
    }
    progress(`${this.kind}: extension ready`);
    return page;
  }

  /** Opens a workspace file through Quick Open (as a person would) unless it is the active editor already. */
  async openFile(name: string): Promise<void> {
    const page = this.page;
    if (!page) throw new Error('no page');
    if (this.openFileName === name && (await activeTab(page))?.label.startsWith(name)) return;
    for (let attempt = 0; attempt < 3; attempt++) {
      await page.keyboard.press('Control+p');
      await page.locator('.quick-input-widget input').first().waitFor({ state: 'visible', timeout: 10_000 });
      await page.keyboard.type(name, { delay: 10 });
      // Quick Open searches as one types; the first row is the file once its name is complete.
      await sleep(600);
      await page.keyboard.press('Enter');
      try {
        await waitUntil(
          `the editor of ${name}`,
          async () => (await activeTab(page))?.label.startsWith(name) ?? false,
          10_000,
        );
        await page.locator('.monaco-editor .view-lines').first().waitFor({ state: 'visible', timeout: 10_000 });
        this.openFileName = name;
        return;
      } catch {
        await page.keyboard.press('Escape');
      }
    }
    throw new Error(`could not open ${name}`);
  }

  /** Puts the cursor at the start of `line` with Go to Line. */
  async goToLine(line: number): Promise<void> {
    const page = this.page;
    if (!page) throw new Error('no page');
    for (let attempt = 0; attempt < 3; attempt++) {
      await page.keyboard.press('Control+g');
      await page.locator('.quick-input-widget input').first().waitFor({ state: 'visible', timeout: 10_000 });
      await page.keyboard.type(String(line), { delay: 5 });
      await page.keyboard.press('Enter');
      try {
        await waitUntil(`line ${line}`, async () => (await cursorStatus(page)).startsWith(`Ln ${line},`), 5_000, 50);
        return;
      } catch {
        await page.keyboard.press('Escape');
      }
    }
    throw new Error(`could not go to line ${line}`);
  }

  async stop(): Promise<void> {
    const browser = this.browser;
    this.browser = undefined;
    this.page = undefined;
    if (browser) await browser.close().catch(() => undefined);
    const codeServer = this.codeServer;
    this.codeServer = undefined;
    if (codeServer) {
      await codeServer.stop();
      progress(`${this.kind}: code-server stopped (process group ${codeServer.process.pid ?? '?'})`);
    }
  }
}

/** The extension's log (`<logs>/**\/latency-copilot.latency-copilot/Latency Copilot.log`), '' until it exists. */
function readExtensionLog(root: string, depth = 0): string {
  if (depth > 6 || !existsSync(root)) return '';
  const direct = join(root, EXTENSION_LOG_DIR, EXTENSION_LOG_FILE);
  if (existsSync(direct)) return readFileSync(direct, 'utf8');
  for (const entry of readdirSync(root).sort().reverse()) {
    const full = join(root, entry);
    if (!statSync(full).isDirectory()) continue;
    const found = readExtensionLog(full, depth + 1);
    if (found !== '') return found;
  }
  return '';
}

// ---------------------------------------------------------------------------------------------------------------------
// Bursts

interface BurstRecord {
  readonly configuration: string;
  readonly file: string;
  readonly line: number;
  readonly typed: string;
  /** Keydown of the last key to the first ghost-text node after it; null when none came within GHOST_WAIT_MS. */
  readonly k2gMs: number | null;
  readonly ghostText: string;
  /** In this process's clock (performance.now()). */
  readonly firstKeyMs: number;
  readonly lastKeyMs: number;
  readonly ghostMs: number | null;
  readonly escapeMs: number;
  /**
   * From just before the first key was sent to its keydown in the page, in this process's clock: the rig's key delivery,
   * and a check of the clock mapping (near zero; below zero only by the mapping's error).
   */
  readonly keyDeliveryMs: number;
  /** How long the whole burst took, navigation and undo included. */
  readonly durationMs: number;
  readonly firstLineTokens: number;
  readonly undoPresses: number;
  /** Ghost text that came after the last key and went again before the ghost text that stayed (not counted). */
  readonly ghostFlashes: number;
  readonly problem: string | undefined;
}

function keyName(character: string): string {
  return character === ' ' ? 'Space' : character;
}

async function runBurst(
  session: BenchSession,
  configuration: string,
  path: PathKind,
  position: BurstPosition,
  typed: string,
  clock: { offsetMs: number },
  screenshot: string | undefined,
): Promise<BurstRecord> {
  const page = session.page;
  if (!page) throw new Error('no page');
  const burstStartMs = performance.now();
  await session.openFile(position.file.name);
  await session.goToLine(position.line);
  const observers: unknown = await page.evaluate('window.__k2g.attach()');
  await sleep(150);
  await page.evaluate('window.__k2g.reset()');
  const keys = ['End', 'Enter', ...[...typed].map(keyName)];
  const lastKey = typed[typed.length - 1] ?? 'Enter';
  const startMs = performance.now();
  for (const [index, key] of keys.entries()) {
    // Paced against the start, not the previous key, so that slow key deliveries do not add up.
    const waitMs = startMs + index * KEY_INTERVAL_MS - performance.now();
    if (waitMs > 0) await sleep(waitMs);
    await page.keyboard.press(key);
  }
  const giveUpAt = performance.now() + GHOST_WAIT_MS;
  let state = await readRecorder(page);
  let lastKeyPageMs: number | undefined;
  for (;;) {
    lastKeyPageMs = [...state.keys].reverse().find(([key]) => key === lastKey)?.[1];
    if (lastKeyPageMs !== undefined && settledGhost(state.ghosts, lastKeyPageMs).atMs !== undefined) break;
    if (performance.now() > giveUpAt) break;
    await sleep(20);
    state = await readRecorder(page);
  }
  if (lastKeyPageMs !== undefined && settledGhost(state.ghosts, lastKeyPageMs).atMs !== undefined) {
    // What the extension does right after showing it (a speculative request) still belongs to the burst; and ghost
    // text that goes again within this time was a flash, not the answer.
    await sleep(LINGER_MS);
    state = await readRecorder(page);
  }
  const settled =
    lastKeyPageMs === undefined ? { atMs: undefined, flashes: 0 } : settledGhost(state.ghosts, lastKeyPageMs);
  const ghostPageMs = settled.atMs;
  const ghostText = ghostPageMs === undefined ? '' : state.ghostText;
  const firstKeyPageMs = state.keys[0]?.[1];
  let problem: string | undefined;
  if (state.keys.length !== keys.length) problem = `the page saw ${state.keys.length} keydowns for ${keys.length} keys`;
  if (typeof observers !== 'number' || observers === 0) problem = 'no editor to observe';
  if (screenshot !== undefined) await page.screenshot({ path: screenshot }).catch(() => undefined);
  const escapeMs = performance.now();
  await page.keyboard.press('Escape');
  let undoPresses = 0;
  while ((await activeTab(page))?.dirty !== false && undoPresses < 20) {
    await page.keyboard.press('Control+z');
    undoPresses += 1;
    await sleep(40);
  }
  if ((await activeTab(page))?.dirty !== false) {
    problem = `still modified after ${undoPresses} undos; reverting`;
    await page.keyboard.press('F1');
    await page.keyboard.type('File: Revert File', { delay: 5 });
    await sleep(400);
    await page.keyboard.press('Enter');
    await waitUntil('the file to be reverted', async () => (await activeTab(page))?.dirty === false, 10_000);
  }
  await sleep(SETTLE_MS);
  const toHere = (pageMs: number | undefined): number => (pageMs ?? Number.NaN) + clock.offsetMs;
  return {
    configuration,
    file: position.file.name,
    line: position.line,
    typed,
    k2gMs: ghostPageMs !== undefined && lastKeyPageMs !== undefined ? ghostPageMs - lastKeyPageMs : null,
    ghostText: ghostText.replace(/\u00a0/g, ' ').slice(0, 120),
    firstKeyMs: toHere(firstKeyPageMs),
    lastKeyMs: toHere(lastKeyPageMs),
    ghostMs: ghostPageMs === undefined ? null : toHere(ghostPageMs),
    escapeMs,
    keyDeliveryMs: toHere(firstKeyPageMs) - startMs,
    durationMs: performance.now() - burstStartMs,
    firstLineTokens: countTokens(finalFirstLine(path, position, typed)),
    undoPresses,
    ghostFlashes: settled.flashes,
    problem,
  };
}

// ---------------------------------------------------------------------------------------------------------------------
// Figures

function percentile(values: readonly number[], fraction: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = (sorted.length - 1) * fraction;
  const low = Math.floor(rank);
  const high = Math.ceil(rank);
  const lowValue = sorted[low] ?? 0;
  const highValue = sorted[high] ?? lowValue;
  return lowValue + (highValue - lowValue) * (rank - low);
}

function round(value: number | null, digits = 1): number | null {
  if (value === null || !Number.isFinite(value)) return null;
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}

function mean(values: readonly number[]): number | null {
  return values.length === 0 ? null : values.reduce((sum, value) => sum + value, 0) / values.length;
}

interface Spread {
  readonly mean: number | null;
  readonly p50: number | null;
  readonly max: number | null;
}

function spread(values: readonly number[]): Spread {
  return {
    mean: round(mean(values), 2),
    p50: round(percentile(values, 0.5)),
    max: round(values.length === 0 ? null : Math.max(...values)),
  };
}

interface Latency {
  readonly p50: number | null;
  readonly p95: number | null;
  readonly samples: number;
  readonly burstsWithoutGhostText: number;
  readonly valuesMs: readonly (number | null)[];
}

function latencyOf(bursts: readonly BurstRecord[]): Latency {
  const values = bursts.flatMap((burst) => (burst.k2gMs === null ? [] : [burst.k2gMs]));
  return {
    p50: round(percentile(values, 0.5)),
    p95: round(percentile(values, 0.95)),
    samples: values.length,
    burstsWithoutGhostText: bursts.length - values.length,
    valuesMs: bursts.map((burst) => round(burst.k2gMs)),
  };
}

function generationRequests(sim: RunningSimulator): SimRequestLog[] {
  return sim.requests.filter((request) => request.method === 'POST' && request.protocol !== null);
}

interface ConfigurationReport extends Latency {
  readonly id: string;
  readonly path: PathKind;
  readonly ttftMs: number;
  readonly tokensPerSec: number;
  readonly firstLineMs: { readonly p50: number | null };
  readonly overFloorMs: { readonly p50: number | null; readonly p95: number | null };
  readonly requestsPerBurst: Spread;
  readonly abortedPerBurst: Spread;
  readonly abortedAfterEscapePerBurst: Spread;
  readonly decodeTokensPerBurst: Spread;
  readonly lastRequestAfterLastKeyMs: {
    readonly p50: number | null;
    readonly p95: number | null;
    readonly samples: number;
  };
  /** Bursts whose ghost text came with no request after the last key (typed through a suggestion, or from the cache). */
  readonly burstsServedWithoutNewRequest: number;
  readonly connectionsOpened: number;
}

function reportConfiguration(
  configuration: Configuration,
  bursts: readonly BurstRecord[],
  requests: readonly SimRequestLog[],
  floorP50: number | null,
  connectionsOpened: number,
): ConfigurationReport {
  const firstLineMs = (burst: BurstRecord): number => (burst.firstLineTokens / configuration.tokensPerSec) * 1000;
  const over = bursts.flatMap((burst) =>
    burst.k2gMs === null || floorP50 === null
      ? []
      : [burst.k2gMs - floorP50 - configuration.ttftMs - firstLineMs(burst)],
  );
  const perBurst = bursts.map((burst) => {
    // The burst's requests: from its first key to the Escape that ends it (what the undo sets off is not the burst's).
    const own = requests.filter(
      (request) => request.arrivalMs >= burst.firstKeyMs && request.arrivalMs < burst.escapeMs,
    );
    const beforeGhost = own.filter((request) => request.arrivalMs <= (burst.ghostMs ?? burst.escapeMs));
    const last = beforeGhost[beforeGhost.length - 1];
    return {
      count: own.length,
      aborted: own.filter(
        (request) => request.clientDisconnected && (request.clientDisconnectedMs ?? Infinity) < burst.escapeMs,
      ).length,
      abortedAfterEscape: own.filter(
        (request) => request.clientDisconnected && (request.clientDisconnectedMs ?? Infinity) >= burst.escapeMs,
      ).length,
      tokens: own.reduce((sum, request) => sum + request.tokensWritten, 0),
      lastAfterKey: last === undefined || Number.isNaN(burst.lastKeyMs) ? undefined : last.arrivalMs - burst.lastKeyMs,
    };
  });
  const lastAfterKey = perBurst.flatMap((burst) => (burst.lastAfterKey === undefined ? [] : [burst.lastAfterKey]));
  return {
    id: configuration.id,
    path: configuration.path,
    ttftMs: configuration.ttftMs,
    tokensPerSec: configuration.tokensPerSec,
    ...latencyOf(bursts),
    firstLineMs: { p50: round(percentile(bursts.map(firstLineMs), 0.5)) },
    overFloorMs: { p50: round(percentile(over, 0.5)), p95: round(percentile(over, 0.95)) },
    requestsPerBurst: spread(perBurst.map((burst) => burst.count)),
    abortedPerBurst: spread(perBurst.map((burst) => burst.aborted)),
    abortedAfterEscapePerBurst: spread(perBurst.map((burst) => burst.abortedAfterEscape)),
    decodeTokensPerBurst: spread(perBurst.map((burst) => burst.tokens)),
    lastRequestAfterLastKeyMs: {
      p50: round(percentile(lastAfterKey, 0.5)),
      p95: round(percentile(lastAfterKey, 0.95)),
      samples: lastAfterKey.length,
    },
    burstsServedWithoutNewRequest: bursts.filter(
      (burst, index) => burst.k2gMs !== null && (perBurst[index]?.lastAfterKey ?? -1) < 0,
    ).length,
    connectionsOpened,
  };
}

function printTable(
  floor: Latency | undefined,
  configurations: readonly ConfigurationReport[],
  durationS: number,
): void {
  const cell = (value: number | null | undefined, width: number): string =>
    (value === null || value === undefined ? '-' : String(value)).padStart(width);
  const lines = [
    'keystroke -> ghost text in VS Code 1.139.1 (code-server, headless chromium), ms from the last keydown',
    `${'configuration'.padEnd(30)}${'p50'.padStart(8)}${'p95'.padStart(8)}${'n'.padStart(5)}${'none'.padStart(6)}${'over floor p50/p95'.padStart(20)}${'req/burst'.padStart(11)}${'aborted'.padStart(9)}${'tokens/burst'.padStart(14)}${'last req after key'.padStart(20)}`,
  ];
  if (floor) {
    lines.push(
      `${'floor (instant provider)'.padEnd(30)}${cell(floor.p50, 8)}${cell(floor.p95, 8)}${cell(floor.samples, 5)}${cell(floor.burstsWithoutGhostText, 6)}`,
    );
  }
  for (const report of configurations) {
    const name = `${report.path} TTFT ${report.ttftMs} ms, ${report.tokensPerSec} tok/s`;
    lines.push(
      `${name.padEnd(30)}${cell(report.p50, 8)}${cell(report.p95, 8)}${cell(report.samples, 5)}${cell(report.burstsWithoutGhostText, 6)}` +
        `${`${report.overFloorMs.p50 ?? '-'} / ${report.overFloorMs.p95 ?? '-'}`.padStart(20)}${cell(report.requestsPerBurst.mean, 11)}` +
        `${cell(report.abortedPerBurst.mean, 9)}${cell(report.decodeTokensPerBurst.mean, 14)}${cell(report.lastRequestAfterLastKeyMs.p50, 20)}`,
    );
  }
  lines.push(
    `(${durationS.toFixed(0)} s; over floor = ours - floor p50 - TTFT - first line's tokens / tok/s; per-burst figures are means)`,
  );
  process.stdout.write(`${lines.join('\n')}\n`);
}

// ---------------------------------------------------------------------------------------------------------------------

async function main(): Promise<number> {
  const options = parseOptions(process.argv.slice(2));
  if (options.screenshots !== undefined) mkdirSync(options.screenshots, { recursive: true });
  const wants = (part: string): boolean => options.only === undefined || options.only.has(part);
  const deadlineMs = startedAtMs + options.timeoutS * 1000;
  if (!existsSync(join(projectRoot, 'dist', 'extension.js')))
    throw new Error('dist/extension.js is missing: run node test/e2e/build.mjs first (npm run bench:k2g does)');

  progress('setup (test/e2e/setup.sh)');
  const installed = await runSetup();
  // A short path: VS Code puts unix sockets under TMPDIR, and their paths are limited to about 107 characters.
  const runDir = join('/tmp', `lck2g-${randomBytes(3).toString('hex')}`);
  mkdirSync(runDir, { recursive: true });

  const files = loadSources();
  const positions = burstPositions(files);
  const mode: SimMode = { path: 'hit' };
  const sim = await startSimulator({
    ttftMs: 150,
    tokensPerSec: 1_000,
    roleChunk: true,
    sendUsage: true,
    contextWindow: 32_768,
    requestLogLimit: 100_000,
    completionFor: (request) => completionFor(files, mode, request),
  });
  let current: BenchSession | undefined;
  const stopEverything = async (): Promise<void> => {
    await current?.stop();
    current = undefined;
    await sim.close();
    if (options.keep) progress(`kept ${runDir}`);
    else rmSync(runDir, { recursive: true, force: true });
  };
  // The hard stop: if anything hangs past the limit (plus time to shut down), stop every process group and leave.
  const watchdog = setTimeout(
    () => {
      progress(`still running ${options.timeoutS + 60} s after the start; stopping everything`);
      killStartedGroups('SIGKILL');
      if (!options.keep) rmSync(runDir, { recursive: true, force: true });
      process.stdout.write(`${JSON.stringify({ benchmark: 'k2g', error: 'overall time limit' })}\n`);
      process.exit(1);
    },
    (options.timeoutS + 60) * 1000,
  );
  watchdog.unref();
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      progress(`interrupted by ${signal}; stopping what the run started`);
      void stopEverything().finally(() => process.exit(130));
    });
  }

  const notes: string[] = [];
  const all: BurstRecord[] = [];
  let floor: Latency | undefined;
  const reports: ConfigurationReport[] = [];
  const clockErrors: number[] = [];
  let incomplete = false;
  const timeLeft = (): boolean => {
    if (performance.now() < deadlineMs) return true;
    if (!incomplete)
      notes.push(`stopped at the ${options.timeoutS} s time limit: figures are from the bursts done by then`);
    incomplete = true;
    return false;
  };

  /** Warm-up bursts, then measured ones; returns the measured ones. */
  const runBursts = async (
    session: BenchSession,
    label: string,
    path: PathKind,
    slice: readonly BurstPosition[],
    warmup: number,
    clock: { offsetMs: number },
  ): Promise<BurstRecord[]> => {
    const measured: BurstRecord[] = [];
    for (const [index, position] of slice.entries()) {
      if (!timeLeft()) break;
      const typed = path === 'hit' ? position.nextContent.slice(0, HIT_TYPED_CHARS) : MISS_TYPED;
      const shot = options.screenshots === undefined ? undefined : join(options.screenshots, `${label}-${index}.png`);
      const burst = await runBurst(session, label, path, position, typed, clock, shot);
      all.push(burst);
      const tag = index < warmup ? 'warm-up' : `${index - warmup + 1}/${slice.length - warmup}`;
      progress(
        `${label} ${tag} ${position.file.name}:${position.line} ${JSON.stringify(typed)}: ${burst.k2gMs === null ? 'no ghost text' : `${burst.k2gMs.toFixed(1)} ms`}` +
          `${burst.ghostText ? ` "${burst.ghostText.slice(0, 40)}"` : ''}; key delivery ${burst.keyDeliveryMs.toFixed(1)} ms, ${burst.undoPresses} undos,` +
          ` ${(burst.durationMs / 1000).toFixed(1)} s${burst.problem ? ` (${burst.problem})` : ''}`,
      );
      if (burst.problem) notes.push(`${label} ${position.file.name}:${position.line}: ${burst.problem}`);
      if (index >= warmup) measured.push(burst);
    }
    return measured;
  };

  const perRun = options.warmup + options.bursts;
  const sessionFailed = (kind: SessionKind, error: unknown): void => {
    const message = error instanceof Error ? (error.message.split('\n')[0] ?? 'error') : String(error);
    progress(`${kind}: failed: ${message}`);
    notes.push(`${kind} session failed: ${message}`);
    incomplete = true;
  };
  try {
    if (wants('floor') && timeLeft()) {
      const session = new BenchSession('floor', join(runDir, 'f'), installed);
      current = session;
      try {
        const page = await session.start(deadlineMs, undefined);
        const clock = await calibrateClock(page);
        clockErrors.push(clock.errorMs);
        // The floor's provider keeps no state, so it may use the same places as the first configuration.
        floor = latencyOf(
          await runBursts(session, 'floor', 'miss', positions.slice(0, perRun + 2), options.warmup + 2, clock),
        );
      } catch (error) {
        sessionFailed('floor', error);
      } finally {
        await session.stop();
        current = undefined;
      }
    }
    const configurations = CONFIGURATIONS.filter((configuration) => wants(configuration.id));
    if (configurations.length > 0 && timeLeft()) {
      const session = new BenchSession('ours', join(runDir, 'o'), installed);
      current = session;
      try {
        const page = await session.start(deadlineMs, sim.baseUrl);
        let next = 0;
        for (const [index, configuration] of configurations.entries()) {
          if (!timeLeft()) break;
          sim.setDefaults({ ttftMs: configuration.ttftMs, tokensPerSec: configuration.tokensPerSec });
          mode.path = configuration.path;
          const clock = await calibrateClock(page);
          clockErrors.push(clock.errorMs);
          // The first configuration also warms the extension itself (its chunks load after activation).
          const warmup = options.warmup + (index === 0 ? 2 : 0);
          const wanted = warmup + options.bursts;
          if (next + wanted > positions.length) {
            notes.push(
              `${configuration.id}: only ${positions.length - next} unused places left; reusing places from the start (the cache may serve some)`,
            );
            next = 0;
          }
          const slice = positions.slice(next, next + wanted);
          next += wanted;
          const connectionsBefore = sim.connections;
          const requestsBefore = generationRequests(sim).length;
          progress(
            `${configuration.id}: TTFT ${configuration.ttftMs} ms, ${configuration.tokensPerSec} tok/s, ${configuration.path} path`,
          );
          const measured = await runBursts(session, configuration.id, configuration.path, slice, warmup, clock);
          // Streams still running finish (or are cut) before the figures are read.
          await sleep(1_000);
          const requests = generationRequests(sim).slice(requestsBefore);
          reports.push(
            reportConfiguration(
              configuration,
              measured,
              requests,
              floor?.p50 ?? null,
              sim.connections - connectionsBefore,
            ),
          );
        }
      } catch (error) {
        sessionFailed('ours', error);
      } finally {
        await session.stop();
        current = undefined;
      }
    }
  } finally {
    await stopEverything();
    clearTimeout(watchdog);
  }

  const durationS = (performance.now() - startedAtMs) / 1000;
  const deliveries = all.flatMap((burst) => (Number.isFinite(burst.keyDeliveryMs) ? [burst.keyDeliveryMs] : []));
  const problems = all.filter((burst) => burst.problem !== undefined).length;
  if (problems > 0) notes.push(`${problems} bursts had a problem (listed above)`);
  const result = {
    benchmark: 'k2g',
    editor: 'VS Code 1.139.1 (code-server 4.139.1), headless Debian chromium, TypeScript server in syntax-only mode',
    backend: 'simulator over llama.cpp /infill, in the benchmark process; extension settings at their defaults',
    burst: {
      keys: `End, Enter, then ${HIT_TYPED_CHARS} characters (hit: the true next line; miss and floor: ${JSON.stringify(MISS_TYPED)})`,
      keyIntervalMs: KEY_INTERVAL_MS,
      ghostWaitMs: GHOST_WAIT_MS,
      bursts: options.bursts,
      warmup: options.warmup,
    },
    floor: floor ?? null,
    // On the hit path ghost text usually comes from typing through a suggestion already shown: no TTFT and no first
    // line is paid for it, so this figure goes below zero there by design.
    overFloorDefinition:
      'ours - floor p50 - TTFT - firstLineMs (first line of the answer to the final state, cl100k tokens / tok/s)',
    configurations: reports,
    rig: {
      // Near zero (below zero by at most the offset's error) when the page's clock is mapped onto this process's correctly.
      keyDeliveryMs: {
        p50: round(percentile(deliveries, 0.5)),
        p95: round(percentile(deliveries, 0.95)),
        min: round(deliveries.length === 0 ? null : Math.min(...deliveries)),
      },
      clockOffsetErrorMs: round(clockErrors.length === 0 ? null : Math.max(...clockErrors), 2),
      ghostFlashesSkipped: all.reduce((sum, burst) => sum + burst.ghostFlashes, 0),
      secondsPerBurst: round(mean(all.map((burst) => burst.durationMs / 1000)), 2),
    },
    durationS: round(durationS, 0),
    incomplete,
    notes: notes.slice(0, 20),
  };
  if (options.json) process.stdout.write(`${JSON.stringify(result)}\n`);
  else printTable(floor, reports, durationS);
  return 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    const message = error instanceof Error ? error.message : String(error);
    progress(`failed: ${message}`);
    process.stdout.write(`${JSON.stringify({ benchmark: 'k2g', error: message })}\n`);
    process.exit(1);
  },
);
