import { describe, expect, it } from 'vitest';
import { renderTemplate } from './templates.js';

describe('templates', () => {
  it('renders parameters and instance variables, unknown names empty', () => {
    const instance = { name: 'web1', fqdn: 'web1.storm.internal', domain: 'storm.internal', ip: '10.77.0.2', mac: '52:54:00:00:00:01' };
    expect(
      renderTemplate('{{greeting}} from http://{{ instance.fqdn }}/ at {{instance.ip}}{{nope}}', { params: { greeting: 'Hi' }, instance }),
    ).toBe('Hi from http://web1.storm.internal/ at 10.77.0.2');
    expect(renderTemplate('{{__proto__}}{{constructor}}', { params: {}, instance })).toBe('');
  });
});
