//! Mail templates: every message Triage sends is a subject and a plain-text body per
//! language, written in minijinja. The shipped texts (`mail/en.toml`, `mail/fr.toml`) are
//! version 0 of each; administrators save new versions, and a sent message records the
//! version it was made from. Templates run sandboxed: they see only the variables of their
//! message, cannot read files or call out, and a template that loops too long is stopped.
use crate::text::Locale;
use std::collections::BTreeMap;
use std::sync::OnceLock;

/// Longest subject and body an administrator may save (characters).
pub const MAX_SUBJECT: usize = 300;
pub const MAX_BODY: usize = 20_000;
/// Bounds the work one rendering may do (minijinja fuel): far above any sensible template,
/// low enough that a runaway loop stops in milliseconds.
const FUEL: u64 = 100_000;

/// A message kind: its key and the variables its templates may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Kind {
    pub key: &'static str,
    pub variables: &'static [&'static str],
}

/// A ticket's mail to the people on it. `their_number` is the partner's own ticket number
/// (empty when none), so that both sides' numbers are quoted.
const TICKET: &[&str] = &["number", "their_number", "summary", "link"];
const STATUS_EVENT: &[&str] = &[
    "title",
    "status",
    "notice",
    "components",
    "body",
    "when",
    "next_update",
    "link",
    "unsubscribe",
    "preferences",
];

/// A problem's notice to the partner's single point of contact.
const PROBLEM: &[&str] = &[
    "number",
    "summary",
    "organization",
    "status",
    "description",
    "root_cause",
    "workaround",
    "resolution",
    "link",
];

/// Every kind of message, in the order the admin page lists them.
pub const KINDS: &[Kind] = &[
    Kind {
        key: "ticket-created",
        variables: TICKET,
    },
    Kind {
        key: "ticket-in-progress",
        variables: TICKET,
    },
    Kind {
        key: "ticket-pending",
        variables: &["number", "their_number", "summary", "link", "status"],
    },
    Kind {
        key: "ticket-resolved",
        variables: TICKET,
    },
    Kind {
        key: "ticket-closed",
        variables: TICKET,
    },
    Kind {
        key: "ticket-reply",
        variables: &["number", "their_number", "summary", "link", "body"],
    },
    Kind {
        key: "sla-warning",
        variables: &["number", "summary", "link", "due"],
    },
    Kind {
        key: "sla-escalation",
        variables: &["number", "summary", "link", "due", "step"],
    },
    Kind {
        key: "notice",
        variables: &["list", "subject", "body", "unsubscribe"],
    },
    Kind {
        key: "list-removal-confirmed",
        variables: &["list"],
    },
    Kind {
        key: "status-incident",
        variables: STATUS_EVENT,
    },
    Kind {
        key: "status-maintenance",
        variables: STATUS_EVENT,
    },
    Kind {
        key: "status-confirm",
        variables: &["what", "link"],
    },
    Kind {
        key: "status-manage",
        variables: &["what", "link"],
    },
    Kind {
        key: "status-update-due",
        variables: &["title", "due", "link"],
    },
    Kind {
        key: "major-incident-interruption",
        variables: &[
            "number",
            "summary",
            "service",
            "notice",
            "next_update",
            "link",
        ],
    },
    Kind {
        key: "major-incident-update",
        variables: &[
            "number",
            "summary",
            "service",
            "notice",
            "update",
            "next_update",
            "link",
        ],
    },
    Kind {
        key: "major-incident-restoration",
        variables: &["number", "summary", "service", "notice", "link"],
    },
    Kind {
        key: "major-incident-message",
        variables: &["subject", "body"],
    },
    Kind {
        key: "major-incident-reminder",
        variables: &["number", "summary", "what", "due", "link"],
    },
    Kind {
        key: "change-outage-notice",
        variables: &[
            "number",
            "summary",
            "services",
            "start",
            "end",
            "users_affected",
            "contact",
        ],
    },
    Kind {
        key: "change-outcome",
        variables: &["number", "summary", "outcome", "notes", "link"],
    },
    Kind {
        key: "change-partner-reported",
        variables: &[
            "number",
            "summary",
            "organization",
            "start",
            "outcome",
            "link",
        ],
    },
    Kind {
        key: "latent-rfc-reminder",
        variables: &["number", "summary", "incident", "due", "link"],
    },
    Kind {
        key: "problem-created",
        variables: PROBLEM,
    },
    Kind {
        key: "problem-diagnosis",
        variables: PROBLEM,
    },
    Kind {
        key: "problem-resolution",
        variables: PROBLEM,
    },
    Kind {
        key: "problem-closure",
        variables: PROBLEM,
    },
    Kind {
        key: "change-decision",
        variables: &[
            "number",
            "summary",
            "decision",
            "reasons",
            "meeting",
            "next_meeting",
            "link",
        ],
    },
    Kind {
        key: "welcome",
        variables: &["name", "organization", "link"],
    },
    Kind {
        key: "reset",
        variables: &["link", "minutes"],
    },
    Kind {
        key: "reset-elsewhere",
        variables: &["organization"],
    },
    Kind {
        key: "credentials-request",
        variables: &["name", "email", "reason", "organization"],
    },
];

