//! The public status page and each event's page: standalone, bilingual, no script and no
//! inline style, answered from the in-memory snapshot with ETag revalidation.
use reqwest::StatusCode;
use reqwest::header::{self, HeaderMap};
use store::audit::Actor;
use testkit::TestApp;
use web::status::{
    AffectedInput, ComponentInput, IncidentInput, MaintenanceInput, UpdateInput, create_component,
    create_incident, create_maintenance, post_update,
};

fn actor() -> Actor {
    Actor::system("test")
}

/// GET with optional extra headers; the status, the headers and the body.
async fn fetch(
    app: &TestApp,
    path: &str,
    headers: &[(&str, &str)],
) -> (StatusCode, HeaderMap, String) {
    let mut request = reqwest::Client::new().get(app.url(path));
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    (status, headers, response.text().await.unwrap())
}

async fn page(app: &TestApp, path: &str) -> String {
    let (status, headers, body) = fetch(app, path, &[]).await;
    assert_eq!(status, StatusCode::OK, "{path}: {body}");
    assert!(
        headers[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/html"),
        "{headers:?}"
    );
    body
}

async fn component(app: &TestApp, code: &str, en: &str, fr: &str) -> i64 {
    create_component(
        app.state(),
        &actor(),
        &ComponentInput {
            code: code.into(),
            name_en: en.into(),
            name_fr: fr.into(),
            description_en: String::new(),
            description_fr: String::new(),
            group_id: None,
            service_id: None,
            source_organization_id: None,
            position: None,
        },
    )
    .await
    .unwrap()
}

/// The bars count only whole seconds since a component began: rebuild the snapshot a second
/// later so that today has been observed.
/// A server whose status page starts quiet: the demo's open incident is resolved and its
/// maintenances are cancelled, so each test sees only what it posts.
async fn quiet_app() -> TestApp {
    let app = TestApp::spawn().await;
    let mut conn = app.db().reader().acquire().await.unwrap();
    let open: Vec<_> = store::status_page::events_since(&mut conn, "9999")
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.resolved_at.is_none())
        .collect();
    drop(conn);
    for event in open {
        let status = if event.kind == "incident" {
            "resolved"
        } else {
            "cancelled"
        };
        post_update(
            app.state(),
            &actor(),
            event.id,
            &UpdateInput {
                status: status.into(),
                body_en: "Closed for the test.".into(),
                body_fr: "Fermé pour l'essai.".into(),
                impact: None,
                components: None,
                next_update_by: None,
            },
        )
        .await
        .unwrap();
    }
    app
}

async fn a_second_later(app: &TestApp) {
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    app.state().status.changed(app.state()).await;
}

fn rfc3339(at: jiff::Timestamp) -> String {
    at.to_string()
}

/// The `<li>` items of the uptime bars of the component with `code`.
fn bars<'a>(html: &'a str, code: &str) -> Vec<&'a str> {
    let start = html
        .find(&format!("data-component=\"{code}\""))
        .unwrap_or_else(|| panic!("component {code} on the page"));
    let list = &html[start..];
    let list = &list[list.find("<ol class=\"sp-bars\"").expect("uptime bars")..];
    let list = &list[..list.find("</ol>").unwrap()];
    list.split("<li ").skip(1).collect()
}

/// Pages must work under `style-src 'self'; script-src 'self'`: nothing inline.
fn assert_nothing_inline(html: &str) {
    assert!(!html.contains("style="), "inline style");
    assert!(!html.contains("<style"), "style element");
    assert!(!html.contains("<script"), "script element");
    assert!(
        !html.to_ascii_lowercase().contains(" onclick="),
        "inline handler"
    );
}

