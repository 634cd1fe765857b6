//! Tickets through the API: raise, attach, share, comment, work, escalate, resolve, reopen;
//! the PHI guard; bad input; visibility of restricted kinds; search.
use serde_json::{Value, json};
use testkit::{Api, TestApp};

/// A Luhn-valid Ontario health card number (test value, not a real person's).
const VALID_HCN: &str = "9876543217";
/// The same digits with the check digit changed: fails Luhn.
const INVALID_HCN: &str = "9876543218";

async fn subcategory(api: &Api, service: &str, request_type: &str, code: &str) -> i64 {
    let (s, catalogue) = api.get("/api/v1/catalogue").await;
    assert_eq!(s, 200, "{catalogue}");
    for svc in catalogue.as_array().unwrap() {
        if svc["code"] != service {
            continue;
        }
        for t in svc["request_types"].as_array().unwrap() {
            if t["code"] != request_type {
                continue;
            }
            for sub in t["subcategories"].as_array().unwrap() {
                if sub["code"] == code {
                    return sub["id"].as_i64().unwrap();
                }
            }
        }
    }
    panic!("no {service}/{request_type}/{code} in the catalogue");
}

fn incident(sub: i64) -> Value {
    json!({
        "subcategory_id": sub,
        "impact": 2,
        "urgency": 2,
        "summary": "Viewer very slow in the emergency department",
        "details": "Opening a patient summary takes 40 seconds since 07:00.",
        "first_occurrence": "2026-01-05T07:00:00Z",
        "service_impact": "Viewer degraded for one site",
        "user_impact": "About 30 clinicians wait on every chart",
        "troubleshooting": "Cleared browser cache, tried two workstations",
        "no_workaround": true,
        "partner_references": ["HHS-2026-0042", "HHS-EXT-7"],
    })
}

