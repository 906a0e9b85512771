import { createElement } from 'react';
import { renderToStaticMarkup } from 'react-dom/server';
import { describe, expect, it } from 'vitest';
import type { Frame } from '../../../model/trace/events';
import { CallChain } from './CallChain';
import { exitSummary } from './FrameDiff';
import { f } from './frames.arbitrary';

function hltRun(exitUserspace: boolean): Frame[] {
  const r = exitUserspace ? 0 : 1;
  const skip = { ...f('kvm_skip_emulated_instruction', r), note: exitUserspace ? 'guest_debug has EXIT_USERSPACE: r &= 0' : undefined, src: 'https://elixir.bootlin.com/linux/v5.19/C/ident/kvm_skip_emulated_instruction' };
  const halt = f('kvm_emulate_halt', r, skip, f('kvm_emulate_halt_noskip', 1));
  return [f('kvm_arch_vcpu_ioctl_run', exitUserspace ? 0 : -4, f('vcpu_run', exitUserspace ? 0 : -4, f('vcpu_enter_guest', r, halt)))];
}

const html = (props: Parameters<typeof CallChain>[0]) => renderToStaticMarkup(createElement(CallChain, props));
/** What each tree item reads as first: its signature, "function → return value". */
const labels = (markup: string) =>
  [...markup.matchAll(/role="treeitem".*?<span class="xs-sig">([^<]*)<\/span>/g)].map((m) => m[1].replace(/&gt;/g, '>'));

describe('CallChain', () => {
  it('is the region "Call chain", each frame read as function → return value', () => {
    const m = html({ roots: hltRun(true), caption: 'KVM_RUN on vCPU 1' });
    expect(m).toMatch(/<section[^>]*aria-labelledby="([^"]+)"[\s\S]*<h2 id="\1">Call chain<\/h2>/);
    expect(labels(m)).toEqual([
      'kvm_arch_vcpu_ioctl_run → 0', 'vcpu_run → 0', 'vcpu_enter_guest → 0', 'kvm_emulate_halt → 0',
      'kvm_skip_emulated_instruction → 0', 'kvm_emulate_halt_noskip → 1',
    ]);
    expect(m).toContain('guest_debug has EXIT_USERSPACE: r &amp;= 0');
    expect(m).toContain('KVM_RUN returns to userspace from here');
    expect(m).not.toContain('aria-current');
  });

  it('marks the way back to userspace for KVM_RUN only: another ioctl just returns from its handler', () => {
    const cap = [f('kvm_vcpu_ioctl_enable_cap', 0, f('kvm_ioctl_disable_exits', 'void'))];
    expect(html({ roots: cap, ioctl: 'KVM_ENABLE_CAP' })).not.toContain('returns to userspace from here');
    expect(html({ roots: hltRun(true), ioctl: 'KVM_RUN' })).toContain('KVM_RUN returns to userspace from here');
  });

  it('marks the step being walked and keeps later return values back', () => {
    // 5 steps: calls of the run, vcpu_run, vcpu_enter_guest, kvm_emulate_halt, kvm_skip_emulated_instruction.
    const m = html({ roots: hltRun(true), cursor: 5 });
    expect(labels(m)).toEqual([
      'kvm_arch_vcpu_ioctl_run (running)', 'vcpu_run (running)', 'vcpu_enter_guest (running)', 'kvm_emulate_halt (running)',
      'kvm_skip_emulated_instruction (running)', 'kvm_emulate_halt_noskip (not called yet)',
    ]);
    expect(m).toMatch(/aria-current="step"[^>]*>(?:(?!role="treeitem").)*?<span class="xs-sig">kvm_skip_emulated_instruction \(running\)</);
    expect(m).toContain('call 5 of 12: kvm_skip_emulated_instruction');
    expect(m).not.toContain('KVM_RUN returns to userspace from here');
    const after = html({ roots: hltRun(true), cursor: 6 });
    expect(after).toMatch(/aria-current="step"[^>]*>(?:(?!role="treeitem").)*?<span class="xs-sig">kvm_skip_emulated_instruction → 0</);
    expect(after).toContain('return 6 of 12');
  });

  it('says so when nothing was recorded', () => {
    expect(html({ roots: [] })).toContain('No kernel frames recorded yet');
  });

  it('shows the same exit side by side, marking what returns differently and where each run leaves', () => {
    const m = html({
      roots: hltRun(true),
      compare: { left: { label: 'without EXIT_USERSPACE', roots: hltRun(false) }, right: { label: 'with EXIT_USERSPACE', roots: hltRun(true) } },
    });
    expect(m).toContain('5 frames return differently.');
    expect(m).toContain('with EXIT_USERSPACE: KVM_RUN returns 0 to userspace, from kvm_skip_emulated_instruction.');
    expect(m.match(/xs-d-changed/g)).toHaveLength(5);
    expect(m.match(/\(returns differently\)/g)).toHaveLength(10);
  });
});

describe('exitSummary', () => {
  it('says where KVM_RUN returned, or that it did not', () => {
    expect(exitSummary({ label: 'without', roots: [f('kvm_arch_vcpu_ioctl_run', -4, f('vcpu_run', -4))] })).toBe(
      'without: KVM_RUN returns -4 to userspace, from vcpu_run.',
    );
    expect(exitSummary({ label: 'x', roots: [f('kvm_arch_vcpu_ioctl_run', undefined)] })).toBe('x: KVM_RUN did not return to userspace in this recording.');
    expect(exitSummary({ label: 'x', roots: [] })).toBe('x: nothing recorded.');
  });

  it('says at which exit KVM_RUN returned, and when the exit compared comes in a later KVM_RUN', () => {
    const run = (exit: number) => [f('kvm_arch_vcpu_ioctl_run', 0, f('vcpu_run', 0, f('vcpu_enter_guest', 0, { ...f('vmx_vcpu_run', 'EXIT_FASTPATH_NONE'), exit }, f('kvm_skip_emulated_instruction', 0))))];
    expect(exitSummary({ label: 'with', roots: run(0) }, 8)).toBe(
      'with: KVM_RUN returns 0 to userspace at exit #0, from kvm_skip_emulated_instruction. Exit #8 comes in a later KVM_RUN on this side.',
    );
    expect(exitSummary({ label: 'with', roots: run(8) }, 8)).toBe('with: KVM_RUN returns 0 to userspace at exit #8, from kvm_skip_emulated_instruction.');
  });
});
