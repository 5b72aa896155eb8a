//! Message template text → a tree of text, variables and sections.
//!
//! Owns the syntax of the message language (see the [`template`](super)
//! module doc) and the recovery from malformed templates. Never fails and
//! never panics: whatever cannot be read as a tag is kept as literal text,
//! and every malformation is recorded as a [`Problem`] the API can report
//! on validation. Every byte of the template ends up in at most one text
//! node or tag, which is what bounds the rendered size.

use std::collections::HashMap;
use std::fmt;

/// Deepest nesting of sections honoured. Real messages nest two or three
/// levels (`is_renotify` around `is_match`); 32 leaves headroom while
/// keeping the recursive renderer far from the stack limit on hostile
/// input. An opener beyond it is kept as literal text.
pub const MAX_SECTION_DEPTH: usize = 32;

/// One argument of a section or helper: `"host.name"`, `'P1'` or a bare
/// word, without its quotes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Arg<'a> {
    /// The text between the quotes (or the bare word).
    pub text: &'a str,
}

/// A parsed template node.
#[derive(Debug, Clone, PartialEq)]
pub enum Node<'a> {
    /// Literal text, emitted as is.
    Text(&'a str),
    /// `{{path}}` or `{{{path}}}`: a variable (unknown renders empty).
    Variable(&'a str),
    /// `{{name arg...}}`: a helper call (`urlencode`, `local_time`, ...).
    Helper {
        /// The helper's name.
        name: &'a str,
        /// Its arguments.
        args: Vec<Arg<'a>>,
    },
    /// `{{#name args}}then{{else}}otherwise{{/name}}` or the `^` form,
    /// which swaps the branches.
    Section {
        /// The condition's name (`is_alert`, `is_match`, ...).
        name: &'a str,
        /// Its arguments (`"host.name" "web"`).
        args: Vec<Arg<'a>>,
        /// `^` rather than `#`.
        inverted: bool,
        /// Rendered when the condition holds (`#`) or fails (`^`).
        then: Vec<Node<'a>>,
        /// After `{{else}}`: rendered in the other case.
        otherwise: Vec<Node<'a>>,
    },
    /// `{{{{name args}}}}body{{{{/name}}}}`: `body` emitted literally,
    /// always for `raw`, else when the condition holds.
    Raw {
        /// `raw` or a condition name.
        name: &'a str,
        /// The condition's arguments.
        args: Vec<Arg<'a>>,
        /// The literal body.
        body: &'a str,
    },
}

/// What was wrong with a template, for validation messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProblemKind {
    /// `{{` with no `}}` after it.
    UnclosedTag,
    /// `{{#name}}` or `{{^name}}` never closed: rendered literally.
    UnclosedSection(String),
    /// `{{/name}}` closing no open section: rendered literally.
    UnmatchedClose(String),
    /// `{{else}}` outside a section, or a second one: rendered literally.
    StrayElse,
    /// `{{{{name}}}}` without `{{{{/name}}}}`: rendered literally.
    UnclosedRaw(String),
    /// A section nested deeper than [`MAX_SECTION_DEPTH`]: its opener is
    /// rendered literally.
    TooDeep,
}

/// A malformation at a byte offset of the template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// Byte offset of the offending tag.
    pub offset: usize,
    /// What is wrong.
    pub kind: ProblemKind,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let at = self.offset;
        match &self.kind {
            ProblemKind::UnclosedTag => write!(f, "'{{{{' at byte {at} is never closed"),
            ProblemKind::UnclosedSection(n) => {
                write!(f, "section '{n}' at byte {at} is never closed")
            }
            ProblemKind::UnmatchedClose(n) => {
                write!(f, "'{{{{/{n}}}}}' at byte {at} closes no open section")
            }
            ProblemKind::StrayElse => write!(f, "'{{{{else}}}}' at byte {at} is outside a section"),
            ProblemKind::UnclosedRaw(n) => {
                write!(f, "raw block '{n}' at byte {at} is never closed")
            }
            ProblemKind::TooDeep => {
                write!(
                    f,
                    "section at byte {at} is nested deeper than {MAX_SECTION_DEPTH}"
                )
            }
        }
    }
}

/// A parsed template: its nodes and the problems found.
#[derive(Debug, Clone, PartialEq)]
pub struct Parsed<'a> {
    /// The top-level nodes.
    pub nodes: Vec<Node<'a>>,
    /// Malformations, in the order found (empty for a well-formed one).
    pub problems: Vec<Problem>,
}

