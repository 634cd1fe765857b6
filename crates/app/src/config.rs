//! Configuration: `triage.toml` (or the file named by `TRIAGE_CONFIG`), then `TRIAGE_*`
//! environment variables, which win.
use anyhow::{Context, bail};
use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// `sqlite://data/triage.db` (default) or `postgres://user@host/db`.
    pub database_url: String,
    /// Address to listen on.
    pub listen: String,
    /// The address people use to reach Triage; links in mail point here. Defaults to
    /// `http://<listen address>`.
    pub public_base_url: Option<String>,
    /// `en` or `fr`: the language when neither the browser nor the person says.
    pub default_language: String,
    /// IANA time zone of the operator (support hours, displayed times).
    pub time_zone: String,
    /// Load the demo organizations and people when the database is empty.
    pub demo_data: bool,
    /// Mark cookies Secure. Defaults to true when public_base_url is https.
    pub secure_cookies: Option<bool>,
    /// `text` or `json` logs.
    pub log_format: String,
    /// Folder for attachment contents (content-addressed). Defaults to `attachments` next
    /// to the SQLite file, or `data/attachments`.
    pub attachments_dir: Option<String>,
    /// Largest attachment accepted, in megabytes.
    pub attachment_max_mb: u64,
    /// A command that receives each upload on standard input and exits non-zero to refuse
    /// it (e.g. `clamdscan --no-summary -`). Empty: no scan.
    pub attachment_scan_command: Option<String>,
    /// Days after resolution during which a ticket may be reopened.
    pub reopen_days: i64,
    /// Outgoing mail server: `smtp://user:password@host:587?tls=required` (STARTTLS),
    /// `smtps://user:password@host:465` (TLS) or `smtp://host:25` (a local relay). Not set:
    /// mail stays in the local outbox shown in the admin area.
    pub smtp_url: Option<String>,
    /// Seconds before the first retry of a failed delivery; each retry doubles it, up to
    /// an hour.
    pub mail_retry_seconds: i64,
    /// Hours after which an undelivered message is given up (shown as failed).
    pub mail_give_up_hours: i64,
    /// How long a message being sent is held by its sender: each message starts with at
    /// least this long left on its claim (a batch is claimed for one and a half times this,
    /// and extended as needed). If that node dies, another sender (or the same one
    /// restarted) takes its messages within one and a half times this. Longer than the mail
    /// server takes for a message (30 s at most).
    pub mail_claim_seconds: i64,
    /// The secret a mail gateway sends as `Authorization: Bearer …` to
    /// `POST /api/v1/inbound/email`. Not set: that endpoint is off (`triage mail ingest`
    /// still works).
    pub inbound_token: Option<String>,
    /// Largest inbound message accepted, in megabytes (attachments included).
    pub inbound_max_mb: u64,
    /// Seconds a webhook endpoint may take to answer; longer counts as a failed attempt.
    pub webhook_timeout_seconds: u64,
    /// More received messages than this from one sender within an hour are taken as a mail
    /// loop (recorded, not answered).
    pub inbound_sender_limit_per_hour: i64,
    /// A mailbox `triage serve` polls for mail to the desk:
    /// `imaps://user:password@host:993/INBOX` (TLS), `imap://user:password@host:143/INBOX`
    /// (STARTTLS) or `imap://…?tls=none`. Not set: no polling.
    pub imap_url: Option<String>,
    /// Seconds between two polls of `imap_url`.
    pub imap_poll_seconds: u64,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            database_url: "sqlite://data/triage.db".into(),
            listen: "127.0.0.1:8080".into(),
            public_base_url: None,
            default_language: "en".into(),
            time_zone: "America/Toronto".into(),
            demo_data: true,
            secure_cookies: None,
            log_format: "text".into(),
            attachments_dir: None,
            attachment_max_mb: 10,
            attachment_scan_command: None,
            reopen_days: 7,
            smtp_url: None,
            mail_retry_seconds: 30,
            mail_give_up_hours: 48,
            mail_claim_seconds: 60,
            inbound_token: None,
            inbound_max_mb: 50,
            webhook_timeout_seconds: 10,
            inbound_sender_limit_per_hour: 200,
            imap_url: None,
            imap_poll_seconds: 60,
        }
    }
}

