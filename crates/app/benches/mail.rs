//! Mail benchmarks (issue 6), against a real `triage serve` process:
//!
//! 1. a notice to a distribution list of 10,000 addresses, sent with `POST /api/v1/notices`:
//!    every message rendered (both languages, text and HTML, a signed unsubscribe link)
//!    and queued in one transaction;
//! 2. those messages delivered by the server's sender to a real SMTP server (the test
//!    harness's aiosmtpd sink), in messages per second;
//! 3. inbound messages taken in through `POST /api/v1/inbound/email`, each opening an
//!    email ticket, at concurrency 1 and 4.
//!
//! Run: `cargo bench -p app --bench mail`. Environment: `TRIAGE_BENCH_PG=postgres://…` also
//! runs on PostgreSQL (`TRIAGE_BENCH_ONLY_PG=1` skips SQLite); `TRIAGE_BENCH_RECIPIENTS`
//! (default 10000), `TRIAGE_BENCH_INBOUND` (default 1000).

#[path = "support/mod.rs"]
mod support;

use std::time::{Duration, Instant};
use support::*;

const INBOUND_TOKEN: &str = "bench-inbound-token-0123456789";

#[tokio::main]
async fn main() {
    let recipients = env_number("TRIAGE_BENCH_RECIPIENTS", 10_000) as usize;
    let inbound = env_number("TRIAGE_BENCH_INBOUND", 1000) as usize;
    let mut backends = Vec::new();
    if std::env::var("TRIAGE_BENCH_ONLY_PG").is_err() {
        backends.push(Backend::Sqlite);
    }
    if let Some(pg) = std::env::var("TRIAGE_BENCH_PG")
        .ok()
        .filter(|u| !u.is_empty())
    {
        backends.push(Backend::Postgres(pg));
    }
    println!("Triage mail benchmarks (issue 6)");
    let mut table = Vec::new();
    for backend in backends {
        let name = match &backend {
            Backend::Sqlite => "SQLite",
            Backend::Postgres(_) => "PostgreSQL",
        };
        println!("\n=== {name} ===");
        let db = FreshDb::new(&backend).await;
        let sink = testkit::SmtpSink::start();
        let smtp = sink.url();
        let http = client(None);
        let mut server = Server::spawn_with(
            &db,
            &[
                ("TRIAGE_SMTP_URL", smtp.as_str()),
                ("TRIAGE_INBOUND_TOKEN", INBOUND_TOKEN),
                // One sender writes every message here; the loop guard would stop it.
                ("TRIAGE_INBOUND_SENDER_LIMIT_PER_HOUR", "1000000"),
            ],
        );
        server.wait_ready(&http).await;

        // 1. A notice to N recipients, through the API: a custom list with N addresses
        //    (language unknown, so each message is rendered in both languages), then the
        //    timed POST /api/v1/notices, which renders every message and queues them all in
        //    one transaction.
        let store_db = store::Db::connect(&db.url).await.expect("database");
        let admin = token(&db, "admin@operator.example");
        let agent = token(&db, "agent1@operator.example");
        let list: serde_json::Value = http
            .post(format!("{}/api/v1/lists", server.base))
            .bearer_auth(&admin)
            .json(&serde_json::json!({"code": "bench", "name_en": "Partners", "name_fr": "Partenaires", "kind": "custom"}))
            .send()
            .await
            .expect("create list")
            .json()
            .await
            .expect("list");
        let list_id = list["id"].as_i64().expect("list id");
        let emails: Vec<String> = (0..recipients)
            .map(|i| format!("member{i}@partners.example"))
            .collect();
        let added: serde_json::Value = http
            .post(format!("{}/api/v1/lists/{list_id}/members", server.base))
            .bearer_auth(&agent)
            .json(&serde_json::json!({ "emails": emails }))
            .send()
            .await
            .expect("add members")
            .json()
            .await
            .expect("added");
        assert_eq!(added["added"].as_u64(), Some(recipients as u64), "{added}");
        let started = Instant::now();
        let response = http
            .post(format!("{}/api/v1/notices", server.base))
            .bearer_auth(&agent)
            .json(&serde_json::json!({
                "list_ids": [list_id],
                "subject_en": "Planned maintenance of the clinical viewer",
                "subject_fr": "Entretien planifié de la visionneuse clinique",
                "body_en": "The clinical viewer is unavailable Sunday from 00:00 to 06:00 for an upgrade.",
                "body_fr": "La visionneuse clinique sera indisponible dimanche de 0 h à 6 h pour une mise à niveau."
            }))
            .send()
            .await
            .expect("send notice");
        let queued = started.elapsed();
        assert_eq!(
            response.status(),
            201,
            "{}",
            response.text().await.unwrap_or_default()
        );
        let sent: serde_json::Value = response.json().await.expect("sent");
        let notice_id = sent["id"].as_i64().expect("notice id");
        assert_eq!(
            sent["recipients"].as_u64(),
            Some(recipients as u64),
            "{sent}"
        );
        println!(
            "queued a notice to {recipients} recipients in {:.3} s (POST /api/v1/notices: render in both languages + insert, one transaction)",
            queued.as_secs_f64()
        );
        table.push(format!(
            "| {name} | notice to {recipients} recipients queued (`POST /api/v1/notices`) | {:.3} s | < 1 s |",
            queued.as_secs_f64()
        ));

        // 2. The server's sender delivers them to the SMTP sink.
        let started = Instant::now();
        let deadline = started + Duration::from_secs(900);
        loop {
            let mut conn = store_db.reader().acquire().await.expect("conn");
            let (queued, failed): (i64, i64) = sqlx::query_as(
                "SELECT COALESCE(SUM(CASE WHEN status = 'queued' THEN 1 ELSE 0 END), 0),
                        COALESCE(SUM(CASE WHEN status = 'failed' THEN 1 ELSE 0 END), 0)
                 FROM outbox WHERE notice_id = $1",
            )
            .bind(notice_id)
            .fetch_one(&mut *conn)
            .await
            .expect("count");
            assert_eq!(failed, 0, "deliveries failed");
            if queued == 0 {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "{queued} still queued after 15 min"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let delivered = started.elapsed();
        let arrived = sink.messages().len();
        let rate = recipients as f64 / delivered.as_secs_f64();
        println!(
            "delivered {recipients} to the SMTP sink in {:.1} s = {rate:.0} messages/s ({arrived} files at the sink)",
            delivered.as_secs_f64()
        );
        table.push(format!(
            "| {name} | delivered to a local SMTP sink | {rate:.0} messages/s | ≥ 500 messages/s |"
        ));

        // 3. Inbound messages, each opening an email ticket.
        for concurrency in [1usize, 4] {
            let per_task = inbound / concurrency;
            let started = Instant::now();
            let mut tasks = Vec::new();
            for task in 0..concurrency {
                let http = http.clone();
                let url = format!("{}/api/v1/inbound/email", server.base);
                tasks.push(tokio::spawn(async move {
                    let mut latencies = Vec::with_capacity(per_task);
                    for i in 0..per_task {
                        let raw = format!(
                            "From: helpdesk@hhs.example\r\nSubject: Viewer slow at site {i}\r\n\
                             Message-ID: <bench-{concurrency}-{task}-{i}@hhs.example>\r\n\
                             Content-Type: text/plain; charset=utf-8\r\n\r\n\
                             Pages take 9 seconds to load in the emergency department.\r\n"
                        );
                        let t0 = Instant::now();
                        let r = http
                            .post(&url)
                            .header("x-inbound-token", INBOUND_TOKEN)
                            .header("content-type", "message/rfc822")
                            .body(raw)
                            .send()
                            .await
                            .expect("post");
                        assert_eq!(r.status(), 200, "{}", r.text().await.unwrap_or_default());
                        r.bytes().await.expect("body");
                        latencies.push(ms(t0.elapsed()));
                    }
                    latencies
                }));
            }
            let mut latencies = Vec::new();
            for task in tasks {
                latencies.extend(task.await.expect("task"));
            }
            let elapsed = started.elapsed();
            let rate = latencies.len() as f64 / elapsed.as_secs_f64();
            println!(
                "inbound c={concurrency}: {} messages in {:.2} s = {rate:.0}/s; p50 {:.2} ms, p95 {:.2} ms",
                latencies.len(),
                elapsed.as_secs_f64(),
                percentile(&latencies, 50.0),
                percentile(&latencies, 95.0)
            );
            table.push(format!(
                "| {name} | inbound mail → email ticket, c={concurrency} | {rate:.0} messages/s (p50 {:.2} ms, p95 {:.2} ms) | |",
                percentile(&latencies, 50.0),
                percentile(&latencies, 95.0)
            ));
        }
        store_db.close().await;
        let problems = server.kill();
        let errors: Vec<_> = problems.iter().filter(|l| l.contains("ERROR")).collect();
        assert!(errors.is_empty(), "server errors: {errors:?}");
        db.drop_now().await;
    }
    println!("\n| backend | figure | result | goal |\n|---|---|---|---|");
    for row in table {
        println!("{row}");
    }
}
