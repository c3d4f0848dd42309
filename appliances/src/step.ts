/**
 * Build steps that skip themselves when up to date: a step is fresh when its outputs exist and the
 * fingerprint of its inputs matches the one stamped when it last built.
 */
import { createHash } from 'node:crypto';
import { access, mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';

export interface Step {
  /** Short name shown in the progress line, e.g. `initrd`. */
  readonly name: string;
  /** Files or directories the step produces, absolute. */
  readonly outputs: readonly string[];
  /** Fingerprint of everything the outputs depend on. */
  fingerprint(): Promise<string>;
  /** Builds the outputs; returns a short note for the progress line. */
  build(): Promise<string>;
}

export interface StepContext {
  readonly stampDir: string;
  readonly force: boolean;
  readonly log: (line: string) => void;
}

/** sha256 of a JSON-able value: the fingerprint of a set of inputs. */
export function fingerprintOf(value: unknown): string {
  return createHash('sha256').update(JSON.stringify(value)).digest('hex');
}

const exists = (p: string): Promise<boolean> =>
  access(p).then(
    () => true,
    () => false,
  );

/** Runs one step (or skips it) and prints exactly one line about it. */
export async function runStep(step: Step, ctx: StepContext): Promise<'built' | 'fresh'> {
  const stamp = join(ctx.stampDir, `${step.name.replace(/[^A-Za-z0-9.-]/g, '_')}.fingerprint`);
  const fp = await step.fingerprint();
  const present = (await Promise.all(step.outputs.map(exists))).every(Boolean);
  const previous = await readFile(stamp, 'utf8').catch(() => '');
  if (!ctx.force && present && previous.trim() === fp) {
    ctx.log(`${step.name}: up to date`);
    return 'fresh';
  }
  const started = Date.now();
  const note = await step.build();
  await mkdir(dirname(stamp), { recursive: true });
  await writeFile(stamp, `${fp}\n`);
  ctx.log(`${step.name}: built in ${((Date.now() - started) / 1000).toFixed(1)}s${note ? ` (${note})` : ''}`);
  return 'built';
}

/** sha256 of builder source files beside this one, so a change to a step's code rebuilds it. */
export async function codeHash(...files: readonly string[]): Promise<string> {
  const h = createHash('sha256');
  for (const f of files) h.update(await readFile(new URL(f, import.meta.url)));
  return h.digest('hex');
}
