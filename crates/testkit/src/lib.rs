//! Test support: a real Triage server on a random port with a fresh database, and HTTP
//! clients that talk to it like a browser or a script would.
//!
//! The database is a new SQLite file per test, or a new PostgreSQL database per test when
//! `TRIAGE_TEST_DATABASE_URL` names a server. If that server is unreachable the test fails:
//! it never silently falls back to SQLite.
#![forbid(unsafe_code)]

use anyhow::Context;
use reqwest::{Client, Response, StatusCode};
use serde_json::Value;
use sqlx::Connection;
use std::sync::Arc;

pub use app::demo::DEMO_PASSWORD;

/// The `inbound_token` test servers run with (`POST /api/v1/inbound/email`).
pub const INBOUND_TOKEN: &str = "test-inbound-token-0123456789";

pub struct TestApp {
    pub base: String,
    pub database_url: String,
    /// Outgoing mail server for this app (see [`SmtpSink`]); `None`: the local outbox.
    pub smtp_url: Option<String>,
    /// The mailbox this app polls every second (see [`Dovecot`]); `None`: no polling.
    pub imap_url: Option<String>,
    pub running: Option<app::Running>,
    _dir: Option<tempdir::TempDir>,
    files: tempdir::TempDir,
}

mod tempdir {
    /// A temporary folder removed on drop.
    pub struct TempDir(pub std::path::PathBuf);
    impl TempDir {
        pub fn new() -> Self {
            let path = std::env::temp_dir().join(format!("triage-test-{}", uuid::Uuid::new_v4()));
            std::fs::create_dir_all(&path).expect("temp dir");
            Self(path)
        }
    }
    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

/// A fresh database URL: SQLite in a temp folder, or a new PostgreSQL database.
pub async fn fresh_database() -> (String, Option<tempdir::TempDir>) {
    match std::env::var("TRIAGE_TEST_DATABASE_URL")
        .ok()
        .filter(|u| !u.is_empty())
    {
        Some(admin_url) => {
            sqlx::any::install_default_drivers();
            let name = format!("triage_t_{}", uuid::Uuid::new_v4().simple());
            let mut conn = sqlx::AnyConnection::connect(&admin_url)
                .await
                .unwrap_or_else(|e| panic!("TRIAGE_TEST_DATABASE_URL is set but PostgreSQL is unreachable ({admin_url}): {e}"));
            sqlx::query(&format!("CREATE DATABASE {name}"))
                .execute(&mut conn)
                .await
                .expect("create test database");
            let mut url = url::Url::parse(&admin_url).expect("database url");
            url.set_path(&format!("/{name}"));
            (url.to_string(), None)
        }
        None => {
            let dir = tempdir::TempDir::new();
            let url = format!("sqlite://{}/triage.db", dir.0.display());
            (url, Some(dir))
        }
    }
}

impl TestApp {
    /// Starts a server with the demo data loaded.
    pub async fn spawn() -> Self {
        Self::spawn_with_smtp(None).await
    }

    /// Starts a server that sends its mail to `smtp_url`.
    pub async fn spawn_with_smtp(smtp_url: Option<String>) -> Self {
        Self::spawn_with_mail(smtp_url, None).await
    }

    /// Starts a server that polls the IMAP mailbox `imap_url` every second.
    pub async fn spawn_with_imap(imap_url: &str) -> Self {
        Self::spawn_with_mail(None, Some(imap_url.to_owned())).await
    }

    async fn spawn_with_mail(smtp_url: Option<String>, imap_url: Option<String>) -> Self {
        let (database_url, dir) = fresh_database().await;
        let mut app = Self {
            base: String::new(),
            database_url,
            smtp_url,
            imap_url,
            running: None,
            _dir: dir,
            files: tempdir::TempDir::new(),
        };
        app.start().await;
        app
    }

    pub fn config(&self) -> app::Config {
        app::Config {
            database_url: self.database_url.clone(),
            listen: "127.0.0.1:0".into(),
            demo_data: true,
            attachments_dir: Some(self.files.0.display().to_string()),
            smtp_url: self.smtp_url.clone(),
            mail_retry_seconds: 1,
            inbound_token: Some(INBOUND_TOKEN.into()),
            webhook_timeout_seconds: 2,
            imap_url: self.imap_url.clone(),
            imap_poll_seconds: 1,
            ..app::Config::default()
        }
    }

