/**
 * `storm account ssh-keys` (the built bin, a real manager): the caller's SSH public keys that
 * cloud-init installs in traditional instances: added from a .pub file or as the key itself,
 * listed, removed by number; a private key or an empty file refused before anything is sent.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startManager } from '../helpers/manager-process.js';
import { stopAllProcesses } from '../helpers/process.js';
import { type StormCli, stormCli } from '../helpers/storm-cli.js';

const ED = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJ1f3Fz7m4mYb0cS0kqS1a0d3Gm8V8o0l0u7qfQe6d9x alice@laptop';
const RSA = 'ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQC7 bob';
let work: string;
let cli: StormCli;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'storm-cli-account-'));
  const manager = await startManager(join(work, 'manager'));
  cli = stormCli(manager.url, join(work, 'manager'));
}, 120_000);
afterAll(async () => {
  await stopAllProcesses();
  await rm(work, { recursive: true, force: true });
});

describe('storm account ssh-keys', () => {
  it('adds from a file and as a key, lists them numbered, removes one by number', async () => {
    expect((await cli.run(['account', 'ssh-keys'])).stdout).toMatch(/^no SSH keys/);
    const pub = join(work, 'id.pub');
    await writeFile(pub, `# my key\n${ED}\n`);
    const added = await cli.run(['account', 'ssh-keys', 'add', pub]);
    expect(added.code, added.output).toBe(0);
    expect((await cli.run(['account', 'ssh-keys', 'add', RSA])).code).toBe(0);
    // The same key again is not added twice.
    expect((await cli.run(['account', 'ssh-keys', 'add', pub])).stdout).toMatch(/^2 SSH key\(s\)/);
    expect(await cli.json<{ keys: string[] }>('account', 'ssh-keys')).toEqual({ keys: [ED, RSA] });
    const listed = await cli.run(['account', 'ssh-keys', 'ls']);
    expect(listed.stdout).toMatch(/^#\s+TYPE\s+KEY\s+COMMENT/);
    expect(listed.stdout).toMatch(/\n1\s+ssh-ed25519\s+\S+\s+alice@laptop\s*\n2\s+ssh-rsa\s+\S+\s+bob/);
    expect((await cli.run(['account', 'ssh-keys', 'rm', '1'])).code).toBe(0);
    expect(await cli.json<{ keys: string[] }>('account', 'ssh-keys')).toEqual({ keys: [RSA] });
  });

  it('refuses a private key, an empty file, a missing file and a number out of range', async () => {
    const priv = join(work, 'id');
    await writeFile(priv, '-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----\n');
    const secret = await cli.run(['account', 'ssh-keys', 'add', priv]);
    expect(secret.code).toBe(2);
    expect(secret.stderr).toMatch(/is a private key: give the \.pub file/);
    const empty = join(work, 'empty.pub');
    await writeFile(empty, '\n# nothing\n');
    expect((await cli.run(['account', 'ssh-keys', 'add', empty])).stderr).toMatch(/no public key in it/);
    expect((await cli.run(['account', 'ssh-keys', 'add', join(work, 'absent.pub')])).stderr).toMatch(/no such file/);
    expect((await cli.run(['account', 'ssh-keys', 'rm', '9'])).stderr).toMatch(/give the key's number/);
    expect(await cli.json<{ keys: string[] }>('account', 'ssh-keys')).toEqual({ keys: [RSA] });
  });
});
