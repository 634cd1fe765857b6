use serde_json::json;
use testkit::{TestApp, run_cli};

#[tokio::test]
async fn changes_and_sign_ins_are_audited_and_tampering_is_detected() {
    let app = TestApp::spawn().await;
    let admin = app.api_as("admin@operator.example").await;
    let hhs = app.org_id("HHS").await;
    let (s, _) = admin
        .patch(
            &format!("/api/v1/organizations/{hhs}"),
            json!({"helpdesk_phone": "905-555-7777"}),
        )
        .await;
    assert_eq!(s, 200);
    let browser = app.browser();
    browser
        .sign_in("clinician@hhs.example", "wrong password!")
        .await;
    browser
        .sign_in("clinician@hhs.example", testkit::DEMO_PASSWORD)
        .await;

    let (_, rows) = admin
        .get(&format!(
            "/api/v1/audit?entity_type=organization&entity_id={hhs}"
        ))
        .await;
    let contact = &rows[0];
    assert_eq!(contact["action"], "organization.contacts_change");
    assert_eq!(
        contact["detail"]["helpdesk_phone"],
        json!(["905-555-0101", "905-555-7777"])
    );
    assert_eq!(contact["actor_label"], "admin@operator.example");
    let (_, rows) = admin.get("/api/v1/audit?action=auth.sign_in_failed").await;
    assert_eq!(rows[0]["actor_label"], "clinician@hhs.example");
    let (_, rows) = admin.get("/api/v1/audit?action=auth.sign_in").await;
    assert_eq!(rows[0]["actor_label"], "clinician@hhs.example");

    let bin = env!("CARGO_BIN_EXE_triage");
    let (code, out, err) = run_cli(bin, &app.database_url, &["audit", "verify"])
        .await
        .unwrap();
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("intact"), "{out}");

    // Someone with database access edits an old row.
    let mut conn = app.db().begin().await.unwrap();
    sqlx::query("UPDATE audit_log SET detail = '{\"helpdesk_phone\":\"nothing happened\"}' WHERE action = 'organization.contacts_change'")
        .execute(&mut *conn)
        .await
        .unwrap();
    conn.commit().await.unwrap();
    let (code, _, err) = run_cli(bin, &app.database_url, &["audit", "verify"])
        .await
        .unwrap();
    assert_eq!(code, 1);
    assert!(
        err.contains("TAMPERED") && err.contains("was edited"),
        "{err}"
    );
}

#[tokio::test]
async fn deleting_an_audit_row_is_detected() {
    let app = TestApp::spawn().await;
    let admin = app.api_as("admin@operator.example").await;
    for name in ["one", "two", "three"] {
        admin.post("/api/v1/tokens", json!({"name": name})).await;
    }
    let mut tx = app.db().begin().await.unwrap();
    sqlx::query("DELETE FROM audit_log WHERE action = 'token.create' AND detail LIKE '%two%'")
        .execute(&mut *tx)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let (code, _, err) = run_cli(
        env!("CARGO_BIN_EXE_triage"),
        &app.database_url,
        &["audit", "verify"],
    )
    .await
    .unwrap();
    assert_eq!(code, 1);
    assert!(err.contains("missing"), "{err}");
}

#[tokio::test]
async fn concurrent_writers_keep_one_unbroken_chain() {
    let app = TestApp::spawn().await;
    let mut tasks = Vec::new();
    for i in 0..8 {
        let api = app.api_as("admin@operator.example").await;
        tasks.push(tokio::spawn(async move {
            for j in 0..10 {
                let (s, _) = api
                    .post("/api/v1/tokens", json!({"name": format!("t{i}-{j}")}))
                    .await;
                assert_eq!(s, 201);
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let mut conn = app.db().reader().acquire().await.unwrap();
    let report = store::audit::verify(&mut conn).await.unwrap();
    assert_eq!(report.fault, None);
    assert!(report.rows >= 80);
}
