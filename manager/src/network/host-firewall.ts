/**
 * What the uplink changes on the manager's machine: its own nftables table (through Debian's `nft`)
 * and IPv4 forwarding. `wrap` runs every command inside something else, for tests that keep it all
 * inside a network namespace they made (`['ip', 'netns', 'exec', NS]`).
 *
 * @example
 * const fw = new HostFirewall();
 * await fw.load(uplinkRuleset(input));
 * await fw.removeTable('inet', 'storm');
 */
import { spawn } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { UplinkErr } from './uplink-errors.js';

const FORWARDING = '/proc/sys/net/ipv4/ip_forward';

export interface HostFirewallOptions {
  /** A command every call runs inside (`ip netns exec NS`); empty: this machine as it is. */
  readonly wrap?: readonly string[];
  readonly nft?: string;
}

interface Ran {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

function run(argv: readonly string[], input?: string): Promise<Ran> {
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0]!, argv.slice(1), { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
    // An nft that exits before reading its rules (absent, refused) closes the pipe: EPIPE here, its exit code in 'close'.
    child.stdin.on('error', () => undefined);
    child.stdin.end(input ?? '');
  });
}

/** What to do about a failed nft, in words an administrator acts on. */
function hint(stderr: string): string {
  if (/Operation not permitted|Permission denied/i.test(stderr))
    return ' (nftables needs root or CAP_NET_ADMIN: run storm-manager as root)';
  if (/No such file or directory.*(nat|fib|masq)|Could not process rule/i.test(stderr))
    return " (the kernel lacks nftables' nat, fib or masquerade support)";
  return '';
}

export class HostFirewall {
  private readonly wrap: readonly string[];
  private readonly nftPath: string;

  constructor(opts: HostFirewallOptions = {}) {
    this.wrap = opts.wrap ?? [];
    this.nftPath = opts.nft ?? 'nft';
  }

  private async nft(args: readonly string[], input?: string): Promise<Ran> {
    try {
      return await run([...this.wrap, this.nftPath, ...args], input);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT')
        throw UplinkErr.MGR_ERR_UPLINK("nft not found: install Debian's nftables package (scripts/setup.sh does)");
      throw UplinkErr.MGR_ERR_UPLINK(`nft: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
    }
  }

  /** Loads an `nft -f` script in one transaction: all of it or, on any error, none of it. */
  async load(script: string): Promise<void> {
    const r = await this.nft(['-f', '-'], script);
    if (r.code !== 0) throw UplinkErr.MGR_ERR_UPLINK(`nft -f: ${r.stderr.trim() || `exit ${r.code}`}${hint(r.stderr)}`);
  }

  /** True when the table exists. */
  async hasTable(family: string, name: string): Promise<boolean> {
    const r = await this.nft(['list', 'table', family, name]);
    return r.code === 0;
  }

  /** Deletes the table; a table that is not there is already what we want. */
  async removeTable(family: string, name: string): Promise<void> {
    const r = await this.nft(['delete', 'table', family, name]);
    if (r.code !== 0 && !/No such file or directory/.test(r.stderr))
      throw UplinkErr.MGR_ERR_UPLINK(`nft delete table ${family} ${name}: ${r.stderr.trim()}${hint(r.stderr)}`);
  }

  /** Whether the kernel forwards IPv4 between interfaces (net.ipv4.ip_forward). */
  async forwarding(): Promise<boolean> {
    const text = this.wrap.length ? (await this.must(['cat', FORWARDING])).stdout : await readFile(FORWARDING, 'utf8');
    return text.trim() === '1';
  }

  async setForwarding(on: boolean): Promise<void> {
    try {
      if (this.wrap.length) await this.must(['sh', '-c', `echo ${on ? 1 : 0} > ${FORWARDING}`]);
      else await writeFile(FORWARDING, on ? '1\n' : '0\n');
    } catch (err) {
      throw UplinkErr.MGR_ERR_UPLINK(
        `cannot set net.ipv4.ip_forward to ${on ? 1 : 0}: ${err instanceof Error ? err.message : String(err)}`,
        { cause: err },
      );
    }
  }

  private async must(argv: readonly string[]): Promise<Ran> {
    const r = await run([...this.wrap, ...argv]);
    if (r.code !== 0) throw new Error(`${argv.join(' ')}: ${r.stderr.trim() || `exit ${r.code}`}`);
    return r;
  }
}
