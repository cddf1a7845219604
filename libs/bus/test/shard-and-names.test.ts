import {
  connectionField,
  docChannel,
  gatewayChannel,
  instanceKey,
  parseConnectionField,
  parseTenantKey,
  shardFenceKey,
  shardInboxChannel,
  shardLeaseKey,
  shardOf,
  tenantKey,
  workspaceChannel,
  workspaceFocusKey,
  workspacePeersKey,
} from '@diaryx-sync/bus';

describe('shardOf', () => {
  it('is stable (pinned values never change)', () => {
    expect(shardOf('t', 'workspace:x', 64)).toBe(63);
    expect(shardOf('tenant-a', 'body:ws/README.md', 64)).toBe(shardOf('tenant-a', 'body:ws/README.md', 64));
  });

  it('depends on the tenant (equal doc ids of two tenants may live apart)', () => {
    const differing = Array.from({ length: 100 }, (_, i) => `workspace:w${i}`).filter(
      (d) => shardOf('a', d, 64) !== shardOf('b', d, 64),
    );
    expect(differing.length).toBeGreaterThan(80);
    // the separator makes tenant/doc boundaries unambiguous
    expect(shardOf('ab', 'c', 1 << 30)).not.toBe(shardOf('a', 'bc', 1 << 30));
  });

  it('stays in range and spreads evenly', () => {
    const counts = new Array<number>(64).fill(0);
    for (let i = 0; i < 64_000; i++) {
      const s = shardOf(`t${i % 7}`, `body:ws${i % 13}/notes/${i}.md`, 64);
      expect(s).toBeGreaterThanOrEqual(0);
      expect(s).toBeLessThan(64);
      counts[s]!++;
    }
    expect(Math.min(...counts)).toBeGreaterThan(800);
    expect(Math.max(...counts)).toBeLessThan(1200);
  });

  it('rejects a bad shard count', () => {
    expect(() => shardOf('t', 'd', 0)).toThrow(RangeError);
    expect(() => shardOf('t', 'd', 1.5)).toThrow(RangeError);
  });
});

describe('names', () => {
  it('all start with the prefix and carry the tenant', () => {
    expect(shardInboxChannel('dx', 3)).toBe('dx:shard:{3}:inbox');
    expect(shardLeaseKey('dx', 3)).toBe('dx:shard:{3}:lease');
    expect(gatewayChannel('dx', 'g1')).toBe('dx:gw:{g1}');
    expect(docChannel('dx', 't1', 'body:w/a.md')).toBe('dx:doc:{t1:body:w/a.md}');
    expect(workspaceChannel('dx', 't1', 'w')).toBe('dx:ws:{t1:w}');
    expect(instanceKey('dx', 'doc-service', 'i1')).toBe('dx:instance:doc-service:i1');
  });

  /** The part of a name Redis Cluster hashes: the first non-empty `{…}`, else the whole name. */
  const hashTag = (name: string): string => {
    const open = name.indexOf('{');
    const close = open < 0 ? -1 : name.indexOf('}', open + 1);
    return close > open + 1 ? name.slice(open + 1, close) : name;
  };

  it('puts what one script or MULTI touches in one slot (hash tags)', () => {
    expect(hashTag(shardLeaseKey('dx', 7))).toBe(hashTag(shardFenceKey('dx', 7)));
    expect(hashTag(shardLeaseKey('dx', 7))).toBe(hashTag(shardInboxChannel('dx', 7)));
    expect(hashTag(shardLeaseKey('dx', 7))).not.toBe(hashTag(shardLeaseKey('dx', 8)));
    expect(hashTag(workspacePeersKey('dx', 't', 'w'))).toBe(hashTag(workspaceFocusKey('dx', 't', 'w')));
    expect(hashTag(workspacePeersKey('dx', 't', 'w'))).toBe(hashTag(workspaceChannel('dx', 't', 'w')));
    expect(hashTag(docChannel('dx', 't', 'body:w/a.md'))).not.toBe(
      hashTag(docChannel('dx', 't', 'body:w/b.md')),
    );
  });
});

describe('composite keys', () => {
  it('tenantKey and parseTenantKey are inverses, also for ids holding separators', () => {
    for (const [tenant, id] of [
      ['t1', 'body:w/a|b.md'],
      ['tenant-2', 'workspace:w'],
      ['t', ''],
    ]) {
      expect(parseTenantKey(tenantKey(tenant, id))).toEqual({ tenant, id });
    }
    expect(tenantKey('a', 'bc')).not.toBe(tenantKey('ab', 'c'));
  });

  it('parseConnectionField gives back the gateway and connection ids', () => {
    expect(parseConnectionField(connectionField('gw-1', 'c|7'))).toEqual({
      gatewayId: 'gw-1',
      connId: 'c|7',
    });
  });
});
