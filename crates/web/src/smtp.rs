//! The configured mail server, and a sender pass's connection to it.
//!
//! lettre's `AsyncSmtpTransport` (built without its pool) opens a connection for every
//! message, and writes a message's body and its closing `\r\n.\r\n` as two writes on a
//! socket with Nagle's algorithm on: the second write then waits for the server's delayed
//! ACK (40 ms on Linux), which held delivery to about 22 messages/s. Here the TCP
//! connection is opened with `TCP_NODELAY`, handed to lettre's `AsyncSmtpConnection`, and
//! kept for all the messages of a pass.
use lettre::address::Envelope;
use lettre::transport::smtp::Error as SmtpError;
use lettre::transport::smtp::authentication::{Credentials, DEFAULT_MECHANISMS};
use lettre::transport::smtp::client::{AsyncSmtpConnection, AsyncTokioStream, TlsParameters};
use lettre::transport::smtp::commands::{Data, Mail, Rcpt, Rset};
use lettre::transport::smtp::extension::{ClientId, Extension, MailBodyParameter, MailParameter};
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::time::Instant;
use tokio_rustls::TlsConnector;
use tokio_rustls::rustls::pki_types::ServerName;

/// How long the server has for one message: connecting (when needed) and the whole
/// exchange for it.
pub const TIMEOUT: Duration = Duration::from_secs(30);

const SMTP_PORT: u16 = 25;
const SUBMISSION_PORT: u16 = 587;
const SUBMISSIONS_PORT: u16 = 465;

/// Why a message was not delivered, and whether trying again can help.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    pub reason: String,
    pub permanent: bool,
}

impl Failure {
    pub fn transient(reason: impl Into<String>) -> Self {
        Self {
            reason: reason.into(),
            permanent: false,
        }
    }

    pub fn permanent(reason: impl Into<String>) -> Self {
        Self {
            reason: reason.into(),
            permanent: true,
        }
    }

    /// A 5xx answer is permanent; a 4xx answer, a lost connection or anything else is not.
    fn from_smtp(error: &SmtpError) -> Self {
        Self {
            reason: error.to_string(),
            permanent: error.is_permanent(),
        }
    }
}

/// A mail server, from `smtp_url`.
#[derive(Clone)]
pub struct SmtpServer {
    host: String,
    port: u16,
    security: Security,
    credentials: Option<Credentials>,
    hello_name: ClientId,
    timeout: Duration,
}

#[derive(Clone)]
enum Security {
    /// `smtp://` without `tls`: plain text (a local relay).
    Plain,
    /// `smtp://…?tls=required` (STARTTLS, or no delivery) or `?tls=opportunistic` (STARTTLS
    /// when the server offers it).
    StartTls {
        parameters: TlsParameters,
        required: bool,
    },
    /// `smtps://`: TLS from the first byte.
    Implicit {
        connector: TlsConnector,
        server_name: ServerName<'static>,
    },
}

impl SmtpServer {
    /// Reads the URLs lettre's `AsyncSmtpTransport::from_url` reads: `smtp://host[:25]`,
    /// `smtp://host[:587]?tls=required|opportunistic`, `smtps://host[:465]`; a password
    /// brings authentication (user and password percent-decoded), a path the EHLO name.
    pub fn from_url(url: &str) -> Result<Self, String> {
        let url = url::Url::parse(url).map_err(|e| e.to_string())?;
        let host = match url.host() {
            Some(url::Host::Domain(name)) => name.to_owned(),
            Some(url::Host::Ipv4(ip)) => ip.to_string(),
            Some(url::Host::Ipv6(ip)) => ip.to_string(),
            None => return Err("the URL has no host".into()),
        };
        let tls = url
            .query_pairs()
            .find(|(key, _)| key == "tls")
            .map(|(_, value)| value.into_owned());
        let (default_port, security) = match (url.scheme(), tls.as_deref()) {
            ("smtp", None) => (SMTP_PORT, Security::Plain),
            ("smtp", Some(tls @ ("required" | "opportunistic"))) => (
                SUBMISSION_PORT,
                Security::StartTls {
                    parameters: TlsParameters::new(host.clone()).map_err(|e| e.to_string())?,
                    required: tls == "required",
                },
            ),
            ("smtps", _) => (SUBMISSIONS_PORT, implicit_tls(&host)?),
            (scheme, tls) => {
                return Err(format!(
                    "unknown scheme {scheme:?} or tls parameter {tls:?}"
                ));
            }
        };
        let hello_name = match url.path().trim_matches('/') {
            "" => ClientId::default(),
            name => ClientId::Domain(name.to_owned()),
        };
        let credentials = match url.password() {
            Some(password) => Some(Credentials::new(
                percent_decoded(url.username())?,
                percent_decoded(password)?,
            )),
            None => None,
        };
        Ok(Self {
            port: url.port().unwrap_or(default_port),
            host,
            security,
            credentials,
            hello_name,
            timeout: TIMEOUT,
        })
    }

