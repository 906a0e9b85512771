// How long `assemble` takes for a 200-line guest program (no assertions: `npx vitest bench --run src/model/asm`).
import { bench, describe } from 'vitest';
import { assemble } from './index';

/** 200 lines: 20 blocks of loads, arithmetic, I/O, calls and local branches, then data. */
function program200(): string {
  const lines = ['bits 64', 'default rel'];
  for (let i = 0; lines.length < 193; i++) {
    lines.push(
      `f${i}:`,
      '  mov ecx, 10',
      `.loop: mov eax, [rbx + rcx*4 + 8]`,
      '  add rax, 0x1000',
      '  cmp eax, [table + 8]',
      '  jae .skip',
      '  lock inc dword [counter]',
      '.skip: out 0x80, al',
      '  call helper',
      '  dec ecx',
      `  jnz .loop`,
    );
  }
  lines.length = 193;
  lines.push('helper: ret', 'table: dq 1, 2, 3, 4', 'counter: dd 0', 'align 8', 'msg: db "hello", 10, 0', 'times 16 db 0', 'end: hlt');
  return lines.join('\n');
}

describe('assemble', async () => {
  const source = program200();
  await assemble(source, { org: 0x10000 }); // load iced-x86 and build the form tables first
  bench('200-line program', async () => {
    const r = await assemble(source, { org: 0x10000 });
    if (!r.ok) throw new Error(r.errors[0].message);
  });
});
