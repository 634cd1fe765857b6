//! Problems, without I/O: the workflow, the known-error rule, known errors suggested for an
//! incident, proactive trend detection, and a synthetic data set to measure that detection
//! (see `docs/problem-detection.md`).
//!
//! # Words
//! Text is compared as **normalized words** ([`normalized_words`]): split at every character
//! that is not a letter or digit, lower-cased with accents folded ([`crate::text::fold`]),
//! without English and French stop words, one-character words, or numbers of more than four
//! digits (identifiers and dates; short numbers such as `503` can be the symptom).
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::ops::Range;

use jiff::{SignedDuration, Timestamp};
use serde::Serialize;

use crate::error::DomainError;
use crate::text::{Locale, fold};

/// A closed set of values written in snake_case, with English and French labels: `ALL`,
/// `as_str`, `label(Locale)`, `FromStr` (error [`crate::status_page::UnknownValue`]) and
/// `Display`.
macro_rules! labelled_enum {
    (@unit $variant:ident) => { () };
    (
        $(#[$meta:meta])*
        $name:ident ($kind:literal) {
            $( $(#[$variant_meta:meta])* $variant:ident = $text:literal => ($en:literal, $fr:literal), )+
        }
    ) => {
        $(#[$meta])*
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord,
            ::serde::Serialize, ::serde::Deserialize, utoipa::ToSchema,
        )]
        #[serde(rename_all = "snake_case")]
        pub enum $name {
            $( $(#[$variant_meta])* $variant, )+
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: [$name; <[()]>::len(&[$(labelled_enum!(@unit $variant)),+])] =
                [$($name::$variant),+];
            const NAMES: &'static [&'static str] = &[$($text),+];

            /// The value as written in JSON and configuration.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text,)+
                }
            }

            /// The label shown to people.
            pub fn label(self, lang: $crate::text::Locale) -> &'static str {
                match self {
                    $($name::$variant => lang.pick($en, $fr),)+
                }
            }
        }

        impl ::std::str::FromStr for $name {
            type Err = $crate::status_page::UnknownValue;
            fn from_str(text: &str) -> Result<Self, Self::Err> {
                match text {
                    $($text => Ok($name::$variant),)+
                    _ => Err($crate::status_page::UnknownValue {
                        kind: $kind,
                        text: text.to_owned(),
                        accepted: $name::NAMES,
                    }),
                }
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}
pub(crate) use labelled_enum;

// ---- Workflow -----------------------------------------------------------------------------

labelled_enum! {
    /// Where a problem stands. A problem proposed by trend detection starts at `detection`; one
    /// opened by a person starts at `logging`.
    ProblemStatus ("problem status") {
        Detection = "detection" => ("Detection", "Détection"),
        Logging = "logging" => ("Logging and classification", "Enregistrement et classement"),
        Assignment = "assignment" => ("Assignment", "Affectation"),
        Investigation = "investigation"
            => ("Investigation and diagnosis", "Investigation et diagnostic"),
        Resolution = "resolution" => ("Resolution", "Résolution"),
        Verification = "verification" => ("Verification", "Vérification"),
        Closed = "closed" => ("Closed", "Fermé"),
        Cancelled = "cancelled" => ("Cancelled", "Annulé"),
    }
}

impl ProblemStatus {
    /// Closed and cancelled problems are read-only.
    pub fn is_final(self) -> bool {
        matches!(self, ProblemStatus::Closed | ProblemStatus::Cancelled)
    }

    /// The next step of the workflow; `None` from closed and cancelled.
    pub fn next(self) -> Option<ProblemStatus> {
        use ProblemStatus::*;
        match self {
            Detection => Some(Logging),
            Logging => Some(Assignment),
            Assignment => Some(Investigation),
            Investigation => Some(Resolution),
            Resolution => Some(Verification),
            Verification => Some(Closed),
            Closed | Cancelled => None,
        }
    }
}

/// The moves the workflow allows:
/// - one step forward (detection → logging → assignment → investigation → resolution →
///   verification → closed);
/// - back to investigation from resolution (the fix cannot be built as diagnosed) or from
///   verification (the fix did not work);
/// - to cancelled from any open status (a duplicate, or not a problem after all).
///
/// Closing also needs a verified resolution: see [`check_move`].
pub fn can_move(from: ProblemStatus, to: ProblemStatus) -> bool {
    use ProblemStatus::*;
    if from.is_final() {
        return false;
    }
    from.next() == Some(to)
        || (to == Investigation && matches!(from, Resolution | Verification))
        || to == Cancelled
}

/// Why a problem cannot move.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ProblemRefusal {
    #[error("a problem is closed only from verification, once its resolution is verified")]
    ResolutionNotVerified,
    #[error("a problem cannot move from {from} to {to}")]
    InvalidTransition {
        from: ProblemStatus,
        to: ProblemStatus,
    },
}

impl ProblemRefusal {
    /// Stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            ProblemRefusal::ResolutionNotVerified => "resolution_not_verified",
            ProblemRefusal::InvalidTransition { .. } => "invalid_transition",
        }
    }
}

impl From<ProblemRefusal> for DomainError {
    fn from(refusal: ProblemRefusal) -> Self {
        DomainError::field(refusal.code(), "status")
    }
}

/// [`can_move`], and closure only from verification with `resolution_verified`. Any attempt
/// to close an open problem otherwise is refused as `resolution_not_verified`, the reason a
/// person needs to hear.
pub fn check_move(
    from: ProblemStatus,
    to: ProblemStatus,
    resolution_verified: bool,
) -> Result<(), ProblemRefusal> {
    if to == ProblemStatus::Closed
        && !from.is_final()
        && (from != ProblemStatus::Verification || !resolution_verified)
    {
        return Err(ProblemRefusal::ResolutionNotVerified);
    }
    if can_move(from, to) {
        Ok(())
    } else {
        Err(ProblemRefusal::InvalidTransition { from, to })
    }
}

/// A problem with a documented root cause and/or workaround (not blank) is a known error.
pub fn is_known_error(root_cause: Option<&str>, workaround: Option<&str>) -> bool {
    let documented = |text: Option<&str>| text.is_some_and(|text| !text.trim().is_empty());
    documented(root_cause) || documented(workaround)
}

// ---- Words --------------------------------------------------------------------------------

/// Words that say nothing about a symptom, folded (no accents). "down", "up", "no", "not",
/// "out" and "off" are kept: they often are the symptom.
const STOP_WORDS: &[&str] = &[
    // English
    "a", "about", "after", "again", "all", "also", "am", "an", "and", "any", "are", "as", "at",
    "be", "been", "before", "being", "but", "by", "can", "could", "did", "do", "does", "during",
    "each", "for", "from", "had", "has", "have", "he", "her", "here", "his", "how", "i", "if",
    "in", "into", "is", "it", "its", "just", "may", "me", "might", "more", "most", "my", "of",
    "on", "only", "or", "other", "our", "over", "per", "she", "should", "so", "some", "such",
    "than", "that", "the", "their", "them", "then", "there", "these", "they", "this", "those",
    "to", "too", "under", "very", "via", "was", "we", "were", "what", "when", "where", "which",
    "while", "who", "why", "will", "with", "would", "you", "your", // French (folded)
    "au", "aux", "avec", "ce", "ces", "cet", "cette", "dans", "de", "des", "du", "elle", "elles",
    "en", "entre", "est", "et", "etaient", "etait", "ete", "etre", "il", "ils", "je", "la", "le",
    "les", "leur", "leurs", "lors", "mais", "nous", "ont", "ou", "par", "pas", "pour", "qu", "que",
    "qui", "sa", "sans", "se", "ses", "son", "sont", "sous", "sur", "tres", "un", "une", "vous",
];

