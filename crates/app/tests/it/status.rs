//! The status page for the desk and the public: incidents and maintenances through the API,
//! notices to subscribers at their times (the process clock is moved, not waited for), a
//! desk incident published in one step, the banner, the hosted status-page API v2 and the
//! feeds, and bad input.
use axum::http::StatusCode;
use jiff::SignedDuration;
use serde_json::{Value, json};
use testkit::{SmtpSink, TestApp};

const AGENT: &str = "agent1@operator.example";

/// A component of our own (no service, so no organization is subscribed to it), and
/// confirmed subscribers to it: one reading English, one French.
async fn component_with_subscribers(
    app: &TestApp,
    code: &str,
    subscribers: &[(&str, &str)],
) -> i64 {
    let admin = app.api_as("admin@operator.example").await;
    let (s, c) = admin
        .post(
            "/api/v1/status/components",
            json!({"code": code, "name_en": format!("Test {code}"), "name_fr": format!("Essai {code}")}),
        )
        .await;
    assert_eq!(s, 201, "{c}");
    let id = c["id"].as_i64().unwrap();
    let mut tx = app.db().begin().await.unwrap();
    for (email, locale) in subscribers {
        let sub = store::status_page::insert_subscriber(
            &mut tx,
            &store::status_page::NewSubscriber {
                email,
                locale: Some(locale),
                scope: "components",
                event_id: None,
                organization_id: None,
                confirmed: true,
            },
        )
        .await
        .unwrap();
        store::status_page::set_subscriber_components(&mut tx, sub, &[id])
            .await
            .unwrap();
    }
    tx.commit().await.unwrap();
    id
}

