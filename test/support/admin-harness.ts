/**
 * The admin listener beside a test gateway (test/harness.ts), wired as src/main.ts wires it: the same
 * createAdmin, a watcher on proxy.properties calling its onFileChange, a real server on 127.0.0.1:0.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createAdmin, type Admin } from '../../src/admin/admin';
import { watchFile } from '../../src/control-plane/file-watch';
import type { EntranceSimulator, SimulatorOptions } from '../../src/simulator/entrance';
import { ENTRANCE, asUser, call, startGateway, startSimulators, type TestGateway, type TestGatewayOptions } from './harness';

export const ADMIN_NAME = 'ops-anna';
export const ADMIN_TOKEN = 'admin-token-for-tests-0123456789';
export const OTHER_ADMIN_TOKEN = 'second-admin-token-abcdefghijkl';

export interface TestAdmin {
  url: string;
  admin: Admin;
  server: Server;
  /** The file's bytes now. */
  file(): string;
  /** Parsed audit file lines. */
  audit(): Array<Record<string, any>>;
  /** Calls the admin API as ADMIN_NAME (or with `auth` as the Authorization header; null: none). */
  api(method: string, path: string, opts?: { body?: unknown; ifMatch?: string; auth?: string | null }): ReturnType<typeof call>;
  close(): Promise<void>;
}

export async function startAdmin(gw: TestGateway, credentials = `${ADMIN_NAME}=${ADMIN_TOKEN}\nsecond=${OTHER_ADMIN_TOKEN}\n`): Promise<TestAdmin> {
  writeFileSync(gw.config.admin.credentialsFile, credentials);
  const admin = createAdmin({ config: gw.config, proxyUserFile: gw.config.proxyUserFile, logger: gw.logger, store: gw.store, registry: gw.registry });
  if (!admin.handler) throw new Error(`admin off: ${admin.offReason}`);
  const watcher = watchFile(gw.config.proxyUserFile, admin.onFileChange);
  const server = createServer(admin.handler);
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    admin,
    server,
    file: () => readFileSync(gw.config.proxyUserFile, 'utf8'),
    audit() {
      try {
        return readFileSync(gw.config.admin.auditFile, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
      } catch {
        return [];
      }
    },
    api(method, path, opts = {}) {
      const headers: Record<string, string> = {};
      const auth = opts.auth === undefined ? `Bearer ${ADMIN_TOKEN}` : opts.auth;
      if (auth !== null) headers.authorization = auth;
      if (opts.ifMatch !== undefined) headers['if-match'] = opts.ifMatch;
      if (opts.body !== undefined) headers['content-type'] = 'application/json';
      return call(`${url}/admin/api/${path}`, { method, headers, body: opts.body === undefined ? undefined : typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body) });
    },
    async close() {
      watcher.close();
      server.closeAllConnections();
      await new Promise<void>((ok) => server.close(() => ok()));
      await admin.close();
    },
  };
}

/** Simulated Entrances, a gateway in front of them and its admin listener: what the admin and CLI suites start. */
export interface AdminStack {
  sims: EntranceSimulator[];
  gw: TestGateway;
  adm: TestAdmin;
  /** Stops all three, admin first. */
  close(): Promise<void>;
}

export async function startAdminStack(entrances: number, opts: { simulators?: SimulatorOptions; gateway?: TestGatewayOptions } = {}): Promise<AdminStack> {
  const sims = await startSimulators(entrances, opts.simulators);
  const gw = await startGateway(sims, opts.gateway);
  const adm = await startAdmin(gw);
  return {
    sims,
    gw,
    adm,
    async close() {
      await adm.close();
      await gw.close();
      await Promise.all(sims.map((s) => s.close()));
    },
  };
}

/** The gateway's answer to a real proxied request: 200 allowed, 401 unknown token, 403 user not allowed. */
export async function decision(gw: TestGateway, token: string, user: string): Promise<number> {
  const instance = gw.config.instances[0]!.name;
  return (await call(`${gw.url}${ENTRANCE}/operation/metrics/runningtask?instance=${instance}`, { headers: asUser(user, token) })).status;
}

/** Polls until the gateway gives `want` for (token, user), within the 2 s hot-reload promise. */
export async function expectDecision(gw: TestGateway, token: string, user: string, want: number): Promise<void> {
  const start = Date.now();
  let got = 0;
  while (Date.now() - start < 2000) {
    got = await decision(gw, token, user);
    if (got === want) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`gateway answered ${got} for ${user}, wanted ${want} within 2 s`);
}

export async function within2s(check: () => boolean | Promise<boolean>, what: string): Promise<void> {
  const start = Date.now();
  while (Date.now() - start < 2000) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`not within 2 s: ${what}`);
}
