import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { installErrorHandlers } from '../http/error-handler.js';
import { CONSOLE_CSP, consoleRoutes } from './console-routes.js';
import { CONSOLE_PAGES } from '../../../common/console-pages.js';

let dir: string;
let app: FastifyInstance;

async function appFor(consoleDir: string): Promise<FastifyInstance> {
  const a = Fastify();
  installErrorHandlers(a);
  await a.register(consoleRoutes, { dir: consoleDir });
  return a;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'storm-console-'));
  await mkdir(join(dir, 'assets'));
  await writeFile(join(dir, 'index.html'), '<!doctype html><title>STORM</title>');
  await writeFile(join(dir, 'assets', 'app-ABC123.js'), 'console.log(1)');
  await writeFile(join(dir, 'assets', 'notes.txt'), 'not served: unknown type');
  app = await appFor(dir);
});
afterAll(async () => {
  await app.close();
  await rm(dir, { recursive: true, force: true });
});

describe('console routes', () => {
  it('answers index.html with a strict CSP for / and every console page path', async () => {
    for (const url of ['/', ...CONSOLE_PAGES.map((p) => `/${p}`), '/instances/i-0123456789', '/catalog?x=1']) {
      const res = await app.inject({ method: 'GET', url });
      expect(res.statusCode, url).toBe(200);
      expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
      expect(res.headers['content-security-policy']).toBe(CONSOLE_CSP);
      expect(res.headers['cache-control']).toBe('no-cache');
      expect(res.headers['x-frame-options']).toBe('DENY');
    }
    expect(CONSOLE_CSP).toMatch(/default-src 'self'/);
    expect(CONSOLE_CSP).not.toMatch(/unsafe-inline|unsafe-eval/);
  });

  it('serves hashed assets as immutable, with ETag revalidation', async () => {
    const res = await app.inject({ method: 'GET', url: '/assets/app-ABC123.js' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(res.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    const again = await app.inject({ method: 'GET', url: '/assets/app-ABC123.js', headers: { 'if-none-match': String(res.headers.etag) } });
    expect(again.statusCode).toBe(304);
  });

  it('never falls back to index.html for the API, unknown paths or missing assets', async () => {
    for (const url of ['/api/v1/anything', '/nope', '/assets/missing.js', '/assets/notes.txt', '/assets/..%2findex.html', '/instancesX']) {
      const res = await app.inject({ method: 'GET', url });
      expect(res.statusCode, url).toBe(404);
      expect(res.headers['content-type']).toMatch(/application\/json/);
    }
  });

  it('says how to build the console when it is not built', async () => {
    const bare = await appFor(join(dir, 'nothing-here'));
    const res = await bare.inject({ method: 'GET', url: '/channels' });
    expect(res.statusCode).toBe(503);
    expect(res.json().message).toMatch(/npm run build:console/);
    await bare.close();
  });
});
