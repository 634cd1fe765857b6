//! The change advisory board: meetings from the pack's CAB calendar (Thursday 11:59 goes to
//! next Wednesday's agenda, 12:01 to the one after), agenda lines with their conflict flags
//! and reasons, decisions (reasons required for rejections and deferrals, only change
//! managers decide), decision notices sent once at the meeting's approvals time to a real
//! SMTP sink in each recipient's language (across a restart), a normal change refused in a
//! freeze and accepted with an approved exception, and the service owner's approval of a
//! time outside the maintenance windows.
use crate::changes::{clock_to, detail, local, move_to, open_at, rfc, submit, zone};
use jiff::civil::{Date, DateTime, Weekday};
use jiff::{SignedDuration, Timestamp, ToSpan};
use serde_json::{Value, json};
use testkit::{DEMO_PASSWORD, SmtpSink, TestApp};

const MANAGER: &str = "change@operator.example";
const AGENT: &str = "agent1@operator.example";
const ADMIN: &str = "admin@operator.example";
const OWNER: &str = "lead@operator.example";
/// Niagara's help desk, in French: the partner's single point of contact.
const SPOC: &str = "helpdesk@niagara.example";

fn codes(line: &Value) -> Vec<String> {
    line["flags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["code"].as_str().unwrap().to_owned())
        .collect()
}

fn line<'a>(agenda: &'a Value, number: &str) -> Option<&'a Value> {
    agenda["rfcs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["number"] == number)
}

/// The CAB decision notices a recipient received (other change mail set aside).
fn decisions_to(sink: &SmtpSink, address: &str) -> Vec<String> {
    sink.messages_to(address)
        .into_iter()
        .map(|m| text_of(&m))
        .filter(|t| t.contains("advisory board decision") || t.contains("Décision du comité"))
        .collect()
}

fn text_of(raw: &str) -> String {
    let message = mail_parser::MessageParser::default()
        .parse(raw.as_bytes())
        .unwrap();
    format!(
        "{}\n{}",
        message.subject().unwrap_or_default(),
        message.body_text(0).unwrap_or_default()
    )
}

/// `YYYY-MM-DDTHH:MM` of a date at an hour in Toronto.
fn at(date: Date, hour: i8) -> String {
    format!("{date}T{hour:02}:00")
}

fn instant(date: Date, hour: i8) -> Timestamp {
    DateTime::from_parts(date, jiff::civil::time(hour, 0, 0, 0))
        .to_zoned(zone())
        .unwrap()
        .timestamp()
}

/// The first `weekday` at least `days` days from now.
fn day_after(days: i64, weekday: Weekday) -> Date {
    let mut date = local(domain::time::now())
        .date()
        .checked_add(days.days())
        .unwrap();
    while date.weekday() != weekday {
        date = date.tomorrow().unwrap();
    }
    date
}

async fn declare_freeze(app: &TestApp, name: &str, from: Date, to: Date) -> i64 {
    let (s, f) = app
        .api_as(MANAGER)
        .await
        .post(
            "/api/v1/freezes",
            json!({"name": name, "reason": "Provincial immunization campaign",
                "starts_at": at(from, 0), "ends_at": at(to, 0), "services": ["CHR"],
                "exception_procedure": "Ask the change manager; a clinical sign-off is needed"}),
        )
        .await;
    assert_eq!(s, 201, "{f}");
    f["id"].as_i64().unwrap()
}