    async fn start(&mut self) {
        let running = app::start(&self.config()).await.expect("server starts");
        self.base = running.base_url.clone();
        self.running = Some(running);
    }

    /// Stops the server and starts a new one on the same database (a restart).
    pub async fn restart(&mut self) {
        if let Some(running) = self.running.take() {
            running.stop().await;
        }
        self.start().await;
    }

    pub fn db(&self) -> &store::Db {
        &self.running.as_ref().expect("running").db
    }

    pub fn state(&self) -> &web::AppState {
        &self.running.as_ref().expect("running").state
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// An API client authenticated with a new token of the given demo person.
    pub async fn api_as(&self, email: &str) -> Api {
        let mut tx = self.db().begin().await.unwrap();
        let creds = store::people::credentials_by_email(&mut tx, email)
            .await
            .unwrap()
            .expect("demo person");
        let (_, secret) = store::auth::create_token(&mut tx, creds.id, "test")
            .await
            .unwrap();
        tx.commit().await.unwrap();
        Api {
            base: self.base.clone(),
            token: Some(secret),
            client: Client::new(),
            lang: None,
        }
    }

    pub fn anonymous_api(&self) -> Api {
        Api {
            base: self.base.clone(),
            token: None,
            client: Client::new(),
            lang: None,
        }
    }

    /// A browser-like client: keeps cookies, does not follow redirects.
    pub fn browser(&self) -> Browser {
        let jar = Arc::new(reqwest::cookie::Jar::default());
        let client = Client::builder()
            .cookie_provider(jar.clone())
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        Browser {
            base: self.base.clone(),
            client,
            jar,
        }
    }

    pub async fn person_id(&self, email: &str) -> i64 {
        let mut conn = self.db().reader().acquire().await.unwrap();
        store::people::credentials_by_email(&mut conn, email)
            .await
            .unwrap()
            .expect("person")
            .id
    }

    pub async fn org_id(&self, code: &str) -> i64 {
        let mut conn = self.db().reader().acquire().await.unwrap();
        store::orgs::list(&mut conn, &domain::policy::OrgScope::All)
            .await
            .unwrap()
            .into_iter()
            .find(|o| o.code == code)
            .expect("organization")
            .id
    }

    /// The newest outbox message to an address.
    /// Waits until every queued message has been delivered. Tests that move the process
    /// clock or restart the server call it first: a message claimed at that moment could be
    /// sent again, as after a crash.
    pub async fn outbox_settles(&self) {
        eventually(
            async || {
                let mut conn = self.db().reader().acquire().await.unwrap();
                store::outbox::counts(&mut conn)
                    .await
                    .unwrap()
                    .iter()
                    .find(|(status, _)| status == "queued")
                    .map_or(0, |(_, n)| *n)
            },
            |queued: &i64| *queued == 0,
        )
        .await;
    }

    pub async fn last_mail_to(&self, to: &str) -> Option<store::outbox::OutboxMessage> {
        let mut conn = self.db().reader().acquire().await.unwrap();
        store::outbox::list(&mut conn, Some(to), 1)
            .await
            .unwrap()
            .into_iter()
            .next()
    }
}

#[derive(Clone)]
pub struct Api {
    pub base: String,
    pub token: Option<String>,
    pub client: Client,
    pub lang: Option<&'static str>,
}

impl Api {
    pub fn in_language(mut self, lang: &'static str) -> Self {
        self.lang = Some(lang);
        self
    }

    pub fn request(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        let mut req = self.client.request(method, format!("{}{path}", self.base));
        if let Some(token) = &self.token {
            req = req.bearer_auth(token);
        }
        if let Some(lang) = self.lang {
            req = req.header("accept-language", lang);
        }
        req
    }

    pub async fn get(&self, path: &str) -> (StatusCode, Value) {
        read(
            self.request(reqwest::Method::GET, path)
                .send()
                .await
                .unwrap(),
        )
        .await
    }

    pub async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut req = self.request(method, path);
        if let Some(body) = body {
            req = req.json(&body);
        }
        read(req.send().await.unwrap()).await
    }

    pub async fn post(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.send(reqwest::Method::POST, path, Some(body)).await
    }

    pub async fn put(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.send(reqwest::Method::PUT, path, Some(body)).await
    }

