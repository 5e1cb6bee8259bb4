import * as vscode from 'vscode';

/** What a refactor works on, in offsets of the document, and how to name it to the person. */
export interface RefactorTarget {
  readonly start: number;
  readonly end: number;
  /** "the selection (12 lines)", "function `total` (no selection)", "the whole file (no selection, no enclosing function)". */
  readonly description: string;
}

const FUNCTION_KINDS = new Set([vscode.SymbolKind.Function, vscode.SymbolKind.Method, vscode.SymbolKind.Constructor]);

/**
 * The selection; with none, the innermost function or method around the cursor (from the language's document symbol
 * provider), in whole lines; else the whole file. The description says which, so the person is never surprised.
 */
export async function chooseRefactorTarget(editor: vscode.TextEditor): Promise<RefactorTarget> {
  const document = editor.document;
  const selection = editor.selection;
  if (!selection.isEmpty) {
    const lines = selection.end.line - selection.start.line + (selection.end.character > 0 ? 1 : 0);
    return {
      start: document.offsetAt(selection.start),
      end: document.offsetAt(selection.end),
      description: `the selection (${Math.max(1, lines)} line${lines === 1 ? '' : 's'})`,
    };
  }
  const symbol = await enclosingFunction(document, selection.active);
  if (symbol !== undefined) {
    const start = new vscode.Position(symbol.range.start.line, 0);
    const end =
      symbol.range.end.line + 1 < document.lineCount
        ? new vscode.Position(symbol.range.end.line + 1, 0)
        : document.lineAt(symbol.range.end.line).range.end;
    return {
      start: document.offsetAt(start),
      end: document.offsetAt(end),
      description: `${vscode.SymbolKind[symbol.kind].toLowerCase()} \`${symbol.name}\` (no selection: the enclosing one)`,
    };
  }
  return {
    start: 0,
    end: document.getText().length,
    description: 'the whole file (no selection, and no function around the cursor)',
  };
}

interface FoundSymbol {
  readonly name: string;
  readonly kind: vscode.SymbolKind;
  readonly range: vscode.Range;
}

async function enclosingFunction(
  document: vscode.TextDocument,
  position: vscode.Position,
): Promise<FoundSymbol | undefined> {
  let symbols: unknown;
  try {
    symbols = await vscode.commands.executeCommand('vscode.executeDocumentSymbolProvider', document.uri);
  } catch {
    return undefined; // No symbol provider for this language: the whole file is used.
  }
  if (!Array.isArray(symbols)) return undefined;
  let best: FoundSymbol | undefined;
  const visit = (items: readonly unknown[]): void => {
    for (const item of items) {
      const found = asFoundSymbol(item);
      if (found === undefined || !found.range.contains(position)) continue;
      if (FUNCTION_KINDS.has(found.kind) && (best === undefined || best.range.contains(found.range))) best = found;
      // The command returns SymbolInformation objects that also carry DocumentSymbol's `children` (a merged type).
      const children = childrenOf(item);
      if (children !== undefined) visit(children);
    }
  };
  visit(symbols);
  return best;
}

function childrenOf(item: unknown): readonly unknown[] | undefined {
  if (typeof item !== 'object' || item === null || !('children' in item)) return undefined;
  const children: unknown = item.children;
  return Array.isArray(children) ? children : undefined;
}

function asFoundSymbol(item: unknown): FoundSymbol | undefined {
  if (item instanceof vscode.DocumentSymbol) return { name: item.name, kind: item.kind, range: item.range };
  if (item instanceof vscode.SymbolInformation) return { name: item.name, kind: item.kind, range: item.location.range };
  return undefined;
}
