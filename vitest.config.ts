import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { defineConfig } from 'vitest/config';

/**
 * Two groups (docs/development.md, "The test suite's groups"): `parallel` holds files that share
 * nothing with another file (unit tests beside their module, test/structure, test/conformance and
 * the integration files listed below), `serial` holds every other file: those that touch
 * qemu:///system and its libvirtd, network namespaces, /var/lib/storm, the bridge, fixed ports or
 * /dev/kvm, and any new file under test/ until someone audits it. `bash scripts/test.sh` runs the
 * first group several files at a time beside the second, which runs one file at a time.
 */

/** Integration files audited for shared state: libvirt's test:///default, loopback on ephemeral ports, their own temp dirs. */
const PARALLEL_INTEGRATION = [
  'channel-serve',
  'channel',
  'cli-account',
  'cli-network',
  'cli-pull',
  'concurrent-launch',
  'crl-clock',
  'feed-order',
  'host-client-errors',
  'host-fencing',
  'host-renewal',
  'kerberos-backup',
  'kerberos-kdc',
  'kerberos',
  'launch-journal',
  'live-move-journal',
  'local-channel-auth',
  'manager-backup',
  'manager-channels',
  'manager-hosts',
  'manager-role',
  'manager-signals',
  'move-journal',
  'npm-current',
  'openapi',
  'pull-resume',
  'reconcile-compare',
  'replication',
  'stormd-api',
  'stormd-join',
  'stormd-two-hosts',
  'systemd-units',
  'builder',
].map((name) => `test/integration/${name}.test.ts`);

/**
 * Serial files that boot guests only inside namespaces they made (a private libvirtd with its own
 * /run/libvirt, a bridge inside the namespace, their own ports there): they share nothing with the
 * serial group's files, so they run one at a time as a second serial lane beside it. Audited for the
 * system libvirtd, /var/lib/storm, fixed host ports and host-side link names.
 */
export const ISOLATED_E2E = ['manager-appliance', 'crash-consistency', 'image-appliances', 'lifecycle', 'hostile-guests'].map(
  (name) => `test/e2e/${name}.test.ts`,
);

/** Folders under test/ whose files share nothing (they read the source tree). */
const PARALLEL_TEST_FOLDERS = ['test/structure/', 'test/conformance/'];

/** Unit tests beside their module that share the machine: the system libvirtd, a libvirtd of their own with a TLS port. */
const SERIAL_BESIDE_MODULES = ['stormd/src/hypervisor/libvirt-driver.test.ts', 'trust/libvirt-bundle.test.ts'];

/** Outside test/ a file is parallel unless listed; under test/ it is serial unless listed (so new e2e files start serial). */
export function runsSerially(path: string): boolean {
  if (!path.startsWith('test/')) return SERIAL_BESIDE_MODULES.includes(path);
  return !PARALLEL_INTEGRATION.includes(path) && !PARALLEL_TEST_FOLDERS.some((folder) => path.startsWith(folder));
}

/** The group a file runs in (docs/development.md, "The test suite's groups"). */
export function groupOf(path: string): 'parallel' | 'serial' | 'isolated' {
  if (ISOLATED_E2E.includes(path)) return 'isolated';
  return runsSerially(path) ? 'serial' : 'parallel';
}

const SKIPPED = new Set(['node_modules', 'dist', 'data', 'appliances/build']);

/** Every *.test.ts under the repository, as a path relative to it. */
function testFiles(dir = ''): string[] {
  return readdirSync(join(import.meta.dirname, dir), { withFileTypes: true }).flatMap((entry) => {
    const path = dir ? `${dir}/${entry.name}` : entry.name;
    if (entry.isDirectory()) return entry.name.startsWith('.') || SKIPPED.has(path) ? [] : testFiles(path);
    return entry.isFile() && path.endsWith('.test.ts') ? [path] : [];
  });
}

const files = testFiles();

export default defineConfig({
  test: {
    testTimeout: 30_000,
    hookTimeout: 120_000,
    // One file at a time unless asked (scripts/test.sh passes --file-parallelism for the parallel group); tests inside run in order.
    fileParallelism: false,
    projects: [
      { extends: true, test: { name: 'parallel', include: files.filter((f) => groupOf(f) === 'parallel'), sequence: { groupOrder: 0 } } },
      { extends: true, test: { name: 'serial', include: files.filter((f) => groupOf(f) === 'serial'), sequence: { groupOrder: 1 } } },
      { extends: true, test: { name: 'isolated', include: files.filter((f) => groupOf(f) === 'isolated'), sequence: { groupOrder: 2 } } },
    ],
  },
});
