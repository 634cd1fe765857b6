//! Change freezes: announced at least 30 calendar days ahead (29 days refused with a clear
//! message in each language, 31 accepted), by the operator's change managers and by
//! partners for themselves; a partner sees the operator's freezes and its own, never
//! another partner's; cancelling; the console and portal pages.
use jiff::{SignedDuration, Timestamp};
use serde_json::{Value, json};
use testkit::{DEMO_PASSWORD, TestApp};

const CHANGE: &str = "change@operator.example";
const AGENT: &str = "agent1@operator.example";
const HHS_LRA: &str = "lra@hhs.example";
const NHS_LRA: &str = "lra@niagara.example";

fn days_ahead(days: i64) -> Timestamp {
    domain::time::now() + SignedDuration::from_hours(24 * days)
}

fn freeze(name: &str, starts: Timestamp, services: &[&str]) -> Value {
    json!({
        "name": name,
        "reason": "Year-end deployment of the regional exchange",
        "starts_at": starts.to_string(),
        "ends_at": (starts + SignedDuration::from_hours(72)).to_string(),
        "services": services,
        "exception_procedure": "Ask the change manager with the clinical lead's sign-off",
    })
}

fn names(list: &Value) -> Vec<String> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|f| f["name"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn freezes_need_thirty_days_notice_and_partners_see_only_theirs() {
    let app = TestApp::spawn().await;
    let manager = app.api_as(CHANGE).await;

    // 29 days' notice: refused, and the message says why in both languages.
    let (s, e) = manager
        .post("/api/v1/freezes", freeze("Too soon", days_ahead(29), &[]))
        .await;
    assert_eq!(s, 422, "{e}");
    assert_eq!(e["code"], "freeze_notice_too_short");
    assert!(
        e["message"].as_str().unwrap().contains("30 calendar days"),
        "{e}"
    );
    let (s, e) = app
        .api_as(CHANGE)
        .await
        .in_language("fr")
        .post("/api/v1/freezes", freeze("Trop tôt", days_ahead(29), &[]))
        .await;
    assert_eq!(s, 422);
    assert!(
        e["message"].as_str().unwrap().contains("30 jours civils"),
        "{e}"
    );
    // An end before the start, an unknown service: refused with their codes.
    let mut backwards = freeze("Backwards", days_ahead(40), &[]);
    backwards["ends_at"] = json!(days_ahead(39).to_string());
    let (s, e) = manager.post("/api/v1/freezes", backwards).await;
    assert_eq!(
        (s.as_u16(), e["code"].as_str()),
        (422, Some("end_before_start")),
        "{e}"
    );
    let (s, e) = manager
        .post(
            "/api/v1/freezes",
            freeze("Unknown", days_ahead(40), &["NOPE"]),
        )
        .await;
    assert_eq!(
        (s.as_u16(), e["code"].as_str()),
        (422, Some("unknown_service")),
        "{e}"
    );

    // 31 days: accepted, announced now, on the services named.
    let (s, created) = manager
        .post(
            "/api/v1/freezes",
            freeze("Year-end freeze", days_ahead(31), &["CHR"]),
        )
        .await;
    assert_eq!(s, 201, "{created}");
    let operator_id = created["id"].as_i64().unwrap();
    let (_, f) = manager.get(&format!("/api/v1/freezes/{operator_id}")).await;
    assert_eq!(f["services"], json!(["CHR"]));
    assert_eq!(f["organization_id"], Value::Null);
    let announced: Timestamp = f["announced_at"].as_str().unwrap().parse().unwrap();
    assert!(domain::time::now().duration_since(announced) < SignedDuration::from_mins(1));

    // An agent who is not a change manager declares nothing.
    let (s, _) = app
        .api_as(AGENT)
        .await
        .post("/api/v1/freezes", freeze("Agent's", days_ahead(40), &[]))
        .await;
    assert_eq!(s, 403);

    // Partners announce their own, with the same notice.
    let hhs = app.api_as(HHS_LRA).await;
    let (s, e) = hhs
        .post(
            "/api/v1/freezes",
            freeze("HHS too soon", days_ahead(10), &[]),
        )
        .await;
    assert_eq!(
        (s.as_u16(), e["code"].as_str()),
        (422, Some("freeze_notice_too_short"))
    );
    let (s, created) = hhs
        .post(
            "/api/v1/freezes",
            freeze("HHS EHR upgrade", days_ahead(45), &[]),
        )
        .await;
    assert_eq!(s, 201, "{created}");
    let hhs_id = created["id"].as_i64().unwrap();
    let (_, f) = hhs.get(&format!("/api/v1/freezes/{hhs_id}")).await;
    assert_eq!(f["organization_id"].as_i64(), Some(app.org_id("HHS").await));

    // HHS sees the operator's and its own; Niagara the operator's only; the desk all.
    let (_, list) = hhs.get("/api/v1/freezes").await;
    let seen = names(&list);
    assert!(
        seen.contains(&"Year-end freeze".to_owned())
            && seen.contains(&"HHS EHR upgrade".to_owned()),
        "{seen:?}"
    );
    let nhs = app.api_as(NHS_LRA).await;
    let (_, list) = nhs.get("/api/v1/freezes").await;
    let seen = names(&list);
    assert!(seen.contains(&"Year-end freeze".to_owned()), "{seen:?}");
    assert!(!seen.contains(&"HHS EHR upgrade".to_owned()), "{seen:?}");
    let (s, _) = nhs.get(&format!("/api/v1/freezes/{hhs_id}")).await;
    assert_eq!(s, 404);
    let (s, _) = nhs
        .post(&format!("/api/v1/freezes/{hhs_id}/cancel"), json!({}))
        .await;
    assert_eq!(s, 404);
    // A partner cannot cancel the operator's freeze.
    let (s, _) = hhs
        .post(&format!("/api/v1/freezes/{operator_id}/cancel"), json!({}))
        .await;
    assert_eq!(s, 403);
    let (_, list) = manager.get("/api/v1/freezes").await;
    assert!(names(&list).contains(&"HHS EHR upgrade".to_owned()));

    // HHS cancels its own; twice is a conflict.
    let (s, f) = hhs
        .post(&format!("/api/v1/freezes/{hhs_id}/cancel"), json!({}))
        .await;
    assert_eq!(s, 200, "{f}");
    assert!(f["cancelled_at"].is_string());
    let (s, e) = hhs
        .post(&format!("/api/v1/freezes/{hhs_id}/cancel"), json!({}))
        .await;
    assert_eq!(
        (s.as_u16(), e["code"].as_str()),
        (409, Some("freeze_cancelled"))
    );

    // The pages: the portal for the partner, the console for the change manager; a form
    // with too little notice shows the reason again.
    let browser = app.browser();
    browser.sign_in(HHS_LRA, DEMO_PASSWORD).await;
    let (s, page) = browser.text("/freezes").await;
    assert_eq!(s, 200);
    assert!(page.contains("Year-end freeze") && page.contains("HHS EHR upgrade"));
    let soon = (domain::time::now() + SignedDuration::from_hours(24 * 5))
        .to_zoned(jiff::tz::TimeZone::get("America/Toronto").unwrap())
        .strftime("%Y-%m-%dT%H:%M")
        .to_string();
    let later = (domain::time::now() + SignedDuration::from_hours(24 * 6))
        .to_zoned(jiff::tz::TimeZone::get("America/Toronto").unwrap())
        .strftime("%Y-%m-%dT%H:%M")
        .to_string();
    let r = browser
        .post_form(
            "/freezes",
            &[
                ("name", "Portal freeze"),
                ("reason", "Lab system upgrade"),
                ("starts_at", &soon),
                ("ends_at", &later),
                ("services", ""),
                ("exception_procedure", "Call our desk"),
            ],
        )
        .await;
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("30 calendar days"));
    let console = app.browser();
    console.sign_in(CHANGE, DEMO_PASSWORD).await;
    let (s, page) = console.text("/console/freezes").await;
    assert_eq!(s, 200);
    assert!(page.contains("Year-end freeze") && page.contains("Declare a freeze"));
}

