//! Major incidents, without I/O: which incidents may be declared major, which notice is due
//! when (the communication cadence), the targets of the major incident review, and the
//! redaction pass the review report goes through before release.
//!
//! # Communication cadence
//! The specification (itil.md, "Major incidents") asks for a service-interruption notice at
//! declaration, updates on the pack's cadence, and a service-restoration notice at
//! resolution. [`CommunicationPlan::from_duties`] reads the pack's duties for the ticket's
//! priority; where the specification is silent, this module chooses:
//!
//! - **Interruption and restoration notices are always planned**, whatever the pack says: the
//!   specification requires them of every major incident. A pack's e-mail duty at `"start"`
//!   or `"resolution"` is that same notice, not a second one.
//! - **Timed updates come from the pack**: every e-mail duty with an `at` of `"+1h"`, `"+2h"`…
//!   is an update due that long after the *declaration* (the pack counts from the ticket's
//!   logging; for a major incident the two coincide or the incident was not major yet, and
//!   the desk cannot be late for a notice of an incident nobody had declared). Its key is the
//!   `at` text, so that the caller finds the duty's wording with it.
//! - **Updates continue hourly while the incident is open**: after the pack's last timed update
//!   (the severity pack's "+2h" promises "next update by hh:mm"), and from the declaration
//!   when the pack has none (the priority pack), an update is due every
//!   [`CONTINUING_UPDATE_INTERVAL`]. These are keyed `"update:N"`, N being the update's rank
//!   among all updates (the severity pack's third update, at +3 h, is `"update:3"`).
//! - **A later update supersedes an earlier unsent one**: only the latest update whose time has
//!   come is listed; nobody needs two stale updates sent back to back. Resolution supersedes
//!   every pending update (the restoration notice says more), but not the interruption notice,
//!   which the affected organizations must receive in any case.
//! - Banner duties (`login_banner`, `home_page_banner`) are not notices: they are set in the
//!   declaration step. `work_with_customer` and `"throughout"` duties carry no due time.
//! - **Reminders** go [`REMINDER_LEAD`] before a timed update. The interruption and
//!   restoration notices follow an event nobody can foresee: the coordinator is reminded at
//!   the event and the notice is due [`EVENT_NOTICE_ALLOWANCE`] later.
//! - A notice is **overdue** once `now` is past its due time.
//!
//! # Review targets
//! "Within N business days of resolution" is read as: by the close of business of the Nth
//! open day of the calendar *after* the resolution's own date, in the calendar's zone. A
//! resolution on Friday is reviewed by Tuesday's close (Monday, Tuesday), or Wednesday's when
//! Monday is a holiday. See [`end_of_business_days_after`].
//!
//! # Redaction
//! [`find_sensitive`] flags IPv4 and IPv6 addresses and fully qualified host names; the rules,
//! and what they deliberately leave alone, are on [`find_sensitive`].
use std::collections::BTreeSet;

use jiff::civil::Date;
use jiff::{SignedDuration, Timestamp};
use serde::Serialize;

use crate::calendar::{Calendar, CalendarError};
use crate::due::day_schedule;
use crate::error::DomainError;
use crate::policy_pack::{CommunicationDuty, DutyKind, DutyTiming};
use crate::problem::labelled_enum;
use crate::text::Locale;

// ---- Declaration ------------------------------------------------------------------------

/// Ranks that may be declared major: P1 and P2 (Sev 1 and Sev 2).
pub const MAJOR_PRIORITY_RANKS: [i64; 2] = [1, 2];

/// Why an incident cannot be declared major.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MajorIncidentRefusal {
    #[error(
        "only a P1 or P2 (Sev 1 or Sev 2) incident can be declared major; this one has rank {rank}"
    )]
    NotMajorPriority { rank: i64 },
}

impl MajorIncidentRefusal {
    /// Stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            MajorIncidentRefusal::NotMajorPriority { .. } => "not_major_priority",
        }
    }
}

impl From<MajorIncidentRefusal> for DomainError {
    fn from(refusal: MajorIncidentRefusal) -> Self {
        DomainError::field(refusal.code(), "priority")
    }
}

/// Whether an incident of this priority rank (1 = most urgent) may be declared major.
pub fn may_declare(priority_rank: i64) -> Result<(), MajorIncidentRefusal> {
    if MAJOR_PRIORITY_RANKS.contains(&priority_rank) {
        Ok(())
    } else {
        Err(MajorIncidentRefusal::NotMajorPriority {
            rank: priority_rank,
        })
    }
}

// ---- Communication cadence ----------------------------------------------------------------

labelled_enum! {
    /// What a major-incident notice tells the affected organizations and users.
    NoticeKind ("notice kind") {
        ServiceInterruption = "service_interruption"
            => ("Service interruption notice", "Avis d'interruption de service"),
        Update = "update" => ("Update", "Mise à jour"),
        ServiceRestoration = "service_restoration"
            => ("Service restoration notice", "Avis de rétablissement du service"),
    }
}

/// Key of the service-interruption notice.
pub const DECLARATION_KEY: &str = "declaration";
/// Key of the service-restoration notice.
pub const RESOLUTION_KEY: &str = "resolution";
/// How long before a timed notice the coordinator is reminded.
pub const REMINDER_LEAD: SignedDuration = SignedDuration::from_mins(10);
/// Time allowed to send a notice that follows an event (declaration, resolution).
pub const EVENT_NOTICE_ALLOWANCE: SignedDuration = SignedDuration::from_mins(10);
/// Interval of the updates after the pack's last timed one, or from the declaration when the
/// pack has none.
pub const CONTINUING_UPDATE_INTERVAL: SignedDuration = SignedDuration::from_hours(1);

/// An update the pack times: `key` is the duty's `at` (`"+1h"`), `after` the time since the
/// declaration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TimedUpdate {
    pub key: String,
    pub after: SignedDuration,
}

