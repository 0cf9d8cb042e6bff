/**
 * DKIM key records (RFC 6376 3.6.1, RFC 8301, RFC 8463): tags, key type and length, flags, hashes.
 * Pure; keys split over several TXT strings arrive here already joined.
 */
import { createPublicKey } from 'node:crypto';
import type { Finding } from './check-types.ts';
import { finding } from './finding-codes.ts';
import { parseTagList, type Tag } from './tag-list.ts';

export interface DkimKeyInfo {
  keyType: 'rsa' | 'ed25519' | null;
  /** RSA modulus length; 256 for ed25519; null when the key is unusable or revoked */
  bits: number | null;
  revoked: boolean;
  testing: boolean;
}

/** SubjectPublicKeyInfo header for a raw 32-byte Ed25519 key (RFC 8410) */
const ED25519_SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');
const HASHES = new Set(['sha1', 'sha256']);

/** Whether a TXT record at a selector looks like a DKIM key record (and not, say, a site verification). */
export function looksLikeDkimKey(text: string): boolean {
  return /^\s*v\s*=\s*DKIM1/i.test(text) || /(^|;)\s*p\s*=/i.test(text);
}

export function analyzeDkimKey(name: string, text: string): { info: DkimKeyInfo; findings: Finding[] } {
  const findings: Finding[] = [];
  const { tags, byName, problems } = parseTagList(text);
  const info: DkimKeyInfo = { keyType: null, bits: null, revoked: false, testing: false };
  const fixWithout = (drop: string) => `${name} TXT "${tags.filter((t) => t.name !== drop).map(show).join('; ')}"`;

  if (problems.length > 0) findings.push(finding('dkim-syntax', `The key record at ${name} is malformed: ${problems.join('; ')}.`));
  const v = byName.get('v');
  if (v !== undefined && (v !== 'DKIM1' || tags[0]?.name !== 'v')) {
    findings.push(finding('dkim-invalid-version', `v=${v} ${tags[0]?.name !== 'v' ? 'is not the first tag' : 'is not DKIM1'}; verifiers reject the key record.`, `${name} TXT "v=DKIM1; ${tags.filter((t) => t.name !== 'v').map(show).join('; ')}"`));
  }
  const k = (byName.get('k') ?? 'rsa').toLowerCase();
  if (k !== 'rsa' && k !== 'ed25519') findings.push(finding('dkim-unknown-key-type', `k=${byName.get('k')} is not a key type verifiers know (rsa or ed25519).`));
  else info.keyType = k;

  const services = (byName.get('s') ?? '*').split(':').map((s) => s.trim().toLowerCase());
  if (!services.includes('*') && !services.includes('email')) {
    findings.push(finding('dkim-service-not-email', `s=${byName.get('s')} does not include email, so the key cannot verify mail.`, fixWithout('s')));
  }
  const flags = (byName.get('t') ?? '').split(':').map((s) => s.trim().toLowerCase());
  if (flags.includes('y')) {
    info.testing = true;
    findings.push(finding('dkim-testing', `t=y: ${name} is marked as testing DKIM; some verifiers treat failures as if the mail were unsigned. Remove the flag once signing works.`, fixWithout('t')));
  }
  if (flags.includes('s')) findings.push(finding('dkim-strict-subdomain', 't=s: signatures whose i= is a subdomain of d= are not valid with this key.'));
  if (byName.has('h')) {
    const hashes = (byName.get('h') ?? '').split(':').map((s) => s.trim().toLowerCase()).filter(Boolean);
    const sha256Only = `${name} TXT "${tags.map((t) => (t.name === 'h' ? 'h=sha256' : show(t))).join('; ')}"`;
    if (hashes.includes('sha1')) findings.push(finding('dkim-sha1', `h=${byName.get('h')} allows rsa-sha1, which must not be used for signing or verifying (RFC 8301).`, sha256Only));
    const unknown = hashes.filter((h) => !HASHES.has(h));
    if (unknown.length > 0) findings.push(finding('dkim-unknown-hash', `h= names unknown hash algorithm${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')}.`, sha256Only));
    // RFC 6376 3.6.1: verifiers must not use a hash the key does not list; RFC 8301: they must not accept rsa-sha1.
    if (!hashes.includes('sha256')) {
      findings.push(finding('dkim-no-sha256', `h=${byName.get('h')} does not allow sha256, the only hash verifiers may accept (RFC 8301): every signature made with this key fails.`, sha256Only));
    }
  }

  const p = byName.get('p');
  if (p === undefined) {
    findings.push(finding('dkim-syntax', `The key record at ${name} has no p= tag (the public key).`));
    return { info, findings };
  }
  const b64 = p.replace(/\s+/g, '');
  if (b64 === '') {
    info.revoked = true;
    findings.push(finding('dkim-revoked', `${name} has an empty p=: the key is revoked, so every signature with this selector fails. Fine if the selector is retired; a problem if reports still show it.`));
    return { info, findings };
  }
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(b64) || b64.length % 4 !== 0) {
    findings.push(finding('dkim-bad-base64', `p= of ${name} is not valid base64 (${b64.length % 4 !== 0 ? 'its length is not a multiple of 4, often a key cut off when split into strings' : 'it contains characters outside the base64 alphabet'}).`));
    return { info, findings };
  }
  const withKey = (key: string) => `${name} TXT "${tags.map((t) => (t.name === 'p' ? `p=${key}` : show(t))).join('; ')}"`;
  if (info.keyType !== null) inspectKey(name, info, Buffer.from(b64, 'base64'), findings, withKey);
  return { info, findings };
}