fn flag_codes(detail: &Value) -> Vec<String> {
    detail["flags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["code"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn a_partners_freeze_holds_its_own_changes_only_and_stays_out_of_others_sight() {
    use crate::changes::{detail, rfc, submit};
    let app = TestApp::spawn().await;
    // Niagara freezes every service for 70 days from a month ahead.
    let niagara = app.api_as(NHS_LRA).await;
    let mut body = freeze("Niagara go-live", days_ahead(31), &[]);
    body["ends_at"] = json!(days_ahead(100).to_string());
    let (s, created) = niagara.post("/api/v1/freezes", body).await;
    assert_eq!(s, 201, "{created}");

    // The requests in it: the operator's own, HHS's and Niagara's (5 weeks ahead).
    let manager = app.api_as(CHANGE).await;
    let operator_rfc = submit(&manager, rfc("Viewer release", json!({}))).await;
    let partner = |org: i64, spoc: &str, summary: &str| {
        let mut body = rfc(summary, json!({}));
        body["origin"] = json!("partner");
        body["organization_id"] = json!(org);
        body["partner_approval"] = json!("Approved by the CIO on 2026-11-30");
        body["partner_spoc"] = json!(spoc);
        // A partner cannot waive the notice it owes the operator.
        body["notice_rule"] = json!("none");
        body
    };
    let hhs_rfc = submit(
        &manager,
        partner(app.org_id("HHS").await, HHS_LRA, "HHS viewer integration"),
    )
    .await;
    let niagara_rfc = submit(
        &manager,
        partner(
            app.org_id("NHS").await,
            NHS_LRA,
            "Niagara viewer integration",
        ),
    )
    .await;
    let hhs_detail = detail(&manager, &hhs_rfc).await;
    assert_eq!(hhs_detail["record"]["notice_rule"], "partner_to_operator");
    assert!(!flag_codes(&detail(&manager, &operator_rfc).await).contains(&"in_freeze".into()));
    assert!(!flag_codes(&detail(&manager, &hhs_rfc).await).contains(&"in_freeze".into()));
    assert!(flag_codes(&detail(&manager, &niagara_rfc).await).contains(&"in_freeze".into()));

    // HHS reads its own RFC: no Niagara freeze on its approvals, and the overlapping RFCs
    // of other organizations are not named.
    let hhs = app.api_as(HHS_LRA).await;
    let (s, approvals) = hhs
        .get(&format!("/api/v1/changes/{hhs_rfc}/approvals"))
        .await;
    assert_eq!(s, 200, "{approvals}");
    assert!(
        !approvals.to_string().contains("Niagara go-live"),
        "{approvals}"
    );
    let (_, own) = hhs.get(&format!("/api/v1/changes/{hhs_rfc}")).await;
    let text = own["flags"].to_string();
    assert!(
        text.contains("another change") || text.contains("un autre changement"),
        "{own}"
    );
    assert!(
        !text.contains(&operator_rfc) && !text.contains(&niagara_rfc),
        "{own}"
    );
    // Nor can HHS ask for an exception to it.
    let freeze_id = created["id"].as_i64().unwrap();
    let (s, e) = manager
        .post(
            &format!("/api/v1/changes/{hhs_rfc}/freeze-exceptions"),
            json!({"freeze_id": freeze_id, "justification": "Needed before the go-live."}),
        )
        .await;
    assert_eq!(
        (s.as_u16(), e["code"].as_str()),
        (422, Some("unknown_freeze")),
        "{e}"
    );
}
