import * as vscode from 'vscode';
import type { Clock } from '../core/clock';
import { isBackendError } from '../core/errors';
import { checkRepoTaskArguments, type RepoTaskArguments } from '../core/commands/commandArguments';
import type { GenerationRun, PlanningGenerationService, RouteInfo } from '../core/generation/generationService';
import type { Logger } from '../core/logger';
import type { ResolvedEndpoint } from '../core/endpoint';
import { editAdmitter } from '../core/repo/editSafety';
import { nodeEditTargets } from '../core/repo/nodeEditTargets';
import {
  describeProblems,
  describeRefusals,
  parseProposedEdits,
  refusalReport,
  type EditParseResult,
  type ProposedFileEdit,
  type RefusedEdit,
} from '../core/repo/repoEditFormat';
import { linkCitations, type RepoTaskKind } from '../core/repo/repoPrompts';
import { editScopeOf, prepareRepoTask, type PreparedRepoTask } from '../core/repo/repoTask';
import { formatCount, packedFiles, repoAnswerFooter, sendingMessage } from '../core/repo/repoTaskText';
import { lineColumnAt } from '../core/repo/textPositions';
import type { RouteReason } from '../core/routeReason';
import { messageForBackendError } from '../core/speed/userMessages';
import type { ReadyIndex, RepoIndexHost } from './repoIndexHost';

/** Command ids (declared in package.json, category "Latency Copilot"). */
export const REPO_COMMANDS = {
  ask: 'latencyCopilot.repo.ask',
  explain: 'latencyCopilot.repo.explain',
  refactor: 'latencyCopilot.repo.refactor',
} as const;

/** What the repository commands need from the composition root. */
export interface RepoCommandDeps {
  readonly service: PlanningGenerationService;
  readonly host: RepoIndexHost;
  readonly log: Logger;
  /** Paces the progress notification's live figures. */
  readonly clock: Clock;
  /** Loads the cl100k token counter (the lazily loaded tokenizer chunk), for packing to budget. */
  readonly countTokens: () => Promise<(text: string) => number>;
  /** Setting `latencyCopilot.repo.maxContextTokens`. */
  readonly maxContextTokens: () => number;
  /**
   * The daily budget's question before a task of `promptTokens` goes to `endpoint` (null: the router has none), or null
   * to send without asking (`DailyBudget.questionBeforeSending`).
   */
  readonly budgetQuestion?: (promptTokens: number, endpoint: ResolvedEndpoint | null) => string | null;
}

/**
 * Optional arguments (keybindings, the end-to-end suite). Checked: command arguments are untrusted.
 * `request` skips the input box.
 */
/**
 * What a command resolved to: for logs and the end-to-end suite. `refused`: every proposed edit the safety rules
 * refused was left out of the preview; `refused` lists those (with `ok` / `not-applied` when others were offered).
 */
export interface RepoCommandResult {
  readonly outcome:
    | 'ok'
    | 'cancelled'
    | 'error'
    | 'dismissed'
    | 'invalid-answer'
    | 'not-applied'
    | 'refused'
    /** Past the daily budget, and the person chose not to send. */
    | 'over-budget';
  readonly endpointId: string | null;
  readonly routeReason: RouteReason | null;
  readonly promptTokens: number;
  readonly files: readonly string[];
  /** Refactor: the proposed edits that were refused, with why (also shown to the person). */
  readonly refused?: readonly RefusedEdit[];
  /** Refactor: the files offered only on their own, unticked, with why (protected: `.git/`, `.github/`, lockfiles). */
  readonly needTick?: readonly string[];
}

/** How the streaming part of a repository refactor ended. */
type RefactorStreamOutcome =
  | {
      readonly kind: 'answered';
      readonly parsed: EditParseResult;
      readonly answer: string;
      readonly route: RouteInfo | null;
      readonly promptTokens: number;
      readonly files: readonly string[];
    }
  | { readonly kind: 'failed'; readonly failure: RepoCommandResult['outcome']; readonly route: RouteInfo | null };

/** Appends streamed text to a document in batches (about 15 per second, never one edit per token). */
class DocumentAppender {
  private pending = '';
  private timer: ReturnType<typeof setTimeout> | null = null;
  private writing: Promise<void> = Promise.resolve();

