// Issue 7's repository commands in a real VS Code, against a simulated long-context model: "Ask About This Repository"
// streams an answer with file links into a Markdown document and never sends a planted .env (the workspace holds 600
// more modules, so the index reads them on its reader thread); "Refactor Across
// Repository" with an answer that does not parse changes nothing; an answer whose edits go through a symbolic link or
// create a file nobody asked for is refused with reasons (issue 14); a valid answer opens the refactor preview, where
// the ticked file is changed on Apply and the unticked one is not.
import { strict as assert } from 'node:assert';
import { access, mkdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import * as vscode from 'vscode';
import { startSimulator, type RunningSimulator } from '../../../src/sim/simulator';
import type { SimCompletionRequest } from '../../../src/sim/simOptions';
import type { Scenario, ScenarioContext } from '../suite/scenario';
import { startRepoCommandWithRequest } from './dialogs';

const MARKER = 'E2E_REPO_SECRET_5d1c';
const FILES: Readonly<Record<string, string>> = {
  '.env': `API_KEY=${MARKER}\n`,
  'src/limiter.py': 'class RateLimiter:\n    def acquire(self):\n        return True\n',
  'src/app.py': 'from .limiter import RateLimiter\n\nlimiter = RateLimiter()\nlimiter.acquire()\n',
};
/** Modules enough for the index to read on its reader thread (dist/repoFileReader.js starts at 500 files). */
const GENERATED_MODULES = 600;

function generatedModule(index: number): string {
  return `export function widget${index}Total(count: number): number {\n  return count * ${index};\n}\n`;
}

const ASK_ANSWER = 'The limiter lives in [src/limiter.py](src/limiter.py#L2); [src/app.py](src/app.py) calls it.\n';
const GOOD_EDIT = [
  'Renaming acquire to try_acquire.',
  '### FILE: src/limiter.py',
  '<<<<<<< SEARCH',
  '    def acquire(self):',
  '=======',
  '    def try_acquire(self):',
  '>>>>>>> REPLACE',
  '### FILE: src/app.py',
  '<<<<<<< SEARCH',
  'limiter.acquire()',
  '=======',
  'limiter.try_acquire()',
  '>>>>>>> REPLACE',
].join('\n');
const BAD_EDIT =
  '### FILE: src/limiter.py\n<<<<<<< SEARCH\n    def nothing_like_this(self):\n=======\n    def x(self):\n>>>>>>> REPLACE\n';
/** Well formed, but through a link to src/ (`linked -> src`) and a new file the request did not ask for: both refused. */
const LINKED_EDIT = [
  '### FILE: linked/limiter.py',
  '<<<<<<< SEARCH',
  '    def acquire(self):',
  '=======',
  '    def run_me(self):',
  '>>>>>>> REPLACE',
  '### FILE: src/extra.py',
  '<<<<<<< SEARCH',
  '=======',
  'EXTRA = 1',
  '>>>>>>> REPLACE',
].join('\n');

function answerFor(request: SimCompletionRequest): string {
  if (request.promptText.includes('Change to make: BROKEN')) return BAD_EDIT;
  if (request.promptText.includes('Change to make: LINKED')) return LINKED_EDIT;
  if (request.promptText.includes('Change to make:')) return GOOD_EDIT;
  return ASK_ANSWER;
}

function isResult(value: unknown): value is {
  outcome: string;
  endpointId: string | null;
  routeReason: string | null;
  refused?: { path: string; reason: string }[];
} {
  return typeof value === 'object' && value !== null && 'outcome' in value && 'routeReason' in value;
}

async function setUp(ctx: ScenarioContext): Promise<RunningSimulator> {
  await ctx.activateExtension();
  for (const [path, text] of Object.entries(FILES)) {
    const full = join(ctx.workspaceFolder, path);
    await mkdir(dirname(full), { recursive: true });
    await writeFile(full, text);
  }
  await mkdir(join(ctx.workspaceFolder, 'generated'), { recursive: true });
  await Promise.all(
    Array.from({ length: GENERATED_MODULES }, (_, index) =>
      writeFile(join(ctx.workspaceFolder, 'generated', `widget${index}.ts`), generatedModule(index)),
    ),
  );
  const sim = await startSimulator({
    tokensPerSec: 2_000,
    ttftMs: 20,
    contextWindow: 131_072,
    completionFor: answerFor,
  });
  ctx.onCleanup(() => sim.close());
  ctx.onCleanup(() => vscode.commands.executeCommand('notifications.clearAll'));
  const label = `RepoE2E ${sim.port}`;
  await ctx.updateSettings({
    'latencyCopilot.backends.useSimulator': false,
    'latencyCopilot.backends.burst': [],
    'latencyCopilot.backends.longContext': [
      {
        baseUrl: `${sim.baseUrl}/v1`,
        protocol: 'openai-chat',
        model: 'e2e-long',
        label,
        fim: 'none',
        contextWindow: 131072,
      },
    ],
  });
  await ctx.waitForLog(new RegExp(`Backends: [^\\n]*${label}`), { timeoutMs: 30_000 });
  return sim;
}

/** Ask: the answer streams into a Markdown document with file links; the .env never reaches the model. */
export const repoAskScenario: Scenario = {
  name: 'repo: Ask About This Repository streams a linked answer and never sends .env',
  timeoutMs: 150_000,
  async run(ctx) {
    const sim = await setUp(ctx);
    const result: unknown = await (
      await startRepoCommandWithRequest(ctx, 'latencyCopilot.repo.ask', 'Where is the rate limiter?')
    ).done;
    assert.ok(isResult(result), `the command should resolve with its outcome, got ${JSON.stringify(result)}`);
    assert.equal(result.outcome, 'ok');
    assert.equal(result.routeReason, 'repo-task');
    const answer = vscode.workspace.textDocuments.find(
      (document) => document.languageId === 'markdown' && document.getText().startsWith('# Where is the rate limiter?'),
    );
    assert.ok(answer !== undefined, 'a Markdown document with the answer should be open');
    const text = answer.getText();
    assert.match(
      text,
      /\[src\/limiter\.py\]\(file:\/\/[^)]*src\/limiter\.py#L2\)/,
      `citations should be file links:\n${text}`,
    );
    // The context line leads with what was chosen for the question and counts the modules that only filled the budget.
    const contextLine = text.split('\n').find((line) => line.startsWith('Context: ')) ?? '';
    assert.match(
      contextLine,
      /^Context: \[src\/(limiter|app)\.py\]/,
      `the chosen files should lead the context line:\n${contextLine}`,
    );
    assert.match(
      contextLine,
      /; [\d,]+ more files fill the rest of the budget$/,
      `filler should be counted, not listed:\n${contextLine}`,
    );
    assert.ok(!contextLine.includes('generated/widget'), `generated modules only filled the budget:\n${contextLine}`);
    const bodies = sim.requests
      .filter((entry) => entry.path.includes('chat/completions'))
      .map((entry) => JSON.stringify(entry.body));
    assert.equal(bodies.length, 1);
    assert.ok(bodies[0]?.includes('class RateLimiter'), 'the limiter source should be in the prompt');
    assert.ok(!bodies.some((body) => body.includes(MARKER)), 'the .env content must never be sent');
    await ctx.waitForLog(/Repository ask: Sending [\d,]+ tokens \(\d+ files\) to RepoE2E \d+ \(repo-task\)/, {
      timeoutMs: 10_000,
    });
    // The extension host ran the index's reader thread from the installed dist/repoFileReader.js.
    await ctx.waitForLog(/Repository index of [^:]+: 6\d\d files, [^\n]*\(read by reader thread\)/, {
      timeoutMs: 10_000,
    });
    await ctx.screenshot('repo-ask-answer');
  },
};

/** Refactor: an answer that does not parse changes nothing; a valid one is previewed and applied on confirmation. */
export const repoRefactorScenario: Scenario = {
  name: 'repo: Refactor Across Repository changes nothing on a bad answer; the preview applies only the ticked file',
  timeoutMs: 180_000,
  async run(ctx) {
    await setUp(ctx);
    const limiterPath = join(ctx.workspaceFolder, 'src/limiter.py');
    const appPath = join(ctx.workspaceFolder, 'src/app.py');
    const bad: unknown = await (
      await startRepoCommandWithRequest(ctx, 'latencyCopilot.repo.refactor', 'BROKEN rename')
    ).done;
    assert.ok(isResult(bad));
    assert.equal(bad.outcome, 'invalid-answer');
    assert.equal(await readFile(limiterPath, 'utf8'), FILES['src/limiter.py']);
    await vscode.commands.executeCommand('notifications.clearAll');

    // A link committed to the repository: an edit through it, and a file nobody asked for, are refused with reasons.
    await symlink(join(ctx.workspaceFolder, 'src'), join(ctx.workspaceFolder, 'linked'), 'junction');
    const linked: unknown = await (
      await startRepoCommandWithRequest(ctx, 'latencyCopilot.repo.refactor', 'LINKED rename')
    ).done;
    assert.ok(isResult(linked), `got ${JSON.stringify(linked)}`);
    assert.equal(linked.outcome, 'refused');
    assert.deepEqual(
      linked.refused?.map((refusal) => refusal.path),
      ['linked/limiter.py', 'src/extra.py'],
    );
    assert.match(linked.refused?.[0]?.reason ?? '', /symbolic link/);
    assert.match(linked.refused?.[1]?.reason ?? '', /did not ask for/);
    assert.equal(await readFile(limiterPath, 'utf8'), FILES['src/limiter.py']);
    await assert.rejects(access(join(ctx.workspaceFolder, 'src/extra.py')), 'the refused new file must not exist');
    await ctx.waitForLog(/Refactor across repository: 2 proposed edits were refused and not offered/, {
      timeoutMs: 10_000,
    });
    await vscode.commands.executeCommand('notifications.clearAll');

    const { done: pending } = await startRepoCommandWithRequest(
      ctx,
      'latencyCopilot.repo.refactor',
      'rename acquire to try_acquire',
    );
    // The refactor preview waits for the person: nothing has changed until "Apply".
    const preview = await ctx.uiQuery('.bulk-edit-panel, .refactor-preview');
    if (preview.available) {
      await ctx.waitFor(
        'the refactor preview',
        async () => {
          const answer = await ctx.uiQuery('.bulk-edit-panel .monaco-tl-row, .bulk-edit-panel');
          return answer.available && answer.value.some((element) => element.visible) ? true : undefined;
        },
        { timeoutMs: 60_000 },
      );
      await ctx.screenshot('repo-refactor-preview');
      // Nothing is ticked at first: tick the first file only, then Apply.
      const ticked = await ctx.uiClick(
        '.bulk-edit-panel .monaco-tl-row .monaco-custom-toggle, .bulk-edit-panel .monaco-tl-row input[type=checkbox]',
      );
      assert.ok(ticked.available, 'the preview checkbox should be clickable');
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      await ctx.screenshot('repo-refactor-preview-ticked');
    } else {
      ctx.note(`no browser under this runner (${preview.reason}): Apply with nothing ticked must apply nothing`);
      await new Promise((resolve) => setTimeout(resolve, 5_000));
    }
    assert.equal(await readFile(appPath, 'utf8'), FILES['src/app.py'], 'nothing changes before confirmation');
    await vscode.commands.executeCommand('refactorPreview.apply');
    const good: unknown = await pending;
    assert.ok(isResult(good), `got ${JSON.stringify(good)}`);
    if (!preview.available) {
      assert.equal(good.outcome, 'not-applied');
      assert.equal(await readFile(appPath, 'utf8'), FILES['src/app.py']);
      return;
    }
    assert.equal(good.outcome, 'ok');
    // Only the first file was ticked: it is changed, the other (rejected) is not.
    const app = await vscode.workspace.openTextDocument(vscode.Uri.file(appPath));
    const limiter = await vscode.workspace.openTextDocument(vscode.Uri.file(limiterPath));
    assert.ok(app.getText().includes('limiter.try_acquire()'), app.getText());
    assert.equal(limiter.getText(), FILES['src/limiter.py'], 'the file left unticked must not change');
    await app.save();
  },
};
