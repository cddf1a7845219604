import { ConfigError, DEV_JWT_SECRET, loadServiceConfig } from '../src/config';

describe('loadServiceConfig', () => {
  it('has localhost defaults so npm start works without settings', () => {
    const c = loadServiceConfig({});
    expect(c.REDIS_URL).toBe('redis://127.0.0.1:6379');
    expect(c.DATABASE_URL).toBe('postgres://postgres@127.0.0.1:5432/test');
    expect(c.SHARD_COUNT).toBe(64);
    expect(c.JWT_SECRET).toBe(DEV_JWT_SECRET);
  });

  it('accepts short secrets (no arbitrary minimum) and coerces numbers', () => {
    const c = loadServiceConfig({ JWT_SECRET: 'secret', ADMIN_TOKEN: 'adm', SHARD_COUNT: '8', PORT: '9999' });
    expect(c).toMatchObject({ JWT_SECRET: 'secret', ADMIN_TOKEN: 'adm', SHARD_COUNT: 8, PORT: 9999 });
  });

  it('reports every bad value in one ConfigError', () => {
    expect(() => loadServiceConfig({ SHARD_COUNT: 'x', LOG_LEVEL: 'loud' })).toThrow(ConfigError);
    expect(() => loadServiceConfig({ SHARD_COUNT: 'x', LOG_LEVEL: 'loud' })).toThrow(
      /SHARD_COUNT[\s\S]*LOG_LEVEL/,
    );
  });
});
