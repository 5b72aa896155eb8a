//! Wildcard matching for tag values and metric names: `*` matches any run of
//! characters (including none); every other character matches itself.

/// True when `text` matches `pattern`.
///
/// Linear time in the worst case (the classic two-pointer algorithm with
/// backtracking to the last `*`), so a hostile pattern cannot make a query
/// slow.
pub fn glob_match(pattern: &str, text: &str) -> bool {
    let (p, t) = (pattern.as_bytes(), text.as_bytes());
    let (mut pi, mut ti) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && p[pi] == b'*' {
            star = Some((pi, ti));
            pi += 1;
        } else if pi < p.len() && p[pi] == t[ti] {
            pi += 1;
            ti += 1;
        } else if let Some((sp, st)) = star {
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == b'*')
}

#[cfg(test)]
mod tests {
    use super::glob_match;

    #[test]
    fn globs() {
        assert!(glob_match("web-*", "web-1"));
        assert!(glob_match("web-*", "web-"));
        assert!(!glob_match("web-*", "db-1"));
        assert!(glob_match("*-1", "web-1"));
        assert!(glob_match("w*b*1", "web-1"));
        assert!(glob_match("*", ""));
        assert!(glob_match("exact", "exact"));
        assert!(!glob_match("exact", "exactly"));
        assert!(glob_match("a*a*a*b", "aaaaaaaaaaaaaaab"));
        assert!(!glob_match("a*a*a*b", "aaaaaaaaaaaaaaaa"));
    }
}
