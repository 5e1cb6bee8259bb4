/**
 * What the repository index never reads: secrets, binaries, lockfiles, minified or vendored code, and files over a
 * size limit. Secrets are decided by NAME before any read, so their bytes never enter memory, a prompt or a log.
 */

/** Why a file is left out of the index (for the log and the "what is sent" summary). */
export const EXCLUSION_REASONS = ['secret', 'binary', 'lockfile', 'minified', 'vendored', 'too-large'] as const;
export type ExclusionReason = (typeof EXCLUSION_REASONS)[number];

/** Default size limit per file, in bytes: generated or data files beyond this rarely help a prompt. */
export const DEFAULT_MAX_FILE_BYTES = 256 * 1024;

/**
 * Directories never entered: version control, dependencies and vendored code, virtual environments, caches. Lowercased:
 * they are compared in any case, since `.GIT` is `.git` on macOS and Windows.
 */
// prettier-ignore
const SKIPPED_DIRECTORIES = new Set([
  '.git', '.hg', '.svn', '.jj',
  'node_modules', 'bower_components', 'jspm_packages', 'vendor', 'third_party', 'third-party', 'pods', 'carthage',
  '.venv', 'venv', '__pycache__', '.mypy_cache', '.pytest_cache', '.tox', '.gradle', '.idea', '.terraform',
  '.yarn', '.pnpm-store', '.next', '.nuxt', '.cache', '.turbo', '.parcel-cache',
]);

/** Names that hold credentials, matched on the file name alone (lowercased). */
// prettier-ignore
const SECRET_NAMES = new Set([
  'credentials', 'credentials.json', 'credentials.yml', 'credentials.yaml', 'credentials.xml',
  '.netrc', '_netrc', '.npmrc', '.pypirc', '.git-credentials', '.htpasswd', '.pgpass', '.dockercfg',
  'secrets.json', 'secrets.yml', 'secrets.yaml', 'secrets.toml', 'secret.json',
  'client_secret.json', 'service-account.json', 'serviceaccount.json', 'master.key', 'known_hosts', 'authorized_keys',
  // Tokens of tools people keep beside code: yarn's npmAuthToken, wrangler's local vars, Vault, s3cmd, boto, gh's
  // `hosts.yml` (taken as gh's wherever it is: a YAML file of that name is rarely code), kubectl's config.
  '.yarnrc', '.yarnrc.yml', '.vault-token', '.s3cfg', '.boto', 'hosts.yml', 'kubeconfig',
]);

/**
 * Folders whose every file is a secret (lowercased): SSH and GnuPG keys, the AWS CLI's config, credentials and token
 * caches. Matched as a whole folder name anywhere in the path, so a dotfiles repository or a home folder opened as a
 * workspace is covered.
 */
const SECRET_FOLDERS = ['.ssh', '.gnupg', '.aws'] as const;

/** Files that are secrets only in their tool's folder (`.kube/config`, `.docker/config.json`), as `folder/name` prefixes. */
const SECRET_FILES_IN_FOLDER: readonly { readonly folder: string; readonly namePrefix: string }[] = [
  { folder: '.kube', namePrefix: 'config' },
  { folder: '.docker', namePrefix: 'config.json' },
];

/** Secret file extensions (lowercased, with the dot). */
// prettier-ignore
const SECRET_EXTENSIONS = new Set([
  '.pem', '.key', '.p12', '.pfx', '.jks', '.keystore', '.kdbx', '.asc', '.gpg', '.pgp', '.ppk', '.crt', '.cer', '.der',
  '.p8', '.tfstate', '.tfvars', '.ovpn',
]);

/** Extensions of configuration/data files, where a name like `secrets` or `credentials` means what it says. */
const DATA_EXTENSIONS = new Set([
  '',
  '.json',
  '.yml',
  '.yaml',
  '.toml',
  '.txt',
  '.ini',
  '.cfg',
  '.conf',
  '.xml',
  '.properties',
  '.csv',
]);

/** Lockfiles: long, generated, and useless to a model. */
// prettier-ignore
const LOCKFILE_NAMES = new Set([
  'package-lock.json', 'npm-shrinkwrap.json', 'yarn.lock', 'pnpm-lock.yaml', 'bun.lockb', 'bun.lock', 'cargo.lock',
  'gemfile.lock', 'poetry.lock', 'pipfile.lock', 'composer.lock', 'go.sum', 'mix.lock', 'pubspec.lock', 'podfile.lock',
  'flake.lock', 'packages.lock.json', 'paket.lock', 'uv.lock', 'deno.lock',
]);

/** Extensions of files that are not text a model should read. */
// prettier-ignore
const BINARY_EXTENSIONS = new Set([
  '.png', '.jpg', '.jpeg', '.gif', '.bmp', '.ico', '.icns', '.webp', '.avif', '.tif', '.tiff', '.psd', '.heic',
  '.pdf', '.doc', '.docx', '.xls', '.xlsx', '.ppt', '.pptx', '.odt',
  '.zip', '.gz', '.tgz', '.bz2', '.xz', '.7z', '.rar', '.tar', '.zst', '.lz4', '.br',
  '.woff', '.woff2', '.ttf', '.otf', '.eot',
  '.exe', '.dll', '.so', '.dylib', '.a', '.lib', '.o', '.obj', '.bin', '.dat', '.wasm', '.class', '.jar', '.war',
  '.pyc', '.pyo', '.pyd', '.node', '.dex', '.apk', '.ipa', '.dmg', '.iso', '.img', '.deb', '.rpm', '.msi',
  '.mp3', '.mp4', '.m4a', '.wav', '.ogg', '.flac', '.avi', '.mov', '.mkv', '.webm',
  '.sqlite', '.sqlite3', '.db', '.mdb', '.parquet', '.arrow', '.npy', '.npz', '.pkl', '.pt', '.pth', '.onnx',
  '.gguf', '.safetensors', '.ckpt', '.h5', '.tflite', '.pb', '.lockb',
]);

