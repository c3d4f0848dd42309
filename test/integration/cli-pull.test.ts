/**
 * `storm pull NAME[@VERSION]` against a real manager process: a progress bar while the layer
 * streams, exit 0 when verified, `already cached` the second time, `--json` output, clear errors.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bigLayerSource } from '../helpers/big-layer-channel.js';
import { publishChannel, type PublishedChannel } from '../helpers/channel-fixture.js';
import { ROOT, startManager } from '../helpers/manager-process.js';
import { startProcess, stopAllProcesses } from '../helpers/process.js';

let work: string;
let channel: PublishedChannel;
let url: string;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'storm-cli-pull-'));
  channel = await publishChannel({ src: await bigLayerSource(work, 24 * 1024 * 1024), throttleBytesPerSecond: 8 * 1024 * 1024 });
  url = (await startManager(join(work, 'data'), ['--channel-allow', '127.0.0.0/8'])).url;
});
afterAll(async () => {
  await stopAllProcesses();
  await channel?.close();
  await rm(work, { recursive: true, force: true });
});

const storm = async (...args: string[]) => {
  const p = startProcess(process.execPath, [join(ROOT, 'bin/storm.js'), '--url', url, '--data', join(work, 'data'), ...args]);
  const { code } = await p.exited();
  return { code, output: p.output() };
};

describe('storm CLI: channels and pull', () => {
  it('subscribes with the publisher key file and lists the appliances', async () => {
    await import('node:fs/promises').then((fs) => fs.writeFile(join(work, 'publisher.pub'), channel.publicKey));
    const add = await storm('channel', 'add', channel.feedUrl, '--key', join(work, 'publisher.pub'));
    expect(add.code).toBe(0);
    expect(add.output).toMatch(/subscribed ch-[0-9a-f]+/);
    const ls = await storm('appliances');
    expect(ls.output).toMatch(/big-app\s+1\.0\.0\s+Big appliance\s+2\d\.\d MiB\s+128 MiB\s+no/);
  });

  it('pulls with a progress bar, then finds it cached', async () => {
    const first = await storm('pull', 'big-app@1.0.0');
    expect(first.code, first.output).toBe(0);
    expect(first.output).toMatch(/big-app 1\.0\.0 \[#+\.*\] \d+% [\d.]+ (KiB|MiB)\/2\d\.\d MiB [\d.]+ MiB\/s ETA \d+s/);
    expect(first.output).toMatch(/pulled 2\d\.\d MiB in 4 files, verified/);
    const second = await storm('pull', 'big-app');
    expect(second.output).toMatch(/already cached/);
    const json = await storm('--json', 'pull', 'big-app');
    expect(JSON.parse(json.output)).toMatchObject({ name: 'big-app', version: '1.0.0', downloadedBytes: 0 });
  });

  it('reports API errors with their code and usage errors with exit 2', async () => {
    const missing = await storm('pull', 'no-such@1.0.0');
    expect(missing.code).toBe(1);
    expect(missing.output).toMatch(/MGR_ERR_NOT_FOUND/);
    expect((await storm('pull', 'Bad Name')).code).toBe(2);
    const noToken = startProcess(process.execPath, [
      join(ROOT, 'bin/storm.js'),
      '--url',
      url,
      '--ca',
      join(work, 'data', 'pki', 'ca.pem'),
      '--token',
      'wrong',
      'appliances',
    ]);
    expect((await noToken.exited()).code).toBe(1);
    expect(noToken.output()).toMatch(/MGR_ERR_UNAUTHORIZED/);
    const untrusted = startProcess(process.execPath, [
      join(ROOT, 'bin/storm.js'),
      '--url',
      url,
      '--ca',
      '/nonexistent',
      '--token',
      'x',
      'appliances',
    ]);
    expect((await untrusted.exited()).code).toBe(1);
    expect(untrusted.output()).toMatch(/CLI_ERR_UNTRUSTED: .*pass --ca/);
    expect((await readFile(join(work, 'data', 'admin.token'), 'utf8')).length).toBeGreaterThan(20);
  });
});
