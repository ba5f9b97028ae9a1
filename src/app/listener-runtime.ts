/**
 * Compiles one listener of a committed configuration into the runtime a
 * ListenerServer uses: its TLS contexts (certificates chosen by SNI, the trusted
 * CA list for client certificates), banner name and SMTP limits.
 */
import type { Config, Listener } from '../config/schema.js';
import type { ListenerRuntime } from '../smtp/inbound/session-context.js';
import { createSecureContexts, trustedCaList, type ResolvedProfile } from '../tls/secure-context.js';

export function compileListenerRuntime(config: Config, listener: Listener, profiles: ReadonlyMap<string, ResolvedProfile>): ListenerRuntime {
  const chosen = listener.certificates.map((name) => {
    const p = profiles.get(name);
    if (!p) throw new Error(`listener ${listener.name}: certificate profile ${name} is not available`);
    return p;
  });
  const contexts = createSecureContexts(chosen, {
    minVersion: config.ssl.inbound.minVersion,
    ciphers: config.ssl.inbound.ciphers,
    ca: trustedCaList(config.trustStore),
  });
  return {
    listener,
    hostname: listener.hostname ?? config.hostname,
    smtp: config.smtp,
    tls: { defaultContext: contexts.default, sniCallback: contexts.sniCallback },
  };
}