#[tokio::test]
async fn meetings_follow_the_packs_calendar_and_the_thursday_noon_deadline() {
    let app = TestApp::spawn().await;
    let manager = app.api_as(MANAGER).await;
    let thursday = clock_to(Weekday::Thursday, 11, 59, |date| {
        open_at(date.checked_add(6.days()).unwrap(), 10)
            && open_at(date.checked_add(13.days()).unwrap(), 10)
    });
    let thursday = local(thursday).date();
    let in_time = submit(&manager, rfc("Submitted at 11:59", json!({}))).await;
    domain::time::advance(SignedDuration::from_mins(2));
    let late = submit(&manager, rfc("Submitted at 12:01", json!({}))).await;
    let first = thursday.checked_add(6.days()).unwrap();
    let second = thursday.checked_add(13.days()).unwrap();

    let (s, meetings) = manager
        .get(&format!("/api/v1/cab/meetings?from={thursday}&to={second}"))
        .await;
    assert_eq!(s, 200, "{meetings}");
    let list = meetings.as_array().unwrap();
    let dates: Vec<&str> = list.iter().map(|m| m["date"].as_str().unwrap()).collect();
    assert_eq!(dates, [first.to_string(), second.to_string()], "{meetings}");
    for (meeting, deadline_day) in list.iter().zip([thursday, thursday + 7.days()]) {
        let time = |field: &str| local(meeting[field].as_str().unwrap().parse().unwrap());
        assert_eq!((time("starts_at").hour(), time("ends_at").hour()), (10, 12));
        assert_eq!(time("approvals_at").hour(), 13);
        let deadline = time("deadline");
        assert_eq!((deadline.date(), deadline.hour()), (deadline_day, 12));
        assert!(meeting["pending_rfcs"].as_i64().unwrap() >= 1, "{meeting}");
    }

    let (_, agenda) = manager.get(&format!("/api/v1/cab/meetings/{first}")).await;
    assert!(line(&agenda, &in_time).is_some(), "{agenda}");
    assert!(line(&agenda, &late).is_none());
    let (_, agenda) = manager.get(&format!("/api/v1/cab/meetings/{second}")).await;
    assert!(line(&agenda, &late).is_some(), "{agenda}");
    assert!(line(&agenda, &in_time).is_none());
    // A standard change template submitted for approval is on the coming meetings' agendas;
    // the board approves it at the first.
    let (s, created) = manager
        .post(
            "/api/v1/change-templates",
            json!({"code": "cert-renewal", "title_en": "Renew a TLS certificate",
                "title_fr": "Renouveler un certificat TLS", "service": "CHR",
                "description": "Replace the certificate before it expires.", "reason": "Expiry",
                "risk": "low", "impact": 4, "urgency": 4, "product_category": "Certificates",
                "implementer": "Operations", "implementation_plan": "Install, reload, verify.",
                "backout_plan": "Reinstall the previous certificate."}),
        )
        .await;
    assert_eq!(s, 201, "{created}");
    let template = created["id"].as_i64().unwrap();
    let (_, agenda) = manager.get(&format!("/api/v1/cab/meetings/{first}")).await;
    assert!(
        agenda["templates"].to_string().contains("cert-renewal"),
        "{agenda}"
    );
    let (s, d) = manager
        .post(
            &format!("/api/v1/cab/meetings/{first}/decisions"),
            json!({"template_id": template, "decision": "approved"}),
        )
        .await;
    assert_eq!(s, 201, "{d}");
    let (_, t) = manager
        .get(&format!("/api/v1/change-templates/{template}"))
        .await;
    assert_eq!(
        (t["status"].as_str(), t["approved_cab_date"].as_str()),
        (Some("approved"), Some(first.to_string().as_str())),
        "{t}"
    );
    // Attendees and minutes (the meeting's record is kept from then on).
    let (s, agenda) = manager
        .patch(
            &format!("/api/v1/cab/meetings/{first}"),
            json!({"attendees": "Chris Change, Taylor Tremblay", "minutes": "Certificate template approved."}),
        )
        .await;
    assert_eq!(s, 200, "{agenda}");
    assert_eq!(agenda["attendees"], "Chris Change, Taylor Tremblay");
    assert_eq!(agenda["decisions"][0]["template_code"], "cert-renewal");
    let (s, _) = app
        .api_as(AGENT)
        .await
        .patch(
            &format!("/api/v1/cab/meetings/{first}"),
            json!({"minutes": "x"}),
        )
        .await;
    assert_eq!(s, 403);

    // A day the CAB does not meet, a date that is none, a partner: refused.
    let (s, e) = manager
        .get(&format!("/api/v1/cab/meetings/{thursday}"))
        .await;
    assert_eq!(
        (s.as_u16(), e["code"].as_str()),
        (404, Some("no_cab_meeting"))
    );
    let (s, _) = manager.get("/api/v1/cab/meetings/next-week").await;
    assert_eq!(s, 422);
    let (s, _) = app.api_as(SPOC).await.get("/api/v1/cab/meetings").await;
    assert_eq!(s, 403);

    // The pages: the list and a printable agenda.
    let browser = app.browser();
    browser.sign_in(MANAGER, DEMO_PASSWORD).await;
    let (s, page) = browser.text("/console/cab").await;
    assert_eq!(s, 200);
    assert!(page.contains(&format!("/console/cab/{first}")), "{page}");
    let (s, page) = browser.text(&format!("/console/cab/{first}")).await;
    assert_eq!(s, 200);
    assert!(page.contains(&in_time) && page.contains("Record the decision"));
}

