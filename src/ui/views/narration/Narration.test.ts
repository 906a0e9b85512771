import { createElement } from 'react';
import { renderToStaticMarkup } from 'react-dom/server';
import { describe, expect, it } from 'vitest';
import { NarrationFeed } from './feed';
import { Narration } from './Narration';

describe('Narration', () => {
  it('is a polite live region, empty until there is something to say', () => {
    const m = renderToStaticMarkup(createElement(Narration, { feed: new NarrationFeed() }));
    expect(m).toBe('<div class="xs-view xs-narration" role="status" aria-live="polite" aria-atomic="true" aria-label="Exit narration"></div>');
  });
});
