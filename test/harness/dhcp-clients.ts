/**
 * Real DHCP clients for tests: busybox `udhcpc` and ISC `dhclient`, each given a hook script that
 * records what it received (address, mask, router, DNS, domain, host name, lease time) one line
 * per event in a log file, and configures the address so renewals can be unicast.
 *
 * @example
 * const c = await dhcpClientFiles(dir, 'g1');
 * net.start(guest.ns, 'busybox', udhcpcArgs(c, { once: false }));
 * const bound = await waitForEvent(c.log, /^bound /m);
 */
import { chmod, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export interface ClientFiles {
  readonly log: string;
  readonly udhcpcScript: string;
  readonly dhclientScript: string;
  readonly dhclientConf: string;
  readonly dhclientLeases: string;
  readonly dhclientPid: string;
}

export interface DhcpEvent {
  readonly event: string;
  readonly fields: Readonly<Record<string, string>>;
}

export async function dhcpClientFiles(dir: string, tag: string): Promise<ClientFiles> {
  const f: ClientFiles = {
    log: join(dir, `${tag}.log`),
    udhcpcScript: join(dir, `${tag}-udhcpc.sh`),
    dhclientScript: join(dir, `${tag}-dhclient.sh`),
    dhclientConf: join(dir, `${tag}-dhclient.conf`),
    dhclientLeases: join(dir, `${tag}-dhclient.leases`),
    dhclientPid: join(dir, `${tag}-dhclient.pid`),
  };
  await writeFile(f.log, '');
  await writeFile(
    f.udhcpcScript,
    `#!/bin/sh
echo "$1 ip=$ip mask=$mask subnet=$subnet router=$router dns=$dns domain=$domain hostname=$hostname lease=$lease serverid=$serverid" >> '${f.log}'
case "$1" in
  bound|renew) ip addr flush dev "$interface"; ip addr add "$ip/$mask" dev "$interface" ;;
  deconfig) ip addr flush dev "$interface" ;;
esac
exit 0
`,
  );
  await writeFile(
    f.dhclientScript,
    `#!/bin/sh
echo "$reason ip=$new_ip_address mask=$new_subnet_mask router=$new_routers dns=$new_domain_name_servers domain=$new_domain_name hostname=$new_host_name lease=$new_dhcp_lease_time" >> '${f.log}'
case "$reason" in
  PREINIT) ip link set dev "$interface" up ;;
  BOUND|RENEW|REBIND|REBOOT) ip addr flush dev "$interface"; ip addr add "$new_ip_address/$new_subnet_mask" dev "$interface" ;;
esac
exit 0
`,
  );
  await writeFile(
    f.dhclientConf,
    'timeout 6;\nretry 1;\ninitial-interval 1;\nrequest subnet-mask, broadcast-address, routers, domain-name, domain-name-servers, host-name, dhcp-lease-time;\n',
  );
  await chmod(f.udhcpcScript, 0o755);
  await chmod(f.dhclientScript, 0o755);
  return f;
}

/** busybox udhcpc in the foreground; `once`: quit after a lease, fail after three tries. */
export function udhcpcArgs(f: ClientFiles, opts: { once: boolean; iface?: string }): string[] {
  const base = ['udhcpc', '-f', '-i', opts.iface ?? 'eth0', '-s', f.udhcpcScript, '-t', '3', '-T', '1', '-A', '1'];
  return opts.once ? [...base, '-n', '-q'] : base;
}

/** ISC dhclient in the foreground, one try (`-1`: exits 2 when no lease came within the conf's timeout). */
export function dhclientArgs(f: ClientFiles, iface = 'eth0'): string[] {
  return ['-d', '-1', '-v', '-cf', f.dhclientConf, '-sf', f.dhclientScript, '-lf', f.dhclientLeases, '-pf', f.dhclientPid, iface];
}

export async function readEvents(log: string): Promise<DhcpEvent[]> {
  const text = await readFile(log, 'utf8');
  return text
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const [event = '', ...rest] = line.split(' ');
      return { event, fields: Object.fromEntries(rest.map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)])) };
    });
}

/** The first event named `event` after `skip` earlier ones, waiting up to `timeoutMs`. */
export async function waitForEvent(log: string, event: string, opts: { after?: number; timeoutMs?: number } = {}): Promise<DhcpEvent> {
  const deadline = Date.now() + (opts.timeoutMs ?? 20_000);
  for (;;) {
    const found = (await readEvents(log)).slice(opts.after ?? 0).find((e) => e.event === event);
    if (found) return found;
    if (Date.now() > deadline) throw new Error(`no ${event} in ${log}: ${(await readFile(log, 'utf8')).slice(-1000)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