pub fn kind(key: &str) -> Option<&'static Kind> {
    KINDS.iter().find(|k| k.key == key)
}

/// One version of one template.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
pub struct Source {
    pub subject: String,
    pub body: String,
}

/// The shipped templates of a language (version 0).
pub fn shipped(locale: Locale) -> &'static BTreeMap<String, Source> {
    static EN: OnceLock<BTreeMap<String, Source>> = OnceLock::new();
    static FR: OnceLock<BTreeMap<String, Source>> = OnceLock::new();
    let (cell, text) = match locale {
        Locale::En => (&EN, include_str!("../mail/en.toml")),
        Locale::Fr => (&FR, include_str!("../mail/fr.toml")),
    };
    cell.get_or_init(|| toml::from_str(text).expect("shipped mail templates parse"))
}

/// A rendered message: subject on one line, plain-text body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    pub subject: String,
    pub body: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TemplateError {
    #[error("unknown message kind {0:?}")]
    UnknownKind(String),
    #[error("the subject is empty or longer than {MAX_SUBJECT} characters")]
    SubjectLength,
    #[error("the body is empty or longer than {MAX_BODY} characters")]
    BodyLength,
    /// A syntax error, an unknown variable or a runaway loop, with minijinja's explanation
    /// (it names the line).
    #[error("{part}: {reason}")]
    Invalid { part: &'static str, reason: String },
}

fn environment() -> minijinja::Environment<'static> {
    let mut env = minijinja::Environment::new();
    // A typo in a variable name is an error when the template is saved, not a blank in
    // thousands of sent messages.
    env.set_undefined_behavior(minijinja::UndefinedBehavior::Strict);
    env.set_fuel(Some(FUEL));
    env.set_keep_trailing_newline(false);
    env
}

fn render_part(
    env: &minijinja::Environment<'static>,
    part: &'static str,
    source: &str,
    variables: &BTreeMap<&str, &str>,
) -> Result<String, TemplateError> {
    env.render_str(source, variables)
        .map_err(|e| TemplateError::Invalid {
            part,
            reason: describe(&e),
        })
}

fn describe(error: &minijinja::Error) -> String {
    let mut text = error.detail().unwrap_or("").to_owned();
    if text.is_empty() {
        text = error.kind().to_string();
    }
    match error.line() {
        Some(line) => format!("line {line}: {text}"),
        None => text,
    }
}

/// Renders a template with the given variables. The subject becomes one line (a template
/// cannot add mail headers).
pub fn render(source: &Source, variables: &[(&str, &str)]) -> Result<Rendered, TemplateError> {
    let env = environment();
    let map: BTreeMap<&str, &str> = variables.iter().copied().collect();
    let subject = render_part(&env, "subject", &source.subject, &map)?;
    let body = render_part(&env, "body", &source.body, &map)?;
    Ok(finish(subject, body))
}

fn finish(subject: String, body: String) -> Rendered {
    Rendered {
        subject: one_line(&subject),
        body: body.trim_end().to_owned() + "\n",
    }
}

/// The templates in use, parsed once: rendering many messages from one template (a notice
/// to thousands) does not parse it again for each.
pub struct Set {
    env: minijinja::Environment<'static>,
}

impl Set {
    /// Parses each `(key, locale, source)`. A template that does not parse is refused.
    pub fn build<'a>(
        templates: impl IntoIterator<Item = (&'a str, Locale, &'a Source)>,
    ) -> Result<Set, TemplateError> {
        let mut env = environment();
        for (key, locale, source) in templates {
            for (part, text) in [("subject", &source.subject), ("body", &source.body)] {
                env.add_template_owned(name(key, locale, part), text.clone())
                    .map_err(|e| TemplateError::Invalid {
                        part,
                        reason: describe(&e),
                    })?;
            }
        }
        Ok(Set { env })
    }

    pub fn render(
        &self,
        key: &str,
        locale: Locale,
        variables: &[(&str, &str)],
    ) -> Result<Rendered, TemplateError> {
        let map: BTreeMap<&str, &str> = variables.iter().copied().collect();
        let mut parts = ["subject", "body"].into_iter().map(|part| {
            self.env
                .get_template(&name(key, locale, part))
                .and_then(|t| t.render(&map))
                .map_err(|e| TemplateError::Invalid {
                    part,
                    reason: describe(&e),
                })
        });
        let subject = parts.next().expect("subject")?;
        let body = parts.next().expect("body")?;
        Ok(finish(subject, body))
    }
}

