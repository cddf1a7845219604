/**
 * `planRestore` (pure): restoring a commit into a workspace in doc-id mode keeps every file at its
 * committed path, including files in sub-folders under a root index.
 */
import * as Y from 'yjs';
import { MemoryStorage, WorkspaceCrdt, workspaceDocId } from '@diaryx-sync/crdt';
import { createCrdtWorkspaceModel } from '../src/workspace/crdt-workspace-model';

const enc = (s: string) => new TextEncoder().encode(s);

test('planRestore in doc-id mode puts sub-folder files at their committed paths', () => {
  const ws = new WorkspaceCrdt();
  ws.setFile('README.md', { title: 'Home', contents: [], modified_at: 1 });
  ws.migrateToDocIds();
  const states = new Map([[workspaceDocId('w'), Y.encodeStateAsUpdate(ws.doc)]]);
  const model = createCrdtWorkspaceModel(() => new MemoryStorage());
  const files = [
    { path: 'README.md', content: enc('---\ntitle: Home\ncontents:\n- "[A](/notes/a.md)"\n---\n\nhome\n') },
    { path: 'notes/a.md', content: enc('---\ntitle: A\npart_of: "[Home](/README.md)"\n---\n\nalpha\n') },
  ];
  const plan = model.planRestore({ tenant: 't', workspace: 'w', states }, files);
  const restored = WorkspaceCrdt.fromUpdate(states.get(workspaceDocId('w')) ?? null);
  Y.applyUpdate(restored.doc, plan.get(workspaceDocId('w'))!);
  const paths = restored
    .listFiles()
    .map((f) => f.path)
    .sort();
  expect(paths).toEqual(['README.md', 'notes/a.md']);
});
