import * as vscode from 'vscode';

// The composition root: it builds objects, registers them, and pushes their disposables. Nothing else lives here.
export function activate(context: vscode.ExtensionContext): void {
  const activationStartMs = performance.now();
  const log = vscode.window.createOutputChannel('Latency Copilot', { log: true });
  context.subscriptions.push(log);
  log.info(`Activated in ${(performance.now() - activationStartMs).toFixed(1)} ms`);
}

export function deactivate(): void {
  // Disposables registered on the context are released by VS Code.
}
