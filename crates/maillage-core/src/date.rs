//! Calendar dates as days since 1970-01-01, parsed from and printed as `YYYY-MM-DD`.
//! Pure arithmetic (proleptic Gregorian calendar), no clock.

/// Days since 1970-01-01 of a `YYYY-MM-DD` date; `None` if it is not exactly ten bytes of
/// ASCII digits and dashes naming a real calendar day (no sign, no space, no other width).
pub fn parse_date(text: &str) -> Option<i32> {
    Day::parse(text).map(|d| d.0)
}

/// `YYYY-MM-DD` of a day number.
pub fn format_date(days: i32) -> String {
    let (y, m, d) = civil_from_days(days);
    format!("{y:04}-{m:02}-{d:02}")
}

/// A calendar day, as days since 1970-01-01 (proleptic Gregorian). Parsed strictly from
/// `YYYY-MM-DD` (years 0000 to 9999, real days only) and printed back the same way, so a day
/// the rules accepted prints as the very bytes the event carried.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Day(pub i32);

/// `YYYY-MM-DD` in human-readable formats (JSON), the day number in binary ones (snapshots).
impl serde::Serialize for Day {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if s.is_human_readable() {
            s.collect_str(self)
        } else {
            s.serialize_i32(self.0)
        }
    }
}

impl<'de> serde::Deserialize<'de> for Day {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        if d.is_human_readable() {
            let text = String::deserialize(d)?;
            Self::parse(&text).ok_or_else(|| D::Error::custom("expected a date YYYY-MM-DD"))
        } else {
            i32::deserialize(d).map(Self)
        }
    }
}

impl Day {
    /// The day `text` names, if it is exactly `YYYY-MM-DD`: four, two and two ASCII digits
    /// with dashes between them, a month 01–12 and a day that month has.
    pub fn parse(text: &str) -> Option<Self> {
        let b = text.as_bytes();
        if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
            return None;
        }
        let digits = |range: std::ops::Range<usize>| -> Option<u32> {
            b[range].iter().try_fold(0u32, |n, c| {
                c.is_ascii_digit().then(|| n * 10 + u32::from(c - b'0'))
            })
        };
        let year = digits(0..4)? as i32;
        let month = digits(5..7)?;
        let day = digits(8..10)?;
        if !(1..=12).contains(&month) || day == 0 || day > days_in_month(year, month) {
            return None;
        }
        Some(Self(days_from_civil(year, month, day)))
    }

    /// The day (UTC) of a millisecond timestamp.
    pub fn of_millis(ms: u64) -> Self {
        Self(day_of_millis(ms))
    }

    /// `days` later.
    pub fn plus(self, days: i32) -> Self {
        Self(self.0.saturating_add(days))
    }
}

impl std::fmt::Display for Day {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (y, m, d) = civil_from_days(self.0);
        write!(f, "{y:04}-{m:02}-{d:02}")
    }
}

/// The day (UTC) of a millisecond timestamp.
pub fn day_of_millis(ms: u64) -> i32 {
    (ms / 86_400_000) as i32
}

fn is_leap(year: i32) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

fn days_in_month(year: i32, month: u32) -> u32 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

fn days_from_civil(year: i32, month: u32, day: u32) -> i32 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let m = month as i32;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + day as i32 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// (year, month, day) of a day number.
pub fn civil_from_days(days: i32) -> (i32, u32, u32) {
    let z = days + 719_468;
    let era = if z >= 0 { z } else { z - 146_096 } / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// A wall-clock time in Paris (Europe/Paris): the day, hour and minute there, and the zone's
/// offset from UTC then (1 in winter, CET; 2 in summer, CEST).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ParisTime {
    /// The day in Paris.
    pub day: Day,
    /// 0–23.
    pub hour: u32,
    /// 0–59.
    pub minute: u32,
    /// Hours ahead of UTC: 1 or 2.
    pub utc_offset_hours: u32,
}

