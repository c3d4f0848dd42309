/**
 * Test harness for `qemu:///system`: use the libvirtd that answers, or start virtlogd and
 * libvirtd ourselves (foreground, pids kept) and stop exactly those. Never kills by name.
 *
 * @example
 * const lv = await ensureLibvirtd();
 * const driver = new LibvirtDriver(lv.uri);
 * // … tests …
 * await lv.stop(); // kills only what ensureLibvirtd started
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Hypervisor } from '@unraid/libvirt';

export const SYSTEM_URI = 'qemu:///system';
const LIBVIRT_SOCK = '/var/run/libvirt/libvirt-sock';
const VIRTLOGD_SOCK = '/var/run/libvirt/virtlogd-sock';

export interface LibvirtdHandle {
  readonly uri: string;
  /** Pids this harness started (empty when a running libvirtd was reused). */
  readonly pids: readonly number[];
  /** Stops what this harness started, and waits for it; a no-op when nothing was started. */
  stop(): Promise<void>;
}

/** True when a libvirt connection to `uri` opens. */
export async function libvirtAnswers(uri: string = SYSTEM_URI): Promise<boolean> {
  const hv = new Hypervisor({ uri });
  try {
    await hv.connectOpen();
  } catch {
    return false;
  }
  await hv.connectClose().catch(() => undefined);
  return true;
}

function unixSocketAnswers(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(path);
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

interface Daemon {
  readonly child: ChildProcess;
  readonly output: string[];
  exited: boolean;
}

function startDaemon(command: string): Daemon {
  // Foreground (no -d) so the pid we hold is the daemon's and its exit is ours to see.
  const child = spawn(command, [], { stdio: ['ignore', 'pipe', 'pipe'] });
  const d: Daemon = { child, output: [], exited: false };
  const keep = (b: Buffer) => {
    d.output.push(b.toString());
    if (d.output.length > 50) d.output.shift();
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  child.once('exit', () => {
    d.exited = true;
  });
  child.once('error', (err) => {
    d.exited = true;
    d.output.push(String(err));
  });
  return d;
}

async function stopDaemon(d: Daemon): Promise<void> {
  if (d.exited || d.child.pid === undefined) return;
  const gone = new Promise<void>((resolve) => d.child.once('exit', () => resolve()));
  d.child.kill('SIGTERM');
  const timer = setTimeout(() => d.child.kill('SIGKILL'), 15_000);
  await gone;
  clearTimeout(timer);
}

async function until(check: () => Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return true;
    await new Promise((r) => setTimeout(r, 200));
  }
  return check();
}

/** A running libvirtd for `qemu:///system`: the one already there, or one we start and own. */
export async function ensureLibvirtd(timeoutMs = 30_000): Promise<LibvirtdHandle> {
  if (await libvirtAnswers()) return { uri: SYSTEM_URI, pids: [], stop: async () => undefined };
  const started: Daemon[] = [];
  const stopAll = async () => {
    for (const d of [...started].reverse()) await stopDaemon(d);
  };
  try {
    if (!(await unixSocketAnswers(VIRTLOGD_SOCK))) {
      const logd = startDaemon('virtlogd');
      started.push(logd);
      if (!(await until(async () => logd.exited || (await unixSocketAnswers(VIRTLOGD_SOCK)), timeoutMs)) || logd.exited) {
        throw new Error(`virtlogd did not come up: ${logd.output.join('').trim()}`);
      }
    }
    const lvd = startDaemon('libvirtd');
    started.push(lvd);
    if (!(await until(async () => lvd.exited || (await libvirtAnswers()), timeoutMs)) || lvd.exited) {
      throw new Error(`libvirtd did not answer on ${LIBVIRT_SOCK} within ${timeoutMs} ms: ${lvd.output.join('').trim()}`);
    }
  } catch (err) {
    await stopAll();
    throw err;
  }
  return { uri: SYSTEM_URI, pids: started.map((d) => d.child.pid ?? -1), stop: stopAll };
}

export interface VmDir {
  readonly path: string;
  remove(): Promise<void>;
}

/** A temp folder the qemu user (libvirt-qemu) can traverse, for disks and console logs. */
export async function makeVmDir(prefix = 'storm-test-'): Promise<VmDir> {
  const path = await mkdtemp(join(tmpdir(), prefix));
  // mkdtemp makes 0700; qemu runs as libvirt-qemu and must reach the files libvirt chowns to it.
  await chmod(path, 0o711);
  return { path, remove: () => rm(path, { recursive: true, force: true }) };
}
