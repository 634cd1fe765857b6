//! Latent RFCs: a P3 incident's repair needs its RFC first; a P1's repair recorded first
//! opens the emergency-repair change due within 24 hours; the reminders 8 h and 1 h before
//! reach the implementer and the change managers once each across a restart (the process
//! clock is moved); unfiled at +25 h it is overdue on the breach report, and filed then
//! it needs a reason and shows filed late.
use crate::major_incidents::viewer_incident;
use jiff::SignedDuration;
use serde_json::{Value, json};
use testkit::{SmtpSink, TestApp};

const AGENT: &str = "agent1@operator.example";
const CHANGE_MANAGER: &str = "change@operator.example";
const CLINICIAN: &str = "clinician@hhs.example";

fn subjects_to(sink: &SmtpSink, address: &str, number: &str) -> Vec<String> {
    sink.messages()
        .into_iter()
        .filter(|m| {
            m.lines()
                .any(|l| l.to_ascii_lowercase().starts_with("to:") && l.contains(address))
        })
        .filter_map(|m| {
            mail_parser::MessageParser::default()
                .parse(m.as_bytes())
                .and_then(|m| m.subject().map(str::to_owned))
        })
        .filter(|s| s.contains(number))
        .collect()
}

async fn run_due(app: &TestApp) {
    // The server's own runner may hold the lease: then it does the pass.
    let _ = web::latent_rfcs::run_due(app.state()).await.unwrap();
}

async fn report_row(app: &TestApp, number: &str) -> Value {
    let agent = app.api_as(AGENT).await;
    let (s, rows) = agent.get("/api/v1/changes/latent").await;
    assert_eq!(s, 200, "{rows}");
    rows.as_array()
        .unwrap()
        .iter()
        .find(|r| r["number"] == number)
        .cloned()
        .unwrap_or_else(|| panic!("{number} on the report: {rows}"))
}

fn complete_rfc() -> Value {
    json!({
        "reason": "The viewer's cache server failed",
        "notice_required": false,
        "disaster_recovery_exists": true,
        "training_documents_exist": false,
        "tested_in_lower_environments": false,
        "risk": "medium",
        "users_affected": true,
        "users_affected_how": "The viewer was down during the repair",
        "outage_required": false,
        "requested_end": (domain::time::now() + SignedDuration::from_hours(1)).to_string(),
        "product_category": "Viewer",
        "implementation_plan": "1. Replace the cache node 2. Restart the viewer",
        "backout_plan": "Put the old node back",
        "configuration_items": ["chr-viewer-app"],
    })
}

