//! Datadog's backend rules for metric names and tags (spec §2.1), applied at
//! intake so that queries written against Datadog match what we store.
//!
//! # Metric names ([`metric_name`])
//!
//! 1. The name must start with an ASCII letter (`A-Z`, `a-z`). Datadog drops
//!    metrics whose name does not, so we refuse them
//!    ([`NameError::NotALetterFirst`]; the parsers skip the series with
//!    [`RejectCode::InvalidMetricName`](crate::RejectCode::InvalidMetricName)).
//!    An empty name is [`NameError::Empty`]. Nothing is trimmed: `" cpu"`
//!    starts with a space and is refused.
//! 2. Every character other than ASCII letters, ASCII digits, `_` and `.`
//!    becomes one `_` (one per character, not per byte: `"caf\u{e9}"` gives
//!    `"caf_"`). Consecutive underscores are kept.
//! 3. The result is cut to its first [`MAX_METRIC_NAME_CHARS`] (200)
//!    characters. Case is kept: metric names are case-sensitive.
//!
//! # Tags ([`tag`], [`tag_owned`], [`key_value_tag`])
//!
//! 1. The tag is lower-cased with Unicode rules (`char::to_lowercase`; a
//!    character may become several, e.g. `İ` → `i` + U+0307, and an
//!    uppercase letter without a lowercase mapping, e.g. `ϓ` U+03D3, stays
//!    as it is, as with Go's `strings.ToLower`).
//! 2. Every character that is not alphanumeric (Unicode letters and digits,
//!    `char::is_alphanumeric`) and not one of `_ - : . /` becomes `_`. This is
//!    the replacement datadogpy already applies client-side
//!    (`[^\w\d_\-:/\.]` → `_`, Unicode-aware).
//! 3. The result is cut to its first [`MAX_TAG_CHARS`] (200) characters.
//! 4. A tag that is empty after this is dropped (`None`).
//!
//! Not done, on purpose: Datadog's docs also say a tag "must start with a
//! letter" and "can't end with a colon"; the backend does not enforce either
//! on bare values (`env:1`, `1.2.3`) and neither does datadogpy, so we keep
//! such tags as they are. The first `:` separates key and value; later ones
//! are part of the value.
//!
//! A tag already in normal form (ASCII `a-z 0-9 _ - : . /`, at most 200
//! bytes) is recognised in one pass over its bytes and copied (or, for
//! [`tag_owned`], kept) without re-encoding.

/// Longest metric name we keep, in characters (Datadog's documented limit).
pub const MAX_METRIC_NAME_CHARS: usize = 200;

/// Longest tag we keep, in characters (Datadog's documented limit).
pub const MAX_TAG_CHARS: usize = 200;

/// Why a metric name cannot be stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NameError {
    /// The name is empty.
    Empty,
    /// The first character is not an ASCII letter.
    NotALetterFirst,
}

impl std::fmt::Display for NameError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            NameError::Empty => f.write_str("metric name is empty"),
            NameError::NotALetterFirst => f.write_str("metric name must start with a letter"),
        }
    }
}

/// Bytes allowed as they are in a metric name: ASCII letters, digits, `_`, `.`.
const fn name_byte_ok(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'.'
}

/// Bytes allowed as they are in a normalised tag: `a-z 0-9 _ - : . /`.
const fn tag_byte_ok(b: u8) -> bool {
    b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'_' | b'-' | b':' | b'.' | b'/')
}

/// A 256-entry lookup table from a byte predicate (one load per byte on
/// the hot path instead of several comparisons).
macro_rules! byte_table {
    ($f:ident) => {{
        let mut t = [false; 256];
        let mut i = 0;
        while i < 256 {
            t[i] = $f(i as u8);
            i += 1;
        }
        t
    }};
}

static NAME_OK: [bool; 256] = byte_table!(name_byte_ok);
static TAG_OK: [bool; 256] = byte_table!(tag_byte_ok);

/// Normalises a metric name (rules in the module doc).
pub fn metric_name(raw: &str) -> Result<String, NameError> {
    check_first(raw)?;
    if is_normal_name(raw) {
        return Ok(raw.to_owned());
    }
    Ok(rewrite_name(raw))
}

/// [`metric_name`] for a name we already own: a name in normal form is
/// returned without copying.
pub fn metric_name_owned(raw: String) -> Result<String, NameError> {
    check_first(&raw)?;
    if is_normal_name(&raw) {
        return Ok(raw);
    }
    Ok(rewrite_name(&raw))
}

fn check_first(raw: &str) -> Result<(), NameError> {
    match raw.as_bytes().first() {
        None => Err(NameError::Empty),
        Some(b) if b.is_ascii_alphabetic() => Ok(()),
        Some(_) => Err(NameError::NotALetterFirst),
    }
}

fn is_normal_name(raw: &str) -> bool {
    raw.len() <= MAX_METRIC_NAME_CHARS && raw.bytes().all(|b| NAME_OK[usize::from(b)])
}

