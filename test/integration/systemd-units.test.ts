/**
 * The shipped systemd units (packaging/systemd/) as systemd itself reads them: `systemd-analyze
 * verify` finds nothing to say (a misspelt key or value is only a warning there, so any output
 * fails), each restarts on failure, stops by SIGTERM, keeps its data under /var/lib, and starts a
 * bin this checkout has.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../..');
const UNITS = join(ROOT, 'packaging/systemd');
/** Where docs/install.md puts the checkout; the units name it. */
const INSTALLED = '/opt/storm/';

function setting(text: string, key: string): string[] {
  return [...text.matchAll(new RegExp(`^${key}=(.*)$`, 'gm'))].map((m) => m[1]!.trim());
}

describe('systemd units', () => {
  const units = readdirSync(UNITS).filter((f) => f.endsWith('.service'));

  it('ships one for the manager and one for stormd', () => {
    expect(units.sort()).toEqual(['storm-manager.service', 'stormd.service']);
  });

  for (const unit of units) {
    it(`${unit}: systemd-analyze verify is silent`, () => {
      const r = spawnSync('systemd-analyze', ['verify', join(UNITS, unit)], { encoding: 'utf8' });
      expect(r.error).toBeUndefined();
      expect(`${r.stdout}${r.stderr}`.trim()).toBe('');
      expect(r.status).toBe(0);
    });

    it(`${unit}: restarts on failure, stops by SIGTERM, data under /var/lib, a bin of this checkout`, () => {
      const text = readFileSync(join(UNITS, unit), 'utf8');
      expect(setting(text, 'Restart')).toEqual(['on-failure']);
      expect(setting(text, 'KillSignal')).toEqual(['SIGTERM']);
      expect(setting(text, 'Environment').join(' ')).toMatch(/_DATA=\/var\/lib\//);
      const [exec] = setting(text, 'ExecStart');
      const bin = exec!.split(/\s+/)[1]!;
      expect(bin.startsWith(INSTALLED)).toBe(true);
      expect(existsSync(join(ROOT, bin.slice(INSTALLED.length)))).toBe(true);
    });
  }
});
