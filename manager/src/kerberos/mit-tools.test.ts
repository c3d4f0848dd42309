import { describe, expect, it } from 'vitest';
import { mitEnv, runMit } from './mit-tools.js';

describe('MIT tools', () => {
  const files = { krb5Conf: '/data/kerberos/krb5.conf', kdcConf: '/data/kerberos/kdc.conf' };

  it("run with the realm's own profiles and nobody's credential cache", () => {
    expect(mitEnv(files)).toMatchObject({
      KRB5_CONFIG: '/data/kerberos/krb5.conf',
      KRB5_KDC_PROFILE: '/data/kerberos/kdc.conf',
      KRB5CCNAME: 'MEMORY:storm',
    });
  });

  it('say which package to install when a tool is missing', async () => {
    await expect(runMit(files, 'kdb5_util-not-installed', [])).rejects.toThrow(
      /kdb5_util-not-installed not found: install Debian's krb5-kdc and krb5-admin-server/,
    );
  });
});
