/**
 * ICID, MID and DCID counters that never repeat across restarts, even after a
 * crash: numbers are handed out from blocks whose end is persisted (atomically,
 * fsynced) before the first number of the block is used. A restart skips to the
 * end of the last reserved block, so some numbers go unused, none is reused.
 */
import fs from 'node:fs';
import { writeFileAtomicSync } from '../core/atomic-file.js';

export type IdKind = 'icid' | 'mid' | 'dcid';
const BLOCK = 1000;

interface Persisted {
  icid: number;
  mid: number;
  dcid: number;
}

export class IdSequence {
  private readonly next: Persisted;
  private readonly reservedUpTo: Persisted;

  private constructor(private readonly file: string, start: Persisted) {
    this.next = { ...start };
    this.reservedUpTo = { ...start };
  }

  static open(file: string): IdSequence {
    let start: Persisted = { icid: 1, mid: 1, dcid: 1 };
    if (fs.existsSync(file)) {
      const saved = JSON.parse(fs.readFileSync(file, 'utf8')) as Partial<Persisted>;
      start = { icid: saved.icid ?? 1, mid: saved.mid ?? 1, dcid: saved.dcid ?? 1 };
    }
    return new IdSequence(file, start);
  }

  take(kind: IdKind): number {
    if (this.next[kind] >= this.reservedUpTo[kind]) {
      this.reservedUpTo[kind] = this.next[kind] + BLOCK;
      writeFileAtomicSync(this.file, JSON.stringify(this.reservedUpTo), 0o600);
    }
    return this.next[kind]++;
  }
}
