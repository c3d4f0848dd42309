/**
 * Host programs a layer ships (`binaries` in layer.json): each program and the shared libraries
 * and dynamic loader it needs, as `ldd` lists them, copied into the layer at the same paths. This
 * is how tiny-os carries Debian's `openssl` (and its libssl, libcrypto and libc) to check the
 * manager's certificate, next to a static busybox.
 *
 * @example
 * const files = await binaryClosure(['/usr/bin/openssl']); // ['/usr/bin/openssl', '/lib/x86_64-linux-gnu/libssl.so.3', …]
 * await copyHostFiles(files, stageDir);
 */
import { chmod, copyFile, mkdir, readFile, stat } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { dirname, join } from 'node:path';
import { ApplErr } from './errors.js';
import { run } from './run.js';

/** The files `ldd` says a program loads (the vDSO, which is no file, left out), parsed from its output. */
export function parseLdd(output: string, program: string): string[] {
  const files: string[] = [];
  for (const line of output.split('\n')) {
    if (/not found/.test(line)) throw ApplErr.APPL_ERR_LAYER_INVALID(`${program}: ${line.trim()}`);
    const path = /=>\s+(\/\S+)/.exec(line)?.[1] ?? /^\s*(\/\S+)\s+\(/.exec(line)?.[1];
    if (path) files.push(path);
  }
  return files;
}

/** Each program and everything it loads, once each, sorted (a stable layer). */
export async function binaryClosure(programs: readonly string[]): Promise<string[]> {
  const all = new Set<string>();
  for (const program of programs) {
    all.add(program);
    const { stdout } = await run('ldd', [program]);
    for (const file of parseLdd(stdout, program)) all.add(file);
  }
  return [...all].sort();
}

/** Copies each file (its content, through symlinks) to the same path under `stage`, keeping its mode. */
export async function copyHostFiles(files: readonly string[], stage: string): Promise<void> {
  for (const file of files) {
    const target = join(stage, file);
    await mkdir(dirname(target), { recursive: true, mode: 0o755 });
    await copyFile(file, target);
    await chmod(target, (await stat(file)).mode & 0o755);
  }
}

/** What the layer's fingerprint takes of them: each path and its content's sha256. */
export async function hostFilesDigest(files: readonly string[]): Promise<string[]> {
  return Promise.all(
    files.map(
      async (f) =>
        `${f} ${createHash('sha256')
          .update(await readFile(f))
          .digest('hex')}`,
    ),
  );
}
