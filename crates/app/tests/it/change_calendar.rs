//! The change calendar through the API and the console page: windows from the policy pack,
//! the changes and freezes of a period, the service filter, and the iCalendar export read
//! back with a real iCalendar parser (one event per change, window and freeze).
use serde_json::Value;
use std::collections::BTreeSet;
use testkit::TestApp;

const AGENT: &str = "agent1@operator.example";
const PARTNER: &str = "cpc@hhs.example";

/// The VEVENTs of an iCalendar document as (UID, CATEGORIES, STATUS), parsed by `ical`.
pub fn parse_ics(text: &str) -> Vec<(String, String, String)> {
    let mut calendars = ical::IcalParser::new(std::io::BufReader::new(text.as_bytes()));
    let calendar = calendars
        .next()
        .expect("one calendar")
        .expect("a valid iCalendar document");
    assert!(calendars.next().is_none(), "exactly one calendar");
    calendar
        .events
        .iter()
        .map(|event| {
            let property = |name: &str| {
                event
                    .properties
                    .iter()
                    .find(|p| p.name == name)
                    .and_then(|p| p.value.clone())
                    .unwrap_or_else(|| panic!("{name} on every event"))
            };
            for required in ["DTSTART", "DTEND", "DTSTAMP", "SUMMARY"] {
                property(required);
            }
            (property("UID"), property("CATEGORIES"), property("STATUS"))
        })
        .collect()
}

