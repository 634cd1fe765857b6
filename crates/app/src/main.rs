#![forbid(unsafe_code)]

use anyhow::{Context, bail};
use app::{Config, demo};
use clap::{Parser, Subcommand};
use domain::role::Role;
use serde_json::json;
use store::audit::{Actor, Event, append};

#[derive(Parser)]
#[command(
    name = "triage",
    version,
    about = "Service management for a health information exchange"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Migrate, load demo data into an empty database, and serve HTTP.
    Serve,
    /// Apply database migrations and exit.
    Migrate,
    /// Load the demo organizations, people, catalogue and tickets into an empty database;
    /// `--tickets N` then adds N generated tickets (for load and search benchmarks).
    Demo {
        #[arg(long)]
        tickets: Option<u64>,
    },
    /// Administration from the command line.
    #[command(subcommand)]
    Admin(Admin),
    /// Audit log tools.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Print the OpenAPI document.
    Openapi,
    /// SLA arithmetic on the shipped calendars.
    #[command(subcommand)]
    Sla(SlaCommand),
    /// Policy packs: matrices, targets, calendars, escalations.
    #[command(subcommand)]
    Policy(PolicyCommand),
    /// Mail received by the desk.
    #[command(subcommand)]
    Mail(MailCommand),
}

#[derive(Subcommand)]
enum MailCommand {
    /// Take in one raw message (RFC 5322) from standard input, e.g. from an MTA's pipe
    /// (`desk: "|/usr/local/bin/triage mail ingest"`). Prints what became of it as JSON.
    /// Exit 0: taken (or taken before); 65: refused (malformed, no sender, too large; the
    /// MTA bounces it); 75: a temporary fault (the MTA tries again later).
    Ingest,
    /// Poll the `imap_url` mailbox once, as `triage serve` does every `imap_poll_seconds`
    /// (e.g. from cron). Prints what became of each unseen message as JSON. Exit 0: polled
    /// (or another node was polling); 69: the server is unreachable or failed; 75: some
    /// messages met a temporary fault and stay unseen for the next poll, or the database is
    /// unreachable; 77: the login was refused; 78: `imap_url` is not set.
    Poll,
}

#[derive(Subcommand)]
enum PolicyCommand {
    /// Check a pack file and store it as a new version (a bad file changes nothing).
    Load {
        file: std::path::PathBuf,
        /// Also open new tickets under it.
        #[arg(long)]
        select: bool,
    },
    /// List the stored pack versions; `*` marks the selected one.
    List,
    /// Open new tickets under a stored pack version (its id, from `policy list`).
    Select { id: i64 },
}

#[derive(Subcommand)]
enum SlaCommand {
    /// When a target is used up: `--calendar business --start 2026-03-06T16:00:00-05:00
    /// --add 4h`, or `--batch` to answer JSON lines read on stdin
    /// (`{"id": "...", "calendar": "...", "start": "...", "add": "20m|12h|2bd"}`).
    Due {
        /// Read JSON lines on stdin and write one answer line per input line.
        #[arg(long, conflicts_with_all = ["calendar", "start", "add"])]
        batch: bool,
        /// 24x7, business, tier1 or lra-team.
        #[arg(long, required_unless_present = "batch")]
        calendar: Option<String>,
        /// RFC 3339 with an offset, e.g. 2026-03-06T16:00:00-05:00.
        #[arg(long, required_unless_present = "batch", allow_hyphen_values = true)]
        start: Option<String>,
        /// Minutes (20m), hours (12h) or business days (2bd) of open time.
        #[arg(long, required_unless_present = "batch", allow_hyphen_values = true)]
        add: Option<String>,
    },
}

#[derive(Subcommand)]
enum Admin {
    /// Create a person at an organization.
    CreatePerson {
        #[arg(long)]
        org: String,
        #[arg(long)]
        email: String,
        #[arg(long)]
        name: String,
        /// Role to grant; repeat for several.
        #[arg(long = "role")]
        roles: Vec<String>,
        /// Initial password; a random one is printed when omitted.
        #[arg(long, env = "TRIAGE_NEW_PASSWORD")]
        password: Option<String>,
        #[arg(long, default_value = "en")]
        locale: String,
    },
    /// Set a new password (printed when not given) and unlock the account.
    ResetPassword {
        #[arg(long)]
        email: String,
        #[arg(long, env = "TRIAGE_NEW_PASSWORD")]
        password: Option<String>,
    },
    /// Create an API token for a person; the secret is printed once.
    CreateToken {
        #[arg(long)]
        email: String,
        #[arg(long, default_value = "cli")]
        name: String,
    },
    /// Point an organization at its OpenID Connect provider.
    OrgOidc {
        #[arg(long)]
        org: String,
        #[arg(long)]
        issuer: String,
        #[arg(long)]
        client_id: String,
        #[arg(long, env = "TRIAGE_OIDC_CLIENT_SECRET")]
        client_secret: String,
    },
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Recompute the hash chain; exit 1 and say where when a row was edited or deleted.
    Verify,
}

