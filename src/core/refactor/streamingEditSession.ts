import type { Clock } from '../clock';
import { systemScheduler, type ScheduledTask, type Scheduler } from '../scheduler';
import type { EditOutcome, RefactorDocument, TextChange, UndoStops } from './refactorDocument';
import { trackRegion, type OffsetRegion } from './regionTracking';

/**
 * Where a session is:
 * - `streaming`: text is arriving and being written in frame-sized batches;
 * - `finishing`: the stream ended; the last text is being written;
 * - `review`: the region holds the whole new text; the person accepts or rejects it;
 * - `interrupted`: the person edited inside the region (their edit wins) or the document closed; the session stopped
 *   writing and will not touch the region again;
 * - `restored`: the region holds the original text again (failure, cancel or reject);
 * - `accepted`: the person kept the new text (or edited it during review, which keeps it too).
 */
export type SessionState = 'streaming' | 'finishing' | 'review' | 'interrupted' | 'restored' | 'accepted';

/** Why a session stopped without being asked to. */
export type InterruptReason = 'edited-inside' | 'closed';

/** Options of a `StreamingEditSession`. */
export interface StreamingEditSessionOptions {
  /** The region the new text replaces. Zero-length for an insertion. */
  readonly region: OffsetRegion;
  readonly clock: Clock;
  readonly scheduler?: Scheduler;
  /** Minimum time between two streamed edits, in ms. */
  readonly frameMs?: number;
  /** Called once when the person's edit or a closed document stops the session. */
  readonly onInterrupted?: (reason: InterruptReason) => void;
}

/** What `finish` found. */
export type FinishResult =
  | { readonly kind: 'review'; readonly text: string }
  | { readonly kind: 'empty' }
  | { readonly kind: 'interrupted'; readonly reason: InterruptReason };

/** What `restore` and `reject` did. `kept` means the person's edit inside the region prevented an exact restore. */
export type RestoreResult = 'restored' | 'untouched' | 'kept';

/** Counters for the benchmark and the log. Times are `clock.now()` values in ms. */
export interface SessionCounters {
  edits: number;
  staleEdits: number;
  firstEditAtMs: number | null;
  lastEditAtMs: number | null;
}

/**
 * About one editor frame at 60 Hz, in ms. Edits are batched to this pace: a person cannot see faster updates, and at
 * 3,000 tokens/s one edit per token would be 3,000 cross-process edits a second.
 */
export const FRAME_MS = 16;

// How many times an edit refused because the document changed first is retried before giving up (each retry waits
// for a frame, so this is about a second of continuous typing).
const MAX_STALE_RETRIES = 60;

interface InFlightEdit {
  readonly change: TextChange;
  /** True once the document's change event for this edit has been seen. */
  echoed: boolean;
}

/**
 * Streams new text into a region of a document with the editor's edit semantics, and never loses the person's text.
 * - Text is written in batches, at most one edit per frame (`frameMs`) and one edit in flight at a time: never one edit
 *   per token. The first edit replaces the original text; the later ones append at the region's end.
 * - The last character is held back until `finish`, so that the final edit always carries the undo stop that closes
 *   the refactor's undo group: the first edit opens it with a stop before, the ones in between add none, so the whole
 *   refactor is ONE undo step. If anything may have split that group (the person typed elsewhere in the document
 *   during the stream, or the document took edits without undo control), `finish` puts the original back and applies
 *   the final text as one edit, so that one undo still restores the original.
 * - Every change the document reports must be passed to `documentChanged`. The session's own edits are recognised;
 *   others before the region move it, others after it leave it, and one inside it stops the session for good: the
 *   person's edit wins and nothing they typed is overwritten.
 */
