import * as vscode from 'vscode';
import { API_KEY_SECRET_PREFIX } from '../core/config/backendConfig';
import type { Logger } from '../core/logger';
import type { Redactor } from '../core/config/redact';

/**
 * API keys, kept only in VS Code's SecretStorage (the OS keychain), one per server origin under
 * `latencyCopilot.apiKey:<origin>` (see `apiKeySecretName` in src/core/config/backendConfig.ts). Keys are cached in memory so
 * that endpoints resolve synchronously; every cached key is registered with the redactor, so it can never be logged.
 * Nothing here writes a key to settings, globalState, the log or a message.
 */
export class ApiKeyStore implements vscode.Disposable {
  private readonly cache = new Map<string, string>();
  private readonly changed = new vscode.EventEmitter<string>();
  private readonly subscription: vscode.Disposable;

  /** Fires with the secret name after a key was stored, changed or removed (also from another window). */
  readonly onDidChange: vscode.Event<string> = this.changed.event;

  constructor(
    private readonly storage: vscode.SecretStorage,
    private readonly redactor: Redactor,
    private readonly log: Logger,
  ) {
    this.subscription = storage.onDidChange((event) => {
      if (!event.key.startsWith(API_KEY_SECRET_PREFIX)) return;
      void this.reload(event.key).then(() => this.changed.fire(event.key));
    });
  }

  /** Loads the keys with these names into the cache (names already cached are read again). */
  async load(names: Iterable<string>): Promise<void> {
    await Promise.all([...new Set(names)].map((name) => this.reload(name)));
  }

  private async reload(name: string): Promise<void> {
    let value: string | undefined;
    try {
      value = await this.storage.get(name);
    } catch (error) {
      // A locked or unavailable keychain: the endpoint is reported as missing its key, which says what to do.
      this.log.warn(`Could not read the API key for ${originOfSecret(name)} from the OS keychain: ${String(error)}`);
    }
    const previous = this.cache.get(name);
    if (previous !== undefined) this.redactor.removeSecret(previous);
    if (value === undefined || value === '') {
      this.cache.delete(name);
    } else {
      this.cache.set(name, value);
      this.redactor.addSecret(value);
    }
  }

  /** The cached key, or undefined. Synchronous: call `load` first. */
  get(name: string): string | undefined {
    return this.cache.get(name);
  }

  /** True when a key is cached under this name. */
  has(name: string): boolean {
    return this.cache.has(name);
  }

  /** The names of the keys in the cache. */
  names(): readonly string[] {
    return [...this.cache.keys()];
  }

  /** Stores a key (trimmed) and caches it. */
  async set(name: string, key: string): Promise<void> {
    const value = key.trim();
    this.redactor.addSecret(value);
    await this.storage.store(name, value);
    this.cache.set(name, value);
    this.log.info(`Stored an API key for ${originOfSecret(name)} in SecretStorage.`);
    this.changed.fire(name);
  }

  /** Removes a key. */
  async clear(name: string): Promise<void> {
    await this.storage.delete(name);
    // Stays registered with the redactor: a key just cleared may still appear in an echo being logged.
    this.cache.delete(name);
    this.log.info(`Cleared the API key for ${originOfSecret(name)}.`);
    this.changed.fire(name);
  }

  dispose(): void {
    this.subscription.dispose();
    this.changed.dispose();
  }
}

/** The server origin a secret name is for (`https://api.groq.com`). */
export function originOfSecret(name: string): string {
  return name.startsWith(API_KEY_SECRET_PREFIX) ? name.slice(API_KEY_SECRET_PREFIX.length) : name;
}
