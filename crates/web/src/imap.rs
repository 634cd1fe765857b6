//! Mail received by polling an IMAP mailbox (`imap_url`). Each poll logs in, selects the
//! mailbox, fetches the unseen messages (`BODY.PEEK[]`, so fetching alone marks nothing) in
//! small batches, takes each in like `triage mail ingest` would, and marks it `\Seen` only
//! once it had a final outcome: taken, held, quarantined, ignored, taken before, or refused
//! as bad input. A message that met a temporary fault (the database is down, say) stays
//! unseen and the next poll tries it again. Messages are never deleted or moved.
//!
//! Several `triage serve` nodes may poll the same mailbox. A short lease in the database
//! lets one of them poll at a time; when it is lost anyway (a poll slower than the lease, a
//! node's clock far off), two nodes may fetch the same message, which is harmless: intake
//! is keyed by Message-ID, so the second one is answered "taken before" and changes nothing.
use crate::AppState;
use crate::inbound::{self, Source};
use async_imap::imap_proto::{Response, Status};
use futures_util::TryStreamExt;
use serde::Serialize;
use std::collections::HashMap;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

/// The name of the database lease that lets one node poll at a time.
const LEASE_NAME: &str = "imap_poll";
/// How long a poll holds the lease; renewed before each batch.
const LEASE: jiff::SignedDuration = jiff::SignedDuration::from_secs(120);
/// Unseen messages whose sizes are asked in one command.
const SIZE_BATCH: usize = 500;
/// Messages fetched in one command (fewer when they are large: see `body_batches`).
const BODY_BATCH: usize = 20;
const CONNECT_TIMEOUT: Duration = Duration::from_secs(20);
const COMMAND_TIMEOUT: Duration = Duration::from_secs(60);
/// Fetching a batch of bodies may move up to `inbound_max_mb` over a slow link.
const FETCH_TIMEOUT: Duration = Duration::from_secs(300);

/// How the connection is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Security {
    /// `imaps://`: TLS from the first byte (port 993).
    Tls,
    /// `imap://` (default): STARTTLS before logging in (port 143).
    StartTls,
    /// `imap://…?tls=none`: no encryption, for a server on the same host or in tests.
    None,
}

/// The mailbox to poll, from `imap_url`.
#[derive(Clone)]
pub struct ImapAccount {
    pub host: String,
    pub port: u16,
    pub security: Security,
    pub username: String,
    password: String,
    pub mailbox: String,
}

impl std::fmt::Debug for ImapAccount {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ImapAccount")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("security", &self.security)
            .field("username", &self.username)
            .field("password", &"***")
            .field("mailbox", &self.mailbox)
            .finish()
    }
}

/// Where the account points, without its credentials (for logs and reports).
impl std::fmt::Display for ImapAccount {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}/{}", self.host, self.port, self.mailbox)
    }
}

/// Why `imap_url` was not accepted. The messages never repeat the URL: it holds a password.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ImapUrlError {
    #[error("is not a URL")]
    NotAUrl,
    #[error("must start with imaps:// or imap://")]
    Scheme,
    #[error("names no host")]
    NoHost,
    #[error("names no user")]
    NoUser,
    #[error("has no password")]
    NoPassword,
    #[error("user, password or mailbox is not valid UTF-8 once percent-decoded")]
    Encoding,
    #[error("tls must be starttls or none (imaps:// is TLS from the start)")]
    Tls,
    #[error("has an unknown parameter {0:?} (only tls is known)")]
    Parameter(String),
    #[error("mailbox names must be printable ASCII")]
    Mailbox,
}