export class StreamingEditSession {
  private stateValue: SessionState = 'streaming';
  private regionValue: OffsetRegion;
  /** The text the region held before the first edit. */
  readonly original: string;
  /** New text received but not yet written, with the document's line ends. */
  private pending = '';
  /** True once the first edit (the one that replaced the original) has been applied. */
  private started = false;
  private inFlight: InFlightEdit | null = null;
  private inFlightDone: Promise<void> | null = null;
  /** An applied edit whose change event had not arrived when its promise resolved: skip that event once. */
  private lateEcho: TextChange | null = null;
  private timer: ScheduledTask | null = null;
  /** When the last edit was sent (applied or refused), in ms: the next waits a frame after it. */
  private lastAttemptAtMs = Number.NEGATIVE_INFINITY;
  /** True once a change not made by the session overlapped the region: it is never overwritten after that. */
  private regionTouched = false;
  /** True when the undo group of the streamed edits may have been split. */
  private ungrouped = false;
  private readonly scheduler: Scheduler;
  private readonly frameMs: number;
  private readonly clock: Clock;
  private readonly onInterrupted: ((reason: InterruptReason) => void) | undefined;
  readonly counters: SessionCounters = { edits: 0, staleEdits: 0, firstEditAtMs: null, lastEditAtMs: null };

  constructor(
    private readonly document: RefactorDocument,
    options: StreamingEditSessionOptions,
  ) {
    this.regionValue = options.region;
    this.original = document.getText().slice(options.region.offset, options.region.offset + options.region.length);
    this.clock = options.clock;
    this.scheduler = options.scheduler ?? systemScheduler;
    this.frameMs = options.frameMs ?? FRAME_MS;
    this.onInterrupted = options.onInterrupted;
  }

  get state(): SessionState {
    return this.stateValue;
  }

  // A method, not the field: the state changes across awaits, which TypeScript's narrowing cannot see.
  private currentState(): SessionState {
    return this.stateValue;
  }

  /** The region's current place in the document. */
  get region(): OffsetRegion {
    return this.regionValue;
  }

  /** True once the document holds streamed text (and so differs from the original). */
  get hasWritten(): boolean {
    return this.started;
  }

  /** The region's current text. */
  regionText(): string {
    return this.document.getText().slice(this.regionValue.offset, this.regionValue.offset + this.regionValue.length);
  }

  /** Adds streamed text (with `\n` line ends). Cheap: the edit happens at the next frame. */
  append(text: string): void {
    if (this.stateValue !== 'streaming' || text.length === 0) return;
    this.pending += this.document.eol === '\n' ? text : text.replace(/\n/g, '\r\n');
    this.scheduleFlush();
  }

  /** Must be called with every change the document reports, in order, the session's own edits included. */
  documentChanged(changes: readonly TextChange[]): void {
    const only = changes.length === 1 ? changes[0] : undefined;
    if (
      only !== undefined &&
      this.inFlight !== null &&
      !this.inFlight.echoed &&
      sameChange(only, this.inFlight.change)
    ) {
      this.inFlight.echoed = true;
      this.recordOwnEdit(this.inFlight.change);
      return;
    }
    if (only !== undefined && this.lateEcho !== null && sameChange(only, this.lateEcho)) {
      this.lateEcho = null;
      return;
    }
    const tracked = trackRegion(this.regionValue, changes);
    this.regionValue = tracked.region;
    if (tracked.touched) this.regionTouched = true;
    if (this.stateValue === 'streaming' || this.stateValue === 'finishing') {
      // The person's own edits push undo stops of their own between ours.
      if (this.started) this.ungrouped = true;
      if (tracked.touched) this.interrupt('edited-inside');
    } else if (this.stateValue === 'review' && tracked.touched) {
      // Editing the new text during review keeps it: a reject would overwrite what the person typed.
      this.stateValue = 'accepted';
    }
  }

