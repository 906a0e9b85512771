// Every ioctl issued, by the program or from the page, as the model logged it: arguments decoded
// into kernel names, the return value and errno.
import { useMemo, useState } from 'react';
import type { TraceEvent } from '../../model/trace/events';
import { useLabState } from '../store/use-lab';
import { formatNs } from '../views/common/format';

type IoctlEvent = Extract<TraceEvent, { kind: 'ioctl' }>;

/** Rows shown until asked for all: a KVM_RUN loop can issue thousands. */
const RECENT = 200;

export function IoctlLog() {
  const events = useLabState((s) => s.events);
  const [all, setAll] = useState(false);
  const ioctls = useMemo(() => events.filter((e): e is IoctlEvent => e.kind === 'ioctl'), [events]);
  const shown = all ? ioctls : ioctls.slice(-RECENT);
  return (
    <section className="panel ioctl-log" aria-labelledby="ioctl-heading">
      <h2 id="ioctl-heading">ioctl log</h2>
      {ioctls.length === 0 ? (
        <p className="empty">No ioctl issued yet.</p>
      ) : (
        <div className="scroll">
          <table>
            <thead>
              <tr>
                <th scope="col">#</th>
                <th scope="col">t</th>
                <th scope="col">fd</th>
                <th scope="col">ioctl</th>
                <th scope="col">arguments</th>
                <th scope="col">ret</th>
                <th scope="col">errno</th>
              </tr>
            </thead>
            <tbody>
              {shown.map((e) => (
                <tr key={e.seq} className={e.errno ? 'failed' : undefined}>
                  <td>{e.seq}</td>
                  <td>{formatNs(e.t)}</td>
                  <td><code>{e.fd}</code></td>
                  <td><code>{e.ioctl}</code></td>
                  <td><code>{formatArgs(e.args)}</code></td>
                  <td>{e.ret}</td>
                  <td>{e.errno ?? ''}</td>
                </tr>
              ))}
            </tbody>
          </table>
          {shown.length < ioctls.length && (
            <button type="button" onClick={() => setAll(true)}>
              Show all {ioctls.length} ioctls ({ioctls.length - shown.length} earlier ones hidden)
            </button>
          )}
        </div>
      )}
    </section>
  );
}

/** `cap = KVM_CAP_X86_DISABLE_EXITS, args[0] = HLT|OVERRIDE`: the model's decoded arguments, in order. */
export function formatArgs(args: Record<string, unknown>): string {
  return Object.entries(args)
    .map(([k, v]) => `${k} = ${Array.isArray(v) ? v.join('|') || '0' : typeof v === 'bigint' ? `0x${v.toString(16)}` : String(v)}`)
    .join(', ');
}
