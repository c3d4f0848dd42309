import { describe, expect, it } from 'vitest';
import { buildDomainXml } from '../hypervisor/domain-xml.js';
import { domainDisks, domainFiles } from './domain-files.js';

describe('domainFiles', () => {
  it('lists kernel, initrd and every disk source of a domain', () => {
    const xml = buildDomainXml(
      {
        name: 'storm-i1',
        uuid: '6f1c1c1e-1111-4222-8333-444455556666',
        memoryMiB: 64,
        vcpus: 1,
        boot: { kernel: '/d/layers/k', initrd: '/d/layers/i', cmdline: 'console=ttyS0' },
        disks: [
          { path: '/d/layers/os', format: 'raw', readonly: true },
          { path: '/d/instances/i1/instance.qcow2', format: 'qcow2', readonly: false },
        ],
        nics: [],
        consoleLog: '/d/instances/i1/console.log',
        metadata: { note: '/d/layers/not-a-disk' },
      },
      'test',
    );
    expect(domainFiles(xml).sort()).toEqual(['/d/instances/i1/instance.qcow2', '/d/layers/i', '/d/layers/k', '/d/layers/os']);
  });
});

describe('domainDisks', () => {
  it('gives each disk in order with its read-only flag', () => {
    const xml = buildDomainXml(
      {
        name: 'storm-i1',
        uuid: '6f1c1c1e-1111-4222-8333-444455556666',
        memoryMiB: 64,
        vcpus: 1,
        boot: { kernel: '/d/layers/k', initrd: '/d/layers/i', cmdline: 'console=ttyS0' },
        disks: [
          { path: '/d/layers/os', format: 'raw', readonly: true },
          { path: '/d/instances/i1/writable/w0.qcow2', format: 'qcow2', readonly: true },
          { path: '/d/instances/i1/writable/w1.qcow2', format: 'qcow2', readonly: false },
        ],
        nics: [],
        consoleLog: '/d/instances/i1/console.log',
      },
      'test',
    );
    expect(domainDisks(xml)).toEqual([
      { file: '/d/layers/os', readonly: true },
      { file: '/d/instances/i1/writable/w0.qcow2', readonly: true },
      { file: '/d/instances/i1/writable/w1.qcow2', readonly: false },
    ]);
  });
});