async fn mail_count_becomes(sink: &SmtpSink, address: &str, count: usize) -> Vec<String> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let got = sink.messages_to(address);
        if got.len() >= count || std::time::Instant::now() > deadline {
            return got;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

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

fn at(offset: SignedDuration) -> String {
    (domain::time::now() + offset).to_string()
}

async fn public_json(app: &TestApp, path: &str) -> Value {
    let r = reqwest::get(app.url(path)).await.unwrap();
    assert_eq!(r.status(), 200, "{path}");
    r.json().await.unwrap()
}

async fn public_text(app: &TestApp, path: &str) -> String {
    let r = reqwest::get(app.url(path)).await.unwrap();
    assert_eq!(r.status(), 200, "{path}");
    r.text().await.unwrap()
}

/// A maintenance scheduled two weeks ahead: subscribers hear of it at scheduling, a week
/// before, an hour before, at start and at completion, each once, in their language; it
/// starts and completes by itself; a restart in between sends nothing twice.
#[tokio::test]
async fn a_maintenance_two_weeks_ahead_sends_each_notice_once_at_its_time() {
    let sink = SmtpSink::start();
    let mut app = TestApp::spawn_with_smtp(Some(sink.url())).await;
    let component = component_with_subscribers(
        &app,
        "upgrade-target",
        &[
            ("ops@hospital.example", "en"),
            ("tech@clinique.example", "fr"),
        ],
    )
    .await;
    let agent = app.api_as(AGENT).await;
    let start = domain::time::now() + SignedDuration::from_hours(24 * 14);
    let end = start + SignedDuration::from_hours(4);
    let (s, m) = agent
        .post(
            "/api/v1/status/maintenances",
            json!({
                "title_en": "Viewer upgrade", "title_fr": "Mise à niveau du visualiseur",
                "scheduled_for": start.to_string(), "scheduled_until": end.to_string(),
                "body_en": "The viewer is upgraded.", "body_fr": "Le visualiseur est mis à niveau.",
                "components": [{"component_id": component, "status": "under_maintenance",
                                "text_en": "Unavailable", "text_fr": "Indisponible"}],
            }),
        )
        .await;
    assert_eq!(s, 201, "{m}");
    let id = m["event"]["id"].as_i64().unwrap();
    assert_eq!(m["event"]["status"], "scheduled");

    let en = mail_count_becomes(&sink, "ops@hospital.example", 1).await;
    assert_eq!(en.len(), 1);
    assert!(
        subject(&en[0]).contains("Maintenance scheduled"),
        "{}",
        subject(&en[0])
    );
    assert!(en[0].contains("List-Unsubscribe-Post"), "{}", en[0]);
    let fr = mail_count_becomes(&sink, "tech@clinique.example", 1).await;
    assert!(
        subject(&fr[0]).contains("Maintenance planifiée"),
        "{}",
        subject(&fr[0])
    );

    // Nothing more until a week before.
    app.outbox_settles().await;
    domain::time::advance(SignedDuration::from_hours(24 * 6));
    web::status::run_due(app.state()).await.unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert_eq!(sink.messages_to("ops@hospital.example").len(), 1);

    app.outbox_settles().await;
    domain::time::advance(SignedDuration::from_hours(25));
    web::status::run_due(app.state()).await.unwrap();
    let en = mail_count_becomes(&sink, "ops@hospital.example", 2).await;
    assert_eq!(en.len(), 2);
    assert!(subject(&en[1]).contains("Reminder"), "{}", subject(&en[1]));

    // A restart, and the schedule runs again: the week-before notice is not sent twice.
    app.outbox_settles().await;
    app.restart().await;
    web::status::run_due(app.state()).await.unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    assert_eq!(sink.messages_to("ops@hospital.example").len(), 2);

    // An hour before, at start, at completion.
    app.outbox_settles().await;
    let until_hour_before =
        (start - SignedDuration::from_mins(59)).duration_since(domain::time::now());
    domain::time::advance(until_hour_before);
    web::status::run_due(app.state()).await.unwrap();
    let en = mail_count_becomes(&sink, "ops@hospital.example", 3).await;
    assert_eq!(en.len(), 3);

    app.outbox_settles().await;
    domain::time::advance(SignedDuration::from_mins(60));
    web::status::run_due(app.state()).await.unwrap();
    let en = mail_count_becomes(&sink, "ops@hospital.example", 4).await;
    assert_eq!(en.len(), 4);
    assert!(
        subject(&en[3]).contains("Started"),
        "{:?}",
        en.iter()
            .map(|m| m.lines().take(8).collect::<Vec<_>>().join(" | "))
            .collect::<Vec<_>>()
    );
    let summary = public_json(&app, "/api/v2/summary.json").await;
    let component_doc = summary["components"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == format!("cmp{component}"))
        .cloned()
        .unwrap();
    assert_eq!(component_doc["status"], "under_maintenance");
    let active = public_json(&app, "/api/v2/scheduled-maintenances/active.json").await;
    assert!(
        active["scheduled_maintenances"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["id"] == format!("evt{id}")),
        "{active}"
    );

    app.outbox_settles().await;
    domain::time::advance(SignedDuration::from_hours(4));
    web::status::run_due(app.state()).await.unwrap();
    let en = mail_count_becomes(&sink, "ops@hospital.example", 5).await;
    assert_eq!(en.len(), 5);
    assert!(subject(&en[4]).contains("Completed"), "{}", subject(&en[4]));
    let fr = mail_count_becomes(&sink, "tech@clinique.example", 5).await;
    assert!(subject(&fr[4]).contains("Terminée"), "{}", subject(&fr[4]));

    // Once more after another restart: still five each.
    app.outbox_settles().await;
    app.restart().await;
    web::status::run_due(app.state()).await.unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    assert_eq!(sink.messages_to("ops@hospital.example").len(), 5);
    assert_eq!(sink.messages_to("tech@clinique.example").len(), 5);
    let agent = app.api_as(AGENT).await;
    let (_, detail) = agent.get(&format!("/api/v1/status/events/{id}")).await;
    assert_eq!(detail["event"]["status"], "completed", "{detail}");
    let keys: Vec<&str> = detail["notices"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["notice_key"].as_str().unwrap())
        .collect();
    for key in ["scheduled", "before:7d", "before:1h", "start", "completion"] {
        assert!(keys.contains(&key), "{key} in {keys:?}");
    }
}

/// A maintenance closer than an offset: the late reminder is folded into the first notice
/// instead of never being sent, and nothing goes twice.
#[tokio::test]
async fn a_maintenance_closer_than_an_offset_is_announced_at_once() {
    let sink = SmtpSink::start();
    let app = TestApp::spawn_with_smtp(Some(sink.url())).await;
    let component =
        component_with_subscribers(&app, "soon", &[("soon@hospital.example", "en")]).await;
    let agent = app.api_as(AGENT).await;
    let (s, m) = agent
        .post(
            "/api/v1/status/maintenances",
            json!({
                "title_en": "Urgent patch", "title_fr": "Correctif urgent",
                "scheduled_for": at(SignedDuration::from_hours(30)),
                "scheduled_until": at(SignedDuration::from_hours(31)),
                "body_en": "Patch.", "body_fr": "Correctif.",
                "components": [{"component_id": component, "status": "under_maintenance"}],
            }),
        )
        .await;
    assert_eq!(s, 201, "{m}");
    let got = mail_count_becomes(&sink, "soon@hospital.example", 1).await;
    assert_eq!(got.len(), 1);
    web::status::run_due(app.state()).await.unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(800)).await;
    assert_eq!(sink.messages_to("soon@hospital.example").len(), 1);
}

