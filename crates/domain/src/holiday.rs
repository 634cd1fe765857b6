//! Holiday rules, computed for any supported year, and the Ontario sets shipped by default.
//!
//! A [`HolidayRule`] names a holiday (English and French), says on which date it falls each
//! year ([`DateRule`]) and where it is observed when that date is a Saturday or a Sunday
//! ([`Observance`]). [`holidays_in_year`] lists a year's holidays with both dates, for an
//! administrator's page; calendars use the observed dates.
//!
//! Observed-day substitution is resolved in date order over the holidays of three consecutive
//! years, so that chains work across a year end: a holiday whose own date is kept occupies
//! that date first, then each moved holiday, earliest first, takes the first weekday (Monday
//! to Friday) in its direction that no other holiday occupies. Christmas on a Saturday and
//! Boxing Day on a Sunday are thus observed on Monday 27 and Tuesday 28; Christmas on a Sunday
//! with Boxing Day on the Monday puts Christmas on Tuesday 27.
use std::borrow::Cow;
use std::collections::BTreeSet;
use std::fmt;

use jiff::ToSpan;
use jiff::civil::{Date, Weekday};
use serde::{Deserialize, Serialize};

use crate::calendar::{CalendarError, DayOfWeek, FIRST_SUPPORTED_YEAR, LAST_SUPPORTED_YEAR};

/// The most days a holiday may be set from Easter Sunday (Pentecost is +49, Ash Wednesday −46).
pub const MAX_EASTER_OFFSET_DAYS: i16 = 120;

/// On which date a holiday falls in a given year.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum DateRule {
    /// The same month and day every year (`{"kind":"fixed","month":12,"day":25}`). February 29
    /// is refused: the holiday would not exist in most years.
    Fixed { month: i8, day: i8 },
    /// The `nth` given weekday of the month: 1 to 4 count from the start, −1 to −4 from the
    /// end (−1 is the last). `{"kind":"nth_weekday","month":2,"weekday":"mon","nth":3}` is the
    /// third Monday of February.
    NthWeekday {
        month: i8,
        weekday: DayOfWeek,
        nth: i8,
    },
    /// The last given weekday strictly before a month and day:
    /// `{"kind":"weekday_before","weekday":"mon","month":5,"day":25}` is Victoria Day
    /// (May 18 to 24).
    WeekdayBefore {
        weekday: DayOfWeek,
        month: i8,
        day: i8,
    },
    /// Days after (negative: before) Easter Sunday of the Gregorian calendar:
    /// `{"kind":"easter","offset_days":-2}` is Good Friday.
    Easter { offset_days: i16 },
}

impl DateRule {
    /// The date this rule gives in `year`.
    pub fn date_in(self, year: i16) -> Result<Date, CalendarError> {
        let out_of_range = |_| CalendarError::OutOfRange { field: "year" };
        match self {
            DateRule::Fixed { month, day } => Date::new(year, month, day).map_err(out_of_range),
            DateRule::NthWeekday {
                month,
                weekday,
                nth,
            } => Date::new(year, month, 1)
                .and_then(|first| first.nth_weekday_of_month(nth, weekday.to_jiff()))
                .map_err(out_of_range),
            DateRule::WeekdayBefore {
                weekday,
                month,
                day,
            } => {
                let limit = Date::new(year, month, day).map_err(out_of_range)?;
                let mut back = i64::from(limit.weekday().since(weekday.to_jiff()));
                if back == 0 {
                    back = 7;
                }
                limit.checked_sub(back.days()).map_err(out_of_range)
            }
            DateRule::Easter { offset_days } => easter_sunday(year)?
                .checked_add(i64::from(offset_days).days())
                .map_err(out_of_range),
        }
    }

