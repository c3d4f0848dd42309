/**
 * `storm-manager backup …` and `storm-manager restore …`: flags, passphrase, the work, and what is
 * printed. Exit 0 when done, 2 for usage, 1 for anything refused or failed (with its MGR_ERR_* code).
 *
 * @example
 * process.exitCode = await runBackupCommand('restore', ['--from', 'm.stormbak', '--data', '/var/lib/storm/manager']);
 */
import { ConfigError } from '../../../common/config.js';
import { StormError } from '../../../common/errors.js';
import { createBackup } from './backup.js';
import { loadBackupConfig, loadRestoreConfig } from './backup-config.js';
import { formatBytes, plural, renderListing, verifyBackup } from './list.js';
import type { Manifest } from './manifest.js';
import { readPassphrase } from './passphrase.js';
import { restoreBackup } from './restore.js';

export type BackupCommand = 'backup' | 'restore';

export async function runBackupCommand(command: BackupCommand, argv: readonly string[]): Promise<number> {
  const out = (text: string) => process.stdout.write(text);
  let unchanged = '';
  try {
    if (command === 'backup') {
      const loaded = loadBackupConfig(argv, process.env);
      if ('help' in loaded) {
        out(loaded.help);
        return 0;
      }
      const { config } = loaded;
      const passphrase = (confirm: boolean) =>
        readPassphrase({ file: config.passphraseFile || undefined, confirm, stdin: process.stdin, stderr: process.stderr });
      if (config.list) {
        out(renderListing(await verifyBackup(config.list, () => passphrase(false))));
        return 0;
      }
      const { manifest, bytes } = await createBackup({ dataDir: config.data, to: config.to, passphrase: await passphrase(true) });
      out(describeBackup(config.to, manifest, bytes));
      return 0;
    }
    const loaded = loadRestoreConfig(argv, process.env);
    if ('help' in loaded) {
      out(loaded.help);
      return 0;
    }
    const { config } = loaded;
    unchanged = config.data;
    const result = await restoreBackup({
      from: config.from,
      dataDir: config.data,
      force: config.force,
      passphrase: () =>
        readPassphrase({ file: config.passphraseFile || undefined, confirm: false, stdin: process.stdin, stderr: process.stderr }),
    });
    out(describeRestore(result.dataDir, result.manifest, result.replacedTo));
    return 0;
  } catch (err) {
    const prefix = `storm-manager ${command}`;
    if (err instanceof ConfigError) {
      process.stderr.write(`${prefix}: ${err.message}\n`);
      return 2;
    }
    const after = unchanged ? ` (${unchanged} was not changed)` : '';
    if (err instanceof StormError) process.stderr.write(`${prefix}: ${err.code}: ${err.message}${after}\n`);
    else process.stderr.write(`${prefix}: ${err instanceof Error ? err.message : String(err)}${after}\n`);
    return 1;
  }
}

function holds(m: Manifest): string {
  const s = m.summary;
  return `${plural(s.hosts, 'host')}, ${plural(s.instances, 'instance')}, ${plural(s.channels, 'channel')}, ${plural(s.packages, 'package')}, ${plural(s.apiTokens, 'API token')}`;
}

function describeBackup(to: string, m: Manifest, bytes: number): string {
  const lines = [
    `backup written to ${to} (${formatBytes(bytes)}, ${plural(m.files.length, 'file')}): ${holds(m)}`,
    `  CA ${m.ca.fingerprint}`,
    ...m.omitted.map((o) => `  left out ${o.path} (${plural(o.files, 'file')}, ${formatBytes(o.bytes)}): ${o.reason}`),
    `check it with: storm-manager backup --list ${to}`,
  ];
  return `${lines.join('\n')}\n`;
}

function describeRestore(dataDir: string, m: Manifest, replacedTo: string | undefined): string {
  const lines = [
    `restored into ${dataDir}: ${holds(m)}, backed up ${m.createdAt} on ${m.source.machine}`,
    `  CA ${m.ca.fingerprint}`,
    ...(replacedTo ? [`  the folder that was there is now ${replacedTo}`] : []),
    '  the layer cache was not in the backup: layers are fetched again from their channels when a launch needs them',
    'stop the old manager if it still runs (one manager per CA at a time), then start this one:',
    `  storm-manager --data ${dataDir}${m.source.url ? `   (its hosts reach it at ${m.source.url}: listen there, or give --public-url)` : ''}`,
  ];
  return `${lines.join('\n')}\n`;
}
