import { Resolver } from 'node:dns/promises';
import { mkdtemp, rm } from 'node:fs/promises';
import { request } from 'node:https';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../app.js';
import { managerConfig } from '../config.js';

let dir: string;
let app: FastifyInstance;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'storm-services-'));
  app = await buildApp(
    managerConfig({
      data: dir,
      logLevel: 'silent',
      network: '10.77.0.0/24',
      dnsListen: '127.0.0.1:0',
      ldapListen: '127.0.0.1:0',
      guestListen: '127.0.0.1:0',
    }),
  );
});
afterEach(async () => {
  await app.close();
  await rm(dir, { recursive: true, force: true });
});

/** An XML-RPC call without a token to the guests' listener: the body of its answer. */
function anonymousCall(port: number, ca: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port, path: '/RPC2', method: 'POST', ca, servername: 'storm.local', headers: { 'content-type': 'text/xml' } },
      (res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d.toString('utf8')));
        res.on('end', () => resolve(body));
      },
    );
    req.on('error', reject);
    req.end('<?xml version="1.0"?><methodCall><methodName>storm.getConfig</methodName><params></params></methodCall>');
  });
}

const refused = (port: number) =>
  new Promise<boolean>((resolve) => {
    const s = connect({ host: '127.0.0.1', port }, () => {
      s.destroy();
      resolve(false);
    });
    s.on('error', () => resolve(true));
  });

describe('NetworkServices', () => {
  it('starts LDAP, DNS and the guests listener through the registry, and app.close() closes them', async () => {
    const ctx = app.storm;
    await ctx.startServices();
    const started = ctx.network.registry.list();
    expect(started.map((s) => s.name)).toEqual(['ldap', 'dns', 'xmlrpc']);
    const [ldap, dns, guests] = started.map((s) => s.listensOn());
    expect(ldap).toMatch(/^tcp 127\.0\.0\.1:[1-9]\d*$/);
    expect(dns).toMatch(/^udp\+tcp 127\.0\.0\.1:[1-9]\d*$/);
    expect(guests).toMatch(/^https 127\.0\.0\.1:[1-9]\d*$/);
    const [ldapPort, dnsPort, guestPort] = [ldap, dns, guests].map((l) => Number(l!.split(':').pop()));
    const resolver = new Resolver({ timeout: 2000, tries: 1 });
    resolver.setServers([`127.0.0.1:${dnsPort}`]);
    expect(await resolver.resolve4('storm.local')).toEqual(['10.77.0.1']);
    expect(await anonymousCall(guestPort!, ctx.trust.caPem)).toContain('<name>faultCode</name><value><int>4</int></value>');
    await app.close();
    expect(ctx.network.registry.list()).toEqual([]);
    expect([await refused(guestPort!), await refused(ldapPort!), await refused(dnsPort!)]).toEqual([true, true, true]);
  });
});