impl ImapAccount {
    /// `imaps://user:password@host[:993][/mailbox]` or
    /// `imap://user:password@host[:143][/mailbox][?tls=starttls|none]`. The user, password and
    /// mailbox are percent-decoded (`%40` for `@`); the mailbox defaults to INBOX.
    pub fn from_url(text: &str) -> Result<Self, ImapUrlError> {
        let url = url::Url::parse(text.trim()).map_err(|_| ImapUrlError::NotAUrl)?;
        let (mut security, default_port) = match url.scheme() {
            "imaps" => (Security::Tls, 993),
            "imap" => (Security::StartTls, 143),
            _ => return Err(ImapUrlError::Scheme),
        };
        for (name, value) in url.query_pairs() {
            match (name.as_ref(), value.as_ref(), security) {
                ("tls", "starttls", Security::StartTls) => {}
                ("tls", "none", Security::StartTls) => security = Security::None,
                ("tls", _, _) => return Err(ImapUrlError::Tls),
                (other, _, _) => return Err(ImapUrlError::Parameter(other.to_owned())),
            }
        }
        let host = url
            .host_str()
            .filter(|h| !h.is_empty())
            .ok_or(ImapUrlError::NoHost)?
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_owned();
        let username = decode(url.username())?;
        if username.is_empty() {
            return Err(ImapUrlError::NoUser);
        }
        let password = decode(url.password().ok_or(ImapUrlError::NoPassword)?)?;
        let mailbox = decode(url.path().trim_start_matches('/'))?;
        let mailbox = if mailbox.is_empty() {
            "INBOX".to_owned()
        } else {
            mailbox
        };
        // Other names would need IMAP's modified UTF-7.
        if !mailbox.bytes().all(|b| (0x20..0x7f).contains(&b)) {
            return Err(ImapUrlError::Mailbox);
        }
        Ok(Self {
            port: url.port().unwrap_or(default_port),
            host,
            security,
            username,
            password,
            mailbox,
        })
    }
}

fn decode(part: &str) -> Result<String, ImapUrlError> {
    crate::tls::percent_decoded(part).ok_or(ImapUrlError::Encoding)
}

/// Why a poll did not get through the mailbox.
#[derive(Debug, thiserror::Error)]
pub enum PollError {
    /// No connection, no TLS, no greeting: the server is down or unreachable.
    #[error("cannot reach {server}: {reason}")]
    Connect { server: String, reason: String },
    #[error("{server} refused the login of {user}: {reason}")]
    Login {
        server: String,
        user: String,
        reason: String,
    },
    #[error("cannot open the mailbox {mailbox}: {reason}")]
    Mailbox { mailbox: String, reason: String },
    /// The connection broke or the server answered nonsense in the middle of the poll.
    #[error("the IMAP session with {server} failed: {reason}")]
    Session { server: String, reason: String },
    /// The lease could not be taken (the database is down).
    #[error("database: {0}")]
    Database(String),
}

impl PollError {
    /// A short label for metrics.
    pub fn kind(&self) -> &'static str {
        match self {
            PollError::Connect { .. } => "connect_failed",
            PollError::Login { .. } => "login_failed",
            PollError::Mailbox { .. } => "mailbox_failed",
            PollError::Session { .. } => "session_failed",
            PollError::Database(_) => "database_failed",
        }
    }
}

/// What one poll did.
#[derive(Debug, Clone, Serialize)]
pub struct PollReport {
    /// `host:port/mailbox`.
    pub mailbox: String,
    /// False when another node was polling (it held the lease): nothing was fetched.
    pub polled: bool,
    /// Unseen messages found in the mailbox.
    pub unseen: usize,
    /// Each message taken up, in the mailbox's order.
    pub messages: Vec<Polled>,
}

impl PollReport {
    /// Messages left unseen for the next poll because of a temporary fault.
    pub fn deferred(&self) -> usize {
        self.messages.iter().filter(|m| !m.marked_seen).count()
    }
}

/// What became of one message.
#[derive(Debug, Clone, Serialize)]
pub struct Polled {
    pub uid: u32,
    /// ticket, comment, held, quarantined or ignored, as for any inbound message; or
    /// `duplicate` (taken before), `refused` (bad input, `reason` says why) or `deferred`
    /// (a temporary fault: left unseen and tried again next poll).
    pub outcome: String,
    pub reason: Option<String>,
    /// The ticket it opened or joined.
    pub ticket: Option<String>,
    /// The inbound message's id (Admin → Inbound mail).
    pub inbound_id: Option<i64>,
    /// Flagged `\Seen` on the server.
    pub marked_seen: bool,
}

/// Polls every `every` until the process ends. A failed poll (server down, login refused) is
/// logged and the next period tries again.
pub fn spawn(state: AppState, account: ImapAccount, every: Duration) {
    let account = Arc::new(account);
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            let (state, account) = (state.clone(), account.clone());
            // Its own task, so that even a panic in one message's intake ends only this poll.
            let poll = tokio::spawn(async move { poll_once(&state, &account).await });
            match poll.await {
                Ok(Ok(report)) if !report.messages.is_empty() => tracing::info!(
                    mailbox = %report.mailbox,
                    messages = report.messages.len(),
                    deferred = report.deferred(),
                    "IMAP poll"
                ),
                Ok(Ok(_)) => {}
                Ok(Err(e)) => {
                    tracing::warn!(reason = %e, "IMAP poll failed; trying again next period");
                }
                Err(e) => tracing::error!(error = %e, "IMAP poll panicked"),
            }
        }
    });
}

