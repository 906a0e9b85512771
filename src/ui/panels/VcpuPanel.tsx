// One vCPU: its exit flags on the vCPU fd, what KVM made of them (vcpu->arch flags, the VMCS
// controls with changed bits marked, a pending KVM_REQ_DISABLE_EXITS), guest debug, registers,
// the code around RIP, mp_state and the binary stats. All of it as the model left it. Compact: the
// flags, the VMCS bits the exit flags decide and guest_debug show; the rest of the VMCS, registers
// and stats on demand; the code is open on the vCPU selected at first (the one Step instruction
// steps) when the window is tall, never in the embed layout.
import { useState } from 'react';
import { EXIT_FLAG_NAMES, type ControlBit, type VcpuView, type VmcsControlView } from '../../model/worker/view';
import { toggledFlags } from '../store/ioctls';
import { useLab, useLabState } from '../store/use-lab';
import { ExitFlagBoxes } from './ExitFlags';
import { useEmbed } from './layout';
import { plural } from '../views/common/format';
import { u64Hex as hex } from './format';

/** Window height (px) from which the selected vCPU's code starts open. */
const ROOM_FOR_CODE = 1000;
const DEBUG_FLAGS = ['ENABLE', 'SINGLESTEP', 'EXIT_USERSPACE'] as const;
const REG_ORDER = ['rax', 'rbx', 'rcx', 'rdx', 'rsi', 'rdi', 'rbp', 'rsp', 'r8', 'r9', 'r10', 'r11', 'r12', 'r13', 'r14', 'r15', 'rip', 'rflags'];

export function VcpuPanel({ vcpu, selected }: { vcpu: VcpuView; selected: boolean }) {
  const lab = useLab();
  const embed = useEmbed();
  const busy = useLabState((s) => s.running || s.worker !== 'ready');
  const heading = `vcpu-${vcpu.id}-heading`;
  const pendingDisable = vcpu.requests.includes('KVM_REQ_DISABLE_EXITS');
  const at = vcpu.disasm.find((d) => d.current);
  // The code starts open on the vCPU selected when the panel appears, where the window has the height
  // for it (the RIP line above shows the instruction anyway); later selections leave every panel as
  // it is, so nothing moves under the pointer.
  const [codeOpen] = useState(() => selected && !embed && window.innerHeight >= ROOM_FOR_CODE);
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
          title="Remove this vCPU (KVM cannot destroy a vCPU: this takes it out of the program and reloads)">
          ×
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

      <VmcsBits vcpu={vcpu} />
      <details>
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

/**
 * The VMCS bits KVM_CAP_X86_DISABLE_EXITS decides (MWAIT, HLT, PAUSE) and any bit the last change
 * flipped, always in view; each control word that changed, with what it was. The rest of the bits are
 * under "VMCS execution controls".
 */
const KEY_BITS = new Set(['CPU_BASED_HLT_EXITING', 'CPU_BASED_MWAIT_EXITING', 'CPU_BASED_MONITOR_EXITING', 'CPU_BASED_PAUSE_EXITING', 'SECONDARY_EXEC_PAUSE_LOOP_EXITING']);
const inView = (b: ControlBit) => KEY_BITS.has(b.name) || b.changed;

function VmcsBits({ vcpu }: { vcpu: VcpuView }) {
  const changed = vcpu.vmcs.filter((c) => c.previous !== null && c.previous !== c.value);
  return (
    <div className="vmcs key">
      <Bits bits={vcpu.vmcs.flatMap((c) => c.bits.filter(inView))} label={`VMCS exit controls of vCPU ${vcpu.id}`} />
      {changed.map((c) => <ControlWord key={c.field} control={c} />)}
    </div>
  );
}

/** A control word and the rest of its bits (what it was is said in view already). */
function Controls({ control }: { control: VmcsControlView }) {
  return (
    <div className="vmcs">
      <ControlWord control={control} was={false} />
      <Bits bits={control.bits.filter((b) => !inView(b))} />
    </div>
  );
}

function ControlWord({ control, was = true }: { control: VmcsControlView; was?: boolean }) {
  return (
    <p>
      <code>{control.field}</code> = <code>{hex(control.value, 8)}</code>
      {was && control.previous !== null && control.previous !== control.value && (
        <span className="was"> (was <code>{hex(control.previous, 8)}</code>)</span>
      )}
    </p>
  );
}

/** Bits as chips; the CPU_BASED_ / SECONDARY_EXEC_ prefix is read out but not shown, for room. */
function Bits({ bits, label }: { bits: readonly ControlBit[]; label?: string }) {
  return (
    <ul className="bits" aria-label={label}>
      {bits.map((b) => {
        const [, prefix, rest] = /^(CPU_BASED_|SECONDARY_EXEC_)?(.*)$/.exec(b.name)!;
        return (
          <li key={b.name} className={`${b.set ? 'set' : 'clear'}${b.changed ? ' changed' : ''}`} title={b.name}>
            <code>{prefix && <span className="sr-only">{prefix}</span>}{rest}</code> {b.set ? '1' : '0'}
            {b.changed && <strong className="changed-tag"> (changed)</strong>}
          </li>
        );
      })}
    </ul>
  );
}
