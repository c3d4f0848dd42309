/**
 * The cloud-init NoCloud seed of a traditional instance, from the same data as `storm.getConfig`:
 * `meta-data` (instance-id, local-hostname), `network-config` version 2 (the reserved address,
 * the gateway, STORM's DNS and search domain; DHCP when the manager runs no appliance network),
 * and `user-data`: host name and FQDN, the SSH public keys, the files every guest gets (token,
 * manager.json, the CA), and a last `runcmd` that reports `applied` through the guest API, so the
 * instance shows the same guest status as an agent guest. An appliance that declares a string
 * parameter `userData` has its value appended as a second part of a MIME multipart user-data.
 * Both documents are JSON, which YAML (and so cloud-init) reads as it is.
 *
 * @example
 * const seed = cloudSeed({ instanceId: 'i-1', name: 'web1', domain: 'storm.internal', mac, ip: '10.77.0.9',
 *   net: { prefix: 24, gateway: '10.77.0.1', dns: '10.77.0.1' }, sshKeys, files, guestUrl });
 * await client.createImageDisk(id, { ..., seed });
 */
import type { CloudInitSeed } from '../../../stormd/protocol.js';
import type { LayerFiles } from '../guests/guest-files.js';

export interface SeedInput {
  readonly instanceId: string;
  readonly name: string;
  readonly domain: string;
  readonly mac: string;
  /** The reserved address; absent or null: DHCP. */
  readonly ip?: string | null;
  /** The appliance network, when the manager runs one. */
  readonly net?: { readonly prefix: number; readonly gateway?: string | undefined; readonly dns: string } | undefined;
  readonly sshKeys: readonly string[];
  /** The files every guest gets (`guestFiles`): written by cloud-init's write_files. */
  readonly files: LayerFiles;
  /** The guest API's URL (`https://storm.local:8444/RPC2`). */
  readonly guestUrl: string;
  /** The manager's address, for curl's `--resolve` of the URL's name before DNS is trusted. */
  readonly managerAddress?: string | undefined;
  /** The appliance's own user-data (its `userData` parameter), when it declares one and it is set. */
  readonly userData?: string | undefined;
  /** False: no report of `applied` (the NoCloud-net copy, which carries no token). Default true. */
  readonly reportStatus?: boolean;
}

/** The guest status report the seed's last step sends (`storm.reportStatus('applied', 'cloud-init')`). */
export const APPLIED_CALL =
  '<?xml version="1.0"?><methodCall><methodName>storm.reportStatus</methodName><params>' +
  '<param><value><string>applied</string></value></param><param><value><string>cloud-init</string></value></param></params></methodCall>';

const REPORT_FILE = '/etc/storm/applied.xml';

export function cloudSeed(input: SeedInput): CloudInitSeed {
  const fqdn = `${input.name}.${input.domain}`;
  const report = input.reportStatus !== false;
  const metaData = `${JSON.stringify({ 'instance-id': input.instanceId, 'local-hostname': input.name }, null, 2)}\n`;
  const config = {
    hostname: input.name,
    fqdn,
    prefer_fqdn_over_hostname: false,
    manage_etc_hosts: true,
    // Always present, unlike cloud-init's default en_US.UTF-8, which a minimal image has not generated.
    locale: 'C.UTF-8',
    // Keys go to the distribution's default user and, without the "login as" prefix, to root.
    disable_root: false,
    ssh_pwauth: false,
    ssh_authorized_keys: [...input.sshKeys],
    write_files: [
      ...Object.entries(input.files).map(([path, f]) => ({
        path,
        encoding: 'b64',
        content: f.contentBase64,
        owner: 'root:root',
        permissions: `0${(f.mode ?? 0o644).toString(8)}`,
      })),
      // network-config's nameservers reach /etc/resolv.conf only through resolvconf or resolved, which an image may lack.
      ...(input.ip && input.net
        ? [
            {
              path: '/etc/resolv.conf',
              content: `nameserver ${input.net.dns}\nsearch ${input.domain}\n`,
              owner: 'root:root',
              permissions: '0644',
            },
          ]
        : []),
      ...(report ? [{ path: REPORT_FILE, content: APPLIED_CALL, owner: 'root:root', permissions: '0644' }] : []),
    ],
    ...(report ? { runcmd: [['sh', '-c', reportScript(input.guestUrl, input.managerAddress)]] } : {}),
  };
  const cloudConfig = `#cloud-config\n${JSON.stringify(config, null, 2)}\n`;
  return {
    metaData,
    userData: input.userData ? multipart(cloudConfig, input.userData) : cloudConfig,
    networkConfig: `${JSON.stringify(networkConfig(input), null, 2)}\n`,
  };
}

function networkConfig(input: SeedInput): unknown {
  const match = { match: { macaddress: input.mac.toLowerCase() }, 'set-name': 'eth0' };
  if (!input.ip || !input.net) return { version: 2, ethernets: { eth0: { ...match, dhcp4: true } } };
  return {
    version: 2,
    ethernets: {
      eth0: {
        ...match,
        addresses: [`${input.ip}/${input.net.prefix}`],
        ...(input.net.gateway ? { routes: [{ to: '0.0.0.0/0', via: input.net.gateway }] } : {}),
        nameservers: { addresses: [input.net.dns], search: [input.domain] },
      },
    },
  };
}

/** Reports `applied` with the instance's token, checking the manager against STORM's CA; retried while the network comes up. */
function reportScript(guestUrl: string, managerAddress: string | undefined): string {
  const url = new URL(guestUrl);
  const port = url.port || '443';
  const resolve = managerAddress ? ` --resolve ${url.hostname}:${port}:${managerAddress}` : '';
  return [
    'set -e',
    'token=$(cat /etc/storm/token)',
    `curl -sS --max-time 20 --retry 10 --retry-delay 3 --retry-all-errors --cacert /etc/storm/ca.pem${resolve}` +
      ` -H "Authorization: Bearer $token" -H 'Content-Type: text/xml' --data-binary @${REPORT_FILE} '${url.href}'`,
  ].join('\n');
}

/** Two user-data parts in one MIME multipart document: ours first, then the appliance's own. */
function multipart(cloudConfig: string, own: string): string {
  const boundary = 'STORM-USER-DATA-BOUNDARY';
  const type = own.startsWith('#!') ? 'text/x-shellscript' : own.startsWith('#cloud-config') ? 'text/cloud-config' : 'text/plain';
  return [
    'Content-Type: multipart/mixed; boundary="STORM-USER-DATA-BOUNDARY"',
    'MIME-Version: 1.0',
    '',
    `--${boundary}`,
    'Content-Type: text/cloud-config; charset="utf-8"',
    '',
    cloudConfig,
    `--${boundary}`,
    `Content-Type: ${type}; charset="utf-8"`,
    '',
    own,
    `--${boundary}--`,
    '',
  ].join('\n');
}