    /// With another time-out per message (tests).
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// A session for one pass: it connects when the first message is sent.
    pub fn session(&self) -> SmtpSession<'_> {
        SmtpSession {
            server: self,
            connection: None,
            unusable: None,
            deadline: Instant::now(),
            awaiting_data: false,
            connections_opened: 0,
        }
    }

    /// Opens a connection: TCP with `TCP_NODELAY`, TLS (at once or by STARTTLS), EHLO and
    /// authentication, as the URL asks.
    async fn connect(&self) -> Result<AsyncSmtpConnection, Failure> {
        let tcp = TcpStream::connect((self.host.as_str(), self.port))
            .await
            .map_err(|e| {
                Failure::transient(format!(
                    "could not connect to {}:{}: {e}",
                    self.host, self.port
                ))
            })?;
        tcp.set_nodelay(true)
            .map_err(|e| Failure::transient(format!("TCP_NODELAY: {e}")))?;
        let stream: Box<dyn AsyncTokioStream> = match &self.security {
            Security::Implicit {
                connector,
                server_name,
            } => {
                let tls = connector
                    .connect(server_name.clone(), tcp)
                    .await
                    .map_err(|e| {
                        Failure::transient(format!(
                            "TLS with {}:{} failed: {e}",
                            self.host, self.port
                        ))
                    })?;
                Box::new(ImplicitTlsStream(tls))
            }
            Security::Plain | Security::StartTls { .. } => Box::new(tcp),
        };
        let mut connection = AsyncSmtpConnection::connect_with_transport(stream, &self.hello_name)
            .await
            .map_err(|e| Failure::from_smtp(&e))?;
        if let Security::StartTls {
            parameters,
            required,
        } = &self.security
            && (*required || connection.can_starttls())
        {
            connection
                .starttls(parameters.clone(), &self.hello_name)
                .await
                .map_err(|e| Failure::from_smtp(&e))?;
        }
        if let Some(credentials) = &self.credentials {
            connection
                .auth(DEFAULT_MECHANISMS, credentials)
                .await
                .map_err(|e| Failure::from_smtp(&e))?;
        }
        Ok(connection)
    }
}

fn percent_decoded(text: &str) -> Result<String, String> {
    crate::tls::percent_decoded(text).ok_or_else(|| "credentials are not UTF-8".to_owned())
}

/// TLS from the first byte, with the settings lettre uses with its `rustls-tls` feature.
fn implicit_tls(host: &str) -> Result<Security, String> {
    let server_name = ServerName::try_from(host.to_owned()).map_err(|e| e.to_string())?;
    Ok(Security::Implicit {
        connector: crate::tls::connector()?,
        server_name,
    })
}

/// An `smtps://` connection, handed to lettre, which takes any stream that can tell its
/// peer's address.
#[derive(Debug)]
struct ImplicitTlsStream(tokio_rustls::client::TlsStream<TcpStream>);

impl AsyncRead for ImplicitTlsStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().0).poll_read(cx, buf)
    }
}

impl AsyncWrite for ImplicitTlsStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().0).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().0).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().0).poll_shutdown(cx)
    }
}

impl AsyncTokioStream for ImplicitTlsStream {
    fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.0.get_ref().0.peer_addr()
    }
}

/// One pass's connection to the server: opened for the first message, used for the next
/// ones, closed with QUIT by [`SmtpSession::finish`].
pub struct SmtpSession<'a> {
    server: &'a SmtpServer,
    connection: Option<AsyncSmtpConnection>,
    /// Set when a connection could not be opened: the pass's other messages fail the same
    /// way at once instead of each waiting for its own time-out.
    unusable: Option<Failure>,
    /// When the message being sent must be done: set by [`SmtpSession::open_message`].
    deadline: Instant,
    /// The server has answered DATA and waits for the message: no command may go now.
    awaiting_data: bool,
    connections_opened: usize,
}

