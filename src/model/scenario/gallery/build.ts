// Small builders that keep the gallery's scenarios readable: each scenario is written as the
// exitscope/1 document a person would write (names, not numbers), so every entry is valid input
// for `exitscope run` as it stands.
import type { Json, ScenarioDocument } from '../document';

export interface GalleryEntry {
  id: string; // stable: links and the public/scenarios file names use it
  /** The rows of spec/kvm-semantics.md this scenario demonstrates (see ROWS in index.ts). */
  covers: string[];
  doc: ScenarioDocument;
}

type Expect = { [key: string]: Json };
type Fd = string;
const withExpect = (op: { [key: string]: Json }, expect?: Expect) => (expect ? { ...op, expect } : op);

export const op = {
  check: (cap: string, expect?: Expect) => withExpect({ op: 'check_extension', cap }, expect),
  create: (id: number, expect?: Expect) => withExpect({ op: 'create_vcpu', id }, expect),
  /** KVM_ENABLE_CAP(KVM_CAP_X86_DISABLE_EXITS) with args[0] given by exit names (or a "0x…" mask). */
  disable: (fd: Fd, args: string[] | string, expect?: Expect) =>
    withExpect({ op: 'enable_cap', fd, cap: 'KVM_CAP_X86_DISABLE_EXITS', args }, expect),
  debug: (fd: Fd, control: string[], expect?: Expect) => withExpect({ op: 'set_guest_debug', fd, control }, expect),
  run: (fd: Fd, expect?: Expect, timeout_ns?: number) => withExpect({ op: 'run', fd, ...(timeout_ns && { timeout_ns }) }, expect),
  threads: (fds: Fd[], for_ns: number, expect?: Expect) => withExpect({ op: 'run_threads', fds, for_ns }, expect),
  regs: (fd: Fd, expect?: Expect) => withExpect({ op: 'get_regs', fd }, expect),
  mp: (fd: Fd, expect?: Expect) => withExpect({ op: 'get_mp_state', fd }, expect),
  stats: (fd: Fd, expect?: Expect) => withExpect({ op: 'stats', fd }, expect),
  interrupt: (fd: Fd, vector: number, expect?: Expect) => withExpect({ op: 'interrupt', fd, vector }, expect),
};

/** Expectations in the result document's words. */
export const ok = { ret: 0 };
export const einval = { ret: -1, errno: 'EINVAL' };
export const exitTo = (exit_reason: string, more: Expect = {}) => ({ ret: 0, run: { exit_reason, ...more } });
export const stillInKvm = { blocked: true };

export interface ScenarioText {
  id: string;
  covers: string[];
  title: string;
  /** Two sentences: what happens, and why it matters. */
  description: string;
  kernel: 'v5.19' | 'rfc-v4' | 'rfc-v6' | 'mainline';
  patches?: number;
  host?: { [key: string]: Json };
  vm?: { [key: string]: Json };
  asm: string;
  program: Json[];
}

export function entry(s: ScenarioText): GalleryEntry {
  const doc: ScenarioDocument = { format: 'exitscope/1', title: s.title, description: s.description, kernel: s.kernel };
  if (s.patches !== undefined) doc.patches = s.patches;
  if (s.host) doc.host = s.host;
  if (s.vm) doc.vm = s.vm;
  doc.guest = { asm: s.asm };
  doc.program = s.program;
  return { id: s.id, covers: s.covers, doc };
}

// ---- Guest code pieces (NASM syntax, 64-bit, code at 0x10000, identity-mapped) ----

/** Where the snippets keep the IDT: above the code, well below the vCPU stacks at the top of RAM. */
const IDT = 0x20000;

/** An IDT with 64-bit interrupt gates for the given vectors, loaded with LIDT. */
export function idt(gates: Record<number, string>): string {
  const lines = Object.entries(gates).flatMap(([vector, handler]) => [
    `    ; vector ${vector} -> ${handler}: a 64-bit interrupt gate, CS 0x08, present, DPL 0`,
    `    mov rdi, 0x${(IDT + Number(vector) * 16).toString(16)}`,
    `    mov rax, ${handler}`,
    '    mov [rdi], ax',
    '    mov word [rdi + 2], 0x08',
    '    mov word [rdi + 4], 0x8e00',
    '    shr rax, 16',
    '    mov [rdi + 6], ax',
    '    shr rax, 16',
    '    mov [rdi + 8], eax',
    '    mov dword [rdi + 12], 0',
  ]);
  return [
    ...lines,
    '    sub rsp, 16                       ; IDTR: limit, then base',
    '    mov word [rsp], 0xfff',
    `    mov qword [rsp + 2], 0x${IDT.toString(16)}`,
    '    lidt [rsp]',
    '    add rsp, 16',
  ].join('\n');
}

/** WRMSR of a 32-bit value (EDX = 0). */
const wrmsr = (msr: number, value: number, what: string) => [
  `    mov ecx, 0x${msr.toString(16)}                   ; ${what}`,
  `    mov eax, 0x${value.toString(16)}`,
  '    xor edx, edx',
  '    wrmsr',
];

/**
 * Switches the local APIC to x2APIC mode and arms its timer (divide by 1) to raise `vector` after
 * `count` ticks: once, or every `count` ticks.
 */
export function lapicTimer(vector: number, count: number, periodic = false): string {
  return [
    '    mov ecx, 0x1b                     ; IA32_APIC_BASE: set EN and EXTD (x2APIC mode)',
    '    rdmsr',
    '    or eax, 0xc00',
    '    wrmsr',
    ...wrmsr(0x80f, 0x1ff, 'SVR: APIC software-enabled, spurious vector 0xff'),
    ...wrmsr(0x83e, 0xb, 'timer divide configuration: divide by 1'),
    ...(periodic ? wrmsr(0x832, 0x20000 | vector, `LVT timer: periodic, vector ${vector}`) : wrmsr(0x832, vector, `LVT timer: one-shot, vector ${vector}`)),
    ...wrmsr(0x838, count, 'initial count: starts the timer'),
  ].join('\n');
}

/** Tells the local APIC the interrupt is handled (x2APIC EOI), for handlers; keeps the interrupted code's registers. */
export const EOI = ['    push rax', '    push rcx', '    push rdx', ...wrmsr(0x80b, 0, 'EOI'), '    pop rdx', '    pop rcx', '    pop rax'].join('\n');
