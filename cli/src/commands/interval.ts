/**
 * A replication interval flag (`--every`, `--replicate-every`): seconds, or with a unit (`90s`,
 * `15m`, `1h`, `2d`), at least 10 s.
 *
 * @example
 * intervalSeconds('15m', '--every'); // 900
 */
import { MIN_REPLICA_EVERY_S, parseInterval } from '../../../common/replica-interval.js';
import { UsageError } from '../errors.js';

export function intervalSeconds(text: string, flag: string): number {
  const seconds = parseInterval(text);
  if (seconds === undefined) throw new UsageError(`${flag} must be like 90s, 15m, 1h or 2d, got ${JSON.stringify(text)}`);
  if (seconds < MIN_REPLICA_EVERY_S)
    throw new UsageError(`${flag} ${text}: at least ${MIN_REPLICA_EVERY_S}s (each checkpoint restarts a layered guest)`);
  return seconds;
}
