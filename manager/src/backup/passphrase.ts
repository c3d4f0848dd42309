/**
 * The backup passphrase: the first line of `--passphrase-file FILE`, or typed on the terminal with
 * no echo (twice for a new backup). A new backup's passphrase has at least 12 characters: the file
 * holds the CA's key.
 *
 * @example
 * const pass = await readPassphrase({ file: '/root/backup.pass', confirm: true, stdin: process.stdin, stderr: process.stderr });
 */
import { readFile } from 'node:fs/promises';
import { BackupErr } from './errors.js';

export const MIN_PASSPHRASE_CHARS = 12;

export interface PassphraseSource {
  readonly file?: string | undefined;
  /** A new backup: asked twice on a terminal, and held to the minimum length. */
  readonly confirm: boolean;
  readonly stdin: NodeJS.ReadStream;
  readonly stderr: NodeJS.WritableStream;
}

export async function readPassphrase(src: PassphraseSource): Promise<string> {
  let pass: string;
  if (src.file) {
    const text = await readFile(src.file, 'utf8').catch((err: NodeJS.ErrnoException) => {
      throw BackupErr.MGR_ERR_BACKUP_NO_PASSPHRASE(`cannot read --passphrase-file ${src.file}: ${err.code ?? err.message}`);
    });
    pass = text.split(/\r?\n/)[0] ?? '';
    if (!pass) throw BackupErr.MGR_ERR_BACKUP_NO_PASSPHRASE(`the first line of ${src.file} is empty`);
  } else if (src.stdin.isTTY) {
    pass = await readHidden(src, 'Backup passphrase: ');
    if (src.confirm && (await readHidden(src, 'Again: ')) !== pass)
      throw BackupErr.MGR_ERR_BACKUP_NO_PASSPHRASE('the two entries differ; nothing was written');
  } else {
    throw BackupErr.MGR_ERR_BACKUP_NO_PASSPHRASE('stdin is not a terminal: pass --passphrase-file FILE (its first line is the passphrase)');
  }
  if (src.confirm && [...pass].length < MIN_PASSPHRASE_CHARS) {
    throw BackupErr.MGR_ERR_BACKUP_NO_PASSPHRASE(
      `a backup's passphrase needs at least ${MIN_PASSPHRASE_CHARS} characters (it protects the CA's key)`,
    );
  }
  return pass;
}

/** One line typed with no echo; backspace edits, Ctrl-C gives up. */
function readHidden(src: PassphraseSource, prompt: string): Promise<string> {
  const { stdin, stderr } = src;
  // No echo before the prompt shows: whatever is typed once it is visible stays hidden.
  stdin.setRawMode(true);
  stderr.write(prompt);
  stdin.setEncoding('utf8');
  stdin.resume();
  return new Promise((resolve, reject) => {
    let value = '';
    const finish = () => {
      stdin.off('data', onData);
      stdin.setRawMode(false);
      stdin.pause();
      stderr.write('\n');
    };
    const onData = (s: string) => {
      for (const ch of s) {
        if (ch === '\r' || ch === '\n') {
          finish();
          resolve(value);
          return;
        }
        if (ch === '\u0003') {
          finish();
          reject(BackupErr.MGR_ERR_BACKUP_NO_PASSPHRASE('interrupted; nothing was written'));
          return;
        }
        value = ch === '\u007f' || ch === '\b' ? value.slice(0, -1) : value + ch;
      }
    };
    stdin.on('data', onData);
  });
}