  /**
   * Ends the stream: writes the rest (plus `trailing`, e.g. the final newline the original had), makes sure the
   * refactor undoes in one step, and enters review.
   */
  async finish(trailing = ''): Promise<FinishResult> {
    if (this.currentState() === 'interrupted') return { kind: 'interrupted', reason: this.interruptReason };
    if (this.stateValue !== 'streaming') throw new Error(`finish() in state ${this.stateValue}`);
    if (trailing.length > 0 && (this.pending.length > 0 || this.started)) this.append(trailing);
    this.stateValue = 'finishing';
    this.clearTimer();
    let stale = 0;
    while (this.currentState() === 'finishing') {
      if (this.inFlightDone !== null) {
        await this.inFlightDone;
        continue;
      }
      if (this.pending.length === 0) break;
      const outcome = await this.writePending(true);
      if (outcome === 'stale') {
        stale += 1;
        if (stale > MAX_STALE_RETRIES) this.interrupt('edited-inside');
        else await this.nextFrame();
      }
    }
    if (this.currentState() === 'interrupted') return { kind: 'interrupted', reason: this.interruptReason };
    if (!this.started) {
      this.stateValue = 'restored';
      return { kind: 'empty' };
    }
    if (this.ungrouped) await this.regroupUndo();
    if (this.currentState() !== 'finishing') return { kind: 'interrupted', reason: this.interruptReason };
    this.stateValue = 'review';
    return { kind: 'review', text: this.regionText() };
  }

  /**
   * Stops streaming and puts the original text back (cancel, error, disconnect, timeout). The restoring edit joins
   * the refactor's open undo group, so the undo history holds no half refactor either. Does nothing to a region the
   * person edited (`kept`).
   */
  async restore(): Promise<RestoreResult> {
    if (this.stateValue === 'restored') return 'untouched';
    if (this.stateValue === 'accepted') return 'kept';
    const fromReview = this.stateValue === 'review';
    // A session stopped because its editor went away may still restore, through whatever path the document offers
    // then (VS Code: a workspace edit); one stopped by the person's edit never does.
    const afterClose = this.stateValue === 'interrupted' && this.interruptReason === 'closed';
    if (this.stateValue !== 'interrupted') this.stateValue = 'finishing';
    this.clearTimer();
    this.pending = '';
    while (this.inFlightDone !== null) await this.inFlightDone;
    if (this.currentState() === 'interrupted' && !afterClose) return this.started ? 'kept' : 'untouched';
    if (!this.started) {
      if (!afterClose) this.stateValue = 'restored';
      return 'untouched';
    }
    if (this.regionTouched) return 'kept';
    const stops = fromReview
      ? { undoStopBefore: true, undoStopAfter: true }
      : { undoStopBefore: false, undoStopAfter: true };
    const outcome = await this.replaceRegion(this.original, stops);
    if (outcome === 'applied' || outcome === 'appliedUngrouped') {
      this.stateValue = 'restored';
      return 'restored';
    }
    return 'kept';
  }

  /** Review: put the original back, as its own undo step. */
  async reject(): Promise<RestoreResult> {
    if (this.stateValue !== 'review') return this.stateValue === 'restored' ? 'untouched' : 'kept';
    return this.restore();
  }

  /** Review: keep the new text. The document is already as it should be and undoes in one step. */
  accept(): void {
    if (this.stateValue === 'review') this.stateValue = 'accepted';
  }

  private interruptReason: InterruptReason = 'edited-inside';

  /** Why the session was interrupted, or null when it was not. */
  get interruptedBy(): InterruptReason | null {
    return this.stateValue === 'interrupted' ? this.interruptReason : null;
  }

  private interrupt(reason: InterruptReason): void {
    if (this.stateValue === 'interrupted') return;
    this.interruptReason = reason;
    this.stateValue = 'interrupted';
    this.pending = '';
    this.clearTimer();
    this.onInterrupted?.(reason);
  }

  private scheduleFlush(): void {
    if (this.timer !== null || this.inFlightDone !== null || this.stateValue !== 'streaming') return;
    if (this.pending.length <= holdBackLength(this.pending)) return;
    const delay = Math.max(0, this.lastAttemptAtMs + this.frameMs - this.clock.now());
    this.timer = this.scheduler.schedule(delay, () => {
      this.timer = null;
      void this.writePending(false).then(() => this.scheduleFlush());
    });
  }

