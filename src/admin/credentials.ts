/**
 * Admin credentials from `admin.properties` in the conf directory: `name=token`, or `name=sha256:<hex>`
 * so the file need not hold the token itself. Each admin has their own token, so the audit trail names
 * who made a change. Read once at start-up; a malformed file stops the gateway (better than an admin
 * listener that silently lets nobody, or the wrong person, in).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { checkUserName } from '../control-plane/user-names';
import { ConfigError } from '../control-plane/config';
import { parseProperties } from '../linkis/properties';

/** Admin tokens guard every allowlist: demand more than the 8 characters proxy tokens need. */
export const MIN_ADMIN_TOKEN_LENGTH = 16;

interface Admin {
  name: string;
  digest: Buffer;
}

export interface AdminCredentials {
  /** Number of admins; 0 means the admin listener stays off. */
  readonly size: number;
  /** The admin's name for a `Bearer` token, or null. Time does not depend on which admin matched. */
  authenticate(token: string | undefined): string | null;
}

const sha256 = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest();

export function parseAdminCredentials(text: string, file: string): AdminCredentials {
  const parsed = parseProperties(text);
  const problems = parsed.problems.map((p) => `${file}:${p.line}: ${p.message}`);
  const admins: Admin[] = [];
  for (const e of parsed.entries) {
    const where = `${file}:${e.line}`;
    const name = checkUserName(e.key);
    if (!name.ok) problems.push(`${where}: admin name: ${name.reason}`);
    else if (admins.some((a) => a.name === e.key)) problems.push(`${where}: admin "${e.key}" is listed twice`);
    const value = e.value.trim();
    const hashed = /^sha256:([0-9a-fA-F]{64})$/.exec(value);
    if (hashed) admins.push({ name: e.key, digest: Buffer.from(hashed[1]!, 'hex') });
    else if (value.startsWith('sha256:')) problems.push(`${where}: "sha256:" must be followed by 64 hex characters`);
    else if (value.length < MIN_ADMIN_TOKEN_LENGTH || /\s/.test(value)) problems.push(`${where}: the token must be at least ${MIN_ADMIN_TOKEN_LENGTH} characters without whitespace`);
    else admins.push({ name: e.key, digest: sha256(value) });
  }
  if (problems.length) throw new ConfigError(problems.join('\n'));
  return {
    size: admins.length,
    authenticate(token) {
      if (!token) return null;
      const digest = sha256(token);
      let found: string | null = null;
      // Every admin is compared, so timing says nothing about which (or whether one) matched.
      for (const a of admins) if (timingSafeEqual(digest, a.digest) && found === null) found = a.name;
      return found;
    },
  };
}

/** null when the file does not exist: the admin listener is off, and main says so. */
export function loadAdminCredentials(file: string): AdminCredentials | null {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new ConfigError(`${file}: cannot be read (${(err as NodeJS.ErrnoException).code})`);
  }
  return parseAdminCredentials(text, file);
}

/** What to put in admin.properties instead of the token itself. */
export function hashAdminToken(token: string): string {
  return 'sha256:' + sha256(token).toString('hex');
}