impl ParisTime {
    /// Paris's time at a millisecond timestamp, by the EU rule (in force since 1996): summer
    /// time from the last Sunday of March to the last Sunday of October, switching at 01:00
    /// UTC both ways.
    pub fn of_millis(ms: u64) -> Self {
        let secs = ms / 1000;
        let day = day_of_millis(ms);
        let (year, _, _) = civil_from_days(day);
        let switch = |month: u32| -> u64 {
            let last = days_from_civil(year, month, 31);
            // 1970-01-01 was a Thursday: weekday 0 = Sunday.
            let weekday = (last + 4).rem_euclid(7);
            let sunday = last - weekday;
            (sunday as i64 * 86_400 + 3_600).max(0) as u64
        };
        let summer = secs >= switch(3) && secs < switch(10);
        let utc_offset_hours = if summer { 2 } else { 1 };
        let local = secs + u64::from(utc_offset_hours) * 3_600;
        Self {
            day: Day((local / 86_400) as i32),
            hour: ((local % 86_400) / 3_600) as u32,
            minute: ((local % 3_600) / 60) as u32,
            utc_offset_hours,
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn paris_time_follows_the_eu_summer_time_rule() {
        let at = |text: &str, h: u64, m: u64| {
            ParisTime::of_millis(
                ((parse_date(text).unwrap() as u64 * 86_400) + h * 3600 + m * 60) * 1000,
            )
        };
        // Winter: UTC+1.
        let t = at("2026-12-06", 10, 5);
        assert_eq!(
            (t.day.to_string(), t.hour, t.minute, t.utc_offset_hours),
            ("2026-12-06".into(), 11, 5, 1)
        );
        // 2026-03-29 is the last Sunday of March: summer time from 01:00 UTC.
        assert_eq!(at("2026-03-29", 0, 59).utc_offset_hours, 1);
        let t = at("2026-03-29", 1, 0);
        assert_eq!((t.hour, t.utc_offset_hours), (3, 2));
        // 2026-10-25 is the last Sunday of October: back to winter time at 01:00 UTC.
        assert_eq!(at("2026-10-25", 0, 59).utc_offset_hours, 2);
        assert_eq!(at("2026-10-25", 1, 0).utc_offset_hours, 1);
        // Late evening UTC is already the next day in Paris.
        let t = at("2026-07-14", 23, 30);
        assert_eq!(
            (t.day.to_string(), t.hour, t.minute),
            ("2026-07-15".into(), 1, 30)
        );
    }

    #[test]
    fn round_trip_and_validation() {
        assert_eq!(parse_date("1970-01-01"), Some(0));
        assert_eq!(
            parse_date("2024-02-29").map(format_date).as_deref(),
            Some("2024-02-29")
        );
        assert_eq!(parse_date("2023-02-29"), None);
        assert_eq!(parse_date("2026-13-01"), None);
        assert_eq!(parse_date("26-01-01"), None);
        for days in (-1000..30000).step_by(37) {
            assert_eq!(parse_date(&format_date(days)), Some(days));
        }
        assert_eq!(day_of_millis(86_400_000 * 3 + 5), 3);
    }

    #[test]
    fn only_the_canonical_form_parses() {
        for text in [
            "2026-+1-+5",
            "+026-01-05",
            "2026-1-05 ",
            " 2026-01-5",
            "2026-01-0٥",
            "2026/01/05",
            "2026-00-10",
            "2026-01-32",
            "2025-02-29",
            "",
        ] {
            assert_eq!(Day::parse(text), None, "{text:?}");
        }
        let day = Day::parse("2024-02-29").unwrap();
        assert_eq!(day.to_string(), "2024-02-29");
        assert_eq!(
            Day::parse("0000-01-01").map(|d| d.to_string()).as_deref(),
            Some("0000-01-01")
        );
        assert_eq!(
            Day::parse("9999-12-31").map(|d| d.to_string()).as_deref(),
            Some("9999-12-31")
        );
        assert_eq!(day.plus(1).to_string(), "2024-03-01");
    }
}
