/**
 * Every change of proxy.properties, whoever makes it, is one audit line saying which tokens appeared,
 * disappeared or changed users. A hand edit is told from an admin write by the newest audit record only:
 * a hand edit that restores a version an admin wrote earlier is still a hand edit.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { utimesSync, writeFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { tokenFingerprint } from '../../src/control-plane/token-policy';
import type { EntranceSimulator } from '../../src/simulator/entrance';
import { expectDecision, startAdminStack, within2s, type AdminStack, type TestAdmin } from '../support/admin-harness';
import { OTHER_TOKEN, TOKEN, type TestGateway } from '../support/harness';

const ORIGINAL = `# BI\n${TOKEN}=alice,bob\n# scheduler\n${OTHER_TOKEN}=*\n`;
const sha = (s: string) => createHash('sha256').update(s).digest('hex');
const HAND = 'hand-made-token-0123456789';

describe('audit of hand edits', () => {
  let sims: EntranceSimulator[];
  let gw: TestGateway;
  let adm: TestAdmin;
  const handEdits = () => adm.audit().filter((a) => a.operation === 'hand-edit');

  let stack: AdminStack;
  before(async () => {
    stack = await startAdminStack(1, { gateway: { proxyProperties: ORIGINAL } });
    ({ sims, gw, adm } = stack);
  });
  after(() => stack.close());

  it('a hand edit that restores a version an admin wrote before is audited as a hand edit, with what it undid', async () => {
    const fp = tokenFingerprint(TOKEN);
    const add = async (user: string) => {
      const r = await adm.api('POST', `tokens/${fp}/users`, { body: { add: [user] }, ifMatch: `"${sha(adm.file())}"` });
      assert.equal(r.status, 200, r.text);
      await adm.admin.idle();
    };
    await add('carol');
    const v1 = adm.file();
    await add('dave');
    const v2 = adm.file();
    await new Promise((r) => setTimeout(r, 300)); // the watcher has seen the admin's own writes
    assert.equal(handEdits().length, 0);
    writeFileSync(gw.config.proxyUserFile, v1); // `git checkout`, or an editor's undo: the version before dave
    await within2s(() => handEdits().length === 1, 'the restoring hand edit audited');
    const rec = handEdits()[0]!;
    assert.deepEqual([rec.admin, rec.via, rec.applied, rec.etagBefore, rec.etagAfter], [null, 'file', true, sha(v2), sha(v1)]);
    assert.deepEqual([rec.appeared, rec.disappeared, rec.usersChanged], [[], [], [{ token: fp, added: [], removed: ['dave'] }]]);
    assert.ok(gw.logs.some((l) => l.event === 'allowlist.reload' && l.reason === 'hand-edit'), 'reloaded as a hand edit, not as an admin write');
    assert.ok(gw.logs.some((l) => l.event === 'admin.audit' && l.operation === 'hand-edit' && /edited by hand \(tokens: 1 changed users\)/.test(String(l.message))));
    await expectDecision(gw, TOKEN, 'dave', 403);
  });

  it('says which tokens appeared, disappeared and changed users, by fingerprint; a refused edit says so too', async () => {
    const edited = adm.file().replace(`${OTHER_TOKEN}=*\n`, `${HAND}=erin\n`).replace('=alice,bob,carol', '=alice,carol,zed');
    writeFileSync(gw.config.proxyUserFile, edited);
    await within2s(() => handEdits().length === 2, 'hand edit audited');
    const rec = handEdits()[1]!;
    assert.deepEqual(rec.appeared, [{ token: tokenFingerprint(HAND), users: ['erin'] }]);
    assert.deepEqual(rec.disappeared, [{ token: tokenFingerprint(OTHER_TOKEN), users: '*' }]);
    assert.deepEqual(rec.usersChanged, [{ token: tokenFingerprint(TOKEN), added: ['zed'], removed: ['bob'] }]);
    await expectDecision(gw, HAND, 'erin', 200);

    const broken = `${edited}${OTHER_TOKEN}=bad name\n`;
    writeFileSync(gw.config.proxyUserFile, broken);
    await within2s(() => handEdits().length === 3, 'refused hand edit audited');
    const refused = handEdits()[2]!;
    assert.equal(refused.applied, false);
    assert.deepEqual(refused.appeared, [{ token: tokenFingerprint(OTHER_TOKEN), users: ['bad name'] }], 'what the refused file would have changed');
    const text = JSON.stringify(adm.audit());
    for (const secret of [TOKEN, OTHER_TOKEN, HAND]) assert.ok(!text.includes(secret));
    writeFileSync(gw.config.proxyUserFile, edited);
    await within2s(() => handEdits().length === 4, 'the fix audited');
  });

  it('a touch that changes no byte is not a change; the API lists the recent records, newest first', async () => {
    const now = new Date();
    utimesSync(gw.config.proxyUserFile, now, new Date(now.getTime() + 5000));
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal(handEdits().length, 4);
    const r = await adm.api('GET', 'audit?limit=2');
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.body.data.records.map((x: any) => [x.operation, x.applied]), [['hand-edit', true], ['hand-edit', false]]);
    assert.equal((await adm.api('GET', 'audit')).body.data.records.length, 6, 'two admin writes, four hand edits');
  });
});
