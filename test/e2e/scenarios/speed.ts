// The speed UI as a person sees it: the status bar item shows the live decode rate of a stream from the simulator at a
// known rate (within 5%), and the model-speed panel opens from a click on it and draws its snapshot (dark, light and
// high-contrast screenshots). The stream runs through the same pieces the extension uses (transport, protocol decoder,
// meter, the router's RoutedGenerationService) and reports to the extension's own stats sink, which activate() returns.
import { strict as assert } from 'node:assert';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { RoutedGenerationService } from '../../../src/core/generation/routedGenerationService';
import { systemClock } from '../../../src/core/clock';
import type { EndpointPrice } from '../../../src/core/cost/costTypes';
import type { ResolvedEndpoint } from '../../../src/core/endpoint';
import type { GenerationRun, StatsSink } from '../../../src/core/generation/generationService';
import type { RequestTask } from '../../../src/core/requestStats';
import type { NextEditReporter } from '../../../src/core/nextEdit/nextEditTypes';
import { countTokens } from '../../../src/core/stream/tokenCount';
import { createTransport } from '../../../src/core/stream/transport';
import { corpusCode } from '../../../src/sim/defaultCompletion';
import { startSimulator } from '../../../src/sim/simulator';
import type { RunningSimulator } from '../../../src/sim/simulator';
import type { Scenario, ScenarioContext } from '../suite/scenario';
import { exportSpeedHistoryThroughDialog } from './dialogs';
import { resolvedEndpoint } from '../../unit/builders/endpoints';
import type { EndpointOverrides } from '../../unit/builders/endpoints';

/** `SPEED_STATUS_ITEM_ID` in src/vscode/statusBar.ts (not imported: that module needs the extension's own vscode API). */
const STATUS_ITEM_ID = 'latencyCopilot.speed';
const STATUS_ITEM_SELECTOR = `[id="latency-copilot.latency-copilot.${STATUS_ITEM_ID}"]`;
/** The simulator's decode rate, in cl100k tokens per second. */
const SIM_RATE = 1_000;

function isStatsSink(value: unknown): value is StatsSink {
  return (
    typeof value === 'object' &&
    value !== null &&
    'requestStarted' in value &&
    typeof value.requestStarted === 'function' &&
    'requestFinished' in value &&
    typeof value.requestFinished === 'function' &&
    'cacheServed' in value &&
    typeof value.cacheServed === 'function'
  );
}

/** True when the extension's stats sink also takes next-edit reports (the stats hub does). */
function isNextEditReporter(value: unknown): value is NextEditReporter {
  return (
    typeof value === 'object' &&
    value !== null &&
    'nextEditShown' in value &&
    typeof value.nextEditShown === 'function' &&
    'nextEditApplied' in value &&
    typeof value.nextEditApplied === 'function' &&
    'nextEditDismissed' in value &&
    typeof value.nextEditDismissed === 'function'
  );
}

async function extensionSink(ctx: ScenarioContext): Promise<StatsSink> {
  const api = await ctx.activateExtension();
  const sink = typeof api === 'object' && api !== null && 'statsSink' in api ? api.statsSink : undefined;
  assert.ok(isStatsSink(sink), 'activate() should return { statsSink }');
  return sink;
}

interface SimulatedSetup {
  readonly sim: RunningSimulator;
  readonly service: RoutedGenerationService;
  readonly burst: ResolvedEndpoint;
}

/**
 * A reference price for the priced backend of the panel's pictures (the simulated backends are free): about what a fast
 * hosted 8B-class model charges per million tokens. Not a real provider's price.
 */
const REFERENCE_PRICE: EndpointPrice = {
  kind: 'priced',
  prices: { inputPerMillion: 0.6, cachedInputPerMillion: 0.06, outputPerMillion: 2.4 },
  source: 'setting',
  readOn: null,
};

