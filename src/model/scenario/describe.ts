// One program operation as a person reads it in an ioctl log, with kernel names decoded:
// `vcpu1 KVM_ENABLE_CAP(KVM_CAP_X86_DISABLE_EXITS, args[0] = HLT|OVERRIDE)`, and what an errno
// means (`EINVAL: Invalid argument`). Shared by the command's report and the lab.
import { ERRNO, KVM_CAP, KVM_GUESTDBG, KVM_X86_DISABLE_EXITS, type ConstTable } from '../kvm/uapi';
import type { Op } from './types';

/** strerror() for the errnos the model returns (glibc's wording). */
const STRERROR: Record<string, string> = {
  EPERM: 'Operation not permitted', ENOENT: 'No such file or directory', EINTR: 'Interrupted system call',
  ENXIO: 'No such device or address', E2BIG: 'Argument list too long', EBADF: 'Bad file descriptor',
  EAGAIN: 'Resource temporarily unavailable', ENOMEM: 'Cannot allocate memory', EFAULT: 'Bad address',
  EBUSY: 'Device or resource busy', EEXIST: 'File exists', EINVAL: 'Invalid argument',
  ENOTTY: 'Inappropriate ioctl for device', ENOSPC: 'No space left on device', EOPNOTSUPP: 'Operation not supported',
};

/** `EINVAL (Invalid argument)`; the bare name for an errno without a known meaning. */
export function describeErrno(name: string): string {
  const meaning = STRERROR[name] ?? (ERRNO.value(name) === undefined ? undefined : `errno ${ERRNO.value(name)}`);
  return meaning ? `${name} (${meaning})` : name;
}

const short = (table: ConstTable<number> | ConstTable<bigint>, names: string[]) => names.map((n) => n.slice(table.prefix.length)).join('|') || '0';
const hex = (n: bigint | number) => `0x${n.toString(16)}`;
const cap = (n: number) => (KVM_CAP as ConstTable<number>).name(n) ?? String(n);

/** The ioctl an op issues and its decoded arguments. */
export function describeOp(op: Op): string {
  switch (op.op) {
    case 'check_extension':
      return `KVM_CHECK_EXTENSION(${cap(op.cap)})`;
    case 'create_vcpu':
      return `KVM_CREATE_VCPU(${op.id})${op.regs ? ` regs ${regs(op.regs)}` : ''}`;
    case 'enable_cap': {
      const args0 = op.cap === KVM_CAP.byName.get('X86_DISABLE_EXITS')
        ? short(KVM_X86_DISABLE_EXITS, KVM_X86_DISABLE_EXITS.flagNames(op.args))
        : hex(op.args);
      const more = op.args_more.map((a, i) => `, args[${i + 1}] = ${hex(a)}`).join('');
      return `${op.fd} KVM_ENABLE_CAP(${cap(op.cap)}, args[0] = ${args0}${more}${op.flags ? `, flags = ${hex(op.flags)}` : ''})`;
    }
    case 'set_guest_debug':
      return `${op.fd} KVM_SET_GUEST_DEBUG(control = ${short(KVM_GUESTDBG, (KVM_GUESTDBG as ConstTable<number>).flagNames(op.control))})`;
    case 'run': {
      const data = (name: string, bytes: number[] | undefined, where: string) =>
        bytes ? `, after writing ${name} ${bytes.map((b) => b.toString(16).padStart(2, '0')).join(' ')} ${where}` : '';
      return `${op.fd} KVM_RUN${data('io_data', op.io_data, 'at run->io.data_offset')}${data('mmio_data', op.mmio_data, 'into run->mmio.data')}`;
    }
    case 'run_threads':
      return `KVM_RUN loop on ${op.fds.join(', ')} for ${op.for_ns} ns`;
    case 'get_regs':
      return `${op.fd} KVM_GET_REGS`;
    case 'set_regs':
      return `${op.fd} KVM_SET_REGS ${regs(op.regs)}`;
    case 'get_mp_state':
      return `${op.fd} KVM_GET_MP_STATE`;
    case 'interrupt':
      return `${op.fd} KVM_INTERRUPT(vector ${op.vector})`;
    case 'stats':
      return `${op.fd} stats: read() of its stats fd (KVM_GET_STATS_FD)`;
  }
}

function regs(r: Partial<Record<string, bigint>>): string {
  return Object.entries(r).map(([k, v]) => `${k}=${hex(v!)}`).join(' ');
}
