import * as vscode from 'vscode';
import type { Clock } from '../core/clock';
import { checkRefactorArguments } from '../core/commands/commandArguments';
import type { RefactorArguments } from '../core/commands/commandArguments';
import type { BackendRole } from '../core/endpoint';
import { isBackendError } from '../core/errors';
import type { GenerationService, RouteInfo } from '../core/generation/generationService';
import type { Logger } from '../core/logger';
import { REFACTOR_PRESETS, findRefactorPreset, type RefactorPlacement } from '../core/refactor/refactorPresets';
import { prepareRefactor } from '../core/refactor/prepareRefactor';
import type { RegionPlan } from '../core/refactor/refactorRegion';
import { startRefactor, type RefactorOutcome, type RefactorRun } from '../core/refactor/refactorRun';
import type { StreamingEditSession } from '../core/refactor/streamingEditSession';
import { describeRouteReason } from '../core/routeReason';
import { messageForBackendError } from '../core/speed/userMessages';
import { EditorRefactorDocument, textChangesOf } from './refactorEditorDocument';
import { RefactorReviews } from './refactorReview';
import { chooseRefactorTarget } from './refactorTarget';

/** Command ids (declared in package.json with menus and keybindings). */
export const REFACTOR_COMMANDS = {
  refactorSelection: 'latencyCopilot.refactorSelection',
  cancel: 'latencyCopilot.refactor.cancel',
} as const;

/** True while a refactor streams into some editor: enables Escape-to-cancel. */
export const STREAMING_CONTEXT_KEY = 'latencyCopilot.refactorStreaming';

/** What the refactor commands need from the composition root. */
export interface RefactorCommandDeps {
  readonly service: GenerationService;
  readonly clock: Clock;
  readonly log: Logger;
  /** Token estimate for the prompt and the answer budget (cl100k or the rough count before the tokenizer loads). */
  readonly countTokens: (text: string) => number;
}

/** What the command resolves to once streaming has ended (the review may still be open): for tests and logs. */
export interface RefactorCommandResult {
  readonly outcome: RefactorOutcome['kind'] | 'no-editor' | 'dismissed' | 'busy' | 'refused';
  readonly endpointId: string | null;
  readonly text: string | null;
}

/** One refactor request: enough to run it again ("Retry"). */
interface RefactorRequest {
  readonly document: vscode.TextDocument;
  /** The code's offsets as chosen (before planning); shifted on retry by edits made above it. */
  readonly start: number;
  readonly end: number;
  readonly description: string;
  readonly label: string;
  readonly instruction: string;
  readonly placement: RefactorPlacement;
  readonly outputFactor: number;
  readonly role: BackendRole | undefined;
  readonly extraHeaders: Readonly<Record<string, string>> | undefined;
  readonly editorOptions: { readonly insertSpaces: boolean; readonly tabSize: number };
}

interface ActiveRefactor {
  readonly run: RefactorRun;
  readonly abort: AbortController;
  readonly document: EditorRefactorDocument;
  /** Set when the stream was stopped by a save, so the message can say why. */
  stoppedBySave: boolean;
}

// How often the progress notification's figures are refreshed, in ms (the status bar has its own live readout).
const PROGRESS_REFRESH_MS = 250;

/**
 * "Latency Copilot: Refactor Selection…": pick a preset or type an instruction; the answer streams into the editor
 * (frame-batched, re-indented, code pulled out of the model's wrapping) under a cancellable progress notification,
 * then waits for review. On cancel, error, disconnect, timeout, or a save mid-stream, the document goes back to its
 * original text and the person is told why, with Retry and Retry on the long-context model. Typing inside the region
 * stops the stream and keeps the typing; typing elsewhere does not disturb it.
 */
export class RefactorCommands implements vscode.Disposable {
  private readonly active = new Map<string, ActiveRefactor>();
  /** Sessions still tracking their region (streaming or in review), by document URI. */
  private readonly sessions = new Map<string, StreamingEditSession>();
  private readonly reviews = new RefactorReviews();
  private readonly subscriptions: vscode.Disposable[] = [];

  constructor(private readonly deps: RefactorCommandDeps) {
    this.subscriptions.push(
      this.reviews,
      vscode.commands.registerCommand(REFACTOR_COMMANDS.refactorSelection, (args?: unknown) =>
        this.refactorSelection(args),
      ),
      vscode.commands.registerCommand(REFACTOR_COMMANDS.cancel, () => this.cancelActive()),
      vscode.workspace.onDidChangeTextDocument((event) => this.documentChanged(event)),
      vscode.workspace.onWillSaveTextDocument((event) => this.willSave(event)),
      vscode.workspace.onDidCloseTextDocument((document) => this.active.get(document.uri.toString())?.abort.abort()),
    );
  }

