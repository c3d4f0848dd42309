// A program for graceful-stop.test.ts: three start-up steps of STEP_MS each, each adding a closer;
// it prints what runs so the test sees the order, then idles until signalled.
import { GracefulStop } from '../graceful-stop.js';

const stepMs = Number(process.env.STEP_MS ?? '300');
const say = (line: string) => process.stdout.write(`${line}\n`);
const stop = new GracefulStop(say, undefined, undefined, Number(process.env.GRACE_MS ?? '30000'));
for (const name of ['one', 'two', 'three']) {
  say(`step ${name} begins`);
  await stop.step(() => new Promise((resolve) => setTimeout(resolve, stepMs)), { name, close: () => say(`closed ${name}`) });
  say(`step ${name} done`);
}
say('started');
stop.started();
setTimeout(() => say('never signalled'), 60_000);
