// Leaf values of the exitscope/1 document as zod schemas that normalise while they validate:
// 64-bit numbers (plain, or "0x…" strings beyond 2^53), sizes ("4M"), kernel constant names with
// or without their prefix, and flag masks written as arrays of names. Every failure message says
// what was expected and, for a misspelt name, what was probably meant.
import { z } from 'zod';
import type { ConstTable } from '../kvm/uapi';
import { didYouMean } from './suggest';

const U64_MAX = (1n << 64n) - 1n;
const HEX = /^0x[0-9a-f]+$/i;

type Ctx = z.core.$RefinementCtx<unknown>;
const issue = (ctx: Ctx, input: unknown, message: string, path: PropertyKey[] = []) =>
  ctx.issues.push({ code: 'custom', input, message, path });

/** A u64 from a JSON number or a "0x…" string; undefined (with an issue) when it is neither. */
function toU64(v: unknown, ctx: Ctx, path: PropertyKey[] = []): bigint | undefined {
  if (v === undefined) {
    issue(ctx, v, 'missing (expected a non-negative integer or a "0x…" string)', path);
    return undefined;
  }
  if (typeof v === 'number') {
    if (Number.isInteger(v) && v >= 0 && Number.isSafeInteger(v)) return BigInt(v);
    if (Number.isInteger(v) && v > 0)
      issue(ctx, v, 'this number is beyond 2^53, where JSON numbers lose precision: write it as a "0x…" string', path);
    else issue(ctx, v, `expected a non-negative integer or a "0x…" string, got ${v}`, path);
    return undefined;
  }
  if (typeof v === 'string' && HEX.test(v)) {
    const n = BigInt(v);
    if (n <= U64_MAX) return n;
    issue(ctx, v, `"${v}" does not fit in 64 bits`, path);
    return undefined;
  }
  issue(ctx, v, `expected a non-negative integer or a "0x…" string, got ${show(v)}`, path);
  return undefined;
}

/** A short description of a JSON value for messages: `"HTL"`, `true`, `an object`. */
export function show(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v);
  if (Array.isArray(v)) return 'an array';
  if (v === null) return 'null';
  if (typeof v === 'object') return 'an object';
  return String(v);
}

export const u64 = z.unknown().transform((v, ctx) => toU64(v, ctx) ?? z.NEVER);

/**
 * Data userspace writes into the kvm_run mapping: an array of byte values (as they lie in memory), or
 * a number / "0x…" string, stored as a little-endian u64 (what `*(__u64 *)p = value` writes). At most
 * `max` bytes. Normalised to the bytes.
 */
export const bytes = (max: number) =>
  z.unknown().transform((v, ctx) => {
    if (!Array.isArray(v)) {
      const n = toU64(v, ctx);
      if (n === undefined) return z.NEVER;
      return Array.from({ length: Math.min(8, max) }, (_, i) => Number((n >> BigInt(8 * i)) & 0xffn));
    }
    if (v.length === 0 || v.length > max) {
      issue(ctx, v, `expected 1 to ${max} byte values, got ${v.length}`);
      return z.NEVER;
    }
    let ok = true;
    v.forEach((b, i) => {
      if (!Number.isInteger(b) || b < 0 || b > 255) {
        issue(ctx, b, `expected a byte (0 to 255), got ${show(b)}`, [i]);
        ok = false;
      }
    });
    return ok ? (v as number[]) : z.NEVER;
  });

/** A u64 that must also fit a JS number (addresses inside guest RAM, sizes, times). */
export const safeU64 = u64.transform((n, ctx) => {
  if (n > BigInt(Number.MAX_SAFE_INTEGER)) {
    issue(ctx, n, `0x${n.toString(16)} is too large here`);
    return z.NEVER;
  }
  return Number(n);
});

/** A zod error option: the message, prefixed by "missing" when the field is absent. */
export const err = (message: string) => ({
  error: (iss: { input?: unknown }) => (iss.input === undefined ? `missing (${message})` : message),
});

const POSITIVE = err('expected a positive number');
export const posNumber = z.number(POSITIVE).positive(POSITIVE).finite(POSITIVE);

export const uint = () => {
  const e = err('expected a non-negative integer');
  return z.number(e).int(e).min(0, e);
};

export const intIn = (lo: number, hi: number) => {
  const e = err(`expected an integer from ${lo} to ${hi}`);
  return z.number(e).int(e).min(lo, e).max(hi, e);
};

const UNITS: Record<string, number> = { K: 1 << 10, M: 1 << 20, G: 1 << 30 };

/** Bytes, or "4M" / "512K" / "1G" (binary units; "MiB" also accepted), or "0x…". */
export const size = z.unknown().transform((v, ctx) => {
  if (typeof v === 'string') {
    const m = /^(\d+)\s*([KMG])(i?B)?$/i.exec(v.trim());
    if (m) return Number(m[1]) * UNITS[m[2].toUpperCase()];
    if (!HEX.test(v)) {
      issue(ctx, v, `expected a size in bytes or like "4M", got ${show(v)}`);
      return z.NEVER;
    }
  }
  const n = toU64(v, ctx);
  return n === undefined ? z.NEVER : Number(n);
});

/** Looks a constant up by its kernel name, with or without the prefix, in any letter case. */
export function lookup<V extends number | bigint>(table: ConstTable<V>, name: string): V | undefined {
  const upper = name.trim().toUpperCase();
  return table.byName.get(upper.startsWith(table.prefix) ? upper.slice(table.prefix.length) : upper);
}

function resolveName<V extends number | bigint>(table: ConstTable<V>, noun: string, v: string, ctx: Ctx, path: PropertyKey[]) {
  const found = lookup(table, v);
  if (found === undefined) issue(ctx, v, `unknown ${noun} ${JSON.stringify(v)}${didYouMean(v, table.byName.keys())}`, path);
  return found;
}

/** A constant given by name (`"KVM_CAP_X86_DISABLE_EXITS"`, `"X86_DISABLE_EXITS"`) or by number. */
export const named = (table: ConstTable<number>, noun: string) =>
  z.unknown().transform((v, ctx) => {
    if (typeof v === 'string' && !HEX.test(v)) return resolveName(table, noun, v, ctx, []) ?? z.NEVER;
    const n = toU64(v, ctx);
    if (n === undefined) return z.NEVER;
    if (n > 0xffffffffn) {
      issue(ctx, v, `a ${noun} number fits in 32 bits`);
      return z.NEVER;
    }
    return Number(n);
  });

/**
 * A flag mask: an array of names (and numbers) ORed together, a number, or a "0x…" string.
 * `table` undefined means the flags have no names here (numbers only).
 */
export const mask = (table: ConstTable<number> | ConstTable<bigint> | undefined, noun: string) =>
  z.unknown().transform((v, ctx) => {
    if (!Array.isArray(v)) return toU64(v, ctx) ?? z.NEVER;
    let out = 0n;
    let ok = true;
    v.forEach((el, i) => {
      let bit: bigint | number | undefined;
      if (typeof el === 'string' && !HEX.test(el)) {
        if (table) bit = resolveName<number | bigint>(table as ConstTable<number | bigint>, noun, el, ctx, [i]);
        else issue(ctx, el, `no ${noun} names are known here: give a number or "0x…"`, [i]);
      } else bit = toU64(el, ctx, [i]);
      if (bit === undefined) ok = false;
      else out |= BigInt(bit);
    });
    return ok ? out : z.NEVER;
  });