  dispose(): void {
    for (const active of this.active.values()) active.abort.abort();
    for (const subscription of this.subscriptions) subscription.dispose();
  }

  private async refactorSelection(rawArgs: unknown): Promise<RefactorCommandResult> {
    // From the editor's context menu VS Code passes the document's URI: that is no argument list. Anything else is
    // checked (another extension or a keybinding may pass anything); a refused list runs nothing.
    const check = checkRefactorArguments(rawArgs instanceof vscode.Uri ? undefined : rawArgs);
    if (!check.ok) {
      this.deps.log.warn(check.problem);
      void vscode.window.showErrorMessage(check.problem);
      return { outcome: 'refused', endpointId: null, text: null };
    }
    const args = check.value;
    const editor = vscode.window.activeTextEditor;
    if (editor === undefined) {
      void vscode.window.showInformationMessage('Latency Copilot: open a file and select code to refactor.');
      return { outcome: 'no-editor', endpointId: null, text: null };
    }
    const target = await chooseRefactorTarget(editor);
    const choice =
      args.instruction !== undefined || args.presetId !== undefined
        ? fromArgs(args)
        : await pickInstruction(target.description);
    if (choice === undefined) return { outcome: 'dismissed', endpointId: null, text: null };
    return this.stream({
      document: editor.document,
      start: target.start,
      end: target.end,
      description: target.description,
      label: choice.label,
      instruction: choice.instruction,
      placement: choice.placement,
      outputFactor: choice.outputFactor,
      role: args.role,
      extraHeaders: args.extraHeaders,
      editorOptions: {
        insertSpaces: editor.options.insertSpaces !== false,
        tabSize: typeof editor.options.tabSize === 'number' ? editor.options.tabSize : 4,
      },
    });
  }

  private async stream(request: RefactorRequest): Promise<RefactorCommandResult> {
    const key = request.document.uri.toString();
    if (this.active.has(key)) {
      void vscode.window.showInformationMessage('Latency Copilot: a refactor is already streaming into this file.');
      return { outcome: 'busy', endpointId: null, text: null };
    }
    // A new refactor in a file under review keeps the reviewed one.
    if (this.reviews.has(request.document)) await this.reviews.accept(request.document.uri);

    const prepared = prepareRefactor(
      { countTokens: this.deps.countTokens },
      {
        text: request.document.getText(),
        start: request.start,
        end: request.end,
        languageId: request.document.languageId,
        filePath: vscode.workspace.asRelativePath(request.document.uri),
        instruction: request.instruction,
        placement: request.placement,
        outputFactor: request.outputFactor,
        indentation: request.editorOptions,
        role: request.role,
        extraHeaders: request.extraHeaders,
      },
    );
    const { plan, promptTokens, maxOutputTokens } = prepared;
    // A selection left over the region would grow with every append and end up covering the new code, where one
    // keystroke would replace all of it: collapse it to its start first.
    for (const visible of vscode.window.visibleTextEditors) {
      if (visible.document === request.document && !visible.selection.isEmpty) {
        visible.selection = new vscode.Selection(visible.selection.start, visible.selection.start);
      }
    }
    const document = new EditorRefactorDocument(request.document);
    const abort = new AbortController();
    const run = startRefactor(
      { service: this.deps.service, clock: this.deps.clock },
      { document, ...prepared.job },
      abort.signal,
    );
    const active: ActiveRefactor = { run, abort, document, stoppedBySave: false };
    this.active.set(key, active);
    this.sessions.set(key, run.session);
    void vscode.commands.executeCommand('setContext', STREAMING_CONTEXT_KEY, true);
    this.deps.log.info(
      `Refactor "${request.label}" on ${request.description} of ${vscode.workspace.asRelativePath(request.document.uri)}: ` +
        `~${promptTokens} prompt tokens, answer budget ${maxOutputTokens}${request.role === undefined ? '' : `, role ${request.role}`}`,
    );

    const outcome = await vscode.window.withProgress(
      {
        location: vscode.ProgressLocation.Notification,
        title: `Latency Copilot: ${request.label} on ${request.description}`,
        cancellable: true,
      },
      async (progress, token) => {
        const cancel = token.onCancellationRequested(() => abort.abort());
        const timer = setInterval(() => progress.report({ message: progressText(run) }), PROGRESS_REFRESH_MS);
        try {
          return await run.outcome;
        } finally {
          clearInterval(timer);
          cancel.dispose();
        }
      },
    );

    this.active.delete(key);
    void vscode.commands.executeCommand('setContext', STREAMING_CONTEXT_KEY, this.active.size > 0);
    const route = routeOf(outcome);
    this.deps.log.info(
      `Refactor "${request.label}" ended: ${outcome.kind}${route === null ? '' : ` on ${route.endpoint.id} (${route.reason})`}`,
    );
    await this.report(request, plan, active, outcome);
    if (outcome.kind === 'review')
      this.reviews.start(request.document, run.session, `${request.label}: ${request.description}`);
    else this.sessions.delete(key);
    return {
      outcome: outcome.kind,
      endpointId: route?.endpoint.id ?? null,
      text: outcome.kind === 'review' ? outcome.text : null,
    };
  }

