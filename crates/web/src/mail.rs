//! Outgoing mail as real RFC 5322 messages (lettre), written to the outbox in the same
//! transaction as the change that caused it.
//!
//! Each message is made from a template (see `domain::mail_template`) in the recipient's
//! language, or in both languages when the recipient's language is unknown (an
//! organization's help desk address). It is sent as text and HTML, and records the template
//! versions it was made from. Messages a person can stop (ticket notifications, list
//! notices) carry a one-click `List-Unsubscribe` link, signed so it works without signing in.
use crate::error::{AppError, AppResult};
use crate::fresh::Fresh;
use domain::mail_template::{self, Set};
use domain::text::Locale;
use hmac::{Hmac, Mac};
use lettre::Message;
use lettre::message::header::{HeaderName, HeaderValue};
use lettre::message::{MultiPart, SinglePart, header::ContentType};
use std::collections::HashMap;
use std::sync::Arc;
use store::Conn;

/// The mail domain: the public host name, or `triage.localhost` for a bare address.
pub fn mail_host(base_url: &str) -> String {
    url::Url::parse(base_url)
        .ok()
        .and_then(|u| u.host_str().map(str::to_owned))
        .filter(|h| h.contains('.') && h.parse::<std::net::IpAddr>().is_err())
        .unwrap_or_else(|| "triage.localhost".into())
}

pub fn from_address(base_url: &str) -> String {
    format!("Triage <{}>", bare_from_address(base_url))
}

pub fn bare_from_address(base_url: &str) -> String {
    format!("no-reply@{}", mail_host(base_url))
}

/// The thread every message about a ticket belongs to: mail clients group them by
/// `In-Reply-To`/`References`, and a reply carries it back.
pub fn ticket_thread_id(base_url: &str, number: &str) -> String {
    format!("<ticket.{number}@{}>", mail_host(base_url))
}

/// The language(s) a recipient gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Audience {
    One(Locale),
    /// Language unknown: English and French in one message.
    Both,
}

impl Audience {
    /// A stored language (`en`, `fr-CA`), or both when there is none.
    pub fn of(locale: Option<&str>) -> Self {
        locale
            .and_then(Locale::parse)
            .map_or(Audience::Both, Audience::One)
    }
}

/// The templates in use: the shipped ones with the administrators' latest versions over
/// them, parsed once.
pub struct Templates {
    set: Set,
    versions: HashMap<(String, Locale), i64>,
}

impl Templates {
    fn build(saved: &[store::mail_templates::Version]) -> AppResult<Templates> {
        let mut sources: HashMap<(String, Locale), mail_template::Source> = HashMap::new();
        let mut versions = HashMap::new();
        for locale in [Locale::En, Locale::Fr] {
            for (key, source) in mail_template::shipped(locale) {
                sources.insert((key.clone(), locale), source.clone());
                versions.insert((key.clone(), locale), 0);
            }
        }
        for v in saved {
            let Some(locale) = Locale::parse(&v.locale) else {
                continue;
            };
            let key = (v.key.clone(), locale);
            if sources.contains_key(&key) {
                sources.insert(
                    key.clone(),
                    mail_template::Source {
                        subject: v.subject.clone(),
                        body: v.body.clone(),
                    },
                );
                versions.insert(key, v.version);
            }
        }
        let set =
            Set::build(sources.iter().map(|((k, l), s)| (k.as_str(), *l, s))).map_err(|e| {
                tracing::error!(error = %e, "a saved mail template does not parse");
                AppError::internal()
            })?;
        Ok(Templates { set, versions })
    }

    pub fn version(&self, key: &str, locale: Locale) -> i64 {
        self.versions
            .get(&(key.to_owned(), locale))
            .copied()
            .unwrap_or(0)
    }
}

/// Templates and the link-signing key, shared by everything on a node that sends mail. A
/// template saved on this node is used at once; one saved on another node within
/// [`crate::fresh::TTL`].
#[derive(Clone, Default)]
pub struct Mailer {
    templates: Fresh<Templates>,
    secret: Arc<tokio::sync::OnceCell<Arc<[u8]>>>,
}

