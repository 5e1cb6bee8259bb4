import { exclusionByContent } from './fileSafety';
import type { ExclusionReason } from './fileSafety';
import type { LineStarts } from './lineStarts';
import { outlineBytes } from './sourceOutline';

/** Lines per chunk: about one screen, small enough to rank precisely, large enough to carry context. */
export const CHUNK_LINES = 60;

/** Numbers per chunk in `IndexableFile.chunkBounds`: first byte, end byte (exclusive), first line, end line (exclusive). */
export const BOUND_FIELDS = 4;

/**
 * Separates records in the compact outline strings: symbols as `kind name line` records, imports as specifiers. Never
 * part of a record (names and specifiers are found on one line).
 */
export const RECORD_SEPARATOR = '\n';

/**
 * What indexing needs from one file's bytes that depends on nothing else (no dictionary, no index): whether its content
 * keeps it out, where its chunks are, and its outline. Computed on whichever thread read the file (the reader thread
 * on a cold index), so the thread that owns the index only counts terms.
 */
export type FileAnalysis = { readonly kind: 'excluded'; readonly reason: ExclusionReason } | IndexableFile;

export interface IndexableFile {
  readonly kind: 'indexable';
  readonly lineCount: number;
  /** `BOUND_FIELDS` numbers per chunk, chunks in file order; this file's are chunks `firstChunk .. firstChunk + chunkCount`. */
  readonly chunkBounds: ArrayLike<number>;
  readonly firstChunk: number;
  readonly chunkCount: number;
  /** The symbols as `kind name line` records joined by `RECORD_SEPARATOR` ('' for none). */
  readonly symbolRecords: string;
  /** The import specifiers joined by `RECORD_SEPARATOR` ('' for none). */
  readonly importRecords: string;
}

/**
 * Analyses a file's UTF-8 bytes: content exclusion, then chunks (`CHUNK_LINES` lines, or fewer ending at a blank line
 * once three quarters full) appended to `bounds`, then the outline. `lines` is scratch space reused between files;
 * `bounds` may hold earlier files' chunks (a batch's).
 */
export function analyseFile(bytes: Uint8Array, path: string, lines: LineStarts, bounds: number[]): FileAnalysis {
  const byContent = exclusionByContent(bytes);
  if (byContent !== null) return { kind: 'excluded', reason: byContent };
  lines.scan(bytes);
  const lineCount = lines.count;
  const firstChunk = Math.floor(bounds.length / BOUND_FIELDS);
  let chunkCount = 0;
  let chunkStartLine = 0;
  for (let line = 0; line < lineCount; line += 1) {
    const linesInChunk = line + 1 - chunkStartLine;
    const next = lines.end(line) + 1;
    const atBlank = next < bytes.length && (bytes[next] === 10 || bytes[next] === 13);
    if (line + 1 === lineCount || linesInChunk >= CHUNK_LINES || (atBlank && linesInChunk >= (CHUNK_LINES * 3) / 4)) {
      bounds.push(lines.start(chunkStartLine), Math.min(next, bytes.length), chunkStartLine, line + 1);
      chunkCount += 1;
      chunkStartLine = line + 1;
    }
  }
  const outline = outlineBytes(bytes, path, lines);
  return {
    kind: 'indexable',
    lineCount,
    chunkBounds: bounds,
    firstChunk,
    chunkCount,
    symbolRecords: outline.symbols
      .map((symbol) => `${symbol.kind} ${symbol.name} ${symbol.line}`)
      .join(RECORD_SEPARATOR),
    importRecords: outline.imports.join(RECORD_SEPARATOR),
  };
}
