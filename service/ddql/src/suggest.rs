//! "Did you mean ...?" for unknown names.

/// Longest name worth comparing: longer inputs are not typos of a short name,
/// and the edit distance is quadratic.
const MAX_SUGGEST_LEN: usize = 40;

/// The candidate closest to `word`, if one is close enough to be a likely
/// typo: the same name in another case, a name within one edit (two for
/// words longer than four characters), or a name that `word` starts with or
/// that starts with `word` (`absolute` → `abs`, `cum` → `cumsum`).
pub(crate) fn closest<'c>(word: &str, candidates: &[&'c str]) -> Option<&'c str> {
    if word.is_empty() || word.len() > MAX_SUGGEST_LEN {
        return None;
    }
    if let Some(c) = candidates.iter().find(|c| c.eq_ignore_ascii_case(word)) {
        return Some(c);
    }
    let limit = if word.len() <= 4 { 1 } else { 2 };
    let best = candidates
        .iter()
        .map(|c| (distance(word, c), *c))
        .min_by_key(|(d, _)| *d);
    if let Some((d, c)) = best
        && d <= limit
    {
        return Some(c);
    }
    // Prefix relation, at least three characters shared; prefer the longest.
    candidates
        .iter()
        .filter(|c| {
            let shorter = c.len().min(word.len());
            shorter >= 3 && (word.starts_with(**c) || c.starts_with(word))
        })
        .max_by_key(|c| c.len())
        .copied()
}

/// Levenshtein distance over bytes (names are ASCII).
fn distance(a: &str, b: &str) -> usize {
    let b = b.as_bytes();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for (i, &ca) in a.as_bytes().iter().enumerate() {
        cur[0] = i + 1;
        for (j, &cb) in b.iter().enumerate() {
            let substitute = prev[j] + usize::from(ca != cb);
            cur[j + 1] = substitute.min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distances() {
        assert_eq!(distance("", "abc"), 3);
        assert_eq!(distance("abs", "abs"), 0);
        assert_eq!(distance("cumsun", "cumsum"), 1);
        assert_eq!(distance("kitten", "sitting"), 3);
    }

    #[test]
    fn suggestions() {
        let names = ["abs", "cumsum", "log2", "log10", "top", "top_offset"];
        assert_eq!(closest("absolute", &names), Some("abs"));
        assert_eq!(closest("ABS", &names), Some("abs"));
        assert_eq!(closest("cumsun", &names), Some("cumsum"));
        assert_eq!(closest("log", &names), Some("log2"));
        assert_eq!(closest("top_offst", &names), Some("top_offset"));
        assert_eq!(closest("zzz", &names), None);
        assert_eq!(closest(&"a".repeat(100), &names), None);
    }
}