async fn p1_incident(app: &TestApp) -> String {
    let clinician = app.api_as("clinician@hhs.example").await;
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
                "subcategory_id": sub, "impact": 1, "urgency": 1,
                "summary": "Viewer down for every site",
                "first_occurrence": at(SignedDuration::from_mins(-20)),
                "details": "Nobody can open the viewer since 07:00.",
                "service_impact": "Viewer down", "user_impact": "Every clinician",
                "troubleshooting": "Tried two browsers", "no_workaround": true,
            }),
        )
        .await;
    assert_eq!(s, 201, "{t}");
    assert_eq!(t["priority"], 1, "{t}");
    t["number"].as_str().unwrap().to_owned()
}

/// Publishing a P1 desk incident updates the page, the banner, the API, the feeds and the
/// status line, and mails subscribers in their language; its resolution clears the banner.
#[tokio::test]
async fn publishing_a_p1_reaches_the_page_banner_api_feeds_and_subscribers() {
    let sink = SmtpSink::start();
    let app = TestApp::spawn_with_smtp(Some(sink.url())).await;
    let component = component_with_subscribers(
        &app,
        "viewer-test",
        &[("en@hospital.example", "en"), ("fr@clinique.example", "fr")],
    )
    .await;
    let number = p1_incident(&app).await;
    let agent = app.api_as(AGENT).await;
    let (s, e) = agent
        .post(
            &format!("/api/v1/tickets/{number}/publish"),
            json!({
                "title_en": "Viewer unavailable", "title_fr": "Visualiseur indisponible",
                "body_en": "We are investigating.", "body_fr": "Nous enquêtons.",
                "components": [{"component_id": component, "status": "major_outage",
                                "text_en": "The viewer does not load", "text_fr": "Le visualiseur ne se charge pas"}],
                "next_update_by": at(SignedDuration::from_hours(1)),
            }),
        )
        .await;
    assert_eq!(s, 201, "{e}");
    assert_eq!(e["event"]["impact"], "critical", "P1 is critical: {e}");
    assert_eq!(e["ticket_number"], number.as_str());
    let id = e["event"]["id"].as_i64().unwrap();

    // Once only while it is open.
    let (s, again) = agent
        .post(
            &format!("/api/v1/tickets/{number}/publish"),
            json!({"body_en": "x", "body_fr": "x"}),
        )
        .await;
    assert_eq!(
        (s, again["code"].as_str()),
        (StatusCode::CONFLICT, Some("already_published"))
    );

    let summary = public_json(&app, "/api/v2/summary.json").await;
    assert_eq!(summary["status"]["indicator"], "critical", "{summary}");
    let incident = &summary["incidents"][0];
    assert_eq!(incident["name"], "Viewer unavailable");
    assert_eq!(incident["impact"], "critical");
    assert_eq!(
        incident["incident_updates"][0]["body"],
        "We are investigating."
    );
    assert_eq!(
        incident["incident_updates"][0]["affected_components"][0]["new_status"],
        "major_outage"
    );
    let french = public_json(&app, "/api/v2/summary.json?lang=fr").await;
    assert_eq!(french["incidents"][0]["name"], "Visualiseur indisponible");
    let unresolved = public_json(&app, "/api/v2/incidents/unresolved.json").await;
    assert_eq!(
        unresolved["incidents"].as_array().unwrap().len(),
        2,
        "with the demo's open one"
    );

    let banner = public_json(&app, "/banner.json").await;
    assert_eq!(banner["active"], true, "{banner}");
    assert_eq!(banner["text"], "Viewer unavailable");
    assert_eq!(banner["level"], "critical");
    let html = public_text(&app, "/banner.html?lang=fr").await;
    assert!(
        html.contains("Visualiseur indisponible") && html.contains("lang=\"fr\""),
        "{html}"
    );
    let page = public_text(&app, "/status").await;
    assert!(page.contains("Viewer unavailable"), "the page shows it");
    let atom = public_text(&app, "/history.atom").await;
    assert!(atom.contains("Viewer unavailable"), "{atom}");
    let rss = public_text(&app, "/history.rss?lang=fr").await;
    assert!(rss.contains("Visualiseur indisponible"), "{rss}");
    let line = public_text(&app, "/status.txt").await;
    assert!(
        line.starts_with("Major System Outage. Viewer unavailable"),
        "{line}"
    );

    let en = mail_count_becomes(&sink, "en@hospital.example", 1).await;
    assert!(
        subject(&en[0]).contains("Viewer unavailable"),
        "{}",
        subject(&en[0])
    );
    assert!(
        text_of(&en[0]).contains("The viewer does not load"),
        "{}",
        en[0]
    );
    let fr = mail_count_becomes(&sink, "fr@clinique.example", 1).await;
    assert!(
        subject(&fr[0]).contains("Visualiseur indisponible"),
        "{}",
        subject(&fr[0])
    );

    // The ticket's timeline says so.
    let (_, ticket) = agent.get(&format!("/api/v1/tickets/{number}")).await;
    assert!(
        ticket["timeline"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["kind"] == "status_published"),
        "{ticket}"
    );

    // Resolution: a notice, the banner cleared, the component operational again.
    let (s, r) = agent
        .post(
            &format!("/api/v1/status/events/{id}/updates"),
            json!({"status": "resolved", "body_en": "Fixed.", "body_fr": "Corrigé."}),
        )
        .await;
    assert_eq!(s, 200, "{r}");
    let banner = public_json(&app, "/banner.json").await;
    assert_eq!(banner["active"], false, "{banner}");
    let components = public_json(&app, "/api/v2/components.json").await;
    let ours = components["components"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == format!("cmp{component}"))
        .cloned()
        .unwrap();
    assert_eq!(ours["status"], "operational");
    let en = mail_count_becomes(&sink, "en@hospital.example", 2).await;
    assert!(subject(&en[1]).contains("Resolved"), "{}", subject(&en[1]));

    // A resolved incident takes only its postmortem.
    let (s, r) = agent
        .post(
            &format!("/api/v1/status/events/{id}/updates"),
            json!({"status": "investigating", "body_en": "Again?", "body_fr": "Encore?"}),
        )
        .await;
    assert_eq!(
        (s, r["code"].as_str()),
        (StatusCode::CONFLICT, Some("incident_resolved"))
    );
    let (s, r) = agent
        .post(
            &format!("/api/v1/status/events/{id}/updates"),
            json!({"status": "postmortem", "body_en": "Review published.", "body_fr": "Revue publiée."}),
        )
        .await;
    assert_eq!(s, 200, "{r}");
    let (s, r) = agent
        .post(
            &format!("/api/v1/status/events/{id}/updates"),
            json!({"status": "postmortem", "body_en": "More.", "body_fr": "Plus."}),
        )
        .await;
    assert_eq!(
        (s, r["code"].as_str()),
        (StatusCode::CONFLICT, Some("incident_resolved"))
    );
}

