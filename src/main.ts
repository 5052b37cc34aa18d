/**
 * The gateway process: the only place that reads the command line and environment, listens, watches
 * files and handles signals. Everything it starts has close(), called in reverse order on shutdown.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import { createAllowlistStore } from './allowlist-store';
import { ConfigError, loadConfig, type GatewayConfig } from './config';
import { demoCurl, startDemo, type Demo } from './demo';
import { watchFile } from './file-watch';
import { createGateway } from './gateway';
import { createLogger } from './logger';
import { createUpstreamRegistry } from './upstreams';

function confDirFrom(argv: string[], env: NodeJS.ProcessEnv): string {
  const i = argv.indexOf('--conf');
  if (i !== -1 && argv[i + 1]) return resolve(argv[i + 1]);
  const eq = argv.find((a) => a.startsWith('--conf='));
  if (eq) return resolve(eq.slice('--conf='.length));
  return resolve(env.LINKIS_GATEWAY_CONF ?? 'conf');
}

async function main(): Promise<void> {
  let config: GatewayConfig;
  try {
    config = loadConfig(confDirFrom(process.argv.slice(2), process.env));
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`linkis-gateway: configuration error\n${err.message}\n`);
    process.exit(2);
  }
  const logger = createLogger(config.log);
  const closers: Array<() => unknown> = [];

  let demo: Demo | undefined;
  if (config.instances.length === 0) {
    demo = await startDemo(config);
    closers.push(() => demo!.close());
    config = { ...config, instances: demo.instances, proxyUserFile: demo.proxyUserFile };
    logger.warn('demo mode: no gateway.entrance.instances configured, started simulated Entrances', { instances: demo.instances.map((i) => `${i.name}=${i.url}`) });
  }

  const store = createAllowlistStore({ file: config.proxyUserFile, logger });
  const first = store.reload('start');
  if (!first.ok) {
    const lines = first.problems.map((p) => `${config.proxyUserFile}:${p.line}: ${p.message}`);
    process.stderr.write(`linkis-gateway: ${config.proxyUserFile}: ${first.error ?? 'invalid'}\n${lines.join('\n')}\n`);
    process.exit(2);
  }
  closers.push(() => store.close());
  const watcher = watchFile(config.proxyUserFile, () => store.reload('file-change'));
  closers.push(() => watcher.close());

  const registry = createUpstreamRegistry(config.instances, { failureThreshold: 3, ejectMs: 10_000 });
  closers.push(() => registry.close());
  const gateway = createGateway({ config, logger, allowlist: () => store.current(), registry });
  closers.push(() => gateway.close());

  const server = createServer({ requestTimeout: 300_000, headersTimeout: 30_000, keepAliveTimeout: 65_000 }, gateway.handle);
  server.on('clientError', gateway.onClientError);
  await new Promise<void>((ok, fail) => server.once('error', fail).listen(config.server.port, config.server.host, ok));
  const { port } = server.address() as AddressInfo;
  const shownHost = config.server.host === '0.0.0.0' || config.server.host === '::' ? '127.0.0.1' : config.server.host;
  const url = `http://${shownHost}:${port}`;
  logger.info('listening', { url, port, instances: config.instances.map((i) => i.name), proxyUserFile: config.proxyUserFile, tokens: first.tokens });
  if (demo) {
    process.stdout.write(
      `\nlinkis-gateway is running at ${url} in demo mode (2 simulated Entrances).\n` +
        `Allowlist: ${demo.proxyUserFile} (token for alice,bob; edit it live)\n\nSubmit a job as alice:\n\n${demoCurl(url, demo.token)}\n\n` +
        `Then poll: curl -s -H 'Proxy-User: alice' -H 'Validation-Code: ${demo.token}' ${url}/api/rest_j/v1/entrance/<execID>/status\n\n`,
    );
  }

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info('shutting down', { signal });
    server.close(async () => {
      for (const close of closers.reverse()) await close();
      process.exit(0);
    });
    server.closeIdleConnections();
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

main().catch((err) => {
  process.stderr.write(`linkis-gateway: failed to start: ${(err as Error)?.stack ?? err}\n`);
  process.exit(1);
});