    /// Why the rule can never give a date, if it cannot.
    fn problem(self) -> Option<&'static str> {
        let valid_month_day = |month: i8, day: i8| Date::new(2001, month, day).is_ok();
        match self {
            DateRule::Fixed { month, day } | DateRule::WeekdayBefore { month, day, .. } => {
                (!valid_month_day(month, day)).then_some("invalid_month_day")
            }
            DateRule::NthWeekday { month, nth, .. } => {
                if !(1..=12).contains(&month) {
                    Some("invalid_month_day")
                } else if !matches!(nth, 1..=4 | -4..=-1) {
                    Some("invalid_nth")
                } else {
                    None
                }
            }
            DateRule::Easter { offset_days } => (offset_days.unsigned_abs()
                > MAX_EASTER_OFFSET_DAYS.unsigned_abs())
            .then_some("invalid_easter_offset"),
        }
    }
}

/// Where a holiday is observed when its date falls on a weekend.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Observance {
    /// On its own date, whatever the weekday.
    SameDay,
    /// Saturday or Sunday: on the next weekday that is not itself a holiday. The default for
    /// [`DateRule::Fixed`].
    NextWeekday,
    /// Saturday: on the previous weekday that is not itself a holiday; Sunday: on the next.
    NearestWeekday,
}

/// One holiday: its names, its date each year and where it is observed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HolidayRule {
    pub name_en: String,
    pub name_fr: String,
    pub date: DateRule,
    /// Weekend substitution; when absent, [`Observance::NextWeekday`] for fixed dates and
    /// [`Observance::SameDay`] for the others (which fall on a weekday by construction).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed: Option<Observance>,
}

impl HolidayRule {
    fn new(name_en: &str, name_fr: &str, date: DateRule) -> Self {
        Self {
            name_en: name_en.to_owned(),
            name_fr: name_fr.to_owned(),
            date,
            observed: None,
        }
    }

    /// The substitution in force: the explicit one, or the default for the kind of date.
    pub fn observance(&self) -> Observance {
        self.observed.unwrap_or(match self.date {
            DateRule::Fixed { .. } => Observance::NextWeekday,
            _ => Observance::SameDay,
        })
    }
}

/// A holiday as it falls in one year.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ObservedHoliday {
    pub name_en: String,
    pub name_fr: String,
    /// The date the rule gives.
    pub date: Date,
    /// The date on which it is observed (equal to `date` unless substituted).
    pub observed: Date,
}

/// Most holiday rules a calendar may carry.
pub const MAX_HOLIDAY_RULES: usize = 100;
const MAX_HOLIDAY_NAME_CHARS: usize = 100;

/// Check rules given by an administrator.
pub fn validate_rules(rules: &[HolidayRule]) -> Result<(), CalendarError> {
    if rules.len() > MAX_HOLIDAY_RULES {
        return Err(CalendarError::TooManyHolidayRules);
    }
    for (index, rule) in rules.iter().enumerate() {
        let bad_name = |name: &str| {
            name.trim().is_empty()
                || name.chars().count() > MAX_HOLIDAY_NAME_CHARS
                || name.chars().any(char::is_control)
        };
        if bad_name(&rule.name_en) || bad_name(&rule.name_fr) {
            return Err(CalendarError::InvalidHolidayRule {
                index,
                reason: "invalid_name",
            });
        }
        if let Some(reason) = rule.date.problem() {
            return Err(CalendarError::InvalidHolidayRule { index, reason });
        }
    }
    Ok(())
}

/// Gregorian Easter Sunday of `year` (the anonymous Gregorian computus).
pub fn easter_sunday(year: i16) -> Result<Date, CalendarError> {
    let y = i32::from(year);
    let a = y.rem_euclid(19);
    let b = y.div_euclid(100);
    let c = y.rem_euclid(100);
    let d = b.div_euclid(4);
    let e = b.rem_euclid(4);
    let f = (b + 8).div_euclid(25);
    let g = (b - f + 1).div_euclid(3);
    let h = (19 * a + b - d - g + 15).rem_euclid(30);
    let i = c.div_euclid(4);
    let k = c.rem_euclid(4);
    let l = (32 + 2 * e + 2 * i - h - k).rem_euclid(7);
    let m = (a + 11 * h + 22 * l).div_euclid(451);
    let n = h + l - 7 * m + 114;
    // n / 31 is 3 or 4 and n % 31 + 1 is at most 31: both fit an i8.
    let month = i8::try_from(n.div_euclid(31)).unwrap_or(4);
    let day = i8::try_from(n.rem_euclid(31) + 1).unwrap_or(1);
    Date::new(year, month, day).map_err(|_| CalendarError::OutOfRange { field: "year" })
}

