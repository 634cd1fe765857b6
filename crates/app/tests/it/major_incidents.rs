//! Major incidents: a Sev 1 declared major publishes the status-page incident and banner,
//! sends its notices at the severity pack's times (the process clock is moved) to a real
//! SMTP sink in each recipient's language, never twice across a restart, and its
//! resolution sends the restoration notice and opens a problem; a P4 is refused; customers
//! see none of it.
use axum::http::StatusCode;
use jiff::SignedDuration;
use serde_json::{Value, json};
use testkit::{DEMO_PASSWORD, SmtpSink, TestApp};

const AGENT: &str = "agent1@operator.example";
const ADMIN: &str = "admin@operator.example";
const CLINICIAN: &str = "clinician@hhs.example";
const VENDOR: &str = "ines.vendor@vendor.example";
const ESCALATION: &str = "harriet.hall@hhs.example";

fn subject(raw: &str) -> String {
    mail_parser::MessageParser::default()
        .parse(raw.as_bytes())
        .and_then(|m| m.subject().map(str::to_owned))
        .unwrap_or_default()
}

fn text_of(raw: &str) -> String {
    mail_parser::MessageParser::default()
        .parse(raw.as_bytes())
        .and_then(|m| m.body_text(0).map(|t| t.into_owned()))
        .unwrap_or_default()
}

/// The subjects a recipient has received, once `count` have arrived (or after 20 s).
async fn subjects_when(sink: &SmtpSink, address: &str, count: usize) -> Vec<String> {
    let got = testkit::eventually(
        async || sink.messages_to(address),
        |mails: &Vec<String>| mails.len() >= count,
    )
    .await;
    got.iter().map(|m| subject(m)).collect()
}

async fn select_severity_pack(app: &TestApp) {
    let admin = app.api_as(ADMIN).await;
    let (_, list) = admin.get("/api/v1/policy-packs").await;
    let id = list["packs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["code"] == "severity")
        .map(|p| p["id"].as_i64().unwrap())
        .expect("the severity pack is stored");
    let (s, e) = admin
        .put("/api/v1/policy-packs/selected", json!({"id": id}))
        .await;
    assert!(s.is_success(), "{e}");
}

/// An incident raised by a clinician on the viewer, with the given impact and urgency.
pub async fn viewer_incident(app: &TestApp, impact: i64, urgency: i64) -> Value {
    let clinician = app.api_as(CLINICIAN).await;
    let (_, catalogue) = clinician.get("/api/v1/catalogue").await;
    let sub = catalogue
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["code"] == "CHR")
        .flat_map(|s| s["request_types"].as_array().unwrap())
        .filter(|t| t["code"] == "viewer")
        .flat_map(|t| t["subcategories"].as_array().unwrap())
        .find(|s| s["code"] == "slow")
        .map(|s| s["id"].as_i64().unwrap())
        .unwrap();
    let (s, t) = clinician
        .post(
            "/api/v1/tickets",
            json!({
                "subcategory_id": sub, "impact": impact, "urgency": urgency,
                "summary": "Viewer down for every site",
                "first_occurrence": (domain::time::now() - SignedDuration::from_mins(20)).to_string(),
                "details": "Nobody can open the viewer since 07:00.",
                "service_impact": "Viewer down", "user_impact": "Every clinician",
                "troubleshooting": "Tried two browsers", "no_workaround": true,
            }),
        )
        .await;
    assert_eq!(s, 201, "{t}");
    t
}

async fn run_due(app: &TestApp) {
    web::major_incidents::run_due(app.state()).await.unwrap();
}

