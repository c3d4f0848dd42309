import { describe, expect, it } from 'vitest';
import { kdcFiles, renderKdcConf, renderKrb5Conf } from './kdc-files.js';

describe('realm profiles', () => {
  const files = kdcFiles('/var/lib/storm/manager');

  it('keeps every file of the realm in the data folder', () => {
    const conf = renderKdcConf(files, 'STORM.INTERNAL', { host: '10.77.0.1', port: 88 });
    expect(conf).toContain('kdc_listen = 10.77.0.1:88');
    expect(conf).toContain('kdc_tcp_listen = 10.77.0.1:88');
    expect(conf).toContain('database_name = /var/lib/storm/manager/kerberos/principal');
    expect(conf).toContain('key_stash_file = /var/lib/storm/manager/kerberos/stash');
    expect(conf).toContain('default_principal_flags = +preauth');
    expect(conf).not.toMatch(/\/etc\/krb5/);
  });

  it('listens on every address with a bare port, and brackets IPv6', () => {
    expect(renderKdcConf(files, 'R', { host: '0.0.0.0', port: 88 })).toContain('kdc_listen = 88\n');
    expect(renderKdcConf(files, 'R', { host: '::1', port: 8888 })).toContain('kdc_listen = [::1]:8888');
  });

  it("points the manager's own tools at the KDC, loopback when it listens everywhere", () => {
    const conf = renderKrb5Conf('STORM.INTERNAL', 'storm.internal', { host: '0.0.0.0', port: 88 });
    expect(conf).toContain('default_realm = STORM.INTERNAL');
    expect(conf).toContain('kdc = 127.0.0.1:88');
    expect(conf).toContain('.storm.internal = STORM.INTERNAL');
  });
});
