//! Change management through the API and the pages: an RFC with every required field, the
//! fields it lacks named, partner RFCs from the portal with their approval and single point
//! of contact (and other partners kept out), the CAB deadline of Thursday noon on the
//! process clock, the workflow with its refusals, the emergency CAB in and out of business
//! hours, standard changes raised from an approved template without CAB, and the promotion
//! path in order.
use jiff::civil::{Date, DateTime, Weekday};
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp, ToSpan};
use serde_json::{Value, json};
use testkit::{Api, TestApp};

const CHANGE_MANAGER: &str = "change@operator.example";
const AGENT: &str = "agent1@operator.example";
const PARTNER: &str = "helpdesk@hhs.example";
const OTHER_PARTNER: &str = "helpdesk@niagara.example";
const PASSWORD: &str = "triage-demo-2026";

pub(crate) fn zone() -> TimeZone {
    TimeZone::get("America/Toronto").unwrap()
}

pub(crate) fn local(at: Timestamp) -> jiff::Zoned {
    at.to_zoned(zone())
}

/// `YYYY-MM-DDTHH:MM` in Toronto, `weeks` weeks from now on `weekday` at `hour`.
fn wall(weekday: Weekday, hour: i8, weeks: i64) -> String {
    let today = local(domain::time::now()).date();
    let mut date = today.checked_add((weeks * 7).days()).unwrap();
    while date.weekday() != weekday {
        date = date.tomorrow().unwrap();
    }
    format!("{date}T{hour:02}:00")
}

/// Every required field of a normal operator RFC on CHR / chr-viewer-app, requested in the
/// Sunday window five weeks from now; `extra` overrides or adds fields (null removes).
pub(crate) fn rfc(summary: &str, extra: Value) -> Value {
    let mut body = json!({
        "change_type": "normal",
        "origin": "operator",
        "summary": summary,
        "description": format!("{summary}: apply the vendor's release."),
        "reason": "Vendor support ends for the current release.",
        "notice_required": true,
        "disaster_recovery_exists": true,
        "training_documents_exist": false,
        "tested_in_lower_environments": true,
        "risk": "medium",
        "impact": 3,
        "urgency": 3,
        "users_affected": true,
        "users_affected_how": "The viewer is unavailable for an hour.",
        "outage_required": true,
        "outage_start": wall(Weekday::Sunday, 1, 5),
        "outage_end": wall(Weekday::Sunday, 2, 5),
        "affected_services": ["CHR"],
        "requested_start": wall(Weekday::Sunday, 1, 5),
        "requested_end": wall(Weekday::Sunday, 3, 5),
        "product_category": "Clinical viewer",
        "configuration_items": ["chr-viewer-app"],
        "implementer": "Deployment team",
        "implementation_plan": "1. Snapshot 2. Deploy 3. Smoke test",
        "backout_plan": "Restore the snapshot.",
    });
    for (k, v) in extra.as_object().unwrap() {
        if v.is_null() {
            body.as_object_mut().unwrap().remove(k);
        } else {
            body[k] = v.clone();
        }
    }
    body
}

pub(crate) async fn submit(api: &Api, body: Value) -> String {
    let (s, created) = api.post("/api/v1/changes", body).await;
    assert_eq!(s, 201, "{created}");
    created["number"].as_str().unwrap().to_owned()
}

pub(crate) async fn detail(api: &Api, number: &str) -> Value {
    let (s, d) = api.get(&format!("/api/v1/changes/{number}")).await;
    assert_eq!(s, 200, "{d}");
    d
}

pub(crate) async fn move_to(api: &Api, number: &str, status: &str, extra: Value) -> (u16, Value) {
    let mut body = json!({"status": status});
    for (k, v) in extra.as_object().unwrap() {
        body[k] = v.clone();
    }
    let (s, d) = api
        .post(&format!("/api/v1/changes/{number}/status"), body)
        .await;
    (s.as_u16(), d)
}

/// Moves the process clock forward to the next instant after now (plus a margin) that is
/// `weekday` at `hour:minute` in Toronto and passes `also`.
pub(crate) fn clock_to(
    weekday: Weekday,
    hour: i8,
    minute: i8,
    also: impl Fn(Date) -> bool,
) -> Timestamp {
    let now = domain::time::now();
    let mut date = local(now).date();
    loop {
        if date.weekday() == weekday && also(date) {
            let target = DateTime::from_parts(date, jiff::civil::time(hour, minute, 0, 0))
                .to_zoned(zone())
                .unwrap()
                .timestamp();
            if target > now + SignedDuration::from_mins(5) {
                domain::time::advance(target.duration_since(domain::time::now()));
                return target;
            }
        }
        date = date.tomorrow().unwrap();
    }
}

fn business() -> &'static domain::calendar::Calendar {
    domain::calendar::shipped_calendar("business").unwrap()
}

