import { describe, expect, it } from 'vitest';
import { doctorText } from './doctor.js';

describe('doctorText', () => {
  it('prints one aligned line per check, the fix under a failure, and a count', () => {
    const text = doctorText({
      ok: false,
      checks: [
        { scope: 'manager', name: 'database', status: 'ok', message: 'passes quick_check' },
        { scope: 'host vm', name: 'kvm', status: 'fail', message: '/dev/kvm is 0600', fix: 'chgrp kvm /dev/kvm && chmod 0660 /dev/kvm' },
        { scope: 'host vm', name: 'store-access', status: 'skip', message: 'test:///default runs no QEMU' },
      ],
    });
    expect(text).toBe(
      [
        'ok    manager  database      passes quick_check',
        'fail  host vm  kvm           /dev/kvm is 0600',
        '                             → chgrp kvm /dev/kvm && chmod 0660 /dev/kvm',
        'skip  host vm  store-access  test:///default runs no QEMU',
        '1 check failed',
        '',
      ].join('\n'),
    );
    expect(doctorText({ ok: true, checks: [{ scope: 'manager', name: 'ca', status: 'ok', message: 'valid' }] })).toBe(
      'ok    manager  ca  valid\nall checks pass\n',
    );
  });
});
