// Decodes one instruction from guest RAM into a pre-decoded entry (layout.ts), driven by optable.ts.
// Faults found while decoding become entries too (OP_UD, OP_GP_LENGTH, OP_FETCH) that raise them
// when executed, so a block can be translated ahead of the instruction that faults.
import * as M from './mnemonics';
import * as O from './ops';
import {
  ZERO_REG, RAM, ENTRY, E_RIP, E_OP, E_LEN, E_FL, E_R, E_B, E_X, E_SC, E_K, E_DISP, E_IMM,
  FL_A32, FL_FS, FL_GS, FL_REP, FL_REPNE, FL_MEM,
} from './layout';
import {
  rowAddr, groupRow, rmGroupRow, MAP0F, D_MODRM, D_BYTE, D_D64, D_LOCK, D_SIZED, D_GROUP,
  D_RMGROUP, D_GE, D_OPREG, D_ACC, D_NOF3, D_PLAIN, D_NO64, D_SRC8, D_REGONLY, D_CR, IMM_SHIFT, MNV_SHIFT, IMM_B,
  IMM_BU, IMM_W, IMM_Z, IMM_V, IMM_MOFFS, IMM_REL8, IMM_REL32, IMM_ONE, MNV_SI, MNV_SI1, MNV_A32, ROW_PAUSE,
  ROW_ENDBR64, ROW_ENDBR32, ROW_RDSSPD, ROW_RDSSPQ,
} from './optable';
import { ramSize } from './state';

const MAX_LEN: u32 = 15;
const OP_MASK: u64 = 0x3ff;

// Decoder cursor: the instruction's address, how many bytes were taken, and how many may be.
let at: u64 = 0;
let pos: u32 = 0;
let inRam: u32 = 0;
let failed: i32 = 0; // 0, or the fault op (OP_GP_LENGTH / OP_FETCH) that stopped the fetch

function byte(): u32 {
  if (pos >= MAX_LEN) { if (!failed) failed = O.OP_GP_LENGTH; return 0; }
  if (pos >= inRam) { if (!failed) failed = O.OP_FETCH; return 0; }
  return load<u8>(RAM + <usize>(at + pos++));
}
function bytes(n: u32): u64 {
  let v: u64 = 0;
  for (let i: u32 = 0; i < n; i++) v |= <u64>byte() << (<u64>i * 8);
  return v;
}
function sext(v: u64, n: u32): i64 {
  const s = <u64>(64 - n * 8);
  return <i64>(v << s) >> s;
}

/** CUR offset of register n as an operand of the given size index (byte registers: AH..BH without REX). */
function regOff(n: u32, si: u32, rex: u32): u8 {
  if (si == 0 && !rex && n >= 4 && n < 8) return <u8>((n - 4) * 8 + 1);
  return <u8>(n * 8);
}

/**
 * Decodes the instruction at rip into entry e and returns its mnemonic (M.INVALID when it raises a
 * fault; E_OP is then the fault op). E_CUM and E_COST are left for the block builder.
 */
