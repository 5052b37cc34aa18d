// Single DES, ECB mode, PKCS5 padding, in plain TypeScript.
//
// Why this exists: Linkis tickets are DES-ECB-PKCS5 (Java's default "DES" cipher), and Node 20's
// OpenSSL 3 refuses DES unless the whole process runs with --openssl-legacy-provider. DES is
// weak; we implement it only to interoperate with Linkis, never to protect anything new.
//
// Conventions: bit 1 in the FIPS 46-3 tables is the most significant bit of the first byte.
// A 64-bit block is held as two unsigned 32-bit halves (hi = bytes 0..3, lo = bytes 4..7).

const IP = [
  58, 50, 42, 34, 26, 18, 10, 2, 60, 52, 44, 36, 28, 20, 12, 4, 62, 54, 46, 38, 30, 22, 14, 6,
  64, 56, 48, 40, 32, 24, 16, 8, 57, 49, 41, 33, 25, 17, 9, 1, 59, 51, 43, 35, 27, 19, 11, 3,
  61, 53, 45, 37, 29, 21, 13, 5, 63, 55, 47, 39, 31, 23, 15, 7,
];
const P = [
  16, 7, 20, 21, 29, 12, 28, 17, 1, 15, 23, 26, 5, 18, 31, 10, 2, 8, 24, 14, 32, 27, 3, 9, 19, 13,
  30, 6, 22, 11, 4, 25,
];
const PC1 = [
  57, 49, 41, 33, 25, 17, 9, 1, 58, 50, 42, 34, 26, 18, 10, 2, 59, 51, 43, 35, 27, 19, 11, 3, 60,
  52, 44, 36, 63, 55, 47, 39, 31, 23, 15, 7, 62, 54, 46, 38, 30, 22, 14, 6, 61, 53, 45, 37, 29, 21,
  13, 5, 28, 20, 12, 4,
];
const PC2 = [
  14, 17, 11, 24, 1, 5, 3, 28, 15, 6, 21, 10, 23, 19, 12, 4, 26, 8, 16, 7, 27, 20, 13, 2, 41, 52,
  31, 37, 47, 55, 30, 40, 51, 45, 33, 48, 44, 49, 39, 56, 34, 53, 46, 42, 50, 36, 29, 32,
];
const SHIFTS = [1, 1, 2, 2, 2, 2, 2, 2, 1, 2, 2, 2, 2, 2, 2, 1];
// S-boxes S1..S8, each 4 rows of 16, row-major as printed in FIPS 46-3.
const S = [
  '14 4 13 1 2 15 11 8 3 10 6 12 5 9 0 7 0 15 7 4 14 2 13 1 10 6 12 11 9 5 3 8 4 1 14 8 13 6 2 11 15 12 9 7 3 10 5 0 15 12 8 2 4 9 1 7 5 11 3 14 10 0 6 13',
  '15 1 8 14 6 11 3 4 9 7 2 13 12 0 5 10 3 13 4 7 15 2 8 14 12 0 1 10 6 9 11 5 0 14 7 11 10 4 13 1 5 8 12 6 9 3 2 15 13 8 10 1 3 15 4 2 11 6 7 12 0 5 14 9',
  '10 0 9 14 6 3 15 5 1 13 12 7 11 4 2 8 13 7 0 9 3 4 6 10 2 8 5 14 12 11 15 1 13 6 4 9 8 15 3 0 11 1 2 12 5 10 14 7 1 10 13 0 6 9 8 7 4 15 14 3 11 5 2 12',
  '7 13 14 3 0 6 9 10 1 2 8 5 11 12 4 15 13 8 11 5 6 15 0 3 4 7 2 12 1 10 14 9 10 6 9 0 12 11 7 13 15 1 3 14 5 2 8 4 3 15 0 6 10 1 13 8 9 4 5 11 12 7 2 14',
  '2 12 4 1 7 10 11 6 8 5 3 15 13 0 14 9 14 11 2 12 4 7 13 1 5 0 15 10 3 9 8 6 4 2 1 11 10 13 7 8 15 9 12 5 6 3 0 14 11 8 12 7 1 14 2 13 6 15 0 9 10 4 5 3',
  '12 1 10 15 9 2 6 8 0 13 3 4 14 7 5 11 10 15 4 2 7 12 9 5 6 1 13 14 0 11 3 8 9 14 15 5 2 8 12 3 7 0 4 10 1 13 11 6 4 3 2 12 9 5 15 10 11 14 1 7 6 0 8 13',
  '4 11 2 14 15 0 8 13 3 12 9 7 5 10 6 1 13 0 11 7 4 9 1 10 14 3 5 12 2 15 8 6 1 4 11 13 12 3 7 14 10 15 6 8 0 5 9 2 6 11 13 8 1 4 10 7 9 5 0 15 14 2 3 12',
  '13 2 8 4 6 15 11 1 10 9 3 14 5 0 12 7 1 15 13 8 10 3 7 4 12 5 6 11 0 14 9 2 7 11 4 1 9 12 14 2 0 6 10 13 15 3 5 8 2 1 14 7 4 10 8 13 15 12 9 0 3 5 6 11',
].map((row) => row.split(' ').map(Number));

