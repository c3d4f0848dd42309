/**
 * Boots a guest directly under qemu (no libvirt) and follows its serial console: for checking the
 * artifacts by hand or from tests. Lines carry the milliseconds since qemu started.
 *
 * @example
 * const g = Guest.start({ kernel, initrd, append: 'storm.layers=vda:ro,vdb:rw', disks });
 * await g.waitFor(/STORM-INIT: root ready/, 120_000);
 * await g.powerdown();
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { connect } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface GuestDisk {
  readonly file: string;
  readonly format: 'raw' | 'qcow2';
  readonly readonly: boolean;
}

export interface BootOptions {
  readonly kernel: string;
  readonly initrd: string;
  /** Appended after `console=ttyS0`. */
  readonly append: string;
  readonly disks: readonly GuestDisk[];
  readonly memoryMiB?: number;
  /** Forward 127.0.0.1:hostPort to the guest's port 80 over a restricted user-mode NIC. */
  readonly httpHostPort?: number;
}

export interface ConsoleLine {
  readonly ms: number;
  readonly text: string;
}

export class Guest {
  readonly lines: ConsoleLine[] = [];
  readonly exited: Promise<number | null>;
  private readonly child: ChildProcess;
  private readonly started = Date.now();
  private readonly dir = mkdtempSync(join(tmpdir(), 'storm-guest-'));
  private readonly waiters = new Set<() => void>();
  private exitCode: number | null | undefined;

  private constructor(opts: BootOptions) {
    const args = [
      '-accel',
      'tcg',
      '-m',
      String(opts.memoryMiB ?? 128),
      '-nographic',
      '-no-reboot',
      '-monitor',
      `unix:${join(this.dir, 'monitor.sock')},server,nowait`,
      '-kernel',
      opts.kernel,
      '-initrd',
      opts.initrd,
      '-append',
      `console=ttyS0 ${opts.append}`.trim(),
      ...(opts.httpHostPort
        ? ['-nic', `user,model=virtio-net-pci,restrict=on,hostfwd=tcp:127.0.0.1:${opts.httpHostPort}-:80`]
        : ['-nic', 'none']),
    ];
    for (const d of opts.disks) {
      args.push('-drive', `file=${d.file},format=${d.format},if=virtio${d.readonly ? ',readonly=on' : ''}`);
    }
    this.child = spawn('qemu-system-x86_64', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let partial = '';
    const onData = (chunk: Buffer): void => {
      const parts = (partial + chunk.toString('utf8')).split(/\r?\n/);
      partial = parts.pop() ?? '';
      for (const text of parts) this.lines.push({ ms: Date.now() - this.started, text });
      this.notify();
    };
    this.child.stdout?.on('data', onData);
    this.child.stderr?.on('data', onData);
    this.exited = new Promise((resolve) => {
      this.child.on('close', (code) => {
        this.exitCode = code;
        rmSync(this.dir, { recursive: true, force: true });
        this.notify();
        resolve(code);
      });
    });
  }

  static start(opts: BootOptions): Guest {
    return new Guest(opts);
  }

  private notify(): void {
    for (const w of this.waiters) w();
  }

  /** The first console line matching `re`; rejects if qemu exits or `timeoutMs` passes first. */
  waitFor(re: RegExp, timeoutMs: number): Promise<ConsoleLine> {
    return new Promise((resolve, reject) => {
      const check = (): void => {
        const hit = this.lines.find((l) => re.test(l.text));
        if (hit) return done(() => resolve(hit));
        if (this.exitCode !== undefined) return done(() => reject(new Error(`qemu exited (${this.exitCode}) before ${re}`)));
      };
      const timer = setTimeout(() => done(() => reject(new Error(`no ${re} within ${timeoutMs} ms`))), timeoutMs);
      const done = (fn: () => void): void => {
        clearTimeout(timer);
        this.waiters.delete(check);
        fn();
      };
      this.waiters.add(check);
      check();
    });
  }

  /** Milliseconds until qemu exits by itself, or undefined after `timeoutMs` (qemu then killed). */
  async waitExit(timeoutMs: number): Promise<number | undefined> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<undefined>((resolve) => {
      timer = setTimeout(() => resolve(undefined), timeoutMs);
    });
    const r = await Promise.race([this.exited.then(() => Date.now() - this.started), timeout]);
    clearTimeout(timer);
    if (r === undefined) this.kill();
    return r;
  }

  /** ACPI power button, as libvirt's shutdown presses it. */
  powerdown(): Promise<void> {
    return new Promise((resolve, reject) => {
      const sock = connect(join(this.dir, 'monitor.sock'), () => {
        sock.end('system_powerdown\n', () => resolve());
      });
      sock.on('error', reject);
      sock.on('data', () => undefined);
    });
  }

  /** Stops qemu by its pid. */
  kill(): void {
    if (this.exitCode === undefined) this.child.kill('SIGKILL');
  }

  console(): string {
    return this.lines.map((l) => `${(l.ms / 1000).toFixed(2).padStart(7)} ${l.text}`).join('\n');
  }
}
