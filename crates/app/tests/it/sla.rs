//! `triage sla due`, as a separate process: the single form and the JSON-lines batch.
use std::io::Write;
use std::process::{Command, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_triage");

#[test]
fn the_single_form_prints_the_due_time_in_utc() {
    let out = Command::new(BIN)
        .args([
            "sla",
            "due",
            "--calendar",
            "business",
            "--start",
            "2026-03-06T16:00:00-05:00",
            "--add",
            "4h",
        ])
        .env_remove("TRIAGE_CONFIG")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "2026-03-09T15:00:00Z\n"
    );
}

#[test]
fn the_single_form_refuses_a_start_without_offset() {
    let out = Command::new(BIN)
        .args([
            "sla",
            "due",
            "--calendar",
            "business",
            "--start",
            "2026-03-06T16:00:00",
            "--add",
            "4h",
        ])
        .env_remove("TRIAGE_CONFIG")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("start:"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn the_batch_answers_each_line_in_order_and_goes_on_after_bad_ones() {
    let mut child = Command::new(BIN)
        .args(["sla", "due", "--batch"])
        .env_remove("TRIAGE_CONFIG")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let input = concat!(
        r#"{"id": "fri", "calendar": "business", "start": "2026-03-06T16:00:00-05:00", "add": "4h"}"#,
        "\n",
        r#"{"id": "bad", "calendar": "moon", "start": "2026-03-06T16:00:00-05:00", "add": "4h"}"#,
        "\n",
        r#"{"id": "xmas", "calendar": "business", "start": "2025-12-24T16:00:00-05:00", "add": "2h"}"#,
        "\n",
        r#"{"id": "tier1", "calendar": "tier1", "start": "2025-11-01T15:00:00-04:00", "add": "12h"}"#,
        "\n",
        r#"{"id": "days", "calendar": "business", "start": "2026-03-06T16:00:00-05:00", "add": "2bd"}"#,
        "\n",
    );
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    let lines: Vec<serde_json::Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 5);
    assert_eq!(lines[0]["due"], "2026-03-09T15:00:00Z");
    assert_eq!(lines[1]["id"], "bad");
    assert!(
        lines[1]["error"]
            .as_str()
            .unwrap()
            .contains("line 2, field calendar")
    );
    assert_eq!(lines[2]["due"], "2025-12-29T14:00:00Z");
    assert_eq!(lines[3]["due"], "2025-11-03T15:00:00Z");
    // Fri 16:00 EST: 1 h Friday, 9 h Monday (DST starts Sunday), 8 h Tuesday: Tue 16:00 EDT.
    assert_eq!(lines[4]["due"], "2026-03-10T20:00:00Z");
}

mod clocks {
    use serde_json::{Value, json};
    use testkit::TestApp;

    fn db_time(t: jiff::Timestamp) -> String {
        domain::time::to_db(t)
    }

    /// Rewrites a ticket's history as if it had been created at `created` and then gone
    /// through `changes` (instant, from, to); the clocks are derived from this history.
    async fn rewrite_history(
        app: &TestApp,
        number: &str,
        created: jiff::Timestamp,
        changes: &[(jiff::Timestamp, &str, &str)],
    ) -> i64 {
        let mut tx = app.db().begin().await.unwrap();
        let id: i64 = sqlx::query_scalar("SELECT id FROM tickets WHERE number = $1")
            .bind(number)
            .fetch_one(&mut *tx)
            .await
            .unwrap();
        let last = changes.last().map_or("new", |c| c.2);
        sqlx::query("UPDATE tickets SET created_at = $1, status = $2 WHERE id = $3")
            .bind(db_time(created))
            .bind(last)
            .bind(id)
            .execute(&mut *tx)
            .await
            .unwrap();
        sqlx::query("UPDATE ticket_events SET at = $1 WHERE ticket_id = $2 AND kind = 'created'")
            .bind(db_time(created))
            .bind(id)
            .execute(&mut *tx)
            .await
            .unwrap();
        for (at, from, to) in changes {
            sqlx::query(
                "INSERT INTO ticket_events (ticket_id, at, actor_id, actor_label, kind, internal, body, data)
                 VALUES ($1, $2, NULL, 'test', 'status', 0, NULL, $3)",
            )
            .bind(id)
            .bind(db_time(*at))
            .bind(json!({"from": from, "to": to}).to_string())
            .execute(&mut *tx)
            .await
            .unwrap();
        }
        tx.commit().await.unwrap();
        id
    }

    fn instant(v: &Value) -> jiff::Timestamp {
        v.as_str().unwrap().parse().unwrap()
    }

    /// A P2 incident (24x7, 4 h to restore): 30 min used, then two days pending the
    /// customer, then back in progress 30 min ago. It is due 3 h 30 min after it resumed,
    /// and the panel says why.
    #[tokio::test]
    async fn a_ticket_paused_for_two_days_is_due_later_by_exactly_the_pause() {
        let app = TestApp::spawn().await;
        let desk = app.api_as("helpdesk@hhs.example").await;
        let (s, t) = desk
            .post(
                "/api/v1/tickets",
                json!({"kind": "incident", "summary": "Lab feed stopped", "details": "No results since 6:00",
                       "impact": 2, "urgency": 2}),
            )
            .await;
        assert_eq!(s, 201, "{t}");
        assert_eq!(t["sla_state"], "on_track", "{t}");
        let number = t["number"].as_str().unwrap();
        let now = jiff::Timestamp::from_second(jiff::Timestamp::now().as_second()).unwrap();
        let hours = |h: i64| jiff::SignedDuration::from_mins(h * 60);
        let created = now - hours(48) - hours(1);
        let paused = created + jiff::SignedDuration::from_mins(30);
        let resumed = now - jiff::SignedDuration::from_mins(30);
        rewrite_history(
            &app,
            number,
            created,
            &[
                (paused, "new", "pending_customer"),
                (resumed, "pending_customer", "in_progress"),
            ],
        )
        .await;

        let agent = app.api_as("agent1@operator.example").await;
        let (s, sla) = agent.get(&format!("/api/v1/tickets/{number}/sla")).await;
        assert_eq!(s, 200, "{sla}");
        assert_eq!(sla["policy"]["code"], "priority");
        assert_eq!(sla["priority"]["code"], "P2");
        assert_eq!(sla["priority"]["calendar"], "24x7");
        let resolution = &sla["resolution"];
        assert_eq!(resolution["state"], "on_track", "{sla}");
        assert_eq!(resolution["target"], 4 * 3600);
        assert_eq!(resolution["used"].as_i64().unwrap() / 60, 60, "{sla}");
        let due = instant(&resolution["due"]);
        assert_eq!(
            due,
            resumed + hours(3) + jiff::SignedDuration::from_mins(30)
        );
        let segments = resolution["segments"].as_array().unwrap();
        let pause = segments
            .iter()
            .find(|s| s["kind"] == "paused")
            .unwrap_or_else(|| panic!("no pause in {sla}"));
        assert_eq!(pause["status"], "pending_customer");
        assert_eq!(instant(&pause["from"]), paused);
        assert_eq!(instant(&pause["to"]), resumed);

        // A change to the ticket stores the derived figures, and the queue filters on them.
        let (s, _) = agent
            .patch(
                &format!("/api/v1/tickets/{number}"),
                json!({"configuration_item": "lab-feed-01"}),
            )
            .await;
        assert!(s.is_success(), "{s}");
        let (_, list) = agent
            .get("/api/v1/tickets?sla=on_track&status=open&sort=due&limit=200")
            .await;
        let row = list["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["number"] == number)
            .unwrap_or_else(|| panic!("{number} not in {list}"));
        assert_eq!(instant(&row["sla_due_at"]), due);
        let (s, bad) = agent.get("/api/v1/tickets?sla=soon").await;
        assert_eq!(s, 422, "{bad}");
        assert_eq!(bad["code"], "invalid_choice");
    }

    async fn mails(app: &TestApp, key: &str, number: &str) -> i64 {
        let mut conn = app.db().reader().acquire().await.unwrap();
        sqlx::query_scalar("SELECT COUNT(*) FROM outbox WHERE kind = $1 AND subject LIKE $2")
            .bind(key)
            .bind(format!("%{number}%"))
            .fetch_one(&mut *conn)
            .await
            .unwrap()
    }

    /// A P1 incident (24x7, 2 h) that has used 1 h 45 min: its 75 % warning is due. Runners
    /// that die after claiming the job, and a restart, neither lose it nor send it twice.
    #[tokio::test]
    async fn a_due_warning_survives_restarts_and_is_sent_once() {
        let mut app = TestApp::spawn().await;
        let desk = app.api_as("helpdesk@hhs.example").await;
        let (s, t) = desk
            .post(
                "/api/v1/tickets",
                json!({"kind": "incident", "summary": "Viewer down", "details": "Nobody can open the viewer",
                       "impact": 1, "urgency": 1}),
            )
            .await;
        assert_eq!(s, 201, "{t}");
        let number = t["number"].as_str().unwrap().to_owned();
        let now = jiff::Timestamp::now();
        rewrite_history(
            &app,
            &number,
            now - jiff::SignedDuration::from_mins(105),
            &[],
        )
        .await;
        // Any change derives the clocks again: the warning is now due.
        let agent = app.api_as("agent1@operator.example").await;
        let (s, body) = agent
            .patch(
                &format!("/api/v1/tickets/{number}"),
                json!({"status": "in_progress"}),
            )
            .await;
        assert!(s.is_success(), "{body}");
        let (_, sla) = agent.get(&format!("/api/v1/tickets/{number}/sla")).await;
        assert_eq!(sla["state"], "at_risk", "{sla}");

        // A runner claims the due jobs and dies before doing them (its lease is short here).
        {
            let mut conn = app.db().begin().await.unwrap();
            let claimed =
                store::jobs::claim_due(&mut conn, 50, jiff::SignedDuration::from_millis(1500))
                    .await
                    .unwrap();
            conn.commit().await.unwrap();
            assert!(claimed.iter().any(|j| j.step == "warning"), "{claimed:?}");
        }
        app.restart().await;
        let ctx = {
            let running = app.running.as_ref().unwrap();
            web::sla::JobContext {
                db: running.db.clone(),
                packs: running.state.packs.clone(),
                base_url: running.base_url.clone(),
                mailer: running.state.mailer.clone(),
            }
        };
        // While the lease holds, nobody else does the job.
        assert_eq!(mails(&app, "sla-warning", &number).await, 0);
        tokio::time::sleep(std::time::Duration::from_millis(1600)).await;
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        while mails(&app, "sla-warning", &number).await == 0 {
            assert!(std::time::Instant::now() < deadline, "the warning was lost");
            web::sla::run_due_jobs(&ctx).await.unwrap();
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        let sent = mails(&app, "sla-warning", &number).await;
        // The assignee and the service desk group, each once.
        let mut conn = app.db().reader().acquire().await.unwrap();
        let group: i64 =
            sqlx::query_scalar("SELECT support_group_id FROM tickets WHERE number = $1")
                .bind(&number)
                .fetch_one(&mut *conn)
                .await
                .unwrap();
        let expected = store::groups::members(&mut conn, group)
            .await
            .unwrap()
            .len() as i64;
        drop(conn);
        assert_eq!(sent, expected.max(1), "one warning per person");
        // Running again, restarting again: nothing more.
        web::sla::run_due_jobs(&ctx).await.unwrap();
        app.restart().await;
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        assert_eq!(mails(&app, "sla-warning", &number).await, sent);
        // The breach escalation is still to come, at creation + 2 h.
        let agent = app.api_as("agent1@operator.example").await;
        let (_, sla) = agent.get(&format!("/api/v1/tickets/{number}/sla")).await;
        let upcoming = sla["upcoming"].as_array().unwrap();
        assert!(upcoming.iter().any(|n| n["step"] == "escalation"), "{sla}");
        assert!(upcoming.iter().all(|n| n["step"] != "warning"), "{sla}");
    }

    /// The ticket page explains the clock, in both languages; the queue shows and filters
    /// the SLA state.
    #[tokio::test]
    async fn pages_show_and_filter_the_sla() {
        let app = TestApp::spawn().await;
        let desk = app.api_as("helpdesk@hhs.example").await;
        let (_, t) = desk
            .post(
                "/api/v1/tickets",
                json!({"kind": "incident", "summary": "Feed late", "details": "Lab results late",
                       "impact": 2, "urgency": 2}),
            )
            .await;
        let number = t["number"].as_str().unwrap();
        let b = app.browser();
        b.sign_in("agent1@operator.example", testkit::DEMO_PASSWORD)
            .await;
        // agent1 reads French; the language switch shows English.
        let page = b
            .get(&format!("/tickets/{number}"))
            .await
            .text()
            .await
            .unwrap();
        assert!(page.contains("data-testid=\"sla-panel\""), "{page}");
        assert!(page.contains("Niveau de service"), "{page}");
        assert!(page.contains("Dans les délais"));
        assert!(page.contains("24x7"));
        b.post_form("/lang", &[("lang", "en"), ("next", "/")]).await;
        let page = b
            .get(&format!("/tickets/{number}"))
            .await
            .text()
            .await
            .unwrap();
        assert!(page.contains("Service level"), "{page}");
        assert!(page.contains("On track"));
        let queue = b
            .get("/console/queue?status=open&sla=on_track&sort=due")
            .await
            .text()
            .await
            .unwrap();
        assert!(queue.contains(number), "{queue}");
        let queue = b
            .get("/console/queue?status=open&sla=breached")
            .await
            .text()
            .await
            .unwrap();
        assert!(!queue.contains(number));
    }

    /// Network requests' priorities are chosen by an agent; the new target counts against
    /// the time already used. A priority the pack does not define is refused.
    #[tokio::test]
    async fn an_agent_sets_a_network_priority_and_the_target_follows() {
        let app = TestApp::spawn().await;
        let desk = app.api_as("helpdesk@hhs.example").await;
        let (s, t) = desk
            .post(
                "/api/v1/tickets",
                json!({"kind": "service_request", "summary": "New WAN link", "details": "Second site",
                       "impact": 4, "urgency": 4}),
            )
            .await;
        assert_eq!(s, 201, "{t}");
        let number = t["number"].as_str().unwrap();
        let agent = app.api_as("agent1@operator.example").await;
        let (s, body) = agent
            .patch(
                &format!("/api/v1/tickets/{number}"),
                json!({"priority": 40, "priority_reason": "WAN upgrade"}),
            )
            .await;
        assert!(s.is_success(), "{body}");
        let (_, sla) = agent.get(&format!("/api/v1/tickets/{number}/sla")).await;
        assert_eq!(sla["priority"]["code"], "P40", "{sla}");
        assert_eq!(sla["resolution"]["target"], 125 * 9 * 3600, "{sla}");
        let (s, body) = agent
            .patch(
                &format!("/api/v1/tickets/{number}"),
                json!({"priority": 50, "priority_reason": "no such"}),
            )
            .await;
        assert_eq!(s, 422, "{body}");
    }
}
