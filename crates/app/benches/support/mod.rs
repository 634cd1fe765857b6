//! What the benchmarks share: fresh databases, `triage serve` child processes, an HTTP
//! client that stays on loopback, percentiles.
#![allow(dead_code)]

use reqwest::{Client, StatusCode};
use sqlx::Connection;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

pub const TRIAGE: &str = env!("CARGO_BIN_EXE_triage");
const READY_TIMEOUT: Duration = Duration::from_secs(30);

/// Nearest-rank percentile of milliseconds (0 = min, 100 = max).
pub fn percentile(samples: &[f64], p: f64) -> f64 {
    let mut s = samples.to_vec();
    s.sort_by(|a, b| a.total_cmp(b));
    if s.is_empty() {
        return f64::NAN;
    }
    let rank = ((p / 100.0) * s.len() as f64).ceil() as usize;
    s[rank.clamp(1, s.len()) - 1]
}

/// A whole number from the environment (`_` allowed as a separator), or `default`.
pub fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.replace('_', "").parse().ok())
        .unwrap_or(default)
}

pub fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

// ---------------------------------------------------------------------------------------------
// Databases and server processes

#[derive(Clone)]
pub enum Backend {
    Sqlite,
    /// The URL of a PostgreSQL server where a fresh database may be created.
    Postgres(String),
}

/// A fresh database; removed (folder or PostgreSQL database) on `drop_now`.
pub struct FreshDb {
    pub url: String,
    pub dir: PathBuf,
    pg: Option<(String, String)>,
}

pub fn unique(prefix: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default()
        .as_nanos();
    format!("{prefix}_{}_{nanos}", std::process::id())
}

impl FreshDb {
    pub async fn new(backend: &Backend) -> Self {
        let dir = std::env::temp_dir().join(unique("triage-bench"));
        std::fs::create_dir_all(&dir).expect("temp dir");
        match backend {
            Backend::Sqlite => Self {
                url: format!("sqlite://{}/triage.db", dir.display()),
                dir,
                pg: None,
            },
            Backend::Postgres(admin_url) => {
                sqlx::any::install_default_drivers();
                let name = unique("triage_bench");
                let mut conn = sqlx::AnyConnection::connect(admin_url)
                    .await
                    .unwrap_or_else(|e| panic!("TRIAGE_BENCH_PG is set but unreachable: {e}"));
                sqlx::query(&format!("CREATE DATABASE {name}"))
                    .execute(&mut conn)
                    .await
                    .expect("create bench database");
                let _ = conn.close().await;
                let mut url = url::Url::parse(admin_url).expect("TRIAGE_BENCH_PG url");
                url.set_path(&format!("/{name}"));
                Self {
                    url: url.to_string(),
                    dir,
                    pg: Some((admin_url.clone(), name)),
                }
            }
        }
    }

    /// Call after the server using it has stopped.
    pub async fn drop_now(self) {
        if let Some((admin_url, name)) = &self.pg
            && let Ok(mut conn) = sqlx::AnyConnection::connect(admin_url).await
        {
            let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name}"))
                .execute(&mut conn)
                .await;
            let _ = conn.close().await;
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port()
}

/// A client that never uses a proxy, so traffic stays on 127.0.0.1.
pub fn client(jar: Option<Arc<reqwest::cookie::Jar>>) -> Client {
    let mut b = Client::builder()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(10));
    if let Some(jar) = jar {
        b = b.cookie_provider(jar);
    }
    b.build().expect("http client")
}

pub struct Server {
    pub child: Child,
    pub base: String,
    pub log: PathBuf,
}

impl Server {
    /// Spawns `triage serve` on the database; returns once spawned (not yet ready).
    pub fn spawn(db: &FreshDb) -> Self {
        Self::spawn_with(db, &[])
    }

    /// Spawns `triage serve` with extra environment (settings).
    pub fn spawn_with(db: &FreshDb, env: &[(&str, &str)]) -> Self {
        let port = free_port();
        let log = db.dir.join("server.log");
        let stderr = std::fs::File::create(&log).expect("log file");
        let child = Command::new(TRIAGE)
            .arg("serve")
            .current_dir(&db.dir)
            .env_remove("TRIAGE_CONFIG")
            .env("TRIAGE_DATABASE_URL", &db.url)
            .env("TRIAGE_LISTEN", format!("127.0.0.1:{port}"))
            .env("TRIAGE_DEMO_DATA", "true")
            .env("TRIAGE_LOG_FORMAT", "json")
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(stderr)
            .spawn()
            .expect("spawn triage serve");
        Self {
            child,
            base: format!("http://127.0.0.1:{port}"),
            log,
        }
    }

    /// Polls GET /readyz every 5 ms until it answers 200.
    pub async fn wait_ready(&mut self, http: &Client) {
        let deadline = Instant::now() + READY_TIMEOUT;
        let url = format!("{}/readyz", self.base);
        loop {
            if let Ok(r) = http.get(&url).send().await
                && r.status() == StatusCode::OK
            {
                return;
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("triage serve exited with {status}:\n{}", self.log_text());
            }
            if Instant::now() > deadline {
                panic!("triage serve not ready in 30 s:\n{}", self.log_text());
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Warnings and errors the server logged.
    pub fn problems(&self) -> Vec<String> {
        self.log_text()
            .lines()
            .filter(|l| l.contains("\"level\":\"WARN\"") || l.contains("\"level\":\"ERROR\""))
            .map(str::to_owned)
            .collect()
    }

    pub fn kill(mut self) -> Vec<String> {
        let _ = self.child.kill();
        let _ = self.child.wait();
        self.problems()
    }
}

/// A bearer token for a demo person, made with the CLI.
pub fn token(db: &FreshDb, email: &str) -> String {
    let out = std::process::Command::new(TRIAGE)
        .args(["admin", "create-token", "--email", email, "--name", "bench"])
        .current_dir(&db.dir)
        .env_remove("TRIAGE_CONFIG")
        .env("TRIAGE_DATABASE_URL", &db.url)
        .output()
        .expect("create token");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .find(|w| w.starts_with("trg_"))
        .expect("token printed")
        .to_owned()
}
