//! Policy administration: the admin page and API that load and select policy pack versions,
//! one-off calendar closures that move the due times of open tickets, and `triage policy`.
use reqwest::StatusCode;
use serde_json::{Value, json};
use testkit::TestApp;

const ADMIN: &str = "admin@operator.example";
const BIN: &str = env!("CARGO_BIN_EXE_triage");

/// The shipped priority pack as another version, with a different English name.
fn version(n: u32, name: &str) -> String {
    domain::policy_pack::shipped_pack_text("priority")
        .unwrap()
        .replacen("version = 1", &format!("version = {n}"), 1)
        .replacen(
            "name_en = \"Priority model (P1-P4)\"",
            &format!("name_en = \"{name}\""),
            1,
        )
}

/// A version whose P3 incident target has no valid unit: refused at line 117.
fn bad_version(name: &str) -> String {
    version(2, name).replacen("resolve = \"12h\"", "resolve = \"12x\"", 1)
}

const BAD_LINE: &str = "117";
const BAD_FIELD: &str = "priorities[2].incident.resolve";

async fn packs(app: &TestApp) -> Value {
    let (s, list) = app.api_as(ADMIN).await.get("/api/v1/policy-packs").await;
    assert_eq!(s, 200, "{list}");
    list
}

/// Opens a P3 incident (impact 3, urgency 3: P3 on the business calendar) and returns its
/// number.
async fn p3_incident(app: &TestApp, summary: &str) -> String {
    let desk = app.api_as("helpdesk@hhs.example").await;
    let (s, t) = desk
        .post(
            "/api/v1/tickets",
            json!({"kind": "incident", "summary": summary, "details": "Slow screens in the clinic",
                   "impact": 3, "urgency": 3}),
        )
        .await;
    assert_eq!(s, 201, "{t}");
    t["number"].as_str().unwrap().to_owned()
}

async fn sla(app: &TestApp, number: &str) -> Value {
    let (s, sla) = app
        .api_as("agent1@operator.example")
        .await
        .get(&format!("/api/v1/tickets/{number}/sla"))
        .await;
    assert_eq!(s, 200, "{sla}");
    sla
}