  /** Tells the person how the refactor ended, with Retry buttons where a retry makes sense. */
  private async report(
    request: RefactorRequest,
    plan: RegionPlan,
    active: ActiveRefactor,
    outcome: RefactorOutcome,
  ): Promise<void> {
    const session = active.run.session;
    const retry = (role: BackendRole | undefined): void => {
      // Edits above the code since it was chosen moved it; the region was tracked through them.
      const shift = session.region.offset - plan.region.offset;
      void this.stream({ ...request, start: request.start + shift, end: request.end + shift, role });
    };
    const offerRetry = (message: string, severity: 'error' | 'warning' | 'info'): void => {
      const again = 'Retry';
      const onLongContext = 'Retry on the long-context model';
      const text = `Latency Copilot: ${message}`;
      const shown =
        severity === 'error'
          ? vscode.window.showErrorMessage(text, again, onLongContext)
          : severity === 'warning'
            ? vscode.window.showWarningMessage(text, again, onLongContext)
            : vscode.window.showInformationMessage(text, again, onLongContext);
      // Never awaited: the command must not hang on a message nobody dismisses.
      void shown.then((choice) => {
        if (choice === again) retry(request.role);
        else if (choice === onLongContext) retry('longContext');
      });
    };
    const unchanged = 'The document is as it was.';
    switch (outcome.kind) {
      case 'review': {
        const route = outcome.route;
        if (route !== null && route.endpoint.role === 'longContext') {
          const why = outcome.retriedOnLongContext
            ? 'the burst model said the prompt was too long for its context window'
            : describeRouteReason(route.reason);
          void vscode.window.showInformationMessage(
            `Latency Copilot: this refactor was served by the long-context model ${route.endpoint.label}: ${why}.`,
          );
        }
        return;
      }
      case 'cancelled':
        if (active.stoppedBySave) {
          void vscode.window.showWarningMessage(
            'Latency Copilot: the file was saved while a refactor was streaming, so the refactor was stopped and the file was saved without it.',
          );
        } else {
          offerRetry(`refactor cancelled. ${unchanged}`, 'info');
        }
        return;
      case 'failed': {
        const error = outcome.error;
        if (!isBackendError(error)) {
          this.deps.log.error(
            `Refactor failed unexpectedly: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
          );
          offerRetry(`the refactor failed unexpectedly (details in the log). ${unchanged}`, 'error');
          return;
        }
        // A connection lost after text had streamed is not "cannot reach": say what happened.
        const lostMidStream = error.reason === 'network' && error.partialText.length > 0 && outcome.route !== null;
        const detail =
          outcome.route === null
            ? error.message
            : lostMidStream
              ? `the connection to ${outcome.route.endpoint.label} was lost mid-stream (${error.message}).`
              : messageForBackendError(error, outcome.route.endpoint).text;
        const restored =
          outcome.restore === 'kept' ? ' Your edit inside the refactored code was kept.' : ` ${unchanged}`;
        const retried = outcome.retriedOnLongContext ? ' (after a retry on the long-context model)' : '';
        offerRetry(
          `the refactor stopped${retried}: ${detail}${restored}`,
          error.reason === 'timeout' || error.reason === 'rate-limited' ? 'warning' : 'error',
        );
        return;
      }
      case 'truncated':
        offerRetry(
          `the answer reached its budget of ${outcome.maxOutputTokens} tokens before the code ended, so it was not applied. ${unchanged} Select less code, or retry on the long-context model.`,
          'warning',
        );
        return;
      case 'empty':
        offerRetry(`the model answered without any code. ${unchanged}`, 'warning');
        return;
      case 'interrupted':
        if (outcome.reason === 'closed') {
          // The editor went away mid-stream: put the original back if the region still holds only streamed text.
          if (!request.document.isClosed && request.document.isDirty) {
            active.document.allowHiddenEdits = true;
            const restored = await session.restore();
            this.deps.log.info(
              `Refactor stopped because its editor closed; original ${restored === 'restored' ? 'restored' : 'left unchanged'}.`,
            );
          }
          return;
        }
        void vscode.window.showInformationMessage(
          request.document.isDirty
            ? 'Latency Copilot: the refactor stopped because you edited inside it. Your edit was kept; undo (Ctrl+Z) takes back the part that had streamed.'
            : 'Latency Copilot: the refactor stopped because the file was reverted.',
        );
        return;
    }
  }

  private documentChanged(event: vscode.TextDocumentChangeEvent): void {
    if (event.contentChanges.length === 0) return;
    const key = event.document.uri.toString();
    const session = this.sessions.get(key);
    if (session === undefined) return;
    session.documentChanged(textChangesOf(event));
    if (session.state === 'accepted' || session.state === 'restored') this.sessions.delete(key);
    this.reviews.documentChanged(event.document);
  }

  /** A save mid-stream saves the original: the refactor stops and its text is taken back before the file is written. */
  private willSave(event: vscode.TextDocumentWillSaveEvent): void {
    const active = this.active.get(event.document.uri.toString());
    if (active === undefined || !active.run.session.hasWritten) return;
    active.stoppedBySave = true;
    active.abort.abort();
    event.waitUntil(active.run.outcome.then(() => []));
  }

  private cancelActive(): void {
    const document = vscode.window.activeTextEditor?.document;
    const active = document === undefined ? undefined : this.active.get(document.uri.toString());
    if (active !== undefined) active.abort.abort();
    else for (const other of this.active.values()) other.abort.abort();
  }
}

interface InstructionChoice {
  readonly label: string;
  readonly instruction: string;
  readonly placement: RefactorPlacement;
  readonly outputFactor: number;
}

function fromArgs(args: RefactorArguments): InstructionChoice | undefined {
  const preset = args.presetId === undefined ? undefined : findRefactorPreset(args.presetId);
  if (preset !== undefined) return preset;
  if (args.instruction === undefined || args.instruction.trim().length === 0) return undefined;
  return { label: 'Refactor', instruction: args.instruction.trim(), placement: 'replace', outputFactor: 2 };
}

/** The quick pick: presets, plus whatever the person types as a free instruction (shown first once typed). */
async function pickInstruction(description: string): Promise<InstructionChoice | undefined> {
  const quickPick = vscode.window.createQuickPick<vscode.QuickPickItem & { readonly choice: InstructionChoice }>();
  quickPick.title = `Refactor ${description}`;
  quickPick.placeholder = 'Pick a refactor, or type what to do and press Enter';
  const presetItems = REFACTOR_PRESETS.map((preset) => ({
    label: preset.label,
    detail: preset.detail,
    choice: preset,
  }));
  quickPick.items = presetItems;
  quickPick.matchOnDetail = true;
  const disposables: vscode.Disposable[] = [quickPick];
  const picked = await new Promise<InstructionChoice | undefined>((resolve) => {
    disposables.push(
      quickPick.onDidChangeValue((value) => {
        const typed = value.trim();
        const custom =
          typed.length === 0
            ? []
            : [
                {
                  label: `$(edit) ${typed}`,
                  description: 'your instruction',
                  alwaysShow: true,
                  choice: { label: 'Refactor', instruction: typed, placement: 'replace' as const, outputFactor: 2 },
                },
              ];
        quickPick.items = [...custom, ...presetItems];
      }),
      quickPick.onDidAccept(() => {
        resolve(quickPick.selectedItems[0]?.choice);
        quickPick.hide();
      }),
      quickPick.onDidHide(() => resolve(undefined)),
    );
    quickPick.show();
  });
  for (const disposable of disposables) disposable.dispose();
  return picked;
}

function progressText(run: RefactorRun): string {
  const generation = run.generation();
  if (generation === null) return 'starting…';
  const route = generation.route();
  const tokens = generation.outputTokens();
  const speed = generation.liveTokensPerSec();
  const where =
    route === null
      ? ''
      : ` · ${route.endpoint.label}${route.endpoint.role === 'longContext' ? ` (long-context: ${describeRouteReason(route.reason)})` : ''}`;
  if (tokens === 0) return `waiting for the first token${where}`;
  return `${tokens} tokens${speed === null ? '' : ` · ${Math.round(speed)} tok/s`}${where}`;
}

function routeOf(outcome: RefactorOutcome): RouteInfo | null {
  return 'route' in outcome ? outcome.route : null;
}
