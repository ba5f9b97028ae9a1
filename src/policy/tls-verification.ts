/**
 * Verification of a next hop's certificate (SPEC §5.2, appliance facts §5):
 * the chain must end at a trusted CA (OpenSSL's result on a client socket
 * connected with `rejectUnauthorized: false` and `ca: trustedCaList(...)`),
 * and one reference identifier must match per RFC 6125 (SAN DNS names when
 * present, else the CN; a wildcard covers one whole left-most label, no
 * partial wildcards). An IP route matches an IP SAN.
 *
 * The hosted variant (`required-verify-hosted`) accepts only the recipient
 * domain and the route host name, never the MX name from unsigned DNS.
 */
import crypto from 'node:crypto';
import net from 'node:net';
import type tls from 'node:tls';
import type { ReferenceIdentifier } from '../smtp/outbound/next-hops.js';

export type VerificationResult =
  | { verified: true; identifier: ReferenceIdentifier; presented: string[] }
  | { verified: false; reason: string; tried: string[]; presented: string[] };

const CHECK: crypto.X509CheckOptions = { subject: 'default', wildcards: true, partialWildcards: false, multiLabelWildcards: false };

/** The identifiers a level may match: all of them, or (hosted) the recipient domain and route host only. */
export function identifiersFor(level: 'verify' | 'hosted', all: readonly ReferenceIdentifier[]): ReferenceIdentifier[] {
  return level === 'hosted' ? all.filter((i) => i.source === 'recipient-domain' || i.source === 'route-host' || i.source === 'route-ip') : [...all];
}

/** The names a certificate presents (`DNS:a`, `IP Address:1.2.3.4`, else `CN=...`), for logs. */
export function presentedNames(cert: crypto.X509Certificate): string[] {
  const san = cert.subjectAltName;
  if (san) return san.split(', ').filter((s) => s.startsWith('DNS:') || s.startsWith('IP Address:'));
  const cn = /(?:^|\n)CN=([^\n]*)/.exec(cert.subject)?.[1];
  return cn ? [`CN=${cn}`] : [];
}

/** Chain-error codes of OpenSSL, in words (the code is kept in parentheses). */
function chainReason(code: string): string {
  const words: Record<string, string> = {
    CERT_HAS_EXPIRED: 'certificate has expired',
    CERT_NOT_YET_VALID: 'certificate is not yet valid',
    DEPTH_ZERO_SELF_SIGNED_CERT: 'self-signed certificate',
    SELF_SIGNED_CERT_IN_CHAIN: 'self-signed certificate in chain (untrusted root)',
    UNABLE_TO_GET_ISSUER_CERT_LOCALLY: 'unable to get local issuer certificate (untrusted root)',
    UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'unable to verify the first certificate (missing intermediate or untrusted root)',
    UNABLE_TO_GET_ISSUER_CERT: 'unable to get issuer certificate',
    CERT_SIGNATURE_FAILURE: 'certificate signature failure',
    CERT_REVOKED: 'certificate revoked',
    INVALID_CA: 'invalid CA certificate',
    PATH_LENGTH_EXCEEDED: 'path length constraint exceeded',
    INVALID_PURPOSE: 'unsupported certificate purpose',
    CERT_UNTRUSTED: 'certificate not trusted',
    CERT_REJECTED: 'certificate rejected',
  };
  return `${words[code] ?? 'certificate chain not trusted'} (${code})`;
}

/** Whether one identifier matches the certificate (DNS name via checkHost, IP via checkIP). */
export function matchesIdentifier(cert: crypto.X509Certificate, name: string): boolean {
  if (net.isIP(name) !== 0) return cert.checkIP(name) !== undefined;
  return cert.checkHost(name, CHECK) !== undefined;
}

/**
 * Verifies the peer of a connected client TLSSocket against `identifiers`
 * (tried in order; the first match wins).
 */
export function verifyPeer(socket: tls.TLSSocket, identifiers: readonly ReferenceIdentifier[]): VerificationResult {
  const tried = identifiers.map((i) => i.name);
  const cert = socket.getPeerX509Certificate();
  if (!cert) return { verified: false, reason: 'no certificate presented', tried, presented: [] };
  const presented = presentedNames(cert);
  if (!socket.authorized) {
    const err = socket.authorizationError as unknown;
    const code = typeof err === 'string' ? err : String((err as { code?: unknown } | null)?.code ?? (err as Error | null)?.message ?? 'UNKNOWN');
    return { verified: false, reason: chainReason(code), tried, presented };
  }
  for (const id of identifiers) {
    if (matchesIdentifier(cert, id.name)) return { verified: true, identifier: id, presented };
  }
  return {
    verified: false,
    reason: `certificate name mismatch: tried ${tried.join(', ') || '(none)'}; presented ${presented.join(', ') || '(no names)'}`,
    tried,
    presented,
  };
}

/** The identifier as logged: `mx.example.com (weak: MX host name from unsigned DNS)` for a weak one. */
export function describeIdentifier(id: ReferenceIdentifier): string {
  return id.weak ? `${id.name} (weak: MX host name from unsigned DNS)` : id.name;
}
