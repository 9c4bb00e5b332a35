//! A hand-written validator for the common subset of the OpenStreetMap `opening_hours`
//! syntax used by the standard's `horaires` field.
//!
//! Supported: `24/7`; rules separated by `;`, `,` (when it cannot continue a list) or `||`;
//! year ranges (`2024`, `2023-2025/2`, `2024+`); month and month-day ranges (`Jan-Mar`,
//! `Dec 24-26`, `Dec 24-Jan 02`); week selectors (`week 01-53/2`, `week 1,3`); weekdays
//! `Mo`…`Su` with ranges, lists and nth occurrences (`Mo[1]`, `Su[-1]`, `Fr[1-2]`); holidays
//! `PH` and `SH`; time ranges `HH:MM-HH:MM` with lists, open ends (`10:00+`), ends past
//! midnight up to `48:00`, and the variable times `sunrise`, `sunset`, `dawn`, `dusk`
//! (optionally with an offset, `(sunset-01:00)`); the modifiers `open`, `closed`, `off`,
//! `unknown`; quoted comments.
//!
//! Deliberately rejected: single time points without an end (`Sa 17:00`: valid for
//! `collection_times`, meaningless as an opening period), hours without minutes (`14-17`),
//! chained ranges (`09:00-12:30-13:45`), and anything else (HTML, French free text…).

use std::fmt;

use maillage_core::{lang::t, tr};

/// Why a string is not valid `opening_hours`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpeningHoursError {
    /// 1-based character position where the text stopped making sense.
    pub position: usize,
    /// What the parser expected there, in the language current when it was parsed.
    pub expected: String,
    /// What it found (a short excerpt, or `fin du texte` / `end of text`).
    pub found: String,
}

impl fmt::Display for OpeningHoursError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (position, expected, found) = (self.position, &self.expected, &self.found);
        f.write_str(&tr!(
            "au caractère {position} : attendu {expected}, trouvé {found}",
            "at character {position}: expected {expected}, found {found}"
        ))
    }
}

impl std::error::Error for OpeningHoursError {}

/// Validates an OpenStreetMap `opening_hours` value (see the module documentation for the
/// supported subset).
///
/// # Errors
/// An [`OpeningHoursError`] locating the first problem.
pub fn validate_opening_hours(input: &str) -> Result<(), OpeningHoursError> {
    Parser {
        chars: input.chars().collect(),
        pos: 0,
    }
    .time_domain()
}

type Res<T = ()> = Result<T, OpeningHoursError>;

const WEEKDAYS: [&str; 7] = ["Mo", "Tu", "We", "Th", "Fr", "Sa", "Su"];
const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];
const VARIABLE_TIMES: [&str; 4] = ["sunrise", "sunset", "dawn", "dusk"];
const MODIFIERS: [&str; 4] = ["open", "closed", "off", "unknown"];
/// What a rule looks like, for errors.
fn rule_example() -> &'static str {
    t(
        "une règle comme \"Mo-Fr 09:00-12:00,14:00-18:00\"",
        "a rule such as \"Mo-Fr 09:00-12:00,14:00-18:00\"",
    )
}

struct Parser {
    chars: Vec<char>,
    pos: usize,
}

impl Parser {
    // -- low-level helpers ------------------------------------------------------------------

    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    fn peek_at(&self, offset: usize) -> Option<char> {
        self.chars.get(self.pos + offset).copied()
    }

    fn at_end(&self) -> bool {
        self.pos >= self.chars.len()
    }

    fn starts_with(&self, s: &str) -> bool {
        s.chars()
            .enumerate()
            .all(|(i, c)| self.peek_at(i) == Some(c))
    }

    fn eat(&mut self, s: &str) -> bool {
        if self.starts_with(s) {
            self.pos += s.chars().count();
            true
        } else {
            false
        }
    }

    /// `w` at the cursor, not followed by a letter.
    fn at_word(&self, w: &str) -> bool {
        let len = w.chars().count();
        self.starts_with(w) && !self.peek_at(len).is_some_and(char::is_alphabetic)
    }

    fn skip_ws(&mut self) {
        while self.peek().is_some_and(char::is_whitespace) {
            self.pos += 1;
        }
    }

