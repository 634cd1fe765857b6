//! Delivers queued mail. Each node runs a sender; a sender claims a few due messages with a
//! lease (committed before anything is sent), sends them one by one and records each
//! outcome in its own transaction at once. A sender killed mid-batch leaves its claims to
//! expire: the messages it had not finished are claimed again, and the ones the mail server
//! had accepted are already marked sent. The one message that can go twice is one accepted
//! by the server in the instant between its answer and our commit; it carries the same
//! `Message-ID` both times.
use crate::error::{AppError, AppResult};
use domain::delivery::{AfterFailure, RetryPolicy};
use lettre::transport::smtp::AsyncSmtpTransport;
use lettre::{AsyncTransport, Tokio1Executor};
use store::Db;
use store::outbox::OutboxMessage;

/// Where mail goes.
#[derive(Clone)]
pub enum Transport {
    /// No mail server configured: messages are kept in the local outbox ('stored'), which
    /// the admin area shows.
    Local,
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
}

impl Transport {
    /// `smtp://user:password@host:587?tls=required` (STARTTLS), `smtps://host:465` (TLS),
    /// `smtp://host:25` (plain, for a local relay); `None` or empty: local outbox.
    pub fn from_url(url: Option<&str>) -> AppResult<Transport> {
        match url.map(str::trim).filter(|u| !u.is_empty()) {
            None => Ok(Transport::Local),
            Some(url) => {
                let builder = AsyncSmtpTransport::<Tokio1Executor>::from_url(url).map_err(|e| {
                    tracing::error!(error = %e, "smtp_url");
                    AppError::invalid("invalid_smtp_url", "smtp_url")
                })?;
                Ok(Transport::Smtp(
                    builder
                        .timeout(Some(std::time::Duration::from_secs(30)))
                        .build(),
                ))
            }
        }
    }
}

pub struct Sender {
    pub db: Db,
    pub transport: Transport,
    pub policy: RetryPolicy,
    /// How long a claim holds: longer than sending one message takes.
    pub lease: jiff::SignedDuration,
    /// Posts webhook deliveries (a time-out, no redirects).
    pub http: reqwest::Client,
}

fn webhook_client(timeout: std::time::Duration) -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(timeout)
        .build()
        .expect("http client")
}

/// What one pass did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Pass {
    pub delivered: usize,
    pub failed: usize,
}

impl Sender {
    pub fn new(
        db: Db,
        transport: Transport,
        policy: RetryPolicy,
        lease: jiff::SignedDuration,
    ) -> Self {
        Self {
            db,
            transport,
            policy,
            lease,
            http: webhook_client(std::time::Duration::from_secs(10)),
        }
    }

    /// How long a webhook endpoint may take to answer before the attempt counts as failed.
    pub fn with_webhook_timeout(mut self, timeout: std::time::Duration) -> Self {
        self.http = webhook_client(timeout);
        self
    }

    /// Sends what is due, one message at a time, until nothing is due. Claiming one at a
    /// time keeps each claim as short as one exchange with the mail server, so a lease a
    /// little longer than the server's time-out is safe on any number of nodes.
    pub async fn deliver_due(&self) -> AppResult<Pass> {
        let mut total = Pass::default();
        // A read first, so an idle pass takes no write lock (SQLite has one writer).
        let mut conn = self.db.reader().acquire().await?;
        let due = store::outbox::any_due(&mut conn).await?;
        drop(conn);
        if !due {
            return Ok(total);
        }
        loop {
            let mut tx = self.db.begin().await?;
            let claimed =
                store::outbox::claim_due(&mut tx, self.db.backend(), 1, self.lease).await?;
            tx.commit().await?;
            if claimed.is_empty() {
                return Ok(total);
            }
            for message in &claimed {
                if self.deliver(message).await? {
                    total.delivered += 1;
                } else {
                    total.failed += 1;
                }
            }
        }
    }

    /// Sends one claimed message and records the outcome. True when delivered.
    async fn deliver(&self, message: &OutboxMessage) -> AppResult<bool> {
        let outcome = match (&self.transport, message.endpoint_id) {
            (_, Some(endpoint)) => self.post_webhook(endpoint, message).await.map(|()| "sent"),
            (Transport::Local, None) => Ok("stored"),
            (Transport::Smtp(smtp), None) => send_smtp(smtp, message).await.map(|()| "sent"),
        };
        let mut tx = self.db.begin().await?;
        let delivered = match outcome {
            Ok(status) => {
                store::outbox::mark_delivered(&mut tx, message.id, status).await?;
                metrics::counter!("triage_mail_delivered_total", "status" => status).increment(1);
                true
            }
            Err(failure) => {
                let queued_at =
                    domain::time::from_db(&message.created_at).unwrap_or_else(domain::time::now);
                let next = self.policy.after_failure(
                    message.attempts,
                    queued_at,
                    domain::time::now(),
                    failure.permanent,
                );
                tracing::warn!(id = message.id, to = %message.to_address, attempts = message.attempts,
                    permanent = failure.permanent, error = %failure.reason, "mail delivery failed");
                let retry_at = match next {
                    AfterFailure::RetryAt(at) => Some(at),
                    AfterFailure::GiveUp => {
                        metrics::counter!("triage_mail_given_up_total").increment(1);
                        None
                    }
                };
                store::outbox::record_failure(&mut tx, message.id, &failure.reason, retry_at)
                    .await?;
                false
            }
        };
        tx.commit().await?;
        Ok(delivered)
    }
}

