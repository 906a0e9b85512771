// Copy link and Copy embed code. The clipboard may be refused (permissions, an embedding page):
// then the text is shown, selected, for the person to copy.
import { useState } from 'react';
import { embedCode, shareLink } from '../share/link';
import { useLab, useLabState } from '../store/use-lab';

export function Share() {
  const lab = useLab();
  const title = useLabState((s) => (typeof s.draft.doc.title === 'string' ? s.draft.doc.title : ''));
  const [shown, setShown] = useState<{ what: string; text: string; copied: boolean } | null>(null);

  async function copy(what: string, text: string) {
    let copied = false;
    try {
      await navigator.clipboard.writeText(text);
      copied = true;
    } catch {
      // Not allowed here: show the text instead.
    }
    setShown({ what, text, copied });
  }

  return (
    <div className="share">
      <button type="button" onClick={() => copy('Link', shareLink(location.href, lab.linkState()))}>Copy link</button>
      <button type="button" onClick={() => copy('Embed code', embedCode(location.href, lab.linkState(), title))}>Copy embed code</button>
      {shown && (
        <div className="copied" role="status">
          {shown.copied ? `${shown.what} copied.` : `${shown.what}: copy it from here.`}
          <input readOnly aria-label={shown.what} value={shown.text} onFocus={(e) => e.target.select()} />
        </div>
      )}
    </div>
  );
}
