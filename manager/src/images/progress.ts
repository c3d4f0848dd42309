/** Transfer progress: bytes, rate over a sliding window, ETA; reported at most every `intervalMs`. */
export interface Progress {
  readonly sha256: string;
  readonly bytes: number;
  readonly total: number;
  /** Bytes per second over the last few seconds. */
  readonly rate: number;
  /** Seconds left at the current rate, or null while unknown. */
  readonly etaSeconds: number | null;
  readonly done: boolean;
}

export class ProgressMeter {
  private samples: { at: number; bytes: number }[] = [];
  private lastReport = 0;

  constructor(
    private readonly sha256: string,
    private readonly total: number,
    private readonly report: (p: Progress) => void,
    private readonly intervalMs = 250,
    private readonly now: () => number = Date.now,
  ) {}

  update(bytes: number, done = false): void {
    const at = this.now();
    this.samples.push({ at, bytes });
    while (this.samples.length > 2 && at - this.samples[0]!.at > 3000) this.samples.shift();
    if (!done && at - this.lastReport < this.intervalMs) return;
    this.lastReport = at;
    const first = this.samples[0]!;
    const seconds = (at - first.at) / 1000;
    const rate = seconds > 0 ? (bytes - first.bytes) / seconds : 0;
    const etaSeconds = done ? 0 : rate > 0 ? Math.ceil((this.total - bytes) / rate) : null;
    this.report({ sha256: this.sha256, bytes, total: this.total, rate: Math.round(rate), etaSeconds, done });
  }
}
