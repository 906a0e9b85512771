// A clearly labelled place for a view that has not been mounted yet.
export function Placeholder({ name, what }: { name: string; what: string }) {
  return (
    <section className="panel placeholder" aria-labelledby={`ph-${name}`}>
      <h2 id={`ph-${name}`}>{name}</h2>
      <p className="empty">{what} (view not mounted yet)</p>
    </section>
  );
}
