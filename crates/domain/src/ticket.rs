//! Tickets: kinds and their numbers, the lifecycle, impact × urgency, request forms.
//!
//! One engine serves every kind. Incidents and service requests use the lifecycle below in
//! full; problems, changes, privacy, security and enhancement records share it until their
//! own workflows arrive.
use crate::error::{DomainError, Result};
use crate::role::string_enum;
use crate::text;
use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

string_enum! {
    TicketKind {
        Incident = "incident",
        ServiceRequest = "service_request",
        Problem = "problem",
        Change = "change",
        PrivacyRequest = "privacy_request",
        PrivacyIncident = "privacy_incident",
        SecurityIncident = "security_incident",
        EnhancementRequest = "enhancement_request",
    }
}

/// Who besides the people named on a ticket may see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Restriction {
    /// The organization's desk roles and the operator's staff.
    None,
    /// The privacy office.
    Privacy,
    /// The security team.
    Security,
}

impl Restriction {
    pub fn as_db(self) -> i64 {
        match self {
            Restriction::None => 0,
            Restriction::Privacy => 1,
            Restriction::Security => 2,
        }
    }
}

impl TicketKind {
    pub fn prefix(self) -> &'static str {
        match self {
            TicketKind::Incident => "INC",
            TicketKind::ServiceRequest => "SR",
            TicketKind::Problem => "PRB",
            TicketKind::Change => "CHG",
            TicketKind::PrivacyRequest => "PRQ",
            TicketKind::PrivacyIncident => "PRI",
            TicketKind::SecurityIncident => "SEC",
            TicketKind::EnhancementRequest => "ENH",
        }
    }

    pub fn restriction(self) -> Restriction {
        match self {
            TicketKind::PrivacyRequest | TicketKind::PrivacyIncident => Restriction::Privacy,
            TicketKind::SecurityIncident => Restriction::Security,
            _ => Restriction::None,
        }
    }

    /// Kinds a customer may raise from the portal or the API. Problems and changes are
    /// opened by operator staff.
    pub fn customer_may_raise(self) -> bool {
        !matches!(self, TicketKind::Problem | TicketKind::Change)
    }

    pub fn from_prefix(prefix: &str) -> Option<Self> {
        Self::ALL
            .iter()
            .copied()
            .find(|k| k.prefix().eq_ignore_ascii_case(prefix))
    }
}

/// `INC-000123`: the kind's prefix and at least six digits.
pub fn format_number(kind: TicketKind, sequence: i64) -> String {
    format!("{}-{sequence:06}", kind.prefix())
}

/// Reads a ticket number typed by a person: case-insensitive, leading zeros optional.
pub fn parse_number(value: &str) -> Option<(TicketKind, i64)> {
    let (prefix, digits) = value.trim().split_once('-')?;
    let kind = TicketKind::from_prefix(prefix)?;
    if digits.is_empty() || digits.len() > 12 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let sequence: i64 = digits.parse().ok()?;
    (sequence > 0).then_some((kind, sequence))
}

string_enum! {
    Status {
        New = "new",
        InProgress = "in_progress",
        PendingCustomer = "pending_customer",
        PendingVendor = "pending_vendor",
        PendingChange = "pending_change",
        Resolved = "resolved",
        Closed = "closed",
        Cancelled = "cancelled",
    }
}

impl Status {
    /// Still being worked: shown in queues and in the "Requests" counter.
    pub fn is_open(self) -> bool {
        !matches!(self, Status::Resolved | Status::Closed | Status::Cancelled)
    }

    pub fn is_pending(self) -> bool {
        matches!(
            self,
            Status::PendingCustomer | Status::PendingVendor | Status::PendingChange
        )
    }

    /// Closed and cancelled tickets are read-only.
    pub fn is_final(self) -> bool {
        matches!(self, Status::Closed | Status::Cancelled)
    }