fn kinds(view: &Value) -> Vec<String> {
    view["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap().to_owned())
        .collect()
}

const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR screenshot bytes";

#[tokio::test]
async fn a_request_goes_from_portal_to_tier_2_and_back() {
    let app = TestApp::spawn().await;
    let clinician = app.api_as("clinician@hhs.example").await;
    let sub = subcategory(&clinician, "CHR", "viewer", "slow").await;

    // The form's required fields are enforced.
    let mut body = incident(sub);
    body.as_object_mut().unwrap().remove("troubleshooting");
    let (s, e) = clinician.post("/api/v1/tickets", body).await;
    assert_eq!(
        (s.as_u16(), e["code"].as_str(), e["field"].as_str()),
        (422, Some("required"), Some("troubleshooting")),
        "{e}"
    );

    let mut body = incident(sub);
    body["on_behalf_of"] = json!("helpdesk@hhs.example");
    let (s, t) = clinician.post("/api/v1/tickets", body).await;
    assert_eq!(s, 201, "{t}");
    let number = t["number"].as_str().unwrap().to_owned();
    assert!(number.starts_with("INC-") && number.len() == 10, "{number}");
    assert_eq!(t["status"], "new");
    assert_eq!(t["priority"], 2, "impact 2 × urgency 2 is P2");
    assert_eq!(t["support_group_code"], "SD");
    assert_eq!(t["on_behalf_of_name"], "Hana Helpdesk");
    assert_eq!(
        t["partner_references"],
        json!(["HHS-2026-0042", "HHS-EXT-7"])
    );
    assert_eq!(t["channel"], "api");
    let mail = app
        .last_mail_to("clinician@hhs.example")
        .await
        .expect("creation mail");
    assert!(mail.subject.contains(&number), "{}", mail.subject);

    // Attach a screenshot, share with a colleague, comment.
    let (s, a) = clinician
        .multipart(
            &format!("/api/v1/tickets/{number}/attachments"),
            &[("comment", "Screenshot of the spinner")],
            &[("spinner.png", PNG.to_vec())],
        )
        .await;
    assert_eq!(s, 201, "{a}");
    let attachment = a["ids"][0].as_i64().unwrap();
    let (s, e) = clinician
        .post(
            &format!("/api/v1/tickets/{number}/share"),
            json!({"person": "cpc@hhs.example"}),
        )
        .await;
    assert_eq!(s, 204, "{e}");
    let (s, e) = clinician
        .post(
            &format!("/api/v1/tickets/{number}/share"),
            json!({"person": "lra@niagara.example"}),
        )
        .await;
    assert_eq!(
        (s.as_u16(), e["code"].as_str()),
        (422, Some("person_not_in_organization"))
    );
    let cpc = app.api_as("cpc@hhs.example").await;
    let (s, _) = cpc.get(&format!("/api/v1/tickets/{number}")).await;
    assert_eq!(s, 200, "shared with the CPC");
    let (s, _) = clinician
        .post(
            &format!("/api/v1/tickets/{number}/comments"),
            json!({"body": "Still slow at noon."}),
        )
        .await;
    assert_eq!(s, 201);
    let file = clinician
        .request(
            reqwest::Method::GET,
            &format!("/api/v1/tickets/{number}/attachments/{attachment}"),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(file.status(), 200);
    assert_eq!(file.bytes().await.unwrap().as_ref(), PNG);

    // The agent finds it in the service desk queue, takes it, escalates to tier 2.
    let agent1 = app.api_as("agent1@operator.example").await;
    let (s, queue) = agent1
        .get("/api/v1/tickets?group=SD&status=open&sort=priority")
        .await;
    assert_eq!(s, 200);
    assert!(
        queue["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["number"] == number.as_str()),
        "{queue}"
    );
    let me = app.person_id("agent1@operator.example").await;
    let (s, t) = agent1
        .patch(
            &format!("/api/v1/tickets/{number}"),
            json!({"status": "in_progress", "assignee_id": me}),
        )
        .await;
    assert_eq!(s, 200, "{t}");
    assert_eq!(t["assignee_id"], me);
    let (s, _) = agent1
        .post(
            &format!("/api/v1/tickets/{number}/comments"),
            json!({"body": "Looks like a slow database node.", "internal": true}),
        )
        .await;
    assert_eq!(s, 201);
    let (s, t) = agent1
        .patch(
            &format!("/api/v1/tickets/{number}"),
            json!({"escalate_to_tier": 2}),
        )
        .await;
    assert_eq!(s, 200, "{t}");
    assert_eq!(
        (
            t["tier"].as_i64(),
            t["support_group_code"].as_str(),
            t["assignee_id"].as_i64()
        ),
        (Some(2), Some("T2"), None)
    );

    // Tier 2 reassesses the priority (reason required), then resolves it.
    let agent2 = app.api_as("agent2@operator.example").await;
    let (s, e) = agent2
        .patch(&format!("/api/v1/tickets/{number}"), json!({"impact": 1}))
        .await;
    assert_eq!(
        (s.as_u16(), e["field"].as_str()),
        (422, Some("priority_reason"))
    );
    let (s, t) = agent2
        .patch(
            &format!("/api/v1/tickets/{number}"),
            json!({"impact": 1, "urgency": 1, "priority_reason": "Two more sites affected"}),
        )
        .await;
    assert_eq!(s, 200, "{t}");
    assert_eq!(t["priority"], 1);
    let (s, e) = agent2
        .patch(
            &format!("/api/v1/tickets/{number}"),
            json!({"status": "resolved"}),
        )
        .await;
    assert_eq!(
        (s.as_u16(), e["field"].as_str()),
        (422, Some("status_reason"))
    );
    let (s, t) = agent2
        .patch(
            &format!("/api/v1/tickets/{number}"),
            json!({"status": "resolved", "status_reason": "Database node replaced"}),
        )
        .await;
    assert_eq!(s, 200, "{t}");
    assert_eq!(t["status"], "resolved");
    let mail = app.last_mail_to("clinician@hhs.example").await.unwrap();
    assert!(mail.subject.contains("resolved"), "{}", mail.subject);

    // The reporter reopens it; the customer does not see the internal note.
    let (s, t) = clinician
        .patch(
            &format!("/api/v1/tickets/{number}"),
            json!({"status": "in_progress", "status_reason": "Slow again after lunch"}),
        )
        .await;
    assert_eq!(s, 200, "{t}");
    assert_eq!(t["status"], "in_progress");
    let customer_view = kinds(&t);
    assert!(
        !customer_view.contains(&"note".to_owned()),
        "{customer_view:?}"
    );
    let (_, full) = agent2.get(&format!("/api/v1/tickets/{number}")).await;
    let all = kinds(&full);
    let with_file = full["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["data"]["files"] == json!(["spinner.png"]));
    assert_eq!(
        with_file.expect("the upload is on the timeline")["body"],
        "Screenshot of the spinner"
    );
    for kind in [
        "created",
        "shared",
        "comment",
        "status",
        "assigned",
        "note",
        "escalated",
        "priority",
        "reopened",
    ] {
        assert!(
            all.contains(&kind.to_owned()),
            "timeline lacks {kind}: {all:?}"
        );
    }
    let priority = full["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == "priority")
        .unwrap();
    assert_eq!(priority["data"]["from"]["priority"], 2);
    assert_eq!(priority["data"]["reason"], "Two more sites affected");

    // Customers may not edit fields; a closed ticket cannot be changed.
    let (s, _) = clinician
        .patch(
            &format!("/api/v1/tickets/{number}"),
            json!({"summary": "Changed"}),
        )
        .await;
    assert_eq!(s, 403);
    agent2
        .patch(
            &format!("/api/v1/tickets/{number}"),
            json!({"status": "resolved", "status_reason": "Fixed for good"}),
        )
        .await;
    let (s, _) = clinician
        .patch(
            &format!("/api/v1/tickets/{number}"),
            json!({"status": "closed"}),
        )
        .await;
    assert_eq!(s, 200);
    let (s, e) = agent2
        .post(
            &format!("/api/v1/tickets/{number}/comments"),
            json!({"body": "late"}),
        )
        .await;
    assert_eq!(
        (s.as_u16(), e["code"].as_str()),
        (409, Some("ticket_closed"))
    );
    let (s, e) = agent2
        .patch(
            &format!("/api/v1/tickets/{number}"),
            json!({"summary": "late"}),
        )
        .await;
    assert_eq!(
        (s.as_u16(), e["code"].as_str()),
        (409, Some("ticket_closed"))
    );
}

#[tokio::test]
async fn the_phi_guard_refuses_health_card_numbers_and_keeps_nothing() {
    let app = TestApp::spawn().await;
    let clinician = app.api_as("clinician@hhs.example").await.in_language("fr");
    let (_, before) = clinician.get("/api/v1/tickets?mine=true").await;
    let body = json!({"kind": "incident", "summary": "Patient chart missing", "details": format!("Patient HCN {VALID_HCN} AB cannot be found")});
    let (s, e) = clinician.post("/api/v1/tickets", body).await;
    assert_eq!(
        (s.as_u16(), e["code"].as_str(), e["field"].as_str()),
        (422, Some("phi_detected"), Some("details")),
        "{e}"
    );
    assert_eq!(e["detail"]["kind"], "health_card");
    assert!(
        !e.to_string().contains(VALID_HCN),
        "the error never echoes the number: {e}"
    );
    assert!(
        e["message"].as_str().unwrap().contains("carte Santé"),
        "{e}"
    );
    let (_, after) = clinician.get("/api/v1/tickets?mine=true").await;
    assert_eq!(
        before["items"].as_array().unwrap().len(),
        after["items"].as_array().unwrap().len()
    );

    // Ten digits failing the check digit are an ordinary number.
    let body = json!({"kind": "incident", "summary": "Interface id", "details": format!("Interface {INVALID_HCN} stopped")});
    let (s, t) = clinician.post("/api/v1/tickets", body).await;
    assert_eq!(s, 201, "{t}");
    let number = t["number"].as_str().unwrap();

    // Comments and text attachments are checked too.
    let (s, e) = clinician
        .post(
            &format!("/api/v1/tickets/{number}/comments"),
            json!({"body": format!("card {}", "9876 543 217")}),
        )
        .await;
    assert_eq!(
        (s.as_u16(), e["code"].as_str()),
        (422, Some("phi_detected"))
    );
    let (s, e) = clinician
        .multipart(
            &format!("/api/v1/tickets/{number}/attachments"),
            &[],
            &[(
                "export.csv",
                format!("name,card\nX,{VALID_HCN}\n").into_bytes(),
            )],
        )
        .await;
    assert_eq!(
        (s.as_u16(), e["code"].as_str(), e["field"].as_str()),
        (422, Some("phi_detected"), Some("attachment"))
    );
    let (_, view) = clinician.get(&format!("/api/v1/tickets/{number}")).await;
    assert_eq!(view["attachments"], json!([]));
    assert_eq!(kinds(&view), vec!["created"]);

    // An agent redacts stored text; the audit row says how much, not what.
    let agent = app.api_as("agent1@operator.example").await;
    let (s, r) = agent
        .post(
            &format!("/api/v1/tickets/{number}/redactions"),
            json!({"target": "details", "text": INVALID_HCN}),
        )
        .await;
    assert_eq!((s.as_u16(), r["count"].as_i64()), (200, Some(1)), "{r}");
    let (_, view) = agent.get(&format!("/api/v1/tickets/{number}")).await;
    assert_eq!(view["details"], "Interface [redacted] stopped");
    let admin = app.api_as("admin@operator.example").await;
    let (_, audit) = admin.get("/api/v1/audit?action=ticket.redact").await;
    let text = audit.to_string();
    assert!(text.contains("ticket.redact"), "{text}");
    assert!(!text.contains(INVALID_HCN), "{text}");
}

#[tokio::test]
async fn bad_input_gets_clear_errors() {
    let app = TestApp::spawn().await;
    let clinician = app.api_as("clinician@hhs.example").await;
    let cases = [
        (
            json!({"kind": "rumour", "summary": "x", "details": "y"}),
            422,
            "unknown_kind",
        ),
        (
            json!({"subcategory_id": 99999, "summary": "x", "details": "y"}),
            422,
            "unknown_subcategory",
        ),
        (json!({"kind": "incident", "details": "y"}), 422, "required"),
        (
            json!({"kind": "incident", "summary": "x", "details": "y", "impact": 7}),
            422,
            "out_of_range",
        ),
        (
            json!({"kind": "problem", "summary": "x", "details": "y"}),
            422,
            "unknown_kind",
        ),
        (
            json!({"kind": "incident", "summary": "x", "details": "y", "workaround": "reboot", "no_workaround": true}),
            422,
            "workaround_conflict",
        ),
        (
            json!({"kind": "incident", "summary": "x", "details": "y", "colour": "red"}),
            422,
            "unknown_field",
        ),
        (
            json!({"kind": "incident", "summary": "x", "details": "y", "organization_id": 3}),
            403,
            "forbidden",
        ),
    ];
    for (body, status, code) in cases {
        let (s, e) = clinician.post("/api/v1/tickets", body.clone()).await;
        assert_eq!(
            (s.as_u16(), e["code"].as_str()),
            (status, Some(code)),
            "{body}: {e}"
        );
        assert!(e["message"].as_str().is_some_and(|m| !m.is_empty()));
    }
    let (_, t) = clinician
        .post(
            "/api/v1/tickets",
            json!({"kind": "incident", "summary": "Slow", "details": "Slow"}),
        )
        .await;
    let number = t["number"].as_str().unwrap();
    let (s, e) = clinician
        .patch(
            &format!("/api/v1/tickets/{number}"),
            json!({"status": "closed"}),
        )
        .await;
    assert_eq!(
        (s.as_u16(), e["code"].as_str()),
        (409, Some("transition_not_allowed")),
        "{e}"
    );
    let (s, e) = clinician
        .multipart(
            &format!("/api/v1/tickets/{number}/attachments"),
            &[],
            &[("tool.exe", b"MZ\x90\0".to_vec())],
        )
        .await;
    assert_eq!(
        (s.as_u16(), e["code"].as_str()),
        (422, Some("attachment_type_refused"))
    );
    let (s, e) = clinician
        .multipart(
            &format!("/api/v1/tickets/{number}/attachments"),
            &[],
            &[("photo.png", b"MZ\x90\0".to_vec())],
        )
        .await;
    assert_eq!(
        (s.as_u16(), e["code"].as_str()),
        (422, Some("attachment_type_mismatch"))
    );
    let big = vec![b'a'; 10 * 1024 * 1024 + 1];
    let (s, e) = clinician
        .multipart(
            &format!("/api/v1/tickets/{number}/attachments"),
            &[],
            &[("big.txt", big)],
        )
        .await;
    assert_eq!(
        (s.as_u16(), e["code"].as_str()),
        (422, Some("attachment_too_large"))
    );
    let (s, e) = clinician.get("/api/v1/tickets?status=sleeping").await;
    assert_eq!(
        (s.as_u16(), e["code"].as_str()),
        (422, Some("invalid_choice"))
    );
    let (s, e) = clinician.get("/api/v1/tickets?cursor=bm9wZQ").await;
    assert_eq!(
        (s.as_u16(), e["code"].as_str()),
        (422, Some("invalid_cursor"))
    );
    let (s, e) = clinician.get("/api/v1/tickets/INC-999999").await;
    assert_eq!((s.as_u16(), e["code"].as_str()), (404, Some("not_found")));
    // Another organization's ticket looks like no ticket at all.
    let other = app.api_as("clinician@niagara.example").await;
    let (s, _) = other.get(&format!("/api/v1/tickets/{number}")).await;
    assert_eq!(s, 404);
    let (s, _) = other
        .patch(
            &format!("/api/v1/tickets/{number}"),
            json!({"status": "cancelled"}),
        )
        .await;
    assert_eq!(s, 404);
}

#[tokio::test]
async fn privacy_tickets_are_seen_by_the_privacy_office_and_reads_are_audited() {
    let app = TestApp::spawn().await;
    let clinician = app.api_as("clinician@hhs.example").await;
    let sub = subcategory(&clinician, "CHR", "privacy-security", "privacy-inquiry").await;
    let (s, t) = clinician
        .post("/api/v1/tickets", json!({"subcategory_id": sub, "summary": "Who looked at my record?", "details": "A colleague may have opened records without a reason.", "custom": {"x_requester_type": "clinician"}}))
        .await;
    assert_eq!(s, 201, "{t}");
    let number = t["number"].as_str().unwrap().to_owned();
    assert!(number.starts_with("PRQ-"), "{number}");
    assert_eq!(t["support_group_code"], "PRIV");
    for email in [
        "agent1@operator.example",
        "helpdesk@hhs.example",
        "admin@operator.example",
        "security@operator.example",
    ] {
        let (s, _) = app
            .api_as(email)
            .await
            .get(&format!("/api/v1/tickets/{number}"))
            .await;
        assert_eq!(s, 404, "{email} must not see a privacy ticket");
        let (_, list) = app
            .api_as(email)
            .await
            .get("/api/v1/tickets?q=colleague")
            .await;
        assert_eq!(list["items"], json!([]), "{email} must not find it");
    }
    let privacy = app.api_as("privacy@operator.example").await;
    let (s, _) = privacy.get(&format!("/api/v1/tickets/{number}")).await;
    assert_eq!(s, 200);
    let (_, audit) = app
        .api_as("admin@operator.example")
        .await
        .get("/api/v1/audit?action=ticket.read")
        .await;
    let rows = audit.as_array().unwrap();
    assert!(
        rows.iter()
            .any(|r| r["entity_id"] == number.as_str()
                && r["actor_label"] == "privacy@operator.example"),
        "{audit}"
    );
}

#[tokio::test]
async fn search_is_accent_insensitive_and_respects_visibility() {
    let app = TestApp::spawn().await;
    let clinician = app.api_as("clinician@hhs.example").await;
    let (_, t) = clinician
        .post("/api/v1/tickets", json!({"kind": "incident", "summary": "Événement de maintenance raté", "details": "Le flux ADT est arrêté depuis l'événement."}))
        .await;
    let number = t["number"].as_str().unwrap().to_owned();
    let (_, found) = clinician.get("/api/v1/tickets?q=evenement").await;
    assert!(
        found["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["number"] == number.as_str()),
        "{found}"
    );
    let (_, found) = clinician.get("/api/v1/tickets?q=EVENEMENT%20flux").await;
    assert_eq!(found["items"].as_array().unwrap().len(), 1, "{found}");
    let (_, found) = clinician
        .get(&format!("/api/v1/tickets?q={}", number.to_lowercase()))
        .await;
    assert_eq!(found["items"][0]["number"], number.as_str());
    // Comments are searchable once written.
    clinician
        .post(
            &format!("/api/v1/tickets/{number}/comments"),
            json!({"body": "Le serveur zorglub redémarre."}),
        )
        .await;
    let (_, found) = clinician.get("/api/v1/tickets?q=zorglub").await;
    assert_eq!(found["items"].as_array().unwrap().len(), 1);
    // Another organization does not find it; the operator's agents do.
    let (_, found) = app
        .api_as("helpdesk@niagara.example")
        .await
        .get("/api/v1/tickets?q=evenement")
        .await;
    assert_eq!(found["items"], json!([]));
    let (_, found) = app
        .api_as("agent1@operator.example")
        .await
        .get("/api/v1/tickets?q=evenement")
        .await;
    assert!(
        found["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["number"] == number.as_str()),
        "{found}"
    );
}

#[tokio::test]
async fn organization_desks_see_their_organization_and_end_users_their_own() {
    let app = TestApp::spawn().await;
    let clinician = app.api_as("clinician@hhs.example").await;
    let (_, t) = clinician
        .post(
            "/api/v1/tickets",
            json!({"kind": "service_request", "summary": "Need training", "details": "Please"}),
        )
        .await;
    let number = t["number"].as_str().unwrap().to_owned();
    let desk = app.api_as("helpdesk@hhs.example").await;
    let (s, _) = desk.get(&format!("/api/v1/tickets/{number}")).await;
    assert_eq!(s, 200, "the organization's help desk sees all its tickets");
    let (_, list) = desk
        .get("/api/v1/tickets?status=open&organization=HHS")
        .await;
    assert!(list["items"].as_array().unwrap().len() >= 2);
    let (_, list) = desk.get("/api/v1/tickets?organization=NHS").await;
    assert_eq!(list["items"], json!([]));
    // Another end user of the same organization sees only their own.
    let (_, list) = clinician.get("/api/v1/tickets").await;
    assert!(
        list["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|t| t["reporter_name"] == "Dr. Chen Clinician"
                || t["on_behalf_of_name"] == "Dr. Chen Clinician"),
        "{list}"
    );
}

#[tokio::test]
async fn paging_linking_merging_and_bulk() {
    let app = TestApp::spawn().await;
    let desk = app.api_as("helpdesk@hhs.example").await;
    let mut numbers = Vec::new();
    for i in 0..7 {
        let (s, t) = desk.post("/api/v1/tickets", json!({"kind": "incident", "summary": format!("Feed delay {i}"), "details": "Lab feed late"})).await;
        assert_eq!(s, 201, "{t}");
        numbers.push(t["number"].as_str().unwrap().to_owned());
    }
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/api/v1/tickets?q=feed%20delay&limit=3&cursor={c}"),
            None => "/api/v1/tickets?q=feed%20delay&limit=3".to_owned(),
        };
        let (s, page) = desk.get(&path).await;
        assert_eq!(s, 200, "{page}");
        for t in page["items"].as_array().unwrap() {
            seen.push(t["number"].as_str().unwrap().to_owned());
        }
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    let mut expected = numbers.clone();
    expected.reverse();
    assert_eq!(seen, expected, "newest first, each once");

    let agent = app.api_as("agent1@operator.example").await;
    let (s, e) = agent
        .post(
            &format!("/api/v1/tickets/{}/merge", numbers[1]),
            json!({"into": numbers[0]}),
        )
        .await;
    assert_eq!(s, 204, "{e}");
    let (_, dup) = agent.get(&format!("/api/v1/tickets/{}", numbers[1])).await;
    assert_eq!(
        (dup["status"].as_str(), dup["merged_into"].as_str()),
        (Some("cancelled"), Some(numbers[0].as_str()))
    );
    let (s, e) = agent
        .post(
            &format!("/api/v1/tickets/{}/links", numbers[2]),
            json!({"number": numbers[3], "kind": "caused_by"}),
        )
        .await;
    assert_eq!(
        (s.as_u16(), e["code"].as_str()),
        (422, Some("link_not_allowed")),
        "an incident is caused by a problem, not an incident"
    );
    let (s, _) = agent
        .post(
            &format!("/api/v1/tickets/{}/links", numbers[2]),
            json!({"number": numbers[3], "kind": "related"}),
        )
        .await;
    assert_eq!(s, 204);
    let (_, linked) = agent.get(&format!("/api/v1/tickets/{}", numbers[3])).await;
    assert_eq!(linked["links"][0]["number"], numbers[2].as_str());
    let me = app.person_id("agent1@operator.example").await;
    let (s, results) = agent
        .post("/api/v1/tickets/bulk", json!({"numbers": [numbers[4], numbers[5], numbers[1]], "patch": {"assignee_id": me, "status": "in_progress"}}))
        .await;
    assert_eq!(s, 200, "{results}");
    assert_eq!(results[0]["ok"], true);
    assert_eq!(results[1]["ok"], true);
    assert_eq!(
        (results[2]["ok"].as_bool(), results[2]["code"].as_str()),
        (Some(false), Some("ticket_closed"))
    );
    let (s, _) = desk
        .post(
            "/api/v1/tickets/bulk",
            json!({"numbers": [numbers[6]], "patch": {"status": "in_progress"}}),
        )
        .await;
    assert_eq!(s, 403);
}

#[tokio::test]
async fn administrators_edit_the_catalogue_without_a_release() {
    let app = TestApp::spawn().await;
    let admin = app.api_as("admin@operator.example").await;
    let (_, services) = admin.get("/api/v1/services").await;
    let chr = services
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["code"] == "CHR")
        .unwrap()["id"]
        .as_i64()
        .unwrap();
    let (_, groups) = admin.get("/api/v1/support-groups").await;
    let t2 = groups
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["code"] == "T2")
        .unwrap()["id"]
        .as_i64()
        .unwrap();
    let (s, created) = admin
        .post("/api/v1/catalogue/request-types", json!({"service_id": chr, "code": "reports", "name_en": "Reports", "name_fr": "Rapports"}))
        .await;
    assert_eq!(s, 200, "{created}");
    let type_id = created["id"].as_i64().unwrap();
    let (s, e) = admin
        .post("/api/v1/catalogue/subcategories", json!({"request_type_id": type_id, "code": "late", "name_en": "Late report", "name_fr": "Rapport en retard", "kind": "incident", "impact": 3, "urgency": 3, "support_group_id": t2, "fields": [{"name": "x_report", "required": true}]}))
        .await;
    assert_eq!(
        (s.as_u16(), e["code"].as_str()),
        (422, Some("invalid_form_field")),
        "custom fields need both labels"
    );
    let (s, sub) = admin
        .post("/api/v1/catalogue/subcategories", json!({"request_type_id": type_id, "code": "late", "name_en": "Late report", "name_fr": "Rapport en retard", "kind": "incident", "impact": 3, "urgency": 3, "support_group_id": t2, "fields": [{"name": "x_report", "required": true, "label_en": "Report name", "label_fr": "Nom du rapport"}]}))
        .await;
    assert_eq!(s, 200, "{sub}");
    let sub = sub["id"].as_i64().unwrap();
    let clinician = app.api_as("clinician@hhs.example").await;
    let (s, e) = clinician
        .post(
            "/api/v1/tickets",
            json!({"subcategory_id": sub, "summary": "Late", "details": "Monthly report late"}),
        )
        .await;
    assert_eq!((s.as_u16(), e["field"].as_str()), (422, Some("custom")));
    let (s, t) = clinician
        .post("/api/v1/tickets", json!({"subcategory_id": sub, "summary": "Late", "details": "Monthly report late", "custom": {"x_report": "Usage"}}))
        .await;
    assert_eq!(s, 201, "{t}");
    assert_eq!(t["support_group_code"], "T2");
    assert_eq!(
        t["custom_fields"],
        json!([{"name": "x_report", "value": "Usage"}])
    );
    let (s, _) = clinician
        .post(
            "/api/v1/catalogue/request-types",
            json!({"service_id": chr, "code": "mine", "name_en": "x", "name_fr": "x"}),
        )
        .await;
    assert_eq!(s, 403);
}

#[tokio::test]
async fn tickets_and_numbers_survive_a_restart() {
    let mut app = TestApp::spawn().await;
    let clinician = app.api_as("clinician@hhs.example").await;
    let (_, first) = clinician
        .post(
            "/api/v1/tickets",
            json!({"kind": "service_request", "summary": "One", "details": "One"}),
        )
        .await;
    app.restart().await;
    let clinician = app.api_as("clinician@hhs.example").await;
    let (s, again) = clinician
        .get(&format!(
            "/api/v1/tickets/{}",
            first["number"].as_str().unwrap()
        ))
        .await;
    assert_eq!(s, 200);
    assert_eq!(again["summary"], "One");
    let (_, second) = clinician
        .post(
            "/api/v1/tickets",
            json!({"kind": "service_request", "summary": "Two", "details": "Two"}),
        )
        .await;
    let seq = |v: &Value| v["number"].as_str().unwrap()[3..].parse::<i64>().unwrap();
    assert_eq!(seq(&second), seq(&first) + 1);
}

/// Tickets raised together are written together (group commit): each gets its own number,
/// timeline, search document, audit row and mail, and the audit chain stays whole.
#[tokio::test]
async fn tickets_raised_at_once_are_all_written_whole() {
    let app = TestApp::spawn().await;
    let desk = app.api_as("helpdesk@hhs.example").await;
    let mut tasks = Vec::new();
    for i in 0..24 {
        let desk = desk.clone();
        tasks.push(tokio::spawn(async move {
            desk.post(
                "/api/v1/tickets",
                json!({"kind": if i % 3 == 0 { "service_request" } else { "incident" },
                       "summary": format!("Batch word{i:03}"),
                       "details": "Lab feed stalled", "impact": 3, "urgency": 3,
                       "partner_references": [format!("HHS-G-{i}")]}),
            )
            .await
        }));
    }
    let mut numbers = Vec::new();
    for task in tasks {
        let (s, body) = task.await.unwrap();
        assert_eq!(s, 201, "{body}");
        assert_eq!(body["timeline"][0]["kind"], "created", "{body}");
        numbers.push(body["number"].as_str().unwrap().to_owned());
    }
    let mut unique = numbers.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), 24);
    for (i, number) in numbers.iter().enumerate() {
        let (s, found) = desk.get(&format!("/api/v1/tickets?q=word{i:03}")).await;
        assert_eq!(s, 200);
        assert_eq!(found["items"][0]["number"], number.as_str(), "{found}");
    }
    let mut conn = app.db().reader().acquire().await.unwrap();
    let report = store::audit::verify(&mut conn).await.unwrap();
    assert_eq!(report.fault, None);
    let created: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM audit_log WHERE action = 'ticket.create'
         AND (entity_id LIKE 'INC-%' OR entity_id LIKE 'SR-%')",
    )
    .fetch_one(&mut *conn)
    .await
    .unwrap();
    assert!(created >= 24);
    let mails: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM outbox WHERE kind = 'ticket-created' AND to_address = 'helpdesk@hhs.example'",
    )
    .fetch_one(&mut *conn)
    .await
    .unwrap();
    assert!(mails >= 24);
}