pub(crate) fn open_at(date: Date, hour: i8) -> bool {
    let at = DateTime::from_parts(date, jiff::civil::time(hour, 30, 0, 0))
        .to_zoned(zone())
        .unwrap()
        .timestamp();
    domain::due::is_open_at(business(), at).unwrap()
}

#[tokio::test]
async fn an_rfc_with_every_field_is_stored_with_its_cab_and_earliest_date() {
    let app = TestApp::spawn().await;
    let manager = app.api_as(CHANGE_MANAGER).await;
    let number = submit(
        &manager,
        rfc(
            "Viewer release 7.2",
            json!({"presenter": "agent1@operator.example"}),
        ),
    )
    .await;
    assert!(number.starts_with("CHG-"), "{number}");
    let d = detail(&manager, &number).await;
    let r = &d["record"];
    assert_eq!(d["change_type"], "normal");
    assert_eq!(d["status"], "submitted");
    assert_eq!(d["origin"], "operator");
    assert_eq!(d["ticket"]["kind"], "change");
    assert_eq!(d["ticket"]["status"], "new");
    assert_eq!(d["ticket"]["summary"], "Viewer release 7.2");
    assert_eq!(d["ticket"]["organization_code"], "OPS");
    for (field, value) in [
        (
            "reason",
            json!("Vendor support ends for the current release."),
        ),
        ("risk", json!("medium")),
        ("notice_required", json!(true)),
        ("disaster_recovery_exists", json!(true)),
        ("training_documents_exist", json!(false)),
        ("tested_in_lower_environments", json!(true)),
        ("users_affected", json!(true)),
        ("outage_required", json!(true)),
        ("product_category", json!("Clinical viewer")),
        ("implementer", json!("Deployment team")),
        ("backout_plan", json!("Restore the snapshot.")),
        ("notice_rule", json!("operator_to_partners")),
    ] {
        assert_eq!(r[field], value, "{field}: {r}");
    }
    assert!(r["outage_start"].is_string() && r["requested_end"].is_string());
    assert_eq!(d["services"][0]["code"], "CHR");
    assert_eq!(d["configuration_items"][0]["code"], "chr-viewer-app");
    assert_eq!(d["presenter_name"], "Taylor Tremblay", "{d}");
    // It goes to a Wednesday CAB at 10:00, and may not be implemented before its lead time
    // (5 business days for impact 3), its notice and its CAB's approvals.
    let cab_date: Date = r["cab_date"].as_str().unwrap().parse().unwrap();
    assert_eq!(cab_date.weekday(), Weekday::Wednesday);
    assert_eq!(d["cab"]["date"], r["cab_date"]);
    let starts: Timestamp = d["cab"]["starts_at"].as_str().unwrap().parse().unwrap();
    assert_eq!(local(starts).hour(), 10);
    let earliest = &d["earliest"];
    assert_eq!(earliest["lead_time_business_days"], 5);
    assert!(earliest["notice_ends"].is_string() && earliest["cab_approvals_at"].is_string());
    let at: Timestamp = earliest["at"].as_str().unwrap().parse().unwrap();
    let stored: Timestamp = r["earliest_start"].as_str().unwrap().parse().unwrap();
    assert_eq!(at, stored);
    // Five environments, all pending, development first.
    let path = d["promotion_path"].as_array().unwrap();
    assert_eq!(path.len(), 5);
    assert!(path.iter().all(|s| s["state"] == "pending"));
    assert_eq!(d["current_environment"], "development");
    // Requested in the Sunday window, far enough ahead: nothing to flag.
    assert_eq!(d["flags"], json!([]), "{d}");
    // The list finds it by status, type and service.
    for query in [
        "status=submitted",
        "change_type=normal",
        "service=CHR",
        "status=open",
    ] {
        let (s, list) = manager.get(&format!("/api/v1/changes?{query}")).await;
        assert_eq!(s, 200, "{list}");
        assert!(
            list.as_array()
                .unwrap()
                .iter()
                .any(|c| c["number"] == number.as_str()),
            "{query}: {list}"
        );
    }
    let (_, list) = manager.get("/api/v1/changes?service=FEEDS").await;
    assert!(
        !list
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["number"] == number.as_str())
    );
    let (s, e) = manager.get("/api/v1/changes?status=done").await;
    assert_eq!(
        (s.as_u16(), e["code"].as_str()),
        (422, Some("invalid_choice"))
    );
    // Audited.
    let mut conn = app.db().reader().acquire().await.unwrap();
    let audited: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM audit_log WHERE action = 'change.create' AND entity_id = $1",
    )
    .bind(&number)
    .fetch_one(&mut *conn)
    .await
    .unwrap();
    assert_eq!(audited, 1);
}