/// Where a transaction stopped.
enum TransactionError {
    /// At MAIL, RCPT or DATA: none of the message was sent, the server cannot have taken it.
    BeforeData(SmtpError),
    /// While the message was sent, or at the server's answer to it.
    Data(SmtpError),
    /// The server lacks an extension the message needs; nothing was sent.
    Unsupported(&'static str),
    TimedOut,
}

impl SmtpSession<'_> {
    /// Sends one message. `Ok` once the server accepted it.
    pub async fn send(&mut self, envelope: &Envelope, message: &[u8]) -> Result<(), Failure> {
        self.open_message(envelope, message).await?;
        self.send_data(message).await
    }

    /// The first half of [`SmtpSession::send`]: MAIL, RCPT and DATA, after which the server
    /// waits for the message's data ([`SmtpSession::send_data`]). Nothing the server could
    /// accept has been sent yet.
    pub async fn open_message(
        &mut self,
        envelope: &Envelope,
        message: &[u8],
    ) -> Result<(), Failure> {
        if let Some(failure) = &self.unusable {
            return Err(failure.clone());
        }
        self.deadline = Instant::now() + self.server.timeout;
        let reused = self.connection.is_some();
        let outcome = match self.attempt(envelope, message).await? {
            // A server may close a connection it finds idle or has used enough (with 421,
            // or without a word); that shows at the first command of the next message.
            // Nothing of this message was sent yet, so it goes again on a new connection,
            // once.
            Err(TransactionError::BeforeData(error)) if reused && connection_lost(&error) => {
                tracing::debug!(error = %error, "the mail server closed the connection; connecting again");
                self.connection = None;
                self.attempt(envelope, message).await?
            }
            outcome => outcome,
        };
        self.settle(outcome).await?;
        self.awaiting_data = true;
        Ok(())
    }

    /// The second half of [`SmtpSession::send`]: the message's data, and the server's answer.
    pub async fn send_data(&mut self, message: &[u8]) -> Result<(), Failure> {
        self.awaiting_data = false;
        let Some(connection) = &mut self.connection else {
            return Err(Failure::transient(
                "no message was opened on the connection",
            ));
        };
        let outcome =
            match tokio::time::timeout_at(self.deadline, connection.message(message)).await {
                Ok(Ok(_)) => Ok(()),
                Ok(Err(error)) => Err(TransactionError::Data(error)),
                Err(_) => Err(TransactionError::TimedOut),
            };
        self.settle(outcome).await
    }

    /// QUIT, if a connection is open. A message opened but never given its data is dropped
    /// with the connection (a QUIT would only be read as part of its data).
    pub async fn finish(mut self) {
        if let Some(mut connection) = self.connection.take()
            && !self.awaiting_data
        {
            let _ = tokio::time::timeout(self.server.timeout, connection.quit()).await;
        }
    }

    /// How many connections this session opened.
    pub fn connections_opened(&self) -> usize {
        self.connections_opened
    }

    /// Connects if needed, then runs MAIL, RCPT and DATA. `Err` when no connection could be
    /// opened.
    async fn attempt(
        &mut self,
        envelope: &Envelope,
        message: &[u8],
    ) -> Result<Result<(), TransactionError>, Failure> {
        let deadline = self.deadline;
        let connection = match &mut self.connection {
            Some(connection) => connection,
            None => {
                let opened = match tokio::time::timeout_at(deadline, self.server.connect()).await {
                    Ok(opened) => opened,
                    Err(_) => Err(Failure::transient(format!(
                        "could not connect to {}:{} within {} s",
                        self.server.host,
                        self.server.port,
                        self.server.timeout.as_secs()
                    ))),
                };
                let connection = opened.inspect_err(|failure| {
                    self.unusable = Some(failure.clone());
                })?;
                self.connections_opened += 1;
                self.connection.insert(connection)
            }
        };
        Ok(
            match tokio::time::timeout_at(deadline, open_transaction(connection, envelope, message))
                .await
            {
                Ok(outcome) => outcome,
                Err(_) => Err(TransactionError::TimedOut),
            },
        )
    }