/// The notices of a major incident, read from the pack's duties for its priority. See the
/// [module documentation](self) for the rules.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CommunicationPlan {
    /// In increasing order of `after`, each key once.
    pub timed_updates: Vec<TimedUpdate>,
    /// Interval of the updates after the last timed one.
    pub continuing_interval: SignedDuration,
}

/// A notice due (or coming next) on a major incident.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DueNotice {
    /// Stable, for "sent once": `"declaration"`, `"+1h"`, `"+2h"`, `"update:3"`, `"resolution"`.
    pub key: String,
    pub kind: NoticeKind,
    pub due_at: Timestamp,
    /// When the coordinator is reminded.
    pub reminder_at: Timestamp,
    /// `now` is past `due_at`.
    pub overdue: bool,
}

fn is_email_duty(kind: DutyKind) -> bool {
    matches!(
        kind,
        DutyKind::CommunityEmail
            | DutyKind::UpdateEmail
            | DutyKind::ResolutionEmail
            | DutyKind::IncidentReportEmail
    )
}

impl CommunicationPlan {
    /// The plan for a priority with these duties (`PriorityTargets::communications`). Only
    /// e-mail duties timed `"+…"` add updates; an empty list (the priority pack) gives hourly
    /// updates from the declaration.
    pub fn from_duties(duties: &[CommunicationDuty]) -> Self {
        let mut timed_updates: Vec<TimedUpdate> = duties
            .iter()
            .filter(|duty| is_email_duty(duty.kind))
            .filter_map(|duty| match duty.at {
                DutyTiming::After(elapsed) => {
                    let after = SignedDuration::try_from(elapsed).ok()?;
                    after.is_positive().then(|| TimedUpdate {
                        key: duty.at.to_string(),
                        after,
                    })
                }
                _ => None,
            })
            .collect();
        timed_updates.sort_by(|a, b| a.after.cmp(&b.after).then_with(|| a.key.cmp(&b.key)));
        timed_updates.dedup_by(|a, b| a.key == b.key);
        CommunicationPlan {
            timed_updates,
            continuing_interval: CONTINUING_UPDATE_INTERVAL,
        }
    }

    /// Time from the declaration to update `rank` (1 = first update); `None` past the
    /// representable range.
    fn update_offset(&self, rank: u64) -> Option<SignedDuration> {
        let timed = self.timed_updates.len() as u64;
        if rank == 0 {
            return None;
        }
        if rank <= timed {
            let index = usize::try_from(rank - 1).ok()?;
            return self.timed_updates.get(index).map(|update| update.after);
        }
        let last_timed = self
            .timed_updates
            .last()
            .map_or(SignedDuration::ZERO, |update| update.after);
        let steps = i32::try_from(rank - timed).ok()?;
        last_timed.checked_add(self.continuing_interval.checked_mul(steps)?)
    }

    /// The rank of the last update due at or before `elapsed` since the declaration (0: none).
    fn last_rank_by(&self, elapsed: SignedDuration) -> u64 {
        let timed_by = self
            .timed_updates
            .iter()
            .take_while(|update| update.after <= elapsed)
            .count() as u64;
        let timed = self.timed_updates.len() as u64;
        if timed_by < timed {
            return timed_by;
        }
        let last_timed = self
            .timed_updates
            .last()
            .map_or(SignedDuration::ZERO, |update| update.after);
        let interval = self.continuing_interval.as_secs();
        if interval <= 0 {
            return timed;
        }
        let since_last = elapsed.as_secs().saturating_sub(last_timed.as_secs());
        timed + u64::try_from(since_last / interval).unwrap_or(0)
    }

    fn update_key(&self, rank: u64) -> String {
        usize::try_from(rank - 1)
            .ok()
            .and_then(|index| self.timed_updates.get(index))
            .map_or_else(|| format!("update:{rank}"), |update| update.key.clone())
    }

    /// When the update after the one due at `at` is due: the "hh:mm" of "next update by
    /// hh:mm". `None` past the representable range.
    pub fn next_update_after(&self, declared_at: Timestamp, at: Timestamp) -> Option<Timestamp> {
        let elapsed = at.duration_since(declared_at);
        let rank = if elapsed.is_negative() {
            1
        } else {
            self.last_rank_by(elapsed) + 1
        };
        declared_at.checked_add(self.update_offset(rank)?).ok()
    }

    /// The notices not yet sent whose time has come, and the next one to come, in order of
    /// due time. `sent` holds the keys of the notices already sent; `resolved_at` is `None`
    /// while the incident is open.
    pub fn notices_due(
        &self,
        declared_at: Timestamp,
        resolved_at: Option<Timestamp>,
        sent: &BTreeSet<String>,
        now: Timestamp,
    ) -> Vec<DueNotice> {
        let mut notices = Vec::new();
        let event_notice = |key: &str, kind: NoticeKind, event: Timestamp| {
            let due_at = event.checked_add(EVENT_NOTICE_ALLOWANCE).ok()?;
            Some(DueNotice {
                key: key.to_owned(),
                kind,
                due_at,
                reminder_at: event,
                overdue: now > due_at,
            })
        };
        if !sent.contains(DECLARATION_KEY) {
            notices.extend(event_notice(
                DECLARATION_KEY,
                NoticeKind::ServiceInterruption,
                declared_at,
            ));
        }
        match resolved_at {
            Some(resolved_at) => {
                if !sent.contains(RESOLUTION_KEY) {
                    notices.extend(event_notice(
                        RESOLUTION_KEY,
                        NoticeKind::ServiceRestoration,
                        resolved_at,
                    ));
                }
            }
            None => notices.extend(self.open_updates(declared_at, sent, now)),
        }
        notices.sort_by(|a, b| a.due_at.cmp(&b.due_at).then_with(|| a.key.cmp(&b.key)));
        notices
    }

