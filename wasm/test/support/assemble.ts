// Assembly of items into bytes with iced-x86's Encoder, and back into NASM text with its Decoder.
// Branch targets are items, not offsets: the assembler lays the items out, then encodes each branch
// at its final address.
import {
  Code, Decoder, DecoderOptions, Encoder, Formatter, FormatterSyntax, Instruction, MemoryOperand, Register, RepPrefixKind,
} from 'iced-x86';
import { CODE_GPA } from './layout';
import type { Insn, Item, Mem, Patch } from './program';
import { GPR, RCX } from './registers';

const STRING_CREATORS: Partial<Record<Code, (addrSize: number, rep: RepPrefixKind) => Instruction>> = {
  [Code.Movsb_m8_m8]: (a, r) => Instruction.createMovsb(a, Register.None, r),
  [Code.Movsw_m16_m16]: (a, r) => Instruction.createMovsw(a, Register.None, r),
  [Code.Movsd_m32_m32]: (a, r) => Instruction.createMovsd(a, Register.None, r),
  [Code.Movsq_m64_m64]: (a, r) => Instruction.createMovsq(a, Register.None, r),
  [Code.Cmpsb_m8_m8]: (a, r) => Instruction.createCmpsb(a, Register.None, r),
  [Code.Cmpsw_m16_m16]: (a, r) => Instruction.createCmpsw(a, Register.None, r),
  [Code.Cmpsd_m32_m32]: (a, r) => Instruction.createCmpsd(a, Register.None, r),
  [Code.Cmpsq_m64_m64]: (a, r) => Instruction.createCmpsq(a, Register.None, r),
  [Code.Lodsb_AL_m8]: (a, r) => Instruction.createLodsb(a, Register.None, r),
  [Code.Lodsw_AX_m16]: (a, r) => Instruction.createLodsw(a, Register.None, r),
  [Code.Lodsd_EAX_m32]: (a, r) => Instruction.createLodsd(a, Register.None, r),
  [Code.Lodsq_RAX_m64]: (a, r) => Instruction.createLodsq(a, Register.None, r),
  [Code.Stosb_m8_AL]: (a, r) => Instruction.createStosb(a, r),
  [Code.Stosw_m16_AX]: (a, r) => Instruction.createStosw(a, r),
  [Code.Stosd_m32_EAX]: (a, r) => Instruction.createStosd(a, r),
  [Code.Stosq_m64_RAX]: (a, r) => Instruction.createStosq(a, r),
  [Code.Scasb_AL_m8]: (a, r) => Instruction.createScasb(a, r),
  [Code.Scasw_AX_m16]: (a, r) => Instruction.createScasw(a, r),
  [Code.Scasd_EAX_m32]: (a, r) => Instruction.createScasd(a, r),
  [Code.Scasq_RAX_m64]: (a, r) => Instruction.createScasq(a, r),
};

export const STRING_CODES = Object.keys(STRING_CREATORS).map(Number) as Code[];

const memOperand = (m: Mem) => MemoryOperand.createBaseIndexScaleDisplSize(m.base, m.index, m.scale, m.disp, m.dispSize);

/** Builds the iced Instruction for an Insn (the caller frees it). Immediates wider than i32 only for MOV r64, imm64. */
export function toInstruction(insn: Insn): Instruction {
  const ins = create(insn);
  if (insn.lock) ins.hasLockPrefix = true;
  return ins;
}

/** Where a Patch operand stands until the assembler knows its target (any RIP-relative byte). */
const PATCH_PLACEHOLDER: Mem = { base: Register.RIP, index: Register.None, scale: 1, disp: 0n, dispSize: 8 };

function create(insn: Insn): Instruction {
  const code = insn.code;
  const ops = insn.ops.map((o) => ('patch' in o ? { mem: PATCH_PLACEHOLDER } : o));
  const string = STRING_CREATORS[code];
  if (string) return string(insn.addrSize ?? 64, insn.rep ?? RepPrefixKind.None);
  const shape = ops.map((o) => ('reg' in o ? 'r' : 'mem' in o ? 'm' : 'imm' in o ? 'i' : 'unresolved')).join('');
  const r = (i: number) => (ops[i] as { reg: Register }).reg;
  const i32 = (i: number) => Number(BigInt.asIntN(32, (ops[i] as { imm: bigint }).imm));
  const withMem = <T>(i: number, f: (m: MemoryOperand) => T): T => f(memOperand((ops[i] as { mem: Mem }).mem));
  switch (shape) {
    case '': return Instruction.create(code);
    case 'r': return Instruction.createReg(code, r(0));
    case 'm': return withMem(0, (m) => Instruction.createMem(code, m));
    case 'i': return Instruction.createI32(code, i32(0));
    case 'rr': return Instruction.createRegReg(code, r(0), r(1));
    case 'rm': return withMem(1, (m) => Instruction.createRegMem(code, r(0), m));
    case 'mr': return withMem(0, (m) => Instruction.createMemReg(code, m, r(1)));
    case 'ri':
      return code === Code.Mov_r64_imm64
        ? Instruction.createRegU64(code, r(0), BigInt.asUintN(64, (ops[1] as { imm: bigint }).imm))
        : Instruction.createRegI32(code, r(0), i32(1));
    case 'mi': return withMem(0, (m) => Instruction.createMemI32(code, m, i32(1)));
    case 'rri': return Instruction.createRegRegI32(code, r(0), r(1), i32(2));
    case 'rmi': return withMem(1, (m) => Instruction.createRegMemI32(code, r(0), m, i32(2)));
  }
  throw new Error(`no iced constructor for operand shape '${shape}' (code ${Code[code]})`);
}