    fn digits_at(&self, offset: usize) -> usize {
        let mut n = 0;
        while self.peek_at(offset + n).is_some_and(|c| c.is_ascii_digit()) {
            n += 1;
        }
        n
    }

    fn number(&mut self, max_digits: usize, what: &str) -> Res<u32> {
        let n = self.digits_at(0);
        if n == 0 || n > max_digits {
            return Err(self.error(what));
        }
        let text: String = self.chars[self.pos..self.pos + n].iter().collect();
        self.pos += n;
        text.parse().map_err(|_| self.error(what))
    }

    fn error(&self, expected: impl Into<String>) -> OpeningHoursError {
        self.error_at(self.pos, expected)
    }

    fn error_at(&self, pos: usize, expected: impl Into<String>) -> OpeningHoursError {
        let excerpt: String = self.chars.iter().skip(pos).take(20).collect();
        let found = if excerpt.is_empty() {
            t("fin du texte", "end of text").to_owned()
        } else if self.chars.len() > pos + 20 {
            format!("{:?}", format!("{excerpt}…"))
        } else {
            format!("{excerpt:?}")
        };
        OpeningHoursError {
            position: pos + 1,
            expected: expected.into(),
            found,
        }
    }

    /// After a list element: consumes `,` (and spaces) when the next element satisfies `at`.
    fn list_continues(&mut self, at: fn(&Self) -> bool) -> bool {
        let save = self.pos;
        self.skip_ws();
        if self.eat(",") {
            self.skip_ws();
            if at(self) {
                return true;
            }
        }
        self.pos = save;
        false
    }

    // -- grammar ----------------------------------------------------------------------------

    fn time_domain(&mut self) -> Res {
        loop {
            self.skip_ws();
            if self.at_end() {
                return Err(self.error(rule_example()));
            }
            self.rule()?;
            self.skip_ws();
            if self.at_end() {
                return Ok(());
            }
            if !(self.eat("||") || self.eat(";") || self.eat(",")) {
                return Err(self.error(t(
                    "\";\" entre deux règles, ou la fin du texte",
                    "\";\" between two rules, or the end of the text",
                )));
            }
        }
    }

    fn rule(&mut self) -> Res {
        if self.eat("24/7") {
            self.skip_ws();
            self.modifier_and_comment()?;
            return Ok(());
        }
        let start = self.pos;
        let wide = self.wide_range_selectors()?;
        if wide {
            self.skip_ws();
            self.eat(":");
            self.skip_ws();
        }
        let weekdays = self.at_weekday_or_holiday();
        if weekdays {
            self.weekday_selector()?;
            self.skip_ws();
        }
        let times = Self::at_time(self);
        if times {
            self.time_selector()?;
            self.skip_ws();
        }
        let modifier = self.modifier_and_comment()?;
        if wide || weekdays || times || modifier {
            Ok(())
        } else {
            Err(self.error_at(start, rule_example()))
        }
    }

    fn wide_range_selectors(&mut self) -> Res<bool> {
        let mut any = false;
        if self.at_year() {
            self.year_selector()?;
            self.skip_ws();
            any = true;
        }
        if self.at_month() {
            self.month_selector()?;
            self.skip_ws();
            any = true;
        }
        if self.at_word("week") {
            self.week_selector()?;
            self.skip_ws();
            any = true;
        }
        Ok(any)
    }

    fn modifier_and_comment(&mut self) -> Res<bool> {
        let mut any = false;
        if let Some(m) = MODIFIERS.iter().find(|m| self.at_word(m)) {
            self.eat(m);
            any = true;
            self.skip_ws();
        }
        if self.peek() == Some('"') {
            self.comment()?;
            any = true;
        }
        Ok(any)
    }

    fn comment(&mut self) -> Res {
        let open = self.pos;
        self.pos += 1;
        while let Some(c) = self.peek() {
            self.pos += 1;
            if c == '"' {
                return Ok(());
            }
        }
        Err(self.error_at(
            open,
            t("un commentaire fermé par '\"'", "a comment closed by '\"'"),
        ))
    }

    // years

