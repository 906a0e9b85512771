/** Text after a frame's name (its note, a badge): set off by a comma for screen readers, by spacing on screen. */
export function Aside({ className, children }: { className: string; children: string }) {
  return (
    <span className={className}>
      <span className="xs-sr-only">, </span>
      {children}
    </span>
  );
}
