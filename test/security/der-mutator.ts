/**
 * Seeded mutations of DER and PEM inputs for the certificate-import fuzz
 * (security catalogue §51, §53): byte flips, truncation, insertions, huge and
 * indefinite length fields, zeroed and duplicated regions, deep nesting,
 * iteration counts of 2^31, and for PEM either a mutation of the DER inside
 * the armour (re-encoded, so the parser sees valid base64 around broken ASN.1)
 * or of the text itself (BOM, CRLF, lost END line, junk, doubled blocks).
 * Pure: the same random source gives the same inputs.
 */

export type Random = () => number;

const int = (rnd: Random, n: number): number => Math.floor(rnd() * n);

/** One structural mutation of binary (DER) input. */
export function mutateDer(seed: Buffer, rnd: Random): Buffer {
  const b = Buffer.from(seed);
  const at = (): number => int(rnd, Math.max(1, b.length));
  switch (int(rnd, 11)) {
    case 0: // flip a few bytes
      for (let i = 0, n = 1 + int(rnd, 8); i < n; i++) b[at()] = int(rnd, 256);
      return b;
    case 1: // truncate anywhere
      return b.subarray(0, at());
    case 2: {
      // insert random bytes
      const p = at();
      return Buffer.concat([b.subarray(0, p), Buffer.from(Array.from({ length: 1 + int(rnd, 16) }, () => int(rnd, 256))), b.subarray(p)]);
    }
    case 3: {
      // a huge length field after a tag
      const p = at();
      return Buffer.concat([b.subarray(0, p + 1), Buffer.from([0x84, 0xff, 0xff, 0xff, 0xff]), b.subarray(p + 1)]);
    }
    case 4: {
      // zero a region
      const p = at();
      b.fill(0, p, Math.min(b.length, p + 1 + int(rnd, 64)));
      return b;
    }
    case 5: {
      // duplicate a chunk
      const p = at();
      const len = 1 + int(rnd, 200);
      return Buffer.concat([b.subarray(0, p + len), b.subarray(p, p + len), b.subarray(p + len)]);
    }
    case 6: {
      // indefinite length at a SEQUENCE
      const p = b.indexOf(0x30, at());
      if (p >= 0 && p + 1 < b.length) b[p + 1] = 0x80;
      return b;
    }
    case 7: {
      // deep nesting: thousands of indefinite-length SEQUENCEs around the input
      const depth = 1000 + int(rnd, 20_000);
      return Buffer.concat([Buffer.alloc(depth * 2, Buffer.from([0x30, 0x80])), b, Buffer.alloc(depth * 2, 0)]);
    }
    case 8: {
      // an INTEGER (iteration counts, versions) replaced by 2^31 - 1 or a negative number
      const small = [...b.entries()].filter(([i, v]) => v === 0x02 && b[i + 1] !== undefined && b[i + 1]! <= 3).map(([i]) => i);
      if (small.length === 0) return b;
      const p = small[int(rnd, small.length)]!;
      const len = b[p + 1]!;
      const value = rnd() < 0.5 ? [0x7f, 0xff, 0xff, 0xff] : [0x80, 0x00, 0x00, 0x01];
      return Buffer.concat([b.subarray(0, p), Buffer.from([0x02, 4, ...value]), b.subarray(p + 2 + len)]);
    }
    case 9: {
      // a length byte changed by a small amount (off-by-one desynchronisation)
      const p = at();
      b[p] = (b[p]! + (rnd() < 0.5 ? 1 : 255)) & 0xff;
      return b;
    }
    default: {
      // swap two regions
      const p = at();
      const q = at();
      const len = 1 + int(rnd, 32);
      const x = Buffer.from(b.subarray(p, p + len));
      b.copy(b, p, q, q + len);
      x.copy(b, q);
      return b;
    }
  }
}

const PEM_BLOCK = /(-----BEGIN ([A-Z0-9 ]+)-----)([\s\S]*?)(-----END \2-----)/g;

/** One mutation of PEM text: of the DER inside a block (re-armoured), or of the text. */
export function mutatePem(seed: string, rnd: Random): Buffer {
  const blocks = [...seed.matchAll(PEM_BLOCK)];
  if (blocks.length > 0 && rnd() < 0.55) {
    const target = blocks[int(rnd, blocks.length)]!;
    const der = Buffer.from(target[3]!.replace(/\s+/g, ''), 'base64');
    const body = mutateDer(der, rnd).toString('base64').replace(/.{1,64}/g, '$&\n');
    const replaced = `${target[1]}\n${body}${target[4]}`;
    return Buffer.from(seed.slice(0, target.index) + replaced + seed.slice(target.index! + target[0].length), 'latin1');
  }
  switch (int(rnd, 8)) {
    case 0:
      return Buffer.from(`\ufeff${seed}`, 'utf8');
    case 1:
      return Buffer.from(seed.replace(/\n/g, '\r\n'), 'latin1');
    case 2: // lose an END line
      return Buffer.from(seed.replace(/-----END [A-Z0-9 ]+-----/, ''), 'latin1');
    case 3: // junk inside the base64
    {
      const lines = seed.split('\n');
      const i = 1 + int(rnd, Math.max(1, lines.length - 2));
      lines.splice(i, 0, String.fromCharCode(...Array.from({ length: 1 + int(rnd, 40) }, () => 0x21 + int(rnd, 94))));
      return Buffer.from(lines.join('\n'), 'latin1');
    }
    case 4: // text around the blocks, and the block twice
      return Buffer.from(`Bag Attributes\n    friendlyName: x\n${seed}\nsubject=/CN=x\n${seed}`, 'latin1');
    case 5: // swapped labels
      return Buffer.from(seed.replace(/CERTIFICATE/g, 'PRIVATE KEY').replace(/(RSA |EC )?PRIVATE KEY/g, 'CERTIFICATE'), 'latin1');
    case 6: // the armour only
      return Buffer.from(seed.replace(/-----BEGIN ([A-Z0-9 ]+)-----[\s\S]*?-----END \1-----/g, '-----BEGIN $1-----\n-----END $1-----'), 'latin1');
    default: // raw byte damage on the text
      return mutateDer(Buffer.from(seed, 'latin1'), rnd);
  }
}