    /// While open: the latest update whose time has come (unless it or a later one was sent)
    /// and the next update not sent yet.
    fn open_updates(
        &self,
        declared_at: Timestamp,
        sent: &BTreeSet<String>,
        now: Timestamp,
    ) -> Vec<DueNotice> {
        let elapsed = now.duration_since(declared_at);
        let last_due = if elapsed.is_negative() {
            0
        } else {
            self.last_rank_by(elapsed)
        };
        let notice = |rank: u64| -> Option<DueNotice> {
            let due_at = declared_at.checked_add(self.update_offset(rank)?).ok()?;
            let reminder_at = due_at
                .checked_sub(REMINDER_LEAD)
                .map_or(declared_at, |at| at.max(declared_at));
            Some(DueNotice {
                key: self.update_key(rank),
                kind: NoticeKind::Update,
                due_at,
                reminder_at,
                overdue: now > due_at,
            })
        };
        // Updates sent ahead of time are skipped; each key in `sent` can skip at most one.
        let mut next = last_due + 1;
        for _ in 0..=sent.len() {
            if !sent.contains(&self.update_key(next)) {
                break;
            }
            next += 1;
        }
        let mut updates = Vec::new();
        let later_sent = next > last_due + 1;
        if last_due > 0 && !later_sent && !sent.contains(&self.update_key(last_due)) {
            updates.extend(notice(last_due));
        }
        updates.extend(notice(next));
        updates
    }
}

// ---- Review targets ---------------------------------------------------------------------

/// The review is held within this many business days of resolution.
pub const REVIEW_BUSINESS_DAYS: u32 = 2;
/// The review report is final within this many business days of resolution.
pub const REPORT_BUSINESS_DAYS: u32 = 5;
/// Longest walk through closed days before giving up (a calendar has at most 2000 closures).
const MAX_DAYS_WALKED: u32 = 4000;

/// When the review and its report are due.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ReviewTargets {
    pub review_due: Timestamp,
    pub report_due: Timestamp,
}

/// The close of business of the `days`th open day of `calendar` after the date of `at` in
/// the calendar's zone (`at` itself when `days` is 0). An open day is a date with open hours;
/// its close is the end of its last open interval.
pub fn end_of_business_days_after(
    calendar: &Calendar,
    at: Timestamp,
    days: u32,
) -> Result<Timestamp, CalendarError> {
    if days == 0 {
        return Ok(at);
    }
    let mut date: Date = at.to_zoned(calendar.time_zone().clone()).date();
    let mut counted = 0;
    for _ in 0..MAX_DAYS_WALKED {
        date = date
            .tomorrow()
            .map_err(|_| CalendarError::OutOfRange { field: "at" })?;
        let schedule = day_schedule(calendar, date)?;
        if let Some(last) = schedule.open.last() {
            counted += 1;
            if counted == days {
                return Ok(last.to);
            }
        }
    }
    Err(CalendarError::OutOfRange { field: "at" })
}

/// The review is due by the close of the 2nd business day after the resolution's date.
pub fn review_due(resolved_at: Timestamp, calendar: &Calendar) -> Result<Timestamp, CalendarError> {
    end_of_business_days_after(calendar, resolved_at, REVIEW_BUSINESS_DAYS)
}

/// The report is final by the close of the 5th business day after the resolution's date.
pub fn report_due(resolved_at: Timestamp, calendar: &Calendar) -> Result<Timestamp, CalendarError> {
    end_of_business_days_after(calendar, resolved_at, REPORT_BUSINESS_DAYS)
}

/// Both review targets.
pub fn review_targets(
    resolved_at: Timestamp,
    calendar: &Calendar,
) -> Result<ReviewTargets, CalendarError> {
    Ok(ReviewTargets {
        review_due: review_due(resolved_at, calendar)?,
        report_due: report_due(resolved_at, calendar)?,
    })
}

// ---- Redaction ----------------------------------------------------------------------------

labelled_enum! {
    /// A kind of sensitive detail in a review report.
    SensitiveKind ("sensitive data kind") {
        IpV4 = "ipv4" => ("IP address", "adresse IP"),
        IpV6 = "ipv6" => ("IP address", "adresse IP"),
        HostName = "host_name" => ("host name", "nom d'hôte"),
    }
}

impl SensitiveKind {
    /// What replaces it: `[IP address]`, `[nom d'hôte]`…
    pub fn placeholder(self, lang: Locale) -> String {
        format!("[{}]", self.label(lang))
    }
}

/// A sensitive detail found in a text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SensitiveMatch {
    pub kind: SensitiveKind,
    /// Byte offset of the first byte (a char boundary).
    pub start: usize,
    /// Byte offset just past the match (a char boundary).
    pub end: usize,
    pub text: String,
}

/// Last labels taken as a top-level domain. A closed list rather than "any letters": file
/// names (`setup.py`, `README.md`, `main.rs`) end in letters that are country codes too, and
/// internal names end in pseudo-domains (`.internal`, `.local`) no registry knows.
const TOP_LEVEL_DOMAINS: &[&str] = &[
    "com",
    "org",
    "net",
    "edu",
    "gov",
    "mil",
    "int",
    "info",
    "biz",
    "io",
    "co",
    "ca",
    "us",
    "uk",
    "fr",
    "eu",
    "de",
    "ch",
    "be",
    "nl",
    "au",
    "health",
    "cloud",
    "internal",
    "local",
    "localdomain",
    "lan",
    "corp",
    "intranet",
    "home",
    "private",
    "test",
    "example",
    "invalid",
    "arpa",
];

fn is_candidate_byte(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || matches!(byte, b'.' | b'-' | b':' | b'_')
}