#[tokio::test]
async fn the_admin_page_loads_checks_and_selects_pack_versions() {
    let app = TestApp::spawn().await;
    let b = app.browser();
    b.sign_in(ADMIN, testkit::DEMO_PASSWORD).await;
    let (s, page) = b.text("/admin/policy").await;
    assert_eq!(s, 200, "{page}");
    assert!(
        page.contains("href=\"/admin/policy\" aria-current=\"page\""),
        "{page}"
    );
    assert!(page.contains("data-testid=\"selected-pack\""), "{page}");
    assert!(page.contains("Priority model (P1-P4)"));
    assert!(page.contains("data-testid=\"policy-summary\""));
    assert!(page.contains("<th scope=\"row\">P3</th>"), "{page}");
    assert!(
        page.contains("12 h") && page.contains("2 business days"),
        "{page}"
    );
    let before = p3_incident(&app, "Viewer slow before").await;

    // A file with a mistake: the line and field are shown, the text is kept, nothing stored.
    let r = b
        .post_form(
            "/admin/policy/load",
            &[("source", &bad_version("Model KEEPME"))],
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = r.text().await.unwrap();
    assert!(page.contains("data-testid=\"form-error\""), "{page}");
    assert!(page.contains(&format!("at line {BAD_LINE}")), "{page}");
    assert!(page.contains(BAD_FIELD), "{page}");
    assert!(page.contains("name_en = &#34;Model KEEPME&#34;"), "{page}");
    assert!(page.contains("resolve = &#34;12x&#34;"), "{page}");
    assert_eq!(packs(&app).await["packs"].as_array().unwrap().len(), 2);

    // A good one is stored as version 2, not selected yet.
    let r = b
        .post_form(
            "/admin/policy/load",
            &[("source", &version(2, "Model 2027"))],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()["location"], "/admin/policy?done=loaded");
    let list = packs(&app).await;
    let v2 = list["packs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["code"] == "priority" && p["version"] == 2)
        .unwrap_or_else(|| panic!("{list}"))
        .clone();
    assert_eq!(v2["name_en"], "Model 2027");
    assert_eq!(v2["loaded_by"], ADMIN);
    assert_ne!(list["selected"], v2["id"]);
    let (_, page) = b.text("/admin/policy?done=loaded").await;
    assert!(page.contains("Model 2027"), "{page}");
    assert!(page.contains("The pack version was loaded."));
    let id = v2["id"].as_i64().unwrap().to_string();

    // Its source, read-only.
    let (s, source) = b.text(&format!("/admin/policy/packs/{id}")).await;
    assert_eq!(s, 200);
    assert!(source.contains("data-testid=\"policy-source\""), "{source}");
    assert!(source.contains("version = 2"));
    assert!(!source.contains("<textarea"));

    // Selected: new tickets get it; the ticket opened before keeps version 1.
    let r = b.post_form("/admin/policy/select", &[("id", &id)]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(packs(&app).await["selected"], v2["id"]);
    let after = p3_incident(&app, "Viewer slow after").await;
    assert_eq!(sla(&app, &after).await["policy"]["version"], 2);
    assert_eq!(sla(&app, &before).await["policy"]["version"], 1);
    let (_, page) = b.text("/admin/policy").await;
    let marked = page
        .split("data-testid=\"selected-pack\"")
        .nth(1)
        .and_then(|rest| rest.split("</tr>").next())
        .unwrap_or_default();
    assert!(marked.contains("Model 2027"), "{page}");

    // An uploaded file with a mistake is shown again in the text box.
    let csrf = b.csrf().await;
    let form = reqwest::multipart::Form::new()
        .text("_csrf", csrf)
        .text("source", "")
        .part(
            "file",
            reqwest::multipart::Part::bytes(bad_version("Uploaded KEEPME").into_bytes())
                .file_name("priority.toml"),
        );
    let r = b
        .client
        .post(app.url("/admin/policy/load"))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = r.text().await.unwrap();
    assert!(page.contains(&format!("at line {BAD_LINE}")), "{page}");
    assert!(page.contains("Uploaded KEEPME"), "{page}");
    // A good upload, selected at once.
    let csrf = b.csrf().await;
    let form = reqwest::multipart::Form::new()
        .text("_csrf", csrf)
        .text("select", "1")
        .part(
            "file",
            reqwest::multipart::Part::bytes(version(3, "Uploaded three").into_bytes())
                .file_name("priority.toml"),
        );
    let r = b
        .client
        .post(app.url("/admin/policy/load"))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let third = p3_incident(&app, "Viewer slow third").await;
    assert_eq!(sla(&app, &third).await["policy"]["version"], 3);

    // Every load and select is in the audit log.
    let admin = app.api_as(ADMIN).await;
    let (_, loads) = admin.get("/api/v1/audit?action=policy.load").await;
    let loads: Vec<&Value> = loads
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["actor_label"] == ADMIN)
        .collect();
    assert_eq!(loads.len(), 2, "{loads:?}");
    let (_, selects) = admin.get("/api/v1/audit?action=policy.select").await;
    assert!(
        selects
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["entity_id"] == "priority@2" && r["actor_label"] == ADMIN),
        "{selects}"
    );

    // In French.
    b.post_form("/lang", &[("lang", "fr"), ("next", "/admin/policy")])
        .await;
    let (_, page) = b.text("/admin/policy").await;
    assert!(page.contains("Politique de niveau de service"), "{page}");
    assert!(page.contains("jours ouvrables"), "{page}");
    let r = b
        .post_form("/admin/policy/load", &[("source", &bad_version("x"))])
        .await;
    let page = r.text().await.unwrap();
    assert!(page.contains(&format!("à la ligne {BAD_LINE}")), "{page}");
}

#[tokio::test]
async fn only_administrators_manage_the_policy() {
    let app = TestApp::spawn().await;
    // Anonymous: sent to sign in.
    let anonymous = app.browser();
    let r = anonymous.get("/admin/policy").await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert!(
        r.headers()["location"]
            .to_str()
            .unwrap()
            .starts_with("/signin")
    );
    // An agent (and a group lead) may not see or change it.
    for email in ["agent1@operator.example", "lead@operator.example"] {
        let b = app.browser();
        let r = b.sign_in(email, testkit::DEMO_PASSWORD).await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER, "{email} signs in");
        let (s, page) = b.text("/admin/policy").await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{email}");
        assert!(!page.contains("href=\"/admin/policy\""), "{email}: {page}");
        let r = b
            .post_form("/admin/policy/load", &[("source", &version(2, "Agent's"))])
            .await;
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "{email}");
        let r = b.post_form("/admin/policy/select", &[("id", "2")]).await;
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "{email}");
        let r = b
            .post_form(
                "/admin/policy/closures",
                &[("date", "2030-01-02"), ("name_en", "x"), ("name_fr", "x")],
            )
            .await;
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "{email}");
        let (s, _) = b.text("/admin/policy/packs/1").await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{email}");
    }
    let agent = app.api_as("agent1@operator.example").await;
    let (s, _) = agent
        .post(
            "/api/v1/policy-packs",
            json!({"source": version(2, "Agent's"), "select": true}),
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, _) = agent
        .put("/api/v1/policy-packs/selected", json!({"id": 2}))
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, _) = agent
        .post(
            "/api/v1/calendar-closures",
            json!({"date": "2030-01-02", "name_en": "x", "name_fr": "x"}),
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, _) = agent
        .send(reqwest::Method::DELETE, "/api/v1/calendar-closures/1", None)
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    // Agents may read the closures; partners may not.
    let (s, _) = agent.get("/api/v1/calendar-closures").await;
    assert_eq!(s, 200);
    let (s, _) = app
        .api_as("helpdesk@hhs.example")
        .await
        .get("/api/v1/calendar-closures")
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let list = packs(&app).await;
    assert_eq!(list["packs"].as_array().unwrap().len(), 2, "{list}");
}

