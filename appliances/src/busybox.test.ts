import { describe, expect, it } from 'vitest';
import { appletDirs, appletLinks, loadBusybox } from './busybox.js';

describe('busybox', () => {
  it('loads the host static busybox with its applets', async () => {
    const bb = await loadBusybox();
    expect(bb.applets).toContain('bin/sh');
    expect(bb.applets).toContain('sbin/switch_root');
    expect(bb.sha256).toMatch(/^[0-9a-f]{64}$/);
  });

  it('links applets relatively to bin/busybox', () => {
    expect(appletLinks(['bin/sh', 'usr/bin/[', 'sbin/init'])).toEqual([
      { path: 'bin/sh', target: 'busybox' },
      { path: 'usr/bin/[', target: '../../bin/busybox' },
      { path: 'sbin/init', target: '../bin/busybox' },
    ]);
    expect(appletDirs(['usr/sbin/x', 'sbin/y'])).toEqual(['bin', 'sbin', 'usr', 'usr/sbin']);
  });
});