  constructor(private readonly document: vscode.TextDocument) {}

  append(text: string): void {
    this.pending += text;
    if (this.timer === null) this.timer = setTimeout(() => this.flushNow(), 66);
  }

  private flushNow(): void {
    this.timer = null;
    const text = this.pending;
    this.pending = '';
    if (text === '') return;
    this.writing = this.writing.then(async () => {
      const edit = new vscode.WorkspaceEdit();
      const end = this.document.lineAt(this.document.lineCount - 1).range.end;
      edit.insert(this.document.uri, end, text);
      await vscode.workspace.applyEdit(edit);
    });
  }

  /** Writes what is pending and waits for every write. */
  async close(): Promise<void> {
    if (this.timer !== null) clearTimeout(this.timer);
    this.flushNow();
    await this.writing;
  }
}

/** How often the progress notification is told the live figures while an answer streams, in ms. */
const PROGRESS_REPORT_INTERVAL_MS = 250;

/**
 * Reads a run's text to the end, handing each piece to `onText` and telling the progress notification (prefixed with
 * `prefix`) how many tokens have come, how fast, and from which backend, at most every 250 ms. Returns the whole text.
 */
async function receiveText(
  clock: Clock,
  run: GenerationRun,
  progress: vscode.Progress<{ message?: string }>,
  prefix: string,
  onText: (text: string) => void,
): Promise<string> {
  let answer = '';
  let lastReportMs = 0;
  for await (const event of run.events) {
    if (event.kind !== 'text') continue;
    answer += event.text;
    onText(event.text);
    const now = clock.now();
    if (now - lastReportMs > PROGRESS_REPORT_INTERVAL_MS) {
      lastReportMs = now;
      const rate = run.liveTokensPerSec();
      const route = run.route();
      progress.report({
        message: `${prefix}${formatCount(run.outputTokens())} tokens${rate === null ? '' : ` at ${formatCount(rate)} tok/s`} from ${route?.endpoint.label ?? '…'} (${route?.reason ?? ''})`,
      });
    }
  }
  return answer;
}

/**
 * The repository commands: "Ask About This Repository…", "Explain This Repository" (answers stream into a Markdown
 * document beside the editor, citing files as links) and "Refactor Across Repository…" (the long-context model's edits,
 * validated, shown in the refactor preview where each file can be accepted or rejected; nothing is applied without
 * confirmation). Each runs under a cancellable progress notification that says what is sent, how many tokens, and to
 * which model.
 */
export class RepoCommands implements vscode.Disposable {
  private readonly disposables: vscode.Disposable[];

  constructor(private readonly deps: RepoCommandDeps) {
    this.disposables = [
      vscode.commands.registerCommand(REPO_COMMANDS.ask, (args: unknown) =>
        this.checked('Ask About This Repository', args, (checked) => this.answer('ask', checked)),
      ),
      vscode.commands.registerCommand(REPO_COMMANDS.explain, () => this.answer('explain', {})),
      vscode.commands.registerCommand(REPO_COMMANDS.refactor, (args: unknown) =>
        this.checked('Refactor Across Repository', args, (checked) => this.refactor(checked)),
      ),
    ];
  }

  /** Runs a command after checking its arguments; refused ones get one line in the log and an error message. */
  private async checked(
    command: string,
    raw: unknown,
    run: (args: RepoTaskArguments) => Promise<RepoCommandResult>,
  ): Promise<RepoCommandResult> {
    const check = checkRepoTaskArguments(command, raw);
    if (check.ok) return run(check.value);
    this.deps.log.warn(check.problem);
    void vscode.window.showErrorMessage(check.problem);
    return { outcome: 'dismissed', endpointId: null, routeReason: null, promptTokens: 0, files: [] };
  }

  /**
   * The question, always from the person: a request given as an argument only pre-fills the box (any extension or
   * link can run the command, and the answer sends the repository to a model).
   */
  private async askFor(kind: RepoTaskKind, args: RepoTaskArguments): Promise<string | null> {
    if (kind === 'explain') return '';
    const answer = await vscode.window.showInputBox({
      value: args.request ?? '',
      title: kind === 'ask' ? 'Ask About This Repository' : 'Refactor Across Repository',
      prompt: kind === 'ask' ? 'Your question about this repository' : 'The change to make across the repository',
      placeHolder:
        kind === 'ask'
          ? 'Where are rate limits handled, and how are retries scheduled?'
          : 'Rename UserStore to AccountStore everywhere',
      ignoreFocusOut: true,
    });
    return answer === undefined || answer.trim() === '' ? null : answer.trim();
  }