impl Config {
    pub fn load() -> anyhow::Result<Self> {
        let path = std::env::var("TRIAGE_CONFIG").ok();
        let mut config = match &path {
            Some(p) => Self::from_file(p)?,
            None if std::path::Path::new("triage.toml").exists() => Self::from_file("triage.toml")?,
            None => Self::default(),
        };
        config.apply_env(|k| std::env::var(k).ok())?;
        config.validate()?;
        Ok(config)
    }

    fn from_file(path: &str) -> anyhow::Result<Self> {
        let text = std::fs::read_to_string(path).with_context(|| format!("reading {path}"))?;
        toml::from_str(&text).with_context(|| format!("parsing {path}"))
    }

    pub fn apply_env(&mut self, get: impl Fn(&str) -> Option<String>) -> anyhow::Result<()> {
        if let Some(v) = get("TRIAGE_DATABASE_URL") {
            self.database_url = v;
        }
        if let Some(v) = get("TRIAGE_LISTEN") {
            self.listen = v;
        }
        if let Some(v) = get("TRIAGE_PUBLIC_BASE_URL") {
            self.public_base_url = Some(v);
        }
        if let Some(v) = get("TRIAGE_DEFAULT_LANGUAGE") {
            self.default_language = v;
        }
        if let Some(v) = get("TRIAGE_TIME_ZONE") {
            self.time_zone = v;
        }
        if let Some(v) = get("TRIAGE_DEMO_DATA") {
            self.demo_data = parse_bool("TRIAGE_DEMO_DATA", &v)?;
        }
        if let Some(v) = get("TRIAGE_SECURE_COOKIES") {
            self.secure_cookies = Some(parse_bool("TRIAGE_SECURE_COOKIES", &v)?);
        }
        if let Some(v) = get("TRIAGE_LOG_FORMAT") {
            self.log_format = v;
        }
        if let Some(v) = get("TRIAGE_ATTACHMENTS_DIR") {
            self.attachments_dir = Some(v);
        }
        if let Some(v) = get("TRIAGE_ATTACHMENT_MAX_MB") {
            self.attachment_max_mb = v
                .trim()
                .parse()
                .context("TRIAGE_ATTACHMENT_MAX_MB must be a whole number")?;
        }
        if let Some(v) = get("TRIAGE_ATTACHMENT_SCAN_COMMAND") {
            self.attachment_scan_command = Some(v).filter(|v| !v.trim().is_empty());
        }
        if let Some(v) = get("TRIAGE_SMTP_URL") {
            self.smtp_url = Some(v).filter(|v| !v.trim().is_empty());
        }
        if let Some(v) = get("TRIAGE_MAIL_RETRY_SECONDS") {
            self.mail_retry_seconds = v
                .trim()
                .parse()
                .context("TRIAGE_MAIL_RETRY_SECONDS must be a whole number")?;
        }
        if let Some(v) = get("TRIAGE_MAIL_CLAIM_SECONDS") {
            self.mail_claim_seconds = v
                .trim()
                .parse()
                .context("TRIAGE_MAIL_CLAIM_SECONDS must be a whole number")?;
        }
        if let Some(v) = get("TRIAGE_MAIL_GIVE_UP_HOURS") {
            self.mail_give_up_hours = v
                .trim()
                .parse()
                .context("TRIAGE_MAIL_GIVE_UP_HOURS must be a whole number")?;
        }
        if let Some(v) = get("TRIAGE_INBOUND_TOKEN") {
            self.inbound_token = Some(v).filter(|v| !v.trim().is_empty());
        }
        if let Some(v) = get("TRIAGE_INBOUND_MAX_MB") {
            self.inbound_max_mb = v
                .trim()
                .parse()
                .context("TRIAGE_INBOUND_MAX_MB must be a whole number")?;
        }
        if let Some(v) = get("TRIAGE_WEBHOOK_TIMEOUT_SECONDS") {
            self.webhook_timeout_seconds = v
                .trim()
                .parse()
                .context("TRIAGE_WEBHOOK_TIMEOUT_SECONDS must be a whole number")?;
        }
        if let Some(v) = get("TRIAGE_INBOUND_SENDER_LIMIT_PER_HOUR") {
            self.inbound_sender_limit_per_hour = v
                .trim()
                .parse()
                .context("TRIAGE_INBOUND_SENDER_LIMIT_PER_HOUR must be a whole number")?;
        }
        if let Some(v) = get("TRIAGE_IMAP_URL") {
            self.imap_url = Some(v).filter(|v| !v.trim().is_empty());
        }
        if let Some(v) = get("TRIAGE_IMAP_POLL_SECONDS") {
            self.imap_poll_seconds = v
                .trim()
                .parse()
                .context("TRIAGE_IMAP_POLL_SECONDS must be a whole number")?;
        }
        if let Some(v) = get("TRIAGE_REOPEN_DAYS") {
            self.reopen_days = v
                .trim()
                .parse()
                .context("TRIAGE_REOPEN_DAYS must be a whole number")?;
        }
        Ok(())
    }

