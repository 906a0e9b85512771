// The native side of the differential tests: builds wasm/test/native/harness.c with gcc and talks
// to one long-lived harness process in batches (the wire format is described in harness.c).
import { execFileSync, spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync, mkdirSync, renameSync, statSync } from 'node:fs';
import { arch, platform } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Case, End, Outcome } from './case';

const nativeDir = join(dirname(fileURLToPath(import.meta.url)), '..', 'native');
const source = join(nativeDir, 'harness.c');
export const harnessPath = join(nativeDir, 'build', 'harness');

const HELLO_BYTES = 32;
const RESULT_HEAD_BYTES = 8 + 16 * 8 + 3 * 8;
const VECTOR_GP = 13;
const VECTOR_TIMEOUT = 0x100;
const HLT = 0xf4;

export interface CpuIdentity {
  vendor: string; // CPUID leaf 0: 'AuthenticAMD', 'GenuineIntel', …
  family: number;
  model: number;
  stepping: number;
}

/** Why the native side cannot run here, or null when it can. */
export function nativeUnavailable(): string | null {
  if (platform() !== 'linux' || arch() !== 'x64') return `the native harness needs x86-64 Linux (this is ${platform()}/${arch()})`;
  try {
    execFileSync('gcc', ['--version'], { stdio: 'ignore' });
  } catch {
    return 'gcc is not installed (apt-get install gcc)';
  }
  return null;
}

/** Compiles the harness unless the binary is newer than its source. Safe against concurrent callers. */
export function buildHarness(): string {
  if (existsSync(harnessPath) && statSync(harnessPath).mtimeMs >= statSync(source).mtimeMs) return harnessPath;
  mkdirSync(dirname(harnessPath), { recursive: true });
  const tmp = `${harnessPath}.${process.pid}.tmp`;
  execFileSync('gcc', ['-O2', '-std=gnu11', '-Wall', '-Wextra', '-Werror', '-fPIE', '-pie', '-o', tmp, source], { stdio: 'pipe' });
  renameSync(tmp, harnessPath); // atomic: another worker never runs a half-written binary
  return harnessPath;
}

const pad8 = (n: number) => (n + 7) & ~7;

export function encodeBatch(cases: readonly Case[]): Buffer {
  let size = 4;
  for (const c of cases) size += 16 * 8 + 8 + 8 + 8 + c.regions.reduce((s, r) => s + 16 + pad8(r.bytes.length), 0);
  const buf = Buffer.alloc(size);
  let at = buf.writeUInt32LE(cases.length, 0);
  for (const c of cases) {
    if (c.gpr.length !== 16) throw new Error(`a case needs 16 GPRs, got ${c.gpr.length}`);
    for (const v of c.gpr) at = buf.writeBigUInt64LE(BigInt.asUintN(64, v), at);
    at = buf.writeBigUInt64LE(BigInt.asUintN(64, c.rflags), at);
    at = buf.writeBigUInt64LE(BigInt.asUintN(64, c.rip), at);
    at = buf.writeUInt32LE(c.regions.length, at) + 4;
    for (const r of c.regions) {
      at = buf.writeBigUInt64LE(BigInt(r.gpa), at);
      at = buf.writeUInt32LE(r.bytes.length, at) + 4;
      buf.set(r.bytes, at);
      at += pad8(r.bytes.length);
    }
  }
  return buf;
}

function resultBytes(c: Case): number {
  return RESULT_HEAD_BYTES + c.regions.reduce((s, r) => s + pad8(r.bytes.length), 0);
}

/** A #GP reported at a HLT byte of the case's own code is the user-mode HLT that ends every case. */
function endOf(c: Case, vector: number, rip: bigint): End {
  if (vector === VECTOR_TIMEOUT) return { kind: 'timeout' };
  if (vector === VECTOR_GP) {
    const at = Number(rip);
    const r = c.regions.find((r) => at >= r.gpa && at < r.gpa + r.bytes.length);
    if (r && r.bytes[at - r.gpa] === HLT) return { kind: 'halt' };
  }
  return { kind: 'exception', vector };
}

