import { WorkspaceCrdt, type BinaryRef } from '../src';

describe('FileMetadata JSON in the files map', () => {
  test('the JSON stored in the files map has exactly the keys of docs/protocol.md#document-schemas-yjs-update-encoding-v1, null for absent values', () => {
    const ws = new WorkspaceCrdt();
    ws.setFile('a.md', { filename: 'a.md', modified_at: 5 });
    const json = JSON.parse(ws.doc.getMap<string>('files').get('a.md') as string) as Record<string, unknown>;
    expect(Object.keys(json).sort()).toEqual(
      [
        'attachments',
        'audience',
        'contents',
        'deleted',
        'description',
        'extra',
        'filename',
        'modified_at',
        'part_of',
        'title',
      ].sort(),
    );
    expect(json).toMatchObject({
      title: null,
      part_of: null,
      audience: null,
      description: null,
      deleted: false,
    });
    const ref: BinaryRef = {
      path: 'img/a.png',
      source: 's3://b/k',
      hash: 'abc',
      mime_type: 'image/png',
      size: 3,
      uploaded_at: null,
      deleted: false,
    };
    ws.setFile('b.md', { attachments: [ref], modified_at: 6 });
    expect(ws.getFile('b.md')?.attachments).toEqual([ref]);
  });
});