async function simulatedSetup(
  ctx: ScenarioContext,
  sink: StatsSink,
  options: { readonly promptCache?: boolean; readonly endpoint?: EndpointOverrides } = {},
): Promise<SimulatedSetup> {
  const sim = await startSimulator({
    tokensPerSec: SIM_RATE,
    ttftMs: 120,
    chatStyle: 'plain',
    promptCache: options.promptCache ?? false,
    completionFor: (request) => corpusCode('typescript', request.prefix.length, 60_000),
  });
  ctx.onCleanup(() => sim.close());
  const transport = createTransport();
  ctx.onCleanup(() => transport.close());
  const burst = resolvedEndpoint({
    label: 'Simulated e2e burst',
    contextWindow: 32_768,
    simulated: true,
    // The simulator honours predicted outputs, so runs that carry a prediction report accepted and rejected tokens.
    predictedOutputs: true,
    price: { kind: 'free', why: 'simulated' },
    ...options.endpoint,
    target: { baseUrl: `${sim.baseUrl}/v1`, model: 'sim-coder', ...options.endpoint?.target },
  });
  const service = new RoutedGenerationService({
    knownSecrets: () => [],
    transport,
    clock: systemClock,
    endpoints: (role) => (role === 'burst' ? [burst] : []),
    sink,
    countTokens,
  });
  return { sim, service, burst };
}

function startRun(
  setup: SimulatedSetup,
  maxTokens: number,
  signal: AbortSignal,
  prompt: string,
  options: { readonly task?: RequestTask; readonly prediction?: string } = {},
): { run: GenerationRun; done: Promise<number> } {
  const prediction = options.prediction;
  const run = setup.service.start({
    task: options.task ?? 'refactor',
    signal,
    promptTokens: 20,
    maxOutputTokens: maxTokens,
    build: (endpoint) => ({
      target: endpoint.target,
      request: {
        messages: [{ role: 'user', content: prompt }],
        maxTokens,
        ...(prediction !== undefined && endpoint.predictedOutputs ? { prediction } : {}),
      },
    }),
  });
  const done = (async () => {
    let events = 0;
    try {
      for await (const event of run.events) if (event.kind === 'text') events++;
    } catch {
      // A cancelled stream ends with an `aborted` BackendError; the record says so.
    }
    return events;
  })();
  return { run, done };
}

