import { describe, expect, it } from 'vitest';
import { directoryBaseDn, resolveLdapConfig } from './config.js';

describe('resolveLdapConfig', () => {
  it('derives the base from the instance zone and fills the defaults', () => {
    expect(resolveLdapConfig({ listen: '10.77.0.1:389' })).toEqual({
      host: '10.77.0.1',
      port: 389,
      baseDn: 'dc=storm,dc=internal',
      maxConnections: 256,
      maxConnectionsPerSource: 32,
      maxMessageBytes: 65536,
      messageTimeoutMs: 10_000,
      bindTimeoutMs: 30_000,
      idleTimeoutMs: 300_000,
      sizeLimit: 1000,
      maxQueuedPerConnection: 32,
      maxFilterDepth: 32,
      maxFilterNodes: 256,
      requireTls: false,
    });
    expect(resolveLdapConfig({ listen: ':0', domain: 'lab.example.org' })).toMatchObject({
      host: '0.0.0.0',
      port: 0,
      baseDn: 'dc=lab,dc=example,dc=org',
    });
    expect(resolveLdapConfig({ listen: '127.0.0.1:0', baseDn: 'O=Acme, C=DE' }).baseDn).toBe('o=acme,c=de');
    expect(directoryBaseDn(undefined, 'storm.internal')).toBe('dc=storm,dc=internal');
    expect(directoryBaseDn('DC=Lab, DC=Example')).toBe('dc=lab,dc=example');
  });

  it('refuses a bad listener, base DN or bound', () => {
    for (const c of [
      { listen: '389' },
      { listen: '127.0.0.1:70000' },
      { listen: '127.0.0.1:0', baseDn: 'junk' },
      { listen: '127.0.0.1:0', baseDn: '' },
      { listen: '127.0.0.1:0', maxConnections: 0 },
      { listen: '127.0.0.1:0', maxConnectionsPerSource: 0 },
      { listen: '127.0.0.1:0', sizeLimit: 1.5 },
    ]) {
      expect(() => resolveLdapConfig(c), JSON.stringify(c)).toThrow(expect.objectContaining({ code: 'MGR_ERR_LDAP_CONFIG' }));
    }
  });
});