/// The holidays whose own date falls in `year`, in date order, with their observed dates.
/// `year` must lie within the supported years.
pub fn holidays_in_year(
    rules: &[HolidayRule],
    year: i16,
) -> Result<Vec<ObservedHoliday>, CalendarError> {
    check_year(year)?;
    let mut list = resolve_window(rules, year)?;
    list.retain(|holiday| holiday.date.year() == year);
    Ok(list)
}

/// The holidays observed on a date of `year` (whatever year their own date is in), in
/// observed-date order.
pub(crate) fn observed_during_year(
    rules: &[HolidayRule],
    year: i16,
) -> Result<Vec<ObservedHoliday>, CalendarError> {
    check_year(year)?;
    let mut list = resolve_window(rules, year)?;
    list.retain(|holiday| holiday.observed.year() == year);
    list.sort_by_key(|holiday| holiday.observed);
    Ok(list)
}

fn check_year(year: i16) -> Result<(), CalendarError> {
    if (FIRST_SUPPORTED_YEAR..=LAST_SUPPORTED_YEAR).contains(&year) {
        Ok(())
    } else {
        Err(CalendarError::OutOfRange { field: "year" })
    }
}

fn is_weekend(date: Date) -> bool {
    matches!(date.weekday(), Weekday::Saturday | Weekday::Sunday)
}

/// Observed dates of the holidays of `year - 1` to `year + 1`, in order of their own dates.
fn resolve_window(rules: &[HolidayRule], year: i16) -> Result<Vec<ObservedHoliday>, CalendarError> {
    let mut dated = Vec::with_capacity(rules.len() * 3);
    for y in year - 1..=year + 1 {
        for (index, rule) in rules.iter().enumerate() {
            dated.push((rule.date.date_in(y)?, index));
        }
    }
    dated.sort_unstable();
    let moves = |date: Date, rule: &HolidayRule| {
        is_weekend(date) && rule.observance() != Observance::SameDay
    };
    let mut occupied: BTreeSet<Date> = dated
        .iter()
        .filter(|(date, index)| !moves(*date, &rules[*index]))
        .map(|(date, _)| *date)
        .collect();
    let out_of_range = |_| CalendarError::OutOfRange { field: "year" };
    let mut list = Vec::with_capacity(dated.len());
    for (date, index) in dated {
        let rule = &rules[index];
        let observed = if moves(date, rule) {
            let backwards = rule.observance() == Observance::NearestWeekday
                && date.weekday() == Weekday::Saturday;
            let mut candidate = date;
            loop {
                candidate = if backwards {
                    candidate.yesterday().map_err(out_of_range)?
                } else {
                    candidate.tomorrow().map_err(out_of_range)?
                };
                if !is_weekend(candidate) && !occupied.contains(&candidate) {
                    break;
                }
            }
            occupied.insert(candidate);
            candidate
        } else {
            date
        };
        list.push(ObservedHoliday {
            name_en: rule.name_en.clone(),
            name_fr: rule.name_fr.clone(),
            date,
            observed,
        });
    }
    Ok(list)
}

/// A shipped set of holiday rules, named in calendar files.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HolidaySetName {
    /// No holidays (`"none"`).
    None,
    /// Ontario's nine statutory holidays (`"ontario-statutory"`).
    OntarioStatutory,
    /// The statutory holidays plus the operator's closures: Easter Monday, the Civic Holiday
    /// and Remembrance Day (`"ontario-operator"`).
    OntarioOperator,
}

impl HolidaySetName {
    /// Every shipped set.
    pub const ALL: [HolidaySetName; 3] = [
        HolidaySetName::None,
        HolidaySetName::OntarioStatutory,
        HolidaySetName::OntarioOperator,
    ];

