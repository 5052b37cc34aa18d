/**
 * The admin page in a real browser (Debian's chromium, driven by playwright-core): an admin signs in,
 * creates a token, adds and removes a user, deletes the token; after each step the file and the live
 * gateway's answer to a proxied request are checked. A screenshot is kept in test-artifacts/.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { chromium, type Browser, type Page } from 'playwright-core';
import { tokenFingerprint } from '../../src/control-plane/token-policy';
import type { EntranceSimulator } from '../../src/simulator/entrance';
import { ADMIN_NAME, ADMIN_TOKEN, decision, expectDecision, startAdmin, type TestAdmin } from '../support/admin-harness';
import { OTHER_TOKEN, TOKEN, startGateway, startSimulators, type TestGateway } from '../support/harness';

const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = join(__dirname, '..', '..', 'test-artifacts');
const ORIGINAL = `# allowlist for the browser test\n${TOKEN}=alice,bob\n\n# scheduler\n${OTHER_TOKEN}=*\n`;

describe('admin page in chromium', () => {
  let sims: EntranceSimulator[];
  let gw: TestGateway;
  let adm: TestAdmin;
  let browser: Browser;
  let page: Page;
  const pageErrors: string[] = [];

  before(async () => {
    // A missing browser must fail the suite, not skip it: CI installs it (.ci/run).
    assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing: install Debian's chromium (apt-get install -y chromium), as .ci/run does`);
    sims = await startSimulators(1);
    gw = await startGateway(sims, { proxyProperties: ORIGINAL });
    adm = await startAdmin(gw);
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    page.setDefaultTimeout(5000);
    page.on('pageerror', (e) => pageErrors.push(e.message));
    page.on('console', (m) => {
      if (m.type() === 'error') pageErrors.push(m.text());
    });
  });
  after(async () => {
    await browser?.close();
    await adm?.close();
    await gw?.close();
    await Promise.all((sims ?? []).map((s) => s.close()));
  });

  it('signs in, creates a token, adds and removes a user, deletes the token; the file and the gateway follow each step', async () => {
    await page.goto(`${adm.url}/admin/`);
    // A wrong token is refused with a clear message.
    await page.fill('#admin-token', 'not-the-admin-token');
    await page.click('#signin-form button[type=submit]');
    await page.waitForSelector('#error:not([hidden])');
    assert.match(await page.textContent('#error-text') ?? '', /Sign-in refused/);

    await page.fill('#admin-token', ADMIN_TOKEN);
    await page.click('#signin-form button[type=submit]');
    await page.waitForSelector('#app:not([hidden])');
    assert.equal(await page.textContent('#who-name'), ADMIN_NAME);
    await page.locator('#tokens tbody tr').nth(1).waitFor(); // the listing loads after the app shows
    assert.equal(await page.locator('#tokens tbody tr').count(), 2);
    assert.equal(await page.textContent(`tr[data-fingerprint="${tokenFingerprint(TOKEN)}"] .masked`), 'test…');
    // The comment right above a token is its label.
    assert.equal(await page.textContent(`tr[data-fingerprint="${tokenFingerprint(OTHER_TOKEN)}"] .token-label`), 'scheduler');

    // Create, with a label: the token is shown once, with a copy button.
    await page.fill('#create-users', 'carol');
    await page.fill('#create-label', 'nightly reports');
    await page.click('#create-form button[type=submit]');
    await page.waitForSelector('#created:not([hidden])');
    const token = (await page.textContent('#created-token'))!;
    assert.match(token, /^[0-9a-f]{48}$/);
    const fp = tokenFingerprint(token);
    const row = `tr[data-fingerprint="${fp}"]`;
    await page.waitForSelector(row);
    const labelLine = /^# nightly reports \(created \S+Z by ops-anna\)$/m.exec(adm.file())![0];
    const withNew = (users: string) => `${ORIGINAL}${labelLine}\n${token}=${users}\n`;
    assert.equal(adm.file(), withNew('carol'));
    assert.equal(await page.textContent(`${row} .token-label`), 'nightly reports');
    assert.match((await page.textContent(`${row} td.created-at`))!, /^\d{4}-\d\d-\d\d \d\d:\d\dby ops-anna$/);
    await expectDecision(gw, token, 'carol', 200);
    assert.equal(await decision(gw, token, 'dave'), 403);

    // Add a user.
    await page.fill(`${row} .add-user input`, 'dave');
    await page.click(`${row} .add-user button`);
    await page.waitForSelector(`${row} .chip[data-user="dave"]`);
    assert.equal(adm.file(), withNew('carol,dave'));
    await expectDecision(gw, token, 'dave', 200);
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, 'admin-page.png'), fullPage: true });
    await page.click('#created-done');
    assert.equal(await page.isHidden('#created'), true);

    // Remove a user, after confirming.
    await page.click(`${row} .chip[data-user="carol"] button`);
    await page.waitForSelector('#confirm[open]');
    assert.match((await page.textContent('#confirm-text'))!, /Remove carol/);
    await page.click('#confirm-ok');
    await page.waitForSelector(`${row} .chip[data-user="carol"]`, { state: 'detached' });
    assert.equal(adm.file(), withNew('dave'));
    await expectDecision(gw, token, 'carol', 403);

    // Delete: cancelling does nothing; confirming deletes.
    await page.click(`${row} .delete-token`);
    await page.waitForSelector('#confirm[open]');
    await page.click('#confirm-cancel');
    assert.equal(adm.file(), withNew('dave'));
    await page.click(`${row} .delete-token`);
    await page.waitForSelector('#confirm[open]');
    assert.match((await page.textContent('#confirm-text'))!, /Delete token sha256:/);
    await page.click('#confirm-ok');
    await page.waitForSelector(row, { state: 'detached' });
    assert.equal(adm.file(), ORIGINAL, 'the token and its label line are gone');
    await expectDecision(gw, token, 'dave', 401);
  });

  it('tells the admin to reload when the file changed meanwhile, and changes nothing', async () => {
    const handEdit = ORIGINAL.replace(`${TOKEN}=alice,bob`, `${TOKEN}=alice,bob,hand`);
    writeFileSync(gw.config.proxyUserFile, handEdit);
    const row = `tr[data-fingerprint="${tokenFingerprint(TOKEN)}"]`;
    await page.fill(`${row} .add-user input`, 'zed');
    await page.click(`${row} .add-user button`);
    await page.waitForSelector('#error:not([hidden])');
    assert.match((await page.textContent('#error-text'))!, /changed the allowlist .* Reload/);
    assert.equal(adm.file(), handEdit);
    await page.click('#error-reload');
    await page.waitForSelector(`${row} .chip[data-user="hand"]`);
    // What the admin typed survives the Reload: they can press Add again on the current version.
    assert.equal(await page.inputValue(`${row} .add-user input`), 'zed');
    // Search narrows the list.
    // Runs in the page, where `document` exists (this project's TypeScript has no DOM types).
    const rows = (n: number) => page.waitForFunction((k) => (globalThis as unknown as { document: { querySelectorAll(s: string): { length: number } } }).document.querySelectorAll('#tokens tbody tr').length === k, n);
    await page.fill('#search', 'hand');
    await rows(1);
    await page.fill('#search', '');
    await rows(2);
    // A token for any user (*) is restricted to a list, after a confirmation.
    const any = `tr[data-fingerprint="${tokenFingerprint(OTHER_TOKEN)}"]`;
    await expectDecision(gw, OTHER_TOKEN, 'zoe', 200);
    await page.fill(`${any} .add-user input`, 'sched');
    await page.click(`${any} .add-user button`);
    await page.waitForSelector('#confirm[open]');
    assert.match((await page.textContent('#confirm-text'))!, /It may then act as no other user/);
    await page.click('#confirm-ok');
    await page.waitForSelector(`${any} .chip[data-user="sched"]`);
    assert.equal(adm.file(), handEdit.replace(`${OTHER_TOKEN}=*`, `${OTHER_TOKEN}=sched`));
    await expectDecision(gw, OTHER_TOKEN, 'zoe', 403);
  });

  it('tells tokens apart by label, creation and last use; edits a label with every button waiting meanwhile; shows the recent changes', async () => {
    const other = `tr[data-fingerprint="${tokenFingerprint(OTHER_TOKEN)}"]`;
    const mine = `tr[data-fingerprint="${tokenFingerprint(TOKEN)}"]`;
    await expectDecision(gw, OTHER_TOKEN, 'sched', 200);
    // What the data plane's onAllowed calls for that request (src/main.ts wires it; the CLI test runs that path).
    adm.admin.usage.note(tokenFingerprint(OTHER_TOKEN));
    await page.click('#reload');
    await page.waitForSelector(`${other} td.used-at:not(.never)`);
    assert.match((await page.textContent(`${other} td.used-at`))!, /^just now\d{4}-\d\d-\d\d \d\d:\d\d$/);
    assert.equal(await page.textContent(`${mine} td.used-at`), 'never');
    assert.equal(await page.textContent(`${mine} td.created-at`), 'unknown', 'written by hand: no creation recorded');

    // Edit a label. While the change is in flight, no button can start another one.
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    await page.route('**/admin/api/tokens/*/label', async (route) => {
      await held;
      await route.continue();
    });
    await page.click(`${other} .edit-label`);
    await page.fill(`${other} .label-form input`, 'scheduler (Airflow)');
    await page.click(`${other} .label-form button[type=submit]`);
    await page.waitForSelector('#create-form button[type=submit]:disabled');
    for (const b of [`${mine} .delete-token`, `${mine} .add-user button`, `${other} .label-form button[type=submit]`, '#reload']) assert.equal(await page.isDisabled(b), true, b);
    release();
    await page.waitForSelector(`${other} .token-label:has-text("scheduler (Airflow)")`);
    await page.unroute('**/admin/api/tokens/*/label');
    for (const b of ['#create-form button[type=submit]', `${mine} .delete-token`, '#reload']) assert.equal(await page.isDisabled(b), false, b);
    assert.match(adm.file(), new RegExp(`^# scheduler \\(Airflow\\)\\n${OTHER_TOKEN}=sched$`, 'm'), 'the comment line above the token');
    // Search finds it by label.
    await page.fill('#search', 'airflow');
    assert.equal(await page.locator('#tokens tbody tr').count(), 1);
    await page.fill('#search', '');

    // Recent changes: the label, the restriction, and the hand edit with what it changed, newest first.
    await page.waitForSelector('#audit tbody tr[data-operation="set-label"]');
    assert.deepEqual(await page.locator('#audit tbody tr').evaluateAll((rows) => rows.slice(0, 3).map((r) => r.getAttribute('data-operation'))), ['set-label', 'set-users', 'hand-edit']);
    assert.match((await page.textContent('#audit tbody tr:nth-child(1)'))!, /ops-anna set-label.*label "scheduler" → "scheduler \(Airflow\)"/);
    assert.match((await page.textContent('#audit tbody tr:nth-child(3)'))!, /edit by hand hand-edit.*\(allowlist for the browser test\): users \+hand/);
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, 'admin-page-labels.png'), fullPage: true });
  });

  it('marks weak tokens (written by hand, as Linkis allows) with a visible badge and says why', async () => {
    const weakFile = `${adm.file()}abc=alice\nLINKIS-UNAVAILABLE-TOKEN=*\n`;
    writeFileSync(gw.config.proxyUserFile, weakFile);
    await page.click('#reload');
    const short = `tr[data-fingerprint="${tokenFingerprint('abc')}"]`;
    const linkis = `tr[data-fingerprint="${tokenFingerprint('LINKIS-UNAVAILABLE-TOKEN')}"]`;
    await page.waitForSelector(`${short} .badge.weak`);
    assert.equal(await page.isVisible(`${short} .badge.weak`), true);
    assert.equal(await page.textContent(`${short} .badge.weak`), 'weak');
    assert.equal(await page.textContent(`${short} .weak-reason`), 'shorter than 16 characters (3)');
    assert.equal(await page.textContent(`${linkis} .weak-reason`), 'a well-known Linkis default or example value');
    assert.equal(await page.locator(`tr[data-fingerprint="${tokenFingerprint(TOKEN)}"] .badge`).count(), 0, 'a strong token has no badge');
    assert.equal(await page.isVisible('#weak-tokens'), true);
    assert.match((await page.textContent('#weak-tokens'))!, /^2 weak tokens \(marked below\): they still work/);
    assert.equal(await page.isVisible('#file-problems'), false, 'under warn the file is not refused');
    await expectDecision(gw, 'abc', 'alice', 200);
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, 'admin-page-weak.png'), fullPage: true });
  });

  it('drains an Entrance after a confirmation, shows it draining, and undrains it', async () => {
    const name = sims[0]!.instance;
    const row = `#entrances tr[data-instance="${name}"]`;
    await page.click(`${row} .drain-entrance`);
    await page.waitForSelector('#confirm[open]');
    assert.match((await page.textContent('#confirm-text'))!, /Drain .* no new submissions .* every worker/);
    await page.click('#confirm-ok');
    await page.waitForSelector(`${row} td.state-draining`);
    assert.equal(gw.registry.get(name)!.draining, true);
    assert.match((await page.textContent('#notice'))!, /is draining on this gateway \(1 process\)/);
    assert.equal(await page.textContent(`${row} .drain-entrance`), 'Undrain');
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, 'admin-page-draining.png'), fullPage: true });
    await page.click(`${row} .drain-entrance`);
    await page.waitForSelector(`${row} td.state-healthy`);
    assert.equal(gw.registry.get(name)!.draining, false);
    assert.match((await page.textContent('#notice'))!, /takes new jobs again/);
  });

  it('shows the Entrances, and the page ran without script or CSP errors', async () => {
    assert.equal(await page.textContent('#entrances tbody tr td:nth-child(3)'), 'healthy');
    // The refused sign-in (401) and the conflict (409) are expected answers; anything else is a fault.
    assert.deepEqual(pageErrors.filter((e) => !/status of (401|409)/.test(e)), []);
  });
});
