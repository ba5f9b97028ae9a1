/**
 * TLS secure contexts for a listener (or the GUI) from its certificate
 * profiles: the first profile is the default, the others are chosen by SNI
 * (RFC 6125 matching via `X509Certificate.checkHost`).
 */
import crypto from 'node:crypto';
import tls from 'node:tls';
import type { Config } from '../config/schema.js';

/** A certificate profile with its key loaded from the key store. */
export interface ResolvedProfile {
  name: string;
  certificatePem: string;
  intermediatesPem: string[];
  privateKeyPem: string;
}

export interface SecureContextOptions {
  minVersion: 'TLSv1.2' | 'TLSv1.3';
  /** OpenSSL cipher list (TLS 1.2; TLS 1.3 suites stay OpenSSL's defaults). */
  ciphers: string;
  /** Trusted CAs for client-certificate verification (the server must also set requestCert). */
  ca?: string[];
}

export interface SecureContexts {
  /** The first profile's context: `secureContext` for `new tls.TLSSocket(sock, { isServer: true, ... })` (STARTTLS). */
  default: tls.SecureContext;
  /** Chooses a context by SNI. Node copies only cert, key, chain and the CA store from it. */
  sniCallback: (servername: string, cb: (err: Error | null, ctx?: tls.SecureContext) => void) => void;
  /**
   * Options for `tls.createServer` / `https.createServer`, which ignore a
   * `secureContext` option (Node 20): default profile's cert/key, ca,
   * minVersion, ciphers, honorCipherOrder and the SNI callback. Add
   * requestCert / rejectUnauthorized as needed.
   */
  serverOptions: tls.TlsOptions;
}

const CHECK_HOST: crypto.X509CheckOptions = { subject: 'default', wildcards: true, partialWildcards: false, multiLabelWildcards: false };

function ensureNewline(pem: string): string {
  return pem.endsWith('\n') ? pem : `${pem}\n`;
}

/**
 * Builds one context per profile (cert = leaf + intermediates in order, key,
 * minVersion, ciphers, honorCipherOrder, renegotiation refused, ca when given) and an SNI callback
 * that prefers an exact SAN/CN match, then a wildcard match, in profile order,
 * and falls back to the first profile. Throws (naming the profile) when a
 * certificate or key cannot be loaded or the key does not match.
 */
export function createSecureContexts(profiles: ResolvedProfile[], options: SecureContextOptions): SecureContexts {
  if (profiles.length === 0) throw new Error('no certificate profile to serve TLS with');
  const entries = profiles.map((p) => {
    let cert: crypto.X509Certificate;
    try {
      cert = new crypto.X509Certificate(p.certificatePem);
    } catch {
      throw new Error(`certificate profile "${p.name}": certificate could not be read`);
    }
    let key: crypto.KeyObject;
    try {
      key = crypto.createPrivateKey(p.privateKeyPem);
    } catch {
      throw new Error(`certificate profile "${p.name}": private key could not be read`);
    }
    if (!cert.checkPrivateKey(key)) throw new Error(`certificate profile "${p.name}": key does not sign certificate`);
    const ctxOptions: tls.SecureContextOptions = {
      cert: [p.certificatePem, ...p.intermediatesPem].map(ensureNewline).join(''),
      key: p.privateKeyPem,
      minVersion: options.minVersion,
      ciphers: options.ciphers,
      honorCipherOrder: true,
      // Refuse TLS 1.2 renegotiation in OpenSSL itself (no_renegotiation alert): a client-initiated
      // renegotiation costs the server a handshake (DoS), and TLSSocket.disableRenegotiation() does not
      // take effect on a socket wrapped by hand for STARTTLS (its error is only emitted once a tls.Server
      // has released control of the socket). testssl.sh flagged this as secure_client_renego VULNERABLE.
      secureOptions: crypto.constants.SSL_OP_NO_RENEGOTIATION,
    };
    if (options.ca !== undefined) ctxOptions.ca = options.ca;
    let context: tls.SecureContext;
    try {
      context = tls.createSecureContext(ctxOptions);
    } catch (err) {
      const code = (err as { code?: unknown }).code;
      const reason = (err as { reason?: unknown }).reason;
      throw new Error(`certificate profile "${p.name}": TLS context failed (${String(reason ?? code ?? 'error')})`);
    }
    return { cert, context, ctxOptions };
  });
  const first = entries[0]!;

  const pick = (servername: string): tls.SecureContext => {
    const host = servername.trim().replace(/\.$/, '');
    if (host === '' || entries.length === 1) return first.context;
    let wildcard: tls.SecureContext | undefined;
    for (const e of entries) {
      const matched = e.cert.checkHost(host, CHECK_HOST);
      if (matched === undefined) continue;
      if (!matched.startsWith('*')) return e.context;
      wildcard ??= e.context;
    }
    return wildcard ?? first.context;
  };

  const sniCallback: SecureContexts['sniCallback'] = (servername, cb) => {
    let ctx: tls.SecureContext;
    try {
      ctx = pick(servername);
    } catch {
      ctx = first.context;
    }
    cb(null, ctx);
  };
  return { default: first.context, sniCallback, serverOptions: { ...first.ctxOptions, SNICallback: sniCallback } };
}

/** The CA list for outbound verification: Node's bundled roots (if enabled) then custom CAs (if enabled). */
export function trustedCaList(trust: Config['trustStore']): string[] {
  return [...(trust.systemEnabled ? tls.rootCertificates : []), ...(trust.customEnabled ? trust.custom.map((c) => c.certificate) : [])];
}
