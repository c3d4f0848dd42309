/**
 * The wire types of a STORM channel: what `parseFeed` and `parseDescriptor` return and what
 * `storm-channel build` writes. The manager imports these as types.
 *
 * @example
 * const feed: ChannelFeed = await parseFeed(feedBytes);
 * const item = feed.items.find((i) => i.name === 'hello-web');
 */
import type { Firmware, ImageFormat, LayerKind, ParameterType, RecordType } from './rules.js';

export type { Firmware, ImageFormat, LayerKind, ParameterType, RecordType } from './rules.js';

/** XML namespace of the feed's machine-readable fields; the prefix is always `storm`. */
export const FEED_NS = 'urn:storm:channel:1';
/** XML namespace (default namespace) of an appliance descriptor. */
export const DESCRIPTOR_NS = 'urn:storm:appliance:1';

/** A file a subscriber fetches and checks: exact size and sha256 of its bytes. */
export interface FileRef {
  readonly url: string;
  readonly size: number;
  /** Lowercase hex sha256 of the file's bytes. */
  readonly sha256: string;
}

/** One appliance version in the feed. */
export interface FeedItem {
  readonly name: string;
  readonly version: string;
  readonly title: string;
  readonly description: string;
  /** ISO 8601 (UTC) form of the item's pubDate. */
  readonly pubDate: string;
  readonly guid: string;
  readonly link: string;
  /** The version this one upgrades in place, if any. */
  readonly upgradesFrom?: string;
  /** The appliance descriptor: fetch it, check size and sha256, then `parseDescriptor`. */
  readonly descriptor: FileRef;
}

export interface ChannelFeed {
  readonly title: string;
  readonly link: string;
  readonly description: string;
  /** ISO 8601 (UTC), the newest item's pubDate. */
  readonly lastBuildDate?: string;
  /**
   * `storm:published`: when the feed was published, ISO 8601 UTC to the second. Subscribers refuse
   * a feed published before the one they hold. Absent from feeds built before it existed.
   */
  readonly published?: string;
  readonly items: readonly FeedItem[];
}

export interface BootFiles {
  readonly kernel: FileRef;
  readonly initrd: FileRef;
}

export interface DescriptorLayer extends FileRef {
  readonly kind: LayerKind;
  readonly format: 'squashfs';
  /** Present on the os layer only: the kernel and initrd the appliance boots with. */
  readonly boot?: BootFiles;
}

/**
 * The one disk image of a traditional appliance (`kind` image): booted by firmware, its format
 * stated here and checked at pull (`qemu-img info`), each instance an overlay on it.
 */
export interface DescriptorImage extends FileRef {
  readonly format: ImageFormat;
  readonly firmware: Firmware;
  /** The smallest disk an instance gets, in MiB (at least the image's virtual size). */
  readonly minDiskMiB: number;
}

/** A value the administrator may set at launch. No default means the value is required. */
export interface Parameter {
  readonly name: string;
  readonly type: ParameterType;
  readonly description: string;
  readonly default?: string | number | boolean;
  /** For strings: an ECMAScript (`u` flag) regular expression the whole value must match. */
  readonly pattern?: string;
  /** For integers: inclusive bounds. */
  readonly min?: number;
  readonly max?: number;
}

/** One key the appliance receives from `storm.getConfig`; `value` is a `{{…}}` template. */
export interface ConfigItem {
  readonly key: string;
  readonly value: string;
  readonly description?: string;
}

/** A DNS record the appliance registers; `name` is relative to its zone, `@` is its own name. */
export interface DnsRecord {
  readonly type: RecordType;
  readonly name: string;
  /** A `{{…}}` template, e.g. `{{instance.fqdn}}`. */
  readonly value: string;
  readonly ttl?: number;
  /** MX and SRV. */
  readonly priority?: number;
  /** SRV. */
  readonly weight?: number;
  readonly port?: number;
}

/** Everything the manager needs to launch one appliance version. */
export interface ApplianceDescriptor {
  readonly name: string;
  readonly version: string;
  readonly title: string;
  readonly description: string;
  /** ISO 8601 (UTC). */
  readonly released: string;
  readonly upgradesFrom?: string;
  readonly memoryMiB: number;
  readonly vcpus: number;
  /**
   * Bottom to top: exactly one os layer first, then appliance layers, then deployment layers.
   * Empty for a traditional appliance, which has `image` instead.
   */
  readonly layers: readonly DescriptorLayer[];
  /** A traditional appliance's one disk image; absent for a layered appliance. */
  readonly image?: DescriptorImage;
  readonly parameters: readonly Parameter[];
  readonly config: readonly ConfigItem[];
  readonly records: readonly DnsRecord[];
  /**
   * Kerberos services the instance gets a principal for besides `host/` (`HTTP`, `smtp`, …), each
   * `<service>/<fqdn>@REALM` in its keytab; absent when none.
   */
  readonly principals?: readonly string[];
  /** The data volume the appliance wants (docs/volumes.md): made at launch, mounted by the guest. */
  readonly dataVolume?: DataVolume;
}

/** A volume launch makes, `<instance>-data`, and the guest mounts at `mountPoint`. */
export interface DataVolume {
  /** Absolute, e.g. `/srv/data`. */
  readonly mountPoint: string;
  readonly minSizeMiB: number;
}

/** `image` for a traditional appliance (one disk image), `layered` for a stack of squashfs layers. */
export type ApplianceKind = 'layered' | 'image';

export function applianceKindOf(d: Pick<ApplianceDescriptor, 'image'>): ApplianceKind {
  return d.image ? 'image' : 'layered';
}
