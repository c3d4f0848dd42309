/**
 * The catalog: `GET /api/v1/appliances[?name=]` (every version of every subscribed channel, cached
 * or not), `GET /api/v1/appliances/:name/:version`, `POST /api/v1/appliances/:name/:version/pull[?channel=]`.
 */
import Type, { type Static } from 'typebox';
import { ApplianceName, ApplianceVersion, List, Nullable, OneOf, Sha256 } from './common.js';

export const ApplianceParams = Type.Object({ name: ApplianceName, version: ApplianceVersion });
export type ApplianceParams = Static<typeof ApplianceParams>;

export const ApplianceListQuery = Type.Object({ name: Type.Optional(Type.String({ maxLength: 63 })) }, { additionalProperties: false });
export type ApplianceListQuery = Static<typeof ApplianceListQuery>;

/** Which channel to pull from when several publish the same version. */
export const PullQuery = Type.Object({ channel: Type.Optional(Type.String({ maxLength: 20 })) }, { additionalProperties: false });

/** A value the administrator may set at launch (the descriptor's `<parameter>`); no default: required. */
export const Parameter = Type.Object({
  name: Type.String(),
  type: OneOf(['string', 'integer', 'boolean']),
  description: Type.String(),
  default: Type.Optional(Type.Union([Type.String(), Type.Number(), Type.Boolean()])),
  /** For strings: an ECMAScript (`u` flag) regular expression the whole value must match. */
  pattern: Type.Optional(Type.String()),
  /** For integers: inclusive bounds. */
  min: Type.Optional(Type.Integer()),
  max: Type.Optional(Type.Integer()),
});
export type Parameter = Static<typeof Parameter>;

/** One key the appliance receives from `storm.getConfig`; `value` is a `{{…}}` template. */
export const ConfigItem = Type.Object({ key: Type.String(), value: Type.String(), description: Type.Optional(Type.String()) });

/** A DNS record the appliance registers; `name` is relative to its zone, `@` is its own name. */
export const DeclaredRecord = Type.Object({
  type: OneOf(['A', 'AAAA', 'CNAME', 'MX', 'TXT', 'SRV']),
  name: Type.String(),
  value: Type.String(),
  ttl: Type.Optional(Type.Integer()),
  priority: Type.Optional(Type.Integer()),
  weight: Type.Optional(Type.Integer()),
  port: Type.Optional(Type.Integer()),
});

/** A file of the appliance and whether the manager's layer cache holds it. */
export const ApplianceLayer = Type.Object({
  role: OneOf(['layer', 'kernel', 'initrd']),
  kind: Type.String(),
  sha256: Sha256,
  size: Type.Integer(),
  cached: Type.Boolean(),
});

/** A catalog entry: the descriptor's launch-relevant parts, each file with its cache state. */
export const ApplianceView = Type.Object({
  channelId: Type.String(),
  name: Type.String(),
  version: Type.String(),
  title: Type.String(),
  description: Type.String(),
  upgradesFrom: Nullable(Type.String()),
  memoryMiB: Type.Integer(),
  vcpus: Type.Integer(),
  parameters: List(Parameter),
  config: List(ConfigItem),
  records: List(DeclaredRecord),
  layers: List(ApplianceLayer),
  /** Sum of the distinct files' sizes. */
  size: Type.Integer(),
  cached: Type.Boolean(),
});
export type ApplianceView = Static<typeof ApplianceView>;

export const ApplianceList = Type.Object({ appliances: List(ApplianceView) });
export type ApplianceList = Static<typeof ApplianceList>;

/** What a pull fetched; progress goes out as `pull.*` events meanwhile. */
export const PullResult = Type.Object({
  name: Type.String(),
  version: Type.String(),
  files: Type.Integer(),
  bytes: Type.Integer(),
  /** Bytes this pull downloaded (0 when everything was cached). */
  downloadedBytes: Type.Integer(),
});
export type PullResult = Static<typeof PullResult>;