impl Mailer {
    /// What composing mail needs, read from the database when not fresh.
    pub async fn composer(&self, conn: &mut Conn, base_url: &str) -> AppResult<Composer> {
        let templates = match self.templates.get() {
            Some(t) => t,
            None => {
                let saved = store::mail_templates::current(conn).await?;
                self.templates.put(Templates::build(&saved)?)
            }
        };
        let secret = self
            .secret
            .get_or_try_init(|| async {
                let key = store::settings::get_or_create(conn, "mail_link_secret", || {
                    store::random_token(32)
                })
                .await?;
                Ok::<_, AppError>(Arc::from(key.into_bytes()))
            })
            .await?
            .clone();
        Ok(Composer {
            base_url: base_url.trim_end_matches('/').to_owned(),
            templates,
            secret,
        })
    }

    /// A template was saved: read them again before the next message.
    pub fn changed(&self) {
        self.templates.clear();
    }
}

/// What a one-click unsubscribe link turns off.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unsubscribe {
    /// A person's notifications for one ticket.
    Ticket {
        number: String,
        person_id: i64,
    },
    /// A list member's notices: asks the desk for removal.
    ListPerson {
        list_id: i64,
        person_id: i64,
    },
    ListAddress {
        list_id: i64,
        email: String,
    },
    /// A status-page subscription: ends it.
    StatusSubscriber {
        subscriber_id: i64,
    },
}

impl Unsubscribe {
    fn encode(&self) -> String {
        match self {
            Unsubscribe::Ticket { number, person_id } => format!("t:{number}:{person_id}"),
            Unsubscribe::ListPerson { list_id, person_id } => format!("lp:{list_id}:{person_id}"),
            Unsubscribe::ListAddress { list_id, email } => format!("la:{list_id}:{email}"),
            Unsubscribe::StatusSubscriber { subscriber_id } => format!("ss:{subscriber_id}:-"),
        }
    }

    fn decode(text: &str) -> Option<Self> {
        let mut parts = text.splitn(3, ':');
        let (kind, a, b) = (parts.next()?, parts.next()?, parts.next()?);
        Some(match kind {
            "t" => Unsubscribe::Ticket {
                number: a.to_owned(),
                person_id: b.parse().ok()?,
            },
            "lp" => Unsubscribe::ListPerson {
                list_id: a.parse().ok()?,
                person_id: b.parse().ok()?,
            },
            "la" => Unsubscribe::ListAddress {
                list_id: a.parse().ok()?,
                email: b.to_owned(),
            },
            "ss" if b == "-" => Unsubscribe::StatusSubscriber {
                subscriber_id: a.parse().ok()?,
            },
            _ => return None,
        })
    }
}

fn signature(secret: &[u8], payload: &str) -> Vec<u8> {
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret).expect("any key length");
    mac.update(payload.as_bytes());
    mac.finalize().into_bytes()[..16].to_vec()
}

/// Builds messages with the templates in use.
#[derive(Clone)]
pub struct Composer {
    base_url: String,
    templates: Arc<Templates>,
    secret: Arc<[u8]>,
}

/// One message to compose.
pub struct Draft<'a> {
    pub to: &'a str,
    pub audience: Audience,
    /// The template (`ticket-created`, …).
    pub key: &'a str,
    pub args: &'a [(&'static str, String)],
    /// Values that differ in French (a notice's French text); `None`: the same as `args`.
    pub fr_args: Option<&'a [(&'static str, String)]>,
    /// Adds a one-click unsubscribe link (header, and `unsubscribe` for the template).
    pub unsubscribe: Option<Unsubscribe>,
}

impl Composer {
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    pub fn templates(&self) -> &Templates {
        &self.templates
    }