/// A critical incident needs an update each hour: the desk is reminded once per due time,
/// and the console shows it overdue.
#[tokio::test]
async fn the_desk_is_reminded_of_a_critical_incidents_next_update() {
    let sink = SmtpSink::start();
    let app = TestApp::spawn_with_smtp(Some(sink.url())).await;
    let component = component_with_subscribers(&app, "crit", &[]).await;
    let agent = app.api_as(AGENT).await;
    let (s, e) = agent
        .post(
            "/api/v1/status/incidents",
            json!({
                "title_en": "Everything is down", "title_fr": "Tout est en panne", "impact": "critical",
                "body_en": "Investigating.", "body_fr": "Nous enquêtons.",
                "components": [{"component_id": component, "status": "major_outage"}],
            }),
        )
        .await;
    assert_eq!(s, 201, "{e}");
    let id = e["event"]["id"].as_i64().unwrap();
    assert!(e["next_update_due"].is_string(), "{e}");
    web::status::run_due(app.state()).await.unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert!(sink.messages_to(AGENT).is_empty(), "not due yet");

    app.outbox_settles().await;
    domain::time::advance(SignedDuration::from_mins(52));
    web::status::run_due(app.state()).await.unwrap();
    web::status::run_due(app.state()).await.unwrap();
    let got = mail_count_becomes(&sink, AGENT, 1).await;
    assert_eq!(got.len(), 1);
    let reminder = subject(&got[0]);
    assert!(
        reminder.contains("Everything is down") || reminder.contains("Tout est en panne"),
        "{reminder}"
    );

    app.outbox_settles().await;
    domain::time::advance(SignedDuration::from_mins(10));
    let browser = app.browser();
    browser.sign_in(AGENT, testkit::DEMO_PASSWORD).await;
    let (s, page) = browser.text(&format!("/console/status/{id}")).await;
    assert_eq!(s, 200);
    assert!(page.contains("data-testid=\"update-overdue\""), "{page}");
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(
        sink.messages_to(AGENT).len(),
        1,
        "one reminder per due time"
    );
}

