/**
 * One connection's LDAP conversation, without the socket: who is bound, and the answer to each
 * request. Bind is simple only and never anonymous; nothing but bind, "Who am I?" and unbind is
 * served before a successful bind; every write is refused (the directory is managed through the
 * STORM API). StartTLS is decided here and carried out by the connection, which owns the socket
 * (`handle` answers 'start-tls'); with `requireTls`, binds wait for the connection to be `secure`.
 *
 * @example
 * const session = new LdapSession(deps);
 * await session.handle(request, (response) => connection.send(response)); // 'close' after unbind, 'start-tls' to switch
 */
import { MgrErr } from '../../errors.js';
import { PASSWORD_MAX } from '../../directory/validate.js';
import type { BindPrincipal } from '../../directory/types.js';
import { DnError, normalizeDn } from './dn.js';
import type { LdapEntry } from './entry.js';
import {
  type BindRequest,
  type Control,
  type ExtendedRequest,
  type LdapRequest,
  type LdapResponse,
  Oid,
  Op,
  ResultCode,
  type SearchRequest,
} from './protocol.js';
import { runCompare, runSearch } from './search.js';
import type { DirectoryReader } from './source.js';
import type { LdapStats } from './stats.js';
import type { DirectoryTree } from './tree.js';

export interface SessionDeps {
  readonly reader: DirectoryReader;
  readonly tree: () => Promise<DirectoryTree>;
  readonly rootDse: LdapEntry;
  readonly sizeLimit: number;
  readonly stats: LdapStats;
  /** Refuse binds in clear text (confidentialityRequired). */
  readonly requireTls?: boolean;
  /** Whether the connection can switch to TLS (the server has a certificate). */
  readonly tlsOffered?: boolean;
}

/** What the connection must do after a request: close it, or switch it to TLS (StartTLS accepted). */
export type Outcome = 'close' | 'start-tls' | undefined;

/** Resolves when the connection can take more (backpressure). */
export type Send = (response: LdapResponse) => Promise<void>;

const SUPPORTED_CONTROLS = new Set<string>([Oid.manageDsaIT]);
const READ_ONLY = 'the directory is read-only over LDAP; manage it through the STORM API';

/** The op of the answer to a request that has one. */
export function responseOp(req: LdapRequest): number | undefined {
  switch (req.op) {
    case 'bind':
      return Op.bindResponse;
    case 'search':
      return Op.searchResultDone;
    case 'compare':
      return Op.compareResponse;
    case 'write':
      return req.responseOp;
    case 'extended':
      return Op.extendedResponse;
    default:
      return undefined;
  }
}

/** The answer a request gets when it cannot be served at all (`code`, e.g. operationsError). */
export function failure(req: LdapRequest, code: ResultCode, message: string): LdapResponse | undefined {
  const op = responseOp(req);
  if (op === undefined) return undefined;
  if (op === Op.extendedResponse) return { kind: 'extended', id: req.id, code, message };
  return { kind: 'result', id: req.id, op, code, message };
}

export class LdapSession {
  private bound: { dn: string; principal: BindPrincipal } | null = null;
  /** Set by the connection once StartTLS has succeeded. */
  secure = false;

  constructor(private readonly deps: SessionDeps) {}

  get authenticated(): boolean {
    return this.bound !== null;
  }

  async handle(req: LdapRequest, send: Send): Promise<Outcome> {
    if (req.op === 'unbind') return 'close';
    if (req.op === 'abandon') return undefined;
    const critical = unsupportedCritical(req.controls);
    if (critical) {
      this.deps.stats.unavailableCritical++;
      await send(failure(req, ResultCode.unavailableCriticalExtension, `control ${critical} is not supported`)!);
      return undefined;
    }
    switch (req.op) {
      case 'bind':
        await send(await this.bind(req));
        return undefined;
      case 'search':
        await this.search(req, send);
        return undefined;
      case 'compare': {
        this.deps.stats.compares++;
        if (!this.bound) return this.refuseUnbound(req, send);
        const out = runCompare(await this.deps.tree(), req);
        await send({ kind: 'result', id: req.id, op: Op.compareResponse, ...out });
        return undefined;
      }
      case 'extended':
        this.deps.stats.extended++;
        if (req.name === Oid.startTls && this.deps.tlsOffered && !this.secure) return 'start-tls';
        await send(this.extended(req));
        return undefined;
      case 'write':
        this.deps.stats.writesRefused++;
        await send({ kind: 'result', id: req.id, op: req.responseOp, code: ResultCode.unwillingToPerform, message: READ_ONLY });
        return undefined;
    }
  }

