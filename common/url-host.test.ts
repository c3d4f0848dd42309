import { describe, expect, it } from 'vitest';
import { urlHost } from './url-host.js';

describe('urlHost', () => {
  it('drops the brackets of an IPv6 host and keeps names and IPv4 as they are', () => {
    expect(urlHost('https://[::1]:9443/')).toBe('::1');
    expect(urlHost(new URL('https://[fd00::5]/x'))).toBe('fd00::5');
    expect(urlHost('https://host-1.example:9443')).toBe('host-1.example');
    expect(urlHost('http://127.0.0.1:8080/a?b')).toBe('127.0.0.1');
  });
});