#[tokio::test]
async fn an_rfc_missing_a_field_or_with_a_wrong_value_is_refused_by_name() {
    let app = TestApp::spawn().await;
    let manager = app.api_as(CHANGE_MANAGER).await;
    let (s, e) = manager
        .post(
            "/api/v1/changes",
            rfc("No back-out", json!({"backout_plan": null})),
        )
        .await;
    assert_eq!(
        (s.as_u16(), e["code"].as_str(), e["field"].as_str()),
        (422, Some("missing_fields"), Some("backout_plan")),
        "{e}"
    );
    assert_eq!(e["detail"]["missing"], json!(["backout_plan"]), "{e}");
    let fr = manager.clone().in_language("fr");
    let (_, e) = fr
        .post(
            "/api/v1/changes",
            rfc("No back-out", json!({"backout_plan": "  "})),
        )
        .await;
    assert!(
        e["message"].as_str().unwrap().contains("backout_plan"),
        "{e}"
    );
    let (s, e) = manager.post("/api/v1/changes", json!({})).await;
    assert_eq!(s, 422);
    let missing = e["detail"]["missing"].as_array().unwrap();
    for field in [
        "change_type",
        "origin",
        "summary",
        "reason",
        "risk",
        "affected_services",
        "requested_start",
        "configuration_items",
        "implementation_plan",
        "backout_plan",
    ] {
        assert!(missing.contains(&json!(field)), "{field}: {e}");
    }
    // Conditional fields: how users are affected, the outage's times, an emergency
    // repair's incident.
    let (_, e) = manager
        .post(
            "/api/v1/changes",
            rfc(
                "Emergency",
                json!({"change_type": "emergency_repair", "users_affected_how": "", "outage_start": null}),
            ),
        )
        .await;
    assert_eq!(
        e["detail"]["missing"],
        json!(["users_affected_how", "outage_start", "incident"]),
        "{e}"
    );
    for (extra, code, field) in [
        (json!({"impact": 7}), "invalid_level", "impact"),
        (
            json!({"requested_end": wall(Weekday::Sunday, 0, 5)}),
            "end_before_start",
            "requested_end",
        ),
        (
            json!({"affected_services": ["NOPE"]}),
            "unknown_service_code",
            "affected_services",
        ),
        (
            json!({"configuration_items": ["no-such-item"]}),
            "unknown_configuration_item",
            "configuration_items",
        ),
        (json!({"risk": "scary"}), "invalid_choice", "risk"),
        (
            json!({"requested_start": "next sunday"}),
            "invalid_datetime",
            "requested_start",
        ),
        (
            json!({"change_type": "standard"}),
            "template_required",
            "template_id",
        ),
        (
            json!({"presenter": "helpdesk@hhs.example"}),
            "presenter_not_operator",
            "presenter",
        ),
    ] {
        let (s, e) = manager
            .post("/api/v1/changes", rfc("Wrong", extra.clone()))
            .await;
        assert_eq!(
            (s.as_u16(), e["code"].as_str(), e["field"].as_str()),
            (422, Some(code), Some(field)),
            "{extra}: {e}"
        );
    }
    // An end user of a partner does not submit RFCs.
    let clinician = app.api_as("clinician@hhs.example").await;
    let (s, _) = clinician
        .post("/api/v1/changes", rfc("Mine", json!({})))
        .await;
    assert_eq!(s, 403);
}

