import { join } from 'node:path';

/** The repository's root folder, for tests that read the manifest, fixtures or sources (wherever the test file sits). */
export const PROJECT_ROOT = join(__dirname, '..', '..');
