/**
 * The network services end to end, inside a network namespace with a bridge and libvirtd started in
 * it: launch the sample appliance through the API; the VM gets its reserved address from STORM's
 * DHCP, resolves storm.local through STORM's DNS, fetches its configuration over XML-RPC, registers
 * an MX record that `dig` then sees, writes the Kerberos keytab of the realm the site's manager runs
 * (busybox's sh, awk and base64), and reports `applied`; its page answers by name from inside the
 * namespace. Then python's xmlrpc.client, from an instance's own address: getConfig returns that
 * instance's data; another instance's token is a fault; an unknown method is a fault; 10 MB is refused.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readInstanceFile } from '../../stormd/src/instances/instance-layer.js';
import { SITE, startStormNetwork, type StormNetwork } from '../harness/storm-network.js';
import { destroyAllInstances, GUEST_FAILED, type LaunchedInstance as Instance, waitForConsole } from '../helpers/instances.js';

const BUILD = resolve(import.meta.dirname, '../../appliances/build');
let site: StormNetwork;

beforeAll(async () => {
  site = await startStormNetwork({
    channelDir: join(BUILD, 'channel'),
    publicKey: await readFile(join(BUILD, 'publisher.pub'), 'utf8'),
    managerArgs: ['--kdc-listen', `${SITE.managerAddress}:88`],
  });
  await site.api.post('/channels', { url: site.feedUrl, publicKey: site.publicKey });
}, 180_000);
afterAll(async () => {
  await destroyAllInstances(site?.api);
  await site?.cleanup();
}, 120_000);

const consoleUntil = (id: string, pattern: RegExp) => waitForConsole(site.api, id, pattern, { failOn: GUEST_FAILED });

describe('network services with a real guest', () => {
  let web: Instance;

  it('gives the VM its reserved address, storm.local, its configuration; it registers its MX and reports applied', async () => {
    web = await site.api.post<Instance>('/instances', {
      appliance: 'hello-web',
      version: '1.0.0',
      name: 'hello1',
      params: { greeting: 'Hi from STORM' },
    });
    expect(web.ip).toBe('10.77.0.2');
    const text = await consoleUntil(web.id, /STORM-AGENT: applied/);
    expect(text).toContain(`STORM-OS: network eth0 ${web.ip}`);
    expect(text).toContain(`STORM-AGENT: storm.local is ${SITE.managerAddress}`);
    expect(text).toMatch(/STORM-AGENT: registered MX hello1\.storm\.internal 10 hello1\.storm\.internal/);
    // The tiny-os agent (busybox) fetched its keytab too.
    expect(text).toContain('STORM-AGENT: kerberos keytab for host/hello1.storm.internal@STORM.INTERNAL');
    const shown = await site.api.get<Instance>(`/instances/${web.id}`);
    expect(shown.guestStatus).toMatchObject({ phase: 'applied' });

    const leases = (await site.api.get<{ leases: { mac: string; ip: string; instanceName: string }[] }>('/dhcp/leases')).leases;
    expect(leases).toContainEqual(expect.objectContaining({ mac: web.mac, ip: web.ip, instanceName: 'hello1' }));
    const mx = await site.exec('dig', ['+short', `@${SITE.managerAddress}`, 'MX', 'hello1.storm.internal']);
    expect(mx.output.trim()).toBe('10 hello1.storm.internal.');
    const a = await site.exec('dig', ['+short', `@${SITE.managerAddress}`, 'storm.local']);
    expect(a.output.trim()).toBe(SITE.managerAddress);
  }, 300_000);

  it('serves its page by name inside the namespace, with the greeting it was launched with', async () => {
    const page = await site.exec('curl', ['-sS', '--max-time', '10', 'http://hello1.storm.internal/']);
    expect(page.code, page.output).toBe(0);
    expect(page.output).toContain('Hello from hello-web 1.0.0');
    const greeting = await site.exec('curl', ['-sS', '--max-time', '10', 'http://hello1/cgi-bin/greeting']);
    expect(greeting.output.trim()).toBe('Hi from STORM');
  }, 60_000);
});

describe('XML-RPC with python xmlrpc.client', () => {
  it('answers each instance from its own address only', async () => {
    const [one, two] = [
      await site.api.post<Instance>('/instances', { appliance: 'hello-web', version: '1.0.0', name: 'xr1' }),
      await site.api.post<Instance>('/instances', { appliance: 'hello-web', version: '1.0.0', name: 'xr2' }),
    ];
    // Stopped, their addresses are free for a client namespace, and their instance layers readable.
    for (const i of [one, two]) await site.api.post(`/instances/${i.id}/actions`, { action: 'stop' });
    const token = async (i: Instance) =>
      (await readInstanceFile(join(site.stormdData, 'instances', i.id, 'writable', 'w0.qcow2'), 'upper/etc/storm/token')).toString().trim();
    const [t1, t2] = [await token(one!), await token(two!)];

    const guest = await site.net.addGuest({ mac: one!.mac });
    const r = await site.net.exec(guest.ns, 'ip', ['addr', 'add', `${one!.ip}/24`, 'dev', 'eth0']);
    expect(r.code).toBe(0);
    const ca = join(site.dir.path, 'ca.pem');
    await writeFile(ca, site.caPem);
    const script = join(site.dir.path, 'client.py');
    await writeFile(
      script,
      `import json, ssl, sys, xmlrpc.client
url, ca, mine, other = sys.argv[1:5]
ctx = ssl.create_default_context(cafile=ca)
def proxy(token):
    return xmlrpc.client.ServerProxy(url, context=ctx, headers=[("Authorization", "Bearer " + token)])
out = {}
out["config"] = proxy(mine).storm.getConfig()
try:
    proxy(other).storm.getConfig()
    out["other"] = "answered"
except xmlrpc.client.Fault as f:
    out["other"] = {"fault": f.faultCode, "message": f.faultString}
try:
    proxy(mine).storm.rm_rf()
    out["unknown"] = "answered"
except xmlrpc.client.Fault as f:
    out["unknown"] = {"fault": f.faultCode, "message": f.faultString}
try:
    proxy(mine).storm.reportStatus("applied", "x" * (10 * 1024 * 1024))
    out["huge"] = "answered"
except xmlrpc.client.ProtocolError as e:
    out["huge"] = {"refused": e.errcode}
except xmlrpc.client.Fault as f:
    out["huge"] = {"fault": f.faultCode}
except OSError as e:
    # The server answers 413 and closes while the client is still sending: the send fails.
    out["huge"] = {"refused": "connection closed: " + type(e).__name__}
out["after"] = proxy(mine).storm.getConfig()["instance"]["name"]
out["record"] = proxy(mine).storm.registerRecord("TXT", "@", "hello from python")
try:
    proxy(mine).storm.registerRecord("MX", "hello1.${SITE.domain}", "10 xr1.${SITE.domain}")
    out["foreign"] = "answered"
except xmlrpc.client.Fault as f:
    out["foreign"] = {"fault": f.faultCode, "message": f.faultString}
print(json.dumps(out))
`,
    );
    const py = await site.net.exec(guest.ns, 'python3', [script, `https://${SITE.managerAddress}:${SITE.apiPort}/RPC2`, ca, t1, t2], {
      timeoutMs: 60_000,
    });
    expect(py.code, py.output).toBe(0);
    const out = JSON.parse(py.output.trim().split('\n').at(-1)!) as Record<string, unknown>;
    expect(out['config']).toMatchObject({
      instance: { name: 'xr1', ip: one!.ip, mac: one!.mac },
      appliance: { name: 'hello-web' },
      services: { domain: SITE.domain, dns: SITE.managerAddress },
    });
    expect(out['other']).toMatchObject({ fault: 5, message: expect.stringMatching(/another address/) });
    expect(out['unknown']).toMatchObject({ fault: 2 });
    expect(out['huge']).toMatchObject({ refused: expect.anything() });
    expect([413, expect.stringMatching(/^connection closed/)]).toContainEqual((out['huge'] as { refused: unknown }).refused);
    expect(out['after']).toBe('xr1');
    expect(out['record']).toMatchObject({ type: 'TXT', name: 'xr1.storm.internal', value: 'hello from python' });
    expect(out['foreign']).toMatchObject({ fault: 5, message: expect.stringMatching(/not within/) });
    const txt = await site.exec('dig', ['+short', `@${SITE.managerAddress}`, 'TXT', 'xr1.storm.internal']);
    expect(txt.output.trim()).toBe('"hello from python"');
  }, 300_000);
});
