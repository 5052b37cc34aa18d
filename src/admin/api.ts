/**
 * The admin listener's HTTP app: the page at /admin/, the JSON API under /admin/api/. Every answer is a
 * Linkis envelope. Tokens are addressed by fingerprint, never by the token (URLs end up in logs and
 * browser history). Changes need `If-Match: <ETag>` from the caller's last read, so nobody overwrites a
 * change they have not seen.
 */
import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import helmet from 'helmet';
import type { Logger } from 'winston';
import { envelopeJson, errorEnvelope, sendEnvelope } from '../linkis/envelope';
import { GatewayError } from '../linkis/errors';
import type { DrainOutcome, UpstreamRegistry } from '../control-plane/upstreams';
import { AdminError } from './admin-error';
import type { AdminCredentials } from './credentials';
import { ADMIN_CSS, ADMIN_HTML, ADMIN_JS } from './page';
import { checkUsers, normalizeFingerprint, type Users } from './tokens-file';
import { parseEtag } from './tokens-repo';
import type { Actor, TokensService } from './tokens-service';

export interface AdminAppDeps {
  service: TokensService;
  credentials: AdminCredentials;
  registry: UpstreamRegistry;
  logger: Logger;
  /**
   * Extension point for other endpoints on the admin listener (metrics, health, draining). Called after
   * the admin routes and before the 404; `requireAdmin` guards a route with the admin credential.
   */
  extraRoutes?: (app: Router, helpers: { requireAdmin: express.RequestHandler }) => void;
}

const ROUTE_WORDS = new Set(['', 'admin', 'api', 'tokens', 'users', 'remove', 'me', 'entrances', 'draining', 'app.js', 'app.css', 'label', 'audit']);
const FINGERPRINT_SEGMENT = /^(sha256(:|%3a))?[0-9a-f]{12}$/i;

/**
 * The request path for envelopes and logs, with every segment that is not a route word or a fingerprint
 * replaced by `…`: someone will paste a whole token into a URL, and it must not come back or be logged.
 */
function pathOf(req: Request): string {
  const path = req.originalUrl.split('?')[0]!;
  return path
    .split('/')
    .map((s) => (ROUTE_WORDS.has(s) || FINGERPRINT_SEGMENT.test(s) ? s : '…'))
    .join('/');
}

function ok(req: Request, res: Response, message: string, data: Record<string, unknown>, etag?: string): void {
  sendEnvelope(res, 200, envelopeJson(pathOf(req), 0, message, data), etag ? { etag: `"${etag}"` } : undefined);
}

/** `["alice","bob"]`, `"alice,bob"` or `"*"` (where allowed). */
function usersFrom(body: Record<string, unknown>, key: string, allowStar: boolean): Users {
  const v = body[key];
  const list = typeof v === 'string' ? v.split(',') : Array.isArray(v) && v.every((x) => typeof x === 'string') ? (v as string[]) : null;
  if (!list) throw new GatewayError('BODY_INVALID', `"${key}" must be a list of user names${allowStar ? ' or "*"' : ''}`);
  return checkUsers(list, allowStar);
}

function labelFrom(body: Record<string, unknown>, optional: boolean): string | undefined {
  const v = body.label;
  if (v === undefined && optional) return undefined;
  if (typeof v !== 'string') throw new GatewayError('BODY_INVALID', '"label" must be a string ("" for none)');
  return v;
}

function ifMatchOf(req: Request): string {
  const raw = req.get('if-match') ?? (typeof req.body?.etag === 'string' ? req.body.etag : undefined);
  if (raw === undefined) throw new AdminError('ADMIN_PRECONDITION_REQUIRED');
  const etag = parseEtag(raw);
  if (etag) return etag;
  // Say what is wrong with this value (never quoting it: a token pasted by mistake must not come back).
  if (/^\s*(\*|W\/)/.test(raw)) throw new AdminError('ADMIN_PRECONDITION_REQUIRED', 'If-Match must be the exact ETag of a read ("*" or a weak ETag cannot protect a change)');
  throw new AdminError('ADMIN_PRECONDITION_REQUIRED', 'If-Match is not an ETag: send data.etag of your last read (64 hex characters, in quotes)');
}

