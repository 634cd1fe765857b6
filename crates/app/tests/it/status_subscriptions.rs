//! Subscriptions to the public status page: double opt-in by mail, notices only to confirmed
//! subscribers of the affected components, one-click unsubscribe, the preferences page, and
//! refused input (bad address, unknown component or event, mail bombs, forged links).
use axum::http::StatusCode;
use serde_json::{Value, json};
use store::audit::Actor;
use store::status_page as sp;
use testkit::{SmtpSink, TestApp};
use web::status::{AffectedInput, ComponentInput, IncidentInput, UpdateInput};

fn parse(raw: &str) -> mail_parser::Message<'_> {
    mail_parser::MessageParser::default()
        .parse(raw.as_bytes())
        .expect("a valid message")
}

fn subject(raw: &str) -> String {
    parse(raw).subject().unwrap_or_default().to_owned()
}

fn body(raw: &str) -> String {
    parse(raw).body_text(0).unwrap_or_default().into_owned()
}

/// Messages the sink accepted for `address`.
fn to<'a>(messages: &'a [String], address: &str) -> Vec<&'a String> {
    messages
        .iter()
        .filter(|m| m.contains(&format!("X-Sink-Rcpt: {address}")))
        .collect()
}

/// The first link in a message's text that starts with `prefix` and ends with `suffix`.
fn link_in(raw: &str, prefix: &str, suffix: &str) -> String {
    body(raw)
        .split_whitespace()
        .find(|w| w.starts_with(prefix) && w.ends_with(suffix))
        .unwrap_or_else(|| panic!("no {prefix}…{suffix} link in {raw}"))
        .to_owned()
}

/// The one-click link in a message's `List-Unsubscribe` header.
fn unsubscribe_link(raw: &str) -> String {
    parse(raw)
        .header_raw("List-Unsubscribe")
        .expect("a List-Unsubscribe header")
        .trim()
        .trim_start_matches('<')
        .trim_end_matches('>')
        .to_owned()
}

async fn agent(app: &TestApp) -> Actor {
    Actor {
        person_id: Some(app.person_id("agent1@operator.example").await),
        label: "agent1@operator.example".into(),
        ip: None,
    }
}

async fn component(
    app: &TestApp,
    actor: &Actor,
    code: &str,
    name_en: &str,
    name_fr: &str,
    service_id: Option<i64>,
) -> i64 {
    web::status::create_component(
        app.state(),
        actor,
        &ComponentInput {
            code: code.into(),
            name_en: name_en.into(),
            name_fr: name_fr.into(),
            description_en: String::new(),
            description_fr: String::new(),
            group_id: None,
            service_id,
            source_organization_id: None,
            position: None,
        },
    )
    .await
    .expect("component created")
}

async fn incident(app: &TestApp, actor: &Actor, component_id: i64, title: &str) -> i64 {
    web::status::create_incident(
        app.state(),
        actor,
        &IncidentInput {
            title_en: title.into(),
            title_fr: format!("{title} (fr)"),
            impact: "major".into(),
            status: None,
            body_en: "We are looking into it.".into(),
            body_fr: "Nous examinons le problème.".into(),
            components: vec![AffectedInput {
                component_id,
                status: "major_outage".into(),
                text_en: String::new(),
                text_fr: String::new(),
            }],
            next_update_by: None,
            banner: Some(false),
        },
        None,
    )
    .await
    .expect("incident created")
    .event_id
}

async fn update(app: &TestApp, actor: &Actor, id: i64, status: &str) {
    web::status::post_update(
        app.state(),
        actor,
        id,
        &UpdateInput {
            status: status.into(),
            body_en: "Update.".into(),
            body_fr: "Mise à jour.".into(),
            impact: None,
            components: None,
            next_update_by: None,
        },
    )
    .await
    .expect("update posted");
}

/// The kinds of the messages queued for an address, oldest first.
async fn queued(app: &TestApp, address: &str) -> Vec<String> {
    let mut conn = app.db().reader().acquire().await.unwrap();
    let mut kinds: Vec<String> = store::outbox::list(&mut conn, Some(address), 100)
        .await
        .unwrap()
        .into_iter()
        .map(|m| m.kind)
        .collect();
    kinds.reverse();
    kinds
}