#[tokio::test]
async fn a_partner_rfc_carries_its_approval_and_spoc_and_stays_with_its_organization() {
    let app = TestApp::spawn().await;
    let partner = app.api_as(PARTNER).await;
    // From the portal a partner submits as partner, with its approval and SPOC.
    let body = rfc(
        "HHS interface engine upgrade",
        json!({"origin": null, "affected_services": ["FEEDS"], "configuration_items": ["hl7-engine"],
               "notice_required": false}),
    );
    let (s, e) = partner.post("/api/v1/changes", body.clone()).await;
    assert_eq!(s, 422, "{e}");
    assert_eq!(
        e["detail"]["missing"],
        json!(["partner_approval", "partner_spoc"]),
        "{e}"
    );
    let mut wrong_spoc = body.clone();
    wrong_spoc["partner_approval"] = json!("Approved by Dr. Helen Hughes on 2026-11-30");
    wrong_spoc["partner_spoc"] = json!("lra@niagara.example");
    let (s, e) = partner.post("/api/v1/changes", wrong_spoc.clone()).await;
    assert_eq!(
        (s.as_u16(), e["code"].as_str()),
        (422, Some("person_not_in_organization")),
        "{e}"
    );
    let mut complete = wrong_spoc;
    complete["partner_spoc"] = json!("cpc@hhs.example");
    let number = submit(&partner, complete).await;
    let d = detail(&partner, &number).await;
    assert_eq!(d["origin"], "partner");
    assert_eq!(d["ticket"]["organization_code"], "HHS");
    assert_eq!(
        d["record"]["partner_approval"],
        "Approved by Dr. Helen Hughes on 2026-11-30"
    );
    assert_eq!(d["partner_spoc_name"], "Casey Point");
    // A partner's change gives the operator 7 business days' notice.
    assert_eq!(d["notice_rule"], "partner_to_operator");
    assert!(d["earliest"]["notice_ends"].is_string());
    assert_eq!(d["presenter_name"], Value::Null);

    // Another partner neither reads nor finds it.
    let other = app.api_as(OTHER_PARTNER).await;
    let (s, _) = other.get(&format!("/api/v1/changes/{number}")).await;
    assert_eq!(s, 404);
    let (_, list) = other.get("/api/v1/changes").await;
    assert!(
        !list.to_string().contains(&number),
        "another partner's list: {list}"
    );
    let (s, _) = move_to(&other, &number, "cancelled", json!({})).await;
    assert_eq!(s, 404);
    let (_, list) = partner.get("/api/v1/changes").await;
    assert!(list.to_string().contains(&number));
    assert!(
        list.as_array()
            .unwrap()
            .iter()
            .all(|c| c["organization_code"] == "HHS"),
        "{list}"
    );

    // The operator records its presenter; a partner may not.
    let (s, e) = partner
        .put(
            &format!("/api/v1/changes/{number}/presenter"),
            json!({"presenter": "agent1@operator.example"}),
        )
        .await;
    assert_eq!(s, 403, "{e}");
    let agent = app.api_as(AGENT).await;
    let (s, e) = agent
        .put(
            &format!("/api/v1/changes/{number}/presenter"),
            json!({"presenter": "cpc@hhs.example"}),
        )
        .await;
    assert_eq!(
        (s.as_u16(), e["code"].as_str()),
        (422, Some("presenter_not_operator")),
        "{e}"
    );
    let (s, d) = agent
        .put(
            &format!("/api/v1/changes/{number}/presenter"),
            json!({"presenter": "lead@operator.example"}),
        )
        .await;
    assert_eq!(s, 200, "{d}");
    assert_eq!(d["presenter_name"], "Morgan Lead");

    // The partner cancels its own RFC before authorization, and nothing else.
    let (s, _) = move_to(&partner, &number, "assessed", json!({})).await;
    assert_eq!(s, 403);
    let (s, d) = move_to(&partner, &number, "cancelled", json!({})).await;
    assert_eq!(s, 200, "{d}");
    assert_eq!(d["status"], "cancelled");
    assert_eq!(d["ticket"]["status"], "cancelled");

    // The portal pages: the partner's own RFC, and the form.
    let browser = app.browser();
    browser.sign_in(PARTNER, PASSWORD).await;
    let (s, page) = browser.text(&format!("/changes/{number}")).await;
    assert_eq!(s, 200);
    assert!(page.contains("HHS interface engine upgrade") && page.contains("Casey Point"));
    let (s, page) = browser.text("/changes").await;
    assert_eq!(s, 200);
    assert!(page.contains(&number));
    let (s, page) = browser.text("/changes/new").await;
    assert_eq!(s, 200);
    assert!(page.contains("partner_approval"), "{page}");
    let outsider = app.browser();
    outsider.sign_in(OTHER_PARTNER, PASSWORD).await;
    let (s, _) = outsider.text(&format!("/changes/{number}")).await;
    assert_eq!(s, 404);
}

#[tokio::test]
async fn an_rfc_in_by_thursday_noon_goes_to_next_wednesdays_cab() {
    let app = TestApp::spawn().await;
    let manager = app.api_as(CHANGE_MANAGER).await;
    // A Thursday whose two following Wednesdays are business days.
    let thursday = clock_to(Weekday::Thursday, 11, 59, |date| {
        open_at(date.checked_add(6.days()).unwrap(), 10)
            && open_at(date.checked_add(13.days()).unwrap(), 10)
    });
    let thursday_date = local(thursday).date();
    let in_time = submit(&manager, rfc("In by the deadline", json!({}))).await;
    domain::time::advance(SignedDuration::from_mins(2));
    let late = submit(&manager, rfc("Just after the deadline", json!({}))).await;
    let d = detail(&manager, &in_time).await;
    let next_wednesday = thursday_date.checked_add(6.days()).unwrap();
    assert_eq!(d["record"]["cab_date"], next_wednesday.to_string(), "{d}");
    let deadline: Timestamp = d["cab"]["deadline"].as_str().unwrap().parse().unwrap();
    assert_eq!(
        (local(deadline).date(), local(deadline).hour()),
        (thursday_date, 12)
    );
    let d = detail(&manager, &late).await;
    assert_eq!(
        d["record"]["cab_date"],
        thursday_date.checked_add(13.days()).unwrap().to_string(),
        "{d}"
    );
    // The page says which CAB and what sets the earliest date, in each language.
    let browser = app.browser();
    browser.sign_in(CHANGE_MANAGER, PASSWORD).await;
    let (s, page) = browser.text(&format!("/console/changes/{in_time}")).await;
    assert_eq!(s, 200);
    assert!(
        page.contains(&format!("Goes to the CAB of {next_wednesday}")),
        "{page}"
    );
    assert!(page.contains("Lead time: 5 business days"), "{page}");
    assert!(page.contains("/console/changes/") && page.contains("/approvals"));
    assert!(page.contains("/implementation"));
}