    fn at_year(&self) -> bool {
        self.digits_at(0) == 4 && self.peek_at(4) != Some(':')
    }

    fn year_selector(&mut self) -> Res {
        loop {
            let first = self.year()?;
            if self.eat("-") {
                let last = self.year()?;
                if last < first {
                    return Err(self.error(t(
                        "une plage d'années en ordre croissant",
                        "a year range in increasing order",
                    )));
                }
                if self.eat("/") {
                    self.number(
                        3,
                        t(
                            "un intervalle d'années après \"/\"",
                            "a year interval after \"/\"",
                        ),
                    )?;
                }
            } else {
                self.eat("+");
            }
            if !self.list_continues(Self::at_year) {
                return Ok(());
            }
        }
    }

    fn year(&mut self) -> Res<u32> {
        let start = self.pos;
        let y = self.number(4, t("une année (4 chiffres)", "a year (4 digits)"))?;
        if (1900..=2100).contains(&y) {
            Ok(y)
        } else {
            Err(self.error_at(
                start,
                t(
                    "une année entre 1900 et 2100",
                    "a year between 1900 and 2100",
                ),
            ))
        }
    }

    // months

    fn at_month(&self) -> bool {
        MONTHS.iter().any(|m| self.at_word(m))
    }

    fn month(&mut self) -> Res {
        match MONTHS.iter().find(|m| self.at_word(m)) {
            Some(m) => {
                self.eat(m);
                Ok(())
            }
            None => Err(self.error(t("un mois (Jan, Feb … Dec)", "a month (Jan, Feb … Dec)"))),
        }
    }

    fn at_daynum(&self) -> bool {
        let n = self.digits_at(0);
        (1..=2).contains(&n) && self.peek_at(n) != Some(':')
    }

    fn daynum(&mut self) -> Res {
        let start = self.pos;
        let d = self.number(2, t("un jour du mois", "a day of the month"))?;
        if (1..=31).contains(&d) {
            Ok(())
        } else {
            Err(self.error_at(
                start,
                t(
                    "un jour du mois entre 1 et 31",
                    "a day of the month between 1 and 31",
                ),
            ))
        }
    }

    /// An optional day number after a month (`Dec 24`).
    fn optional_daynum(&mut self) -> Res {
        let save = self.pos;
        self.skip_ws();
        if self.at_daynum() {
            self.daynum()
        } else {
            self.pos = save;
            Ok(())
        }
    }

    fn month_selector(&mut self) -> Res {
        loop {
            self.month()?;
            self.optional_daynum()?;
            if self.eat("-") {
                self.skip_ws();
                if self.at_month() {
                    self.month()?;
                    self.optional_daynum()?;
                } else if self.at_daynum() {
                    self.daynum()?;
                } else {
                    return Err(self.error(t(
                        "un mois ou un numéro de jour après \"-\"",
                        "a month or a day number after \"-\"",
                    )));
                }
            }
            if !self.list_continues(Self::at_month) {
                return Ok(());
            }
        }
    }

    // weeks

    fn week_selector(&mut self) -> Res {
        self.eat("week");
        self.skip_ws();
        loop {
            self.week_number()?;
            if self.eat("-") {
                self.week_number()?;
                if self.eat("/") {
                    let start = self.pos;
                    let step = self.number(
                        2,
                        t(
                            "un intervalle de semaines après \"/\"",
                            "a week interval after \"/\"",
                        ),
                    )?;
                    if !(1..=53).contains(&step) {
                        return Err(self.error_at(
                            start,
                            t(
                                "un intervalle de semaines entre 1 et 53",
                                "a week interval between 1 and 53",
                            ),
                        ));
                    }
                }
            }
            if !self.list_continues(|p| p.digits_at(0) > 0) {
                return Ok(());
            }
        }
    }

    fn week_number(&mut self) -> Res {
        let start = self.pos;
        let w = self.number(
            2,
            t("un numéro de semaine (01 à 53)", "a week number (01 to 53)"),
        )?;
        if (1..=53).contains(&w) {
            Ok(())
        } else {
            Err(self.error_at(
                start,
                t(
                    "un numéro de semaine entre 01 et 53",
                    "a week number between 01 and 53",
                ),
            ))
        }
    }

