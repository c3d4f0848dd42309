import { hostname } from 'node:os';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../common/config.js';
import { loadJoinConfig } from './join-config.js';

describe('stormd join flags', () => {
  it('reads the manager URL, token and defaults name and url from the hostname', () => {
    expect(loadJoinConfig(['https://m:8443', '--token', 't', '--data', '/d'], {})).toEqual({
      config: { managerUrl: 'https://m:8443', token: 't', data: '/d', name: hostname(), url: `https://${hostname()}:9443`, force: false },
    });
  });

  it('takes the token from STORMD_JOIN_TOKEN and the url from --name', () => {
    const loaded = loadJoinConfig(['https://m', '--name', 'host-1', '--force'], { STORMD_JOIN_TOKEN: 'env-token' });
    expect(loaded).toMatchObject({ config: { token: 'env-token', name: 'host-1', url: 'https://host-1:9443', force: true } });
  });

  it('refuses a missing token or URL, and http', () => {
    expect(() => loadJoinConfig(['https://m'], {})).toThrow(/--token/);
    expect(() => loadJoinConfig(['--token', 't'], {})).toThrow(ConfigError);
    expect(() => loadJoinConfig(['http://m', '--token', 't'], {})).toThrow(/managerUrl/);
  });

  it('renders help', () => {
    expect(loadJoinConfig(['--help'], {})).toMatchObject({ help: expect.stringMatching(/--token TOKEN/) });
  });
});
