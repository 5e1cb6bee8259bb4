// Secret files by name and by place (issue 14 item 4): tables of paths the index and the inline gate must never read.
import { afterEach, describe, expect, it } from 'vitest';
import { exclusionByName, exclusionByPath, isSecretFileName, isSecretPath } from '../../../../src/core/repo/fileSafety';
import { nodeRepoFileSystem } from '../../../../src/core/repo/nodeRepoFileSystem';
import { RepoIndex } from '../../../../src/core/repo/repoIndex';
import { makeTree, removeTree } from './repoTestTree';

// [file name, secret?]: names that hold credentials wherever they are, and look-alikes that are code.
const names: readonly [string, boolean][] = [
  ['terraform.tfstate', true],
  ['terraform.tfstate.backup', true],
  ['prod.tfstate.1700000000.backup', true],
  ['kubeconfig', true],
  ['KUBECONFIG', true],
  ['staging.kubeconfig', true],
  ['kubeconfig.yaml', true],
  ['kubeconfig-prod', true],
  ['.yarnrc.yml', true],
  ['.yarnrc', true],
  ['.dev.vars', true],
  ['.dev.vars.staging', true],
  ['.vault-token', true],
  ['.s3cfg', true],
  ['.boto', true],
  ['hosts.yml', true],
  // Code about these things is read.
  ['kubeconfig.go', false],
  ['kubeconfig_test.py', false],
  ['tfstate.ts', false],
  ['hosts.ts', false],
  ['boto.py', false],
  ['yarnrc.ts', false],
  ['config', false],
  ['config.json', false],
];

// [path relative to the workspace folder, secret?]: files whose folder makes them secret.
const paths: readonly [string, boolean][] = [
  ['.kube/config', true],
  ['home/me/.kube/config', true],
  ['.kube/config-staging', true],
  ['.KUBE/config', true],
  ['.docker/config.json', true],
  ['.aws/credentials', true],
  ['.aws/config', true],
  ['.aws/sso/cache/1a2b.json', true],
  ['.ssh/config', true],
  ['.ssh/deploy_key', true],
  ['dotfiles/.ssh/known_hosts', true],
  ['.gnupg/pubring.kbx', true],
  ['.config/gh/hosts.yml', true],
  ['infra/terraform.tfstate.backup', true],
  ['clusters/dev.kubeconfig', true],
  ['.env', true],
  ['app/.env.local', true],
  ['.kube\\config', true],
  // Same names elsewhere are ordinary files.
  ['config', false],
  ['src/config', false],
  ['kube/config', false],
  ['.kube/cache/discovery/servers.json', false],
  ['docker/config.json', false],
  ['.docker/daemon.json', false],
  ['aws/config', false],
  ['src/ssh/client.ts', false],
  ['docs/.sshrc.md', false],
  ['src/main.ts', false],
];

describe('isSecretFileName: credential files by name alone', () => {
  it.each(names)('%s -> %s', (name, secret) => {
    expect(isSecretFileName(name)).toBe(secret);
    expect(exclusionByName(name, 0, 1_000_000) === 'secret').toBe(secret);
  });
});

describe('isSecretPath: credential files by name and by the folder they sit in', () => {
  it.each(paths)('%s -> %s', (path, secret) => {
    expect(isSecretPath(path)).toBe(secret);
  });

  it('agrees with the name check on every secret name, at any depth', () => {
    for (const [name, secret] of names) {
      expect(isSecretPath(name)).toBe(secret);
      expect(isSecretPath(`deep/er/${name}`)).toBe(secret);
    }
  });
});

describe('the index itself judges secrets by path (not only through the gated file system)', () => {
  let root = '';
  afterEach(() => removeTree(root));

  it('exclusionByPath is the path check first, then the name rules', () => {
    expect(exclusionByPath('.ssh/work', 10, 1000)).toBe('secret');
    expect(exclusionByPath('ops/.kube/config', 10, 1000)).toBe('secret');
    expect(exclusionByPath('src/main.ts', 10, 1000)).toBeNull();
    expect(exclusionByPath('web/yarn.lock', 10, 1000)).toBe('lockfile');
  });

  it('a RepoIndex over the plain file system counts files in secret folders as secret and never indexes them', async () => {
    root = makeTree({
      'src/main.ts': 'export const main = 1;\n',
      '.ssh/work': 'PRIVATE SSH MATERIAL\n',
      'ops/.kube/config': 'apiVersion: v1\nusers: [{ token: abc }]\n',
      '.aws/credentials': '[default]\n',
    });
    const index = new RepoIndex(nodeRepoFileSystem(root));
    const report = await index.build();
    expect(index.file('src/main.ts')).toBeDefined();
    for (const path of ['.ssh/work', 'ops/.kube/config', '.aws/credentials']) expect(index.file(path)).toBeUndefined();
    expect(report.excluded.secret).toBe(3);
    // A watcher event for a file in a secret folder is refused the same way.
    expect(await index.update('.ssh/work')).toBe('excluded');
    expect(index.file('.ssh/work')).toBeUndefined();
  });
});
