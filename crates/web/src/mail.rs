//! Outgoing mail as real RFC 5322 messages (lettre), written to the outbox in the same
//! transaction as the change that caused it.
use crate::i18n::{t, t_args};
use domain::text::Locale;
use lettre::Message;
use lettre::message::header::{ContentType, HeaderName, HeaderValue};
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

/// Builds and queues a message. `key` names the template: `mail-{key}-subject` and
/// `mail-{key}-body` in the recipient's language.
pub async fn send(
    conn: &mut Conn,
    base_url: &str,
    to: &str,
    locale: Locale,
    key: &str,
    args: &[(&'static str, String)],
) -> Result<(), crate::error::AppError> {
    let mail = render(base_url, to, locale, key, args)?;
    store::outbox::enqueue(conn, None, &mail).await?;
    Ok(())
}

/// Builds a message without storing it (to write it with other rows in one statement).
pub fn render(
    base_url: &str,
    to: &str,
    locale: Locale,
    key: &str,
    args: &[(&'static str, String)],
) -> Result<store::outbox::NewMail, crate::error::AppError> {
    let subject = t_args(locale, &format!("mail-{key}-subject"), args);
    let body = format!(
        "{}\n\n-- \n{}\n",
        t_args(locale, &format!("mail-{key}-body"), args),
        t(locale, "mail-signature")
    );
    let number = args.iter().find(|(k, _)| *k == "number").map(|(_, v)| v);
    let mut builder = Message::builder().message_id(Some(format!(
        "<{}@{}>",
        uuid::Uuid::new_v4().simple(),
        mail_host(base_url)
    )));
    if let Some(number) = number {
        let thread = ticket_thread_id(base_url, number);
        builder = builder.in_reply_to(thread.clone()).references(thread);
    }
    // Machines that read our mail must not answer it (RFC 3834), and a copy that comes back
    // to the desk is recognised by its X-Loop header.
    builder = builder
        .raw_header(HeaderValue::new(
            HeaderName::new_from_ascii_str("Auto-Submitted"),
            "auto-generated".into(),
        ))
        .raw_header(HeaderValue::new(
            HeaderName::new_from_ascii_str("X-Loop"),
            bare_from_address(base_url),
        ));
    let message = builder
        .from(
            from_address(base_url)
                .parse()
                .map_err(|_| crate::error::AppError::internal())?,
        )
        .to(to
            .parse()
            .map_err(|_| crate::error::AppError::invalid("invalid_email", "email"))?)
        .subject(subject.clone())
        .header(ContentType::TEXT_PLAIN)
        .body(body)
        .map_err(|_| crate::error::AppError::internal())?;
    let raw = String::from_utf8_lossy(&message.formatted()).into_owned();
    Ok(store::outbox::NewMail {
        kind: key.to_owned(),
        to: to.to_owned(),
        subject,
        message: raw,
        idempotency_key: None,
        endpoint_id: None,
    })
}