    /// Posts a multipart form: text fields and (file name, bytes) files as `file` parts.
    pub async fn multipart(
        &self,
        path: &str,
        fields: &[(&str, &str)],
        files: &[(&str, Vec<u8>)],
    ) -> (StatusCode, Value) {
        let mut form = reqwest::multipart::Form::new();
        for (k, v) in fields {
            form = form.text(k.to_string(), v.to_string());
        }
        for (name, bytes) in files {
            form = form.part(
                "file",
                reqwest::multipart::Part::bytes(bytes.clone()).file_name(name.to_string()),
            );
        }
        read(
            self.request(reqwest::Method::POST, path)
                .multipart(form)
                .send()
                .await
                .unwrap(),
        )
        .await
    }

    pub async fn patch(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.send(reqwest::Method::PATCH, path, Some(body)).await
    }

    pub async fn raw(
        &self,
        method: reqwest::Method,
        path: &str,
        content_type: &str,
        body: &str,
    ) -> (StatusCode, Value) {
        let req = self
            .request(method, path)
            .header("content-type", content_type)
            .body(body.to_owned());
        read(req.send().await.unwrap()).await
    }
}

pub async fn read(response: Response) -> (StatusCode, Value) {
    let status = response.status();
    let text = response.text().await.unwrap();
    let value = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or(Value::String(text))
    };
    (status, value)
}

pub struct Browser {
    pub base: String,
    pub client: Client,
    pub jar: Arc<reqwest::cookie::Jar>,
}

impl Browser {
    pub async fn get(&self, path: &str) -> Response {
        self.client
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .unwrap()
    }

    /// The CSRF token this browser holds (visits a page first if needed).
    pub async fn csrf(&self) -> String {
        use reqwest::cookie::CookieStore;
        let url: url::Url = self.base.parse().unwrap();
        if self
            .jar
            .cookies(&url)
            .is_none_or(|c| !c.to_str().unwrap_or("").contains("triage_csrf="))
        {
            self.get("/signin").await;
        }
        let header = self.jar.cookies(&url).expect("cookies");
        header
            .to_str()
            .unwrap()
            .split(';')
            .filter_map(|p| p.trim().split_once('='))
            .find(|(k, _)| *k == "triage_csrf")
            .map(|(_, v)| v.to_owned())
            .expect("csrf cookie")
    }

    /// Posts a form with the CSRF token added.
    pub async fn post_form(&self, path: &str, fields: &[(&str, &str)]) -> Response {
        let csrf = self.csrf().await;
        let mut form: Vec<(&str, &str)> = fields.to_vec();
        form.push(("_csrf", &csrf));
        self.client
            .post(format!("{}{path}", self.base))
            .form(&form)
            .send()
            .await
            .unwrap()
    }

    pub async fn sign_in(&self, email: &str, password: &str) -> Response {
        self.post_form(
            "/signin/password",
            &[("email", email), ("password", password), ("next", "/")],
        )
        .await
    }

    pub async fn text(&self, path: &str) -> (StatusCode, String) {
        let r = self.get(path).await;
        (r.status(), r.text().await.unwrap())
    }
}

/// Runs the `triage` binary with a database URL; returns (status, stdout, stderr).
///
/// Async on purpose: a test's `TestApp` runs on the test's own (single-threaded) runtime, and
/// a blocking wait here would freeze it, possibly mid-transaction, holding SQLite's write lock
/// while the command waits for that lock.
pub async fn run_cli(
    bin: &str,
    database_url: &str,
    args: &[&str],
) -> anyhow::Result<(i32, String, String)> {
    run_cli_with(bin, database_url, args, &[], None).await
}

/// [`run_cli`] with more environment variables and, optionally, bytes on standard input.
pub async fn run_cli_with(
    bin: &str,
    database_url: &str,
    args: &[&str],
    env: &[(&str, &str)],
    stdin: Option<&[u8]>,
) -> anyhow::Result<(i32, String, String)> {
    use tokio::io::AsyncWriteExt;
    let mut child = tokio::process::Command::new(bin)
        .args(args)
        .env("TRIAGE_DATABASE_URL", database_url)
        .env_remove("TRIAGE_CONFIG")
        .envs(env.iter().copied())
        .stdin(if stdin.is_some() {
            std::process::Stdio::piped()
        } else {
            std::process::Stdio::null()
        })
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .context("running triage")?;
    if let (Some(bytes), Some(mut input)) = (stdin, child.stdin.take()) {
        input.write_all(bytes).await.context("writing to triage")?;
    }
    let out = child
        .wait_with_output()
        .await
        .context("waiting for triage")?;
    Ok((
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    ))
}