/// Every IP address and host name in `text`, in text order, without overlaps.
///
/// The text is cut into runs of ASCII letters, digits, `.`, `-`, `_` and `:` (so `/`, `@`,
/// `[`, spaces and any other character end a run), trimmed of `.` and `-` at both ends (a
/// sentence's full stop). A run is:
/// - an **IPv6 address** when it is one, written in full or compressed (`fe80::1`,
///   `2001:db8::8a2e:370:7334`, `::ffff:192.0.2.1`), with a trailing `:` allowed; and it has
///   a decimal digit or at least two groups, so that `::` and `add::` are not addresses. A
///   time (`10:30`, `10:30:15`) or a MAC address (six groups) is not one.
/// - otherwise split at `:` (a port, `https:`, `Server:`), and each piece is
///   - an **IPv4 address**: four decimal parts of 1 to 3 digits, each at most 255
///     (`1.2.3` and `1.2.3.4.5` are not; a four-part version number `4.2.1.10` is, which
///     errs on the safe side);
///   - a **host name**: at least two dot-separated labels of letters, digits, `-` and `_`,
///     not starting or ending with `-`, the last one a known top-level domain (see
///     `TOP_LEVEL_DOMAINS`: `.com`, `.ca`, `.internal`, `.local`…); with only two labels, that
///     domain must be written in lower case (`example.org` but not `ASP.NET`).
///
/// Left alone on purpose: names without a dot (`hl7-prod-02`; too close to ordinary words
/// and ticket numbers such as `INC-000123`), decimals and version numbers, file names, and
/// **e-mail addresses**: a run right before or after `@` is not a host name, because a
/// mail domain names an organization the partners know, not a machine, and redacting it
/// would garble the contacts in the report. An IP address is flagged wherever it stands.
pub fn find_sensitive(text: &str) -> Vec<SensitiveMatch> {
    let bytes = text.as_bytes();
    let mut found = Vec::new();
    let mut index = 0;
    while index < bytes.len() {
        if !is_candidate_byte(bytes[index]) {
            index += 1;
            continue;
        }
        let run_start = index;
        while index < bytes.len() && is_candidate_byte(bytes[index]) {
            index += 1;
        }
        let run_end = index;
        let next_to_at =
            (run_start > 0 && bytes[run_start - 1] == b'@') || bytes.get(run_end) == Some(&b'@');
        classify_run(text, run_start, run_end, next_to_at, &mut found);
    }
    found
}

fn trim_bounds(text: &str, start: usize, end: usize, chars: &[u8]) -> (usize, usize) {
    let bytes = text.as_bytes();
    let (mut start, mut end) = (start, end);
    while start < end && chars.contains(&bytes[start]) {
        start += 1;
    }
    while end > start && chars.contains(&bytes[end - 1]) {
        end -= 1;
    }
    (start, end)
}

fn classify_run(
    text: &str,
    run_start: usize,
    run_end: usize,
    next_to_at: bool,
    found: &mut Vec<SensitiveMatch>,
) {
    let push = |found: &mut Vec<SensitiveMatch>, kind, start: usize, end: usize| {
        found.push(SensitiveMatch {
            kind,
            start,
            end,
            text: text[start..end].to_owned(),
        });
    };
    let (start, end) = trim_bounds(text, run_start, run_end, b".-");
    if start == end {
        return;
    }
    let mut ipv6_end = end;
    if text[start..end].contains(':') {
        if !looks_like_ipv6(&text[start..end]) {
            ipv6_end = text[start..end].trim_end_matches(':').len() + start;
        }
        if ipv6_end > start && looks_like_ipv6(&text[start..ipv6_end]) {
            push(found, SensitiveKind::IpV6, start, ipv6_end);
            return;
        }
    }
    let mut piece_start = start;
    for piece in text[start..end].split(':') {
        let piece_end = piece_start + piece.len();
        let (from, to) = trim_bounds(text, piece_start, piece_end, b".-");
        let candidate = &text[from..to];
        if is_ipv4(candidate) {
            push(found, SensitiveKind::IpV4, from, to);
        } else if !next_to_at && is_host_name(candidate) {
            push(found, SensitiveKind::HostName, from, to);
        }
        piece_start = piece_end + 1;
    }
}

/// Four decimal parts of 1 to 3 digits, each at most 255.
fn is_ipv4(text: &str) -> bool {
    let mut parts = 0;
    for part in text.split('.') {
        parts += 1;
        if parts > 4
            || part.is_empty()
            || part.len() > 3
            || !part.bytes().all(|byte| byte.is_ascii_digit())
        {
            return false;
        }
        if part.parse::<u16>().map_or(true, |value| value > 255) {
            return false;
        }
    }
    parts == 4
}

/// Groups of one side of `::` (or of the whole address): the number of 16-bit groups it
/// stands for, and how many groups are written.
fn ipv6_side(side: &str, may_end_with_ipv4: bool) -> Option<(usize, usize)> {
    if side.is_empty() {
        return Some((0, 0));
    }
    let parts: Vec<&str> = side.split(':').collect();
    let mut groups = 0;
    for (index, part) in parts.iter().enumerate() {
        if index + 1 == parts.len() && may_end_with_ipv4 && part.contains('.') {
            if !is_ipv4(part) {
                return None;
            }
            groups += 2;
        } else if part.is_empty()
            || part.len() > 4
            || !part.bytes().all(|byte| byte.is_ascii_hexdigit())
        {
            return None;
        } else {
            groups += 1;
        }
    }
    Some((groups, parts.len()))
}

/// A valid IPv6 address (RFC 4291 text forms, without zone) that does not look like a word:
/// it has a decimal digit or at least two written groups.
fn looks_like_ipv6(text: &str) -> bool {
    if text.len() < 3 || text.len() > 45 {
        return false;
    }
    let (head, tail, compressed) = match text.find("::") {
        Some(at) => (&text[..at], &text[at + 2..], true),
        None => (text, "", false),
    };
    if compressed && tail.contains("::") {
        return false;
    }
    let Some((head_groups, head_written)) = ipv6_side(head, !compressed) else {
        return false;
    };
    let Some((tail_groups, tail_written)) = ipv6_side(tail, true) else {
        return false;
    };
    let groups = head_groups + tail_groups;
    let valid = if compressed { groups <= 7 } else { groups == 8 };
    valid && (text.bytes().any(|byte| byte.is_ascii_digit()) || head_written + tail_written >= 2)
}