function inspectKey(name: string, info: DkimKeyInfo, der: Buffer, findings: Finding[], withKey: (key: string) => string): void {
  if (info.keyType === 'ed25519') {
    if (der.length !== 32) {
      findings.push(finding('dkim-bad-key', `p= of ${name} is ${der.length} bytes; an Ed25519 key is exactly 32 (RFC 8463).`));
      return;
    }
    try {
      createPublicKey({ key: Buffer.concat([ED25519_SPKI_PREFIX, der]), format: 'der', type: 'spki' });
    } catch {
      findings.push(finding('dkim-bad-key', `p= of ${name} is not a usable Ed25519 key.`));
      return;
    }
    info.bits = 256;
    findings.push(finding('dkim-key-size', 'Ed25519 key (RFC 8463); verifiers without Ed25519 support need an RSA key under another selector too.'));
    return;
  }
  const bits = rsaBits(der, 'spki') ?? rsaBits(der, 'pkcs1');
  if (bits === null) {
    findings.push(finding('dkim-bad-key', `p= of ${name} decodes but is not an RSA public key.`));
    return;
  }
  if (rsaBits(der, 'spki') === null) {
    // the same key re-encoded as SubjectPublicKeyInfo, which every verifier reads
    const spki = createPublicKey({ key: der, format: 'der', type: 'pkcs1' }).export({ format: 'der', type: 'spki' }).toString('base64');
    findings.push(finding('dkim-key-pkcs1', `p= of ${name} is a bare PKCS#1 RSAPublicKey rather than SubjectPublicKeyInfo (RFC 6376 3.6.1); some verifiers reject it. The fix is the same key, re-encoded.`, withKey(spki)));
  }
  info.bits = bits;
  const rotate = 'Generate a 2048-bit key under a new selector, publish it, switch signing to it, then revoke this selector with an empty p=.';
  if (bits < 1024) findings.push(finding('dkim-key-too-short', `${bits}-bit RSA key: verifiers must reject keys shorter than 1024 bits (RFC 8301).`, rotate));
  else if (bits < 2048) findings.push(finding('dkim-key-weak', `${bits}-bit RSA key: 2048 bits is the recommended minimum.`, rotate));
  findings.push(finding('dkim-key-size', `${bits}-bit RSA key.`));
}

function rsaBits(der: Buffer, type: 'spki' | 'pkcs1'): number | null {
  try {
    const key = createPublicKey({ key: der, format: 'der', type });
    if (key.asymmetricKeyType !== 'rsa') return null;
    return key.asymmetricKeyDetails?.modulusLength ?? null;
  } catch {
    return null;
  }
}

function show(t: Tag): string {
  return `${t.name}=${t.value}`;
}
