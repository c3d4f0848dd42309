/**
 * The manager's API shapes the CLI reads, taken from the manager's own types (type-only imports:
 * nothing of the manager runs in the CLI through these) so a change of shape fails to compile here.
 */
// TODO(issue 12, wire types): the manager/src imports below reach into its internals; take them from the manager's wire types once they exist.
import type { applianceView } from '../../manager/src/api/appliances.js';
import type { DoctorReport } from '../../manager/src/doctor/doctor-types.js';
import type { HostView } from '../../manager/src/hosts/host-registry.js';
import type { InstanceView } from '../../manager/src/instances/instance-view.js';
import type { ReconcileReport } from '../../manager/src/instances/reconcile.js';
import type { SerialTail } from '../../stormd/protocol.js';

export type { SerialTail, DoctorReport, HostView, InstanceView, ReconcileReport };
export type ApplianceView = ReturnType<typeof applianceView>;

export interface TokenResponse {
  readonly id: string;
  readonly token: string;
  readonly expiresAt: string;
  readonly caFingerprint: string;
  readonly command: string;
}

export interface ImageView {
  readonly sha256: string;
  readonly size: number;
  readonly kind: string;
  readonly cachedAt: string;
  readonly usedBy: readonly { readonly name: string; readonly version: string; readonly channelId: string }[];
}
