/**
 * The guest kernel's module set: what /init needs, and the closure and load order computed from
 * the modules.dep that `depmod -b` writes for the unpacked kernel package.
 */
import { ApplErr } from './errors.js';

/** Modules the guest loads in the initrd, by name (the closure adds their dependencies). */
export const NEEDED_MODULES = [
  // virtio transport and devices
  'virtio',
  'virtio_ring',
  'virtio_pci_legacy_dev',
  'virtio_pci_modern_dev',
  'virtio_pci',
  'virtio_blk',
  'failover',
  'net_failover',
  'virtio_net',
  // layer filesystems; ext4 needs the crc32c crypto driver when it mounts
  'crc16',
  'mbcache',
  'jbd2',
  'crc32c_generic',
  'ext4',
  'squashfs',
  'overlay',
  // ACPI power button → /dev/input/event* for acpid (libvirt shutdown)
  'button',
  'evdev',
] as const;

/** Module name of a path in modules.dep: basename without `.ko[.xz|.zst|.gz]`, `-` as `_`. */
export function moduleName(path: string): string {
  const base = path.slice(path.lastIndexOf('/') + 1);
  return base.replace(/\.ko(\.(xz|zst|gz))?$/, '').replace(/-/g, '_');
}

/** modules.dep → module path → its dependency paths. */
export function parseModulesDep(text: string): Map<string, string[]> {
  const deps = new Map<string, string[]>();
  for (const line of text.split('\n')) {
    const colon = line.indexOf(':');
    if (colon < 0) continue;
    const path = line.slice(0, colon).trim();
    const rest = line.slice(colon + 1).trim();
    deps.set(path, rest ? rest.split(/\s+/) : []);
  }
  return deps;
}

/** modules.builtin → names of modules compiled into the kernel. */
export function parseBuiltin(text: string): Set<string> {
  return new Set(text.split('\n').filter(Boolean).map(moduleName));
}

/**
 * Paths of `needed` and everything they depend on, each after its dependencies (insmod order).
 * Built-in modules are skipped; a module that is neither built in nor in modules.dep is an error.
 */
export function loadOrder(deps: Map<string, string[]>, builtin: Set<string>, needed: readonly string[]): string[] {
  const byName = new Map<string, string>();
  for (const path of deps.keys()) byName.set(moduleName(path), path);
  const order: string[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (path: string): void => {
    const s = state.get(path);
    if (s === 'done') return;
    if (s === 'visiting') throw ApplErr.APPL_ERR_MODULE_MISSING(`dependency cycle at ${path}`);
    state.set(path, 'visiting');
    for (const dep of deps.get(path) ?? []) {
      if (!deps.has(dep)) throw ApplErr.APPL_ERR_MODULE_MISSING(`${dep} (needed by ${path}) is not in modules.dep`);
      visit(dep);
    }
    state.set(path, 'done');
    order.push(path);
  };
  for (const name of needed) {
    const n = name.replace(/-/g, '_');
    const path = byName.get(n);
    if (path) visit(path);
    else if (!builtin.has(n)) throw ApplErr.APPL_ERR_MODULE_MISSING(n);
  }
  return order;
}
