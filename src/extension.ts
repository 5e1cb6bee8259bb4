import { join } from 'node:path';
import * as vscode from 'vscode';
import { systemClock } from './core/clock';
import type { StatsSink } from './core/generation/generationService';
import { describePromptRedaction } from './core/generation/promptRedaction';
import { Redactor } from './core/config/redact';
import { readBooleanSetting, readNumberSetting } from './core/config/settings';
import { ConfigCommands, offerSimulatorIfUnconfigured } from './vscode/configureBackends';
import { EndpointRegistry, showConfigProblem } from './vscode/endpointRegistry';
import { RedactingLog } from './vscode/log';
import { ApiKeyStore } from './vscode/secrets';
import { createSettingsSource, readHttpProxy } from './vscode/settingsSource';
import { SimulatedBackends, WorkspaceCodeTexts } from './vscode/simulatedBackends';
import { createSpeedUi } from './vscode/speedUi';
import { probeEndpoint } from './core/stream/probe';
import { proberEndingRests } from './core/speed/probeBoard';
import { detectContextWindow } from './core/routing/contextWindow';
import { describeRouteDecision, RoutedGenerationService } from './core/generation/routedGenerationService';
import { ContextWindowBook } from './core/routing/contextWindowBook';
import { RateLimitBook } from './core/routing/rateLimitHeadroom';
import { EndpointHealthBook } from './core/routing/endpointHealth';
import { RepoCommands } from './vscode/repoCommands';
import { RepoIndexHost } from './vscode/repoIndexHost';
import { loadTokenCounter } from './chunks/tokenCounterLoader';
import { roughTokenCount } from './core/stream/meter';
import { createLazyTokenCounter } from './core/stream/lazyTokenCounter';
import { createLazyTransport } from './chunks/lazyTransport';
import { RefactorCommands } from './vscode/refactorCommands';
import { createInlineCompletions } from './vscode/inlineCompletions';
import { EditorFileGate } from './vscode/editorFileGate';
import { NextEditUi } from './vscode/nextEditUi';
import { EditHistory } from './core/nextEdit/editHistory';
import { NextEditEngine, readNextEditOptions } from './core/nextEdit/nextEditEngine';
import type { NextEditStatus } from './core/nextEdit/nextEditTypes';
import type { SessionView } from './core/nextEdit/suggestionSession';
import { systemScheduler } from './core/scheduler';
import { GitGlobalExcludesFile } from './vscode/gitGlobalExcludes';
import { protocolFor } from './core/protocols/registry';
import { LocalEngineTransport } from './core/localEngine/localEngineTransport';
import { LocalEngine } from './vscode/localEngine';
import type { ResolvedEndpoint } from './core/endpoint';
import {
  budgetLimits,
  cheapestHealthy,
  DailyBudget,
  describeStageEntered,
  localDate,
  speculationAllowed,
} from './core/cost/dailyBudget';

/** The tokenizer chunk loads this long after activation, so its 0.1-0.2 s of parsing never delays start-up. */
const TOKENIZER_LOAD_DELAY_MS = 500;

/** What `activate()` returns: the seams the end-to-end suite drives (it streams through the extension's stats sink). */
export interface LatencyCopilotApi {
  readonly statsSink: StatsSink;
  /** The next-edit suggestions shown now. */
  readonly nextEditView: () => SessionView;
}

/**
 * Writes the speed history's buffered records (they are batched for a few seconds): `deactivate()` returns it, so VS
 * Code waits for the last write instead of losing the requests of the final seconds of a session.
 */
let flushSpeedHistory: (() => Promise<void>) | undefined;

