// A message the person must see: a crash of the simulation, a link that could not be read.
import { useLab, useLabState } from '../store/use-lab';

export function NoticeBanner() {
  const lab = useLab();
  const notice = useLabState((s) => s.notice);
  const failed = useLabState((s) => s.worker === 'failed');
  if (!notice) return null;
  return (
    <div className={`notice ${notice.tone}`} role={notice.tone === 'error' ? 'alert' : 'status'}>
      <p>{notice.text}</p>
      {notice.detail && (
        <details>
          <summary>Details</summary>
          <pre>{notice.detail}</pre>
        </details>
      )}
      {failed && <button type="button" onClick={lab.retry}>Restart the simulation</button>}
      <button type="button" className="dismiss" onClick={lab.dismissNotice} aria-label="Dismiss message">×</button>
    </div>
  );
}
