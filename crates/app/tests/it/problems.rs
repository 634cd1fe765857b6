//! Problem management through the API and the pages: the record with its required fields,
//! the workflow to a verified closure with the single point of contact's notices at a real
//! SMTP server and their acknowledgement, known errors suggested on a new incident,
//! organization isolation, and the monthly review whose agenda lists exactly one partner's
//! problems.
use serde_json::{Value, json};
use std::collections::BTreeSet;
use testkit::{Api, SmtpSink, TestApp, eventually};

const AGENT: &str = "agent1@operator.example";
const SPOC: &str = "cpc@hhs.example";

async fn group_id(api: &Api, code: &str) -> i64 {
    let (_, groups) = api.get("/api/v1/support-groups").await;
    groups
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["code"] == code)
        .unwrap_or_else(|| panic!("group {code}"))["id"]
        .as_i64()
        .unwrap()
}

/// Logs a problem with every required field; `extra` overrides or adds fields.
async fn log_problem(api: &Api, org: i64, summary: &str, items: &[&str], extra: Value) -> String {
    let mut body = json!({
        "organization_id": org,
        "summary": summary,
        "description": format!("{summary}: seen several times this week."),
        "impact_description": "Clinicians wait for results.",
        "category": "interface",
        "impact": 2,
        "urgency": 2,
        "investigating_group_id": group_id(api, "T2").await,
        "configuration_items": items,
    });
    for (k, v) in extra.as_object().unwrap() {
        body[k] = v.clone();
    }
    let (s, created) = api.post("/api/v1/problems", body).await;
    assert_eq!(s, 201, "{created}");
    created["number"].as_str().unwrap().to_owned()
}

async fn move_to(api: &Api, number: &str, statuses: &[&str]) {
    for status in statuses {
        let (s, body) = api
            .post(
                &format!("/api/v1/problems/{number}/status"),
                json!({"status": status}),
            )
            .await;
        assert_eq!(s, 200, "{number} to {status}: {body}");
        assert_eq!(body["record"]["status"], *status);
    }
}

