#!/usr/bin/env node
// Package bin: runs the compiled entry point (npm run build writes dist/).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const entry = new URL('../dist/appliances/src/builder/main.js', import.meta.url);
if (!existsSync(fileURLToPath(entry))) {
  process.stderr.write('storm-appliance: not built yet; run `npm run build` (or scripts/setup.sh) first\n');
  process.exit(1);
}
await import(entry.href);
