/** How the document indents, and where the refactored code sits in it. */
export interface ReindentOptions {
  /** The indentation of the first line of the code being replaced (spaces and/or tabs). */
  readonly baseIndent: string;
  /**
   * True when the first line's indentation is already in the document before the replaced region (the selection
   * starts after it), so the first output line must not get it again.
   */
  readonly firstLineIndentPresent: boolean;
  /** The editor's indentation style: spaces (and how many per level) or tabs. */
  readonly insertSpaces: boolean;
  readonly tabSize: number;
}

/**
 * Re-indents streamed code so that it sits where the replaced code sat: the indentation of the model's first line is
 * taken as its base and replaced by the selection's base; the rest of each line's indentation is kept, converted
 * between tabs and spaces when the model used the other style. Whitespace-only lines become empty lines.
 * A push transform like `CodeExtractor`: a line's text passes through as soon as its indentation is known.
 */
export class Reindenter {
  /** The model's base indentation (its first non-blank line's), once seen. */
  private modelBase: string | null = null;
  /** Leading whitespace of the current line, held until the line's first other character arrives. */
  private heldIndent = '';
  /** True while the current line's indentation is still being read. */
  private atLineStart = true;
  private isFirstLine = true;
  /** The model's indentation unit in spaces, guessed from its first indented line (for spaces-to-tabs conversion). */
  private modelUnit: number | null = null;

  constructor(private readonly options: ReindentOptions) {}

  /** Feeds code text; returns re-indented text that can be emitted now. */
  push(text: string): string {
    let out = '';
    let start = 0;
    for (let index = 0; index < text.length; index += 1) {
      const char = text.charCodeAt(index);
      if (char === 10 /* \n */) {
        if (!this.atLineStart) out += text.slice(start, index);
        out += '\n';
        this.heldIndent = '';
        this.atLineStart = true;
        this.isFirstLine = false;
        start = index + 1;
      } else if (this.atLineStart) {
        if (char === 32 /* space */ || char === 9 /* tab */) {
          this.heldIndent += text.charAt(index);
          start = index + 1;
        } else {
          out += this.indentFor(this.heldIndent);
          this.atLineStart = false;
          start = index;
        }
      }
    }
    if (!this.atLineStart && start < text.length) out += text.slice(start);
    return out;
  }

  /** Ends the code. Held indentation belongs to a whitespace-only last line and is dropped. */
  finish(): string {
    this.heldIndent = '';
    return '';
  }

  private indentFor(modelIndent: string): string {
    if (this.modelBase === null) this.modelBase = modelIndent;
    const relative = modelIndent.startsWith(this.modelBase)
      ? modelIndent.slice(this.modelBase.length)
      : spacesOf(
          Math.max(0, columns(modelIndent, this.options.tabSize) - columns(this.modelBase, this.options.tabSize)),
        );
    const converted = this.convertStyle(relative);
    if (this.isFirstLine && this.options.firstLineIndentPresent) return converted;
    return this.options.baseIndent + converted;
  }

  /** Converts the relative indentation to the editor's style (tabs or spaces). */
  private convertStyle(relative: string): string {
    if (relative.length === 0) return relative;
    if (this.options.insertSpaces) {
      return relative.includes('\t') ? spacesOf(columns(relative, this.options.tabSize)) : relative;
    }
    if (!relative.includes(' ')) return relative;
    const width = columns(relative, this.options.tabSize);
    if (this.modelUnit === null) this.modelUnit = relative.includes('\t') ? this.options.tabSize : width;
    const unit = Math.max(1, this.modelUnit);
    return '\t'.repeat(Math.floor(width / unit)) + spacesOf(width % unit);
  }
}

function spacesOf(count: number): string {
  return ' '.repeat(count);
}

/** The visual width of leading whitespace, in columns, with tabs advancing to the next multiple of `tabSize`. */
export function columns(indent: string, tabSize: number): number {
  let width = 0;
  for (const char of indent) width = char === '\t' ? width + tabSize - (width % tabSize) : width + 1;
  return width;
}

/** The leading whitespace of a line. */
export function leadingWhitespace(line: string): string {
  const match = /^[ \t]*/.exec(line);
  return match === null ? '' : match[0];
}
