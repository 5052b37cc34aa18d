/**
 * classifyRequest: which Linkis service a path belongs to, as Linkis's own gateway decides it by the first
 * segment after /api/rest_j/v1/ (DefaultGatewayParser, PUBLIC_SERVICE_LIST), and which methods reach one.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { classifyRequest, PUBLIC_SERVICE_PREFIXES } from '../../src/linkis/routes';

const V1 = '/api/rest_j/v1';

test('table: service, kind and refusals', () => {
  const rows: Array<[string, string, Record<string, unknown>]> = [
    ['POST', `${V1}/user/login`, { type: 'session', action: 'login', kind: 'session' }],
    ['GET', `${V1}/user/login`, { type: 'session', action: 'login' }], // the login API checks its own methods
    ['GET', `${V1}/user/proxy?proxyUser=a&validationCode=b`, { type: 'session', action: 'proxy', path: `${V1}/user/proxy` }],
    ['GET', `${V1}/user/logout`, { type: 'session', action: 'logout' }],
    ['GET', `${V1}/user/userInfo`, { type: 'reject', code: 'NOT_FOUND' }],
    ['GET', `${V1}/user/login/x`, { type: 'reject', code: 'NOT_FOUND' }],
    ['GET', `${V1}/jobhistory/42/get`, { type: 'publicservice', kind: 'jobhistory', prefix: 'jobhistory' }],
    ['GET', `${V1}/filesystem/openFile?path=x`, { type: 'publicservice', kind: 'filesystem', prefix: 'filesystem' }],
    ['POST', `${V1}/configuration/setKeyValue`, { type: 'publicservice', kind: 'publicservice', prefix: 'configuration' }],
    ['GET', `${V1}/metadataQuery/getDbs`, { type: 'publicservice', prefix: 'metadataQuery' }],
    ['GET', `${V1}/metadataquery/getDbs`, { type: 'reject', code: 'NOT_FOUND' }], // Linkis compares case-sensitively
    ['GET', `${V1}/jobhistory`, { type: 'reject', code: 'NOT_FOUND' }],
    ['GET', `${V1}/linkisManager/listEMs`, { type: 'reject', code: 'NOT_FOUND' }], // not publicservice
    ['DELETE', `${V1}/jobhistory/42/get`, { type: 'reject', code: 'METHOD_NOT_ALLOWED' }],
    ['TRACE', `${V1}/entrance/submit`, { type: 'reject', code: 'METHOD_NOT_ALLOWED' }],
    ['HEAD', `${V1}/entrance/exec_id018014linkis-cg-entrancelocalhost:9104IDE_root_spark_7/status`, { type: 'reject', code: 'METHOD_NOT_ALLOWED' }],
    ['GET', `${V1}/jobhistory/../entrance/submit`, { type: 'reject', code: 'BAD_PATH' }],
    ['GET', `${V1}/jobhistory//get`, { type: 'reject', code: 'BAD_PATH' }],
    ['GET', `${V1}/entrance/42/status`, { type: 'task', taskId: '42', kind: 'status' }],
    // Linkis's owner check on file paths is a `contains` test: a ".." segment in any parameter walks out of it.
    ['GET', `${V1}/filesystem/chmod?filePath=file:///tmp/linkis/alice/../bob&isRecursion=true`, { type: 'reject', code: 'BAD_PATH' }],
    ['GET', `${V1}/filesystem/getDirFileTrees?path=file%3A%2F%2F%2Ftmp%2Flinkis%2Falice%2F%2E%2E`, { type: 'reject', code: 'BAD_PATH' }],
    ['GET', `${V1}/filesystem/rename?oldDest=..\\bob&newDest=x`, { type: 'reject', code: 'BAD_PATH' }],
    ['GET', `${V1}/filesystem/openFile?path=file:///tmp/linkis/alice/a..b.sql`, { type: 'publicservice', kind: 'filesystem' }],
    ['GET', `${V1}/filesystem/openFile?path=file:///tmp/linkis/alice/%252e%252e/x`, { type: 'publicservice', kind: 'filesystem' }], // Linkis decodes once
    ['GET', `${V1}/jobhistory/list?proxyUser=..`, { type: 'publicservice', kind: 'jobhistory' }],
    ['GET', '/api/rest_j/v2/jobhistory/1/get', { type: 'reject', code: 'NOT_FOUND' }],
  ];
  for (const [method, url, want] of rows) {
    const got = classifyRequest(method, url) as unknown as Record<string, unknown>;
    for (const [k, v] of Object.entries(want)) assert.equal(got[k], v, `${method} ${url}: ${k}`);
  }
});

test('every Linkis publicservice prefix routes to publicservice with its own prefix', () => {
  for (const p of PUBLIC_SERVICE_PREFIXES) {
    const r = classifyRequest('GET', `${V1}/${p}/x`);
    assert.equal(r.type, 'publicservice', p);
    assert.equal((r as { prefix: string }).prefix, p);
  }
});
