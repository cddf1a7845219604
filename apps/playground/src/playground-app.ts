import { DiaryxClient, DiaryxClientError, type OpenFile } from '@diaryx-sync/client';
import type { EditorView } from '@codemirror/view';
import { createEditor } from './editor';
import { ApiRefusal, type HttpApi } from './http-api';
import { presenceColor, type Person } from './presence';
import { byId, clear, el } from './dom';

/**
 * The signed-in page: file tree, editor with presence, people, history and workspace actions.
 * Talks to the server only through `client` (the public SDK) and `api` (the public HTTP API).
 */
export class PlaygroundApp {
  private open: { file: OpenFile; view: EditorView } | null = null;
  private historyTimer: ReturnType<typeof setTimeout> | null = null;

  constructor(
    private readonly client: DiaryxClient,
    private readonly api: HttpApi,
    private readonly workspace: string,
    private readonly me: string,
  ) {}

  start(): void {
    byId('workspace').textContent = `workspace ${this.workspace} · you are ${this.me}`;
    byId('app').hidden = false;
    const client = this.client;
    client.on('status', ({ status }) => this.showStatus(status));
    for (const event of ['file-created', 'file-deleted', 'file-renamed'] as const)
      client.on(event, () => this.renderTree());
    client.on('peers', ({ peerCount }) => {
      byId('peers').textContent = `${peerCount} connection${peerCount === 1 ? '' : 's'} on this workspace`;
    });
    client.on('read-only', ({ path }) =>
      this.notice(
        `The server refused your change${path ? ` to ${path}` : ''}: this token is read-only (viewer).`,
      ),
    );
    client.on('token-refreshed', ({ expiresAt }) => {
      const info = byId('token-info');
      info.textContent = `token refreshed ${new Date().toLocaleTimeString()}${expiresAt ? `, expires ${new Date(expiresAt).toLocaleTimeString()}` : ''}`;
      info.dataset.refreshes = String(Number(info.dataset.refreshes ?? '0') + 1);
    });
    client.on('server-error', ({ code, message, path }) =>
      this.notice(`Server error ${code}${path ? ` on ${path}` : ''}${message ? `: ${message}` : ''}`),
    );
    client.on('closed', ({ code, reason }) => this.notice(`Disconnected for good (${code}): ${reason}`));
    client.on('error', ({ message }) => this.notice(message));

    byId<HTMLFormElement>('new-file').addEventListener('submit', (e) => {
      e.preventDefault();
      const input = (e.target as HTMLFormElement).elements.namedItem('path') as HTMLInputElement;
      this.attempt(() => {
        this.client.createFile(input.value.trim(), `# ${input.value.trim()}\n`);
        this.openFile(input.value.trim());
        input.value = '';
      });
    });
    byId('commit').addEventListener('click', () => void this.commit());
    byId('download').addEventListener('click', () => void this.download());

    client.connect();
    void client.whenSynced().then(() => {
      this.showReadOnly();
      this.renderTree();
      const first = client.files()[0];
      if (first && !this.open) this.openFile(first.path);
      void this.renderCommits();
    });
  }

  private showStatus(status: string): void {
    const el = byId('status');
    el.textContent = status;
    el.dataset.status = status;
    if (status === 'synced') this.showReadOnly();
  }

  private showReadOnly(): void {
    const banner = byId('banner');
    banner.hidden = !this.client.readOnly;
    banner.textContent = this.client.readOnly
      ? 'Read-only: this token has the viewer role. You can read and download; the server refuses every change.'
      : '';
  }

  private renderTree(): void {
    const tree = byId('tree');
    clear(tree);
    let folder = '';
    for (const file of this.client.files()) {
      const slash = file.path.lastIndexOf('/');
      const dir = slash < 0 ? '' : file.path.slice(0, slash);
      if (dir && dir !== folder) tree.append(el('li', { class: 'folder' }, `${dir}/`));
      folder = dir;
      const item = el('li', { 'data-path': file.path }, slash < 0 ? file.path : file.path.slice(slash + 1));
      if (dir) item.style.paddingLeft = `${6 + 12 * dir.split('/').length}px`;
      if (file.path === this.open?.file.path) item.classList.add('open');
      item.addEventListener('click', () => this.openFile(file.path));
      tree.append(item);
    }
  }

  private openFile(path: string): void {
    if (this.open?.file.path === path) return;
    if (this.open) {
      this.open.view.destroy();
      this.open.file.awareness.off('change', this.renderPeople);
      this.open.file.doc.off('update', this.onBodyUpdate);
      this.client.closeFile(this.open.file.path);
    }
    const file = this.client.openFile(path);
    file.awareness.setLocalStateField('user', { name: this.me, color: presenceColor(this.me) });
    file.awareness.on('change', this.renderPeople);
    file.doc.on('update', this.onBodyUpdate);
    const view = createEditor(clear(byId('editor')), file, this.client.readOnly);
    this.open = { file, view };
    byId('file-title').textContent = path;
    this.renderTree();
    this.renderPeople();
    void this.renderFileHistory();
  }

