import { describe, expect, it } from 'vitest';
import { managerConfig } from '../config.js';
import { ipToInt } from './ipv4.js';
import { networkSettings, nextFreeAddress } from './network-settings.js';

describe('network settings', () => {
  it('is off without --network', () => {
    expect(networkSettings(managerConfig())).toBeNull();
  });

  it('defaults the manager to the first address and allocates around it, the router and the pool', () => {
    const net = networkSettings(managerConfig({ network: '10.77.0.0/28', router: '10.77.0.2', dhcpPool: '10.77.0.4-10.77.0.5' }))!;
    expect(net.managerAddress).toBe('10.77.0.1');
    const taken = new Set<number>();
    const got: string[] = [];
    for (let ip = nextFreeAddress(net, taken); ip; ip = nextFreeAddress(net, taken)) {
      got.push(ip);
      taken.add(ipToInt(ip));
    }
    expect(got).toEqual([
      '10.77.0.3',
      '10.77.0.6',
      '10.77.0.7',
      '10.77.0.8',
      '10.77.0.9',
      '10.77.0.10',
      '10.77.0.11',
      '10.77.0.12',
      '10.77.0.13',
      '10.77.0.14',
    ]);
  });

  it('hands out the manager as the router with --uplink nat, unless --router says otherwise', () => {
    expect(networkSettings(managerConfig({ network: '10.77.0.0/24' }))!.router).toBeUndefined();
    expect(networkSettings(managerConfig({ network: '10.77.0.0/24', uplink: 'nat' }))!.router).toBe('10.77.0.1');
    expect(networkSettings(managerConfig({ network: '10.77.0.0/24', uplink: 'nat', router: '10.77.0.254' }))!.router).toBe('10.77.0.254');
  });

  it('refuses addresses outside the network', () => {
    expect(() => networkSettings(managerConfig({ network: '10.77.0.0/24', managerAddress: '10.78.0.1' }))).toThrow(/--manager-address/);
    expect(() => networkSettings(managerConfig({ network: 'nope' }))).toThrow(/--network/);
  });
});
