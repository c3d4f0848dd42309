import { describe, expect, it } from 'vitest';
import { loadStormdConfig, migrationOf, type StormdConfig } from './config.js';

const load = (argv: string[], env: NodeJS.ProcessEnv = {}): StormdConfig => {
  const out = loadStormdConfig(argv, env);
  if (!('config' in out)) throw new Error('help asked');
  return out.config;
};

describe('where a host takes live moves', () => {
  it('is absent without --migration-uri: the host takes none', () => {
    expect(migrationOf(load([]))).toBeUndefined();
  });

  it('is the URIs given, by flag or environment', () => {
    expect(migrationOf(load(['--migration-uri', 'qemu+tls://host-b/system', '--migration-memory-uri', 'tcp://10.0.0.12:49152']))).toEqual({
      uri: 'qemu+tls://host-b/system',
      memoryUri: 'tcp://10.0.0.12:49152',
    });
    expect(
      migrationOf(load([], { STORMD_MIGRATION_URI: 'qemu+tcp://h/system', STORMD_MIGRATION_DISKS_URI: 'unix:///run/d.sock' })),
    ).toEqual({
      uri: 'qemu+tcp://h/system',
      disksUri: 'unix:///run/d.sock',
    });
  });

  it('refuses at start a URI a live move would refuse, and stream URIs without --migration-uri', () => {
    expect(() => load(['--migration-uri', 'qemu+ssh://host-b/system'])).toThrow(/qemu\+tls, qemu\+tcp or qemu\+unix URI of \/system/);
    expect(() => load(['--migration-uri', 'qemu+tls://host-b/system', '--migration-disks-uri', 'http://x'])).toThrow(
      /disksUri http:\/\/x: tcp:\/\/ or unix:\/\/ is needed/,
    );
    expect(() => load(['--migration-memory-uri', 'tcp://10.0.0.12:49152'])).toThrow(/need --migration-uri/);
  });
});