fn rewrite_name(raw: &str) -> String {
    raw.chars()
        .take(MAX_METRIC_NAME_CHARS)
        .map(|c| {
            if c.is_ascii() && NAME_OK[c as usize] {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// Normalises a tag (rules in the module doc); `None` if nothing is left.
pub fn tag(raw: &str) -> Option<String> {
    if is_normal_tag(raw) {
        return (!raw.is_empty()).then(|| raw.to_owned());
    }
    non_empty(rewrite_tag(raw))
}

/// [`tag`] for a tag we already own: a tag in normal form is returned
/// without copying.
pub fn tag_owned(raw: String) -> Option<String> {
    if is_normal_tag(&raw) {
        return (!raw.is_empty()).then_some(raw);
    }
    non_empty(rewrite_tag(&raw))
}

/// The tag `<key>:<value>` normalised (used for `host:<name>`,
/// `device:<name>` and v2 resources); `None` when `value` is empty, so an
/// empty host never becomes the tag `host:`.
pub fn key_value_tag(key: &str, value: &str) -> Option<String> {
    if value.is_empty() {
        return None;
    }
    let mut s = String::with_capacity(key.len() + 1 + value.len());
    s.push_str(key);
    s.push(':');
    s.push_str(value);
    tag_owned(s)
}

fn non_empty(s: String) -> Option<String> {
    (!s.is_empty()).then_some(s)
}

fn is_normal_tag(raw: &str) -> bool {
    raw.len() <= MAX_TAG_CHARS && raw.bytes().all(|b| TAG_OK[usize::from(b)])
}

fn rewrite_tag(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len().min(MAX_TAG_CHARS));
    let mut n = 0;
    for c in raw.chars() {
        for l in c.to_lowercase() {
            if n == MAX_TAG_CHARS {
                return out;
            }
            let keep = if l.is_ascii() {
                TAG_OK[l as usize]
            } else {
                l.is_alphanumeric()
            };
            out.push(if keep { l } else { '_' });
            n += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metric_name_cases() {
        let ok: &[(&str, &str)] = &[
            ("dp.gauge", "dp.gauge"),
            ("system.cpu.user", "system.cpu.user"),
            ("My.Metric_1", "My.Metric_1"),
            ("a-b", "a_b"),
            ("a b", "a_b"),
            ("a:b|c", "a_b_c"),
            ("a/b", "a_b"),
            ("caf\u{e9}", "caf_"),
            ("x\u{1F600}y", "x_y"),
            ("a..b__c", "a..b__c"),
            ("Z9", "Z9"),
            ("a\tb\nc", "a_b_c"),
        ];
        for (raw, want) in ok {
            assert_eq!(metric_name(raw).as_deref(), Ok(*want), "input {raw:?}");
            assert_eq!(
                metric_name_owned(raw.to_string()).as_deref(),
                Ok(*want),
                "input {raw:?}"
            );
        }
        let bad: &[(&str, NameError)] = &[
            ("", NameError::Empty),
            ("1metric", NameError::NotALetterFirst),
            ("_metric", NameError::NotALetterFirst),
            (".metric", NameError::NotALetterFirst),
            (" cpu", NameError::NotALetterFirst),
            ("\u{e9}t\u{e9}", NameError::NotALetterFirst),
        ];
        for (raw, want) in bad {
            assert_eq!(metric_name(raw), Err(*want), "input {raw:?}");
        }
    }

    #[test]
    fn metric_name_is_cut_at_200_chars() {
        let long = "a".repeat(250);
        assert_eq!(metric_name(&long).unwrap().len(), 200);
        // Non-ASCII characters count once each and become one `_` each.
        let mixed = format!("a{}", "\u{e9}".repeat(300));
        let n = metric_name(&mixed).unwrap();
        assert_eq!(n.chars().count(), 200);
        assert_eq!(n.len(), 200);
        assert!(n[1..].bytes().all(|b| b == b'_'));
        let exactly = "b".repeat(200);
        assert_eq!(metric_name(&exactly).unwrap(), exactly);
    }

    #[test]
    fn tag_cases() {
        let cases: &[(&str, Option<&str>)] = &[
            ("env:dev", Some("env:dev")),
            ("Env:Prod", Some("env:prod")),
            ("host:WEB-1", Some("host:web-1")),
            ("path:/var/log", Some("path:/var/log")),
            ("version:1.2.3", Some("version:1.2.3")),
            ("a b", Some("a_b")),
            ("a,b", Some("a_b")),
            ("a#b!c", Some("a_b_c")),
            ("url:http://x?y=1", Some("url:http://x_y_1")),
            ("k:v:w", Some("k:v:w")),
            ("canary", Some("canary")),
            ("1.2.3", Some("1.2.3")),
            ("env:", Some("env:")),
            (
                "\u{c9}t\u{c9}:\u{c9}T\u{c9}",
                Some("\u{e9}t\u{e9}:\u{e9}t\u{e9}"),
            ),
            (
                "\u{65e5}\u{672c}:\u{8a9e}",
                Some("\u{65e5}\u{672c}:\u{8a9e}"),
            ),
            ("emoji:\u{1F600}", Some("emoji:_")),
            ("\u{130}", Some("i_")),
            ("", None),
            ("!!!", Some("___")),
        ];
        for (raw, want) in cases {
            assert_eq!(tag(raw).as_deref(), *want, "input {raw:?}");
            assert_eq!(
                tag_owned(raw.to_string()).as_deref(),
                *want,
                "input {raw:?}"
            );
        }
    }

    #[test]
    fn tag_is_cut_at_200_chars() {
        let long = format!("k:{}", "v".repeat(300));
        assert_eq!(tag(&long).unwrap().len(), 200);
        let upper = "A".repeat(300);
        assert_eq!(tag(&upper).unwrap(), "a".repeat(200));
        let wide = "\u{e9}".repeat(300);
        let t = tag(&wide).unwrap();
        assert_eq!(t.chars().count(), 200);
        assert_eq!(t.len(), 400);
    }

    #[test]
    fn key_value_tags() {
        assert_eq!(
            key_value_tag("host", "Web-1").as_deref(),
            Some("host:web-1")
        );
        assert_eq!(
            key_value_tag("device", "sda1").as_deref(),
            Some("device:sda1")
        );
        assert_eq!(key_value_tag("host", ""), None);
        assert_eq!(
            key_value_tag("host", "my host").as_deref(),
            Some("host:my_host")
        );
    }
}