/// The words of `text` with their byte ranges, after normalization (see the
/// [module documentation](self)).
fn words_with_spans(text: &str) -> Vec<(String, Range<usize>)> {
    let mut words = Vec::new();
    let mut start = None;
    let mut push = |range: Range<usize>| {
        let word = fold(&text[range.clone()]);
        let all_digits = word.chars().all(|c| c.is_ascii_digit());
        if word.chars().count() >= 2
            && !(all_digits && word.len() > 4)
            && !STOP_WORDS.contains(&word.as_str())
        {
            words.push((word, range));
        }
    };
    for (index, character) in text.char_indices() {
        match (character.is_alphanumeric(), start) {
            (true, None) => start = Some(index),
            (false, Some(from)) => {
                push(from..index);
                start = None;
            }
            _ => {}
        }
    }
    if let Some(from) = start {
        push(from..text.len());
    }
    words
}

/// The normalized words of `text`: "L'interface HL7 est en panne" → `["interface", "hl7",
/// "panne"]`.
pub fn normalized_words(text: &str) -> Vec<String> {
    words_with_spans(text)
        .into_iter()
        .map(|(word, _)| word)
        .collect()
}

/// Compares configuration items, services, sites: trimmed, case and accents ignored; blank
/// is no value.
fn value_key(value: Option<&str>) -> Option<String> {
    let value = value?.trim();
    (!value.is_empty()).then(|| fold(value))
}

// ---- Known-error suggestions ------------------------------------------------------------

/// The incident an agent is working, as matched against known errors.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct IncidentProfile {
    pub configuration_item: Option<String>,
    pub service: Option<String>,
    pub summary: String,
    pub details: String,
}

/// A known error as offered to agents.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct KnownError {
    pub id: i64,
    pub configuration_item: Option<String>,
    pub service: Option<String>,
    pub summary: String,
    pub details: String,
    pub workaround: String,
}

/// Why a known error is suggested.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", content = "words", rename_all = "snake_case")]
pub enum MatchReason {
    SameConfigurationItem,
    SameService,
    /// Normalized words both texts hold, in the incident's order (at most
    /// [`MAX_REASON_WORDS`]).
    SharedWords(Vec<String>),
}

/// Most shared words named in a reason.
pub const MAX_REASON_WORDS: usize = 6;

impl MatchReason {
    /// "same configuration item", "shares: hl7 feed timeout".
    pub fn text(&self, lang: Locale) -> String {
        match self {
            MatchReason::SameConfigurationItem => {
                { lang.pick("same configuration item", "même élément de configuration") }.to_owned()
            }
            MatchReason::SameService => lang.pick("same service", "même service").to_owned(),
            MatchReason::SharedWords(words) => match lang {
                Locale::En => format!("shares: {}", words.join(" ")),
                Locale::Fr => format!("mots communs : {}", words.join(" ")),
            },
        }
    }
}

/// A known error suggested for an incident.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct KnownErrorSuggestion {
    pub known_error_id: i64,
    /// From 0 to 1: see [`suggest_known_errors`].
    pub score: f64,
    pub reasons: Vec<MatchReason>,
    pub workaround: String,
}

impl KnownErrorSuggestion {
    /// The reasons joined: "same configuration item; shares: hl7 feed timeout".
    pub fn reason(&self, lang: Locale) -> String {
        self.reasons
            .iter()
            .map(|reason| reason.text(lang))
            .collect::<Vec<_>>()
            .join("; ")
    }
}

/// Weight of a shared configuration item in a suggestion's score.
pub const SAME_CONFIGURATION_ITEM_WEIGHT: f64 = 0.45;
/// Weight of a shared service.
pub const SAME_SERVICE_WEIGHT: f64 = 0.25;
/// Weight of the text similarity.
pub const TEXT_WEIGHT: f64 = 0.30;
/// Text similarity at which a known error on another service is suggested.
pub const MIN_TEXT_SIMILARITY: f64 = 0.25;

/// The best `limit` known errors for an incident, best first (ties: lower id first).
///
/// Score = 0.45 for the same configuration item + 0.25 for the same service + 0.30 × the text
/// similarity: the cosine of the normalized word sets of summary and details
/// (|A ∩ B| / √(|A| · |B|)), which, unlike Jaccard, does not punish long details much. A
/// known error is suggested when it is on the same configuration item, or shares at least
/// one word and is on the same service or reaches [`MIN_TEXT_SIMILARITY`].
pub fn suggest_known_errors(
    incident: &IncidentProfile,
    known_errors: &[KnownError],
    limit: usize,
) -> Vec<KnownErrorSuggestion> {
    let incident_words = ordered_unique(normalized_words(&format!(
        "{}\n{}",
        incident.summary, incident.details
    )));
    let incident_set: HashSet<&str> = incident_words.iter().map(String::as_str).collect();
    let incident_ci = value_key(incident.configuration_item.as_deref());
    let incident_service = value_key(incident.service.as_deref());
    let mut suggestions: Vec<KnownErrorSuggestion> = known_errors
        .iter()
        .filter_map(|known| {
            let words: HashSet<String> =
                normalized_words(&format!("{}\n{}", known.summary, known.details))
                    .into_iter()
                    .collect();
            let shared: Vec<String> = incident_words
                .iter()
                .filter(|word| words.contains(*word))
                .cloned()
                .collect();
            let similarity = if shared.is_empty() {
                0.0
            } else {
                shared.len() as f64 / ((incident_set.len() * words.len()) as f64).sqrt()
            };
            let same_ci = incident_ci.is_some()
                && incident_ci == value_key(known.configuration_item.as_deref());
            let same_service = incident_service.is_some()
                && incident_service == value_key(known.service.as_deref());
            let suggested = same_ci
                || (!shared.is_empty() && (same_service || similarity >= MIN_TEXT_SIMILARITY));
            if !suggested {
                return None;
            }
            let mut reasons = Vec::new();
            if same_ci {
                reasons.push(MatchReason::SameConfigurationItem);
            }
            if same_service {
                reasons.push(MatchReason::SameService);
            }
            if !shared.is_empty() {
                reasons.push(MatchReason::SharedWords(
                    shared.into_iter().take(MAX_REASON_WORDS).collect(),
                ));
            }
            let score = f64::from(u8::from(same_ci)) * SAME_CONFIGURATION_ITEM_WEIGHT
                + f64::from(u8::from(same_service)) * SAME_SERVICE_WEIGHT
                + similarity * TEXT_WEIGHT;
            Some(KnownErrorSuggestion {
                known_error_id: known.id,
                score,
                reasons,
                workaround: known.workaround.clone(),
            })
        })
        .collect();
    suggestions.sort_by(|a, b| {
        b.score
            .total_cmp(&a.score)
            .then_with(|| a.known_error_id.cmp(&b.known_error_id))
    });
    suggestions.truncate(limit);
    suggestions
}

fn ordered_unique(words: Vec<String>) -> Vec<String> {
    let mut seen = HashSet::new();
    words
        .into_iter()
        .filter(|word| seen.insert(word.clone()))
        .collect()
}

// ---- Proactive trend detection --------------------------------------------------------

labelled_enum! {
    /// What the incidents of a trend have in common. Declared in order of preference.
    TrendDimension ("trend dimension") {
        ConfigurationItem = "configuration_item"
            => ("configuration item", "élément de configuration"),
        Site = "site" => ("site", "site"),
        Environment = "environment" => ("environment", "environnement"),
        Service = "service" => ("service", "service"),
    }
}

