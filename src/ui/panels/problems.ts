// The worker's problems with a draft, as messages on the lines of the editor they belong to.
import type { SourceProblem } from '../../model/worker/protocol';
import type { EditorMessage } from '../editors/types';

export function editorMessages(problems: readonly SourceProblem[], where: SourceProblem['where']): EditorMessage[] {
  return problems
    .filter((p) => p.where === where)
    .map((p) => ({ line: p.line ?? 1, col: p.col ?? 1, message: p.path && where !== 'asm' ? `${p.path}: ${p.message}` : p.message }));
}
