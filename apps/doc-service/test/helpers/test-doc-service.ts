/**
 * A {@link DocService} with what only tests need: its shard lease manager, doc registry and
 * group committer, and {@link TestDocService.kill} (behave like a crashed process). Production
 * code constructs `DocService`, which exposes none of these.
 */
import { DocService } from '../../src/doc-service';
import type { DocRegistry } from '../../src/docs/doc-registry';
import type { GroupCommitter } from '../../src/persistence/group-commit';
import type { ShardLeaseManager } from '../../src/shards/shard-leases';

export class TestDocService extends DocService {
  declare readonly leases: ShardLeaseManager;
  declare readonly registry: DocRegistry;
  declare readonly committer: GroupCommitter;

  /** Behaves like a crashed process: no flush, no release; leases and heartbeat expire. */
  kill(): void {
    this.started = false;
    this.accepting = false;
    clearTimeout(this.sweepTimer);
    this.leases.abandon();
    for (const shard of [...this.inboxes.values()]) this.registry.dropShard(shard);
    this.inboxes.clear();
    this.bus?.close();
    void this.heartbeat?.stop().catch(() => undefined);
  }
}
