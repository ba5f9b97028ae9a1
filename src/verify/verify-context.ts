/**
 * What a verification run takes from the committed configuration: the EHLO
 * name (`hostname`), the trust list (`trustStore`, the same enabled lists as
 * delivery: `tls/secure-context.ts` `trustedCaList`), the outbound TLS
 * settings (`ssl.outbound`), and the resolver (`dns`), unless one is injected.
 */
import crypto from 'node:crypto';
import type tls from 'node:tls';
import type { Config } from '../config/schema.js';
import { createResolver, type DnsResolver } from '../dns/resolver.js';
import type { ClientTimeouts } from '../smtp/outbound/smtp-client.js';
import { trustedCaList } from '../tls/secure-context.js';

/** Short enough for an interactive tool, long enough for a slow MX. */
export const VERIFY_TIMEOUTS: ClientTimeouts = { connectMs: 10_000, greetingMs: 30_000, commandMs: 30_000, dataInitMs: 30_000, dataDoneMs: 30_000, tlsMs: 15_000 };

export interface VerifyContext {
  ehloName: string;
  tlsOptions: tls.ConnectionOptions;
  anchors: crypto.X509Certificate[];
  resolver: DnsResolver;
  timeouts: ClientTimeouts;
}

export function verifyContext(config: Config, options: { resolver?: DnsResolver; timeouts?: Partial<ClientTimeouts> }): VerifyContext {
  const ca = trustedCaList(config.trustStore);
  const anchors = ca.flatMap((pem) => {
    try {
      return [new crypto.X509Certificate(pem)];
    } catch {
      return [];
    }
  });
  return {
    ehloName: config.hostname,
    tlsOptions: { ca, minVersion: config.ssl.outbound.minVersion, ciphers: config.ssl.outbound.ciphers },
    anchors,
    resolver: options.resolver ?? createResolver(config.dns),
    timeouts: { ...VERIFY_TIMEOUTS, ...options.timeouts },
  };
}