    // weekdays and holidays

    fn at_weekday(&self) -> bool {
        WEEKDAYS.iter().any(|d| self.at_word(d))
    }

    fn at_holiday(&self) -> bool {
        self.at_word("PH") || self.at_word("SH")
    }

    fn at_weekday_or_holiday(&self) -> bool {
        self.at_weekday() || self.at_holiday()
    }

    fn weekday(&mut self) -> Res {
        match WEEKDAYS.iter().find(|d| self.at_word(d)) {
            Some(d) => {
                self.eat(d);
                Ok(())
            }
            None => Err(self.error(t(
                "un jour de la semaine (Mo, Tu, We, Th, Fr, Sa, Su)",
                "a weekday (Mo, Tu, We, Th, Fr, Sa, Su)",
            ))),
        }
    }

    fn weekday_selector(&mut self) -> Res {
        loop {
            let holiday = self.at_holiday();
            if holiday {
                self.pos += 2;
            } else {
                self.weekday_range()?;
            }
            if self.list_continues(Self::at_weekday_or_holiday) {
                continue;
            }
            // `PH Mo-Fr`: holidays then weekdays separated by a space.
            let save = self.pos;
            self.skip_ws();
            if holiday && self.at_weekday() {
                continue;
            }
            self.pos = save;
            return Ok(());
        }
    }

    fn weekday_range(&mut self) -> Res {
        self.weekday()?;
        if self.peek() == Some('[') {
            return self.nth_list();
        }
        if self.eat("-") {
            return self.weekday().map_err(|_| {
                self.error(t(
                    "un jour de la semaine (Mo, Tu, We, Th, Fr, Sa, Su) après \"-\"",
                    "a weekday (Mo, Tu, We, Th, Fr, Sa, Su) after \"-\"",
                ))
            });
        }
        Ok(())
    }

    fn nth_list(&mut self) -> Res {
        self.eat("[");
        loop {
            let negative = self.eat("-");
            self.nth()?;
            if !negative && self.eat("-") {
                self.nth()?;
            }
            if self.eat("]") {
                return Ok(());
            }
            if !self.eat(",") {
                return Err(self.error(t(
                    "\",\" ou \"]\" dans la liste des n-ièmes jours",
                    "\",\" or \"]\" in the nth-weekday list",
                )));
            }
        }
    }

    fn nth(&mut self) -> Res {
        match self.peek() {
            Some('1'..='5') if !self.peek_at(1).is_some_and(|c| c.is_ascii_digit()) => {
                self.pos += 1;
                Ok(())
            }
            _ => Err(self.error(t(
                "un numéro d'occurrence entre 1 et 5",
                "an occurrence number between 1 and 5",
            ))),
        }
    }

    // times

    fn at_time(&self) -> bool {
        self.peek().is_some_and(|c| c.is_ascii_digit())
            || VARIABLE_TIMES.iter().any(|v| self.at_word(v))
            || (self.peek() == Some('(')
                && VARIABLE_TIMES
                    .iter()
                    .any(|v| self.starts_with(&format!("({v}"))))
    }

    fn time_selector(&mut self) -> Res {
        loop {
            self.timespan()?;
            if !self.list_continues(Self::at_time) {
                return Ok(());
            }
        }
    }

    fn timespan(&mut self) -> Res {
        let start = self.pos;
        self.time(false)?;
        if self.eat("+") {
            return Ok(());
        }
        if !self.eat("-") {
            let shown: String = self.chars[start..self.pos].iter().collect();
            return Err(self.error(tr!(
                "\"-\" et une heure de fin après {shown} (une heure seule n'est pas une période \
                 d'ouverture)",
                "\"-\" and an end time after {shown} (a single time point is not an opening period)"
            )));
        }
        self.time(true)?;
        self.eat("+");
        if self.peek() == Some('-') {
            return Err(self.error(t(
                "\",\" entre deux plages horaires (HH:MM-HH:MM,HH:MM-HH:MM) ou la fin de la plage",
                "\",\" between two time ranges (HH:MM-HH:MM,HH:MM-HH:MM) or the end of the range",
            )));
        }
        Ok(())
    }

