/**
 * Builds the web console into `dist/console/`: esbuild bundles `src/main.tsx` (Preact, its CSS)
 * into content-hashed files under `assets/`, and `index.html` names them. No CDN, no inline
 * script: the manager serves everything with `default-src 'self'`.
 *
 * Usage: node --import tsx console/build.ts   (npm run build:console type-checks first)
 */
import { createHash } from 'node:crypto';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { build } from 'esbuild';

const ROOT = resolve(import.meta.dirname, '..');
const OUT = join(ROOT, 'dist', 'console');
const ASSETS = join(OUT, 'assets');

const FAVICON = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect width="32" height="32" rx="6" fill="#1f5fbf"/><path d="M7 22h18M7 16h18M7 10h18" stroke="#fff" stroke-width="3" stroke-linecap="round"/></svg>`;

async function main(): Promise<void> {
  await rm(OUT, { recursive: true, force: true });
  await mkdir(ASSETS, { recursive: true });
  const result = await build({
    entryPoints: { app: join(ROOT, 'console', 'src', 'main.tsx') },
    bundle: true,
    minify: true,
    format: 'esm',
    target: ['chrome110', 'firefox115', 'safari16'],
    jsx: 'automatic',
    jsxImportSource: 'preact',
    outdir: ASSETS,
    // The terminal (xterm.js) is its own chunk, loaded when a terminal is first opened.
    splitting: true,
    entryNames: '[name]-[hash]',
    chunkNames: '[name]-[hash]',
    assetNames: '[name]-[hash]',
    sourcemap: 'linked',
    legalComments: 'none',
    metafile: true,
    logLevel: 'warning',
  });
  const outputs = Object.keys(result.metafile.outputs).map((p) => basename(p));
  const js = outputs.find((f) => /^app-.*\.js$/.test(f));
  const css = outputs.find((f) => /^app-.*\.css$/.test(f));
  if (!js || !css) throw new Error(`esbuild wrote no app bundle: ${outputs.join(', ')}`);
  const icon = `favicon-${createHash('sha256').update(FAVICON).digest('hex').slice(0, 8)}.svg`;
  await writeFile(join(ASSETS, icon), FAVICON);
  const html = [
    '<!doctype html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    '<meta name="color-scheme" content="light dark">',
    '<title>STORM</title>',
    `<link rel="icon" href="/assets/${icon}" type="image/svg+xml">`,
    `<link rel="stylesheet" href="/assets/${css}">`,
    `<script type="module" src="/assets/${js}"></script>`,
    '</head>',
    '<body><div id="app"></div><noscript>The STORM console needs JavaScript; the storm CLI does the same without it.</noscript></body>',
    '</html>',
    '',
  ].join('\n');
  await writeFile(join(OUT, 'index.html'), html);
  const size = Object.values(result.metafile.outputs).reduce((a, o) => a + o.bytes, 0);
  process.stdout.write(`console: ${OUT} (${js}, ${css}; ${Math.round(size / 1024)} KiB with source maps)\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`build:console: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
