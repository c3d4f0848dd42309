/**
 * Two hosts on one machine: a manager and two stormd (`host-a`, `host-b`), each stormd on a
 * libvirtd of its own (`private-libvirtd.ts`: its own network and mount namespace, so its own
 * `/run/libvirt` and `/var/lib/libvirt`, and its own domains), what a move between hosts needs to be
 * tested for real. `virsh` runs `virsh -c <that libvirtd>`. Everything is stopped by pid in `close`.
 *
 * @example
 * const two = await startTwoHosts({ prefix: 'storm-e2e-move-', managerArgs: ['--heartbeat', '2'] });
 * await two.manager.api.post('/instances', { appliance: 'hello-web', name: 'web1', host: 'host-a' });
 * await two.hosts['host-b'].virsh('list', '--all');
 * await two.restartManager({ STORM_FAULT: 'crash-after:move:move.copy' }); // the same data and port, once both hosts heartbeat to it
 * await two.close();
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { type ManagerProcess, startManager } from '../helpers/manager-process.js';
import { pollUntil } from '../helpers/poll.js';
import { stopAllProcesses } from '../helpers/process.js';
import { freePort, startStormd, type StormdProcess } from '../helpers/stormd-process.js';
import { makeVmDir, type VmDir } from './libvirtd.js';
import { type PrivateLibvirtd, startPrivateLibvirtd } from './private-libvirtd.js';

const run = promisify(execFile);

export type HostName = 'host-a' | 'host-b';

export interface TestHost {
  readonly stormd: StormdProcess;
  readonly libvirtd: PrivateLibvirtd;
  /** `virsh -c <this host's libvirtd> ARGS`, its stdout trimmed. */
  virsh(...args: string[]): Promise<string>;
}

export interface TwoHosts {
  readonly dir: VmDir;
  /** The manager's data folder. */
  readonly managerDir: string;
  /** The manager now (`restartManager` replaces it). */
  manager: ManagerProcess;
  readonly hosts: Readonly<Record<HostName, TestHost>>;
  /** Stops the manager (SIGTERM) unless it is gone already, starts another on the same data and port with `env`, waits for both hosts' heartbeats. */
  restartManager(env?: NodeJS.ProcessEnv): Promise<ManagerProcess>;
  close(): Promise<void>;
}

export async function startTwoHosts(opts: {
  prefix: string;
  managerArgs?: readonly string[];
  /** More flags for a host's stormd, given its libvirtd and the test's folder (e.g. `--migration-uri`). */
  stormdArgs?: (name: HostName, libvirtd: PrivateLibvirtd, dir: string) => Promise<readonly string[]>;
}): Promise<TwoHosts> {
  const dir = await makeVmDir(opts.prefix);
  const libvirtds: PrivateLibvirtd[] = [];
  try {
    const managerDir = join(dir.path, 'manager');
    // A fixed port: hosts take layer URLs only from the manager origin they joined.
    const args = ['--listen', `127.0.0.1:${await freePort()}`, ...(opts.managerArgs ?? [])];
    const manager = await startManager(managerDir, args);
    const hosts = {} as Record<HostName, TestHost>;
    for (const name of ['host-a', 'host-b'] as const) {
      const libvirtd = await startPrivateLibvirtd();
      libvirtds.push(libvirtd);
      const extra = (await opts.stormdArgs?.(name, libvirtd, dir.path)) ?? [];
      const stormd = await startStormd(manager, { name, dir: dir.path, hypervisor: libvirtd.uri, wrap: libvirtd.enter, args: extra });
      hosts[name] = { stormd, libvirtd, virsh: async (...args) => (await run('virsh', ['-c', libvirtd.uri, ...args])).stdout.trim() };
    }
    const two: TwoHosts = {
      dir,
      managerDir,
      manager,
      hosts,
      restartManager: async (env = {}) => {
        const { child } = two.manager.proc;
        if (child.exitCode === null && child.signalCode === null) await two.manager.proc.stop('SIGTERM');
        const since = new Date().toISOString();
        two.manager = await startManager(managerDir, args, env);
        await pollUntil(
          'a heartbeat from both hosts since the manager started',
          async () => {
            const { hosts: list } = await two.manager.api.get<{ hosts: { status: string; lastHeartbeat: string | null }[] }>('/hosts');
            return list.filter((h) => h.status === 'ready' && (h.lastHeartbeat ?? '') >= since).length === 2 ? true : undefined;
          },
          { timeoutMs: 60_000 },
        );
        return two.manager;
      },
      close: async () => {
        await stopAllProcesses();
        for (const l of libvirtds) await l.close();
        await dir.remove();
      },
    };
    return two;
  } catch (err) {
    await stopAllProcesses();
    for (const l of libvirtds) await l.close();
    await dir.remove();
    throw err;
  }
}
