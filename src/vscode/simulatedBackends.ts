import type { Disposable, Event, GlobPattern } from 'vscode';
import { systemClock, type Clock } from '../core/clock';
import type { BackendRole, ResolvedEndpoint } from '../core/endpoint';
import { isRecord } from '../core/json';
import type { Logger } from '../core/logger';
import {
  DEFAULT_MAX_FILE_BYTES,
  exclusionByContent,
  exclusionByPath,
  isSkippedDirectory,
} from '../core/repo/fileSafety';
import type { RunningSimulator, startSimulator } from '../sim/simulator';

/** The knobs of the simulated backends the person can set (`latencyCopilot.simulator.*`). */
export interface SimulatorSettings {
  /** Burst decode rate, in tokens per second. */
  readonly tokensPerSecond: number;
  /** Burst time to first token, in ms. */
  readonly ttftMs: number;
}

/** Request records the in-process simulators keep: they hold whole request bodies, megabytes for long-context ones. */
const SIM_REQUEST_LOG_LIMIT = 20;

// The simulated long-context backend is deliberately slower and larger than the burst one, like the real pairs it
// stands in for, so that routing and the speed panel show a visible difference.
const LONG_CONTEXT_TOKENS_PER_SEC = 250;
const LONG_CONTEXT_TTFT_MS = 400;
const LONG_CONTEXT_WINDOW = 200_000;
const BURST_WINDOW = 32_768;

type StartSimulator = typeof startSimulator;

/**
 * The texts of the person's code, for the burst simulator's continuations. Called once when the servers start (a source
 * may begin reading then) and on every completion request; it returns the same array while nothing changed.
 */
export type CodeTexts = () => readonly string[];

const NO_TEXTS: readonly string[] = [];

function hasStartSimulator(value: unknown): value is { readonly startSimulator: StartSimulator } {
  return isRecord(value) && typeof value.startSimulator === 'function';
}

/**
 * Loads dist/simulator.js next to the extension bundle. `require` of a path esbuild leaves external: the chunk is
 * parsed only when the simulator is turned on, never at activation.
 */
function loadSimulatorChunk(): StartSimulator {
  const loaded: unknown = require('./simulator.js');
  if (!hasStartSimulator(loaded))
    throw new Error('dist/simulator.js does not export startSimulator; rebuild with `node esbuild.mjs`.');
  return loaded.startSimulator;
}

/** The endpoints the simulated backends expose: labelled "Simulated", marked `simulated: true`. */
export function simulatedEndpoints(
  burst: RunningSimulator,
  longContext: RunningSimulator,
): readonly ResolvedEndpoint[] {
  const endpoint = (
    role: BackendRole,
    server: RunningSimulator,
    label: string,
    model: string,
    contextWindow: number,
  ): ResolvedEndpoint => ({
    id: `${role}#0`,
    role,
    label,
    preset: 'simulator',
    target: { baseUrl: `${server.baseUrl}/v1`, protocol: 'openai-chat', model },
    contextWindow,
    // The simulator serves /v1/completions with `suffix`, as OpenAI-compatible FIM servers do.
    fim: 'openai-suffix',
    simulated: true,
    // The simulator honours `prediction` and reports accepted and rejected tokens as OpenAI does.
    predictedOutputs: true,
    price: { kind: 'free', why: 'simulated' },
  });
  return [
    endpoint('burst', burst, 'Simulated burst (no real model)', 'sim-burst', BURST_WINDOW),
    endpoint(
      'longContext',
      longContext,
      'Simulated long-context (no real model)',
      'sim-long-context',
      LONG_CONTEXT_WINDOW,
    ),
  ];
}

/**
 * The built-in simulated backends: two local simulator servers on 127.0.0.1 (a fast one and a slow long-context one),
 * started on demand in the extension host. They generate filler code, never a real model's answer.
 */
export class SimulatedBackends implements Disposable {
  private servers: Promise<{ burst: RunningSimulator; longContext: RunningSimulator }> | null = null;

  constructor(
    private readonly log: Logger,
    private readonly codeTexts: CodeTexts = () => NO_TEXTS,
    private readonly load: () => StartSimulator = loadSimulatorChunk,
    private readonly clock: Clock = systemClock,
  ) {}

  /** True once `start` was called and `stop` was not. */
  get running(): boolean {
    return this.servers !== null;
  }

