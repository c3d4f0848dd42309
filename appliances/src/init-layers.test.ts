/**
 * The /init stack logic (appliances/initrd/storm-layers.sh) run by the same busybox sh the guest
 * uses, against a fake sysfs: command-line grammar, role checks, the detection and device rule.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BUSYBOX_PATH } from './busybox.js';

const LIB = fileURLToPath(new URL('../initrd/storm-layers.sh', import.meta.url));

let sysfs: string;
/** Runs `script` after sourcing the library; returns its stdout, trimmed. */
function sh(script: string, ...args: string[]): string {
  return execFileSync(BUSYBOX_PATH, ['sh', '-c', `. "${LIB}"; ${script}`, 'sh', ...args], {
    env: { PATH: '/usr/bin:/bin', STORM_SYSFS: sysfs },
    encoding: 'utf8',
  }).trim();
}
/** A disk in the fake sysfs; `ro` undefined means the flag file is missing. */
function disk(name: string, ro?: '0' | '1' | 'x'): void {
  mkdirSync(join(sysfs, 'block', name), { recursive: true });
  if (ro !== undefined) writeFileSync(join(sysfs, 'block', name, 'ro'), `${ro}\n`);
}
const parse = (spec: string): string =>
  sh('if storm_parse_layers "$1"; then echo "ok $STORM_DEVS|$STORM_ROLES"; else echo "err $STORM_ERR"; fi', spec);
const detect = (): string =>
  sh('if storm_detect_layers; then echo "ok $(storm_stack_string) ruled=$STORM_RULED"; else echo "err $STORM_ERR"; fi');
const check = (dev: string, role: string): string =>
  sh('if storm_check_disk "$1" "$2"; then echo "ok $STORM_WARN"; else echo "err $STORM_ERR"; fi', dev, role);

beforeEach(() => {
  sysfs = mkdtempSync(join(tmpdir(), 'fake-sysfs-'));
  mkdirSync(join(sysfs, 'block'));
});
afterEach(() => rmSync(sysfs, { recursive: true, force: true }));

describe('storm.layers= on the command line', () => {
  it('finds the argument once, refuses it twice', () => {
    expect(sh('storm_layers_arg "$1"; echo "$? $STORM_LAYERS_ARG"', 'console=ttyS0 storm.layers=vda:ro,vdb:rw quiet')).toBe(
      '0 vda:ro,vdb:rw',
    );
    expect(sh('storm_layers_arg "$1"; echo "$?"', 'console=ttyS0 storm.layersx=1')).toBe('1');
    expect(sh('storm_layers_arg "$1"; echo "$? $STORM_ERR"', 'storm.layers=a storm.layers=b')).toBe('2 storm.layers= given 2 times');
  });

  it('parses any number of ro layers under one rw, bottom to top', () => {
    expect(parse('vda:ro,vdb:ro,vdc:rw')).toBe('ok vda vdb vdc|ro ro rw');
    expect(parse('vda:ro,vdb:rw')).toBe('ok vda vdb|ro rw');
    expect(parse('vdc:ro,vda:ro,vdb:ro,vdd:ro,vde:rw')).toBe('ok vdc vda vdb vdd vde|ro ro ro ro rw');
  });

  it.each([
    ['', 'is empty'],
    ['vda:rw', 'at least one ro layer'],
    ['vda:ro,vdb:ro', 'exactly one rw layer, found 0'],
    ['vda:ro,vdb:rw,vdc:rw', 'exactly one rw layer, found 2'],
    ['vda:ro,vdb:rw,vdc:ro', 'rw layer must be the last'],
    ['vda:ro,,vdb:rw', 'empty entry'],
    ['vda:ro,vdb:rw,', 'empty entry'],
    ['vda:ro,vda:rw', 'named twice'],
    ['vda:RO,vdb:rw', "bad entry 'vda:RO'"],
    ['vda,vdb:rw', "bad entry 'vda'"],
    [':ro,vdb:rw', "bad entry ':ro'"],
    ['vda:ro:x,vdb:rw', "bad entry 'vda:ro:x'"],
    ['*:ro,vdb:rw', "bad disk name '*'"],
    ['../x:ro,vdb:rw', "bad disk name '../x'"],
    ['vda:ro vdb:rw', 'bad'],
  ])('rejects %j (%s)', (spec, reason) => {
    const out = parse(spec);
    expect(out.startsWith('err ')).toBe(true);
    expect(out).toContain(reason);
  });
});

describe('checking roles against /sys/block/<dev>/ro', () => {
  it('accepts matching flags, warns on a ro role over a writable disk', () => {
    disk('vda', '1');
    disk('vdb', '0');
    expect(check('vda', 'ro')).toBe('ok');
    expect(check('vdb', 'rw')).toBe('ok');
    expect(check('vdb', 'ro')).toBe('ok disk vdb is writable but its role is ro; mounting it read-only');
  });

  it('refuses a rw role on a read-only disk and a missing disk', () => {
    disk('vda', '1');
    expect(check('vda', 'rw')).toBe('err disk vda is read-only but its role is rw');
    expect(check('vdz', 'ro')).toBe('err disk vdz is missing');
  });
});

describe('without storm.layers=: detection, then the device rule', () => {
  it('takes each role from the ro flag, in device order', () => {
    disk('vda', '1');
    disk('vdb', '1');
    disk('vdc', '0');
    disk('sda', '0'); // not a virtio disk: not a layer
    expect(detect()).toBe('ok vda:ro,vdb:ro,vdc:rw ruled=');
  });

  it('orders vdz before vdaa', () => {
    for (let i = 0; i < 26; i++) disk(`vd${String.fromCharCode(97 + i)}`, '1');
    disk('vdaa', '0');
    expect(detect()).toMatch(/vdy:ro,vdz:ro,vdaa:rw ruled=$/);
  });

  it('falls back to the device rule (a ro, b rw, c ro, d rw) only where the flag is unreadable', () => {
    disk('vda');
    disk('vdb');
    expect(detect()).toBe('ok vda:ro,vdb:rw ruled=vda vdb');
    disk('vdc', 'x');
    expect(detect()).toBe('err the rw layer must be the last (top) one (vda:ro,vdb:rw,vdc:ro)');
  });

  it('mixes detection and the rule, and fails where the rule has nothing to say', () => {
    disk('vda', '1');
    disk('vdb', '1');
    disk('vdc', '1');
    disk('vdd');
    expect(detect()).toBe('ok vda:ro,vdb:ro,vdc:ro,vdd:rw ruled=vdd');
    disk('vde');
    expect(detect()).toMatch(/^err cannot read vde's ro flag and the device rule does not cover vde/);
  });

  it('fails when there is no disk at all', () => {
    expect(detect()).toBe('err no storm.layers= and no virtio disks');
  });
});

describe('overlayfs lowerdir', () => {
  it('lists the top lower layer first', () => {
    expect(sh('storm_lowerdirs /storm/vda /storm/vdb /storm/vdc/upper')).toBe('/storm/vdc/upper:/storm/vdb:/storm/vda');
  });
});