/// A batch reserves every number and audit sequence it needs in one statement, whatever
/// mix of kinds it holds: each kind's numbers follow on from its last, in the order asked,
/// and nothing is taken when the transaction rolls back.
#[tokio::test]
async fn a_batch_reserves_numbers_per_kind_in_order() {
    use domain::ticket::TicketKind::{Incident, ServiceRequest};
    let app = TestApp::spawn().await;
    let db = app.db();
    let last = |kind: &'static str| {
        let db = db.clone();
        async move {
            let mut conn = db.reader().acquire().await.unwrap();
            sqlx::query_scalar::<_, i64>("SELECT last FROM ticket_sequences WHERE kind = $1")
                .bind(kind)
                .fetch_one(&mut *conn)
                .await
                .unwrap()
        }
    };
    let (inc, sr) = (last("incident").await, last("service_request").await);
    let mut tx = db.begin().await.unwrap();
    let head: i64 = sqlx::query_scalar("SELECT seq FROM audit_head WHERE id = 1")
        .fetch_one(&mut *tx)
        .await
        .unwrap();
    let kinds = [Incident, ServiceRequest, Incident, Incident, ServiceRequest];
    let reservation = store::tickets::reserve(&mut tx, db.backend(), &kinds)
        .await
        .unwrap();
    let numbers: Vec<&str> = reservation
        .tickets
        .iter()
        .map(|r| r.number.as_str())
        .collect();
    let inc_n = |n: i64| domain::ticket::format_number(Incident, n);
    let sr_n = |n: i64| domain::ticket::format_number(ServiceRequest, n);
    assert_eq!(
        numbers,
        [
            inc_n(inc + 1),
            sr_n(sr + 1),
            inc_n(inc + 2),
            inc_n(inc + 3),
            sr_n(sr + 2)
        ]
    );
    let seqs: Vec<i64> = reservation.tickets.iter().map(|r| r.seq).collect();
    assert_eq!(seqs, (head + 1..=head + 5).collect::<Vec<_>>());
    tx.rollback().await.unwrap();
    assert_eq!(
        (last("incident").await, last("service_request").await),
        (inc, sr)
    );
}

