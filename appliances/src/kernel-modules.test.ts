import { describe, expect, it } from 'vitest';
import { ApplErr } from './errors.js';
import { loadOrder, moduleName, parseBuiltin, parseModulesDep } from './kernel-modules.js';

const DEP = `kernel/fs/ext4/ext4.ko: kernel/fs/jbd2/jbd2.ko kernel/fs/mbcache.ko kernel/lib/crc16.ko
kernel/fs/jbd2/jbd2.ko:
kernel/fs/mbcache.ko:
kernel/lib/crc16.ko:
kernel/drivers/block/virtio_blk.ko: kernel/drivers/virtio/virtio.ko kernel/drivers/virtio/virtio_ring.ko
kernel/drivers/virtio/virtio.ko:
kernel/drivers/virtio/virtio_ring.ko:
kernel/drivers/net/net_failover.ko.xz: kernel/net/core/failover.ko.xz
kernel/net/core/failover.ko.xz:
`;

describe('kernel modules', () => {
  const deps = parseModulesDep(DEP);

  it('names modules like the kernel does', () => {
    expect(moduleName('kernel/fs/ext4/ext4.ko')).toBe('ext4');
    expect(moduleName('kernel/crypto/crc32c-generic.ko.xz')).toBe('crc32c_generic');
    expect(parseBuiltin('kernel/fs/ext4/ext4.ko\nkernel/lib/crc-t10dif.ko\n')).toEqual(new Set(['ext4', 'crc_t10dif']));
  });

  it('orders every module after its dependencies, each once', () => {
    const order = loadOrder(deps, new Set(), ['ext4', 'virtio_blk', 'jbd2', 'net_failover']);
    expect(order).toEqual([
      'kernel/fs/jbd2/jbd2.ko',
      'kernel/fs/mbcache.ko',
      'kernel/lib/crc16.ko',
      'kernel/fs/ext4/ext4.ko',
      'kernel/drivers/virtio/virtio.ko',
      'kernel/drivers/virtio/virtio_ring.ko',
      'kernel/drivers/block/virtio_blk.ko',
      'kernel/net/core/failover.ko.xz',
      'kernel/drivers/net/net_failover.ko.xz',
    ]);
  });

  it('skips built-in modules and refuses unknown ones', () => {
    expect(loadOrder(deps, new Set(['overlay']), ['overlay'])).toEqual([]);
    expect(() => loadOrder(deps, new Set(), ['overlay'])).toThrow(expect.objectContaining({ code: ApplErr.APPL_ERR_MODULE_MISSING.code }));
  });
});