/// A section being read: its opener and the nodes so far.
struct Frame<'a> {
    name: &'a str,
    args: Vec<Arg<'a>>,
    inverted: bool,
    opener: &'a str,
    offset: usize,
    then: Vec<Node<'a>>,
    /// The `{{else}}` tag's source, once seen.
    else_tag: Option<&'a str>,
    otherwise: Vec<Node<'a>>,
}

impl<'a> Frame<'a> {
    fn current(&mut self) -> &mut Vec<Node<'a>> {
        if self.else_tag.is_some() {
            &mut self.otherwise
        } else {
            &mut self.then
        }
    }

    /// The nodes an unclosed section leaves: its tags as literal text, its
    /// contents as if the section were not there.
    fn demote(self) -> Vec<Node<'a>> {
        let mut nodes = Vec::with_capacity(self.then.len() + self.otherwise.len() + 2);
        nodes.push(Node::Text(self.opener));
        nodes.extend(self.then);
        if let Some(else_tag) = self.else_tag {
            nodes.push(Node::Text(else_tag));
            nodes.extend(self.otherwise);
        }
        nodes
    }
}

/// The tree under construction: the root list and the open sections.
struct Builder<'a> {
    root: Vec<Node<'a>>,
    stack: Vec<Frame<'a>>,
    problems: Vec<Problem>,
}

impl<'a> Builder<'a> {
    fn push(&mut self, node: Node<'a>) {
        match self.stack.last_mut() {
            Some(frame) => frame.current().push(node),
            None => self.root.push(node),
        }
    }

    fn extend(&mut self, nodes: Vec<Node<'a>>) {
        match self.stack.last_mut() {
            Some(frame) => frame.current().extend(nodes),
            None => self.root.extend(nodes),
        }
    }

    fn open(&mut self, frame: Frame<'a>) {
        if self.stack.len() >= MAX_SECTION_DEPTH {
            self.problems.push(Problem {
                offset: frame.offset,
                kind: ProblemKind::TooDeep,
            });
            self.push(Node::Text(frame.opener));
        } else {
            self.stack.push(frame);
        }
    }

    fn else_tag(&mut self, src: &'a str, offset: usize) {
        match self.stack.last_mut() {
            Some(frame) if frame.else_tag.is_none() => frame.else_tag = Some(src),
            _ => {
                self.problems.push(Problem {
                    offset,
                    kind: ProblemKind::StrayElse,
                });
                self.push(Node::Text(src));
            }
        }
    }

    /// Closes the innermost open section called `name`; sections opened
    /// inside it and still open are demoted to text first.
    fn close(&mut self, name: &'a str, src: &'a str, offset: usize) {
        let Some(depth) = self.stack.iter().rposition(|f| f.name == name) else {
            self.problems.push(Problem {
                offset,
                kind: ProblemKind::UnmatchedClose(name.to_owned()),
            });
            self.push(Node::Text(src));
            return;
        };
        while self.stack.len() > depth + 1 {
            self.demote_top();
        }
        if let Some(frame) = self.stack.pop() {
            self.push(Node::Section {
                name: frame.name,
                args: frame.args,
                inverted: frame.inverted,
                then: frame.then,
                otherwise: frame.otherwise,
            });
        }
    }

    fn demote_top(&mut self) {
        if let Some(frame) = self.stack.pop() {
            let kind = ProblemKind::UnclosedSection(frame.name.to_owned());
            self.problems.push(Problem {
                offset: frame.offset,
                kind,
            });
            let nodes = frame.demote();
            self.extend(nodes);
        }
    }

    fn finish(mut self) -> Parsed<'a> {
        while !self.stack.is_empty() {
            self.demote_top();
        }
        self.problems.sort_by_key(|p| p.offset);
        Parsed {
            nodes: self.root,
            problems: self.problems,
        }
    }
}

/// Splits a tag's inside into words: whitespace-separated, `"..."` and
/// `'...'` kept whole without their quotes (an unclosed quote runs to the
/// end).
fn words(inside: &str) -> Vec<Arg<'_>> {
    let mut out = Vec::new();
    let mut rest = inside.trim_start();
    while !rest.is_empty() {
        let first = rest.as_bytes()[0];
        let (text, after) = if first == b'"' || first == b'\'' {
            let body = &rest[1..];
            match body.find(char::from(first)) {
                Some(end) => (&body[..end], &body[end + 1..]),
                None => (body, ""),
            }
        } else {
            let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
            (&rest[..end], &rest[end..])
        };
        out.push(Arg { text });
        rest = after.trim_start();
    }
    out
}

