/**
 * The files every guest gets in its instance layer besides its name: its token, how to reach the
 * manager (`/etc/storm/manager.json`) and the manager's CA, so a guest with curl can check whom it
 * talks to.
 *
 * @example
 * const files = guestFiles(token, { guestUrl: 'https://storm.local:8444/RPC2', domain: 'storm.internal', managerAddress: '10.77.0.1', caPem });
 */
export interface GuestFilesInput {
  /** The XML-RPC URL the guest calls. */
  readonly guestUrl: string;
  readonly domain: string;
  /** The manager's address on the appliance network, when there is one. */
  readonly managerAddress?: string;
  readonly caPem: string;
}

export type LayerFiles = Record<string, { contentBase64: string; mode?: number }>;

export function guestFiles(token: string, input: GuestFilesInput): LayerFiles {
  const manager = {
    xmlrpc: input.guestUrl,
    domain: input.domain,
    managerName: 'storm.local',
    ...(input.managerAddress ? { managerAddress: input.managerAddress } : {}),
  };
  const b64 = (s: string) => Buffer.from(s).toString('base64');
  return {
    '/etc/storm/token': { contentBase64: b64(`${token}\n`), mode: 0o600 },
    '/etc/storm/manager.json': { contentBase64: b64(`${JSON.stringify(manager, null, 2)}\n`), mode: 0o644 },
    '/etc/storm/ca.pem': { contentBase64: b64(input.caPem), mode: 0o644 },
  };
}
