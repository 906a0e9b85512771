// What the page asks of an editor, so that the CodeMirror chunk can load lazily behind it.

/** A message on a line of the editor's text (1-based line and column), e.g. an assembler error. */
export interface EditorMessage {
  line: number;
  col: number;
  message: string;
  severity?: 'error' | 'warning' | 'info';
}

export interface EditorOptions {
  text: string;
  language: 'nasm' | 'json';
  /** The accessible name of the editing area. */
  label: string;
  /** Where the caret starts (offsets in `text`): where it was in the plain textarea it replaces. */
  selection?: { anchor: number; head: number };
  onChange(text: string): void;
}

export interface EditorHandle {
  /** Replaces the text (a no-op when it is the same, so the cursor stays put). */
  setText(text: string): void;
  setMessages(messages: readonly EditorMessage[]): void;
  /** Marks a line as the current one (the instruction at RIP); null clears the mark. */
  markLine(line: number | null): void;
  focus(): void;
  destroy(): void;
}
