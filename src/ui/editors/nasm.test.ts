import { StringStream } from '@codemirror/language';
import { describe, expect, it } from 'vitest';
import { nasm } from './nasm';

/** Tokens of each line as [text, style] pairs, whitespace left out. */
function tokens(source: string): [string, string | null][][] {
  const state = nasm.startState!(4);
  return source.split('\n').map((line) => {
    const out: [string, string | null][] = [];
    const stream = new StringStream(line, 4, 2);
    while (!stream.eol()) {
      const style = nasm.token(stream, state);
      const text = stream.current();
      if (text.trim()) out.push([text, style]);
      stream.start = stream.pos;
    }
    return out;
  });
}

describe('NASM stream mode', () => {
  it('tells labels, mnemonics, registers, numbers and comments apart', () => {
    expect(tokens('start: mov eax, 0x10 ; set up\n  hlt')).toEqual([
      [['start', 'labelName'], [':', 'punctuation'], ['mov', 'keyword'], ['eax', 'variableName.special'], [',', 'punctuation'],
        ['0x10', 'number'], ['; set up', 'comment']],
      [['hlt', 'keyword']],
    ]);
  });

  it('reads operands that name labels, sizes, memory and prefixes', () => {
    expect(tokens('rep movsb\njmp short start\nout 0x80, al\nmov qword [rsp+8], r15')).toEqual([
      [['rep', 'keyword'], ['movsb', 'keyword']],
      [['jmp', 'keyword'], ['short', 'typeName'], ['start', 'variableName']],
      [['out', 'keyword'], ['0x80', 'number'], [',', 'punctuation'], ['al', 'variableName.special']],
      [['mov', 'keyword'], ['qword', 'typeName'], ['[', 'punctuation'], ['rsp', 'variableName.special'], ['+', 'punctuation'],
        ['8', 'number'], [']', 'punctuation'], [',', 'punctuation'], ['r15', 'variableName.special']],
    ]);
  });

  it('reads directives and strings, with escapes', () => {
    expect(tokens('msg: db "a\\"b", 0\ntimes 4 nop')).toEqual([
      [['msg', 'labelName'], [':', 'punctuation'], ['db', 'meta'], ['"a\\"b"', 'string'], [',', 'punctuation'], ['0', 'number']],
      [['times', 'meta'], ['4', 'number'], ['nop', 'variableName']],
    ]);
  });
});