impl TrendDimension {
    fn value_of(self, incident: &IncidentFacts) -> Option<&str> {
        match self {
            TrendDimension::ConfigurationItem => incident.configuration_item.as_deref(),
            TrendDimension::Site => incident.site.as_deref(),
            TrendDimension::Environment => incident.environment.as_deref(),
            TrendDimension::Service => incident.service.as_deref(),
        }
    }

    /// "on configuration item X", "sur le site X".
    fn place(self, lang: Locale, value: &str) -> String {
        match (self, lang) {
            (TrendDimension::ConfigurationItem, Locale::En) => {
                format!("on configuration item {value}")
            }
            (TrendDimension::ConfigurationItem, Locale::Fr) => {
                format!("sur l'élément de configuration {value}")
            }
            (TrendDimension::Site, Locale::En) => format!("at site {value}"),
            (TrendDimension::Site, Locale::Fr) => format!("sur le site {value}"),
            (TrendDimension::Environment, Locale::En) => format!("in environment {value}"),
            (TrendDimension::Environment, Locale::Fr) => format!("dans l'environnement {value}"),
            (TrendDimension::Service, Locale::En) => format!("on service {value}"),
            (TrendDimension::Service, Locale::Fr) => format!("sur le service {value}"),
        }
    }
}

/// What trend detection needs of an incident.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncidentFacts {
    pub id: i64,
    pub opened_at: Timestamp,
    pub configuration_item: Option<String>,
    pub site: Option<String>,
    pub environment: Option<String>,
    pub service: Option<String>,
    pub summary: String,
}

/// When repeated incidents make a trend.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct TrendThresholds {
    /// Incidents sharing the symptom within one window (at least 2 are required whatever
    /// this says).
    pub min_incidents: usize,
    /// Longest time between the first and last incident of a window.
    pub window: SignedDuration,
    /// Words in the shared phrase (at least 1).
    pub min_shared_words: usize,
}

impl Default for TrendThresholds {
    /// 5 incidents within 14 days sharing a phrase of 2 words or more.
    fn default() -> Self {
        TrendThresholds {
            min_incidents: 5,
            window: SignedDuration::from_hours(14 * 24),
            min_shared_words: 2,
        }
    }
}

/// Longest phrase compared, in words: bounds the work on long summaries.
pub const MAX_PHRASE_WORDS: usize = 12;

/// A pattern an agent dismissed. Its identity is the dimension, the value (trimmed, case and
/// accents ignored) and the set of incidents.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DismissedPattern {
    pub dimension: TrendDimension,
    pub value: String,
    pub incident_ids: Vec<i64>,
}

impl DismissedPattern {
    fn identity(&self) -> (TrendDimension, Option<String>, BTreeSet<i64>) {
        (
            self.dimension,
            value_key(Some(&self.value)),
            self.incident_ids.iter().copied().collect(),
        )
    }
}

/// A problem proposed from a trend.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProposedProblem {
    pub dimension: TrendDimension,
    /// As written on the earliest incident.
    pub value: String,
    /// In increasing order.
    pub incident_ids: Vec<i64>,
    /// The shared phrase, normalized: "hl7 feed timeout".
    pub shared: String,
    /// The same phrase as written in the earliest incident's summary: "HL7 feed timeout".
    pub shared_text: String,
    pub first_opened_at: Timestamp,
    pub last_opened_at: Timestamp,
    /// "7 incidents on configuration item X in 6 days, summaries share 'HL7 feed timeout'".
    pub reason_en: String,
    pub reason_fr: String,
}

impl ProposedProblem {
    /// The pattern to record when an agent dismisses this proposal.
    pub fn pattern(&self) -> DismissedPattern {
        DismissedPattern {
            dimension: self.dimension,
            value: self.value.clone(),
            incident_ids: self.incident_ids.clone(),
        }
    }

    /// The reason in `lang`.
    pub fn reason(&self, lang: Locale) -> &str {
        lang.pick(&self.reason_en, &self.reason_fr)
    }
}

struct PreparedIncident<'a> {
    facts: &'a IncidentFacts,
    words: Vec<(String, Range<usize>)>,
}

/// Trends in `incidents`: groups of incidents with the same configuration item, site,
/// environment or service whose summaries share a phrase, at least
/// `thresholds.min_incidents` of them within `thresholds.window`.
///
/// For each dimension and value, incidents in time order:
/// 1. Every phrase (run of consecutive normalized words, from `min_shared_words` to
///    [`MAX_PHRASE_WORDS`] words) is collected with the incidents holding it.
/// 2. The **longest** phrase (then the one held by more incidents, then the alphabetically
///    first) that at least `min_incidents` of them hold within some window wins. Its
///    incidents in every such window are proposed; windows that share incidents make one
///    proposal, so a trend lasting longer than the window is one proposal, not several.
/// 3. Those incidents are set aside and the search repeats, for a second trend in the group.
///
/// Dimensions are searched in the order configuration item, site, environment, service: a
/// proposal whose incidents all belong to an earlier proposal (the same trend seen on the
/// coarser dimension) is dropped. A proposal identical to a dismissed pattern is not made,
/// and still hides the same incidents on coarser dimensions; once another incident joins, the
/// set differs and it is proposed again. Incidents with the same id are taken once. Output:
/// in dimension order, then by value, then by first incident.
pub fn detect_trends(
    incidents: &[IncidentFacts],
    thresholds: &TrendThresholds,
    dismissed: &[DismissedPattern],
) -> Vec<ProposedProblem> {
    let min_incidents = thresholds.min_incidents.max(2);
    let min_words = thresholds.min_shared_words.max(1);
    let window = thresholds.window.max(SignedDuration::ZERO);
    let mut ordered: Vec<&IncidentFacts> = incidents.iter().collect();
    ordered.sort_by(|a, b| a.opened_at.cmp(&b.opened_at).then(a.id.cmp(&b.id)));
    let mut seen_ids = HashSet::new();
    let prepared: Vec<PreparedIncident> = ordered
        .into_iter()
        .filter(|facts| seen_ids.insert(facts.id))
        .map(|facts| PreparedIncident {
            facts,
            words: words_with_spans(&facts.summary),
        })
        .collect();
    let dismissed: HashSet<_> = dismissed.iter().map(DismissedPattern::identity).collect();

    let mut covered: Vec<BTreeSet<i64>> = Vec::new();
    let mut proposals = Vec::new();
    for dimension in TrendDimension::ALL {
        let mut groups: BTreeMap<String, Vec<usize>> = BTreeMap::new();
        for (index, incident) in prepared.iter().enumerate() {
            if let Some(key) = value_key(dimension.value_of(incident.facts)) {
                groups.entry(key).or_default().push(index);
            }
        }
        for (key, members) in groups {
            for (phrase, cluster) in
                group_trends(&prepared, members, min_incidents, min_words, window)
            {
                let ids: BTreeSet<i64> = cluster.iter().map(|&i| prepared[i].facts.id).collect();
                if covered.iter().any(|earlier| ids.is_subset(earlier)) {
                    continue;
                }
                let is_dismissed = dismissed.contains(&(dimension, Some(key.clone()), ids.clone()));
                covered.push(ids);
                if !is_dismissed {
                    proposals.push(proposal(&prepared, dimension, &phrase, &cluster));
                }
            }
        }
    }
    proposals
}