export function createAdminApp(deps: AdminAppDeps): express.Express {
  const { service, credentials, registry, logger } = deps;
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false); // ETags here are the file's version, set explicitly
  app.set('strict routing', true); // `/admin` redirects to `/admin/`; without this they are one route
  // The admin listener is plain HTTP on loopback by design: no HTTPS upgrade or HSTS, which would break it.
  app.use(helmet({ contentSecurityPolicy: { directives: { upgradeInsecureRequests: null } }, strictTransportSecurity: false }));

  const requireAdmin: express.RequestHandler = (req, res, next) => {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(req.get('authorization') ?? '');
    const admin = credentials.authenticate(m?.[1]);
    if (!admin) {
      logger.warn('admin request refused', { event: 'admin.auth.refused', reason: m ? 'wrong-credential' : 'no-credential', path: pathOf(req), remote: req.socket.remoteAddress });
      return next(new AdminError('ADMIN_UNAUTHORIZED', m ? 'the admin token is not valid' : undefined));
    }
    res.locals.admin = admin;
    next();
  };
  const actor = (res: Response): Actor => ({ name: String(res.locals.admin), via: 'api' });

  app.get(['/', '/admin'], (_req, res) => res.redirect(302, '/admin/'));
  app.get('/admin/', (_req, res) => res.type('html').set('cache-control', 'no-store').send(ADMIN_HTML));
  app.get('/admin/app.js', (_req, res) => res.type('text/javascript').set('cache-control', 'no-store').send(ADMIN_JS));
  app.get('/admin/app.css', (_req, res) => res.type('text/css').set('cache-control', 'no-store').send(ADMIN_CSS));

  const api = express.Router();
  api.use(requireAdmin, express.json({ limit: '64kb' }));
  api.get('/me', (req, res) => ok(req, res, 'OK', { admin: res.locals.admin }));
  api.get('/tokens', async (req, res) => {
    const search = typeof req.query.search === 'string' ? req.query.search : undefined;
    const { etag, tokens, total, problems } = await service.list(search);
    ok(req, res, 'OK', { etag, tokens, total, problems }, etag);
  });
  api.post('/tokens', async (req, res) => {
    const created = await service.create(actor(res), ifMatchOf(req), usersFrom(req.body ?? {}, 'users', true), labelFrom(req.body ?? {}, true));
    const { token, fingerprint, usersAfter, labelAfter, etag } = created;
    ok(req, res, 'Token created. It is shown only this once: store it now', { token, fingerprint, users: usersAfter, label: labelAfter ?? '', etag }, etag);
  });
  // The label is the comment line above the token in proxy.properties; "" removes it.
  api.put('/tokens/:fingerprint/label', async (req, res) => {
    const fingerprint = normalizeFingerprint(String(req.params.fingerprint));
    const r = await service.change(actor(res), ifMatchOf(req), { op: 'set-label', fingerprint, label: labelFrom(req.body ?? {}, false)! });
    ok(req, res, r.changed ? 'OK' : 'Nothing to change', { ...r }, r.etag);
  });
  api.get('/audit', async (req, res) => {
    const limit = Math.min(200, Math.max(1, Number.parseInt(String(req.query.limit ?? '50'), 10) || 50));
    ok(req, res, 'OK', { records: await service.recentAudit(limit) });
  });
  const change = (op: 'add-users' | 'remove-users' | 'set-users', key: string) => async (req: Request, res: Response) => {
    const users = usersFrom(req.body ?? {}, key, op === 'set-users');
    const fingerprint = normalizeFingerprint(String(req.params.fingerprint));
    const r = await service.change(actor(res), ifMatchOf(req), op === 'set-users' ? { op, fingerprint, users } : { op, fingerprint, users: users as string[] });
    ok(req, res, r.changed ? 'OK' : 'Nothing to change', { ...r }, r.etag);
  };
  api.post('/tokens/:fingerprint/users', change('add-users', 'add'));
  api.post('/tokens/:fingerprint/users/remove', change('remove-users', 'remove'));
  api.put('/tokens/:fingerprint/users', change('set-users', 'users'));
  api.delete('/tokens/:fingerprint', async (req, res) => {
    const r = await service.change(actor(res), ifMatchOf(req), { op: 'delete', fingerprint: normalizeFingerprint(String(req.params.fingerprint)) });
    ok(req, res, 'Token deleted', { fingerprint: r.fingerprint, usersBefore: r.usersBefore, etag: r.etag }, r.etag);
  });
  api.get('/entrances', (req, res) => {
    const entrances = registry.all().map((u) => ({ name: u.name, address: u.url, healthy: u.healthy, draining: u.draining, inFlight: u.inFlight }));
    ok(req, res, 'OK', { entrances });
  });
  // Draining: no new submissions, follow-ups still served; what an operator does before restarting an
  // Entrance. For every worker of this gateway: the answer waits until each has it (ops/cluster-draining.ts),
  // and main audits each change once. Not other replicas (no shared store yet), not across a restart.
  api.put('/entrances/:name/draining', async (req, res) => {
    const name = String(req.params.name);
    const draining = req.body?.draining;
    if (typeof draining !== 'boolean') throw new GatewayError('BODY_INVALID', '"draining" must be true or false');
    const outcome = await registry.drain({ name, draining, admin: String(res.locals.admin) });
    if (!outcome) throw new GatewayError('INSTANCE_UNKNOWN', name);
    logger.info('entrance draining set', { event: 'entrance.drain', admin: String(res.locals.admin), instance: name, draining, ...outcome });
    const u = registry.get(name);
    ok(req, res, drainAnswer(draining, outcome), { name, address: u?.url, healthy: u?.healthy, draining, inFlight: u?.inFlight, ...outcome });
  });
  app.use('/admin/api', api);

  deps.extraRoutes?.(app, { requireAdmin });

  app.use((req, _res, next) => next(new GatewayError('NOT_FOUND', pathOf(req))));
  app.use((err: unknown, req: Request, res: Response, _next: NextFunction) => {
    const e = toGatewayError(err);
    if (e.code === 'INTERNAL') logger.error('admin request failed', { event: 'admin.error', path: pathOf(req), error: err instanceof Error ? err.message : String(err) });
    const data = e instanceof AdminError ? e.data : undefined;
    const headers: Record<string, string> = {};
    if (typeof data?.etag === 'string') headers.etag = `"${data.etag}"`;
    if (e.code === 'ADMIN_UNAUTHORIZED') headers['www-authenticate'] = 'Bearer realm="linkis-gateway admin"';
    sendEnvelope(res, e.http, errorEnvelope(pathOf(req), e, undefined, data), headers);
  });
  return app;
}

