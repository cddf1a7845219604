/** Test helper: whether a local redis-server (or sentinel) answers PING yet. */
import { Redis } from 'ioredis';

/** True when the Redis on 127.0.0.1:`port` answers PING; false while it does not (yet). */
export async function redisAnswers(port: number): Promise<boolean> {
  const r = new Redis({ host: '127.0.0.1', port, lazyConnect: true, maxRetriesPerRequest: 0 });
  r.on('error', () => undefined);
  try {
    await r.connect();
    return (await r.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    r.disconnect();
  }
}
