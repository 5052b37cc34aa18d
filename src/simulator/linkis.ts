/**
 * A whole simulated Linkis in one process: Entrances and a linkis-ps-publicservice over one shared job
 * history (Linkis's database), so stock clients can run a job end to end: submit to an Entrance, poll
 * jobhistory, list and page the results, read the finished log. Used by gateway tests, demo mode and the
 * simulator's command line (`--linkis`).
 */
import { createEntranceSimulator, type EntranceSimulator, type SimulatorOptions } from './entrance';
import { JobHistory, type JobHistoryOptions } from './job-history';
import { createPublicServiceSimulator, type PublicServiceOptions, type PublicServiceSimulator } from './publicservice';

export interface SimulatedLinkisOptions {
  /** Address every service listens on; default 127.0.0.1. */
  host?: string;
  /**
   * How many Entrances (default 2), or one options object each. Unless given, an Entrance listens on port 0
   * and the execID format alternates 1.x, 0.x, 1.x, ... (as demo mode always had).
   */
  entrances?: number | SimulatorOptions[];
  /** wds.linkis.crypt.key and the ticket cookie name, shared by every service. */
  cryptKey?: string;
  ticketCookie?: string;
  /** Applied to every Entrance that does not set its own. */
  pollsPerState?: number;
  publicservice?: Omit<PublicServiceOptions, 'history' | 'cryptKey' | 'ticketCookie'>;
  history?: JobHistoryOptions;
}

export interface SimulatedLinkis {
  entrances: EntranceSimulator[];
  publicservice: PublicServiceSimulator;
  history: JobHistory;
  /** Closes every service, then forgets the history. */
  close(): Promise<void>;
}

export async function startSimulatedLinkis(opts: SimulatedLinkisOptions = {}): Promise<SimulatedLinkis> {
  const history = new JobHistory(opts.history);
  const shared = { host: opts.host, cryptKey: opts.cryptKey, ticketCookie: opts.ticketCookie };
  const perEntrance = typeof opts.entrances === 'object' ? opts.entrances : Array.from({ length: opts.entrances ?? 2 }, () => ({}));
  const entrances: EntranceSimulator[] = [];
  let publicservice: PublicServiceSimulator | undefined;
  const close = async () => {
    await Promise.all([...entrances.map((e) => e.close()), publicservice?.close()]);
    history.close();
  };
  try {
    for (const [i, own] of perEntrance.entries()) {
      entrances.push(
        await createEntranceSimulator({
          ...shared,
          execIdFormat: i % 2 === 0 ? '1.x' : '0.x',
          pollsPerState: opts.pollsPerState,
          ...definedOnly(own),
          history,
        }),
      );
    }
    publicservice = await createPublicServiceSimulator({ ...shared, ...definedOnly(opts.publicservice ?? {}), history });
  } catch (e) {
    // A port already taken must not leave the services that did start listening.
    await close();
    throw e;
  }
  return { entrances, publicservice, history, close };
}

/** Options spread over defaults: an explicit `undefined` must not wipe a default out. */
function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