#[tokio::test]
async fn the_workflow_runs_in_order_and_refuses_what_it_must() {
    let app = TestApp::spawn().await;
    let manager = app.api_as(CHANGE_MANAGER).await;
    let agent = app.api_as(AGENT).await;
    let number = submit(&manager, rfc("Workflow", json!({}))).await;
    let (s, _) = move_to(&agent, &number, "assessed", json!({})).await;
    assert_eq!(s, 403, "assessment is the change manager's");
    let (s, e) = move_to(&manager, &number, "scheduled", json!({})).await;
    assert_eq!(
        (s, e["code"].as_str()),
        (422, Some("invalid_change_transition")),
        "{e}"
    );
    let (s, e) = move_to(&manager, &number, "rejected", json!({})).await;
    assert_eq!((s, e["code"].as_str()), (422, Some("decision_required")));
    let (s, d) = move_to(&manager, &number, "assessed", json!({"reason": "Complete"})).await;
    assert_eq!(s, 200, "{d}");
    assert_eq!(
        (d["status"].as_str(), d["ticket"]["status"].as_str()),
        (Some("assessed"), Some("in_progress"))
    );
    let (s, e) = move_to(&manager, &number, "authorized", json!({})).await;
    assert_eq!(
        (s, e["code"].as_str()),
        (422, Some("cab_approval_required")),
        "{e}"
    );
    // CAB approves it (recorded by the CAB pages; here straight through the service).
    {
        let state = app.state();
        let mut tx = state.db.begin().await.unwrap();
        let who_actor = store::audit::Actor::system("test");
        let t = store::tickets::get_by_number(&mut tx, &web::sla::everything(), &number)
            .await
            .unwrap();
        let mut record = store::changes::get(&mut tx, t.id).await.unwrap().unwrap();
        let meeting = store::changes::ensure_meeting(
            &mut tx,
            "cab",
            record.cab_date.as_deref().unwrap(),
            &record.submitted_at,
        )
        .await
        .unwrap();
        store::changes::insert_decision(&mut tx, meeting, t.id, "approved", "", 1)
            .await
            .unwrap();
        web::changes::apply_move(
            &mut tx,
            &who_actor,
            &t,
            &mut record,
            domain::change::ChangeStatus::Authorized,
            None,
        )
        .await
        .unwrap();
        tx.commit().await.unwrap();
    }
    let d = detail(&manager, &number).await;
    assert_eq!(d["status"], "authorized");
    assert_eq!(d["decisions"][0]["decision"], "approved");
    assert_eq!(d["decisions"][0]["meeting_kind"], "cab");
    // Booked outside the window without the owner's approval: refused with the reason in
    // the reader's language.
    let tuesday = json!({"scheduled_start": wall(Weekday::Tuesday, 14, 5), "scheduled_end": wall(Weekday::Tuesday, 15, 5)});
    let (s, e) = move_to(&manager, &number, "scheduled", tuesday.clone()).await;
    assert_eq!(
        (s, e["code"].as_str()),
        (422, Some("outside_window_without_approval")),
        "{e}"
    );
    assert!(
        e["message"]
            .as_str()
            .unwrap()
            .contains("Outside the maintenance windows"),
        "{e}"
    );
    let fr = manager.clone().in_language("fr");
    let (_, e) = fr
        .post(
            &format!("/api/v1/changes/{number}/status"),
            json!({"status": "scheduled", "scheduled_start": wall(Weekday::Tuesday, 14, 5), "scheduled_end": wall(Weekday::Tuesday, 15, 5)}),
        )
        .await;
    assert!(
        e["message"]
            .as_str()
            .unwrap()
            .contains("Hors des fenêtres de maintenance"),
        "{e}"
    );
    // Booked before its lead time ends: refused.
    let soon = json!({"scheduled_start": wall(Weekday::Sunday, 1, 0), "scheduled_end": wall(Weekday::Sunday, 2, 0)});
    let (s, e) = move_to(&manager, &number, "scheduled", soon).await;
    assert_eq!(s, 422, "{e}");
    assert!(
        ["lead_time_not_met", "notice_not_met"].contains(&e["code"].as_str().unwrap()),
        "{e}"
    );
    // In its requested window: booked.
    let (s, d) = move_to(&manager, &number, "scheduled", json!({})).await;
    assert_eq!(s, 200, "{d}");
    assert_eq!(d["status"], "scheduled");
    assert_eq!(
        d["record"]["scheduled_start"],
        d["record"]["requested_start"]
    );
    // Implementation is recorded with its outcome, elsewhere.
    let (s, e) = move_to(&manager, &number, "implemented", json!({})).await;
    assert_eq!((s, e["code"].as_str()), (422, Some("outcome_required")));
    assert!(e["message"].as_str().unwrap().contains("/outcome"), "{e}");
    // Any agent may cancel.
    let (s, d) = move_to(&agent, &number, "cancelled", json!({})).await;
    assert_eq!(s, 200, "{d}");
    assert_eq!(d["ticket"]["status"], "cancelled");
    let (s, _) = move_to(&manager, &number, "assessed", json!({})).await;
    assert_eq!(s, 422);
}

