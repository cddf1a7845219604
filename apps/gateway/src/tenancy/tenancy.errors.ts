/** The workspace id is taken in this tenant (`POST /api/workspaces` answers 409 `workspace_exists`). */
export class WorkspaceIdTakenError extends Error {
  override readonly name = 'WorkspaceIdTakenError';
  constructor(readonly workspaceId: string) {
    super(`workspace "${workspaceId}" exists already`);
  }
}

/** PostgreSQL unique_violation. */
export function isUniqueViolation(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === '23505';
}
