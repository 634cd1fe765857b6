//! Mail templates edited by administrators (versioned, recorded on each sent message),
//! distribution lists and their notices, removal asked by the member and confirmed by the
//! desk, and the one-click unsubscribe links in mail.
use axum::http::StatusCode;
use serde_json::{Value, json};
use testkit::TestApp;

fn parse(raw: &str) -> mail_parser::Message<'_> {
    mail_parser::MessageParser::default()
        .parse(raw.as_bytes())
        .expect("a valid message")
}

/// The one-click link in a message's `List-Unsubscribe` header.
fn unsubscribe_link(raw: &str) -> String {
    let message = parse(raw);
    let header = message
        .header_raw("List-Unsubscribe")
        .expect("a List-Unsubscribe header");
    header
        .trim()
        .trim_start_matches('<')
        .trim_end_matches('>')
        .to_owned()
}

async fn service_id(app: &TestApp, code: &str) -> i64 {
    let mut conn = app.db().reader().acquire().await.unwrap();
    let snapshot = app.state().directory.get(&mut conn).await.unwrap();
    snapshot
        .services
        .iter()
        .find(|s| s.code == code)
        .expect("a demo service")
        .id
}

#[tokio::test]
async fn administrators_edit_templates_and_each_mail_records_its_version() {
    let app = TestApp::spawn().await;
    let admin = app.api_as("admin@operator.example").await;
    let (s, list) = admin.get("/api/v1/mail-templates").await;
    assert_eq!(s, StatusCode::OK, "{list}");
    let created = list
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["key"] == "ticket-created")
        .unwrap();
    assert_eq!(created["en"]["version"], 0);
    assert!(
        created["variables"]
            .as_array()
            .unwrap()
            .contains(&json!("number"))
    );

    // A typo in a variable is refused with the line, in the caller's language.
    let (s, e) = admin
        .clone()
        .in_language("fr")
        .put(
            "/api/v1/mail-templates/ticket-created/en",
            json!({"subject": "[{{ number }}] Got it", "body": "Thanks.\n{{ summry }}"}),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    assert_eq!(e["code"], "template_invalid");
    assert!(
        e["message"].as_str().unwrap().contains("ne peut pas"),
        "{e}"
    );
    assert!(
        e["detail"]["reason"]
            .as_str()
            .unwrap()
            .contains("unknown variable summry"),
        "{e}"
    );
    let (s, e) = admin
        .put(
            "/api/v1/mail-templates/ticket-created/en",
            json!({"subject": "{% if %}", "body": "x"}),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    let (s, _) = admin
        .put(
            "/api/v1/mail-templates/no-such-message/en",
            json!({"subject": "x", "body": "x"}),
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);

    // A preview shows the draft with example values and saves nothing.
    let (s, p) = admin
        .post(
            "/api/v1/mail-templates/ticket-created/en/preview",
            json!({"subject": "Logged: {{ number }}", "body": "See {{ link }}"}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{p}");
    assert_eq!(p["subject"], "Logged: INC-000123");

    let (s, v) = admin
        .put(
            "/api/v1/mail-templates/ticket-created/en",
            json!({"subject": "Logged as {{ number }}", "body": "We have it: {{ summary }}\n{{ link }}"}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["version"], 1);

    // The next acknowledgement uses it and says so.
    let clinician = app.api_as("clinician@hhs.example").await;
    let (s, t) = clinician
        .post(
            "/api/v1/tickets",
            json!({"kind": "incident", "summary": "Viewer slow", "details": "Ward 3 waits a minute."}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{t}");
    let mail = app.last_mail_to("clinician@hhs.example").await.unwrap();
    let number = t["number"].as_str().unwrap();
    assert_eq!(mail.subject, format!("Logged as {number}"));
    assert_eq!(
        mail.template_version.as_deref(),
        Some("ticket-created en v1")
    );
    let message = parse(&mail.message);
    assert!(
        message
            .body_text(0)
            .unwrap()
            .contains("We have it: Viewer slow")
    );
    assert!(
        message
            .body_html(0)
            .unwrap()
            .contains("We have it: Viewer slow")
    );

    // French recipients still get the shipped French text (version 0).
    let desk = app.api_as("helpdesk@niagara.example").await;
    let (s, _) = desk
        .post(
            "/api/v1/tickets",
            json!({"kind": "incident", "summary": "Visionneuse lente", "details": "Le dossier est lent.", "partner_references": ["NHS-77"]}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED);
    let mail = app.last_mail_to("helpdesk@niagara.example").await.unwrap();
    // Both numbers are quoted: ours and the partner desk's own.
    assert!(
        mail.subject.contains("] [NHS-77] Nous avons reçu"),
        "{}",
        mail.subject
    );
    assert_eq!(
        mail.template_version.as_deref(),
        Some("ticket-created fr v0")
    );

    let (s, h) = admin.get("/api/v1/mail-templates/ticket-created/en").await;
    assert_eq!(s, StatusCode::OK);
    let versions: Vec<i64> = h["versions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["version"].as_i64().unwrap())
        .collect();
    assert_eq!(versions, vec![1, 0]);

    // Only administrators edit templates.
    let agent = app.api_as("agent1@operator.example").await;
    let (s, _) = agent.get("/api/v1/mail-templates").await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, _) = clinician
        .put(
            "/api/v1/mail-templates/ticket-created/en",
            json!({"subject": "x", "body": "x"}),
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn a_service_list_reaches_live_organizations_in_their_language_and_removal_needs_the_desk() {
    let app = TestApp::spawn().await;
    let admin = app.api_as("admin@operator.example").await;
    let chr = service_id(&app, "CHR").await;
    let (s, list) = admin
        .post(
            "/api/v1/lists",
            json!({"code": "chr", "name_en": "Community Health Record", "name_fr": "Dossier de santé communautaire", "kind": "service", "service_id": chr}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{list}");
    let id = list["id"].as_i64().unwrap();

    let (s, detail) = admin.get(&format!("/api/v1/lists/{id}")).await;
    assert_eq!(s, StatusCode::OK, "{detail}");
    let recipients = detail["recipients"].as_array().unwrap();
    let find =
        |email: &str| -> Option<Value> { recipients.iter().find(|r| r["email"] == email).cloned() };
    // Hamilton is live on the service: its help desk contact (a person, English) and its
    // notice list address (language unknown). Niagara's help desk contact reads French.
    assert_eq!(find("helpdesk@hhs.example").unwrap()["locale"], "en");
    assert_eq!(
        find("it-notices@hhs.example").unwrap()["locale"],
        Value::Null
    );
    assert_eq!(find("helpdesk@niagara.example").unwrap()["locale"], "fr");
    assert!(find("clinician@hhs.example").is_none());
    assert!(recipients.iter().all(|r| r["automatic"] == true));

    let notice = json!({
        "list_ids": [id],
        "subject_en": "Viewer maintenance Sunday",
        "subject_fr": "Entretien de la visionneuse dimanche",
        "body_en": "The viewer is down Sunday 00:00-06:00.",
        "body_fr": "La visionneuse est arrêtée dimanche de 0 h à 6 h."
    });
    let agent = app.api_as("agent1@operator.example").await;
    let (s, sent) = agent.post("/api/v1/notices", notice.clone()).await;
    assert_eq!(s, StatusCode::CREATED, "{sent}");
    assert_eq!(
        sent["recipients"].as_u64().unwrap() as usize,
        recipients.len()
    );

    let fr = app.last_mail_to("helpdesk@niagara.example").await.unwrap();
    assert_eq!(fr.subject, "Entretien de la visionneuse dimanche");
    assert_eq!(fr.template_version.as_deref(), Some("notice fr v0"));
    let both = app.last_mail_to("it-notices@hhs.example").await.unwrap();
    assert_eq!(
        both.subject,
        "Viewer maintenance Sunday / Entretien de la visionneuse dimanche"
    );
    let text = parse(&both.message).body_text(0).unwrap().into_owned();
    assert!(text.contains("Sunday 00:00-06:00") && text.contains("dimanche de 0 h"));
    assert!(
        both.message
            .contains("List-Unsubscribe-Post: List-Unsubscribe=One-Click")
    );
    let (s, n) = agent.get(&format!("/api/v1/notices/{}", sent["id"])).await;
    assert_eq!(s, StatusCode::OK, "{n}");

    // The help desk contact asks to leave; they keep receiving until the desk confirms.
    let hana = app.api_as("helpdesk@hhs.example").await;
    let (s, mine) = hana.get("/api/v1/me/lists").await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(mine[0]["status"], "active", "{mine}");
    let (s, e) = hana
        .post(
            &format!("/api/v1/lists/{id}/removal-request"),
            json!({"reason": "I moved to another team"}),
        )
        .await;
    assert_eq!(s, StatusCode::ACCEPTED, "{e}");
    let (s, e) = hana
        .post(&format!("/api/v1/lists/{id}/removal-request"), json!({}))
        .await;
    assert_eq!(s, StatusCode::CONFLICT, "{e}");
    let (_, detail) = admin.get(&format!("/api/v1/lists/{id}")).await;
    let request = detail["members"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["status"] == "removal_requested")
        .cloned()
        .expect("a pending request");
    assert_eq!(request["removal_reason"], "I moved to another team");
    assert!(
        detail["recipients"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["email"] == "helpdesk@hhs.example")
    );
    // A partner cannot decide it.
    let member = request["id"].as_i64().unwrap();
    let (s, _) = hana
        .post(
            &format!("/api/v1/lists/{id}/members/{member}/confirm-removal"),
            json!({}),
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, e) = agent
        .post(
            &format!("/api/v1/lists/{id}/members/{member}/confirm-removal"),
            json!({}),
        )
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT, "{e}");
    let told = app.last_mail_to("helpdesk@hhs.example").await.unwrap();
    assert_eq!(told.kind, "list-removal-confirmed");

    // Removed for good: not on the next notice, and adding again does not undo it.
    let (s, added) = agent
        .post(
            &format!("/api/v1/lists/{id}/members"),
            json!({"emails": ["helpdesk@hhs.example"]}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{added}");
    let (_, detail) = admin.get(&format!("/api/v1/lists/{id}")).await;
    assert!(
        !detail["recipients"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["email"] == "helpdesk@hhs.example"),
        "{detail}"
    );
    let (s, sent) = agent.post("/api/v1/notices", notice).await;
    assert_eq!(s, StatusCode::CREATED, "{sent}");
    assert_eq!(
        sent["recipients"].as_u64().unwrap() as usize,
        recipients.len() - 1
    );
    let (_, mine) = hana.get("/api/v1/me/lists").await;
    assert_eq!(mine[0]["status"], "removed", "{mine}");
}

#[tokio::test]
async fn role_and_custom_lists_and_bad_input() {
    let app = TestApp::spawn().await;
    let admin = app.api_as("admin@operator.example").await;
    let (s, list) = admin
        .post(
            "/api/v1/lists",
            json!({"code": "lras", "name_en": "Registration authorities", "name_fr": "Autorités d'enregistrement", "kind": "role", "role": "lra"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{list}");
    let (_, detail) = admin.get(&format!("/api/v1/lists/{}", list["id"])).await;
    let emails: Vec<&str> = detail["recipients"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["email"].as_str().unwrap())
        .collect();
    assert!(emails.contains(&"lra@hhs.example"), "{emails:?}");
    assert!(!emails.contains(&"clinician@hhs.example"));

    let (s, e) = admin
        .post(
            "/api/v1/lists",
            json!({"code": "lras", "name_en": "x", "name_fr": "x", "kind": "custom"}),
        )
        .await;
    assert_eq!(
        (s, e["code"].as_str()),
        (StatusCode::CONFLICT, Some("list_code_taken"))
    );
    for (body, code) in [
        (
            json!({"code": "x y", "name_en": "x", "name_fr": "x", "kind": "custom"}),
            "invalid_code",
        ),
        (
            json!({"code": "ops", "name_en": "x", "name_fr": "x", "kind": "role", "role": "administrator"}),
            "invalid_choice",
        ),
        (
            json!({"code": "svc", "name_en": "x", "name_fr": "x", "kind": "service", "service_id": 9999}),
            "unknown_service",
        ),
        (
            json!({"code": "k", "name_en": "x", "name_fr": "x", "kind": "weekly"}),
            "invalid_choice",
        ),
        (
            json!({"code": "k", "name_en": "", "name_fr": "x", "kind": "custom"}),
            "required",
        ),
    ] {
        let (s, e) = admin.post("/api/v1/lists", body.clone()).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{body} → {e}");
        assert_eq!(e["code"], code, "{body} → {e}");
    }
    let agent = app.api_as("agent1@operator.example").await;
    let (s, _) = agent
        .post(
            "/api/v1/lists",
            json!({"code": "mine", "name_en": "x", "name_fr": "x", "kind": "custom"}),
        )
        .await;
    assert_eq!(
        s,
        StatusCode::FORBIDDEN,
        "agents send notices; administrators make lists"
    );

    let (_, custom) = admin
        .post(
            "/api/v1/lists",
            json!({"code": "vendors", "name_en": "Vendors", "name_fr": "Fournisseurs", "kind": "custom"}),
        )
        .await;
    let custom = custom["id"].as_i64().unwrap();
    let base = json!({"list_ids": [custom], "subject_en": "s", "subject_fr": "s", "body_en": "b", "body_fr": "b"});
    let (s, e) = agent.post("/api/v1/notices", base.clone()).await;
    assert_eq!(
        (s, e["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("no_recipients"))
    );
    let (s, e) = agent
        .post(
            &format!("/api/v1/lists/{custom}/members"),
            json!({"emails": ["not an address"]}),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    let (s, added) = agent
        .post(
            &format!("/api/v1/lists/{custom}/members"),
            json!({"emails": ["Support@Vendor.example", "support@vendor.example"], "organization_ids": [app.org_id("NHS").await]}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{added}");
    assert_eq!(added["added"], 2);
    let mut phi = base.clone();
    phi["body_fr"] = json!("Patient 9876543217 ne voit pas ses résultats.");
    let (s, e) = agent.post("/api/v1/notices", phi).await;
    assert_eq!(
        (s, e["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("phi_detected")),
        "{e}"
    );
    let mut unknown = base.clone();
    unknown["list_ids"] = json!([custom, 9999]);
    let (s, e) = agent.post("/api/v1/notices", unknown).await;
    assert_eq!(
        (s, e["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("unknown_list"))
    );
    let (s, sent) = agent.post("/api/v1/notices", base).await;
    assert_eq!(s, StatusCode::CREATED, "{sent}");
    // The vendor's address (once, in both languages) and Niagara's help desk contact,
    // whose address is also Niagara's help desk address: one message, in French.
    assert_eq!(sent["recipients"], 2, "{sent}");
    let niagara = app.last_mail_to("helpdesk@niagara.example").await.unwrap();
    assert_eq!(niagara.template_version.as_deref(), Some("notice fr v0"));
    let vendor = app.last_mail_to("support@vendor.example").await.unwrap();
    assert_eq!(
        vendor.template_version.as_deref(),
        Some("notice en v0 + fr v0")
    );

    let partner = app.api_as("lra@hhs.example").await;
    let (s, _) = partner.get("/api/v1/lists").await;
    assert_eq!(s, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn one_click_links_turn_off_a_ticket_and_ask_removal_from_a_list() {
    let app = TestApp::spawn().await;
    let clinician = app.api_as("clinician@hhs.example").await;
    let (s, t) = clinician
        .post(
            "/api/v1/tickets",
            json!({"kind": "incident", "summary": "Lab feed late", "details": "Results arrive hours late."}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{t}");
    let number = t["number"].as_str().unwrap().to_owned();
    let ack = app.last_mail_to("clinician@hhs.example").await.unwrap();
    let link = unsubscribe_link(&ack.message);
    assert!(link.starts_with(&app.url("/unsubscribe/")), "{link}");

    // Anyone holding the link sees what it does; a GET changes nothing (mail scanners).
    let http = reqwest::Client::new();
    let page = http.get(&link).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    assert!(page.text().await.unwrap().contains(&number));
    // A tampered link is refused.
    let tampered = format!("{}x", link.trim_end_matches(|c: char| c != '.'));
    let refused = http.post(&tampered).send().await.unwrap();
    assert_eq!(refused.status(), StatusCode::NOT_FOUND);
    // The mail client's one-click POST (RFC 8058): no session, no CSRF token.
    let done = http
        .post(&link)
        .header("content-type", "application/x-www-form-urlencoded")
        .body("List-Unsubscribe=One-Click")
        .send()
        .await
        .unwrap();
    assert_eq!(done.status(), StatusCode::OK);

    let agent = app.api_as("agent1@operator.example").await;
    let (s, r) = agent
        .patch(
            &format!("/api/v1/tickets/{number}"),
            json!({"status": "resolved", "status_reason": "Interface restarted"}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{r}");
    let last = app.last_mail_to("clinician@hhs.example").await.unwrap();
    assert_eq!(last.kind, "ticket-created", "no mail after turning it off");

    // A list notice's link records a removal request for that address.
    let admin = app.api_as("admin@operator.example").await;
    let (_, list) = admin
        .post(
            "/api/v1/lists",
            json!({"code": "partners", "name_en": "Partners", "name_fr": "Partenaires", "kind": "custom"}),
        )
        .await;
    let id = list["id"].as_i64().unwrap();
    agent
        .post(
            &format!("/api/v1/lists/{id}/members"),
            json!({"emails": ["desk@partner.example"]}),
        )
        .await;
    let (s, _) = agent
        .post(
            "/api/v1/notices",
            json!({"list_ids": [id], "subject_en": "Hello", "subject_fr": "Bonjour", "body_en": "Text", "body_fr": "Texte"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED);
    let notice = app.last_mail_to("desk@partner.example").await.unwrap();
    let link = unsubscribe_link(&notice.message);
    for _ in 0..2 {
        let done = http.post(&link).send().await.unwrap();
        assert_eq!(done.status(), StatusCode::OK);
    }
    let (_, detail) = admin.get(&format!("/api/v1/lists/{id}")).await;
    let member = &detail["members"][0];
    assert_eq!(member["email"], "desk@partner.example");
    assert_eq!(member["status"], "removal_requested");
}
