/**
 * Recipe steps as scripts for the build stack: each step becomes one `StackAction`. Copy and
 * delete run under the static busybox (they work on any layer, even one without a shell); run, apt
 * and debconf run under the union's own /bin/sh. Every value that reaches a script is quoted here.
 *
 * @example
 * aptAction(['nginx'], { update: true }).script; // apt-get update … && apt-get install … 'nginx'
 */
import { ApplErr } from '../errors.js';
import type { TreeEntry } from '../tree.js';

/** Single-quotes `s` for sh; newlines are refused (nothing here needs them). */
export function shQuote(s: string): string {
  if (/[\n\r\0]/.test(s)) throw ApplErr.APPL_ERR_RECIPE_INVALID(`a value with a line break cannot be quoted: ${JSON.stringify(s)}`);
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** The files a copy puts in place: paths are absolute in the layer, modes already normalized. */
export interface CopyEntry {
  readonly type: TreeEntry['type'];
  /** Absolute path in the layer, e.g. `/etc/nginx/conf.d/storm.conf`. */
  readonly path: string;
  readonly mode: number;
  /** Symlinks only. */
  readonly target?: string;
}

const BUSYBOX_PRELUDE = ['set -eu', 'BB=/run/storm-build/busybox', 'S=/run/storm-build/src'].join('\n');

/**
 * Copies a staged tree (mirroring layer paths under /run/storm-build/src) into the union: missing
 * directories are made 0755, existing ones keep their owner and mode (they may come from a lower
 * layer), and each file or link replaces whatever was at its path.
 */
export function copyScript(entries: readonly CopyEntry[]): string {
  const lines = [
    BUSYBOX_PRELUDE,
    'd() { "$BB" mkdir -p "$1"; }',
    'clear() {',
    '\t"$BB" mkdir -p "$("$BB" dirname "$1")"',
    '\tif [ -d "$1" ] && [ ! -L "$1" ]; then echo "copy: $1 is a directory in the layers beneath" >&2; exit 1; fi',
    '\t"$BB" rm -f "$1"',
    '}',
    'f() { clear "$2"; "$BB" cp "$S$2" "$2"; "$BB" chmod "$1" "$2"; }',
    'l() { clear "$2"; "$BB" ln -s "$1" "$2"; }',
  ];
  for (const e of entries) {
    if (e.type === 'dir') lines.push(`d ${shQuote(e.path)}`);
    else if (e.type === 'file') lines.push(`f ${e.mode.toString(8).padStart(4, '0')} ${shQuote(e.path)}`);
    else lines.push(`l ${shQuote(e.target ?? '')} ${shQuote(e.path)}`);
  }
  return `${lines.join('\n')}\n`;
}

/** Removes paths from the union (whiteouts in the upper when they come from a lower layer). */
export function deleteScript(paths: readonly string[]): string {
  const lines = [
    BUSYBOX_PRELUDE,
    'del() {',
    '\tif [ -e "$1" ] || [ -L "$1" ]; then "$BB" rm -rf -- "$1"; else echo "delete: $1 does not exist" >&2; exit 1; fi',
    '}',
    ...paths.map((p) => `del ${shQuote(p.replace(/\/+$/, '') || '/')}`),
  ];
  return `${lines.join('\n')}\n`;
}

/** A run step's command (a string, or its lines) under `set -e`. */
export function runScript(command: string | readonly string[]): string {
  return `set -e\n${typeof command === 'string' ? command : command.join('\n')}\n`;
}

/** apt options: no pseudo-terminal, no colour, no binary caches left in /var/cache/apt. */
const APT_OPTIONS = [
  '-q',
  '-o',
  'Dpkg::Use-Pty=0',
  '-o',
  'APT::Color=0',
  '-o',
  'Acquire::Languages=none',
  '-o',
  'Dir::Cache::pkgcache=',
  '-o',
  'Dir::Cache::srcpkgcache=',
];

export function aptScript(packages: readonly string[], opts: { readonly update: boolean }): string {
  const common = APT_OPTIONS.map(shQuote).join(' ');
  const lines = ['set -e'];
  if (opts.update) lines.push(`apt-get ${common} update`);
  lines.push(
    `apt-get ${common} -y --no-install-recommends -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold install ${packages.map(shQuote).join(' ')}`,
  );
  return `${lines.join('\n')}\n`;
}

export function debconfScript(selections: readonly string[]): string {
  for (const s of selections) if (s.includes('STORM_SELECTIONS')) throw ApplErr.APPL_ERR_RECIPE_INVALID(`debconf: ${s}`);
  return `set -e\ndebconf-set-selections <<'STORM_SELECTIONS'\n${selections.join('\n')}\nSTORM_SELECTIONS\n`;
}
