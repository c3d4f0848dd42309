/**
 * The heartbeat: every `intervalMs` (the manager's answer says how long; 10 s until it has) stormd
 * POSTs its HostInfo and instance list to the manager over mutual TLS. Failures back off
 * (doubling, capped) and never stop the loop. Each beat says which CRL the host holds; an answer
 * with a newer one carries it, and the CRL keeper checks and loads it (or fetches it, from a
 * manager that named a newer number without sending it).
 *
 * @example
 * const hb = new Heartbeat({ send: (req) => manager.postJson(HEARTBEAT_PATH, req), collect, crl, log });
 * hb.start();
 * await hb.stop();
 */
import Type from 'typebox';
import Value from 'typebox/value';
import { errorMessage } from '../../../common/errors.js';
import type { HeartbeatRequest, HeartbeatResponse } from '../../protocol.js';
import { StormdErr } from '../errors.js';
import { RepeatingTask } from '../repeating-task.js';
import type { CrlKeeper } from './crl-keeper.js';

export const HEARTBEAT_PATH = '/api/v1/hosts/heartbeat';
export const DEFAULT_INTERVAL_MS = 10_000;
/**
 * The longest wait between failed heartbeats. It is also how long a host can stay `unreachable`
 * after the manager comes back from an outage, so it stays near the manager's own silence window
 * (3 missed 10 s beats); one small POST per host every 30 s is no load worth avoiding.
 */
export const MAX_BACKOFF_MS = 30_000;
/** Bounds on the manager's interval, so a bad answer can neither flood it nor silence the host. */
const MIN_INTERVAL_MS = 100;
const MAX_INTERVAL_MS = 10 * 60_000;

const ResponseSchema = Type.Object({
  intervalMs: Type.Number(),
  crlNumber: Type.Integer({ minimum: 0 }),
  crl: Type.Optional(Type.String({ maxLength: 4 * 1024 * 1024 })),
});

export interface HeartbeatLog {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  debug(obj: object, msg: string): void;
}

export interface HeartbeatOptions {
  readonly send: (req: HeartbeatRequest) => Promise<unknown>;
  readonly collect: () => Promise<HeartbeatRequest>;
  readonly crl: CrlKeeper;
  readonly log: HeartbeatLog;
  readonly defaultIntervalMs?: number;
  readonly maxBackoffMs?: number;
}

/** The wait after `failures` failures in a row: the interval doubled per failure, capped. */
export function backoffDelay(failures: number, intervalMs: number, maxMs = MAX_BACKOFF_MS): number {
  return Math.min(maxMs, intervalMs * 2 ** Math.min(failures, 20));
}

export class Heartbeat {
  private readonly opts: HeartbeatOptions;
  private intervalMs: number;
  private failures = 0;
  private readonly loop = new RepeatingTask(() => this.tick());
  /** Beats answered, for tests and logs. */
  beats = 0;

  constructor(opts: HeartbeatOptions) {
    this.opts = opts;
    this.intervalMs = opts.defaultIntervalMs ?? DEFAULT_INTERVAL_MS;
  }

  start(): void {
    this.loop.start();
  }

  stop(): Promise<void> {
    return this.loop.stop();
  }

  /** One heartbeat; resolves with the manager's answer or rejects with why it failed. */
  async beat(): Promise<HeartbeatResponse> {
    const answer = await this.opts.send({ ...(await this.opts.collect()), crlNumber: this.opts.crl.crlNumber });
    if (!Value.Check(ResponseSchema, answer))
      throw StormdErr.STORMD_ERR_MANAGER_RESPONSE('heartbeat answer is not { intervalMs, crlNumber }');
    this.intervalMs = Math.min(MAX_INTERVAL_MS, Math.max(MIN_INTERVAL_MS, answer.intervalMs));
    this.beats += 1;
    if (await this.opts.crl.update(answer.crlNumber, answer.crl)) this.opts.log.info({ crlNumber: answer.crlNumber }, 'loaded a newer CRL');
    return answer;
  }

  /** One round of the loop; answers the wait before the next. */
  private async tick(): Promise<number> {
    try {
      await this.beat();
      if (this.failures) this.opts.log.info({ after: this.failures }, 'heartbeat answered again');
      this.failures = 0;
      return this.intervalMs;
    } catch (err) {
      this.failures += 1;
      const delay = backoffDelay(this.failures, this.intervalMs, this.opts.maxBackoffMs);
      this.opts.log.warn({ failures: this.failures, retryInMs: delay, reason: errorMessage(err) }, 'heartbeat failed');
      return delay;
    }
  }
}