fn name(key: &str, locale: Locale, part: &str) -> String {
    format!("{key}/{}/{part}", locale.as_str())
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Example values for each variable, for previews and for checking a template before it is
/// saved.
pub fn sample(name: &str) -> &'static str {
    match name {
        "number" => "INC-000123",
        "their_number" => "HHS-4411",
        "summary" => "Viewer shows no lab results",
        "link" => "https://triage.example/tickets/INC-000123",
        "status" => "pending_customer",
        "body" => "We restarted the interface; please try again.",
        "due" => "2026-12-07 16:00 UTC",
        "step" => "group lead",
        "list" => "Clinical viewer",
        "subject" => "Planned maintenance of the clinical viewer",
        "unsubscribe" => "https://triage.example/unsubscribe/…",
        "preferences" => "https://triage.example/status/subscriptions/…",
        "name" => "Dana Clinician",
        "organization" => "Hamilton Health Sciences",
        "minutes" => "60",
        "email" => "dana@hhs.example",
        "reason" => "New clinician in the emergency department",
        "service" => "Clinical viewer",
        "notice" => "Update",
        "update" => "2",
        "what" => "Update (+2h)",
        "decision" => "Rejected",
        "reasons" => "The back-out plan does not say how the interface queue is drained.",
        "meeting" => "2026-12-09",
        "next_meeting" => "2026-12-16",
        "services" => "Clinical viewer, Lab results feed",
        "start" => "2026-12-13 00:00 EST",
        "end" => "2026-12-13 04:00 EST",
        "users_affected" => "Clinicians cannot open the viewer",
        "contact" => "servicedesk@operator.example",
        "outcome" => "Successful",
        "notes" => "Patch applied; smoke tests passed.",
        "incident" => "INC-000456",
        _ => "…",
    }
}

/// Checks a template an administrator wants to save: lengths, syntax, and that it renders
/// with its kind's variables (so it uses no other).
pub fn validate(key: &str, source: &Source) -> Result<Rendered, TemplateError> {
    let kind = kind(key).ok_or_else(|| TemplateError::UnknownKind(key.to_owned()))?;
    let subject_chars = source.subject.trim().chars().count();
    if subject_chars == 0 || subject_chars > MAX_SUBJECT {
        return Err(TemplateError::SubjectLength);
    }
    let body_chars = source.body.trim().chars().count();
    if body_chars == 0 || body_chars > MAX_BODY {
        return Err(TemplateError::BodyLength);
    }
    // Name the first unknown variable, which says more than "undefined value".
    let env = environment();
    for (part, text) in [("subject", &source.subject), ("body", &source.body)] {
        let template = env
            .template_from_str(text)
            .map_err(|e| TemplateError::Invalid {
                part,
                reason: describe(&e),
            })?;
        let mut unknown: Vec<String> = template
            .undeclared_variables(false)
            .into_iter()
            .filter(|v| !kind.variables.contains(&v.as_str()))
            .collect();
        unknown.sort();
        if let Some(name) = unknown.first() {
            return Err(TemplateError::Invalid {
                part,
                reason: format!(
                    "unknown variable {name}; this message has {}",
                    kind.variables.join(", ")
                ),
            });
        }
    }
    let variables: Vec<(&str, &str)> = kind.variables.iter().map(|v| (*v, sample(v))).collect();
    render(source, &variables)
}