fn init_logs(config: &Config) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("TRIAGE_LOG")
        .unwrap_or_else(|_| "info,sqlx=warn".into());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if config.log_format == "json" {
        builder.json().init();
    } else {
        builder.init();
    }
}

async fn mail_ingest(config: &Config) -> anyhow::Result<()> {
    use std::io::Read;
    const EX_DATAERR: i32 = 65;
    const EX_TEMPFAIL: i32 = 75;
    let limit = config.inbound_max_mb * 1024 * 1024;
    let mut raw = Vec::new();
    if let Err(e) = std::io::stdin().take(limit + 1).read_to_end(&mut raw) {
        eprintln!("error: reading the message: {e}");
        std::process::exit(EX_TEMPFAIL);
    }
    let outcome = async {
        let state = cli_state(config).await?;
        anyhow::Ok(web::inbound::ingest(&state, &raw, web::inbound::Source::Cli).await)
    }
    .await;
    match outcome {
        Ok(Ok(taken)) => {
            println!("{}", serde_json::to_string(&taken)?);
            Ok(())
        }
        Ok(Err(e)) if e.status.is_client_error() => {
            eprintln!(
                "refused: {}: {}",
                e.code,
                web::i18n::t(domain::text::Locale::En, &format!("error-{}", e.code))
            );
            std::process::exit(EX_DATAERR);
        }
        Ok(Err(e)) => {
            eprintln!("error: {} (try again later)", e.code);
            std::process::exit(EX_TEMPFAIL);
        }
        Err(e) => {
            eprintln!("error: {e:#} (try again later)");
            std::process::exit(EX_TEMPFAIL);
        }
    }
}

/// What a mail command needs of the server: the migrated database and the settings.
async fn cli_state(config: &Config) -> anyhow::Result<web::AppState> {
    let db = store::Db::connect(&config.database_url).await?;
    db.migrate().await?;
    let base_url = config
        .public_base_url
        .clone()
        .unwrap_or_else(|| format!("http://{}", config.listen));
    Ok(web::AppState::new(db, config.web_settings(&base_url)))
}

async fn mail_poll(config: &Config) -> anyhow::Result<()> {
    const EX_UNAVAILABLE: i32 = 69;
    const EX_TEMPFAIL: i32 = 75;
    const EX_NOPERM: i32 = 77;
    const EX_CONFIG: i32 = 78;
    let Some(account) = config.imap_account()? else {
        eprintln!("error: imap_url is not set (triage.toml or TRIAGE_IMAP_URL)");
        std::process::exit(EX_CONFIG);
    };
    let state = match cli_state(config).await {
        Ok(state) => state,
        Err(e) => {
            eprintln!("error: {e:#} (try again later)");
            std::process::exit(EX_TEMPFAIL);
        }
    };
    match web::imap::poll_once(&state, &account).await {
        Ok(report) => {
            println!("{}", serde_json::to_string(&report)?);
            if !report.polled {
                eprintln!("Another node is polling {account}; nothing fetched.");
            }
            if report.deferred() > 0 {
                eprintln!(
                    "{} message(s) left unseen after a temporary fault; the next poll tries again.",
                    report.deferred()
                );
                std::process::exit(EX_TEMPFAIL);
            }
            Ok(())
        }
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(match e {
                web::imap::PollError::Login { .. } => EX_NOPERM,
                web::imap::PollError::Database(_) => EX_TEMPFAIL,
                _ => EX_UNAVAILABLE,
            });
        }
    }
}

async fn policy_command(config: &Config, command: PolicyCommand) -> anyhow::Result<()> {
    let db = store::Db::connect(&config.database_url).await?;
    db.migrate().await?;
    app::policy::ensure_shipped(&db).await?;
    let actor = store::audit::Actor::system("cli");
    match command {
        PolicyCommand::Load { file, select } => {
            let text = std::fs::read_to_string(&file)
                .with_context(|| format!("reading {}", file.display()))?;
            match app::policy::load(&db, &text, &actor, select).await {
                Ok((id, pack)) => {
                    println!(
                        "Loaded {} version {} as pack {id}{}.",
                        pack.code(),
                        pack.version(),
                        if select {
                            ", selected for new tickets"
                        } else {
                            ""
                        }
                    );
                    Ok(())
                }
                Err(e) => {
                    eprintln!("error: {}: {e}", file.display());
                    std::process::exit(2);
                }
            }
        }
        PolicyCommand::List => {
            let mut conn = db.reader().acquire().await?;
            let selected = store::policy_packs::selected(&mut conn)
                .await?
                .map(|p| p.id);
            for pack in store::policy_packs::list(&mut conn).await? {
                println!(
                    "{} {:>4}  {}@{}  {}  (loaded {} by {})",
                    if Some(pack.id) == selected { "*" } else { " " },
                    pack.id,
                    pack.code,
                    pack.version,
                    pack.name_en,
                    pack.loaded_at,
                    pack.loaded_by
                );
            }
            Ok(())
        }
        PolicyCommand::Select { id } => match app::policy::select(&db, &actor, id).await {
            Ok(pack) => {
                println!(
                    "New tickets now open under {}@{}.",
                    pack.code(),
                    pack.version()
                );
                Ok(())
            }
            Err(e) => {
                eprintln!("error: {e}");
                std::process::exit(2);
            }
        },
    }
}