/// A real SMTP server (Python's aiosmtpd, `support/smtp_sink.py`) on a free port, writing
/// what it accepts to a temporary folder. Stopped when dropped.
pub struct SmtpSink {
    pub port: u16,
    pub folder: std::path::PathBuf,
    child: std::process::Child,
    _dir: tempdir::TempDir,
}

impl SmtpSink {
    pub fn start() -> Self {
        Self::start_with(&[])
    }

    /// The raw messages received for one address (a `To:` header naming it), oldest first.
    pub fn messages_to(&self, address: &str) -> Vec<String> {
        self.messages()
            .into_iter()
            .filter(|m| {
                m.lines()
                    .any(|l| l.to_ascii_lowercase().starts_with("to:") && l.contains(address))
            })
            .collect()
    }

    /// With the sink's options: `--refuse-first N`, `--hold-at N --hold-seconds S`.
    pub fn start_with(options: &[&str]) -> Self {
        use std::io::BufRead;
        let dir = tempdir::TempDir::new();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("free port")
            .port();
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/support/smtp_sink.py");
        let mut child = std::process::Command::new("python3")
            .arg(script)
            .arg(port.to_string())
            .arg(&dir.0)
            .args(options)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("python3 runs the SMTP sink (pip install aiosmtpd)");
        let stdout = child.stdout.take().expect("sink stdout");
        let mut line = String::new();
        std::io::BufReader::new(stdout)
            .read_line(&mut line)
            .expect("sink output");
        assert_eq!(
            line.trim(),
            "ready",
            "the SMTP sink did not start (is aiosmtpd installed?)"
        );
        Self {
            port,
            folder: dir.0.clone(),
            child,
            _dir: dir,
        }
    }

    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    /// The messages accepted so far, in order, each with its `X-Sink-Rcpt` lines first.
    pub fn messages(&self) -> Vec<String> {
        let mut names: Vec<_> = std::fs::read_dir(&self.folder)
            .map(|d| {
                d.filter_map(|e| e.ok())
                    .map(|e| e.path())
                    .filter(|p| p.extension().is_some_and(|x| x == "eml"))
                    .collect()
            })
            .unwrap_or_default();
        names.sort();
        names
            .iter()
            .filter_map(|p| std::fs::read_to_string(p).ok())
            .collect()
    }

