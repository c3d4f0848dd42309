import { describe, expect, it } from 'vitest';
import { comebackFor } from './comeback-decision.js';

const up = { state: 'stopped', desired: 'running' } as const;

describe('comebackFor', () => {
  it('starts a shut-off domain whose instance should run, and defines a gone one whose layers the host kept', () => {
    expect(comebackFor(up, { state: 'shutoff', hasLayer: true })).toBe('start');
    expect(comebackFor({ state: 'lost', desired: 'running' }, { state: 'absent', hasLayer: true })).toBe('define');
  });

  it('leaves an instance the administrator stopped stopped, whatever its domain', () => {
    expect(comebackFor({ state: 'stopped', desired: 'stopped' }, { state: 'shutoff', hasLayer: true })).toBeNull();
    expect(comebackFor({ state: 'lost', desired: 'stopped' }, { state: 'absent', hasLayer: true })).toBeNull();
  });

  it('leaves running, paused, crashed and unknown domains, a host that does not list it, and a domain gone with its layers', () => {
    for (const state of ['running', 'paused', 'crashed', 'unknown', 'shutting-down'] as const)
      expect(comebackFor(up, { state, hasLayer: true })).toBeNull();
    expect(comebackFor(up, undefined)).toBeNull();
    expect(comebackFor(up, { state: 'absent', hasLayer: false })).toBeNull();
  });

  it('leaves an instance the manager itself is driving (launching, destroying, failed)', () => {
    for (const state of ['launching', 'destroying', 'failed'] as const)
      expect(comebackFor({ state, desired: 'running' }, { state: 'shutoff', hasLayer: true })).toBeNull();
  });
});