#[tokio::test]
async fn the_emergency_cab_meets_operator_urgent_changes_in_business_hours_only() {
    let app = TestApp::spawn().await;
    let manager = app.api_as(CHANGE_MANAGER).await;
    // An evening after a business day.
    clock_to(Weekday::Tuesday, 22, 0, |date| open_at(date, 10));
    let urgent = submit(
        &manager,
        rfc(
            "Certificate renewal",
            json!({"change_type": "urgent_operational"}),
        ),
    )
    .await;
    let d = detail(&manager, &urgent).await;
    assert_eq!(d["cab"], Value::Null, "no weekly CAB");
    assert_eq!(d["record"]["cab_date"], Value::Null);
    let agent = app.api_as(AGENT).await;
    let (s, _) = agent
        .post(&format!("/api/v1/changes/{urgent}/ecab"), json!({}))
        .await;
    assert_eq!(s, 403, "ECAB is recorded by a change manager");
    let (s, e) = manager
        .post(&format!("/api/v1/changes/{urgent}/ecab"), json!({}))
        .await;
    assert_eq!(
        (s.as_u16(), e["code"].as_str()),
        (422, Some("ecab_outside_business_hours")),
        "{e}"
    );
    let (s, e) = move_to(&manager, &urgent, "authorized", json!({})).await;
    assert_eq!(s, 422, "{e}");
    // An emergency repair follows its incident and may go to ECAB at night.
    let hhs = app.org_id("HHS").await;
    let (s, incident) = agent
        .post(
            "/api/v1/tickets",
            json!({"kind": "incident", "organization_id": hhs, "summary": "Viewer down",
                   "details": "The viewer returns errors.", "impact": 1, "urgency": 1}),
        )
        .await;
    assert_eq!(s, 201, "{incident}");
    let incident = incident["number"].as_str().unwrap().to_owned();
    let repair = submit(
        &manager,
        rfc(
            "Restart the viewer cluster",
            json!({"change_type": "emergency_repair", "incident": incident}),
        ),
    )
    .await;
    let (s, d) = manager
        .post(
            &format!("/api/v1/changes/{repair}/ecab"),
            json!({"decision": "approved"}),
        )
        .await;
    assert_eq!(s, 200, "{d}");
    assert_eq!(d["status"], "authorized");
    assert_eq!(d["incidents"][0]["number"], incident.as_str());
    assert_eq!(d["decisions"][0]["meeting_kind"], "ecab");
    let (_, t) = agent.get(&format!("/api/v1/tickets/{incident}")).await;
    assert!(
        t.to_string().contains(&repair),
        "the incident links its repair: {t}"
    );
    // ECAB decisions are told at once, at night too (the weekly CAB's wait for 13:00).
    assert!(web::cab::run_due(app.state()).await.unwrap() >= 1);
    let told = app
        .last_mail_to(CHANGE_MANAGER)
        .await
        .expect("the requester is told");
    assert!(told.subject.contains(&repair), "{}", told.subject);
    // The next business morning, the urgent change goes to ECAB.
    clock_to(Weekday::Wednesday, 10, 0, |date| open_at(date, 10));
    let (s, e) = manager
        .post(
            &format!("/api/v1/changes/{urgent}/ecab"),
            json!({"decision": "rejected"}),
        )
        .await;
    assert_eq!(
        (s.as_u16(), e["field"].as_str()),
        (422, Some("reasons")),
        "{e}"
    );
    let (s, d) = manager
        .post(&format!("/api/v1/changes/{urgent}/ecab"), json!({}))
        .await;
    assert_eq!(s, 200, "{d}");
    assert_eq!(d["status"], "authorized");
    assert_eq!(d["ecab_approved_by_name"], "Chris Change");
    assert_eq!(d["decisions"][0]["decision"], "approved");
    // A normal change does not go to ECAB.
    let normal = submit(&manager, rfc("Normal", json!({}))).await;
    let (s, e) = manager
        .post(&format!("/api/v1/changes/{normal}/ecab"), json!({}))
        .await;
    assert_eq!(
        (s.as_u16(), e["code"].as_str()),
        (422, Some("ecab_not_applicable"))
    );
}

