/**
 * How gateway.properties values are read during validation: each reader takes a key, falls back to its
 * default, and records a problem naming the key instead of throwing, so one run reports every problem.
 */
import { DEFAULTS } from './config-keys';

export interface KeyReader {
  /** Every problem found so far, each as `key: what`. */
  readonly problems: string[];
  /** The value (or its default), trimmed. */
  get(key: string): string;
  /** A whole number in [min, max]; min when it is not one. */
  int(key: string, min: number, max: number): number;
  nonEmpty(key: string): string;
  bool(key: string): boolean;
  /** One of `allowed`; the first when it is not one of them. */
  oneOf<T extends string>(key: string, allowed: readonly T[]): T;
}

export function createKeyReader(raw: Record<string, string>): KeyReader {
  const problems: string[] = [];
  const get = (key: string): string => String(raw[key] ?? DEFAULTS[key]).trim();
  return {
    problems,
    get,
    int(key, min, max) {
      const v = get(key);
      const n = Number(v);
      if (!/^[0-9]+$/.test(v) || n < min || n > max) {
        problems.push(`${key}: "${v}" is not a whole number between ${min} and ${max}`);
        return min;
      }
      return n;
    },
    nonEmpty(key) {
      const v = get(key);
      if (!v) problems.push(`${key}: must not be empty`);
      return v;
    },
    bool(key) {
      const v = get(key);
      if (v !== 'true' && v !== 'false') problems.push(`${key}: "${v}" is not true or false`);
      return v === 'true';
    },
    oneOf<T extends string>(key: string, allowed: readonly T[]): T {
      const v = get(key);
      if ((allowed as readonly string[]).includes(v)) return v as T;
      problems.push(`${key}: "${v}" is not one of ${allowed.join(', ')}`);
      return allowed[0]!;
    },
  };
}
