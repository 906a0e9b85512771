// Event delivery through the guest's 64-bit IDT, the double-fault rules, and the exits VMX takes
// instead (the exception bitmap, an EPT violation while delivering, a triple fault).
import {
  S_IDTR_BASE, S_IDTR_LIMIT, S_CS, S_SS, S_EXIT_INTR_INFO, S_EXIT_INTR_ERR, S_EXIT_INSN_LEN,
  S_IDT_VECTORING_INFO, S_IDT_VECTORING_ERR, EXIT_REASON_EXCEPTION_NMI, EXIT_REASON_TRIPLE_FAULT,
  INTR_INFO_VALID, INTR_INFO_DELIVER_CODE, INTR_INFO_TYPE_SHIFT, INTR_TYPE_HARD_EXCEPTION,
  INTR_TYPE_SOFT_INTR, INTR_TYPE_SOFT_EXCEPTION, INTR_TYPE_PRIV_SW_EXCEPTION, INTR_TYPE_NMI, ACTIVITY_ACTIVE,
  ACTIVITY_SHUTDOWN, S_INTERRUPTIBILITY, INTR_BLOCK_NMI,
  GP_VECTOR, NP_VECTOR, DF_VECTOR, PF_VECTOR, DE_VECTOR, TS_VECTOR,
  X86_EFLAGS_TF, X86_EFLAGS_NT, X86_EFLAGS_RF, X86_EFLAGS_IF,
} from './abi';
import { getRflags, flOther, setFlOther } from './flags';
import { rd, wrStack, stackWritable, setDelivering } from './mem';
import {
  S, mx, MX_NONE, MX_EXIT, excVector, excErr, excBitmap, raise, vmexit, canonical, rip, activity,
  shadow, shadowNext,
} from './state';
import { rget, rset, RSP } from './operands';

function contributory(v: u32): bool {
  return v == DE_VECTOR || (v >= <u32>TS_VECTOR && v <= <u32>GP_VECTOR);
}

function interruptionInfo(vector: u32, type: u32, err: i32): u32 {
  return INTR_INFO_VALID | (type << INTR_INFO_TYPE_SHIFT) | vector | (err >= 0 ? INTR_INFO_DELIVER_CODE : 0);
}

/** An EXCEPTION_NMI exit for the exception instead of its delivery (qual: DR6 bits for #DB). */
export function exitException(vector: u32, type: u32, err: i32, insnLen: u32, qual: u64): void {
  vmexit(EXIT_REASON_EXCEPTION_NMI, qual);
  store<u32>(S + S_EXIT_INTR_INFO, interruptionInfo(vector, type, err));
  store<u32>(S + S_EXIT_INTR_ERR, err >= 0 ? <u32>err : 0);
  store<u32>(S + S_EXIT_INSN_LEN, insnLen);
}

/** True when the exception bitmap turns the exception into an exit. */
@inline export function intercepted(vector: u32): bool {
  return ((excBitmap >> vector) & 1) != 0;
}

function setVectoring(vector: u32, type: u32, err: i32): void {
  store<u32>(S + S_IDT_VECTORING_INFO, interruptionInfo(vector, type, err));
  store<u32>(S + S_IDT_VECTORING_ERR, err >= 0 ? <u32>err : 0);
}

/**
 * Delivers an event (err < 0: no error code; insnLen: what the pushed RIP skips, for software
 * events). A fault while delivering becomes #DF when both are contributory (or #PF is involved), a
 * fault while delivering #DF a triple fault; otherwise the new fault is delivered instead. Returns
 * false when a VM exit happened instead (state.mx = MX_EXIT).
 */
