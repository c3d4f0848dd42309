import { describe, expect, it } from 'vitest';
import { binaryClosure, parseLdd } from './host-binaries.js';

describe('host programs for a layer', () => {
  it('reads what ldd lists, without the vDSO', () => {
    const out = [
      '\tlinux-vdso.so.1 (0x00007ffd)',
      '\tlibssl.so.3 => /lib/x86_64-linux-gnu/libssl.so.3 (0x00007f01)',
      '\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007f02)',
      '\t/lib64/ld-linux-x86-64.so.2 (0x00007f03)',
    ].join('\n');
    expect(parseLdd(out, '/usr/bin/openssl')).toEqual([
      '/lib/x86_64-linux-gnu/libssl.so.3',
      '/lib/x86_64-linux-gnu/libc.so.6',
      '/lib64/ld-linux-x86-64.so.2',
    ]);
  });

  it('refuses a program whose library is missing', () => {
    expect(() => parseLdd('\tlibgone.so.1 => not found', '/usr/bin/x')).toThrow(/libgone.so.1 => not found/);
  });

  it("finds openssl's libraries and its loader on this machine", async () => {
    const files = await binaryClosure(['/usr/bin/openssl']);
    expect(files).toContain('/usr/bin/openssl');
    expect(files.some((f) => /\/libcrypto\.so\.3$/.test(f))).toBe(true);
    expect(files.some((f) => /\/ld-linux-x86-64\.so\.2$/.test(f))).toBe(true);
  });
});