/** What is now true, and what is not covered: an operator acts on this sentence. */
function drainAnswer(draining: boolean, o: DrainOutcome): string {
  if (o.shared) {
    const what = draining ? 'Draining: no new submissions go to this Entrance from any replica; follow-ups for its jobs still do' : 'Taking new jobs again';
    return `${what}. Recorded in the shared store: applied on this replica now and on every other replica within 2 s`;
  }
  if (o.applied < o.workers) return `Recorded for this gateway, but only ${o.applied} of ${o.workers} workers confirmed in time; the others apply it as soon as they answer`;
  const where = o.workers === 1 ? 'this gateway (1 process)' : `every worker (${o.workers}) of this gateway`;
  const notCovered = 'Other gateway replicas are not told, and a restart of the gateway starts again from gateway.entrance.draining';
  return draining
    ? `Draining on ${where}: no new submissions go to this Entrance from it; follow-ups for its jobs still do. ${notCovered}`
    : `Taking new jobs again on ${where}. ${notCovered}`;
}

function toGatewayError(err: unknown): GatewayError {
  if (err instanceof GatewayError) return err;
  const type = (err as { type?: string } | null)?.type;
  if (type === 'entity.parse.failed') return new GatewayError('BODY_MALFORMED');
  if (type === 'entity.too.large') return new GatewayError('BODY_TOO_LARGE', 'the admin API takes at most 64kb');
  // The router could not decode a path parameter (`%zz`, a cut UTF-8 sequence): the client's path is bad.
  if (err instanceof URIError) return new GatewayError('BAD_PATH', 'malformed percent-encoding');
  return new GatewayError('INTERNAL');
}
