/**
 * Tenant-qualified object keys (docs/architecture.md#properties, property 5): every key starts with
 * `{tenant}/{workspace}/`. Ids are validated so that a key can never escape its prefix.
 */
const ID = /^[A-Za-z0-9_-]{1,64}$/;

/** Throws when `value` is not a safe tenant/workspace id. */
export function assertKeyId(kind: 'tenant' | 'workspace', value: string): void {
  if (!ID.test(value)) throw new Error(`invalid ${kind} id for an object key: ${JSON.stringify(value)}`);
}

/** `{tenant}/{workspace}/` */
export function workspacePrefix(tenant: string, workspace: string): string {
  assertKeyId('tenant', tenant);
  assertKeyId('workspace', workspace);
  return `${tenant}/${workspace}/`;
}

/** `{tenant}/{workspace}/git/` — the root of the workspace's bare repository in S3. */
export function gitPrefix(tenant: string, workspace: string): string {
  return `${workspacePrefix(tenant, workspace)}git/`;
}

/** `{tenant}/{workspace}/git/objects/{aa}/{rest}` — one loose git object. */
export function gitObjectKey(tenant: string, workspace: string, oid: string): string {
  if (!/^[0-9a-f]{40}$/.test(oid)) throw new Error(`invalid git object id: ${JSON.stringify(oid)}`);
  return `${gitPrefix(tenant, workspace)}objects/${oid.slice(0, 2)}/${oid.slice(2)}`;
}

/** `{tenant}/{workspace}/backups/` */
export function backupPrefix(tenant: string, workspace: string): string {
  return `${workspacePrefix(tenant, workspace)}backups/`;
}

/** `{tenant}/{workspace}/backups/{name}` (name: `[A-Za-z0-9._-]`). */
export function backupKey(tenant: string, workspace: string, name: string): string {
  if (!/^[A-Za-z0-9._-]{1,200}$/.test(name)) throw new Error(`invalid backup name: ${JSON.stringify(name)}`);
  return `${backupPrefix(tenant, workspace)}${name}`;
}

/** `{tenant}/{workspace}/imports/{name}` — an uploaded zip waiting for its import job. */
export function importKey(tenant: string, workspace: string, name: string): string {
  if (!/^[A-Za-z0-9._-]{1,200}$/.test(name)) throw new Error(`invalid import name: ${JSON.stringify(name)}`);
  return `${workspacePrefix(tenant, workspace)}imports/${name}`;
}

/**
 * `{tenant}/attachments.sha256/` — the tenant's content-addressed attachment bytes (docs/protocol.md#attachments).
 * Shared by the tenant's workspaces so identical bytes are stored once; the `.` cannot occur in a
 * workspace id, so this prefix never collides with `{tenant}/{workspace}/`.
 */
export function attachmentPrefix(tenant: string): string {
  assertKeyId('tenant', tenant);
  return `${tenant}/attachments.sha256/`;
}

/** True for a lowercase hex SHA-256. */
export function isSha256Hex(hash: string): boolean {
  return /^[0-9a-f]{64}$/.test(hash);
}

/** `{tenant}/attachments.sha256/{aa}/{sha256}` — one attachment's bytes. */
export function attachmentKey(tenant: string, sha256: string): string {
  if (!isSha256Hex(sha256)) throw new Error(`invalid sha256: ${JSON.stringify(sha256)}`);
  return `${attachmentPrefix(tenant)}${sha256.slice(0, 2)}/${sha256}`;
}

/** The SHA-256 of an attachment key made by {@link attachmentKey}, or `null` for any other key. */
export function attachmentHashOfKey(key: string): string | null {
  const m = /\/attachments\.sha256\/[0-9a-f]{2}\/([0-9a-f]{64})$/.exec(key);
  return m ? m[1] : null;
}