/// Where each closing delimiter last occurs, and where each raw block's
/// closer is, computed once per template. A search for a closer is skipped
/// when none is left after the tag: without this, a run of `{{` with
/// nothing closing them would rescan the rest of the template at each,
/// quadratic time on hostile input. With it, parsing is linear apart from
/// a logarithmic raw-closer lookup.
struct Closers<'a> {
    template: &'a str,
    /// Last `}}`.
    tag: Option<usize>,
    /// Last `}}}`.
    triple: Option<usize>,
    /// Last `}}}}`.
    raw: Option<usize>,
    /// Last `--}}`.
    comment: Option<usize>,
    /// Name → byte offsets of its `{{{{/name}}}}` closers, ascending.
    raw_closers: HashMap<&'a str, Vec<usize>>,
}

/// Characters a raw block's closing name can hold.
fn is_raw_name_char(c: char) -> bool {
    !c.is_whitespace() && c != '{' && c != '}'
}

impl<'a> Closers<'a> {
    fn new(template: &'a str) -> Closers<'a> {
        let mut raw_closers: HashMap<&str, Vec<usize>> = HashMap::new();
        for (at, _) in template.match_indices("{{{{/") {
            let after = &template[at + 5..];
            let name_len = after.find(|c| !is_raw_name_char(c)).unwrap_or(after.len());
            if after[name_len..].starts_with("}}}}") {
                raw_closers.entry(&after[..name_len]).or_default().push(at);
            }
        }
        Closers {
            template,
            tag: template.rfind("}}"),
            triple: template.rfind("}}}"),
            raw: template.rfind("}}}}"),
            comment: template.rfind("--}}"),
            raw_closers,
        }
    }

    /// The offset of the first `pattern` at or after `from`, whose last
    /// occurrence is `last`.
    fn find(&self, pattern: &str, last: Option<usize>, from: usize) -> Option<usize> {
        if last.is_none_or(|last| last < from) {
            return None;
        }
        self.template.get(from..)?.find(pattern).map(|i| from + i)
    }

    /// The offset of the first `{{{{/name}}}}` at or after `from`.
    fn raw_closer(&self, name: &str, from: usize) -> Option<usize> {
        let offsets = self.raw_closers.get(name)?;
        offsets
            .get(offsets.partition_point(|&at| at < from))
            .copied()
    }
}

/// Parses a template. Total: never fails, never panics; linear time (see
/// `Closers`).
pub fn parse(template: &str) -> Parsed<'_> {
    let mut b = Builder {
        root: Vec::new(),
        stack: Vec::new(),
        problems: Vec::new(),
    };
    let closers = Closers::new(template);
    let mut pos = 0;
    // Start of the literal text not yet pushed.
    let mut text_from = 0;
    while let Some(found) = template[pos..].find("{{") {
        let at = pos + found;
        if closers.tag.is_none_or(|last| last < at + 2) {
            // Every tag ends in `}}` and none is left: the rest is text.
            b.problems.push(Problem {
                offset: at,
                kind: ProblemKind::UnclosedTag,
            });
            break;
        }
        let Some((len, tag)) = read_tag(&closers, at, &mut b.problems) else {
            // Not a tag: the `{{` stays in the text; look past it.
            pos = at + 2;
            continue;
        };
        if text_from < at {
            b.push(Node::Text(&template[text_from..at]));
        }
        let src = &template[at..at + len];
        match tag {
            Tag::Comment => {}
            Tag::Node(node) => b.push(node),
            Tag::Open {
                name,
                args,
                inverted,
            } => b.open(Frame {
                name,
                args,
                inverted,
                opener: src,
                offset: at,
                then: Vec::new(),
                else_tag: None,
                otherwise: Vec::new(),
            }),
            Tag::Else => b.else_tag(src, at),
            Tag::Close(name) => b.close(name, src, at),
        }
        pos = at + len;
        text_from = pos;
    }
    if text_from < template.len() {
        b.push(Node::Text(&template[text_from..]));
    }
    b.finish()
}

