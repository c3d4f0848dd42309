/**
 * `--size` of `storm volume create`: a whole number of MiB, or with a binary unit (`512M`, `2G`,
 * `1T`, also `MiB`, `GiB`, `TiB`).
 *
 * @example
 * volumeSizeMiB('2G'); // 2048
 */
import { UsageError } from '../errors.js';

const UNITS: Readonly<Record<string, number>> = { '': 1, m: 1, mib: 1, g: 1024, gib: 1024, t: 1024 * 1024, tib: 1024 * 1024 };

export function volumeSizeMiB(text: string): number {
  const m = /^(\d{1,9})\s*([a-z]*)$/i.exec(text.trim());
  const unit = m ? UNITS[m[2]!.toLowerCase()] : undefined;
  if (!m || unit === undefined) throw new UsageError(`--size must be like 512M, 2G or 1T, got ${JSON.stringify(text)}`);
  return Number(m[1]) * unit;
}
