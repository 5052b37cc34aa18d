/**
 * Assembles the gateway from its parts. This is the one place that shows the order in which a request
 * is handled. Proxied Linkis traffic takes the lean data plane; everything else goes to an Express app
 * (health, and a 404 envelope for what the gateway does not serve).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import express from 'express';
import helmet from 'helmet';
import type { Logger } from 'winston';
import type { Allowlist } from './allowlist';
import { createProxyUserAuth } from './auth';
import { createBodyReader } from './body';
import type { GatewayConfig } from './config';
import { accessLog, actAsUser, createErrorResponder, routeRequest, selectUpstream } from './data-plane';
import { envelopeJson, errorEnvelope, sendEnvelope } from './envelope';
import { GatewayError } from './errors';
import { compose } from './pipeline';
import { createEntranceProxy } from './proxy';
import { ENTRANCE_PREFIX } from './routes';
import { createTicketCache, createTicketCodec } from './ticket';
import type { UpstreamRegistry } from './upstreams';

export interface GatewayDeps {
  config: GatewayConfig;
  logger: Logger;
  allowlist: () => Allowlist;
  registry: UpstreamRegistry;
}

export interface Gateway {
  /** The `request` listener for the public HTTP server. */
  handle(req: IncomingMessage, res: ServerResponse): void;
  /** The `clientError` listener: requests Node could not parse still get an envelope. */
  onClientError(err: NodeJS.ErrnoException, socket: Socket): void;
  close(): void;
}

export function createGateway(deps: GatewayDeps): Gateway {
  const { config, logger, registry } = deps;
  const tickets = createTicketCache(createTicketCodec(config.cryptKey), config.ticketCacheMs);
  const proxy = createEntranceProxy({ registry, ...config.upstream });
  const onError = createErrorResponder(logger);

  // Apply in order:
  const dataPlane = compose(
    [
      accessLog(logger), //                                   1. request id, one access line when done
      createProxyUserAuth({ //                                 2. Proxy-User + Validation-Code vs the live allowlist
        allowlist: deps.allowlist,
        onRefusal: (req, o) => logger.warn('auth refused', { requestId: req.gw?.id, reason: o.reason, token: o.fingerprint }),
      }),
      routeRequest(), //                                       3. which call; execID → instance; malformed → 400
      createBodyReader(config.bodyLimitBytes), //              4. bounded body; submissions rewritten to the user
      actAsUser(tickets, config.ticketCookie), //              5. strip client identity, add the user's ticket
      selectUpstream(registry), //                             6. the execID's own instance, or the balancer
      proxy.forward, //                                        7. http-proxy-middleware to the Entrance
    ],
    onError,
  );

  const controlPlane = express();
  controlPlane.disable('x-powered-by');
  controlPlane.use(helmet());
  controlPlane.get('/health', (_req, res) => {
    res.type('application/json;charset=UTF-8').send(envelopeJson('/health', 0, 'OK', {}));
  });
  controlPlane.use((req, res) => {
    const err = new GatewayError('NOT_FOUND', req.path);
    sendEnvelope(res, err.http, errorEnvelope(req.path, err, req.gw?.id));
  });

  return {
    handle(req, res) {
      if (req.url?.startsWith(ENTRANCE_PREFIX)) dataPlane(req, res);
      else controlPlane(req, res);
    },
    onClientError(err, socket) {
      if (err.code === 'ECONNRESET' || !socket.writable) return void socket.destroy();
      const tooLarge = err.code === 'HPE_HEADER_OVERFLOW';
      const gwErr = new GatewayError('BAD_HEADER', tooLarge ? 'the request headers are too large' : 'the request could not be parsed as HTTP');
      const body = errorEnvelope('/', gwErr);
      const status = tooLarge ? 431 : 400;
      socket.end(
        `HTTP/1.1 ${status} ${tooLarge ? 'Request Header Fields Too Large' : 'Bad Request'}\r\n` +
          `content-type: application/json;charset=UTF-8\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
      );
    },
    close() {
      proxy.close();
      tickets.close();
    },
  };
}
