//! Change management after approval: the planned-outage notice reaches a real SMTP sink
//! once per address in its language, the status page shows the maintenance made from the
//! RFC, the outcome moves the RFC to implemented (the partner's single point of contact
//! mailed, the maintenance completed, the ticket in step) and is refused before
//! scheduling, an incident raised during implementation is linked, and a partner's own
//! change reported from the portal is seen by the desk and not by another partner.
use crate::major_incidents::viewer_incident;
use jiff::SignedDuration;
use serde_json::{Value, json};
use testkit::{SmtpSink, TestApp};

const AGENT: &str = "agent1@operator.example";
const SPOC: &str = "cpc@hhs.example";
const CHANGE_MANAGER: &str = "change@operator.example";
const HHS_DESK: &str = "helpdesk@hhs.example";
const NIAGARA_DESK: &str = "helpdesk@niagara.example";

fn mails_to(sink: &SmtpSink, address: &str, number: &str) -> Vec<(String, String)> {
    sink.messages()
        .into_iter()
        .filter(|m| {
            m.lines().any(|l| {
                l.to_ascii_lowercase().starts_with("to:") && l.to_lowercase().contains(address)
            })
        })
        .filter_map(|m| {
            let parsed = mail_parser::MessageParser::default().parse(m.as_bytes())?;
            let subject = parsed.subject()?.to_owned();
            let body = parsed
                .body_text(0)
                .map(|t| t.into_owned())
                .unwrap_or_default();
            Some((subject, body))
        })
        .filter(|(s, _)| s.contains(number))
        .collect()
}

/// An RFC on the clinical viewer (CHR) with an outage in about a month, submitted through
/// the API and moved to `status`. The RFC's own workflow (CAB, ECAB, scheduling) is tested
/// with it; here the record is set as it stands once approved: the partner's, with its
/// single point of contact.
async fn rfc_at(app: &TestApp, status: &str) -> String {
    let agent = app.api_as(CHANGE_MANAGER).await;
    let at = |hours: i64| (domain::time::now() + SignedDuration::from_hours(hours)).to_string();
    let (s, made) = agent
        .post(
            "/api/v1/changes",
            json!({
                "change_type": "normal", "origin": "operator",
                "summary": "Viewer upgrade to 4.2",
                "description": "Apply the vendor's 4.2 release to the viewer.",
                "reason": "Vendor support ends for the current release.",
                "notice_required": true, "disaster_recovery_exists": true,
                "training_documents_exist": false, "tested_in_lower_environments": true,
                "risk": "medium", "impact": 3, "urgency": 3,
                "users_affected": true, "users_affected_how": "The viewer is unavailable",
                "outage_required": true, "outage_start": at(720), "outage_end": at(722),
                "affected_services": ["CHR"],
                "requested_start": at(719), "requested_end": at(723),
                "product_category": "Clinical viewer", "configuration_items": ["chr-viewer-app"],
                "implementer": "Deployment team",
                "implementation_plan": "1. Snapshot 2. Deploy 3. Smoke test",
                "backout_plan": "Restore the snapshot.",
            }),
        )
        .await;
    assert_eq!(s, 201, "{made}");
    let number = made["number"].as_str().unwrap().to_owned();
    let spoc = app.person_id(SPOC).await;
    let mut tx = app.db().begin().await.unwrap();
    sqlx::query(
        "UPDATE change_requests SET status = $1, scheduled_start = outage_start,
            scheduled_end = outage_end, partner_spoc_person_id = $2
          WHERE ticket_id = (SELECT id FROM tickets WHERE number = $3)",
    )
    .bind(status)
    .bind(spoc)
    .bind(&number)
    .execute(&mut *tx)
    .await
    .unwrap();
    tx.commit().await.unwrap();
    number
}

