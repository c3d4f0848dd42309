import { describe, expect, it } from 'vitest';
import type { InstanceFile } from '../instances/instance-store.js';
import { stackDepth, upgradeFiles } from './stacks.js';

const f = (kind: string, sha: string, role: InstanceFile['role'] = 'layer'): InstanceFile => ({
  position: 0,
  role,
  kind,
  sha256: sha,
  size: 1,
});

describe('upgradeFiles', () => {
  const v1 = [f('os', 'os1'), f('kernel', 'k1', 'kernel'), f('initrd', 'i1', 'initrd'), f('appliance', 'app1')];
  const v2 = [f('os', 'os1'), f('kernel', 'k1', 'kernel'), f('initrd', 'i1', 'initrd'), f('appliance', 'app2'), f('deployment', 'dep2')];

  it('takes the target version and keeps the instance own deployment layers on top', () => {
    const current = [...v1, f('deployment', 'site')];
    const out = upgradeFiles(current, v2, v1);
    expect(out.map((x) => x.sha256)).toEqual(['os1', 'k1', 'i1', 'app2', 'dep2', 'site']);
    expect(out.map((x) => x.position)).toEqual([0, 1, 2, 3, 4, 5]);
  });

  it('drops deployment layers the old version brought itself', () => {
    const v1dep = [...v1, f('deployment', 'dep1')];
    expect(upgradeFiles(v1dep, v2, v1dep).map((x) => x.sha256)).toEqual(['os1', 'k1', 'i1', 'app2', 'dep2']);
  });

  it('counts disks: image layers, frozen layers, the writable one', () => {
    expect(stackDepth(v1, ['w0', 'w1'])).toBe(5);
  });
});
