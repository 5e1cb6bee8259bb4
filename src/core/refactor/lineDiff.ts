/** A run of lines removed from the original, shown at a line of the new text. */
export interface RemovedBlock {
  /** The line of the new text (0-based, within the region) the removed lines sat above; equals the new line count at the end. */
  readonly beforeNewLine: number;
  readonly lines: readonly string[];
}

/** The marks a review shows: which lines of the new text are added, and which original lines were removed where. */
export interface ReviewMarks {
  /** 0-based line indexes within the new text. */
  readonly addedLines: readonly number[];
  readonly removedBlocks: readonly RemovedBlock[];
}

/** One step of a line diff. */
export type LineDiffOp =
  | { readonly kind: 'same'; readonly oldIndex: number; readonly newIndex: number }
  | { readonly kind: 'removed'; readonly oldIndex: number }
  | { readonly kind: 'added'; readonly newIndex: number };

/**
 * A shortest line diff (Myers' O(ND) algorithm) after trimming the common head and tail. When the difference exceeds
 * `maxEdits` lines (a rewrite of everything), it reports all old lines removed and all new lines added instead of
 * searching further: the review then marks the whole region, which is what such a change is.
 */
export function diffLines(oldLines: readonly string[], newLines: readonly string[], maxEdits = 1000): LineDiffOp[] {
  let head = 0;
  while (head < oldLines.length && head < newLines.length && oldLines[head] === newLines[head]) head += 1;
  let tail = 0;
  while (
    tail < oldLines.length - head &&
    tail < newLines.length - head &&
    oldLines[oldLines.length - 1 - tail] === newLines[newLines.length - 1 - tail]
  ) {
    tail += 1;
  }
  const ops: LineDiffOp[] = [];
  for (let index = 0; index < head; index += 1) ops.push({ kind: 'same', oldIndex: index, newIndex: index });
  const oldMiddle = oldLines.slice(head, oldLines.length - tail);
  const newMiddle = newLines.slice(head, newLines.length - tail);
  for (const op of myers(oldMiddle, newMiddle, maxEdits)) {
    if (op.kind === 'same') ops.push({ kind: 'same', oldIndex: op.oldIndex + head, newIndex: op.newIndex + head });
    else if (op.kind === 'removed') ops.push({ kind: 'removed', oldIndex: op.oldIndex + head });
    else ops.push({ kind: 'added', newIndex: op.newIndex + head });
  }
  for (let index = 0; index < tail; index += 1) {
    ops.push({
      kind: 'same',
      oldIndex: oldLines.length - tail + index,
      newIndex: newLines.length - tail + index,
    });
  }
  return ops;
}

function myers(a: readonly string[], b: readonly string[], maxEdits: number): LineDiffOp[] {
  const n = a.length;
  const m = b.length;
  if (n === 0) return b.map((_, newIndex) => ({ kind: 'added', newIndex }));
  if (m === 0) return a.map((_, oldIndex) => ({ kind: 'removed', oldIndex }));
  const max = Math.min(n + m, maxEdits);
  const offset = max + 1;
  const v = new Int32Array(2 * max + 3);
  const trace: Int32Array[] = [];
  let found = false;
  for (let d = 0; d <= max && !found; d += 1) {
    trace.push(v.slice());
    for (let k = -d; k <= d; k += 2) {
      const down = k === -d || (k !== d && (v[offset + k - 1] ?? 0) < (v[offset + k + 1] ?? 0));
      let x = down ? (v[offset + k + 1] ?? 0) : (v[offset + k - 1] ?? 0) + 1;
      let y = x - k;
      while (x < n && y < m && a[x] === b[y]) {
        x += 1;
        y += 1;
      }
      v[offset + k] = x;
      if (x >= n && y >= m) {
        found = true;
        break;
      }
    }
  }
  if (!found) {
    return [
      ...a.map((_, oldIndex): LineDiffOp => ({ kind: 'removed', oldIndex })),
      ...b.map((_, newIndex): LineDiffOp => ({ kind: 'added', newIndex })),
    ];
  }
  // Walk the trace back from the end to recover the edit script.
  const ops: LineDiffOp[] = [];
  let x = n;
  let y = m;
  for (let d = trace.length - 1; d > 0; d -= 1) {
    const previous = trace[d];
    if (previous === undefined) break;
    const k = x - y;
    const down = k === -d || (k !== d && (previous[offset + k - 1] ?? 0) < (previous[offset + k + 1] ?? 0));
    const previousK = down ? k + 1 : k - 1;
    const previousX = previous[offset + previousK] ?? 0;
    const previousY = previousX - previousK;
    while (x > previousX && y > previousY) {
      x -= 1;
      y -= 1;
      ops.push({ kind: 'same', oldIndex: x, newIndex: y });
    }
    if (down) {
      y -= 1;
      ops.push({ kind: 'added', newIndex: y });
    } else {
      x -= 1;
      ops.push({ kind: 'removed', oldIndex: x });
    }
  }
  while (x > 0 && y > 0) {
    x -= 1;
    y -= 1;
    ops.push({ kind: 'same', oldIndex: x, newIndex: y });
  }
  return ops.reverse();
}

/** The review marks for a region whose text went from `original` to `updated` (both split on `\n`; `\r` is ignored). */
export function reviewMarks(original: string, updated: string): ReviewMarks {
  const oldLines = splitLines(original);
  const newLines = splitLines(updated);
  const addedLines: number[] = [];
  const removedBlocks: RemovedBlock[] = [];
  let newLine = 0;
  let removed: string[] = [];
  const closeBlock = (): void => {
    if (removed.length > 0) removedBlocks.push({ beforeNewLine: newLine, lines: removed });
    removed = [];
  };
  for (const op of diffLines(oldLines, newLines)) {
    if (op.kind === 'removed') {
      removed.push(oldLines[op.oldIndex] ?? '');
      continue;
    }
    closeBlock();
    if (op.kind === 'added') addedLines.push(op.newIndex);
    newLine = op.newIndex + 1;
  }
  closeBlock();
  return { addedLines, removedBlocks };
}

function splitLines(text: string): string[] {
  return text.replace(/\r/g, '').split('\n');
}