#[tokio::test]
async fn status_public_page_is_bilingual_with_uptime_bars_and_no_inline_code() {
    let app = quiet_app().await;
    component(
        &app,
        "chr",
        "Community Health Record",
        "Dossier de santé communautaire",
    )
    .await;
    a_second_later(&app).await;

    let en = page(&app, "/status").await;
    assert!(en.contains("<html lang=\"en\">"), "{en}");
    assert!(en.contains("<title>All Systems Operational · Service status</title>"));
    assert!(en.contains("data-indicator=\"none\""));
    assert!(en.contains("All Systems Operational"));
    assert!(en.contains("class=\"skip\" href=\"#main\""));
    assert!(en.contains("<main id=\"main\""));
    assert!(
        en.contains("href=\"/status?lang=fr\" lang=\"fr\""),
        "a link to French"
    );
    assert!(en.contains("Community Health Record"));
    // The ways to follow the page.
    for link in [
        "/status/subscribe?lang=en",
        "/history.atom?lang=en",
        "/history.rss?lang=en",
        "/maintenances.ics?lang=en",
        "/api/v2/summary.json?lang=en",
    ] {
        assert!(en.contains(&format!("href=\"{link}\"")), "{link}");
    }
    // The demo's history (closed in the test's set-up) is listed.
    assert!(en.contains("id=\"sp-history\""));
    assert_nothing_inline(&en);

    // 90 focusable, labelled bars: the component began today, so the days before it have no
    // data; today is operational.
    let bars = bars(&en, "chr");
    assert_eq!(bars.len(), 90);
    assert!(
        bars.iter()
            .all(|b| b.contains("tabindex=\"0\"") && b.contains("aria-label=\""))
    );
    let model = app.state().status.get().model.clone();
    let today = model.built_at.to_zoned(model.time_zone.clone()).date();
    let yesterday = today.yesterday().unwrap();
    assert!(
        bars[89].contains(&format!("aria-label=\"{today}: Operational, no downtime\"")),
        "{}",
        bars[89]
    );
    assert!(bars[89].contains("sp-day-operational"));
    assert!(
        bars[88].contains(&format!("aria-label=\"{yesterday}: no data\"")),
        "{}",
        bars[88]
    );
    assert!(bars[88].contains("sp-day-no_data"));
    assert!(en.contains("100% uptime"));
    assert!(en.contains("90 days ago"));
    // A legend names every colour.
    for label in [
        "Operational",
        "Degraded Performance",
        "Partial Outage",
        "Major Outage",
        "Under Maintenance",
        "No data",
    ] {
        assert!(
            en.contains(&format!("aria-hidden=\"true\"></span>{label}</li>")),
            "{label}"
        );
    }

    // French by ?lang= and by the browser's language.
    let fr = page(&app, "/status?lang=fr").await;
    assert!(fr.contains("<html lang=\"fr\">"));
    assert!(fr.contains("Tous les systèmes sont opérationnels"));
    assert!(fr.contains("Dossier de santé communautaire"));
    assert!(
        fr.contains("href=\"/status?lang=en\" lang=\"en\""),
        "a link to English"
    );
    assert!(fr.contains("Disponibilité de 100 %"));
    assert!(fr.contains(&format!(
        "aria-label=\"{today} : Opérationnel, aucune interruption\""
    )));
    assert_nothing_inline(&fr);
    let (status, _, by_header) = fetch(
        &app,
        "/status",
        &[("Accept-Language", "fr-CA,fr;q=0.9,en;q=0.5")],
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(by_header.contains("Tous les systèmes sont opérationnels"));
    assert!(by_header.contains("<html lang=\"fr\">"));

    // The page's CSS is the application's stylesheet, with a status-page section.
    let (status, _, css) = fetch(&app, "/static/app.css", &[]).await;
    assert_eq!(status, StatusCode::OK);
    assert!(css.contains("ol.sp-bars"));
    assert!(css.contains(".sp-day-no_data"));
}

#[tokio::test]
async fn status_public_incident_maintenance_history_and_event_pages() {
    let app = quiet_app().await;
    let state = app.state();
    let mail = component(&app, "direct", "Direct messaging", "Messagerie Direct").await;
    let viewer = component(&app, "viewer", "Clinical viewer", "Visualiseur clinique").await;

    // An incident, one line of text per component, and a promised next update.
    let next = jiff::Timestamp::now() + jiff::SignedDuration::from_hours(2);
    let posted = create_incident(
        state,
        &actor(),
        &IncidentInput {
            title_en: "Messages delayed".into(),
            title_fr: "Messages retardés".into(),
            impact: "major".into(),
            status: None,
            body_en: "We are looking into delays.".into(),
            body_fr: "Nous analysons les retards.".into(),
            components: vec![
                AffectedInput {
                    component_id: mail,
                    status: "partial_outage".into(),
                    text_en: "Messages are currently queuing".into(),
                    text_fr: "Les messages sont en file".into(),
                },
                AffectedInput {
                    component_id: viewer,
                    status: "degraded_performance".into(),
                    text_en: "Pages load slowly".into(),
                    text_fr: "Les pages sont lentes".into(),
                },
            ],
            next_update_by: Some(rfc3339(next)),
            banner: None,
        },
        None,
    )
    .await
    .unwrap();
    let id = posted.event_id;
    post_update(
        state,
        &actor(),
        id,
        &UpdateInput {
            status: "identified".into(),
            body_en: "A full disk on the relay.".into(),
            body_fr: "Un disque plein sur le relais.".into(),
            impact: None,
            components: None,
            next_update_by: Some(rfc3339(next)),
        },
    )
    .await
    .unwrap();

    // An upcoming maintenance.
    let start = jiff::Timestamp::now() + jiff::SignedDuration::from_hours(48);
    let maintenance = create_maintenance(
        state,
        &actor(),
        &MaintenanceInput {
            title_en: "Database upgrade".into(),
            title_fr: "Mise à niveau de la base".into(),
            scheduled_for: rfc3339(start),
            scheduled_until: rfc3339(start + jiff::SignedDuration::from_hours(2)),
            body_en: "The viewer will be read-only.".into(),
            body_fr: "Le visualiseur sera en lecture seule.".into(),
            components: vec![AffectedInput {
                component_id: viewer,
                status: "under_maintenance".into(),
                text_en: "Read-only".into(),
                text_fr: "Lecture seule".into(),
            }],
            auto_transition: None,
        },
        None,
    )
    .await
    .unwrap()
    .event_id;
    a_second_later(&app).await;

    let en = page(&app, "/status").await;
    assert!(
        en.contains("data-indicator=\"major\""),
        "overall from the impact"
    );
    assert!(en.contains("Partial System Outage"));
    // A major incident sets the login banner, shown on the page.
    assert!(en.contains("data-testid=\"banner\">Messages delayed</p>"));
    assert!(en.contains("Active incidents"));
    assert!(en.contains(&format!(
        "href=\"/status/events/{id}?lang=en\">Messages delayed</a>"
    )));
    assert!(en.contains("Impact: Major"));
    assert!(en.contains("Direct messaging</span> <span class=\"badge sp-s sp-s-partial_outage\">Partial Outage</span> – <span class=\"sp-affected-text\">Messages are currently queuing</span>"));
    assert!(en.contains("Pages load slowly"));
    assert!(en.contains("Next update by "));
    // The update stream, newest first.
    let newest = en.find("A full disk on the relay.").unwrap();
    let first = en.find("We are looking into delays.").unwrap();
    assert!(newest < first, "newest update first");
    assert!(en.contains("<strong>Identified</strong>"));
    // Today's bar of the component in partial outage says so.
    let bar = bars(&en, "direct")[89];
    assert!(bar.contains("sp-day-partial_outage"), "{bar}");
    assert!(bar.contains(": Partial Outage, "), "{bar}");
    // The maintenance to come, with its window and text.
    assert!(en.contains("Scheduled maintenance"));
    assert!(en.contains(&format!(
        "href=\"/status/events/{maintenance}?lang=en\">Database upgrade</a>"
    )));
    assert!(en.contains("The viewer will be read-only."));
    assert!(en.contains("Read-only"));
    assert_nothing_inline(&en);

    let fr = page(&app, "/status?lang=fr").await;
    assert!(fr.contains("Incidents en cours"));
    assert!(fr.contains("Messages retardés"));
    assert!(fr.contains("Les messages sont en file"));
    assert!(fr.contains("Prochaine mise à jour au plus tard à "));
    assert!(fr.contains("Impact : Majeur"));
    assert!(fr.contains("Maintenances planifiées"));
    assert!(fr.contains("Mise à niveau de la base"));

    // The event's own page.
    let detail = page(&app, &format!("/status/events/{id}")).await;
    assert!(detail.contains("<h1>Messages delayed</h1>"));
    assert!(detail.contains("Messages are currently queuing"));
    assert!(detail.contains("A full disk on the relay."));
    assert!(detail.contains("We are looking into delays."));
    assert!(detail.contains("Next update by "));
    assert!(detail.contains(&format!("href=\"/status/events/{id}?lang=fr\" lang=\"fr\"")));
    assert_nothing_inline(&detail);
    let detail_fr = page(&app, &format!("/status/events/{id}?lang=fr")).await;
    assert!(detail_fr.contains("<h1>Messages retardés</h1>"));
    assert!(detail_fr.contains("Cause identifiée"));

    // Resolved: into the history, linked to its page, off the active list.
    post_update(
        state,
        &actor(),
        id,
        &UpdateInput {
            status: "resolved".into(),
            body_en: "Disk cleared; messages delivered.".into(),
            body_fr: "Disque libéré ; messages livrés.".into(),
            impact: None,
            components: None,
            next_update_by: None,
        },
    )
    .await
    .unwrap();
    let en = page(&app, "/status").await;
    assert!(en.contains("data-indicator=\"none\""), "all clear again");
    assert!(!en.contains("Active incidents"));
    assert!(
        !en.contains("data-testid=\"banner\""),
        "the banner went with the incident"
    );
    let history = &en[en.find("id=\"sp-history\"").unwrap()..];
    assert!(history.contains(&format!(
        "href=\"/status/events/{id}?lang=en\">Messages delayed</a>"
    )));
    assert!(history.contains("Incident · Resolved"));
    let detail = page(&app, &format!("/status/events/{id}")).await;
    assert!(detail.contains("Disk cleared; messages delivered."));
    assert!(
        !detail.contains("Next update by"),
        "nothing promised once resolved"
    );
    let maintenance_page = page(&app, &format!("/status/events/{maintenance}")).await;
    assert!(maintenance_page.contains("<h1>Database upgrade</h1>"));
    assert!(maintenance_page.contains("data-testid=\"event-status\">Scheduled</dd>"));

    // Unknown events: 404 with the page's caching headers.
    for path in ["/status/events/999999", "/status/events/nope"] {
        let (status, headers, body) = fetch(&app, path, &[]).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
        assert!(headers.contains_key(header::ETAG), "{headers:?}");
        assert!(
            headers[header::CACHE_CONTROL]
                .to_str()
                .unwrap()
                .starts_with("public")
        );
        assert!(body.contains("data-testid=\"event-missing\""), "{body}");
    }
}

#[tokio::test]
async fn status_public_pages_revalidate_with_etags() {
    let app = quiet_app().await;
    component(
        &app,
        "chr",
        "Community Health Record",
        "Dossier de santé communautaire",
    )
    .await;
    for path in ["/status", "/status?lang=fr"] {
        // A rebuild between the two requests (once a minute) changes the tag: try again.
        let mut revalidated = false;
        for _ in 0..3 {
            let (status, headers, _) = fetch(&app, path, &[]).await;
            assert_eq!(status, StatusCode::OK);
            assert!(headers.contains_key(header::LAST_MODIFIED));
            assert!(
                headers[header::CACHE_CONTROL]
                    .to_str()
                    .unwrap()
                    .contains("max-age=")
            );
            let csp = headers[header::CONTENT_SECURITY_POLICY].to_str().unwrap();
            assert!(csp.contains("style-src 'self'") && csp.contains("script-src 'self'"));
            let etag = headers[header::ETAG].to_str().unwrap().to_owned();
            let (status, again, body) = fetch(&app, path, &[("If-None-Match", &etag)]).await;
            if status == StatusCode::NOT_MODIFIED {
                assert!(body.is_empty());
                assert_eq!(again[header::ETAG].to_str().unwrap(), etag);
                revalidated = true;
                break;
            }
        }
        assert!(revalidated, "{path}: 304 on If-None-Match");
    }
    let (status, _, _) = fetch(&app, "/status", &[("If-None-Match", "\"stale\"")]).await;
    assert_eq!(status, StatusCode::OK);
}