    /// Waits (up to `seconds`) until at least `count` messages arrived; returns them.
    pub async fn wait_for(&self, count: usize, seconds: u64) -> Vec<String> {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(seconds);
        loop {
            let messages = self.messages();
            if messages.len() >= count || std::time::Instant::now() > deadline {
                return messages;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A private Dovecot IMAP server (Debian: `apt-get install dovecot-imapd`) on a free
/// 127.0.0.1 port, with one user whose mail is a Maildir in a temporary folder. No TLS.
/// Stopped when dropped. Panics with a clear message when Dovecot is not installed: the IMAP
/// tests fail rather than skip.
pub struct Dovecot {
    pub port: u16,
    pub user: &'static str,
    pub password: &'static str,
    child: std::process::Child,
    log: std::path::PathBuf,
    _dir: tempdir::TempDir,
}

impl Dovecot {
    pub fn start() -> Self {
        use std::os::unix::fs::MetadataExt;
        let binary = ["dovecot", "/usr/sbin/dovecot"]
            .into_iter()
            .find(|b| {
                std::process::Command::new(b)
                    .arg("--version")
                    .output()
                    .is_ok_and(|o| o.status.success())
            })
            .unwrap_or_else(|| {
                panic!(
                    "the IMAP tests need Dovecot, which is not installed \
                     (apt-get install dovecot-imapd)"
                )
            });
        let dir = tempdir::TempDir::new();
        let root = dir.0.clone();
        let home = root.join("home");
        for sub in ["run", "state", "home"] {
            std::fs::create_dir_all(root.join(sub)).expect("dovecot folders");
        }
        let me = std::fs::metadata(&root).expect("temp dir");
        // Dovecot refuses to give mail to uid 0: as root, the mail belongs to nobody.
        let (uid, gid, users) = if me.uid() == 0 {
            std::os::unix::fs::chown(&home, Some(65534), Some(65534)).expect("chown home");
            (65534, 65534, String::new())
        } else {
            let name = std::process::Command::new("id")
                .arg("-un")
                .output()
                .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
                .expect("id -un");
            (
                me.uid(),
                me.gid(),
                format!("default_internal_user = {name}\ndefault_login_user = {name}\n"),
            )
        };
        let (user, password) = ("desk", "desk-imap-password");
        std::fs::write(
            root.join("passwd"),
            format!("{user}:{{PLAIN}}{password}::::::\n"),
        )
        .expect("passwd file");
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("free port")
            .port();
        let log = root.join("dovecot.log");
        let root_text = root.display();
        let config = format!(
            "protocols = imap\n\
             listen = 127.0.0.1\n\
             base_dir = {root_text}/run\n\
             state_dir = {root_text}/state\n\
             log_path = {root_text}/dovecot.log\n\
             ssl = no\n\
             disable_plaintext_auth = no\n\
             auth_mechanisms = plain login\n\
             auth_failure_delay = 0\n\
             first_valid_uid = 1\n\
             {users}\
             passdb {{\n  driver = passwd-file\n  args = scheme=PLAIN username_format=%u {root_text}/passwd\n}}\n\
             userdb {{\n  driver = static\n  args = uid={uid} gid={gid} home={root_text}/home/%u\n}}\n\
             mail_location = maildir:~/Maildir\n\
             service imap-login {{\n  inet_listener imap {{\n    address = 127.0.0.1\n    port = {port}\n  }}\n  inet_listener imaps {{\n    port = 0\n  }}\n}}\n"
        );
        let conf = root.join("dovecot.conf");
        std::fs::write(&conf, config).expect("dovecot.conf");
        let mut child = std::process::Command::new(binary)
            .arg("-F")
            .arg("-c")
            .arg(&conf)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("dovecot starts");
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
        loop {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                break;
            }
            let exited = child.try_wait().ok().flatten();
            if exited.is_some() || std::time::Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                panic!(
                    "Dovecot did not start on port {port} ({}); its log:\n{}",
                    exited.map_or("timed out".to_owned(), |s| s.to_string()),
                    std::fs::read_to_string(&log).unwrap_or_default()
                );
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        Self {
            port,
            user,
            password,
            child,
            log,
            _dir: dir,
        }
    }

    /// The `imap_url` of the test user's INBOX.
    pub fn url(&self) -> String {
        self.url_with_password(self.password)
    }

    pub fn url_with_password(&self, password: &str) -> String {
        format!(
            "imap://{}:{password}@127.0.0.1:{}/INBOX?tls=none",
            self.user, self.port
        )
    }

    /// What Dovecot logged so far (for assertion messages).
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    async fn session(&self) -> web::imap::Session {
        let account = web::imap::ImapAccount::from_url(&self.url()).expect("imap url");
        let mut session = web::imap::open(&account)
            .await
            .unwrap_or_else(|e| panic!("{e}; Dovecot's log:\n{}", self.log()));
        session.select("INBOX").await.expect("select INBOX");
        session
    }

    /// Puts a message in the INBOX (IMAP APPEND), unseen; returns nothing, the server
    /// numbers it.
    pub async fn deliver(&self, raw: &str) {
        let mut session = self.session().await;
        session
            .append("INBOX", None, None, raw.as_bytes())
            .await
            .expect("APPEND");
        let _ = session.logout().await;
    }

    /// The UIDs of the INBOX's messages with (`true`) or without the `\Seen` flag.
    pub async fn uids(&self, seen: bool) -> Vec<u32> {
        let mut session = self.session().await;
        let mut uids: Vec<u32> = session
            .uid_search(if seen { "SEEN" } else { "UNSEEN" })
            .await
            .expect("UID SEARCH")
            .into_iter()
            .collect();
        let _ = session.logout().await;
        uids.sort_unstable();
        uids
    }
}

impl Drop for Dovecot {
    fn drop(&mut self) {
        // SIGTERM lets the master stop its login and mail processes; SIGKILL if it lingers.
        let _ = std::process::Command::new("kill")
            .arg(self.child.id().to_string())
            .status();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(3);
        while std::time::Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Reads until `done` holds or 20 s have passed; returns the last reading (for what a
/// background worker does, such as the mail sender).
pub async fn eventually<T>(mut read: impl AsyncFnMut() -> T, done: impl Fn(&T) -> bool) -> T {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let value = read().await;
        if done(&value) || std::time::Instant::now() > deadline {
            return value;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}
