// React's view of the lab store: one context for the actions, selector hooks for the state.
import { createContext, useContext } from 'react';
import { useStore } from 'zustand';
import type { Lab, PageState } from './lab';

export const LabContext = createContext<Lab | null>(null);

export function useLab(): Lab {
  const lab = useContext(LabContext);
  if (!lab) throw new Error('useLab outside <LabContext.Provider>');
  return lab;
}

/** A slice of the page state; the component re-renders when the slice changes. */
export function useLabState<T>(select: (s: PageState) => T): T {
  return useStore(useLab().store, select);
}
