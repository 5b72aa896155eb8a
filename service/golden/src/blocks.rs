//! A corpus file cut into directive blocks.

/// One directive: its line at column 0 (comment removed, trimmed) and the
/// indented lines after it (comments removed, trimmed, blank ones left
/// out), each with its 1-based line number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Block<'a> {
    /// Line number of the directive.
    pub lineno: usize,
    /// The directive's line.
    pub head: &'a str,
    /// The indented lines after it.
    pub body: Vec<(usize, &'a str)>,
}

/// The blocks of `text`, and an error for each indented line that follows
/// no directive (`<name>:<line>: indented line outside a block: ...`).
pub fn blocks<'a>(name: &str, text: &'a str) -> (Vec<Block<'a>>, Vec<String>) {
    let lines: Vec<&str> = text.lines().collect();
    let mut out = Vec::new();
    let mut errors = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let line = strip_comment(lines[i]);
        let lineno = i + 1;
        i += 1;
        if line.trim().is_empty() {
            continue;
        }
        if line.starts_with(char::is_whitespace) {
            errors.push(format!(
                "{name}:{lineno}: indented line outside a block: {line}"
            ));
            continue;
        }
        let mut body = Vec::new();
        while i < lines.len() {
            let l = strip_comment(lines[i]);
            if !l.trim().is_empty() && !l.starts_with(char::is_whitespace) {
                break;
            }
            if !l.trim().is_empty() {
                body.push((i + 1, l.trim()));
            }
            i += 1;
        }
        out.push(Block {
            lineno,
            head: line.trim(),
            body,
        });
    }
    (out, errors)
}

/// A line without its comment: a line whose first non-blank character is
/// `#` is all comment; otherwise a `#` after a space and outside double
/// quotes (`\"` does not close them) starts one. Tags and label values
/// never hold ` #` outside quotes.
pub fn strip_comment(l: &str) -> &str {
    if l.trim_start().starts_with('#') {
        return "";
    }
    let mut quoted = false;
    let b = l.as_bytes();
    for (p, &c) in b.iter().enumerate() {
        match c {
            b'"' if p == 0 || b[p - 1] != b'\\' => quoted = !quoted,
            b'#' if !quoted && p > 0 && b[p - 1] == b' ' => return &l[..p],
            _ => {}
        }
    }
    l
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comments_end_at_a_spaced_hash_outside_quotes() {
        assert_eq!(strip_comment("  # all comment"), "");
        assert_eq!(strip_comment("eval x # why"), "eval x ");
        assert_eq!(strip_comment(r#"eval "a # b" # c"#), r#"eval "a # b" "#);
        assert_eq!(strip_comment(r#"x{a="q\" # r"} 1"#), r#"x{a="q\" # r"} 1"#);
        assert_eq!(strip_comment("tag:a#b 1"), "tag:a#b 1");
    }

    #[test]
    fn a_file_cuts_into_blocks_with_line_numbers() {
        let text = "# head\nload 1m\n  a 1 2\n\n  b 3 # c\neval x\nclear\n";
        let (b, errors) = blocks("f.test", text);
        assert!(errors.is_empty());
        assert_eq!(b.len(), 3);
        assert_eq!((b[0].lineno, b[0].head), (2, "load 1m"));
        assert_eq!(b[0].body, vec![(3, "a 1 2"), (5, "b 3")]);
        assert_eq!((b[1].lineno, b[1].head, b[1].body.len()), (6, "eval x", 0));
        assert_eq!(b[2].head, "clear");
    }

    #[test]
    fn an_indented_line_before_any_directive_is_an_error() {
        let (b, errors) = blocks("f.test", "  stray\nload 1m\n");
        assert_eq!(b.len(), 1);
        assert_eq!(
            errors,
            vec!["f.test:1: indented line outside a block:   stray"]
        );
    }
}
