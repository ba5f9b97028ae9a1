/** The gateway's release version: `version` of the package's package.json (read once). */
import fs from 'node:fs';

let cached: string | undefined;

export function packageVersion(): string {
  if (cached === undefined) {
    // This file runs as dist/src/app/package-version.js; package.json is at the package root.
    const file = new URL('../../../package.json', import.meta.url);
    try {
      const parsed = JSON.parse(fs.readFileSync(file, 'utf8')) as { version?: unknown };
      cached = typeof parsed.version === 'string' ? parsed.version : 'unknown';
    } catch {
      cached = 'unknown';
    }
  }
  return cached;
}
