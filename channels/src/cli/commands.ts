/** The `storm-channel` subcommands: options (flags and environment), help, and what each runs. */
import Type from 'typebox';
import type { OptionSources } from '../../../common/config.js';
import { buildChannel } from '../build/build.js';
import { generatePublisherKey } from '../build/keys.js';
import { formatLogEntry, startChannelServer } from '../serve/server.js';

export interface CliIo {
  readonly out: (line: string) => void;
  readonly err: (line: string) => void;
  /** Resolves when the process is asked to stop (SIGINT/SIGTERM); `serve` runs until then. */
  readonly stopped: Promise<string>;
}

export interface Command {
  readonly name: string;
  readonly usage: string;
  readonly summary: string;
  readonly options: OptionSources;
  /** Positional arguments by name, all required. */
  readonly positionals: readonly string[];
  /** Flags that must be given (by option key). */
  readonly required: readonly string[];
  readonly schema: ReturnType<typeof Type.Object>;
  /** Error codes that mean a bad argument value: they exit 2, like other usage errors. */
  readonly usageErrors?: readonly string[];
  run(values: Record<string, unknown>, positionals: Record<string, string>, io: CliIo): Promise<void>;
}

const keygen: Command = {
  name: 'keygen',
  usage: 'usage: storm-channel keygen --out DIR [--force]',
  summary: 'Write an Ed25519 publisher key pair: DIR/publisher.key (PKCS#8 PEM, mode 0600) and DIR/publisher.pub (SPKI PEM).',
  options: {
    out: { flag: 'out', arg: 'DIR', help: 'folder for publisher.key and publisher.pub' },
    force: { flag: 'force', kind: 'boolean', help: 'replace an existing key pair' },
  },
  positionals: [],
  required: ['out'],
  schema: Type.Object({ out: Type.String({ minLength: 1 }), force: Type.Boolean({ default: false }) }, { additionalProperties: false }),
  async run(v, _p, io) {
    const k = await generatePublisherKey(v['out'] as string, { force: v['force'] as boolean });
    io.out(`private key: ${k.privateKeyPath} (keep it secret)`);
    io.out(`public key:  ${k.publicKeyPath} (give it to subscribers)`);
    io.out(`fingerprint: ${k.fingerprint}`);
    io.out(`check a signature: openssl pkeyutl -verify -pubin -inkey ${k.publicKeyPath} -rawin -in channel.xml -sigfile channel.xml.sig`);
  },
};

const build: Command = {
  name: 'build',
  usage: 'usage: storm-channel build SRC --out DIR --base-url URL --key FILE [--published TIME]',
  summary:
    'Build a signed channel from SRC (one folder with manifest.json per appliance version; see docs/channel-format.md) into DIR, to be served at URL.',
  options: {
    out: { flag: 'out', arg: 'DIR', help: 'channel directory to write' },
    baseUrl: { flag: 'base-url', env: 'STORM_CHANNEL_BASE_URL', arg: 'URL', help: 'http(s) URL DIR will be served at' },
    key: { flag: 'key', env: 'STORM_CHANNEL_KEY', arg: 'FILE', help: 'publisher private key (from keygen)' },
    published: {
      flag: 'published',
      env: 'STORM_CHANNEL_PUBLISHED',
      arg: 'TIME',
      help: "publication time, YYYY-MM-DDThh:mm:ssZ (default: SOURCE_DATE_EPOCH, else the earlier feed's in DIR when unchanged, else now); subscribers refuse a feed older than theirs",
    },
  },
  positionals: ['SRC'],
  required: ['out', 'baseUrl', 'key'],
  usageErrors: ['CHAN_ERR_BASE_URL_INVALID', 'CHAN_ERR_PUBLISHED_INVALID'],
  schema: Type.Object(
    {
      out: Type.String({ minLength: 1 }),
      baseUrl: Type.String({ minLength: 1 }),
      key: Type.String({ minLength: 1 }),
      published: Type.Optional(Type.String({ minLength: 1 })),
    },
    { additionalProperties: false },
  ),
  async run(v, p, io) {
    const published = typeof v['published'] === 'string' ? { published: v['published'] } : {};
    const r = await buildChannel({
      src: p['SRC'] as string,
      out: v['out'] as string,
      baseUrl: v['baseUrl'] as string,
      keyPath: v['key'] as string,
      log: io.out,
      ...published,
    });
    io.out(`built ${r.feed.items.length} appliance versions, ${r.files.length} layer and boot files: ${r.feedPath}`);
  },
};

const serve: Command = {
  name: 'serve',
  usage: 'usage: storm-channel serve DIR [--port N] [--host H] [--quiet]',
  summary: 'Serve a channel directory over HTTP (byte ranges, ETag, conditional requests), logging each request.',
  options: {
    port: { flag: 'port', env: 'STORM_CHANNEL_PORT', kind: 'integer', arg: 'N', help: 'TCP port (default 8080; 0 picks a free one)' },
    host: { flag: 'host', env: 'STORM_CHANNEL_HOST', arg: 'H', help: 'address to listen on (default 127.0.0.1)' },
    quiet: { flag: 'quiet', kind: 'boolean', help: 'no access log' },
  },
  positionals: ['DIR'],
  required: [],
  schema: Type.Object(
    {
      port: Type.Integer({ minimum: 0, maximum: 65535, default: 8080 }),
      host: Type.String({ minLength: 1, default: '127.0.0.1' }),
      quiet: Type.Boolean({ default: false }),
    },
    { additionalProperties: false },
  ),
  async run(v, p, io) {
    const srv = await startChannelServer({
      dir: p['DIR'] as string,
      host: v['host'] as string,
      port: v['port'] as number,
      ...(v['quiet'] ? {} : { onRequest: (e) => io.out(formatLogEntry(e)) }),
    });
    io.out(`serving ${p['DIR']} at ${srv.url}`);
    const signal = await io.stopped;
    io.out(`${signal}: stopping`);
    await srv.close();
  },
};

export const COMMANDS: readonly Command[] = [keygen, build, serve];