function extensionOf(lowerName: string): string {
  const dot = lowerName.lastIndexOf('.');
  return dot <= 0 ? '' : lowerName.slice(dot);
}

/** True for directories the walker never enters (dependencies, vendored code, VCS metadata, caches), in any case. */
export function isSkippedDirectory(name: string): boolean {
  return SKIPPED_DIRECTORIES.has(name.toLowerCase());
}

/** True when a file name marks a secret: `.env*`, keys and certificates, `id_rsa*`-style SSH keys, credential files. */
export function isSecretFileName(name: string): boolean {
  const lower = name.toLowerCase();
  if (lower.startsWith('.env') || lower.endsWith('.env')) return true;
  if (/^id_(rsa|dsa|ecdsa|ed25519)/.test(lower)) return true;
  if (SECRET_NAMES.has(lower)) return true;
  // Terraform state holds every secret a plan touched, and so do its backups (`terraform.tfstate.backup`).
  if (lower.includes('.tfstate.') || lower.startsWith('.dev.vars')) return true;
  const extension = extensionOf(lower);
  // `kubeconfig-prod`, `staging.kubeconfig`, `kubeconfig.yaml`; `kubeconfig.go` is code about them, and is read.
  if (extension === '.kubeconfig' || (lower.startsWith('kubeconfig') && DATA_EXTENSIONS.has(extension))) return true;
  // `secrets.yaml` holds secrets; `secrets.ts` is code about them, and is read.
  if (DATA_EXTENSIONS.has(extension) && /(^|[._-])(secret|secrets|credential|credentials)([._-]|$)/.test(lower))
    return true;
  return SECRET_EXTENSIONS.has(extension);
}

/**
 * True when a file is a secret by its name (`isSecretFileName`) or by the folder it sits in: anything under `.ssh`,
 * `.gnupg` or `.aws`, `.kube/config*`, `.docker/config.json`. `path` is relative to the workspace folder (POSIX; a `\`
 * is read as `/`). The name check alone stays for callers that have only a name; wherever a path is known, use this.
 */
export function isSecretPath(path: string): boolean {
  const posix = path.includes('\\') ? path.replaceAll('\\', '/') : path;
  const slash = posix.lastIndexOf('/');
  if (isSecretFileName(slash < 0 ? posix : posix.slice(slash + 1))) return true;
  if (slash < 0) return false;
  // `/` in front, so every folder name, the first included, is found as `/<name>/`.
  const lower = `/${posix.toLowerCase()}`;
  for (const folder of SECRET_FOLDERS) if (lower.includes(`/${folder}/`)) return true;
  const parentStart = lower.lastIndexOf('/', slash);
  const parent = lower.slice(parentStart + 1, slash + 1);
  const name = lower.slice(slash + 2);
  return SECRET_FILES_IN_FOLDER.some((entry) => parent === entry.folder && name.startsWith(entry.namePrefix));
}

/**
 * `exclusionByName` for a workspace-relative path: a secret by folder (`.ssh/work`, `.kube/config`) too. What the index
 * uses, so that a file the gate refuses by path is never read by the index either.
 */
export function exclusionByPath(path: string, sizeBytes: number, maxBytes: number): ExclusionReason | null {
  if (isSecretPath(path)) return 'secret';
  const slash = Math.max(path.lastIndexOf('/'), path.lastIndexOf('\\'));
  return exclusionByName(slash < 0 ? path : path.slice(slash + 1), sizeBytes, maxBytes);
}

/**
 * Why a file must not be read, judged from its name and size alone (before any byte is read), or null when it may be.
 * `maxBytes` is the size limit.
 */
export function exclusionByName(name: string, sizeBytes: number, maxBytes: number): ExclusionReason | null {
  if (isSecretFileName(name)) return 'secret';
  const lower = name.toLowerCase();
  if (LOCKFILE_NAMES.has(lower) || lower.endsWith('.lock')) return 'lockfile';
  if (BINARY_EXTENSIONS.has(extensionOf(lower))) return 'binary';
  if (
    /[.-]min\.(js|mjs|cjs|css)$/.test(lower) ||
    lower.endsWith('.bundle.js') ||
    lower.endsWith('.map') ||
    lower.endsWith('.chunk.js')
  )
    return 'minified';
  if (sizeBytes > maxBytes) return 'too-large';
  return null;
}

/** Bytes inspected when sniffing content (binary, minified). */
const SNIFF_BYTES = 8 * 1024;

/**
 * Why a file's content disqualifies it, or null: a NUL byte in the first 8 KB means binary; very long lines on average
 * (or one huge line) mean minified or generated code.
 */
export function exclusionByContent(bytes: Uint8Array): ExclusionReason | null {
  const end = Math.min(bytes.length, SNIFF_BYTES);
  const head = bytes.subarray(0, end);
  // Native searches (memchr), not a loop over every byte in JavaScript: this runs on every file the index reads.
  if (head.indexOf(0) >= 0) return 'binary';
  let lines = 1;
  let longestLine = 0;
  let lineStart = 0;
  for (;;) {
    const newline = head.indexOf(10, lineStart);
    const lineEnd = newline < 0 ? end : newline;
    if (lineEnd - lineStart > longestLine) longestLine = lineEnd - lineStart;
    if (newline < 0) break;
    lines += 1;
    lineStart = newline + 1;
  }
  // Hand-written code rarely has lines over 1,000 characters; minified bundles have nothing else.
  if (end >= 2_048 && (longestLine >= 2_000 || end / lines > 300)) return 'minified';
  return null;
}
