// What the page is and what the open scenario shows, in a line each: the first screen must make
// sense to someone who has never seen the tool.
import { useLabState } from '../store/use-lab';

/** `openGallery` absent (the embed layout): the title and explanation only. */
export function Intro({ openGallery }: { openGallery?: () => void }) {
  const title = useLabState((s) => (typeof s.draft.doc.title === 'string' ? s.draft.doc.title : ''));
  const description = useLabState((s) => (typeof s.draft.doc.description === 'string' ? s.draft.doc.description : ''));
  return (
    <div className="intro">
      <h2 className="scenario-title">{title || 'Untitled scenario'}</h2>
      {description && <p className="scenario-description">{description}</p>}
      {openGallery && <p className="how">
        Press <kbd>Run</kbd> (or step) to run the program below on the model; tick a box to issue the
        ioctl a VMM would. <button type="button" className="link" onClick={openGallery}>More scenarios in the gallery</button>.
      </p>}
    </div>
  );
}
