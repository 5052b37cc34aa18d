// The Linkis login ticket (cookie linkis_user_session_ticket_id_v1), byte-compatible with
// Linkis 1.8.0:
//   ServerConfiguration.getTicketByUsername  -> DESUtil.encrypt("bfs_" + user + "," + millis, cryptKey)
//   ServerConfiguration.cryptKey             =  Base64.getMimeEncoder.encodeToString(crypt key bytes)
//   DESUtil.encrypt                          =  pad key with 'X' to 8 chars if shorter; DESKeySpec
//                                               takes its first 8 bytes; Cipher "DES" = DES/ECB/PKCS5;
//                                               result is Base64.getMimeEncoder (76-char lines, "\r\n").
//   SSOUtils.getUserAndLoginTime             =  strip "bfs_", split at the LAST ',', suffix .toLong
// Consequence kept on purpose: 8 base64 characters encode 6 bytes, so only the first 6 bytes of
// wds.linkis.crypt.key matter ("bdp-for-server" and "bdp-fo..." mint the same tickets), and DES
// also ignores the low bit of each of those 8 characters.
// (linkis-commons/linkis-common/.../utils/DESUtil.java,
//  linkis-commons/linkis-module/.../server/conf/ServerConfiguration.scala,
//  linkis-commons/linkis-module/.../server/security/SSOUtils.scala)
//
// Line breaks: Linkis never strips the MIME "\r\n" (SSOUtils.setLoginUser puts the string straight
// into a Cookie), so a user name of 38+ UTF-8 bytes makes a ticket with "\r\n" in it, which cannot
// travel in an HTTP header. `mint` therefore emits the same base64 on one line: identical to Linkis
// for every shorter name, and decoded identically by the Entrance, whose MIME decoder skips every
// character outside the base64 alphabet. `read` applies that same Java MIME decoding, so it accepts
// Linkis's broken lines (and the quotes java.net.HttpCookie adds: Linkis's gateway forwards
// `name="value"`).
//
// Ticket time: an Entrance never compares the millis inside the ticket with the clock. In 1.8.0
// SSOUtils.getLoginUser -> isTimeoutOrNot looks the whole ticket string up in its own in-memory
// last-access map (wds.linkis.server.web.session.timeout, default 2h). A gateway-minted ticket is
// never in that map, so it throws LoginExpireException, and SecurityFilter.getLoginUser then falls
// back to SSOUtils.getLoginUserIgnoreTimeout if the cookie dataworkcloud_inner_request=true is
// present. That fallback only decrypts and parses (the millis must parse as a Long; nothing else is
// checked). So to a 1.8.0 Entrance a cached ticket never expires: the cache TTL is our own
// hygiene (it limits how long a leaked ticket is useful). Linkis master after 1.8.0 (#5456-#5460)
// changes this: the fallback also requires the ticket to be in the session map (unless
// linkis.security.ignore.timeout.require.session.map=false) and the caller to be in
// linkis.security.trusted.internal.sources; new tickets default to AES-GCM, and its DES fallback
// keys DES with the raw crypt key, not its base64. This codec targets 1.8.0 and earlier.

import { createCipheriv, createDecipheriv } from 'node:crypto';

export interface TicketCodec {
  mint(user: string, millis?: number): string;
  read(ticket: string): { user: string; millis: number } | null;
}

const PREFIX = 'bfs_'; // wds.linkis.ticket.header
const MAX_TICKET_CHARS = 4096; // a cookie cannot be longer; caps work on hostile input
const MILLIS = /^[0-9]{1,16}$/;

