// An editor for the guest code or the program. A plain textarea until the CodeMirror chunk has
// loaded (after the first paint: load.ts), then CodeMirror in its place with the same text, caret
// and focus, so typing goes on across the swap. Problems are shown on their lines and listed below
// for screen readers.
import { useEffect, useRef, useState } from 'react';
import { loadCodeMirror, loadWhenWanted } from './load';
import type { EditorHandle, EditorMessage } from './types';

interface Props {
  text: string;
  language: 'nasm' | 'json';
  label: string;
  messages: readonly EditorMessage[];
  /** The line to mark as current (the instruction at RIP). */
  markedLine?: number | null;
  /** Mark the line in a task of its own, not in React's commit (a run streaming: ~10 ms a mark). */
  markLater?: boolean;
  onChange(text: string): void;
}

export function CodeEditor({ text, language, label, messages, markedLine = null, markLater = false, onChange }: Props) {
  const box = useRef<HTMLDivElement>(null);
  const host = useRef<HTMLDivElement>(null);
  const plain = useRef<HTMLTextAreaElement>(null);
  const editor = useRef<EditorHandle | null>(null);
  const [ready, setReady] = useState(false);
  // The textarea had the focus when CodeMirror took its place: CodeMirror takes it once shown.
  const takeFocus = useRef(false);
  // The latest text and callback, for the editor created once.
  const latest = useRef({ text, onChange });
  latest.current = { text, onChange };

  useEffect(() => {
    let live = true;
    const mount = ({ createEditor }: typeof import('./codemirror')) => {
      if (!live || !host.current) return;
      const ta = plain.current;
      takeFocus.current = ta !== null && document.activeElement === ta;
      editor.current = createEditor(host.current, {
        text: latest.current.text,
        language,
        label,
        selection: ta ? caret(ta) : undefined,
        onChange: (t) => latest.current.onChange(t),
      });
      setReady(true);
    };
    const cancel = loadWhenWanted(box.current!, () => {
      // When the chunk does not load (offline?), the textarea stays, and works.
      loadCodeMirror().then(mount, () => {});
    });
    return () => {
      live = false;
      cancel();
      editor.current?.destroy();
      editor.current = null;
      setReady(false);
    };
  }, [language, label]);

  useEffect(() => {
    if (ready && takeFocus.current) editor.current?.focus();
    takeFocus.current = false;
  }, [ready]);
  useEffect(() => editor.current?.setText(text), [text, ready]);
  useEffect(() => editor.current?.setMessages(messages), [messages, ready]);
  useEffect(() => {
    if (!markLater) return editor.current?.markLine(markedLine);
    const t = window.setTimeout(() => editor.current?.markLine(markedLine));
    return () => clearTimeout(t);
  }, [markedLine, ready, markLater]);

  return (
    <div ref={box} className="code-editor">
      {!ready && (
        <textarea ref={plain} aria-label={label} value={text} spellCheck={false} rows={Math.min(24, Math.max(6, text.split('\n').length + 1))}
          onChange={(e) => onChange(e.target.value)} />
      )}
      <div ref={host} className="cm-host" hidden={!ready} />
      {messages.length > 0 && (
        <ul className="editor-messages" aria-label={`Problems in ${label}`}>
          {messages.map((m, i) => (
            <li key={i} className={m.severity ?? 'error'}>
              line {m.line}, column {m.col}: {m.message}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

/** The textarea's selection as CodeMirror's anchor and head (the anchor is where it started). */
function caret(ta: HTMLTextAreaElement): { anchor: number; head: number } {
  const { selectionStart: start, selectionEnd: end } = ta;
  return ta.selectionDirection === 'backward' ? { anchor: end, head: start } : { anchor: start, head: end };
}
