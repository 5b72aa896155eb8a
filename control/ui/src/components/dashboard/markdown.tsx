// The Markdown of note widgets, the simple part of it: paragraphs
// (separated by a blank line), headings (`#` to `######`), bullet and
// numbered lists, **bold**, *italic* / _italic_, `code`, [links](url) and
// bare http(s) addresses. Anything else shows as the text it is.
//
// The result is Preact elements, never HTML strings: a note cannot inject
// markup or scripts, and a link goes only to http(s), mailto or a path of
// this site (anything else stays text).

import type { ComponentChildren, VNode } from 'preact';

type Block = { kind: 'p'; text: string } | { kind: 'h'; level: number; text: string } | { kind: 'ul' | 'ol'; items: string[] };

/** The blocks of a note's text. */
function blocks(src: string): Block[] {
  const out: Block[] = [];
  let para: string[] = [];
  const flush = () => {
    if (para.length) out.push({ kind: 'p', text: para.join('\n') });
    para = [];
  };
  for (const raw of src.replace(/\r\n?/g, '\n').split('\n')) {
    const line = raw.trimEnd();
    const h = /^\s{0,3}(#{1,6})\s+(.*)$/.exec(line);
    const ul = /^\s*[-*+]\s+(.*)$/.exec(line);
    const ol = /^\s*\d+[.)]\s+(.*)$/.exec(line);
    if (!line.trim()) flush();
    else if (h) {
      flush();
      out.push({ kind: 'h', level: h[1].length, text: h[2].replace(/\s#+$/, '') });
    } else if (ul || ol) {
      flush();
      const kind = ul ? 'ul' : 'ol';
      const last = out[out.length - 1];
      const item = (ul ?? ol)![1];
      if (last && last.kind === kind) last.items.push(item);
      else out.push({ kind, items: [item] });
    } else para.push(line.trim());
  }
  flush();
  return out;
}

/** A link target that is safe to follow, or null. */
function safeHref(url: string): string | null {
  const u = url.trim();
  if (/^(https?:|mailto:)/i.test(u)) return u;
  if (u.startsWith('/') && !u.startsWith('//')) return u;
  return null;
}

const INLINE = /(\*\*([^*]+)\*\*|__([^_]+)__|`([^`]+)`|\[([^\]]+)\]\(([^)\s]+)\)|\*([^*\s][^*]*)\*|\b_([^_]+)_\b|(https?:\/\/[^\s<>()]+[^\s<>().,;:!?'"]))/g;

/** The inline marks of one block's text. */
function inline(text: string): ComponentChildren[] {
  const out: ComponentChildren[] = [];
  let at = 0;
  let k = 0;
  for (const m of text.matchAll(INLINE)) {
    if (m.index! > at) out.push(text.slice(at, m.index));
    at = m.index! + m[0].length;
    const key = k++;
    if (m[2] !== undefined || m[3] !== undefined) out.push(<strong key={key}>{inline(m[2] ?? m[3])}</strong>);
    else if (m[4] !== undefined) out.push(<code key={key}>{m[4]}</code>);
    else if (m[5] !== undefined) {
      const href = safeHref(m[6]);
      out.push(
        href ? (
          <a key={key} href={href} target="_blank" rel="noopener noreferrer">
            {inline(m[5])}
          </a>
        ) : (
          m[0]
        ),
      );
    } else if (m[7] !== undefined || m[8] !== undefined) out.push(<em key={key}>{inline(m[7] ?? m[8])}</em>);
    else if (m[9] !== undefined) {
      out.push(
        <a key={key} href={m[9]} target="_blank" rel="noopener noreferrer">
          {m[9]}
        </a>,
      );
    }
  }
  if (at < text.length) out.push(text.slice(at));
  // A single newline inside a paragraph is a line break.
  const lines: ComponentChildren[] = [];
  out.forEach((part, i) => {
    if (typeof part !== 'string') return lines.push(part);
    part.split('\n').forEach((s, j) => {
      if (j > 0) lines.push(<br key={`br${i}-${j}`} />);
      lines.push(s);
    });
  });
  return lines;
}

/** `src` as elements (see the module doc). */
export function Markdown({ src }: { src: string }): VNode {
  return (
    <>
      {blocks(src).map((b, i) => {
        if (b.kind === 'p') return <p key={i}>{inline(b.text)}</p>;
        if (b.kind === 'h') {
          const H = `h${Math.min(6, b.level + 1)}` as 'h2';
          return <H key={i}>{inline(b.text)}</H>;
        }
        const L = b.kind;
        return (
          <L key={i}>
            {b.items.map((it, j) => (
              <li key={j}>{inline(it)}</li>
            ))}
          </L>
        );
      })}
    </>
  );
}