  /** Starts the servers (once) and returns their endpoints. */
  async start(settings: SimulatorSettings): Promise<readonly ResolvedEndpoint[]> {
    if (this.servers === null) {
      const start = this.load();
      const startedAtMs = this.clock.now();
      // The first call lets the source start reading the workspace, off the activation path and before the first
      // suggestion is asked for.
      this.codeTexts();
      this.servers = Promise.all([
        // The burst backend serves inline suggestions: it continues the person's own code where the cursor's text is
        // found in it (and falls back to filler code elsewhere), so that suggestions fit the code around the cursor.
        start({
          tokensPerSec: settings.tokensPerSecond,
          ttftMs: settings.ttftMs,
          contextWindow: BURST_WINDOW,
          model: 'sim-burst',
          requestLogLimit: SIM_REQUEST_LOG_LIMIT,
          continuation: 'true',
          continuationFiles: this.codeTexts,
        }),
        start({
          tokensPerSec: LONG_CONTEXT_TOKENS_PER_SEC,
          ttftMs: LONG_CONTEXT_TTFT_MS,
          contextWindow: LONG_CONTEXT_WINDOW,
          model: 'sim-long-context',
          requestLogLimit: SIM_REQUEST_LOG_LIMIT,
        }),
      ]).then(([burst, longContext]) => {
        this.log.info(
          `Simulated backends started in ${(this.clock.now() - startedAtMs).toFixed(0)} ms: burst ${burst.baseUrl} ` +
            `(${settings.tokensPerSecond} tok/s, TTFT ${settings.ttftMs} ms), long-context ${longContext.baseUrl}. They are simulated: no real model.`,
        );
        return { burst, longContext };
      });
      this.servers.catch(() => {
        this.servers = null;
      });
    }
    const { burst, longContext } = await this.servers;
    this.update(settings);
    return simulatedEndpoints(burst, longContext);
  }

  /** Applies changed settings to a running burst server (requests already streaming keep their pace). */
  update(settings: SimulatorSettings): void {
    void this.servers?.then(({ burst }) =>
      burst.setDefaults({ tokensPerSec: settings.tokensPerSecond, ttftMs: settings.ttftMs }),
    );
  }

  /** Stops the servers. */
  async stop(): Promise<void> {
    const servers = this.servers;
    this.servers = null;
    if (servers === null) return;
    try {
      const { burst, longContext } = await servers;
      await Promise.all([burst.close(), longContext.close()]);
      this.log.info('Simulated backends stopped.');
    } catch (error) {
      this.log.warn(`Stopping the simulated backends failed: ${String(error)}`);
    }
  }

  dispose(): void {
    void this.stop();
  }
}

/** A file or document location, as much of `vscode.Uri` as the code texts need. */
export interface CodeUri {
  readonly scheme: string;
  /** The path, always `/`-separated. */
  readonly path: string;
  toString(): string;
}

/** As much of `vscode.TextDocument` as the code texts need. */
export interface CodeDocument {
  readonly uri: CodeUri;
  getText(): string;
}

/**
 * The part of `vscode.workspace` the code texts use, over its URI type `U`: `vscode.workspace` itself fits, and tests
 * pass a fake (this file imports only types from 'vscode').
 */
export interface CodeWorkspace<U extends CodeUri> {
  readonly textDocuments: readonly CodeDocument[];
  readonly onDidSaveTextDocument: Event<CodeDocument>;
  findFiles(include: GlobPattern, exclude: GlobPattern, maxResults: number): Thenable<readonly U[]>;
  readonly fs: {
    stat(uri: U): Thenable<{ readonly size: number }>;
    readFile(uri: U): Thenable<Uint8Array>;
  };
  asRelativePath(uri: U): string;
}

/** How many workspace files the simulated burst backend continues from, at most. */
const MAX_WORKSPACE_FILES = 300;
// Source files only: their text is what a completion continues. Other text (JSON, YAML, Markdown) is where secrets and
// data live, and it rarely helps the demo.
const SOURCE_FILES_GLOB =
  '**/*.{ts,tsx,mts,cts,js,jsx,mjs,cjs,py,go,rs,java,kt,kts,scala,c,h,cc,cpp,cxx,hh,hpp,cs,fs,rb,php,swift,m,mm,lua,sh,bash,zsh,ps1,sql,r,jl,dart,ex,exs,erl,hs,ml,clj,vue,svelte,css,scss,less,html}';
const EXCLUDED_FOLDERS_GLOB = '**/{node_modules,.git}/**';
// The schemes of documents that hold a person's code (not output channels, diff views of git objects, settings).
const CODE_SCHEMES = new Set(['file', 'untitled', 'vscode-remote', 'vscode-vfs', 'vscode-notebook-cell']);
/** The texts are published again at most this often after saves, so the simulator re-indexes at most this often. */
const DEFAULT_REFRESH_INTERVAL_MS = 5_000;
// Files read at once: enough to keep the disk busy, few enough not to crowd the extension host's event loop.
const READ_CONCURRENCY = 8;

/**
 * The texts of the person's code for the simulated burst backend: the open documents plus up to 300 workspace source
 * files, read with the repository index's rules (src/core/repo/fileSafety.ts): nothing under node_modules, .git or
 * other dependency folders, secret files judged by name and never read, nothing over 256 KB, no binary or minified
 * files. Nothing is read until `texts` is first called (when the simulator starts); a save updates its document's text,
 * published at most every 5 s.
 */