#[tokio::test]
async fn the_api_loads_and_selects_pack_versions() {
    let app = TestApp::spawn().await;
    let admin = app.api_as(ADMIN).await;
    let (s, e) = admin
        .post(
            "/api/v1/policy-packs",
            json!({"source": bad_version("Bad"), "select": true}),
        )
        .await;
    assert_eq!(s, 422, "{e}");
    assert_eq!(e["code"], "invalid_policy");
    assert_eq!(e["detail"]["line"], BAD_LINE.parse::<i64>().unwrap());
    assert_eq!(e["detail"]["field"], BAD_FIELD);
    assert_eq!(e["detail"]["code"], "invalid_target");
    let message = e["message"].as_str().unwrap();
    assert!(message.contains(&format!("line {BAD_LINE}")), "{message}");
    assert!(message.contains(BAD_FIELD), "{message}");
    assert_eq!(packs(&app).await["packs"].as_array().unwrap().len(), 2);

    let (s, stored) = admin
        .post(
            "/api/v1/policy-packs",
            json!({"source": version(2, "API two")}),
        )
        .await;
    assert_eq!(s, 201, "{stored}");
    assert_eq!(
        (&stored["code"], &stored["version"], &stored["name_en"]),
        (&json!("priority"), &json!(2), &json!("API two"))
    );
    assert!(stored.get("source").is_none());
    let (s, e) = admin
        .post(
            "/api/v1/policy-packs",
            json!({"source": version(2, "API two again")}),
        )
        .await;
    assert_eq!(
        (s, &e["code"]),
        (StatusCode::CONFLICT, &json!("version_exists"))
    );
    let number = p3_incident(&app, "Before the API select").await;
    assert_eq!(sla(&app, &number).await["policy"]["version"], 1);

    let (s, selected) = admin
        .put("/api/v1/policy-packs/selected", json!({"id": stored["id"]}))
        .await;
    assert_eq!(s, 200, "{selected}");
    assert_eq!(selected["version"], 2);
    assert_eq!(packs(&app).await["selected"], stored["id"]);
    let number = p3_incident(&app, "After the API select").await;
    let view = sla(&app, &number).await;
    assert_eq!(view["policy"]["version"], 2, "{view}");
    assert_eq!(view["policy"]["name_en"], "API two");
    let (s, e) = admin
        .put("/api/v1/policy-packs/selected", json!({"id": 999}))
        .await;
    assert_eq!(
        (s, &e["code"]),
        (StatusCode::UNPROCESSABLE_ENTITY, &json!("invalid_choice"))
    );
    let (s, e) = admin
        .put("/api/v1/policy-packs/selected", json!({"pack": 1}))
        .await;
    assert_eq!(
        (s, &e["code"]),
        (StatusCode::UNPROCESSABLE_ENTITY, &json!("unknown_field"))
    );

    // Loaded and selected in one call.
    let (s, three) = admin
        .post(
            "/api/v1/policy-packs",
            json!({"source": version(3, "API three"), "select": true}),
        )
        .await;
    assert_eq!(s, 201, "{three}");
    let number = p3_incident(&app, "After the third").await;
    assert_eq!(sla(&app, &number).await["policy"]["version"], 3);
    let (_, audit) = admin.get("/api/v1/audit?action=policy.select").await;
    let selects = audit
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["actor_label"] == ADMIN)
        .count();
    assert_eq!(selects, 2, "{audit}");
}

