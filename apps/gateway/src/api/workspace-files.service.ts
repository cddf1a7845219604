import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { ClusterClient, ClusterRequestError } from '@diaryx-sync/bus';
import {
  BodyDoc,
  bodyDocId,
  collectUpdate,
  type FileMetadata,
  FrontmatterError,
  InvalidPathError,
  isDecodableUpdate,
  isDocIdKey,
  docIdFilename,
  frontmatterToMetadata,
  materializeWorkspace,
  safePath,
  serializeFileMetadata,
  splitFrontmatter,
  WorkspaceCrdt,
  workspaceDocId,
} from '@diaryx-sync/crdt';
import { ApiError } from './api-error';
import { WorkspaceDocumentsService } from './workspace-documents.service';

/** One file as read: frontmatter object, body and the full markdown text. */
export interface WorkspaceFileContent {
  path: string;
  frontmatter: Record<string, unknown>;
  body: string;
  /** The file as markdown (`---` frontmatter block, then the body). */
  markdown: string;
}

/** What a write should make the file: a body, and optionally its frontmatter. */
export interface WorkspaceFileWrite {
  body: string;
  /** The file's frontmatter; `undefined` keeps the current metadata (a new file gets defaults). */
  frontmatter?: Record<string, unknown>;
}

/** Outcome of {@link WorkspaceFilesService.write}. */
export interface WorkspaceFileWriteOutcome {
  /** True when the file did not exist (or was deleted) before. */
  created: boolean;
  /** Docs that received an update (none when the file already had that content). */
  updatedDocs: string[];
}

/** Origin recorded in the update log for writes of the HTTP API (docs/protocol.md#http-api). */
export const API_ORIGIN = 'api';

/**
 * Server-side document access of docs/protocol.md#http-api: reads one file from the stored state
 * (PostgreSQL holds everything a shard acknowledged, so a read after an acknowledged write sees
 * it), and writes as MINIMAL forward updates sent through the owning shard with
 * `ClusterClient.applyUpdate` (resolves once applied, persisted and broadcast): the body by one
 * splice (`BodyDoc.setBody`), the metadata only where it differs (`WorkspaceCrdt.setFile`), so
 * connected editors see an ordinary remote edit and keep what they typed concurrently.
 */
@Injectable()
export class WorkspaceFilesService {
  constructor(
    private readonly documents: WorkspaceDocumentsService,
    private readonly cluster: ClusterClient,
  ) {}

  /** Normalizes a path from a URL; 400 `unsafe_path` when it breaks the safe name rules. */
  static checkPath(path: string): string {
    try {
      const safe = safePath(path);
      if (!safe.toLowerCase().endsWith('.md')) throw new InvalidPathError(path, 'is not a .md file');
      return safe;
    } catch (err) {
      if (err instanceof InvalidPathError) throw ApiError.badRequest(err.message, 'unsafe_path');
      throw err;
    }
  }

  /** The live file at `path`, or 404 `not_found`. */
  async read(tenant: string, workspace: string, path: string): Promise<WorkspaceFileContent> {
    const crdt = await this.loadWorkspace(tenant, workspace);
    const file = crdt.listFiles().find((f) => f.path === path);
    if (!file) throw ApiError.notFound(`file "${path}" not found`);
    const body = (await this.loadBody(tenant, workspace, path)).getBody();
    const rendered = materializeWorkspace(crdt, (p) => (p === path ? body : '')).find((f) => f.path === path);
    if (!rendered) throw ApiError.notFound(`file "${path}" not found`);
    const split = splitFrontmatter(rendered.content);
    return { path, frontmatter: split.frontmatter, body: split.body, markdown: rendered.content };
  }

  /** Parses a markdown text into a {@link WorkspaceFileWrite}; 400 `invalid_file` for bad YAML. */
  static parseMarkdown(markdown: string): WorkspaceFileWrite {
    try {
      const split = splitFrontmatter(markdown);
      const hasBlock = /^---\r?\n/.test(markdown);
      return hasBlock ? { body: split.body, frontmatter: split.frontmatter } : { body: split.body };
    } catch (err) {
      if (err instanceof FrontmatterError) throw ApiError.badRequest(err.message, 'invalid_file');
      throw err;
    }
  }

