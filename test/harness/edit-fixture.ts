/**
 * A configuration document for pure unit tests of the edit services: the
 * embedded defaults (SPEC §2) with a stand-in demo certificate, no home, no
 * key generation. `applyEdit` runs an edit the way `editStaged` does (on a
 * copy, then full validation) without touching any files.
 */
import { defaultConfig } from '../../src/config/default-config.js';
import type { Config } from '../../src/config/schema.js';
import { ConfigError } from '../../src/core/errors.js';
import { validateConfig } from '../../src/services/validate-config.js';

export function testConfig(): Config {
  return defaultConfig({
    hostname: 'gw.test',
    demo: {
      name: 'Demo',
      source: 'demo',
      certificate: '-----BEGIN CERTIFICATE-----\nstand-in\n-----END CERTIFICATE-----\n',
      intermediates: [],
      key: `sha256:${'0'.repeat(64)}`,
    },
    adminPasswordHash: 'scrypt$16384$8$1$c2FsdA==$aGFzaA==',
  });
}

/** Applies `edit` to a copy and validates the result: the new config and its warnings, or a ConfigError. */
export function applyEdit(config: Config, edit: (draft: Config) => void): { config: Config; warnings: string[] } {
  const draft = structuredClone(config);
  edit(draft);
  const v = validateConfig(draft);
  if (!v.ok) throw new ConfigError(v.errors);
  return { config: v.config, warnings: v.warnings };
}
