import * as Y from 'yjs';

test('yjs is importable', () => {
  const doc = new Y.Doc();
  doc.getText('body').insert(0, 'hi');
  expect(doc.getText('body').toString()).toBe('hi');
});