fn is_host_name(text: &str) -> bool {
    if text.len() > 253 || !text.contains('.') {
        return false;
    }
    let labels: Vec<&str> = text.split('.').collect();
    let Some(top) = labels.last() else {
        return false;
    };
    let labels_ok = labels.iter().all(|label| {
        !label.is_empty()
            && label.len() <= 63
            && !label.starts_with('-')
            && !label.ends_with('-')
            && label
                .bytes()
                .all(|byte| byte.is_ascii_alphanumeric() || byte == b'-' || byte == b'_')
    });
    if !labels_ok {
        return false;
    }
    let known_top = TOP_LEVEL_DOMAINS
        .iter()
        .any(|domain| domain.eq_ignore_ascii_case(top));
    let case_ok = labels.len() > 2 || top.bytes().all(|byte| byte.is_ascii_lowercase());
    known_top && case_ok
}

/// `text` with every [`find_sensitive`] match replaced by `[IP address]` or `[host name]`.
pub fn redact_sensitive(text: &str) -> String {
    redact_sensitive_in(text, Locale::En)
}

/// `text` with every [`find_sensitive`] match replaced by its placeholder in `lang`.
pub fn redact_sensitive_in(text: &str, lang: Locale) -> String {
    let mut out = String::with_capacity(text.len());
    let mut copied = 0;
    for found in find_sensitive(text) {
        out.push_str(&text[copied..found.start]);
        out.push_str(&found.kind.placeholder(lang));
        copied = found.end;
    }
    out.push_str(&text[copied..]);
    out
}

/// A review report that still holds sensitive details; it may not be released.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the report still contains {} IP address(es) or host name(s)", .matches.len())]
pub struct UnredactedSensitiveData {
    pub matches: Vec<SensitiveMatch>,
}

impl UnredactedSensitiveData {
    /// Stable machine-readable code.
    pub const CODE: &'static str = "unredacted_sensitive_data";

    pub fn code(&self) -> &'static str {
        Self::CODE
    }
}

impl From<UnredactedSensitiveData> for DomainError {
    fn from(refusal: UnredactedSensitiveData) -> Self {
        DomainError::field(refusal.code(), "report")
    }
}

