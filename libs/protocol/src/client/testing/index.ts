/** Test helpers: an in-process sync server (in memory or on a real `ws` socket) and a faulty pipe. */
export * from './server-core';
export * from './ws-test-server';
export * from './faulty-pipe';