    /// The name written in calendar files.
    pub fn as_str(self) -> &'static str {
        match self {
            HolidaySetName::None => "none",
            HolidaySetName::OntarioStatutory => "ontario-statutory",
            HolidaySetName::OntarioOperator => "ontario-operator",
        }
    }

    /// The set written `name` in calendar files.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|set| set.as_str() == name)
    }

    /// The rules of the set.
    pub fn rules(self) -> Vec<HolidayRule> {
        match self {
            HolidaySetName::None => Vec::new(),
            HolidaySetName::OntarioStatutory => ontario_statutory(),
            HolidaySetName::OntarioOperator => ontario_operator(),
        }
    }
}

impl fmt::Display for HolidaySetName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The holidays of a calendar: a shipped set by name (`"ontario-operator"`) or the rules
/// themselves (a JSON array of [`HolidayRule`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HolidayRules {
    Named(HolidaySetName),
    Custom(Vec<HolidayRule>),
}

impl Default for HolidayRules {
    fn default() -> Self {
        HolidayRules::Named(HolidaySetName::None)
    }
}

impl HolidayRules {
    /// The rules, a named set expanded.
    pub fn rules(&self) -> Cow<'_, [HolidayRule]> {
        match self {
            HolidayRules::Named(set) => Cow::Owned(set.rules()),
            HolidayRules::Custom(rules) => Cow::Borrowed(rules),
        }
    }
}

impl Serialize for HolidayRules {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            HolidayRules::Named(set) => serializer.serialize_str(set.as_str()),
            HolidayRules::Custom(rules) => rules.serialize(serializer),
        }
    }
}

impl<'de> Deserialize<'de> for HolidayRules {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = HolidayRules;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str(
                    "a holiday set name (\"none\", \"ontario-statutory\", \"ontario-operator\") \
                     or an array of holiday rules",
                )
            }
            fn visit_str<E: serde::de::Error>(self, name: &str) -> Result<Self::Value, E> {
                HolidaySetName::parse(name)
                    .map(HolidayRules::Named)
                    .ok_or_else(|| E::invalid_value(serde::de::Unexpected::Str(name), &self))
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                seq: A,
            ) -> Result<Self::Value, A::Error> {
                Vec::<HolidayRule>::deserialize(serde::de::value::SeqAccessDeserializer::new(seq))
                    .map(HolidayRules::Custom)
            }
        }
        deserializer.deserialize_any(Visitor)
    }
}

/// Ontario's statutory holidays.
pub fn ontario_statutory() -> Vec<HolidayRule> {
    use DateRule::*;
    use DayOfWeek::Mon;
    vec![
        HolidayRule::new("New Year's Day", "Jour de l'An", Fixed { month: 1, day: 1 }),
        HolidayRule::new(
            "Family Day",
            "Jour de la Famille",
            NthWeekday {
                month: 2,
                weekday: Mon,
                nth: 3,
            },
        ),
        HolidayRule::new("Good Friday", "Vendredi saint", Easter { offset_days: -2 }),
        HolidayRule::new(
            "Victoria Day",
            "Fête de la Reine",
            WeekdayBefore {
                weekday: Mon,
                month: 5,
                day: 25,
            },
        ),
        HolidayRule::new("Canada Day", "Fête du Canada", Fixed { month: 7, day: 1 }),
        HolidayRule::new(
            "Labour Day",
            "Fête du Travail",
            NthWeekday {
                month: 9,
                weekday: Mon,
                nth: 1,
            },
        ),
        HolidayRule::new(
            "Thanksgiving",
            "Action de grâce",
            NthWeekday {
                month: 10,
                weekday: Mon,
                nth: 2,
            },
        ),
        HolidayRule::new("Christmas Day", "Noël", Fixed { month: 12, day: 25 }),
        HolidayRule::new(
            "Boxing Day",
            "Lendemain de Noël",
            Fixed { month: 12, day: 26 },
        ),
    ]
}