/// Refuses a report that still holds an IP address or host name.
pub fn release_check(text: &str) -> Result<(), UnredactedSensitiveData> {
    let matches = find_sensitive(text);
    if matches.is_empty() {
        Ok(())
    } else {
        Err(UnredactedSensitiveData { matches })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calendar::shipped_calendar;
    use crate::policy_pack::shipped_pack;
    use proptest::prelude::*;

    fn ts(text: &str) -> Timestamp {
        text.parse().unwrap()
    }

    fn keys(sent: &[&str]) -> BTreeSet<String> {
        sent.iter().map(|key| (*key).to_owned()).collect()
    }

    fn pack_plan(pack: &str, code: &str) -> CommunicationPlan {
        let targets = shipped_pack(pack)
            .unwrap()
            .targets_in(crate::policy_pack::SlaFamily::Incident, code)
            .unwrap();
        CommunicationPlan::from_duties(&targets.communications)
    }

    fn summary(notices: &[DueNotice]) -> Vec<(String, String, bool)> {
        notices
            .iter()
            .map(|notice| {
                (
                    notice.key.clone(),
                    notice.due_at.to_string(),
                    notice.overdue,
                )
            })
            .collect()
    }

    const DECLARED: &str = "2026-03-10T14:00:00Z";

    // ---- declaration ----

    #[test]
    fn only_p1_and_p2_may_be_declared_major() {
        assert_eq!(may_declare(1), Ok(()));
        assert_eq!(may_declare(2), Ok(()));
        for rank in [0, 3, 4, 10, -1, i64::MAX] {
            let refusal = may_declare(rank).unwrap_err();
            assert_eq!(refusal.code(), "not_major_priority");
            assert_eq!(DomainError::from(refusal).code, "not_major_priority");
        }
        assert!(may_declare(4).unwrap_err().to_string().contains("rank 4"));
    }

    // ---- cadence ----

    #[test]
    fn severity_pack_plans_its_timed_updates_then_hourly() {
        let plan = pack_plan("severity", "S1");
        let timed: Vec<&str> = plan.timed_updates.iter().map(|u| u.key.as_str()).collect();
        assert_eq!(timed, ["+1h", "+2h"]);
        assert_eq!(
            pack_plan("severity", "S2").timed_updates,
            plan.timed_updates
        );
        let declared = ts(DECLARED);
        let at = |minutes: i64| declared + SignedDuration::from_mins(minutes);
        // At declaration: the interruption notice, and the +1h update next.
        let notices = plan.notices_due(declared, None, &keys(&[]), declared);
        assert_eq!(
            summary(&notices),
            [
                ("declaration".into(), "2026-03-10T14:10:00Z".into(), false),
                ("+1h".into(), "2026-03-10T15:00:00Z".into(), false),
            ]
        );
        assert_eq!(notices[0].kind, NoticeKind::ServiceInterruption);
        assert_eq!(notices[0].reminder_at, declared);
        assert_eq!(notices[1].kind, NoticeKind::Update);
        assert_eq!(notices[1].reminder_at, ts("2026-03-10T14:50:00Z"));
        // Interruption sent; at +1h05 the +1h update is overdue, +2h comes next.
        let notices = plan.notices_due(declared, None, &keys(&["declaration"]), at(65));
        assert_eq!(
            summary(&notices),
            [
                ("+1h".into(), "2026-03-10T15:00:00Z".into(), true),
                ("+2h".into(), "2026-03-10T16:00:00Z".into(), false),
            ]
        );
        // After +2h: update:3 at +3h continues the cadence.
        let sent = keys(&["declaration", "+1h", "+2h"]);
        let notices = plan.notices_due(declared, None, &sent, at(125));
        assert_eq!(
            summary(&notices),
            [("update:3".into(), "2026-03-10T17:00:00Z".into(), false)]
        );
        assert_eq!(notices[0].reminder_at, ts("2026-03-10T16:50:00Z"));
        // "Next update by hh:mm" in the +2h notice.
        assert_eq!(
            plan.next_update_after(declared, at(120)),
            Some(ts("2026-03-10T17:00:00Z"))
        );
        assert_eq!(
            plan.next_update_after(declared, at(60)),
            Some(ts("2026-03-10T16:00:00Z"))
        );
        assert_eq!(
            plan.next_update_after(declared, at(-5)),
            Some(ts("2026-03-10T15:00:00Z"))
        );
    }

    #[test]
    fn priority_pack_has_hourly_updates_from_the_declaration() {
        let plan = pack_plan("priority", "P1");
        assert!(plan.timed_updates.is_empty());
        let declared = ts(DECLARED);
        let notices = plan.notices_due(
            declared,
            None,
            &keys(&["declaration"]),
            declared + SignedDuration::from_mins(30),
        );
        assert_eq!(
            summary(&notices),
            [("update:1".into(), "2026-03-10T15:00:00Z".into(), false)]
        );
        let notices = plan.notices_due(
            declared,
            None,
            &keys(&["declaration", "update:1"]),
            declared + SignedDuration::from_mins(61),
        );
        assert_eq!(
            summary(&notices),
            [("update:2".into(), "2026-03-10T16:00:00Z".into(), false)]
        );
    }

    #[test]
    fn a_later_update_supersedes_an_unsent_earlier_one() {
        let plan = pack_plan("severity", "S1");
        let declared = ts(DECLARED);
        // Nothing sent for 3 h 30: only the latest update (update:3) is listed, overdue.
        let notices = plan.notices_due(
            declared,
            None,
            &keys(&["declaration"]),
            declared + SignedDuration::from_mins(210),
        );
        assert_eq!(
            summary(&notices),
            [
                ("update:3".into(), "2026-03-10T17:00:00Z".into(), true),
                ("update:4".into(), "2026-03-10T18:00:00Z".into(), false),
            ]
        );
        // +2h sent ahead of time at +1h30: +1h is superseded, and +2h is not listed again.
        let notices = plan.notices_due(
            declared,
            None,
            &keys(&["declaration", "+2h"]),
            declared + SignedDuration::from_mins(90),
        );
        assert_eq!(
            summary(&notices),
            [("update:3".into(), "2026-03-10T17:00:00Z".into(), false)]
        );
    }

    #[test]
    fn resolution_replaces_updates_with_the_restoration_notice() {
        let plan = pack_plan("severity", "S1");
        let declared = ts(DECLARED);
        let resolved = declared + SignedDuration::from_mins(95);
        let now = resolved + SignedDuration::from_mins(5);
        let notices = plan.notices_due(declared, Some(resolved), &keys(&["declaration"]), now);
        assert_eq!(
            summary(&notices),
            [("resolution".into(), "2026-03-10T15:45:00Z".into(), false)]
        );
        assert_eq!(notices[0].kind, NoticeKind::ServiceRestoration);
        assert_eq!(notices[0].reminder_at, resolved);
        let late = resolved + SignedDuration::from_mins(11);
        assert!(
            plan.notices_due(declared, Some(resolved), &keys(&["declaration"]), late)[0].overdue
        );
        // The interruption notice is still owed if it never went.
        let notices = plan.notices_due(declared, Some(resolved), &keys(&[]), now);
        assert_eq!(notices[0].key, "declaration");
        assert!(notices[0].overdue);
        assert_eq!(notices[1].key, "resolution");
        // Everything sent: nothing due.
        let all = keys(&["declaration", "resolution"]);
        assert!(
            plan.notices_due(declared, Some(resolved), &all, now)
                .is_empty()
        );
    }

    #[test]
    fn duties_other_than_timed_emails_add_no_update() {
        let duty = |kind, at| CommunicationDuty {
            kind,
            at,
            text_en: String::new(),
            text_fr: String::new(),
        };
        let hour = std::time::Duration::from_secs(3600);
        let plan = CommunicationPlan::from_duties(&[
            duty(DutyKind::LoginBanner, DutyTiming::After(hour)),
            duty(DutyKind::WorkWithCustomer, DutyTiming::Throughout),
            duty(DutyKind::CommunityEmail, DutyTiming::AtStart),
            duty(DutyKind::UpdateEmail, DutyTiming::After(hour * 3)),
            duty(DutyKind::UpdateEmail, DutyTiming::After(hour / 2)),
            duty(DutyKind::UpdateEmail, DutyTiming::After(hour / 2)),
        ]);
        let timed: Vec<&str> = plan.timed_updates.iter().map(|u| u.key.as_str()).collect();
        assert_eq!(timed, ["+30m", "+3h"]);
        let declared = ts(DECLARED);
        // The +30m update's reminder would fall before the declaration: it is at declaration.
        let notices = plan.notices_due(declared, None, &keys(&["declaration"]), declared);
        assert_eq!(notices[0].key, "+30m");
        assert_eq!(notices[0].reminder_at, ts("2026-03-10T14:20:00Z"));
        // After +3h, continuing updates: the third update at +4h.
        let notices = plan.notices_due(
            declared,
            None,
            &keys(&["declaration", "+30m", "+3h"]),
            declared + SignedDuration::from_mins(181),
        );
        assert_eq!(
            summary(&notices),
            [("update:3".into(), "2026-03-10T18:00:00Z".into(), false)]
        );
    }

    #[test]
    fn cadence_survives_extreme_instants() {
        let plan = pack_plan("severity", "S1");
        let notices = plan.notices_due(Timestamp::MAX, None, &keys(&[]), Timestamp::MAX);
        assert!(notices.is_empty());
        let notices = plan.notices_due(Timestamp::MIN, None, &keys(&[]), Timestamp::MAX);
        assert!(notices.iter().all(|notice| notice.overdue));
    }

    proptest! {
        #[test]
        fn at_most_one_overdue_update_and_one_to_come(
            minutes in 0i64..(60 * 24 * 30),
            sent_mask in 0u8..16,
        ) {
            let plan = pack_plan("severity", "S1");
            let declared = ts(DECLARED);
            let now = declared + SignedDuration::from_mins(minutes);
            let all = ["declaration", "+1h", "+2h", "update:3"];
            let sent: BTreeSet<String> = all
                .iter()
                .enumerate()
                .filter(|(index, _)| sent_mask & (1 << index) != 0)
                .map(|(_, key)| (*key).to_owned())
                .collect();
            let notices = plan.notices_due(declared, None, &sent, now);
            let updates: Vec<&DueNotice> =
                notices.iter().filter(|n| n.kind == NoticeKind::Update).collect();
            prop_assert!(updates.iter().filter(|n| n.due_at <= now).count() <= 1);
            prop_assert_eq!(updates.iter().filter(|n| n.due_at > now).count(), 1);
            for notice in &notices {
                prop_assert!(!sent.contains(&notice.key));
                prop_assert!(notice.reminder_at <= notice.due_at);
                prop_assert_eq!(notice.overdue, now > notice.due_at);
            }
            prop_assert!(notices.windows(2).all(|pair| pair[0].due_at <= pair[1].due_at));
        }
    }

    // ---- review targets ----

    #[test]
    fn review_targets_count_open_days_after_the_resolution_date() {
        let business = shipped_calendar("business").unwrap();
        // Tuesday 2026-03-10 15:00 EDT: review by Thursday 17:00, report by next Tuesday 17:00.
        let targets = review_targets(ts("2026-03-10T19:00:00Z"), business).unwrap();
        assert_eq!(targets.review_due, ts("2026-03-12T21:00:00Z"));
        assert_eq!(targets.report_due, ts("2026-03-17T21:00:00Z"));
        // Resolved Saturday night: Monday and Tuesday.
        assert_eq!(
            review_due(ts("2026-03-15T02:00:00Z"), business).unwrap(),
            ts("2026-03-17T21:00:00Z")
        );
        // Resolved Thursday 2026-04-02 before Good Friday (Apr 3) and Easter Monday (Apr 6):
        // Tuesday and Wednesday.
        assert_eq!(
            review_due(ts("2026-04-02T18:00:00Z"), business).unwrap(),
            ts("2026-04-08T21:00:00Z")
        );
        // Resolved Friday 2026-12-18 evening: Dec 21-24, then Christmas (Fri 25) and Boxing
        // Day (Sat 26, observed Mon 28) are skipped; the fifth open day is Tuesday Dec 29.
        assert_eq!(
            report_due(ts("2026-12-18T23:30:00Z"), business).unwrap(),
            ts("2026-12-29T22:00:00Z")
        );
        // Dec 24, 29, 30, 31, then New Year's Day is skipped: Monday Jan 4.
        assert_eq!(
            report_due(ts("2026-12-23T15:00:00Z"), business).unwrap(),
            ts("2027-01-04T22:00:00Z")
        );
        // Late evening in Toronto is the next day in UTC: the calendar's zone decides.
        assert_eq!(
            review_due(ts("2026-03-11T03:30:00Z"), business).unwrap(),
            ts("2026-03-12T21:00:00Z")
        );
    }

    #[test]
    fn review_targets_on_a_round_the_clock_calendar_end_at_midnight() {
        let always = shipped_calendar("24x7").unwrap();
        let due = review_due(ts("2026-03-10T19:00:00Z"), always).unwrap();
        assert_eq!(due, ts("2026-03-13T04:00:00Z")); // end of Thu Mar 12, Toronto (EDT)
        assert_eq!(
            end_of_business_days_after(always, ts("2026-03-10T19:00:00Z"), 0).unwrap(),
            ts("2026-03-10T19:00:00Z")
        );
        assert_eq!(
            review_due(ts("2399-12-31T12:00:00Z"), always)
                .unwrap_err()
                .code(),
            "out_of_range"
        );
    }

    // ---- redaction ----

    fn found(text: &str) -> Vec<(SensitiveKind, &str)> {
        find_sensitive(text)
            .into_iter()
            .map(|m| {
                assert_eq!(&text[m.start..m.end], m.text);
                (m.kind, &text[m.start..m.end])
            })
            .collect()
    }

    #[test]
    fn finds_ipv4_addresses_with_valid_octets() {
        use SensitiveKind::IpV4;
        assert_eq!(
            found("from 10.0.0.5 to 192.168.1.255."),
            [(IpV4, "10.0.0.5"), (IpV4, "192.168.1.255")]
        );
        assert_eq!(found("10.0.0.5:8080"), [(IpV4, "10.0.0.5")]);
        assert_eq!(found("10.20.0.0/16 (subnet)"), [(IpV4, "10.20.0.0")]);
        assert_eq!(found("http://172.16.4.2/status"), [(IpV4, "172.16.4.2")]);
        assert_eq!(found("ip=0.0.0.0,"), [(IpV4, "0.0.0.0")]);
        assert_eq!(found("svc@10.1.1.1"), [(IpV4, "10.1.1.1")]);
        for negative in [
            "version 1.2.3 released",
            "192.168.1.256",
            "1.2.3.4.5",
            "10.0.0",
            "1234.1.1.1",
            "pi is 3.14159",
            "costs 12.50 each",
            "v1.2.3.4",
        ] {
            assert_eq!(found(negative), [], "{negative:?}");
        }
    }

    #[test]
    fn finds_ipv6_addresses_in_full_and_compressed_forms() {
        use SensitiveKind::IpV6;
        assert_eq!(found("ping fe80::1 failed"), [(IpV6, "fe80::1")]);
        assert_eq!(
            found("at 2001:db8::8a2e:370:7334."),
            [(IpV6, "2001:db8::8a2e:370:7334")]
        );
        assert_eq!(
            found("2001:0db8:85a3:0000:0000:8a2e:0370:7334"),
            [(IpV6, "2001:0db8:85a3:0000:0000:8a2e:0370:7334")]
        );
        assert_eq!(found("loopback ::1"), [(IpV6, "::1")]);
        assert_eq!(found("[2001:db8::1]:443"), [(IpV6, "2001:db8::1")]);
        assert_eq!(
            found("mapped ::ffff:192.0.2.1 ok"),
            [(IpV6, "::ffff:192.0.2.1")]
        );
        assert_eq!(found("fe80::1%eth0"), [(IpV6, "fe80::1")]);
        assert_eq!(
            found("address fe80::a:b: unreachable"),
            [(IpV6, "fe80::a:b")]
        );
        assert_eq!(found("prefix 2001:db8::"), [(IpV6, "2001:db8::")]);
        for negative in [
            "at 10:30 the feed stopped",
            "10:30:15",
            "10:30:15.250",
            "2026-03-10T14:00:00Z",
            "mac 00:1a:2b:3c:4d:5e",
            "std::io::Error",
            "a C++ scope ::",
            "add::",
            "1:2:3:4:5:6:7:8:9",
            "1::2::3",
            "12345::1",
            "Note: see below",
            "ratio 3:1",
        ] {
            assert_eq!(found(negative), [], "{negative:?}");
        }
    }

    #[test]
    fn finds_fully_qualified_host_names() {
        use SensitiveKind::HostName;
        assert_eq!(
            found("The engine hl7-prod-02.hie.internal stopped."),
            [(HostName, "hl7-prod-02.hie.internal")]
        );
        assert_eq!(
            found("db01.example.org:5432"),
            [(HostName, "db01.example.org")]
        );
        assert_eq!(
            found("see https://portal.ehealth.on.ca/login"),
            [(HostName, "portal.ehealth.on.ca")]
        );
        assert_eq!(
            found(r"\\files01.corp.local\share"),
            [(HostName, "files01.corp.local")]
        );
        assert_eq!(found("DB01.EXAMPLE.ORG"), [(HostName, "DB01.EXAMPLE.ORG")]);
        assert_eq!(
            found("host db_01.hie.internal"),
            [(HostName, "db_01.hie.internal")]
        );
        assert_eq!(found("example.org"), [(HostName, "example.org")]);
        assert_eq!(found("(hie.internal)"), [(HostName, "hie.internal")]);
        for negative in [
            "INC-000123 and PRB-000004",
            "version 1.2.3",
            "3.5 hours",
            "https://",
            "e.g. the feed; i.e. the engine; U.S. vendors",
            "edit config.yaml and setup.py, see README.md and main.rs",
            "node.js and log4j.properties",
            "built on ASP.NET",
            "write to ann.lee@example.org or ops@hl7-prod-02.hie.internal",
            "hl7-prod-02 without a domain",
            "-bad-.example.org",
            "double..dots.org",
            "Mr. Smith said so.",
        ] {
            assert_eq!(found(negative), [], "{negative:?}");
        }
    }

    #[test]
    fn redacts_with_locale_labels_and_keeps_other_text() {
        let text = "Érable: 10.0.0.5 → hl7-prod-02.hie.internal (fe80::1), INC-000123 at 10:30.";
        assert_eq!(
            redact_sensitive(text),
            "Érable: [IP address] → [host name] ([IP address]), INC-000123 at 10:30."
        );
        assert_eq!(
            redact_sensitive_in(text, Locale::Fr),
            "Érable: [adresse IP] → [nom d'hôte] ([adresse IP]), INC-000123 at 10:30."
        );
        assert_eq!(redact_sensitive("nothing here"), "nothing here");
        assert_eq!(redact_sensitive(""), "");
    }

    #[test]
    fn release_is_refused_while_sensitive_data_remains() {
        let report = "Root cause: disk full on db01.example.org (10.0.0.5).";
        let refusal = release_check(report).unwrap_err();
        assert_eq!(refusal.code(), "unredacted_sensitive_data");
        assert_eq!(refusal.matches.len(), 2);
        assert_eq!(DomainError::from(refusal).code, "unredacted_sensitive_data");
        assert_eq!(release_check(&redact_sensitive(report)), Ok(()));
        assert_eq!(
            release_check(&redact_sensitive_in(report, Locale::Fr)),
            Ok(())
        );
    }

    proptest! {
        #[test]
        fn every_ipv4_address_is_found(
            address in any::<std::net::Ipv4Addr>(),
            before in "[ a-z(,]{0,6}",
            after in "[ ,.)/:]{0,6}",
        ) {
            let text = format!("{before} {address}{after}");
            let matches = find_sensitive(&text);
            prop_assert_eq!(matches.len(), 1);
            prop_assert_eq!(&matches[0].text, &address.to_string());
        }

        #[test]
        fn every_ipv6_address_that_is_not_word_like_is_found(
            address in any::<std::net::Ipv6Addr>(),
            after in "[ ,.)]{0,4}",
        ) {
            let written = address.to_string();
            let groups = written.split(':').filter(|group| !group.is_empty()).count();
            prop_assume!(written.bytes().any(|b| b.is_ascii_digit()) || groups >= 2);
            let text = format!("address {written}{after} down");
            let matches = find_sensitive(&text);
            prop_assert_eq!(matches.len(), 1);
            prop_assert_eq!(&matches[0].text, &written);
            prop_assert_eq!(matches[0].kind, SensitiveKind::IpV6);
        }

        #[test]
        fn redaction_leaves_nothing_to_find_and_is_stable(text in "[ -~é→\n]{0,120}") {
            let redacted = redact_sensitive(&text);
            prop_assert!(find_sensitive(&redacted).is_empty());
            prop_assert_eq!(redact_sensitive(&redacted), redacted.clone());
            let matches = find_sensitive(&text);
            prop_assert!(matches.windows(2).all(|pair| pair[0].end <= pair[1].start));
        }
    }
}
