/**
 * Serves the web console: `index.html` for `/` and every console page path (the single-page app
 * routes itself), hashed files under `/assets/`, all with a strict Content-Security-Policy (own
 * origin only, no inline script) and ETags. `/api/*` is never answered here.
 */
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { MgrErr } from '../errors.js';
import { CONSOLE_ASSETS_PREFIX, CONSOLE_PAGES } from '../../../common/console-pages.js';
import { defaultConsoleDir, loadConsoleFiles, type StaticFile } from './static-files.js';

export const CONSOLE_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "font-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

export interface ConsoleRouteOptions {
  /** The built console; default `dist/console` of this package. */
  readonly dir?: string;
}

function send(request: FastifyRequest, reply: FastifyReply, file: StaticFile): FastifyReply {
  reply
    .header('content-security-policy', CONSOLE_CSP)
    .header('x-content-type-options', 'nosniff')
    .header('x-frame-options', 'DENY')
    .header('referrer-policy', 'no-referrer')
    .header('cache-control', file.cacheControl)
    .header('etag', file.etag)
    .type(file.type);
  if (request.headers['if-none-match'] === file.etag) return reply.status(304).send();
  return reply.send(file.body);
}

export const consoleRoutes: FastifyPluginAsync<ConsoleRouteOptions> = async (app, opts) => {
  const files = await loadConsoleFiles(opts.dir ?? defaultConsoleDir());
  const index = async (request: FastifyRequest, reply: FastifyReply) => {
    const file = files?.get('/index.html');
    if (!file) throw MgrErr.MGR_ERR_UNAVAILABLE('the web console is not built; run `npm run build:console` (scripts/setup.sh does)');
    return send(request, reply, file);
  };
  app.get('/', index);
  for (const page of CONSOLE_PAGES) {
    app.get(`/${page}`, index);
    app.get(`/${page}/*`, index);
  }
  app.get(`${CONSOLE_ASSETS_PREFIX}*`, async (request, reply) => {
    const file = files?.get(request.url.split('?')[0]!);
    if (!file) throw MgrErr.MGR_ERR_NOT_FOUND(`console file ${request.url.split('?')[0]}`);
    return send(request, reply, file);
  });
};