/// One tag read at the start of a `{{...`.
enum Tag<'a> {
    Comment,
    Node(Node<'a>),
    Open {
        name: &'a str,
        args: Vec<Arg<'a>>,
        inverted: bool,
    },
    Else,
    Close(&'a str),
}

/// Reads the tag starting at byte `at` (a `{{`): its length and meaning,
/// or `None` when it is not a tag (then the `{{` is literal text).
fn read_tag<'a>(
    closers: &Closers<'a>,
    at: usize,
    problems: &mut Vec<Problem>,
) -> Option<(usize, Tag<'a>)> {
    let template = closers.template;
    let rest = &template[at..];
    if rest.starts_with("{{{{") {
        return read_raw(closers, at, problems);
    }
    let unclosed = |problems: &mut Vec<Problem>| {
        problems.push(Problem {
            offset: at,
            kind: ProblemKind::UnclosedTag,
        });
        None
    };
    if let Some(comment) = rest.strip_prefix("{{!") {
        // `{{!-- ... --}}` may contain `}}`; Datadog also accepts
        // `{{!-- ... }}`, so fall back to the first `}}`.
        let dashes = comment.starts_with("--");
        let end = dashes
            .then(|| closers.find("--}}", closers.comment, at + 5))
            .flatten()
            .map(|e| e + 4)
            .or_else(|| closers.find("}}", closers.tag, at + 3).map(|e| e + 2));
        return match end {
            Some(end) => Some((end - at, Tag::Comment)),
            None => unclosed(problems),
        };
    }
    // `{{{x}}}` (unescaped in Datadog) reads like `{{x}}`: Whippet never
    // escapes, see the module doc.
    if rest.starts_with("{{{")
        && let Some(end) = closers.find("}}}", closers.triple, at + 3)
    {
        let tag = plain_tag(template[at + 3..end].trim())?;
        return Some((end + 3 - at, tag));
    }
    let Some(end) = closers.find("}}", closers.tag, at + 2) else {
        return unclosed(problems);
    };
    let tag = plain_tag(template[at + 2..end].trim())?;
    Some((end + 2 - at, tag))
}

/// The meaning of a `{{...}}` tag's trimmed inside; `None` for an empty
/// one (`{{}}`), which stays literal text.
fn plain_tag(inside: &str) -> Option<Tag<'_>> {
    if let Some(body) = inside
        .strip_prefix('#')
        .or_else(|| inside.strip_prefix('^'))
    {
        let inverted = inside.starts_with('^');
        let mut args = words(body).into_iter();
        let name = args.next().map_or("", |a| a.text);
        return Some(Tag::Open {
            name,
            args: args.collect(),
            inverted,
        });
    }
    if let Some(body) = inside.strip_prefix('/') {
        let name = words(body).first().map_or("", |a| a.text);
        return Some(Tag::Close(name));
    }
    if inside == "else" {
        return Some(Tag::Else);
    }
    let mut args = words(inside).into_iter();
    let name = args.next()?.text;
    let args: Vec<Arg<'_>> = args.collect();
    if args.is_empty() {
        Some(Tag::Node(Node::Variable(name)))
    } else {
        Some(Tag::Node(Node::Helper { name, args }))
    }
}