export function deliver(vector: u32, type: u32, err: i32, insnLen: u32): bool {
  let v = vector, t = type, code = err, len = insnLen;
  while (true) {
    mx = MX_NONE;
    setDelivering(true);
    const ok = pushFrame(v, t, code, len);
    setDelivering(false);
    if (ok) return true;
    if (mx == MX_EXIT) { setVectoring(v, t, code); return false; }
    let nv = excVector, ncode = excErr;
    mx = MX_NONE;
    if (t == INTR_TYPE_HARD_EXCEPTION) {
      if (v == DF_VECTOR) {
        vmexit(EXIT_REASON_TRIPLE_FAULT, 0);
        activity = ACTIVITY_SHUTDOWN;
        return false;
      }
      if ((contributory(v) && contributory(nv)) || (v == PF_VECTOR && (nv == PF_VECTOR || contributory(nv)))) {
        nv = DF_VECTOR;
        ncode = 0;
      }
    }
    if (intercepted(nv)) {
      exitException(nv, INTR_TYPE_HARD_EXCEPTION, ncode, 0, 0);
      setVectoring(v, t, code);
      return false;
    }
    v = nv; t = INTR_TYPE_HARD_EXCEPTION; code = ncode; len = 0;
  }
}

/** One delivery attempt: gate checks, then the 16-byte aligned frame SS, RSP, RFLAGS, CS, RIP [, error code]. */
function pushFrame(v: u32, t: u32, code: i32, len: u32): bool {
  const soft = t == INTR_TYPE_SOFT_INTR || t == INTR_TYPE_SOFT_EXCEPTION || t == INTR_TYPE_PRIV_SW_EXCEPTION;
  const idtErr = <i32>((v << 3) | 2 | (soft ? 0 : 1)); // IDT bit, and EXT for events not from an INT instruction
  if (<u64>v * 16 + 15 > <u64>load<u32>(S + S_IDTR_LIMIT)) { raise(GP_VECTOR, idtErr); return false; }
  const gate = load<u64>(S + S_IDTR_BASE) + <u64>v * 16;
  const lo = rd<u64>(gate), hi = rd<u64>(gate + 8);
  if (mx) return false;
  const gtype = <u32>(lo >> 40) & 0xf;
  if (gtype != 0xe && gtype != 0xf) { raise(GP_VECTOR, idtErr); return false; }
  if (!((lo >> 47) & 1)) { raise(NP_VECTOR, idtErr); return false; }
  const target = (lo & 0xffff) | ((lo >> 32) & 0xffff0000) | (hi << 32);
  if (!canonical(target)) { raise(GP_VECTOR, 0); return false; }
  const words: u64 = code >= 0 ? 6 : 5;
  const oldSp = rget<u64>(RSP);
  const sp = (oldSp & ~<u64>15) - words * 8;
  if (!stackWritable(sp, words * 8)) return false;
  let p = sp;
  if (code >= 0) { wrStack<u64>(p, <u64>code); p += 8; }
  wrStack<u64>(p, rip + len);
  wrStack<u64>(p + 8, <u64>load<u16>(S + S_CS));
  wrStack<u64>(p + 16, getRflags());
  wrStack<u64>(p + 24, oldSp);
  wrStack<u64>(p + 32, <u64>load<u16>(S + S_SS));
  rset<u64>(RSP, sp);
  rip = target;
  store<u16>(S + S_CS, <u16>(lo >> 16));
  setFlOther(flOther() & ~(<u64>(X86_EFLAGS_TF | X86_EFLAGS_NT | X86_EFLAGS_RF) | (gtype == 0xe ? <u64>X86_EFLAGS_IF : 0)));
  activity = ACTIVITY_ACTIVE;
  shadow = 0;
  shadowNext = 0;
  if (t == INTR_TYPE_NMI) store<u32>(S + S_INTERRUPTIBILITY, load<u32>(S + S_INTERRUPTIBILITY) | INTR_BLOCK_NMI);
  return true;
}

/** A software event raised by INT3, INT1 or INT n: INT3 and INT1 consult the exception bitmap. */
export function softEvent(vector: u32, type: u32, insnLen: u32): bool {
  if (type != INTR_TYPE_SOFT_INTR && intercepted(vector)) {
    exitException(vector, type, -1, insnLen, 0);
    return false;
  }
  return deliver(vector, type, -1, insnLen);
}

/** A fault raised by an instruction: RIP is still at it. */
export function fault(vector: u32, err: i32): bool {
  if (intercepted(vector)) {
    exitException(vector, INTR_TYPE_HARD_EXCEPTION, err, 0, 0);
    return false;
  }
  return deliver(vector, INTR_TYPE_HARD_EXCEPTION, err, 0);
}
