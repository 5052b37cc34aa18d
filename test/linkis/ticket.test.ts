import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { createDes, createTicketCodec } from '../../src/linkis/ticket';

const VECTOR = 'M7UZXQP9Ld0njo8cjtULXGM+1N1N+j782HLiVea4FcQ=';
const codec = createTicketCodec('bdp-for-server');

/** What Java's Base64.getMimeEncoder() writes: 76-character lines joined by "\r\n". */
const javaMime = (b: Buffer) => (b.toString('base64').match(/.{1,76}/g) ?? []).join('\r\n');

test('Linkis test vector: hadoop, 1700000000000, bdp-for-server', () => {
  assert.equal(codec.mint('hadoop', 1700000000000), VECTOR);
  assert.deepEqual(codec.read(VECTOR), { user: 'hadoop', millis: 1700000000000 });
});

test('round trip for several users', () => {
  const users = ['hadoop', 'root', 'a', 'johnnwang', 'user.name@example.com', 'x-y_z', '张三', 'has,comma', 'u'.repeat(200)];
  for (const user of users) {
    for (const millis of [0, 1, 1700000000000, Number.MAX_SAFE_INTEGER]) {
      assert.deepEqual(codec.read(codec.mint(user, millis)), { user, millis }, `${user} ${millis}`);
    }
  }
});

test('mint defaults millis to now', () => {
  const before = Date.now();
  const got = codec.read(codec.mint('hadoop'));
  assert.ok(got && got.user === 'hadoop' && got.millis >= before && got.millis <= Date.now());
});

test('mint rejects an empty user and bad millis', () => {
  assert.throws(() => codec.mint(''), TypeError);
  for (const m of [-1, 1.5, NaN, Infinity, 2 ** 53]) assert.throws(() => codec.mint('hadoop', m), RangeError, String(m));
});

test('DES key is base64(crypt key), padded with X to 8, first 8 bytes (DESUtil.encrypt)', () => {
  const plain = Buffer.from('bfs_hadoop,1700000000000');
  const cases: [string, string][] = [
    ['bdp-for-server', 'YmRwLWZv'],
    ['a', 'YQ==XXXX'], // 1-3 byte keys give 4 base64 chars, padded with 'X'
    ['abc', 'YWJjXXXX'],
    ['abcd', 'YWJjZA=='],
    ['秘密', '56eY5a+G'],
  ];
  for (const [cryptKey, desKey] of cases) {
    const expected = createDes(Buffer.from(desKey, 'latin1')).encrypt(plain).toString('base64');
    assert.equal(createTicketCodec(cryptKey).mint('hadoop', 1700000000000), expected, cryptKey);
  }
});

test('only the first 6 bytes of the crypt key matter (Linkis property, kept on purpose)', () => {
  assert.equal(createTicketCodec('bdp-for-anything-else').mint('hadoop', 1700000000000), VECTOR);
});

test('empty crypt key is refused', () => {
  assert.throws(() => createTicketCodec(''), /crypt\.key/);
});

test('a ticket minted with another crypt key does not read', () => {
  for (const other of ['my-secret-key-1', 'another', 'x', 'BDP-FOR-SERVER', 'bdp-fx']) {
    const foreign = createTicketCodec(other);
    for (const user of ['hadoop', 'root', 'alice', 'bob@corp']) {
      const t = foreign.mint(user, 1700000000000);
      assert.equal(codec.read(t), null, `${other} / ${user}`);
      assert.deepEqual(foreign.read(t), { user, millis: 1700000000000 });
    }
  }
});

test('long users: Linkis inserts "\\r\\n" every 76 chars; mint is one line, read takes both', () => {
  const user = 'a-rather-long-user-name-of-forty-chars!!';
  const des = createDes(Buffer.from('YmRwLWZv'));
  const linkis = javaMime(des.encrypt(Buffer.from(`bfs_${user},1700000000000`)));
  assert.match(linkis, /\r\n/);
  const ours = codec.mint(user, 1700000000000);
  assert.equal(ours, linkis.replace(/\r\n/g, ''));
  assert.doesNotMatch(ours, /[\r\n]/);
  for (const t of [linkis, ours, linkis.replace(/\r\n/g, '\n'), `"${linkis}"`]) {
    assert.deepEqual(codec.read(t), { user, millis: 1700000000000 });
  }
});

test('read follows Java MIME decoding: quotes and whitespace skipped, bad padding refused', () => {
  const ok = { user: 'hadoop', millis: 1700000000000 };
  assert.deepEqual(codec.read(`"${VECTOR}"`), ok);
  assert.deepEqual(codec.read(` ${VECTOR.slice(0, 20)}\r\n${VECTOR.slice(20)} `), ok);
  assert.deepEqual(codec.read(VECTOR.replace(/=$/, '')), ok); // unpadded is fine in Java too
  assert.equal(codec.read(`${VECTOR}A`), null); // data after the padding
  assert.equal(codec.read(VECTOR.replace('+', '-')), null); // URL-safe alphabet is not base64 to Java
});

test('garbage inputs return null', () => {
  const des = createDes(Buffer.from('YmRwLWZv'));
  const enc = (s: string) => des.encrypt(Buffer.from(s)).toString('base64');
  const garbage: unknown[] = [
    '', ' ', '=', '==', 'A', 'AB=', 'ABC', '!!!!', 'AAAAAAAAAAA=', 'AAAAAAAAAAAAAAAAAAAAAA==', VECTOR.slice(0, 20),
    VECTOR.slice(4), 'x'.repeat(5000), null, undefined, 42, {}, [],
    enc('hadoop,1700000000000'), // no bfs_ prefix
    enc('bfs_hadoop'), // no comma (Linkis throws IllegalUserTicketException)
    enc('bfs_hadoop,'), enc('bfs_hadoop,abc'), enc('bfs_hadoop,-5'), enc('bfs_hadoop,+5'), enc('bfs_hadoop,1 '),
    enc('bfs_hadoop,99999999999999999'), enc('bfs_,1700000000000'),
  ];
  for (const g of garbage) assert.equal(codec.read(g as string), null, JSON.stringify(g));
});

test('property: mint/read round-trips for Linkis-style user names and any millis', () => {
  fc.assert(
    fc.property(
      fc.stringMatching(/^[A-Za-z0-9._@-]{1,64}$/),
      fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
      (user, millis) => {
        const t = codec.mint(user, millis);
        assert.match(t, /^[A-Za-z0-9+/]+={0,2}$/);
        assert.deepEqual(codec.read(t), { user, millis });
      },
    ),
    { numRuns: 500 },
  );
});

test('property: read never throws on arbitrary strings', () => {
  const des = createDes(Buffer.from('YmRwLWZv'));
  fc.assert(
    fc.property(
      fc.oneof(
        fc.string({ unit: 'binary', maxLength: 300 }),
        fc.stringMatching(/^[A-Za-z0-9+/=\r\n" -]{0,120}$/),
        fc.uint8Array({ maxLength: 64 }).map((b) => Buffer.from(b).toString('base64')),
        fc.uint8Array({ maxLength: 64 }).map((b) => des.encrypt(Buffer.from(b)).toString('base64')),
      ),
      (s) => {
        const r = codec.read(s);
        assert.ok(r === null || (r.user.length > 0 && Number.isSafeInteger(r.millis)));
      },
    ),
    { numRuns: 2000 },
  );
});