/// When one ticket of a batch cannot be written, it alone fails: the others are stored and
/// nothing of the failed one is.
#[tokio::test]
async fn a_failing_ticket_does_not_take_its_batch_down() {
    let app = TestApp::spawn().await;
    let state = app.running.as_ref().unwrap().state.clone();
    let mut conn = app.db().reader().acquire().await.unwrap();
    let reporter = store::people::get(
        &mut conn,
        &domain::policy::OrgScope::All,
        app.person_id("helpdesk@hhs.example").await,
    )
    .await
    .unwrap();
    let before: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM tickets")
        .fetch_one(&mut *conn)
        .await
        .unwrap();
    drop(conn);
    let job = |summary: &str, organization_id: i64| {
        let draft = domain::ticket::check_draft(
            &domain::ticket::DraftInput {
                summary: summary.into(),
                details: "Details".into(),
                ..Default::default()
            },
            &[],
            (3, 3),
            &jiff::tz::TimeZone::UTC,
            jiff::Timestamp::now(),
        )
        .unwrap();
        web::tickets::CreateJob {
            new: store::tickets::NewTicket {
                kind: domain::ticket::TicketKind::Incident,
                organization_id,
                service_id: None,
                subcategory_id: None,
                reporter_id: reporter.id,
                on_behalf_of_id: None,
                draft,
                priority: 3,
                support_group_id: None,
                channel: domain::ticket::Channel::Api,
                policy_pack_id: None,
                sla: Default::default(),
                created_at: jiff::Timestamp::now(),
            },
            actor: store::audit::Actor::system("test"),
            files: Vec::new(),
            reporter: reporter.clone(),
        }
    };
    let org = reporter.organization_id;
    // An organization that does not exist breaks the foreign key at insert time.
    let (a, bad, b) = tokio::join!(
        state.creates.submit(&state, job("First good", org)),
        state.creates.submit(&state, job("Bad", 987_654_321)),
        state.creates.submit(&state, job("Second good", org)),
    );
    let first = a.expect("first stored").number;
    let second = b.expect("second stored").number;
    assert!(bad.is_err());
    let desk = app.api_as("helpdesk@hhs.example").await;
    for number in [&first, &second] {
        let (s, _) = desk.get(&format!("/api/v1/tickets/{number}")).await;
        assert_eq!(s, 200);
    }
    let mut conn = app.db().reader().acquire().await.unwrap();
    let after: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM tickets")
        .fetch_one(&mut *conn)
        .await
        .unwrap();
    assert_eq!(after, before + 2);
    let orphans: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM audit_log WHERE action = 'ticket.create' AND organization_id = 987654321",
    )
    .fetch_one(&mut *conn)
    .await
    .unwrap();
    assert_eq!(orphans, 0);
    assert_eq!(store::audit::verify(&mut conn).await.unwrap().fault, None);
}