  private async prepare(
    kind: RepoTaskKind,
    request: string,
    progress: vscode.Progress<{ message?: string }>,
    signal: AbortSignal,
  ): Promise<{ ready: ReadyIndex; prepared: PreparedRepoTask }> {
    const ready = await this.deps.host.index((message) => progress.report({ message }), signal);
    progress.report({ message: 'Ranking and packing context…' });
    const signals = this.deps.host.signals();
    const countTokens = await this.deps.countTokens();
    const prepared = await prepareRepoTask(
      { index: ready.index, fs: ready.fs, countTokens, plan: (spec) => this.deps.service.plan(spec) },
      { kind, request, signal, ...signals, maxContextTokens: this.deps.maxContextTokens() },
    );
    const message = sendingMessage(prepared);
    progress.report({ message });
    const target = prepared.route;
    this.deps.log.info(
      `Repository ${kind}: ${message}; window ${target === null || target.contextWindow === null ? 'unknown' : formatCount(target.contextWindow)}; ` +
        `files: ${prepared.packed.sections
          .map((section) => `${section.path}:${section.startLine + 1}-${section.endLine}`)
          .slice(0, 50)
          .join(', ')}`,
    );
    return { ready, prepared };
  }

  /**
   * True when the task may be sent: the daily budget has no question, or the person answered it with Send. A modal
   * question because sending past the budget is the person's call; "no" sends nothing, and says so.
   */
  private async budgetAllows(kind: RepoTaskKind, prepared: PreparedRepoTask): Promise<boolean> {
    const question = this.deps.budgetQuestion?.(prepared.promptTokens, prepared.route?.endpoint ?? null) ?? null;
    if (question === null) return true;
    const choice = await vscode.window.showWarningMessage(question, { modal: true }, 'Send');
    const send = choice === 'Send';
    this.deps.log.info(
      `Repository ${kind}: past the daily budget, ${send ? 'sent on request' : 'not sent'} (${question})`,
    );
    if (!send)
      void vscode.window.showInformationMessage(
        'Nothing was sent: the daily budget is reached. Raise latencyCopilot.cost.dailyBudgetUsd to send without asking.',
      );
    return send;
  }

  private reportFailure(error: unknown, run: GenerationRun | null): RepoCommandResult['outcome'] {
    if (isBackendError(error) && error.reason === 'aborted') return 'cancelled';
    const route = run?.route() ?? null;
    const message = isBackendError(error)
      ? route === null
        ? error.message
        : messageForBackendError(error, route.endpoint).text
      : error instanceof Error
        ? error.message
        : String(error);
    this.deps.log.error(`Repository task failed: ${message}`);
    void vscode.window.showErrorMessage(message);
    return 'error';
  }

