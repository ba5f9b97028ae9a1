/**
 * Running the third-party tools of the interop suite (Postfix, swaks, testssl.sh,
 * openssl, python3): find them or fail with what to install, and run them with a
 * timeout, capturing their output. Nothing here ever skips a test: a missing tool
 * is a failure that says which Debian package to install.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

/** The Debian package that provides each tool (what `.ci/run` installs). */
export const DEBIAN_PACKAGE = {
  postfix: 'postfix',
  postconf: 'postfix',
  swaks: 'swaks',
  testssl: 'testssl.sh',
  openssl: 'openssl',
  python3: 'python3',
} as const;

export type ToolName = keyof typeof DEBIAN_PACKAGE;

/** Error thrown when a tool the suite needs is not installed. */
export class MissingToolError extends Error {
  constructor(tool: ToolName) {
    super(
      `${tool} is not installed: the interop suite needs it (apt-get install -y ${DEBIAN_PACKAGE[tool]}; ` +
        `.ci/run installs postfix swaks testssl.sh before npm run test:interop)`,
    );
    this.name = 'MissingToolError';
  }
}

/** Absolute path of `tool`, looked up in PATH plus the sbin folders (Postfix lives in /usr/sbin). */
export function findTool(tool: ToolName): string {
  const dirs = [...(process.env.PATH ?? '').split(path.delimiter), '/usr/local/sbin', '/usr/sbin', '/sbin'];
  for (const dir of dirs) {
    if (!dir) continue;
    const candidate = path.join(dir, tool);
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
      return candidate;
    } catch {
      /* not in this folder */
    }
  }
  throw new MissingToolError(tool);
}

/** Fails (never skips) unless the suite runs as root: it starts its own Postfix instances. */
export function requireRoot(what: string): void {
  if (process.getuid?.() !== 0) {
    throw new Error(`${what} must run as root (it starts private Postfix instances); run npm run test:interop as root, as .ci/run does`);
  }
}

export interface ToolResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** stdout and stderr as they came, interleaved. */
  output: string;
}

export interface RunOptions {
  input?: string;
  /** Killed (SIGKILL) after this many ms; default 60 s. */
  timeoutMs?: number;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

/** Runs `tool args...` to completion; never rejects because of the exit code (callers assert on it). */
export function runTool(tool: ToolName, args: string[], options: RunOptions = {}): Promise<ToolResult> {
  const file = findTool(tool);
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, ...options.env }, cwd: options.cwd });
    let stdout = '';
    let stderr = '';
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => ((stdout += d), (output += d)));
    child.stderr.setEncoding('utf8').on('data', (d: string) => ((stderr += d), (output += d)));
    child.stdin.on('error', () => {
      /* the tool may exit before reading its input */
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 60_000);
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, output });
    });
    child.stdin.end(options.input ?? '');
  });
}

/** Like runTool, but throws with the whole output unless the exit code is 0. */
export async function runToolOk(tool: ToolName, args: string[], options: RunOptions = {}): Promise<ToolResult> {
  const r = await runTool(tool, args, options);
  if (r.code !== 0) throw new Error(`${tool} ${args.join(' ')} exited with ${r.code ?? r.signal}:\n${r.output}`);
  return r;
}

/** Polls `read()` until `pattern` matches; returns the match or throws with what was read. */
export async function waitForText(describe: string, read: () => string, pattern: RegExp, timeoutMs = 30_000): Promise<RegExpMatchArray> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const text = read();
    const m = text.match(pattern);
    if (m) return m;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${pattern} in ${describe}:\n${text}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The file's text, or '' while it does not exist yet. */
export function readIfExists(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}
