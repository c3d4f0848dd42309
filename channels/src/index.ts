/**
 * `storm-channel` as a library.
 *
 * @example
 * import { generatePublisherKey, buildChannel, startChannelServer } from '../channels/src/index.js';
 * const key = await generatePublisherKey('keys');
 * await buildChannel({ src: 'channel-src', out: 'channel', baseUrl: 'http://127.0.0.1:8080/', keyPath: key.privateKeyPath });
 * const srv = await startChannelServer({ dir: 'channel', port: 8080 });
 */
export {
  buildChannel,
  descriptorPath,
  FEED_FILE,
  SIGNATURE_FILE,
  type BuildChannelOptions,
  type BuildChannelResult,
} from './build/build.js';
export { generatePublisherKey, loadPrivateKey, PRIVATE_KEY_FILE, PUBLIC_KEY_FILE, type PublisherKeyFiles } from './build/keys.js';
export { loadChannelSource, ManifestSchema, ChannelMetaSchema, type Manifest, type ChannelMeta } from './build/manifest.js';
export { startChannelServer, formatLogEntry, type ChannelServer, type ChannelServerOptions, type RequestLogEntry } from './serve/server.js';
export { ChanErr, type ChanErrCode } from './errors.js';
export * from './format/index.js';