    /// Transitions the workflow allows, whoever asks. Reopening (Resolved → In progress)
    /// has its own rule, see [`check_reopen`].
    pub fn can_become(self, to: Status) -> bool {
        use Status::*;
        if self == to {
            return false;
        }
        match self {
            New | InProgress | PendingCustomer | PendingVendor | PendingChange => {
                matches!(
                    to,
                    InProgress
                        | PendingCustomer
                        | PendingVendor
                        | PendingChange
                        | Resolved
                        | Cancelled
                ) && !(self != New && to == New)
            }
            Resolved => matches!(to, Closed | InProgress),
            Closed | Cancelled => false,
        }
    }
}

/// Reopening a resolved ticket is allowed for `period` after it was resolved.
pub fn check_reopen(resolved_at: Timestamp, now: Timestamp, period: SignedDuration) -> Result<()> {
    if now.duration_since(resolved_at) > period {
        Err(DomainError::field("reopen_period_over", "status"))
    } else {
        Ok(())
    }
}

/// What a customer (not operator staff) may do to a ticket's status: cancel it while it is
/// open, accept the resolution (close), or reopen it.
pub fn customer_may_set(from: Status, to: Status) -> bool {
    match to {
        Status::Cancelled => from.is_open(),
        Status::Closed => from == Status::Resolved,
        Status::InProgress => from == Status::Resolved,
        _ => false,
    }
}

/// Impact and urgency run from 1 (extensive / critical) to 4 (minor / low).
pub fn check_level(field: &'static str, value: i64) -> Result<i64> {
    if (1..=4).contains(&value) {
        Ok(value)
    } else {
        Err(DomainError::field("out_of_range", field))
    }
}

/// The default impact × urgency matrix (priority-sla.md), used for incidents and requests.
pub fn default_priority(impact: i64, urgency: i64) -> i64 {
    const MATRIX: [[i64; 4]; 4] = [[1, 1, 2, 3], [1, 2, 3, 3], [2, 2, 3, 4], [3, 3, 4, 4]];
    let i = (impact.clamp(1, 4) - 1) as usize;
    let u = (urgency.clamp(1, 4) - 1) as usize;
    MATRIX[i][u]
}

string_enum! {
    Channel {
        Portal = "portal",
        Phone = "phone",
        Email = "email",
        Monitoring = "monitoring",
        Api = "api",
        Partner = "partner",
    }
}

/// Escalation tiers: the service desk, tier 2 application support, the vendor.
pub const MAX_TIER: i64 = 3;

string_enum! {
    /// How two tickets relate, stored once and shown from both sides: `caused_by` points
    /// an incident at its problem, `fixed_by` a ticket at its change.
    LinkKind {
        Related = "related",
        CausedBy = "caused_by",
        FixedBy = "fixed_by",
        RaisedDuring = "raised_during",
    }
}

/// Checks that a link makes sense for the two kinds: incidents point at problems, problems
/// and incidents at changes.
pub fn check_link(kind: LinkKind, from: TicketKind, to: TicketKind) -> Result<()> {
    let ok = match kind {
        LinkKind::Related => true,
        LinkKind::CausedBy => from == TicketKind::Incident && to == TicketKind::Problem,
        LinkKind::FixedBy => {
            matches!(from, TicketKind::Incident | TicketKind::Problem) && to == TicketKind::Change
        }
        LinkKind::RaisedDuring => from == TicketKind::Incident && to == TicketKind::Change,
    };
    if ok {
        Ok(())
    } else {
        Err(DomainError::field("link_not_allowed", "link"))
    }
}

/// Standard fields a request form can ask for, beyond summary and details.
pub const STANDARD_FIELDS: &[&str] = &[
    "on_behalf_of",
    "configuration_item",
    "first_occurrence",
    "service_impact",
    "user_impact",
    "troubleshooting",
    "workaround",
    "partner_reference",
];

/// One field of a request form. Custom fields are named `x_…` and carry their labels.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FormField {
    pub name: String,
    #[serde(default)]
    pub required: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label_en: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label_fr: Option<String>,
}

impl FormField {
    pub fn is_custom(&self) -> bool {
        self.name.starts_with("x_")
    }
}

