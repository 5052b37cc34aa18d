/**
 * Demo mode: when no Entrance is configured, the gateway starts two simulated Entrances in-process and
 * a proxy.properties with a freshly generated token, so the quick start runs a real job end to end
 * without a Linkis installation. Nothing here runs when `gateway.entrance.instances` is set.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EntranceInstance, GatewayConfig } from './control-plane/config';
import { createEntranceSimulator, type EntranceSimulator } from './simulator/entrance';

export interface Demo {
  instances: EntranceInstance[];
  proxyUserFile: string;
  token: string;
  close(): Promise<void>;
}

export async function startDemo(config: GatewayConfig): Promise<Demo> {
  const sims: EntranceSimulator[] = [];
  for (const [i, execIdFormat] of (['1.x', '0.x'] as const).entries()) {
    sims.push(await createEntranceSimulator({ cryptKey: config.cryptKey, ticketCookie: config.ticketCookie, execIdFormat, taskIdStart: 1 + i * 1_000_000 }));
  }
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
    instances: sims.map((s) => ({ name: s.instance, url: s.url })),
    proxyUserFile,
    token,
    close: async () => {
      await Promise.all(sims.map((s) => s.close()));
    },
  };
}

export function demoCurl(gatewayUrl: string, token: string): string {
  const body = JSON.stringify({
    executionContent: { code: 'show tables', runType: 'sql' },
    params: { variable: {}, configuration: {} },
    labels: { engineType: 'spark-3.2.1', userCreator: 'alice-IDE' },
  });
  return `curl -s -H 'Proxy-User: alice' -H 'Validation-Code: ${token}' -H 'Content-Type: application/json' \\\n  -d '${body}' \\\n  ${gatewayUrl}/api/rest_j/v1/entrance/submit`;
}
