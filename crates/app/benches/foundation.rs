//! Foundation benchmarks (issue 3): start to ready, password check time, and sign-in
//! requests per second at concurrency 4.
//!
//! Run with `cargo bench -p app --bench foundation`. Set `TRIAGE_BENCH_PG` to a PostgreSQL
//! server URL (for example `postgres://postgres@127.0.0.1:5432/test`) to also measure start
//! to ready and sign-in against a fresh PostgreSQL database, which is dropped afterwards.
//!
//! These are benchmarks, not tests: they print figures and the goals beside them, and fail
//! only when something does not work (a request errors, the server does not start). All
//! traffic goes to 127.0.0.1; the whole run takes well under two minutes.

#[path = "support/mod.rs"]
mod support;

use reqwest::StatusCode;
use reqwest::cookie::CookieStore;
use std::sync::Arc;
use std::time::{Duration, Instant};
use support::*;

const START_RUNS: usize = 10;
const VERIFY_RUNS: usize = 30;
const WORKERS: usize = 4;
const WARM_UP: Duration = Duration::from_secs(2);
const MEASURE: Duration = Duration::from_secs(10);
/// One demo account per worker, so the lockout never interferes.
const ACCOUNTS: [&str; WORKERS] = [
    "admin@operator.example",
    "agent1@operator.example",
    "lra@hhs.example",
    "helpdesk@hhs.example",
];

#[tokio::main]
async fn main() {
    // `cargo bench` passes `--bench`; nothing here takes options.
    let pg = std::env::var("TRIAGE_BENCH_PG")
        .ok()
        .filter(|u| !u.is_empty());
    println!("Triage foundation benchmarks (issue 3)");
    println!("binary: {TRIAGE}");
    println!(
        "machine: {} logical CPUs; the benchmark client and the server share them",
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    println!();

    let mut rows: Vec<Row> = Vec::new();

    // a. Start to ready (SQLite).
    let start = start_to_ready(Backend::Sqlite).await;
    rows.push(Row::ms(
        "Start to ready, SQLite (ms)",
        &start,
        "< 1000 ms",
        percentile(&start, 95.0) < 1000.0,
    ));

    // b. Password check time.
    let verify = password_check().await;
    rows.push(Row::ms(
        "Password check, argon2id (ms)",
        &verify,
        "< 100 ms",
        percentile(&verify, 95.0) < 100.0,
    ));

    // c. Sign-in requests per second, SQLite.
    let signin = sign_in_throughput(Backend::Sqlite).await;
    rows.push(signin.row("Sign-in at concurrency 4, SQLite"));

    // d. The same against PostgreSQL.
    if let Some(admin_url) = &pg {
        let start = start_to_ready(Backend::Postgres(admin_url.clone())).await;
        rows.push(Row::ms(
            "Start to ready, PostgreSQL (ms)",
            &start,
            "< 1000 ms",
            percentile(&start, 95.0) < 1000.0,
        ));
        let signin = sign_in_throughput(Backend::Postgres(admin_url.clone())).await;
        rows.push(signin.row("Sign-in at concurrency 4, PostgreSQL"));
    } else {
        println!("(TRIAGE_BENCH_PG is not set: PostgreSQL figures skipped)\n");
    }

    print_table(&rows);
    println!();
    println!(
        "Start to ready: {START_RUNS} runs of the release binary, each on a fresh database \
         (file or database creation, migrations, demo data with its one argon2 hash), \
         from spawn until GET /readyz answers 200, polled every 5 ms. \
         p95 of 10 runs is the slowest run."
    );
    println!(
        "Password check: {VERIFY_RUNS} runs of store::passwords::verify (password-auth, \
         run on the blocking pool) of the correct password."
    );
    println!(
        "Sign-in: {WORKERS} workers, each with its own cookie store, doing \
         POST /signin/password (email, password, next, _csrf) and expecting 303; \
         warm-up {}s, measured {}s; latency is per POST as the client sees it. \
         The client and the server share the machine's cores, so this is a lower bound \
         of what the server alone would do.",
        WARM_UP.as_secs(),
        MEASURE.as_secs()
    );
    if rows.iter().any(|r| r.errors > 0) {
        eprintln!("sign-in errors occurred: see above");
        std::process::exit(1);
    }
}

// ---------------------------------------------------------------------------------------------
// Results table

struct Row {
    name: String,
    figures: String,
    goal: &'static str,
    met: bool,
    errors: usize,
}

impl Row {
    fn ms(name: &str, samples: &[f64], goal: &'static str, met: bool) -> Self {
        Self {
            name: name.to_owned(),
            figures: format!(
                "min {:.1} / median {:.1} / p95 {:.1} / max {:.1}",
                percentile(samples, 0.0),
                percentile(samples, 50.0),
                percentile(samples, 95.0),
                percentile(samples, 100.0)
            ),
            goal,
            met,
            errors: 0,
        }
    }
}

fn print_table(rows: &[Row]) {
    let w0 = rows.iter().map(|r| r.name.len()).max().unwrap_or(0).max(6);
    let w1 = rows
        .iter()
        .map(|r| r.figures.len())
        .max()
        .unwrap_or(0)
        .max(6);
    let w2 = rows.iter().map(|r| r.goal.len()).max().unwrap_or(0).max(4);
    println!(
        "{:<w0$} | {:<w1$} | {:<w2$} | met",
        "Figure", "Result", "Goal"
    );
    println!("{:-<w0$}-+-{:-<w1$}-+-{:-<w2$}-+-----", "", "", "");
    for r in rows {
        println!(
            "{:<w0$} | {:<w1$} | {:<w2$} | {}",
            r.name,
            r.figures,
            r.goal,
            if r.met { "yes" } else { "NO" }
        );
    }
}

fn backend_name(b: &Backend) -> &'static str {
    match b {
        Backend::Sqlite => "SQLite",
        Backend::Postgres(_) => "PostgreSQL",
    }
}