    /// The signed link that performs `what` without signing in.
    pub fn unsubscribe_url(&self, what: &Unsubscribe) -> String {
        use base64::Engine;
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let payload = what.encode();
        format!(
            "{}/unsubscribe/{}.{}",
            self.base_url,
            b64.encode(payload.as_bytes()),
            b64.encode(signature(&self.secret, &payload))
        )
    }

    /// A token for a link that acts for a record without signing in (`purpose` keeps the
    /// token of one link from opening another): `{id}.{signature}`.
    pub fn signed_id(&self, purpose: &str, id: i64) -> String {
        use base64::Engine;
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        format!(
            "{id}.{}",
            b64.encode(signature(&self.secret, &format!("{purpose}:{id}")))
        )
    }

    /// The id a [`Composer::signed_id`] token stands for, if we signed it for `purpose`.
    pub fn verify_signed_id(&self, purpose: &str, token: &str) -> Option<i64> {
        use base64::Engine;
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let (id, sig) = token.split_once('.')?;
        let id: i64 = id.parse().ok()?;
        let sig = b64.decode(sig).ok()?;
        let expected = signature(&self.secret, &format!("{purpose}:{id}"));
        let same: bool = subtle::ConstantTimeEq::ct_eq(sig.as_slice(), expected.as_slice()).into();
        same.then_some(id)
    }

    /// What a link's token stands for, if we signed it.
    pub fn verify_unsubscribe(&self, token: &str) -> Option<Unsubscribe> {
        use base64::Engine;
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let (payload, sig) = token.split_once('.')?;
        let payload = String::from_utf8(b64.decode(payload).ok()?).ok()?;
        let sig = b64.decode(sig).ok()?;
        let expected = signature(&self.secret, &payload);
        if subtle::ConstantTimeEq::ct_eq(sig.as_slice(), expected.as_slice()).into() {
            Unsubscribe::decode(&payload)
        } else {
            None
        }
    }

    /// Renders one language, with the unsubscribe link given to the template.
    fn render_one(
        &self,
        key: &str,
        locale: Locale,
        args: &[(&str, &str)],
    ) -> AppResult<mail_template::Rendered> {
        self.templates.set.render(key, locale, args).map_err(|e| {
            tracing::error!(key, locale = locale.as_str(), error = %e, "mail template");
            AppError::internal()
        })
    }

    /// Renders a template in one language without making a message (a draft to edit).
    pub fn render(
        &self,
        key: &str,
        locale: Locale,
        args: &[(&str, &str)],
    ) -> AppResult<mail_template::Rendered> {
        self.render_one(key, locale, args)
    }