#[tokio::test]
async fn a_standard_change_is_raised_from_an_approved_template_without_cab() {
    let app = TestApp::spawn().await;
    let manager = app.api_as(CHANGE_MANAGER).await;
    let template = json!({"code": "cert-renewal", "title_en": "Renew a TLS certificate",
        "title_fr": "Renouveler un certificat TLS", "service": "CHR",
        "description": "Replace the certificate before it expires.", "reason": "Expiry",
        "risk": "low", "impact": 4, "urgency": 4, "product_category": "Certificates",
        "implementer": "Operations", "implementation_plan": "Install, reload, verify.",
        "backout_plan": "Reinstall the previous certificate."});
    let agent = app.api_as(AGENT).await;
    let (s, _) = agent
        .post("/api/v1/change-templates", template.clone())
        .await;
    assert_eq!(s, 403);
    let (s, created) = manager
        .post("/api/v1/change-templates", template.clone())
        .await;
    assert_eq!(s, 201, "{created}");
    let id = created["id"].as_i64().unwrap();
    let (s, e) = manager.post("/api/v1/change-templates", template).await;
    assert_eq!(
        (s.as_u16(), e["code"].as_str()),
        (409, Some("duplicate_template_code"))
    );
    let (s, t) = manager
        .patch(
            &format!("/api/v1/change-templates/{id}"),
            json!({"implementer": "Operations on call"}),
        )
        .await;
    assert_eq!(s, 200, "{t}");
    assert_eq!(
        (t["status"].as_str(), t["implementer"].as_str()),
        (Some("draft"), Some("Operations on call"))
    );
    let raise = json!({
        "template_id": id, "origin": "operator", "notice_required": false,
        "disaster_recovery_exists": true, "training_documents_exist": false,
        "tested_in_lower_environments": true, "users_affected": false, "outage_required": false,
        "requested_start": wall(Weekday::Sunday, 1, 3), "requested_end": wall(Weekday::Sunday, 2, 3),
        "configuration_items": ["chr-viewer-app"],
    });
    let (s, e) = manager.post("/api/v1/changes", raise.clone()).await;
    assert_eq!(
        (s.as_u16(), e["code"].as_str()),
        (422, Some("template_not_approved")),
        "{e}"
    );
    // CAB approves it once.
    {
        let mut conn = app.db().begin().await.unwrap();
        store::changes::approve_template(&mut conn, id, 1, "2026-12-09")
            .await
            .unwrap();
        conn.commit().await.unwrap();
    }
    let number = submit(&manager, raise.clone()).await;
    let d = detail(&manager, &number).await;
    assert_eq!(d["change_type"], "standard");
    assert_eq!(d["template_code"], "cert-renewal");
    assert_eq!(d["ticket"]["summary"], "Renew a TLS certificate");
    assert_eq!(d["record"]["implementer"], "Operations on call");
    assert_eq!(d["services"][0]["code"], "CHR");
    assert_eq!(d["cab"], Value::Null, "no CAB for a standard change");
    assert_eq!(d["earliest"]["cab_approvals_at"], Value::Null);
    assert_eq!(d["next_statuses"], json!(["scheduled", "cancelled"]));
    let (s, d) = move_to(&manager, &number, "scheduled", json!({})).await;
    assert_eq!(s, 200, "{d}");
    // An approved template no longer changes; a retired one raises nothing.
    let (s, e) = manager
        .patch(
            &format!("/api/v1/change-templates/{id}"),
            json!({"risk": "high"}),
        )
        .await;
    assert_eq!(
        (s.as_u16(), e["code"].as_str()),
        (409, Some("template_not_draft"))
    );
    let (s, t) = manager
        .post(&format!("/api/v1/change-templates/{id}/retire"), json!({}))
        .await;
    assert_eq!(
        (s.as_u16(), t["status"].as_str()),
        (200, Some("retired")),
        "{t}"
    );
    let (s, e) = manager.post("/api/v1/changes", raise).await;
    assert_eq!(
        (s.as_u16(), e["code"].as_str()),
        (422, Some("template_not_approved"))
    );
    let (_, list) = manager.get("/api/v1/change-templates").await;
    assert!(list.to_string().contains("cert-renewal"));
}