    /// `HH:MM` (up to 24:00, or 48:00 for an end time) or a variable time.
    fn time(&mut self, end: bool) -> Res {
        if self.variable_time()? {
            return Ok(());
        }
        let start = self.pos;
        let expected = if end {
            t("une heure de fin HH:MM", "an end time HH:MM")
        } else {
            t("une heure HH:MM", "a time HH:MM")
        };
        if self.digits_at(0) != 2 || self.peek_at(2) != Some(':') || self.digits_at(3) != 2 {
            return Err(self.error_at(start, expected));
        }
        let hour = self.number(2, expected)?;
        self.eat(":");
        let minute = self.number(2, expected)?;
        let max_hour = if end { 48 } else { 24 };
        if minute > 59 || hour > max_hour || (hour == max_hour && minute > 0) {
            let range = if end {
                t(
                    "une heure de fin entre 00:00 et 48:00",
                    "an end time between 00:00 and 48:00",
                )
            } else {
                t(
                    "une heure entre 00:00 et 24:00",
                    "a time between 00:00 and 24:00",
                )
            };
            return Err(self.error_at(start, range));
        }
        Ok(())
    }

    /// `sunrise`, `(sunset-01:00)`…: true when one was consumed.
    fn variable_time(&mut self) -> Res<bool> {
        if let Some(v) = VARIABLE_TIMES.iter().find(|v| self.at_word(v)) {
            self.eat(v);
            return Ok(true);
        }
        if self.peek() != Some('(') {
            return Ok(false);
        }
        self.eat("(");
        if let Some(v) = VARIABLE_TIMES.iter().find(|v| self.at_word(v)) {
            self.eat(v);
        } else {
            return Err(self.error(t(
                "sunrise, sunset, dawn ou dusk",
                "sunrise, sunset, dawn or dusk",
            )));
        }
        if !(self.eat("+") || self.eat("-")) {
            return Err(self.error(t(
                "\"+\" ou \"-\" et un décalage HH:MM",
                "\"+\" or \"-\" and an offset HH:MM",
            )));
        }
        self.time(false)?;
        if self.eat(")") {
            Ok(true)
        } else {
            Err(self.error("\")\""))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const VALID: &[&str] = &[
        "24/7",
        "Mo-Fr 09:00-12:00,14:00-18:30; Sa 08:30-12:00",
        "Mo-Fr 08:30-12:30,13:30-17:00",
        "We-Sa 10:00-12:00,14:00-19:00; Tu,Th 14:00-19:00",
        "Mo-Fr 08:30-12:00; We off",
        "Mo-Fr 09:30-12:00; Tu,We off",
        "Fr 19:00-11:00",
        "Tu 14:00-16:00; Th 01:00-12:00,17:00-18:30; Sa 10:00-12:00",
        "09:00-12:00,14:00-17:30",
        "Mo 13:30-17:30;Tu 08:30-12:15,13:30-17:30;We 08:30-12:15,13:30-17:30",
        "Mo 09:00-12:00,14:00-18:00;Tu 09:00-12:00,09:00-18:00",
        "Tu-Fr 10:00-19:00; Sa 10:00-18:14,18:10-19:00",
        "Mo 09:30-12:30,13:30-15:30; PH off",
        "week 1-53/2 Tu 09:00-12:30,13:30-15:30; PH off",
        "week 2-52/2 We 09:30-12:30,13:30-15:30; PH off",
        "week 01-53/2 Fr 13:30-16:30",
        "week 1,3,5 Mo 10:00-12:00",
        "Mo-Su 00:00-24:00",
        "Mo-Fr 22:00-26:00",
        "Mo-Fr 10:00+",
        "Mo-Fr 08:00-12:00, 14:00-18:00",
        "Mo[1] 09:00-12:00",
        "Su[-1] 10:00-12:00",
        "Fr[1,3] 14:00-16:00",
        "Sa[1-2] 10:00-12:00",
        "PH,Sa off",
        "Sa,PH off",
        "PH Mo-Fr 10:00-12:00",
        "SH Mo-Fr 10:00-12:00; PH off",
        "Jan-Mar Mo-Fr 10:00-12:00",
        "Jan-Mar: Mo-Fr 10:00-12:00",
        "Dec 24-26 off",
        "Dec 24 10:00-12:00",
        "Dec 24-Jan 02 off",
        "Jul,Aug off",
        "2024 Jan-Jun Mo 10:00-12:00",
        "2023-2025/2 Mo 10:00-12:00",
        "2024+ Mo 10:00-12:00",
        "Mo-Fr 09:00-12:00 \"sur rendez-vous\"",
        "\"sur rendez-vous\"",
        "Mo-Fr 08:00-12:00 || \"sur rendez-vous\"",
        "Mo-Fr 09:00-18:00 open",
        "unknown",
        "off",
        "Mo-Fr closed",
        "Mo-Fr",
        "sunrise-sunset",
        "Mo-Fr (sunrise+01:00)-(sunset-01:00)",
        "Mo 10:00-12:00, We 14:00-16:00",
        "24/7 \"sauf travaux\"",
    ];

    const INVALID: &[&str] = &[
        "",
        "   ",
        "Mo 09:00-12:30-13:45",
        "We,Th 12:00-14:00-17:00; Mo 09:00-12:00,14:00-17:00",
        "Mo-Fr 09:00-19:00; Sa 17:00",
        "Tu-Fr 09:00-12:00,14:00-17:00; Mo 14-17;9-12,14-17",
        "Tu-Fr 10:00-19:00; Th 14-18:10-19; Sa 10:00-18:14,18:10-19:00",
        "Mo-Th 09:00-12:00,13:00-18:00; Fr 09:00-13:00,13:00-18:00; Sa 10:00",
        "<ul><li>- lundi matin: 8h30-12h</li></ul>",
        "du lundi au vendredi de 9h à 12h",
        "Lundi 9h-12h",
        "Mo 9:00-12:00",
        "Mo 25:00-26:00",
        "Mo 10:00-49:00",
        "Mo 10:60-11:00",
        "Mo 24:30-25:00",
        "mo 10:00-12:00",
        "Monday 10:00-12:00",
        "Mo-Fr 09:00-12:00;",
        "Mo-Fr 09:00-12:00;;Sa 10:00-12:00",
        "Mo- 10:00-12:00",
        "Mo[6] 10:00-12:00",
        "Mo[1 10:00-12:00",
        "week 54 Mo 10:00-12:00",
        "week 1-53/0 Mo 10:00-12:00",
        "Dec 32 off",
        "1800 Mo 10:00-12:00",
        "Mo 10:00-12:00 \"unterminated",
        "Mo 10:00-12:00 foo",
        "Mo 10:00-12:00 | Tu 10:00-12:00",
        "(sunrise 01:00)-12:00",
        "24/7 Mo",
    ];

    #[test]
    fn accepts_valid_expressions() {
        for s in VALID {
            assert_eq!(validate_opening_hours(s), Ok(()), "{s}");
        }
    }

    #[test]
    fn rejects_invalid_expressions() {
        for s in INVALID {
            assert!(validate_opening_hours(s).is_err(), "{s}");
        }
    }

    #[test]
    fn errors_are_located_and_explained() {
        let e = validate_opening_hours("Mo 09:00-12:30-13:45").err();
        let Some(e) = e else { panic!("accepted") };
        assert_eq!(e.position, 15);
        assert!(e.expected.contains("entre deux plages horaires"), "{e}");
        assert_eq!(e.found, "\"-13:45\"");

        let e = validate_opening_hours("Mo-Fr 09:00-19:00; Sa 17:00").err();
        assert!(
            e.is_some_and(|e| e.expected.contains("une heure seule") && e.found == "fin du texte")
        );

        let e = validate_opening_hours("Mo 14-17").err();
        assert!(e.is_some_and(|e| e.position == 4 && e.expected == "une heure HH:MM"));

        let e = validate_opening_hours("lundi 9h-12h").err();
        assert!(e.is_some_and(|e| {
            e.position == 1
                && e.to_string()
                    .starts_with("au caractère 1 : attendu une règle")
        }));
    }
}