/// Bad input gets a clear error and changes nothing.
#[tokio::test]
async fn bad_input_is_refused_clearly() {
    let app = TestApp::spawn().await;
    let agent = app.api_as(AGENT).await;
    let (_, components) = agent.get("/api/v1/status/components").await;
    let component = components[0]["id"].as_i64().unwrap();
    let before = public_json(&app, "/api/v2/scheduled-maintenances.json").await;

    let (s, e) = agent
        .post(
            "/api/v1/status/maintenances",
            json!({
                "title_en": "Backwards", "title_fr": "À l'envers",
                "scheduled_for": at(SignedDuration::from_hours(5)),
                "scheduled_until": at(SignedDuration::from_hours(4)),
                "body_en": "x", "body_fr": "x",
                "components": [{"component_id": component, "status": "under_maintenance"}],
            }),
        )
        .await;
    assert_eq!(
        (s.as_u16(), e["code"].as_str(), e["field"].as_str()),
        (422, Some("ends_before_start"), Some("scheduled_until")),
        "{e}"
    );
    let (s, e) = agent
        .post(
            "/api/v1/status/incidents",
            json!({
                "title_en": "Ghost", "title_fr": "Fantôme", "impact": "minor",
                "body_en": "x", "body_fr": "x",
                "components": [{"component_id": 999999, "status": "major_outage"}],
            }),
        )
        .await;
    assert_eq!(
        (s.as_u16(), e["code"].as_str()),
        (422, Some("unknown_component")),
        "{e}"
    );
    let (s, e) = agent
        .post(
            "/api/v1/status/incidents",
            json!({
                "title_en": "Odd", "title_fr": "Bizarre", "impact": "apocalyptic",
                "body_en": "x", "body_fr": "x", "components": [],
            }),
        )
        .await;
    assert_eq!(
        (s.as_u16(), e["code"].as_str(), e["field"].as_str()),
        (422, Some("invalid_choice"), Some("impact")),
        "{e}"
    );
    let (s, e) = app
        .api_as(AGENT)
        .await
        .in_language("fr")
        .post(
            "/api/v1/status/incidents",
            json!({
                "title_en": "", "title_fr": "x", "impact": "minor",
                "body_en": "x", "body_fr": "x", "components": [],
            }),
        )
        .await;
    assert_eq!(
        (s.as_u16(), e["code"].as_str()),
        (422, Some("required")),
        "{e}"
    );
    assert!(e["message"].as_str().unwrap().contains("remplir"), "{e}");
    let (s, _) = agent
        .post(
            "/api/v1/status/events/999999/updates",
            json!({"status": "resolved", "body_en": "x", "body_fr": "x"}),
        )
        .await;
    assert_eq!(s, 404);
    let (s, e) = agent
        .put(
            "/api/v1/status/banners",
            json!({"scope": "no-such", "text_en": "x", "text_fr": "x"}),
        )
        .await;
    assert_eq!(
        (s.as_u16(), e["code"].as_str()),
        (422, Some("unknown_component")),
        "{e}"
    );

    let (s, e) = app
        .api_as("admin@operator.example")
        .await
        .post(
            "/api/v1/status/components",
            json!({"code": "chr-viewer", "name_en": "Again", "name_fr": "Encore"}),
        )
        .await;
    assert_eq!(
        (s.as_u16(), e["code"].as_str(), e["field"].as_str()),
        (422, Some("duplicate_code"), Some("code")),
        "{e}"
    );

    // The page is public: no patient information (a valid Ontario health card number).
    let (s, e) = agent
        .post(
            "/api/v1/status/incidents",
            json!({
                "title_en": "Viewer slow", "title_fr": "Visualiseur lent", "impact": "minor",
                "body_en": "Patient 9876543217 cannot be opened.", "body_fr": "x",
                "components": [],
            }),
        )
        .await;
    assert_eq!(
        (s.as_u16(), e["code"].as_str(), e["field"].as_str()),
        (422, Some("phi_detected"), Some("body_en")),
        "{e}"
    );

    // Customers may not post.
    let clinician = app.api_as("clinician@hhs.example").await;
    let (s, _) = clinician
        .post(
            "/api/v1/status/incidents",
            json!({"title_en": "x", "title_fr": "x", "impact": "minor", "body_en": "x", "body_fr": "x", "components": []}),
        )
        .await;
    assert_eq!(s, 403);

    let after = public_json(&app, "/api/v2/scheduled-maintenances.json").await;
    assert_eq!(
        before["scheduled_maintenances"],
        after["scheduled_maintenances"]
    );
}

