// One vCPU: its exit flags on the vCPU fd, what KVM made of them (vcpu->arch flags, the VMCS
// controls with changed bits marked, a pending KVM_REQ_DISABLE_EXITS), guest debug, registers,
// the code around RIP, mp_state and the binary stats. All of it as the model left it. Compact: the
// flags, VMCS bits and guest_debug show; the code is open for the selected vCPU (the one Step
// instruction steps), registers and stats on demand; in the embed layout every detail starts closed.
import { useState } from 'react';
import { EXIT_FLAG_NAMES, type VcpuView, type VmcsControlView } from '../../model/worker/view';
import { toggledFlags } from '../store/ioctls';
import { useLab, useLabState } from '../store/use-lab';
import { ExitFlagBoxes } from './ExitFlags';
import { useEmbed } from './layout';
import { plural } from '../views/common/format';
import { u64Hex as hex } from './format';

const DEBUG_FLAGS = ['ENABLE', 'SINGLESTEP', 'EXIT_USERSPACE'] as const;
const REG_ORDER = ['rax', 'rbx', 'rcx', 'rdx', 'rsi', 'rdi', 'rbp', 'rsp', 'r8', 'r9', 'r10', 'r11', 'r12', 'r13', 'r14', 'r15', 'rip', 'rflags'];

export function VcpuPanel({ vcpu, selected }: { vcpu: VcpuView; selected: boolean }) {
  const lab = useLab();
  const embed = useEmbed();
  const busy = useLabState((s) => s.running || s.worker !== 'ready');
  const heading = `vcpu-${vcpu.id}-heading`;
  const pendingDisable = vcpu.requests.includes('KVM_REQ_DISABLE_EXITS');
  const at = vcpu.disasm.find((d) => d.current);
  // The code starts open on the vCPU selected when the panel appears; later selections leave every
  // panel as it is, so nothing moves under the pointer.
  const [codeOpen] = useState(() => selected && !embed);
  const owner = vcpu.scope === 'vcpu' ? 'vcpu->arch' : 'kvm->arch';
  // Selecting keeps an exit picked in the timeline when it is this vCPU's.
  const choose = () => selected || lab.select({ vcpu: vcpu.id, exit: null });
  return (
    <section className={selected ? 'panel vcpu-panel selected' : 'panel vcpu-panel'} aria-labelledby={heading} onFocus={choose} onPointerDown={choose}>
      <header className="panel-head">
        <h2 id={heading}>vCPU {vcpu.id}</h2>
        <span className="badge" title="mp_state">{vcpu.mpState.replace(/^KVM_MP_STATE_/, '')}</span>
        <span className="badge" title="what the vCPU thread is doing">{vcpu.activity.replace('_', ' ')}</span>
        <span className="badge" title="VM exits of this vCPU so far">{plural(vcpu.exits, 'exit')}</span>
        {selected && <span className="sr-only">(selected: Step instruction steps this vCPU)</span>}
        <button type="button" className="btn-small" disabled={busy} onClick={() => lab.removeVcpu(vcpu.id)} aria-label={`Remove vCPU ${vcpu.id}`}
          title="KVM cannot destroy a vCPU: this takes it out of the program and reloads">
          Remove
        </button>
      </header>
      {at && (
        <p className="rip" title="the instruction at RIP">
          <code>{hex(at.addr)}</code> <code className="insn">{at.text}</code>
        </p>
      )}

      <ExitFlagBoxes fd={vcpu.fd} flags={vcpu.disabled} disabled={busy} />
      <p className="arch-flags" title={vcpu.scope === 'vcpu' ? 'per-vCPU copies (RFC v4 2/7)' : 'this kernel keeps the flags per VM only'}>
        <span aria-hidden="true">{owner}:</span>
        {EXIT_FLAG_NAMES.map((f) => (
          <code key={f}><span className="sr-only">{owner}.</span>{f}_in_guest = {vcpu.disabled[f] ? 1 : 0}</code>
        ))}
      </p>
      {pendingDisable && (
        <p className="pending" role="status">
          <code>KVM_REQ_DISABLE_EXITS</code> pending: takes effect at next VM-entry
        </p>
      )}
      {vcpu.requests.length > 0 && !(pendingDisable && vcpu.requests.length === 1) && (
        <p className="requests">requests: <code>{vcpu.requests.join(' ')}</code></p>
      )}

      <fieldset className="flags">
        <legend>Guest debug (<code>KVM_SET_GUEST_DEBUG</code>)</legend>
        {DEBUG_FLAGS.map((f) => {
          const on = vcpu.guestDebugNames.some((n) => n.endsWith(`_${f}`) || n === f);
          return (
            <label key={f}>
              <input type="checkbox" checked={on} disabled={busy}
                onChange={(e) => lab.setGuestDebug(vcpu.fd, toggledFlags(vcpu.guestDebugNames, f, e.target.checked))} />
              {f}
            </label>
          );
        })}
      </fieldset>

      <details open={!embed}>
        <summary>VMCS execution controls</summary>
        {vcpu.vmcs.map((c) => <Controls key={c.field} control={c} />)}
      </details>

      <details open={codeOpen}>
        <summary>Code at RIP</summary>
        <ol className="disasm" aria-label={`Disassembly around RIP of vCPU ${vcpu.id}`}>
          {vcpu.disasm.map((d) => (
            <li key={String(d.addr)} className={d.current ? 'current' : undefined} aria-current={d.current ? 'step' : undefined}>
              <span className="addr">{hex(d.addr)}</span>
              <span className="bytes">{d.bytes}</span>
              <span className="insn">{d.text}</span>
              {d.current && <span className="sr-only"> (current instruction)</span>}
            </li>
          ))}
        </ol>
      </details>

      <details>
        <summary>Registers</summary>
        <dl className="regs">
          {REG_ORDER.filter((r) => r in vcpu.regs).map((r) => (
            <div key={r}>
              <dt>{r}</dt>
              <dd>{hex(vcpu.regs[r], 16)}</dd>
            </div>
          ))}
        </dl>
      </details>

      <details>
        <summary>Stats</summary>
        <table className="stats">
          <tbody>
            {Object.entries(vcpu.stats).map(([k, v]) => (
              <tr key={k}>
                <th scope="row">{k}</th>
                <td>{v}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </details>
    </section>
  );
}

function Controls({ control }: { control: VmcsControlView }) {
  return (
    <div className="vmcs">
      <p>
        <code>{control.field}</code> = <code>{hex(control.value, 8)}</code>
        {control.previous !== null && control.previous !== control.value && (
          <span className="was"> (was <code>{hex(control.previous, 8)}</code>)</span>
        )}
      </p>
      <ul className="bits">
        {control.bits.map((b) => (
          <li key={b.name} className={`${b.set ? 'set' : 'clear'}${b.changed ? ' changed' : ''}`}>
            <code>{b.name}</code> {b.set ? '1' : '0'}
            {b.changed && <strong className="changed-tag"> (changed)</strong>}
          </li>
        ))}
      </ul>
    </div>
  );
}