/// The trends of one group (indices into `prepared`, in time order): each a phrase and its
/// incidents, in the order found.
fn group_trends(
    prepared: &[PreparedIncident],
    mut remaining: Vec<usize>,
    min_incidents: usize,
    min_words: usize,
    window: SignedDuration,
) -> Vec<(Vec<String>, Vec<usize>)> {
    let mut trends = Vec::new();
    while remaining.len() >= min_incidents {
        // Each phrase with the incidents holding it (each once, in time order).
        let mut holders: HashMap<Vec<&str>, Vec<usize>> = HashMap::new();
        for &index in &remaining {
            let words: Vec<&str> = prepared[index]
                .words
                .iter()
                .map(|(word, _)| word.as_str())
                .collect();
            let mut phrases_seen = HashSet::new();
            for length in min_words..=words.len().min(MAX_PHRASE_WORDS) {
                for phrase in words.windows(length) {
                    if phrases_seen.insert(phrase) {
                        holders.entry(phrase.to_vec()).or_default().push(index);
                    }
                }
            }
        }
        let mut candidates: Vec<(Vec<&str>, Vec<usize>)> = holders
            .into_iter()
            .filter(|(_, indices)| indices.len() >= min_incidents)
            .collect();
        candidates.sort_by(|a, b| {
            b.0.len()
                .cmp(&a.0.len())
                .then(b.1.len().cmp(&a.1.len()))
                .then_with(|| a.0.cmp(&b.0))
        });
        let found = candidates.into_iter().find_map(|(phrase, indices)| {
            let times: Vec<Timestamp> = indices
                .iter()
                .map(|&i| prepared[i].facts.opened_at)
                .collect();
            let clusters = window_clusters(&times, min_incidents, window);
            (!clusters.is_empty()).then(|| {
                let clusters: Vec<Vec<usize>> = clusters
                    .into_iter()
                    .map(|range| indices[range].to_vec())
                    .collect();
                (
                    phrase
                        .iter()
                        .map(|word| (*word).to_owned())
                        .collect::<Vec<_>>(),
                    clusters,
                )
            })
        });
        let Some((phrase, clusters)) = found else {
            break;
        };
        let taken: HashSet<usize> = clusters.iter().flatten().copied().collect();
        remaining.retain(|index| !taken.contains(index));
        trends.extend(
            clusters
                .into_iter()
                .map(|cluster| (phrase.clone(), cluster)),
        );
    }
    trends
}

/// Runs of `times` (sorted) covered by windows of at most `window` that hold at least
/// `min_incidents` instants, windows sharing an instant merged.
fn window_clusters(
    times: &[Timestamp],
    min_incidents: usize,
    window: SignedDuration,
) -> Vec<Range<usize>> {
    let mut clusters: Vec<Range<usize>> = Vec::new();
    let mut last = 0;
    for first in 0..times.len() {
        last = last.max(first);
        while last + 1 < times.len() && times[last + 1].duration_since(times[first]) <= window {
            last += 1;
        }
        if last + 1 - first < min_incidents {
            continue;
        }
        match clusters.last_mut() {
            Some(cluster) if first < cluster.end => cluster.end = cluster.end.max(last + 1),
            _ => clusters.push(first..last + 1),
        }
    }
    clusters
}

fn proposal(
    prepared: &[PreparedIncident],
    dimension: TrendDimension,
    phrase: &[String],
    cluster: &[usize],
) -> ProposedProblem {
    let first = &prepared[cluster[0]];
    let last = &prepared[cluster[cluster.len() - 1]];
    let value = dimension
        .value_of(first.facts)
        .unwrap_or_default()
        .trim()
        .to_owned();
    let shared = phrase.join(" ");
    let shared_text = written_phrase(first, phrase).unwrap_or_else(|| shared.clone());
    let mut incident_ids: Vec<i64> = cluster.iter().map(|&i| prepared[i].facts.id).collect();
    incident_ids.sort_unstable();
    let span = last.facts.opened_at.duration_since(first.facts.opened_at);
    let days = span.as_secs().div_euclid(86_400) + i64::from(span.as_secs() % 86_400 != 0);
    let days = days.max(1);
    let count = incident_ids.len();
    let reason_en = format!(
        "{count} incidents {} in {days} day{}, summaries share '{shared_text}'",
        dimension.place(Locale::En, &value),
        if days == 1 { "" } else { "s" },
    );
    let reason_fr = format!(
        "{count} incidents {} en {days} jour{}, les résumés ont en commun « {shared_text} »",
        dimension.place(Locale::Fr, &value),
        if days == 1 { "" } else { "s" },
    );
    ProposedProblem {
        dimension,
        value,
        incident_ids,
        shared,
        shared_text,
        first_opened_at: first.facts.opened_at,
        last_opened_at: last.facts.opened_at,
        reason_en,
        reason_fr,
    }
}

/// The phrase as written in the incident's summary: from its first word to its last,
/// stop words in between included.
fn written_phrase(incident: &PreparedIncident, phrase: &[String]) -> Option<String> {
    let words = &incident.words;
    (0..words.len().checked_sub(phrase.len())? + 1).find_map(|start| {
        let run = &words[start..start + phrase.len()];
        let matches = run
            .iter()
            .zip(phrase)
            .all(|((word, _), wanted)| word == wanted);
        let from = run.first()?.1.start;
        let to = run.last()?.1.end;
        matches.then(|| incident.facts.summary[from..to].to_owned())
    })
}

// ---- Synthetic data for the precision / recall evaluation ----------------------------------

/// A trend to plant in a synthetic data set: `incidents` incidents on one configuration item,
/// site and service, in production, opened within `span`, whose summaries hold `symptom`
/// among otherwise varied words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlantedTrend {
    pub configuration_item: String,
    pub site: String,
    pub service: String,
    pub symptom: String,
    pub incidents: usize,
    pub span: SignedDuration,
}

/// SplitMix64: a tiny, well-mixed deterministic generator (Steele, Lea and Flood, 2014).
struct SplitMix64(u64);

