/**
 * Passphrases for the CLI: from a file (`--passphrase-file F`, one trailing
 * newline stripped) or typed on the terminal without echo. Never from an
 * argument, never echoed, never logged.
 */
import fs from 'node:fs';
import { UserError } from '../core/errors.js';

/** Reads a passphrase file: UTF-8, one trailing newline stripped; an empty passphrase is refused. */
export function readPassphraseFile(file: string): string {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new UserError(`cannot read the passphrase file ${file}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`);
  }
  const passphrase = text.replace(/\r?\n$/, '');
  if (passphrase === '') throw new UserError(`the passphrase file ${file} is empty; put the passphrase in it`);
  return passphrase;
}

/** Asks on the terminal without echo (stderr for the prompt). Fails when stdin is not a terminal. */
export async function promptSecret(question: string, noTerminal: string): Promise<string> {
  const stdin = process.stdin;
  if (!stdin.isTTY) throw new UserError(noTerminal);
  // Echo off before the prompt appears, so nothing typed early is echoed.
  stdin.setRawMode(true);
  stdin.setEncoding('utf8');
  stdin.resume();
  process.stderr.write(question);
  return new Promise<string>((resolve, reject) => {
    let chars: string[] = [];
    const done = (): void => {
      stdin.off('data', onData);
      stdin.setRawMode(false);
      stdin.pause();
      process.stderr.write('\n');
    };
    const onData = (chunk: string): void => {
      for (const ch of chunk) {
        if (ch === '\r' || ch === '\n') {
          done();
          resolve(chars.join(''));
          return;
        }
        if (ch === '\u0003' || (ch === '\u0004' && chars.length === 0)) {
          done();
          reject(new UserError('cancelled'));
          return;
        }
        if (ch === '\u007f' || ch === '\b') chars = chars.slice(0, -1);
        else if (ch >= ' ') chars.push(ch);
      }
    };
    stdin.on('data', onData);
  });
}

/**
 * The passphrase for an operation: from `file` when given, else asked on the
 * terminal (twice when `confirm`), else a clear error naming the option.
 */
export async function obtainPassphrase(file: string | undefined, purpose: string, options: { confirm?: boolean } = {}): Promise<string> {
  if (file !== undefined) return readPassphraseFile(file);
  const noTerminal = `${purpose} needs a passphrase: give --passphrase-file F (there is no terminal to ask on)`;
  const first = await promptSecret('Passphrase: ', noTerminal);
  if (first === '') throw new UserError('an empty passphrase is not allowed');
  if (options.confirm === true) {
    const again = await promptSecret('Passphrase again: ', noTerminal);
    if (again !== first) throw new UserError('the two passphrases differ; nothing was written');
  }
  return first;
}
