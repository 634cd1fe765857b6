//! The major incident review report: drafted from the ticket, refused for release while an
//! IP address remains and released after the redaction pass; a partner of the affected
//! organization asks for a copy and reads it once released; another organization cannot.
use serde_json::json;
use testkit::TestApp;

const ADMIN: &str = "admin@operator.example";
const PARTNER: &str = "lra@hhs.example";
const OTHER_ORGANIZATION: &str = "helpdesk@niagara.example";

#[tokio::test]
async fn report_drafted_redacted_released_and_read_by_the_partner_who_asked() {
    let app = TestApp::spawn().await;
    let desk = app.api_as(ADMIN).await.in_language("en");

    let (s, raised) = desk
        .post(
            "/api/v1/tickets",
            json!({"kind": "incident", "organization": "HHS", "impact": 1, "urgency": 1,
                   "summary": "Clinical viewer down for every site",
                   "details": "The interface engine at 10.20.30.40 stopped answering; hl7-prod.hhs.example refused connections."}),
        )
        .await;
    assert_eq!(s, 201, "{raised}");
    let number = raised["number"].as_str().unwrap().to_owned();
    let (s, e) = desk
        .post(
            &format!("/api/v1/tickets/{number}/major-incident"),
            json!({"bridge": "Bridge 1-800-555-0100, code 4242"}),
        )
        .await;
    assert!(s.is_success(), "{e}");
    let (s, e) = desk
        .patch(
            &format!("/api/v1/tickets/{number}"),
            json!({"status": "resolved", "status_reason": "Interface engine restarted"}),
        )
        .await;
    assert_eq!(s, 200, "{e}");
    let report_path = format!("/api/v1/major-incidents/{number}/report");

    // The partner asks before the release: recorded, not readable yet.
    let partner = app.api_as(PARTNER).await;
    let (s, standing) = partner
        .post(&format!("{report_path}/requests"), json!({}))
        .await;
    assert_eq!(
        (s.as_u16(), standing["status"].as_str()),
        (201, Some("requested")),
        "{standing}"
    );
    let (s, e) = partner.get(&report_path).await;
    assert_eq!(
        (
            s.as_u16(),
            e["code"].as_str(),
            e["detail"]["status"].as_str()
        ),
        (403, Some("copy_not_available"), Some("requested")),
        "{e}"
    );

    // Drafted from the ticket.
    let (s, view) = desk.post(&format!("{report_path}/draft"), json!({})).await;
    assert_eq!(s, 200, "{view}");
    let body = view["report"]["body"].as_str().unwrap().to_owned();
    for expected in [
        number.as_str(),
        "Clinical viewer down for every site",
        "Incident coordinator",
        "Timeline of status changes",
        "New",
        "Resolved",
        "Notices sent",
        "Service levels",
        "- Response: target",
        "Linked problems and changes",
        "PRB-",
        "The review has not been held yet.",
    ] {
        assert!(body.contains(expected), "{expected:?} in\n{body}");
    }
    let flagged: Vec<&str> = view["sensitive"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["text"].as_str().unwrap())
        .collect();
    assert_eq!(
        flagged,
        vec!["10.20.30.40", "hl7-prod.hhs.example"],
        "{view}"
    );
    let (_, requests) = desk.get(&format!("{report_path}/requests")).await;
    assert_eq!(requests[0]["email"], PARTNER, "the desk sees the request");

    // An edit, then the review; release refused while the IP address and host remain.
    let edited = format!("{body}\nLessons: monitor 10.20.30.41 too.\n");
    let (s, e) = desk
        .put(&format!("{report_path}/draft"), json!({"body": edited}))
        .await;
    assert_eq!(s, 200, "{e}");
    let (s, e) = desk
        .post(&format!("{report_path}/release"), json!({}))
        .await;
    assert_eq!(
        (s.as_u16(), e["code"].as_str()),
        (422, Some("unredacted_sensitive_data")),
        "{e}"
    );
    assert_eq!(e["detail"]["matches"].as_array().unwrap().len(), 3, "{e}");
    assert!(
        e["message"]
            .as_str()
            .unwrap()
            .contains("3 IP addresses or host names"),
        "{e}"
    );
    let (s, e) = desk
        .post(
            &format!("/api/v1/major-incidents/{number}/review"),
            json!({"held_at": domain::time::to_db(domain::time::now()), "attendees": "Incident coordinator\nHHS help desk lead"}),
        )
        .await;
    assert_eq!(s, 204, "{e}");
    let (s, e) = desk
        .post(&format!("{report_path}/release"), json!({}))
        .await;
    assert_eq!(
        (s.as_u16(), e["code"].as_str()),
        (422, Some("unredacted_sensitive_data"))
    );

    // The redaction pass, then the release.
    let (s, view) = desk.post(&format!("{report_path}/redact"), json!({})).await;
    assert_eq!(s, 200, "{view}");
    let redacted = view["report"]["body"].as_str().unwrap();
    assert!(view["sensitive"].as_array().unwrap().is_empty(), "{view}");
    assert!(
        redacted.contains(
            "The interface engine at [IP address] stopped answering; [host name] refused"
        ) && !redacted.contains("10.20.30"),
        "{redacted}"
    );
    let (s, e) = desk
        .post(&format!("{report_path}/release"), json!({}))
        .await;
    assert_eq!(s, 204, "{e}");
    let (s, e) = desk
        .put(&format!("{report_path}/draft"), json!({"body": "changed"}))
        .await;
    assert_eq!(
        (s.as_u16(), e["code"].as_str()),
        (409, Some("report_released"))
    );
    let (_, major) = desk.get(&format!("/api/v1/major-incidents/{number}")).await;
    assert!(
        major["major_incident"]["review_held_at"].is_string(),
        "the review is on the major incident too: {major}"
    );

    // The partner who asked reads it, on the API and as a printable page.
    let (s, report) = partner.get(&report_path).await;
    assert_eq!(s, 200, "{report}");
    assert_eq!(report["status"], "released");
    let text = report["body"].as_str().unwrap();
    assert!(
        text.contains("Attendees")
            && text.contains("HHS help desk lead")
            && !text.contains("10.20.30"),
        "{text}"
    );
    let browser = app.browser();
    browser.sign_in(PARTNER, testkit::DEMO_PASSWORD).await;
    let (s, page) = browser
        .text(&format!("/major-incidents/{number}/report"))
        .await;
    assert_eq!(s, 200);
    assert!(
        page.contains("/static/report.css")
            && page.contains("[IP address]")
            && !page.contains("10.20.30"),
        "{page}"
    );
    let (s, css) = browser.text("/static/report.css").await;
    assert!(s == 200 && css.contains("@media print"));

    // Another organization: nothing, not even whether a report exists.
    let other = app.api_as(OTHER_ORGANIZATION).await;
    let (s, _) = other
        .post(&format!("{report_path}/requests"), json!({}))
        .await;
    assert_eq!(s, 404);
    let (s, _) = other.get(&report_path).await;
    assert_eq!(s, 404);
    let (s, _) = other.get(&format!("{report_path}/draft")).await;
    assert_eq!(s, 403);
    let other_browser = app.browser();
    other_browser
        .sign_in(OTHER_ORGANIZATION, testkit::DEMO_PASSWORD)
        .await;
    let (s, page) = other_browser
        .text(&format!("/major-incidents/{number}/report"))
        .await;
    assert_eq!(s, 404, "{page}");
    // A partner who did not ask cannot read it either; asking makes it readable.
    let colleague = app.api_as("clinician@hhs.example").await;
    let (s, e) = colleague.get(&report_path).await;
    assert_eq!(
        (s.as_u16(), e["detail"]["status"].as_str()),
        (403, Some("not_requested"))
    );
    let (s, standing) = colleague
        .post(&format!("{report_path}/requests"), json!({}))
        .await;
    assert_eq!(
        (s.as_u16(), standing["status"].as_str()),
        (201, Some("readable"))
    );
}
