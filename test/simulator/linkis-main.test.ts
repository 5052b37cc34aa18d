/**
 * A whole simulated Linkis from the command line (`main.ts --linkis`, what docker-compose runs), and the
 * demo mode built on it.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { describe, it } from 'node:test';
import type { GatewayConfig } from '../../src/control-plane/config';
import { demoCurl, startDemo } from '../../src/demo';
import { parseLinkisArgs } from '../../src/simulator/main';
import { call, REST, submit } from './support';

describe('simulator main: --linkis', () => {
  it('defaults to Entrances on 9104 and 9106 and the publicservice on 9105, named after --instance-host', () => {
    const o = parseLinkisArgs(['--linkis', '--host', '0.0.0.0', '--instance-host', 'linkis', '--result-rows', '12'], {});
    assert.equal(o.host, '0.0.0.0');
    assert.deepEqual(
      (o.entrances as Array<{ port?: number; instance?: string }>).map((e) => [e.port, e.instance]),
      [
        [9104, 'linkis:9104'],
        [9106, 'linkis:9106'],
      ],
    );
    assert.equal(o.publicservice!.port, 9105);
    assert.equal(o.publicservice!.instance, 'linkis:9105');
    assert.equal(o.history!.resultRows, 12);
  });

  it('runs Entrances and a publicservice in one process, prints the gateway lines, and stops on SIGTERM', async () => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', 'src/simulator/main.ts', '--linkis', '--entrance-ports', '0,0', '--publicservice-port', '0', '--polls-per-state', '0'],
      { cwd: `${__dirname}/../..`, env: { ...process.env, LINKIS_CRYPT_KEY: 'bdp-for-server' }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    try {
      const lines = await new Promise<string[]>((resolve, reject) => {
        let out = '';
        child.stdout.on('data', (c: Buffer) => {
          out += c.toString();
          const l = out.split('\n');
          if (l.length > 2) resolve(l.slice(0, 2));
        });
        child.once('exit', (code) => reject(new Error(`exited ${code}`)));
      });
      const entrances = /^gateway\.entrance\.instances=(.+)$/.exec(lines[0]!)![1]!.split(',');
      assert.equal(entrances.length, 2);
      const [name, url] = entrances[0]!.split('=') as [string, string];
      assert.match(name, /^127\.0\.0\.1:[0-9]+$/);
      assert.equal(url, `http://${name}`);
      const psUrl = /^gateway\.publicservice\.instances=127\.0\.0\.1:[0-9]+=(http:\/\/127\.0\.0\.1:[0-9]+)$/.exec(lines[1]!)![1]!;
      const { taskID } = await submit(url);
      const t = (await call(psUrl, 'GET', `${REST}/jobhistory/${taskID}/get`)).json.data.task;
      assert.equal(t.status, 'Succeed');
      assert.equal(t.instance, name);
      const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
      child.kill('SIGTERM');
      assert.equal(await exit, 0);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });
});

describe('demo mode on a simulated Linkis', () => {
  it('starts two Entrances and a publicservice sharing a history, and closes them', async () => {
    const demo = await startDemo({ cryptKey: 'bdp-for-server', ticketCookie: 'linkis_user_session_ticket_id_v1' } as GatewayConfig);
    try {
      assert.equal(demo.instances.length, 2);
      assert.equal(demo.publicservice.length, 1);
      const { taskID } = await submit(demo.instances[1]!.url);
      const r = await call(demo.publicservice[0]!.url, 'GET', `${REST}/jobhistory/${taskID}/get`);
      assert.equal(r.json.data.task.instance, demo.instances[1]!.name);
    } finally {
      await demo.close();
    }
    await assert.rejects(fetch(`${demo.publicservice[0]!.url}${REST}/jobhistory/list`));
  });

  it('prints the submit curl first, then a token-auth read of the job history', () => {
    const text = demoCurl('http://127.0.0.1:9001', 'tok3n-value');
    assert.match(text, /^curl -s -H 'Proxy-User: alice' -H 'Validation-Code: tok3n-value'/);
    assert.ok(text.indexOf('/entrance/submit') < text.indexOf('Token-User'));
    assert.match(text, /-H 'Token-User: alice' -H 'Token-Code: tok3n-value'/);
    assert.match(text, /http:\/\/127\.0\.0\.1:9001\/api\/rest_j\/v1\/jobhistory\/<taskID>\/get/);
    assert.match(text, /use the taskID from the answer/);
  });
});