async fn incident(api: &Api, org: i64, summary: &str, item: &str) -> String {
    let (s, t) = api
        .post(
            "/api/v1/tickets",
            json!({"kind": "incident", "organization_id": org, "summary": summary,
                   "details": format!("{summary} since this morning."), "configuration_item": item,
                   "impact": 3, "urgency": 3}),
        )
        .await;
    assert_eq!(s, 201, "{t}");
    t["number"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn a_problem_missing_required_fields_is_refused_with_each_named() {
    let app = TestApp::spawn().await;
    let agent = app.api_as(AGENT).await;
    let (s, e) = agent.post("/api/v1/problems", json!({})).await;
    assert_eq!(
        (s.as_u16(), e["code"].as_str()),
        (422, Some("missing_fields")),
        "{e}"
    );
    assert_eq!(
        e["detail"]["missing"],
        json!([
            "organization_id",
            "summary",
            "description",
            "impact_description",
            "category",
            "impact",
            "urgency",
            "investigating_group_id",
            "related"
        ]),
        "the caller's role stands in for the submitter's role: {e}"
    );
    assert!(e["message"].as_str().unwrap().contains("summary"), "{e}");
    let hhs = app.org_id("HHS").await;
    let (s, e) = agent
        .post(
            "/api/v1/problems",
            json!({"organization_id": hhs, "summary": "Feed stalls", "description": "It stalls.",
                   "category": "interface", "impact": 2, "urgency": 2, "submitter_role": " "}),
        )
        .await;
    assert_eq!(s, 422);
    assert_eq!(
        e["detail"]["missing"],
        json!([
            "impact_description",
            "submitter_role",
            "investigating_group_id",
            "related"
        ]),
        "{e}"
    );
    // Values that are there but wrong are refused by name too.
    let t2 = group_id(&agent, "T2").await;
    let complete = json!({"organization_id": hhs, "summary": "Feed stalls", "description": "It stalls.",
        "impact_description": "Late results.", "category": "interface", "impact": 2, "urgency": 2,
        "investigating_group_id": t2, "configuration_items": ["no-such-item"]});
    let (s, e) = agent.post("/api/v1/problems", complete.clone()).await;
    assert_eq!(
        (s.as_u16(), e["code"].as_str(), e["field"].as_str()),
        (
            422,
            Some("unknown_configuration_item"),
            Some("configuration_items")
        ),
        "{e}"
    );
    let mut wrong = complete.clone();
    wrong["configuration_items"] = json!(["hl7-engine"]);
    wrong["category"] = json!("weather");
    let (s, e) = agent.post("/api/v1/problems", wrong).await;
    assert_eq!(
        (s.as_u16(), e["code"].as_str()),
        (422, Some("invalid_choice")),
        "{e}"
    );
    let mut wrong = complete.clone();
    wrong["configuration_items"] = json!([]);
    wrong["related_incidents"] = json!(["SR-000001"]);
    let (s, e) = agent.post("/api/v1/problems", wrong).await;
    assert_eq!(
        (s.as_u16(), e["code"].as_str()),
        (422, Some("unknown_incident")),
        "{e}"
    );
    // Nothing was stored by the refusals; partners do not log problems.
    let (_, before) = agent.get("/api/v1/problems").await;
    let lra = app.api_as("lra@hhs.example").await;
    let mut fine = complete.clone();
    fine["configuration_items"] = json!(["hl7-engine"]);
    let (s, _) = lra.post("/api/v1/problems", fine).await;
    assert_eq!(s, 403);
    let (_, after) = agent.get("/api/v1/problems").await;
    assert_eq!(before, after);
}

#[tokio::test]
async fn the_workflow_runs_to_a_verified_closure_and_the_spoc_hears_at_each_stage_once() {
    let sink = SmtpSink::start();
    let app = TestApp::spawn_with_smtp(Some(sink.url())).await;
    let agent = app.api_as(AGENT).await;
    let hhs = app.org_id("HHS").await;
    let inc = incident(
        &agent,
        hhs,
        "Lab results late in the viewer",
        "lab-hl7-feed",
    )
    .await;
    let number = log_problem(
        &agent,
        hhs,
        "Lakeshore lab feed times out at night",
        &["lab-hl7-feed"],
        json!({"related_incidents": [inc]}),
    )
    .await;
    let (s, p) = agent.get(&format!("/api/v1/problems/{number}")).await;
    assert_eq!(s, 200, "{p}");
    assert_eq!(p["record"]["status"], "logging");
    assert_eq!(p["record"]["source"], "manual");
    assert_eq!(
        p["spoc_name"], "Casey Point",
        "the organization's SPOC address: {p}"
    );
    assert_eq!(p["incidents"][0]["number"], inc.as_str());
    assert_eq!(p["configuration_items"][0]["code"], "lab-hl7-feed");
    assert_eq!(p["known_error"], false);
    assert_eq!(p["next_statuses"], json!(["assignment", "cancelled"]));

    // The ticket's own status is not the way to close a problem.
    let (s, e) = agent
        .patch(
            &format!("/api/v1/tickets/{number}"),
            json!({"status": "resolved", "status_reason": "x"}),
        )
        .await;
    assert_eq!(
        (s.as_u16(), e["code"].as_str()),
        (422, Some("use_problem_workflow")),
        "{e}"
    );
    // Nor skipping steps, nor closing early.
    for to in ["investigation", "closed"] {
        let (s, e) = agent
            .post(
                &format!("/api/v1/problems/{number}/status"),
                json!({"status": to}),
            )
            .await;
        assert_eq!(s, 422, "{e}");
        let code = if to == "closed" {
            "resolution_not_verified"
        } else {
            "invalid_transition"
        };
        assert_eq!(e["code"], code, "{e}");
    }

    move_to(&agent, &number, &["assignment", "investigation"]).await;
    let (s, p) = agent
        .patch(
            &format!("/api/v1/problems/{number}"),
            json!({"root_cause": "The VPN to Lakeshore drops idle sessions after 30 minutes.",
                   "workaround": "Restart the Lakeshore channel on the HL7 engine."}),
        )
        .await;
    assert_eq!(s, 200, "{p}");
    assert_eq!(p["known_error"], true);
    move_to(&agent, &number, &["resolution", "verification"]).await;
    // Verification says it did not work: closing is refused, back to investigation.
    let (s, _) = agent
        .patch(
            &format!("/api/v1/problems/{number}"),
            json!({"verification_outcome": "failed"}),
        )
        .await;
    assert_eq!(s, 200);
    let (s, e) = agent
        .post(
            &format!("/api/v1/problems/{number}/status"),
            json!({"status": "closed"}),
        )
        .await;
    assert_eq!(
        (s.as_u16(), e["code"].as_str()),
        (422, Some("resolution_not_verified")),
        "{e}"
    );
    move_to(
        &agent,
        &number,
        &["investigation", "resolution", "verification"],
    )
    .await;
    let (s, p) = agent
        .patch(
            &format!("/api/v1/problems/{number}"),
            json!({"verification_outcome": "worked", "verification_notes": "No timeout for a week.",
                   "resolution": "Keep-alive enabled on the VPN."}),
        )
        .await;
    assert_eq!(s, 200, "{p}");
    assert_eq!(p["verified_by_name"], "Taylor Tremblay");
    // Only the SPOC acknowledges, and only once the problem is closed.
    let spoc = app.api_as(SPOC).await;
    let (s, e) = spoc
        .post(
            &format!("/api/v1/problems/{number}/acknowledge-closure"),
            json!({}),
        )
        .await;
    assert_eq!(
        (s.as_u16(), e["code"].as_str()),
        (409, Some("problem_not_closed")),
        "{e}"
    );
    move_to(&agent, &number, &["closed"]).await;
    let (s, _) = agent
        .post(
            &format!("/api/v1/problems/{number}/acknowledge-closure"),
            json!({}),
        )
        .await;
    assert_eq!(s, 403);
    let (s, e) = spoc
        .post(
            &format!("/api/v1/problems/{number}/acknowledge-closure"),
            json!({}),
        )
        .await;
    assert_eq!(s, 204, "{e}");
    let (s, e) = spoc
        .post(
            &format!("/api/v1/problems/{number}/acknowledge-closure"),
            json!({}),
        )
        .await;
    assert_eq!(
        (s.as_u16(), e["code"].as_str()),
        (409, Some("already_acknowledged"))
    );
    let (_, p) = spoc.get(&format!("/api/v1/problems/{number}")).await;
    assert_eq!(p["acknowledged_by_name"], "Casey Point", "{p}");
    assert!(p["record"]["closure_acknowledged_at"].is_string());
    assert_eq!(p["ticket"]["status"], "closed");
    let (s, _) = agent
        .patch(
            &format!("/api/v1/problems/{number}"),
            json!({"action_plan": "late"}),
        )
        .await;
    assert_eq!(s, 409, "a closed problem's record no longer changes");

    // Four notices, each once, in order, although diagnosis and resolution were entered twice.
    let settled = eventually(
        async || {
            let mut conn = app.db().reader().acquire().await.unwrap();
            store::outbox::list(&mut conn, None, 500)
                .await
                .unwrap()
                .into_iter()
                .filter(|m| m.kind.starts_with("problem-"))
                .map(|m| (m.kind, m.status, m.to_address))
                .collect::<Vec<_>>()
        },
        |rows| rows.iter().all(|(_, status, _)| status == "sent"),
    )
    .await;
    assert_eq!(settled.len(), 4, "{settled:?}");
    assert!(settled.iter().all(|(_, _, to)| to == SPOC), "{settled:?}");
    let messages = sink.wait_for(5, 20).await;
    let subjects: Vec<String> = messages
        .iter()
        .filter(|m| m.contains(SPOC))
        .filter_map(|m| {
            m.lines()
                .find(|l| l.starts_with("Subject:"))
                .map(str::to_owned)
        })
        .collect();
    assert_eq!(subjects.len(), 4, "{subjects:?}");
    for (subject, words) in subjects.iter().zip([
        "Problem logged",
        "under diagnosis",
        "being resolved",
        "Problem closed",
    ]) {
        assert!(
            subject.contains(words) && subject.contains(&number),
            "{subject}"
        );
    }
    // Every move is on the timeline and in the audit.
    let (_, t) = agent.get(&format!("/api/v1/tickets/{number}")).await;
    let moves: Vec<String> = t["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "problem_status")
        .map(|e| {
            let d: Value = match e["data"].as_str() {
                Some(text) => serde_json::from_str(text).unwrap(),
                None => e["data"].clone(),
            };
            d["to"].as_str().unwrap_or_default().to_owned()
        })
        .collect();
    assert_eq!(
        moves,
        [
            "assignment",
            "investigation",
            "resolution",
            "verification",
            "investigation",
            "resolution",
            "verification",
            "closed"
        ]
    );
    let privacy = app.api_as("privacy@operator.example").await;
    let (_, audit) = privacy
        .get(&format!("/api/v1/audit?entity_id={number}&limit=100"))
        .await;
    let actions: Vec<&str> = audit
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions.iter().filter(|a| **a == "problem.status").count(),
        8,
        "{actions:?}"
    );
    for action in [
        "problem.create",
        "problem.update",
        "problem.acknowledge_closure",
    ] {
        assert!(actions.contains(&action), "{action} in {actions:?}");
    }
    // The pages: the agent's problem page and the SPOC's portal page after acknowledging.
    let browser = app.browser();
    browser.sign_in(SPOC, "triage-demo-2026").await;
    let (s, html) = browser.text(&format!("/problems/{number}")).await;
    assert_eq!(s, 200);
    assert!(
        html.contains("Casey Point") && !html.contains("data-testid=\"acknowledge\""),
        "{html}"
    );
}

#[tokio::test]
async fn a_new_incident_on_the_same_item_is_offered_the_known_error() {
    let app = TestApp::spawn().await;
    let agent = app.api_as(AGENT).await;
    let hhs = app.org_id("HHS").await;
    let nhs = app.org_id("NHS").await;
    let known = log_problem(
        &agent,
        hhs,
        "Lakeshore lab feed times out",
        &["lab-hl7-feed"],
        json!({"workaround": "Restart the Lakeshore channel on the HL7 engine."}),
    )
    .await;
    let elsewhere = log_problem(
        &agent,
        nhs,
        "Viewer certificate renewal fails",
        &["cert-viewer-tls"],
        json!({"workaround": "Renew the certificate by hand.", "category": "security"}),
    )
    .await;
    let unknown = log_problem(
        &agent,
        hhs,
        "Printer jams on ward 4",
        &["lab-hl7-feed"],
        json!({}),
    )
    .await;

    // The incident names the item by its CMDB code: it is linked to the item itself.
    let inc = incident(&agent, hhs, "No lab results since 02:00", "LAB-HL7-FEED ").await;
    let (s, items) = agent
        .get(&format!("/api/v1/tickets/{inc}/configuration-items"))
        .await;
    assert_eq!(s, 200);
    assert_eq!(items[0]["code"], "lab-hl7-feed", "{items}");
    let (s, offered) = agent
        .get(&format!("/api/v1/tickets/{inc}/known-errors"))
        .await;
    assert_eq!(s, 200, "{offered}");
    let numbers: Vec<&str> = offered
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["number"].as_str().unwrap())
        .collect();
    assert!(numbers.contains(&known.as_str()), "{offered}");
    assert!(
        !numbers.contains(&elsewhere.as_str()),
        "another item, other words: {offered}"
    );
    assert!(
        !numbers.contains(&unknown.as_str()),
        "not a known error: {offered}"
    );
    let suggestion = offered
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["number"] == known.as_str())
        .unwrap();
    assert_eq!(
        suggestion["workaround"],
        "Restart the Lakeshore channel on the HL7 engine."
    );
    assert!(
        suggestion["reason"]
            .as_str()
            .unwrap()
            .starts_with("même élément de configuration"),
        "agent1 reads French: {suggestion}"
    );
    let (_, en) = agent
        .clone()
        .in_language("en")
        .get(&format!("/api/v1/tickets/{inc}/known-errors"))
        .await;
    assert!(
        en.to_string()
            .contains("\"reason\":\"same configuration item"),
        "{en}"
    );
    let (_, fr) = agent
        .clone()
        .in_language("fr")
        .get(&format!("/api/v1/tickets/{inc}/known-errors"))
        .await;
    assert!(
        fr.to_string().contains("même élément de configuration"),
        "{fr}"
    );

    // The agent's incident page shows it with a one-click link.
    let browser = app.browser();
    browser.sign_in(AGENT, "triage-demo-2026").await;
    let (_, html) = browser.text(&format!("/tickets/{inc}")).await;
    assert!(
        html.contains("data-testid=\"known-errors\"") && html.contains(&known),
        "{html}"
    );
    let response = browser
        .post_form(
            &format!("/tickets/{inc}/links"),
            &[("kind", "caused_by"), ("number", &known)],
        )
        .await;
    assert!(response.status().is_redirection(), "{}", response.status());
    let (_, p) = agent.get(&format!("/api/v1/problems/{known}")).await;
    assert!(p["incidents"].to_string().contains(&inc), "{p}");
    let (_, offered) = agent
        .get(&format!("/api/v1/tickets/{inc}/known-errors"))
        .await;
    assert!(
        !offered.to_string().contains(&known),
        "already linked: {offered}"
    );

    // Naming an item that is not in the CMDB is refused; partners get no suggestions.
    let (s, e) = agent
        .post(
            &format!("/api/v1/tickets/{inc}/configuration-items"),
            json!({"code": "nope"}),
        )
        .await;
    assert_eq!(
        (s.as_u16(), e["code"].as_str()),
        (422, Some("unknown_configuration_item"))
    );
    let (s, _) = agent
        .post(
            &format!("/api/v1/tickets/{inc}/configuration-items"),
            json!({"code": "hl7-engine"}),
        )
        .await;
    assert_eq!(s, 204);
    let lra = app.api_as("lra@hhs.example").await;
    let (s, _) = lra
        .get(&format!("/api/v1/tickets/{inc}/known-errors"))
        .await;
    assert_eq!(s, 403);
    // The known-error filter.
    let (_, list) = agent
        .get(&format!(
            "/api/v1/problems?known_error=true&organization_id={hhs}"
        ))
        .await;
    let listed: BTreeSet<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["number"].as_str().unwrap())
        .collect();
    assert!(
        listed.contains(known.as_str()) && !listed.contains(unknown.as_str()),
        "{list}"
    );
    assert!(
        list.as_array()
            .unwrap()
            .iter()
            .all(|p| p["known_error"] == true)
    );
}