/// Polls the mailbox once (unless another node is polling it).
pub async fn poll_once(state: &AppState, account: &ImapAccount) -> Result<PollReport, PollError> {
    let mut report = PollReport {
        mailbox: account.to_string(),
        polled: false,
        unseen: 0,
        messages: Vec::new(),
    };
    let lease = {
        let mut tx = state.db.begin().await.map_err(database)?;
        let lease = store::leases::acquire(&mut tx, LEASE_NAME, LEASE)
            .await
            .map_err(database)?;
        tx.commit().await.map_err(database)?;
        lease
    };
    let Some(mut lease) = lease else {
        tracing::debug!(mailbox = %account, "another node is polling the mailbox");
        metrics::counter!("triage_imap_polls_total", "result" => "skipped").increment(1);
        return Ok(report);
    };
    report.polled = true;
    let outcome = poll_mailbox(state, account, &mut lease, &mut report).await;
    if let Err(e) = release(state, lease).await {
        tracing::warn!(error = %e, "releasing the IMAP poll lease (it runs out by itself)");
    }
    let result = match &outcome {
        Ok(()) => "ok",
        Err(e) => e.kind(),
    };
    metrics::counter!("triage_imap_polls_total", "result" => result).increment(1);
    outcome.map(|()| report)
}

fn database(e: impl std::fmt::Display) -> PollError {
    PollError::Database(e.to_string())
}

async fn release(state: &AppState, lease: store::leases::Lease) -> store::StoreResult<()> {
    let mut tx = state.db.begin().await?;
    store::leases::release(&mut tx, lease).await?;
    tx.commit().await?;
    Ok(())
}

async fn renew(state: &AppState, lease: &mut store::leases::Lease) -> store::StoreResult<bool> {
    let mut tx = state.db.begin().await?;
    let renewed = store::leases::renew(&mut tx, lease, LEASE).await?;
    tx.commit().await?;
    Ok(renewed)
}

async fn poll_mailbox(
    state: &AppState,
    account: &ImapAccount,
    lease: &mut store::leases::Lease,
    report: &mut PollReport,
) -> Result<(), PollError> {
    let mut session = open(account).await?;
    let server = account.to_string();
    let failed = |e: async_imap::error::Error| PollError::Session {
        server: server.clone(),
        reason: describe(&e),
    };
    timed(COMMAND_TIMEOUT, session.select(&account.mailbox))
        .await
        .map_err(|e| PollError::Mailbox {
            mailbox: account.to_string(),
            reason: describe(&e),
        })?;
    let mut uids: Vec<u32> = timed(COMMAND_TIMEOUT, session.uid_search("UNSEEN"))
        .await
        .map_err(failed)?
        .into_iter()
        .collect();
    // Oldest first: a ticket is opened before the replies to it are threaded.
    uids.sort_unstable();
    report.unseen = uids.len();
    if uids.is_empty() {
        let _ = timed(COMMAND_TIMEOUT, session.logout()).await;
        return Ok(());
    }

    let mut sizes = Vec::with_capacity(uids.len());
    for chunk in uids.chunks(SIZE_BATCH) {
        let fetched = timed(COMMAND_TIMEOUT, async {
            session
                .uid_fetch(uid_set(chunk), "(UID RFC822.SIZE)")
                .await?
                .try_collect::<Vec<_>>()
                .await
        })
        .await
        .map_err(failed)?;
        sizes.extend(
            fetched
                .iter()
                .filter_map(|f| Some((f.uid?, f.size.unwrap_or(0) as usize))),
        );
    }
    sizes.sort_unstable();

    let max_bytes = state.settings.inbound_max_bytes;
    let mut oversized = Vec::new();
    let mut wanted = Vec::new();
    for (uid, size) in sizes {
        if size > max_bytes {
            oversized.push(uid);
        } else {
            wanted.push((uid, size));
        }
    }
    // Too large to take in: the same refusal `triage mail ingest` gives, without fetching
    // the message.
    if !oversized.is_empty() {
        timed(COMMAND_TIMEOUT, mark_seen(&mut session, &oversized))
            .await
            .map_err(failed)?;
        for uid in oversized {
            tracing::warn!(uid, mailbox = %account, limit_mb = max_bytes / (1024 * 1024), "IMAP message over inbound_max_mb refused; marked seen");
            metrics::counter!("triage_imap_messages_total", "outcome" => "refused").increment(1);
            report.messages.push(Polled {
                uid,
                outcome: "refused".into(),
                reason: Some("message_too_large".into()),
                ticket: None,
                inbound_id: None,
                marked_seen: true,
            });
        }
    }

    for batch in body_batches(&wanted, max_bytes) {
        if !renew(state, lease).await.map_err(database)? {
            tracing::info!(mailbox = %account, "IMAP poll lease lost to another node; stopping");
            break;
        }
        let fetched = timed(FETCH_TIMEOUT, async {
            session
                .uid_fetch(uid_set(&batch), "(UID BODY.PEEK[])")
                .await?
                .try_collect::<Vec<_>>()
                .await
        })
        .await
        .map_err(failed)?;
        let mut bodies: HashMap<u32, &[u8]> = fetched
            .iter()
            .filter_map(|f| Some((f.uid?, f.body()?)))
            .collect();
        let mut done = Vec::new();
        for uid in batch {
            // Gone meanwhile (another client expunged it): nothing to take.
            let Some(raw) = bodies.remove(&uid) else {
                continue;
            };
            let polled = take_in(state, uid, raw).await;
            metrics::counter!("triage_imap_messages_total", "outcome" => metric_label(&polled.outcome))
                .increment(1);
            if polled.marked_seen {
                done.push(uid);
            }
            report.messages.push(polled);
        }
        if !done.is_empty() {
            // If this fails the messages are fetched again next poll and answered as taken
            // before.
            timed(COMMAND_TIMEOUT, mark_seen(&mut session, &done))
                .await
                .map_err(failed)?;
        }
    }
    let _ = timed(COMMAND_TIMEOUT, session.logout()).await;
    Ok(())
}

