/**
 * The GUI's static files, read once at start: gui.css, gui.js and the page
 * scripts from src/gui/static/ (found from the compiled file in dist/src/gui/
 * or the source file), and uPlot's dist files from node_modules.
 */
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export interface StaticFile {
  body: Buffer;
  contentType: string;
}

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);

function staticDir(): string {
  for (const candidate of [path.join(here, 'static'), path.resolve(here, '../../../src/gui/static')]) {
    if (fs.existsSync(path.join(candidate, 'gui.css'))) return candidate;
  }
  throw new Error(`the GUI's static files (gui.css) are missing next to ${here}`);
}

const TYPES: Record<string, string> = { '.css': 'text/css; charset=utf-8', '.js': 'text/javascript; charset=utf-8' };

export function loadStaticFiles(): Map<string, StaticFile> {
  const files = new Map<string, StaticFile>();
  const dir = staticDir();
  for (const name of fs.readdirSync(dir)) {
    const type = TYPES[path.extname(name)];
    if (type !== undefined) files.set(name, { body: fs.readFileSync(path.join(dir, name)), contentType: type });
  }
  files.set('uplot.js', { body: fs.readFileSync(require.resolve('uplot/dist/uPlot.iife.min.js')), contentType: TYPES['.js']! });
  files.set('uplot.css', { body: fs.readFileSync(require.resolve('uplot/dist/uPlot.min.css')), contentType: TYPES['.css']! });
  return files;
}