// SP[i*64 + x]: S-box i applied to the 6-bit chunk x, placed in its nibble and then run through
// P. The round function becomes 8 table lookups OR-ed together instead of per-bit work.
const SP = new Uint32Array(8 * 64);
for (let i = 0; i < 8; i++) {
  for (let x = 0; x < 64; x++) {
    const row = ((x >> 4) & 2) | (x & 1); // outer bits pick the row
    const col = (x >> 1) & 15; // inner four bits pick the column
    const s = S[i]![row * 16 + col]! << (28 - 4 * i);
    let out = 0;
    for (let j = 0; j < 32; j++) if ((s >>> (32 - P[j]!)) & 1) out |= 1 << (31 - j);
    SP[i * 64 + x] = out >>> 0;
  }
}

// A 64-bit permutation as byte tables: for input byte position p holding value v,
// T[(p*256+v)*2] and T[(p*256+v)*2+1] are that byte's contribution to the output hi/lo halves.
function permutationTable(table: number[]): Uint32Array {
  const t = new Uint32Array(8 * 256 * 2);
  table.forEach((src, dst) => {
    const p = (src - 1) >> 3;
    const bit = 7 - ((src - 1) & 7);
    const word = dst < 32 ? 0 : 1;
    const mask = (1 << (31 - (dst & 31))) >>> 0;
    for (let v = 0; v < 256; v++) if ((v >> bit) & 1) t[(p * 256 + v) * 2 + word]! |= mask;
  });
  return t;
}
const IP_T = permutationTable(IP);
const FP_T = permutationTable(IP.map((_, i) => IP.indexOf(i + 1) + 1)); // FP is IP's inverse

/** Round keys: 16 rounds x 8 six-bit chunks, aligned with the SP tables. */
function keySchedule(key: Buffer): Uint8Array {
  const bit = (n: number) => (key[(n - 1) >> 3]! >> (7 - ((n - 1) & 7))) & 1;
  const cd = PC1.map(bit); // C = cd[0..27], D = cd[28..55]
  const ks = new Uint8Array(16 * 8);
  for (let r = 0; r < 16; r++) {
    for (let s = 0; s < SHIFTS[r]!; s++) {
      cd.splice(0, 28, ...cd.slice(1, 28), cd[0]!);
      cd.splice(28, 28, ...cd.slice(29, 56), cd[28]!);
    }
    for (let j = 0; j < 48; j++) ks[r * 8 + (j / 6 | 0)]! |= cd[PC2[j]! - 1]! << (5 - (j % 6));
  }
  return ks;
}

/** f(R, K): the expansion E is a rotation plus overlapping 6-bit windows. */
function feistel(r: number, ks: Uint8Array, k: number): number {
  const x = (r >>> 1) | (r << 31); // rotate right 1: window i is x >>> (26 - 4i), the last wraps
  return (
    SP[0 * 64 + (((x >>> 26) & 63) ^ ks[k]!)]! |
    SP[1 * 64 + (((x >>> 22) & 63) ^ ks[k + 1]!)]! |
    SP[2 * 64 + (((x >>> 18) & 63) ^ ks[k + 2]!)]! |
    SP[3 * 64 + (((x >>> 14) & 63) ^ ks[k + 3]!)]! |
    SP[4 * 64 + (((x >>> 10) & 63) ^ ks[k + 4]!)]! |
    SP[5 * 64 + (((x >>> 6) & 63) ^ ks[k + 5]!)]! |
    SP[6 * 64 + (((x >>> 2) & 63) ^ ks[k + 6]!)]! |
    SP[7 * 64 + ((((x << 2) | (x >>> 30)) & 63) ^ ks[k + 7]!)]!
  );
}