/// Checks a form definition an administrator saved.
pub fn check_form(fields: &[FormField]) -> Result<()> {
    let mut seen = std::collections::HashSet::new();
    for field in fields {
        if !seen.insert(field.name.as_str()) {
            return Err(DomainError::field("duplicate_field", "fields"));
        }
        if field.is_custom() {
            let valid_name = field.name.len() <= 40
                && field.name[2..]
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
                && field.name.len() > 2;
            let labelled = field
                .label_en
                .as_deref()
                .is_some_and(|l| !l.trim().is_empty())
                && field
                    .label_fr
                    .as_deref()
                    .is_some_and(|l| !l.trim().is_empty());
            if !valid_name || !labelled {
                return Err(DomainError::field("invalid_form_field", "fields"));
            }
        } else if !STANDARD_FIELDS.contains(&field.name.as_str())
            || field.label_en.is_some()
            || field.label_fr.is_some()
        {
            return Err(DomainError::field("invalid_form_field", "fields"));
        }
    }
    Ok(())
}

/// A catalogue code: lowercase letters, digits and dashes.
pub fn check_code(field: &'static str, value: &str) -> Result<String> {
    let value = value.trim();
    if value.is_empty() {
        return Err(DomainError::field("required", field));
    }
    if value.len() > 40
        || !value
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    {
        return Err(DomainError::field("invalid_code", field));
    }
    Ok(value.to_owned())
}

pub const SUMMARY_MAX: usize = 200;
pub const DETAILS_MAX: usize = 20_000;
pub const FIELD_MAX: usize = 4_000;
pub const COMMENT_MAX: usize = 20_000;
pub const PARTNER_REFERENCES_MAX: usize = 10;

/// What a person typed into a request form, before checks.
#[derive(Debug, Clone, Default)]
pub struct DraftInput {
    pub summary: String,
    pub details: String,
    pub impact: Option<i64>,
    pub urgency: Option<i64>,
    pub configuration_item: Option<String>,
    pub first_occurrence: Option<String>,
    pub service_impact: Option<String>,
    pub user_impact: Option<String>,
    pub troubleshooting: Option<String>,
    pub workaround: Option<String>,
    pub no_workaround: bool,
    pub partner_references: Vec<String>,
    pub custom: Vec<(String, String)>,
    /// Whether the person named someone to raise it for (checked in the store).
    pub has_on_behalf_of: bool,
}

/// The checked ticket text and levels.
#[derive(Debug, Clone, PartialEq)]
pub struct Draft {
    pub summary: String,
    pub details: String,
    pub impact: i64,
    pub urgency: i64,
    pub configuration_item: Option<String>,
    pub first_occurrence: Option<Timestamp>,
    pub service_impact: Option<String>,
    pub user_impact: Option<String>,
    pub troubleshooting: Option<String>,
    pub workaround: Option<String>,
    pub no_workaround: bool,
    pub partner_references: Vec<String>,
    pub custom: Vec<(String, String)>,
}

/// Parses a first-occurrence time: RFC 3339, or the browser's `datetime-local` value read
/// in `zone`.
pub fn parse_when(value: &str, zone: &jiff::tz::TimeZone) -> Result<Timestamp> {
    let value = value.trim();
    if let Ok(ts) = value.parse::<Timestamp>() {
        return Ok(crate::time::truncate(ts));
    }
    let civil: jiff::civil::DateTime = value
        .parse()
        .map_err(|_| DomainError::field("invalid_datetime", "first_occurrence"))?;
    let zoned = civil
        .to_zoned(zone.clone())
        .map_err(|_| DomainError::field("invalid_datetime", "first_occurrence"))?;
    Ok(crate::time::truncate(zoned.timestamp()))
}