/// Hands one raw message to the intake and says whether it is done with.
async fn take_in(state: &AppState, uid: u32, raw: &[u8]) -> Polled {
    match inbound::ingest(state, raw, Source::Imap).await {
        Ok(taken) => Polled {
            uid,
            outcome: if taken.duplicate {
                "duplicate".into()
            } else {
                taken.status
            },
            reason: taken.reason,
            ticket: taken.ticket,
            inbound_id: Some(taken.id),
            marked_seen: true,
        },
        // Malformed, no sender, too large: fetching it again would not change the answer.
        Err(e) if e.status.is_client_error() => {
            tracing::warn!(uid, reason = e.code, "IMAP message refused; marked seen");
            Polled {
                uid,
                outcome: "refused".into(),
                reason: Some(e.code.into()),
                ticket: None,
                inbound_id: None,
                marked_seen: true,
            }
        }
        Err(e) => {
            tracing::warn!(
                uid,
                reason = e.code,
                "IMAP message not taken in; left unseen for the next poll"
            );
            Polled {
                uid,
                outcome: "deferred".into(),
                reason: Some(e.code.into()),
                ticket: None,
                inbound_id: None,
                marked_seen: false,
            }
        }
    }
}

fn metric_label(outcome: &str) -> &'static str {
    match outcome {
        "ticket" => "ticket",
        "comment" => "comment",
        "held" => "held",
        "quarantined" => "quarantined",
        "ignored" => "ignored",
        "duplicate" => "duplicate",
        "refused" => "refused",
        "deferred" => "deferred",
        _ => "other",
    }
}

/// Groups messages (uid, size) for fetching: at most `BODY_BATCH` at a time, and no more
/// bytes than one message may have, so that memory stays bounded (a message alone may be
/// that large).
fn body_batches(messages: &[(u32, usize)], max_bytes: usize) -> Vec<Vec<u32>> {
    let mut batches: Vec<Vec<u32>> = Vec::new();
    let mut current = Vec::new();
    let mut bytes = 0;
    for &(uid, size) in messages {
        if !current.is_empty() && (current.len() == BODY_BATCH || bytes + size > max_bytes) {
            batches.push(std::mem::take(&mut current));
            bytes = 0;
        }
        current.push(uid);
        bytes += size;
    }
    if !current.is_empty() {
        batches.push(current);
    }
    batches
}

fn uid_set(uids: &[u32]) -> String {
    uids.iter()
        .map(u32::to_string)
        .collect::<Vec<_>>()
        .join(",")
}

async fn mark_seen(session: &mut Session, uids: &[u32]) -> async_imap::error::Result<()> {
    session
        .uid_store(uid_set(uids), "+FLAGS.SILENT (\\Seen)")
        .await?
        .try_collect::<Vec<_>>()
        .await?;
    Ok(())
}

