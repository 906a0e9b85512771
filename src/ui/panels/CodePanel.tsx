// The guest code editor: assembler errors on their lines, the selected vCPU's instruction at RIP
// marked.
import { useMemo } from 'react';
import { CodeEditor } from '../editors/CodeEditor';
import { useLab, useLabState } from '../store/use-lab';
import { editorMessages } from './problems';

export function CodePanel() {
  const lab = useLab();
  const code = useLabState((s) => s.draft.code);
  const kind = useLabState((s) => s.draft.codeKind);
  const problems = useLabState((s) => s.problems);
  const line = useLabState((s) => {
    const v = s.view?.vcpus.find((c) => c.id === s.selection.vcpu) ?? s.view?.vcpus[0];
    return v?.disasm.find((d) => d.current)?.line ?? null;
  });
  const running = useLabState((s) => s.running);
  const messages = useMemo(() => editorMessages(problems, 'asm'), [problems]);
  return (
    <section className="panel code-panel" aria-labelledby="code-heading">
      <h2 id="code-heading">Guest code</h2>
      <p className="hint">
        {kind === 'asm' ? 'x86-64, Intel syntax (NASM style); every vCPU starts at the entry.' : 'Bytes in hex (guest.hex).'}
      </p>
      <CodeEditor text={code} language={kind === 'asm' ? 'nasm' : 'json'} label="Guest code" messages={messages}
        markedLine={line} markLater={running} onChange={lab.editCode} />
    </section>
  );
}
