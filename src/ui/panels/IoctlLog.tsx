// Every ioctl issued, by the program or from the page, as the model logged it: the fd, the ioctl and
// its arguments decoded into kernel names, the return value and errno, and for KVM_RUN what it
// returned with (run->exit_reason, and hw.hardware_exit_reason when RFC v4 6/7 stored one), so that
// "KVM_RUN returned 0 with a stale KVM_EXIT_UNKNOWN, hw_exit_reason 12" reads in one row. Newest last,
// kept in view.
import { useLayoutEffect, useRef, useState } from 'react';
import { useLabState } from '../store/use-lab';
import { formatNs } from '../views/common/format';
import { formatArgs, runAnswer } from './format';

/** Rows shown until asked for all: a KVM_RUN loop can issue thousands. */
const RECENT = 200;

export function IoctlLog() {
  const ioctls = useLabState((s) => s.ioctls);
  const [all, setAll] = useState(false);
  const shown = all ? ioctls : ioctls.slice(-RECENT);
  const scroller = useRef<HTMLDivElement>(null);
  // The latest call is the one a step just made: keep the end in view, unless the person scrolled up.
  const pinned = useRef(true);
  useLayoutEffect(() => {
    const el = scroller.current;
    if (el && pinned.current) el.scrollTop = el.scrollHeight;
  }, [ioctls]);
  return (
    <section className="panel ioctl-log" aria-labelledby="ioctl-heading">
      <h2 id="ioctl-heading">ioctl log</h2>
      {ioctls.length === 0 ? (
        <p className="empty">No ioctl issued yet.</p>
      ) : (
        <div ref={scroller} className="scroll" tabIndex={0} aria-label="ioctls, newest last"
          onScroll={(e) => { const el = e.currentTarget; pinned.current = el.scrollTop + el.clientHeight >= el.scrollHeight - 4; }}>
          {shown.length < ioctls.length && (
            <button type="button" className="link" onClick={() => setAll(true)}>
              Show all {ioctls.length} ioctls ({ioctls.length - shown.length} earlier ones hidden)
            </button>
          )}
          <table>
            <thead>
              <tr>
                <th scope="col">#</th>
                <th scope="col">t</th>
                <th scope="col">ioctl</th>
                <th scope="col">ret</th>
              </tr>
            </thead>
            <tbody>
              {shown.map((e) => {
                const args = formatArgs(e.args);
                const answer = e.ioctl === 'KVM_RUN' && e.ret >= 0 ? runAnswer(e) : '';
                return (
                  <tr key={e.seq} className={e.errno ? 'failed' : undefined}>
                    <td className="num">{e.seq}</td>
                    <td className="num">{formatNs(e.t)}</td>
                    <td>
                      <code className="call">{e.fd} {e.ioctl}</code>
                      {args && <code className="args"> {args}</code>}
                      {answer && <span className="answer"> {answer}</span>}
                    </td>
                    <td className="num">{e.ret}{e.errno && <> <strong>{e.errno}</strong></>}</td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