function rateIn(text: string): number | null {
  const match = /([\d,]+(?:\.\d+)?)\s*tok\/s/.exec(text);
  return match?.[1] === undefined ? null : Number(match[1].replace(/,/g, ''));
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** While a stream from the simulator runs at 1,000 tok/s, the status bar item shows that rate within 5%. */
export const speedStatusBarScenario: Scenario = {
  name: 'speed: status bar shows the live rate while streaming',
  timeoutMs: 60_000,
  async run(ctx) {
    const sink = await extensionSink(ctx);
    const probe = await ctx.statusBarItem(STATUS_ITEM_ID);
    if (!probe.available) ctx.skip(probe.reason);
    const item = await ctx.waitFor('the speed item in the status bar', async () => {
      const answer = await ctx.statusBarItem(STATUS_ITEM_ID);
      return answer.available && answer.value?.visible ? answer.value : undefined;
    });
    ctx.note(`idle status bar item: "${item.text}" (${item.ariaLabel ?? 'no label'})`);

    const setup = await simulatedSetup(ctx, sink);
    const controller = new AbortController();
    ctx.onCleanup(() => controller.abort());
    // About 8 s of output at 1,000 tok/s; the scenario samples the item during seconds 2 to 4 and then cancels.
    const { run, done } = startRun(setup, 8_000, controller.signal, 'Write a long TypeScript module of utilities.');
    await ctx.waitFor('the stream to decode for 2 s', () => (run.outputTokens() >= 2 * SIM_RATE ? true : undefined), {
      timeoutMs: 20_000,
      intervalMs: 100,
    });
    const samples: { shown: number; meter: number | null; text: string }[] = [];
    for (let i = 0; i < 6; i++) {
      const answer = await ctx.statusBarItem(STATUS_ITEM_ID);
      const text = answer.available ? (answer.value?.text ?? '') : '';
      const shown = rateIn(text);
      if (shown !== null) samples.push({ shown, meter: run.liveTokensPerSec(), text });
      if (i === 2) {
        const shot = await ctx.screenshot('statusbar-streaming');
        if (shot.available) ctx.note(`screenshot ${shot.value}`);
      }
      await sleep(300);
    }
    const streamingAria = await ctx.statusBarItem(STATUS_ITEM_ID);
    controller.abort();
    await done;
    await run.finished;

    assert.ok(
      samples.length >= 3,
      `the item should show a tok/s figure while streaming; saw ${JSON.stringify(samples)}`,
    );
    const sorted = samples.map((sample) => sample.shown).sort((a, b) => a - b);
    const median = sorted[Math.floor(sorted.length / 2)] ?? 0;
    ctx.note(
      `status bar while streaming: ${samples.map((s) => `"${s.text}"`).join(', ')}; median ${median} tok/s vs ${SIM_RATE} simulated`,
    );
    if (streamingAria.available) ctx.note(`aria label while streaming: ${streamingAria.value?.ariaLabel ?? ''}`);
    assert.ok(
      Math.abs(median - SIM_RATE) <= SIM_RATE * 0.05,
      `the status bar should show ${SIM_RATE} tok/s within 5%, showed a median of ${median} (${JSON.stringify(samples)})`,
    );

    // After the stream, the item goes back to the idle figure for the endpoint that served.
    const idle = await ctx.waitFor('the idle figure after the stream', async () => {
      const answer = await ctx.statusBarItem(STATUS_ITEM_ID);
      const text = answer.available ? (answer.value?.text ?? '') : '';
      return text.includes('Simulated') && rateIn(text) !== null && !text.includes('…') ? text : undefined;
    });
    ctx.note(`idle after the stream: "${idle}"`);
  },
};

/**
 * A click on the status bar item opens the model-speed panel, which draws the snapshot (next-edit and predicted-output
 * figures included); dark, light and HC pictures.
 */
export const speedPanelScenario: Scenario = {
  name: 'speed: the panel opens from the status bar and renders its snapshot',
  timeoutMs: 90_000,
  async run(ctx) {
    const sink = await extensionSink(ctx);
    const probe = await ctx.uiQuery(STATUS_ITEM_SELECTOR);
    if (!probe.available) ctx.skip(probe.reason);

    // A few finished requests, so the panel has figures, charts and a log to draw.
    const setup = await simulatedSetup(ctx, sink);
    const controller = new AbortController();
    ctx.onCleanup(() => controller.abort());
    for (let i = 0; i < 4; i++) {
      const { run, done } = startRun(setup, 150 + i * 60, controller.signal, `Refactor number ${i}`);
      await done;
      const record = await run.finished;
      assert.equal(record?.outcome, 'ok', `request ${i} should finish ok`);
    }
    // Next-edit requests carrying a prediction: the simulator's answer for a prompt is known (corpus code from the
    // prompt's length), so a prediction of most of it is accepted and its tail, past the token cap, is rejected. The
    // shown, applied and dismissed counts are reported as the next-edit feature reports them (its own scenario drives
    // the editor); here they only feed the panel's figures.
    const reporter = isNextEditReporter(sink) ? sink : null;
    for (let i = 0; i < 3; i++) {
      const prompt = `Next edit number ${i}`;
      const expected = corpusCode('typescript', prompt.length, 60_000);
      const { run, done } = startRun(setup, 120, controller.signal, prompt, {
        task: 'next-edit',
        prediction: expected.slice(0, 420 + i * 200),
      });
      await done;
      const record = await run.finished;
      assert.equal(record?.outcome, 'ok', `next-edit request ${i} should finish ok`);
      assert.ok((record?.stats.acceptedPredictionTokens ?? 0) > 0, `next-edit request ${i} should use its prediction`);
      const ttft = record?.stats.ttftMs ?? 120;
      reporter?.nextEditShown({
        endpointId: setup.burst.id,
        endpointLabel: setup.burst.label,
        latencyMs: 50 + ttft + 20 * i,
        wholeRegionMs: i === 0 ? null : (record?.stats.totalMs ?? ttft) + 50,
      });
      if (i < 2) reporter?.nextEditApplied(setup.burst.id);
      else reporter?.nextEditDismissed(setup.burst.id);
    }

    // A priced backend beside the free simulated one, so the Cost section has dollars to draw: its simulator keeps a
    // prompt cache, so a second repository question with the same long prefix is served mostly from it (the
    // prompt-cache table), and an inline request typed past shows spend on something never shown.
    const paid = await simulatedSetup(ctx, sink, {
      promptCache: true,
      endpoint: {
        id: 'burst#9',
        label: 'Priced e2e backend (reference price)',
        target: { model: 'sim-priced' },
        price: REFERENCE_PRICE,
      },
    });
    const repoPrefix = corpusCode('typescript', 3, 24_000);
    for (const question of ['Where is the cache evicted?', 'Which function parses the settings?']) {
      const { run, done } = startRun(paid, 200, controller.signal, `${repoPrefix}\n\nQuestion: ${question}`, {
        task: 'repo',
      });
      await done;
      const record = await run.finished;
      assert.equal(record?.outcome, 'ok', `the repository question "${question}" should finish ok`);
      ctx.note(
        `repo question: ${record?.stats.cachedPromptTokens ?? 'no'} of ${record?.stats.promptTokens} prompt tokens cached`,
      );
    }
    const inlineOk = startRun(paid, 60, controller.signal, 'function add(a: number, b: number) {', { task: 'inline' });
    await inlineOk.done;
    const typedPast = new AbortController();
    ctx.onCleanup(() => typedPast.abort());
    const cancelled = startRun(paid, 2_000, typedPast.signal, 'const total = items.reduce(', { task: 'inline' });
    await sleep(300);
    typedPast.abort();
    await cancelled.done;
    assert.equal((await cancelled.run.finished)?.outcome, 'cancelled', 'the inline request typed past is cancelled');

    const clicked = await ctx.uiClick(STATUS_ITEM_SELECTOR);
    assert.ok(clicked.available, 'the status bar item should be clickable');
    const summary = await ctx.waitFor(
      'the panel to draw its snapshot',
      async () => {
        const answer = await ctx.uiQuery('#summary', { inWebviews: true });
        if (!answer.available) return undefined;
        const text = answer.value.find((element) => /\d+ requests/.test(element.text))?.text;
        return text;
      },
      { timeoutMs: 20_000, intervalMs: 200 },
    );
    ctx.note(`panel summary: ${summary}`);
    const requests = Number(/([\d,]+) requests/.exec(summary)?.[1]?.replace(/,/g, '') ?? 'NaN');
    assert.ok(requests >= 4, `the panel should count at least the 4 requests just made, says "${summary}"`);

    const rows = await ctx.uiQuery('#backends tbody th', { inWebviews: true });
    assert.ok(rows.available);
    assert.ok(
      rows.value.some((row) => row.text.includes(setup.burst.label)),
      `the backends table should list "${setup.burst.label}": ${rows.value.map((row) => row.text).join(' | ')}`,
    );
    const predictionRows = await ctx.waitFor(
      'the predicted-output figures',
      async () => {
        const answer = await ctx.uiQuery('#predictions tbody tr', { inWebviews: true });
        return answer.available && answer.value.length > 0 ? answer.value.map((row) => row.text) : undefined;
      },
      { timeoutMs: 10_000, intervalMs: 200 },
    );
    ctx.note(`predicted outputs: ${predictionRows.join(' | ')}`);
    assert.ok(predictionRows.some((row) => row.includes(setup.burst.label)));
    if (reporter !== null) {
      const nextEditRows = await ctx.uiQuery('#next-edit tbody tr', { inWebviews: true });
      assert.ok(nextEditRows.available && nextEditRows.value.length > 0, 'the next-edit table should show');
      ctx.note(`next edit: ${nextEditRows.value.map((row) => row.text).join(' | ')}`);
    } else ctx.note('the stats sink takes no next-edit reports: the next-edit table shows requests only');
    const costRows = await ctx.waitFor(
      'the cost table',
      async () => {
        const answer = await ctx.uiQuery('#cost tbody tr', { inWebviews: true });
        return answer.available && answer.value.length >= 2 ? answer.value.map((row) => row.text) : undefined;
      },
      { timeoutMs: 10_000, intervalMs: 200 },
    );
    ctx.note(`cost: ${costRows.join(' | ')}`);
    const paidRow = costRows.find((row) => row.includes(paid.burst.label)) ?? '';
    assert.ok(/\$\d/.test(paidRow), `the priced backend's row should show dollars: "${paidRow}"`);
    assert.ok(
      costRows.some((row) => row.includes(setup.burst.label) && row.includes('free')),
      'the simulated backend should show as free',
    );
    const today = await ctx.uiQuery('#cost-today', { inWebviews: true });
    assert.ok(today.available && today.value.some((element) => /Today: \$/.test(element.text)), 'today’s spend');
    ctx.note(`cost line: ${today.value.map((element) => element.text).join(' | ')}`);
    const cacheRows = await ctx.uiQuery('#prompt-cache tbody tr', { inWebviews: true });
    assert.ok(cacheRows.available && cacheRows.value.some((row) => row.text.includes(paid.burst.label)), 'cache table');
    ctx.note(`prompt cache: ${cacheRows.value.map((row) => row.text).join(' | ')}`);
    const tooltip = await ctx.uiQuery(STATUS_ITEM_SELECTOR);
    if (tooltip.available) ctx.note(`status item: ${tooltip.value.map((element) => element.text).join(' | ')}`);
    const logRows = await ctx.uiQuery('#log tbody tr', { inWebviews: true });
    assert.ok(logRows.available && logRows.value.length >= 4, 'the request log should show the requests');
    const charts = await ctx.uiQuery('svg.chart circle', { inWebviews: true });
    assert.ok(charts.available && charts.value.length >= 4, 'the charts should draw a point per request');
    const buttons = await ctx.uiQuery('.actions button', { inWebviews: true });
    assert.ok(buttons.available);
    assert.deepEqual(
      buttons.value.map((button) => button.text),
      ['Probe backends', 'Export JSON', 'Export CSV', 'Reset'],
      'the panel should offer its labelled controls',
    );

    // Bigger panel for the pictures; put back afterwards.
    await vscode.commands.executeCommand('workbench.action.toggleMaximizedPanel');
    ctx.onCleanup(() => vscode.commands.executeCommand('workbench.action.toggleMaximizedPanel'));
    await sleep(800);
    const themes: readonly [string, string][] = [
      ['speed-panel-dark', 'Default Dark Modern'],
      ['speed-panel-light', 'Default Light Modern'],
      ['speed-panel-hc', 'Default High Contrast'],
    ];
    for (const [name, theme] of themes) {
      await ctx.updateSettings({ 'workbench.colorTheme': theme });
      await sleep(1_200);
      const shot = await ctx.screenshot(name);
      if (shot.available) ctx.note(`screenshot ${shot.value} (${theme})`);
    }

    // Export: a format and a location given to the command only pre-fill the save dialog, which always shows.
    const csvPath = join(ctx.workspaceFolder, 'speed-history.csv');
    await exportSpeedHistoryThroughDialog(ctx, 'csv', vscode.Uri.file(csvPath));
    const csvLines = (await readFile(csvPath, 'utf8')).trimEnd().split('\r\n');
    assert.ok(csvLines[0]?.startsWith('started_at,task,endpoint_id,endpoint_label,route_reason,outcome'), csvLines[0]);
    assert.ok(csvLines.length - 1 >= requests, `the CSV should hold every request: ${csvLines.length - 1} rows`);
    assert.ok(csvLines.some((line) => line.includes(setup.burst.label)));
    const jsonPath = join(ctx.workspaceFolder, 'speed-history.json');
    await exportSpeedHistoryThroughDialog(ctx, 'json', vscode.Uri.file(jsonPath));
    const exported: unknown = JSON.parse(await readFile(jsonPath, 'utf8'));
    const count = typeof exported === 'object' && exported !== null && 'count' in exported ? exported.count : undefined;
    assert.equal(count, csvLines.length - 1, 'the JSON export should hold the same requests as the CSV');
    ctx.note(`exported ${csvLines.length - 1} requests as CSV and JSON`);
  },
};

/** "Probe Backends" against the extension's own simulated backends: every configured backend gets a row, side by side. */
export const speedProbeScenario: Scenario = {
  name: 'speed: Probe Backends compares every configured backend side by side',
  timeoutMs: 90_000,
  async run(ctx) {
    await ctx.activateExtension();
    const probe = await ctx.uiQuery(STATUS_ITEM_SELECTOR);
    if (!probe.available) ctx.skip(probe.reason);
    await ctx.updateSettings({ 'latencyCopilot.backends.useSimulator': true });
    await vscode.commands.executeCommand('latencyCopilot.showModelSpeed');
    // The configured (simulated) endpoints appear in the backends table once the registry has resolved them.
    await ctx.waitFor(
      'the simulated backends in the panel',
      async () => {
        const rows = await ctx.uiQuery('#backends tbody th', { inWebviews: true });
        return (
          rows.available &&
          rows.value.filter((row) => row.text.includes('Simulated') && !row.text.includes('history only')).length >= 2
        );
      },
      { timeoutMs: 30_000, intervalMs: 250 },
    );
    await vscode.commands.executeCommand('latencyCopilot.probeBackends');
    let seen: string[] = [];
    const results = await ctx
      .waitFor(
        'probe results for both backends',
        async () => {
          const rows = await ctx.uiQuery('#probe-results tbody tr', { inWebviews: true });
          const statuses = await ctx.uiQuery('#probe-results tbody td:nth-child(2)', { inWebviews: true });
          if (!rows.available || !statuses.available) return undefined;
          seen = rows.value.map((row) => row.text);
          return statuses.value.length >= 2 && statuses.value.every((cell) => cell.text.trim() === 'ok')
            ? seen
            : undefined;
        },
        { timeoutMs: 30_000, intervalMs: 250 },
      )
      .catch(async (error: unknown) => {
        const log = (await ctx.readLog()).split('\n').filter((line) => line.includes('Probe'));
        throw new Error(
          `${String(error)}; probe rows: ${seen.join(' | ') || 'none'}; log: ${log.join(' / ') || 'nothing'}`,
        );
      });
    ctx.note(`probe rows: ${results.join(' | ')}`);
    assert.ok(
      results.some((row) => row.includes('Simulated burst')) &&
        results.some((row) => row.includes('Simulated long-context')),
    );
    // The routing section: each configured backend's context window as the endpoint reported it (the simulator answers
    // `/v1/models` with `context_length`), and the router's health after the probe's successful requests.
    const routing = await ctx.waitFor(
      'context windows detected from the endpoints, and health, in the routing section',
      async () => {
        const rows = await ctx.uiQuery('#routing tbody tr', { inWebviews: true });
        if (!rows.available) return undefined;
        const texts = rows.value.map((row) => row.text);
        return texts.length >= 2 && texts.every((text) => text.includes('the endpoint said so')) ? texts : undefined;
      },
      { timeoutMs: 20_000, intervalMs: 250 },
    );
    ctx.note(`routing rows: ${routing.join(' | ')}`);
    assert.ok(
      routing.some((row) => row.includes('Simulated burst') && /32,768/.test(row)),
      `the burst window: ${routing.join(' | ')}`,
    );
    assert.ok(
      routing.some((row) => row.includes('Simulated long-context') && /200,000/.test(row)),
      `the long-context window: ${routing.join(' | ')}`,
    );
    // The probe does not go through the router, so its health book has no samples yet: nothing is resting.
    assert.ok(
      routing.every((row) => /healthy|no routed requests yet/.test(row) && !row.includes('resting')),
      `both backends available: ${routing.join(' | ')}`,
    );
    await vscode.commands.executeCommand('workbench.action.toggleMaximizedPanel');
    ctx.onCleanup(() => vscode.commands.executeCommand('workbench.action.toggleMaximizedPanel'));
    await sleep(800);
    const shot = await ctx.screenshot('speed-panel-probe');
    if (shot.available) ctx.note(`screenshot ${shot.value}`);
    await ctx.waitForLog(/Probe Simulated burst[^:]*: ok/);
  },
};

const FALLBACK_ORIGINAL = 'def total(values):\n    s = 0\n    for v in values:\n        s = s + v\n    return s\n';
const FALLBACK_ANSWER = 'Here it is:\n\n```python\ndef total(values):\n    return sum(values)\n```\n';
/**
 * The burst simulator's Retry-After, in s: long enough that the panel still shows the rest when the picture is taken,
 * short enough to wait out. The scenario waits it out and brings the backend back, because the router's health book
 * is keyed by endpoint id (`burst#0`) and a later scenario's `burst#0` would otherwise inherit the rest.
 */
const RATE_LIMIT_RETRY_S = 20;

function isRefactorResult(value: unknown): value is { outcome: string; endpointId: string | null } {
  return typeof value === 'object' && value !== null && 'outcome' in value && 'endpointId' in value;
}

/**
 * A rate-limited burst backend (429, Retry-After 90 s): the extension's router fails the refactor over to the
 * long-context model. The status bar says the long-context fallback served, and the panel's routing section shows the
 * burst backend resting (until when, and why) and each backend's context window as its endpoint reported it.
 */
export const speedFallbackScenario: Scenario = {
  name: 'speed: after a rate limit the status bar names the long-context fallback and the panel shows the burst backend resting',
  timeoutMs: 150_000,
  async run(ctx) {
    await ctx.activateExtension();
    const burstSim = await startSimulator({
      tokensPerSec: 1_500,
      ttftMs: 30,
      contextWindow: 8_192,
      fault: { kind: '429' },
      retryAfterS: RATE_LIMIT_RETRY_S,
      completionFor: () => FALLBACK_ANSWER,
    });
    ctx.onCleanup(() => burstSim.close());
    const longSim = await startSimulator({
      tokensPerSec: 400,
      ttftMs: 80,
      contextWindow: 131_072,
      completionFor: () => FALLBACK_ANSWER,
    });
    ctx.onCleanup(() => longSim.close());
    ctx.onCleanup(() => vscode.commands.executeCommand('notifications.clearAll'));
    const burstLabel = `RateLimitedE2E ${burstSim.port}`;
    const longLabel = `FallbackE2E ${longSim.port}`;
    await ctx.updateSettings({
      'latencyCopilot.backends.useSimulator': false,
      'latencyCopilot.backends.burst': [
        {
          baseUrl: `${burstSim.baseUrl}/v1`,
          protocol: 'openai-chat',
          model: 'e2e-burst',
          label: burstLabel,
          fim: 'none',
        },
      ],
      'latencyCopilot.backends.longContext': [
        { baseUrl: `${longSim.baseUrl}/v1`, protocol: 'openai-chat', model: 'e2e-long', label: longLabel, fim: 'none' },
      ],
    });
    await ctx.waitForLog(new RegExp(`Backends: [^\\n]*${longLabel}`), { timeoutMs: 30_000 });
    const editor = await ctx.openFile('fallback_total.py', FALLBACK_ORIGINAL);
    editor.selection = new vscode.Selection(0, 0, 5, 0);
    const result: unknown = await vscode.commands.executeCommand('latencyCopilot.refactorSelection', {
      instruction: 'Simplify this function',
    });
    assert.ok(
      isRefactorResult(result),
      `the refactor command should resolve with its outcome, got ${JSON.stringify(result)}`,
    );
    assert.equal(result.endpointId, 'longContext#0', 'the long-context model should have served the refactor');
    await ctx.waitForLog(/Route #\d+ refactor -> FallbackE2E \d+ \(longContext#0\): failover:rate-limited/, {
      timeoutMs: 10_000,
    });
    await vscode.commands.executeCommand('latencyCopilot.refactor.accept', editor.document.uri);

    const probe = await ctx.statusBarItem(STATUS_ITEM_ID);
    if (!probe.available) ctx.skip(probe.reason);
    const item = await ctx.waitFor(
      'the status bar to say the long-context fallback served',
      async () => {
        const answer = await ctx.statusBarItem(STATUS_ITEM_ID);
        return answer.available && answer.value?.text.startsWith('Long context · FallbackE2E')
          ? answer.value
          : undefined;
      },
      { timeoutMs: 20_000 },
    );
    ctx.note(`status bar: "${item.text}" (${item.ariaLabel ?? ''})`);
    assert.ok(
      item.ariaLabel?.startsWith('Long-context fallback: FallbackE2E'),
      `the accessibility label should say so: ${item.ariaLabel ?? ''}`,
    );
    assert.ok(item.ariaLabel?.includes('rate-limited'), `the label should say why: ${item.ariaLabel ?? ''}`);

    await vscode.commands.executeCommand('latencyCopilot.showModelSpeed');
    await vscode.commands.executeCommand('workbench.action.toggleMaximizedPanel');
    ctx.onCleanup(() => vscode.commands.executeCommand('workbench.action.toggleMaximizedPanel'));
    const routing = await ctx.waitFor(
      'the routing section to show the resting burst backend and both detected windows',
      async () => {
        const rows = await ctx.uiQuery('#routing tbody tr', { inWebviews: true });
        if (!rows.available) return undefined;
        const texts = rows.value.map((row) => row.text);
        const burstRow = texts.find((text) => text.includes(burstLabel));
        const longRow = texts.find((text) => text.includes(longLabel));
        return burstRow?.includes('resting until') && longRow?.includes('131,072') ? { burstRow, longRow } : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 250 },
    );
    ctx.note(`routing rows: ${routing.burstRow} | ${routing.longRow}`);
    assert.ok(routing.burstRow.includes('rate-limited'), `the rest's cause should show: ${routing.burstRow}`);
    assert.ok(
      /8,192/.test(routing.burstRow) && routing.burstRow.includes('the endpoint said so'),
      `the burst window as detected: ${routing.burstRow}`,
    );
    assert.ok(
      routing.longRow.includes('healthy'),
      `the long-context backend served, so it is healthy: ${routing.longRow}`,
    );
    await sleep(800);
    const shot = await ctx.screenshot('speed-panel-fallback');
    if (shot.available) ctx.note(`screenshot ${shot.value}`);

    // The rest ends; the next request is a trial on the burst backend, which answers now: the breaker closes.
    burstSim.setDefaults({ fault: null });
    await ctx.waitFor(
      'the rest to end (the panel counts it down)',
      async () => {
        const rows = await ctx.uiQuery('#routing tbody tr', { inWebviews: true });
        const burstRow = rows.available ? rows.value.find((row) => row.text.includes(burstLabel))?.text : undefined;
        return burstRow?.includes('rest over') ? burstRow : undefined;
      },
      { timeoutMs: (RATE_LIMIT_RETRY_S + 10) * 1_000, intervalMs: 500 },
    );
    editor.selection = new vscode.Selection(0, 0, editor.document.lineCount, 0);
    const retried: unknown = await vscode.commands.executeCommand('latencyCopilot.refactorSelection', {
      instruction: 'Simplify this function',
    });
    assert.ok(
      isRefactorResult(retried),
      `the second refactor should resolve with its outcome, got ${JSON.stringify(retried)}`,
    );
    assert.equal(retried.endpointId, 'burst#0', 'after its rest the burst backend should serve again');
    await vscode.commands.executeCommand('latencyCopilot.refactor.accept', editor.document.uri);
    const recovered = await ctx.waitFor(
      'the burst backend to be healthy again in the panel',
      async () => {
        const rows = await ctx.uiQuery('#routing tbody tr', { inWebviews: true });
        const burstRow = rows.available ? rows.value.find((row) => row.text.includes(burstLabel))?.text : undefined;
        return burstRow?.includes('healthy') ? burstRow : undefined;
      },
      { timeoutMs: 20_000, intervalMs: 250 },
    );
    ctx.note(`after the rest: ${recovered}`);
  },
};

