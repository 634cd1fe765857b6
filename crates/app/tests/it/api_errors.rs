use reqwest::Method;
use serde_json::json;
use testkit::TestApp;

#[tokio::test]
async fn bad_input_gets_stable_codes_in_the_callers_language() {
    let app = TestApp::spawn().await;
    let admin = app.api_as("admin@operator.example").await;
    let hhs = app.org_id("HHS").await;

    let (s, b) = admin
        .raw(
            Method::POST,
            "/api/v1/people",
            "application/json",
            "{not json",
        )
        .await;
    assert_eq!(
        (s.as_u16(), b["code"].as_str()),
        (400, Some("malformed_json"))
    );
    let (s, b) = admin
        .raw(Method::POST, "/api/v1/people", "text/plain", "{}")
        .await;
    assert_eq!(
        (s.as_u16(), b["code"].as_str()),
        (415, Some("unsupported_media_type"))
    );
    let (s, b) = admin
        .post(
            "/api/v1/people",
            json!({"organization_id": hhs, "email": "a@b.ca", "display_name": "A", "shoe_size": 9}),
        )
        .await;
    assert_eq!(
        (s.as_u16(), b["code"].as_str()),
        (422, Some("unknown_field"))
    );
    let (s, b) = admin
        .post(
            "/api/v1/people",
            json!({"organization_id": "HHS", "email": "a@b.ca", "display_name": "A"}),
        )
        .await;
    assert_eq!(
        (s.as_u16(), b["code"].as_str()),
        (422, Some("invalid_type"))
    );
    let (s, b) = admin
        .post(
            "/api/v1/people",
            json!({"organization_id": hhs, "display_name": "A"}),
        )
        .await;
    assert_eq!(
        (s.as_u16(), b["code"].as_str()),
        (422, Some("missing_field"))
    );
    let (s, b) = admin
        .post(
            "/api/v1/people",
            json!({"organization_id": hhs, "email": "nope", "display_name": "A"}),
        )
        .await;
    assert_eq!(
        (s.as_u16(), b["code"].as_str(), b["field"].as_str()),
        (422, Some("invalid_email"), Some("email"))
    );
    let (s, b) = admin
        .post(
            "/api/v1/people",
            json!({"organization_id": hhs, "email": "a@b.ca", "display_name": "x".repeat(201)}),
        )
        .await;
    assert_eq!((s.as_u16(), b["code"].as_str()), (422, Some("too_long")));
    let (s, b) = admin
        .post(
            "/api/v1/people",
            json!({"organization_id": 999_999, "email": "a@b.ca", "display_name": "A"}),
        )
        .await;
    assert_eq!(
        (s.as_u16(), b["code"].as_str()),
        (422, Some("unknown_organization"))
    );
    let (s, b) = admin
        .post(
            "/api/v1/people",
            json!({"organization_id": hhs, "email": "LRA@hhs.example", "display_name": "Dup"}),
        )
        .await;
    assert_eq!((s.as_u16(), b["code"].as_str()), (409, Some("email_taken")));
    let (s, b) = admin.post("/api/v1/organizations", json!({"code": "HHS", "name_en": "x", "name_fr": "x", "org_type": "hospital", "identity_provider": "operator"})).await;
    assert_eq!((s.as_u16(), b["code"].as_str()), (409, Some("code_taken")));
    let (s, b) = admin.get("/api/v1/nothing-here").await;
    assert_eq!((s.as_u16(), b["code"].as_str()), (404, Some("not_found")));
    let (s, b) = admin.send(Method::PUT, "/api/v1/me", Some(json!({}))).await;
    assert_eq!(
        (s.as_u16(), b["code"].as_str()),
        (405, Some("method_not_allowed"))
    );
    let big = json!({"organization_id": hhs, "email": "a@b.ca", "display_name": "x".repeat(2 * 1024 * 1024)});
    let (s, b) = admin.post("/api/v1/people", big).await;
    assert_eq!(
        (s.as_u16(), b["code"].as_str()),
        (413, Some("payload_too_large"))
    );

    // Nothing half-written: none of the refused people exist.
    let (_, people) = admin.get("/api/v1/people?q=a%40b.ca").await;
    assert_eq!(people, json!([]));

    // The same error in French.
    let fr = app
        .api_as("admin@operator.example")
        .await
        .in_language("fr-CA,fr;q=0.9");
    let (_, b) = fr
        .post(
            "/api/v1/people",
            json!({"organization_id": hhs, "email": "nope", "display_name": "A"}),
        )
        .await;
    assert_eq!(b["code"], "invalid_email");
    assert!(b["message"].as_str().unwrap().contains("courriel"), "{b}");
    let (_, b) = admin
        .post(
            "/api/v1/people",
            json!({"organization_id": hhs, "email": "nope", "display_name": "A"}),
        )
        .await;
    assert!(
        b["message"].as_str().unwrap().contains("email address"),
        "{b}"
    );
}

#[tokio::test]
async fn authentication_errors() {
    let app = TestApp::spawn().await;
    let (s, b) = app.anonymous_api().get("/api/v1/me").await;
    assert_eq!(
        (s.as_u16(), b["code"].as_str()),
        (401, Some("unauthenticated"))
    );
    let mut bogus = app.anonymous_api();
    bogus.token = Some("trg_not-a-real-token".into());
    let (s, b) = bogus.get("/api/v1/me").await;
    assert_eq!(
        (s.as_u16(), b["code"].as_str()),
        (401, Some("invalid_token"))
    );
}

#[tokio::test]
async fn api_tokens_are_shown_once_and_can_be_revoked() {
    let app = TestApp::spawn().await;
    let me = app.api_as("clinician@hhs.example").await;
    let (s, created) = me
        .post("/api/v1/tokens", json!({"name": "report script"}))
        .await;
    assert_eq!(s, 201);
    let secret = created["secret"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("trg_"));
    let mut script = app.anonymous_api();
    script.token = Some(secret.clone());
    let (s, who) = script.get("/api/v1/me").await;
    assert_eq!(s, 200);
    assert_eq!(who["person"]["email"], "clinician@hhs.example");
    let (_, list) = me.get("/api/v1/tokens").await;
    assert!(list.to_string().contains("report script"));
    assert!(
        !list.to_string().contains(&secret),
        "secrets are never listed"
    );
    let id = created["token"]["id"].as_i64().unwrap();
    let (s, _) = me
        .send(Method::DELETE, &format!("/api/v1/tokens/{id}"), None)
        .await;
    assert_eq!(s, 204);
    let (s, b) = script.get("/api/v1/me").await;
    assert_eq!(
        (s.as_u16(), b["code"].as_str()),
        (401, Some("invalid_token"))
    );
    // Another person cannot revoke my tokens.
    let (_, again) = me.post("/api/v1/tokens", json!({"name": "second"})).await;
    let other = app.api_as("helpdesk@hhs.example").await;
    let id = again["token"]["id"].as_i64().unwrap();
    let (s, _) = other
        .send(Method::DELETE, &format!("/api/v1/tokens/{id}"), None)
        .await;
    assert_eq!(s, 404);
}