  private async bind(req: BindRequest): Promise<LdapResponse> {
    const stats = this.deps.stats;
    stats.binds++;
    // Any bind, even a failed one, leaves the connection unauthenticated until it succeeds (RFC 4513 §5).
    this.bound = null;
    const answer = (code: ResultCode, message = ''): LdapResponse => ({ kind: 'result', id: req.id, op: Op.bindResponse, code, message });
    const refuse = (code: ResultCode, message: string) => {
      stats.bindsRefused++;
      return answer(code, message);
    };
    if (req.version !== 3) return refuse(ResultCode.protocolError, 'only LDAPv3 is supported');
    if (this.deps.requireTls && !this.secure) {
      stats.bindsInClearRefused++;
      return refuse(ResultCode.confidentialityRequired, 'binds need TLS on this server: use StartTLS first (ldapsearch -ZZ)');
    }
    if (req.auth.kind !== 'simple') return refuse(ResultCode.authMethodNotSupported, 'only simple bind is supported');
    if (req.name.trim() === '') return refuse(ResultCode.inappropriateAuthentication, 'anonymous bind is not allowed');
    // RFC 4513 §5.1.2: a DN with an empty password is an unauthenticated bind, which would succeed without proof.
    if (req.auth.password.length === 0)
      return refuse(ResultCode.unwillingToPerform, 'unauthenticated bind (DN without password) is not allowed');
    let ndn: string;
    try {
      ndn = normalizeDn(req.name);
    } catch (err) {
      if (err instanceof DnError) return refuse(ResultCode.invalidDNSyntax, 'invalid DN');
      throw err;
    }
    const tree = await this.deps.tree();
    const principal = tree.principal(ndn) ?? null;
    const password = req.auth.password.toString('utf8');
    let ok = false;
    try {
      // Too long to be anyone's password (the API refuses them): false without work, length is no secret.
      ok = req.auth.password.length <= PASSWORD_MAX * 4 && (await this.deps.reader.authenticate(principal, password));
    } catch (err) {
      if (!MgrErr.MGR_ERR_UNAVAILABLE.is(err)) throw err;
      stats.busy++;
      return answer(ResultCode.busy, 'too many binds in progress; retry');
    }
    if (!ok || !principal) {
      // One answer for an unknown DN and a wrong password.
      stats.bindsFailed++;
      return answer(ResultCode.invalidCredentials);
    }
    this.bound = { dn: tree.get(ndn)!.dn, principal };
    stats.bindsSucceeded++;
    return answer(ResultCode.success);
  }

  private async search(req: SearchRequest, send: Send): Promise<void> {
    const stats = this.deps.stats;
    stats.searches++;
    if (!this.bound) {
      await this.refuseUnbound(req, send);
      return;
    }
    const out = runSearch(await this.deps.tree(), this.deps.rootDse, req, { sizeLimit: this.deps.sizeLimit });
    for (const entry of out.entries) await send({ kind: 'entry', id: req.id, dn: entry.dn, attributes: entry.attributes });
    stats.entriesReturned += out.entries.length;
    if (out.code === ResultCode.sizeLimitExceeded) stats.sizeLimitExceeded++;
    await send({ kind: 'result', id: req.id, op: Op.searchResultDone, code: out.code, message: out.message, matchedDn: out.matchedDn });
  }

  private extended(req: ExtendedRequest): LdapResponse {
    switch (req.name) {
      case Oid.whoAmI:
        // RFC 4532: the authorization identity, empty when anonymous.
        return { kind: 'extended', id: req.id, code: ResultCode.success, value: this.bound ? `dn:${this.bound.dn}` : '' };
      case Oid.passwordModify:
        return { kind: 'extended', id: req.id, code: ResultCode.unwillingToPerform, message: READ_ONLY };
      case Oid.startTls:
        // The accepted case went to the connection (see handle); these are the refusals.
        if (this.secure)
          return {
            kind: 'extended',
            id: req.id,
            code: ResultCode.operationsError,
            name: Oid.startTls,
            message: 'TLS is already established',
          };
        return { kind: 'extended', id: req.id, code: ResultCode.unavailable, message: 'TLS is not offered on this listener' };
      default:
        // RFC 4511 §4.12: an unrecognized request name gets protocolError.
        return { kind: 'extended', id: req.id, code: ResultCode.protocolError, message: `extended operation ${req.name} is not supported` };
    }
  }

  private async refuseUnbound(req: LdapRequest, send: Send): Promise<undefined> {
    this.deps.stats.unauthenticatedRefused++;
    await send(failure(req, ResultCode.insufficientAccessRights, 'bind first: anonymous access is not allowed')!);
    return undefined;
  }
}

function unsupportedCritical(controls: readonly Control[]): string | undefined {
  return controls.find((c) => c.critical && !SUPPORTED_CONTROLS.has(c.type))?.type;
}