/// The create response is built from what was written, not read back: it must be exactly
/// what `GET` returns afterwards, for every shape of ticket.
#[tokio::test]
async fn the_create_response_is_what_get_returns() {
    let app = TestApp::spawn().await;
    let clinician = app.api_as("clinician@hhs.example").await;
    let agent = app.api_as("agent1@operator.example").await;
    let sub = subcategory(&clinician, "CHR", "viewer", "slow").await;
    let (_, orgs) = agent.get("/api/v1/organizations").await;
    let hhs = orgs
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["code"] == "HHS")
        .expect("HHS")["id"]
        .as_i64()
        .unwrap();
    let (_, groups) = agent.get("/api/v1/support-groups").await;
    let t2 = groups
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["code"] == "T2")
        .expect("T2")["id"]
        .as_i64()
        .unwrap();

    let mut from_catalogue = incident(sub);
    from_catalogue["on_behalf_of"] = json!("helpdesk@hhs.example");
    from_catalogue["partner_references"] = json!(["Z-9", "A-1", "m-5"]);
    let cases = [
        (&clinician, from_catalogue),
        (
            &clinician,
            json!({"kind": "incident", "summary": "Feed late", "details": "ADT feed is 20 minutes behind."}),
        ),
        (
            &agent,
            json!({"kind": "service_request", "organization_id": hhs, "support_group_id": t2,
                   "channel": "phone", "impact": 1, "urgency": 4, "configuration_item": "viewer-01",
                   "summary": "Phone: add a user", "details": "Caller asks for a new account."}),
        ),
        (
            &agent,
            json!({"kind": "privacy_incident", "organization": "hhs", "summary": "Possible snooping",
                   "details": "Audit shows unusual access.", "workaround": "Account locked"}),
        ),
    ];
    for (who, body) in cases {
        let (s, created) = who.post("/api/v1/tickets", body.clone()).await;
        assert_eq!(s, 201, "{body} → {created}");
        let number = created["number"].as_str().unwrap();
        let (s, read) = who.get(&format!("/api/v1/tickets/{number}")).await;
        assert_eq!(s, 200, "{read}");
        assert_eq!(created, read, "create response differs from GET for {body}");
    }
}