// ---------------------------------------------------------------------------------------------
// a. Start to ready

async fn start_to_ready(backend: Backend) -> Vec<f64> {
    println!(
        "[start to ready, {}] {START_RUNS} runs, fresh database each",
        backend_name(&backend)
    );
    let http = client(None);
    let mut samples = Vec::new();
    for run in 1..=START_RUNS {
        let db = FreshDb::new(&backend).await;
        let t0 = Instant::now();
        let mut server = Server::spawn(&db);
        server.wait_ready(&http).await;
        let elapsed = ms(t0.elapsed());
        let problems = server.kill();
        db.drop_now().await;
        println!("  run {run:>2}: {elapsed:>7.1} ms");
        for p in problems {
            println!("    server logged: {p}");
        }
        samples.push(elapsed);
    }
    println!();
    samples
}

// ---------------------------------------------------------------------------------------------
// b. Password check time

async fn password_check() -> Vec<f64> {
    let password = app::demo::DEMO_PASSWORD.to_owned();
    let t0 = Instant::now();
    let hash = store::passwords::hash(password.clone()).await;
    let hash_ms = ms(t0.elapsed());
    // $argon2id$v=19$m=19456,t=2,p=1$salt$hash: print everything but salt and hash.
    let params: Vec<&str> = hash.split('$').take(4).collect();
    println!("[password check] product hash function store::passwords::hash");
    println!("  PHC parameters: {}$...", params.join("$"));
    println!("  one hash took {hash_ms:.1} ms");
    assert!(
        hash.starts_with("$argon2id$"),
        "the product does not hash with argon2id: {hash}"
    );
    // One untimed check first (page faults for the 19 MiB block).
    assert!(store::passwords::verify(password.clone(), Some(hash.clone())).await);
    let mut samples = Vec::new();
    for _ in 0..VERIFY_RUNS {
        let t0 = Instant::now();
        let ok = store::passwords::verify(password.clone(), Some(hash.clone())).await;
        samples.push(ms(t0.elapsed()));
        assert!(ok, "the correct password was refused");
    }
    println!(
        "  {VERIFY_RUNS} checks: median {:.1} ms, p95 {:.1} ms\n",
        percentile(&samples, 50.0),
        percentile(&samples, 95.0)
    );
    samples
}

// ---------------------------------------------------------------------------------------------
// c. Sign-in requests per second

struct SignInResult {
    requests: usize,
    rps: f64,
    latencies: Vec<f64>,
    errors: usize,
}

impl SignInResult {
    fn row(&self, name: &str) -> Row {
        Row {
            name: name.to_owned(),
            figures: format!(
                "{:.1} req/s; p50 {:.1} ms / p95 {:.1} ms; {} requests, {} errors",
                self.rps,
                percentile(&self.latencies, 50.0),
                percentile(&self.latencies, 95.0),
                self.requests,
                self.errors
            ),
            goal: "measure; 0 errors",
            met: self.errors == 0 && self.requests > 0,
            errors: self.errors,
        }
    }
}

#[derive(Default)]
struct WorkerResult {
    latencies: Vec<f64>,
    errors: usize,
    warm_up_errors: usize,
    first_error: Option<String>,
}

