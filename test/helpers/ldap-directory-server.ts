/**
 * The manager's LDAP server over the test directory (alice, bob, … and the service account mx1),
 * as a process a test can start inside a network namespace. Prints `ready <port> <mx1 password>`
 * once listening; SIGTERM closes it.
 *
 * @example
 * const ldap = net.start(ns, process.execPath, ['--import', 'tsx', 'test/helpers/ldap-directory-server.ts', '127.0.0.1:389']);
 * const [, port, password] = await ldap.waitFor(/^ready (\d+) (\S+)$/m);
 */
import { openTestDirectory, populate } from '../../manager/src/directory/test-support/fixtures.js';
import { LdapServer } from '../../manager/src/protocols/ldap/server.js';

const t = await openTestDirectory();
const { mx1 } = await populate(t.store);
const server = new LdapServer({ listen: process.argv[2] ?? '127.0.0.1:0' }, { directory: t.store });
await server.start();
process.stdout.write(`ready ${server.address.port} ${mx1}\n`);
process.once('SIGTERM', () => {
  void server
    .close()
    .then(() => t.close())
    .then(() => process.exit(0));
});
