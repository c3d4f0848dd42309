/**
 * The `storm` CLI's network-service commands (the built bin, a real manager): DNS records, DHCP
 * leases, directory users and groups. A manager without a service's routes gets one clear line,
 * "not enabled on this manager", and exit 1; where the routes are there, the commands work end
 * to end (each service's test skips its round trip when the manager under test lacks it).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startManager } from '../helpers/manager-process.js';
import { stopAllProcesses } from '../helpers/process.js';
import { type StormCli, stormCli } from '../helpers/storm-cli.js';

let work: string;
let cli: StormCli;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'storm-cli-network-'));
  const manager = await startManager(join(work, 'manager'));
  cli = stormCli(manager.url, join(work, 'manager'));
}, 120_000);
afterAll(async () => {
  await stopAllProcesses();
  await rm(work, { recursive: true, force: true });
});

/** True when the service answers; otherwise checks the CLI's refusal is the clear one. */
async function enabled(argv: string[]): Promise<boolean> {
  const r = await cli.run(argv);
  if (r.code === 0) return true;
  expect(r.code).toBe(1);
  expect(r.stderr).toMatch(/^storm: CLI_ERR_NOT_ENABLED: .+: not enabled on this manager \(no such route: GET \/api\/v1\/.+\)\n$/);
  return false;
}

describe('storm dns', () => {
  it('adds, lists and removes records; refuses a malformed one with the manager’s code', async (t) => {
    if (!(await enabled(['dns', 'ls']))) return t.skip();
    const txt = await cli.run(['dns', 'add', 'TXT', '@', 'v=spf1 a -all', '--ttl', '300']);
    expect(txt.code, txt.output).toBe(0);
    expect(txt.stdout).toMatch(/^added record \d+: \S+ TXT v=spf1 a -all\n$/);
    const mx = await cli.json<{ id: number; type: string; value: string }>('dns', 'add', 'mx', '@', '10', 'mail');
    expect(mx).toMatchObject({ type: 'MX', value: expect.stringMatching(/^10 mail\./) });

    const table = await cli.run(['dns', 'ls']);
    expect(table.stdout).toMatch(/^ID\s+TYPE\s+NAME\s+VALUE\s+TTL/);
    expect(table.stdout).toMatch(/TXT\s+\S+\s+v=spf1 a -all\s+300\s/);
    expect((await cli.json<{ id: number }[]>('dns', 'ls')).map((r) => r.id)).toContain(mx.id);

    expect((await cli.run(['dns', 'rm', String(mx.id)])).stdout).toBe(`removed record ${mx.id}\n`);
    expect((await cli.json<{ id: number }[]>('dns', 'ls')).map((r) => r.id)).not.toContain(mx.id);

    const bad = await cli.run(['dns', 'add', 'MX', '@', 'mail']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/^storm: MGR_ERR_VALIDATION: .*MX value/);
    expect((await cli.run(['dns', 'add', 'TXT', '@'])).code).toBe(2);
  });
});

describe('storm dhcp', () => {
  it('lists the leases (none yet) as a table or a JSON array', async (t) => {
    if (!(await enabled(['dhcp', 'leases']))) return t.skip();
    expect((await cli.run(['dhcp', 'leases'])).stdout).toBe('no leases\n');
    expect(await cli.json('dhcp', 'leases')).toEqual([]);
  });
});

