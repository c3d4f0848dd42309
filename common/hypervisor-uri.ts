/**
 * Resolves the hypervisor URI `auto`: `qemu:///system` where a libvirtd answers on this machine,
 * else libvirt's built-in `test:///default`, so a machine without virtualization still runs STORM.
 */
import { Hypervisor } from '@unraid/libvirt';

export const SYSTEM_URI = 'qemu:///system';
export const TEST_URI = 'test:///default';

/** True when a libvirtd accepts a `qemu:///system` connection within `timeoutMs`. */
export async function libvirtdAnswers(uri = SYSTEM_URI, timeoutMs = 3000): Promise<boolean> {
  const hv = new Hypervisor({ uri });
  const attempt = hv.connectOpen().then(
    async () => {
      await hv.connectClose().catch(() => undefined);
      return true;
    },
    () => false,
  );
  const timeout = new Promise<boolean>((resolve) => setTimeout(() => resolve(false), timeoutMs).unref());
  return Promise.race([attempt, timeout]);
}

export async function resolveHypervisorUri(uri: string): Promise<string> {
  if (uri !== 'auto') return uri;
  return (await libvirtdAnswers()) ? SYSTEM_URI : TEST_URI;
}
