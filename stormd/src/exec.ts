/**
 * Runs host tools (qemu-img, mkfs.ext4, debugfs) without a shell, and turns a failure into one
 * STORMD_ERR_TOOL_FAILED that names the command and keeps the end of its stderr.
 *
 * @example
 * await runTool('qemu-img', ['convert', '-f', 'raw', '-O', 'qcow2', raw, out]);
 */
import { execFile } from 'node:child_process';
import { StormdErr } from './errors.js';

export interface ToolResult {
  readonly stdout: Buffer;
  readonly stderr: string;
}

/** Runs `command args…`; resolves with its output, rejects with STORMD_ERR_TOOL_FAILED. */
export function runTool(command: string, args: readonly string[], timeoutMs = 120_000): Promise<ToolResult> {
  return new Promise((resolve, reject) => {
    execFile(command, args, { encoding: 'buffer', timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      const errText = stderr.toString();
      if (err) {
        const tail = errText.trim().split('\n').slice(-5).join(' | ');
        reject(StormdErr.STORMD_ERR_TOOL_FAILED(`${command} ${args.join(' ')}: ${tail || err.message}`, { cause: err }));
      } else {
        resolve({ stdout, stderr: errText });
      }
    });
  });
}