/// Checks a draft against its form: lengths, required fields, levels, the workaround rule
/// (a workaround, or "no workaround" said explicitly, never both) and no PHI anywhere.
pub fn check_draft(
    input: &DraftInput,
    form: &[FormField],
    defaults: (i64, i64),
    zone: &jiff::tz::TimeZone,
    now: Timestamp,
) -> Result<Draft> {
    let required = |name: &str| form.iter().any(|f| f.name == name && f.required);
    let opt = |field: &'static str, value: &Option<String>| -> Result<Option<String>> {
        let value = text::optional(field, value.as_deref(), FIELD_MAX)?;
        if value.is_none() && required(field) {
            return Err(DomainError::field("required", field));
        }
        Ok(value)
    };
    let summary = text::required("summary", &input.summary, SUMMARY_MAX)?;
    if summary.contains('\n') {
        return Err(DomainError::field("invalid_characters", "summary"));
    }
    let details = text::required("details", &input.details, DETAILS_MAX)?;
    let impact = check_level("impact", input.impact.unwrap_or(defaults.0))?;
    let urgency = check_level("urgency", input.urgency.unwrap_or(defaults.1))?;
    let configuration_item = opt("configuration_item", &input.configuration_item)?;
    let first_occurrence = match opt("first_occurrence", &input.first_occurrence)? {
        Some(value) => {
            let when = parse_when(&value, zone)?;
            if when > now + SignedDuration::from_mins(5) {
                return Err(DomainError::field("in_future", "first_occurrence"));
            }
            Some(when)
        }
        None => None,
    };
    let service_impact = opt("service_impact", &input.service_impact)?;
    let user_impact = opt("user_impact", &input.user_impact)?;
    let troubleshooting = opt("troubleshooting", &input.troubleshooting)?;
    let workaround = text::optional("workaround", input.workaround.as_deref(), FIELD_MAX)?;
    if workaround.is_some() && input.no_workaround {
        return Err(DomainError::field("workaround_conflict", "workaround"));
    }
    if workaround.is_none() && !input.no_workaround && required("workaround") {
        return Err(DomainError::field("required", "workaround"));
    }
    if required("on_behalf_of") && !input.has_on_behalf_of {
        return Err(DomainError::field("required", "on_behalf_of"));
    }
    let partner_references = check_partner_references(&input.partner_references)?;
    if partner_references.is_empty() && required("partner_reference") {
        return Err(DomainError::field("required", "partner_reference"));
    }
    let mut custom = Vec::new();
    for field in form.iter().filter(|f| f.is_custom()) {
        let value = input
            .custom
            .iter()
            .find(|(k, _)| *k == field.name)
            .map(|(_, v)| v.as_str());
        match text::optional("custom", value, FIELD_MAX)? {
            Some(v) => custom.push((field.name.clone(), v)),
            None if field.required => return Err(DomainError::field("required", "custom")),
            None => {}
        }
    }
    if let Some((name, _)) = input
        .custom
        .iter()
        .find(|(k, _)| !form.iter().any(|f| f.is_custom() && f.name == *k))
    {
        let _ = name;
        return Err(DomainError::field("unknown_field", "custom"));
    }
    let draft = Draft {
        summary,
        details,
        impact,
        urgency,
        configuration_item,
        first_occurrence,
        service_impact,
        user_impact,
        troubleshooting,
        workaround,
        no_workaround: input.no_workaround,
        partner_references,
        custom,
    };
    Ok(draft)
}

pub fn check_partner_references(refs: &[String]) -> Result<Vec<String>> {
    let mut out: Vec<String> = Vec::new();
    for r in refs {
        let r = text::clean("partner_reference", r, 64)?;
        if r.is_empty() {
            continue;
        }
        if r.contains(char::is_whitespace) && r.split_whitespace().count() > 3 {
            return Err(DomainError::field("invalid_reference", "partner_reference"));
        }
        if !out.contains(&r) {
            out.push(r);
        }
    }
    if out.len() > PARTNER_REFERENCES_MAX {
        return Err(DomainError::field("too_many", "partner_reference"));
    }
    Ok(out)
}

impl Draft {
    /// Every free-text field with its name, in the order a person reads the form.
    pub fn texts(&self) -> Vec<(&'static str, &str)> {
        let mut out = vec![
            ("summary", self.summary.as_str()),
            ("details", &self.details),
        ];
        for (name, value) in [
            ("configuration_item", &self.configuration_item),
            ("service_impact", &self.service_impact),
            ("user_impact", &self.user_impact),
            ("troubleshooting", &self.troubleshooting),
            ("workaround", &self.workaround),
        ] {
            if let Some(v) = value {
                out.push((name, v.as_str()));
            }
        }
        for (_, v) in &self.custom {
            out.push(("custom", v.as_str()));
        }
        out
    }
}