/// The public answers come from memory with validators: a revalidation gets 304, the API
/// and banner are CORS-enabled, and the demo page has groups, upcoming and active work.
#[tokio::test]
async fn public_answers_are_cacheable_and_shaped_like_the_hosted_api() {
    let app = TestApp::spawn().await;
    let client = reqwest::Client::new();
    let r = client
        .get(app.url("/api/v2/summary.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["access-control-allow-origin"], "*");
    assert!(
        r.headers()["cache-control"]
            .to_str()
            .unwrap()
            .contains("max-age=")
    );
    let etag = r.headers()["etag"].to_str().unwrap().to_owned();
    assert!(r.headers().contains_key("last-modified"));
    let summary: Value = r.json().await.unwrap();
    for key in [
        "page",
        "components",
        "incidents",
        "scheduled_maintenances",
        "status",
    ] {
        assert!(summary.get(key).is_some(), "{key}");
    }
    let groups: Vec<&Value> = summary["components"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["group"] == true)
        .collect();
    assert_eq!(groups.len(), 3, "the demo's groups");
    assert!(!groups[0]["components"].as_array().unwrap().is_empty());
    let r = client
        .get(app.url("/api/v2/summary.json"))
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 304);

    let upcoming = public_json(&app, "/api/v2/scheduled-maintenances/upcoming.json").await;
    let first = &upcoming["scheduled_maintenances"][0];
    assert_eq!(first["status"], "scheduled");
    assert!(first["scheduled_for"].is_string() && first["scheduled_until"].is_string());
    let active = public_json(&app, "/api/v2/scheduled-maintenances/active.json").await;
    assert_eq!(active["scheduled_maintenances"][0]["status"], "in_progress");
    let incidents = public_json(&app, "/api/v2/incidents.json").await;
    let impacts: Vec<&str> = incidents["incidents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["impact"].as_str().unwrap())
        .collect();
    for impact in ["none", "minor", "major", "critical"] {
        assert!(impacts.contains(&impact), "{impact} in {impacts:?}");
    }
    let r = client
        .get(app.url("/api/v2/nothing.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);

    // The calendar: a stable UID whose SEQUENCE goes up when the maintenance moves.
    let ics = public_text(&app, "/maintenances.ics").await;
    let id = first["id"]
        .as_str()
        .unwrap()
        .trim_start_matches("evt")
        .to_owned();
    assert!(ics.contains(&format!("UID:maintenance-{id}@")), "{ics}");
    let agent = app.api_as(AGENT).await;
    let (s, moved) = agent
        .put(
            &format!("/api/v1/status/maintenances/{id}/schedule"),
            json!({"scheduled_for": at(SignedDuration::from_hours(24 * 10)),
                   "scheduled_until": at(SignedDuration::from_hours(24 * 10 + 2))}),
        )
        .await;
    assert_eq!(s, 200, "{moved}");
    let ics = public_text(&app, "/maintenances.ics").await;
    let event = ics
        .split("BEGIN:VEVENT")
        .find(|e| e.contains(&format!("UID:maintenance-{id}@")))
        .unwrap();
    assert!(event.contains("SEQUENCE:1"), "{event}");

    // A cancelled maintenance stays in the calendar, marked cancelled.
    let (s, r) = agent
        .post(
            &format!("/api/v1/status/events/{id}/updates"),
            json!({"status": "cancelled", "body_en": "Not needed.", "body_fr": "Pas nécessaire."}),
        )
        .await;
    assert_eq!(s, 200, "{r}");
    let ics = public_text(&app, "/maintenances.ics").await;
    let event = ics
        .split("BEGIN:VEVENT")
        .find(|e| e.contains(&format!("UID:maintenance-{id}@")))
        .unwrap();
    assert!(event.contains("STATUS:CANCELLED"), "{event}");
}

/// Two nodes on one database: what the desk publishes on one shows on the other within
/// seconds (each polls the page's version), without a restart.
#[tokio::test]
async fn a_publish_on_one_node_shows_on_another() {
    let app = TestApp::spawn().await;
    let other = app::start(&app.config()).await.unwrap();
    let other_url = |path: &str| format!("{}{path}", other.base_url);
    let before: Value = reqwest::get(other_url("/api/v2/incidents/unresolved.json"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let open_before = before["incidents"].as_array().unwrap().len();
    let agent = app.api_as(AGENT).await;
    let (_, components) = agent.get("/api/v1/status/components").await;
    let (s, e) = agent
        .post(
            "/api/v1/status/incidents",
            json!({
                "title_en": "Seen everywhere", "title_fr": "Vu partout", "impact": "major",
                "body_en": "Investigating.", "body_fr": "Nous enquêtons.",
                "components": [{"component_id": components[0]["id"], "status": "partial_outage"}],
            }),
        )
        .await;
    assert_eq!(s, 201, "{e}");
    let seen = testkit::eventually(
        async || {
            let doc: Value = reqwest::get(other_url("/api/v2/incidents/unresolved.json"))
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            doc["incidents"].as_array().unwrap().len()
        },
        |count| *count == open_before + 1,
    )
    .await;
    assert_eq!(seen, open_before + 1);
    let banner: Value = reqwest::get(other_url("/banner.json"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(banner["text"], "Seen everywhere", "{banner}");
    other.stop().await;
}
