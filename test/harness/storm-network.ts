/**
 * A whole STORM site inside a network namespace the test made: bridge br0 (the appliance network,
 * 10.77.0.0/24, the manager at .1), libvirtd with its own runtime folders so its VMs' taps join br0,
 * the sample channel served on the namespace's loopback, a manager serving DHCP, DNS, LDAP, XML-RPC and the
 * API there (stopped and started again on its data with `stopManager`/`startManager`), and a stormd on
 * qemu:///system through that libvirtd. The test reaches the API over a veth pair into the namespace
 * (addresses it created) and runs clients inside with `exec`.
 * Everything is stopped by pid and the namespace deleted in `cleanup()`.
 *
 * @example
 * const site = await startStormNetwork();
 * try { await site.api.post('/instances', { appliance: 'hello-web', name: 'web1' }); } finally { await site.cleanup(); }
 */
import { spawnSync } from 'node:child_process';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ManagerClient } from '../../cli/src/client.js';
import { ROOT } from '../helpers/manager-process.js';
import { waitUntilReady } from '../helpers/stormd-process.js';
import { makeVmDir, type VmDir } from './libvirtd.js';
import { createNetns, type ExecResult, type Netns, type Started } from './netns.js';

export const SITE = {
  network: '10.77.0.0/24',
  managerAddress: '10.77.0.1',
  domain: 'storm.internal',
  apiPort: 8443,
  guestPort: 8444,
  channelPort: 8090,
  stormdPort: 9443,
} as const;

export interface StormNetwork {
  readonly net: Netns;
  readonly ns: string;
  readonly dir: VmDir;
  readonly api: ManagerClient;
  readonly apiUrl: string;
  readonly caPem: string;
  readonly libvirtUri: string;
  readonly manager: Started;
  /** The manager's data folder (its admin token and CA are there, for the CLI). */
  readonly managerData: string;
  /** Stops the manager (SIGTERM, as an administrator would); guests, libvirtd and stormd keep running. */
  stopManager(): Promise<void>;
  /** Starts it again on the same data folder, with `managerArgs` instead of those it first had. */
  startManager(managerArgs?: readonly string[]): Promise<void>;
  readonly stormd: Started;
  readonly stormdData: string;
  readonly feedUrl: string;
  readonly publicKey: string;
  /** Runs a command inside the site's namespace. */
  exec(command: string, args: readonly string[], timeoutMs?: number): Promise<ExecResult>;
  cleanup(): Promise<void>;
}

let sites = 0;

async function sh(net: Netns, ns: string, script: string): Promise<void> {
  const r = await net.exec(ns, 'sh', ['-c', script]);
  if (r.code !== 0) throw new Error(`in ${ns}: ${script}\n${r.output}`);
}

/**
 * `channelDir` must be a channel built for http://127.0.0.1:8090/ (as `npm run build:appliances` builds
 * the samples); `managerArgs` adds flags to the site's manager (e.g. `--kdc-listen 10.77.0.1:88`),
 * `stormdEnv` variables to its stormd's environment (e.g. a PATH that logs the tools it runs).
 */