#[tokio::test]
async fn a_sev1_major_incident_communicates_on_the_packs_cadence_and_opens_a_problem() {
    let sink = SmtpSink::start();
    let mut app = TestApp::spawn_with_smtp(Some(sink.url())).await;
    select_severity_pack(&app).await;
    let ticket = viewer_incident(&app, 1, 1).await;
    assert_eq!(ticket["priority"], 1, "Sev 1: {ticket}");
    let number = ticket["number"].as_str().unwrap().to_owned();
    let agent = app.api_as(AGENT).await;

    let (s, d) = agent
        .post(
            &format!("/api/v1/tickets/{number}/major-incident"),
            json!({
                "bridge": "Bridge 1-866-555-0100, code 4242",
                "vendor_contacts": [{"name": "Inès Vendeur", "email": VENDOR,
                                     "organization": "Viewer Vendor Inc.", "locale": "fr"}],
                "publish_status": true,
            }),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{d}");
    let major = &d["major_incident"];
    assert!(major["coordinator_name"].is_string(), "{d}");
    assert!(major["status_event_id"].is_i64(), "published: {d}");
    let roles: Vec<&str> = d["contacts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["role"].as_str().unwrap())
        .collect();
    assert!(roles.contains(&"coordinator"), "{roles:?}");
    assert!(roles.contains(&"escalation_contact"), "{roles:?}");
    assert!(roles.contains(&"vendor_contact"), "{roles:?}");
    assert_eq!(d["notices"][0]["notice_key"], "declaration", "{d}");
    assert_eq!(d["pending"][0]["key"], "+1h", "{d}");
    assert_eq!(d["pending"][0]["overdue"], false);
    // The status page: the incident and the login banner.
    let banner: Value = reqwest::get(app.url("/banner.json"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(banner["active"], true, "{banner}");
    let (_, event) = agent
        .get(&format!(
            "/api/v1/status/events/{}",
            major["status_event_id"].as_i64().unwrap()
        ))
        .await;
    assert_eq!(event["ticket_number"], number.as_str(), "{event}");

    // A second declaration is refused.
    let (s, e) = agent
        .post(
            &format!("/api/v1/tickets/{number}/major-incident"),
            json!({"bridge": "again"}),
        )
        .await;
    assert_eq!(
        (s, e["code"].as_str()),
        (StatusCode::CONFLICT, Some("already_declared"))
    );

    // The interruption notice, in each recipient's language: French for the vendor, both
    // for the organization's escalation contact (language unknown).
    let vendor = subjects_when(&sink, VENDOR, 1).await;
    assert!(
        vendor[0].starts_with("[Avis d'interruption de service]"),
        "{vendor:?}"
    );
    let escalation = subjects_when(&sink, ESCALATION, 1).await;
    assert!(
        escalation[0].contains("Service interruption notice")
            && escalation[0].contains("Avis d'interruption"),
        "{escalation:?}"
    );
    app.outbox_settles().await;

    // 55 minutes in: the coordinator is reminded of the +1h update; nothing goes out yet.
    domain::time::advance(SignedDuration::from_mins(55));
    run_due(&app).await;
    let coordinator = subjects_when(&sink, AGENT, 2).await;
    assert!(
        coordinator
            .iter()
            .any(|s| s.starts_with("À faire au plus tard") && s.contains("(+1h)")),
        "{coordinator:?}"
    );
    app.outbox_settles().await;
    assert_eq!(
        sink.messages_to(VENDOR).len(),
        1,
        "the +1h update is not due yet"
    );

    // Past +1h: the update goes out by itself, in French for the vendor.
    domain::time::advance(SignedDuration::from_mins(6));
    run_due(&app).await;
    let vendor = subjects_when(&sink, VENDOR, 2).await;
    assert!(vendor[1].starts_with("[Mise à jour (+1h)]"), "{vendor:?}");
    subjects_when(&sink, ESCALATION, 2).await;
    let english = sink
        .messages_to(ESCALATION)
        .into_iter()
        .find(|m| subject(m).starts_with("[Update (+1h)]"))
        .expect("the escalation contact's copy, English first");
    assert!(
        text_of(&english).contains("Next update within the hour"),
        "{}",
        text_of(&english)
    );
    app.outbox_settles().await;

    // A restart, and the runner passes again: nothing is sent twice.
    app.restart().await;
    run_due(&app).await;
    run_due(&app).await;
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    app.outbox_settles().await;
    assert_eq!(
        sink.messages_to(VENDOR).len(),
        2,
        "not twice across a restart"
    );

    // Past +2h: "work continues; next update by hh:mm".
    domain::time::advance(SignedDuration::from_mins(60));
    run_due(&app).await;
    let vendor = subjects_when(&sink, VENDOR, 3).await;
    assert!(vendor[2].starts_with("[Mise à jour (+2h)]"), "{vendor:?}");
    let french = sink.messages_to(VENDOR).pop().unwrap();
    assert!(
        text_of(&french).contains("Prochaine mise à jour au plus tard le"),
        "{}",
        text_of(&french)
    );
    app.outbox_settles().await;
    let agent = app.api_as(AGENT).await;
    let (_, d) = agent
        .get(&format!("/api/v1/major-incidents/{number}"))
        .await;
    let keys: Vec<&str> = d["notices"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["notice_key"].as_str().unwrap())
        .collect();
    assert_eq!(keys, ["declaration", "+1h", "+2h"], "{d}");
    assert!(d["notices"][1]["sent_by"].is_null(), "sent automatically");
    assert_eq!(d["pending"][0]["key"], "update:3");

    // Resolution with no root cause: the restoration notice and a problem.
    let (s, t) = agent
        .patch(
            &format!("/api/v1/tickets/{number}"),
            json!({"status": "in_progress"}),
        )
        .await;
    assert_eq!(s, 200, "{t}");
    let (s, t) = agent
        .patch(
            &format!("/api/v1/tickets/{number}"),
            json!({"status": "resolved", "status_reason": "The viewer's engine was restarted."}),
        )
        .await;
    assert_eq!(s, 200, "{t}");
    let vendor = subjects_when(&sink, VENDOR, 4).await;
    assert!(
        vendor[3].starts_with("[Avis de rétablissement du service]"),
        "{vendor:?}"
    );
    let (_, d) = agent
        .get(&format!("/api/v1/major-incidents/{number}"))
        .await;
    let major = &d["major_incident"];
    assert!(major["resolved_at"].is_string(), "{d}");
    assert_eq!(major["root_cause_known"], false);
    assert!(major["review_due_at"].is_string() && major["report_due_at"].is_string());
    assert_eq!(d["pending"], json!([]), "nothing more is due: {d}");
    let problem = d["problem_number"].as_str().expect("a problem is opened");
    assert!(problem.starts_with("PRB-"), "{problem}");
    let (_, p) = agent.get(&format!("/api/v1/tickets/{problem}")).await;
    assert_eq!(p["kind"], "problem", "{p}");
    assert_eq!(p["organization_id"], ticket["organization_id"]);
    assert_eq!(p["service_id"], ticket["service_id"]);
    let (s, record) = agent.get(&format!("/api/v1/problems/{problem}")).await;
    assert_eq!(s, 200, "{record}");
    assert_eq!(record["record"]["source"], "major_incident", "{record}");
    let (_, i) = agent.get(&format!("/api/v1/tickets/{number}")).await;
    assert!(
        i["links"]
            .as_array()
            .unwrap()
            .iter()
            .any(|l| l["kind"] == "caused_by" && l["number"] == problem),
        "{}",
        i["links"]
    );
    assert!(
        i["timeline"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["kind"] == "major_incident_notice")
            .count()
            == 4,
        "every notice is kept on the ticket"
    );
}

#[tokio::test]
async fn a_p4_cannot_be_declared_and_customers_see_no_major_incident() {
    let app = TestApp::spawn().await;
    let ticket = viewer_incident(&app, 4, 4).await;
    assert_eq!(ticket["priority"], 4, "{ticket}");
    let number = ticket["number"].as_str().unwrap();
    let agent = app.api_as(AGENT).await.in_language("en");
    let (_, before) = agent.get("/api/v1/major-incidents").await;
    let (s, e) = agent
        .post(
            &format!("/api/v1/tickets/{number}/major-incident"),
            json!({"bridge": "Bridge 1-866-555-0100"}),
        )
        .await;
    assert_eq!(
        (s, e["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("not_major_priority")),
        "{e}"
    );
    assert!(e["message"].as_str().unwrap().contains("P1 or P2"), "{e}");
    let (_, list) = agent.get("/api/v1/major-incidents").await;
    assert_eq!(list, before, "nothing stored");

    // A P1 declared, then the customer looks.
    let p1 = viewer_incident(&app, 1, 1).await;
    let p1 = p1["number"].as_str().unwrap();
    let (s, d) = agent
        .post(
            &format!("/api/v1/tickets/{p1}/major-incident"),
            json!({"bridge": "Bridge 1-866-555-0100", "notify_now": false}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{d}");
    assert_eq!(d["pending"][0]["key"], "declaration", "not sent yet: {d}");
    let clinician = app.api_as(CLINICIAN).await;
    for path in [
        "/api/v1/major-incidents".to_owned(),
        format!("/api/v1/major-incidents/{p1}"),
    ] {
        let (s, _) = clinician.get(&path).await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{path}");
    }
    let (s, _) = clinician
        .post(
            &format!("/api/v1/tickets/{p1}/major-incident/notices/declaration"),
            json!({}),
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let browser = app.browser();
    browser.sign_in(CLINICIAN, DEMO_PASSWORD).await;
    for path in [
        "/console/major-incidents".to_owned(),
        format!("/console/major-incidents/{p1}"),
    ] {
        let (s, _) = browser.text(&path).await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{path}");
    }

    // The agent's console: the list, the view with the draft, and sending it by hand.
    let desk = app.browser();
    desk.sign_in(AGENT, DEMO_PASSWORD).await;
    let (s, list) = desk.text("/console/major-incidents").await;
    assert_eq!(s, 200);
    assert!(list.contains(p1), "{list}");
    let (s, page) = desk.text(&format!("/console/major-incidents/{p1}")).await;
    assert_eq!(s, 200);
    assert!(page.contains("Service interruption"), "the draft: {page}");
    let (s, _) = agent
        .post(
            &format!("/api/v1/tickets/{p1}/major-incident/notices/declaration"),
            json!({"subject_en": "Viewer down", "body_en": "The viewer is down; we are on it."}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED);
    let (s, e) = agent
        .post(
            &format!("/api/v1/tickets/{p1}/major-incident/notices/declaration"),
            json!({}),
        )
        .await;
    assert_eq!(
        (s, e["code"].as_str()),
        (StatusCode::CONFLICT, Some("notice_already_sent"))
    );
    let (_, d) = agent.get(&format!("/api/v1/major-incidents/{p1}")).await;
    assert_eq!(d["notices"][0]["subject_en"], "Viewer down");
    assert!(d["notices"][0]["sent_by"].is_i64(), "sent by the agent");
}
