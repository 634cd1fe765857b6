//! Webhooks end to end: a real HTTP endpoint (a small server started by the test) receives
//! ticket events signed in the Standard Webhooks format; an endpoint that fails or hangs
//! is retried from the outbox and its delivery log says why; restricted tickets and other
//! organizations' tickets never go out.
use axum::http::{HeaderMap, StatusCode};
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use testkit::{TestApp, eventually};

#[derive(Clone, Debug)]
struct Received {
    headers: HeaderMap,
    body: String,
}

/// What the endpoint answers: a status per call (the last one repeats), or a hang.
#[derive(Clone)]
enum Answer {
    Statuses(Vec<u16>),
    Hang,
}

struct Endpoint {
    url: String,
    received: Arc<Mutex<Vec<Received>>>,
}

async fn endpoint(answer: Answer) -> Endpoint {
    let received: Arc<Mutex<Vec<Received>>> = Arc::default();
    let seen = received.clone();
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |headers: HeaderMap, body: String| {
            let seen = seen.clone();
            let answer = answer.clone();
            async move {
                let n = {
                    let mut seen = seen.lock().unwrap();
                    seen.push(Received { headers, body });
                    seen.len()
                };
                match answer {
                    Answer::Hang => {
                        tokio::time::sleep(Duration::from_secs(30)).await;
                        StatusCode::OK
                    }
                    Answer::Statuses(list) => {
                        let code = list[(n - 1).min(list.len() - 1)];
                        StatusCode::from_u16(code).unwrap()
                    }
                }
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    Endpoint { url, received }
}

impl Endpoint {
    fn events(&self) -> Vec<Value> {
        self.received
            .lock()
            .unwrap()
            .iter()
            .map(|r| serde_json::from_str(&r.body).unwrap())
            .collect()
    }
}

async fn register(app: &TestApp, body: Value) -> Value {
    let admin = app.api_as("admin@operator.example").await;
    let (s, created) = admin.post("/api/v1/webhooks", body).await;
    assert_eq!(s, 201, "{created}");
    created
}

async fn log(app: &TestApp, id: i64) -> Vec<Value> {
    let admin = app.api_as("admin@operator.example").await;
    let (s, shown) = admin.get(&format!("/api/v1/webhooks/{id}")).await;
    assert_eq!(s, 200, "{shown}");
    assert!(shown["endpoint"].get("secret").is_none(), "{shown}");
    shown["deliveries"].as_array().unwrap().clone()
}

#[tokio::test]
async fn ticket_events_reach_a_subscribed_endpoint_signed() {
    let app = TestApp::spawn().await;
    let hook = endpoint(Answer::Statuses(vec![200])).await;
    let created = register(
        &app,
        json!({"url": hook.url, "description": "Partner desk", "event_types": ["*"]}),
    )
    .await;
    let secret = created["secret"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("whsec_"));

    let customer = app.api_as("helpdesk@hhs.example").await;
    let (s, t) = customer
        .post(
            "/api/v1/tickets",
            json!({"kind": "incident", "summary": "Feed stalled", "details": "No ADT since 9:00"}),
        )
        .await;
    assert_eq!(s, 201, "{t}");
    let number = t["number"].as_str().unwrap().to_owned();
    let agent = app.api_as("agent1@operator.example").await;
    let (s, u) = agent
        .patch(
            &format!("/api/v1/tickets/{number}"),
            json!({"status": "in_progress"}),
        )
        .await;
    assert_eq!(s, 200, "{u}");
    let (s, c) = agent
        .post(
            &format!("/api/v1/tickets/{number}/comments"),
            json!({"body": "Restarting the interface engine."}),
        )
        .await;
    assert!(s.is_success(), "{c}");
    let (s, _) = agent
        .post(
            &format!("/api/v1/tickets/{number}/comments"),
            json!({"body": "Internal only", "internal": true}),
        )
        .await;
    assert!(s.is_success());

    let events = eventually(async || hook.events(), |e| e.len() >= 3).await;
    let types: Vec<&str> = events.iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(
        types,
        ["ticket.created", "ticket.updated", "ticket.commented"],
        "{events:?}"
    );
    assert!(
        events
            .iter()
            .all(|e| e["data"]["number"] == number.as_str())
    );
    assert_eq!(events[1]["data"]["status"], "in_progress");
    assert_eq!(
        events[2]["data"]["event"]["body"],
        "Restarting the interface engine."
    );
    // Each delivery is signed over id.timestamp.body with the endpoint's secret.
    for r in hook.received.lock().unwrap().iter() {
        let header = |name: &str| r.headers.get(name).unwrap().to_str().unwrap().to_owned();
        let id = header("webhook-id");
        assert!(id.starts_with("msg_"));
        let timestamp: i64 = header("webhook-timestamp").parse().unwrap();
        assert!((jiff::Timestamp::now().as_second() - timestamp).abs() < 60);
        let expected = domain::webhook::sign(&secret, &id, timestamp, &r.body).unwrap();
        assert_eq!(header("webhook-signature"), expected);
    }
    // The internal note never went out, and nothing went twice.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(hook.events().len(), 3);
    let id = created["id"].as_i64().unwrap();
    let log = log(&app, id).await;
    assert_eq!(log.len(), 3);
    assert!(log.iter().all(|d| d["status"] == "sent"), "{log:?}");
}

#[tokio::test]
async fn only_the_endpoints_organization_and_never_restricted_tickets() {
    let app = TestApp::spawn().await;
    let hook = endpoint(Answer::Statuses(vec![200])).await;
    let hhs = app.org_id("HHS").await;
    register(
        &app,
        json!({"url": hook.url, "event_types": ["ticket.created"], "organization_id": hhs}),
    )
    .await;
    let niagara = app.api_as("helpdesk@niagara.example").await;
    let (s, _) = niagara
        .post(
            "/api/v1/tickets",
            json!({"kind": "incident", "summary": "Niagara issue", "details": "Theirs"}),
        )
        .await;
    assert_eq!(s, 201);
    let privacy = app.api_as("privacy@operator.example").await;
    let (s, p) = privacy
        .post(
            "/api/v1/tickets",
            json!({"kind": "privacy_incident", "summary": "Possible breach", "details": "Access review", "organization_id": hhs}),
        )
        .await;
    assert_eq!(s, 201, "{p}");
    let hhs_desk = app.api_as("helpdesk@hhs.example").await;
    let (s, t) = hhs_desk
        .post(
            "/api/v1/tickets",
            json!({"kind": "incident", "summary": "HHS issue", "details": "Ours"}),
        )
        .await;
    assert_eq!(s, 201);
    let events = eventually(async || hook.events(), |e| !e.is_empty()).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let events = if events.len() == 1 {
        hook.events()
    } else {
        events
    };
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0]["data"]["number"], t["number"]);
}

