/**
 * The uplink's rules with Debian's real `nft`, inside a network namespace this test made (every
 * command through `ip netns exec`, so the machine's own ruleset and forwarding are never touched):
 * nat loads the table `inet storm` and turns forwarding on; forwards are stored, loaded, refused
 * when they clash, follow their instance's address and go with the instance; a restart loads them
 * again; stop takes the table away and puts forwarding back; a table someone else owns is never
 * touched; none touches nothing and refuses forwards; a forward whose rules cannot load is not kept.
 */
import { readFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { managerConfig } from '../../manager/src/config.js';
import { Database } from '../../manager/src/db/database.js';
import { migrate } from '../../manager/src/db/migrations.js';
import { EventBus, type StormEvent } from '../../manager/src/events/bus.js';
import { ForwardStore } from '../../manager/src/network/forward-store.js';
import { HostFirewall } from '../../manager/src/network/host-firewall.js';
import { networkSettings } from '../../manager/src/network/network-settings.js';
import { Uplink, type UplinkMode } from '../../manager/src/network/uplink.js';
import { createNetns, haveCommand, type Netns, netnsAvailable } from '../harness/netns.js';
import { pollUntil } from '../helpers/poll.js';

const ready = netnsAvailable() && haveCommand('nft');

describe.skipIf(!ready)('uplink rules with nft in a network namespace', () => {
  let net: Netns;
  let dir: string;
  let db: Database;
  const bus = new EventBus();
  const events: StormEvent[] = [];
  bus.subscribe((e) => events.push(e));
  const settings = networkSettings(managerConfig({ network: '10.77.0.0/24', uplink: 'nat', bridge: 'br0' }));
  let firewall: HostFirewall;
  const hostForwarding = () => readFile('/proc/sys/net/ipv4/ip_forward', 'utf8');
  let hostForwardingBefore: string;

  const inNs = (command: string, ...args: string[]) => net.exec(net.name, command, args);
  const ruleset = async () => (await inNs('nft', 'list', 'ruleset')).output;
  const forwardingInNs = async () => (await inNs('cat', '/proc/sys/net/ipv4/ip_forward')).output.trim();
  const uplink = (mode: UplinkMode = 'nat', fw = firewall) =>
    new Uplink({
      mode,
      bridge: 'br0',
      net: settings,
      store: new ForwardStore(db),
      firewall: fw,
      bus,
      reservedTcpPorts: new Map([[8443, "the manager's API and console"]]),
    });
  const addInstance = (id: string, name: string, ip: string | null, mac: string) =>
    db.run(
      "INSERT INTO instances (id, name, uuid, appliance, version, state, desired, mac, ip, memory_mib, vcpus) VALUES (?, ?, ?, 'hello-web', '1.0.0', 'running', 'running', ?, ?, 128, 1)",
      [id, name, `uuid-${id}`, mac, ip],
    );

  beforeAll(async () => {
    hostForwardingBefore = await hostForwarding();
    net = await createNetns({ bridgeAddress: '10.77.0.1/24' });
    firewall = new HostFirewall({ wrap: ['ip', 'netns', 'exec', net.name] });
    // Someone else's table, with a rule: it must come through every step untouched.
    expect((await inNs('nft', 'add', 'table', 'inet', 'theirs')).code).toBe(0);
    expect(
      (await inNs('nft', 'add', 'chain', 'inet', 'theirs', 'watch', '{ type filter hook forward priority 10; policy accept; }')).code,
    ).toBe(0);
    expect((await inNs('nft', 'add', 'rule', 'inet', 'theirs', 'watch', 'counter', 'comment', '"theirs"')).code).toBe(0);
    expect(await forwardingInNs()).toBe('0');
    dir = await mkdtemp(join(tmpdir(), 'storm-uplink-'));
    db = await Database.open(join(dir, 'storm.db'));
    await migrate(db);
    await addInstance('i-web1', 'web1', '10.77.0.2', '52:54:00:00:00:02');
    await addInstance('i-web2', 'web2', '10.77.0.3', '52:54:00:00:00:03');
    await addInstance('i-bare', 'bare', null, '52:54:00:00:00:04');
  }, 60_000);

  afterAll(async () => {
    await db?.close();
    await net?.cleanup();
    if (dir) await rm(dir, { recursive: true, force: true });
    // Nothing of this reached the machine itself.
    expect(await hostForwarding()).toBe(hostForwardingBefore);
  });

  it('none touches nothing: no table, forwarding as it was, forwards refused with what to do', async () => {
    const off = uplink('none');
    await off.start();
    expect(await ruleset()).not.toContain('table inet storm');
    expect(await forwardingInNs()).toBe('0');
    await expect(off.add({ protocol: 'tcp', port: 8080, instance: 'web1', targetPort: 80 })).rejects.toMatchObject({
      code: 'MGR_ERR_UPLINK_OFF',
      message: expect.stringMatching(/--uplink nat/),
    });
    expect(await off.status()).toMatchObject({ mode: 'none', state: 'off', table: null, forwards: [] });
    await off.close();
  });

  it('nat loads inet storm, turns forwarding on, keeps forwards and refuses the ones that clash; stop undoes it all', async () => {
    const up = uplink();
    await up.start();
    expect(await forwardingInNs()).toBe('1');
    let rules = await ruleset();
    expect(rules).toContain('table inet storm');
    expect(rules).toMatch(/ip saddr 10\.77\.0\.0\/24 ip daddr != 10\.77\.0\.0\/24 oifname != "br0" masquerade/);
    expect(rules).toContain('comment "theirs"');

    const added = await up.add({ protocol: 'tcp', port: 8080, instance: 'web1', targetPort: 80 });
    expect(added).toMatchObject({
      protocol: 'tcp',
      port: 8080,
      instance: 'web1',
      instanceId: 'i-web1',
      address: '10.77.0.2',
      targetPort: 80,
      active: true,
    });
    await up.add({ protocol: 'udp', port: 8080, instance: 'i-web2', targetPort: 53 });
    rules = await ruleset();
    expect(rules).toMatch(/tcp dport 8080 dnat ip to 10\.77\.0\.2:80/);
    expect(rules).toMatch(/oifname "br0" ct status dnat ip daddr 10\.77\.0\.2 tcp dport 80 accept/);
    expect(rules).toMatch(/udp dport 8080 dnat ip to 10\.77\.0\.3:53/);

    await expect(up.add({ protocol: 'tcp', port: 8080, instance: 'web2', targetPort: 80 })).rejects.toMatchObject({
      code: 'MGR_ERR_CONFLICT',
      message: expect.stringMatching(/already forwarded to web1:80 \(storm network forward rm tcp 8080 first\)/),
    });
    await expect(up.add({ protocol: 'tcp', port: 8443, instance: 'web2', targetPort: 80 })).rejects.toMatchObject({
      code: 'MGR_ERR_CONFLICT',
      message: expect.stringMatching(/the manager's API/),
    });
    await expect(up.add({ protocol: 'tcp', port: 8081, instance: 'nobody', targetPort: 80 })).rejects.toMatchObject({
      code: 'MGR_ERR_NOT_FOUND',
    });
    await expect(up.add({ protocol: 'tcp', port: 8081, instance: 'bare', targetPort: 80 })).rejects.toMatchObject({
      code: 'MGR_ERR_CONFLICT',
      message: expect.stringMatching(/no address/),
    });
    expect((await up.list()).map((f) => `${f.protocol} ${f.port}`)).toEqual(['tcp 8080', 'udp 8080']);
    expect(events.filter((e) => e.type === 'uplink.forward' && e.data['action'] === 'added')).toHaveLength(2);

    // storm doctor's line: fine, then failing with what to do when another program takes the table or forwarding away.
    expect(await up.check()).toMatchObject({
      status: 'ok',
      message: 'nat: 10.77.0.0/24 masqueraded out, table inet storm loaded on br0, forwarding on, 2 forwards',
    });
    expect((await inNs('sh', '-c', 'echo 0 > /proc/sys/net/ipv4/ip_forward')).code).toBe(0);
    expect(await up.check()).toMatchObject({
      status: 'fail',
      message: expect.stringMatching(/forwarding \(net\.ipv4\.ip_forward\) is off/),
      fix: expect.stringMatching(/ip_forward=1/),
    });
    expect((await inNs('sh', '-c', 'echo 1 > /proc/sys/net/ipv4/ip_forward')).code).toBe(0);
    expect((await inNs('nft', 'delete', 'table', 'inet', 'storm')).code).toBe(0);
    expect(await up.check()).toMatchObject({
      status: 'fail',
      message: expect.stringMatching(/table inet storm is gone/),
      fix: expect.stringMatching(/restart the manager/),
    });
    expect(await uplink('none').check()).toBeNull();

    await up.close();
    expect(await ruleset()).not.toContain('table inet storm');
    expect(await ruleset()).toContain('comment "theirs"');
    expect(await forwardingInNs()).toBe('0');
  });

  it('loads the stored forwards again at start, and follows an instance to a new address', async () => {
    const up = uplink();
    await up.start();
    expect(await ruleset()).toMatch(/tcp dport 8080 dnat ip to 10\.77\.0\.2:80/);
    await db.run("UPDATE instances SET ip = '10.77.0.9' WHERE id = 'i-web1'");
    bus.publish('instance.state', { id: 'i-web1', name: 'web1', state: 'running' });
    await pollUntil(
      'the forward to follow web1 to 10.77.0.9',
      async () => (/tcp dport 8080 dnat ip to 10\.77\.0\.9:80/.test(await ruleset()) ? true : undefined),
      { timeoutMs: 5000 },
    );
    expect(await ruleset()).not.toContain('10.77.0.2');
    expect((await up.list())[0]).toMatchObject({ address: '10.77.0.9', active: true });

    await up.remove('udp', 8080);
    expect(await ruleset()).not.toMatch(/udp dport/);
    await expect(up.remove('udp', 8080)).rejects.toMatchObject({ code: 'MGR_ERR_NOT_FOUND' });
    await up.close();
  });

  it('removes an instance’s forwards with it, announcing each, and their rules', async () => {
    const up = uplink();
    await up.start();
    await up.add({ protocol: 'tcp', port: 2222, instance: 'web2', targetPort: 22 });
    await up.instanceRemoved('i-web1');
    await db.run("DELETE FROM instances WHERE id = 'i-web1'");
    expect((await up.list()).map((f) => `${f.protocol} ${f.port} ${f.instance}`)).toEqual(['tcp 2222 web2']);
    expect(events.filter((e) => e.type === 'uplink.forward' && e.data['reason'] === 'instance web1 removed')).toMatchObject([
      { data: { action: 'removed', protocol: 'tcp', port: 8080 } },
    ]);
    const rules = await ruleset();
    expect(rules).not.toContain('dport 8080');
    expect(rules).toContain('tcp dport 2222 dnat ip to 10.77.0.3:22');
    // Whichever way an instance row goes, its forwards go too.
    await db.run("DELETE FROM instances WHERE id = 'i-web2'");
    expect(await up.list()).toEqual([]);
    await up.close();
  });

  it('fails to start with the reason when nft cannot be run, and keeps no forward whose rules did not load', async () => {
    await expect(
      uplink('nat', new HostFirewall({ wrap: ['ip', 'netns', 'exec', net.name], nft: '/nonexistent/nft' })).start(),
    ).rejects.toMatchObject({ code: 'MGR_ERR_UPLINK' });
    const missing = await uplink('nat', new HostFirewall({ nft: 'storm-no-such-nft' }))
      .start()
      .catch((e: unknown) => e);
    expect(missing).toMatchObject({ code: 'MGR_ERR_UPLINK', message: expect.stringMatching(/nft not found: install Debian's nftables/) });

    await addInstance('i-web3', 'web3', '10.77.0.4', '52:54:00:00:00:05');
    const other = await createNetns({ bridgeAddress: '10.77.0.1/24' });
    try {
      const up = uplink('nat', new HostFirewall({ wrap: ['ip', 'netns', 'exec', other.name] }));
      await up.start();
      // The namespace gone under it: nft fails for real, and the forward is not kept.
      await other.cleanup();
      await expect(up.add({ protocol: 'tcp', port: 8088, instance: 'web3', targetPort: 80 })).rejects.toMatchObject({
        code: 'MGR_ERR_UPLINK',
      });
      expect(await up.list()).toEqual([]);
      expect(await up.status()).toMatchObject({ state: 'failed', error: expect.stringMatching(/nft -f/) });
    } finally {
      await other.cleanup();
    }
  });
});