describe('storm user and group', () => {
  it('adds a group and a user in it (password from stdin), sets a password, changes membership, removes both', async (t) => {
    if (!(await enabled(['user', 'ls']))) return t.skip();
    expect((await cli.run(['group', 'add', 'staff', '--description', 'People'])).stdout).toBe('added group staff\n');
    const add = await cli.run(['user', 'add', 'alice', '--name', 'Alice Liddell', '--surname', 'Liddell', '--group', 'staff'], {
      input: 'correct horse battery\n',
    });
    expect(add.code, add.output).toBe(0);
    expect(add.stdout).toBe('added user alice\n');
    const users = await cli.json<{ uid: string; cn: string; hasPassword: boolean }[]>('user', 'ls');
    expect(users).toEqual([expect.objectContaining({ uid: 'alice', cn: 'Alice Liddell', hasPassword: true })]);
    expect((await cli.run(['user', 'ls'])).stdout).toMatch(/^UID\s+CN\s+.*\nalice\s+Alice Liddell\s+.*staff/);
    expect((await cli.run(['user', 'passwd', 'alice'])).code).toBe(2);
    expect((await cli.run(['user', 'passwd', 'alice'], { input: 'another long secret\n' })).stdout).toBe('password of alice set\n');

    expect((await cli.run(['group', 'member', 'rm', 'staff', 'alice'])).stdout).toBe('alice left staff\n');
    expect((await cli.json<{ name: string; members: string[] }[]>('group', 'ls')).find((g) => g.name === 'staff')?.members).toEqual([]);
    expect((await cli.run(['group', 'member', 'add', 'staff', 'alice'])).stdout).toBe('alice is in staff\n');

    expect((await cli.run(['user', 'rm', 'alice'])).code).toBe(2);
    expect((await cli.run(['user', 'rm', 'alice', '--yes'])).stdout).toBe('removed user alice\n');
    expect((await cli.run(['group', 'rm', 'staff', '--yes'])).stdout).toBe('removed group staff\n');
    expect(await cli.json('user', 'ls')).toEqual([]);
    // Thirteen CLI processes and scrypt hashes: past 30 s when a TCG guest shares the machine.
  }, 120_000);

  it('groups answer the same way', async (t) => {
    if (!(await enabled(['group', 'ls']))) return t.skip();
    expect((await cli.run(['group', 'ls'])).stdout).toMatch(/^no groups\n$|^NAME/);
  });
});

describe('storm network', () => {
  it('shows the network and an uplink of none, and refuses forwards saying how to open one', async () => {
    const shown = await cli.run(['network']);
    expect(shown.code, shown.output).toBe(0);
    expect(shown.stdout).toMatch(
      /^network {3}none \(no --network: instances get no address\)\ndomain {4}storm\.internal\nuplink {4}none: guests have no way out \(storm-manager --uplink nat opens one\)\n\nno forwards\n$/,
    );
    expect(await cli.json('network')).toMatchObject({ network: null, uplink: { mode: 'none', state: 'off', table: null, forwards: [] } });

    const add = await cli.run(['network', 'forward', 'add', 'TCP', '8080', 'web1:80']);
    expect(add.code).toBe(1);
    expect(add.stderr).toMatch(
      /^storm: MGR_ERR_UPLINK_OFF: the appliance network has no uplink \(start storm-manager with --uplink nat\): cannot forward tcp 8080\n$/,
    );
    expect((await cli.run(['network', 'forward', 'ls'])).stdout).toBe('no forwards\n');
    expect(await cli.json('network', 'forward', 'ls')).toEqual([]);
    const rm = await cli.run(['network', 'forward', 'rm', 'tcp', '8080']);
    expect(rm.code).toBe(1);
    expect(rm.stderr).toMatch(/MGR_ERR_NOT_FOUND: .*no forward of tcp 8080/);
  });

  it('refuses malformed forwards before asking the manager', async () => {
    for (const argv of [
      ['ICMP', '8080', 'web1:80'],
      ['tcp', '70000', 'web1:80'],
      ['tcp', '8080', 'web1'],
      ['tcp', '8080', 'web1:http'],
    ]) {
      const r = await cli.run(['network', 'forward', 'add', ...argv]);
      expect(r.code, argv.join(' ')).toBe(2);
    }
    expect((await cli.run(['network', 'forward', 'rm', 'tcp'])).code).toBe(2);
    expect((await cli.run(['network', 'bogus'])).code).toBe(2);
  });
});