#[tokio::test]
async fn the_promotion_path_goes_in_order_to_production() {
    let app = TestApp::spawn().await;
    let manager = app.api_as(CHANGE_MANAGER).await;
    let number = submit(&manager, rfc("Promotion", json!({}))).await;
    let set = async |environment: &str, state: &str| {
        let (s, d) = manager
            .put(
                &format!("/api/v1/changes/{number}/promotion/{environment}"),
                json!({"state": state}),
            )
            .await;
        (s.as_u16(), d)
    };
    let (s, e) = set("system_test", "passed").await;
    assert_eq!(
        (s, e["code"].as_str()),
        (422, Some("promotion_out_of_order")),
        "{e}"
    );
    let (s, d) = set("development", "passed").await;
    assert_eq!(s, 200, "{d}");
    assert_eq!(d["current_environment"], "system_test");
    let (s, _) = set("system_test", "skipped").await;
    assert_eq!(s, 200);
    let (s, e) = set("production", "skipped").await;
    assert_eq!((s, e["code"].as_str()), (422, Some("production_required")));
    let (s, d) = set("pre_production", "passed").await;
    assert_eq!(s, 200, "{d}");
    assert_eq!(d["current_environment"], "partner_self_test");
    let (s, e) = set("staging", "passed").await;
    assert_eq!((s, e["code"].as_str()), (422, Some("invalid_choice")));
    let states: Vec<&str> = d["promotion_path"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["state"].as_str().unwrap())
        .collect();
    assert_eq!(
        states,
        ["passed", "skipped", "passed", "pending", "pending"]
    );
    let partner = app.api_as(PARTNER).await;
    let (s, _) = partner
        .put(
            &format!("/api/v1/changes/{number}/promotion/production"),
            json!({"state": "passed"}),
        )
        .await;
    assert!(s.is_client_error());
}

#[tokio::test]
async fn a_partner_submits_an_rfc_from_the_portal_form() {
    let app = TestApp::spawn().await;
    let browser = app.browser();
    browser.sign_in(PARTNER, PASSWORD).await;
    let start = wall(Weekday::Sunday, 1, 6);
    let end = wall(Weekday::Sunday, 3, 6);
    let mut fields = vec![
        ("change_type", "normal"),
        ("summary", "Lab feed certificate"),
        ("description", "Replace the lab feed's certificate."),
        ("reason", "It expires next month."),
        ("product_category", "Interfaces"),
        ("risk", "low"),
        ("impact", "4"),
        ("urgency", "4"),
        ("notice_required", "no"),
        ("disaster_recovery_exists", "yes"),
        ("training_documents_exist", "no"),
        ("tested_in_lower_environments", "yes"),
        ("users_affected", "no"),
        ("outage_required", "no"),
        ("requested_start", start.as_str()),
        ("requested_end", end.as_str()),
        ("affected_services", "FEEDS"),
        ("configuration_items", "hl7-engine"),
        ("implementer", "HHS integration team"),
        ("implementation_plan", "Install and restart the listener."),
        (
            "partner_approval",
            "Approved by Dr. Helen Hughes on 2026-12-01",
        ),
        ("partner_spoc", "cpc@hhs.example"),
    ];
    let refused = browser.post_form("/changes/new", &fields).await;
    assert_eq!(refused.status(), 422);
    let page = refused.text().await.unwrap();
    assert!(page.contains("backout_plan"), "{page}");
    assert!(
        page.contains("Lab feed certificate"),
        "what was typed is kept"
    );
    fields.push(("backout_plan", "Put the old certificate back."));
    let done = browser.post_form("/changes/new", &fields).await;
    assert_eq!(done.status(), 303);
    let path = done.headers()["location"].to_str().unwrap().to_owned();
    assert!(path.starts_with("/changes/CHG-"), "{path}");
    let (s, page) = browser.text(&path).await;
    assert_eq!(s, 200);
    assert!(
        page.contains("Casey Point") && page.contains("Approved by Dr. Helen Hughes on 2026-12-01"),
        "{page}"
    );
    let number = path.trim_start_matches("/changes/").to_owned();
    let manager = app.api_as(CHANGE_MANAGER).await;
    let d = detail(&manager, &number).await;
    assert_eq!(
        (d["origin"].as_str(), d["change_type"].as_str()),
        (Some("partner"), Some("normal"))
    );
    let requested: Timestamp = d["record"]["requested_start"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(
        local(requested).strftime("%Y-%m-%dT%H:%M").to_string(),
        start
    );
    // The console shows it to agents, with its presenter form.
    let console = app.browser();
    console.sign_in(CHANGE_MANAGER, PASSWORD).await;
    let (s, page) = console.text("/console/changes?service=FEEDS").await;
    assert_eq!(s, 200);
    assert!(page.contains(&number));
    let (s, page) = console.text(&format!("/console/changes/{number}")).await;
    assert_eq!(s, 200);
    assert!(page.contains("presenter"));
    let (s, page) = console.text("/console/changes/new").await;
    assert_eq!(s, 200);
    assert!(page.contains("name=\"origin\""));
    let (s, _) = console.text("/console/change-templates").await;
    assert_eq!(s, 200);
}
