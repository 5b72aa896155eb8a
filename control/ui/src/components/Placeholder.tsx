// A page that is not built yet.

export function Placeholder({ title, what }: { title: string; what: string }) {
  return (
    <section class="page">
      <h1>{title}</h1>
      <p class="muted">Coming next: {what}</p>
    </section>
  );
}
