// An editor for the guest code or the program. A plain textarea until the CodeMirror chunk has
// loaded (so first paint stays small and typing never waits), then CodeMirror in its place with the
// same text. Problems are shown on their lines and listed below for screen readers.
import { useEffect, useRef, useState } from 'react';
import type { EditorHandle, EditorMessage } from './types';

interface Props {
  text: string;
  language: 'nasm' | 'json';
  label: string;
  messages: readonly EditorMessage[];
  /** The line to mark as current (the instruction at RIP). */
  markedLine?: number | null;
  onChange(text: string): void;
}

export function CodeEditor({ text, language, label, messages, markedLine = null, onChange }: Props) {
  const host = useRef<HTMLDivElement>(null);
  const editor = useRef<EditorHandle | null>(null);
  const [ready, setReady] = useState(false);
  // The latest text and callback, for the editor created once.
  const latest = useRef({ text, onChange });
  latest.current = { text, onChange };

  useEffect(() => {
    let live = true;
    import('./codemirror')
      .then(({ createEditor }) => {
        if (!live || !host.current) return;
        editor.current = createEditor(host.current, {
          text: latest.current.text,
          language,
          label,
          onChange: (t) => latest.current.onChange(t),
        });
        setReady(true);
      })
      .catch(() => {
        // The chunk did not load (offline?): the textarea stays, and works.
      });
    return () => {
      live = false;
      editor.current?.destroy();
      editor.current = null;
      setReady(false);
    };
  }, [language, label]);

  useEffect(() => editor.current?.setText(text), [text, ready]);
  useEffect(() => editor.current?.setMessages(messages), [messages, ready]);
  useEffect(() => editor.current?.markLine(markedLine), [markedLine, ready]);

  return (
    <div className="code-editor">
      {!ready && (
        <textarea aria-label={label} value={text} spellCheck={false} rows={Math.min(24, Math.max(6, text.split('\n').length + 1))}
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
