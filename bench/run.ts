/** `npm run bench [NAME...]`: runs every benchmark under bench/ (or the named ones) and prints a table. */
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Benchmark, formatTable, type Measurement } from './harness.js';

const here = dirname(fileURLToPath(import.meta.url));
const wanted = process.argv.slice(2);
const files = (await readdir(here)).filter((f) => f.endsWith('.bench.ts')).sort();
const results: { bench: string; measurements: Measurement[]; error?: string }[] = [];

for (const file of files) {
  const { benchmark } = (await import(join(here, file))) as { benchmark: Benchmark };
  if (wanted.length && !wanted.includes(benchmark.name)) continue;
  process.stderr.write(`[bench] ${benchmark.name}: ${benchmark.describe}\n`);
  const measurements: Measurement[] = [];
  try {
    await benchmark.run((m) => {
      measurements.push(m);
      process.stderr.write(`[bench]   ${m.metric}: ${m.value} ${m.unit}${m.note ? ` (${m.note})` : ''}\n`);
    });
    results.push({ bench: benchmark.name, measurements });
  } catch (err) {
    process.stderr.write(`[bench] ${benchmark.name} failed: ${err instanceof Error ? err.stack : String(err)}\n`);
    results.push({ bench: benchmark.name, measurements, error: String(err) });
  }
}

const rows = [['benchmark', 'metric', 'value', 'unit', 'note']];
for (const r of results) {
  for (const m of r.measurements) rows.push([r.bench, m.metric, String(Math.round(m.value * 1000) / 1000), m.unit, m.note ?? '']);
  if (r.error) rows.push([r.bench, 'FAILED', '', '', r.error.slice(0, 80)]);
}
process.stdout.write(`${formatTable(rows)}\n`);
const outDir = join(here, 'results');
await mkdir(outDir, { recursive: true });
const out = join(outDir, `${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
await writeFile(out, `${JSON.stringify({ at: new Date().toISOString(), results }, null, 2)}\n`);
process.stderr.write(`[bench] raw results: ${out}\n`);
process.exitCode = results.some((r) => r.error) ? 1 : 0;