  /** Ask / Explain: the answer streams into a Markdown document beside the editor. */
  private async answer(kind: 'ask' | 'explain', args: RepoTaskArguments): Promise<RepoCommandResult> {
    const request = await this.askFor(kind, args);
    if (request === null)
      return { outcome: 'dismissed', endpointId: null, routeReason: null, promptTokens: 0, files: [] };
    const title = kind === 'ask' ? `Ask: ${request}` : 'Explain this repository';
    return vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title, cancellable: true },
      async (progress, token) => {
        const controller = new AbortController();
        const cancel = token.onCancellationRequested(() => controller.abort());
        let run: GenerationRun | null = null;
        let files: string[] = [];
        let promptTokens = 0;
        try {
          const { ready, prepared } = await this.prepare(kind, request, progress, controller.signal);
          files = packedFiles(prepared);
          promptTokens = prepared.promptTokens;
          if (!(await this.budgetAllows(kind, prepared)))
            return { outcome: 'over-budget', endpointId: null, routeReason: null, promptTokens, files };
          run = this.deps.service.start(prepared.spec);
          const heading = kind === 'ask' ? `# ${request}\n\n` : '# Repository overview\n\n';
          const document = await vscode.workspace.openTextDocument({ language: 'markdown', content: heading });
          // Beside the editor the person works in; in the active group when no editor is open.
          const column =
            vscode.window.activeTextEditor === undefined ? vscode.ViewColumn.Active : vscode.ViewColumn.Beside;
          await vscode.window.showTextDocument(document, { viewColumn: column, preview: false, preserveFocus: true });
          const appender = new DocumentAppender(document);
          const answer = await receiveText(this.deps.clock, run, progress, '', (text) => appender.append(text));
          await appender.close();
          // One final edit: citations become links that open the file at the line, then a note of what was sent.
          const route = run.route();
          const linked = linkCitations(
            answer,
            (path) => ready.index.isReadable(path),
            (path) => this.deps.host.uriOf(path)?.toString() ?? path,
          );
          const footer = repoAnswerFooter(prepared, route, (path) => this.deps.host.uriOf(path)?.toString() ?? path);
          const edit = new vscode.WorkspaceEdit();
          const whole = new vscode.Range(new vscode.Position(0, 0), document.lineAt(document.lineCount - 1).range.end);
          edit.replace(document.uri, whole, `${heading}${linked}${footer}`);
          await vscode.workspace.applyEdit(edit);
          return {
            outcome: 'ok',
            endpointId: route?.endpoint.id ?? null,
            routeReason: route?.reason ?? null,
            promptTokens,
            files,
          };
        } catch (error) {
          const route = run?.route() ?? null;
          return {
            outcome: this.reportFailure(error, run),
            endpointId: route?.endpoint.id ?? null,
            routeReason: route?.reason ?? null,
            promptTokens,
            files,
          };
        } finally {
          cancel.dispose();
        }
      },
    );
  }

  /** Refactor across the repository: edits proposed, validated, previewed; applied only when confirmed. */
  private async refactor(args: RepoTaskArguments): Promise<RepoCommandResult> {
    const request = await this.askFor('refactor', args);
    if (request === null)
      return { outcome: 'dismissed', endpointId: null, routeReason: null, promptTokens: 0, files: [] };
    const outcome = await vscode.window.withProgress<RefactorStreamOutcome>(
      {
        location: vscode.ProgressLocation.Notification,
        title: `Refactor across repository: ${request}`,
        cancellable: true,
      },
      async (progress, token) => {
        const controller = new AbortController();
        const cancel = token.onCancellationRequested(() => controller.abort());
        let run: GenerationRun | null = null;
        try {
          const { ready, prepared } = await this.prepare('refactor', request, progress, controller.signal);
          if (!(await this.budgetAllows('refactor', prepared)))
            return { kind: 'failed', failure: 'over-budget', route: null };
          run = this.deps.service.start(prepared.spec);
          const answer = await receiveText(this.deps.clock, run, progress, 'Receiving edits: ', () => undefined);
          progress.report({ message: 'Checking the proposed edits…' });
          const parsed = await parseProposedEdits(answer, {
            readText: (path) => this.readText(path),
            admit: editAdmitter(
              nodeEditTargets(ready.folder.uri.fsPath),
              editScopeOf(ready.index, prepared.packed, request),
            ),
          });
          const route = run.route();
          const files = packedFiles(prepared);
          return { kind: 'answered', parsed, answer, route, promptTokens: prepared.promptTokens, files };
        } catch (error) {
          return { kind: 'failed', failure: this.reportFailure(error, run), route: run?.route() ?? null };
        } finally {
          cancel.dispose();
        }
      },
    );
    if (outcome.kind === 'failed') {
      return {
        outcome: outcome.failure,
        endpointId: outcome.route?.endpoint.id ?? null,
        routeReason: outcome.route?.reason ?? null,
        promptTokens: 0,
        files: [],
      };
    }
    const base = {
      endpointId: outcome.route?.endpoint.id ?? null,
      routeReason: outcome.route?.reason ?? null,
      promptTokens: outcome.promptTokens,
      files: outcome.files,
    };
    if (!outcome.parsed.ok) {
      const message = describeProblems(outcome.parsed.problems);
      this.deps.log.warn(`Refactor across repository: ${message}`);
      void vscode.window.showErrorMessage(message, 'Show Answer').then(async (choice) => {
        if (choice !== 'Show Answer') return;
        const document = await vscode.workspace.openTextDocument({ language: 'markdown', content: outcome.answer });
        await vscode.window.showTextDocument(document, { viewColumn: vscode.ViewColumn.Beside, preview: true });
      });
      return { outcome: 'invalid-answer', ...base };
    }
    const { edits, refused } = outcome.parsed;
    const needTick = edits.filter((edit) => edit.needsTick !== null).map((edit) => edit.path);
    if (refused.length > 0) this.showRefusals(request, refused, outcome.answer);
    if (edits.length === 0) return { outcome: 'refused', ...base, refused, needTick };
    const category = `${outcome.route?.endpoint.label ?? 'Model'}: ${request}`;
    const edit = await this.workspaceEditOf(edits, outcome.parsed.explanation, category);
    // needsConfirmation opens the refactor preview with every change unticked: the person ticks the files (or the whole
    // proposal) to accept and presses Apply; nothing is applied before. VS Code undoes an applied workspace edit as one
    // step.
    const applied = await vscode.workspace.applyEdit(edit, { isRefactoring: true });
    this.deps.log.info(
      `Refactor across repository: ${edits.length} file(s) proposed` +
        `${needTick.length > 0 ? ` (${needTick.join(', ')} only on a tick of their own)` : ''}; ${applied ? 'applied' : 'not applied'}`,
    );
    return { outcome: applied ? 'ok' : 'not-applied', ...base, refused, needTick };
  }

  /** Tells the person which proposed edits were refused and why (a warning, the log, and a document on request). */
  private showRefusals(request: string, refused: readonly RefusedEdit[], answer: string): void {
    const message = describeRefusals(refused);
    this.deps.log.warn(`Refactor across repository: ${message}`);
    void vscode.window.showWarningMessage(message, 'Show Details').then(async (choice) => {
      if (choice !== 'Show Details') return;
      const document = await vscode.workspace.openTextDocument({
        language: 'markdown',
        content: refusalReport(request, refused, answer),
      });
      await vscode.window.showTextDocument(document, { viewColumn: vscode.ViewColumn.Beside, preview: true });
    });
  }

  /** The current text of a file: the open editor's (it may have unsaved changes), else the disk's; null when missing. */
  private async readText(path: string): Promise<string | null> {
    const uri = this.deps.host.uriOf(path);
    if (uri === null) return null;
    const open = vscode.workspace.textDocuments.find((document) => document.uri.toString() === uri.toString());
    if (open !== undefined) return open.getText();
    try {
      return new TextDecoder('utf-8').decode(await vscode.workspace.fs.readFile(uri));
    } catch {
      return null;
    }
  }

  private async workspaceEditOf(
    edits: readonly ProposedFileEdit[],
    explanation: string,
    category: string,
  ): Promise<vscode.WorkspaceEdit> {
    const workspaceEdit = new vscode.WorkspaceEdit();
    const description = explanation === '' ? undefined : explanation.slice(0, 200);
    // One label for the whole proposal: the preview groups it under one checkbox (accept all), with a row per file.
    const proposal: vscode.WorkspaceEditEntryMetadata = { label: category, description, needsConfirmation: true };
    for (const edit of edits) {
      const uri = this.deps.host.uriOf(edit.path);
      if (uri === null) continue;
      // A protected file gets a label of its own: ticking the proposal does not tick it, and the label says why.
      const metadata: vscode.WorkspaceEditEntryMetadata =
        edit.needsTick === null
          ? proposal
          : { label: `Protected, tick on its own: ${edit.path}`, description: edit.needsTick, needsConfirmation: true };
      if (edit.kind === 'create') {
        workspaceEdit.createFile(
          uri,
          { ignoreIfExists: false, contents: new TextEncoder().encode(edit.updatedText) },
          metadata,
        );
        continue;
      }
      // Positions from the normalised text apply to CRLF documents too (line/column ignore the line-end style).
      for (const replacement of edit.replacements) {
        const start = lineColumnAt(edit.originalText, replacement.start);
        const end = lineColumnAt(edit.originalText, replacement.end);
        workspaceEdit.replace(
          uri,
          new vscode.Range(start.line, start.column, end.line, end.column),
          replacement.text,
          metadata,
        );
      }
    }
    return workspaceEdit;
  }

  dispose(): void {
    for (const disposable of this.disposables) disposable.dispose();
  }
}