export function createTicketCodec(cryptKey: string): TicketCodec {
  if (typeof cryptKey !== 'string' || cryptKey.length === 0) {
    // Linkis fails the same way: an empty key gives DESKeySpec fewer than 8 bytes.
    throw new Error('wds.linkis.crypt.key must be a non-empty string');
  }
  // Java's getBytes() uses the platform charset; Linkis deployments run UTF-8. Only the first
  // 8 base64 characters matter, and the MIME encoder's first line break is at 76, so plain
  // base64 is the same here.
  const keyText = Buffer.from(cryptKey, 'utf8').toString('base64').padEnd(8, 'X');
  const des = createDes(Buffer.from(keyText.slice(0, 8), 'latin1'));

  return {
    mint(user: string, millis: number = Date.now()): string {
      if (typeof user !== 'string' || user.length === 0) throw new TypeError('ticket user must be a non-empty string');
      if (!Number.isSafeInteger(millis) || millis < 0) throw new RangeError(`ticket millis must be a non-negative integer, got ${millis}`);
      return des.encrypt(Buffer.from(`${PREFIX}${user},${millis}`, 'utf8')).toString('base64');
    },

    read(ticket: string): { user: string; millis: number } | null {
      try {
        if (typeof ticket !== 'string' || ticket.length === 0 || ticket.length > MAX_TICKET_CHARS) return null;
        const bytes = decodeJavaMimeBase64(ticket);
        if (bytes === null) return null;
        const plain = des.decrypt(bytes);
        if (plain === null) return null;
        const text = plain.toString('utf8'); // like Java's new String(bytes): bad UTF-8 -> U+FFFD
        if (!text.startsWith(PREFIX)) return null;
        const comma = text.lastIndexOf(',');
        if (comma < PREFIX.length) return null;
        const user = text.slice(PREFIX.length, comma);
        const digits = text.slice(comma + 1);
        // Stricter than Linkis in two ways: Long.parseLong would take a sign, and "bfs_,1" would
        // give the empty user. Neither is anything Linkis ever mints.
        if (user.length === 0 || !MILLIS.test(digits)) return null;
        const millis = Number(digits);
        return Number.isSafeInteger(millis) ? { user, millis } : null;
      } catch {
        return null;
      }
    },
  };
}

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const B64 = new Int8Array(128).fill(-1);
for (let i = 0; i < 64; i++) B64[ALPHABET.charCodeAt(i)] = i;
B64[61] = -2; // '='

/**
 * java.util.Base64.getMimeDecoder().decode, step for step: characters outside the alphabet are
 * skipped, '=' ends the data and must complete its 4-character unit, and only non-alphabet
 * characters may follow it. Node's own decoder is laxer (it also takes '-' and '_'), hence this.
 */
function decodeJavaMimeBase64(s: string): Buffer | null {
  const out = Buffer.allocUnsafe(Math.ceil(s.length / 4) * 3);
  let dp = 0;
  let bits = 0;
  let shift = 18;
  let sp = 0;
  const code = (i: number) => {
    const c = s.charCodeAt(i);
    return c < 128 ? B64[c]! : -1;
  };
  while (sp < s.length) {
    const v = code(sp++);
    if (v === -2) {
      // "=" right after a full unit, or "x=" : bad; "xx=" must be followed at once by a second "=".
      if (shift === 18 || shift === 12 || (shift === 6 && (sp === s.length || s.charCodeAt(sp++) !== 61))) {
        return null;
      }
      break;
    }
    if (v < 0) continue;
    bits |= v << shift;
    shift -= 6;
    if (shift < 0) {
      out[dp++] = (bits >> 16) & 255;
      out[dp++] = (bits >> 8) & 255;
      out[dp++] = bits & 255;
      bits = 0;
      shift = 18;
    }
  }
  if (shift === 6) out[dp++] = (bits >> 16) & 255;
  else if (shift === 0) {
    out[dp++] = (bits >> 16) & 255;
    out[dp++] = (bits >> 8) & 255;
  } else if (shift === 12) return null; // a dangling single character
  while (sp < s.length) if (code(sp++) >= 0) return null;
  return out.subarray(0, dp);
}

/**
 * Single DES in ECB mode through node:crypto. OpenSSL 3 keeps single DES in its legacy provider only,
 * but DES-EDE3 with the key K‖K‖K is single DES (E_K ∘ D_K ∘ E_K = E_K), and des-ede3 is in the default
 * provider. DES is weak; it is used only to speak Linkis's ticket format, never to protect anything new.
 */
export interface Des {
  /** PKCS5 padding (Java's "DES" = DES/ECB/PKCS5Padding); `pad: false` needs whole 8-byte blocks. */
  encrypt(plain: Buffer, pad?: boolean): Buffer;
  /** Null for a length that is not whole blocks or padding SunJCE would refuse (never throws). */
  decrypt(cipher: Buffer, pad?: boolean): Buffer | null;
}

export function createDes(key: Buffer): Des {
  if (key.length !== 8) throw new RangeError(`DES key must be exactly 8 bytes, got ${key.length}`);
  const ede = Buffer.concat([key, key, key]);
  return {
    encrypt(plain, pad = true) {
      const c = createCipheriv('des-ede3', ede, null).setAutoPadding(pad);
      return Buffer.concat([c.update(plain), c.final()]);
    },
    decrypt(cipher, pad = true) {
      if (cipher.length === 0 || cipher.length % 8 !== 0) return null;
      try {
        // OpenSSL checks PKCS5 padding as SunJCE does: a pad length of 1..8, every pad byte equal.
        const d = createDecipheriv('des-ede3', ede, null).setAutoPadding(pad);
        return Buffer.concat([d.update(cipher), d.final()]);
      } catch {
        return null;
      }
    },
  };
}