export function decode(rip: u64, e: usize): i32 {
  at = rip; pos = 0; failed = 0;
  inRam = rip < ramSize ? <u32>min<u64>(ramSize - rip, MAX_LEN) : 0;
  memory.fill(e, 0, ENTRY);
  store<u32>(e, <u32>rip, E_RIP);
  store<u8>(e, ZERO_REG, E_X);

  // Legacy prefixes and REX (which counts only right before the opcode).
  let opsz = false, adsz = false, lock = false, rep: u8 = 0, seg: u8 = 0, rex: u32 = 0;
  let b = byte();
  while (!failed) {
    if (b == 0x66) opsz = true;
    else if (b == 0x67) adsz = true;
    else if (b == 0xf0) lock = true;
    else if (b == 0xf2) rep = FL_REPNE;
    else if (b == 0xf3) rep = FL_REP;
    else if (b == 0x64) seg = FL_FS;
    else if (b == 0x65) seg = FL_GS;
    else if (b == 0x26 || b == 0x2e || b == 0x36 || b == 0x3e) {} // ignored in 64-bit mode
    else if ((b & 0xf0) == 0x40) { rex = b; b = byte(); continue; }
    else break;
    rex = 0;
    b = byte();
  }
  let row = <i32>b;
  if (b == 0x0f) {
    b = byte();
    row = MAP0F + <i32>b;
    // CLDEMOTE (0F 1C /0) has no 66, F2 or F3 form: with one of them 0F 1C is all reserved NOP, like 0F 19.
    if (b == 0x1c && (rep || opsz)) row = MAP0F + 0x19;
  }
  let d = load<u64>(rowAddr(row));
  const rexW = (rex >> 3) & 1, rexR = (rex >> 2) & 1, rexX = (rex >> 1) & 1, rexB = rex & 1;

  let mod: u32 = 3, reg: u32 = 0, rm: u32 = 0;
  if (d & D_MODRM) {
    const m = byte();
    mod = d & D_REGONLY ? 3 : m >> 6; reg = (m >> 3) & 7; rm = m & 7;
    if (d & D_GROUP) {
      let g = load<u64>(rowAddr(groupRow(<i32>(d & OP_MASK), <i32>reg)));
      if ((g & D_RMGROUP) && mod == 3) g = load<u64>(rowAddr(rmGroupRow(<i32>(g & OP_MASK), <i32>rm)));
      d = g == 0 ? 0 : (d & ~(D_GROUP | OP_MASK)) | g;
    }
  }
  if (row == 0x90) { // NOP; PAUSE with F3; XCHG r8, rAX with REX.B
    if (rep == FL_REP) d = load<u64>(rowAddr(ROW_PAUSE));
    else if (rexB) d = load<u64>(rowAddr(0x91));
  } else if (row == MAP0F + 0x1e && rep == FL_REP && mod == 3) {
    // With F3: /1 is RDSSPD/RDSSPQ, FA and FB are ENDBR64 and ENDBR32.
    if (reg == 1) d = load<u64>(rowAddr(rexW ? ROW_RDSSPQ : ROW_RDSSPD));
    else if (reg == 7 && (rm == 2 || rm == 3)) d = load<u64>(rowAddr(rm == 2 ? ROW_ENDBR64 : ROW_ENDBR32));
  }

  // Operand size index.
  let si: u32 = 2;
  if (d & D_BYTE) si = 0;
  else if (rexW) si = 3;
  else if (opsz) si = 1;
  else if (d & D_D64) si = 3;
  if ((d & D_NO64) && si == 3) si = 2;

  let fl: u8 = <u8>si | seg | rep | (adsz ? FL_A32 : 0);
  const rexAny = rex != 0 ? 1 : 0;
  let isMem = false, ripRel = false;
  if (d & D_MODRM) {
    const g = regOff(reg | (rexR << 3), si, rexAny);
    store<u8>(e, g, E_R);
    if (mod == 3) {
      const r = regOff(rm | (rexB << 3), (d & D_SRC8) ? 0 : si, rexAny);
      // Register-to-register ops write E_B from E_R: for the "G, E" encodings the roles swap.
      if (d & D_GE) { store<u8>(e, g, E_B); store<u8>(e, r, E_R); }
      else store<u8>(e, r, E_B);
    } else {
      isMem = true;
      let disp: i64 = 0, base: u32 = 0xff;
      if (rm == 4) {
        const sib = byte();
        const idx = ((sib >> 3) & 7) | (rexX << 3);
        if (idx != 4) { store<u8>(e, <u8>(idx * 8), E_X); store<u8>(e, <u8>(sib >> 6), E_SC); }
        if ((sib & 7) == 5 && mod == 0) disp = sext(bytes(4), 4);
        else base = (sib & 7) | (rexB << 3);
      } else if (rm == 5 && mod == 0) {
        ripRel = true; // made absolute once the length is known
        disp = sext(bytes(4), 4);
      } else {
        base = rm | (rexB << 3);
      }
      if (mod == 1) disp = sext(bytes(1), 1);
      else if (mod == 2) disp = sext(bytes(4), 4);
      store<u8>(e, base == 0xff ? ZERO_REG : <u8>(base * 8), E_B);
      store<i64>(e, disp, E_DISP);
    }
  } else if (d & D_OPREG) {
    store<u8>(e, regOff((b & 7) | (rexB << 3), si, rexAny), E_B);
  }
  if (d & D_ACC) {
    store<u8>(e, 0, E_R);
    if (!(d & (D_MODRM | D_OPREG))) store<u8>(e, 0, E_B);
  }

  // Immediate.
  let imm: u64 = 0;
  const ik = <i32>((d >> IMM_SHIFT) & 15);
  const immBytes: u32 = si == 0 ? 1 : si == 1 ? 2 : 4;
  switch (ik) {
    case IMM_B: imm = <u64>sext(bytes(1), 1); break;
    case IMM_BU: imm = bytes(1); break;
    case IMM_W: imm = bytes(2); break;
    case IMM_Z: imm = <u64>sext(bytes(immBytes), immBytes); break;
    case IMM_V: imm = si == 3 ? bytes(8) : bytes(immBytes); break;
    case IMM_MOFFS: {
      isMem = true;
      store<u8>(e, ZERO_REG, E_B);
      store<u64>(e, bytes(adsz ? 4 : 8), E_DISP);
      break;
    }
    case IMM_REL8: imm = <u64>sext(bytes(1), 1); break;
    case IMM_REL32: imm = si == 1 ? <u64>sext(bytes(2), 2) : <u64>sext(bytes(4), 4); break;
    case IMM_ONE: imm = 1; break;
  }
  const len = pos;
  if (ik == IMM_REL8 || ik == IMM_REL32) {
    imm += rip + len;
    if (si == 1) imm &= 0xffff; // a 16-bit near branch truncates RIP (AMD, this machine)
  }
  if (ripRel) {
    let a = <u64>load<i64>(e, E_DISP) + rip + len;
    if (adsz) a &= 0xffffffff;
    store<u64>(e, a, E_DISP);
  }
  store<u64>(e, imm, E_IMM);
  store<u8>(e, <u8>len, E_LEN);
  if (isMem) fl |= FL_MEM;
  store<u8>(e, fl, E_FL);
  store<u8>(e, <u8>((d >> 29) & 15), E_K);

  if (d & D_CR) { // MOV CR: CR0, CR2, CR3, CR4 and CR8 (REX.R, or LOCK as on AMD, reaches CR8)
    const cr = reg | (rexR << 3) | (lock ? 8 : 0);
    store<u8>(e, <u8>(cr * 8), E_R);
    if (cr != 0 && (cr < 2 || cr > 4) && cr != 8) d = 0;
    lock = false;
  }

  // Faults, in the order the CPU finds them: fetch past RAM or 15 bytes, undefined opcode, bad LOCK.
  let op = <i32>((isMem ? d >> 10 : d) & OP_MASK);
  if (failed) op = failed;
  else if (op == O.OP_UD || (lock && !((d & D_LOCK) && isMem)) ||
           (rep == FL_REP && (d & D_NOF3)) || ((rep || opsz) && (d & D_PLAIN)) ||
           ((d & D_REGONLY) && !(d & D_CR) && rexR)) op = O.OP_UD; // (DR8-DR15 do not exist)
  if (op <= O.OP_GP_LENGTH || op == O.OP_FETCH) {
    store<u16>(e, <u16>op, E_OP);
    if (op == O.OP_FETCH) { // no instruction to speak of: length 0, and the GPA the fetch needed
      store<u64>(e, rip + pos, E_DISP);
      store<u8>(e, 0, E_LEN);
    }
    return M.INVALID;
  }
  if (d & D_SIZED) op += <i32>si;
  store<u16>(e, <u16>op, E_OP);

  let mn = <i32>((d >> 20) & 0x1ff);
  const v = <i32>((d >> MNV_SHIFT) & 3);
  if (v == MNV_SI) mn += <i32>si;
  else if (v == MNV_SI1) mn += <i32>si - 1;
  else if (v == MNV_A32) mn += <i32>adsz;
  return mn;
}
