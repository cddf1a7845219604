import { markdown } from '@codemirror/lang-markdown';
import { EditorState } from '@codemirror/state';
import { EditorView } from '@codemirror/view';
import type { OpenFile } from '@diaryx-sync/client';
import { basicSetup } from 'codemirror';
import { yCollab } from 'y-codemirror.next';
import * as Y from 'yjs';

/**
 * A CodeMirror 6 editor bound to an open file's `Y.Text` and presence (`y-codemirror.next`):
 * remote edits and remote cursors appear live; `readOnly` makes it refuse typing.
 */
export function createEditor(parent: HTMLElement, file: OpenFile, readOnly: boolean): EditorView {
  const undoManager = new Y.UndoManager(file.text);
  return new EditorView({
    parent,
    state: EditorState.create({
      doc: file.text.toString(),
      extensions: [
        basicSetup,
        markdown(),
        EditorView.lineWrapping,
        EditorState.readOnly.of(readOnly),
        EditorView.editable.of(!readOnly),
        yCollab(file.text, file.awareness, { undoManager }),
      ],
    }),
  });
}