impl SplitMix64 {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..bound` (0 when `bound` is 0).
    fn below(&mut self, bound: u64) -> u64 {
        ((u128::from(self.next_u64()) * u128::from(bound)) >> 64) as u64
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
}

#[rustfmt::skip]
const NOISE_WORDS: &[&str] = &[
    "login", "slow", "portal", "page", "blank", "printer", "queue", "stuck", "password", "reset",
    "account", "locked", "report", "missing", "lab", "result", "delayed", "image", "viewer",
    "crash", "certificate", "expired", "vpn", "tunnel", "dropped", "dns", "lookup", "failure",
    "disk", "full", "backup", "job", "failed", "query", "returns", "duplicate", "patient",
    "record", "merge", "error", "message", "rejected", "acknowledgement", "missed", "batch",
    "upload", "partial", "download", "corrupt", "file", "token", "invalid", "session", "timeout",
    "browser", "plugin", "outdated", "memory", "leak", "cpu", "spike", "network", "latency",
    "packet", "loss", "firewall", "rule", "blocked", "proxy", "refused", "connection",
    "sync", "lag", "index", "rebuild", "schedule", "conflict", "appointment", "overlap", "fax",
    "gateway", "unreachable", "mailbox", "quota", "exceeded", "license", "renewal", "audit",
    "export", "truncated", "encoding", "garbled", "accents", "écran", "figé", "données",
    "manquantes", "accès", "refusé", "imprimante", "hors", "ligne", "courriel", "bloqué",
];

const NOISE_SITES: &[&str] = &[
    "Kingston General",
    "Ottawa Civic",
    "Sudbury Regional",
    "Thunder Bay",
    "London Health",
    "Hamilton North",
    "Windsor Central",
    "Barrie Royal",
    "Timmins District",
    "Peterborough",
    "Sault Ste. Marie",
    "Hôpital Montfort",
    "Kenora Lake",
    "Owen Sound",
    "Cornwall Community",
];

const NOISE_CI_KINDS: &[&str] = &[
    "hl7-engine",
    "lab-interface",
    "pacs-gateway",
    "portal-web",
    "mpi-db",
    "cert-store",
    "vpn-link",
    "dicom-router",
];

const NOISE_SERVICES: &[&str] = &[
    "Clinical Viewer",
    "Lab Results",
    "Diagnostic Imaging",
    "Client Registry",
    "Provider Portal",
    "Secure Messaging",
    "Identity and Access",
    "Integration Engine",
];

const ENVIRONMENTS: &[&str] = &["production", "production", "production", "test", "training"];

/// A year from 2026-01-01T00:00:00Z, in seconds.
const SYNTHETIC_START_SECONDS: i64 = 1_767_225_600;
const SYNTHETIC_YEAR_SECONDS: u64 = 365 * 86_400;

/// A deterministic synthetic data set: `noise` incidents spread over 2026 with varied
/// summaries (4 to 7 words from a fixed vocabulary, English and French), configuration items,
/// sites, environments and services, plus the `planted` trends. Noise never uses a word of a
/// planted symptom, so the planted trends are the only ones by construction. Ids run from 1
/// in order of opening. Returns the incidents and, per planted trend, its incident ids in
/// increasing order.
pub fn synthetic_incidents(
    seed: u64,
    planted: &[PlantedTrend],
    noise: usize,
) -> (Vec<IncidentFacts>, Vec<Vec<i64>>) {
    let mut random = SplitMix64(seed);
    let symptom_words: HashSet<String> = planted
        .iter()
        .flat_map(|trend| normalized_words(&trend.symptom))
        .collect();
    let vocabulary: Vec<&str> = NOISE_WORDS
        .iter()
        .copied()
        .filter(|word| {
            normalized_words(word)
                .iter()
                .all(|normalized| !symptom_words.contains(normalized))
        })
        .collect();
    let random_words = |random: &mut SplitMix64, count: u64| -> Vec<&str> {
        (0..count).map(|_| *random.pick(&vocabulary)).collect()
    };
    let at = |seconds: u64| {
        Timestamp::from_second(SYNTHETIC_START_SECONDS + i64::try_from(seconds).unwrap_or(0))
            .unwrap_or(Timestamp::UNIX_EPOCH)
    };

    // (incident without id, planted trend index)
    let mut drafts: Vec<(IncidentFacts, Option<usize>)> = Vec::new();
    for _ in 0..noise {
        let count = 4 + random.below(4);
        let words = random_words(&mut random, count);
        let configuration_item =
            format!("{}-{:02}", random.pick(NOISE_CI_KINDS), 1 + random.below(5));
        drafts.push((
            IncidentFacts {
                id: 0,
                opened_at: at(random.below(SYNTHETIC_YEAR_SECONDS)),
                configuration_item: Some(configuration_item),
                site: Some((*random.pick(NOISE_SITES)).to_owned()),
                environment: Some((*random.pick(ENVIRONMENTS)).to_owned()),
                service: Some((*random.pick(NOISE_SERVICES)).to_owned()),
                summary: capitalize(&words.join(" ")),
            },
            None,
        ));
    }
    for (trend_index, trend) in planted.iter().enumerate() {
        let span = u64::try_from(trend.span.as_secs()).unwrap_or(0);
        let start = random.below(SYNTHETIC_YEAR_SECONDS.saturating_sub(span).max(1));
        for _ in 0..trend.incidents {
            let count = 1 + random.below(3);
            let before = random_words(&mut random, count);
            let count = random.below(3);
            let after = random_words(&mut random, count);
            let summary = [before.join(" "), trend.symptom.clone(), after.join(" ")]
                .join(" ")
                .trim()
                .to_owned();
            drafts.push((
                IncidentFacts {
                    id: 0,
                    opened_at: at(start + random.below(span + 1)),
                    configuration_item: Some(trend.configuration_item.clone()),
                    site: Some(trend.site.clone()),
                    environment: Some("production".to_owned()),
                    service: Some(trend.service.clone()),
                    summary: capitalize(&summary),
                },
                Some(trend_index),
            ));
        }
    }
    drafts.sort_by_key(|draft| draft.0.opened_at);
    let mut planted_ids = vec![Vec::new(); planted.len()];
    let incidents = drafts
        .into_iter()
        .enumerate()
        .map(|(index, (mut incident, trend))| {
            incident.id = index as i64 + 1;
            if let Some(trend) = trend {
                planted_ids[trend].push(incident.id);
            }
            incident
        })
        .collect();
    (incidents, planted_ids)
}

fn capitalize(text: &str) -> String {
    let mut characters = text.chars();
    characters.next().map_or_else(String::new, |first| {
        first.to_uppercase().chain(characters).collect()
    })
}

/// Precision and recall of proposals against the planted sets, counting a proposal as right
/// only when its incidents are exactly one planted set. Each is 1 when there is nothing to
/// count (no proposal, no planted set).
pub fn precision_recall(proposals: &[ProposedProblem], planted: &[Vec<i64>]) -> (f64, f64) {
    let planted: HashSet<BTreeSet<i64>> = planted
        .iter()
        .map(|ids| ids.iter().copied().collect())
        .collect();
    let proposed: HashSet<BTreeSet<i64>> = proposals
        .iter()
        .map(|proposal| proposal.incident_ids.iter().copied().collect())
        .collect();
    let right = proposals
        .iter()
        .filter(|proposal| planted.contains(&proposal.incident_ids.iter().copied().collect()))
        .count();
    let found = planted.iter().filter(|ids| proposed.contains(*ids)).count();
    let ratio = |part: usize, whole: usize| {
        if whole == 0 {
            1.0
        } else {
            part as f64 / whole as f64
        }
    };
    (ratio(right, proposals.len()), ratio(found, planted.len()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    // ---- workflow ----

    #[test]
    fn statuses_round_trip_and_have_labels() {
        for status in ProblemStatus::ALL {
            assert_eq!(status.as_str().parse::<ProblemStatus>(), Ok(status));
            assert!(!status.label(Locale::En).is_empty());
            assert_ne!(
                status.label(Locale::En),
                status.label(Locale::Fr),
                "{status}"
            );
        }
        assert_eq!(
            ProblemStatus::Investigation.label(Locale::Fr),
            "Investigation et diagnostic"
        );
        let error = "diagnosis".parse::<ProblemStatus>().unwrap_err();
        assert!(error.to_string().contains("investigation"));
        assert_eq!(
            serde_json::to_string(&ProblemStatus::Verification).unwrap(),
            "\"verification\""
        );
    }

    #[test]
    fn workflow_moves_one_step_forward_with_documented_jumps() {
        use ProblemStatus::*;
        let path = [
            Detection,
            Logging,
            Assignment,
            Investigation,
            Resolution,
            Verification,
            Closed,
        ];
        for pair in path.windows(2) {
            assert!(can_move(pair[0], pair[1]), "{} → {}", pair[0], pair[1]);
            assert!(!can_move(pair[1], pair[0]) || pair[0] == Investigation);
        }
        assert!(!can_move(Logging, Investigation));
        assert!(!can_move(Detection, Closed));
        assert!(can_move(Verification, Investigation));
        assert!(can_move(Resolution, Investigation));
        assert!(!can_move(Assignment, Logging));
        for status in ProblemStatus::ALL {
            assert!(!can_move(status, status));
            assert_eq!(can_move(status, Cancelled), !status.is_final());
            assert!(!can_move(Closed, status));
            assert!(!can_move(Cancelled, status));
        }
    }

    #[test]
    fn closing_needs_verification_of_the_resolution() {
        use ProblemStatus::*;
        assert_eq!(check_move(Verification, Closed, true), Ok(()));
        for (from, verified) in [
            (Verification, false),
            (Resolution, true),
            (Investigation, false),
            (Logging, true),
        ] {
            let refusal = check_move(from, Closed, verified).unwrap_err();
            assert_eq!(refusal.code(), "resolution_not_verified", "{from}");
            assert_eq!(DomainError::from(refusal).code, "resolution_not_verified");
        }
        assert_eq!(
            check_move(Logging, Resolution, true).unwrap_err().code(),
            "invalid_transition"
        );
        assert_eq!(
            check_move(Closed, Closed, true).unwrap_err().code(),
            "invalid_transition"
        );
        assert_eq!(check_move(Assignment, Investigation, false), Ok(()));
    }

    #[test]
    fn known_errors_need_a_documented_cause_or_workaround() {
        assert!(is_known_error(Some("Expired certificate"), None));
        assert!(is_known_error(None, Some("Restart the feed")));
        assert!(is_known_error(Some(" x "), Some("")));
        assert!(!is_known_error(None, None));
        assert!(!is_known_error(Some("  "), Some("\n\t")));
    }

    // ---- words ----

    #[test]
    fn words_are_folded_without_stop_words() {
        assert_eq!(
            normalized_words("L'interface HL7 est en panne depuis 10:30 (INC-000123)"),
            ["interface", "hl7", "panne", "depuis", "10", "30", "inc"]
        );
        assert_eq!(
            normalized_words("The HL7 feed is DOWN — Délai dépassé à l'hôpital"),
            ["hl7", "feed", "down", "delai", "depasse", "hopital"]
        );
        assert_eq!(
            normalized_words("HTTP 503 on 2026-03-10"),
            ["http", "503", "2026", "03", "10"]
        );
        assert!(normalized_words("a b c 1234567").is_empty());
    }

    // ---- known-error suggestions ----

    fn known(id: i64, ci: &str, service: &str, summary: &str) -> KnownError {
        KnownError {
            id,
            configuration_item: (!ci.is_empty()).then(|| ci.to_owned()),
            service: (!service.is_empty()).then(|| service.to_owned()),
            summary: summary.to_owned(),
            details: String::new(),
            workaround: format!("workaround {id}"),
        }
    }

    #[test]
    fn suggestions_rank_configuration_item_then_service_then_text() {
        let incident = IncidentProfile {
            configuration_item: Some("HL7-ENGINE-01".into()),
            service: Some("Lab Results".into()),
            summary: "HL7 feed timeout from the lab".into(),
            details: "Messages queue up; the feed times out after 30 s.".into(),
        };
        let candidates = [
            known(1, "", "", "Printer offline"),
            known(2, "", "Lab Results", "HL7 feed timeout"),
            known(3, " hl7-engine-01 ", "", "Disk full"),
            known(
                4,
                "HL7-ENGINE-01",
                "Lab Results",
                "HL7 feed timeout on engine restart",
            ),
            known(5, "", "Other", "Lab HL7 feed timeout messages queue"),
            known(6, "", "Lab Results", "Password reset broken"),
        ];
        let suggestions = suggest_known_errors(&incident, &candidates, 10);
        let ids: Vec<i64> = suggestions.iter().map(|s| s.known_error_id).collect();
        assert_eq!(ids, [4, 3, 2, 5]);
        assert_eq!(
            suggestions[0].reason(Locale::En),
            "same configuration item; same service; shares: hl7 feed timeout"
        );
        assert_eq!(suggestions[1].reason(Locale::En), "same configuration item");
        assert_eq!(
            suggestions[2].reason(Locale::Fr),
            "même service; mots communs : hl7 feed timeout"
        );
        assert_eq!(suggestions[0].workaround, "workaround 4");
        assert!(
            suggestions
                .windows(2)
                .all(|pair| pair[0].score >= pair[1].score)
        );
        assert!(suggestions.iter().all(|s| (0.0..=1.0).contains(&s.score)));
        assert_eq!(suggest_known_errors(&incident, &candidates, 2).len(), 2);
        assert!(suggest_known_errors(&incident, &candidates, 0).is_empty());
    }

    #[test]
    fn blank_fields_never_match() {
        let incident = IncidentProfile {
            configuration_item: Some("  ".into()),
            service: None,
            summary: "Screen frozen".into(),
            details: String::new(),
        };
        let candidates = [
            known(1, "", "", "Printer offline"),
            KnownError {
                configuration_item: Some(String::new()),
                ..known(2, "", "", "Disk full")
            },
        ];
        assert!(suggest_known_errors(&incident, &candidates, 5).is_empty());
        // Accents and case do not matter in text or values.
        let incident = IncidentProfile {
            configuration_item: Some("Écran-01".into()),
            service: None,
            summary: "ÉCRAN FIGÉ".into(),
            details: String::new(),
        };
        let candidates = [known(7, "ecran-01", "", "écran figé au démarrage")];
        let suggestion = &suggest_known_errors(&incident, &candidates, 5)[0];
        assert_eq!(
            suggestion.reasons,
            [
                MatchReason::SameConfigurationItem,
                MatchReason::SharedWords(vec!["ecran".into(), "fige".into()])
            ]
        );
    }

    // ---- trend detection ----

    fn day(n: i64) -> Timestamp {
        Timestamp::from_second(SYNTHETIC_START_SECONDS + n * 86_400).unwrap()
    }

    fn facts(id: i64, at_day: i64, ci: &str, site: &str, summary: &str) -> IncidentFacts {
        IncidentFacts {
            id,
            opened_at: day(at_day),
            configuration_item: (!ci.is_empty()).then(|| ci.to_owned()),
            site: (!site.is_empty()).then(|| site.to_owned()),
            environment: Some("production".into()),
            service: Some(format!("service-{id}")),
            summary: summary.to_owned(),
        }
    }

    fn hl7_trend() -> Vec<IncidentFacts> {
        vec![
            facts(
                1,
                0,
                "HL7-ENGINE-01",
                "Kingston",
                "HL7 feed timeout at night",
            ),
            facts(
                2,
                2,
                "hl7-engine-01",
                "Kingston",
                "Lab: HL7 feed timeout again",
            ),
            facts(
                3,
                3,
                "HL7-ENGINE-01",
                "Kingston",
                "hl7 FEED timeout, messages queued",
            ),
            facts(4, 6, "HL7-ENGINE-01", "Kingston", "Délai: HL7 feed timeout"),
            facts(
                5,
                9,
                "HL7-ENGINE-01",
                "Kingston",
                "Results late; HL7 feed timeout",
            ),
            facts(
                6,
                12,
                "HL7-ENGINE-01",
                "Kingston",
                "The HL7 feed timeout is back",
            ),
            facts(
                7,
                13,
                "HL7-ENGINE-01",
                "Kingston",
                "HL7 feed timeouts? no, HL7 feed timeout",
            ),
            // Same CI, other symptoms.
            facts(8, 4, "HL7-ENGINE-01", "Kingston", "Disk full on engine"),
            facts(9, 5, "HL7-ENGINE-01", "Ottawa", "Certificate expired"),
        ]
    }

    fn ids(proposal: &ProposedProblem) -> Vec<i64> {
        proposal.incident_ids.clone()
    }

    #[test]
    fn proposes_a_trend_on_the_configuration_item_with_its_reason() {
        let proposals = detect_trends(&hl7_trend(), &TrendThresholds::default(), &[]);
        assert_eq!(proposals.len(), 1, "{proposals:#?}");
        let proposal = &proposals[0];
        assert_eq!(proposal.dimension, TrendDimension::ConfigurationItem);
        assert_eq!(proposal.value, "HL7-ENGINE-01");
        assert_eq!(ids(proposal), [1, 2, 3, 4, 5, 6, 7]);
        assert_eq!(proposal.shared, "hl7 feed timeout");
        assert_eq!(proposal.shared_text, "HL7 feed timeout");
        assert_eq!(
            proposal.reason_en,
            "7 incidents on configuration item HL7-ENGINE-01 in 13 days, summaries share \
             'HL7 feed timeout'"
        );
        assert_eq!(
            proposal.reason(Locale::Fr),
            "7 incidents sur l'élément de configuration HL7-ENGINE-01 en 13 jours, les résumés \
             ont en commun « HL7 feed timeout »"
        );
        assert_eq!(proposal.first_opened_at, day(0));
        assert_eq!(proposal.last_opened_at, day(13));
    }

    #[test]
    fn incidents_spread_wider_than_the_window_are_no_trend() {
        let spread: Vec<IncidentFacts> = (0..6)
            .map(|n| facts(n + 1, n * 4, "CI-1", "", "HL7 feed timeout"))
            .collect();
        // Six incidents over 20 days: at most 4 in any 14 days.
        assert!(detect_trends(&spread, &TrendThresholds::default(), &[]).is_empty());
        let wide = TrendThresholds {
            window: SignedDuration::from_hours(20 * 24),
            ..TrendThresholds::default()
        };
        assert_eq!(detect_trends(&spread, &wide, &[]).len(), 1);
        // The window is inclusive: 5 incidents exactly 14 days apart end to end qualify.
        let edge: Vec<IncidentFacts> = [0, 1, 2, 3, 14]
            .iter()
            .enumerate()
            .map(|(n, &d)| facts(n as i64 + 1, d, "CI-1", "", "HL7 feed timeout"))
            .collect();
        assert_eq!(
            detect_trends(&edge, &TrendThresholds::default(), &[]).len(),
            1
        );
    }

    #[test]
    fn a_long_trend_is_one_proposal_and_separate_bursts_are_two() {
        // Five incidents every 3 days for 60 days: overlapping windows make one proposal.
        let long: Vec<IncidentFacts> = (0..21)
            .map(|n| facts(n + 1, n * 3, "CI-1", "", "VPN tunnel dropped"))
            .collect();
        let proposals = detect_trends(&long, &TrendThresholds::default(), &[]);
        assert_eq!(proposals.len(), 1);
        assert_eq!(proposals[0].incident_ids.len(), 21);
        // Two bursts months apart: two proposals.
        let mut bursts: Vec<IncidentFacts> = (0..5)
            .map(|n| facts(n + 1, n, "CI-1", "", "VPN tunnel dropped"))
            .collect();
        bursts.extend((0..5).map(|n| facts(n + 11, 100 + n, "CI-1", "", "VPN tunnel dropped")));
        let proposals = detect_trends(&bursts, &TrendThresholds::default(), &[]);
        let sets: Vec<Vec<i64>> = proposals.iter().map(ids).collect();
        assert_eq!(sets, [vec![1, 2, 3, 4, 5], vec![11, 12, 13, 14, 15]]);
    }

    #[test]
    fn the_longest_shared_phrase_wins_and_a_second_trend_is_found() {
        let mut incidents: Vec<IncidentFacts> = (0..5)
            .map(|n| {
                facts(
                    n + 1,
                    n,
                    "CI-1",
                    "",
                    &format!("lab result delayed batch {n}a"),
                )
            })
            .collect();
        incidents.extend(
            (0..5).map(|n| facts(n + 11, n, "CI-1", "", &format!("printer queue stuck {n}b"))),
        );
        let proposals = detect_trends(&incidents, &TrendThresholds::default(), &[]);
        let found: Vec<(&str, Vec<i64>)> = proposals
            .iter()
            .map(|p| (p.shared.as_str(), ids(p)))
            .collect();
        assert_eq!(
            found,
            [
                ("lab result delayed batch", vec![1, 2, 3, 4, 5]),
                ("printer queue stuck", vec![11, 12, 13, 14, 15]),
            ]
        );
    }

    #[test]
    fn too_few_shared_words_is_no_trend() {
        let incidents: Vec<IncidentFacts> = (0..6)
            .map(|n| {
                facts(
                    n + 1,
                    n,
                    "CI-1",
                    "",
                    &format!("timeout {}", NOISE_WORDS[n as usize]),
                )
            })
            .collect();
        assert!(detect_trends(&incidents, &TrendThresholds::default(), &[]).is_empty());
        let one_word = TrendThresholds {
            min_shared_words: 1,
            ..TrendThresholds::default()
        };
        let proposals = detect_trends(&incidents, &one_word, &[]);
        assert_eq!(proposals.len(), 1);
        assert_eq!(proposals[0].shared, "timeout");
    }

    #[test]
    fn the_configuration_item_is_preferred_and_coarser_duplicates_dropped() {
        let mut incidents = hl7_trend();
        // A site-wide superset: an eighth incident on another CI at Kingston.
        incidents.push(facts(
            10,
            8,
            "HL7-ENGINE-02",
            "Kingston",
            "HL7 feed timeout too",
        ));
        let proposals = detect_trends(&incidents, &TrendThresholds::default(), &[]);
        let found: Vec<(TrendDimension, Vec<i64>)> =
            proposals.iter().map(|p| (p.dimension, ids(p))).collect();
        assert_eq!(
            found,
            [
                (TrendDimension::ConfigurationItem, vec![1, 2, 3, 4, 5, 6, 7]),
                (TrendDimension::Site, vec![1, 2, 3, 4, 5, 6, 7, 10]),
            ]
        );
        // Without configuration items, the same set is proposed on the site.
        let no_ci: Vec<IncidentFacts> = hl7_trend()
            .into_iter()
            .map(|incident| IncidentFacts {
                configuration_item: None,
                ..incident
            })
            .collect();
        let proposals = detect_trends(&no_ci, &TrendThresholds::default(), &[]);
        assert_eq!(proposals.len(), 1);
        assert_eq!(proposals[0].dimension, TrendDimension::Site);
        assert_eq!(
            proposals[0].reason_en.split(" in ").next().unwrap(),
            "7 incidents at site Kingston"
        );
    }

    #[test]
    fn a_dismissed_pattern_returns_only_when_new_incidents_join() {
        let incidents = hl7_trend();
        let thresholds = TrendThresholds::default();
        let first = detect_trends(&incidents, &thresholds, &[]);
        let mut dismissed = first[0].pattern();
        dismissed.value = " hl7-engine-01 ".into(); // case and spaces do not matter
        dismissed.incident_ids.reverse(); // nor order
        let dismissed = [dismissed];
        // Not proposed again, and not on the site either.
        assert!(detect_trends(&incidents, &thresholds, &dismissed).is_empty());
        // A new incident joins: proposed again, with it.
        let mut more = incidents.clone();
        more.push(facts(
            20,
            14,
            "HL7-ENGINE-01",
            "Kingston",
            "HL7 feed timeout at noon",
        ));
        let again = detect_trends(&more, &thresholds, &dismissed);
        assert_eq!(again.len(), 1);
        assert_eq!(ids(&again[0]), [1, 2, 3, 4, 5, 6, 7, 20]);
        // A dismissal on another dimension or value does not hide it.
        let elsewhere = [DismissedPattern {
            dimension: TrendDimension::Site,
            ..first[0].pattern()
        }];
        assert_eq!(detect_trends(&incidents, &thresholds, &elsewhere).len(), 1);
    }

    #[test]
    fn odd_input_is_handled() {
        let thresholds = TrendThresholds::default();
        assert!(detect_trends(&[], &thresholds, &[]).is_empty());
        // Duplicate ids are counted once.
        let twice: Vec<IncidentFacts> = (0..4)
            .flat_map(|n| {
                let incident = facts(n + 1, n, "CI-1", "", "HL7 feed timeout");
                [incident.clone(), incident]
            })
            .collect();
        assert!(detect_trends(&twice, &thresholds, &[]).is_empty());
        // Nonsense thresholds are raised to the minimum sensible ones.
        let silly = TrendThresholds {
            min_incidents: 0,
            window: SignedDuration::from_secs(-5),
            min_shared_words: 0,
        };
        let same_instant = [
            facts(1, 0, "CI-1", "", "disk full"),
            facts(2, 0, "CI-1", "", "disk full"),
            facts(3, 1, "CI-1", "", "disk full"),
        ];
        let proposals = detect_trends(&same_instant, &silly, &[]);
        assert_eq!(proposals.len(), 1);
        assert_eq!(ids(&proposals[0]), [1, 2]);
        assert!(proposals[0].reason_en.contains("in 1 day,"));
        // Blank summaries share nothing.
        let blank: Vec<IncidentFacts> = (0..6).map(|n| facts(n + 1, n, "CI-1", "", " ")).collect();
        assert!(detect_trends(&blank, &thresholds, &[]).is_empty());
    }

    proptest! {
        #[test]
        fn output_does_not_depend_on_input_order(seed in any::<u64>(), rotate in 0usize..600) {
            let planted = [PlantedTrend {
                configuration_item: "hl7-engine-01".into(),
                site: "Kingston General".into(),
                service: "Lab Results".into(),
                symptom: "HL7 feed timeout".into(),
                incidents: 6,
                span: SignedDuration::from_hours(10 * 24),
            }];
            let (mut incidents, _) = synthetic_incidents(seed, &planted, 120);
            let thresholds = TrendThresholds { min_incidents: 3, ..TrendThresholds::default() };
            let before = detect_trends(&incidents, &thresholds, &[]);
            let len = incidents.len();
            incidents.rotate_left(rotate % len);
            incidents.reverse();
            prop_assert_eq!(detect_trends(&incidents, &thresholds, &[]), before.clone());
            for proposal in &before {
                prop_assert!(proposal.incident_ids.len() >= 3);
                prop_assert!(proposal.incident_ids.windows(2).all(|pair| pair[0] < pair[1]));
                // Every incident of a proposal holds the phrase and has the value.
                for id in &proposal.incident_ids {
                    let incident = incidents.iter().find(|i| i.id == *id).unwrap();
                    let words = normalized_words(&incident.summary).join(" ");
                    let holds = format!(" {words} ").contains(&format!(" {} ", proposal.shared));
                    prop_assert!(holds);
                    prop_assert_eq!(
                        value_key(proposal.dimension.value_of(incident)),
                        value_key(Some(&proposal.value))
                    );
                }
            }
        }
    }

    // ---- precision and recall on synthetic data ----

    fn planted_trends() -> Vec<PlantedTrend> {
        let trend = |ci: &str, site: &str, service: &str, symptom: &str, incidents, days: i64| {
            PlantedTrend {
                configuration_item: ci.into(),
                site: site.into(),
                service: service.into(),
                symptom: symptom.into(),
                incidents,
                span: SignedDuration::from_hours(days * 24),
            }
        };
        vec![
            // On configuration items the noise also uses.
            trend(
                "hl7-engine-01",
                "Kingston General",
                "Lab Results",
                "HL7 feed timeout",
                7,
                13,
            ),
            trend(
                "pacs-gateway-02",
                "Ottawa Civic",
                "Diagnostic Imaging",
                "DICOM association rejected",
                5,
                6,
            ),
            trend(
                "portal-web-03",
                "Hôpital Montfort",
                "Provider Portal",
                "Échec de l'authentification unique",
                9,
                14,
            ),
        ]
    }

    #[test]
    fn synthetic_data_is_deterministic_and_shaped_as_asked() {
        let planted = planted_trends();
        let (incidents, sets) = synthetic_incidents(7, &planted, 500);
        assert_eq!(
            synthetic_incidents(7, &planted, 500),
            (incidents.clone(), sets.clone())
        );
        assert_ne!(synthetic_incidents(8, &planted, 500).0, incidents);
        assert_eq!(incidents.len(), 500 + 7 + 5 + 9);
        let mut all_ids: Vec<i64> = incidents.iter().map(|i| i.id).collect();
        all_ids.dedup();
        assert_eq!(all_ids, (1..=521).collect::<Vec<i64>>());
        assert!(
            incidents
                .windows(2)
                .all(|pair| pair[0].opened_at <= pair[1].opened_at)
        );
        assert_eq!(sets.iter().map(Vec::len).collect::<Vec<_>>(), [7, 5, 9]);
        let distinct: HashSet<&str> = incidents.iter().map(|i| i.summary.as_str()).collect();
        assert!(distinct.len() > 500, "noise summaries vary");
        for (trend, ids) in planted.iter().zip(&sets) {
            let members: Vec<&IncidentFacts> =
                incidents.iter().filter(|i| ids.contains(&i.id)).collect();
            let first = members.first().unwrap().opened_at;
            let last = members.last().unwrap().opened_at;
            assert!(last.duration_since(first) <= trend.span);
            assert!(members.iter().all(
                |i| i.configuration_item.as_deref() == Some(trend.configuration_item.as_str())
            ));
        }
        assert!(synthetic_incidents(1, &[], 0).0.is_empty());
    }

    #[test]
    fn detection_finds_exactly_the_planted_trends() {
        let planted = planted_trends();
        let thresholds = TrendThresholds::default();
        for seed in [1, 2, 3, 42, 2026, 31337, 0xDEAD_BEEF, u64::MAX] {
            let (incidents, sets) = synthetic_incidents(seed, &planted, 500);
            let proposals = detect_trends(&incidents, &thresholds, &[]);
            let (precision, recall) = precision_recall(&proposals, &sets);
            println!(
                "seed {seed}: {} incidents, {} proposals, precision {precision:.3}, recall {recall:.3}",
                incidents.len(),
                proposals.len()
            );
            assert_eq!(
                (precision, recall),
                (1.0, 1.0),
                "seed {seed}: {proposals:#?}"
            );
            let shared: BTreeSet<&str> = proposals.iter().map(|p| p.shared.as_str()).collect();
            assert_eq!(
                shared,
                BTreeSet::from([
                    "dicom association rejected",
                    "echec authentification unique",
                    "hl7 feed timeout"
                ])
            );
            assert!(
                proposals
                    .iter()
                    .all(|p| p.dimension == TrendDimension::ConfigurationItem)
            );
        }
    }

    #[test]
    fn precision_and_recall_count_exact_sets() {
        let (incidents, _) = synthetic_incidents(3, &planted_trends(), 0);
        let proposals = detect_trends(&incidents, &TrendThresholds::default(), &[]);
        assert_eq!(precision_recall(&proposals, &[]), (0.0, 1.0));
        assert_eq!(precision_recall(&[], &[vec![1, 2]]), (1.0, 0.0));
        assert_eq!(precision_recall(&[], &[]), (1.0, 1.0));
        let mut sets: Vec<Vec<i64>> = proposals.iter().map(ids).collect();
        sets[0].pop();
        let (precision, recall) = precision_recall(&proposals, &sets);
        assert!((precision - 2.0 / 3.0).abs() < 1e-9 && (recall - 2.0 / 3.0).abs() < 1e-9);
    }
}