/// How a sent message names the template versions it was made from:
/// `ticket-created en v3`, or `ticket-created en v3 + fr v0` for a message in both languages.
pub fn version_label(key: &str, versions: &[(Locale, i64)]) -> String {
    let parts: Vec<String> = versions
        .iter()
        .map(|(locale, version)| format!("{} v{version}", locale.as_str()))
        .collect();
    format!("{key} {}", parts.join(" + "))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn variables(kind: &Kind) -> Vec<(&'static str, &'static str)> {
        kind.variables.iter().map(|v| (*v, sample(v))).collect()
    }

    #[test]
    fn both_languages_ship_every_kind_and_nothing_else() {
        for locale in [Locale::En, Locale::Fr] {
            let keys: Vec<&str> = shipped(locale).keys().map(String::as_str).collect();
            let mut expected: Vec<&str> = KINDS.iter().map(|k| k.key).collect();
            expected.sort_unstable();
            assert_eq!(keys, expected, "{locale:?}");
        }
    }

    #[test]
    fn every_shipped_template_renders_with_its_variables_only() {
        for locale in [Locale::En, Locale::Fr] {
            for kind in KINDS {
                let source = &shipped(locale)[kind.key];
                let rendered = validate(kind.key, source)
                    .unwrap_or_else(|e| panic!("{} {locale:?}: {e}", kind.key));
                assert!(!rendered.subject.is_empty());
                for v in kind.variables {
                    assert!(
                        rendered.subject.contains(sample(v))
                            || rendered.body.contains(sample(v))
                            || *v == "status",
                        "{} {locale:?} does not use {v}",
                        kind.key
                    );
                }
            }
        }
    }

    #[test]
    fn a_pending_mail_names_what_it_waits_for() {
        let source = &shipped(Locale::Fr)["ticket-pending"];
        let vendor = render(
            source,
            &[
                ("number", "INC-1"),
                ("their_number", ""),
                ("summary", "s"),
                ("link", "l"),
                ("status", "pending_vendor"),
            ],
        )
        .unwrap();
        assert!(vendor.body.contains("d'un fournisseur"), "{}", vendor.body);
    }

    #[test]
    fn an_unknown_variable_is_refused_with_its_line() {
        let source = Source {
            subject: "[{{ number }}] ok".into(),
            body: "line one\n{{ numbr }}".into(),
        };
        match validate("ticket-created", &source) {
            Err(TemplateError::Invalid { part, reason }) => {
                assert_eq!(part, "body");
                assert!(reason.contains("unknown variable numbr"), "{reason}");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn syntax_errors_lengths_and_unknown_kinds_are_refused() {
        let broken = Source {
            subject: "{% if %}".into(),
            body: "x".into(),
        };
        assert!(matches!(
            validate("ticket-created", &broken),
            Err(TemplateError::Invalid {
                part: "subject",
                ..
            })
        ));
        let empty = Source {
            subject: " ".into(),
            body: "x".into(),
        };
        assert_eq!(
            validate("ticket-created", &empty),
            Err(TemplateError::SubjectLength)
        );
        let long = Source {
            subject: "s".into(),
            body: "x".repeat(MAX_BODY + 1),
        };
        assert_eq!(
            validate("ticket-created", &long),
            Err(TemplateError::BodyLength)
        );
        assert!(matches!(
            validate("nope", &shipped(Locale::En)["welcome"]),
            Err(TemplateError::UnknownKind(_))
        ));
    }

    #[test]
    fn templates_are_sandboxed() {
        // A runaway loop runs out of fuel instead of hanging the sender.
        let runaway = Source {
            subject: "s".into(),
            body:
                "{% for i in range(100000) %}{% for j in range(100000) %}x{% endfor %}{% endfor %}"
                    .into(),
        };
        assert!(matches!(
            validate("welcome", &runaway),
            Err(TemplateError::Invalid { .. })
        ));
        // No file or environment access: only the message's variables exist.
        let include = Source {
            subject: "s".into(),
            body: "{% include '/etc/passwd' %}".into(),
        };
        assert!(validate("welcome", &include).is_err());
    }

    #[test]
    fn a_subject_cannot_add_headers() {
        let source = Source {
            subject: "{{ summary }}".into(),
            body: "b".into(),
        };
        let rendered = render(&source, &[("summary", "hi\r\nBcc: x@y.example")]).unwrap();
        assert_eq!(rendered.subject, "hi Bcc: x@y.example");
    }

    #[test]
    fn values_are_not_templates() {
        let source = &shipped(Locale::En)["ticket-reply"];
        let mut vars = variables(kind("ticket-reply").unwrap());
        vars.retain(|(k, _)| *k != "body");
        vars.push(("body", "{{ link }} {% raw %}"));
        let rendered = render(source, &vars).unwrap();
        assert!(rendered.body.contains("{{ link }} {% raw %}"));
    }

    #[test]
    fn a_set_renders_like_a_single_template() {
        let set = Set::build(
            KINDS
                .iter()
                .flat_map(|k| [Locale::En, Locale::Fr].map(|l| (k.key, l, &shipped(l)[k.key]))),
        )
        .unwrap();
        let vars = variables(kind("ticket-created").unwrap());
        assert_eq!(
            set.render("ticket-created", Locale::Fr, &vars).unwrap(),
            render(&shipped(Locale::Fr)["ticket-created"], &vars).unwrap()
        );
        assert!(set.render("nope", Locale::En, &vars).is_err());
    }

    #[test]
    fn version_labels() {
        assert_eq!(
            version_label("ticket-created", &[(Locale::En, 3)]),
            "ticket-created en v3"
        );
        assert_eq!(
            version_label("notice", &[(Locale::En, 0), (Locale::Fr, 2)]),
            "notice en v0 + fr v2"
        );
    }
}
