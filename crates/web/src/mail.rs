//! Outgoing mail as real RFC 5322 messages (lettre), written to the outbox in the same
//! transaction as the change that caused it.
use crate::i18n::{t, t_args};
use domain::text::Locale;
use lettre::Message;
use lettre::message::header::ContentType;
use store::Conn;

pub fn from_address(base_url: &str) -> String {
    let host = url::Url::parse(base_url)
        .ok()
        .and_then(|u| u.host_str().map(str::to_owned))
        .filter(|h| h.contains('.') && h.parse::<std::net::IpAddr>().is_err())
        .unwrap_or_else(|| "triage.localhost".into());
    format!("Triage <no-reply@{host}>")
}

/// Builds and stores a message. `key` names the template: `mail-{key}-subject` and
/// `mail-{key}-body` in the recipient's language.
pub async fn send(
    conn: &mut Conn,
    base_url: &str,
    to: &str,
    locale: Locale,
    key: &str,
    args: &[(&'static str, String)],
) -> Result<i64, crate::error::AppError> {
    let mail = render(base_url, to, locale, key, args)?;
    Ok(store::outbox::enqueue(conn, None, &mail).await?)
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
    let message = Message::builder()
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
    })
}
