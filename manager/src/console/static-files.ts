/**
 * The built console (`dist/console/`, written by `npm run build:console`) loaded into memory once:
 * `index.html` and every file under `assets/`, each with its type, ETag and caching rule. Asset
 * names carry their content hash, so they are cached for a year; `index.html` is revalidated.
 *
 * @example
 * const files = await loadConsoleFiles(defaultConsoleDir());
 * files?.get('/assets/app-3F2A.js');
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { dirname, extname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface StaticFile {
  readonly body: Buffer;
  readonly type: string;
  readonly etag: string;
  readonly cacheControl: string;
}

const TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.woff2': 'font/woff2',
  '.map': 'application/json; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
};

/** `dist/console` of the package this module belongs to (run from source with tsx or from `dist/`). */
export function defaultConsoleDir(): string {
  // Not import.meta.dirname: Node 18 (Debian 12's, the manager appliance's) has no such field.
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  return join(dir, 'dist', 'console');
}

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  // Dirent.parentPath is Node 20.12+; Node 18.17+ (Debian 12's) names it `path`.
  return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath ?? e.path, e.name));
}

/** URL path → file, or undefined when the console has not been built. */
export async function loadConsoleFiles(dir: string): Promise<Map<string, StaticFile> | undefined> {
  if (!existsSync(join(dir, 'index.html'))) return undefined;
  const files = new Map<string, StaticFile>();
  const paths = [join(dir, 'index.html'), ...(existsSync(join(dir, 'assets')) ? await filesUnder(join(dir, 'assets')) : [])];
  for (const path of paths) {
    const type = TYPES[extname(path)];
    if (!type) continue;
    const body = await readFile(path);
    const url = `/${relative(dir, path).split(sep).join('/')}`;
    files.set(url, {
      body,
      type,
      etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`,
      cacheControl: url === '/index.html' ? 'no-cache' : 'public, max-age=31536000, immutable',
    });
  }
  return files;
}