fn kinds(events: &Value) -> Vec<String> {
    events["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn the_standing_windows_of_the_pack_are_on_the_calendar_and_in_its_export() {
    let app = TestApp::spawn().await;
    let agent = app.api_as(AGENT).await;
    let period = "from=2030-12-01T05:00:00Z&to=2031-01-01T05:00:00Z";
    let (s, body) = agent
        .get(&format!("/api/v1/changes/calendar?{period}"))
        .await;
    assert_eq!(s, 200, "{body}");
    let windows: Vec<&Value> = body["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "window")
        .collect();
    // Sundays of December 2030: 1, 8, 15, 22, 29; 00:00-06:00 in Toronto (UTC-5). The
    // period starts at the first one's start.
    let starts: Vec<&str> = windows
        .iter()
        .map(|w| w["starts_at"].as_str().unwrap())
        .collect();
    assert_eq!(
        starts,
        [
            "2030-12-01T05:00:00Z",
            "2030-12-08T05:00:00Z",
            "2030-12-15T05:00:00Z",
            "2030-12-22T05:00:00Z",
            "2030-12-29T05:00:00Z"
        ],
        "{body}"
    );
    assert_eq!(windows[0]["ends_at"], "2030-12-01T11:00:00Z");

    let (s, ics) = agent
        .get(&format!("/api/v1/changes/calendar.ics?{period}"))
        .await;
    assert_eq!(s, 200);
    let events = parse_ics(ics.as_str().expect("iCalendar text"));
    assert_eq!(events.len(), body["events"].as_array().unwrap().len());
    let uids: BTreeSet<&String> = events.iter().map(|(uid, _, _)| uid).collect();
    assert_eq!(uids.len(), events.len(), "UIDs are unique");
    assert!(
        events
            .iter()
            .filter(|(_, category, _)| category == "WINDOW")
            .all(|(_, _, status)| status == "CONFIRMED")
    );
    assert_eq!(kinds(&body).iter().filter(|k| *k == "window").count(), 5);
    // A period that starts inside a window still shows it.
    let (_, inside) = agent
        .get("/api/v1/changes/calendar?from=2030-12-08T07:00:00Z&to=2030-12-09T00:00:00Z")
        .await;
    assert_eq!(kinds(&inside), ["window"]);
}

#[tokio::test]
async fn bad_periods_and_unknown_services_are_refused_and_partners_kept_out() {
    let app = TestApp::spawn().await;
    let agent = app.api_as(AGENT).await;
    for (query, code) in [
        (
            "from=2030-12-10T00:00:00Z&to=2030-12-01T00:00:00Z",
            "end_before_start",
        ),
        (
            "from=2030-01-01T00:00:00Z&to=2032-01-01T00:00:00Z",
            "range_too_long",
        ),
        ("from=yesterday", "invalid_datetime"),
        ("from=9999-12-31T00:00:00Z", "invalid_datetime"),
        ("service=no-such-service", "unknown_service"),
    ] {
        let (s, e) = agent
            .get(&format!("/api/v1/changes/calendar?{query}"))
            .await;
        assert_eq!(
            (s.as_u16(), e["code"].as_str()),
            (422, Some(code)),
            "{query}: {e}"
        );
    }
    let (s, e) = agent.get("/api/v1/changes/calendar?color=red").await;
    assert_eq!(s, 400, "{e}");
    let partner = app.api_as(PARTNER).await;
    let (s, _) = partner.get("/api/v1/changes/calendar").await;
    assert_eq!(s, 403);
    let (s, _) = partner.get("/api/v1/changes/calendar.ics").await;
    assert_eq!(s, 403);
}

#[tokio::test]
async fn the_console_shows_a_week_and_a_month_in_either_language() {
    let app = TestApp::spawn().await;
    let browser = app.browser();
    browser.sign_in(AGENT, testkit::DEMO_PASSWORD).await;
    let page = browser
        .get("/console/changes/calendar?view=week&date=2030-12-11")
        .await;
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    // This agent reads French.
    assert!(html.contains("Semaine du 2030-12-09"), "{html}");
    assert!(html.contains("data-kind=\"window\""));
    assert!(html.contains("Fenêtre de maintenance permanente"));
    let switched = browser
        .post_form(
            "/lang",
            &[("lang", "en"), ("next", "/console/changes/calendar")],
        )
        .await;
    assert_eq!(switched.status(), 303);
    let html = browser
        .get("/console/changes/calendar?view=week&date=2030-12-11")
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("Week of 2030-12-09"), "{html}");
    assert!(html.contains("Standing maintenance window"));
    let month = browser
        .get("/console/changes/calendar?view=month&date=2030-12-11")
        .await
        .text()
        .await
        .unwrap();
    assert!(month.contains("December 2030"));
    // The grid runs Monday Nov 25 to Sunday Jan 5: six Sundays.
    assert_eq!(month.matches("data-kind=\"window\"").count(), 6);
    let ics = browser
        .get("/console/changes/calendar?view=month&date=2030-12-11&format=ics")
        .await;
    assert_eq!(
        ics.headers()["content-type"],
        "text/calendar; charset=utf-8"
    );
    assert_eq!(parse_ics(&ics.text().await.unwrap()).len(), 6);
    let bad = browser.get("/console/changes/calendar?date=someday").await;
    assert_eq!(bad.status(), 422);
}

fn events_of<'a>(period: &'a Value, kind: &str) -> Vec<&'a Value> {
    period["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == kind)
        .collect()
}