/// The next business day of the `business` calendar after `date` (weekdays that are not
/// observed holidays).
fn next_business_day(date: jiff::civil::Date) -> jiff::civil::Date {
    let business = domain::calendar::shipped_calendar("business").unwrap();
    let mut day = date.tomorrow().unwrap();
    loop {
        let holidays = business.holidays_in_year(day.year()).unwrap();
        let weekday = day.weekday().to_monday_one_offset() <= 5;
        if weekday && holidays.iter().all(|h| h.observed != day) {
            return day;
        }
        day = day.tomorrow().unwrap();
    }
}

fn instant(v: &Value) -> jiff::Timestamp {
    v.as_str()
        .unwrap_or_else(|| panic!("not an instant: {v}"))
        .parse()
        .unwrap()
}

async fn stored_due(app: &TestApp, number: &str) -> String {
    let (_, list) = app
        .api_as("agent1@operator.example")
        .await
        .get(&format!("/api/v1/tickets?q={number}"))
        .await;
    list["items"][0]["sla_due_at"]
        .as_str()
        .unwrap_or_else(|| panic!("{list}"))
        .to_owned()
}

/// A closure on the next business day moves a P3's due time by one business day (same wall
/// clock time, next business day), the explanation lists it, and the stored due time (what
/// queues sort on) follows; a P1 on 24x7 does not move. Removing it moves it back.
#[tokio::test]
async fn a_closure_moves_open_tickets_by_one_business_day_and_back() {
    let app = TestApp::spawn().await;
    let toronto = jiff::tz::TimeZone::get("America/Toronto").unwrap();
    let number = p3_incident(&app, "Printer queue stuck").await;
    let before = sla(&app, &number).await;
    assert_eq!(before["priority"]["code"], "P3", "{before}");
    assert_eq!(before["priority"]["calendar"], "business");
    let due = instant(&before["resolution"]["due"]);
    assert_eq!(stored_due(&app, &number).await, domain::time::to_db(due));
    let desk = app.api_as("helpdesk@hhs.example").await;
    let (_, p1) = desk
        .post(
            "/api/v1/tickets",
            json!({"kind": "incident", "summary": "Everything down", "details": "All sites",
                   "impact": 1, "urgency": 1}),
        )
        .await;
    let p1 = p1["number"].as_str().unwrap().to_owned();
    let p1_due = sla(&app, &p1).await["resolution"]["due"].clone();

    // 12 h of business time never fit in one day: the next business day is before the due.
    let today = jiff::Timestamp::now().to_zoned(toronto.clone()).date();
    let closed = next_business_day(today);
    let due_local = due.to_zoned(toronto.clone());
    assert!(closed <= due_local.date(), "{closed} after {due_local}");

    let admin = app.api_as(ADMIN).await;
    let (s, closure) = admin
        .post(
            "/api/v1/calendar-closures",
            json!({"date": closed.to_string(), "name_en": "Office move", "name_fr": "Déménagement"}),
        )
        .await;
    assert_eq!(s, 201, "{closure}");
    assert_eq!(closure["closed_on"], closed.to_string());
    assert_eq!(closure["calendar"], Value::Null);
    assert_eq!(closure["added_by"], ADMIN);

    let after = sla(&app, &number).await;
    let moved = instant(&after["resolution"]["due"]).to_zoned(toronto.clone());
    assert_eq!(moved.date(), next_business_day(due_local.date()), "{after}");
    assert_eq!(moved.time(), due_local.time(), "{after}");
    let skipped = after["skipped_days"].as_array().unwrap();
    let day = skipped
        .iter()
        .find(|d| d["date"] == closed.to_string())
        .unwrap_or_else(|| panic!("{closed} not skipped: {after}"));
    assert_eq!(
        day["cause"],
        json!({"kind": "closure", "name": "Office move", "name_fr": "Déménagement"})
    );
    // The stored figure the queues use moved too; the 24x7 P1 did not.
    assert_eq!(
        stored_due(&app, &number).await,
        domain::time::to_db(moved.timestamp())
    );
    assert_eq!(sla(&app, &p1).await["resolution"]["due"], p1_due);

    // The same date again for all calendars: refused.
    let (s, e) = admin
        .post(
            "/api/v1/calendar-closures",
            json!({"date": closed.to_string(), "name_en": "Again", "name_fr": "Encore"}),
        )
        .await;
    assert_eq!(
        (s, &e["code"]),
        (StatusCode::CONFLICT, &json!("closure_exists"))
    );
    let (_, list) = admin.get("/api/v1/calendar-closures").await;
    assert_eq!(list.as_array().unwrap().len(), 1, "{list}");

    // Removed: back where it was.
    let id = closure["id"].as_i64().unwrap();
    let (s, _) = admin
        .send(
            reqwest::Method::DELETE,
            &format!("/api/v1/calendar-closures/{id}"),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let back = sla(&app, &number).await;
    assert_eq!(instant(&back["resolution"]["due"]), due, "{back}");
    assert!(
        back["skipped_days"]
            .as_array()
            .unwrap()
            .iter()
            .all(|d| d["date"] != closed.to_string()),
        "{back}"
    );
    assert_eq!(stored_due(&app, &number).await, domain::time::to_db(due));
    let (s, _) = admin
        .send(
            reqwest::Method::DELETE,
            &format!("/api/v1/calendar-closures/{id}"),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);

    // A closure for another calendar leaves business tickets alone; bad input is refused.
    let (s, c) = admin
        .post(
            "/api/v1/calendar-closures",
            json!({"date": closed.to_string(), "calendar": "lra-team", "name_en": "Team day", "name_fr": "Journée d'équipe"}),
        )
        .await;
    assert_eq!(s, 201, "{c}");
    assert_eq!(instant(&sla(&app, &number).await["resolution"]["due"]), due);
    for (body, code) in [
        (
            json!({"date": "2030-02-30", "name_en": "x", "name_fr": "x"}),
            "invalid_date",
        ),
        (
            json!({"date": "2030-01-02", "calendar": "24x7", "name_en": "x", "name_fr": "x"}),
            "unknown_calendar",
        ),
        (
            json!({"date": "2030-01-02", "calendar": "moon", "name_en": "x", "name_fr": "x"}),
            "unknown_calendar",
        ),
        (
            json!({"date": "2030-01-02", "name_en": " ", "name_fr": "x"}),
            "required",
        ),
    ] {
        let (s, e) = admin.post("/api/v1/calendar-closures", body.clone()).await;
        assert_eq!(
            (s, e["code"].as_str().unwrap()),
            (StatusCode::UNPROCESSABLE_ENTITY, code),
            "{body}"
        );
    }
    // Both are in the audit log.
    let (_, audit) = admin
        .get("/api/v1/audit?entity_type=calendar_closure")
        .await;
    let actions: Vec<&str> = audit
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        [
            "calendar.closure.add",
            "calendar.closure.remove",
            "calendar.closure.add"
        ],
        "{audit}"
    );
}

