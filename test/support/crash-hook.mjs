// Preloaded into a gateway process by test/hardening-process.test.ts (NODE_OPTIONS=--import): signals
// that make the process fail the way a bug would, where nothing catches it.
process.on('SIGUSR2', () => setImmediate(() => { throw new Error('boom: thrown by the test hook'); }));
process.on('SIGWINCH', () => void Promise.reject(new Error('boom: rejected by the test hook')));
