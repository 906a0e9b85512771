// What the open scenario shows, in a line: the first screen must make sense to someone who has
// never seen the tool. The explanation is clamped to two lines; "more" shows the rest.
import { useEffect, useState } from 'react';
import { useLabState } from '../store/use-lab';

/** `openGallery` absent (the embed layout): the title only. */
export function Intro({ openGallery }: { openGallery?: () => void }) {
  const title = useLabState((s) => (typeof s.draft.doc.title === 'string' ? s.draft.doc.title : ''));
  const description = useLabState((s) => (typeof s.draft.doc.description === 'string' ? s.draft.doc.description : ''));
  const [more, setMore] = useState(false);
  useEffect(() => setMore(false), [description]);
  return (
    <div className="intro">
      <div className={more ? 'about more' : 'about'}>
        <h2 className="scenario-title">{title || 'Untitled scenario'}</h2>
        {openGallery && description && <p className="scenario-description">{description}</p>}
      </div>
      {openGallery && (
        <p className="how">
          {description && (
            <>
              <button type="button" className="link" aria-expanded={more} onClick={() => setMore(!more)}>
                {more ? 'Less' : 'More'} about it
              </button>
              {' · '}
            </>
          )}
          <kbd>Run</kbd> or step it on the model; tick a box to issue the ioctl a VMM would; click a vCPU to step it
          {' · '}<button type="button" className="link" onClick={openGallery}>More scenarios in the gallery</button>
        </p>
      )}
    </div>
  );
}