    /// Builds a message without storing it (to write it with other rows in one statement).
    pub fn compose(&self, draft: &Draft<'_>) -> AppResult<store::outbox::NewMail> {
        let unsubscribe = draft.unsubscribe.as_ref().map(|u| self.unsubscribe_url(u));
        let args_in = |locale: Locale| {
            let values = match (locale, draft.fr_args) {
                (Locale::Fr, Some(fr)) => fr,
                _ => draft.args,
            };
            let mut args: Vec<(&str, &str)> =
                values.iter().map(|(k, v)| (*k, v.as_str())).collect();
            if let Some(url) = &unsubscribe {
                args.push(("unsubscribe", url.as_str()));
            }
            args
        };
        let (subject, text, html, versions) = match draft.audience {
            Audience::One(locale) => {
                let r = self.render_one(draft.key, locale, &args_in(locale))?;
                let html = html_page(&[(locale, &r.body)]);
                (
                    r.subject,
                    r.body,
                    html,
                    vec![(locale, self.templates.version(draft.key, locale))],
                )
            }
            Audience::Both => {
                let en = self.render_one(draft.key, Locale::En, &args_in(Locale::En))?;
                let fr = self.render_one(draft.key, Locale::Fr, &args_in(Locale::Fr))?;
                let subject = if en.subject == fr.subject {
                    en.subject.clone()
                } else {
                    format!("{} / {}", en.subject, fr.subject)
                };
                let text = format!(
                    "(Le français suit.)\n\n{}\n----------\n\n{}",
                    en.body, fr.body
                );
                let html = html_page(&[(Locale::En, &en.body), (Locale::Fr, &fr.body)]);
                (
                    subject,
                    text,
                    html,
                    vec![
                        (Locale::En, self.templates.version(draft.key, Locale::En)),
                        (Locale::Fr, self.templates.version(draft.key, Locale::Fr)),
                    ],
                )
            }
        };
        let number = draft
            .args
            .iter()
            .find(|(k, _)| *k == "number")
            .map(|(_, v)| v);
        let host = mail_host(&self.base_url);
        let mut builder = Message::builder()
            .message_id(Some(format!("<{}@{host}>", uuid::Uuid::new_v4().simple())));
        if let Some(number) = number {
            let thread = ticket_thread_id(&self.base_url, number);
            builder = builder.in_reply_to(thread.clone()).references(thread);
        }
        // Machines that read our mail must not answer it (RFC 3834), and a copy that comes
        // back to the desk is recognised by its X-Loop header.
        builder = builder
            .raw_header(header("Auto-Submitted", "auto-generated".into()))
            .raw_header(header("X-Loop", bare_from_address(&self.base_url)));
        if let Some(url) = &unsubscribe {
            // RFC 8058: mail clients offer "unsubscribe" and post to the link in one click.
            builder = builder
                .raw_header(header("List-Unsubscribe", format!("<{url}>")))
                .raw_header(header(
                    "List-Unsubscribe-Post",
                    "List-Unsubscribe=One-Click".into(),
                ));
        }
        let message = builder
            .from(
                from_address(&self.base_url)
                    .parse()
                    .map_err(|_| AppError::internal())?,
            )
            .to(draft
                .to
                .parse()
                .map_err(|_| AppError::invalid("invalid_email", "email"))?)
            .subject(subject.clone())
            .multipart(
                MultiPart::alternative()
                    .singlepart(
                        SinglePart::builder()
                            .header(ContentType::TEXT_PLAIN)
                            .body(text),
                    )
                    .singlepart(
                        SinglePart::builder()
                            .header(ContentType::TEXT_HTML)
                            .body(html),
                    ),
            )
            .map_err(|_| AppError::internal())?;
        let raw = String::from_utf8_lossy(&message.formatted()).into_owned();
        Ok(store::outbox::NewMail {
            kind: draft.key.to_owned(),
            to: draft.to.to_owned(),
            subject,
            message: raw,
            idempotency_key: None,
            endpoint_id: None,
            template_version: Some(mail_template::version_label(draft.key, &versions)),
        })
    }

    /// Builds and queues a message (in the caller's transaction).
    pub async fn send(&self, conn: &mut Conn, draft: &Draft<'_>) -> AppResult<()> {
        let mail = self.compose(draft)?;
        store::outbox::enqueue(conn, None, &mail).await?;
        Ok(())
    }
}

impl Composer {
    /// Composes with the shipped templates only and a throwaway link key: for tools,
    /// tests and benchmarks that queue mail without a running server.
    pub fn shipped(base_url: &str) -> AppResult<Composer> {
        let mut key = [0u8; 32];
        rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut key);
        Ok(Composer {
            base_url: base_url.trim_end_matches('/').to_owned(),
            templates: Arc::new(Templates::build(&[])?),
            secret: Arc::from(key.to_vec()),
        })
    }
}