    pub fn validate(&self) -> anyhow::Result<()> {
        if domain::text::Locale::parse(&self.default_language).is_none() {
            bail!(
                "default_language must be en or fr, not {:?}",
                self.default_language
            );
        }
        if jiff::tz::TimeZone::get(&self.time_zone).is_err() {
            bail!("unknown time_zone {:?}", self.time_zone);
        }
        if !["text", "json"].contains(&self.log_format.as_str()) {
            bail!("log_format must be text or json");
        }
        if !(1..=1024).contains(&self.attachment_max_mb) {
            bail!("attachment_max_mb must be between 1 and 1024");
        }
        if !(0..=365).contains(&self.reopen_days) {
            bail!("reopen_days must be between 0 and 365");
        }
        if !(1..=3600).contains(&self.mail_retry_seconds) {
            bail!("mail_retry_seconds must be between 1 and 3600");
        }
        if !(1..=3600).contains(&self.mail_claim_seconds) {
            bail!("mail_claim_seconds must be between 1 and 3600");
        }
        if !(1..=720).contains(&self.mail_give_up_hours) {
            bail!("mail_give_up_hours must be between 1 and 720");
        }
        if !(1..=1_000_000).contains(&self.inbound_sender_limit_per_hour) {
            bail!("inbound_sender_limit_per_hour must be between 1 and 1000000");
        }
        if !(1..=120).contains(&self.webhook_timeout_seconds) {
            bail!("webhook_timeout_seconds must be between 1 and 120");
        }
        if !(1..=1024).contains(&self.inbound_max_mb) {
            bail!("inbound_max_mb must be between 1 and 1024");
        }
        if self
            .inbound_token
            .as_ref()
            .is_some_and(|t| t.trim().len() < 16)
        {
            bail!("inbound_token must be at least 16 characters");
        }
        web::delivery::Transport::from_url(self.smtp_url.as_deref())
            .map_err(|_| anyhow::anyhow!("smtp_url is not a valid smtp:// or smtps:// URL"))?;
        if !(1..=86_400).contains(&self.imap_poll_seconds) {
            bail!("imap_poll_seconds must be between 1 and 86400");
        }
        self.imap_account()?;
        Ok(())
    }

    /// The mailbox to poll, from `imap_url`; `None` when it is not set.
    pub fn imap_account(&self) -> anyhow::Result<Option<web::imap::ImapAccount>> {
        self.imap_url
            .as_deref()
            .filter(|url| !url.trim().is_empty())
            .map(|url| {
                web::imap::ImapAccount::from_url(url).map_err(|e| {
                    anyhow::anyhow!(
                        "imap_url {e}; for example imaps://user:password@imap.example:993/INBOX"
                    )
                })
            })
            .transpose()
    }

