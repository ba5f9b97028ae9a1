/**
 * The embedded defaults of SPEC §2: what `init` commits as version 1.
 */
import os from 'node:os';
import { configSchema, type CertificateProfile, type Config } from './schema.js';
import { defaultHat } from './default-hat.js';

export const DEMO_PROFILE_NAME = 'Demo';

/** The machine's name if it is a usable host name, else `localhost.localdomain`. */
export function defaultHostname(): string {
  const h = os.hostname().toLowerCase();
  return /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/.test(h) ? h : 'localhost.localdomain';
}

export function defaultConfig(options: { hostname: string; demo: CertificateProfile; adminPasswordHash: string }): Config {
  return configSchema.parse({
    hostname: options.hostname,
    listeners: [
      { name: 'IncomingMail', type: 'public', address: '127.0.0.1', port: 2525, certificates: [DEMO_PROFILE_NAME], rat: [], ...defaultHat('public') },
      { name: 'OutgoingMail', type: 'private', address: '127.0.0.1', port: 2587, certificates: [DEMO_PROFILE_NAME], ...defaultHat('private') },
    ],
    certificates: [options.demo],
    gui: { address: '127.0.0.1', port: 8443, certificate: DEMO_PROFILE_NAME },
    users: [{ name: 'admin', passwordHash: options.adminPasswordHash, role: 'admin' }],
  });
}
