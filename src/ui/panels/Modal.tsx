// A modal <dialog> driven by `open`: the browser traps focus, Escape closes it (onClose), and focus
// returns to where it was.
import { useEffect, useRef, type ReactNode } from 'react';

export function Modal({ open, onClose, labelledBy, className, children }: {
  open: boolean;
  onClose: () => void;
  labelledBy: string;
  className?: string;
  children: ReactNode;
}) {
  const dialog = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const d = dialog.current;
    if (!d) return;
    if (open && !d.open) d.showModal();
    if (!open && d.open) d.close();
  }, [open]);
  return (
    <dialog ref={dialog} className={className ? `dialog ${className}` : 'dialog'} aria-labelledby={labelledBy} onClose={onClose}>
      {children}
    </dialog>
  );
}