    pub fn web_settings(&self, base_url: &str) -> web::Settings {
        let mut settings = web::Settings::new(base_url);
        settings.default_locale =
            domain::text::Locale::parse(&self.default_language).unwrap_or_default();
        settings.time_zone = self.time_zone.clone();
        if let Some(secure) = self.secure_cookies {
            settings.secure_cookies = secure;
        }
        settings.attachments_dir = self.attachments_dir();
        settings.attachment_max_bytes = (self.attachment_max_mb * 1024 * 1024) as usize;
        settings.attachment_scan_command = self.attachment_scan_command.clone();
        settings.reopen_days = self.reopen_days;
        settings.smtp_url = self.smtp_url.clone();
        settings.inbound_token = self.inbound_token.as_ref().map(|t| t.trim().to_owned());
        settings.inbound_max_bytes = (self.inbound_max_mb * 1024 * 1024) as usize;
        settings.inbound_sender_limit_per_hour = self.inbound_sender_limit_per_hour;
        settings.mail_retry = domain::delivery::RetryPolicy {
            first_delay: jiff::SignedDuration::from_secs(self.mail_retry_seconds),
            max_delay: jiff::SignedDuration::from_hours(1),
            give_up_after: jiff::SignedDuration::from_hours(self.mail_give_up_hours),
        };
        settings
    }

    /// Where attachment contents go: the configured folder, else `attachments` beside the
    /// SQLite file, else `data/attachments`.
    pub fn attachments_dir(&self) -> std::path::PathBuf {
        if let Some(dir) = &self.attachments_dir {
            return dir.into();
        }
        let url = &self.database_url;
        if let Some(rest) = url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))
        {
            let path = rest.split('?').next().unwrap_or(rest);
            if path != ":memory:"
                && let Some(parent) = std::path::Path::new(path).parent()
            {
                return parent.join("attachments");
            }
        }
        "data/attachments".into()
    }
}

fn parse_bool(name: &str, v: &str) -> anyhow::Result<bool> {
    match v.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Ok(true),
        "0" | "false" | "no" | "off" => Ok(false),
        _ => bail!("{name} must be true or false"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn environment_overrides_file() {
        let mut c: Config =
            toml::from_str("listen = \"0.0.0.0:9000\"\ndefault_language = \"fr\"").unwrap();
        c.apply_env(|k| (k == "TRIAGE_LISTEN").then(|| "127.0.0.1:1".to_owned()))
            .unwrap();
        assert_eq!(c.listen, "127.0.0.1:1");
        assert_eq!(c.default_language, "fr");
        assert!(c.validate().is_ok());
    }

    #[test]
    fn bad_values_are_refused() {
        assert!(toml::from_str::<Config>("colour = \"red\"").is_err());
        let c = Config {
            default_language: "de".into(),
            ..Config::default()
        };
        assert!(c.validate().is_err());
        let mut c = Config::default();
        assert!(
            c.apply_env(|k| (k == "TRIAGE_DEMO_DATA").then(|| "maybe".to_owned()))
                .is_err()
        );
    }

    #[test]
    fn imap_settings_from_file_and_environment() {
        let mut c: Config =
            toml::from_str("imap_url = \"imaps://desk:pw@imap.example/INBOX\"").unwrap();
        assert_eq!(c.imap_poll_seconds, 60);
        c.apply_env(|k| (k == "TRIAGE_IMAP_POLL_SECONDS").then(|| "15".to_owned()))
            .unwrap();
        assert_eq!(c.imap_poll_seconds, 15);
        let account = c.imap_account().unwrap().expect("an account");
        assert_eq!((account.host.as_str(), account.port), ("imap.example", 993));

        c.apply_env(|k| (k == "TRIAGE_IMAP_URL").then(|| "pop3://desk:secret@host".to_owned()))
            .unwrap();
        let e = c.validate().unwrap_err().to_string();
        assert!(
            e.starts_with("imap_url must start with imaps:// or imap://"),
            "{e}"
        );
        assert!(!e.contains("secret"), "{e}");

        c.apply_env(|k| (k == "TRIAGE_IMAP_URL").then(String::new))
            .unwrap();
        assert!(c.imap_account().unwrap().is_none());
        c.imap_poll_seconds = 0;
        assert!(c.validate().is_err());
    }
}