    /// Turns a transaction's outcome into the message's, and leaves the connection ready
    /// for the next message, or closed.
    async fn settle(&mut self, outcome: Result<(), TransactionError>) -> Result<(), Failure> {
        let error = match outcome {
            Ok(()) => return Ok(()),
            Err(TransactionError::Unsupported(reason)) => return Err(Failure::transient(reason)),
            Err(TransactionError::TimedOut) => {
                // Where the exchange stopped is unknown: this connection cannot go on.
                self.connection = None;
                return Err(Failure::transient(format!(
                    "the mail server did not answer within {} s",
                    self.server.timeout.as_secs()
                )));
            }
            Err(TransactionError::BeforeData(error) | TransactionError::Data(error)) => error,
        };
        if connection_lost(&error) {
            self.connection = None;
        } else if let Some(connection) = &mut self.connection {
            // The server refused this message and the session goes on: RSET ends the
            // transaction, so the next message starts clean.
            let reset = tokio::time::timeout_at(self.deadline, connection.command(Rset)).await;
            if !matches!(reset, Ok(Ok(_))) {
                self.connection = None;
            }
        }
        Err(Failure::from_smtp(&error))
    }
}

/// True unless the server answered with a code and keeps the session open (421 closes it).
fn connection_lost(error: &SmtpError) -> bool {
    let answered = error.is_transient() || error.is_permanent();
    !answered || error.status().map(u16::from) == Some(421)
}

