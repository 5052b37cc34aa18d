/**
 * Demo mode: when no Entrance is configured, the gateway starts a whole simulated Linkis in-process (two
 * Entrances, one writing 1.x execIDs and one 0.x, and a linkis-ps-publicservice over a shared job history)
 * and a proxy.properties with a freshly generated token, so the quick start runs a real job end to end,
 * results and logs included, without a Linkis installation. Nothing here runs when
 * `gateway.entrance.instances` is set.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EntranceInstance, GatewayConfig } from './control-plane/config';
import { startSimulatedLinkis } from './simulator/linkis';

export interface Demo {
  instances: EntranceInstance[];
  /** The simulated linkis-ps-publicservice, as `gateway.publicservice.instances` would name it. */
  publicservice: EntranceInstance[];
  proxyUserFile: string;
  token: string;
  close(): Promise<void>;
}

export async function startDemo(config: GatewayConfig): Promise<Demo> {
  // taskIDs come from the shared job history, as from Linkis's database: one sequence for both Entrances.
  const linkis = await startSimulatedLinkis({ cryptKey: config.cryptKey, ticketCookie: config.ticketCookie, entrances: 2 });
  const token = randomBytes(24).toString('base64url');
  const dir = mkdtempSync(join(tmpdir(), 'linkis-gateway-demo-'));
  const proxyUserFile = join(dir, 'proxy.properties');
  writeFileSync(
    proxyUserFile,
    `# Demo allowlist written by linkis-gateway at start-up (demo mode: no Entrances configured).\n` +
      `# Edit this file while the gateway runs; changes apply within 2 seconds.\n${token}=alice,bob\n`,
    { mode: 0o600 },
  );
  return {
    instances: linkis.entrances.map((s) => ({ name: s.instance, url: s.url })),
    publicservice: [{ name: linkis.publicservice.instance, url: linkis.publicservice.url }],
    proxyUserFile,
    token,
    close: () => linkis.close(),
  };
}

export function demoCurl(gatewayUrl: string, token: string): string {
  const body = JSON.stringify({
    executionContent: { code: 'show tables', runType: 'sql' },
    params: { variable: {}, configuration: {} },
    labels: { engineType: 'spark-3.2.1', userCreator: 'alice-IDE' },
  });
  return (
    `curl -s -H 'Proxy-User: alice' -H 'Validation-Code: ${token}' -H 'Content-Type: application/json' \\\n  -d '${body}' \\\n  ${gatewayUrl}/api/rest_j/v1/entrance/submit\n\n` +
    // Token auth, as linkis-cli and the Java SDK send it; the job history is the publicservice's.
    `Then read its job history with token auth (use the taskID from the answer):\n\n` +
    `curl -s -H 'Token-User: alice' -H 'Token-Code: ${token}' \\\n  ${gatewayUrl}/api/rest_j/v1/jobhistory/<taskID>/get`
  );
}
