#!/usr/bin/env node
/**
 * Exit 0 when node_modules holds exactly what package-lock.json locks, by content: npm's own record of
 * the installed tree (node_modules/.package-lock.json) against the lockfile, and the lockfile against
 * package.json. Exit 1 and say why otherwise. scripts/setup.sh installs only then, so a fresh clone or
 * a checkout (which give every file a new mtime) with a current node_modules does not reinstall.
 * Usage: node scripts/npm-current.mjs [DIR]   (default: the current folder)
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const dir = process.argv[2] ?? '.';

function readJson(path) {
  try {
    return JSON.parse(readFileSync(join(dir, path), 'utf8'));
  } catch {
    return undefined;
  }
}

// npm's `os`/`cpu`/`libc` fields: a list of names, `!name` excludes one.
function allows(list, value) {
  if (!Array.isArray(list) || list.length === 0) return true;
  if (list.includes(`!${value}`)) return false;
  const wanted = list.filter((v) => !v.startsWith('!'));
  return wanted.length === 0 || wanted.includes(value);
}

const libc = process.report?.getReport().header.glibcVersionRuntime ? 'glibc' : 'musl';
const forThisMachine = (p) => allows(p.os, process.platform) && allows(p.cpu, process.arch) && (process.platform !== 'linux' || allows(p.libc, libc));

function whyNotCurrent() {
  const pkg = readJson('package.json');
  const lock = readJson('package-lock.json');
  const installed = readJson('node_modules/.package-lock.json');
  if (!pkg || !lock?.packages) return 'no package.json or package-lock.json';
  if (!installed?.packages) return 'nothing installed yet';
  const root = lock.packages[''] ?? {};
  for (const field of ['dependencies', 'devDependencies', 'optionalDependencies']) {
    for (const [name, spec] of Object.entries(pkg[field] ?? {})) {
      if (root[field]?.[name] !== spec) return `package.json wants ${name}@${spec}, the lockfile does not`;
    }
  }
  for (const [path, locked] of Object.entries(lock.packages)) {
    if (path === '') continue;
    const have = installed.packages[path];
    if (!have) {
      // Optional packages for other platforms (esbuild's, fsevents) are never installed here.
      if (locked.optional && !forThisMachine(locked)) continue;
      return `${path} is not installed`;
    }
    if (have.version !== locked.version || have.integrity !== locked.integrity) return `${path} is ${have.version}, the lockfile has ${locked.version}`;
  }
  for (const path of Object.keys(installed.packages)) {
    if (!(path in lock.packages)) return `${path} is installed but not in the lockfile`;
  }
  return undefined;
}

const why = whyNotCurrent();
if (why) {
  process.stdout.write(`${why}\n`);
  process.exitCode = 1;
}
