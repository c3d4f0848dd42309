import { describe, expect, it } from 'vitest';
import { debFileName, parseCandidate, parseKernelDepends } from './kernel.js';

describe('kernel package resolution', () => {
  it('reads the linux-image dependency of the meta package', () => {
    const out = 'linux-image-amd64\n  Depends: linux-image-6.1.0-56-amd64\n  Recommends: firmware\n';
    expect(parseKernelDepends(out)).toBe('linux-image-6.1.0-56-amd64');
    expect(parseKernelDepends('linux-image-amd64\n  Depends: <linux-image-x>\n')).toBeUndefined();
  });

  it('reads the candidate version, refusing (none)', () => {
    expect(parseCandidate('linux-image-6.1.0-56-amd64:\n  Installed: (none)\n  Candidate: 6.1.192-2\n')).toBe('6.1.192-2');
    expect(parseCandidate('x:\n  Installed: (none)\n  Candidate: (none)\n')).toBeUndefined();
  });

  it('names the .deb as apt-get download does', () => {
    expect(debFileName({ name: 'linux-image-6.1.0-56-amd64', version: '6.1.192-2', arch: 'amd64' })).toBe(
      'linux-image-6.1.0-56-amd64_6.1.192-2_amd64.deb',
    );
    expect(debFileName({ name: 'p', version: '1:2.0', arch: 'amd64' })).toBe('p_1%3a2.0_amd64.deb');
  });
});