/** What an item emits: instructions, and branches to an item's start (`item`) or to its loop body. */
type Emit = { insn: Insn } | { branch: Code; item: number | 'body' };

function emitsOf(it: Item, i: number): Emit[] {
  switch (it.kind) {
    case 'plain': return it.insns.map((insn) => ({ insn }));
    case 'branch': return [...(it.lead ?? []).map((insn) => ({ insn })), { branch: it.code, item: i + 1 + it.skip }];
    case 'loop': return [
      { insn: { code: Code.Mov_r32_imm32, ops: [{ reg: GPR[32][RCX] }, { imm: BigInt(it.count) }] } },
      ...[...it.body, ...(it.close ?? [])].map((insn) => ({ insn })),
      { branch: it.code, item: 'body' },
    ];
  }
}

export interface Line {
  ip: number;
  bytes: Uint8Array;
  code: Code;
  text: string;
}

export interface Assembled {
  bytes: Uint8Array;
  /** Address of the final HLT. */
  haltIp: number;
}

/**
 * Lays out the items at `origin` and appends the HLT that ends every case. Every form used here has a
 * length independent of its address and target, so everything is encoded once at its final address,
 * branches aimed at themselves; then each branch is encoded again with its real target, in place.
 */
export function assemble(items: readonly Item[], origin = CODE_GPA): Assembled {
  const encoder = new Encoder(64);
  const encode = (ins: Instruction, ip: number, into: Encoder = encoder): number => {
    try {
      return into.encode(ins, BigInt(ip));
    } finally {
      ins.free();
    }
  };
  const starts: number[] = [];
  const branches: { ip: number; length: number; code: Code; item: number; body: number }[] = [];
  let ip = origin;
  const measurer = new Encoder(64);
  /** Length and immediate offset/size of an instruction at ip, without emitting it. */
  const measure = (insn: Insn, at: number) => {
    const length = encode(toInstruction(insn), at, measurer);
    measurer.takeBuffer();
    const c = measurer.getConstantOffsets();
    const imm = { length, offset: c.immediateOffset, size: c.immediateSize };
    c.free();
    return imm;
  };
  /** A Patch operand aimed at its byte in the next instruction's immediate. */
  const aimed = (insn: Insn, at: number, next: Insn | undefined): Insn => {
    const k = insn.ops.findIndex((o) => 'patch' in o);
    if (k < 0) return insn;
    const own = measure(insn, at).length;
    const target = next && measure(next, at + own);
    if (!target?.size) throw new Error('a patch must be followed by an instruction with an immediate');
    const byte = at + own + target.offset + ((insn.ops[k] as Patch).patch % target.size);
    return { ...insn, ops: insn.ops.map((o, j) => (j === k ? { mem: { ...PATCH_PLACEHOLDER, disp: BigInt(byte) } } : o)) };
  };
  items.forEach((it, i) => {
    starts.push(ip);
    let body = ip;
    const emits = emitsOf(it, i);
    emits.forEach((e, k) => {
      if (k === 1) body = ip; // a loop's body follows its mov ecx
      if ('insn' in e) {
        const next = emits[k + 1];
        ip += encode(toInstruction(aimed(e.insn, ip, next && 'insn' in next ? next.insn : undefined)), ip);
      } else {
        const length = encode(Instruction.createBranch(e.branch, BigInt(ip)), ip);
        branches.push({ ip, length, code: e.branch, item: e.item === 'body' ? -1 : e.item, body });
        ip += length;
      }
    });
  });
  const haltIp = ip;
  starts.push(haltIp);
  encode(Instruction.create(Code.Hlt), haltIp);
  const bytes = encoder.takeBuffer();
  encoder.free();
  const patcher = new Encoder(64);
  for (const b of branches) {
    const target = b.item < 0 ? b.body : starts[Math.min(b.item, items.length)];
    encode(Instruction.createBranch(b.code, BigInt(target)), b.ip, patcher);
    const patch = patcher.takeBuffer();
    if (patch.length !== b.length) throw new Error('a branch changed length with its target');
    bytes.set(patch, b.ip - origin);
  }
  patcher.free();
  measurer.free();
  return { bytes, haltIp };
}

/** NASM text of each instruction in `bytes`, decoded back with iced-x86 (what the CPU sees). */
export function disassemble(bytes: Uint8Array, origin: number): Line[] {
  const d = new Decoder(64, bytes, DecoderOptions.None);
  d.ip = BigInt(origin);
  const f = new Formatter(FormatterSyntax.Nasm);
  const out: Line[] = [];
  while (d.canDecode) {
    const ins = d.decode();
    const at = Number(ins.ip) - origin;
    out.push({ ip: Number(ins.ip), bytes: bytes.slice(at, at + ins.length), code: ins.code, text: f.format(ins) });
    ins.free();
  }
  f.free();
  d.free();
  return out;
}

