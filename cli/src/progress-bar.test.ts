import { describe, expect, it } from 'vitest';
import { formatBytes, renderBar } from './progress-bar.js';

describe('progress bar', () => {
  it('formats bytes in binary units', () => {
    expect(formatBytes(512)).toBe('512 B');
    expect(formatBytes(1536)).toBe('1.5 KiB');
    expect(formatBytes(25 * 1024 * 1024)).toBe('25.0 MiB');
  });

  it('renders fill, percent, sizes, rate and ETA', () => {
    const line = renderBar('x', { bytes: 12 * 1024 * 1024, total: 24 * 1024 * 1024, rate: 8 * 1024 * 1024, etaSeconds: 2 }, 10);
    expect(line).toBe('x [#####.....] 50% 12.0 MiB/24.0 MiB 8.0 MiB/s ETA 2s');
    expect(renderBar('y', { bytes: 10, total: 10 }, 4)).toBe('y [####] 100% 10 B/10 B');
  });
});
