// Who did what on the host, as the trace formats show it: the VMM process (its main thread issues
// the VM ioctls) and one thread per vCPU, pinned to a physical CPU. The model has no host scheduler
// to ask, so the numbering is fixed here and every format agrees on it.

export const VMM_COMM = 'exitscope';
export const VMM_PID = 4200;

export interface HostThread {
  comm: string; // task comm (at most 15 characters, as the kernel keeps it)
  tid: number;
  cpu: number; // the physical CPU the thread runs on
}

/** vCPU N's thread: tid VMM_PID + 1 + N, pinned to pCPU N modulo the host's pCPUs. */
export function vcpuThread(vcpu: number, pcpus: number): HostThread {
  return { comm: VMM_COMM, tid: VMM_PID + 1 + vcpu, cpu: vcpu % Math.max(1, pcpus) };
}