#[tokio::test]
async fn an_approved_outage_is_announced_once_then_its_outcome_is_told() {
    let sink = SmtpSink::start();
    let app = TestApp::spawn_with_smtp(Some(sink.url())).await;
    let agent = app.api_as(AGENT).await;

    // Not approved: nothing to announce, no outcome.
    let submitted = rfc_at(&app, "submitted").await;
    for path in ["outage-notice", "maintenance"] {
        let (s, e) = agent
            .post(&format!("/api/v1/changes/{submitted}/{path}"), json!({}))
            .await;
        assert_eq!(s, 409, "{e}");
        assert_eq!(e["code"], "change_not_approved");
    }
    let (s, e) = agent
        .post(
            &format!("/api/v1/changes/{submitted}/outcome"),
            json!({"outcome": "successful"}),
        )
        .await;
    assert_eq!(s, 409, "{e}");
    assert_eq!(e["code"], "change_not_scheduled");

    let number = rfc_at(&app, "scheduled").await;
    // The planned-outage notice: each address once, in its language.
    let (s, sent) = agent
        .post(
            &format!("/api/v1/changes/{number}/outage-notice"),
            json!({}),
        )
        .await;
    assert_eq!(s, 200, "{sent}");
    let recipients = sent["recipients"].as_u64().unwrap() as usize;
    assert!(recipients >= 3, "{sent}");
    testkit::eventually(
        async || {
            sink.messages()
                .iter()
                .filter(|m| m.contains(&number))
                .count()
        },
        |n: &usize| *n >= recipients,
    )
    .await;
    let en = mails_to(&sink, HHS_DESK, &number);
    assert_eq!(en.len(), 1, "{en:?}");
    assert!(en[0].0.starts_with("Planned outage"), "{en:?}");
    assert!(
        en[0].1.contains("Community Health Record viewer"),
        "{}",
        en[0].1
    );
    assert!(en[0].1.contains("The viewer is unavailable"), "{}", en[0].1);
    let fr = mails_to(&sink, NIAGARA_DESK, &number);
    assert_eq!(fr.len(), 1, "{fr:?}");
    assert!(fr[0].0.starts_with("Interruption planifiée"), "{fr:?}");
    // Not twice; again only after the time changed.
    let (s, e) = agent
        .post(
            &format!("/api/v1/changes/{number}/outage-notice"),
            json!({}),
        )
        .await;
    assert_eq!(
        (s.as_u16(), e["code"].as_str()),
        (409, Some("notice_already_sent"))
    );
    let (s, e) = agent
        .post(
            &format!("/api/v1/changes/{number}/outage-notice"),
            json!({"resend": true}),
        )
        .await;
    assert_eq!(
        (s.as_u16(), e["code"].as_str()),
        (409, Some("notice_time_unchanged"))
    );
    tokio::time::sleep(std::time::Duration::from_secs(1)).await;
    assert_eq!(mails_to(&sink, HHS_DESK, &number).len(), 1);

    // The status-page maintenance, from the RFC.
    let (s, made) = agent
        .post(&format!("/api/v1/changes/{number}/maintenance"), json!({}))
        .await;
    assert_eq!(s, 201, "{made}");
    let (s, e) = agent
        .post(&format!("/api/v1/changes/{number}/maintenance"), json!({}))
        .await;
    assert_eq!(
        (s.as_u16(), e["code"].as_str()),
        (409, Some("already_published"))
    );
    let public = app.anonymous_api();
    let summary = "Viewer upgrade to 4.2";
    let maintenance = testkit::eventually(
        async || {
            let (_, doc) = public.get("/api/v2/scheduled-maintenances.json").await;
            doc["scheduled_maintenances"]
                .as_array()
                .into_iter()
                .flatten()
                .find(|m| m["name"] == summary)
                .cloned()
        },
        |m: &Option<Value>| m.is_some(),
    )
    .await
    .expect("the maintenance is on the status page");
    assert_eq!(maintenance["status"], "scheduled");
    assert!(
        maintenance["components"].to_string().contains("viewer"),
        "{maintenance}"
    );

    // The outcome: implemented, the SPOC told, the maintenance completed.
    let (s, e) = agent
        .post(
            &format!("/api/v1/changes/{number}/outcome"),
            json!({"outcome": "failed"}),
        )
        .await;
    assert_eq!(
        (s.as_u16(), e["field"].as_str()),
        (422, Some("notes")),
        "{e}"
    );
    let (s, done) = agent
        .post(
            &format!("/api/v1/changes/{number}/outcome"),
            json!({"outcome": "successful", "notes": "Upgrade done; smoke tests passed."}),
        )
        .await;
    assert_eq!(s, 200, "{done}");
    assert_eq!(done["status"], "implemented");
    assert!(done["told"].to_string().contains(SPOC), "{done}");
    let told = testkit::eventually(
        async || mails_to(&sink, SPOC, &number),
        |m: &Vec<(String, String)>| m.iter().any(|(s, _)| s.contains("implemented")),
    )
    .await;
    assert!(
        told.iter()
            .any(|(s, b)| s.contains("Successful") && b.contains("smoke tests")),
        "{told:?}"
    );
    let (_, implementation) = agent
        .get(&format!("/api/v1/changes/{number}/implementation"))
        .await;
    assert_eq!(
        implementation["change"]["status"], "implemented",
        "{implementation}"
    );
    assert_eq!(implementation["change"]["outcome"], "successful");
    assert_eq!(implementation["maintenance_status"], "completed");
    // The outcome resolves the change's ticket; its review closes it.
    let (_, t) = agent.get(&format!("/api/v1/tickets/{number}")).await;
    assert_eq!(t["status"], "resolved");
    let (s, e) = agent
        .post(
            &format!("/api/v1/changes/{number}/outcome"),
            json!({"outcome": "successful"}),
        )
        .await;
    assert_eq!(
        (s.as_u16(), e["code"].as_str()),
        (409, Some("change_not_scheduled"))
    );

    // An incident raised during implementation: linked, on both tickets.
    let raised = viewer_incident(&app, 2, 2).await;
    let raised = raised["number"].as_str().unwrap();
    let (s, linked) = agent
        .post(
            &format!("/api/v1/changes/{number}/incidents"),
            json!({"incident": raised}),
        )
        .await;
    assert_eq!(s, 201, "{linked}");
    let (_, t) = agent.get(&format!("/api/v1/tickets/{raised}")).await;
    assert!(t["links"].to_string().contains("raised_during"), "{t}");
    let (_, implementation) = agent
        .get(&format!("/api/v1/changes/{number}/implementation"))
        .await;
    assert!(
        implementation["incidents"].to_string().contains(raised),
        "{implementation}"
    );
    let (s, opened) = agent
        .post(
            &format!("/api/v1/changes/{number}/incidents"),
            json!({"summary": "Viewer slow after the upgrade", "details": "Pages take 20 s."}),
        )
        .await;
    assert_eq!(s, 201, "{opened}");
    let (_, t) = agent
        .get(&format!(
            "/api/v1/tickets/{}",
            opened["incident"].as_str().unwrap()
        ))
        .await;
    assert_eq!(t["kind"], "incident");
    assert!(t["links"].to_string().contains(&number), "{t}");
    let (s, e) = agent
        .post(
            &format!("/api/v1/changes/{number}/incidents"),
            json!({"incident": number}),
        )
        .await;
    assert_eq!(
        (s.as_u16(), e["code"].as_str()),
        (422, Some("incident_required"))
    );

    // Backed out: the maintenance is cancelled.
    let other = rfc_at(&app, "scheduled").await;
    let (s, made) = agent
        .post(&format!("/api/v1/changes/{other}/maintenance"), json!({}))
        .await;
    assert_eq!(s, 201, "{made}");
    let (s, done) = agent
        .post(
            &format!("/api/v1/changes/{other}/outcome"),
            json!({"outcome": "backed_out", "notes": "Rolled back at the first error."}),
        )
        .await;
    assert_eq!(s, 200, "{done}");
    let (_, implementation) = agent
        .get(&format!("/api/v1/changes/{other}/implementation"))
        .await;
    assert_eq!(implementation["maintenance_status"], "cancelled");
}

