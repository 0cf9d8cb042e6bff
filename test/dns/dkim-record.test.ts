import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkDkim } from '../../server/dns/check-dkim.ts';
import { analyzeDkimKey, looksLikeDkimKey } from '../../server/dns/dkim-record.ts';
import { createResolver } from '../../server/dns/resolver.ts';
import { startFakeDns, type FakeDns } from '../helpers/fake-dns.ts';
import { KEYS, ZONE } from '../fixtures/dns/zone.ts';

const NAME = 's._domainkey.example.com';
const analyze = (text: string) => analyzeDkimKey(NAME, text);
const codes = (text: string) => analyze(text).findings.map((f) => f.code);

describe('analyzeDkimKey', () => {
  it('measures RSA key lengths from the DER key', () => {
    expect(analyze(`v=DKIM1; k=rsa; p=${KEYS.rsa2048}`).info).toMatchObject({ keyType: 'rsa', bits: 2048, revoked: false });
    expect(analyze(`p=${KEYS.rsa4096}`).info.bits).toBe(4096);
    expect(codes(`v=DKIM1; p=${KEYS.rsa2048}`)).toEqual(['dkim-key-size']);
    expect(codes(`v=DKIM1; p=${KEYS.rsa1024}`)).toEqual(['dkim-key-weak', 'dkim-key-size']);
    expect(codes(`v=DKIM1; p=${KEYS.rsa512}`)).toEqual(['dkim-key-too-short', 'dkim-key-size']);
  });

  it('accepts whitespace inside p= (folded keys) and bare PKCS#1 keys with a warning', () => {
    const folded = KEYS.rsa2048.replace(/(.{64})/g, '$1 \t');
    expect(analyze(`v=DKIM1; p=${folded}`).info.bits).toBe(2048);
    expect(codes(`v=DKIM1; p=${KEYS.rsa2048Pkcs1}`)).toEqual(['dkim-key-pkcs1', 'dkim-key-size']);
  });

  it('checks Ed25519 keys as 32 raw bytes', () => {
    expect(analyze(`v=DKIM1; k=ed25519; p=${KEYS.ed25519}`).info).toMatchObject({ keyType: 'ed25519', bits: 256 });
    expect(codes(`v=DKIM1; k=ed25519; p=${KEYS.rsa2048}`)).toEqual(['dkim-bad-key']);
  });

  it('reports revoked, malformed and truncated keys', () => {
    expect(analyze('v=DKIM1; p=').info.revoked).toBe(true);
    expect(codes('v=DKIM1; p= ')).toEqual(['dkim-revoked']);
    expect(codes('v=DKIM1; p=MIIB$$$')).toEqual(['dkim-bad-base64']);
    expect(analyze(`v=DKIM1; p=${KEYS.rsa2048.slice(0, 201)}`).findings[0]?.message).toMatch(/multiple of 4/);
    expect(codes(`v=DKIM1; p=${Buffer.from('not a key').toString('base64')}`)).toEqual(['dkim-bad-key']);
    expect(codes('v=DKIM1; k=rsa')).toEqual(['dkim-syntax']);
  });

  it('reports flags, hashes, service types, versions and key types', () => {
    const p = `p=${KEYS.rsa2048}`;
    expect(codes(`v=DKIM1; t=y; ${p}`)).toContain('dkim-testing');
    expect(codes(`v=DKIM1; t=y:s; ${p}`)).toEqual(expect.arrayContaining(['dkim-testing', 'dkim-strict-subdomain']));
    expect(codes(`v=DKIM1; h=sha1:sha256; ${p}`)).toContain('dkim-sha1');
    expect(codes(`v=DKIM1; h=sha256:md5; ${p}`)).toContain('dkim-unknown-hash');
    expect(codes(`v=DKIM1; h=sha1:sha256; ${p}`)).not.toContain('dkim-no-sha256');
    expect(codes(`v=DKIM1; h=sha256; s=email:web; ${p}`)).toEqual(['dkim-key-size']);
    expect(codes(`v=DKIM1; s=web; ${p}`)).toContain('dkim-service-not-email');
    expect(codes(`v=DKIM2; ${p}`)).toContain('dkim-invalid-version');
    expect(codes(`k=rsa; v=DKIM1; ${p}`)).toContain('dkim-invalid-version');
    expect(codes(`v=DKIM1; k=dsa; ${p}`)).toEqual(['dkim-unknown-key-type']);
  });

  it('fails a key whose h= leaves out sha256, since RFC 8301 verifiers then accept no signature', () => {
    const p = `p=${KEYS.rsa2048}`;
    expect(codes(`v=DKIM1; h=sha1; ${p}`)).toEqual(['dkim-sha1', 'dkim-no-sha256', 'dkim-key-size']);
    expect(codes(`v=DKIM1; h=sha512; ${p}`)).toEqual(['dkim-unknown-hash', 'dkim-no-sha256', 'dkim-key-size']);
    const f = analyze(`v=DKIM1; h=SHA1; k=rsa; ${p}`).findings.find((x) => x.code === 'dkim-no-sha256');
    expect(f?.severity).toBe('error');
    expect(f?.fix).toBe(`${NAME} TXT "v=DKIM1; h=sha256; k=rsa; ${p}"`);
  });

  it('proposes the same key re-encoded as SubjectPublicKeyInfo for a bare PKCS#1 key, and sha256 for unknown hashes', () => {
    const pkcs1 = analyze(`v=DKIM1; k=rsa; p=${KEYS.rsa2048Pkcs1}`).findings.find((x) => x.code === 'dkim-key-pkcs1');
    // the fixture's PKCS#1 key is the 2048-bit SPKI key in the other encoding
    expect(pkcs1?.fix).toBe(`${NAME} TXT "v=DKIM1; k=rsa; p=${KEYS.rsa2048}"`);
    const unknown = analyze(`v=DKIM1; h=sha256:sha512; p=${KEYS.rsa2048}`).findings.find((x) => x.code === 'dkim-unknown-hash');
    expect(unknown?.fix).toBe(`${NAME} TXT "v=DKIM1; h=sha256; p=${KEYS.rsa2048}"`);
  });

  it('proposes the record without t=y as the fix', () => {
    const f = analyze(`v=DKIM1; t=y; k=rsa; p=${KEYS.rsa2048}`).findings.find((x) => x.code === 'dkim-testing');
    expect(f?.fix).toBe(`${NAME} TXT "v=DKIM1; k=rsa; p=${KEYS.rsa2048}"`);
  });

  it('recognizes key records among other TXT records', () => {
    expect(looksLikeDkimKey('v=DKIM1; p=abc')).toBe(true);
    expect(looksLikeDkimKey('k=rsa; p=abc')).toBe(true);
    expect(looksLikeDkimKey('google-site-verification=abc')).toBe(false);
  });
});

