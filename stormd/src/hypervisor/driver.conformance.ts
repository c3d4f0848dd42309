/**
 * The one conformance suite every `HypervisorDriver` runs (hono's `common.case.test.ts` style).
 * A driver that cannot run a case names it in `notApplicable` with the reason: the case is not
 * registered for it (nothing is skipped), and the suite's title names it, so gaps stay visible.
 *
 * @example
 * runDriverConformance('libvirt test:///default', async () => new LibvirtDriver('test:///default'), async (name) => specFor(name), {
 *   notApplicable: { 'writes the serial console to the log file': 'the test driver runs no guest' },
 * });
 */
import { readFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../clock.js';
import { StormdErr } from '../errors.js';
import type { DomainSpec, HypervisorDriver, StopOutcome } from './driver.js';

export interface ConformanceOptions {
  /** Case title → why it does not apply to this driver. */
  readonly notApplicable?: Readonly<Record<string, string>>;
  /** Bound for graceful stops in the suite (a guest that ignores ACPI makes every stop wait this long). */
  readonly stopTimeoutMs?: number;
  /** What `stop` of the suite's guest must answer: a firmware-only guest ignores ACPI and is forced. */
  readonly stopOutcome?: Exclude<StopOutcome, 'already-off'>;
  /** Per-test timeout; real guests are slower than the test driver. */
  readonly timeoutMs?: number;
}

/** The case titles, so not-applicable lists are checked against real names. */
export const CONFORMANCE_CASES = [
  'connects and reports hypervisor info',
  'defines a domain that starts shut off and is listed',
  'keeps the metadata in the domain XML',
  'starts a domain and reports it running',
  'refuses to start a running domain',
  'writes the serial console to the log file',
  'refuses to redefine a running domain with the same name',
  'refuses to undefine a running domain',
  'stops a running domain and reports how',
  'stop of a domain already off answers already-off',
  'destroy of a domain already off is not an error',
  'destroys a running domain',
  'reboots a running domain back to running',
  'redefines a shut-off domain with the same name',
  'undefines a domain and forgets it',
  'names the domain in an unknown-domain error from every call',
] as const;
export type ConformanceCase = (typeof CONFORMANCE_CASES)[number];

/** Runs the suite against a fresh driver from `makeDriver`; `makeSpec` builds a bootable spec for a name. */
export function runDriverConformance(
  name: string,
  makeDriver: () => Promise<HypervisorDriver>,
  makeSpec: (domainName: string) => Promise<DomainSpec>,
  opts: ConformanceOptions = {},
): void {
  const notApplicable = opts.notApplicable ?? {};
  for (const title of Object.keys(notApplicable)) {
    if (!(CONFORMANCE_CASES as readonly string[]).includes(title)) throw new Error(`not-applicable list names no case: ${title}`);
  }
  const stopMs = opts.stopTimeoutMs ?? 10_000;
  const timeout = opts.timeoutMs ?? 30_000;
  const test = (title: ConformanceCase, fn: () => Promise<void>) => {
    if (!notApplicable[title]) it(title, fn, timeout);
  };
  const gaps = Object.entries(notApplicable).map(([title, why]) => `${title}: ${why}`);

  describe(`HypervisorDriver conformance: ${name}${gaps.length ? ` (not applicable: ${gaps.join('; ')})` : ''}`, () => {
    let driver: HypervisorDriver;
    let spec: DomainSpec;
    const dom = `storm-conf-${randomBytes(4).toString('hex')}`;
    const created = new Set<string>();

    beforeAll(async () => {
      driver = await makeDriver();
      await driver.connect();
      spec = await makeSpec(dom);
    });

    afterAll(async () => {
      if (!driver) return;
      // Clean up every domain this run made, whatever state a failed case left it in.
      for (const n of created) {
        await driver.destroy(n).catch(() => undefined);
        await driver.undefine(n).catch(() => undefined);
      }
      await driver.close();
    });

    const define = async (s: DomainSpec) => {
      created.add(s.name);
      await driver.define(s);
    };

    test('connects and reports hypervisor info', async () => {
      const info = await driver.info();
      expect(info.uri).toBe(driver.uri);
      expect(['kvm', 'qemu', 'test']).toContain(info.domainType);
      expect(info.cpus).toBeGreaterThan(0);
      expect(info.memoryMiB).toBeGreaterThan(0);
      expect(info.hostname.length).toBeGreaterThan(0);
    });

    test('defines a domain that starts shut off and is listed', async () => {
      await define(spec);
      expect(await driver.state(dom)).toBe('shutoff');
      expect(await driver.list()).toContainEqual({ name: dom, uuid: spec.uuid, state: 'shutoff', memoryMiB: spec.memoryMiB });
    });

    test('keeps the metadata in the domain XML', async () => {
      const xml = await driver.xml(dom);
      expect(xml).toContain('urn:storm:domain:1');
      for (const [k, v] of Object.entries(spec.metadata ?? {})) expect(xml).toMatch(new RegExp(`key="${k}"[^>]*>${v}<`));
    });

    test('starts a domain and reports it running', async () => {
      await driver.start(dom);
      expect(await driver.state(dom)).toBe('running');
      expect((await driver.list()).find((d) => d.name === dom)?.state).toBe('running');
    });

    test('refuses to start a running domain', async () => {
      await expect(driver.start(dom)).rejects.toSatisfy((e) => StormdErr.STORMD_ERR_DOMAIN_STATE.is(e));
    });

    test('writes the serial console to the log file', async () => {
      const written = await waitFor(async () => (await readFile(spec.consoleLog).catch(() => Buffer.alloc(0))).length > 0, {
        timeoutMs: 20_000,
      });
      expect(written, `nothing written to ${spec.consoleLog}`).toBe(true);
    });

    test('refuses to redefine a running domain with the same name', async () => {
      await expect(driver.define({ ...spec, memoryMiB: spec.memoryMiB + 16 })).rejects.toSatisfy((e) =>
        StormdErr.STORMD_ERR_DOMAIN_EXISTS.is(e),
      );
      expect(await driver.state(dom)).toBe('running');
    });

    test('refuses to undefine a running domain', async () => {
      await expect(driver.undefine(dom)).rejects.toSatisfy((e) => StormdErr.STORMD_ERR_DOMAIN_STATE.is(e));
      expect(await driver.state(dom)).toBe('running');
    });

    test('stops a running domain and reports how', async () => {
      const outcome = await driver.stop(dom, stopMs);
      if (opts.stopOutcome) expect(outcome).toBe(opts.stopOutcome);
      else expect(['graceful', 'forced']).toContain(outcome);
      expect(await driver.state(dom)).toBe('shutoff');
    });

    test('stop of a domain already off answers already-off', async () => {
      expect(await driver.stop(dom, stopMs)).toBe('already-off');
    });

    test('destroy of a domain already off is not an error', async () => {
      await driver.destroy(dom);
      expect(await driver.state(dom)).toBe('shutoff');
    });

    test('destroys a running domain', async () => {
      await driver.start(dom);
      await driver.destroy(dom);
      expect(await driver.state(dom)).toBe('shutoff');
    });

    test('reboots a running domain back to running', async () => {
      await driver.start(dom);
      await driver.reboot(dom, stopMs);
      expect(await driver.state(dom)).toBe('running');
      await driver.destroy(dom);
    });

    test('redefines a shut-off domain with the same name', async () => {
      await define({ ...spec, memoryMiB: spec.memoryMiB + 16, metadata: { ...spec.metadata, redefined: 'yes' } });
      expect(await driver.state(dom)).toBe('shutoff');
      const xml = await driver.xml(dom);
      expect(xml).toMatch(new RegExp(`<memory unit=.KiB.>${(spec.memoryMiB + 16) * 1024}</memory>`));
      expect(xml).toMatch(/key="redefined"[^>]*>yes</);
      expect((await driver.list()).filter((d) => d.name === dom)).toHaveLength(1);
    });

    test('undefines a domain and forgets it', async () => {
      await driver.undefine(dom);
      created.delete(dom);
      expect((await driver.list()).some((d) => d.name === dom)).toBe(false);
      await expect(driver.state(dom)).rejects.toSatisfy((e) => StormdErr.STORMD_ERR_DOMAIN_NOT_FOUND.is(e));
    });

    test('names the domain in an unknown-domain error from every call', async () => {
      const ghost = `storm-conf-ghost-${randomBytes(4).toString('hex')}`;
      const calls: Array<[string, () => Promise<unknown>]> = [
        ['start', () => driver.start(ghost)],
        ['stop', () => driver.stop(ghost, 100)],
        ['destroy', () => driver.destroy(ghost)],
        ['reboot', () => driver.reboot(ghost, 100)],
        ['undefine', () => driver.undefine(ghost)],
        ['state', () => driver.state(ghost)],
        ['xml', () => driver.xml(ghost)],
      ];
      for (const [call, fn] of calls) {
        const err = await fn().then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(
          StormdErr.STORMD_ERR_DOMAIN_NOT_FOUND.is(err),
          `${call} should fail with STORMD_ERR_DOMAIN_NOT_FOUND, got ${String(err)}`,
        ).toBe(true);
        expect((err as Error).message).toContain(ghost);
      }
    });
  });
}