#[tokio::test]
async fn a_partner_reports_its_own_change_to_the_desk_only() {
    let sink = SmtpSink::start();
    let app = TestApp::spawn_with_smtp(Some(sink.url())).await;
    let partner = app.api_as(HHS_DESK).await;
    let when = (domain::time::now() - SignedDuration::from_hours(3)).to_string();
    let (s, e) = partner
        .post(
            "/api/v1/changes/reported",
            json!({"change_type": "standard", "summary": "x", "description": "y",
                   "implemented_at": when, "services": ["CHR"], "outcome": "successful"}),
        )
        .await;
    assert_eq!(
        (s.as_u16(), e["field"].as_str()),
        (422, Some("change_type")),
        "{e}"
    );
    let (s, reported) = partner
        .post(
            "/api/v1/changes/reported",
            json!({"change_type": "emergency_repair", "summary": "Replaced our HL7 interface engine",
                   "description": "The engine's disk failed; we moved to the standby.",
                   "implemented_at": when, "services": ["CHR"], "outcome": "successful",
                   "notes": "Feeds flowing again."}),
        )
        .await;
    assert_eq!(s, 201, "{reported}");
    let number = reported["number"].as_str().unwrap().to_owned();

    // The desk sees it and its change manager is told.
    let agent = app.api_as(AGENT).await;
    let (_, list) = agent.get("/api/v1/changes/reported").await;
    assert!(list.to_string().contains(&number), "{list}");
    let (_, t) = agent.get(&format!("/api/v1/tickets/{number}")).await;
    assert_eq!(t["kind"], "change");
    assert_eq!(t["organization_code"], "HHS");
    let mails = testkit::eventually(
        async || mails_to(&sink, CHANGE_MANAGER, &number),
        |m: &Vec<(String, String)>| !m.is_empty(),
    )
    .await;
    assert!(
        mails[0].0.contains("Hamilton") || mails[0].0.contains("HHS"),
        "{mails:?}"
    );

    // Its own organization sees it; another partner does not.
    let (_, own) = partner.get("/api/v1/changes/reported").await;
    assert!(own.to_string().contains(&number));
    let other = app.api_as(NIAGARA_DESK).await;
    let (s, _) = other.get(&format!("/api/v1/tickets/{number}")).await;
    assert_eq!(s, 404);
    let (_, theirs) = other.get("/api/v1/changes/reported").await;
    assert!(!theirs.to_string().contains(&number), "{theirs}");
    // Agents report nothing of their own here.
    let (s, e) = agent
        .post(
            "/api/v1/changes/reported",
            json!({"change_type": "normal", "summary": "x", "description": "y",
                   "implemented_at": when, "services": ["CHR"], "outcome": "successful"}),
        )
        .await;
    assert_eq!(
        (s.as_u16(), e["code"].as_str()),
        (403, Some("partners_only"))
    );
}

