/**
 * Network namespaces for tests that send packets anywhere but loopback. `createNetns()` makes a
 * namespace `storm-test-<pid>-<n>` with a bridge; `addGuest()` makes a child namespace wired to
 * that bridge by a veth pair; `exec`/`start` run commands inside one with `ip netns exec` and
 * keep their pids; `cleanup()` kills exactly those pids, then every process still inside its namespaces
 * (daemons that forked away, the VMs a libvirtd there started), and deletes exactly those namespaces
 * (the pids and namespaces also at process exit, so a crashed test leaves nothing behind). Needs root and iproute2.
 *
 * @example
 * const net = await createNetns({ bridgeAddress: '10.77.0.1/24' });
 * try {
 *   const guest = await net.addGuest({ mac: '52:54:00:00:00:01' });
 *   const server = net.start(net.name, 'node', ['--import', 'tsx', 'test/harness/run-dhcp-server.ts', json]);
 *   await server.waitFor(/^ready/m);
 *   const out = await net.exec(guest.ns, 'busybox', ['udhcpc', '-f', '-q', '-i', 'eth0']);
 * } finally {
 *   await net.cleanup();
 * }
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { readdir, readlink, stat } from 'node:fs/promises';

export interface Guest {
  /** The guest's namespace. */
  readonly ns: string;
  /** Its interface inside `ns` (always `eth0`). */
  readonly iface: string;
  readonly mac: string;
  /** The veth end on the bridge, in the main namespace. */
  readonly port: string;
}

export interface ExecResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  /** stdout and stderr interleaved, as printed. */
  readonly output: string;
}

/** A long-running process inside a namespace (a server, libvirtd, a DHCP client). */
export interface Started {
  readonly pid: number;
  readonly child: ChildProcess;
  /** Everything it printed so far, stdout and stderr interleaved. */
  output(): string;
  /** Resolves when its output matches `pattern`; rejects when it exits first or the time runs out. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  /** Resolves with the exit code (null when killed by a signal). */
  readonly exited: Promise<number | null>;
  /** Signals it (SIGTERM by default), SIGKILL after `graceMs`, and waits for the exit. */
  stop(signal?: NodeJS.Signals, graceMs?: number): Promise<void>;
}

export interface Netns {
  /** The main namespace, holding the bridge. */
  readonly name: string;
  readonly bridge: string;
  addGuest(opts: { mac: string }): Promise<Guest>;
  exec(ns: string, command: string, args: readonly string[], opts?: { timeoutMs?: number }): Promise<ExecResult>;
  start(ns: string, command: string, args: readonly string[], opts?: { env?: NodeJS.ProcessEnv; cwd?: string }): Started;
  /** Takes a pid started some other way (a daemon's child) into the cleanup, killed by that pid. */
  adopt(pid: number): void;
  cleanup(): Promise<void>;
}

let counter = 0;
const live = new Set<{ pids: Set<number>; namespaces: string[] }>();