impl Sender {
    /// Posts a webhook delivery, signed with the endpoint's current secret. A 2xx answer
    /// delivers it; 410 Gone gives up; anything else (another status, a time-out, no
    /// connection) is tried again later.
    async fn post_webhook(&self, endpoint_id: i64, message: &OutboxMessage) -> Result<(), Failure> {
        let transient = |reason: String| Failure {
            reason,
            permanent: false,
        };
        let mut conn = self
            .db
            .reader()
            .acquire()
            .await
            .map_err(|e| transient(e.to_string()))?;
        let endpoint = store::webhooks::get(&mut conn, endpoint_id)
            .await
            .map_err(|e| transient(e.to_string()))?;
        drop(conn);
        if endpoint.active == 0 {
            return Err(Failure {
                reason: "endpoint turned off".into(),
                permanent: true,
            });
        }
        let signed = crate::webhooks::sign(&endpoint.secret, message.id, &message.message)
            .map_err(|reason| Failure {
                reason,
                permanent: true,
            })?;
        let response = self
            .http
            .post(&endpoint.url)
            .header("content-type", "application/json")
            .header("webhook-id", &signed.id)
            .header("webhook-timestamp", signed.timestamp.to_string())
            .header("webhook-signature", &signed.signature)
            .body(message.message.clone())
            .send()
            .await
            .map_err(|e| {
                transient(if e.is_timeout() {
                    "the endpoint did not answer in time".into()
                } else {
                    format!("could not reach the endpoint: {e}")
                })
            })?;
        let status = response.status();
        if status.is_success() {
            Ok(())
        } else {
            Err(Failure {
                reason: format!("the endpoint answered HTTP {}", status.as_u16()),
                permanent: status == reqwest::StatusCode::GONE,
            })
        }
    }
}

struct Failure {
    reason: String,
    permanent: bool,
}

async fn send_smtp(
    smtp: &AsyncSmtpTransport<Tokio1Executor>,
    message: &OutboxMessage,
) -> Result<(), Failure> {
    let refuse = |reason: String| Failure {
        reason,
        permanent: true,
    };
    let from = envelope_sender(&message.message)
        .ok_or_else(|| refuse("the message has no From address".into()))?;
    let to: lettre::Address = message
        .to_address
        .trim()
        .parse()
        .map_err(|_| refuse(format!("invalid recipient {:?}", message.to_address)))?;
    let envelope =
        lettre::address::Envelope::new(Some(from), vec![to]).map_err(|e| refuse(e.to_string()))?;
    smtp.send_raw(&envelope, message.message.as_bytes())
        .await
        .map(|_| ())
        .map_err(|e| Failure {
            permanent: e.is_permanent(),
            reason: e.to_string(),
        })
}

/// The address in the stored message's `From:` header (`Name <a@b>` or `a@b`).
fn envelope_sender(raw: &str) -> Option<lettre::Address> {
    let header = raw
        .lines()
        .take_while(|l| !l.is_empty())
        .find_map(|l| l.strip_prefix("From:"))?;
    let address = match (header.rfind('<'), header.rfind('>')) {
        (Some(a), Some(b)) if a < b => &header[a + 1..b],
        _ => header,
    };
    address.trim().parse().ok()
}

/// Runs the sender every `period` until the process ends. Every node may run it.
pub fn spawn(sender: Sender, period: std::time::Duration) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(period);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            if let Err(e) = sender.deliver_due().await {
                tracing::warn!(code = e.code, "mail delivery");
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_envelope_sender_comes_from_the_from_header() {
        let raw = "From: Triage <no-reply@hie.example>\r\nTo: a@b.example\r\n\r\nFrom: body@x.example\r\n";
        assert_eq!(
            envelope_sender(raw).map(|a| a.to_string()),
            Some("no-reply@hie.example".into())
        );
        assert_eq!(
            envelope_sender("From: plain@hie.example\r\n\r\n").map(|a| a.to_string()),
            Some("plain@hie.example".into())
        );
        assert!(envelope_sender("To: a@b.example\r\n\r\nFrom: x@y.example").is_none());
    }
}
