/**
 * A command on a real pseudo-terminal, for tests of terminal programs: python's pty module opens
 * the pair, runs the command with the slave as its stdin, stdout and stderr (so it sees a
 * terminal and may switch it to raw mode), and relays: what the test writes goes to the master,
 * what the command prints comes back. When the command exits, the relay prints one last line
 * saying whether the terminal's modes are as they were before it started.
 *
 * @example
 * const t = startPtySession(process.execPath, ['bin/storm.js', 'console', 'web1', '--attach']);
 * await t.waitFor(/escape character/);
 * t.write('\x1d'); // Ctrl-]
 * expect(await t.finished()).toEqual({ code: 0, termiosRestored: true });
 */
import { startProcess, type TestProcess } from './process.js';

const RELAY = String.raw`
import os, pty, select, signal, subprocess, sys, termios
master, slave = pty.openpty()
before = termios.tcgetattr(slave)
child = subprocess.Popen(sys.argv[1:], stdin=slave, stdout=slave, stderr=slave, start_new_session=True)
# Stopping the relay stops the command too (it has no controlling terminal to be hung up).
signal.signal(signal.SIGTERM, lambda *_: (child.terminate(), child.wait(), sys.exit(143)))
out = sys.stdout.buffer
stdin_open = True
while True:
    fds = [master] + ([sys.stdin.fileno()] if stdin_open else [])
    ready, _, _ = select.select(fds, [], [], 0.1)
    if master in ready:
        try:
            data = os.read(master, 65536)
        except OSError:
            data = b''
        if data:
            out.write(data)
            out.flush()
    if sys.stdin.fileno() in ready:
        data = os.read(sys.stdin.fileno(), 65536)
        if data:
            os.write(master, data)
        else:
            stdin_open = False
    if child.poll() is not None and master not in ready:
        break
after = termios.tcgetattr(slave)
out.write(('\n@@pty-exit %d %s\n' % (child.returncode, 'restored' if after == before else 'changed')).encode())
out.flush()
`;

export interface PtySession {
  readonly process: TestProcess;
  write(data: string | Buffer): void;
  /** Everything the command printed so far. */
  output(): string;
  /** Resolves with the output once `pattern` shows in what was printed after `from` (an output length). */
  waitFor(pattern: RegExp, timeoutMs?: number, from?: number): Promise<string>;
  /** The command's exit status and whether it left the terminal's modes as it found them. */
  finished(timeoutMs?: number): Promise<{ code: number; termiosRestored: boolean }>;
}

export function startPtySession(command: string, args: readonly string[], env: NodeJS.ProcessEnv = process.env): PtySession {
  const proc = startProcess('python3', ['-c', RELAY, command, ...args], { stdio: ['pipe', 'pipe', 'pipe'], env });
  const waitFor = async (pattern: RegExp, timeoutMs = 30_000, from = 0): Promise<string> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const text = proc.output().slice(from);
      if (pattern.test(text)) return text;
      if (Date.now() > deadline) throw new Error(`the terminal never showed ${pattern}:\n${JSON.stringify(text.slice(-3000))}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  return {
    process: proc,
    write: (data) => void proc.child.stdin?.write(data),
    output: () => proc.output(),
    waitFor,
    async finished(timeoutMs = 30_000) {
      const m = /@@pty-exit (\d+) (restored|changed)/.exec(await waitFor(/@@pty-exit \d+ \w+/, timeoutMs));
      return { code: Number(m?.[1]), termiosRestored: m?.[2] === 'restored' };
    },
  };
}