/// MAIL, RCPT and DATA, as lettre's `AsyncSmtpConnection::send` starts a message, but
/// telling where it stopped and leaving the connection open on a refusal.
async fn open_transaction(
    connection: &mut AsyncSmtpConnection,
    envelope: &Envelope,
    message: &[u8],
) -> Result<(), TransactionError> {
    let mut parameters = Vec::new();
    let non_ascii_address = envelope
        .to()
        .iter()
        .chain(envelope.from())
        .any(|address| !AsRef::<str>::as_ref(address).is_ascii());
    if non_ascii_address {
        if !connection
            .server_info()
            .supports_feature(Extension::SmtpUtfEight)
        {
            return Err(TransactionError::Unsupported(
                "the message has non-ASCII addresses but the server does not support SMTPUTF8",
            ));
        }
        parameters.push(MailParameter::SmtpUtfEight);
    }
    if !message.is_ascii() {
        if !connection
            .server_info()
            .supports_feature(Extension::EightBitMime)
        {
            return Err(TransactionError::Unsupported(
                "the message has non-ASCII text but the server does not support 8BITMIME",
            ));
        }
        parameters.push(MailParameter::Body(MailBodyParameter::EightBitMime));
    }
    connection
        .command(Mail::new(envelope.from().cloned(), parameters))
        .await
        .map_err(TransactionError::BeforeData)?;
    for recipient in envelope.to() {
        connection
            .command(Rcpt::new(recipient.clone(), Vec::new()))
            .await
            .map_err(TransactionError::BeforeData)?;
    }
    connection
        .command(Data)
        .await
        .map_err(TransactionError::BeforeData)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
    use tokio::net::TcpListener;

    #[test]
    fn urls_are_read_as_lettre_reads_them() {
        let plain = SmtpServer::from_url("smtp://127.0.0.1:2525").unwrap();
        assert_eq!((plain.host.as_str(), plain.port), ("127.0.0.1", 2525));
        assert!(matches!(plain.security, Security::Plain));
        assert!(plain.credentials.is_none());
        assert_eq!(plain.timeout, TIMEOUT);

        assert_eq!(
            SmtpServer::from_url("smtp://relay.example").unwrap().port,
            25
        );

        let required = SmtpServer::from_url("smtp://mail.example?tls=required").unwrap();
        assert_eq!(required.port, 587);
        assert!(matches!(
            required.security,
            Security::StartTls { required: true, .. }
        ));
        let opportunistic =
            SmtpServer::from_url("smtp://mail.example:2587?tls=opportunistic").unwrap();
        assert_eq!(opportunistic.port, 2587);
        assert!(matches!(
            opportunistic.security,
            Security::StartTls {
                required: false,
                ..
            }
        ));

        let implicit = SmtpServer::from_url("smtps://mail.example").unwrap();
        assert_eq!(implicit.port, 465);
        assert!(matches!(implicit.security, Security::Implicit { .. }));

        let ipv6 = SmtpServer::from_url("smtp://[::1]:2525").unwrap();
        assert_eq!(ipv6.host, "::1");
    }

    #[test]
    fn credentials_are_percent_decoded_and_the_path_names_the_client() {
        let server =
            SmtpServer::from_url("smtp://no-reply%40hie.example:p%40ss%20word@mail.example/triage.hie.example?tls=required")
                .unwrap();
        assert_eq!(
            server.credentials,
            Some(Credentials::new(
                "no-reply@hie.example".into(),
                "p@ss word".into()
            ))
        );
        assert_eq!(
            server.hello_name,
            ClientId::Domain("triage.hie.example".into())
        );
        // A user without a password is not authentication (as in lettre).
        assert!(
            SmtpServer::from_url("smtp://user@mail.example")
                .unwrap()
                .credentials
                .is_none()
        );
    }

    #[test]
    fn other_urls_are_refused() {
        for url in [
            "http://mail.example",
            "smtp://mail.example?tls=sometimes",
            "smtp://",
            "not a url",
        ] {
            assert!(SmtpServer::from_url(url).is_err(), "{url}");
        }
    }

    /// What a fake server does differently from a well-behaved one.
    #[derive(Clone, Copy, Default)]
    struct Quirks {
        /// Closes the connection, without a word, after each accepted message.
        close_after_each_message: bool,
        /// Answers the second MAIL on the first connection with 421 and closes it (as a
        /// server that finds the connection idle too long).
        closing_421_on_reuse: bool,
        /// Closes the connection when the second message's data is complete, without
        /// answering.
        close_at_end_of_second_message: bool,
        /// Never answers DATA.
        silent_at_data: bool,
    }

    #[derive(Default)]
    struct Seen {
        connections: usize,
        commands: Vec<String>,
        accepted: Vec<String>,
    }

    /// A scripted SMTP server on a free port, and a plain `smtp://` server for it.
    async fn fake_server(quirks: Quirks) -> (SmtpServer, Arc<Mutex<Seen>>) {
        let (port, seen) = fake_server_port(quirks).await;
        (at(&format!("smtp://127.0.0.1:{port}")), seen)
    }

    fn at(url: &str) -> SmtpServer {
        SmtpServer::from_url(url)
            .unwrap()
            .with_timeout(Duration::from_millis(500))
    }

    async fn fake_server_port(quirks: Quirks) -> (u16, Arc<Mutex<Seen>>) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let seen = Arc::new(Mutex::new(Seen::default()));
        let log = seen.clone();
        tokio::spawn(async move {
            loop {
                let Ok((socket, _)) = listener.accept().await else {
                    return;
                };
                let connection = {
                    let mut seen = log.lock().unwrap();
                    seen.connections += 1;
                    seen.connections
                };
                tokio::spawn(serve(socket, connection, quirks, log.clone()));
            }
        });
        (port, seen)
    }

    async fn serve(socket: TcpStream, connection: usize, quirks: Quirks, seen: Arc<Mutex<Seen>>) {
        let (read, mut write) = socket.into_split();
        let mut lines = BufReader::new(read);
        let mut mails = 0;
        if write.write_all(b"220 fake ESMTP\r\n").await.is_err() {
            return;
        }
        loop {
            let mut line = String::new();
            if lines.read_line(&mut line).await.unwrap_or(0) == 0 {
                return;
            }
            let command = line.trim_end().to_owned();
            seen.lock().unwrap().commands.push(command.clone());
            let verb = command
                .split([' ', ':'])
                .next()
                .unwrap_or("")
                .to_ascii_uppercase();
            let answer: &[u8] = match verb.as_str() {
                "EHLO" => b"250-fake\r\n250-8BITMIME\r\n250 SMTPUTF8\r\n",
                "MAIL" if connection == 1 && mails == 1 && quirks.closing_421_on_reuse => {
                    let _ = write.write_all(b"421 4.4.2 idle too long\r\n").await;
                    return;
                }
                "MAIL" => {
                    mails += 1;
                    b"250 OK\r\n"
                }
                "RCPT" if command.contains("reject") => b"550 5.1.1 no such user\r\n",
                "RCPT" | "RSET" | "NOOP" => b"250 OK\r\n",
                "QUIT" => {
                    let _ = write.write_all(b"221 bye\r\n").await;
                    return;
                }
                "DATA" if quirks.silent_at_data => {
                    tokio::time::sleep(Duration::from_secs(3600)).await;
                    return;
                }
                "DATA" => {
                    if write.write_all(b"354 go ahead\r\n").await.is_err() {
                        return;
                    }
                    let mut body = String::new();
                    loop {
                        let mut line = String::new();
                        if lines.read_line(&mut line).await.unwrap_or(0) == 0 {
                            return;
                        }
                        if line == ".\r\n" {
                            break;
                        }
                        body.push_str(&line);
                    }
                    if quirks.close_at_end_of_second_message && mails == 2 {
                        return;
                    }
                    seen.lock().unwrap().accepted.push(body);
                    if quirks.close_after_each_message {
                        let _ = write.write_all(b"250 OK\r\n").await;
                        return;
                    }
                    b"250 OK\r\n"
                }
                _ => b"502 unknown\r\n",
            };
            if write.write_all(answer).await.is_err() {
                return;
            }
        }
    }

    fn envelope(to: &str) -> Envelope {
        Envelope::new(
            Some("no-reply@hie.example".parse().unwrap()),
            vec![to.parse().unwrap()],
        )
        .unwrap()
    }

    fn message(n: usize) -> Vec<u8> {
        format!("Subject: message {n}\r\n\r\nBody {n}\r\n.leading dot\r\n").into_bytes()
    }

    fn commands(seen: &Mutex<Seen>, verb: &str) -> usize {
        seen.lock()
            .unwrap()
            .commands
            .iter()
            .filter(|c| c.starts_with(verb))
            .count()
    }

    #[tokio::test]
    async fn a_session_sends_its_messages_over_one_connection_and_quits() {
        let (server, seen) = fake_server(Quirks::default()).await;
        let mut session = server.session();
        for n in 1..=5 {
            session
                .send(&envelope(&format!("person{n}@hhs.example")), &message(n))
                .await
                .unwrap();
        }
        assert_eq!(session.connections_opened(), 1);
        session.finish().await;
        let seen = seen.lock().unwrap();
        assert_eq!(seen.connections, 1);
        assert_eq!(seen.accepted.len(), 5);
        // Dot-stuffed on the wire, as lettre does it.
        assert!(seen.accepted[0].contains("\r\n..leading dot\r\n"));
        assert_eq!(seen.commands.last().map(String::as_str), Some("QUIT"));
    }

    #[tokio::test]
    async fn a_connection_the_server_closed_is_opened_again() {
        let (server, seen) = fake_server(Quirks {
            close_after_each_message: true,
            ..Quirks::default()
        })
        .await;
        let mut session = server.session();
        for n in 1..=3 {
            session
                .send(&envelope(&format!("person{n}@hhs.example")), &message(n))
                .await
                .unwrap();
        }
        assert_eq!(session.connections_opened(), 3);
        assert_eq!(seen.lock().unwrap().accepted.len(), 3);
    }

    #[tokio::test]
    async fn a_421_at_the_start_of_a_message_means_connecting_again() {
        let (server, seen) = fake_server(Quirks {
            closing_421_on_reuse: true,
            ..Quirks::default()
        })
        .await;
        let mut session = server.session();
        for n in 1..=3 {
            session
                .send(&envelope(&format!("person{n}@hhs.example")), &message(n))
                .await
                .unwrap();
        }
        // The second message met the 421 and went over a second connection, which the
        // third message used too.
        assert_eq!(session.connections_opened(), 2);
        assert_eq!(seen.lock().unwrap().accepted.len(), 3);
    }

    #[tokio::test]
    async fn a_refused_recipient_is_permanent_and_the_connection_goes_on() {
        let (server, seen) = fake_server(Quirks::default()).await;
        let mut session = server.session();
        let refused = session
            .send(&envelope("reject@hhs.example"), &message(1))
            .await
            .unwrap_err();
        assert!(refused.permanent, "{refused:?}");
        assert!(refused.reason.contains("550"), "{refused:?}");
        session
            .send(&envelope("b@hhs.example"), &message(2))
            .await
            .unwrap();
        assert_eq!(session.connections_opened(), 1);
        assert_eq!(commands(&seen, "RSET"), 1);
        assert_eq!(seen.lock().unwrap().accepted.len(), 1);
    }

    #[tokio::test]
    async fn a_message_whose_answer_was_lost_is_not_sent_again_at_once() {
        let (server, seen) = fake_server(Quirks {
            close_at_end_of_second_message: true,
            ..Quirks::default()
        })
        .await;
        let mut session = server.session();
        session
            .send(&envelope("a@hhs.example"), &message(1))
            .await
            .unwrap();
        // The server may have taken a message whose data went out: it is left to a later
        // attempt (a transient failure), not sent again on the spot.
        let second = session
            .send(&envelope("b@hhs.example"), &message(2))
            .await
            .unwrap_err();
        assert!(!second.permanent, "{second:?}");
        assert_eq!(commands(&seen, "DATA"), 2);
        assert_eq!(session.connections_opened(), 1);
        session
            .send(&envelope("c@hhs.example"), &message(3))
            .await
            .unwrap();
        assert_eq!(session.connections_opened(), 2);
    }

    #[tokio::test]
    async fn a_server_that_does_not_answer_times_out() {
        let (server, _seen) = fake_server(Quirks {
            silent_at_data: true,
            ..Quirks::default()
        })
        .await;
        let mut session = server.session();
        let started = std::time::Instant::now();
        let failure = session
            .send(&envelope("a@hhs.example"), &message(1))
            .await
            .unwrap_err();
        assert!(!failure.permanent);
        assert!(failure.reason.contains("did not answer"), "{failure:?}");
        assert!(started.elapsed() < Duration::from_secs(5));
        // The connection was given up; the next message opens another.
        let _ = session.send(&envelope("b@hhs.example"), &message(2)).await;
        assert_eq!(session.connections_opened(), 2);
    }

    #[tokio::test]
    async fn a_server_that_cannot_be_reached_fails_the_rest_of_the_pass_at_once() {
        let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = closed.local_addr().unwrap().port();
        drop(closed);
        let server = SmtpServer::from_url(&format!("smtp://127.0.0.1:{port}")).unwrap();
        let mut session = server.session();
        let first = session
            .send(&envelope("a@hhs.example"), &message(1))
            .await
            .unwrap_err();
        assert!(!first.permanent, "connection refused is transient");
        assert!(first.reason.contains("could not connect"), "{first:?}");
        let second = session
            .send(&envelope("b@hhs.example"), &message(2))
            .await
            .unwrap_err();
        assert_eq!(first, second);
        assert_eq!(session.connections_opened(), 0);
    }

    #[tokio::test]
    async fn tls_is_used_when_the_url_asks_for_it() {
        // The fake server speaks no TLS: `smtps://` fails at the handshake, and
        // `tls=required` at the STARTTLS it does not offer; both are tried again later.
        let (port, seen) = fake_server_port(Quirks::default()).await;
        for url in [
            format!("smtps://127.0.0.1:{port}"),
            format!("smtp://127.0.0.1:{port}?tls=required"),
        ] {
            let server = at(&url);
            let mut session = server.session();
            let failure = session
                .send(&envelope("a@hhs.example"), &message(1))
                .await
                .unwrap_err();
            assert!(!failure.permanent, "{url}: {failure:?}");
        }
        assert!(seen.lock().unwrap().accepted.is_empty());
        // `tls=opportunistic` goes on in plain text without STARTTLS on offer.
        let server = at(&format!("smtp://127.0.0.1:{port}?tls=opportunistic"));
        let mut session = server.session();
        session
            .send(&envelope("a@hhs.example"), &message(1))
            .await
            .unwrap();
        assert_eq!(seen.lock().unwrap().accepted.len(), 1);
    }

    #[tokio::test]
    async fn a_message_left_without_its_data_is_dropped_with_the_connection() {
        let (server, seen) = fake_server(Quirks::default()).await;
        let mut session = server.session();
        session
            .send(&envelope("a@hhs.example"), &message(1))
            .await
            .unwrap();
        session
            .open_message(&envelope("b@hhs.example"), &message(2))
            .await
            .unwrap();
        // E.g. recording the previous outcome failed: the pass ends here.
        session.finish().await;
        tokio::time::sleep(Duration::from_millis(100)).await;
        let seen = seen.lock().unwrap();
        assert_eq!(seen.accepted.len(), 1);
        assert!(
            !seen.commands.iter().any(|c| c == "QUIT"),
            "{:?}",
            seen.commands
        );
    }
}
