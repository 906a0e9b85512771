// MOVS, CMPS, STOS, LODS, SCAS with their REP/REPE/REPNE forms. A REP form is alone in its block and
// runs as many iterations as the cycle budget allows (one when single-stepping); each iteration
// retires like an instruction, and RIP stays on the instruction until the count runs out, so the
// string is interruptible between iterations as on the CPU.
import * as O from './ops';
import { E_OP, E_FL, E_COST, FL_A32, FL_FS, FL_GS, FL_REP, FL_REPNE } from './layout';
import { X86_EFLAGS_DF } from './abi';
import { flOther, getZF } from './flags';
import { alu } from './alu';
import { rd, wr } from './mem';
import { mx, fsBase, gsBase, tscAt, tscLimit, singleStep, setExtra } from './state';
import { rget, rset, RAX, RCX, RSI, RDI } from './operands';

/** 1: done (the instruction retires); 0: iterations retired, more to go; -1: stopped (mx). */
export function stringOp(e: usize): i32 {
  const op = <i32>load<u16>(e, E_OP);
  const kind = op & ~3;
  switch (op & 3) {
    case 0: return str<u8>(e, kind);
    case 1: return str<u16>(e, kind);
    case 2: return str<u32>(e, kind);
    default: return str<u64>(e, kind);
  }
}

function str<T>(e: usize, kind: i32): i32 {
  const fl = load<u8>(e, E_FL);
  const a32 = (fl & FL_A32) != 0, rep = fl & (FL_REP | FL_REPNE);
  const n = <u64>sizeof<T>();
  const step = (flOther() & X86_EFLAGS_DF) ? <u64>0 - n : n;
  const seg = (fl & FL_FS) ? fsBase : (fl & FL_GS) ? gsBase : 0; // overrides the source (DS) only
  const cost = <u64>load<u8>(e, E_COST);
  let budget: u64 = 1;
  if (rep && !singleStep) {
    const t = tscAt(e);
    budget = t < tscLimit ? (tscLimit - t + cost - 1) / cost : 1;
  }
  let done: u64 = 0, result = 1;
  while (true) {
    let count = a32 ? <u64>rget<u32>(RCX) : rget<u64>(RCX);
    if (rep && count == 0) break;
    const si = a32 ? <u64>rget<u32>(RSI) : rget<u64>(RSI);
    const di = a32 ? <u64>rget<u32>(RDI) : rget<u64>(RDI);
    let advSi = false, advDi = true;
    switch (kind) {
      case O.MOVS: {
        const v = rd<T>(seg + si);
        if (mx || !wr<T>(di, v)) { result = -1; break; }
        advSi = true;
        break;
      }
      case O.STOS: if (!wr<T>(di, rget<T>(RAX))) result = -1; break;
      case O.LODS: {
        const v = rd<T>(seg + si);
        if (mx) { result = -1; break; }
        rset<T>(RAX, v);
        advSi = true; advDi = false;
        break;
      }
      case O.CMPS: {
        const a = rd<T>(seg + si), b = rd<T>(di);
        if (mx) { result = -1; break; }
        alu<T>(O.K_CMP, a, b);
        advSi = true;
        break;
      }
      default: { // SCAS
        const b = rd<T>(di);
        if (mx) { result = -1; break; }
        alu<T>(O.K_CMP, rget<T>(RAX), b);
      }
    }
    if (result < 0) break;
    if (advSi) setAddr(RSI, si + step, a32);
    if (advDi) setAddr(RDI, di + step, a32);
    done++;
    if (!rep) break;
    setAddr(RCX, --count, a32);
    if (count == 0) break;
    // REPE ends when ZF = 0, REPNE when ZF = 1 (CMPS and SCAS only; F2 is plain REP elsewhere).
    if ((kind == O.CMPS || kind == O.SCAS) && (rep == FL_REP ? !getZF() : getZF() != 0)) break;
    if (done >= budget) { result = 0; break; }
  }
  // The entry itself accounts for one iteration when it retires.
  const extra = result < 0 ? done : done > 0 ? done - 1 : 0;
  setExtra(extra, extra * cost);
  return result;
}

/** RSI/RDI/RCX as address registers: 32-bit with a 67 prefix (and then zero-extended). */
@inline function setAddr(r: usize, v: u64, a32: bool): void {
  if (a32) rset<u32>(r, <u32>v);
  else rset<u64>(r, v);
}
