use serde_json::json;
use testkit::TestApp;

#[tokio::test]
async fn lra_and_pa_roles_wait_for_training() {
    let app = TestApp::spawn().await;
    let signatory = app.api_as("signatory@hhs.example").await;
    let admin = app.api_as("admin@operator.example").await;
    let nurse = app.person_id("helpdesk@hhs.example").await;
    let (s, granted) = signatory
        .post(
            &format!("/api/v1/people/{nurse}/roles"),
            json!({"role": "lra"}),
        )
        .await;
    assert_eq!(s, 201, "{granted}");
    assert_eq!(granted["status"], "pending_training");
    // A pending LRA cannot create accounts yet.
    let nurse_api = app.api_as("helpdesk@hhs.example").await;
    let hhs = app.org_id("HHS").await;
    let (s, _) = nurse_api
        .post(
            "/api/v1/people",
            json!({"organization_id": hhs, "email": "new@hhs.example", "display_name": "New"}),
        )
        .await;
    assert_eq!(s, 403);
    let (_, r) = admin
        .post(
            &format!("/api/v1/people/{nurse}/trainings"),
            json!({"module": "elearning", "completed_on": "2026-02-01"}),
        )
        .await;
    assert_eq!(r["activated"], json!([]));
    let (_, r) = admin
        .post(
            &format!("/api/v1/people/{nurse}/trainings"),
            json!({"module": "hands_on", "completed_on": "2026-02-02"}),
        )
        .await;
    assert_eq!(r["activated"], json!(["lra"]));
    let (s, created) = nurse_api
        .post(
            "/api/v1/people",
            json!({"organization_id": hhs, "email": "new@hhs.example", "display_name": "New"}),
        )
        .await;
    assert_eq!(s, 201, "{created}");
    assert_eq!(created["roles"][0]["role"], "end_user");
    // The new person was mailed a link to choose a password.
    let mail = app
        .last_mail_to("new@hhs.example")
        .await
        .expect("welcome mail");
    assert!(mail.message.contains("/reset/"), "{}", mail.message);
    // Signatory may not grant operator roles or act on another organization.
    let (s, _) = signatory
        .post(
            &format!("/api/v1/people/{nurse}/roles"),
            json!({"role": "administrator"}),
        )
        .await;
    assert_eq!(s, 403);
    let (s, b) = admin
        .post(
            &format!("/api/v1/people/{nurse}/roles"),
            json!({"role": "administrator"}),
        )
        .await;
    assert_eq!(
        (s.as_u16(), b["code"].as_str()),
        (422, Some("role_not_for_organization"))
    );
    let (s, b) = admin
        .post(
            &format!("/api/v1/people/{nurse}/trainings"),
            json!({"module": "elearning", "completed_on": "yesterday"}),
        )
        .await;
    assert_eq!(
        (s.as_u16(), b["code"].as_str()),
        (422, Some("invalid_date"))
    );
}

#[tokio::test]
async fn lra_needs_a_trained_privacy_contact_before_creating_accounts() {
    let app = TestApp::spawn().await;
    let admin = app.api_as("admin@operator.example").await;
    let (s, org) = admin
        .post("/api/v1/organizations", json!({"code": "NEWC", "name_en": "New Clinic", "name_fr": "Nouvelle clinique", "org_type": "clinic", "identity_provider": "operator", "services": []}))
        .await;
    assert_eq!(s, 201, "{org}");
    let org_id = org["id"].as_i64().unwrap();
    let (_, lra) = admin.post("/api/v1/people", json!({"organization_id": org_id, "email": "lra@newc.example", "display_name": "L", "password": "a long enough password", "roles": ["lra"]})).await;
    let lra_id = lra["id"].as_i64().unwrap();
    for module in ["elearning", "hands_on"] {
        admin
            .post(
                &format!("/api/v1/people/{lra_id}/trainings"),
                json!({"module": module, "completed_on": "2026-01-01"}),
            )
            .await;
    }
    let lra_api = app.api_as("lra@newc.example").await;
    let (s, b) = lra_api
        .post(
            "/api/v1/people",
            json!({"organization_id": org_id, "email": "u@newc.example", "display_name": "U"}),
        )
        .await;
    assert_eq!(
        (s.as_u16(), b["code"].as_str()),
        (409, Some("privacy_contact_training_required"))
    );
    let (_, pc) = admin.post("/api/v1/people", json!({"organization_id": org_id, "email": "pc@newc.example", "display_name": "P", "roles": ["privacy_contact"]})).await;
    let pc_id = pc["id"].as_i64().unwrap();
    admin
        .post(
            &format!("/api/v1/people/{pc_id}/trainings"),
            json!({"module": "elearning", "completed_on": "2026-01-01"}),
        )
        .await;
    let (s, _) = lra_api
        .post(
            "/api/v1/people",
            json!({"organization_id": org_id, "email": "u@newc.example", "display_name": "U"}),
        )
        .await;
    assert_eq!(s, 201);
}

#[tokio::test]
async fn sole_practitioner_is_signatory_and_lra_by_default() {
    let app = TestApp::spawn().await;
    let admin = app.api_as("admin@operator.example").await;
    let (_, org) = admin
        .post("/api/v1/organizations", json!({"code": "DRX", "name_en": "Dr. X", "name_fr": "Dr X", "org_type": "sole_practitioner", "identity_provider": "operator"}))
        .await;
    let (s, person) = admin.post("/api/v1/people", json!({"organization_id": org["id"], "email": "x@drx.example", "display_name": "Dr. X"})).await;
    assert_eq!(s, 201);
    let roles: Vec<&str> = person["roles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["role"].as_str().unwrap())
        .collect();
    assert_eq!(roles, ["signatory", "lra", "end_user"]);
}

#[tokio::test]
async fn deactivating_a_person_ends_their_access() {
    let app = TestApp::spawn().await;
    let admin = app.api_as("admin@operator.example").await;
    let clinician = app.api_as("clinician@hhs.example").await;
    let id = app.person_id("clinician@hhs.example").await;
    let (s, _) = admin
        .patch(&format!("/api/v1/people/{id}"), json!({"active": false}))
        .await;
    assert_eq!(s, 200);
    let (s, _) = clinician.get("/api/v1/me").await;
    assert_eq!(s, 401);
    let browser = app.browser();
    let r = browser
        .sign_in("clinician@hhs.example", testkit::DEMO_PASSWORD)
        .await;
    assert_eq!(r.status(), 401);
}
