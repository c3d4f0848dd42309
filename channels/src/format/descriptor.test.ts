import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ChanErr } from '../errors.js';
import { parseDescriptor } from './descriptor.js';
import { renderDescriptor } from './descriptor-write.js';
import type { ApplianceDescriptor, FeedItem } from './types.js';

const sha = (c: string): string => c.repeat(64);
const sample: ApplianceDescriptor = {
  name: 'hello-web',
  version: '1.1.0',
  title: 'Hello web',
  description: 'A tiny web server & friends <3',
  released: '2024-02-01T00:00:00Z',
  upgradesFrom: '1.0.0',
  memoryMiB: 128,
  vcpus: 1,
  layers: [
    {
      kind: 'os',
      format: 'squashfs',
      size: 4096,
      sha256: sha('a'),
      url: 'https://ch.example/layers/a.squashfs',
      boot: {
        kernel: { size: 10, sha256: sha('b'), url: 'https://ch.example/boot/b' },
        initrd: { size: 20, sha256: sha('c'), url: 'https://ch.example/boot/c' },
      },
    },
    { kind: 'appliance', format: 'squashfs', size: 8192, sha256: sha('d'), url: 'https://ch.example/layers/d.squashfs' },
    { kind: 'deployment', format: 'squashfs', size: 4096, sha256: sha('e'), url: 'https://ch.example/layers/e.squashfs' },
  ],
  parameters: [
    { name: 'greeting', type: 'string', description: 'What the page says.', default: 'Hello', pattern: '[A-Za-z ]{1,40}' },
    { name: 'port', type: 'integer', description: 'Port.', default: 80, min: 1, max: 65535 },
    { name: 'debug', type: 'boolean', description: 'Verbose logs.', default: false },
    { name: 'adminEmail', type: 'string', description: 'Required: no default.' },
  ],
  config: [
    { key: 'web.greeting', value: '{{greeting}} from {{instance.fqdn}}', description: 'shown on the page' },
    { key: 'web.port', value: '{{port}}' },
  ],
  records: [
    { type: 'MX', name: '@', value: '{{instance.fqdn}}', priority: 10 },
    { type: 'SRV', name: '_http._tcp', value: '{{instance.fqdn}}', priority: 0, weight: 5, port: 80, ttl: 300 },
  ],
  principals: ['HTTP', 'imap'],
  dataVolume: { mountPoint: '/srv/data', minSizeMiB: 64 },
};

const xml = (d: ApplianceDescriptor = sample): string => renderDescriptor(d).toString('utf8');
const mutate = (from: string, to: string): string => {
  const s = xml();
  expect(s).toContain(from);
  return s.replace(from, to);
};
const rejects = (input: string, code: string, pattern: RegExp): void => {
  let err: unknown;
  try {
    parseDescriptor(input);
  } catch (e) {
    err = e;
  }
  expect(err, 'expected a rejection').toBeDefined();
  expect(err).toMatchObject({ code });
  expect((err as Error).message).toMatch(pattern);
};

