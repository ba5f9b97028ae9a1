/**
 * What a verification run takes from the committed configuration, so it sees
 * what delivery sees: the EHLO name (`hostname`), the trust list
 * (`trustStore`, the same enabled lists as delivery: `tls/secure-context.ts`
 * `trustedCaList`), the outbound TLS settings (`ssl.outbound`), the outbound
 * client certificate (`destinationControls.certificate`, its key from the key
 * store — a server that asks for one gets it, as in delivery) and the
 * resolver (`dns`), unless one is injected.
 */
import crypto from 'node:crypto';
import type tls from 'node:tls';
import type { Config } from '../config/schema.js';
import { UserError } from '../core/errors.js';
import type { HomeLayout } from '../core/home-layout.js';
import { createResolver, type DnsResolver } from '../dns/resolver.js';
import type { ClientTimeouts } from '../smtp/outbound/smtp-client.js';
import type { SourceAddresses } from '../smtp/outbound/source-address.js';
import { KeyStore } from '../tls/key-store.js';
import { trustedCaList } from '../tls/secure-context.js';

/** Short enough for an interactive tool, long enough for a slow MX. */
export const VERIFY_TIMEOUTS: ClientTimeouts = { connectMs: 10_000, greetingMs: 30_000, commandMs: 30_000, dataInitMs: 30_000, dataDoneMs: 30_000, tlsMs: 15_000 };

export interface VerifyContext {
  ehloName: string;
  tlsOptions: tls.ConnectionOptions;
  anchors: crypto.X509Certificate[];
  resolver: DnsResolver;
  timeouts: ClientTimeouts;
  /** The delivery source addresses (SPEC §14): the tools connect from where delivery would. */
  sourceAddresses: SourceAddresses;
}

/** The outbound client certificate chain and key, or null when none is configured. */
async function clientCertificate(config: Config, layout: HomeLayout): Promise<{ cert: string; key: string } | null> {
  const name = config.destinationControls.certificate;
  const profile = name === null ? undefined : config.certificates.find((p) => p.name === name);
  if (!profile) return null;
  let key: string;
  try {
    key = await new KeyStore(layout.keysDir).get(profile.key);
  } catch (err) {
    throw new UserError(`outbound client certificate "${profile.name}": ${(err as Error).message}`);
  }
  const cert = [profile.certificate, ...profile.intermediates].map((p) => (p.endsWith('\n') ? p : `${p}\n`)).join('');
  return { cert, key };
}

export async function verifyContext(config: Config, layout: HomeLayout, options: { resolver?: DnsResolver; timeouts?: Partial<ClientTimeouts> }): Promise<VerifyContext> {
  const ca = trustedCaList(config.trustStore);
  const anchors = ca.flatMap((pem) => {
    try {
      return [new crypto.X509Certificate(pem)];
    } catch {
      return [];
    }
  });
  const client = await clientCertificate(config, layout);
  return {
    ehloName: config.hostname,
    tlsOptions: { ca, minVersion: config.ssl.outbound.minVersion, ciphers: config.ssl.outbound.ciphers, ...(client ?? {}) },
    anchors,
    resolver: options.resolver ?? createResolver(config.dns),
    timeouts: { ...VERIFY_TIMEOUTS, ...options.timeouts },
    sourceAddresses: { sourceAddressV4: config.destinationControls.sourceAddressV4, sourceAddressV6: config.destinationControls.sourceAddressV6 },
  };
}
