/** MAC addresses for instances: QEMU's locally administered 52:54:00 prefix and three random octets. */
import { randomBytes } from 'node:crypto';

export function randomMac(): string {
  return ['52', '54', '00', ...[...randomBytes(3)].map((b) => b.toString(16).padStart(2, '0'))].join(':');
}
