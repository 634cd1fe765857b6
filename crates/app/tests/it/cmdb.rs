//! Configuration items: kept by catalogue editors, read by agents, with relations that may
//! not loop and the reach of an outage; refused clearly when wrong; audited.
use serde_json::json;
use testkit::TestApp;

const ADMIN: &str = "admin@operator.example";

#[tokio::test]
async fn items_relations_and_the_reach_of_an_outage() {
    let app = TestApp::spawn().await;
    let admin = app.api_as(ADMIN).await;
    let (s, list) = admin.get("/api/v1/configuration-items").await;
    assert_eq!(s, 200, "{list}");
    let id_of = |code: &str| {
        list.as_array()
            .unwrap()
            .iter()
            .find(|i| i["code"] == code)
            .unwrap_or_else(|| panic!("{code} in the demo"))["id"]
            .as_i64()
            .unwrap()
    };
    let server = id_of("app-server-01");

    // The demo: the viewer and the HL7 engine run on the server; the lab feed reaches the
    // engine. An outage of the server reaches all three, nearest first.
    let (s, detail) = admin
        .get(&format!("/api/v1/configuration-items/{server}"))
        .await;
    assert_eq!(s, 200, "{detail}");
    let reached: Vec<(&str, u64)> = detail["impacted"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| (i["code"].as_str().unwrap(), i["distance"].as_u64().unwrap()))
        .collect();
    assert_eq!(
        reached,
        vec![
            ("chr-viewer-app", 1),
            ("hl7-engine", 1),
            ("lab-hl7-feed", 2)
        ],
        "{detail}"
    );

    // A new item, related, then a loop refused.
    let (s, created) = admin
        .post(
            "/api/v1/configuration-items",
            json!({"code": "DB-Prod-01", "kind": "server", "name_en": "Database server",
                   "name_fr": "Serveur de base de données", "environment": "production"}),
        )
        .await;
    assert_eq!(s, 201, "{created}");
    let db = created["id"].as_i64().unwrap();
    let (s, item) = admin
        .get(&format!("/api/v1/configuration-items/{db}"))
        .await;
    assert_eq!(
        (s.as_u16(), item["item"]["code"].as_str()),
        (200, Some("db-prod-01"))
    );
    let hl7 = id_of("hl7-engine");
    let (s, e) = admin
        .post(
            &format!("/api/v1/configuration-items/{hl7}/relations"),
            json!({"to_id": db, "kind": "depends_on"}),
        )
        .await;
    assert_eq!(s, 204, "{e}");
    let (s, e) = admin
        .post(
            &format!("/api/v1/configuration-items/{db}/relations"),
            json!({"to_id": id_of("chr-viewer-app"), "kind": "depends_on"}),
        )
        .await;
    assert_eq!(
        (s.as_u16(), e["code"].as_str(), e["field"].as_str()),
        (422, Some("relation_cycle"), Some("to_id")),
        "the viewer needs the engine, which needs the database: {e}"
    );
    let (s, e) = admin
        .post(
            &format!("/api/v1/configuration-items/{db}/relations"),
            json!({"to_id": db, "kind": "depends_on"}),
        )
        .await;
    assert_eq!(
        (s.as_u16(), e["code"].as_str()),
        (422, Some("self_relation")),
        "{e}"
    );
    let (s, e) = admin
        .post(
            &format!("/api/v1/configuration-items/{db}/relations"),
            json!({"to_id": 999999, "kind": "depends_on"}),
        )
        .await;
    assert_eq!(
        (s.as_u16(), e["code"].as_str()),
        (422, Some("unknown_configuration_item")),
        "{e}"
    );
    let (s, detail) = admin
        .get(&format!("/api/v1/configuration-items/{db}"))
        .await;
    assert_eq!(s, 200);
    assert_eq!(detail["impacted"].as_array().unwrap().len(), 3, "{detail}");

    // Removing the relation ends the reach.
    let (s, _) = admin
        .post(
            &format!("/api/v1/configuration-items/{hl7}/relations/remove"),
            json!({"to_id": db, "kind": "depends_on"}),
        )
        .await;
    assert_eq!(s, 204);
    let (_, detail) = admin
        .get(&format!("/api/v1/configuration-items/{db}"))
        .await;
    assert_eq!(detail["impacted"], json!([]));

    // Bad input.
    for (body, code, field) in [
        (
            json!({"code": "hl7-engine", "kind": "server", "name_en": "x", "name_fr": "x"}),
            "duplicate_code",
            "code",
        ),
        (
            json!({"code": "x y", "kind": "server", "name_en": "x", "name_fr": "x"}),
            "invalid_characters",
            "code",
        ),
        (
            json!({"code": "toaster-1", "kind": "toaster", "name_en": "x", "name_fr": "x"}),
            "invalid_choice",
            "kind",
        ),
        (
            json!({"code": "cert-2", "kind": "certificate", "name_en": "x", "name_fr": "x", "expires_at": "soon"}),
            "invalid_datetime",
            "expires_at",
        ),
        (
            json!({"code": "x-2", "kind": "site", "name_en": "", "name_fr": "x"}),
            "required",
            "name_en",
        ),
    ] {
        let (s, e) = admin.post("/api/v1/configuration-items", body).await;
        assert_eq!(
            (s.as_u16(), e["code"].as_str(), e["field"].as_str()),
            (422, Some(code), Some(field)),
            "{e}"
        );
    }

    // Customers see none of it; changes are audited.
    let clinician = app.api_as("clinician@hhs.example").await;
    let (s, _) = clinician.get("/api/v1/configuration-items").await;
    assert_eq!(s, 403);
    let (_, audit) = admin.get("/api/v1/audit?action=cmdb.create").await;
    assert!(audit.to_string().contains("db-prod-01"), "{audit}");
}

#[tokio::test]
async fn the_console_lists_adds_and_relates_items() {
    let app = TestApp::spawn().await;
    let browser = app.browser();
    browser.sign_in(ADMIN, testkit::DEMO_PASSWORD).await;
    let (s, page) = browser.text("/console/cmdb").await;
    assert_eq!(s, 200);
    assert!(page.contains("hl7-engine"), "{page}");
    let r = browser
        .post_form(
            "/console/cmdb",
            &[
                ("code", "fw-edge"),
                ("kind", "network_connection"),
                ("name_en", "Edge firewall"),
                ("name_fr", "Pare-feu de bordure"),
                ("description", ""),
                ("service_id", ""),
                ("owner_organization_id", ""),
                ("environment", "production"),
                ("site", ""),
            ],
        )
        .await;
    assert_eq!(r.status(), 303);
    let location = r.headers()["location"].to_str().unwrap().to_owned();
    let (s, page) = browser.text(&location).await;
    assert_eq!(s, 200);
    assert!(page.contains("Edge firewall"), "{page}");
    // The same code again: the form says why.
    let r = browser
        .post_form(
            "/console/cmdb",
            &[
                ("code", "fw-edge"),
                ("kind", "server"),
                ("name_en", "x"),
                ("name_fr", "x"),
            ],
        )
        .await;
    assert_eq!(r.status(), 422);
    let body = r.text().await.unwrap();
    assert!(body.contains("data-testid=\"cmdb-error\""), "{body}");
}
