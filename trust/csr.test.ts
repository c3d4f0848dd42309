import { createPublicKey } from 'node:crypto';
import forge from 'node-forge';
import { beforeAll, describe, expect, it } from 'vitest';
import { createCsr, MAX_CSR_PEM_BYTES, readCsr } from './csr.js';
import { generateKeyPair } from './keys.js';
import { pkiFixture, type PkiFixture } from './test-support/fixtures.js';
import { openssl } from './test-support/openssl.js';

let f: PkiFixture;
beforeAll(async () => {
  f = await pkiFixture(1);
});

const spki = (pem: string): Buffer => createPublicKey(pem).export({ type: 'spki', format: 'der' });
const invalid = expect.objectContaining({ code: 'MGR_ERR_PKI_CSR_INVALID' });

describe('CSRs', () => {
  it('made by createCsr verify with openssl and read back the key and requested CN', async () => {
    const csrPem = createCsr(f.keys[0]!.privateKeyPem, 'host-1.example');
    const { code, output } = await openssl(['req', '-in', '{r.pem}', '-noout', '-verify', '-subject'], { 'r.pem': csrPem });
    expect(code, output).toBe(0);
    expect(output).toMatch(/verify OK/i);
    const read = readCsr(csrPem);
    expect(read.requestedCommonName).toBe('host-1.example');
    expect(spki(read.publicKeyPem).equals(spki(f.keys[0]!.publicKeyPem))).toBe(true);
  });

  it('refuse a CSR whose signed content was altered', () => {
    expect(() => readCsr(createCsr(f.keys[0]!.privateKeyPem, 'host-1.example'))).not.toThrow();
    const csr = forge.pki.certificationRequestFromPem(createCsr(f.keys[0]!.privateKeyPem, 'host-1.example'));
    // Re-encode with another subject but the old signature: the proof of possession no longer holds.
    csr.subject.getField('CN').value = 'host-2.example';
    csr.certificationRequestInfo = null; // forge rebuilds it from the fields when encoding
    expect(() => readCsr(forge.pki.certificationRequestToPem(csr))).toThrow(invalid);
  });

  it('refuse SHA-1 signatures, short keys, garbage and oversized input', async () => {
    const sha1 = forge.pki.createCertificationRequest();
    const key = forge.pki.privateKeyFromPem(f.keys[0]!.privateKeyPem);
    sha1.publicKey = forge.pki.setRsaPublicKey(key.n, key.e);
    sha1.setSubject([{ shortName: 'CN', value: 'x' }]);
    sha1.sign(key, forge.md.sha1.create());
    expect(() => readCsr(forge.pki.certificationRequestToPem(sha1))).toThrow(invalid);

    const small = await generateKeyPair(1024);
    expect(() => readCsr(createCsr(small.privateKeyPem, 'x'))).toThrow(invalid);

    expect(() => readCsr('-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n')).toThrow(invalid);
    expect(() => readCsr(f.ca.certPem)).toThrow(invalid);
    expect(() => readCsr('x'.repeat(MAX_CSR_PEM_BYTES + 1))).toThrow(invalid);
  });
});
