use testkit::TestApp;

#[tokio::test]
async fn health_readiness_metrics_and_headers() {
    let app = TestApp::spawn().await;
    let client = reqwest::Client::new();
    let r = client.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(
        r.headers().get("x-request-id").is_some(),
        "every response carries a request id"
    );
    assert_eq!(r.headers()["x-content-type-options"], "nosniff");
    assert!(
        r.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("frame-ancestors 'none'")
    );
    assert_eq!(
        client
            .get(app.url("/readyz"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    let metrics = client
        .get(app.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(metrics.contains("triage_http_requests_total"), "{metrics}");
}

#[tokio::test]
async fn data_survives_a_restart() {
    let mut app = TestApp::spawn().await;
    let admin = app.api_as("admin@operator.example").await;
    let org = app.org_id("HHS").await;
    let (status, _) = admin
        .post("/api/v1/people", serde_json::json!({"organization_id": org, "email": "kept@hhs.example", "display_name": "Kept"}))
        .await;
    assert_eq!(status, 201);
    app.restart().await;
    let admin = app.api_as("admin@operator.example").await;
    let (status, people) = admin.get("/api/v1/people?q=kept").await;
    assert_eq!(status, 200);
    assert_eq!(people.as_array().unwrap().len(), 1);
    // Demo data is loaded only into an empty database: no duplicates after the restart.
    let (_, orgs) = admin.get("/api/v1/organizations").await;
    assert_eq!(
        orgs.as_array()
            .unwrap()
            .iter()
            .filter(|o| o["code"] == "HHS")
            .count(),
        1
    );
}
