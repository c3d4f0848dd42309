import { describe, expect, it } from 'vitest';
import { APPLIED_CALL, cloudSeed } from './cloud-seed.js';

const base = {
  instanceId: 'i-abc',
  name: 'web1',
  domain: 'storm.internal',
  mac: '52:54:00:AA:BB:CC',
  sshKeys: ['ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIExample me@host'],
  files: { '/etc/storm/token': { contentBase64: Buffer.from('tok\n').toString('base64'), mode: 0o600 } },
  guestUrl: 'https://storm.local:8444/RPC2',
};
// The documents are JSON (which YAML, and so cloud-init, reads as is) after their header line.
const doc = (text: string) => JSON.parse(text.replace(/^#cloud-config\n/, '')) as Record<string, unknown>;

describe('cloudSeed', () => {
  it('says who the instance is, its static address, gateway, STORM DNS and search domain', () => {
    const seed = cloudSeed({ ...base, ip: '10.77.0.9', net: { prefix: 24, gateway: '10.77.0.1', dns: '10.77.0.1' } });
    expect(doc(seed.metaData)).toEqual({ 'instance-id': 'i-abc', 'local-hostname': 'web1' });
    expect(
      (doc(seed.userData)['write_files'] as { path: string; content: string }[]).find((f) => f.path === '/etc/resolv.conf'),
    ).toMatchObject({
      content: 'nameserver 10.77.0.1\nsearch storm.internal\n',
    });
    expect(doc(seed.networkConfig ?? '')).toEqual({
      version: 2,
      ethernets: {
        eth0: {
          match: { macaddress: '52:54:00:aa:bb:cc' },
          'set-name': 'eth0',
          addresses: ['10.77.0.9/24'],
          routes: [{ to: '0.0.0.0/0', via: '10.77.0.1' }],
          nameservers: { addresses: ['10.77.0.1'], search: ['storm.internal'] },
        },
      },
    });
  });

  it('sets host name and FQDN, installs the keys and the guest files, and reports applied last', () => {
    const seed = cloudSeed({ ...base, managerAddress: '10.77.0.1' });
    expect(seed.userData.startsWith('#cloud-config\n')).toBe(true);
    const c = doc(seed.userData);
    expect(c).toMatchObject({ hostname: 'web1', fqdn: 'web1.storm.internal', ssh_authorized_keys: base.sshKeys, disable_root: false });
    expect(c['write_files']).toEqual([
      { path: '/etc/storm/token', encoding: 'b64', content: 'dG9rCg==', owner: 'root:root', permissions: '0600' },
      { path: '/etc/storm/applied.xml', content: APPLIED_CALL, owner: 'root:root', permissions: '0644' },
    ]);
    const [[, , script]] = c['runcmd'] as string[][] as [[string, string, string]];
    expect(script).toContain('--resolve storm.local:8444:10.77.0.1');
    expect(script).toContain("--data-binary @/etc/storm/applied.xml 'https://storm.local:8444/RPC2'");
    expect(doc(seed.networkConfig ?? '')).toMatchObject({ ethernets: { eth0: { dhcp4: true } } });
  });

  it("appends the appliance's own user-data as a second MIME part", () => {
    const seed = cloudSeed({ ...base, userData: '#!/bin/sh\necho hi > /tmp/own\n' });
    expect(seed.userData).toMatch(/^Content-Type: multipart\/mixed; boundary="STORM-USER-DATA-BOUNDARY"/);
    expect(seed.userData).toContain('Content-Type: text/cloud-config; charset="utf-8"\n\n#cloud-config\n');
    expect(seed.userData).toContain('Content-Type: text/x-shellscript; charset="utf-8"\n\n#!/bin/sh\necho hi > /tmp/own\n');
  });
});