describe('checkDkim against the loopback DNS server', () => {
  let dns: FakeDns;
  beforeAll(async () => {
    dns = await startFakeDns(ZONE);
  });
  afterAll(async () => {
    await dns.stop();
  });

  it('joins a 2048-bit key split over two TXT strings, and tells missing selectors apart', async () => {
    const lookup = createResolver({ servers: [dns.address], timeoutMs: 2000, tries: 2 });
    const records = await checkDkim('dkim.test', ['S2048', 's1024', 'missing', 'other', 'bad selector!'], lookup);
    const byName = new Map(records.map((r) => [r.name, r]));
    const split = byName.get('s2048._domainkey.dkim.test');
    expect(split?.value).toBe(`v=DKIM1; k=rsa; p=${KEYS.rsa2048}`);
    expect(split?.status).toBe('pass');
    expect(split?.findings[0]?.message).toBe('2048-bit RSA key.');
    expect(byName.get('s1024._domainkey.dkim.test')?.status).toBe('warn');
    expect(byName.get('missing._domainkey.dkim.test')?.findings[0]?.message).toContain('does not exist (NXDOMAIN)');
    expect(byName.get('other._domainkey.dkim.test')?.findings[0]?.message).toContain('none is a DKIM key');
    expect(byName.get('bad selector!._domainkey.dkim.test')?.findings[0]?.code).toBe('dkim-key-missing');
  });

  it('flags historic ADSP, SSP and DomainKeys records only when present', async () => {
    const lookup = createResolver({ servers: [dns.address], timeoutMs: 2000, tries: 2 });
    const seed = (await checkDkim('seed.test', [], lookup)).flatMap((r) => r.findings.map((f) => f.code));
    expect(seed).toEqual(['dkim-no-selectors', 'adsp-obsolete', 'ssp-obsolete', 'domainkeys-policy-obsolete']);
    const good = (await checkDkim('good.test', ['s2048'], lookup)).map((r) => r.name);
    expect(good).toEqual(['s2048._domainkey.good.test']);
  });
});
