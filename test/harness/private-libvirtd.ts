/**
 * A libvirtd of the test's own, which the test may stop and start again: in a network namespace
 * the test made, with private runtime, state, cache and domain folders (tmpfs in a mount namespace
 * that a holder process keeps), its socket in a temp folder. Where the machine has /dev/kvm, that
 * mount namespace gets its own /dev/kvm node with Debian's ownership and mode (root:kvm 0660), so
 * this libvirt behaves as on a correctly installed host whatever the machine's node is. `enter` is
 * the command prefix that runs a program in that mount namespace (it sees the same /dev/kvm) with
 * the machine's network (its listeners stay on the test's loopback). Each has a host UUID of its
 * own, so two of them are two hosts to libvirt's migration. Everything is stopped by pid.
 *
 * @example
 * const lv = await startPrivateLibvirtd();
 * await serveStormd({ …, hypervisor: lv.uri, wrap: lv.enter });
 * await lv.stop();  // only this libvirtd
 * await lv.start();
 * await lv.close();
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { libvirtAnswers, makeVmDir } from './libvirtd.js';
import { createNetns } from './netns.js';

export interface PrivateLibvirtd {
  /** `qemu:///system?socket=…`: this libvirtd's socket. */
  readonly uri: string;
  /** `nsenter … --`: run a program in this libvirtd's mount namespace. */
  readonly enter: readonly string[];
  /** True when the mount namespace has its own /dev/kvm (root:kvm 0660). */
  readonly kvm: boolean;
  /** The network namespace its daemons run in (a test may wire it to another and run a stormd there). */
  readonly ns: string;
  /** Starts libvirtd (again) and waits until it answers. */
  start(): Promise<void>;
  /** Stops this libvirtd (SIGTERM to its pid) and waits for it to exit. */
  stop(): Promise<void>;
  close(): Promise<void>;
}

const FOLDERS = ['/run/libvirt', '/var/lib/libvirt', '/var/cache/libvirt', '/etc/libvirt/qemu'];

interface Inside {
  readonly child: ChildProcess;
  /** The end of its output, for an error. */
  readonly recent: string[];
}

export async function startPrivateLibvirtd(timeoutMs = 30_000): Promise<PrivateLibvirtd> {
  const net = await createNetns();
  const dir = await makeVmDir('storm-libvirtd-');
  const lv = join(dir.path, 'libvirt');
  const children: Inside[] = [];
  let libvirtd: Inside | undefined;
  const close = async () => {
    await stopChild(libvirtd?.child);
    for (const c of children) await stopChild(c.child);
    await net.cleanup();
    await dir.remove();
  };
  try {
    await mkdir(join(lv, 'sock'), { recursive: true });
    const conf = join(lv, 'libvirtd.conf');
    await writeFile(
      conf,
      // A host UUID of its own: libvirt refuses to migrate between two libvirtds of one host UUID ("the same host").
      `unix_sock_dir = "${join(lv, 'sock')}"\nunix_sock_rw_perms = "0770"\nauth_unix_rw = "none"\nauth_unix_ro = "none"\nhost_uuid = "${randomUUID()}"\n`,
    );
    const holder = net.start(net.name, 'sh', [
      '-c',
      [
        'set -e',
        `for d in ${FOLDERS.join(' ')}; do mkdir -p $d; mount -t tmpfs -o mode=0755 tmpfs $d; done`,
        // Debian's udev rule gives /dev/kvm root:kvm 0660; this namespace gets a node made that way.
        `if [ -e /dev/kvm ]; then mknod ${lv}/kvm c $((0x$(stat -c %t /dev/kvm))) $((0x$(stat -c %T /dev/kvm))); chown root:kvm ${lv}/kvm; chmod 0660 ${lv}/kvm; mount --bind ${lv}/kvm /dev/kvm; echo kvm; fi`,
        'echo ready',
        'exec sleep 2147483647',
      ].join('\n'),
    ]);
    await holder.waitFor(/^ready$/m, 10_000);
    const kvm = /^kvm$/m.test(holder.output());
    const enterArgs = ['-t', String(holder.pid), '-m', '--'];
    // Daemons run in the holder's mount and network namespaces, kept by pid for the clean-up.
    const spawnInside = (args: readonly string[]): Inside => {
      const child = spawn('nsenter', ['-t', String(holder.pid), '-m', '-n', '--', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
      if (child.pid === undefined) throw new Error(`could not start ${args[0]}`);
      net.adopt(child.pid);
      const recent: string[] = [];
      const keep = (b: Buffer) => {
        recent.push(b.toString());
        if (recent.length > 50) recent.shift();
      };
      child.stdout?.on('data', keep);
      child.stderr?.on('data', keep);
      return { child, recent };
    };
    children.push(spawnInside(['virtlogd', '-p', join(lv, 'virtlogd.pid')]));
    const uri = `qemu:///system?socket=${join(lv, 'sock', 'libvirt-sock')}`;
    const start = async () => {
      if (libvirtd && libvirtd.child.exitCode === null && libvirtd.child.signalCode === null) return;
      const started = spawnInside(['libvirtd', '--config', conf, '--pid', join(lv, 'libvirtd.pid')]);
      libvirtd = started;
      const deadline = Date.now() + timeoutMs;
      while (!(await libvirtAnswers(uri))) {
        if (started.child.exitCode !== null || Date.now() > deadline)
          throw new Error(`libvirtd did not answer on ${uri}: ${started.recent.join('').slice(-2000)}`);
        await new Promise((r) => setTimeout(r, 200));
      }
    };
    await start();
    return {
      uri,
      enter: ['nsenter', ...enterArgs],
      kvm,
      ns: net.name,
      start,
      stop: async () => {
        await stopChild(libvirtd?.child);
        libvirtd = undefined;
      },
      close,
    };
  } catch (err) {
    await close();
    throw err;
  }
}

async function stopChild(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  await gone;
  clearTimeout(timer);
}