#[tokio::test]
async fn a_failing_endpoint_is_retried_and_a_hanging_one_is_cut_off() {
    let app = TestApp::spawn().await;
    let flaky = endpoint(Answer::Statuses(vec![503, 200])).await;
    let hanging = endpoint(Answer::Hang).await;
    let gone = endpoint(Answer::Statuses(vec![410])).await;
    let flaky_id = register(
        &app,
        json!({"url": flaky.url, "event_types": ["ticket.created"]}),
    )
    .await["id"]
        .as_i64()
        .unwrap();
    let hanging_id = register(
        &app,
        json!({"url": hanging.url, "event_types": ["ticket.created"]}),
    )
    .await["id"]
        .as_i64()
        .unwrap();
    let gone_id = register(
        &app,
        json!({"url": gone.url, "event_types": ["ticket.created"]}),
    )
    .await["id"]
        .as_i64()
        .unwrap();
    let desk = app.api_as("helpdesk@hhs.example").await;
    let (s, _) = desk
        .post(
            "/api/v1/tickets",
            json!({"kind": "incident", "summary": "Retry me", "details": "Please"}),
        )
        .await;
    assert_eq!(s, 201);

    // 503, then delivered on the retry: sent once, after two attempts.
    let flaky_log = eventually(
        async || log(&app, flaky_id).await,
        |l| l.first().is_some_and(|d| d["status"] == "sent"),
    )
    .await;
    assert_eq!(flaky_log[0]["status"], "sent", "{flaky_log:?}");
    assert_eq!(flaky_log[0]["attempts"], 2);
    assert_eq!(flaky.received.lock().unwrap().len(), 2);

    // 410 Gone gives up at once.
    let gone_log = eventually(
        async || log(&app, gone_id).await,
        |l| l.first().is_some_and(|d| d["status"] == "failed"),
    )
    .await;
    assert_eq!(gone_log[0]["status"], "failed", "{gone_log:?}");
    assert!(gone_log[0]["last_error"].as_str().unwrap().contains("410"));

    // The hanging endpoint is cut off after the time-out and stays queued with the reason.
    let hanging_log = eventually(
        async || log(&app, hanging_id).await,
        |l| l.first().is_some_and(|d| d["last_error"].is_string()),
    )
    .await;
    assert_eq!(hanging_log[0]["status"], "queued", "{hanging_log:?}");
    assert!(
        hanging_log[0]["last_error"]
            .as_str()
            .unwrap()
            .contains("did not answer in time"),
        "{hanging_log:?}"
    );
    // Turned off, what was queued for it is given up with the reason.
    let admin = app.api_as("admin@operator.example").await;
    let (s, _) = admin
        .send(
            reqwest::Method::DELETE,
            &format!("/api/v1/webhooks/{hanging_id}"),
            None,
        )
        .await;
    assert_eq!(s, 204);
    let hanging_log = log(&app, hanging_id).await;
    assert_eq!(hanging_log[0]["status"], "failed");
    assert_eq!(hanging_log[0]["last_error"], "endpoint turned off");
    // The server kept answering throughout.
    let (s, _) = desk.get("/api/v1/me").await;
    assert_eq!(s, 200);
}

