//! Go's regular expression syntax (RE2, as Prometheus compiles it) on top
//! of the `regex` crate.
//!
//! The two accept nearly the same syntax; where they read the same text
//! differently, this rewrites Go's meaning into the `regex` crate's:
//! - `\d`, `\w`, `\s` and their negations, and `\b`, `\B`, are ASCII in
//!   Go and Unicode in `regex` (`\d` would match `٣`);
//! - `\Q...\E` quotes literal text in Go and is an error in `regex`.
//!
//! It must never change what a pattern without those matches, and it
//! anchors patterns at both ends as every PromQL regex is anchored.

use std::sync::OnceLock;

use regex::Regex;

use crate::compiled::Compiled;

/// The ASCII sets of Go's Perl classes, as `regex` class items.
const DIGIT: &str = "0-9";
const WORD: &str = "0-9A-Za-z_";
const SPACE: &str = r"\t\n\f\r ";

/// Compiles `re` anchored at both ends (`^(?:re)$`) with Go's meaning.
/// Recently compiled patterns are kept ([`crate::compiled`]): a `Regex`
/// is shared by cloning.
pub fn anchored(re: &str) -> Result<Regex, regex::Error> {
    /// Patterns kept: far more than the regexes of a set of dashboards,
    /// and at most a few MiB of compiled automata.
    const KEPT: usize = 512;
    static KEPT_REGEXES: OnceLock<Compiled<Regex>> = OnceLock::new();
    KEPT_REGEXES
        .get_or_init(|| Compiled::new(KEPT))
        .get_or_compile(re, |re| Regex::new(&format!("^(?:{})$", translate(re))))
}

/// `re` with Go's ASCII Perl classes and `\Q...\E` quoting spelled out for
/// the `regex` crate.
pub fn translate(re: &str) -> String {
    let mut out = String::with_capacity(re.len() + 8);
    // Inside a bracketed class: nesting depth (the `regex` crate nests
    // classes; Go does not, so the depth is 0 or 1 in a Go pattern).
    let mut in_class = false;
    // Right after `[` or `[^`, where a `]` is a literal.
    let mut class_start = false;
    let mut chars = re.chars().peekable();
    while let Some(c) = chars.next() {
        let at_class_start = std::mem::take(&mut class_start);
        match c {
            '\\' => {
                let Some(e) = chars.next() else {
                    out.push('\\');
                    break;
                };
                match (e, in_class) {
                    ('Q', _) => {
                        // Literal text up to `\E` or the end.
                        let mut lit = String::new();
                        while let Some(x) = chars.next() {
                            if x == '\\' && chars.peek() == Some(&'E') {
                                chars.next();
                                break;
                            }
                            lit.push(x);
                        }
                        if in_class {
                            for x in lit.chars() {
                                out.push_str(&regex::escape(&x.to_string()));
                            }
                        } else {
                            out.push_str(&regex::escape(&lit));
                        }
                    }
                    ('d', false) => out.push_str(&format!("[{DIGIT}]")),
                    ('D', false) => out.push_str(&format!("[^{DIGIT}]")),
                    ('w', false) => out.push_str(&format!("[{WORD}]")),
                    ('W', false) => out.push_str(&format!("[^{WORD}]")),
                    ('s', false) => out.push_str(&format!("[{SPACE}]")),
                    ('S', false) => out.push_str(&format!("[^{SPACE}]")),
                    ('b', false) => out.push_str(r"(?-u:\b)"),
                    ('B', false) => out.push_str(r"(?-u:\B)"),
                    ('d', true) => out.push_str(DIGIT),
                    ('w', true) => out.push_str(WORD),
                    ('s', true) => out.push_str(SPACE),
                    ('D', true) => out.push_str(&format!("[^{DIGIT}]")),
                    ('W', true) => out.push_str(&format!("[^{WORD}]")),
                    ('S', true) => out.push_str(&format!("[^{SPACE}]")),
                    _ => {
                        out.push('\\');
                        out.push(e);
                    }
                }
            }
            '[' if !in_class => {
                in_class = true;
                class_start = true;
                out.push('[');
                if chars.peek() == Some(&'^') {
                    chars.next();
                    out.push('^');
                }
            }
            '[' if chars.peek() == Some(&':') => {
                // A POSIX class `[:alpha:]` inside a class: copied whole.
                out.push('[');
                for x in chars.by_ref() {
                    out.push(x);
                    if x == ']' {
                        break;
                    }
                }
            }
            '[' => {
                // A literal `[` inside a Go class; `regex` would nest.
                out.push_str(r"\[");
            }
            ']' if in_class && !at_class_start => {
                in_class = false;
                out.push(']');
            }
            ']' if in_class => out.push_str(r"\]"),
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::{anchored, translate};

    fn m(re: &str, s: &str) -> bool {
        anchored(re).expect(re).is_match(s)
    }

    #[test]
    fn perl_classes_are_ascii() {
        assert!(m(r"\d+", "123"));
        assert!(!m(r"\d", "٣"), "an Arabic-Indic digit is no \\d in Go");
        assert!(m(r"\D", "٣"));
        assert!(!m(r"\w+", "é"));
        assert!(m(r"\W", "é"));
        assert!(!m(r"\s", "\u{a0}"), "a no-break space is no \\s in Go");
        assert!(m(r"[\d\s]+", "1 2"));
        assert!(!m(r"[\d]", "٣"));
        assert!(m(r"[^\d]", "٣"));
        assert!(m(r"[a\D]", "x"));
        assert!(m(r"a\b.*", "a b"));
        // é is no ASCII word character: no boundary after it in Go.
        assert!(!m(r"é\b", "é"));
    }

    #[test]
    fn other_syntax_is_unchanged() {
        for re in [
            r"a.b",
            r"(x|y)+",
            r"[a-z]",
            r"[^a-z]",
            r"\.",
            r"\pL",
            r"[[:alpha:]]+",
            r"(?i)abc",
            r"[]a]",
            r"[^]a]",
        ] {
            assert!(anchored(re).is_ok(), "{re}");
        }
        assert_eq!(translate(r"a.b(c|d)*"), r"a.b(c|d)*");
        assert!(m(r"[]a]+", "]a"));
        assert!(m(r"[^]a]", "b"));
        assert!(m(r"[[]", "["), "a literal [ inside a class");
        assert!(m(r"[[:digit:]x]+", "1x"));
    }

    #[test]
    fn quoted_literals() {
        assert!(m(r"\Qa.b\E", "a.b"));
        assert!(!m(r"\Qa.b\E", "axb"));
        assert!(m(r"x\Q(*)", "x(*)"), "to the end without \\E");
        assert!(m(r"[\Q]\E]", "]"));
    }

    #[test]
    fn invalid_stays_invalid() {
        assert!(anchored("(").is_err());
        assert!(anchored("[a").is_err());
        assert!(anchored(r"a\").is_err());
    }
}
