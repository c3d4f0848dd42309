import { describe, expect, it } from 'vitest';
import type { ApplianceDescriptor } from '../../../channels/src/format/index.js';
import { guestSpecFor } from './guest-spec.js';

const v1: ApplianceDescriptor = {
  name: 'kdc-web',
  version: '1.0.0',
  title: 'Kerberized web',
  description: '',
  released: '2026-12-01',
  memoryMiB: 128,
  vcpus: 1,
  layers: [],
  parameters: [],
  config: [{ key: 'web.greeting', value: 'one' }],
  records: [{ type: 'MX', name: '@', value: '{{instance.fqdn}}', priority: 10 }],
  principals: ['HTTP'],
  dataVolume: { mountPoint: '/srv/data', minSizeMiB: 16 },
};
const v2: ApplianceDescriptor = { ...v1, version: '1.1.0', config: [{ key: 'web.greeting', value: 'two' }], principals: ['HTTP', 'imap'] };
const volume = { serial: 'storm-vol-web1-data', mountPoint: '/srv/data' };

describe('guestSpecFor', () => {
  it('takes config, records and principals from the descriptor, and the data volume made at launch', () => {
    expect(guestSpecFor(v1, volume)).toEqual({ config: v1.config, records: v1.records, principals: ['HTTP'], dataVolume: volume });
  });

  it('after an upgrade carries the new version’s principals, so the guest’s keytab still holds its services', () => {
    const upgraded = guestSpecFor(v2, guestSpecFor(v1, volume).dataVolume);
    expect(upgraded.principals).toEqual(['HTTP', 'imap']);
    expect(upgraded.config).toEqual([{ key: 'web.greeting', value: 'two' }]);
    expect(upgraded.dataVolume).toEqual(volume);
  });

  it('leaves out what the descriptor does not declare', () => {
    const { principals: _p, dataVolume: _d, ...bare } = v1;
    expect(guestSpecFor(bare)).toEqual({ config: v1.config, records: v1.records });
  });
});