#[tokio::test]
async fn endpoints_are_for_administrators_and_checked() {
    let app = TestApp::spawn().await;
    let admin = app.api_as("admin@operator.example").await;
    for (body, code) in [
        (
            json!({"url": "ftp://x.example/hook", "event_types": ["*"]}),
            "invalid_url",
        ),
        (
            json!({"url": "not a url", "event_types": ["*"]}),
            "invalid_url",
        ),
        (
            json!({"url": "https://x.example/hook", "event_types": ["ticket.deleted"]}),
            "unknown_event_type",
        ),
        (
            json!({"url": "https://x.example/hook", "event_types": []}),
            "unknown_event_type",
        ),
    ] {
        let (s, e) = admin.post("/api/v1/webhooks", body).await;
        assert_eq!((s.as_u16(), e["code"].as_str()), (422, Some(code)), "{e}");
    }
    let agent = app.api_as("agent1@operator.example").await;
    let (s, _) = agent
        .post(
            "/api/v1/webhooks",
            json!({"url": "https://x.example/hook", "event_types": ["*"]}),
        )
        .await;
    assert_eq!(s, 403);
    let (s, _) = agent.get("/api/v1/webhooks").await;
    assert_eq!(s, 403);

    // The admin page adds an endpoint and shows its secret once; the test button queues a
    // test event that reaches it.
    let hook = endpoint(Answer::Statuses(vec![204])).await;
    let browser = app.browser();
    browser
        .sign_in("admin@operator.example", testkit::DEMO_PASSWORD)
        .await;
    let r = browser
        .post_form(
            "/admin/webhooks",
            &[
                ("url", hook.url.as_str()),
                ("description", "From the page"),
                ("event_types", "ticket.created"),
                ("event_types", "ticket.commented"),
            ],
        )
        .await;
    assert_eq!(r.status(), 200);
    let page = r.text().await.unwrap();
    assert!(page.contains("whsec_"), "the secret is shown once");
    let (_, list) = admin.get("/api/v1/webhooks").await;
    let id = list[0]["id"].as_i64().unwrap();
    assert_eq!(
        list[0]["event_types"],
        json!(["ticket.created", "ticket.commented"])
    );
    let (_, page) = browser.text(&format!("/admin/webhooks/{id}")).await;
    assert!(!page.contains("whsec_"));
    let (s, _) = admin
        .post(&format!("/api/v1/webhooks/{id}/test"), json!({}))
        .await;
    assert_eq!(s, 202);
    let events = eventually(async || hook.events(), |e| !e.is_empty()).await;
    assert_eq!(events[0]["type"], "webhook.test");
}