function cryptBlock(ks: Uint8Array, decrypt: boolean, src: Buffer, so: number, dst: Buffer, dof: number): void {
  let l = 0;
  let r = 0;
  for (let p = 0; p < 8; p++) {
    const i = (p * 256 + src[so + p]!) * 2;
    l |= IP_T[i]!;
    r |= IP_T[i + 1]!;
  }
  for (let round = 0; round < 16; round++) {
    const t = r;
    r = l ^ feistel(r, ks, (decrypt ? 15 - round : round) * 8);
    l = t;
  }
  // The last round does not swap, so the pre-output block is R16 L16.
  let hi = 0;
  let lo = 0;
  for (let p = 0; p < 8; p++) {
    const byte = ((p < 4 ? r : l) >>> (24 - 8 * (p & 3))) & 255;
    const i = (p * 256 + byte) * 2;
    hi |= FP_T[i]!;
    lo |= FP_T[i + 1]!;
  }
  dst.writeUInt32BE(hi >>> 0, dof);
  dst.writeUInt32BE(lo >>> 0, dof + 4);
}

export interface Des {
  /** DES-ECB with PKCS5 padding: output is 8..(len+8) bytes, always a multiple of 8. */
  encrypt(plain: Buffer): Buffer;
  /** Null if the length is not a positive multiple of 8 or the padding is wrong. */
  decrypt(cipher: Buffer): Buffer | null;
}

export function createDes(key: Buffer): Des {
  if (!Buffer.isBuffer(key) || key.length !== 8) {
    throw new RangeError(`DES key must be exactly 8 bytes, got ${Buffer.isBuffer(key) ? key.length : typeof key}`);
  }
  // Parity bits (the low bit of each key byte) are ignored, as in Java's DESKeySpec.
  const ks = keySchedule(key);
  return {
    encrypt(plain: Buffer): Buffer {
      const pad = 8 - (plain.length % 8);
      const out = Buffer.alloc(plain.length + pad, pad);
      plain.copy(out);
      for (let o = 0; o < out.length; o += 8) cryptBlock(ks, false, out, o, out, o);
      return out;
    },
    decrypt(cipher: Buffer): Buffer | null {
      if (!Buffer.isBuffer(cipher) || cipher.length === 0 || cipher.length % 8 !== 0) return null;
      const out = Buffer.allocUnsafe(cipher.length);
      for (let o = 0; o < cipher.length; o += 8) cryptBlock(ks, true, cipher, o, out, o);
      // Same check as SunJCE's PKCS5Padding.unpad: 1..8, and every pad byte equal.
      const pad = out[out.length - 1]!;
      if (pad < 1 || pad > 8) return null;
      for (let i = out.length - pad; i < out.length; i++) if (out[i] !== pad) return null;
      return out.subarray(0, out.length - pad);
    },
  };
}

export function desEcbEncrypt(key: Buffer, plain: Buffer): Buffer {
  return createDes(key).encrypt(plain);
}

export function desEcbDecrypt(key: Buffer, cipher: Buffer): Buffer | null {
  return createDes(key).decrypt(cipher);
}

/** One raw 8-byte block, no padding: for known-answer tests against FIPS vectors. */
export function desEncryptBlockRaw(key: Buffer, block: Buffer): Buffer {
  return rawBlock(key, block, false);
}
export function desDecryptBlockRaw(key: Buffer, block: Buffer): Buffer {
  return rawBlock(key, block, true);
}
function rawBlock(key: Buffer, block: Buffer, decrypt: boolean): Buffer {
  if (key.length !== 8) throw new RangeError(`DES key must be exactly 8 bytes, got ${key.length}`);
  if (block.length !== 8) throw new RangeError(`DES block must be exactly 8 bytes, got ${block.length}`);
  const out = Buffer.allocUnsafe(8);
  cryptBlock(keySchedule(key), decrypt, block, 0, out, 0);
  return out;
}