/// One message from the shipped templates, in one language (see [`Composer::shipped`]).
pub fn render(
    base_url: &str,
    to: &str,
    locale: Locale,
    key: &str,
    args: &[(&'static str, String)],
) -> AppResult<store::outbox::NewMail> {
    Composer::shipped(base_url)?.compose(&Draft {
        to,
        audience: Audience::One(locale),
        key,
        args,
        fr_args: None,
        unsubscribe: None,
    })
}

fn header(name: &'static str, value: String) -> HeaderValue {
    HeaderValue::new(HeaderName::new_from_ascii_str(name), value)
}

/// The HTML part: the text's paragraphs, escaped, with links made clickable; each language
/// marked with its `lang` so screen readers pronounce it right.
fn html_page(parts: &[(Locale, &str)]) -> String {
    let mut html = String::from(
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"></head>\n<body style=\"font-family: sans-serif; line-height: 1.4\">\n",
    );
    for (i, (locale, text)) in parts.iter().enumerate() {
        if i > 0 {
            html.push_str("<hr>\n");
        }
        html.push_str(&format!("<div lang=\"{}\">\n", locale.as_str()));
        for paragraph in text.split("\n\n").filter(|p| !p.trim().is_empty()) {
            let lines: Vec<String> = paragraph.lines().map(linkify).collect();
            html.push_str(&format!("<p>{}</p>\n", lines.join("<br>\n")));
        }
        html.push_str("</div>\n");
    }
    html.push_str("</body></html>\n");
    html
}

fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Escapes a line and turns each http(s) address in it into a link.
fn linkify(line: &str) -> String {
    let mut out = String::new();
    for (i, word) in line.split(' ').enumerate() {
        if i > 0 {
            out.push(' ');
        }
        let trimmed = word.trim_end_matches(['.', ',', ')', ';', ':']);
        if (trimmed.starts_with("https://") || trimmed.starts_with("http://"))
            && url::Url::parse(trimmed).is_ok()
        {
            let href = escape(trimmed);
            out.push_str(&format!("<a href=\"{href}\">{href}</a>"));
            out.push_str(&escape(&word[trimmed.len()..]));
        } else {
            out.push_str(&escape(word));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn composer() -> Composer {
        Composer {
            base_url: "https://triage.hie.example".into(),
            templates: Arc::new(Templates::build(&[]).unwrap()),
            secret: Arc::from(b"test-secret".to_vec()),
        }
    }

    fn ticket_args() -> Vec<(&'static str, String)> {
        vec![
            ("number", "INC-000042".into()),
            ("their_number", String::new()),
            ("summary", "Viewer <down> & slow".into()),
            (
                "link",
                "https://triage.hie.example/tickets/INC-000042".into(),
            ),
        ]
    }

    #[test]
    fn a_message_is_text_and_html_with_its_template_version() {
        let args = ticket_args();
        let mail = composer()
            .compose(&Draft {
                to: "dana@hhs.example",
                audience: Audience::One(Locale::En),
                key: "ticket-created",
                args: &args,
                fr_args: None,
                unsubscribe: None,
            })
            .unwrap();
        assert_eq!(
            mail.template_version.as_deref(),
            Some("ticket-created en v0")
        );
        let parsed = mail_parser::MessageParser::default()
            .parse(mail.message.as_bytes())
            .unwrap();
        assert!(parsed.body_text(0).unwrap().contains("INC-000042"));
        let html = parsed.body_html(0).unwrap();
        assert!(html.contains("Viewer &lt;down&gt; &amp; slow"), "{html}");
        assert!(html.contains("<a href=\"https://triage.hie.example/tickets/INC-000042\">"));
        assert!(parsed.header("List-Unsubscribe").is_none());
        assert_eq!(
            parsed.in_reply_to().as_text(),
            Some("ticket.INC-000042@triage.hie.example")
        );
    }

    #[test]
    fn an_unknown_language_gets_both_in_one_message() {
        let args = ticket_args();
        let mail = composer()
            .compose(&Draft {
                to: "helpdesk@hhs.example",
                audience: Audience::of(None),
                key: "ticket-resolved",
                args: &args,
                fr_args: None,
                unsubscribe: None,
            })
            .unwrap();
        assert_eq!(
            mail.subject,
            "[INC-000042] Your request is resolved / [INC-000042] Votre demande est résolue"
        );
        assert_eq!(
            mail.template_version.as_deref(),
            Some("ticket-resolved en v0 + fr v0")
        );
        let parsed = mail_parser::MessageParser::default()
            .parse(mail.message.as_bytes())
            .unwrap();
        let text = parsed.body_text(0).unwrap();
        assert!(text.contains("resolved INC-000042") && text.contains("a résolu INC-000042"));
        let html = parsed.body_html(0).unwrap();
        assert!(html.contains("lang=\"en\"") && html.contains("lang=\"fr\""));
    }

    #[test]
    fn unsubscribe_links_are_signed_and_in_the_headers() {
        let c = composer();
        let what = Unsubscribe::Ticket {
            number: "INC-000042".into(),
            person_id: 7,
        };
        let args = ticket_args();
        let mail = c
            .compose(&Draft {
                to: "dana@hhs.example",
                audience: Audience::One(Locale::Fr),
                key: "ticket-created",
                args: &args,
                fr_args: None,
                unsubscribe: Some(what.clone()),
            })
            .unwrap();
        let url = c.unsubscribe_url(&what);
        assert!(
            mail.message
                .contains("List-Unsubscribe-Post: List-Unsubscribe=One-Click")
        );
        let parsed = mail_parser::MessageParser::default()
            .parse(mail.message.as_bytes())
            .unwrap();
        let header = parsed.header_raw("List-Unsubscribe").unwrap();
        assert!(header.contains(&url), "{header}");
        let token = url.rsplit('/').next().unwrap();
        assert_eq!(c.verify_unsubscribe(token), Some(what));
        // Another list, another person, or a changed signature: refused.
        let other = c.unsubscribe_url(&Unsubscribe::ListAddress {
            list_id: 3,
            email: "a:b@x.example".into(),
        });
        let other_token = other.rsplit('/').next().unwrap();
        assert_eq!(
            c.verify_unsubscribe(other_token),
            Some(Unsubscribe::ListAddress {
                list_id: 3,
                email: "a:b@x.example".into()
            })
        );
        let (payload, _) = token.split_once('.').unwrap();
        let (_, other_sig) = other_token.split_once('.').unwrap();
        assert_eq!(
            c.verify_unsubscribe(&format!("{payload}.{other_sig}")),
            None
        );
        assert_eq!(c.verify_unsubscribe("garbage"), None);
        let mut stranger = composer();
        stranger.secret = Arc::from(b"another".to_vec());
        assert_eq!(stranger.verify_unsubscribe(token), None);
    }

    #[test]
    fn saved_versions_replace_the_shipped_ones() {
        let saved = store::mail_templates::Version {
            key: "ticket-created".into(),
            locale: "fr".into(),
            version: 4,
            subject: "Reçu : {{ number }}".into(),
            body: "Merci. {{ link }}".into(),
            created_at: String::new(),
            created_by: None,
            created_by_name: None,
        };
        let c = Composer {
            templates: Arc::new(Templates::build(&[saved]).unwrap()),
            ..composer()
        };
        let args = ticket_args();
        let mail = c
            .compose(&Draft {
                to: "dana@hhs.example",
                audience: Audience::One(Locale::Fr),
                key: "ticket-created",
                args: &args,
                fr_args: None,
                unsubscribe: None,
            })
            .unwrap();
        assert_eq!(mail.subject, "Reçu : INC-000042");
        assert_eq!(
            mail.template_version.as_deref(),
            Some("ticket-created fr v4")
        );
        assert_eq!(c.templates().version("ticket-created", Locale::En), 0);
    }

    #[test]
    fn html_escapes_and_links() {
        assert_eq!(
            linkify("see https://x.example/a?b=1&c=2. <ok>"),
            "see <a href=\"https://x.example/a?b=1&amp;c=2\">https://x.example/a?b=1&amp;c=2</a>. &lt;ok&gt;"
        );
        assert_eq!(linkify("javascript:alert(1)"), "javascript:alert(1)");
    }
}
