/**
 * A terminal progress bar: `label [#####.....] 48% 12.0 MiB/25.0 MiB 8.1 MiB/s ETA 2s`, redrawn in
 * place on a TTY, printed at most every few seconds (as plain lines) otherwise.
 *
 * @example
 * const bar = new ProgressBar('hello-web 1.0.0', process.stderr);
 * bar.update({ bytes, total, rate, etaSeconds });
 * bar.done('pulled');
 */
export interface ProgressState {
  readonly bytes: number;
  readonly total: number;
  readonly rate?: number;
  readonly etaSeconds?: number | null;
}

export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${u === 0 ? v : v.toFixed(1)} ${units[u]}`;
}

export function renderBar(label: string, s: ProgressState, width = 30): string {
  const ratio = s.total > 0 ? Math.min(1, s.bytes / s.total) : 0;
  const filled = Math.round(ratio * width);
  const rate = s.rate ? ` ${formatBytes(s.rate)}/s` : '';
  const eta = s.etaSeconds !== undefined && s.etaSeconds !== null && ratio < 1 ? ` ETA ${s.etaSeconds}s` : '';
  return `${label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${Math.floor(ratio * 100)}% ${formatBytes(s.bytes)}/${formatBytes(s.total)}${rate}${eta}`;
}

export class ProgressBar {
  private last = 0;
  private lastLine = '';

  constructor(
    private readonly label: string,
    private readonly out: NodeJS.WriteStream,
    private readonly now: () => number = Date.now,
  ) {}

  update(s: ProgressState): void {
    const line = renderBar(this.label, s);
    if (this.out.isTTY) {
      this.out.write(`\r${line.padEnd(this.lastLine.length)}`);
      this.lastLine = line;
    } else if (this.now() - this.last >= 2000) {
      this.out.write(`${line}\n`);
      this.last = this.now();
    }
  }

  done(message: string): void {
    if (this.out.isTTY && this.lastLine) this.out.write('\n');
    this.out.write(`${this.label}: ${message}\n`);
  }
}