fn sla_due(
    batch: bool,
    calendar: &Option<String>,
    start: &Option<String>,
    add: &Option<String>,
) -> anyhow::Result<()> {
    use app::sla_cli;
    if batch {
        let stdin = std::io::stdin().lock();
        let stdout = std::io::BufWriter::with_capacity(64 * 1024, std::io::stdout().lock());
        sla_cli::run_batch(stdin, stdout)?;
        return Ok(());
    }
    let field = |v: &Option<String>| v.clone().unwrap_or_default();
    match sla_cli::due_for(&field(calendar), &field(start), &field(add)) {
        Ok(due) => {
            println!("{}", sla_cli::format_due(due));
            Ok(())
        }
        Err(error) => {
            eprintln!("error: {error}");
            std::process::exit(2);
        }
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    // Pure arithmetic: needs neither configuration nor a database.
    if let Command::Sla(SlaCommand::Due {
        batch,
        calendar,
        start,
        add,
    }) = &cli.command
    {
        return sla_due(*batch, calendar, start, add);
    }
    let config = Config::load()?;
    init_logs(&config);
    match cli.command {
        Command::Serve => serve(config).await,
        Command::Migrate => {
            let db = store::Db::connect(&config.database_url).await?;
            db.migrate().await?;
            app::policy::ensure_shipped(&db).await?;
            println!(
                "Database is up to date: {}",
                app::redact(&config.database_url)
            );
            Ok(())
        }
        Command::Demo { tickets } => {
            let db = store::Db::connect(&config.database_url).await?;
            db.migrate().await?;
            app::policy::ensure_shipped(&db).await?;
            if demo::load_if_empty(&db).await? {
                println!("Demo data loaded.\n{}", demo::sign_ins());
            } else if tickets.is_none() {
                println!("The database already has organizations; demo data not loaded.");
            }
            if let Some(count) = tickets {
                let step = (count / 20).max(10_000);
                let took = app::generate::tickets(&db, count, |done| {
                    if done % step < 10_000 || done == count {
                        eprintln!("  {done} tickets");
                    }
                })
                .await?;
                println!(
                    "Generated {count} tickets in {:.1} s ({:.0} tickets/s).",
                    took.as_secs_f64(),
                    count as f64 / took.as_secs_f64().max(0.001)
                );
            }
            Ok(())
        }
        Command::Admin(cmd) => admin(&config, cmd).await,
        Command::Audit(AuditCommand::Verify) => {
            let db = store::Db::connect(&config.database_url).await?;
            let mut conn = db.reader().acquire().await?;
            let report = store::audit::verify(&mut conn).await?;
            match report.fault {
                None => {
                    println!("Audit log intact: {} rows verified.", report.rows);
                    Ok(())
                }
                Some(fault) => {
                    eprintln!(
                        "AUDIT LOG TAMPERED: {fault} (rows 1-{} verified before it).",
                        report.rows
                    );
                    std::process::exit(1);
                }
            }
        }
        Command::Openapi => {
            let json = web::api::openapi_document();
            println!("{}", serde_json::to_string_pretty(&json)?);
            Ok(())
        }
        Command::Policy(command) => policy_command(&config, command).await,
        Command::Mail(MailCommand::Ingest) => mail_ingest(&config).await,
        Command::Mail(MailCommand::Poll) => mail_poll(&config).await,
        Command::Sla(SlaCommand::Due {
            batch,
            calendar,
            start,
            add,
        }) => sla_due(batch, &calendar, &start, &add),
    }
}

async fn serve(config: Config) -> anyhow::Result<()> {
    let running = app::start(&config).await?;
    println!("Triage is ready at {}", running.base_url);
    if running.demo_loaded {
        println!("{}", demo::sign_ins());
    }
    running.wait().await;
    Ok(())
}

async fn admin(config: &Config, cmd: Admin) -> anyhow::Result<()> {
    let db = store::Db::connect(&config.database_url).await?;
    db.migrate().await?;
    let actor = Actor::system("cli");
    let mut tx = db.begin().await?;
    match cmd {
        Admin::CreatePerson {
            org,
            email,
            name,
            roles,
            password,
            locale,
        } => {
            let org_id = org_id(&mut tx, &org).await?;
            let fields = domain::person::validate_person(&email, &name, None, &locale)
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            let (password, printed) = password_or_random(password);
            domain::person::check_new_password(&password).map_err(|e| anyhow::anyhow!("{e}"))?;
            let hash = store::passwords::hash(password.clone()).await;
            let id = store::people::create(&mut tx, org_id, &fields, Some(&hash))
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            for role in &roles {
                let role = Role::parse(role).with_context(|| format!("unknown role {role}"))?;
                store::people::grant_role(&mut tx, id, org_id, role, None).await?;
                append(
                    &mut tx,
                    &actor,
                    Event {
                        action: "role.grant",
                        entity_type: "person",
                        entity_id: Some(id.to_string()),
                        organization_id: Some(org_id),
                        detail: json!({"role": role}),
                    },
                )
                .await?;
            }
            append(
                &mut tx,
                &actor,
                Event {
                    action: "person.create",
                    entity_type: "person",
                    entity_id: Some(id.to_string()),
                    organization_id: Some(org_id),
                    detail: json!({"email": fields.email}),
                },
            )
            .await?;
            tx.commit().await?;
            println!("Created person {id} <{}>.", fields.email);
            if printed {
                println!("Password: {password}");
            }
        }
        Admin::ResetPassword { email, password } => {
            let creds = store::people::credentials_by_email(&mut tx, &email.trim().to_lowercase())
                .await?
                .context("no such person")?;
            let (password, printed) = password_or_random(password);
            domain::person::check_new_password(&password).map_err(|e| anyhow::anyhow!("{e}"))?;
            let hash = store::passwords::hash(password.clone()).await;
            store::people::set_password(&mut tx, creds.id, &hash).await?;
            store::auth::end_sessions(&mut tx, creds.id).await?;
            append(
                &mut tx,
                &actor,
                Event {
                    action: "auth.password_reset",
                    entity_type: "person",
                    entity_id: Some(creds.id.to_string()),
                    organization_id: Some(creds.organization_id),
                    detail: json!({"by": "cli"}),
                },
            )
            .await?;
            tx.commit().await?;
            println!("Password set for {}.", creds.email);
            if printed {
                println!("Password: {password}");
            }
        }
        Admin::CreateToken { email, name } => {
            let creds = store::people::credentials_by_email(&mut tx, &email.trim().to_lowercase())
                .await?
                .context("no such person")?;
            let (token, secret) = store::auth::create_token(&mut tx, creds.id, &name).await?;
            append(
                &mut tx,
                &actor,
                Event {
                    action: "token.create",
                    entity_type: "api_token",
                    entity_id: Some(token.id.to_string()),
                    organization_id: Some(creds.organization_id),
                    detail: json!({"name": name}),
                },
            )
            .await?;
            tx.commit().await?;
            println!("{secret}");
        }
        Admin::OrgOidc {
            org,
            issuer,
            client_id,
            client_secret,
        } => {
            let org_id = org_id(&mut tx, &org).await?;
            let scope = domain::policy::OrgScope::All;
            let current = store::orgs::get(&mut tx, &scope, org_id).await?;
            let mut input: domain::org::OrgInput = serde_json::from_value(current.fields_json())?;
            input.oidc_issuer = Some(issuer.trim_end_matches('/').to_owned());
            input.oidc_client_id = Some(client_id);
            let fields = input.validate().map_err(|e| anyhow::anyhow!("{e}"))?;
            store::orgs::update(&mut tx, &scope, org_id, &fields).await?;
            store::orgs::set_oidc_secret(&mut tx, org_id, Some(&client_secret)).await?;
            append(&mut tx, &actor, Event { action: "organization.update", entity_type: "organization", entity_id: Some(org_id.to_string()), organization_id: Some(org_id), detail: json!({"oidc_issuer": fields.oidc_issuer, "oidc_client_secret": "changed"}) }).await?;
            tx.commit().await?;
            println!(
                "Organization {org} now signs in with {}.",
                fields.oidc_issuer.unwrap_or_default()
            );
        }
    }
    Ok(())
}

async fn org_id(conn: &mut store::Conn, code: &str) -> anyhow::Result<i64> {
    let orgs = store::orgs::list(conn, &domain::policy::OrgScope::All).await?;
    match orgs.iter().find(|o| o.code.eq_ignore_ascii_case(code)) {
        Some(o) => Ok(o.id),
        None => bail!("no organization with code {code}"),
    }
}

fn password_or_random(password: Option<String>) -> (String, bool) {
    match password {
        Some(p) => (p, false),
        None => (store::random_token(18), true),
    }
}