async fn timed<T>(
    limit: Duration,
    step: impl Future<Output = async_imap::error::Result<T>>,
) -> async_imap::error::Result<T> {
    match tokio::time::timeout(limit, step).await {
        Ok(result) => result,
        Err(_) => Err(async_imap::error::Error::Io(std::io::Error::new(
            std::io::ErrorKind::TimedOut,
            format!("no answer within {} s", limit.as_secs()),
        ))),
    }
}

/// An error as a person would say it: the server's own words for a NO or BAD answer.
fn describe(e: &async_imap::error::Error) -> String {
    use async_imap::error::Error;
    match e {
        // async-imap renders these as `code: …, info: Some("…")`.
        Error::No(text) | Error::Bad(text) => text
            .split_once("info: Some(\"")
            .and_then(|(_, rest)| rest.rsplit_once("\")"))
            .map(|(info, _)| info.replace("\\\"", "\""))
            .unwrap_or_else(|| text.clone()),
        Error::ConnectionLost => "the server closed the connection".into(),
        Error::Io(io) => io.to_string(),
        other => other.to_string(),
    }
}

/// A logged-in session with the account's server.
pub type Session = async_imap::Session<Connection>;

/// Connects (TLS or STARTTLS as the account says) and logs in.
pub async fn open(account: &ImapAccount) -> Result<Session, PollError> {
    let server = format!("{}:{}", account.host, account.port);
    let unreachable = |reason: String| PollError::Connect {
        server: server.clone(),
        reason,
    };
    let tcp = tokio::time::timeout(
        CONNECT_TIMEOUT,
        TcpStream::connect((account.host.as_str(), account.port)),
    )
    .await
    .map_err(|_| {
        unreachable(format!(
            "no connection within {} s",
            CONNECT_TIMEOUT.as_secs()
        ))
    })?
    .map_err(|e| unreachable(e.to_string()))?;
    let client = match account.security {
        Security::Tls => {
            let tls = start_tls(&account.host, tcp)
                .await
                .map_err(|e| unreachable(format!("TLS: {e}")))?;
            let mut client = async_imap::Client::new(Connection::Tls(Box::new(tls)));
            greeting(&mut client).await.map_err(unreachable)?;
            client
        }
        Security::None => {
            let mut client = async_imap::Client::new(Connection::Plain(tcp));
            greeting(&mut client).await.map_err(unreachable)?;
            client
        }
        Security::StartTls => {
            let mut client = async_imap::Client::new(Connection::Plain(tcp));
            greeting(&mut client).await.map_err(unreachable)?;
            timed(
                COMMAND_TIMEOUT,
                client.run_command_and_check_ok("STARTTLS", None),
            )
            .await
            .map_err(|e| unreachable(format!("STARTTLS refused: {}", describe(&e))))?;
            // Whatever the server sent after its answer is dropped with the client, unread:
            // nothing from before the handshake is trusted.
            let Connection::Plain(tcp) = client.into_inner() else {
                return Err(unreachable("STARTTLS on a TLS connection".into()));
            };
            let tls = start_tls(&account.host, tcp)
                .await
                .map_err(|e| unreachable(format!("TLS: {e}")))?;
            async_imap::Client::new(Connection::Tls(Box::new(tls)))
        }
    };
    match timed(COMMAND_TIMEOUT, async move {
        client
            .login(&account.username, &account.password)
            .await
            .map_err(|(e, _)| e)
    })
    .await
    {
        Ok(session) => Ok(session),
        Err(e @ (async_imap::error::Error::No(_) | async_imap::error::Error::Bad(_))) => {
            Err(PollError::Login {
                server,
                user: account.username.clone(),
                reason: describe(&e),
            })
        }
        Err(e) => Err(unreachable(describe(&e))),
    }
}

async fn greeting(client: &mut async_imap::Client<Connection>) -> Result<(), String> {
    let greeting = tokio::time::timeout(COMMAND_TIMEOUT, client.read_response())
        .await
        .map_err(|_| format!("no greeting within {} s", COMMAND_TIMEOUT.as_secs()))?
        .map_err(|e| e.to_string())?
        .ok_or_else(|| "the server closed the connection".to_owned())?;
    match greeting.parsed() {
        Response::Data {
            status: Status::Ok, ..
        } => Ok(()),
        Response::Data {
            status: Status::Bye,
            outcome,
        } => Err(format!(
            "the server said goodbye: {}",
            outcome.information.as_deref().unwrap_or("")
        )),
        other => Err(format!("unexpected greeting {other:?}")),
    }
}

