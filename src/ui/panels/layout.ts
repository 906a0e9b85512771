// Which layout the page is in: the full lab, or `?embed=1` (compact, for documentation iframes).
// Panels read it to start compact (details closed) where space is short.
import { createContext, useContext } from 'react';

export const EmbedContext = createContext(false);

export function useEmbed(): boolean {
  return useContext(EmbedContext);
}
