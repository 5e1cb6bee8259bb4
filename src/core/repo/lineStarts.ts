/**
 * Where each line of a UTF-8 file starts, found in one pass and shared by the chunker and the outline (each used to
 * search for every newline again). The offsets live in a typed array reused from file to file.
 */
export class LineStarts {
  /** `offsets[i]` is the byte where line `i` starts; `offsets[count]` is one past the end (a sentinel). */
  private offsets = new Int32Array(4_096);
  /** Lines: newlines + 1 (text ending in a newline has a last, empty line, as `split('\n')` gives). */
  count = 0;

  /** Finds the lines of `bytes`, replacing what was found before. */
  scan(bytes: Uint8Array): void {
    let count = 0;
    let start = 0;
    const length = bytes.length;
    for (;;) {
      if (count + 2 > this.offsets.length) this.grow();
      this.offsets[count] = start;
      count += 1;
      const newline = bytes.indexOf(10, start);
      if (newline < 0) break;
      start = newline + 1;
    }
    this.offsets[count] = length + 1;
    this.count = count;
  }

  /** The first byte of line `line`. */
  start(line: number): number {
    return this.offsets[line] ?? 0;
  }

  /** The byte after line `line` (its newline, or the end of the file). */
  end(line: number): number {
    return (this.offsets[line + 1] ?? 1) - 1;
  }

  private grow(): void {
    const bigger = new Int32Array(this.offsets.length * 2);
    bigger.set(this.offsets);
    this.offsets = bigger;
  }
}
