//! Datadog's backend rules for metric names and tags (spec §2.1).
//!
//! The rules are those of the backend's metric normalisation (the same code
//! the Datadog trace agent copies "from dd-go" for names, and its tag
//! normaliser for tags), so a query written against Datadog finds the same
//! series here.
//!
//! **Names:** leading characters up to the first ASCII letter are dropped; a
//! name with no ASCII letter is invalid. ASCII letters and digits are kept;
//! `.` is kept (an `_` right before it becomes the `.`); every other byte
//! becomes `_`, but never two `_` in a row nor an `_` right after a `.`; a
//! trailing `_` is dropped. Case is kept. Server choice: a name longer than
//! [`MAX_NAME_CHARS`] is cut there (Datadog documents the limit but not what
//! happens past it; cutting keeps the data).
//!
//! **Tags:** invalid UTF-8 is replaced by U+FFFD first. Upper-case letters
//! are lower-cased (when the lower-case form is a single character).
//! Letters and `:` are kept anywhere; digits, `.`, `/` and `-` are kept
//! except at the start, where they are dropped (a tag starts with a letter
//! or `:`); every run of other characters (including `_`) becomes one `_`,
//! and a trailing run is dropped. At most [`MAX_TAG_CHARS`] characters are
//! kept. A tag that ends up empty is dropped.
//!
//! This runs once per new context (the aggregator caches by raw bytes), so
//! it favours clarity over speed.

/// Longest metric name kept, in bytes (names are ASCII after normalisation).
pub const MAX_NAME_CHARS: usize = 200;

/// Longest tag kept, in characters.
pub const MAX_TAG_CHARS: usize = 200;

/// Whether a raw name can be normalised: it has at least one ASCII letter.
/// The parser checks this so that an invalid name is counted as a parse
/// error rather than found later.
#[inline]
pub fn is_valid_metric_name(raw: &[u8]) -> bool {
    raw.iter().any(u8::is_ascii_alphabetic)
}

/// Normalises a metric name; `None` when it has no ASCII letter.
pub fn metric_name(raw: &[u8]) -> Option<String> {
    let start = raw.iter().position(u8::is_ascii_alphabetic)?;
    let mut out = String::with_capacity((raw.len() - start).min(MAX_NAME_CHARS));
    for &b in &raw[start..] {
        if out.len() >= MAX_NAME_CHARS {
            break;
        }
        if b.is_ascii_alphanumeric() {
            out.push(b as char);
        } else if b == b'.' {
            if out.ends_with('_') {
                out.pop();
            }
            out.push('.');
        } else if !(out.ends_with('.') || out.ends_with('_')) {
            out.push('_');
        }
    }
    while out.ends_with('_') {
        out.pop();
    }
    Some(out)
}

/// Lower-cases `c` when its lower-case form is a single character (the
/// backend leaves the rare multi-character cases alone).
#[inline]
fn lower(c: char) -> char {
    if c.is_ascii() {
        return c.to_ascii_lowercase();
    }
    if !c.is_uppercase() {
        return c;
    }
    let mut it = c.to_lowercase();
    match (it.next(), it.next()) {
        (Some(l), None) => l,
        _ => c,
    }
}

/// Normalises one tag; `None` when nothing is left of it.
pub fn tag(raw: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(raw);
    let mut out = String::with_capacity(text.len().min(MAX_TAG_CHARS));
    let mut chars = 0usize;
    let mut pending_underscore = false;
    for c in text.chars() {
        if chars >= MAX_TAG_CHARS {
            break;
        }
        let c = lower(c);
        let keep = if c.is_alphabetic() || c == ':' {
            true
        } else if chars == 0 {
            // Nothing but a letter or ':' may start a tag: drop it.
            continue;
        } else {
            c.is_numeric() || c == '.' || c == '/' || c == '-'
        };
        if keep {
            if pending_underscore {
                out.push('_');
                chars += 1;
                pending_underscore = false;
                if chars >= MAX_TAG_CHARS {
                    break;
                }
            }
            out.push(c);
            chars += 1;
        } else {
            pending_underscore = true;
        }
    }
    (!out.is_empty()).then_some(out)
}

/// Splits a raw comma-separated tag list, normalises each tag into `out`
/// (which is cleared first), then sorts and de-duplicates it.
pub fn tags_into(raw: &[u8], out: &mut Vec<String>) {
    out.clear();
    if raw.is_empty() {
        return;
    }
    out.extend(raw.split(|&b| b == b',').filter_map(tag));
    out.sort_unstable();
    out.dedup();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        let cases: &[(&str, Option<&str>)] = &[
            ("example.gauge", Some("example.gauge")),
            ("Example.Gauge_1", Some("Example.Gauge_1")),
            ("9lives", Some("lives")),
            ("__a", Some("a")),
            ("a b", Some("a_b")),
            ("a  b", Some("a_b")),
            ("a-b", Some("a_b")),
            ("a_.b", Some("a.b")),
            ("a._b", Some("a.b")),
            ("a..b", Some("a..b")),
            ("a!", Some("a")),
            ("a/b/c", Some("a_b_c")),
            ("héllo", Some("h_llo")),
            ("123", None),
            ("", None),
            ("..", None),
        ];
        for (raw, want) in cases {
            assert_eq!(
                metric_name(raw.as_bytes()).as_deref(),
                *want,
                "name {raw:?}"
            );
        }
        let long = "a".repeat(300);
        assert_eq!(metric_name(long.as_bytes()).unwrap().len(), MAX_NAME_CHARS);
        let mut trailing = "a".repeat(199);
        trailing.push_str("!bc");
        assert_eq!(metric_name(trailing.as_bytes()).unwrap(), "a".repeat(199));
    }

    #[test]
    fn single_tags() {
        let cases: &[(&str, Option<&str>)] = &[
            ("env:dev", Some("env:dev")),
            ("Env:Dev", Some("env:dev")),
            ("client_version:0.56.0", Some("client_version:0.56.0")),
            ("path:/a/b-c", Some("path:/a/b-c")),
            ("a b", Some("a_b")),
            ("a  !b", Some("a_b")),
            ("a__b", Some("a_b")),
            ("a!", Some("a")),
            ("1abc", Some("abc")),
            ("_abc", Some("abc")),
            (":abc", Some(":abc")),
            ("ÉTÉ:Ünïcode", Some("été:ünïcode")),
            ("日本:語", Some("日本:語")),
            ("!!!", None),
            ("123", None),
            ("", None),
        ];
        for (raw, want) in cases {
            assert_eq!(tag(raw.as_bytes()).as_deref(), *want, "tag {raw:?}");
        }
        assert_eq!(tag(b"a\xffb").as_deref(), Some("a_b"));
        let long = "b".repeat(500);
        assert_eq!(tag(long.as_bytes()).unwrap().chars().count(), MAX_TAG_CHARS);
    }

    #[test]
    fn tag_lists_sort_and_dedup() {
        let mut out = Vec::new();
        tags_into(b"role:web,env:dev,ENV:dev,,!!,env:dev", &mut out);
        assert_eq!(out, ["env:dev", "role:web"]);
        tags_into(b"", &mut out);
        assert!(out.is_empty());
    }
}
