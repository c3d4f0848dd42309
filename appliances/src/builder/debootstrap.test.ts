import { describe, expect, it } from 'vitest';
import { debootstrapArgs, effectiveMirror } from './debootstrap.js';
import type { DebootstrapSpec } from './recipe.js';

const SPEC: DebootstrapSpec = {
  type: 'debootstrap',
  suite: 'bookworm',
  variant: 'minbase',
  mirror: 'http://deb.debian.org/debian',
  include: ['busybox', 'curl'],
  components: ['main'],
};

describe('debootstrap', () => {
  it('passes variant, packages, components and the cache', () => {
    expect(debootstrapArgs(SPEC, '/w/upper', '/c', SPEC.mirror)).toEqual([
      '--variant=minbase',
      '--include=busybox,curl',
      '--components=main',
      '--cache-dir=/c',
      'bookworm',
      '/w/upper',
      'http://deb.debian.org/debian',
    ]);
    expect(debootstrapArgs({ ...SPEC, include: [] }, '/w', '/c', SPEC.mirror)).not.toContain('--include=');
  });

  it('takes STORM_DEBIAN_MIRROR when it is a plain http(s) URL', () => {
    expect(effectiveMirror(SPEC, {})).toBe(SPEC.mirror);
    expect(effectiveMirror(SPEC, { STORM_DEBIAN_MIRROR: 'http://mirror.example/debian' })).toBe('http://mirror.example/debian');
    expect(effectiveMirror(SPEC, { STORM_DEBIAN_MIRROR: 'ftp://x' })).toBe(SPEC.mirror);
  });
});
