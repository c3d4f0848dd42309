/**
 * What the console's end-to-end test drives: Debian's chromium through playwright-core (headless,
 * a fresh profile, no background traffic, trusting only the manager's own certificate key), a
 * sample channel served slowly enough to watch a pull, screenshots, and raw HTTPS calls.
 *
 * @example
 * const b = await launchChromium(manager.url, manager.ca);
 * const page = await b.context.newPage();
 * await b.close();
 */
import { createHash, X509Certificate } from 'node:crypto';
import { request as httpsRequest } from 'node:https';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isIP } from 'node:net';
import { connect } from 'node:tls';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { publishSampleChannel } from '../../appliances/src/sample-channel.js';
import { startChannelServer } from '../../channels/src/index.js';
import { APPLIANCE_BUILD } from '../helpers/channel-fixture.js';
import { ROOT } from '../helpers/manager-process.js';
import { startThrottleProxy } from '../helpers/throttle-proxy.js';

export const CHROMIUM = '/usr/bin/chromium';
export const ARTIFACTS = join(ROOT, 'test-artifacts', 'console');

/** base64 sha256 of the SubjectPublicKeyInfo of the certificate `url` presents (checked against `ca`). */
export function serverSpki(url: string, ca: string): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect({ host: hostname, port: Number(port), ca, servername: isIP(hostname) ? undefined : hostname }, () => {
      const der = socket.getPeerCertificate().raw;
      socket.end();
      const spki = new X509Certificate(der).publicKey.export({ type: 'spki', format: 'der' });
      resolve(createHash('sha256').update(spki).digest('base64'));
    });
    socket.once('error', reject);
  });
}

export interface Browser {
  readonly context: BrowserContext;
  close(): Promise<void>;
}

/** Chromium with a fresh profile that accepts the manager's certificate key and nothing else unverified. */
export async function launchChromium(managerUrl: string, ca: string, viewport = { width: 1280, height: 800 }): Promise<Browser> {
  const profile = await mkdtemp(join(tmpdir(), 'storm-chromium-'));
  const spki = await serverSpki(managerUrl, ca);
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      // The manager's certificate comes from its own CA: trust exactly its key, not every certificate.
      `--ignore-certificate-errors-spki-list=${spki}`,
    ],
  });
  return {
    context,
    close: async () => {
      await context.close();
      await rm(profile, { recursive: true, force: true });
    },
  };
}

export async function screenshot(page: Page, name: string): Promise<void> {
  await mkdir(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
}

export interface SlowChannel {
  readonly feedUrl: string;
  readonly publicKey: string;
  close(): Promise<void>;
}

/** The sample channel behind a rate-limited proxy (every URL in it points at the proxy), so a pull takes seconds. */
export async function publishSlowSampleChannel(bytesPerSecond: number): Promise<SlowChannel> {
  const root = await mkdtemp(join(tmpdir(), 'storm-console-channel-'));
  const dir = join(root, 'channel');
  await mkdir(dir, { recursive: true });
  const server = await startChannelServer({ dir });
  const proxy = await startThrottleProxy(server.url, bytesPerSecond);
  await publishSampleChannel({
    artifacts: APPLIANCE_BUILD,
    channelDir: dir,
    keyDir: join(root, 'keys'),
    baseUrl: proxy.url,
    log: () => undefined,
  });
  return {
    feedUrl: new URL('channel.xml', proxy.url).href,
    publicKey: await readFile(join(root, 'keys', 'publisher.pub'), 'utf8'),
    close: async () => {
      await proxy.close();
      await server.close();
      await rm(root, { recursive: true, force: true });
    },
  };
}

/** One HTTPS request to the manager, trusting its CA; answers status and parsed body. */
export function rawRequest(
  base: string,
  ca: string,
  method: string,
  path: string,
  headers: Record<string, string> = {},
  body?: unknown,
): Promise<{ status: number; body: { code?: string; message?: string } & Record<string, unknown> }> {
  const url = new URL(path, base);
  const payload = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      url,
      { method, ca, headers: { ...headers, ...(payload ? { 'content-type': 'application/json' } : {}) } },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text ? (JSON.parse(text) as { code?: string }) : {} }));
      },
    );
    req.once('error', reject);
    req.end(payload);
  });
}
