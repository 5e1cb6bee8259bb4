// The steps of the commands that write a file or delete a secret, over a small UI seam, so that "an argument never skips
// the person's question" is a unit-tested rule rather than a property of adapter code. The adapters (src/vscode/)
// give the dialogs; everything else happens here.
import { API_KEY_SECRET_PREFIX } from '../config/backendConfig';
import { checkExportArguments, checkSecretNameArgument, clearKeyConfirmation } from './commandArguments';
import type { ClearKeyConfirmation } from './commandArguments';
import type { ExportFormat } from '../speed/panelProtocol';

/** How a guarded command ended. */
export type GuardedCommandOutcome = 'done' | 'cancelled' | 'refused';

/** The dialogs and the write of "Export Speed History". */
export interface ExportCommandUi<Location> {
  /** Asks for the format; undefined when dismissed. */
  pickFormat(): Promise<ExportFormat | undefined>;
  /** The save dialog, starting at `suggested` (or the default place when null); undefined when cancelled. */
  askSaveLocation(format: ExportFormat, suggested: Location | null): Promise<Location | undefined>;
  /** Writes the export where the person chose. */
  write(location: Location, format: ExportFormat): Promise<void>;
  showError(message: string): void;
}

/**
 * Export Speed History: checks the arguments, asks for the format unless given, and always shows the save dialog (a
 * location argument only pre-fills it); the file is written only where the person chose.
 */
export async function runExportCommand<Location>(
  format: unknown,
  location: unknown,
  isLocation: (value: unknown) => value is Location,
  ui: ExportCommandUi<Location>,
): Promise<GuardedCommandOutcome> {
  const check = checkExportArguments(format, location, isLocation);
  if (!check.ok) {
    ui.showError(check.problem);
    return 'refused';
  }
  const chosenFormat = check.value.format ?? (await ui.pickFormat());
  if (chosenFormat === undefined) return 'cancelled';
  const target = await ui.askSaveLocation(chosenFormat, check.value.suggestedLocation);
  if (target === undefined) return 'cancelled';
  await ui.write(target, chosenFormat);
  return 'done';
}

/** The dialogs and the key store of "Clear API Key". */
export interface ClearKeyCommandUi {
  /** Asks which server's key to delete (secret name); undefined when dismissed or nothing is stored. */
  pickServer(): Promise<string | undefined>;
  /** The endpoints that use the key with this secret name, for the question. */
  usedBy(secretName: string): readonly string[];
  /** A modal question; true only when the person pressed the confirm button. */
  confirm(question: ClearKeyConfirmation): Promise<boolean>;
  clear(secretName: string): Promise<void>;
  showError(message: string): void;
}

/** The server origin of a key's secret name (`https://api.groq.com`). */
export function originOfSecretName(secretName: string): string {
  return secretName.startsWith(API_KEY_SECRET_PREFIX) ? secretName.slice(API_KEY_SECRET_PREFIX.length) : secretName;
}

/**
 * Clear API Key: checks the argument, asks for the server unless given, and always asks a modal question naming the
 * server before the key is deleted.
 */
export async function runClearKeyCommand(argument: unknown, ui: ClearKeyCommandUi): Promise<GuardedCommandOutcome> {
  const check = checkSecretNameArgument('Clear API Key', argument);
  if (!check.ok) {
    ui.showError(check.problem);
    return 'refused';
  }
  const secretName = check.value ?? (await ui.pickServer());
  if (secretName === undefined) return 'cancelled';
  if (!(await ui.confirm(clearKeyConfirmation(originOfSecretName(secretName), ui.usedBy(secretName)))))
    return 'cancelled';
  await ui.clear(secretName);
  return 'done';
}