/// Ontario's statutory holidays plus the operator's closures (Easter Monday, Civic Holiday,
/// Remembrance Day).
pub fn ontario_operator() -> Vec<HolidayRule> {
    use DateRule::*;
    let mut rules = ontario_statutory();
    rules.extend([
        HolidayRule::new(
            "Easter Monday",
            "Lundi de Pâques",
            Easter { offset_days: 1 },
        ),
        HolidayRule::new(
            "Civic Holiday",
            "Congé civique",
            NthWeekday {
                month: 8,
                weekday: DayOfWeek::Mon,
                nth: 1,
            },
        ),
        HolidayRule::new(
            "Remembrance Day",
            "Jour du Souvenir",
            Fixed { month: 11, day: 11 },
        ),
    ]);
    rules
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    fn observed(rules: &[HolidayRule], year: i16, name: &str) -> (Date, Date) {
        let list = holidays_in_year(rules, year).unwrap();
        let holiday = list.iter().find(|h| h.name_en == name).unwrap();
        (holiday.date, holiday.observed)
    }

    #[test]
    fn easter_sundays_are_known_values() {
        let known = [
            (2019, date(2019, 4, 21)),
            (2024, date(2024, 3, 31)),
            (2025, date(2025, 4, 20)),
            (2026, date(2026, 4, 5)),
            (2027, date(2027, 3, 28)),
            (2028, date(2028, 4, 16)),
            (2029, date(2029, 4, 1)),
            (2030, date(2030, 4, 21)),
            (2038, date(2038, 4, 25)),
            (2285, date(2285, 3, 22)),
            (1943, date(1943, 4, 25)),
            (2000, date(2000, 4, 23)),
        ];
        for (year, easter) in known {
            assert_eq!(easter_sunday(year).unwrap(), easter, "{year}");
        }
    }

    #[test]
    fn easter_is_always_a_sunday_between_march_22_and_april_25() {
        for year in FIRST_SUPPORTED_YEAR..=LAST_SUPPORTED_YEAR {
            let easter = easter_sunday(year).unwrap();
            assert_eq!(easter.weekday(), Weekday::Sunday);
            assert!(easter >= date(year, 3, 22) && easter <= date(year, 4, 25));
        }
    }

    #[test]
    fn ontario_2026_is_listed_with_both_names_and_dates() {
        let list = holidays_in_year(&ontario_operator(), 2026).unwrap();
        let rows: Vec<(&str, Date, Date)> = list
            .iter()
            .map(|h| (h.name_en.as_str(), h.date, h.observed))
            .collect();
        assert_eq!(
            rows,
            vec![
                ("New Year's Day", date(2026, 1, 1), date(2026, 1, 1)),
                ("Family Day", date(2026, 2, 16), date(2026, 2, 16)),
                ("Good Friday", date(2026, 4, 3), date(2026, 4, 3)),
                ("Easter Monday", date(2026, 4, 6), date(2026, 4, 6)),
                ("Victoria Day", date(2026, 5, 18), date(2026, 5, 18)),
                ("Canada Day", date(2026, 7, 1), date(2026, 7, 1)),
                ("Civic Holiday", date(2026, 8, 3), date(2026, 8, 3)),
                ("Labour Day", date(2026, 9, 7), date(2026, 9, 7)),
                ("Thanksgiving", date(2026, 10, 12), date(2026, 10, 12)),
                ("Remembrance Day", date(2026, 11, 11), date(2026, 11, 11)),
                ("Christmas Day", date(2026, 12, 25), date(2026, 12, 25)),
                ("Boxing Day", date(2026, 12, 26), date(2026, 12, 28)),
            ]
        );
        assert_eq!(list[0].name_fr, "Jour de l'An");
        assert_eq!(list[11].name_fr, "Lendemain de Noël");
    }

    #[test]
    fn statutory_set_has_nine_holidays_and_operator_twelve() {
        assert_eq!(
            holidays_in_year(&ontario_statutory(), 2025).unwrap().len(),
            9
        );
        assert_eq!(
            holidays_in_year(&ontario_operator(), 2025).unwrap().len(),
            12
        );
        validate_rules(&ontario_operator()).unwrap();
    }

    #[test]
    fn victoria_day_is_the_monday_from_may_18_to_24() {
        let rules = ontario_statutory();
        for year in 1990..=2100 {
            let (day, observed) = observed(&rules, year, "Victoria Day");
            assert_eq!(day, observed);
            assert_eq!(day.weekday(), Weekday::Monday);
            assert!(
                day >= date(year, 5, 18) && day <= date(year, 5, 24),
                "{day}"
            );
        }
        // May 25 itself a Monday: the Monday before (2026-05-25 is a Monday).
        assert_eq!(observed(&rules, 2026, "Victoria Day").0, date(2026, 5, 18));
        // May 24 a Monday (2027): that day.
        assert_eq!(observed(&rules, 2027, "Victoria Day").0, date(2027, 5, 24));
    }

    #[test]
    fn monday_holidays_fall_on_known_dates() {
        let rules = ontario_operator();
        let cases = [
            (2025, "Family Day", date(2025, 2, 17)),
            (2025, "Civic Holiday", date(2025, 8, 4)),
            (2025, "Labour Day", date(2025, 9, 1)),
            (2025, "Thanksgiving", date(2025, 10, 13)),
            (2025, "Good Friday", date(2025, 4, 18)),
            (2025, "Easter Monday", date(2025, 4, 21)),
            (2024, "Good Friday", date(2024, 3, 29)),
            (2024, "Easter Monday", date(2024, 4, 1)),
            (2030, "Good Friday", date(2030, 4, 19)),
            (2027, "Victoria Day", date(2027, 5, 24)),
        ];
        for (year, name, expected) in cases {
            assert_eq!(
                observed(&rules, year, name),
                (expected, expected),
                "{year} {name}"
            );
        }
    }

    #[test]
    fn weekend_christmas_and_boxing_day_move_to_the_next_free_weekdays() {
        let rules = ontario_statutory();
        // 2021 and 2027: Christmas Saturday, Boxing Day Sunday.
        for year in [2021, 2027] {
            assert_eq!(
                observed(&rules, year, "Christmas Day"),
                (date(year, 12, 25), date(year, 12, 27))
            );
            assert_eq!(
                observed(&rules, year, "Boxing Day"),
                (date(year, 12, 26), date(year, 12, 28))
            );
        }
        // 2022: Christmas Sunday, Boxing Day Monday: Christmas moves past Boxing Day.
        assert_eq!(
            observed(&rules, 2022, "Christmas Day"),
            (date(2022, 12, 25), date(2022, 12, 27))
        );
        assert_eq!(
            observed(&rules, 2022, "Boxing Day"),
            (date(2022, 12, 26), date(2022, 12, 26))
        );
        // 2026: Boxing Day Saturday only.
        assert_eq!(observed(&rules, 2026, "Boxing Day").1, date(2026, 12, 28));
    }

    #[test]
    fn other_fixed_holidays_on_weekends() {
        let operator = ontario_operator();
        // New Year 2028 and 2022 on a Saturday: Monday 3.
        assert_eq!(
            observed(&operator, 2028, "New Year's Day").1,
            date(2028, 1, 3)
        );
        assert_eq!(
            observed(&operator, 2022, "New Year's Day").1,
            date(2022, 1, 3)
        );
        // New Year 2023 on a Sunday: Monday 2.
        assert_eq!(
            observed(&operator, 2023, "New Year's Day").1,
            date(2023, 1, 2)
        );
        // Canada Day 2029 on a Sunday: Monday 2; 2028 on a Saturday: Monday 3.
        assert_eq!(observed(&operator, 2029, "Canada Day").1, date(2029, 7, 2));
        assert_eq!(observed(&operator, 2028, "Canada Day").1, date(2028, 7, 3));
        // Remembrance Day 2028 on a Saturday: Monday 13.
        assert_eq!(
            observed(&operator, 2028, "Remembrance Day").1,
            date(2028, 11, 13)
        );
    }

    #[test]
    fn same_day_and_nearest_weekday_observances() {
        let mut rules = ontario_statutory();
        for rule in &mut rules {
            if rule.name_en == "Christmas Day" || rule.name_en == "Boxing Day" {
                rule.observed = Some(Observance::SameDay);
            }
        }
        assert_eq!(
            observed(&rules, 2027, "Christmas Day").1,
            date(2027, 12, 25)
        );
        assert_eq!(observed(&rules, 2027, "Boxing Day").1, date(2027, 12, 26));
        for rule in &mut rules {
            if rule.name_en == "Christmas Day" || rule.name_en == "Boxing Day" {
                rule.observed = Some(Observance::NearestWeekday);
            }
        }
        // Saturday back to Friday 24, Sunday forward to Monday 27.
        assert_eq!(
            observed(&rules, 2027, "Christmas Day").1,
            date(2027, 12, 24)
        );
        assert_eq!(observed(&rules, 2027, "Boxing Day").1, date(2027, 12, 27));
        // New Year 2028 on a Saturday observed on Friday 2027-12-31: it belongs to 2028's
        // list but is observed during 2027.
        for rule in &mut rules {
            if rule.name_en == "New Year's Day" {
                rule.observed = Some(Observance::NearestWeekday);
            }
        }
        assert_eq!(
            observed(&rules, 2028, "New Year's Day").1,
            date(2027, 12, 31)
        );
        let during_2027 = observed_during_year(&rules, 2027).unwrap();
        assert_eq!(during_2027.last().unwrap().name_en, "New Year's Day");
    }

    #[test]
    fn years_outside_the_supported_range_are_refused() {
        let rules = ontario_operator();
        assert_eq!(
            holidays_in_year(&rules, FIRST_SUPPORTED_YEAR - 1).unwrap_err(),
            CalendarError::OutOfRange { field: "year" }
        );
        assert!(holidays_in_year(&rules, LAST_SUPPORTED_YEAR).is_ok());
        assert!(holidays_in_year(&rules, LAST_SUPPORTED_YEAR + 1).is_err());
    }

    #[test]
    fn invalid_rules_are_refused_with_their_index() {
        let mut rules = ontario_statutory();
        rules.push(HolidayRule::new(
            "Leap",
            "Bissextile",
            DateRule::Fixed { month: 2, day: 29 },
        ));
        assert_eq!(
            validate_rules(&rules).unwrap_err(),
            CalendarError::InvalidHolidayRule {
                index: 9,
                reason: "invalid_month_day"
            }
        );
        let fifth = HolidayRule::new(
            "Fifth",
            "Cinquième",
            DateRule::NthWeekday {
                month: 3,
                weekday: DayOfWeek::Fri,
                nth: 5,
            },
        );
        assert_eq!(
            validate_rules(&[fifth]).unwrap_err(),
            CalendarError::InvalidHolidayRule {
                index: 0,
                reason: "invalid_nth"
            }
        );
        let unnamed = HolidayRule::new(" ", "x", DateRule::Easter { offset_days: 0 });
        assert_eq!(
            validate_rules(&[unnamed]).unwrap_err().code(),
            "invalid_holiday_rule"
        );
        let far = HolidayRule::new("Far", "Loin", DateRule::Easter { offset_days: 200 });
        assert!(validate_rules(&[far]).is_err());
    }

    #[test]
    fn rules_round_trip_through_json() {
        let json = serde_json::to_string(&HolidayRules::Custom(ontario_operator())).unwrap();
        assert!(json.contains(r#"{"kind":"weekday_before","weekday":"mon","month":5,"day":25}"#));
        let back: HolidayRules = serde_json::from_str(&json).unwrap();
        assert_eq!(back, HolidayRules::Custom(ontario_operator()));
        let named: HolidayRules = serde_json::from_str(r#""ontario-operator""#).unwrap();
        assert_eq!(named, HolidayRules::Named(HolidaySetName::OntarioOperator));
        assert!(serde_json::from_str::<HolidayRules>(r#""quebec""#).is_err());
        let custom: HolidayRules = serde_json::from_str(
            r#"[{"name_en":"Day","name_fr":"Jour","date":{"kind":"fixed","month":6,"day":24},"observed":"same_day"}]"#,
        )
        .unwrap();
        let HolidayRules::Custom(custom) = custom else {
            panic!("custom")
        };
        assert_eq!(custom[0].observance(), Observance::SameDay);
    }
}
