/**
 * Names and addresses no host may enrol under: the manager's own (its certificate's names, its
 * listeners' addresses, `storm.local`, its client CN) and the libvirt client's CN, so no host
 * certificate ever carries a name a peer knows the manager, or libvirtd its client, by. Loopback
 * addresses and `localhost` stay open: they name whichever machine dials them. This machine's own
 * name is open to the local host only (`--local-host`), which runs here.
 *
 * @example
 * const reserved = new ReservedNames(['storm.local', 'storm-manager', '10.77.0.1'], { machineNames: ['mgr'] });
 * reserved.clash('STORM.local', { local: false }); // 'storm.local'
 */
import { isIP } from 'node:net';

/** One spelling per name: DNS names lowercased, IPv6 compressed. */
export function canonicalName(name: string): string {
  const lower = name.trim().toLowerCase().replace(/\.$/, '');
  if (isIP(lower) === 6) return new URL(`https://[${lower}]/`).hostname.slice(1, -1);
  return lower;
}

function isLoopback(name: string): boolean {
  return name === 'localhost' || name === '::1' || (isIP(name) === 4 && name.startsWith('127.'));
}

export class ReservedNames {
  private readonly names: ReadonlySet<string>;
  private readonly machine: ReadonlySet<string>;

  constructor(names: readonly string[], opts: { machineNames?: readonly string[] } = {}) {
    this.names = new Set(
      names
        .filter(Boolean)
        .map(canonicalName)
        .filter((n) => !isLoopback(n)),
    );
    this.machine = new Set((opts.machineNames ?? []).map(canonicalName));
  }

  /** The reserved name `name` is (in canonical form), or undefined when a host may use it. */
  clash(name: string, opts: { local: boolean }): string | undefined {
    const n = canonicalName(name);
    if (!this.names.has(n)) return undefined;
    return opts.local && this.machine.has(n) ? undefined : n;
  }

  list(): string[] {
    return [...this.names].sort();
  }
}