async fn start_tls(
    host: &str,
    tcp: TcpStream,
) -> std::io::Result<tokio_rustls::client::TlsStream<TcpStream>> {
    let name = tokio_rustls::rustls::pki_types::ServerName::try_from(host.to_owned())
        .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e))?;
    let connector = crate::tls::connector().map_err(std::io::Error::other)?;
    tokio::time::timeout(CONNECT_TIMEOUT, connector.connect(name, tcp))
        .await
        .map_err(|_| {
            std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                "no TLS handshake within the time-out",
            )
        })?
}

/// The stream under an IMAP session: plain TCP (before STARTTLS, or `tls=none`) or TLS.
#[derive(Debug)]
pub enum Connection {
    Plain(TcpStream),
    Tls(Box<tokio_rustls::client::TlsStream<TcpStream>>),
}

impl AsyncRead for Connection {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            Connection::Plain(s) => Pin::new(s).poll_read(cx, buf),
            Connection::Tls(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Connection {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        match self.get_mut() {
            Connection::Plain(s) => Pin::new(s).poll_write(cx, buf),
            Connection::Tls(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            Connection::Plain(s) => Pin::new(s).poll_flush(cx),
            Connection::Tls(s) => Pin::new(s.as_mut()).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            Connection::Plain(s) => Pin::new(s).poll_shutdown(cx),
            Connection::Tls(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn imaps_url_with_encoded_password_and_default_mailbox() {
        let a =
            ImapAccount::from_url("imaps://desk%40hie.example:p%40ss%2Fw0rd@imap.example").unwrap();
        assert_eq!(a.host, "imap.example");
        assert_eq!(a.port, 993);
        assert_eq!(a.security, Security::Tls);
        assert_eq!(a.username, "desk@hie.example");
        assert_eq!(a.password, "p@ss/w0rd");
        assert_eq!(a.mailbox, "INBOX");
        assert!(!format!("{a:?} {a}").contains("p@ss"));
    }

    #[test]
    fn imap_url_security_port_and_mailbox() {
        let a = ImapAccount::from_url("imap://u:p@host:1143/Support/Desk%20In").unwrap();
        assert_eq!((a.port, a.security), (1143, Security::StartTls));
        assert_eq!(a.mailbox, "Support/Desk In");
        let a = ImapAccount::from_url("imap://u:p@host/INBOX?tls=none").unwrap();
        assert_eq!((a.port, a.security), (143, Security::None));
        let a = ImapAccount::from_url("imap://u:p@host?tls=starttls").unwrap();
        assert_eq!(a.security, Security::StartTls);
    }

    #[test]
    fn bad_urls_are_refused_without_repeating_the_password() {
        use ImapUrlError::*;
        let cases = [
            ("imap.example", NotAUrl),
            ("pop3://u:p@host", Scheme),
            ("imap://:secret@host", NoUser),
            ("imap://u@host", NoPassword),
            ("imaps://u:secret@host?tls=none", Tls),
            ("imap://u:secret@host?tls=maybe", Tls),
            ("imap://u:secret@host?folder=x", Parameter("folder".into())),
            ("imap://u:secret@host/Bo%C3%AEte", Mailbox),
            ("imap://u:%FF@host", Encoding),
        ];
        for (url, expected) in cases {
            let e = ImapAccount::from_url(url).unwrap_err();
            assert_eq!(e, expected, "{url}");
            assert!(!e.to_string().contains("secret"));
        }
    }

    #[test]
    fn batches_are_bounded_by_count_and_bytes() {
        let small: Vec<(u32, usize)> = (1..=45).map(|uid| (uid, 10)).collect();
        let batches = body_batches(&small, 1000);
        assert_eq!(
            batches.iter().map(Vec::len).collect::<Vec<_>>(),
            [20, 20, 5]
        );
        let large = [(1, 600), (2, 600), (3, 300), (4, 1000)];
        assert_eq!(body_batches(&large, 1000), [vec![1], vec![2, 3], vec![4]]);
    }

    #[test]
    fn server_answers_are_told_in_the_servers_words() {
        let e = async_imap::error::Error::No(
            "code: Some(AuthenticationFailed), info: Some(\"Authentication failed.\")".into(),
        );
        assert_eq!(describe(&e), "Authentication failed.");
    }
}