export function decodeResult(c: Case, buf: Buffer, offset: number): Outcome {
  const vector = buf.readUInt32LE(offset);
  let at = offset + 8;
  const gpr: bigint[] = [];
  for (let i = 0; i < 16; i++, at += 8) gpr.push(buf.readBigUInt64LE(at));
  const rip = buf.readBigUInt64LE(at);
  const rflags = buf.readBigUInt64LE(at + 8);
  at += 24;
  const regions = c.regions.map((r) => {
    const bytes = new Uint8Array(buf.subarray(at, at + r.bytes.length));
    at += pad8(r.bytes.length);
    return bytes;
  });
  return { end: endOf(c, vector, rip), gpr, rip, rflags, regions };
}

interface Pending {
  cases: readonly Case[];
  bytes: number;
  resolve: (o: Outcome[]) => void;
  reject: (e: Error) => void;
}

/** One harness process. Batches are answered in order; `run` may be called again before the last answer. */
export class NativeHarness {
  private input: Buffer = Buffer.alloc(0);
  private queue: Pending[] = [];
  private failure: Error | null = null;

  private constructor(private proc: ChildProcessWithoutNullStreams, readonly cpu: CpuIdentity) {
    proc.stdout.on('data', (chunk: Buffer) => this.receive(chunk));
    let stderr = '';
    proc.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    proc.on('exit', (code, signal) => this.fail(new Error(`native harness exited (${signal ?? code}) ${stderr.trim()}`)));
  }

  /** `timeoutMs`: how long one case may run before it is reported as a timeout. */
  static async start({ timeoutMs = 1000 } = {}): Promise<NativeHarness> {
    const proc = spawn(buildHarness(), [String(timeoutMs)], { stdio: 'pipe' });
    const hello = await new Promise<Buffer>((resolve, reject) => {
      let got = Buffer.alloc(0);
      const onData = (d: Buffer) => {
        got = Buffer.concat([got, d]);
        if (got.length < HELLO_BYTES) return;
        proc.stdout.off('data', onData);
        if (got.length > HELLO_BYTES) reject(new Error('native harness spoke before it was asked'));
        resolve(got);
      };
      proc.stdout.on('data', onData);
      proc.on('error', reject);
      proc.on('exit', (code) => reject(new Error(`native harness exited at start (${code}): ${proc.stderr.read() ?? ''}`)));
    });
    if (hello.toString('latin1', 0, 4) !== 'EXSH' || hello.readUInt32LE(4) !== 1) throw new Error('native harness: bad hello');
    const cpu = {
      vendor: hello.toString('latin1', 8, 20),
      family: hello.readUInt32LE(20),
      model: hello.readUInt32LE(24),
      stepping: hello.readUInt32LE(28),
    };
    return new NativeHarness(proc, cpu);
  }

  run(cases: readonly Case[]): Promise<Outcome[]> {
    if (this.failure) return Promise.reject(this.failure);
    if (cases.length === 0) return Promise.resolve([]);
    return new Promise((resolve, reject) => {
      this.queue.push({ cases, bytes: cases.reduce((s, c) => s + resultBytes(c), 0), resolve, reject });
      this.proc.stdin.write(encodeBatch(cases));
    });
  }

  async close(): Promise<void> {
    if (this.proc.exitCode !== null || this.proc.signalCode !== null) return;
    const exited = new Promise((r) => this.proc.once('exit', r));
    this.proc.stdin.end(); // the harness exits on end of input
    await exited;
  }

  private receive(chunk: Buffer): void {
    this.input = this.input.length ? Buffer.concat([this.input, chunk]) : chunk;
    while (this.queue.length && this.input.length >= this.queue[0].bytes) {
      const p = this.queue.shift()!;
      const out: Outcome[] = [];
      let at = 0;
      for (const c of p.cases) {
        out.push(decodeResult(c, this.input, at));
        at += resultBytes(c);
      }
      this.input = this.input.subarray(at);
      p.resolve(out);
    }
  }

  private fail(e: Error): void {
    this.failure = e;
    for (const p of this.queue.splice(0)) p.reject(e);
  }
}