  /** Any change of the open body (local or remote) makes a new version: refresh the list soon. */
  private readonly onBodyUpdate = (): void => this.scheduleFileHistory();

  /** Everyone with this file open (its awareness states), you first. */
  private readonly renderPeople = (): void => {
    const list = clear(byId('people'));
    if (!this.open) return;
    const { awareness } = this.open.file;
    const people: Person[] = [];
    awareness.getStates().forEach((state, clientId) => {
      const user = (state as { user?: { name?: unknown; color?: unknown } }).user;
      if (typeof user?.name !== 'string') return;
      people.push({
        name: user.name,
        color: typeof user.color === 'string' ? user.color : '#888',
        me: clientId === awareness.clientID,
      });
    });
    people.sort((a, b) => Number(b.me) - Number(a.me) || a.name.localeCompare(b.name));
    for (const p of people) {
      const dot = el('span', { class: 'dot' });
      dot.style.background = p.color;
      list.append(el('li', { 'data-name': p.name }, dot, p.me ? `${p.name} (you)` : p.name));
    }
  };

  /** Refreshes the file history at most once per {@link HISTORY_REFRESH_MS} while others type. */
  private scheduleFileHistory(): void {
    if (this.historyTimer) return;
    this.historyTimer = setTimeout(() => {
      this.historyTimer = null;
      void this.renderFileHistory();
    }, HISTORY_REFRESH_MS);
  }

  private async renderFileHistory(): Promise<void> {
    const path = this.open?.file.path;
    if (!path) return;
    const list = byId('file-history');
    try {
      const versions = await this.api.fileVersions(this.workspace, path);
      if (path !== this.open?.file.path) return;
      clear(list);
      versions.forEach((v, i) => {
        const restore = el('button', { type: 'button', 'data-update-id': String(v.update_id) }, 'restore');
        restore.addEventListener('click', () => void this.restoreVersion(path, v.update_id));
        list.append(
          el(
            'li',
            {},
            el('span', {}, `#${v.update_id} · ${new Date(v.timestamp).toLocaleTimeString()} · ${v.origin}`),
            i === 0 ? '' : restore,
          ),
        );
      });
      if (versions.length === 0) list.append(el('li', {}, 'no versions yet'));
    } catch (err) {
      this.notice(describe(err));
    }
  }

  private async renderCommits(): Promise<void> {
    const list = byId('commits');
    try {
      const commits = await this.api.commits(this.workspace);
      clear(list);
      for (const c of commits) {
        const restore = el('button', { type: 'button' }, 'restore');
        restore.addEventListener('click', () => void this.restoreCommit(c.id));
        list.append(
          el(
            'li',
            { 'data-commit': c.id },
            el('span', { title: c.message }, `${c.id.slice(0, 8)} ${new Date(c.timestamp).toLocaleString()}`),
            restore,
          ),
        );
      }
      if (commits.length === 0) list.append(el('li', {}, 'no commits yet'));
    } catch (err) {
      list.replaceChildren(el('li', {}, describe(err)));
    }
  }

  private async restoreVersion(path: string, updateId: number): Promise<void> {
    try {
      const r = await this.api.restoreFileVersion(this.workspace, path, updateId);
      this.notice(
        r.changed ? `Restored ${path} to version ${updateId}.` : `${path} already equals that version.`,
        true,
      );
      void this.renderFileHistory();
    } catch (err) {
      this.notice(describe(err));
    }
  }

  private async restoreCommit(commitId: string): Promise<void> {
    try {
      const r = await this.api.restoreCommit(this.workspace, commitId);
      this.notice(`Restore ${commitId.slice(0, 8)}: ${r.status}, ${r.docs_updated} docs updated.`, true);
    } catch (err) {
      this.notice(describe(err));
    }
  }

  private async commit(): Promise<void> {
    try {
      await this.client.save().catch(() => undefined); // commit what was typed so far
      const r = await this.api.commit(this.workspace);
      this.notice(`Committed ${r.commit_id.slice(0, 8)} (${r.files} files).`, true);
      void this.renderCommits();
    } catch (err) {
      this.notice(describe(err));
    }
  }

  private async download(): Promise<void> {
    try {
      const blob = await this.api.snapshot(this.workspace);
      const url = URL.createObjectURL(blob);
      const a = el('a', { href: url, download: `${this.workspace}.zip` });
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
    } catch (err) {
      this.notice(describe(err));
    }
  }

  private attempt(action: () => void): void {
    try {
      action();
    } catch (err) {
      this.notice(describe(err));
    }
  }

  private notice(text: string, ok = false): void {
    const n = byId('notice');
    n.hidden = false;
    n.textContent = text;
    n.classList.toggle('ok', ok);
  }
}

/** How often the file history is reloaded while the file changes. */
const HISTORY_REFRESH_MS = 2000;

/** A refusal as the user should read it: the server's code and message. */
function describe(err: unknown): string {
  if (err instanceof ApiRefusal) return `Refused by the server (${err.status} ${err.code}): ${err.message}`;
  if (err instanceof DiaryxClientError) return `Refused (${err.code}): ${err.message}`;
  return err instanceof Error ? err.message : String(err);
}