/// Reads `{{{{name args}}}}body{{{{/name}}}}` starting at byte `at`. An
/// opener without its closer, or a closer without an opener, is literal
/// text.
fn read_raw<'a>(
    closers: &Closers<'a>,
    at: usize,
    problems: &mut Vec<Problem>,
) -> Option<(usize, Tag<'a>)> {
    let template = closers.template;
    let Some(end) = closers.find("}}}}", closers.raw, at + 4) else {
        problems.push(Problem {
            offset: at,
            kind: ProblemKind::UnclosedTag,
        });
        return None;
    };
    let opener_len = end + 4 - at;
    let literal = Tag::Node(Node::Text(&template[at..end + 4]));
    let mut args = words(&template[at + 4..end]).into_iter();
    let name = args.next()?.text;
    if let Some(closed) = name.strip_prefix('/') {
        problems.push(Problem {
            offset: at,
            kind: ProblemKind::UnmatchedClose(closed.to_owned()),
        });
        return Some((opener_len, literal));
    }
    let body_from = end + 4;
    let Some(closer_at) = closers.raw_closer(name, body_from) else {
        problems.push(Problem {
            offset: at,
            kind: ProblemKind::UnclosedRaw(name.to_owned()),
        });
        return Some((opener_len, literal));
    };
    let node = Node::Raw {
        name,
        args: args.collect(),
        body: &template[body_from..closer_at],
    };
    // `{{{{/` + name + `}}}}`.
    let closer_len = 5 + name.len() + 4;
    Some((closer_at + closer_len - at, Tag::Node(node)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(t: &str) -> Node<'_> {
        Node::Text(t)
    }

    #[test]
    fn text_variables_and_sections() {
        let p = parse("a {{ host.name }} {{#is_alert}}x{{else}}y{{/is_alert}}");
        assert!(p.problems.is_empty());
        assert_eq!(
            p.nodes,
            vec![
                text("a "),
                Node::Variable("host.name"),
                text(" "),
                Node::Section {
                    name: "is_alert",
                    args: vec![],
                    inverted: false,
                    then: vec![text("x")],
                    otherwise: vec![text("y")],
                },
            ]
        );
    }

    #[test]
    fn arguments_keep_quoted_spaces() {
        let p = parse(r#"{{^is_match "host.name" 'a b' c}}{{/is_match}}"#);
        let Node::Section { args, inverted, .. } = &p.nodes[0] else {
            panic!("{p:?}")
        };
        assert!(*inverted);
        let args: Vec<_> = args.iter().map(|a| a.text).collect();
        assert_eq!(args, ["host.name", "a b", "c"]);
    }

    #[test]
    fn unclosed_section_is_literal() {
        let p = parse("x{{#is_alert}}y");
        assert_eq!(p.nodes, vec![text("x"), text("{{#is_alert}}"), text("y")]);
        assert_eq!(
            p.problems[0].kind,
            ProblemKind::UnclosedSection("is_alert".into())
        );
        assert_eq!(p.problems[0].offset, 1);
    }

    #[test]
    fn mismatched_close_demotes_inner_section() {
        let p = parse("{{#is_alert}}a{{#is_warning}}b{{/is_alert}}");
        let Node::Section { then, .. } = &p.nodes[0] else {
            panic!("{p:?}")
        };
        assert_eq!(then, &vec![text("a"), text("{{#is_warning}}"), text("b")]);
        assert_eq!(p.problems.len(), 1);
    }

    #[test]
    fn stray_close_and_else_are_literal() {
        let p = parse("a{{/is_alert}}b{{else}}");
        assert_eq!(
            p.nodes,
            vec![
                text("a"),
                text("{{/is_alert}}"),
                text("b"),
                text("{{else}}")
            ]
        );
        assert_eq!(p.problems.len(), 2);
    }

    #[test]
    fn unclosed_braces_are_literal() {
        let p = parse("a {{ b");
        assert_eq!(p.nodes, vec![text("a {{ b")]);
        assert_eq!(p.problems[0].kind, ProblemKind::UnclosedTag);
        assert_eq!(parse("{{}}").nodes, vec![text("{{}}")]);
    }

    #[test]
    fn comments_vanish() {
        assert_eq!(
            parse("a{{!-- x }} y --}}b").nodes,
            vec![text("a"), text("b")]
        );
        assert_eq!(parse("a{{!-- x }}b").nodes, vec![text("a"), text("b")]);
        assert_eq!(parse("a{{! x }}b").nodes, vec![text("a"), text("b")]);
    }

    #[test]
    fn raw_blocks() {
        let p = parse("{{{{raw}}}}{{ x }}{{{{/raw}}}}!");
        assert_eq!(
            p.nodes,
            vec![
                Node::Raw {
                    name: "raw",
                    args: vec![],
                    body: "{{ x }}"
                },
                text("!")
            ]
        );
        let p = parse("{{{{raw}}}}{{ x }}");
        assert_eq!(p.problems[0].kind, ProblemKind::UnclosedRaw("raw".into()));
        assert_eq!(p.nodes, vec![text("{{{{raw}}}}"), Node::Variable("x")]);
        let p = parse("{{{{/raw}}}}a");
        assert_eq!(p.nodes, vec![text("{{{{/raw}}}}"), text("a")]);
        // The closer must name the opener.
        let p = parse("{{{{a}}}}x{{{{/b}}}}{{{{/a}}}}");
        assert_eq!(
            p.nodes,
            vec![Node::Raw {
                name: "a",
                args: vec![],
                body: "x{{{{/b}}}}"
            }]
        );
    }

    /// Runs of openers with nothing closing them parse in linear time.
    #[test]
    fn hostile_runs_are_fast() {
        const N: usize = 200_000;
        for unit in [
            "{{",
            "{{{",
            "{{{{",
            "{{!--",
            "{{{{a}}}}",
            "{{{ }}",
            "{{!-- }}",
        ] {
            let t = unit.repeat(N);
            let started = std::time::Instant::now();
            let p = parse(&t);
            assert!(p.problems.len() <= t.len(), "{unit}");
            assert!(
                started.elapsed().as_secs() < 5,
                "{unit} took {:?}",
                started.elapsed()
            );
        }
    }

    #[test]
    fn nesting_is_capped() {
        let deep = "{{#is_alert}}".repeat(MAX_SECTION_DEPTH + 1);
        let p = parse(&deep);
        assert!(p.problems.iter().any(|p| p.kind == ProblemKind::TooDeep));
    }
}
