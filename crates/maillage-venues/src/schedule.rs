//! Opening hours written for people, turned into OpenStreetMap `opening_hours`: the French
//! day-by-day schedules of hub exports, either one HTML text (`<li>- lundi matin: 8h30-12h /
//! lundi après-midi: 13h30-17h`) or one column per day (`09:00 - 12:00 / 13:30 - 17:00`).
//!
//! The result is checked by [`validate_opening_hours`], like any other value of `horaires`.

use std::sync::LazyLock;

use regex::Regex;

use crate::hours::validate_opening_hours;

/// French day names, Monday first.
pub(crate) const DAYS_FR: [&str; 7] = [
    "lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche",
];

/// OpenStreetMap day codes, Monday first.
pub(crate) const DAYS_OSM: [&str; 7] = ["Mo", "Tu", "We", "Th", "Fr", "Sa", "Su"];

/// The open ranges of each day of a week, in minutes since midnight, Monday first.
pub(crate) type Week = [Vec<(u32, u32)>; 7];

/// A day, by its French name or its OpenStreetMap code (any case): its index, Monday = 0.
pub(crate) fn day_index(name: &str) -> Option<usize> {
    let name = name.trim();
    DAYS_FR
        .iter()
        .position(|d| d.eq_ignore_ascii_case(name))
        .or_else(|| DAYS_OSM.iter().position(|d| d.eq_ignore_ascii_case(name)))
}

static SLOT: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(
        r"(?i)(lundi|mardi|mercredi|jeudi|vendredi|samedi|dimanche)\s*(?:matin|apr[eè]s-midi|soir)?\s*:\s*(\d{1,2})\s*h\s*(\d{2})?\s*(?:-|à)\s*(\d{1,2})\s*h\s*(\d{2})?",
    )
    .ok()
});

/// Converts a French HTML schedule (`<li>- lundi matin: 8h30-12h / lundi après-midi:
/// 13h30-17h<br>`…) to `opening_hours` (`Mo 08:30-12:00,13:30-17:00`). `None` when nothing
/// (or something impossible) is found.
pub(crate) fn html_hours_to_osm(html: &str) -> Option<String> {
    let re = SLOT.as_ref()?;
    let mut week = Week::default();
    for cap in re.captures_iter(html) {
        let day = cap.get(1)?.as_str().to_lowercase();
        let index = DAYS_FR.iter().position(|d| *d == day)?;
        let minutes = |h: usize, m: usize| -> Option<u32> {
            let hour: u32 = cap.get(h)?.as_str().parse().ok()?;
            let minute: u32 = cap.get(m).map_or(Some(0), |m| m.as_str().parse().ok())?;
            (minute < 60).then_some(hour * 60 + minute)
        };
        let (start, end) = (minutes(2, 3)?, minutes(4, 5)?);
        if start >= end || end > 24 * 60 {
            return None;
        }
        week.get_mut(index)?.push((start, end));
    }
    week_to_osm(week)
}

static RANGE: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(
        r"(?i)^(\d{1,2})\s*(?:[h:]\s*(\d{2})?)\s*(?:-|–|à|a)\s*(\d{1,2})\s*(?:[h:]\s*(\d{2})?)$",
    )
    .ok()
});

/// Words meaning "closed that day".
const CLOSED: [&str; 4] = ["ferme", "fermé", "fermée", "closed"];

/// Reads one day's cell (`09:00 - 12:00 / 13:30 - 17:00`, `9h-12h et 14h-17h`, `8h30 à
/// 12h`): its ranges, in minutes. Blank, `-` or `fermé` is a closed day, and an empty range
/// (`00:00 - 00:00`) is no range. `None` when a part cannot be read.
pub(crate) fn day_ranges(cell: &str) -> Option<Vec<(u32, u32)>> {
    let cell = cell.trim();
    if cell.is_empty() || cell == "-" || CLOSED.iter().any(|c| cell.eq_ignore_ascii_case(c)) {
        return Some(Vec::new());
    }
    let re = RANGE.as_ref()?;
    let mut ranges = Vec::new();
    for part in cell
        .split(['/', ',', ';', '|'])
        .flat_map(|p| p.split(" et "))
        .map(str::trim)
        .filter(|p| !p.is_empty())
    {
        let cap = re.captures(part)?;
        let minutes = |h: usize, m: usize| -> Option<u32> {
            let hour: u32 = cap.get(h)?.as_str().parse().ok()?;
            let minute: u32 = cap.get(m).map_or(Some(0), |m| m.as_str().parse().ok())?;
            (minute < 60).then_some(hour * 60 + minute)
        };
        let (start, end) = (minutes(1, 2)?, minutes(3, 4)?);
        // "00:00 - 00:00": an empty slot of a form, nothing open.
        if start == end {
            continue;
        }
        if start > end || end > 24 * 60 {
            return None;
        }
        ranges.push((start, end));
    }
    Some(ranges)
}