/// A field where PHI was found, and where in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PhiHit {
    pub field: &'static str,
    pub found: crate::phi::PhiMatch,
}

/// Scans named texts for PHI; the first hit wins.
pub fn find_phi<'a>(texts: impl IntoIterator<Item = (&'static str, &'a str)>) -> Option<PhiHit> {
    texts
        .into_iter()
        .find_map(|(field, value)| crate::phi::scan(value).map(|found| PhiHit { field, found }))
}

/// Text for the search index: number, summary, details, comments, folded so that
/// "evenement" finds "événement".
pub fn search_text(number: &str, parts: &[&str]) -> String {
    let mut out = String::with_capacity(parts.iter().map(|p| p.len() + 1).sum::<usize>() + 16);
    out.push_str(&text::fold(number));
    for p in parts {
        out.push(' ');
        out.push_str(&text::fold(p));
    }
    out
}

/// The words of a search, folded, made of letters and digits only (safe in FTS syntax).
pub fn search_terms(query: &str) -> Vec<String> {
    text::fold(query)
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .take(8)
        .map(str::to_owned)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_format_and_parse() {
        assert_eq!(format_number(TicketKind::Incident, 123), "INC-000123");
        assert_eq!(
            format_number(TicketKind::ServiceRequest, 1_234_567),
            "SR-1234567"
        );
        assert_eq!(
            parse_number("inc-000123"),
            Some((TicketKind::Incident, 123))
        );
        assert_eq!(parse_number("PRB-7"), Some((TicketKind::Problem, 7)));
        assert_eq!(parse_number("INC-"), None);
        assert_eq!(parse_number("INC-0"), None);
        assert_eq!(parse_number("XYZ-12"), None);
        assert_eq!(parse_number("INC-12a"), None);
        let prefixes: std::collections::HashSet<_> =
            TicketKind::ALL.iter().map(|k| k.prefix()).collect();
        assert_eq!(prefixes.len(), TicketKind::ALL.len());
    }

    #[test]
    fn restricted_kinds() {
        assert_eq!(
            TicketKind::PrivacyRequest.restriction(),
            Restriction::Privacy
        );
        assert_eq!(
            TicketKind::PrivacyIncident.restriction(),
            Restriction::Privacy
        );
        assert_eq!(
            TicketKind::SecurityIncident.restriction(),
            Restriction::Security
        );
        assert_eq!(TicketKind::Incident.restriction(), Restriction::None);
    }

    #[test]
    fn lifecycle() {
        use Status::*;
        assert!(New.can_become(InProgress));
        assert!(InProgress.can_become(PendingVendor));
        assert!(PendingCustomer.can_become(InProgress));
        assert!(PendingCustomer.can_become(PendingChange));
        assert!(InProgress.can_become(Resolved));
        assert!(Resolved.can_become(Closed));
        assert!(Resolved.can_become(InProgress));
        assert!(!Closed.can_become(InProgress));
        assert!(!Cancelled.can_become(New));
        assert!(!InProgress.can_become(New));
        assert!(!New.can_become(Closed));
        assert!(!New.can_become(New));
        assert!(customer_may_set(Resolved, InProgress));
        assert!(customer_may_set(New, Cancelled));
        assert!(!customer_may_set(New, Resolved));
        assert!(!customer_may_set(Closed, Cancelled));
    }

    #[test]
    fn reopen_period() {
        let resolved: Timestamp = "2026-11-02T10:00:00Z".parse().unwrap();
        let week = SignedDuration::from_hours(24 * 7);
        assert!(check_reopen(resolved, "2026-11-09T10:00:00Z".parse().unwrap(), week).is_ok());
        assert_eq!(
            check_reopen(resolved, "2026-11-09T10:00:01Z".parse().unwrap(), week)
                .unwrap_err()
                .code,
            "reopen_period_over"
        );
    }

    #[test]
    fn matrix_matches_the_spec() {
        assert_eq!(default_priority(1, 1), 1);
        assert_eq!(default_priority(1, 3), 2);
        assert_eq!(default_priority(2, 2), 2);
        assert_eq!(default_priority(3, 4), 4);
        assert_eq!(default_priority(4, 1), 3);
        assert_eq!(default_priority(4, 4), 4);
    }

    fn field(name: &str, required: bool) -> FormField {
        FormField {
            name: name.into(),
            required,
            label_en: None,
            label_fr: None,
        }
    }

    fn draft(input: &DraftInput, form: &[FormField]) -> Result<Draft> {
        check_draft(
            input,
            form,
            (3, 3),
            &jiff::tz::TimeZone::get("America/Toronto").unwrap(),
            "2026-11-23T12:00:00Z".parse().unwrap(),
        )
    }

    #[test]
    fn drafts_follow_their_form() {
        let form = [field("first_occurrence", true), field("workaround", true)];
        let mut input = DraftInput {
            summary: "Viewer slow".into(),
            details: "Pages take 30 s".into(),
            ..Default::default()
        };
        assert_eq!(
            draft(&input, &form).unwrap_err(),
            DomainError::field("required", "first_occurrence")
        );
        input.first_occurrence = Some("2026-11-23T06:30".into());
        assert_eq!(
            draft(&input, &form).unwrap_err(),
            DomainError::field("required", "workaround")
        );
        input.no_workaround = true;
        let ok = draft(&input, &form).unwrap();
        assert_eq!(
            ok.first_occurrence.unwrap().to_string(),
            "2026-11-23T11:30:00Z"
        );
        assert_eq!((ok.impact, ok.urgency), (3, 3));
        input.workaround = Some("Use the backup viewer".into());
        assert_eq!(
            draft(&input, &form).unwrap_err().code,
            "workaround_conflict"
        );
        input.no_workaround = false;
        input.first_occurrence = Some("2026-12-25T06:30".into());
        assert_eq!(draft(&input, &form).unwrap_err().code, "in_future");
        input.first_occurrence = Some("yesterday".into());
        assert_eq!(draft(&input, &form).unwrap_err().code, "invalid_datetime");
    }

    #[test]
    fn custom_fields_and_levels() {
        let form = [FormField {
            name: "x_username".into(),
            required: true,
            label_en: Some("User name".into()),
            label_fr: Some("Nom d'utilisateur".into()),
        }];
        check_form(&form).unwrap();
        let mut input = DraftInput {
            summary: "Locked out".into(),
            details: "Cannot sign in".into(),
            ..Default::default()
        };
        assert_eq!(
            draft(&input, &form).unwrap_err(),
            DomainError::field("required", "custom")
        );
        input.custom = vec![("x_username".into(), "jdoe".into())];
        assert!(draft(&input, &form).is_ok());
        input.custom.push(("x_other".into(), "1".into()));
        assert_eq!(draft(&input, &form).unwrap_err().code, "unknown_field");
        input.custom.pop();
        input.impact = Some(5);
        assert_eq!(
            draft(&input, &form).unwrap_err(),
            DomainError::field("out_of_range", "impact")
        );
    }

    #[test]
    fn forms_are_checked() {
        assert!(check_form(&[field("workaround", true), field("on_behalf_of", false)]).is_ok());
        assert!(check_form(&[field("favourite_colour", true)]).is_err());
        assert!(check_form(&[field("x_", true)]).is_err());
        assert!(check_form(&[field("workaround", true), field("workaround", false)]).is_err());
    }

    #[test]
    fn partner_references_are_deduplicated() {
        let refs = check_partner_references(&[
            "HHS-1".into(),
            " HHS-1 ".into(),
            "".into(),
            "NHS 22".into(),
        ])
        .unwrap();
        assert_eq!(refs, vec!["HHS-1".to_owned(), "NHS 22".to_owned()]);
    }

    #[test]
    fn search_is_accent_insensitive() {
        assert_eq!(
            search_terms("Événement «urgent»!"),
            vec!["evenement", "urgent"]
        );
        assert_eq!(
            search_text("INC-000001", &["Problème réseau"]),
            "inc-000001 probleme reseau"
        );
    }
}
