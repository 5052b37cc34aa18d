/**
 * The DES under Linkis's ticket: single DES through OpenSSL's des-ede3 with the key K‖K‖K. FIPS and NIST
 * known answers prove that the equivalence holds bit for bit, padding included.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createDes } from '../../src/linkis/ticket';

const hex = (s: string) => Buffer.from(s, 'hex');
const block = (key: Buffer, b: Buffer) => createDes(key).encrypt(b, false);

// Raw single-block known answers: [key, plaintext, ciphertext].
const KNOWN_ANSWERS: [string, string, string][] = [
  ['133457799BBCDFF1', '0123456789ABCDEF', '85E813540F0AB405'], // the classic worked example
  ['0E329232EA6D0D73', '8787878787878787', '0000000000000000'],
  ['0123456789ABCDEF', '4E6F772069732074', '3FA40E8A984D4815'], // "Now is t" (FIPS 81)
  ['0101010101010101', '95F8A5E5DD31D900', '8000000000000000'], // NIST SP 800-17 variable plaintext
  ['0101010101010101', '0000000000000000', '8CA64DE9C1B123A7'], // key of all-zero effective bits
  ['8001010101010101', '0000000000000000', '95A8D72813DAA94D'], // SP 800-17 variable key
  ['7CA110454A1A6E57', '01A1D6D039776742', '690F5B0D9A26939B'], // SP 800-17 S-box tests
  ['0131D9619DC1376E', '5CD54CA83DEF57DA', '7A389D10354BD271'],
  ['07A1133E4A0B2686', '0248D43806F67172', '868EBB51CAB4599A'],
  ['3849674C2602319E', '51454B582DDF440A', '7178876E01F19B2A'],
  ['04B915BA43FEB5B6', '42FD443059577FA2', 'AF37FB421F8C4095'],
  ['0113B970FD34F2CE', '059B5E0851CF143A', '86A560F10EC6D85B'],
  ['FEDCBA9876543210', '0123456789ABCDEF', 'ED39D950FA74BCC4'],
  ['FFFFFFFFFFFFFFFF', 'FFFFFFFFFFFFFFFF', '7359B2163E4EDC58'],
];

test('raw block known answers, both directions', () => {
  for (const [k, p, c] of KNOWN_ANSWERS) {
    assert.equal(block(hex(k), hex(p)).toString('hex').toUpperCase(), c, `E(${k}, ${p})`);
    assert.equal(createDes(hex(k)).decrypt(hex(c), false)?.toString('hex').toUpperCase(), p, `D(${k}, ${c})`);
  }
});

test('parity bits of the key are ignored', () => {
  const b = Buffer.from(hex('133457799BBCDFF1').map((x) => x ^ 1));
  assert.deepEqual(block(b, hex('0123456789ABCDEF')), hex('85E813540F0AB405'));
});

test('PKCS5: block-aligned input gets a whole block of padding', () => {
  const key = hex('133457799BBCDFF1');
  const c = createDes(key).encrypt(hex('0123456789ABCDEF'));
  assert.equal(c.length, 16);
  assert.equal(c.subarray(0, 8).toString('hex').toUpperCase(), '85E813540F0AB405');
  assert.deepEqual(c.subarray(8), block(key, Buffer.alloc(8, 8))); // the second block is E(08 x 8)
});

test('PKCS5 round trip for lengths 0..40', () => {
  const des = createDes(Buffer.from('YmRwLWZv'));
  for (let n = 0; n <= 40; n++) {
    const plain = Buffer.from(Array.from({ length: n }, (_, i) => (i * 37 + n) & 255));
    const c = des.encrypt(plain);
    assert.equal(c.length, (Math.floor(n / 8) + 1) * 8, `length for ${n}`);
    assert.deepEqual(des.decrypt(c), plain, `round trip ${n}`);
  }
});

test('Linkis ticket plaintext under the default key', () => {
  const c = createDes(Buffer.from('YmRwLWZv')).encrypt(Buffer.from('bfs_hadoop,1700000000000'));
  assert.equal(c.toString('base64'), 'M7UZXQP9Ld0njo8cjtULXGM+1N1N+j782HLiVea4FcQ=');
});

test('bad cipher lengths give null', () => {
  const des = createDes(hex('133457799BBCDFF1'));
  for (const n of [0, 1, 7, 9, 15, 17, 23]) assert.equal(des.decrypt(Buffer.alloc(n, 1)), null, `length ${n}`);
});

test('bad padding gives null, as SunJCE refuses it', () => {
  const key = hex('133457799BBCDFF1');
  const des = createDes(key);
  const enc = (b: number[]) => block(key, Buffer.from(b));
  const cases: [string, number[]][] = [
    ['pad byte 0', [1, 2, 3, 4, 5, 6, 7, 0]],
    ['pad byte 9', [1, 2, 3, 4, 5, 6, 7, 9]],
    ['pad byte 255', [1, 2, 3, 4, 5, 6, 7, 255]],
    ['pad bytes differ', [1, 2, 3, 4, 5, 6, 2, 3]],
    ['8 pad bytes, one differs', [8, 8, 8, 8, 7, 8, 8, 8]],
  ];
  for (const [name, b] of cases) assert.equal(des.decrypt(enc(b)), null, name);
  assert.deepEqual(des.decrypt(enc([1, 2, 3, 4, 5, 6, 2, 2])), Buffer.from([1, 2, 3, 4, 5, 6]));
  assert.deepEqual(des.decrypt(enc([8, 8, 8, 8, 8, 8, 8, 8])), Buffer.alloc(0));
});

test('a wrong key fails padding or yields other bytes, never throws', () => {
  const c = createDes(Buffer.from('YmRwLWZv')).encrypt(Buffer.from('bfs_hadoop,1700000000000'));
  const other = createDes(Buffer.from('c2VjcmV0')).decrypt(c);
  assert.ok(other === null || !other.equals(Buffer.from('bfs_hadoop,1700000000000')));
});

test('keys that are not 8 bytes are rejected at construction', () => {
  for (const n of [0, 7, 9, 16, 24]) assert.throws(() => createDes(Buffer.alloc(n)), /exactly 8 bytes/, `key length ${n}`);
});
