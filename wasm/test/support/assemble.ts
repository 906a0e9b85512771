// Assembly of items into bytes with iced-x86's Encoder, and back into NASM text with its Decoder.
// Branch targets are items, not offsets: the assembler lays the items out, then encodes each branch
// at its final address.
import {
  Code, Decoder, DecoderOptions, Encoder, Formatter, FormatterSyntax, Instruction, MemoryOperand, Register, RepPrefixKind,
} from 'iced-x86';
import { CODE_GPA } from './layout';
import type { Insn, Item, Mem, Patch } from './program';
import { GPR, RAX, RCX } from './registers';

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

/** Where a fixup points: an item's start, an item's loop body, or a subroutine (laid out after the HLT). */
type Target = { item: number } | { body: number } | { sub: number };

/** What an item emits: instructions, and instructions aimed at an address known only after layout. */
type Emit = { insn: Insn } | { fixup: (target: bigint) => Instruction; to: Target };

const branch = (code: Code, to: Target): Emit => ({ fixup: (t) => Instruction.createBranch(code, t), to });
const insns = (list: readonly Insn[]): Emit[] => list.map((insn) => ({ insn }));

/** An item's emits; a call item also adds its subroutine (body, then RET) to `subs`. */
function emitsOf(it: Item, i: number, subs: Insn[][]): Emit[] {
  switch (it.kind) {
    case 'plain': return insns(it.insns);
    case 'branch': return [...insns(it.lead ?? []), branch(it.code, { item: i + 1 + it.skip })];
    case 'loop': return [
      { insn: { code: Code.Mov_r32_imm32, ops: [{ reg: GPR[32][RCX] }, { imm: BigInt(it.count) }] } },
      ...insns([...it.body, ...(it.close ?? [])]),
      branch(it.code, { body: i }),
    ];
    case 'call': {
      const ret: Insn = it.retImm === undefined ? { code: Code.Retnq, ops: [] } : { code: Code.Retnq_imm16, ops: [{ imm: BigInt(it.retImm) }] };
      const sub = subs.push([...it.body, ret]) - 1;
      if (!it.indirect) return [branch(Code.Call_rel32_64, { sub })];
      const lea = (t: bigint) => Instruction.createRegMem(Code.Lea_r64_m, GPR[64][RAX], MemoryOperand.createBaseDisplSize(Register.RIP, t, 8));
      return [{ fixup: lea, to: { sub } }, { insn: { code: Code.Call_rm64, ops: [{ reg: GPR[64][RAX] }] } }];
    }
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
  /** Address of the final HLT; subroutines follow it. */
  haltIp: number;
}

/**
 * Lays out the items at `origin`, the HLT that ends every case, then the subroutines of call items.
 * Every form used here has a length independent of its address and target, so everything is encoded
 * once at its final address (fixups aimed at themselves), then each fixup again with its real target,
 * in place.
 */
export function assemble(items: readonly Item[], origin = CODE_GPA): Assembled {
  const out = new Encoder(64);
  const scratch = new Encoder(64);
  const put = (ins: Instruction, ip: number, into: Encoder = out): number => {
    try {
      return into.encode(ins, BigInt(ip));
    } finally {
      ins.free();
    }
  };
  /** Length and immediate offset/size of an instruction at ip, without emitting it. */
  const measure = (insn: Insn, at: number) => {
    const length = put(toInstruction(insn), at, scratch);
    scratch.takeBuffer();
    const c = scratch.getConstantOffsets();
    const imm = { length, offset: c.immediateOffset, size: c.immediateSize };
    c.free();
    return imm;
  };
  /** A Patch operand aimed at its byte in the next instruction's immediate. */
  const aimed = (insn: Insn, at: number, next: Emit | undefined): Insn => {
    const k = insn.ops.findIndex((o) => 'patch' in o);
    if (k < 0) return insn;
    const own = measure(insn, at).length;
    const target = next && 'insn' in next ? measure(next.insn, at + own) : undefined;
    if (!target?.size) throw new Error('a patch must be followed by an instruction with an immediate');
    const byte = at + own + target.offset + ((insn.ops[k] as Patch).patch % target.size);
    return { ...insn, ops: insn.ops.map((o, j) => (j === k ? { mem: { ...PATCH_PLACEHOLDER, disp: BigInt(byte) } } : o)) };
  };

  const subs: Insn[][] = [];
  const fixups: { ip: number; length: number; emit: Extract<Emit, { fixup: unknown }> }[] = [];
  const starts: number[] = [];
  const bodies: number[] = [];
  const subStarts: number[] = [];
  let ip = origin;
  const emit = (emits: Emit[], mark?: (k: number) => void) =>
    emits.forEach((e, k) => {
      mark?.(k);
      if ('insn' in e) ip += put(toInstruction(aimed(e.insn, ip, emits[k + 1])), ip);
      else {
        const length = put(e.fixup(BigInt(ip)), ip);
        fixups.push({ ip, length, emit: e });
        ip += length;
      }
    });
  items.forEach((it, i) => {
    starts.push(ip);
    emit(emitsOf(it, i, subs), (k) => {
      if (k === 1) bodies[i] = ip; // a loop's body follows its mov ecx
    });
  });
  const haltIp = ip;
  starts.push(haltIp);
  emit([{ insn: { code: Code.Hlt, ops: [] } }]);
  for (const sub of subs) {
    subStarts.push(ip);
    emit(insns(sub));
  }
  const bytes = out.takeBuffer();
  for (const { ip: at, length, emit: e } of fixups) {
    const to = e.to;
    const target = 'item' in to ? starts[Math.min(to.item, items.length)] : 'body' in to ? bodies[to.body] : subStarts[to.sub];
    put(e.fixup(BigInt(target)), at, scratch);
    const patch = scratch.takeBuffer();
    if (patch.length !== length) throw new Error('an instruction changed length with its target');
    bytes.set(patch, at - origin);
  }
  out.free();
  scratch.free();
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

