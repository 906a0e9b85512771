// CodeMirror 6, set up once for both editors. This module is the lazily loaded chunk: nothing else
// imports @codemirror/*, so the page's first paint does not wait for it.
import { defaultKeymap, history, historyKeymap } from '@codemirror/commands';
import { bracketMatching, HighlightStyle, indentOnInput, StreamLanguage, syntaxHighlighting } from '@codemirror/language';
import { json } from '@codemirror/legacy-modes/mode/javascript';
import { lintGutter, setDiagnostics, type Diagnostic } from '@codemirror/lint';
import { EditorState, StateEffect, StateField, type Extension } from '@codemirror/state';
import { Decoration, EditorView, highlightActiveLine, keymap, lineNumbers, type DecorationSet } from '@codemirror/view';
import { tags as t } from '@lezer/highlight';
import { nasm } from './nasm';
import type { EditorMessage, EditorHandle, EditorOptions } from './types';

// Colours come from CSS variables (editors.css), so light and dark follow prefers-color-scheme.
const highlight = HighlightStyle.define([
  { tag: t.comment, color: 'var(--tok-comment)', fontStyle: 'italic' },
  { tag: [t.keyword], color: 'var(--tok-keyword)', fontWeight: '600' },
  { tag: [t.labelName], color: 'var(--tok-label)', fontWeight: '600' },
  { tag: [t.number, t.bool, t.null], color: 'var(--tok-number)' },
  { tag: [t.string], color: 'var(--tok-string)' },
  { tag: [t.special(t.variableName)], color: 'var(--tok-register)' },
  { tag: [t.meta, t.typeName], color: 'var(--tok-meta)' },
  { tag: [t.propertyName], color: 'var(--tok-property)' },
]);

const markLine = StateEffect.define<number | null>();
const currentLine = Decoration.line({ class: 'cm-current-insn', attributes: { 'aria-current': 'step' } });

/** The line of the instruction at RIP, marked as the debugger's "current line". */
const markedLine = StateField.define<DecorationSet>({
  create: () => Decoration.none,
  update(deco, tr) {
    for (const e of tr.effects) {
      if (!e.is(markLine)) continue;
      const n = e.value;
      if (n === null || n < 1 || n > tr.state.doc.lines) return Decoration.none;
      return Decoration.set([currentLine.range(tr.state.doc.line(n).from)]);
    }
    return deco.map(tr.changes);
  },
  provide: (f) => EditorView.decorations.from(f),
});

function toDiagnostic(state: EditorState, m: EditorMessage): Diagnostic {
  const line = state.doc.line(Math.min(Math.max(m.line, 1), state.doc.lines));
  const from = Math.min(line.from + Math.max(m.col - 1, 0), line.to);
  return { from, to: Math.max(from, line.to), severity: m.severity ?? 'error', message: m.message };
}

function clampSelection({ anchor, head }: { anchor: number; head: number }, length: number) {
  return { anchor: Math.min(anchor, length), head: Math.min(head, length) };
}

export function createEditor(parent: HTMLElement, opts: EditorOptions): EditorHandle {
  // Text put in by the page (another document opened) is not an edit by the person.
  let replacing = false;
  // The JSON mode names keys "string property"; "property" needs its tag spelled out.
  const language: Extension = StreamLanguage.define(opts.language === 'nasm' ? nasm : { ...json, tokenTable: { property: t.propertyName } });
  const view = new EditorView({
    parent,
    state: EditorState.create({
      doc: opts.text,
      selection: opts.selection && clampSelection(opts.selection, opts.text.length),
      extensions: [
        lineNumbers(),
        history(),
        indentOnInput(),
        bracketMatching(),
        highlightActiveLine(),
        language,
        syntaxHighlighting(highlight),
        lintGutter(),
        markedLine,
        keymap.of([...defaultKeymap, ...historyKeymap]),
        EditorView.lineWrapping,
        EditorView.contentAttributes.of({ 'aria-label': opts.label }),
        EditorView.updateListener.of((u) => {
          if (u.docChanged && !replacing) opts.onChange(u.state.doc.toString());
        }),
      ],
    }),
  });
  return {
    setText(text) {
      if (text === view.state.doc.toString()) return;
      replacing = true;
      try {
        view.dispatch({ changes: { from: 0, to: view.state.doc.length, insert: text } });
      } finally {
        replacing = false;
      }
    },
    setMessages(messages) {
      view.dispatch(setDiagnostics(view.state, messages.map((m) => toDiagnostic(view.state, m))));
    },
    markLine(line) {
      view.dispatch({ effects: markLine.of(line) });
    },
    focus: () => view.focus(),
    destroy: () => view.destroy(),
  };
}