export class WorkspaceCodeTexts<U extends CodeUri> implements Disposable {
  /** Text by document URI; open documents first, so that their (unsaved) text wins a tie over a copy on disk. */
  private readonly byUri = new Map<string, string>();
  private snapshot: readonly string[] = NO_TEXTS;
  private started = false;
  private disposed = false;
  private saveListener: Disposable | undefined;
  private refreshTimer: ReturnType<typeof setTimeout> | undefined;
  private lastPublishedMs = Number.NEGATIVE_INFINITY;
  private readonly clock: Clock;

  constructor(
    private readonly workspace: CodeWorkspace<U>,
    private readonly log: Logger,
    private readonly options: {
      readonly refreshIntervalMs?: number;
      readonly maxFiles?: number;
      /** Times the workspace read and paces publishing; `systemClock` unless a test moves time itself. */
      readonly clock?: Clock;
    } = {},
  ) {
    this.clock = options.clock ?? systemClock;
  }

  /** The texts read so far (the first call starts reading, in the background). The same array until one changes. */
  readonly texts = (): readonly string[] => {
    if (!this.started) this.begin();
    return this.snapshot;
  };

  dispose(): void {
    this.disposed = true;
    this.saveListener?.dispose();
    if (this.refreshTimer !== undefined) clearTimeout(this.refreshTimer);
    this.refreshTimer = undefined;
  }

  private begin(): void {
    this.started = true;
    if (this.disposed) return;
    this.saveListener = this.workspace.onDidSaveTextDocument((document) => {
      if (this.take(document)) this.publishSoon();
    });
    for (const document of this.workspace.textDocuments) this.take(document);
    this.publish();
    const startedMs = this.clock.now();
    void this.readWorkspace().then(
      (read) => {
        if (this.disposed) return;
        this.publish();
        this.log.info(
          `Simulated burst backend: continuing from ${this.snapshot.length} files (${read} read from the workspace) ` +
            `in ${(this.clock.now() - startedMs).toFixed(0)} ms.`,
        );
      },
      (error: unknown) =>
        this.log.warn(
          `Simulated burst backend: reading workspace files failed, it continues from open documents only (${String(error)}).`,
        ),
    );
  }

  /** Keeps a document's text when it may be read; returns true when it was kept. */
  private take(document: CodeDocument): boolean {
    if (!CODE_SCHEMES.has(document.uri.scheme)) return false;
    const text = document.getText();
    // UTF-16 length stands in for the byte size: the limit is about not holding huge files, not an exact count.
    if (exclusionByPath(document.uri.path, text.length, DEFAULT_MAX_FILE_BYTES) !== null) return false;
    this.byUri.set(document.uri.toString(), text);
    return true;
  }

  /** Reads workspace source files not open already; returns how many were read. */
  private async readWorkspace(): Promise<number> {
    const uris = await this.workspace.findFiles(
      SOURCE_FILES_GLOB,
      EXCLUDED_FOLDERS_GLOB,
      this.options.maxFiles ?? MAX_WORKSPACE_FILES,
    );
    const pending = uris.filter((uri) => {
      if (this.byUri.has(uri.toString())) return false;
      const folders = this.workspace.asRelativePath(uri).split('/').slice(0, -1);
      return !folders.some(isSkippedDirectory);
    });
    let read = 0;
    const worker = async (): Promise<void> => {
      for (let uri = pending.shift(); uri !== undefined && !this.disposed; uri = pending.shift()) {
        try {
          // The path and size decide before any byte is read: a secret file (or one in .ssh/, .aws/) is never opened.
          const { size } = await this.workspace.fs.stat(uri);
          if (exclusionByPath(this.workspace.asRelativePath(uri), size, DEFAULT_MAX_FILE_BYTES) !== null) continue;
          const bytes = await this.workspace.fs.readFile(uri);
          if (exclusionByContent(bytes) !== null || this.byUri.has(uri.toString())) continue;
          this.byUri.set(uri.toString(), new TextDecoder().decode(bytes));
          read += 1;
        } catch (error) {
          // A file deleted or unreadable since it was listed is simply left out.
          this.log.debug(`Simulated burst backend: skipped ${uri.toString()} (${String(error)})`);
        }
      }
    };
    await Promise.all(Array.from({ length: READ_CONCURRENCY }, worker));
    return read;
  }

  private publish(): void {
    this.snapshot = [...this.byUri.values()];
    this.lastPublishedMs = this.clock.now();
  }

  /** Publishes after a save, at most once per interval: each new array makes the simulator re-index the changed file. */
  private publishSoon(): void {
    if (this.refreshTimer !== undefined || this.disposed) return;
    const intervalMs = this.options.refreshIntervalMs ?? DEFAULT_REFRESH_INTERVAL_MS;
    const waitMs = Math.max(0, this.lastPublishedMs + intervalMs - this.clock.now());
    this.refreshTimer = setTimeout(() => {
      this.refreshTimer = undefined;
      if (!this.disposed) this.publish();
    }, waitMs);
  }
}