/**
 * A daily budget in a real editor: requests to a priced backend spend past a small budget; the person is told once
 * what is now held back (a notification naming the spend, the budget and the setting), the log says so, and the status
 * bar tooltip gives today's spend.
 */
export const costBudgetScenario: Scenario = {
  name: 'cost: spending past the daily budget tells the person what is held back',
  timeoutMs: 90_000,
  async run(ctx) {
    const sink = await extensionSink(ctx);
    // Whatever earlier scenarios spent today counts too: the budget is set just above it, then passed.
    await ctx.updateSettings({ 'latencyCopilot.cost.dailyBudgetUsd': 0.000_5 });
    const paid = await simulatedSetup(ctx, sink, {
      endpoint: {
        id: 'burst#8',
        label: 'Budget e2e backend (reference price)',
        target: { model: 'sim-budget' },
        price: REFERENCE_PRICE,
      },
    });
    const controller = new AbortController();
    ctx.onCleanup(() => controller.abort());
    // About 2,000 prompt tokens and 200 output tokens at $0.60 / $2.40 per million: about $0.0017, past $0.0005.
    const { run, done } = startRun(paid, 200, controller.signal, corpusCode('typescript', 7, 8_000), {
      task: 'refactor',
    });
    await done;
    assert.equal((await run.finished)?.outcome, 'ok', 'the priced request should finish');
    const line = await ctx.waitForLog(/Daily budget: [^\n]*/, { timeoutMs: 10_000 });
    ctx.note(`log: ${line[0]}`);
    // Headless, the page never has focus and VS Code holds toasts back until it does: read the notification center.
    await vscode.commands.executeCommand('notifications.showList');
    ctx.onCleanup(() => vscode.commands.executeCommand('notifications.hideList'));
    let seen = '';
    const toast = await ctx
      .waitFor('the budget notification', async () => {
        const answer = await ctx.uiQuery('.notification-toast, .notifications-list-container .monaco-list-row');
        if (!answer.available) return ctx.skip(answer.reason);
        seen = answer.value.map((element) => element.text.slice(0, 160)).join(' | ');
        return answer.value.find((element) => element.text.includes('daily budget'));
      })
      .catch((error: unknown) => {
        throw new Error(`${String(error)}; notifications seen: ${seen || 'none'}`);
      });
    assert.match(toast.text, /Today's spend \$[\d.]+ is \d+% of the \$0\.0005\d* daily budget/, toast.text);
    assert.ok(toast.text.includes('latencyCopilot.cost.dailyBudgetUsd'), `it should name the setting: ${toast.text}`);
    const shot = await ctx.screenshot('cost-budget');
    if (shot.available) ctx.note(`screenshot ${shot.value}`);
  },
};
