//! How values become text in a notification: numbers, UTC dates and URL
//! encoding.
//!
//! Owns the exact spelling of every non-string template variable, so that
//! the message renderer and the webhook payload agree. Must never read the
//! clock or the locale: every function is a pure function of its argument
//! and produces text of bounded length (the `*_MAX_LEN` constants), which
//! the renderers' output bounds rely on.

/// The longest text [`number`] produces: a sign, 17 significant digits, a
/// point, `e`, an exponent sign and three exponent digits come to 24 bytes
/// (`-1.7976931348623157e308`); 32 leaves headroom and is what the output
/// bounds use.
pub const NUMBER_MAX_LEN: usize = 32;

/// The longest text [`utc_datetime`] or [`local_time_utc`] produces. An `i64`
/// of milliseconds reaches year ±292,278,994 (10 bytes with the sign); the
/// rest of `YYYY-MM-DD HH:MM:SS UTC` is 20 bytes. 40 covers both spellings
/// with headroom.
pub const DATETIME_MAX_LEN: usize = 40;

/// The longest text an `i64` or `u64` prints as (`-9223372036854775808` is
/// 20 bytes).
pub const INTEGER_MAX_LEN: usize = 20;

/// Magnitude from which [`number`] switches to exponent notation:
/// integral values below it print as plain integers (`90`, not `90.0`),
/// and above it the plain spelling would be up to 309 digits long.
const PLAIN_NUMBER_LIMIT: f64 = 1e15;

/// Magnitude below which a non-zero [`number`] switches to exponent
/// notation (`1.5e-7` rather than `0.00000015`), like most JSON encoders.
const SMALL_NUMBER_LIMIT: f64 = 1e-6;

/// A number as a notification shows it: integral values without a
/// fraction (`90`), others in the shortest form that reads back to the same
/// `f64` (`95.5`, `0.30000000000000004`), very large or small magnitudes in
/// exponent form (`1e300`), and `NaN`, `inf`, `-inf` for the non-finite.
/// Never longer than [`NUMBER_MAX_LEN`].
pub fn number(value: f64) -> String {
    if value.is_nan() {
        return "NaN".to_owned();
    }
    if value.is_infinite() {
        return if value > 0.0 { "inf" } else { "-inf" }.to_owned();
    }
    let magnitude = value.abs();
    if magnitude >= PLAIN_NUMBER_LIMIT || (magnitude != 0.0 && magnitude < SMALL_NUMBER_LIMIT) {
        return format!("{value:e}");
    }
    if value == value.trunc() {
        // Exact: the magnitude is below 1e15 < 2^63. `-0.0` prints as `0`.
        return format!("{}", value as i64);
    }
    format!("{value}")
}

/// Splits epoch milliseconds into (year, month, day, hour, minute, second)
/// of the proleptic Gregorian calendar in UTC. Uses the days-from-civil
/// inverse by Howard Hinnant, exact over the whole `i64` range.
fn civil(epoch_ms: i64) -> (i64, u32, u32, u32, u32, u32) {
    let secs = epoch_ms.div_euclid(1000);
    let days = secs.div_euclid(86_400);
    let of_day = secs.rem_euclid(86_400);
    // Shift the epoch to 0000-03-01 so leap days end each 400-year era.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = (if mp < 10 { mp + 3 } else { mp - 9 }) as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    let hour = (of_day / 3600) as u32;
    let minute = (of_day % 3600 / 60) as u32;
    let second = (of_day % 60) as u32;
    (year, month, day, hour, minute, second)
}

/// Epoch milliseconds as Datadog spells `{{last_triggered_at}}`:
/// `2024-10-10 16:39:00 UTC`. Sub-second precision is dropped.
pub fn utc_datetime(epoch_ms: i64) -> String {
    let (y, mo, d, h, mi, s) = civil(epoch_ms);
    format!("{y:04}-{mo:02}-{d:02} {h:02}:{mi:02}:{s:02} UTC")
}

/// Epoch milliseconds in the ISO 8601 form `{{local_time ...}}` gives,
/// `2021-05-31 14:43:27+00:00`, always at offset `+00:00` (Whippet carries
/// no time-zone database; the instant is exact, only the zone differs).
pub fn local_time_utc(epoch_ms: i64) -> String {
    let (y, mo, d, h, mi, s) = civil(epoch_ms);
    format!("{y:04}-{mo:02}-{d:02} {h:02}:{mi:02}:{s:02}+00:00")
}

/// Percent-encodes every byte outside RFC 3986's unreserved set
/// (`A-Z a-z 0-9 - _ . ~`), as `{{urlencode "..."}}` does. The output is at
/// most three times the input length.
pub fn urlencode(text: &str) -> String {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let mut out = String::with_capacity(text.len());
    for &b in text.as_bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            out.push('%');
            out.push(char::from(HEX[usize::from(b >> 4)]));
            out.push(char::from(HEX[usize::from(b & 0xF)]));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn numbers() {
        assert_eq!(number(90.0), "90");
        assert_eq!(number(-0.0), "0");
        assert_eq!(number(95.5), "95.5");
        assert_eq!(number(0.1 + 0.2), "0.30000000000000004");
        assert_eq!(number(1e300), "1e300");
        assert_eq!(number(1.5e-7), "1.5e-7");
        assert_eq!(number(f64::NAN), "NaN");
        assert_eq!(number(f64::NEG_INFINITY), "-inf");
        assert_eq!(number(-f64::MAX).len(), 23);
    }

    #[test]
    fn dates() {
        assert_eq!(utc_datetime(0), "1970-01-01 00:00:00 UTC");
        assert_eq!(utc_datetime(1_728_578_340_138), "2024-10-10 16:39:00 UTC");
        assert_eq!(utc_datetime(951_782_400_000), "2000-02-29 00:00:00 UTC");
        assert_eq!(utc_datetime(-1), "1969-12-31 23:59:59 UTC");
        assert_eq!(
            local_time_utc(1_622_472_207_000),
            "2021-05-31 14:43:27+00:00"
        );
        assert!(utc_datetime(i64::MIN).len() <= DATETIME_MAX_LEN);
        assert!(utc_datetime(i64::MAX).len() <= DATETIME_MAX_LEN);
    }

    #[test]
    fn url_encoding() {
        assert_eq!(urlencode("ad server/é"), "ad%20server%2F%C3%A9");
        assert_eq!(urlencode("a-b_c.d~"), "a-b_c.d~");
    }

    proptest! {
        #[test]
        fn number_is_bounded(bits in any::<u64>()) {
            prop_assert!(number(f64::from_bits(bits)).len() <= NUMBER_MAX_LEN);
        }

        #[test]
        fn dates_are_bounded(ms in any::<i64>()) {
            prop_assert!(utc_datetime(ms).len() <= DATETIME_MAX_LEN);
            prop_assert!(local_time_utc(ms).len() <= DATETIME_MAX_LEN);
        }
    }
}
