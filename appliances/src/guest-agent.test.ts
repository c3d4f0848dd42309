/** The guest agent's XML-RPC flattener, run by the real busybox awk on what the manager's encoder writes. */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { encodeFault, encodeResponse } from '../../manager/src/protocols/xmlrpc/codec.js';
import { readFile } from 'node:fs/promises';
import { ROLE_OIDS } from '../../trust/roles.js';
import { APPLIANCES_DIR } from './layers.js';

const flatten = (xml: string) => {
  const r = spawnSync('busybox', ['awk', '-f', join(APPLIANCES_DIR, 'guest-agent/flatten.awk')], { input: xml, encoding: 'utf8' });
  expect(r.status).toBe(0);
  return r.stdout.split('\n').filter(Boolean);
};

describe('guest agent flatten.awk', () => {
  it('flattens nested structs and arrays into path=value lines', () => {
    const out = flatten(
      encodeResponse({
        instance: { name: 'web1', ip: '10.77.0.2' },
        parameters: { greeting: 'Hi & <bye>\nnext', port: 80, debug: false },
        records: [
          { type: 'MX', name: '@', value: '10 @' },
          { type: 'TXT', name: 'x', value: '' },
        ],
        empty: [],
      }),
    );
    expect(out).toEqual([
      'instance.name=web1',
      'instance.ip=10.77.0.2',
      'parameters.greeting=Hi & <bye>\\nnext',
      'parameters.port=80',
      'parameters.debug=0',
      'records.0.type=MX',
      'records.0.name=@',
      'records.0.value=10 @',
      'records.1.type=TXT',
      'records.1.name=x',
      'records.1.value=',
    ]);
  });

  it('keeps a base64 value (a keytab) as one base64 line', () => {
    const keytab = Buffer.from(Array.from({ length: 300 }, (_, i) => i % 256));
    const out = flatten(encodeResponse({ realm: 'STORM.INTERNAL', principals: ['host/web1.storm.internal@STORM.INTERNAL'], keytab }));
    expect(out).toEqual([
      'realm=STORM.INTERNAL',
      'principals.0=host/web1.storm.internal@STORM.INTERNAL',
      `keytab=${keytab.toString('base64')}`,
    ]);
    // What the agent pipes into base64 -d gives the bytes back.
    const decoded = spawnSync('busybox', ['base64', '-d'], { input: `${out[2]!.slice('keytab='.length)}\n` });
    expect(Buffer.compare(decoded.stdout, keytab)).toBe(0);
  });

  it('turns a fault into fault.* lines the agent detects', () => {
    expect(flatten(encodeFault(4, 'unknown instance token'))).toEqual(['fault.faultCode=4', 'fault.faultString=unknown instance token']);
  });

  it("requires the manager role's policy OID, the one the CA writes", async () => {
    const agent = await readFile(join(APPLIANCES_DIR, 'guest-agent/storm-agent'), 'utf8');
    expect(/^MANAGER_ROLE=(\S+)$/m.exec(agent)?.[1]).toBe(ROLE_OIDS.manager);
    expect(agent).not.toMatch(/no-check-certificate/);
  });

  it('is valid POSIX sh', () => {
    expect(spawnSync('busybox', ['sh', '-n', join(APPLIANCES_DIR, 'guest-agent/storm-agent')]).status).toBe(0);
  });
});
