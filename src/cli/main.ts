#!/usr/bin/env node
/**
 * Entry point of the `gatehouse` command. Errors are one line on stderr:
 * exit 1 when an operation failed, 2 for usage errors (SPEC §1).
 */
import 'reflect-metadata';
import { CommanderError } from 'commander';
import { UserError, errorMessage } from '../core/errors.js';
import { buildProgram } from './program.js';

async function main(argv: string[]): Promise<void> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      // Help asked for (--help) exits 0; help shown because a subcommand is missing is a usage error.
      process.exit(err.exitCode === 0 ? 0 : 2);
    }
    if (err instanceof UserError) {
      process.stderr.write(`gatehouse: ${err.message}\n`);
      process.exit(err.exitCode);
    }
    process.stderr.write(`gatehouse: ${errorMessage(err)}\n`);
    process.exit(1);
  }
}

await main(process.argv);
