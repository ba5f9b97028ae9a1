/** Printing for commands: plain text lines, or one JSON document with --json. */
export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

export function printLines(...lines: string[]): void {
  process.stdout.write(lines.map((l) => `${l}\n`).join(''));
}
