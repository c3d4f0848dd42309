/**
 * Preloaded into a process under benchmark (`node --import ./bench/cpu-profile.mjs`): samples its CPU
 * from the start and, on SIGUSR2, writes a V8 profile to $STORM_CPU_PROFILE (open it in Chrome's
 * DevTools or speedscope). A signal, not exit: `--cpu-prof` loses the profile of a process that
 * is killed on its way out.
 */
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';

const out = process.env.STORM_CPU_PROFILE;
if (out) {
  const session = new Session();
  session.connect();
  session.post('Profiler.enable');
  session.post('Profiler.setSamplingInterval', { interval: 500 });
  session.post('Profiler.start');
  process.on('SIGUSR2', () => {
    session.post('Profiler.stop', (err, res) => {
      if (!err) writeFileSync(out, JSON.stringify(res.profile));
      session.post('Profiler.start');
    });
  });
}
