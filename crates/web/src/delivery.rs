//! Delivers queued mail. Each node runs a sender; a sender claims a small batch of due
//! messages with a lease (committed before anything is sent), sends them one by one over
//! one connection to the mail server and records each outcome in its own transaction at
//! once. A sender killed mid-batch leaves its claims to expire: the messages it had not
//! finished are claimed again, and the ones the mail server had accepted are already marked
//! sent. The one message that can go twice is one accepted by the server in the instant
//! between its answer and our commit; it carries the same `Message-ID` both times.
use crate::error::{AppError, AppResult};
use crate::smtp::{Failure, SmtpServer, SmtpSession};
use domain::delivery::{AfterFailure, RetryPolicy};
use store::Db;
use store::outbox::{Claim, OutboxMessage};

/// How many due messages a sender claims at a time. Small, so that a sender holds little
/// that others could be sending, and a batch is done in well under a second at full rate.
const BATCH: i64 = 20;

/// Without a mail server a batch's mail is only marked kept, in one statement, so a larger
/// batch costs the database less per message (webhook deliveries in it still go one by one,
/// their claim extended as they go).
const LOCAL_BATCH: i64 = 200;

/// Where mail goes.
#[derive(Clone)]
pub enum Transport {
    /// No mail server configured: messages are kept in the local outbox ('stored'), which
    /// the admin area shows.
    Local,
    Smtp(SmtpServer),
}

impl Transport {
    /// `smtp://user:password@host:587?tls=required` (STARTTLS), `smtps://host:465` (TLS),
    /// `smtp://host:25` (plain, for a local relay); `None` or empty: local outbox.
    pub fn from_url(url: Option<&str>) -> AppResult<Transport> {
        match url.map(str::trim).filter(|u| !u.is_empty()) {
            None => Ok(Transport::Local),
            Some(url) => SmtpServer::from_url(url).map(Transport::Smtp).map_err(|e| {
                tracing::error!(error = %e, "smtp_url");
                AppError::invalid("invalid_smtp_url", "smtp_url")
            }),
        }
    }
}

pub struct Sender {
    pub db: Db,
    pub transport: Transport,
    pub policy: RetryPolicy,
    /// How long a message's claim must still hold when the sender starts on it: longer than
    /// sending one message takes (the mail server has 30 s, connecting included).
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

impl std::ops::AddAssign for Pass {
    fn add_assign(&mut self, other: Pass) {
        self.delivered += other.delivered;
        self.failed += other.failed;
    }
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

    /// How long a batch's claim holds when taken or extended: half a lease more than one
    /// message needs, so it is extended at most every half lease, not before each message.
    fn claim_span(&self) -> jiff::SignedDuration {
        self.lease + self.lease / 2
    }

    /// Sends what is due, a batch at a time, until nothing is due. The mail server gets one
    /// connection for the whole pass, closed (QUIT) at its end.
    pub async fn deliver_due(&self) -> AppResult<Pass> {
        // A read first, so an idle pass takes no write lock (SQLite has one writer).
        let mut conn = self.db.reader().acquire().await?;
        let due = store::outbox::any_due(&mut conn).await?;
        drop(conn);
        if !due {
            return Ok(Pass::default());
        }
        let mut session = match &self.transport {
            Transport::Smtp(server) => Some(server.session()),
            Transport::Local => None,
        };
        let outcome = self.deliver_batches(session.as_mut()).await;
        if let Some(session) = session {
            session.finish().await;
        }
        outcome
    }

    async fn deliver_batches(&self, mut smtp: Option<&mut SmtpSession<'_>>) -> AppResult<Pass> {
        let mut total = Pass::default();
        let batch = match self.transport {
            Transport::Local => LOCAL_BATCH,
            Transport::Smtp(_) => BATCH,
        };
        loop {
            let mut tx = self.db.begin().await?;
            let claim =
                store::outbox::claim_due(&mut tx, self.db.backend(), batch, self.claim_span())
                    .await?;
            tx.commit().await?;
            if claim.messages.is_empty() {
                return Ok(total);
            }
            total += self.deliver_claimed(claim, smtp.as_deref_mut()).await?;
        }
    }

