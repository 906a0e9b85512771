import { test } from 'vitest';
import { simulator } from './test-scenario';
test('dbg', async () => {
  const sim = await simulator({ kernel: 'rfc-v4', guest: { asm: 'sti\nhlt\ncli\nout 0x80, al\n' }, program: [{ op: 'create_vcpu', id: 0 },
   { op: 'set_guest_debug', fd: 'vcpu0', control: ['ENABLE', 'SINGLESTEP', 'EXIT_USERSPACE'] }, { op: 'run', fd: 'vcpu0' }, { op: 'run', fd: 'vcpu0' }] }, { frames: true });
  sim.step(); sim.step();
  for (const i of [0, 1]) {
    const r = sim.step();
    console.log(JSON.stringify(r.run));
    console.log(sim.events.filter((e: any) => e.kind === 'kvm_exit').map((e: any) => `${e.t.toFixed(0)} ${e.reason} ${e.rip.toString(16)} ${e.info1.toString(16)} ${e.intrInfo.toString(16)}`).join('\n'));
  }
});
