/**
 * The vocabulary of next-edit suggestions, shared by the prompt formats, the streaming diff, the engine, the
 * editor adapter, the simulator and the speed panel. Offsets are UTF-16 code units into the document text the prediction
 * was asked for (the snapshot); lines are 0-based.
 */

/** The model families that have a native next-edit format, and the generic one for instruction-tuned chat models. */
export type NextEditFormatId = 'generic' | 'zeta' | 'sweep' | 'instinct';

/** Every format id, for settings validation. */
export const NEXT_EDIT_FORMAT_IDS: readonly NextEditFormatId[] = ['generic', 'zeta', 'sweep', 'instinct'];

/** The region the model may rewrite: whole lines around the cursor. */
export interface EditableRegion {
  /** Offset of the region's first character in the snapshot. */
  readonly start: number;
  /** Offset just past the region's last character (after its last line's line break, when it has one). */
  readonly end: number;
  /** First line of the region. */
  readonly startLine: number;
  /** The line after the region's last line (exclusive). */
  readonly endLine: number;
  /** The snapshot's text from `start` to `end`. */
  readonly text: string;
  /** The cursor's offset within `text`. */
  readonly cursorOffset: number;
}

/** One recent edit as a unified diff (`--- a/path`, `+++ b/path`, `@@` hunks), coalesced; the prompt lists them newest last. */
export interface RecentEditDiff {
  /** The file's path relative to its workspace folder, POSIX separators. */
  readonly path: string;
  readonly diff: string;
}

/** Text from a recently viewed (or open) file that may help the model, already cleared by the file gate. */
export interface ViewedSnippet {
  readonly path: string;
  readonly text: string;
}

/** What a next-edit prompt is built from. */
export interface NextEditPromptInput {
  /** The edited file's path relative to its folder. */
  readonly path: string;
  readonly languageId: string;
  /** The document text as of the snapshot. */
  readonly text: string;
  readonly region: EditableRegion;
  /** Recent edits of this and other files, oldest first, newest last. */
  readonly history: readonly RecentEditDiff[];
  readonly snippets: readonly ViewedSnippet[];
}

/** One predicted change, in offsets of the snapshot text. An insertion has `start === end`; a deletion an empty `newText`. */
export interface PredictedHunk {
  readonly start: number;
  readonly end: number;
  /** The snapshot's text from `start` to `end`. */
  readonly oldText: string;
  readonly newText: string;
}

/** Why a rewrite was discarded (one log line each; nothing of it is applied). */
export type RewriteRejection =
  /** The answer is not in the format asked for (markers missing, no code block). */
  | 'unparsable'
  /** The answer changed text outside the editable region (formats that echo the context around it). */
  | 'outside-region'
  /** The answer dropped the whole region (empty, or only a line or two of a long region). */
  | 'drops-region'
  /** The answer repeats the region (twice or more its length, or its text twice over). */
  | 'repeats-region'
  /** The stream ended before the region did (cut off by a limit or a failure). */
  | 'incomplete';

/** What the next-edit feature reports to the speed panel, besides the requests' own records (task `next-edit`). */
export interface NextEditReporter {
  /** A prediction's first hunk was shown; `latencyMs` runs from the edit that triggered it. */
  nextEditShown(sample: NextEditShownSample): void;
  /** The person applied a predicted hunk with Tab. */
  nextEditApplied(endpointId: string): void;
  /** The person dismissed a predicted hunk with Escape (or by typing elsewhere). */
  nextEditDismissed(endpointId: string): void;
}

/** One shown prediction, for the panel's next-edit figures. */
export interface NextEditShownSample {
  readonly endpointId: string;
  readonly endpointLabel: string;
  /** Edit -> first hunk shown, ms. */
  readonly latencyMs: number;
  /** Edit -> whole region received, ms; null when it had not ended when the first hunk was shown. */
  readonly wholeRegionMs: number | null;
}

/** How an edit asks for a prediction: after a pause in typing, at once after a structural edit, after Tab, or by command. */
export type NextEditTrigger = 'typing' | 'structural' | 'applied' | 'manual';

/** The document as a prediction sees it, read when the request is made (after the pause), not at every keystroke. */
export interface NextEditDocumentSnapshot {
  /** The document's URI as a string. */
  readonly documentKey: string;
  /** The editor's version of the document the text is from. */
  readonly version: number;
  /** Path relative to its workspace folder (POSIX). */
  readonly path: string;
  readonly languageId: string;
  readonly text: string;
  readonly cursorOffset: number;
  /** Recent edits (this and other files), oldest first; read when the prompt is built. */
  readonly history: () => readonly RecentEditDiff[];
  /** Text of recently viewed files the gate allows; read when the prompt is built. */
  readonly snippets: () => readonly ViewedSnippet[];
}

/** One prediction as the editor sees it. Hunks are in offsets of `text`, the snapshot it was made from. */
export interface NextEditPredictionInfo {
  readonly id: number;
  readonly documentKey: string;
  readonly version: number;
  /** The snapshot's text (hunks' offsets are into it). */
  readonly text: string;
  readonly region: EditableRegion;
  /** Clock time (ms) of the edit that triggered it: edit-to-hunk latency runs from here. */
  readonly editedAtMs: number;
  /** The endpoint serving it, once the router has chosen (null before). */
  endpoint(): { readonly id: string; readonly label: string } | null;
}

/** How a prediction ended. Only `complete` predictions may be applied. */
export type NextEditOutcome =
  | { readonly kind: 'complete'; readonly hunks: readonly PredictedHunk[] }
  | { readonly kind: 'discarded'; readonly why: RewriteRejection }
  | { readonly kind: 'failed'; readonly message: string }
  | { readonly kind: 'aborted' };

/** What the engine tells the editor as a prediction streams. */
export interface NextEditListener {
  /** Hunks confirmed since the last call (the stream has passed them and re-joined the original), in order. */
  hunks(prediction: NextEditPredictionInfo, hunks: readonly PredictedHunk[]): void;
  /** The prediction ended; a `complete` outcome lists every hunk (including those already sent). */
  ended(prediction: NextEditPredictionInfo, outcome: NextEditOutcome): void;
}

/** Whether next edit runs now, on which backend, and why (the status bar tooltip's line). */
export interface NextEditStatus {
  readonly state: 'on' | 'off' | 'over-budget' | 'no-backend';
  /** The backend predictions go to, when `on`. */
  readonly endpointLabel: string | null;
  /** One sentence for the tooltip, e.g. "Groq llama-3.1-8b: ~180 ms (p95 TTFT 120 ms + 250 tokens at 4,100 tok/s), within 400 ms". */
  readonly detail: string;
}