describe('parseDescriptor', () => {
  it('reads back exactly what renderDescriptor wrote', () => {
    expect(parseDescriptor(renderDescriptor(sample))).toEqual(sample);
  });

  it('reads a minimal os-only appliance', () => {
    const d: ApplianceDescriptor = {
      ...sample,
      upgradesFrom: undefined,
      layers: [sample.layers[0]!],
      parameters: [],
      config: [],
      records: [],
    };
    delete (d as { upgradesFrom?: string }).upgradesFrom;
    delete (d as { principals?: string[] }).principals;
    delete (d as { dataVolume?: unknown }).dataVolume;
    expect(xml(d)).not.toContain('principals');
    expect(xml(d)).not.toContain('dataVolume');
    expect(parseDescriptor(renderDescriptor(d))).toEqual(d);
  });

  it('checks the bytes against the signed feed item', () => {
    const bytes = renderDescriptor(sample);
    const item: FeedItem = {
      name: 'hello-web',
      version: '1.1.0',
      upgradesFrom: '1.0.0',
      title: 't',
      description: 'd',
      pubDate: '2024-02-01T00:00:00Z',
      guid: 'urn:storm:appliance:hello-web:1.1.0',
      link: 'https://ch.example/x',
      descriptor: { url: 'https://ch.example/x', size: bytes.byteLength, sha256: createHash('sha256').update(bytes).digest('hex') },
    };
    expect(parseDescriptor(bytes, { item }).name).toBe('hello-web');
    expect(() => parseDescriptor(bytes, { item: { ...item, descriptor: { ...item.descriptor, sha256: sha('0') } } })).toThrow(/sha256/);
    expect(() => parseDescriptor(bytes, { item: { ...item, descriptor: { ...item.descriptor, size: 1 } } })).toThrow(/bytes/);
    const other = renderDescriptor({ ...sample, version: '1.2.0' });
    const forged = {
      ...item,
      descriptor: { ...item.descriptor, size: other.byteLength, sha256: createHash('sha256').update(other).digest('hex') },
    };
    expect(() => parseDescriptor(other, { item: forged })).toThrow(/describes hello-web 1.2.0/);
  });

  it.each([
    ['a short sha256', `sha256="${sha('d')}"`, `sha256="${'d'.repeat(63)}"`, /layer\[2\]\/@sha256: not 64 lowercase hex/],
    ['an uppercase sha256', `sha256="${sha('d')}"`, `sha256="${'D'.repeat(64)}"`, /@sha256/],
    ['a fractional size', 'size="8192"', 'size="8192.5"', /layer\[2\]\/@size: not a size/],
    ['an unsafe size', 'size="8192"', 'size="9007199254740993"', /@size/],
    ['a negative size', 'size="8192"', 'size="-1"', /@size/],
    ['a file: URL', 'url="https://ch.example/layers/d.squashfs"', 'url="file:///etc/passwd"', /@url: not an absolute http\(s\) URL/],
    ['a javascript: URL', 'url="https://ch.example/layers/d.squashfs"', 'url="javascript:alert(1)"', /@url/],
    ['an unknown layer kind', 'kind="appliance"', 'kind="kernel"', /unknown kind "kernel"/],
    ['an unknown format', 'format="squashfs" size="8192"', 'format="qcow2" size="8192"', /unknown format "qcow2"/],
    ['an unsafe name', 'name="hello-web"', 'name="../etc"', /@name: "..\/etc" is not a valid appliance name/],
    ['a bad version', 'version="1.1.0"', 'version="1.1"', /@version/],
    ['an unknown attribute', 'memoryMiB="128"', 'memoryMiB="128" extra="1"', /resources: unexpected attribute extra/],
    ['an unknown element', '<title>', '<evil/><title>', /unexpected element <evil>/],
    ['a repeated element', '<title>Hello web</title>', '<title>Hello web</title><title>x</title>', /<title> appears 2 times/],
    ['memory out of range', 'memoryMiB="128"', 'memoryMiB="1"', /memoryMiB/],
    ['an unknown record type', 'type="MX"', 'type="PTR"', /unknown record type "PTR"/],
    ['an MX without priority', ' priority="10"', '', /priority: required for MX/],
    ['a template naming nothing', '{{port}}', '{{nope}}', /\{\{nope\}\} names no parameter/],
    [
      'upgradesFrom not older',
      '<upgradesFrom>1.0.0</upgradesFrom>',
      '<upgradesFrom>2.0.0</upgradesFrom>',
      /upgradesFrom: 2.0.0 is not older/,
    ],
    ['a default breaking its pattern', 'default="Hello"', 'default="Hello!"', /default: does not match pattern/],
    ['an os layer above another', 'kind="deployment"', 'kind="os"', /only one os layer/],
    [
      'a kernel on an appliance layer',
      'url="https://ch.example/layers/d.squashfs"/>',
      `url="https://ch.example/layers/d.squashfs"><kernel size="1" sha256="${sha('f')}" url="https://x/k"/><initrd size="1" sha256="${sha('f')}" url="https://x/i"/></layer>`,
      /only the os layer has a kernel/,
    ],
    ['a wrong namespace', 'xmlns="urn:storm:appliance:1"', 'xmlns="urn:other"', /root element must be <appliance/],
    ['stray text', '<layers>', '<layers>hello', /layers: unexpected text/],
    ['a Kerberos service that is no name', 'service="imap"', 'service="imap/x"', /principal\[2\]\/@service: "imap\/x" does not match/],
    ['host/ declared (every instance has it)', 'service="imap"', 'service="host"', /principals\/1: host is reserved/],
    ['krbtgt declared', 'service="imap"', 'service="krbtgt"', /krbtgt is reserved/],
    ['a service declared twice', 'service="imap"', 'service="http"', /principals\/1\/service: http is declared twice/],
    ['a principal with content', '<principal service="imap"/>', '<principal service="imap">x</principal>', /principal\[2\]: must be empty/],
    [
      'a relative mount point',
      'mountPoint="/srv/data"',
      'mountPoint="srv/data"',
      /dataVolume\/mountPoint: "srv\/data" is not an absolute path/,
    ],
    [
      'a mount point with ..',
      'mountPoint="/srv/data"',
      'mountPoint="/srv/../etc"',
      /dataVolume\/mountPoint: "\/srv\/..\/etc" has a . or .. segment/,
    ],
    ['the root as mount point', 'mountPoint="/srv/data"', 'mountPoint="/"', /dataVolume\/mountPoint: "\/" is not an absolute path/],
    ['a mount point in the system', 'mountPoint="/srv/data"', 'mountPoint="/etc/x"', /is in the guest's system \(\/etc\)/],
    ['a mount point with a space', 'mountPoint="/srv/data"', 'mountPoint="/srv/my data"', /not an absolute path/],
    ['a data volume too small', 'minSizeMiB="64"', 'minSizeMiB="1"', /dataVolume\/@minSizeMiB: "1" is not an integer in \[8, 16777216\]/],
    ['a data volume too large', 'minSizeMiB="64"', 'minSizeMiB="99999999"', /@minSizeMiB/],
    ['a data volume without a size', ' minSizeMiB="64"', '', /dataVolume: missing attribute minSizeMiB/],
    ['two data volumes', '<dataVolume ', '<dataVolume mountPoint="/b" minSizeMiB="8"/><dataVolume ', /<dataVolume> appears 2 times/],
  ])('rejects %s', (_label, from, to, pattern) => {
    rejects(mutate(from, to), ChanErr.CHAN_ERR_DESCRIPTOR_INVALID.code, pattern);
  });

  it('rejects a descriptor over the byte cap before parsing it', () => {
    expect(() => parseDescriptor(`<appliance>${' '.repeat(2000)}</appliance>`, { maxBytes: 1000 })).toThrow(
      expect.objectContaining({ code: 'CHAN_ERR_TOO_LARGE' }),
    );
  });
});
