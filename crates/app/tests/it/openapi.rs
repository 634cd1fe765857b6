//! The OpenAPI document is generated from the code; this snapshot makes every API change
//! visible in review. Refresh with `UPDATE_SNAPSHOTS=1 cargo nextest run openapi`.
use testkit::TestApp;

#[tokio::test]
async fn openapi_document_matches_the_snapshot() {
    let app = TestApp::spawn().await;
    let (status, doc) = app.anonymous_api().get("/api/openapi.json").await;
    assert_eq!(status, 200);
    assert_eq!(doc["openapi"].as_str().unwrap().get(..3), Some("3.1"));
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/openapi.json");
    let rendered = serde_json::to_string_pretty(&doc).unwrap() + "\n";
    if std::env::var("UPDATE_SNAPSHOTS").is_ok() {
        std::fs::write(path, &rendered).unwrap();
    }
    let stored = std::fs::read_to_string(path).unwrap_or_default();
    assert!(
        stored == rendered,
        "docs/openapi.json is out of date: run UPDATE_SNAPSHOTS=1 cargo nextest run openapi and review the diff"
    );
}

#[tokio::test]
async fn the_cli_prints_the_same_document() {
    let (code, out, _) = testkit::run_cli(
        env!("CARGO_BIN_EXE_triage"),
        "sqlite::memory:",
        &["openapi"],
    )
    .await
    .unwrap();
    assert_eq!(code, 0);
    let doc: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert!(doc["paths"]["/api/v1/people"].is_object());
}
