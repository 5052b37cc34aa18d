/**
 * Starting a gateway: a generated conf directory (proxy.properties of the asked size, gateway.properties
 * with every feature on) and `node <dist>/src/main.js --conf <dir>`. `dist` is this build by default; the
 * ladder (--ladder) starts other builds of this repo the same way, each with the keys its own config knows.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DIST, tail, USER, waitForPort, type Contestant } from './contestants';
import { freePort, logFile, startChild, stopChild, waitForLogLine } from './procs';
import { proxyPropertiesWith } from './tokens-file';

export interface GatewaySetup {
  name: string;
  /** The real Entrances; `fakeInstances` more are configured under 10.1.x.y names but point at a closed loopback port. */
  instances: Array<{ name: string; url: string }>;
  fakeInstances?: number;
  tokens?: number;
  /** More gateway.properties (publicservice instances, workers, ...). */
  settings?: Record<string, string>;
  /** node flags for the gateway process (e.g. --cpu-prof). */
  nodeFlags?: string[];
  /** The dist/ directory of the build to run; default this one. */
  dist?: string;
}

export interface Gateway extends Contestant {
  proxyFile: string;
  logFile: string;
  /** The proxy.properties token that may act as USER. */
  token: string;
  /** Log line of the start-up allowlist load. */
  startReload?: Record<string, unknown>;
  /** Settings turned on because its config knows them (rate limit, metrics), as key=value. */
  features: string[];
  /** The same process under another name, reached with other credentials (token headers, a session). */
  variant(name: string, auth: Record<string, string>): Contestant;
}

/** The keys a build's config accepts (an unknown gateway.* key stops the gateway at start-up). */
function configKeys(dist: string): string[] {
  for (const file of ['src/control-plane/config-keys.js', 'src/control-plane/config.js', 'src/config.js']) {
    try {
      const keys = (require(join(dist, file)) as { CONFIG_KEYS?: string[] }).CONFIG_KEYS;
      if (keys) return keys;
    } catch {
      /* an older or newer layout: try the next */
    }
  }
  throw new Error(`no CONFIG_KEYS in ${dist}/src: is it a compiled dist/ of this repo?`);
}

/**
 * Rate limit and metrics are turned on when the gateway's config knows keys for them. Values are guesses by
 * key name: limits far above what the bench sends, so the limiter does all its work but never refuses. A
 * value the gateway refuses is dropped and the start retried, so the bench keeps working whatever shape
 * those settings take.
 */
function featureSettings(keys: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const key of keys) {
    if (!/rate|metric|throttl|quota/i.test(key) || /url|redis|file|path|host|port/i.test(key)) continue;
    if (/enable|enabled|on$/i.test(key)) out[key] = 'true';
    else if (/window|ms$|interval|seconds/i.test(key)) out[key] = '1000';
    else if (/max|limit|requests|rps|points|burst|per|rate|capacity/i.test(key)) out[key] = '1000000';
  }
  return out;
}

/** Every listener the gateway may open (admin, metrics) on loopback and a free port. */
function loopbackSettings(keys: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const key of keys) {
    if (/\.host$/.test(key)) out[key] = '127.0.0.1';
    else if (/\.port$/.test(key)) out[key] = '0';
  }
  return out;
}