#[tokio::test]
async fn a_p1_repair_done_first_has_its_rfc_due_in_24_hours_with_reminders_and_breaches() {
    let sink = SmtpSink::start();
    let mut app = TestApp::spawn_with_smtp(Some(sink.url())).await;
    let agent = app.api_as(AGENT).await;

    // P3/P4: the emergency RFC is filed first.
    let p3 = viewer_incident(&app, 3, 3).await;
    assert!(p3["priority"].as_i64().unwrap() >= 3, "{p3}");
    let (s, e) = agent
        .post(
            &format!(
                "/api/v1/tickets/{}/emergency-change",
                p3["number"].as_str().unwrap()
            ),
            json!({"what": "Restarted the cache"}),
        )
        .await;
    assert_eq!(s, 409, "{e}");
    assert_eq!(e["code"], "rfc_first_required");

    // P1: recorded first, due 24 h after the repair.
    let p1 = viewer_incident(&app, 1, 1).await;
    assert_eq!(p1["priority"], 1, "{p1}");
    let incident = p1["number"].as_str().unwrap().to_owned();
    let done_at = domain::time::now() - SignedDuration::from_mins(10);
    let (s, latent) = agent
        .post(
            &format!("/api/v1/tickets/{incident}/emergency-change"),
            json!({"what": "Replaced the viewer's cache node", "implemented_at": done_at.to_string()}),
        )
        .await;
    assert_eq!(s, 201, "{latent}");
    let number = latent["number"].as_str().unwrap().to_owned();
    assert!(number.starts_with("CHG-"), "{latent}");
    let due: jiff::Timestamp = latent["due_at"].as_str().unwrap().parse().unwrap();
    let implemented: jiff::Timestamp = latent["implemented_at"].as_str().unwrap().parse().unwrap();
    assert_eq!(
        due.duration_since(implemented),
        SignedDuration::from_hours(24)
    );
    // Done, so resolved in the queues; a second record for the same incident is refused.
    let (_, change) = agent.get(&format!("/api/v1/tickets/{number}")).await;
    assert_eq!(change["status"], "resolved", "{change}");
    let (s, again) = agent
        .post(
            &format!("/api/v1/tickets/{incident}/emergency-change"),
            json!({"what": "Replaced the viewer's cache node"}),
        )
        .await;
    assert_eq!(
        (s.as_u16(), again["code"].as_str()),
        (409, Some("latent_rfc_exists")),
        "{again}"
    );
    let row = report_row(&app, &number).await;
    assert_eq!(row["state"], "open", "{row}");
    assert_eq!(row["incident"], incident.as_str());
    assert_eq!(row["breach"], false);

    // The incident and the change show the link.
    let (_, t) = agent.get(&format!("/api/v1/tickets/{incident}")).await;
    let links = t["links"].to_string();
    assert!(links.contains(&number) && links.contains("fixed_by"), "{t}");

    // Nothing before the first reminder's time.
    run_due(&app).await;
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert!(subjects_to(&sink, AGENT, &number).is_empty());

    // 8 h before: the implementer and the change manager, once each, even across a restart.
    domain::time::advance(SignedDuration::from_hours(16) + SignedDuration::from_mins(11));
    run_due(&app).await;
    sink.wait_for(2, 20).await;
    testkit::eventually(
        async || subjects_to(&sink, CHANGE_MANAGER, &number).len(),
        |n: &usize| *n >= 1,
    )
    .await;
    app.restart().await;
    run_due(&app).await;
    tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    assert_eq!(subjects_to(&sink, AGENT, &number).len(), 1);
    assert_eq!(subjects_to(&sink, CHANGE_MANAGER, &number).len(), 1);
    assert_eq!(
        report_row(&app, &number).await["reminders_sent"],
        json!(["8h"])
    );

    // 1 h before: the second reminder, once.
    domain::time::advance(SignedDuration::from_hours(7));
    run_due(&app).await;
    testkit::eventually(
        async || subjects_to(&sink, AGENT, &number).len(),
        |n: &usize| *n >= 2,
    )
    .await;
    run_due(&app).await;
    tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    assert_eq!(subjects_to(&sink, AGENT, &number).len(), 2);
    testkit::eventually(
        async || subjects_to(&sink, CHANGE_MANAGER, &number).len(),
        |n: &usize| *n >= 2,
    )
    .await;
    assert_eq!(subjects_to(&sink, CHANGE_MANAGER, &number).len(), 2);

    // +25 h unfiled: overdue, a breach, on the report.
    domain::time::advance(SignedDuration::from_hours(2));
    run_due(&app).await;
    let agent = app.api_as(AGENT).await;
    let row = report_row(&app, &number).await;
    assert_eq!(row["state"], "overdue", "{row}");
    assert_eq!(row["breach"], true);
    assert!(row["late_minutes"].as_i64().unwrap() >= 60, "{row}");
    let from = (domain::time::now() - SignedDuration::from_hours(48)).to_string();
    let (s, rows) = agent
        .get(&format!("/api/v1/changes/latent?from={from}"))
        .await;
    assert_eq!(s, 200);
    assert!(rows.to_string().contains(&number));
    let (s, rows) = agent
        .get(&format!("/api/v1/changes/latent?to={}", &from[..10]))
        .await;
    assert_eq!(s, 200);
    assert!(!rows.to_string().contains(&number), "{rows}");

    // Filing: every required field, and late only with a reason.
    let path = format!("/api/v1/changes/{number}/latent-rfc");
    let (s, e) = agent
        .post(&path, json!({"reason": "Cache node failed"}))
        .await;
    assert_eq!(s, 422, "{e}");
    assert_eq!(e["code"], "missing_fields");
    assert!(
        e["detail"]["missing"].to_string().contains("backout_plan"),
        "{e}"
    );
    let (s, e) = agent.post(&path, complete_rfc()).await;
    assert_eq!(s, 422, "{e}");
    assert_eq!(e["code"], "late_reason_required");
    let mut late = complete_rfc();
    late["late_reason"] = json!("The implementer was on the bridge all night");
    let (s, filed) = agent.post(&path, late).await;
    assert_eq!(s, 200, "{filed}");
    assert_eq!(filed["state"], "filed_late", "{filed}");
    let row = report_row(&app, &number).await;
    assert_eq!(row["state"], "filed_late");
    assert_eq!(row["breach"], true);
    assert!(row["late_minutes"].as_i64().unwrap() >= 60);
    assert_eq!(
        row["late_reason"],
        "The implementer was on the bridge all night"
    );
    let (s, e) = agent.post(&path, complete_rfc()).await;
    assert_eq!(s, 409, "{e}");
    assert_eq!(e["code"], "already_filed");

    // Filed within the 24 hours: on time.
    let other = viewer_incident(&app, 1, 1).await;
    let (s, latent) = agent
        .post(
            &format!(
                "/api/v1/tickets/{}/emergency-change",
                other["number"].as_str().unwrap()
            ),
            json!({"what": "Failed the interface over"}),
        )
        .await;
    assert_eq!(s, 201, "{latent}");
    let second = latent["number"].as_str().unwrap();
    let (s, filed) = agent
        .post(
            &format!("/api/v1/changes/{second}/latent-rfc"),
            complete_rfc(),
        )
        .await;
    assert_eq!(s, 200, "{filed}");
    assert_eq!(filed["state"], "filed_on_time");
    assert_eq!(filed["breach"], false);

    // Partners see no breach report.
    let clinician = app.api_as(CLINICIAN).await;
    let (s, _) = clinician.get("/api/v1/changes/latent").await;
    assert_eq!(s, 403);
}