#[tokio::test]
async fn another_partners_people_cannot_read_a_problem_or_a_review() {
    let app = TestApp::spawn().await;
    let agent = app.api_as(AGENT).await;
    let hhs = app.org_id("HHS").await;
    let number = log_problem(
        &agent,
        hhs,
        "Viewer slow every Monday",
        &["chr-viewer-app"],
        json!({}),
    )
    .await;
    let (s, review) = agent
        .post(
            "/api/v1/problem-reviews",
            json!({"organization_id": hhs, "month": "2026-11"}),
        )
        .await;
    assert_eq!(s, 201, "{review}");
    let review = review["id"].as_i64().unwrap();

    for outsider in [
        "lra@niagara.example",
        "helpdesk@niagara.example",
        "clinician@hhs.example",
    ] {
        let api = app.api_as(outsider).await;
        let (s, _) = api.get(&format!("/api/v1/problems/{number}")).await;
        assert_eq!(s, 404, "{outsider}");
        let (s, list) = api.get("/api/v1/problems").await;
        assert_eq!(s, 200);
        assert!(!list.to_string().contains(&number), "{outsider}: {list}");
        let (s, _) = api.get(&format!("/api/v1/problem-reviews/{review}")).await;
        assert_eq!(s, 404, "{outsider}");
        let (_, reviews) = api.get("/api/v1/problem-reviews").await;
        assert_eq!(reviews, json!([]), "{outsider}");
        let (s, _) = api
            .multipart(
                &format!("/api/v1/problem-reviews/{review}/files"),
                &[],
                &[("ours.csv", b"number,summary\nX-1,planted\n".to_vec())],
            )
            .await;
        assert_eq!(s, 404, "{outsider}");
        let (s, _) = api
            .post(
                &format!("/api/v1/problems/{number}/acknowledge-closure"),
                json!({}),
            )
            .await;
        assert_eq!(s, 404, "{outsider}");
    }
    let browser = app.browser();
    browser
        .sign_in("lra@niagara.example", "triage-demo-2026")
        .await;
    let (s, _) = browser.text(&format!("/problems/{number}")).await;
    assert_eq!(s, 404);
    let (s, _) = browser.text(&format!("/problem-reviews/{review}")).await;
    assert_eq!(s, 404);

    // The partner's own people read both and upload their list beside the agenda.
    let lra = app.api_as("lra@hhs.example").await;
    let (s, _) = lra.get(&format!("/api/v1/problems/{number}")).await;
    assert_eq!(s, 200);
    let (s, up) = lra
        .multipart(
            &format!("/api/v1/problem-reviews/{review}/files"),
            &[],
            &[(
                "hhs-problems.csv",
                b"number,summary,status\nHHS-17,Viewer slow,open\n".to_vec(),
            )],
        )
        .await;
    assert_eq!(s, 201, "{up}");
    let (s, with_phi) = lra
        .multipart(
            &format!("/api/v1/problem-reviews/{review}/files"),
            &[],
            &[(
                "list.txt",
                b"Patient HCN 9876 543 217 AB to follow up".to_vec(),
            )],
        )
        .await;
    assert_eq!(
        (s.as_u16(), with_phi["code"].as_str()),
        (422, Some("phi_detected")),
        "{with_phi}"
    );
    let (_, d) = lra.get(&format!("/api/v1/problem-reviews/{review}")).await;
    assert_eq!(d["files"].as_array().unwrap().len(), 1, "{d}");
    let file = d["files"][0]["id"].as_i64().unwrap();
    let response = lra
        .request(
            reqwest::Method::GET,
            &format!("/api/v1/problem-reviews/{review}/files/{file}"),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert!(response.text().await.unwrap().contains("HHS-17"));
    let b = app.api_as("lra@niagara.example").await;
    let (s, _) = b
        .get(&format!("/api/v1/problem-reviews/{review}/files/{file}"))
        .await;
    assert_eq!(s, 404);
    // Partners do not keep the minutes.
    let (s, _) = lra
        .patch(
            &format!("/api/v1/problem-reviews/{review}"),
            json!({"minutes": "ours"}),
        )
        .await;
    assert_eq!(s, 403);
}

fn agenda_numbers(detail: &Value) -> BTreeSet<String> {
    detail["agenda"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|part| part["items"].as_array().unwrap().iter())
        .map(|i| i["number"].as_str().unwrap().to_owned())
        .collect()
}

fn section_numbers(detail: &Value, section: &str) -> BTreeSet<String> {
    detail["agenda"]
        .as_array()
        .unwrap()
        .iter()
        .find(|part| part["section"] == section)
        .unwrap()["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["number"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn the_review_agenda_lists_exactly_that_partners_records() {
    let app = TestApp::spawn().await;
    let agent = app.api_as(AGENT).await;
    let hhs = app.org_id("HHS").await;
    let nhs = app.org_id("NHS").await;

    // HHS: one problem in each state; NHS: two of its own.
    let open = log_problem(
        &agent,
        hhs,
        "Viewer slow on Mondays",
        &["chr-viewer-app"],
        json!({}),
    )
    .await;
    let known = log_problem(
        &agent,
        hhs,
        "Lab feed timeouts",
        &["lab-hl7-feed"],
        json!({"workaround": "Restart the channel."}),
    )
    .await;
    move_to(&agent, &known, &["assignment", "investigation"]).await;
    let resolved = log_problem(
        &agent,
        hhs,
        "Duplicate result messages",
        &["hl7-engine"],
        json!({}),
    )
    .await;
    move_to(
        &agent,
        &resolved,
        &["assignment", "investigation", "resolution"],
    )
    .await;
    let resolved_known = log_problem(
        &agent,
        hhs,
        "Certificate chain incomplete",
        &["cert-viewer-tls"],
        json!({}),
    )
    .await;
    let (s, _) = agent
        .patch(
            &format!("/api/v1/problems/{resolved_known}"),
            json!({"root_cause": "Intermediate certificate missing."}),
        )
        .await;
    assert_eq!(s, 200);
    move_to(
        &agent,
        &resolved_known,
        &["assignment", "investigation", "resolution", "verification"],
    )
    .await;
    let closed = log_problem(
        &agent,
        hhs,
        "Session drops after an hour",
        &["chr-viewer-app"],
        json!({}),
    )
    .await;
    move_to(
        &agent,
        &closed,
        &["assignment", "investigation", "resolution", "verification"],
    )
    .await;
    let (s, _) = agent
        .patch(
            &format!("/api/v1/problems/{closed}"),
            json!({"verification_outcome": "worked"}),
        )
        .await;
    assert_eq!(s, 200);
    move_to(&agent, &closed, &["closed"]).await;
    let cancelled = log_problem(&agent, hhs, "Printer queue", &["chr-viewer-app"], json!({})).await;
    move_to(&agent, &cancelled, &["cancelled"]).await;
    let theirs_open = log_problem(
        &agent,
        nhs,
        "Niagara viewer slow",
        &["chr-viewer-app"],
        json!({}),
    )
    .await;
    let theirs_closed = log_problem(
        &agent,
        nhs,
        "Niagara lab feed",
        &["lab-hl7-feed"],
        json!({"workaround": "Resend."}),
    )
    .await;
    move_to(&agent, &theirs_closed, &["cancelled"]).await;

    // Every problem of a partner that is not cancelled (the demo's included), and no other.
    let expected = async |org: i64| -> BTreeSet<String> {
        let (_, list) = agent
            .get(&format!("/api/v1/problems?organization_id={org}"))
            .await;
        list.as_array()
            .unwrap()
            .iter()
            .filter(|p| p["problem_status"] != "cancelled")
            .map(|p| p["number"].as_str().unwrap().to_owned())
            .collect()
    };
    let month = jiff::Timestamp::now()
        .to_zoned(jiff::tz::TimeZone::get("America/Toronto").unwrap())
        .strftime("%Y-%m")
        .to_string();
    let mut agendas = Vec::new();
    for org in [hhs, nhs] {
        // The demo already holds this month's meeting with HHS.
        let (_, existing) = agent.get("/api/v1/problem-reviews").await;
        let id = match existing
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["organization_id"] == org && r["month"] == month.as_str())
        {
            Some(review) => review["id"].clone(),
            None => {
                let (s, created) = agent
                    .post(
                        "/api/v1/problem-reviews",
                        json!({"organization_id": org, "month": month, "scheduled_for": format!("{month}-20T10:00")}),
                    )
                    .await;
                assert_eq!(s, 201, "{created}");
                created["id"].clone()
            }
        };
        let created = json!({"id": id});
        let (s, detail) = agent
            .get(&format!("/api/v1/problem-reviews/{}", created["id"]))
            .await;
        assert_eq!(s, 200, "{detail}");
        assert_eq!(agenda_numbers(&detail), expected(org).await, "{detail}");
        agendas.push((created["id"].as_i64().unwrap(), detail));
    }
    let (hhs_review, hhs_agenda) = &agendas[0];
    let ours: BTreeSet<String> = [&open, &known, &resolved, &resolved_known, &closed]
        .iter()
        .map(|n| n.to_string())
        .collect();
    assert!(ours.is_subset(&agenda_numbers(hhs_agenda)));
    for theirs in [&theirs_open, &theirs_closed, &cancelled] {
        assert!(
            !agenda_numbers(hhs_agenda).contains(theirs.as_str()),
            "{theirs}"
        );
    }
    assert!(agenda_numbers(&agendas[1].1).contains(&theirs_open));
    // Each in its section.
    let confirm = section_numbers(hhs_agenda, "confirm");
    assert!(
        confirm.contains(&open) && confirm.contains(&known),
        "{hhs_agenda}"
    );
    assert_eq!(
        section_numbers(hhs_agenda, "resolved_problems"),
        BTreeSet::from([resolved.clone()])
    );
    assert_eq!(
        section_numbers(hhs_agenda, "resolved_known_errors"),
        BTreeSet::from([resolved_known.clone()])
    );
    assert!(section_numbers(hhs_agenda, "closures").contains(&closed));
    let known_item = hhs_agenda["agenda"][0]["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["number"] == known.as_str())
        .unwrap();
    assert_eq!(known_item["known_error"], true);
    let progress: Vec<&str> = known_item["progress"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p[2].as_str().unwrap())
        .collect();
    assert_eq!(progress, ["assignment", "investigation"], "{known_item}");

    // One meeting per partner and month; months are written YYYY-MM.
    let (s, e) = agent
        .post(
            "/api/v1/problem-reviews",
            json!({"organization_id": hhs, "month": month}),
        )
        .await;
    assert_eq!(
        (s.as_u16(), e["code"].as_str()),
        (422, Some("duplicate_review")),
        "{e}"
    );
    let (s, e) = agent
        .post(
            "/api/v1/problem-reviews",
            json!({"organization_id": hhs, "month": "2026-13"}),
        )
        .await;
    assert_eq!(
        (s.as_u16(), e["code"].as_str()),
        (422, Some("invalid_month")),
        "{e}"
    );

    // Minutes and actions against the meeting.
    let (s, _) = agent
        .patch(
            &format!("/api/v1/problem-reviews/{hhs_review}"),
            json!({"minutes": "HHS confirmed the priorities."}),
        )
        .await;
    assert_eq!(s, 200);
    let (s, action) = agent
        .post(
            &format!("/api/v1/problem-reviews/{hhs_review}/actions"),
            json!({"text": "Send the feed logs for October", "owner": "Casey Point", "due_on": format!("{month}-28")}),
        )
        .await;
    assert_eq!(s, 201, "{action}");
    let (s, e) = agent
        .post(
            &format!("/api/v1/problem-reviews/{hhs_review}/actions"),
            json!({"text": "No owner"}),
        )
        .await;
    assert_eq!(
        (s.as_u16(), e["field"].as_str()),
        (422, Some("owner")),
        "{e}"
    );
    let (s, _) = agent
        .patch(
            &format!(
                "/api/v1/problem-reviews/{hhs_review}/actions/{}",
                action["id"]
            ),
            json!({"done": true}),
        )
        .await;
    assert_eq!(s, 204);
    let (_, d) = agent
        .get(&format!("/api/v1/problem-reviews/{hhs_review}"))
        .await;
    assert_eq!(d["review"]["minutes"], "HHS confirmed the priorities.");
    let ours = d["actions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["id"] == action["id"])
        .unwrap();
    assert_eq!(ours["done"], true);
    assert_eq!(ours["owner"], "Casey Point");

    // The pages: the console's list and meeting, the partner's meeting.
    let browser = app.browser();
    browser.sign_in(AGENT, "triage-demo-2026").await;
    let (s, html) = browser.text("/console/problem-reviews").await;
    assert_eq!(s, 200);
    assert!(html.contains(&month));
    let (s, html) = browser
        .text(&format!("/console/problem-reviews/{hhs_review}"))
        .await;
    assert_eq!(s, 200);
    assert!(
        html.contains(&resolved_known) && !html.contains(&theirs_open),
        "{html}"
    );
    let (s, html) = browser
        .text("/console/problems?status=open&known_error=yes")
        .await;
    assert_eq!(s, 200);
    assert!(html.contains(&known) && !html.contains(&open), "{html}");
    let (s, html) = browser.text(&format!("/console/problems/{known}")).await;
    assert_eq!(s, 200);
    assert!(html.contains("data-testid=\"move-resolution\""), "{html}");
    let partner = app.browser();
    partner.sign_in("lra@hhs.example", "triage-demo-2026").await;
    let (s, html) = partner
        .text(&format!("/problem-reviews/{hhs_review}"))
        .await;
    assert_eq!(s, 200);
    assert!(
        html.contains(&known) && html.contains("Send the feed logs"),
        "{html}"
    );
    let (s, html) = partner.text("/problems").await;
    assert_eq!(s, 200);
    assert!(
        html.contains(&known) && !html.contains(&theirs_open),
        "{html}"
    );
}

#[tokio::test]
async fn a_problem_ticket_opened_by_another_path_gets_its_record_and_its_links() {
    let app = TestApp::spawn().await;
    let agent = app.api_as(AGENT).await;
    let hhs = app.org_id("HHS").await;
    // A problem ticket raised as a plain ticket has no record until it is first used.
    let (s, t) = agent
        .post(
            "/api/v1/tickets",
            json!({"kind": "problem", "organization_id": hhs, "summary": "Raised as a ticket",
                   "details": "Opened through the ticket API.", "workaround": "Use the backup feed."}),
        )
        .await;
    assert_eq!(s, 201, "{t}");
    let plain = t["number"].as_str().unwrap().to_owned();
    let (s, p) = agent.get(&format!("/api/v1/problems/{plain}")).await;
    assert_eq!(s, 200, "{p}");
    assert_eq!(p["record"]["status"], "logging");
    assert_eq!(p["known_error"], true, "the ticket's workaround: {p}");
    assert_eq!(p["spoc_name"], "Casey Point");
    move_to(&agent, &plain, &["assignment"]).await;

    // The trend and major-incident paths attach their incidents in their own transaction.
    let inc = incident(&agent, hhs, "Feed stalled again", "lab-hl7-feed").await;
    let (_, t) = agent
        .post(
            "/api/v1/tickets",
            json!({"kind": "problem", "organization_id": hhs, "summary": "Proposed by trend detection",
                   "details": "5 incidents on lab-hl7-feed in 14 days."}),
        )
        .await;
    let proposed = t["number"].as_str().unwrap().to_owned();
    let mut tx = app.db().begin().await.unwrap();
    let ticket_id = store::tickets::id_by_number(&mut tx, &proposed)
        .await
        .unwrap()
        .unwrap();
    let incident_id = store::tickets::id_by_number(&mut tx, &inc)
        .await
        .unwrap()
        .unwrap();
    let item = store::problems::item_id_by_code(&mut tx, "lab-hl7-feed")
        .await
        .unwrap()
        .unwrap();
    web::problems::attach_new_problem(
        app.state(),
        &mut tx,
        &store::audit::Actor::system("trend detection"),
        ticket_id,
        domain::problem_record::ProblemSource::Trend,
        &[incident_id],
        &[item],
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    let (_, p) = agent.get(&format!("/api/v1/problems/{proposed}")).await;
    assert_eq!(p["record"]["source"], "trend", "{p}");
    assert_eq!(p["record"]["status"], "detection", "{p}");
    assert_eq!(p["incidents"][0]["number"], inc.as_str());
    assert_eq!(p["configuration_items"][0]["code"], "lab-hl7-feed");
    assert_eq!(p["next_statuses"], json!(["logging", "cancelled"]));
    let mut conn = app.db().reader().acquire().await.unwrap();
    let notices: Vec<String> = store::outbox::list(&mut conn, None, 500)
        .await
        .unwrap()
        .into_iter()
        .filter(|m| m.subject.contains(&proposed) && m.kind.starts_with("problem-"))
        .map(|m| m.kind)
        .collect();
    assert_eq!(notices, ["problem-created"]);
}
