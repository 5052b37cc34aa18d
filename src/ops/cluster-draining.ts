/**
 * Draining with gateway.workers > 1: one state for the whole gateway, not one per worker. The cluster
 * primary holds it (starting from gateway.entrance.draining) and sends it to every worker whenever it
 * changes, and to a worker when it starts, before that worker listens: a replacement for a dead worker
 * never sends a job to a drained Entrance. A drain through any worker's admin API resolves only once every
 * worker has confirmed it, so the API's answer is already true when it is given.
 *
 * Kept in the primary's memory only: a restart of the whole gateway starts again from
 * gateway.entrance.draining (the audit keeps what admins did). Other replicas of the gateway (other
 * hosts or pods) are not told; with gateway.allowlist.store=redis this is not used at all: every worker of
 * every replica follows the draining state in Redis (control-plane/redis-sessions.ts).
 */
import cluster, { type Worker } from 'node:cluster';
import type { Logger } from 'winston';
import type { DrainCoordinator } from '../control-plane/draining';
import type { UpstreamRegistry } from '../control-plane/upstreams';
import { GatewayError } from '../linkis/errors';

const STATE = 'linkis-gateway:draining'; // primary → worker: { version, names }, the whole state
const ASK = 'linkis-gateway:draining?'; // worker → primary: send me the state now and every change after
const ACK = 'linkis-gateway:draining-ack'; // worker → primary: { version } is in force here
const SET = 'linkis-gateway:draining-set'; // worker → primary: { id, name, draining }, an admin's request
const DONE = 'linkis-gateway:draining-done'; // primary → worker: { id, changed, workers, applied }

/** How long the primary waits for every worker to confirm, and a worker for the primary. */
const CONFIRM_MS = 5000;

interface Message {
  type?: string;
  id?: number;
  version?: number;
  names?: string[];
  name?: string;
  draining?: boolean;
  changed?: boolean;
  workers?: number;
  applied?: number;
}

/** In the primary: holds the state and answers workers. Returns a function that stops listening. */
export function serveClusterDraining(initial: readonly string[], logger: Logger): () => void {
  const names = new Set(initial);
  let version = 1;
  // Workers that asked for the state: they get every change, and a change waits for their confirmation.
  const subscribed = new Set<Worker>();
  const waits = new Set<{ version: number; left: Set<Worker>; done: () => void }>();
  const send = (w: Worker, msg: Message) => w.send(msg, () => undefined); // a dead worker's closed channel is no error here
  const settle = (w: Worker, confirmed: number) => {
    for (const wait of waits) if (confirmed >= wait.version && wait.left.delete(w) && wait.left.size === 0) wait.done();
  };

  const change = async (from: Worker, msg: Message) => {
    const name = String(msg.name);
    const changed = names.has(name) !== !!msg.draining;
    if (changed) {
      if (msg.draining) names.add(name);
      else names.delete(name);
      version++;
    }
    // Sent even when nothing changed: the answer then still rests on every worker's confirmation.
    const left = new Set(subscribed);
    await new Promise<void>((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      const wait = { version, left, done: () => (clearTimeout(timer), waits.delete(wait), resolve()) };
      if (left.size === 0) return wait.done();
      timer = setTimeout(wait.done, CONFIRM_MS);
      waits.add(wait);
      for (const w of left) send(w, { type: STATE, version, names: [...names] });
    });
    // Workers that started meanwhile got the new state before listening: they count as applied.
    const workers = subscribed.size;
    const applied = workers - [...left].filter((w) => subscribed.has(w)).length;
    if (applied < workers) logger.warn('not every worker confirmed a draining change in time; the others apply it when they answer', { event: 'entrance.drain.late', instance: name, workers, applied });
    send(from, { type: DONE, id: msg.id, changed, workers, applied });
  };

  const onMessage = (w: Worker, msg: Message) => {
    if (msg?.type === ASK) {
      subscribed.add(w);
      send(w, { type: STATE, version, names: [...names] });
    } else if (msg?.type === ACK) settle(w, Number(msg.version));
    else if (msg?.type === SET) void change(w, msg);
  };
  const onExit = (w: Worker) => {
    subscribed.delete(w);
    settle(w, Infinity); // a dead worker sends no job anywhere: nothing to wait for
  };
  cluster.on('message', onMessage);
  cluster.on('exit', onExit);
  return () => {
    cluster.off('message', onMessage);
    cluster.off('exit', onExit);
  };
}

export interface ClusterDraining {
  /** For registry.setDrainCoordinator: asks the primary, resolves once every worker confirmed. */
  coordinator: DrainCoordinator;
  close(): void;
}

/**
 * In a worker: takes the gateway-wide state from the primary (resolves once it is applied, so call it
 * before listening) and applies every later change. Rejects when the primary does not answer.
 */
export async function joinClusterDraining(registry: UpstreamRegistry): Promise<ClusterDraining> {
  let version = 0;
  let names = new Set<string>();
  let nextId = 0;
  const pending = new Map<number, (msg: Message) => void>();
  // A closed channel (the primary is gone, and this worker with it) must not become an uncaught 'error'.
  const send = (msg: Message, failed: (err: Error) => void = () => undefined) => process.send!(msg, undefined, undefined, (err: Error | null) => err && failed(err));
  let started!: () => void;
  const first = new Promise<void>((ok) => (started = ok));

  const onMessage = (msg: Message) => {
    if (msg?.type === STATE) {
      if (Number(msg.version) > version) {
        version = Number(msg.version);
        names = new Set(msg.names);
        for (const u of registry.all()) registry.setDraining(u.name, names.has(u.name));
      }
      send({ type: ACK, version: msg.version });
      started();
    } else if (msg?.type === DONE) pending.get(Number(msg.id))?.(msg);
  };
  process.on('message', onMessage);
  // An instance that appears later (gateway.discovery) takes the gateway-wide state too.
  const stopWatching = registry.onChange((u) => {
    if (version > 0 && u.draining !== names.has(u.name) && registry.get(u.name) === u) registry.setDraining(u.name, names.has(u.name));
  });
  const close = () => {
    process.off('message', onMessage);
    stopWatching();
  };

  send({ type: ASK });
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([first, new Promise((_, fail) => (timer = setTimeout(() => fail(new Error(`the cluster primary did not send the draining state within ${CONFIRM_MS} ms`)), CONFIRM_MS)))]);
  } catch (err) {
    close();
    throw err;
  } finally {
    clearTimeout(timer);
  }

  const coordinator: DrainCoordinator = (change) =>
    new Promise((resolve, reject) => {
      const id = ++nextId;
      const timeout = setTimeout(() => {
        pending.delete(id);
        reject(new GatewayError('INTERNAL', 'the cluster primary did not confirm the draining change in time'));
      }, CONFIRM_MS * 2);
      pending.set(id, (msg) => {
        clearTimeout(timeout);
        pending.delete(id);
        resolve({ changed: !!msg.changed, workers: Number(msg.workers), applied: Number(msg.applied) });
      });
      send({ type: SET, id, name: change.name, draining: change.draining }, (err) => {
        clearTimeout(timeout);
        pending.delete(id);
        reject(new GatewayError('INTERNAL', `the cluster primary cannot be reached (${err.message})`));
      });
    });
  return { coordinator, close };
}
