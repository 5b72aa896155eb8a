//! Durations as corpus files write them.

/// Milliseconds in a day.
const DAY_MS: i64 = 86_400_000;

/// `90` (a bare number is seconds), `90s`, `250ms`, `5m`, `2h`, `1d`, `1w`,
/// `1y` (365 days), or several terms (`1h30m`); a leading `-` negates.
pub fn parse_duration_ms(s: &str) -> Result<i64, String> {
    if let Some(rest) = s.strip_prefix('-') {
        return Ok(-parse_duration_ms(rest)?);
    }
    if s.is_empty() {
        return Err("empty duration".into());
    }
    let mut total = 0i64;
    let mut rest = s;
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(rest.len());
        let n: i64 = rest[..digits]
            .parse()
            .map_err(|_| format!("bad duration `{s}`"))?;
        rest = &rest[digits..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit())
            .unwrap_or(rest.len());
        let unit = match &rest[..unit_len] {
            "" | "s" => 1000,
            "ms" => 1,
            "m" => 60_000,
            "h" => 3_600_000,
            "d" => DAY_MS,
            "w" => 7 * DAY_MS,
            "y" => 365 * DAY_MS,
            u => return Err(format!("bad duration unit `{u}` in `{s}`")),
        };
        rest = &rest[unit_len..];
        total = n
            .checked_mul(unit)
            .and_then(|v| total.checked_add(v))
            .ok_or_else(|| format!("duration `{s}` out of range"))?;
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration_ms("90"), Ok(90_000));
        assert_eq!(parse_duration_ms("250ms"), Ok(250));
        assert_eq!(parse_duration_ms("1h30m"), Ok(5_400_000));
        assert_eq!(parse_duration_ms("1h20s"), Ok(3_620_000));
        assert_eq!(parse_duration_ms("-5m"), Ok(-300_000));
        assert_eq!(parse_duration_ms("1w"), Ok(7 * DAY_MS));
        assert!(parse_duration_ms("").is_err());
        assert!(parse_duration_ms("5q").is_err());
        assert!(parse_duration_ms("m").is_err());
        assert!(parse_duration_ms("99999999999999999y").is_err());
    }
}