// The composition root: it builds objects, registers them, and pushes their disposables. Nothing else lives here.
export function activate(context: vscode.ExtensionContext): LatencyCopilotApi {
  const activationStartMs = systemClock.now();
  // Configuration (issue 3): every log line is redacted; keys live only in SecretStorage; endpoints resolve in the
  // background (no network I/O, no workspace file reads on this path).
  const redactor = new Redactor();
  const log = new RedactingLog(redactor);
  const settings = createSettingsSource((message) => log.warn(message));
  const keys = new ApiKeyStore(context.secrets, redactor, log);
  // The simulated burst backend continues the person's own code (open documents and workspace files, read only once
  // the simulator starts).
  const workspaceCode = new WorkspaceCodeTexts<vscode.Uri>(vscode.workspace, log);
  const simulator = new SimulatedBackends(log, workspaceCode.texts);
  // Local engine (issue 8): a GGUF model run by the extension itself in a child process, started on first use through
  // the transport below; its download goes through the network transport.
  const localEngine = new LocalEngine({ context, settings, log, redactor, transport: () => network });
  context.subscriptions.push(localEngine);
  const endpoints = new EndpointRegistry({
    settings,
    keys,
    simulator,
    log,
    reportProblem: showConfigProblem,
    localEngine,
  });
  const configDeps = { registry: endpoints, keys, log, globalState: context.globalState };
  context.subscriptions.push(
    log,
    keys,
    workspaceCode,
    simulator,
    endpoints,
    ...new ConfigCommands(configDeps).register(),
  );
  endpoints.start();
  void offerSimulatorIfUnconfigured(configDeps, readBooleanSetting(settings, 'backends.offerSimulator'));
  // One transport (connection pools) shared by every feature and the probe.
  // undici lives in dist/transport.js (bigger than the whole 400 KB budget); it is parsed just after activation.
  const network = createLazyTransport({ proxyUrl: readHttpProxy() });
  network.preload();
  const transport = new LocalEngineTransport(network, localEngine);
  // cl100k counts for the meter, the router's fit check and refactors; rough until dist/tokenizer.js has loaded, which
  // happens off the activation path. Inline completions size their prompts with the rough count on purpose: exact
  // counting of a 2,000-token prefix costs about 1 ms per keystroke, half the latency budget.
  const tokens = createLazyTokenCounter(() =>
    loadTokenCounter((reason) =>
      log.warn(`cl100k tokenizer unavailable, token counts stay rough estimates (${reason})`),
    ),
  );
  const tokenizerTimer = setTimeout(() => void tokens.load(), TOKENIZER_LOAD_DELAY_MS);
  context.subscriptions.push({ dispose: () => clearTimeout(tokenizerTimer) });
  // Routing (issue 7): each request goes where it fits and is healthy, fails over, hedges inline; windows are detected
  // from the endpoints in the background after each configuration change (never on the activation path).
  const windows = new ContextWindowBook(
    (endpoint, signal) => detectContextWindow(transport, endpoint, { signal }),
    (endpoint, info) =>
      log.info(
        `Context window of ${endpoint.label} (${endpoint.id}): ${info.contextWindow ?? 'unknown'} tokens (${info.source}: ${info.detail})`,
      ),
  );
  // The router's health book, shared with the speed panel (which shows breaker state and rolling figures).
  const health = new EndpointHealthBook(systemClock);
  // The next-edit engine is built after the generation service, which needs the stats hub made here: the status bar
  // reads its status through this late-bound function (null until then: no next-edit line).
  let nextEditStatus: () => NextEditStatus | null = () => null;
  // Speed UI (issue 6): the stats hub is the StatsSink of every generation service; history, status bar, panel.
  const speedUi = createSpeedUi({
    nextEditStatus: () => nextEditStatus(),
    context,
    log,
    clock: systemClock,
    endpoints: () => [...endpoints.endpoints('burst'), ...endpoints.endpoints('longContext')],
    completionsEnabled: () => readBooleanSetting(settings, 'inline.enabled'),
    // A probe that succeeds ends the endpoint's rest in the router's health book ("Probe Backends" means "try it now").
    prober: proberEndingRests(
      (endpoint, signal) =>
        probeEndpoint(endpoint.target, { transport, clock: systemClock, countTokens: tokens.count, signal }),
      health,
    ),
    contextWindowOf: (endpoint) => windows.infoOf(endpoint),
    healthOf: (endpoint) => health.snapshot(endpoint.id),
    settings,
  });
  context.subscriptions.push(
    speedUi,
    endpoints.onDidChange(() => speedUi.refresh()),
  );
  flushSpeedHistory = () => speedUi.flush();
  // The daily budget (cost.dailyBudgetUsd): read where money is about to be spent; each stage entered is told once a day.
  const budget = new DailyBudget({
    dailyBudgetUsd: () => readNumberSetting(settings, 'cost.dailyBudgetUsd'),
    // Requests of unknown price add nothing: they cannot be summed (the speed panel counts them apart).
    spentTodayUsd: () => speedUi.hub.todaySpend()?.usd ?? 0,
    today: () => localDate(Date.now()),
    onChange: (change) => {
      log.info(change.logLine);
      if (change.announce)
        void vscode.window.showInformationMessage(
          describeStageEntered(change.to, change.spentTodayUsd, change.dailyBudgetUsd),
        );
    },
  });
  // Read after each finished request too, so a stage crossed by one is told at once, not at the next keystroke.
  context.subscriptions.push(speedUi.hub.onDidChange(() => budget.stage()));
  // At the last stage inline and next-edit requests go to the cheapest backend the router would not pass over.
  const cheapestOf = (candidates: () => readonly ResolvedEndpoint[]) => () =>
    cheapestHealthy(
      candidates(),
      (endpoint) => endpoint.price,
      (endpointId) => health.restRemainingMs(endpointId) > 0,
    );
  const rateLimits = new RateLimitBook();
  const generation = new RoutedGenerationService({
    transport,
    clock: systemClock,
    endpoints: (role) => endpoints.endpoints(role),
    sink: speedUi.hub,
    countTokens: tokens.count,
    health,
    timeouts: () => ({
      headersTimeoutMs: readNumberSetting(settings, 'network.headersTimeoutMs'),
      idleTimeoutMs: readNumberSetting(settings, 'network.idleTimeoutMs'),
    }),
    contextWindowOf: (endpoint) => windows.windowOf(endpoint),
    // A hedge is a second request for the same suggestion: the first spend the daily budget holds back.
    hedging: () => readBooleanSetting(settings, 'routing.hedgeInline') && speculationAllowed(budget.stage()),
    onResponseHeaders: (endpoint, headers) => rateLimits.record(endpoint.id, headers),
    knownSecrets: () => redactor.knownSecrets(),
    onPromptRedacted: (endpoint, task, counts) => log.warn(describePromptRedaction(counts, task, endpoint.label)),
    onDecision: (decision) =>
      (decision.task === 'inline' && decision.reason === 'fits' ? log.debug : log.info).call(
        log,
        describeRouteDecision(decision),
      ),
  });
  context.subscriptions.push(
    { dispose: () => windows.dispose() },
    endpoints.onDidChange(() => {
      const all = [...endpoints.endpoints('burst'), ...endpoints.endpoints('longContext')];
      // A new server in an old place (burst#0) starts with a clean bill of health, in the panel too.
      health.reconcile(all);
      void windows.refresh(all).then(() => speedUi.refresh());
    }),
  );
  // git's global excludes file: one of the rules of the file gate that repository tasks and inline completions share.
  const globalExcludes = new GitGlobalExcludesFile();
  context.subscriptions.push(globalExcludes);
  // Repository tasks (issue 7): the index is built on first use and kept current by a file watcher.
  const repoIndex = new RepoIndexHost({
    log,
    clock: systemClock,
    globalExcludes,
    maxFileBytes: () => readNumberSetting(settings, 'repo.maxFileSizeKb') * 1024,
    readerScript: context.asAbsolutePath(join('dist', 'repoFileReader.js')),
  });
  const repoTokenCounter = () =>
    loadTokenCounter((reason) =>
      log.warn(`Repository context: cl100k tokenizer unavailable, using the rough estimate (${reason})`),
    );
  context.subscriptions.push(
    repoIndex,
    new RepoCommands({
      service: generation,
      host: repoIndex,
      log,
      clock: systemClock,
      countTokens: repoTokenCounter,
      maxContextTokens: () => readNumberSetting(settings, 'repo.maxContextTokens'),
      budgetQuestion: (promptTokens, endpoint) =>
        budget.questionBeforeSending(promptTokens, endpoint?.price ?? { kind: 'unknown' }),
    }),
  );
  // Refactors (issue 5): streamed into the editor through the generation service.
  context.subscriptions.push(
    { dispose: () => void transport.close() },
    new RefactorCommands({ service: generation, clock: systemClock, log, countTokens: tokens.count }),
  );
  // The one gate for what may reach a model from an editor, shared by inline completions and next-edit suggestions.
  const fileGate = new EditorFileGate(globalExcludes);
  context.subscriptions.push(fileGate);
  // Next-edit suggestions: the edit history of the documents the gate allows, the engine (backends within the latency
  // budget), and the editor side (decorations, Tab and Escape, ghost text for insertions at the cursor).
  const nextEditEngine = new NextEditEngine({
    service: generation,
    clock: systemClock,
    scheduler: systemScheduler,
    countTokens: tokens.count,
    options: () => readNextEditOptions(settings),
    endpoints: () => [...endpoints.endpoints('burst'), ...endpoints.endpoints('longContext')],
    speedOf: (endpointId) => {
      const measured = health.snapshot(endpointId);
      return { ttftP95Ms: measured.ttftP95Ms, decodeTokensPerSec: measured.decodeTokensPerSec };
    },
    log: (line) => log.info(line),
    budget: () =>
      budgetLimits(
        budget.stage(),
        cheapestOf(() => [...endpoints.endpoints('burst'), ...endpoints.endpoints('longContext')]),
      ),
  });
  nextEditStatus = () => nextEditEngine.status();
  const nextEditUi = new NextEditUi({
    engine: nextEditEngine,
    history: new EditHistory(),
    fileGate,
    settings,
    clock: systemClock,
    reporter: speedUi.hub,
    log,
    extensionUri: context.extensionUri,
    onDidToggle: () => speedUi.refresh(),
  });
  context.subscriptions.push(nextEditUi);
  // Inline completions (issue 4): the provider for every language, its toggle, cache hits recorded in the stats hub.
  context.subscriptions.push(
    createInlineCompletions({
      service: generation,
      clock: systemClock,
      countTokens: roughTokenCount,
      settings,
      log,
      globalState: context.globalState,
      fileGate,
      sink: speedUi.hub,
      onDidToggle: () => speedUi.refresh(),
      hasInlineBackend: () => endpoints.endpoints('burst').some((endpoint) => endpoint.fim !== 'none'),
      rateLimitLow: (endpointId) => rateLimits.isLow(endpointId),
      budget: () =>
        budgetLimits(
          budget.stage(),
          cheapestOf(() => endpoints.endpoints('burst').filter((endpoint) => endpoint.fim !== 'none')),
        ),
      onSuggestionShown: (sample) => speedUi.hub.suggestionShown(sample),
      onSuggestionAccepted: (endpointId, endpointLabel) => speedUi.hub.suggestionAccepted(endpointId, endpointLabel),
      nextEditInsertion: (documentKey, offset) => nextEditUi.insertionAt(documentKey, offset),
      warm: () =>
        endpoints
          .endpoints('burst')
          .forEach((endpoint) => void transport.warm(protocolFor(endpoint.target.protocol).warmUrl(endpoint.target))),
    }),
  );
  log.info(`Activated in ${(systemClock.now() - activationStartMs).toFixed(1)} ms`);
  return { statsSink: speedUi.hub, nextEditView: () => nextEditUi.view() };
}

export function deactivate(): Promise<void> | undefined {
  // Disposables registered on the context are released by VS Code; the history's last write is awaited here.
  return flushSpeedHistory?.();
}
