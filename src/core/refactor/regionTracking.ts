import type { TextChange } from './refactorDocument';

/** A range of a document in UTF-16 offsets. */
export interface OffsetRegion {
  readonly offset: number;
  readonly length: number;
}

/** Where a document change fell relative to a tracked region, and the region after it. */
export interface TrackedChange {
  /** True when the change overlapped the region: the region's content is no longer what the tracker wrote. */
  readonly touched: boolean;
  readonly region: OffsetRegion;
}

/**
 * Moves `region` through one event's changes (offsets of each relative to the text before the event, as VS Code
 * reports them: non-overlapping, in descending order). A change that ends at or before the region start shifts it (an
 * insertion exactly at the start counts as before); one that starts at or after the region end leaves it; anything
 * else touches it, and the region grows to cover the change so that the person's text is inside it.
 */
export function trackRegion(region: OffsetRegion, changes: readonly TextChange[]): TrackedChange {
  let start = region.offset;
  let end = region.offset + region.length;
  let shift = 0;
  let touched = false;
  let growEnd = 0;
  for (const change of changes) {
    const changeEnd = change.offset + change.length;
    const delta = change.text.length - change.length;
    if (changeEnd <= region.offset) {
      shift += delta;
    } else if (change.offset >= region.offset + region.length) {
      // After the region: nothing moves.
    } else {
      touched = true;
      if (change.offset < start) start = change.offset;
      if (changeEnd > end) end = changeEnd;
      growEnd += delta;
    }
  }
  return { touched, region: { offset: start + shift, length: end - start + growEnd } };
}
