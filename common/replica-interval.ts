/**
 * Replication's checkpoint interval, as the manager and the CLI write and read it (`90s`, `15m`,
 * `1h`, `2d`), and its floor, which the API's schema states too (manager/protocol/replication.ts).
 *
 * @example
 * parseInterval('15m'); // 900
 * intervalText(3600);   // '1h'
 */

/** The shortest interval, in seconds: each checkpoint of a layered instance restarts its guest. */
export const MIN_REPLICA_EVERY_S = 10;

const UNITS = [
  ['d', 86_400],
  ['h', 3600],
  ['m', 60],
  ['s', 1],
] as const;

/** Seconds from `90`, `90s`, `15m`, `1h`, `2d`; undefined for anything else. */
export function parseInterval(text: string): number | undefined {
  const m = /^(\d{1,7})\s*([smhd]?)$/i.exec(text.trim());
  if (!m) return undefined;
  const unit = m[2]!.toLowerCase() || 's';
  return Number(m[1]) * UNITS.find(([u]) => u === unit)![1];
}

/** `3600` → `1h`, `90` → `90s`: the largest unit that divides it. */
export function intervalText(seconds: number): string {
  const [unit, s] = UNITS.find(([, s]) => seconds % s === 0)!;
  return `${seconds / s}${unit}`;
}
