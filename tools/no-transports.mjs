// Stand-ins the bundle uses for pino's transports (tools/bundle.mjs). pino loads thread-stream,
// and node's worker_threads with it, when it is loaded, for pino.transport(), which runs log
// destinations in a worker thread. The daemon writes its lines synchronously on its own thread
// (src/text/log.ts) and never asks for a transport, but loading them cost every start about
// 5 ms and their memory (test/bench/start-to-managed, memory). pino reads only isMainThread at
// load, for asynchronous destinations, which the daemon does not use either.

export const isMainThread = true;

export default class NoThreadStream {
  constructor() {
    throw new Error('dot1x-operstate is built without pino transports (tools/no-transports.mjs)');
  }
}
