//! The `triage` program: configuration, start-up, demo data and admin commands.
#![forbid(unsafe_code)]

pub mod config;
pub mod demo;
pub mod generate;
pub mod policy;
pub mod sla_cli;

use anyhow::Context;
use std::net::SocketAddr;
use store::Db;
use tokio::sync::oneshot;

pub use config::Config;

/// A server listening on a port, serving until `stop` is called or the process ends.
pub struct Running {
    pub addr: SocketAddr,
    pub base_url: String,
    pub db: Db,
    /// The running server's state (its services, for tests and admin tasks).
    pub state: web::AppState,
    pub demo_loaded: bool,
    stop: Option<oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<()>,
}

impl Running {
    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let _ = (&mut self.task).await;
        self.db.close().await;
    }

    /// Waits until the server ends (Ctrl-C or SIGTERM stop it gracefully).
    pub async fn wait(mut self) {
        let _ = (&mut self.task).await;
    }
}

/// Opens the database, applies migrations, loads demo data into an empty database when
/// asked, binds the listener and starts serving.
pub async fn start(config: &Config) -> anyhow::Result<Running> {
    let db = Db::connect(&config.database_url)
        .await
        .with_context(|| format!("opening the database {}", redact(&config.database_url)))?;
    db.migrate().await.context("migrating the database")?;
    policy::ensure_shipped(&db)
        .await
        .context("loading the shipped policy packs")?;
    let demo_loaded = config.demo_data && demo::load_if_empty(&db).await?;
    let listener = tokio::net::TcpListener::bind(&config.listen)
        .await
        .with_context(|| format!("listening on {}", config.listen))?;
    let addr = listener.local_addr()?;
    let base_url = config
        .public_base_url
        .clone()
        .unwrap_or_else(|| format!("http://{addr}"))
        .trim_end_matches('/')
        .to_owned();
    let state = web::AppState::new(db.clone(), config.web_settings(&base_url));
    let router = web::router(state.clone());
    let (stop_tx, stop_rx) = oneshot::channel::<()>();
    spawn_housekeeping(db.clone());
    let transport = web::delivery::Transport::from_url(config.smtp_url.as_deref())
        .map_err(|_| anyhow::anyhow!("smtp_url is not a valid smtp:// or smtps:// URL"))?;
    web::delivery::spawn(
        web::delivery::Sender::new(
            db.clone(),
            transport,
            state.settings.mail_retry,
            jiff::SignedDuration::from_secs(config.mail_claim_seconds),
        )
        .with_webhook_timeout(std::time::Duration::from_secs(
            config.webhook_timeout_seconds,
        )),
        std::time::Duration::from_secs(1),
    );
    if let Some(account) = config.imap_account()? {
        tracing::info!(mailbox = %account, every_seconds = config.imap_poll_seconds, "polling IMAP for mail to the desk");
        web::imap::spawn(
            state.clone(),
            account,
            std::time::Duration::from_secs(config.imap_poll_seconds),
        );
    }
    state.status.changed(&state).await;
    web::status_snapshot::spawn_refresher(state.clone());
    web::problem_trends::spawn(state.clone());
    web::major_incidents::spawn_runner(state.clone());
    web::cab::spawn_runner(state.clone());
    web::latent_rfcs::spawn(state.clone());
    spawn_job_runner(web::sla::JobContext {
        db: db.clone(),
        packs: state.packs.clone(),
        base_url: base_url.clone(),
        mailer: state.mailer.clone(),
    });
    let task = tokio::spawn(async move {
        let shutdown = async move {
            tokio::select! {
                _ = stop_rx => {},
                _ = shutdown_signal() => {},
            }
        };
        if let Err(e) = axum::serve(
            listener,
            router.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(shutdown)
        .await
        {
            tracing::error!(error = %e, "server stopped");
        }
    });
    Ok(Running {
        addr,
        base_url,
        db,
        state,
        demo_loaded,
        stop: Some(stop_tx),
        task,
    })
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .expect("signal handler");
        tokio::select! { _ = ctrl_c => {}, _ = term.recv() => {} }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
}

/// Hourly clean-up of expired sessions and sign-in states.
/// Runs due scheduled jobs (SLA warnings and escalations) every few seconds. Every node may
/// run it: jobs are claimed one runner at a time.
fn spawn_job_runner(ctx: web::sla::JobContext) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(5));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            if let Err(e) = web::sla::run_due_jobs(&ctx).await {
                tracing::warn!(code = e.code, "scheduled jobs");
            }
        }
    });
}

fn spawn_housekeeping(db: Db) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(3600));
        loop {
            tick.tick().await;
            if let Ok(mut tx) = db.begin().await
                && store::auth::purge_expired(&mut tx).await.is_ok()
            {
                let _ = tx.commit().await;
            }
        }
    });
}

/// Hides a password in a database URL for messages.
pub fn redact(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("***"));
            u.to_string()
        }
        _ => url.to_owned(),
    }
}
