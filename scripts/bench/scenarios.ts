// The lab benchmarks' scenarios (four vCPUs, busy with exits or spinning in the guest), as documents:
// the Playwright side loads them by link, the timeline bench's page runs one in the real worker.
import { entry, op, type ScenarioText } from '../../src/model/scenario/gallery/build';

export const VCPUS = [0, 1, 2, 3];
const FDS = VCPUS.map((id) => `vcpu${id}`);

const doc = (s: Omit<ScenarioText, 'id' | 'covers' | 'description'>) => entry({ id: 'bench', covers: [], description: '', ...s }).doc;

/** Four vCPUs, each looping over arithmetic and a write to the in-kernel PIC (an exit KVM handles itself). */
export const BUSY = (forNs: number) =>
  doc({
    title: 'Four vCPUs writing to the PIC',
    kernel: 'rfc-v4',
    asm: ['loop:', '    inc rax', '    add rbx, rax', '    out 0x21, al', '    jmp loop', ''].join('\n'),
    program: [...VCPUS.map((id) => op.create(id)), op.threads(FDS, forNs)],
  });

/** Four vCPUs running guest code only: no exits at all. */
export const SPIN = (forNs: number) =>
  doc({
    title: 'Four vCPUs spinning in the guest',
    kernel: 'rfc-v4',
    asm: ['spin:', '    inc rax', '    add rbx, rax', '    jmp spin', ''].join('\n'),
    program: [...VCPUS.map((id) => op.create(id)), op.threads(FDS, forNs)],
  });