#[tokio::test]
async fn the_agenda_flags_conflicts_and_decisions_are_sent_once_at_the_approvals_time() {
    let sink = SmtpSink::start();
    let mut app = TestApp::spawn_with_smtp(Some(sink.url())).await;
    let manager = app.api_as(MANAGER).await;
    // A freeze on CHR five to six weeks ahead; a Tuesday afternoon inside it.
    let freeze_from = day_after(33, Weekday::Monday);
    let freeze_to = freeze_from.checked_add(7.days()).unwrap();
    declare_freeze(&app, "Immunization campaign", freeze_from, freeze_to).await;
    let tuesday = freeze_from.tomorrow().unwrap();
    let busy = json!({"requested_start": at(tuesday, 14), "requested_end": at(tuesday, 16),
        "outage_start": at(tuesday, 14), "outage_end": at(tuesday, 15)});
    // A partner's RFC recorded by the change manager, with Niagara's approval and SPOC.
    let mut partner = rfc("Niagara viewer integration", busy.clone());
    partner["origin"] = json!("partner");
    partner["organization_id"] = json!(app.org_id("NHS").await);
    partner["partner_approval"] = json!("Approved by Niagara's CIO on 2026-11-30");
    partner["partner_spoc"] = json!(SPOC);
    partner["presenter"] = json!(AGENT);
    let partner_rfc = submit(&manager, partner).await;
    let overlapping = submit(&manager, rfc("Viewer certificate renewal", busy)).await;
    // One requested two days from now: not enough lead time.
    let soon = local(domain::time::now() + SignedDuration::from_hours(48)).date();
    let hurried = submit(
        &manager,
        rfc(
            "Hurried patch",
            json!({"requested_start": at(soon, 1), "requested_end": at(soon, 2),
            "outage_start": at(soon, 1), "outage_end": at(soon, 2)}),
        ),
    )
    .await;
    let cab_date = detail(&manager, &partner_rfc).await["record"]["cab_date"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        detail(&manager, &hurried).await["record"]["cab_date"],
        cab_date
    );

    // The agenda: each line with its origin, presenter and flags with their reasons.
    let (s, agenda) = manager
        .get(&format!("/api/v1/cab/meetings/{cab_date}"))
        .await;
    assert_eq!(s, 200, "{agenda}");
    let p = line(&agenda, &partner_rfc).expect("the partner's RFC is on the agenda");
    assert_eq!(p["origin"], "partner");
    assert_eq!(p["organization_code"], "NHS");
    assert_eq!(p["partner_spoc_email"], SPOC);
    assert_eq!(p["presenter_name"], "Taylor Tremblay");
    assert_eq!(
        p["partner_approval"],
        "Approved by Niagara's CIO on 2026-11-30"
    );
    let flags = codes(p);
    for code in ["overlap", "outside_window", "in_freeze"] {
        assert!(flags.contains(&code.to_owned()), "{code}: {p}");
    }
    for flag in p["flags"].as_array().unwrap() {
        assert!(!flag["reason"].as_str().unwrap().is_empty(), "{flag}");
    }
    let reasons = p["flags"].to_string();
    assert!(
        reasons.contains(&format!("Overlaps {overlapping} on CHR")),
        "{reasons}"
    );
    assert!(reasons.contains("Immunization campaign"), "{reasons}");
    let h = line(&agenda, &hurried).unwrap();
    assert!(codes(h).contains(&"lead_time".to_owned()), "{h}");
    // In French too.
    let (_, agenda_fr) = app
        .api_as(MANAGER)
        .await
        .in_language("fr")
        .get(&format!("/api/v1/cab/meetings/{cab_date}"))
        .await;
    assert!(
        line(&agenda_fr, &partner_rfc).unwrap()["flags"]
            .to_string()
            .contains("Chevauche")
    );

    // Decisions: reasons required; change managers only; once.
    let decide = |number: &str, decision: &str, reasons: &str| json!({"number": number, "decision": decision, "reasons": reasons});
    let path = format!("/api/v1/cab/meetings/{cab_date}/decisions");
    let (s, e) = manager
        .post(&path, decide(&partner_rfc, "rejected", " "))
        .await;
    assert_eq!(
        (s.as_u16(), e["code"].as_str()),
        (422, Some("reasons_required")),
        "{e}"
    );
    let (s, e) = manager.post(&path, decide(&hurried, "deferred", "")).await;
    assert_eq!(
        (s.as_u16(), e["code"].as_str()),
        (422, Some("reasons_required")),
        "{e}"
    );
    let (s, _) = app
        .api_as(AGENT)
        .await
        .post(&path, decide(&overlapping, "approved", ""))
        .await;
    assert_eq!(s, 403);
    let rejection = "Overlaps the immunization campaign freeze; propose a date after it.";
    let (s, d) = manager
        .post(&path, decide(&partner_rfc, "rejected", rejection))
        .await;
    assert_eq!(s, 201, "{d}");
    let (s, e) = manager
        .post(&path, decide(&partner_rfc, "approved", ""))
        .await;
    assert_eq!(
        (s.as_u16(), e["code"].as_str()),
        (409, Some("change_not_awaiting_cab"))
    );
    let (s, d) = manager
        .post(&path, decide(&overlapping, "approved", ""))
        .await;
    assert_eq!(s, 201, "{d}");
    let (s, d) = manager
        .post(
            &path,
            decide(&hurried, "deferred", "Needs a tested back-out plan."),
        )
        .await;
    assert_eq!(s, 201, "{d}");

    let rejected = detail(&manager, &partner_rfc).await;
    assert_eq!(rejected["status"], "rejected");
    assert_eq!(rejected["ticket"]["status"], "closed");
    let approved = detail(&manager, &overlapping).await;
    assert_eq!(approved["status"], "authorized");
    // The assessment is on the record before the authorization.
    let moves: Vec<String> = {
        let mut conn = app.db().reader().acquire().await.unwrap();
        let id = store::tickets::id_by_number(&mut conn, &overlapping)
            .await
            .unwrap()
            .unwrap();
        store::tickets::events(&mut conn, id, true)
            .await
            .unwrap()
            .into_iter()
            .filter(|e| e.kind == "change_status")
            .map(|e| {
                serde_json::from_str::<Value>(&e.data).unwrap()["to"]
                    .as_str()
                    .unwrap()
                    .to_owned()
            })
            .collect()
    };
    assert_eq!(moves, ["assessed", "authorized"]);
    let deferred = detail(&manager, &hurried).await;
    let next: Date = deferred["record"]["cab_date"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let this: Date = cab_date.parse().unwrap();
    assert_eq!(next.weekday(), Weekday::Wednesday);
    assert!(
        next > this && next <= this.checked_add(14.days()).unwrap(),
        "{next}"
    );
    assert_eq!(deferred["status"], "submitted");
    let (_, agenda) = manager
        .get(&format!("/api/v1/cab/meetings/{cab_date}"))
        .await;
    assert_eq!(agenda["decisions"].as_array().unwrap().len(), 3, "{agenda}");
    assert!(
        agenda["rfcs"]
            .as_array()
            .unwrap()
            .iter()
            .all(|l| l["number"] != partner_rfc)
    );

    // Nothing goes before the meeting's approvals time (13:00 on the meeting day).
    web::cab::run_due(app.state()).await.unwrap();
    app.outbox_settles().await;
    assert!(decisions_to(&sink, SPOC).is_empty(), "before 13:00");
    let approvals = instant(this, 13) + SignedDuration::from_mins(1);
    domain::time::advance(approvals.duration_since(domain::time::now()));
    assert_eq!(web::cab::run_due(app.state()).await.unwrap(), 3);
    let spoc = testkit::eventually(
        async || decisions_to(&sink, SPOC),
        |m: &Vec<String>| !m.is_empty(),
    )
    .await;
    let text = &spoc[0];
    assert!(
        text.contains(&partner_rfc) && text.contains(rejection),
        "{text}"
    );
    assert!(
        text.contains("Rejetée") && text.contains("Motifs"),
        "in French: {text}"
    );
    let requester = testkit::eventually(
        async || decisions_to(&sink, MANAGER),
        |m: &Vec<String>| m.len() >= 3,
    )
    .await;
    assert!(requester.iter().any(|m| m.contains("Approved")));
    app.outbox_settles().await;
    // A restart and more passes: nothing twice.
    app.restart().await;
    assert_eq!(web::cab::run_due(app.state()).await.unwrap(), 0);
    app.outbox_settles().await;
    assert_eq!(decisions_to(&sink, SPOC).len(), 1);
    assert_eq!(decisions_to(&sink, MANAGER).len(), 3);
    let manager = app.api_as(MANAGER).await;
    let (_, agenda) = manager
        .get(&format!("/api/v1/cab/meetings/{cab_date}"))
        .await;
    assert!(agenda["approvals_sent_at"].is_string());
    assert!(
        agenda["decisions"]
            .as_array()
            .unwrap()
            .iter()
            .all(|d| d["notified_at"].is_string())
    );
}

#[tokio::test]
async fn a_normal_change_in_a_freeze_needs_an_approved_exception() {
    let app = TestApp::spawn().await;
    let manager = app.api_as(MANAGER).await;
    // A freeze over a Sunday five weeks ahead; the change in that Sunday's window.
    let sunday = day_after(35, Weekday::Sunday);
    let freeze = declare_freeze(
        &app,
        "Disaster-recovery exercise",
        sunday.yesterday().unwrap(),
        sunday.tomorrow().unwrap(),
    )
    .await;
    let window = json!({"requested_start": at(sunday, 1), "requested_end": at(sunday, 3),
        "outage_start": at(sunday, 1), "outage_end": at(sunday, 2)});
    let number = submit(&manager, rfc("Database patch during the exercise", window)).await;
    let cab_date = detail(&manager, &number).await["record"]["cab_date"]
        .as_str()
        .unwrap()
        .to_owned();
    let (s, d) = manager
        .post(
            &format!("/api/v1/cab/meetings/{cab_date}/decisions"),
            json!({"number": number, "decision": "approved"}),
        )
        .await;
    assert_eq!(s, 201, "{d}");

    // Booked into the freeze: refused with its reason.
    let (s, e) = move_to(&manager, &number, "scheduled", json!({})).await;
    assert_eq!(
        (s, e["code"].as_str()),
        (422, Some("change_in_freeze")),
        "{e}"
    );
    assert!(
        e["message"]
            .as_str()
            .unwrap()
            .contains("Disaster-recovery exercise"),
        "{e}"
    );

    // The exception: asked from the RFC with a justification, approved by a change manager.
    let path = format!("/api/v1/changes/{number}/freeze-exceptions");
    let (s, e) = manager
        .post(&path, json!({"freeze_id": freeze, "justification": ""}))
        .await;
    assert_eq!(s, 422, "{e}");
    let (s, created) = app
        .api_as(AGENT)
        .await
        .post(
            &path,
            json!({"freeze_id": freeze,
            "justification": "A security fix that cannot wait for the end of the exercise."}),
        )
        .await;
    assert_eq!(s, 201, "{created}");
    let exception = created["id"].as_i64().unwrap();
    let (s, e) = app
        .api_as(AGENT)
        .await
        .post(
            &path,
            json!({"freeze_id": freeze, "justification": "again"}),
        )
        .await;
    assert_eq!(
        (s.as_u16(), e["code"].as_str()),
        (422, Some("exception_exists"))
    );
    let (_, waiting) = manager.get("/api/v1/freeze-exceptions").await;
    assert!(waiting.to_string().contains(&number));
    let decide = format!("/api/v1/freeze-exceptions/{exception}/decision");
    let (s, _) = app
        .api_as(AGENT)
        .await
        .post(&decide, json!({"approved": true}))
        .await;
    assert_eq!(s, 403, "only change managers decide");
    let (s, e) = manager.post(&decide, json!({"approved": false})).await;
    assert_eq!(
        (s.as_u16(), e["code"].as_str()),
        (422, Some("reasons_required"))
    );
    let note = "Approved: the DR team confirmed the patch does not touch the exercise.";
    let (s, decided) = manager
        .post(&decide, json!({"approved": true, "note": note}))
        .await;
    assert_eq!(s, 200, "{decided}");
    assert_eq!(decided["status"], "approved");

    // Now it is booked, and the exception is on the record.
    let (s, e) = move_to(&manager, &number, "scheduled", json!({})).await;
    assert_eq!(s, 200, "{e}");
    assert_eq!(detail(&manager, &number).await["status"], "scheduled");
    let (s, approvals) = manager
        .get(&format!("/api/v1/changes/{number}/approvals"))
        .await;
    assert_eq!(s, 200, "{approvals}");
    let recorded = &approvals["exceptions"][0];
    assert_eq!(recorded["freeze_name"], "Disaster-recovery exercise");
    assert_eq!(recorded["status"], "approved");
    assert_eq!(recorded["decision_note"], note);
    assert_eq!(recorded["decided_by_name"], "Chris Change");
    let freeze_flag = approvals["flags"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["code"] == "in_freeze")
        .expect("still flagged, cleared");
    assert_eq!(freeze_flag["cleared"], true);
    let d = detail(&manager, &number).await;
    assert!(
        d["flags"].to_string().contains("an exception was approved"),
        "{d}"
    );
    // The approvals page shows it.
    let browser = app.browser();
    browser.sign_in(MANAGER, DEMO_PASSWORD).await;
    let (s, page) = browser
        .text(&format!("/console/changes/{number}/approvals"))
        .await;
    assert_eq!(s, 200);
    assert!(page.contains(note) && page.contains("Approved"), "{page}");
}

#[tokio::test]
async fn the_service_owner_approves_a_time_outside_the_windows_before_the_change() {
    let app = TestApp::spawn().await;
    let manager = app.api_as(MANAGER).await;
    // CHR's owner is the group lead.
    let lead = app.person_id(OWNER).await;
    let admin = app.api_as(ADMIN).await;
    let (s, e) = manager
        .put("/api/v1/services/CHR/owner", json!({"person_id": lead}))
        .await;
    assert_eq!(s, 403, "{e}");
    let (s, e) = admin
        .put(
            "/api/v1/services/CHR/owner",
            json!({"person_id": app.person_id(SPOC).await}),
        )
        .await;
    assert_eq!(
        (s.as_u16(), e["code"].as_str()),
        (422, Some("unknown_person")),
        "operator staff only"
    );
    let (s, e) = admin
        .put("/api/v1/services/CHR/owner", json!({"person_id": lead}))
        .await;
    assert_eq!(s, 204, "{e}");

    // A Tuesday afternoon three weeks ahead: outside the Sunday window.
    let tuesday = day_after(21, Weekday::Tuesday);
    let body = json!({"requested_start": at(tuesday, 14), "requested_end": at(tuesday, 15),
        "outage_start": at(tuesday, 14), "outage_end": at(tuesday, 15)});
    let number = submit(&manager, rfc("Viewer configuration change", body)).await;
    let cab_date = detail(&manager, &number).await["record"]["cab_date"]
        .as_str()
        .unwrap()
        .to_owned();
    let (s, _) = manager
        .post(
            &format!("/api/v1/cab/meetings/{cab_date}/decisions"),
            json!({"number": number, "decision": "approved"}),
        )
        .await;
    assert_eq!(s, 201);
    let (s, e) = move_to(&manager, &number, "scheduled", json!({})).await;
    assert_eq!(
        (s, e["code"].as_str()),
        (422, Some("outside_window_without_approval")),
        "{e}"
    );

    // The change manager is not the owner; the owner records it with a note.
    let path = format!("/api/v1/changes/{number}/window-approval");
    let (s, e) = manager.post(&path, json!({"note": "fine"})).await;
    assert_eq!(
        (s.as_u16(), e["code"].as_str()),
        (403, Some("not_service_owner"))
    );
    let owner = app.api_as(OWNER).await;
    let (_, before) = owner
        .get(&format!("/api/v1/changes/{number}/approvals"))
        .await;
    assert_eq!(before["may_approve_window"], true);
    assert_eq!(before["services"][0]["owner_name"], "Morgan Lead");
    let (s, a) = owner
        .post(
            &path,
            json!({"note": "Low clinical use on Tuesday afternoons."}),
        )
        .await;
    assert_eq!(s, 200, "{a}");
    assert_eq!(a["window_approval"]["approved_by_name"], "Morgan Lead");
    assert_eq!(
        a["window_approval"]["note"],
        "Low clinical use on Tuesday afternoons."
    );
    let (s, e) = move_to(&manager, &number, "scheduled", json!({})).await;
    assert_eq!(s, 200, "{e}");

    // After the requested start it is too late to record one.
    let start = instant(tuesday, 14);
    domain::time::advance(start.duration_since(domain::time::now()) + SignedDuration::from_mins(1));
    let (s, e) = owner.post(&path, json!({"note": "late"})).await;
    assert_eq!(
        (s.as_u16(), e["code"].as_str()),
        (422, Some("approval_too_late")),
        "{e}"
    );
}
