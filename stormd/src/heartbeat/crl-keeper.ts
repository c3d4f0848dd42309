/**
 * Keeps stormd's CRL current: when the manager says its CRL number is newer than ours, take the
 * CRL its heartbeat answer carried (or fetch `/api/v1/pki/crl` when it carried none), check the CA
 * signed it and that it really is newer, store it (crl.pem) and load it into the listener. One
 * update at a time; a bad CRL is refused and the old one kept.
 *
 * @example
 * const crl = new CrlKeeper({ dataDir, caPem, crlPem, fetchCrl: () => manager.getText('/api/v1/pki/crl', 4 << 20), onReload: (pem) => tls.reloadCrl(pem) });
 * await crl.update(heartbeatResponse.crlNumber, heartbeatResponse.crl); // true when a newer CRL was loaded
 */
import { writeCrlFile } from '../identity/host-identity.js';
import { readCrl } from '../tls/crl-info.js';

export const CRL_PATH = '/api/v1/pki/crl';

export interface CrlKeeperOptions {
  readonly dataDir: string;
  readonly caPem: string;
  /** The CRL in use now (crl.pem). */
  readonly crlPem: string;
  readonly fetchCrl: () => Promise<string>;
  readonly onReload: (crlPem: string) => void;
}

export class CrlKeeper {
  private current: number;
  private running: Promise<boolean> | undefined;
  private readonly opts: CrlKeeperOptions;

  constructor(opts: CrlKeeperOptions) {
    this.opts = opts;
    this.current = readCrl(opts.crlPem, opts.caPem).crlNumber;
  }

  get crlNumber(): number {
    return this.current;
  }

  /** Loads the manager's CRL when `remoteNumber` is newer than ours: `pem` when given, else a fetched one. */
  update(remoteNumber: number, pem?: string): Promise<boolean> {
    if (remoteNumber <= this.current) return Promise.resolve(false);
    this.running ??= this.load(pem).finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private async load(given: string | undefined): Promise<boolean> {
    const pem = given ?? (await this.opts.fetchCrl());
    const info = readCrl(pem, this.opts.caPem); // throws unless the CA signed it
    // Never go back to an older list: that would un-revoke certificates.
    if (info.crlNumber <= this.current) return false;
    await writeCrlFile(this.opts.dataDir, pem);
    this.opts.onReload(pem);
    this.current = info.crlNumber;
    return true;
  }
}