    /// Delivers a claimed batch, recording each outcome as soon as it is known.
    ///
    /// A batch can take long: the server may be slow, or hold a message up to the time-out.
    /// The claim is therefore not sized for the whole batch up front, which would also hold
    /// a dead sender's messages that much longer; instead, before each message the claim on
    /// the rest of the batch must still hold for a full `lease` (what one message may take),
    /// and when it does not, it is extended. Each message thus starts with the same margin
    /// a claim of one message had. The extension only takes rows whose `claimed_until` is
    /// still this claim's: if the claim lapsed (a message took longer than the lease) and
    /// another sender claimed some of the rest, those are left to it.
    async fn deliver_claimed(
        &self,
        mut claim: Claim,
        mut smtp: Option<&mut SmtpSession<'_>>,
    ) -> AppResult<Pass> {
        let mut pass = Pass::default();
        let mut messages = std::mem::take(&mut claim.messages);
        if matches!(self.transport, Transport::Local) {
            let (mail, webhooks): (Vec<_>, Vec<_>) = messages
                .into_iter()
                .partition(|message| message.endpoint_id.is_none());
            pass.delivered += self.store_locally(&mail).await?;
            messages = webhooks;
        }
        let mut no_longer_held: Vec<i64> = Vec::new();
        // The last message the mail server answered, its outcome not recorded yet.
        let mut answered: Option<Answered> = None;
        for (index, message) in messages.iter().enumerate() {
            if claim.until.duration_since(domain::time::now()) < self.lease {
                self.record_answered(answered.take(), &mut pass).await?;
                let rest: Vec<i64> = messages[index..].iter().map(|m| m.id).collect();
                let mut tx = self.db.begin().await?;
                let held = store::outbox::extend_claim(
                    &mut tx,
                    &mut claim,
                    &rest,
                    domain::time::now() + self.claim_span(),
                )
                .await?;
                tx.commit().await?;
                no_longer_held.extend(rest.into_iter().filter(|id| !held.contains(id)));
            }
            if no_longer_held.contains(&message.id) {
                tracing::warn!(
                    id = message.id,
                    "another sender took this message after the claim lapsed"
                );
                continue;
            }
            match (message.endpoint_id, smtp.as_deref_mut()) {
                (None, Some(session)) => {
                    let previous = answered.take();
                    let outcome = self
                        .send_while_recording(session, message, previous, &mut pass)
                        .await?;
                    answered = Some((message, outcome));
                }
                (endpoint, _) => {
                    self.record_answered(answered.take(), &mut pass).await?;
                    let outcome = match endpoint {
                        Some(endpoint) => {
                            self.post_webhook(endpoint, message).await.map(|()| "sent")
                        }
                        None => Ok("stored"),
                    };
                    self.record_answered(Some((message, outcome)), &mut pass)
                        .await?;
                }
            }
        }
        self.record_answered(answered, &mut pass).await?;
        Ok(pass)
    }

    /// Sends a message over SMTP while the previous message's outcome is recorded: MAIL,
    /// RCPT and DATA go alongside the record, the message's data only once the record is
    /// committed. As when each record comes before the next message is begun, at most one
    /// message the server accepted is unrecorded at any moment (the one a `kill -9` could
    /// have sent twice), but the round trips to the database and to the mail server overlap.
    async fn send_while_recording<'m>(
        &self,
        session: &mut SmtpSession<'_>,
        message: &'m OutboxMessage,
        previous: Option<Answered<'m>>,
        pass: &mut Pass,
    ) -> AppResult<Outcome> {
        let envelope = match smtp_envelope(message) {
            Ok(envelope) => envelope,
            Err(failure) => {
                self.record_answered(previous, pass).await?;
                return Ok(Err(failure));
            }
        };
        let data = message.message.as_bytes();
        let (recorded, opened) = tokio::join!(
            self.record_answered(previous, pass),
            session.open_message(&envelope, data)
        );
        recorded?;
        Ok(match opened {
            Ok(()) => session.send_data(data).await.map(|()| "sent"),
            Err(failure) => Err(failure),
        })
    }

    /// Without a mail server, mail is only kept: a batch is marked 'stored' in one UPDATE.
    async fn store_locally(&self, mail: &[OutboxMessage]) -> AppResult<usize> {
        if mail.is_empty() {
            return Ok(0);
        }
        let ids: Vec<i64> = mail.iter().map(|m| m.id).collect();
        let mut conn = self.db.writer().await?;
        let stored = store::outbox::mark_all_delivered(&mut conn, &ids, "stored").await?;
        metrics::counter!("triage_mail_delivered_total", "status" => "stored").increment(stored);
        Ok(usize::try_from(stored).unwrap_or(ids.len()))
    }

    /// Records a message's outcome (one statement, its own transaction) and counts it.
    async fn record_answered(
        &self,
        answered: Option<Answered<'_>>,
        pass: &mut Pass,
    ) -> AppResult<()> {
        let Some((message, outcome)) = answered else {
            return Ok(());
        };
        let mut conn = self.db.writer().await?;
        match outcome {
            Ok(status) => {
                store::outbox::mark_delivered(&mut conn, message.id, status).await?;
                metrics::counter!("triage_mail_delivered_total", "status" => status).increment(1);
                pass.delivered += 1;
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
                store::outbox::record_failure(&mut conn, message.id, &failure.reason, retry_at)
                    .await?;
                pass.failed += 1;
            }
        }
        Ok(())
    }
}

/// What became of a message: delivered with a status ('sent', 'stored'), or not.
type Outcome = Result<&'static str, Failure>;

/// A message and its outcome, to be recorded.
type Answered<'m> = (&'m OutboxMessage, Outcome);

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

/// The envelope of a message to send over SMTP: from its `From:` header, to its recipient.
fn smtp_envelope(message: &OutboxMessage) -> Result<lettre::address::Envelope, Failure> {
    let from = envelope_sender(&message.message)
        .ok_or_else(|| Failure::permanent("the message has no From address"))?;
    let to: lettre::Address =
        message.to_address.trim().parse().map_err(|_| {
            Failure::permanent(format!("invalid recipient {:?}", message.to_address))
        })?;
    lettre::address::Envelope::new(Some(from), vec![to])
        .map_err(|e| Failure::permanent(e.to_string()))
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
