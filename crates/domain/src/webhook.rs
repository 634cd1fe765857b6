//! Webhooks in the Standard Webhooks format (<https://www.standardwebhooks.com>): each
//! delivery carries `webhook-id`, `webhook-timestamp` and `webhook-signature`, the last an
//! HMAC-SHA256 over `{id}.{timestamp}.{body}` with the endpoint's secret (`whsec_` and the
//! key in base64).
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// The events an endpoint can subscribe to (`*`: all of them).
pub const EVENT_TYPES: [&str; 4] = [
    "ticket.created",
    "ticket.updated",
    "ticket.commented",
    "webhook.test",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum WebhookError {
    #[error("the secret is not whsec_ followed by a base64 key")]
    BadSecret,
    #[error("unknown event type")]
    UnknownEvent,
}

/// A new secret from 32 random bytes.
pub fn secret_from_bytes(bytes: &[u8; 32]) -> String {
    format!("whsec_{}", STANDARD.encode(bytes))
}

/// The `webhook-signature` header value for one delivery.
pub fn sign(secret: &str, id: &str, timestamp: i64, body: &str) -> Result<String, WebhookError> {
    let key = STANDARD
        .decode(secret.strip_prefix("whsec_").unwrap_or(secret))
        .map_err(|_| WebhookError::BadSecret)?;
    if key.is_empty() {
        return Err(WebhookError::BadSecret);
    }
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).map_err(|_| WebhookError::BadSecret)?;
    mac.update(format!("{id}.{timestamp}.{body}").as_bytes());
    Ok(format!(
        "v1,{}",
        STANDARD.encode(mac.finalize().into_bytes())
    ))
}

/// Checks a subscription list: known event types or `*`, without repeats, at least one.
pub fn check_event_types(types: &[String]) -> Result<Vec<String>, WebhookError> {
    let mut out: Vec<String> = Vec::new();
    for t in types {
        let t = t.trim();
        if t != "*" && !EVENT_TYPES.contains(&t) {
            return Err(WebhookError::UnknownEvent);
        }
        if !out.iter().any(|o| o == t) {
            out.push(t.to_owned());
        }
    }
    if out.is_empty() {
        return Err(WebhookError::UnknownEvent);
    }
    Ok(out)
}

/// Whether a subscription takes an event.
pub fn subscribed(types: &[String], event: &str) -> bool {
    types.iter().any(|t| t == "*" || t == event)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_matches_the_standard_webhooks_example() {
        // The example of the Standard Webhooks specification's reference libraries.
        let signature = sign(
            "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1614265330,
            r#"{"test": 2432232314}"#,
        )
        .unwrap();
        assert_eq!(signature, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    }

    #[test]
    fn bad_secrets_and_events_are_refused() {
        assert_eq!(sign("whsec_!!!", "a", 1, "b"), Err(WebhookError::BadSecret));
        assert_eq!(sign("whsec_", "a", 1, "b"), Err(WebhookError::BadSecret));
        assert_eq!(
            check_event_types(&["ticket.deleted".into()]),
            Err(WebhookError::UnknownEvent)
        );
        assert_eq!(check_event_types(&[]), Err(WebhookError::UnknownEvent));
        assert_eq!(
            check_event_types(&["ticket.created".into(), "ticket.created".into()]).unwrap(),
            vec!["ticket.created"]
        );
        assert!(subscribed(&["*".into()], "ticket.updated"));
        assert!(!subscribed(&["ticket.created".into()], "ticket.updated"));
    }

    #[test]
    fn a_new_secret_signs() {
        let secret = secret_from_bytes(&[7; 32]);
        assert!(secret.starts_with("whsec_"));
        assert!(sign(&secret, "msg_1", 1, "{}").unwrap().starts_with("v1,"));
    }
}
