//! Time: millisecond timestamps, the clock, time partitions and the duration
//! syntax used by retention settings.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// Milliseconds since the Unix epoch, UTC. Every point carries one.
pub type TimestampMs = i64;

/// Milliseconds in one day.
pub const DAY_MS: i64 = 86_400_000;

/// Length of a time partition: one UTC day.
///
/// Why a day: at the 10 s resolution of a host fleet a series holds 8 640
/// points a day, long enough for the column codecs to reach their best ratio
/// once a partition is merged into one part, while retention (whole days) stays
/// fine-grained and a backfill of old data touches few partitions.
pub const PARTITION_MS: i64 = DAY_MS;

/// A time partition: the day `[start, start + PARTITION_MS)` with
/// `start = index * PARTITION_MS`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PartitionId(pub i64);

impl PartitionId {
    /// The partition that holds timestamp `ts`.
    pub fn of(ts: TimestampMs) -> Self {
        PartitionId(ts.div_euclid(PARTITION_MS))
    }
    /// First millisecond inside the partition.
    pub fn start_ms(self) -> TimestampMs {
        self.0 * PARTITION_MS
    }
    /// First millisecond after the partition.
    pub fn end_ms(self) -> TimestampMs {
        (self.0 + 1) * PARTITION_MS
    }
    /// Directory name: the day as `YYYYMMDD` (proleptic Gregorian, UTC).
    pub fn dir_name(self) -> String {
        let (y, m, d) = civil_from_days(self.0);
        format!("{y:04}{m:02}{d:02}")
    }
    /// Parses a name written by [`PartitionId::dir_name`].
    pub fn from_dir_name(name: &str) -> Option<Self> {
        if name.len() != 8 || !name.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let y: i64 = name[0..4].parse().ok()?;
        let m: u32 = name[4..6].parse().ok()?;
        let d: u32 = name[6..8].parse().ok()?;
        if !(1..=12).contains(&m) || !(1..=31).contains(&d) {
            return None;
        }
        let days = days_from_civil(y, m, d);
        (civil_from_days(days) == (y, m, d)).then_some(PartitionId(days))
    }
}

/// Days since 1970-01-01 to (year, month, day). Howard Hinnant's algorithm.
pub fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// (year, month, day) to days since 1970-01-01.
pub fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let m = m as i64;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Where the engine reads "now" from. Tests pin it; production uses the
/// system clock. Retention, the future bound and the active-series window all
/// read this clock, never `SystemTime` directly.
#[derive(Clone, Debug, Default)]
pub enum Clock {
    /// The system's wall clock.
    #[default]
    System,
    /// A clock that only moves when told to (tests, replays).
    Manual(Arc<AtomicI64>),
}

impl Clock {
    /// A manual clock starting at `now_ms`.
    pub fn manual(now_ms: TimestampMs) -> Self {
        Clock::Manual(Arc::new(AtomicI64::new(now_ms)))
    }
    /// The current time in milliseconds.
    pub fn now_ms(&self) -> TimestampMs {
        match self {
            Clock::System => SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map(|d| d.as_millis() as i64)
                .unwrap_or(0),
            Clock::Manual(t) => t.load(Ordering::Relaxed),
        }
    }
    /// Moves a manual clock; does nothing to the system clock.
    pub fn set_ms(&self, now_ms: TimestampMs) {
        if let Clock::Manual(t) = self {
            t.store(now_ms, Ordering::Relaxed);
        }
    }
}

/// Parses a duration such as `90s`, `15m`, `36h`, `30d`, `2w`, `15mo`, `100y`
/// into milliseconds.
///
/// Units: `ms`, `s`, `m` (minutes), `h`, `d`, `w`, `mo` (31 days) and `y`
/// (365 days). A month counts as 31 days so that a retention of `15mo` never
/// keeps less than fifteen calendar months. Several terms may be joined
/// (`1y6mo`). A bare number is rejected: a unit is always required.
pub fn parse_duration_ms(text: &str) -> Result<i64, String> {
    let s = text.trim();
    if s.is_empty() {
        return Err("empty duration".into());
    }
    let mut total: i64 = 0;
    let mut rest = s;
    while !rest.is_empty() {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return Err(format!(
                "invalid duration {text:?}: expected a number at {rest:?}"
            ));
        }
        let n: i64 = rest[..digits]
            .parse()
            .map_err(|_| format!("invalid duration {text:?}: number too large"))?;
        rest = &rest[digits..];
        let unit_len = rest.bytes().take_while(u8::is_ascii_alphabetic).count();
        let unit = &rest[..unit_len];
        rest = &rest[unit_len..];
        let unit_ms: i64 = match unit {
            "ms" => 1,
            "s" => 1_000,
            "m" => 60_000,
            "h" => 3_600_000,
            "d" => DAY_MS,
            "w" => 7 * DAY_MS,
            "mo" => 31 * DAY_MS,
            "y" => 365 * DAY_MS,
            "" => {
                return Err(format!(
                    "invalid duration {text:?}: missing unit (ms, s, m, h, d, w, mo, y)"
                ));
            }
            other => {
                return Err(format!(
                    "invalid duration {text:?}: unknown unit {other:?} (ms, s, m, h, d, w, mo, y)"
                ));
            }
        };
        total = n
            .checked_mul(unit_ms)
            .and_then(|v| total.checked_add(v))
            .ok_or_else(|| format!("invalid duration {text:?}: too large"))?;
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_with_units() {
        assert_eq!(parse_duration_ms("30d"), Ok(30 * DAY_MS));
        assert_eq!(parse_duration_ms("15mo"), Ok(15 * 31 * DAY_MS));
        assert_eq!(parse_duration_ms("100y"), Ok(100 * 365 * DAY_MS));
        assert_eq!(parse_duration_ms("1h30m"), Ok(5_400_000));
        assert_eq!(parse_duration_ms("250ms"), Ok(250));
        assert!(
            parse_duration_ms("30")
                .unwrap_err()
                .contains("missing unit")
        );
        assert!(
            parse_duration_ms("3x")
                .unwrap_err()
                .contains("unknown unit")
        );
        assert!(parse_duration_ms("").is_err());
        assert!(parse_duration_ms("99999999999999999y").is_err());
    }

    #[test]
    fn partition_names_round_trip() {
        for days in [-25_000, -1, 0, 1, 19_000, 20_418, 2_000_000] {
            let p = PartitionId(days);
            assert_eq!(PartitionId::from_dir_name(&p.dir_name()), Some(p), "{days}");
        }
        assert_eq!(PartitionId(0).dir_name(), "19700101");
        assert_eq!(PartitionId::of(1_795_644_424_000).dir_name(), "20261125");
        assert_eq!(PartitionId::of(-1), PartitionId(-1));
        assert_eq!(PartitionId::from_dir_name("20260230"), None);
        assert_eq!(PartitionId::from_dir_name("tmp-1234"), None);
    }
}