  /**
   * Makes the file at `path` hold `input`: body doc first, then the workspace doc (so a client
   * that sees the new entry finds its body), each only when it changes.
   */
  async write(
    tenant: string,
    workspace: string,
    path: string,
    input: WorkspaceFileWrite,
  ): Promise<WorkspaceFileWriteOutcome> {
    const crdt = await this.loadWorkspace(tenant, workspace);
    const live = crdt.listFiles().find((f) => f.path === path);
    const docIdMode = crdt.listFiles({ includeDeleted: true }).some((f) => isDocIdKey(f.key));
    const updatedDocs: string[] = [];

    const bodyId = bodyDocId(workspace, path);
    const bodyState = await this.documents.storageFor(tenant).loadDoc(bodyId);
    const body = BodyDoc.fromUpdate(path, bodyState);
    const bodyUpdate = collectUpdate(body.doc, () => {
      if (bodyState === null && input.body === '') {
        // An empty body must still exist as a doc (validation: missing_body).
        body.insertAt(0, ' ');
        body.deleteRange(0, 1);
      } else body.setBody(input.body);
    });
    if (bodyUpdate) {
      await this.apply(tenant, bodyId, bodyUpdate);
      updatedDocs.push(bodyId);
    }

    const key = live?.key ?? crdt.findByPath(path) ?? (docIdMode ? randomUUID() : path);
    const current = live ? live.metadata : undefined;
    const next = this.targetMetadata(crdt, path, input, current, docIdMode);
    const wsUpdate = collectUpdate(crdt.doc, () => {
      if (current && sameMetadata(current, next)) return;
      crdt.setFile(key, { ...next, modified_at: Math.max(Date.now(), (current?.modified_at ?? 0) + 1) });
    });
    if (wsUpdate) {
      const wsId = workspaceDocId(workspace);
      await this.apply(tenant, wsId, wsUpdate);
      updatedDocs.push(wsId);
    }
    return { created: !live, updatedDocs };
  }

  /** Tombstones the live file at `path` (404 `not_found` when there is none). */
  async delete(tenant: string, workspace: string, path: string): Promise<void> {
    const crdt = await this.loadWorkspace(tenant, workspace);
    const live = crdt.listFiles().find((f) => f.path === path);
    if (!live) throw ApiError.notFound(`file "${path}" not found`);
    const update = collectUpdate(crdt.doc, () => crdt.deleteFile(live.key));
    if (update) await this.apply(tenant, workspaceDocId(workspace), update);
  }

  /** Applies a raw Yjs update (encoding v1) to `docId`; 400 `invalid_request` when it does not decode. */
  async applyRaw(tenant: string, docId: string, update: Uint8Array): Promise<void> {
    if (update.length === 0 || !isDecodableUpdate(update))
      throw ApiError.badRequest('the body is not a Yjs update (encoding v1)', 'invalid_request');
    await this.apply(tenant, docId, update);
  }

  private targetMetadata(
    crdt: WorkspaceCrdt,
    path: string,
    input: WorkspaceFileWrite,
    current: FileMetadata | undefined,
    docIdMode: boolean,
  ): FileMetadata {
    if (input.frontmatter === undefined && current) return current;
    const parsed = frontmatterToMetadata(input.frontmatter ?? {}, {
      path,
      knownPaths: new Set(crdt.listFiles().map((f) => f.path)),
    });
    if (!docIdMode) return parsed;
    const link = (p: string | null): string | null => (p === null ? null : (crdt.findByPath(p) ?? p));
    return {
      ...parsed,
      filename: docIdFilename(path, parsed.part_of),
      part_of: link(parsed.part_of),
      contents: parsed.contents === null ? null : parsed.contents.map((c) => link(c) ?? c),
    };
  }

  private async loadWorkspace(tenant: string, workspace: string): Promise<WorkspaceCrdt> {
    return WorkspaceCrdt.fromUpdate(
      await this.documents.storageFor(tenant).loadDoc(workspaceDocId(workspace)),
    );
  }

  private async loadBody(tenant: string, workspace: string, path: string): Promise<BodyDoc> {
    const docId = bodyDocId(workspace, path);
    return BodyDoc.fromUpdate(path, await this.documents.storageFor(tenant).loadDoc(docId));
  }

  private async apply(tenant: string, docId: string, update: Uint8Array): Promise<void> {
    try {
      await this.cluster.applyUpdate({ tenant, docId, update, origin: API_ORIGIN });
    } catch (err) {
      if (!(err instanceof ClusterRequestError)) throw err;
      if (err.code === 'not_found') throw ApiError.notFound(`document ${docId} not found`);
      if (err.code === 'bad_payload')
        throw ApiError.badRequest(`the update was refused: ${err.message}`, 'invalid_request');
      throw new ApiError(
        503,
        'unavailable',
        `the document is temporarily unavailable (${err.code}); retry later`,
      );
    }
  }
}

/** Equal metadata, `modified_at` aside. */
function sameMetadata(a: FileMetadata, b: FileMetadata): boolean {
  return serializeFileMetadata({ ...a, modified_at: 0 }) === serializeFileMetadata({ ...b, modified_at: 0 });
}