/// Closures and holidays on the page, in both languages.
#[tokio::test]
async fn the_page_adds_lists_and_removes_closures_and_shows_holidays() {
    let app = TestApp::spawn().await;
    let b = app.browser();
    b.sign_in(ADMIN, testkit::DEMO_PASSWORD).await;
    // A refused closure keeps what was typed.
    let r = b
        .post_form(
            "/admin/policy/closures",
            &[
                ("date", "2030-13-01"),
                ("calendar", "business"),
                ("name_en", "Inventory KEEPME"),
                ("name_fr", "Inventaire"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = r.text().await.unwrap();
    assert!(page.contains("data-testid=\"form-error\""), "{page}");
    assert!(page.contains("value=\"Inventory KEEPME\""), "{page}");
    assert!(page.contains("value=\"business\" selected"), "{page}");
    let (_, list) = app
        .api_as(ADMIN)
        .await
        .get("/api/v1/calendar-closures")
        .await;
    assert_eq!(list, json!([]));

    let r = b
        .post_form(
            "/admin/policy/closures",
            &[
                ("date", "2030-12-31"),
                ("calendar", "business"),
                ("name_en", "Inventory"),
                ("name_fr", "Inventaire"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let location = r.headers()["location"].to_str().unwrap().to_owned();
    assert!(
        location.starts_with("/admin/policy?done=closure-added"),
        "{location}"
    );
    let (_, page) = b.text(&location).await;
    assert!(page.contains("Closure added."), "{page}");
    let table = page
        .split("data-testid=\"closures\"")
        .nth(1)
        .unwrap_or_else(|| panic!("{page}"));
    assert!(
        table.contains("2030-12-31") && table.contains("Inventory"),
        "{page}"
    );
    let (_, list) = app
        .api_as(ADMIN)
        .await
        .get("/api/v1/calendar-closures")
        .await;
    let id = list[0]["id"].as_i64().unwrap();
    assert_eq!(list[0]["calendar"], "business");

    // Holidays of 2026 on business: Boxing Day (Saturday) is observed on Monday 28.
    let (s, page) = b.text("/admin/policy?calendar=business&year=2026").await;
    assert_eq!(s, 200);
    let holidays = page
        .split("data-testid=\"holidays\"")
        .nth(1)
        .unwrap_or_else(|| panic!("{page}"));
    assert!(holidays.contains("Boxing Day"), "{holidays}");
    assert!(
        holidays.contains("<td>2026-12-26</td><td><strong>2026-12-28</strong></td>"),
        "{holidays}"
    );
    assert!(holidays.contains("Family Day"));
    let (_, page) = b.text("/admin/policy?calendar=business&year=99999").await;
    assert!(page.contains("role=\"alert\""), "{page}");

    // In French.
    b.post_form("/lang", &[("lang", "fr"), ("next", "/admin/policy")])
        .await;
    let (_, page) = b.text("/admin/policy?calendar=business&year=2026").await;
    assert!(page.contains("Fermetures ponctuelles"), "{page}");
    assert!(page.contains("Inventaire"), "{page}");
    assert!(page.contains("Lendemain de Noël"), "{page}");

    let r = b
        .post_form(&format!("/admin/policy/closures/{id}/delete"), &[])
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let (_, list) = app
        .api_as(ADMIN)
        .await
        .get("/api/v1/calendar-closures")
        .await;
    assert_eq!(list, json!([]));
}

fn temp_file(name: &str, text: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "triage-policy-{}-{}",
        std::process::id(),
        jiff::Timestamp::now().as_nanosecond()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

/// `triage policy load` on the test app's database: a bad file exits 2 naming the line and
/// stores nothing; a good one exits 0 and is listed.
#[tokio::test]
async fn the_command_line_loads_pack_files() {
    let app = TestApp::spawn().await;
    let bad = temp_file("bad.toml", &bad_version("CLI bad"));
    let (code, _, stderr) = testkit::run_cli(
        BIN,
        &app.database_url,
        &["policy", "load", bad.to_str().unwrap()],
    )
    .await
    .unwrap();
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains(&format!("line {BAD_LINE}")), "{stderr}");
    assert!(stderr.contains(BAD_FIELD), "{stderr}");
    assert_eq!(packs(&app).await["packs"].as_array().unwrap().len(), 2);

    let good = temp_file("good.toml", &version(2, "CLI two"));
    let (code, stdout, stderr) = testkit::run_cli(
        BIN,
        &app.database_url,
        &["policy", "load", good.to_str().unwrap()],
    )
    .await
    .unwrap();
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("Loaded priority version 2"), "{stdout}");
    let (code, stdout, stderr) = testkit::run_cli(BIN, &app.database_url, &["policy", "list"])
        .await
        .unwrap();
    assert_eq!(code, 0, "{stderr}");
    let line = stdout
        .lines()
        .find(|l| l.contains("priority@2"))
        .unwrap_or_else(|| panic!("{stdout}"));
    assert!(line.contains("CLI two"), "{line}");
    assert!(!line.starts_with('*'), "not selected: {stdout}");
    assert!(
        stdout
            .lines()
            .any(|l| l.starts_with('*') && l.contains("priority@1")),
        "{stdout}"
    );
    let list = packs(&app).await;
    assert!(
        list["packs"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["version"] == 2 && p["loaded_by"] == "cli"),
        "{list}"
    );
    for path in [bad, good] {
        let _ = std::fs::remove_dir_all(path.parent().unwrap());
    }
}
