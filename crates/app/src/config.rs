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
        Ok(())
    }

    pub fn web_settings(&self, base_url: &str) -> web::Settings {
        let mut settings = web::Settings::new(base_url);
        settings.default_locale =
            domain::text::Locale::parse(&self.default_language).unwrap_or_default();
        settings.time_zone = self.time_zone.clone();
        if let Some(secure) = self.secure_cookies {
            settings.secure_cookies = secure;
        }
        settings
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
}