export async function startGateway(setup: GatewaySetup, dir: string): Promise<Gateway> {
  mkdirSync(dir, { recursive: true });
  const dist = setup.dist ?? DIST;
  const keys = configKeys(dist);
  const tokens = setup.tokens ?? 10;
  const proxyFile = join(dir, 'proxy.properties');
  const token = proxyPropertiesWith(tokens, join(dir, '..'), proxyFile);
  const fakes = Array.from({ length: setup.fakeInstances ?? 0 }, (_, i) => `10.1.${Math.floor(i / 250)}.${(i % 250) + 1}:9104=http://127.0.0.1:1`);
  const workers = Number(setup.settings?.['gateway.workers'] ?? 1);
  // Another build may log differently: reach it on a port chosen here rather than read from its log.
  const fixedPort = setup.dist ? await freePort() : 0;
  const features = featureSettings(keys);
  const base: Record<string, string> = {
    ...loopbackSettings(keys),
    'gateway.server.host': '127.0.0.1',
    'gateway.server.port': String(fixedPort),
    'gateway.entrance.instances': [...setup.instances.map((i) => `${i.name}=${i.url}`), ...fakes].join(','),
    'gateway.log.format': 'json',
    'gateway.log.level': 'info',
    ...features,
  };
  // Only what this build knows (an older one may lack a key); what the setup asks for is always sent.
  let settings: Record<string, string> = { ...Object.fromEntries(Object.entries(base).filter(([k]) => keys.includes(k))), ...setup.settings };
  // A million tokens take seconds to load before the gateway listens.
  const startMs = 20_000 + tokens / 50;
  for (let attempt = 0; ; attempt++) {
    writeFileSync(join(dir, 'gateway.properties'), Object.entries(settings).map(([k, v]) => `${k}=${v}`).join('\n') + '\n');
    const child = startChild(setup.name, process.execPath, [...(setup.nodeFlags ?? []), join(dist, 'src/main.js'), '--conf', dir], { stdoutToFile: true });
    const exited = new Promise<{ code: number | null }>((ok) => child.once('exit', (code) => ok({ code })));
    const out = logFile(setup.name, 'out');
    // Each worker logs its own 'listening': the gateway is ready when all of them do.
    const listening = fixedPort
      ? waitForPort(fixedPort, child, setup.name, startMs).then(() => ({ port: fixedPort }))
      : waitForLogLine(out, (l) => l.message === 'listening', startMs, 0, workers).then((line) => ({ port: Number(line.port) }));
    listening.catch(() => undefined); // when it exits first, the poll's later time-out is no error
    const first = await Promise.race([listening, exited]);
    if ('port' in first) {
      const startReload = await waitForLogLine(out, (l) => l.event === 'allowlist.reload', 1000).catch(() => undefined);
      const gw: Gateway = {
        name: 'gateway',
        url: `http://127.0.0.1:${first.port}`,
        pid: child.pid,
        auth: { 'proxy-user': USER, 'validation-code': token },
        proxyFile,
        logFile: out,
        token,
        startReload,
        features: Object.entries(settings).filter(([k]) => k in features).map(([k, v]) => `${k}=${v}`),
        stop: () => stopChild(child, 10_000),
        variant: (name, auth) => ({ ...gw, name, auth, stop: async () => undefined }),
      };
      return gw;
    }
    // Refused configuration: drop the guessed feature values it names, keep the rest, try again.
    const err = tail(logFile(setup.name, 'err'));
    const refused = Object.keys(features).filter((k) => err.includes(`${k}:`));
    if (first.code !== 2 || refused.length === 0 || attempt > 3) throw new Error(`gateway ${setup.name} did not start (exit ${first.code}): ${err}`);
    process.stderr.write(`bench: the gateway refused ${refused.join(', ')}; starting without them\n`);
    settings = Object.fromEntries(Object.entries(settings).filter(([k]) => !refused.includes(k)));
  }
}

/** Linkis's token headers (linkis-cli's default, the Java SDK's TokenAuthenticationStrategy). */
export const tokenHeaders = (gw: Gateway): Record<string, string> => ({ 'token-user': USER, 'token-code': gw.token });

/** Logs in once as a stock client does (`POST user/login`, the token as password); the session cookie to send. */
export async function sessionCookie(gw: Gateway): Promise<Record<string, string>> {
  const res = await fetch(`${gw.url}/api/rest_j/v1/user/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ userName: USER, password: gw.token }),
  });
  const cookies = res.headers.getSetCookie().map((c) => c.split(';')[0]);
  if (res.status !== 200 || cookies.length === 0) throw new Error(`login at ${gw.url} failed: HTTP ${res.status} ${await res.text()}`);
  return { cookie: cookies.join('; ') };
}