#[tokio::test]
async fn changes_and_freezes_are_on_the_calendar_one_event_each_in_the_export() {
    use crate::changes::{move_to, rfc, submit};
    use jiff::SignedDuration;
    let app = TestApp::spawn().await;
    let manager = app.api_as("change@operator.example").await;
    let number = submit(&manager, rfc("Viewer release 7.2", serde_json::json!({}))).await;
    let now = domain::time::now();
    let freeze = |name: &str, service: &str| {
        let starts = now + SignedDuration::from_hours(24 * 40);
        serde_json::json!({
            "name": name,
            "reason": "Disaster-recovery exercise",
            "starts_at": starts.to_string(),
            "ends_at": (starts + SignedDuration::from_hours(48)).to_string(),
            "services": [service],
            "exception_procedure": "Ask the change manager.",
        })
    };
    for (name, service) in [("DR exercise (viewer)", "CHR"), ("Feed cut-over", "FEEDS")] {
        let (s, body) = manager.post("/api/v1/freezes", freeze(name, service)).await;
        assert_eq!(s, 201, "{body}");
    }
    let to = now + SignedDuration::from_hours(24 * 60);
    let period = format!("from={now}&to={to}");

    let (s, all) = manager
        .get(&format!("/api/v1/changes/calendar?{period}"))
        .await;
    assert_eq!(s, 200, "{all}");
    let mine: Vec<&Value> = events_of(&all, "change")
        .into_iter()
        .filter(|e| e["number"] == number.as_str())
        .collect();
    assert_eq!(mine.len(), 1, "{all}");
    assert_eq!(mine[0]["approval"], "pending");
    assert_eq!(mine[0]["services"], serde_json::json!(["CHR"]));
    assert_eq!(mine[0]["uid"], format!("{}@triage", number.to_lowercase()));
    let freezes: BTreeSet<&str> = events_of(&all, "freeze")
        .iter()
        .map(|e| e["title"].as_str().unwrap())
        .collect();
    assert!(freezes.iter().any(|t| t.ends_with("DR exercise (viewer)")));
    assert!(freezes.iter().any(|t| t.ends_with("Feed cut-over")));

    // One service: its changes and freezes (its own, and those of every service such as the
    // demo's platform migration freeze), every window.
    let (_, viewer) = manager
        .get(&format!("/api/v1/changes/calendar?{period}&service=CHR"))
        .await;
    let viewer_freezes = events_of(&viewer, "freeze");
    assert!(
        viewer_freezes
            .iter()
            .all(|e| e["services"] == serde_json::json!(["CHR"])
                || e["services"] == serde_json::json!([])),
        "{viewer}"
    );
    assert!(viewer_freezes.iter().any(|e| {
        e["title"]
            .as_str()
            .unwrap()
            .ends_with("DR exercise (viewer)")
    }));
    assert!(
        !viewer_freezes
            .iter()
            .any(|e| e["title"].as_str().unwrap().ends_with("Feed cut-over"))
    );
    assert!(
        events_of(&viewer, "change")
            .iter()
            .all(|e| e["services"].as_array().unwrap().contains(&"CHR".into()))
    );
    assert_eq!(
        events_of(&viewer, "window").len(),
        events_of(&all, "window").len()
    );
    let (_, feeds) = manager
        .get(&format!("/api/v1/changes/calendar?{period}&service=FEEDS"))
        .await;
    assert!(
        events_of(&feeds, "change")
            .iter()
            .all(|e| e["number"] != number.as_str())
    );

    // The export: one VEVENT per event, the pending change tentative.
    let (_, ics) = manager
        .get(&format!("/api/v1/changes/calendar.ics?{period}"))
        .await;
    let parsed = parse_ics(ics.as_str().unwrap());
    assert_eq!(parsed.len(), all["events"].as_array().unwrap().len());
    for (kind, category) in [
        ("change", "CHANGE"),
        ("window", "WINDOW"),
        ("freeze", "FREEZE"),
    ] {
        assert_eq!(
            parsed.iter().filter(|(_, c, _)| c == category).count(),
            events_of(&all, kind).len(),
            "{category}"
        );
    }
    let uid = format!("{}@triage", number.to_lowercase());
    assert!(parsed.contains(&(uid.clone(), "CHANGE".into(), "TENTATIVE".into())));

    // A cancelled change leaves the calendar.
    let (s, body) = move_to(&manager, &number, "cancelled", serde_json::json!({})).await;
    assert_eq!(s, 200, "{body}");
    let (_, after) = manager
        .get(&format!("/api/v1/changes/calendar.ics?{period}"))
        .await;
    assert!(
        parse_ics(after.as_str().unwrap())
            .iter()
            .all(|(u, _, _)| *u != uid)
    );
}
