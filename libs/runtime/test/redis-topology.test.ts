import {
  ConfigError,
  describeRedis,
  loadServiceConfig,
  redisTopologyEnv,
  redisTopologyOf,
  RedisTopologyError,
} from '@diaryx-sync/runtime';

const topologyOf = (env: NodeJS.ProcessEnv) => redisTopologyOf(loadServiceConfig(env));

describe('Redis topology from the environment', () => {
  it('is one node by default, from REDIS_URL', () => {
    expect(topologyOf({})).toEqual({ kind: 'single', url: 'redis://127.0.0.1:6379' });
    expect(topologyOf({ REDIS_URL: 'rediss://u:p@r.internal:6380' })).toEqual({
      kind: 'single',
      url: 'rediss://u:p@r.internal:6380',
    });
  });

  it('REDIS_CLUSTER_NODES selects Redis Cluster (host:port list, IPv6 in brackets)', () => {
    expect(
      topologyOf({
        REDIS_CLUSTER_NODES: 'a:7000, b:7001,[::1]:7002',
        REDIS_PASSWORD: 'pw',
        REDIS_TLS: 'true',
      }),
    ).toEqual({
      kind: 'cluster',
      nodes: [
        { host: 'a', port: 7000 },
        { host: 'b', port: 7001 },
        { host: '::1', port: 7002 },
      ],
      password: 'pw',
      tls: true,
    });
  });

  it('REDIS_SENTINELS + REDIS_SENTINEL_NAME select Sentinel', () => {
    expect(topologyOf({ REDIS_SENTINELS: 's1:26379,s2:26379', REDIS_SENTINEL_NAME: 'diaryx' })).toEqual({
      kind: 'sentinel',
      sentinels: [
        { host: 's1', port: 26379 },
        { host: 's2', port: 26379 },
      ],
      name: 'diaryx',
      tls: false,
    });
  });

  it('treats empty variables as unset (compose .env files)', () => {
    expect(
      topologyOf({
        REDIS_CLUSTER_NODES: '',
        REDIS_SENTINELS: '',
        REDIS_SENTINEL_NAME: '',
        REDIS_PASSWORD: '',
      }),
    ).toEqual({ kind: 'single', url: 'redis://127.0.0.1:6379' });
  });

  it('refuses bad lists and contradictory settings with a message naming them', () => {
    expect(() => loadServiceConfig({ REDIS_CLUSTER_NODES: 'a:7000,b' })).toThrow(ConfigError);
    expect(() => loadServiceConfig({ REDIS_CLUSTER_NODES: 'a:99999' })).toThrow(/REDIS_CLUSTER_NODES/);
    expect(() => loadServiceConfig({ REDIS_CLUSTER_NODES: ' , ' })).toThrow(/at least one/);
    expect(() => topologyOf({ REDIS_SENTINELS: 's:26379' })).toThrow(RedisTopologyError);
    expect(() =>
      topologyOf({ REDIS_SENTINELS: 's:1', REDIS_SENTINEL_NAME: 'm', REDIS_CLUSTER_NODES: 'a:1' }),
    ).toThrow(/not both/);
  });

  it('round-trips through its environment variables and describes itself without the password', () => {
    for (const env of [
      { REDIS_URL: 'redis://:secret@h:1' },
      { REDIS_CLUSTER_NODES: 'a:1,b:2', REDIS_PASSWORD: 'secret' },
      { REDIS_SENTINELS: 's:3', REDIS_SENTINEL_NAME: 'm', REDIS_PASSWORD: 'secret', REDIS_TLS: 'true' },
    ]) {
      const t = topologyOf(env);
      expect(topologyOf(redisTopologyEnv(t))).toEqual(t);
      expect(describeRedis(t)).not.toContain('secret');
    }
  });
});