#[tokio::test]
async fn the_pages_work_without_javascript() {
    let app = TestApp::spawn().await;
    let number = rfc_at(&app, "scheduled").await;
    let agent = app.browser();
    agent.sign_in(AGENT, testkit::DEMO_PASSWORD).await;
    let page = format!("/console/changes/{number}/implementation");
    let (s, html) = agent.text(&page).await;
    assert_eq!(s, 200, "{html}");
    assert!(
        html.contains(&number) && html.contains("outage-notice"),
        "{html}"
    );
    let response = agent.post_form(&format!("{page}/maintenance"), &[]).await;
    assert!(response.status().is_redirection(), "{}", response.status());
    let (_, html) = agent.text(&page).await;
    assert!(html.contains("/console/status/"), "{html}");
    // A refusal is shown on the page with its message.
    let response = agent
        .post_form(
            &format!("{page}/outcome"),
            &[("outcome", "failed"), ("notes", "")],
        )
        .await;
    assert_eq!(response.status(), 422);
    let response = agent
        .post_form(
            &format!("{page}/outcome"),
            &[("outcome", "successful"), ("notes", "Done")],
        )
        .await;
    assert!(response.status().is_redirection(), "{}", response.status());

    // The breach report and the emergency-repair form; P3 refused in words.
    let (s, html) = agent.text("/console/changes/latent").await;
    assert_eq!(s, 200, "{html}");
    let p3 = viewer_incident(&app, 3, 3).await;
    let response = agent
        .post_form(
            "/console/changes/latent/record",
            &[
                ("incident", p3["number"].as_str().unwrap()),
                ("what", "Restarted"),
            ],
        )
        .await;
    assert_eq!(response.status(), 409);
    let p1 = viewer_incident(&app, 1, 1).await;
    let p1_number = p1["number"].as_str().unwrap();
    // The P1 incident's page leads to the form, filled in for it; the P3's does not.
    let (_, ticket) = agent.text(&format!("/tickets/{p1_number}")).await;
    let link = format!("/console/changes/latent?incident={p1_number}");
    assert!(ticket.contains(&link), "{ticket}");
    let (_, form) = agent.text(&link).await;
    assert!(form.contains(&format!("value=\"{p1_number}\"")), "{form}");
    let (_, ticket) = agent
        .text(&format!("/tickets/{}", p3["number"].as_str().unwrap()))
        .await;
    assert!(!ticket.contains("data-testid=\"emergency-change\""));
    let response = agent
        .post_form(
            "/console/changes/latent/record",
            &[
                ("incident", p1["number"].as_str().unwrap()),
                ("what", "Restarted the node"),
            ],
        )
        .await;
    assert!(response.status().is_redirection(), "{}", response.status());
    let (_, html) = agent.text("/console/changes/latent").await;
    assert!(html.contains(p1["number"].as_str().unwrap()), "{html}");

    // A partner reports its change from the portal.
    let partner = app.browser();
    partner.sign_in(HHS_DESK, testkit::DEMO_PASSWORD).await;
    let (s, html) = partner.text("/changes/report").await;
    assert_eq!(s, 200, "{html}");
    let when = (domain::time::now() - SignedDuration::from_hours(1)).to_string();
    let response = partner
        .post_form(
            "/changes/report",
            &[
                ("change_type", "normal"),
                ("summary", "New interface engine"),
                ("description", "Moved to the new engine."),
                ("implemented_at", &when),
                ("services", "CHR"),
                ("outcome", "successful"),
            ],
        )
        .await;
    assert!(response.status().is_redirection(), "{}", response.status());
    let response = partner
        .post_form(
            "/changes/report",
            &[("change_type", "normal"), ("summary", "x")],
        )
        .await;
    assert_eq!(response.status(), 422);
}

#[tokio::test]
async fn a_cancelled_change_takes_its_maintenance_off_the_status_page() {
    let app = TestApp::spawn().await;
    let number = rfc_at(&app, "scheduled").await;
    let agent = app.api_as(AGENT).await;
    let (s, made) = agent
        .post(&format!("/api/v1/changes/{number}/maintenance"), json!({}))
        .await;
    assert_eq!(s, 201, "{made}");
    let manager = app.api_as(CHANGE_MANAGER).await;
    let (s, body) = manager
        .post(
            &format!("/api/v1/changes/{number}/status"),
            json!({"status": "cancelled", "reason": "Vendor postponed the release."}),
        )
        .await;
    assert_eq!(s, 200, "{body}");
    let (_, implementation) = agent
        .get(&format!("/api/v1/changes/{number}/implementation"))
        .await;
    assert_eq!(
        implementation["maintenance_status"], "cancelled",
        "{implementation}"
    );
}