  /** Writes the pending text (all of it when `final`, else all but the held-back last character) as one edit. */
  private writePending(final: boolean): Promise<EditOutcome | 'nothing'> {
    if (this.inFlightDone !== null) return Promise.resolve('nothing');
    const text = final ? this.pending : this.pending.slice(0, this.pending.length - holdBackLength(this.pending));
    if (text.length === 0) return Promise.resolve('nothing');
    const change: TextChange = this.started
      ? { offset: this.regionValue.offset + this.regionValue.length, length: 0, text }
      : { offset: this.regionValue.offset, length: this.regionValue.length, text };
    const stops: UndoStops = { undoStopBefore: !this.started, undoStopAfter: final };
    // The written text leaves `pending` in the same step that ends the in-flight edit: anything awaiting that edit
    // (finish, restore) must never see it as both written and pending.
    return this.sendEdit(change, stops, () => {
      this.pending = this.pending.slice(text.length);
    });
  }

  /** Replaces the whole region (restore, reject, regroup), retrying while the document reports `stale`. */
  private async replaceRegion(text: string, stops: UndoStops): Promise<EditOutcome> {
    for (let attempt = 0; attempt <= MAX_STALE_RETRIES; attempt += 1) {
      if (this.regionTouched) return 'closed';
      const change: TextChange = { offset: this.regionValue.offset, length: this.regionValue.length, text };
      const outcome = await this.sendEdit(change, stops);
      if (outcome !== 'stale') return outcome;
      await this.nextFrame();
    }
    return 'stale';
  }

  private sendEdit(change: TextChange, stops: UndoStops, onApplied?: () => void): Promise<EditOutcome> {
    const inFlight: InFlightEdit = { change, echoed: false };
    this.lastAttemptAtMs = this.clock.now();
    this.inFlight = inFlight;
    const result = Promise.resolve(this.document.applyEdit(change, stops)).then(
      (outcome) => outcome,
      (): EditOutcome => 'closed',
    );
    const done = result.then((outcome) => {
      this.inFlight = null;
      this.inFlightDone = null;
      if (outcome === 'applied' || outcome === 'appliedUngrouped') {
        if (!inFlight.echoed) {
          this.recordOwnEdit(change);
          this.lateEcho = change;
        }
        if (outcome === 'appliedUngrouped') this.ungrouped = true;
        onApplied?.();
        const now = this.clock.now();
        this.counters.edits += 1;
        this.counters.firstEditAtMs ??= now;
        this.counters.lastEditAtMs = now;
      } else if (outcome === 'stale') {
        this.counters.staleEdits += 1;
      } else {
        this.interrupt('closed');
      }
    });
    this.inFlightDone = done;
    return done.then(() => result);
  }

  /** Updates the region for one of the session's own edits. */
  private recordOwnEdit(change: TextChange): void {
    const region = this.regionValue;
    if (change.offset === region.offset && change.length === region.length) {
      this.regionValue = { offset: region.offset, length: change.text.length };
      this.started = true;
    } else {
      // An append at the region's end.
      this.regionValue = { offset: region.offset, length: region.length + change.text.length - change.length };
    }
  }

  /** Makes one undo step lead from the final text back to the original: original back, then the final text at once. */
  private async regroupUndo(): Promise<void> {
    const finalText = this.regionText();
    const stops = { undoStopBefore: true, undoStopAfter: true };
    const back = await this.replaceRegion(this.original, stops);
    if (back !== 'applied' && back !== 'appliedUngrouped') return;
    await this.replaceRegion(finalText, stops);
    this.ungrouped = false;
  }

  private clearTimer(): void {
    this.timer?.cancel();
    this.timer = null;
  }

  private nextFrame(): Promise<void> {
    return new Promise((resolve) => {
      this.scheduler.schedule(this.frameMs, resolve);
    });
  }
}

function sameChange(a: TextChange, b: TextChange): boolean {
  return a.offset === b.offset && a.length === b.length && a.text === b.text;
}

/** How much of the pending text's end to hold back: one character, never half a CRLF or half a surrogate pair. */
function holdBackLength(pending: string): number {
  if (pending.length === 0) return 0;
  if (pending.endsWith('\r\n')) return 2;
  const last = pending.charCodeAt(pending.length - 1);
  if (last >= 0xdc00 && last <= 0xdfff && pending.length >= 2) return 2;
  return 1;
}