/// A week as `opening_hours` (`Mo-Fr 08:30-12:00,13:30-17:00; Sa 09:00-12:00`), consecutive
/// days with the same ranges grouped. `None` for a week without any open range, or when the
/// result is not valid `opening_hours`.
pub(crate) fn week_to_osm(week: Week) -> Option<String> {
    let days = week.map(merge);
    let mut rules = Vec::new();
    let mut i = 0;
    while i < 7 {
        let mut j = i;
        while j + 1 < 7 && days[j + 1] == days[i] {
            j += 1;
        }
        if !days[i].is_empty() {
            let selector = if i == j {
                DAYS_OSM[i].to_owned()
            } else {
                format!("{}-{}", DAYS_OSM[i], DAYS_OSM[j])
            };
            let ranges: Vec<String> = days[i]
                .iter()
                .map(|&(s, e)| format!("{}-{}", hhmm(s), hhmm(e)))
                .collect();
            rules.push(format!("{selector} {}", ranges.join(",")));
        }
        i = j + 1;
    }
    let osm = rules.join("; ");
    (!osm.is_empty() && validate_opening_hours(&osm).is_ok()).then_some(osm)
}

/// Sorts ranges and merges touching or overlapping ones.
fn merge(mut ranges: Vec<(u32, u32)>) -> Vec<(u32, u32)> {
    ranges.sort_unstable();
    let mut out: Vec<(u32, u32)> = Vec::new();
    for (s, e) in ranges {
        match out.last_mut() {
            Some(last) if s <= last.1 => last.1 = last.1.max(e),
            _ => out.push((s, e)),
        }
    }
    out
}

fn hhmm(minutes: u32) -> String {
    format!("{:02}:{:02}", minutes / 60, minutes % 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn converts_the_hubs_html_schedules() {
        let html = "<ul><li>- lundi matin: 8h30-12h / lundi après-midi: 13h30-17h<br>\n</li><li>- mardi matin: 8h30-12h / mardi après-midi: 13h30-17h<br>\n</li><li>- mercredi matin: 8h30-12h / mercredi après-midi: 13h30-17h<br>\n</li><li>- jeudi matin: 8h30-12h / jeudi après-midi: 13h30-17h<br>\n</li><li>- vendredi matin: 8h30-12h / vendredi après-midi: 13h30-17h<br>\n</li><li>- </li><li>- </li></ul>";
        assert_eq!(
            html_hours_to_osm(html).as_deref(),
            Some("Mo-Fr 08:30-12:00,13:30-17:00")
        );

        let html = "<ul><li>-  / lundi après-midi: 19h30-21h<br>\n</li><li>- </li><li>- </li><li>- </li><li>- </li><li>- samedi matin: 9h30-12h</li><li>- </li></ul>";
        assert_eq!(
            html_hours_to_osm(html).as_deref(),
            Some("Mo 19:30-21:00; Sa 09:30-12:00")
        );

        // Touching ranges merge.
        let html = "<li>- lundi matin: 9h-12h / lundi après-midi: 12h-18h</li><li>- mardi matin: 9h-12h / mardi après-midi: 12h-18h</li>";
        assert_eq!(
            html_hours_to_osm(html).as_deref(),
            Some("Mo-Tu 09:00-18:00")
        );

        assert_eq!(html_hours_to_osm("<ul><li>- </li></ul>"), None);
        assert_eq!(html_hours_to_osm("<li>lundi matin: 14h-9h</li>"), None);
    }

    #[test]
    fn reads_day_cells() {
        assert_eq!(
            day_ranges("09:00 - 12:00 / 13:30 - 17:00"),
            Some(vec![(540, 720), (810, 1020)])
        );
        assert_eq!(
            day_ranges("9h-12h et 14h-17h30"),
            Some(vec![(540, 720), (840, 1050)])
        );
        assert_eq!(day_ranges("8h30 à 12h"), Some(vec![(510, 720)]));
        assert_eq!(
            day_ranges("00:00 - 00:00 / 09:00 - 12:00"),
            Some(vec![(540, 720)])
        );
        assert_eq!(day_ranges(" "), Some(vec![]));
        assert_eq!(day_ranges("Fermé"), Some(vec![]));
        assert_eq!(day_ranges("sur rendez-vous"), None);
        assert_eq!(day_ranges("14:00 - 09:00"), None);
        assert_eq!(day_ranges("09:00 - 25:00"), None);
        assert_eq!(day_ranges("09:75 - 12:00"), None);
    }

    #[test]
    fn groups_equal_days() {
        let mut week = Week::default();
        for day in &mut week[..5] {
            day.push((540, 720));
        }
        week[4].push((840, 1020));
        week[5].push((540, 720));
        assert_eq!(
            week_to_osm(week).as_deref(),
            Some("Mo-Th 09:00-12:00; Fr 09:00-12:00,14:00-17:00; Sa 09:00-12:00")
        );
        assert_eq!(week_to_osm(Week::default()), None);
    }

    #[test]
    fn names_days() {
        assert_eq!(day_index("Lundi"), Some(0));
        assert_eq!(day_index("su"), Some(6));
        assert_eq!(day_index("lun"), None);
    }
}
