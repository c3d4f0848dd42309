import { describe, expect, it } from 'vitest';
import { loadManagerConfig } from './config.js';

describe('manager config', () => {
  it('reads --data and --listen, with env equivalents', () => {
    const fromFlags = loadManagerConfig(['--data', '/srv/storm', '--listen', '0.0.0.0:9000'], {});
    expect(fromFlags).toMatchObject({ config: { data: '/srv/storm', listen: '0.0.0.0:9000', hypervisor: 'auto' } });
    const fromEnv = loadManagerConfig([], { STORM_DATA: '/x', STORM_LISTEN: '[::1]:1', STORM_LOCAL_HOST: '1' });
    expect(fromEnv).toMatchObject({ config: { data: '/x', listen: '[::1]:1', localHost: true } });
  });

  it('answers help', () => {
    const out = loadManagerConfig(['--help'], {});
    expect('help' in out && out.help).toMatch(/--data DIR/);
  });

  it('refuses bad values, naming the flag', () => {
    expect(() => loadManagerConfig(['--listen', 'nowhere'], {})).toThrow(/listen/);
    expect(() => loadManagerConfig(['--log-level', 'loud'], {})).toThrow(/logLevel/);
    expect(() => loadManagerConfig(['--bogus'], {})).toThrow(/bogus/);
    expect(() => loadManagerConfig(['stray'], {})).toThrow(/stray/);
    expect(() => loadManagerConfig(['--kdc-listen', '88'], {})).toThrow(/--kdc-listen: expected HOST:PORT/);
  });

  it('reads --kdc-listen (STORM_KDC_LISTEN) and says what it does in --help', () => {
    expect(loadManagerConfig(['--kdc-listen', '10.77.0.1:88'], {})).toMatchObject({ config: { kdcListen: '10.77.0.1:88' } });
    expect(loadManagerConfig([], { STORM_KDC_LISTEN: '[::1]:8888' })).toMatchObject({ config: { kdcListen: '[::1]:8888' } });
    const out = loadManagerConfig(['--help'], {});
    expect('help' in out && out.help).toMatch(/--kdc-listen HOST:PORT +run MIT's Kerberos KDC/);
  });

  it('reads --uplink (none by default) and refuses nat without the network it opens', () => {
    expect(loadManagerConfig([], {})).toMatchObject({ config: { uplink: 'none' } });
    expect(loadManagerConfig(['--uplink', 'nat', '--network', '10.77.0.0/24', '--bridge', 'br0'], {})).toMatchObject({
      config: { uplink: 'nat' },
    });
    expect(loadManagerConfig(['--network', '10.77.0.0/24', '--bridge', 'br0'], { STORM_UPLINK: 'nat' })).toMatchObject({
      config: { uplink: 'nat' },
    });
    expect(() => loadManagerConfig(['--uplink', 'nat'], {})).toThrow(/--uplink nat: needs .*--network CIDR and --bridge BRIDGE/);
    expect(() => loadManagerConfig(['--uplink', 'open'], {})).toThrow(/uplink/);
  });
});
