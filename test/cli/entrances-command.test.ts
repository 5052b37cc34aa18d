/**
 * `linkis-gateway entrances ...` against an in-process gateway and its admin listener (the same app
 * src/main.ts serves). The many-worker case is in test/admin/draining-workers.test.ts.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { runCli } from '../../src/cli/main';
import type { EntranceSimulator } from '../../src/simulator/entrance';
import { ADMIN_TOKEN, startAdminStack, type AdminStack, type TestAdmin } from '../support/admin-harness';
import type { TestGateway } from '../support/harness';

describe('CLI entrances', () => {
  let sims: EntranceSimulator[];
  let gw: TestGateway;
  let adm: TestAdmin;
  const cli = async (args: string[], env: Record<string, string> = { LINKIS_GATEWAY_ADMIN_URL: adm.url, LINKIS_GATEWAY_ADMIN_TOKEN: ADMIN_TOKEN }) => {
    let out = '';
    let err = '';
    const code = await runCli(args, env, { out: (t) => (out += `${t}\n`), err: (t) => (err += `${t}\n`) });
    return { code, out, err };
  };
  let stack: AdminStack;
  before(async () => {
    stack = await startAdminStack(2);
    ({ sims, gw, adm } = stack);
  });
  after(() => stack.close());

  it('lists the Entrances with their state', async () => {
    const r = await cli(['entrances', 'list']);
    assert.equal(r.code, 0, r.err);
    const lines = r.out.trim().split('\n');
    assert.match(lines[0]!, /^NAME\s+ADDRESS\s+STATE\s+IN FLIGHT$/);
    for (const s of sims) assert.ok(lines.some((l) => l.startsWith(s.instance) && l.includes(s.url) && / healthy /.test(l)), r.out);
    const json = JSON.parse((await cli(['entrances', 'list', '--json'])).out);
    assert.deepEqual(json.entrances.map((e: any) => e.name), sims.map((s) => s.instance));
  });

  it('drains and undrains, printing what is now true', async () => {
    const name = sims[1]!.instance;
    const d = await cli(['entrances', 'drain', name]);
    assert.equal(d.code, 0, d.err);
    assert.match(d.out, /^Draining .*this gateway \(1 process\)/);
    assert.equal(gw.registry.get(name)!.draining, true);
    assert.match((await cli(['entrances', 'list'])).out, new RegExp(`${name.replace(/\./g, '\\.')}\\s+\\S+\\s+draining`));
    const u = await cli(['entrances', 'undrain', name]);
    assert.equal(u.code, 0, u.err);
    assert.match(u.out, /^Taking new jobs again/);
    assert.equal(gw.registry.get(name)!.draining, false);
  });

  it('refuses without a running gateway, with a wrong token, and for an unknown Entrance', async () => {
    const none = await cli(['entrances', 'drain', sims[0]!.instance], {});
    assert.equal(none.code, 2);
    assert.match(none.err, /a running gateway: --admin-url URL/);
    assert.equal((await cli(['entrances', 'drain'])).code, 2);
    assert.equal((await cli(['entrances', 'drain', 'a:1', 'b:2'])).code, 2);
    const wrong = await cli(['entrances', 'list'], { LINKIS_GATEWAY_ADMIN_URL: adm.url, LINKIS_GATEWAY_ADMIN_TOKEN: 'not-the-admin-token-at-all' });
    assert.equal(wrong.code, 1);
    assert.match(wrong.err, /ADMIN_UNAUTHORIZED/);
    const unknown = await cli(['entrances', 'undrain', '10.9.9.9:9104']);
    assert.equal(unknown.code, 1);
    assert.match(unknown.err, /INSTANCE_UNKNOWN/);
    assert.equal((await cli(['entrances', 'list', '--conf', '/tmp'])).code, 2, 'no --conf mode: draining lives in a running gateway');
  });
});