export async function startStormNetwork(opts: {
  channelDir: string;
  publicKey: string;
  managerArgs?: readonly string[];
  stormdEnv?: NodeJS.ProcessEnv;
}): Promise<StormNetwork> {
  let k = (process.pid % 200) + ++sites;
  const net = await createNetns({ bridgeAddress: `${SITE.managerAddress}/24` });
  const ns = net.name;
  const dir = await makeVmDir('storm-site-');
  const resolvDir = join('/etc/netns', ns);
  const cleanup = async () => {
    await net.cleanup();
    await rm(resolvDir, { recursive: true, force: true });
    await dir.remove();
  };
  try {
    // The test's way in: a veth pair with addresses in a /30 that exists only between us and the namespace.
    const ipr = (args: string[]) => {
      const r = spawnSync('ip', args, { encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`ip ${args.join(' ')}: ${r.stderr}`);
    };
    // Another test process (the suite's lanes run side by side) may hold this k's link: the first free one is ours.
    for (;;) {
      const r = spawnSync('ip', ['link', 'add', `stv${k}`, 'type', 'veth', 'peer', 'name', 'uplink0', 'netns', ns], { encoding: 'utf8' });
      if (r.status === 0) break;
      if (++k > 254) throw new Error(`no free stvN link for the test's way into ${ns}: ${r.stderr}`);
    }
    const outside = `10.253.${k}.1`;
    const inside = `10.253.${k}.2`;
    const hostIf = `stv${k}`;
    ipr(['addr', 'add', `${outside}/30`, 'dev', hostIf]);
    ipr(['link', 'set', hostIf, 'up']);
    await sh(net, ns, `ip addr add ${inside}/30 dev uplink0 && ip link set uplink0 up`);
    // Clients inside the namespace resolve through STORM's DNS (ip netns exec binds this over /etc/resolv.conf).
    await mkdir(resolvDir, { recursive: true });
    await writeFile(join(resolvDir, 'resolv.conf'), `nameserver ${SITE.managerAddress}\nsearch ${SITE.domain}\n`);

    // libvirtd with private runtime, state and domain folders, so it never meets the host's own.
    const lv = join(dir.path, 'libvirt');
    await mkdir(join(lv, 'sock'), { recursive: true });
    await writeFile(
      join(lv, 'libvirtd.conf'),
      `unix_sock_dir = "${join(lv, 'sock')}"\nunix_sock_rw_perms = "0770"\nauth_unix_rw = "none"\nauth_unix_ro = "none"\n`,
    );
    const libvirtd = net.start(ns, 'sh', [
      '-c',
      [
        'set -e',
        'for d in /run/libvirt /var/lib/libvirt /var/cache/libvirt /etc/libvirt/qemu; do mkdir -p $d; mount -t tmpfs -o mode=0755 tmpfs $d; done',
        `virtlogd -p ${join(lv, 'virtlogd.pid')} & echo "virtlogd-pid $!"`,
        `exec libvirtd --config ${join(lv, 'libvirtd.conf')} --pid ${join(lv, 'libvirtd.pid')}`,
      ].join('\n'),
    ]);
    const vlPid = Number((await libvirtd.waitFor(/virtlogd-pid (\d+)/, 10_000))[1]);
    net.adopt(vlPid);
    const libvirtUri = `qemu:///system?socket=${join(lv, 'sock', 'libvirt-sock')}`;
    await waitForSocket(net, ns, libvirtUri, libvirtd);

    // The sample channel, served on the namespace's loopback.
    const channel = net.start(ns, process.execPath, [
      join(ROOT, 'bin/storm-channel.js'),
      'serve',
      opts.channelDir,
      '--host',
      '127.0.0.1',
      '--port',
      String(SITE.channelPort),
    ]);
    await channel.waitFor(/listening|serving/i, 20_000);

    const data = join(dir.path, 'manager');
    const managerArgs = (extra: readonly string[]) => [
      join(ROOT, 'bin/storm-manager.js'),
      '--data',
      data,
      '--listen',
      `0.0.0.0:${SITE.apiPort}`,
      '--public-url',
      `https://${SITE.managerAddress}:${SITE.apiPort}`,
      '--tls-name',
      inside,
      '--network',
      SITE.network,
      '--domain',
      SITE.domain,
      '--dns-listen',
      `${SITE.managerAddress}:53`,
      '--guest-listen',
      `${SITE.managerAddress}:${SITE.guestPort}`,
      '--ldap-listen',
      `${SITE.managerAddress}:389`,
      // Binds only after StartTLS: an appliance that sent its password in clear would fail here.
      '--ldap-require-tls',
      '--dhcp-interface',
      net.bridge,
      '--bridge',
      net.bridge,
      '--channel-allow',
      '127.0.0.0/8',
      '--channel-poll',
      '0',
      '--heartbeat',
      '2',
      '--log-level',
      'warn',
      ...extra,
    ];
    const launchManager = async (extra: readonly string[]) => {
      const started = net.start(ns, process.execPath, managerArgs(extra));
      await started.waitFor(/STORM manager listening on/, 60_000);
      return started;
    };
    let manager = await launchManager(opts.managerArgs ?? []);
    const caPem = await readFile(join(data, 'pki', 'ca.pem'), 'utf8');
    const token = (await readFile(join(data, 'admin.token'), 'utf8')).trim();
    const apiUrl = `https://${inside}:${SITE.apiPort}`;
    const api = new ManagerClient({ url: apiUrl, token, ca: caPem });

    // A host on qemu:///system through the namespace's libvirtd, enrolled like any other.
    const stormdData = join(dir.path, 'stormd');
    const { token: joinToken } = await api.post<{ token: string }>('/hosts/tokens', {});
    const join_ = await net.exec(ns, process.execPath, [
      join(ROOT, 'bin/stormd.js'),
      'join',
      `https://${SITE.managerAddress}:${SITE.apiPort}`,
      '--token',
      joinToken,
      '--data',
      stormdData,
      '--name',
      'site-host',
      '--url',
      `https://127.0.0.1:${SITE.stormdPort}`,
    ]);
    if (join_.code !== 0) throw new Error(`stormd join failed:\n${join_.output}`);
    const stormd = net.start(
      ns,
      process.execPath,
      [
        join(ROOT, 'bin/stormd.js'),
        '--data',
        stormdData,
        '--listen',
        `127.0.0.1:${SITE.stormdPort}`,
        '--hypervisor',
        libvirtUri,
        '--log-level',
        'warn',
      ],
      opts.stormdEnv ? { env: { ...process.env, ...opts.stormdEnv } } : {},
    );
    await stormd.waitFor(/stormd: listening on/, 60_000);
    // Launches are placed only on a host whose first heartbeat (with its checks) has come in.
    await waitUntilReady({ api }, 'site-host');

    return {
      net,
      ns,
      dir,
      api,
      apiUrl,
      caPem,
      libvirtUri,
      get manager() {
        return manager;
      },
      async stopManager() {
        await manager.stop();
      },
      async startManager(managerArgs) {
        manager = await launchManager(managerArgs ?? opts.managerArgs ?? []);
      },
      managerData: data,
      stormd,
      stormdData,
      feedUrl: `http://127.0.0.1:${SITE.channelPort}/channel.xml`,
      publicKey: opts.publicKey,
      exec: (command, args, timeoutMs) => net.exec(ns, command, args, timeoutMs === undefined ? {} : { timeoutMs }),
      cleanup,
    };
  } catch (err) {
    await cleanup();
    throw err;
  }
}

async function waitForSocket(net: Netns, ns: string, uri: string, daemon: Started): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const r = await net.exec(ns, 'virsh', ['-c', uri, 'version'], { timeoutMs: 5000 });
    if (r.code === 0) return;
    if (Date.now() > deadline) throw new Error(`libvirtd in ${ns} never answered:\n${daemon.output().slice(-2000)}\n${r.output}`);
    await new Promise((res) => setTimeout(res, 300));
  }
}
