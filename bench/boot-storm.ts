/**
 * A boot storm: many simulated guests at once, each doing what a STORM guest does at boot —
 * DHCP (DISCOVER → OFFER → REQUEST → ACK), then DNS (`storm.local` and its own name), then
 * `storm.getConfig` through the `getConfig` hook (bench/guest-config-server.ts: a real manager over
 * TLS). Clients speak the protocols themselves on loopback and retransmit like real ones. DHCP and
 * DNS run in a worker thread (bench/boot-storm-clients.ts), getConfig on this one: a real guest's
 * DHCP and DNS never wait behind another guest's TLS handshake.
 *
 * @example
 * const storm = await startBootStorm(guests);          // binds the port DHCP replies go to
 * // … start the DHCP server with clientPort: storm.dhcpClientPort …
 * const result = await storm.run({ dhcpPort, dnsPort, serverIp: '127.1.0.1', domain, hooks: {} });
 * result.totalMs; result.perGuestMs; // p99 = percentile(result.perGuestMs, 99)
 */
import { Worker } from 'node:worker_threads';
import type { ClientsMessage, ClientsRun, ClientsSetup } from './boot-storm-clients.js';

export interface StormGuest {
  readonly mac: string;
  readonly ip: string;
  readonly name: string;
}

export interface BootStormHooks {
  /** The third step of a boot; resolve when the guest has its configuration. */
  getConfig?(guest: StormGuest): Promise<void>;
}

export interface BootStormRun extends ClientsRun {
  readonly hooks: BootStormHooks;
}

export interface BootStormResult {
  readonly totalMs: number;
  readonly perGuestMs: number[];
  /** When each guest had its lease and its two names, ms from the start: where the time goes. */
  readonly leasedAtMs: number[];
  readonly resolvedAtMs: number[];
  readonly retransmits: number;
  readonly failures: string[];
}

export interface BootStorm {
  /** The port the DHCP server must send its (broadcast) replies to. */
  readonly dhcpClientPort: number;
  run(o: BootStormRun): Promise<BootStormResult>;
  close(): Promise<void>;
}

const at = () => performance.timeOrigin + performance.now();

/** Starts the clients' worker for `guests`; a client waits `retryMs` for an answer before it sends again. */
export async function startBootStorm(guests: readonly StormGuest[], retryMs = 500): Promise<BootStorm> {
  const setup: ClientsSetup = { guests, retryMs };
  // The bench runs under tsx, which a worker does not inherit: the worker loads the clients through tsx's API.
  const clients = new URL('./boot-storm-clients.ts', import.meta.url).href;
  const worker = new Worker(
    `import('tsx/esm/api').then(({ tsImport }) => tsImport(${JSON.stringify(clients)}, ${JSON.stringify(import.meta.url)}))`,
    {
      eval: true,
      workerData: setup,
    },
  );
  // Never what keeps the bench running when something fails before close().
  worker.unref();
  const failed = new Promise<never>((_, reject) => worker.once('error', reject));
  const bound = new Promise<number>((resolve) => worker.once('message', (m: ClientsMessage) => m.kind === 'bound' && resolve(m.port)));
  const dhcpClientPort = await Promise.race([bound, failed]);

  const run = async (o: BootStormRun): Promise<BootStormResult> => {
    const failures: string[] = [];
    const perGuestMs: number[] = [];
    const leasedAtMs: number[] = [];
    const resolvedAtMs: number[] = [];
    const configs: Promise<void>[] = [];
    const start = at();
    const done = new Promise<number>((resolve) => {
      worker.on('message', (m: ClientsMessage) => {
        if (m.kind === 'failed') failures.push(`${guests[m.i]!.name}: ${m.error}`);
        else if (m.kind === 'done') resolve(m.retransmits);
        else if (m.kind === 'ready') {
          const guest = guests[m.i]!;
          leasedAtMs.push(m.leasedAt - start);
          resolvedAtMs.push(m.resolvedAt - start);
          configs.push(
            (async () => {
              await o.hooks.getConfig?.(guest);
              perGuestMs.push(at() - start);
            })().catch((err: unknown) => void failures.push(`${guest.name}: ${err instanceof Error ? err.message : String(err)}`)),
          );
        }
      });
    });
    const { hooks: _hooks, ...clients } = o;
    worker.postMessage(clients satisfies ClientsRun);
    const retransmits = await Promise.race([done, failed]);
    await Promise.all(configs);
    return { totalMs: at() - start, perGuestMs, leasedAtMs, resolvedAtMs, retransmits, failures };
  };
  return { dhcpClientPort, run, close: async () => void (await worker.terminate()) };
}

/** `count` guests with MACs 52:54:00:xx:xx:xx and addresses from `firstIp` on (as an integer). */
export function stormGuests(count: number, firstIp: number): StormGuest[] {
  return Array.from({ length: count }, (_, i) => {
    const n = firstIp + i;
    return {
      mac: `52:54:00:${((i >> 16) & 255).toString(16).padStart(2, '0')}:${((i >> 8) & 255).toString(16).padStart(2, '0')}:${(i & 255).toString(16).padStart(2, '0')}`,
      ip: `${(n >>> 24) & 255}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`,
      name: `guest${String(i + 1).padStart(4, '0')}`,
    };
  });
}