fn csrf_of(jar: &reqwest::cookie::Jar, base: &url::Url) -> Option<String> {
    let header = jar.cookies(base)?;
    header
        .to_str()
        .ok()?
        .split(';')
        .filter_map(|p| p.trim().split_once('='))
        .find(|(k, _)| *k == "triage_csrf")
        .map(|(_, v)| v.to_owned())
}

async fn worker(
    base: String,
    email: &'static str,
    warm_end: Instant,
    end: Instant,
) -> WorkerResult {
    let jar = Arc::new(reqwest::cookie::Jar::default());
    let http = client(Some(jar.clone()));
    let base_url: url::Url = base.parse().expect("base url");
    let signin_url = format!("{base}/signin/password");
    let mut out = WorkerResult::default();
    while Instant::now() < end {
        // Ensure the CSRF cookie: the first iteration visits the sign-in page.
        let csrf = match csrf_of(&jar, &base_url) {
            Some(c) => c,
            None => {
                let _ = http.get(format!("{base}/signin")).send().await;
                match csrf_of(&jar, &base_url) {
                    Some(c) => c,
                    None => {
                        out.first_error
                            .get_or_insert("no triage_csrf cookie".into());
                        out.errors += 1;
                        tokio::time::sleep(Duration::from_millis(100)).await;
                        continue;
                    }
                }
            }
        };
        let form = [
            ("email", email),
            ("password", app::demo::DEMO_PASSWORD),
            ("next", "/"),
            ("_csrf", csrf.as_str()),
        ];
        let t0 = Instant::now();
        let result = http.post(&signin_url).form(&form).send().await;
        let outcome = match result {
            Ok(r) => {
                let status = r.status();
                let location = r
                    .headers()
                    .get("location")
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_owned);
                let _ = r.bytes().await;
                if status == StatusCode::SEE_OTHER && location.as_deref() == Some("/") {
                    Ok(())
                } else {
                    Err(format!("{email}: status {status}, location {location:?}"))
                }
            }
            Err(e) => Err(format!("{email}: {e}")),
        };
        let done = Instant::now();
        let latency = ms(done - t0);
        if done > end {
            break;
        }
        let measured = t0 >= warm_end;
        match outcome {
            Ok(()) if measured => out.latencies.push(latency),
            Ok(()) => {}
            Err(e) => {
                out.first_error.get_or_insert(e);
                if measured {
                    out.errors += 1;
                } else {
                    out.warm_up_errors += 1;
                }
            }
        }
    }
    out
}

async fn sign_in_throughput(backend: Backend) -> SignInResult {
    println!(
        "[sign-in, {}] {WORKERS} workers ({}), warm-up {}s, measured {}s",
        backend_name(&backend),
        ACCOUNTS.join(", "),
        WARM_UP.as_secs(),
        MEASURE.as_secs()
    );
    let db = FreshDb::new(&backend).await;
    let mut server = Server::spawn(&db);
    server.wait_ready(&client(None)).await;
    let warm_end = Instant::now() + WARM_UP;
    let end = warm_end + MEASURE;
    let tasks: Vec<_> = ACCOUNTS
        .iter()
        .map(|email| tokio::spawn(worker(server.base.clone(), email, warm_end, end)))
        .collect();
    let mut latencies = Vec::new();
    let mut errors = 0;
    let mut warm_up_errors = 0;
    for t in tasks {
        let r = t.await.expect("worker");
        latencies.extend(r.latencies);
        errors += r.errors;
        warm_up_errors += r.warm_up_errors;
        if let Some(e) = r.first_error {
            println!("  error: {e}");
        }
    }
    let problems = server.kill();
    db.drop_now().await;
    let requests = latencies.len();
    let rps = requests as f64 / MEASURE.as_secs_f64();
    println!(
        "  {requests} sign-ins in {}s = {rps:.1} req/s; p50 {:.1} ms, p95 {:.1} ms, max {:.1} ms; \
         errors {errors} (warm-up errors {warm_up_errors})",
        MEASURE.as_secs(),
        percentile(&latencies, 50.0),
        percentile(&latencies, 95.0),
        percentile(&latencies, 100.0),
    );
    println!("  server warnings/errors logged: {}", problems.len());
    for p in problems.iter().take(5) {
        println!("    {p}");
    }
    println!("  (client and server share the machine's cores)\n");
    SignInResult {
        requests,
        rps,
        latencies,
        errors: errors + warm_up_errors,
    }
}
