/**
 * The channel format's reader side, imported by the manager: types, parsers and the signature check.
 * Feed flow: verifyFeedSignature → parseFeed → for each item, fetch the descriptor (capped) →
 * parseDescriptor(bytes, { item }) → fetch layers and boot files, checking size and sha256.
 */
export * from './types.js';
export { parseFeed, DEFAULT_MAX_FEED_BYTES, type ParseFeedOptions } from './feed.js';
export { parseDescriptor, DEFAULT_MAX_DESCRIPTOR_BYTES, type ParseDescriptorOptions } from './descriptor.js';
export { verifyFeedSignature, readPublicKey, publicKeyFingerprint, SIGNATURE_BYTES } from './signature.js';
export { compareVersions, isName, isVersion, isSha256, INSTANCE_VARIABLES, templateNames } from './rules.js';
