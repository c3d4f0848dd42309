/** The manager's answers as the console reads them (mirrors of `manager/src/api/*` views). */
// TODO(issue 12, wire types): a hand-written mirror; import the manager's wire types as types instead once they exist.

export interface Channel {
  readonly id: string;
  readonly url: string;
  readonly title: string | null;
  readonly signed: boolean;
  readonly status: 'new' | 'ok' | 'failed';
  readonly lastRefresh: string | null;
  readonly lastError: string | null;
  readonly createdAt: string;
}

export interface Parameter {
  readonly name: string;
  readonly type: 'string' | 'integer' | 'boolean';
  readonly description: string;
  readonly default?: string | number | boolean;
  readonly pattern?: string;
  readonly min?: number;
  readonly max?: number;
}

export interface ApplianceLayer {
  readonly role: 'layer' | 'kernel' | 'initrd';
  readonly kind: string;
  readonly sha256: string;
  readonly size: number;
  readonly cached: boolean;
}

export interface Appliance {
  readonly channelId: string;
  readonly name: string;
  readonly version: string;
  readonly title: string;
  readonly description: string;
  readonly upgradesFrom: string | null;
  readonly memoryMiB: number;
  readonly vcpus: number;
  readonly parameters: readonly Parameter[];
  readonly layers: readonly ApplianceLayer[];
  readonly size: number;
  readonly cached: boolean;
}

export type InstanceState = 'launching' | 'running' | 'stopped' | 'paused' | 'stopping' | 'crashed' | 'unknown' | 'lost' | 'failed' | 'destroying';

export interface Instance {
  readonly id: string;
  readonly name: string;
  readonly appliance: string;
  readonly version: string;
  readonly channelId: string | null;
  readonly host: { readonly id: string; readonly name: string } | null;
  readonly state: InstanceState;
  readonly desired: 'running' | 'stopped';
  readonly mac: string;
  readonly ip: string | null;
  readonly fqdn: string | null;
  readonly memoryMiB: number;
  readonly vcpus: number;
  readonly params: Readonly<Record<string, unknown>>;
  readonly layers: readonly { readonly kind: string; readonly sha256: string | null; readonly size: number | null; readonly writable: boolean; readonly id?: string }[];
  readonly guestStatus: unknown;
  readonly lastError: string | null;
  readonly createdAt: string;
  readonly updatedAt: string;
}

export interface Host {
  readonly id: string;
  readonly name: string;
  readonly url: string;
  /** `degraded`: it heartbeats but one of its checks fails (see `health`); it takes no launches. */
  readonly status: 'new' | 'ready' | 'degraded' | 'unreachable' | 'revoked';
  readonly lastHeartbeat: string | null;
  /** Why it is not ready: no heartbeat, or its failing checks. */
  readonly lastError: string | null;
  readonly cpus: number | null;
  readonly memoryMiB: number | null;
  readonly freeMemoryMiB: number | null;
  readonly allocatedMemoryMiB: number | null;
  readonly hypervisor: { readonly uri: string | null; readonly domainType: string | null };
  /** notAfter is null for hosts enrolled before it was recorded; renewalPending: a renewed one awaits first use. */
  readonly certificate: { readonly serial: string; readonly notAfter: string | null; readonly renewalPending: boolean };
  /** The checks of its last heartbeat (null before the first). */
  readonly health: HostHealth | null;
  readonly createdAt: string;
}

/** A host's own checks (stormd's `HostHealth`). */
export interface HostHealth {
  readonly checkedAt: string;
  readonly checks: readonly { readonly name: string; readonly status: 'ok' | 'fail' | 'skip'; readonly message: string; readonly fix?: string }[];
}

export interface EnrolmentToken {
  readonly id: string;
  readonly token: string;
  readonly expiresAt: string;
  readonly caFingerprint: string;
  readonly command: string;
}

export interface TokenView {
  readonly id: string;
  readonly createdAt: string;
  readonly expiresAt: string;
  readonly usedAt: string | null;
  readonly usedByHost: string | null;
}

export interface SessionInfo {
  readonly username: string;
  readonly via: 'session' | 'token';
  readonly csrfToken: string | null;
  readonly expiresAt: string | null;
}

export interface SerialText {
  readonly text: string;
  readonly size: number;
  readonly offset: number;
}

export interface RecentEvent {
  readonly id: number;
  readonly at: string;
  readonly type: string;
  readonly data: Readonly<Record<string, unknown>>;
}