async fn subscriber(app: &TestApp, email: &str, scope: &str) -> sp::Subscriber {
    let mut conn = app.db().reader().acquire().await.unwrap();
    sp::find_subscriber(&mut conn, email, scope, None)
        .await
        .unwrap()
        .expect("a subscriber")
}

#[tokio::test]
async fn subscribers_confirm_by_mail_get_notices_of_their_components_and_unsubscribe_in_one_click()
{
    let sink = SmtpSink::start();
    let app = TestApp::spawn_with_smtp(Some(sink.url())).await;
    let actor = agent(&app).await;
    let viewer = component(
        &app,
        &actor,
        "test-viewer",
        "Community Health Record",
        "Dossier de santé communautaire",
        None,
    )
    .await;
    let hl7 = component(
        &app,
        &actor,
        "test-hl7",
        "HL7 processing",
        "Traitement HL7",
        None,
    )
    .await;

    // The page lists the components; a component's link preselects it.
    let browser = app.browser();
    let (s, page) = browser
        .text(&format!("/status/subscribe?component={viewer}"))
        .await;
    assert_eq!(s, StatusCode::OK);
    assert!(page.contains("HL7 processing"), "{page}");
    assert!(
        page.contains(&format!("value=\"{viewer}\" checked")),
        "{page}"
    );
    // Dana follows the viewer, in English, through the page.
    let viewer_id = viewer.to_string();
    let r = browser
        .post_form(
            "/status/subscribe",
            &[
                ("email", "Dana@HHS.example"),
                ("locale", "en"),
                ("scope", "components"),
                ("components", &viewer_id),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("data-testid=\"subscribe-sent\"")
    );
    // A partner's desk follows everything, in French, through the API (no sign-in).
    let (s, b) = app
        .anonymous_api()
        .post(
            "/api/v1/status/subscriptions",
            json!({"email": "desk@partner.example", "locale": "fr"}),
        )
        .await;
    assert_eq!(s, StatusCode::ACCEPTED, "{b}");
    assert_eq!(b["status"], "confirmation_sent");

    let messages = sink.wait_for(2, 20).await;
    let dana = to(&messages, "dana@hhs.example");
    assert_eq!(dana.len(), 1, "{messages:?}");
    assert_eq!(
        subject(dana[0]),
        "Confirm your subscription to the status page"
    );
    assert!(body(dana[0]).contains("Community Health Record"));
    let desk = to(&messages, "desk@partner.example");
    assert_eq!(desk.len(), 1, "{messages:?}");
    assert_eq!(
        subject(desk[0]),
        "Confirmez votre abonnement à la page d'état"
    );
    assert!(body(desk[0]).contains("tous les services"));
    let links = app.url("/status/subscriptions/");
    let dana_confirm = link_in(dana[0], &links, "/confirm");
    let desk_confirm = link_in(desk[0], &links, "/confirm");

    // Nothing goes to an address before it confirms.
    incident(&app, &actor, viewer, "Viewer down").await;
    assert_eq!(queued(&app, "dana@hhs.example").await, ["status-confirm"]);
    assert_eq!(
        queued(&app, "desk@partner.example").await,
        ["status-confirm"]
    );

    // Opening the link shows a button and changes nothing (mail scanners open links); the
    // POST confirms, with no session and no CSRF token.
    let http = reqwest::Client::new();
    let page = http.get(&dana_confirm).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    assert!(
        page.text()
            .await
            .unwrap()
            .contains("Confirm my subscription")
    );
    assert!(
        subscriber(&app, "dana@hhs.example", "components")
            .await
            .confirmed_at
            .is_none()
    );
    for link in [&dana_confirm, &desk_confirm] {
        let done = http.post(link).send().await.unwrap();
        assert_eq!(done.status(), StatusCode::OK);
        let text = done.text().await.unwrap();
        assert!(text.contains("data-testid=\"confirm-done\""), "{text}");
        assert!(text.contains(&links), "the preferences link: {text}");
    }
    let dana_row = subscriber(&app, "dana@hhs.example", "components").await;
    assert!(dana_row.confirmed_at.is_some());
    let admin = app.api_as("admin@operator.example").await;
    let (_, audit) = admin
        .get("/api/v1/audit?action=status.subscribe.confirm")
        .await;
    assert!(
        audit.to_string().contains("status.subscribe.confirm"),
        "the confirmation is audited: {audit}"
    );

    // An incident on the viewer reaches both, each in their language, with the links.
    let slow = incident(&app, &actor, viewer, "Viewer slow").await;
    let messages = sink.wait_for(4, 20).await;
    let dana = to(&messages, "dana@hhs.example");
    assert_eq!(dana.len(), 2, "{messages:?}");
    let notice = dana[1];
    assert!(subject(notice).contains("Viewer slow"), "{notice}");
    assert!(notice.contains("List-Unsubscribe-Post: List-Unsubscribe=One-Click"));
    let text = body(notice);
    assert!(text.contains("Your preferences"), "{text}");
    let preferences = link_in(notice, &links, "");
    assert!(!preferences.ends_with("/confirm"), "{preferences}");
    let page = http.get(&preferences).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    assert!(page.text().await.unwrap().contains("dana@hhs.example"));
    let desk = to(&messages, "desk@partner.example");
    assert_eq!(desk.len(), 2, "{messages:?}");
    assert!(subject(desk[1]).contains("Viewer slow (fr)"), "{}", desk[1]);
    assert!(body(desk[1]).contains("Vos préférences"));

    // An incident elsewhere reaches only the subscriber to everything.
    incident(&app, &actor, hl7, "HL7 queue").await;
    assert_eq!(
        queued(&app, "dana@hhs.example").await,
        ["status-confirm", "status-incident"]
    );
    assert_eq!(queued(&app, "desk@partner.example").await.len(), 3);

    // One click on the List-Unsubscribe link (no cookies); the next update skips Dana.
    let done = http
        .post(unsubscribe_link(notice))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("List-Unsubscribe=One-Click")
        .send()
        .await
        .unwrap();
    assert_eq!(done.status(), StatusCode::OK);
    update(&app, &actor, slow, "identified").await;
    assert_eq!(
        queued(&app, "dana@hhs.example").await,
        ["status-confirm", "status-incident"]
    );
    assert_eq!(queued(&app, "desk@partner.example").await.len(), 4);
    let messages = sink.wait_for(6, 20).await;
    assert_eq!(
        to(&messages, "desk@partner.example").len(),
        4,
        "{messages:?}"
    );
    assert_eq!(to(&messages, "dana@hhs.example").len(), 2, "{messages:?}");
}

#[tokio::test]
async fn bad_subscribe_requests_are_refused_and_send_no_mail_bomb() {
    let app = TestApp::spawn().await;
    let actor = agent(&app).await;
    let viewer = component(&app, &actor, "viewer", "Viewer", "Visualiseur", None).await;
    let api = app.anonymous_api();
    let subscribe = async |body: Value| api.post("/api/v1/status/subscriptions", body).await;

    // The same address asked four times: the same answer, three messages at most.
    for _ in 0..4 {
        let (s, b) = subscribe(json!({"email": "repeat@partner.example"})).await;
        assert_eq!(s, StatusCode::ACCEPTED, "{b}");
        assert_eq!(b["status"], "confirmation_sent");
    }
    assert_eq!(
        queued(&app, "repeat@partner.example").await,
        ["status-confirm"; 3]
    );

    // Bad input: clear codes, nothing stored, nothing sent.
    let (s, b) = subscribe(json!({"email": "not an address"})).await;
    assert_eq!(
        (s, b["code"].as_str(), b["field"].as_str()),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("invalid_email"),
            Some("email")
        ),
        "{b}"
    );
    let (s, b) =
        subscribe(json!({"email": "a@partner.example", "components": [viewer, 999999]})).await;
    assert_eq!(
        (s, b["code"].as_str(), b["field"].as_str()),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("unknown_component"),
            Some("components")
        ),
        "{b}"
    );
    let (s, b) =
        subscribe(json!({"email": "a@partner.example", "components": [viewer], "event_id": 1}))
            .await;
    assert_eq!(
        (s, b["code"].as_str()),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("subscription_one_scope")
        ),
        "{b}"
    );
    let (s, b) = subscribe(json!({"email": "a@partner.example", "event_id": 999999})).await;
    assert_eq!(
        (s, b["code"].as_str()),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("unknown_status_event")
        ),
        "{b}"
    );
    let resolved = incident(&app, &actor, viewer, "Short blip").await;
    update(&app, &actor, resolved, "resolved").await;
    let (s, b) = subscribe(json!({"email": "a@partner.example", "event_id": resolved})).await;
    assert_eq!(
        (s, b["code"].as_str()),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("status_event_closed")
        ),
        "{b}"
    );
    // The page shows the error next to the form, in the page's language.
    let browser = app.browser();
    let r = browser
        .post_form(
            "/status/subscribe",
            &[("email", "nope"), ("locale", "en"), ("scope", "all")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let text = r.text().await.unwrap();
    assert!(text.contains("data-testid=\"form-error\""), "{text}");
    assert!(text.contains("not a valid email address"), "{text}");
    assert!(queued(&app, "a@partner.example").await.is_empty());

    // Ten requests from this client in ten minutes; the eleventh is refused.
    let (s, b) = subscribe(json!({"email": "eleventh@partner.example"})).await;
    assert_eq!(
        (s, b["code"].as_str()),
        (StatusCode::TOO_MANY_REQUESTS, Some("rate_limited")),
        "{b}"
    );
    assert!(queued(&app, "eleventh@partner.example").await.is_empty());

    // Forged, tampered or misused links: 404, nothing changes.
    let mut conn = app.db().reader().acquire().await.unwrap();
    let mail = store::outbox::list(&mut conn, Some("repeat@partner.example"), 1)
        .await
        .unwrap()
        .remove(0);
    drop(conn);
    let confirm = link_in(
        &mail.message,
        &app.url("/status/subscriptions/"),
        "/confirm",
    );
    let token = confirm
        .trim_end_matches("/confirm")
        .rsplit('/')
        .next()
        .unwrap()
        .to_owned();
    let (id, signature) = token.split_once('.').unwrap();
    let http = reqwest::Client::new();
    for path in [
        "/status/subscriptions/1.AAAAAAAAAAAAAAAAAAAAAA/confirm".to_owned(),
        "/status/subscriptions/garbage/confirm".to_owned(),
        format!(
            "/status/subscriptions/{}.{signature}/confirm",
            id.parse::<i64>().unwrap() + 1
        ),
        // A confirmation token does not open the preferences page.
        format!("/status/subscriptions/{token}"),
        "/status/subscriptions/1.AAAAAAAAAAAAAAAAAAAAAA".to_owned(),
    ] {
        let get = http.get(app.url(&path)).send().await.unwrap();
        assert_eq!(get.status(), StatusCode::NOT_FOUND, "GET {path}");
        let post = http
            .post(app.url(&path))
            .form(&[("action", "unsubscribe")])
            .send()
            .await
            .unwrap();
        assert_eq!(post.status(), StatusCode::NOT_FOUND, "POST {path}");
    }
    assert!(
        subscriber(&app, "repeat@partner.example", "all")
            .await
            .confirmed_at
            .is_none()
    );
}

#[tokio::test]
async fn the_preferences_page_changes_language_and_components_and_unsubscribes() {
    let app = TestApp::spawn().await;
    let actor = agent(&app).await;
    let viewer = component(&app, &actor, "viewer", "Viewer", "Visualiseur", None).await;
    let direct = component(
        &app,
        &actor,
        "direct",
        "Direct messaging",
        "Messagerie Direct",
        None,
    )
    .await;
    let api = app.anonymous_api();
    let email = "pat@clinic.example";
    let (s, _) = api
        .post("/api/v1/status/subscriptions", json!({"email": email}))
        .await;
    assert_eq!(s, StatusCode::ACCEPTED);
    // No language chosen: both in one message.
    let mail = app.last_mail_to(email).await.unwrap();
    assert_eq!(mail.kind, "status-confirm");
    let text = body(&mail.message);
    assert!(
        text.contains("To confirm") && text.contains("Pour confirmer"),
        "{text}"
    );
    let links = app.url("/status/subscriptions/");
    let confirm = link_in(&mail.message, &links, "/confirm");
    let http = reqwest::Client::new();
    assert_eq!(
        http.post(&confirm).send().await.unwrap().status(),
        StatusCode::OK
    );

    // Asking again once confirmed: the preferences link, and nothing changes.
    let (s, _) = api
        .post(
            "/api/v1/status/subscriptions",
            json!({"email": email, "locale": "fr"}),
        )
        .await;
    assert_eq!(s, StatusCode::ACCEPTED);
    let mail = app.last_mail_to(email).await.unwrap();
    assert_eq!(mail.kind, "status-manage");
    let preferences = link_in(&mail.message, &links, "");
    let row = subscriber(&app, email, "all").await;
    assert!(row.confirmed_at.is_some());
    assert_eq!(row.locale, None);

    // French, and only the viewer.
    let page = http
        .post(&preferences)
        .form(&[
            ("action", "save"),
            ("locale", "fr"),
            ("scope", "components"),
            ("components", &viewer.to_string()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    assert!(page.text().await.unwrap().contains("preferences-notice"));
    let row = subscriber(&app, email, "components").await;
    assert_eq!(row.locale.as_deref(), Some("fr"));
    let mut conn = app.db().reader().acquire().await.unwrap();
    assert_eq!(
        sp::subscriber_components(&mut conn, row.id).await.unwrap(),
        [viewer]
    );
    drop(conn);
    // Components chosen but none ticked: refused on the page.
    let page = http
        .post(&preferences)
        .form(&[
            ("action", "save"),
            ("locale", "fr"),
            ("scope", "components"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.text().await.unwrap().contains("form-error"));

    // The notice comes in French only, for the viewer and not for Direct.
    incident(&app, &actor, direct, "Direct down").await;
    assert_eq!(app.last_mail_to(email).await.unwrap().kind, "status-manage");
    incident(&app, &actor, viewer, "Viewer down").await;
    let notice = app.last_mail_to(email).await.unwrap();
    assert_eq!(notice.kind, "status-incident");
    assert_eq!(notice.subject, "[Analyse en cours] Viewer down (fr)");

    // Unsubscribe on the page; the old confirmation link does not start it again.
    let page = http
        .post(&preferences)
        .form(&[("action", "unsubscribe")])
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    assert!(
        page.text()
            .await
            .unwrap()
            .contains("data-testid=\"unsubscribed\"")
    );
    assert_eq!(
        http.post(&confirm).send().await.unwrap().status(),
        StatusCode::GONE
    );
    let viewer_incident = incident(&app, &actor, viewer, "Viewer again").await;
    assert_eq!(app.last_mail_to(email).await.unwrap().id, notice.id);
    // "Subscribe again" on the page (the link proves the mailbox).
    let page = http
        .post(&preferences)
        .form(&[("action", "resume")])
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    update(&app, &actor, viewer_incident, "identified").await;
    assert_eq!(
        app.last_mail_to(email).await.unwrap().kind,
        "status-incident"
    );
}

#[tokio::test]
async fn organizations_live_on_a_service_are_subscribed_to_its_component() {
    let app = TestApp::spawn().await;
    let actor = agent(&app).await;
    // A demo service some active organization with a help-desk address is live on.
    let mut conn = app.db().reader().acquire().await.unwrap();
    let services = store::orgs::services(&mut conn).await.unwrap();
    let mut found = None;
    for s in &services {
        let live = sp::live_organizations_of_service(&mut conn, s.id)
            .await
            .unwrap();
        if let Some((_, Some(address))) = live
            .into_iter()
            .find(|(_, a)| a.as_deref().is_some_and(|a| a.contains('@')))
        {
            found = Some((s.id, address.trim().to_ascii_lowercase()));
            break;
        }
    }
    drop(conn);
    let (service, address) = found.expect("a demo organization live on a service");
    let before = queued(&app, &address).await.len();
    let component = component(&app, &actor, "svc", "Service", "Service", Some(service)).await;
    incident(&app, &actor, component, "Service down").await;
    let after = queued(&app, &address).await;
    assert_eq!(after.len(), before + 1, "{after:?}");
    assert_eq!(after.last().unwrap(), "status-incident");
    // Confirmed without a confirmation mail (the desk subscribed it, not a stranger).
    let row = subscriber(&app, &address, "components").await;
    assert!(row.confirmed_at.is_some() && row.organization_id.is_some());
}
