/** Human output helpers: sizes in binary units, relative times, short hashes, key–value blocks. */
import { formatBytes } from './progress-bar.js';

export { formatBytes } from './progress-bar.js';

/** Memory given in MiB: whole MiB below a GiB (`128 MiB`), binary units above (`3.0 GiB`). */
export function mib(n: number | null | undefined): string | undefined {
  if (n === null || n === undefined) return undefined;
  return Math.abs(n) < 1024 ? `${n} MiB` : formatBytes(n * 1024 * 1024);
}

/** `12s ago`, `5m ago`, `3h ago`, `2d ago`, or `in 40m` for a future time; `-` when absent. */
export function relativeTime(iso: string | null | undefined, now: number = Date.now()): string {
  if (!iso) return '-';
  const at = Date.parse(iso);
  if (Number.isNaN(at)) return iso;
  const seconds = Math.round((now - at) / 1000);
  const abs = Math.abs(seconds);
  const span =
    abs < 60
      ? `${abs}s`
      : abs < 3600
        ? `${Math.floor(abs / 60)}m`
        : abs < 86_400
          ? `${Math.floor(abs / 3600)}h`
          : `${Math.floor(abs / 86_400)}d`;
  return seconds >= 0 ? `${span} ago` : `in ${span}`;
}

export const shortHash = (sha256: string | null | undefined): string | undefined => (sha256 ? sha256.slice(0, 12) : undefined);

/** Aligned `key  value` lines; absent values print as `-`. */
export function fields(rows: readonly (readonly [string, string | number | null | undefined])[], indent = ''): string {
  const width = Math.max(...rows.map(([k]) => k.length));
  return `${rows.map(([k, v]) => `${indent}${k.padEnd(width)}  ${v === null || v === undefined || v === '' ? '-' : String(v)}`).join('\n')}\n`;
}

/** A value for a table cell: lists comma-joined (named things by name), other objects as compact JSON. */
export function cell(v: unknown): string | undefined {
  if (v === null || v === undefined) return undefined;
  if (Array.isArray(v))
    return v.map((x: unknown) => (x && typeof x === 'object' && 'name' in x ? String(x.name) : (cell(x) ?? '-'))).join(',');
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}