/** Synchronous last resort at exit: the same exact pids and namespaces, nothing by name. */
process.once('exit', () => {
  for (const owned of live) {
    for (const pid of owned.pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    for (const ns of [...owned.namespaces].reverse()) spawnSync('ip', ['netns', 'del', ns]);
  }
});

function run(
  command: string,
  args: readonly string[],
  timeoutMs = 10_000,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

async function must(command: string, args: readonly string[]): Promise<void> {
  const r = await run(command, args);
  if (r.code !== 0) throw new Error(`${command} ${args.join(' ')} failed (${r.code}): ${r.stderr.trim()}`);
}

/** Pids of the processes inside network namespace `ns` (`/run/netns/<ns>`): their `/proc/PID/ns/net` is that file's inode. */
export async function pidsInside(ns: string): Promise<number[]> {
  const ino = await stat(`/run/netns/${ns}`).then(
    (s) => s.ino,
    () => undefined,
  );
  if (ino === undefined) return [];
  const want = `net:[${ino}]`;
  const pids: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    // Gone meanwhile, or a kernel thread: not ours.
    const link = await readlink(`/proc/${entry}/ns/net`).catch(() => undefined);
    if (link === want) pids.push(Number(entry));
  }
  return pids;
}

/** Kills, by pid, whatever still runs inside a namespace this harness made, and waits until none is left. */
async function killInside(ns: string): Promise<void> {
  const deadline = Date.now() + 5000;
  for (let left = await pidsInside(ns); left.length && Date.now() < deadline; left = await pidsInside(ns)) {
    for (const pid of left) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A namespace with bridge `br0` (given `bridgeAddress`, e.g. `10.77.0.1/24`) and loopback up. */
export async function createNetns(opts: { bridgeAddress?: string } = {}): Promise<Netns> {
  const name = `storm-test-${process.pid}-${++counter}`;
  const owned = { pids: new Set<number>(), namespaces: [] as string[] };
  live.add(owned);
  const bridge = 'br0';
  let guests = 0;
  const inNs = (ns: string, ...args: string[]) => must('ip', ['netns', 'exec', ns, ...args]);

  const start = (ns: string, command: string, args: readonly string[], o: { env?: NodeJS.ProcessEnv; cwd?: string } = {}): Started => {
    const child = spawn('ip', ['netns', 'exec', ns, command, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: o.env ?? process.env,
      cwd: o.cwd,
    });
    if (child.pid === undefined) throw new Error(`could not start ${command} in ${ns}`);
    const pid = child.pid;
    owned.pids.add(pid);
    let text = '';
    const listeners = new Set<() => void>();
    const onData = (d: Buffer) => {
      text += d.toString();
      if (text.length > 1_000_000) text = text.slice(-500_000);
      for (const l of listeners) l();
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    const exited = new Promise<number | null>((resolve) => {
      child.once('exit', (code) => {
        owned.pids.delete(pid);
        for (const l of listeners) l();
        resolve(code);
      });
      child.once('error', () => {
        owned.pids.delete(pid);
        resolve(null);
      });
    });
    let done = false;
    void exited.then(() => (done = true));
    return {
      pid,
      child,
      exited,
      output: () => text,
      waitFor(pattern, timeoutMs = 15_000) {
        return new Promise((resolve, reject) => {
          const check = () => {
            const m = text.match(pattern);
            if (m) finish(() => resolve(m));
            else if (done) finish(() => reject(new Error(`${command} exited before printing ${pattern}: ${text.slice(-2000)}`)));
          };
          const timer = setTimeout(
            () => finish(() => reject(new Error(`${command} did not print ${pattern} within ${timeoutMs} ms: ${text.slice(-2000)}`))),
            timeoutMs,
          );
          const finish = (f: () => void) => {
            clearTimeout(timer);
            listeners.delete(check);
            f();
          };
          listeners.add(check);
          check();
        });
      },
      async stop(signal: NodeJS.Signals = 'SIGTERM', graceMs = 5000) {
        if (done) return;
        child.kill(signal);
        const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
        await exited;
        clearTimeout(timer);
      },
    };
  };

  const netns: Netns = {
    name,
    bridge,
    async addGuest({ mac }) {
      const k = ++guests;
      const ns = `${name}-g${k}`;
      const port = `vg${k}`;
      await must('ip', ['netns', 'add', ns]);
      owned.namespaces.push(ns);
      await inNs(name, 'ip', 'link', 'add', port, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns);
      await inNs(name, 'ip', 'link', 'set', port, 'master', bridge, 'up');
      await inNs(ns, 'ip', 'link', 'set', 'eth0', 'address', mac);
      await inNs(ns, 'ip', 'link', 'set', 'eth0', 'up');
      await inNs(ns, 'ip', 'link', 'set', 'lo', 'up');
      return { ns, iface: 'eth0', mac, port };
    },
    async exec(ns, command, args, o = {}) {
      const s = start(ns, command, args);
      const timeoutMs = o.timeoutMs ?? 30_000;
      const timer = setTimeout(() => s.child.kill('SIGKILL'), timeoutMs);
      const code = await s.exited;
      clearTimeout(timer);
      return { code, signal: s.child.signalCode, output: s.output() };
    },
    start,
    adopt(pid: number) {
      owned.pids.add(pid);
    },
    async cleanup() {
      for (const pid of [...owned.pids]) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          owned.pids.delete(pid);
        }
      }
      const deadline = Date.now() + 5000;
      while (owned.pids.size && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      for (const ns of owned.namespaces) await killInside(ns);
      for (const ns of [...owned.namespaces].reverse()) await run('ip', ['netns', 'del', ns]);
      owned.namespaces.length = 0;
      live.delete(owned);
    },
  };

  try {
    await must('ip', ['netns', 'add', name]);
    owned.namespaces.push(name);
    await inNs(name, 'ip', 'link', 'set', 'lo', 'up');
    await inNs(name, 'ip', 'link', 'add', bridge, 'type', 'bridge');
    // No STP delay: guests' ports forward at once.
    await inNs(name, 'ip', 'link', 'set', bridge, 'type', 'bridge', 'forward_delay', '0', 'stp_state', '0');
    if (opts.bridgeAddress) await inNs(name, 'ip', 'addr', 'add', opts.bridgeAddress, 'dev', bridge);
    await inNs(name, 'ip', 'link', 'set', bridge, 'up');
  } catch (err) {
    await netns.cleanup();
    throw err;
  }
  return netns;
}

/** True when this process may create namespaces (root with iproute2). */
export function netnsAvailable(): boolean {
  if (process.getuid?.() !== 0) return false;
  return spawnSync('ip', ['netns', 'list']).status === 0;
}

/** True when `command` is on PATH. */
export function haveCommand(command: string): boolean {
  return spawnSync('sh', ['-c', 'command -v "$1"', 'sh', command]).status === 0;
}
