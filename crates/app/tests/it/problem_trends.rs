//! Proactive problem detection end to end: a generated data set with planted trends, raised
//! as real incidents on configuration items of the CMDB, gives exactly the planted trends;
//! a dismissed one is not proposed again; an accepted one raises a problem with its
//! incidents attached. Proposals are for the operator's agents only.
use domain::problem::{PlantedTrend, synthetic_incidents};
use jiff::SignedDuration;
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use testkit::TestApp;

const ADMIN: &str = "admin@operator.example";
const AGENT: &str = "agent1@operator.example";
const PARTNER_LRA: &str = "lra@hhs.example";

fn planted() -> Vec<PlantedTrend> {
    let trend =
        |ci: &str, site: &str, service: &str, symptom: &str, incidents, days: i64| PlantedTrend {
            configuration_item: ci.into(),
            site: site.into(),
            service: service.into(),
            symptom: symptom.into(),
            incidents,
            span: SignedDuration::from_hours(24 * days),
        };
    vec![
        trend(
            "hl7-engine-01",
            "Kingston General",
            "Integration Engine",
            "HL7 feed timeout",
            7,
            13,
        ),
        trend(
            "pacs-gateway-02",
            "Ottawa Civic",
            "Diagnostic Imaging",
            "DICOM association rejected",
            5,
            6,
        ),
        trend(
            "portal-web-03",
            "Hôpital Montfort",
            "Provider Portal",
            "Échec de l'authentification unique",
            9,
            14,
        ),
    ]
}

fn incident_numbers(proposal: &Value) -> BTreeSet<String> {
    proposal["incidents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["number"].as_str().unwrap().to_owned())
        .collect()
}

async fn proposals(api: &testkit::Api, status: &str) -> Vec<Value> {
    let (s, list) = api
        .get(&format!("/api/v1/problem-proposals?status={status}"))
        .await;
    assert_eq!(s, 200, "{list}");
    list.as_array().unwrap().clone()
}

async fn run(api: &testkit::Api) -> Value {
    let (s, report) = api.post("/api/v1/problem-proposals/run", json!({})).await;
    assert_eq!(s, 200, "{report}");
    report
}

/// Raises the synthetic incidents as tickets of one partner, on configuration items created
/// in the CMDB (each with the site and environment of its first incident, the planted
/// trend's for the planted items), opened at their generated instants moved so that the
/// last one is a day ago. Returns the ticket number of each synthetic id and the planted
/// sets as ticket numbers.
async fn raise_synthetic(app: &TestApp) -> (HashMap<i64, String>, Vec<BTreeSet<String>>) {
    let admin = app.api_as(ADMIN).await;
    let planted = planted();
    let (incidents, planted_ids) = synthetic_incidents(42, &planted, 500);

    let (s, services) = admin.get("/api/v1/services").await;
    assert_eq!(s, 200, "{services}");
    let service_ids: Vec<i64> = services
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_i64().unwrap())
        .collect();
    let names: BTreeSet<&str> = incidents
        .iter()
        .filter_map(|i| i.service.as_deref())
        .collect();
    let service_of: HashMap<&str, i64> = names
        .iter()
        .enumerate()
        .map(|(index, name)| (*name, service_ids[index % service_ids.len()]))
        .collect();

    let mut items: BTreeMap<String, (String, String)> = planted
        .iter()
        .map(|t| {
            (
                t.configuration_item.clone(),
                (t.site.clone(), "production".to_owned()),
            )
        })
        .collect();
    for incident in &incidents {
        items
            .entry(incident.configuration_item.clone().unwrap())
            .or_insert_with(|| {
                (
                    incident.site.clone().unwrap(),
                    incident.environment.clone().unwrap(),
                )
            });
    }
    for (code, (site, environment)) in &items {
        let (s, e) = admin
            .post(
                "/api/v1/configuration-items",
                json!({"code": code, "kind": "application", "name_en": code, "name_fr": code,
                       "site": site, "environment": environment}),
            )
            .await;
        assert_eq!(s, 201, "{code}: {e}");
    }

    let latest = incidents.iter().map(|i| i.opened_at).max().unwrap();
    let shift = (domain::time::now() - SignedDuration::from_hours(24)) - latest;
    let mut numbers = HashMap::new();
    let mut raising = tokio::task::JoinSet::new();
    for incident in incidents.clone() {
        let api = admin.clone();
        let service = service_of[incident.service.as_deref().unwrap()];
        raising.spawn(async move {
            let (s, t) = api
                .post(
                    "/api/v1/tickets",
                    json!({"kind": "incident", "organization": "HHS", "service_id": service,
                           "summary": incident.summary, "details": "Reported by the partner's help desk.",
                           "configuration_item": incident.configuration_item}),
                )
                .await;
            assert_eq!(s, 201, "{t}");
            (incident.id, t["number"].as_str().unwrap().to_owned())
        });
    }
    while let Some(raised) = raising.join_next().await {
        let (id, number) = raised.unwrap();
        numbers.insert(id, number);
    }
    let mut tx = app.db().begin().await.unwrap();
    for incident in &incidents {
        sqlx::query("UPDATE tickets SET created_at = $1 WHERE number = $2")
            .bind(domain::time::to_db(incident.opened_at + shift))
            .bind(&numbers[&incident.id])
            .execute(&mut *tx)
            .await
            .unwrap();
    }
    tx.commit().await.unwrap();
    let planted_numbers = planted_ids
        .iter()
        .map(|ids| ids.iter().map(|id| numbers[id].clone()).collect())
        .collect();
    (numbers, planted_numbers)
}

#[tokio::test]
async fn detection_proposes_exactly_the_planted_trends_and_remembers_decisions() {
    let app = TestApp::spawn().await;
    let admin = app.api_as(ADMIN).await;
    // The agent reads French by preference; English here, French asked for below.
    let agent = app.api_as(AGENT).await.in_language("en");

    // The generated year is read whole; the other thresholds keep their defaults.
    let (s, e) = admin
        .put(
            "/api/v1/problem-proposals/settings",
            json!({"lookback_days": 400}),
        )
        .await;
    assert_eq!(s, 204, "{e}");
    let (s, e) = admin
        .put(
            "/api/v1/problem-proposals/settings",
            json!({"min_incidents": 1}),
        )
        .await;
    assert_eq!(
        (s.as_u16(), e["code"].as_str(), e["field"].as_str()),
        (422, Some("out_of_range"), Some("min_incidents")),
        "{e}"
    );
    let (_, settings) = agent.get("/api/v1/problem-proposals/settings").await;
    assert_eq!(
        (
            settings["lookback_days"].as_i64(),
            settings["min_incidents"].as_i64(),
            settings["window_days"].as_i64()
        ),
        (Some(400), Some(5), Some(14)),
        "{settings}"
    );
    // The demo's one trend (its lab-feed incidents) is dismissed first, so that the
    // generated year is measured alone; the demo's incidents then make no other trend.
    let demo = proposals(&agent, "proposed").await;
    assert_eq!(demo.len(), 1, "{demo:#?}");
    assert_eq!(demo[0]["value"], "lab-hl7-feed", "{demo:#?}");
    let (s, e) = agent
        .post(
            &format!("/api/v1/problem-proposals/{}/dismiss", demo[0]["id"]),
            json!({}),
        )
        .await;
    assert_eq!(s, 204, "{e}");
    run(&admin).await;
    assert!(proposals(&agent, "proposed").await.is_empty());

    let (numbers, planted) = raise_synthetic(&app).await;
    let report = run(&admin).await;
    assert_eq!(
        (report["found"].as_u64(), report["added"].as_u64()),
        (Some(3), Some(3)),
        "{report}"
    );
    let found = proposals(&agent, "proposed").await;
    let found_sets: BTreeSet<BTreeSet<String>> = found.iter().map(incident_numbers).collect();
    let planted_sets: BTreeSet<BTreeSet<String>> = planted.iter().cloned().collect();
    let right = found_sets.intersection(&planted_sets).count() as f64;
    let (precision, recall) = (
        right / found_sets.len() as f64,
        right / planted_sets.len() as f64,
    );
    println!(
        "{} incidents, {} proposals, precision {precision:.3}, recall {recall:.3}",
        numbers.len(),
        found.len()
    );
    assert_eq!((precision, recall), (1.0, 1.0), "{found:#?}");

    let by_item = |item: &str| {
        found
            .iter()
            .find(|p| p["value"] == item)
            .unwrap_or_else(|| panic!("a proposal on {item}: {found:#?}"))
            .clone()
    };
    let hl7 = by_item("hl7-engine-01");
    assert_eq!(hl7["dimension"], "configuration_item");
    let reason = hl7["reason"].as_str().unwrap();
    assert!(
        reason.starts_with("7 incidents on configuration item hl7-engine-01 in ")
            && reason.ends_with("summaries share 'HL7 feed timeout'"),
        "{reason}"
    );
    let (_, in_french) = agent
        .clone()
        .in_language("fr")
        .get("/api/v1/problem-proposals?status=proposed")
        .await;
    assert!(
        in_french.as_array().unwrap().iter().any(|p| p["reason"]
            .as_str()
            .unwrap()
            .contains("les résumés ont en commun « HL7 feed timeout »")),
        "{in_french}"
    );

    // Running again changes nothing.
    let report = run(&admin).await;
    assert_eq!(
        (
            report["found"].as_u64(),
            report["added"].as_u64(),
            report["withdrawn"].as_u64()
        ),
        (Some(3), Some(0), Some(0)),
        "{report}"
    );

    // Dismissed: not proposed again, not on the site or the service either.
    let pacs = by_item("pacs-gateway-02");
    let (s, e) = agent
        .post(
            &format!("/api/v1/problem-proposals/{}/dismiss", pacs["id"]),
            json!({}),
        )
        .await;
    assert_eq!(s, 204, "{e}");
    let report = run(&admin).await;
    assert_eq!(
        (report["found"].as_u64(), report["added"].as_u64()),
        (Some(2), Some(0)),
        "{report}"
    );
    let pending = proposals(&agent, "proposed").await;
    assert_eq!(pending.len(), 2);
    assert!(pending.iter().all(|p| p["id"] != pacs["id"]));
    let dismissed = proposals(&agent, "dismissed").await;
    assert_eq!(
        (dismissed.len(), dismissed[0]["decided_by"].as_i64()),
        (2, Some(app.person_id(AGENT).await))
    );

    // Accepted: a problem with the seven incidents attached.
    let (s, accepted) = agent
        .post(
            &format!("/api/v1/problem-proposals/{}/accept", hl7["id"]),
            json!({}),
        )
        .await;
    assert_eq!(s, 201, "{accepted}");
    let problem_number = accepted["number"].as_str().unwrap();
    assert!(problem_number.starts_with("PRB-"), "{accepted}");
    let (s, problem) = agent
        .get(&format!("/api/v1/tickets/{problem_number}"))
        .await;
    assert_eq!(s, 200, "{problem}");
    assert_eq!(
        (
            problem["kind"].as_str(),
            problem["configuration_item"].as_str()
        ),
        (Some("problem"), Some("hl7-engine-01"))
    );
    let linked: BTreeSet<String> = problem["links"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|l| l["kind"] == "caused_by")
        .map(|l| l["number"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(linked, incident_numbers(&hl7));
    let one_incident = linked.iter().next().unwrap();
    let (_, incident) = agent.get(&format!("/api/v1/tickets/{one_incident}")).await;
    assert!(
        incident["links"]
            .as_array()
            .unwrap()
            .iter()
            .any(|l| l["kind"] == "caused_by"
                && l["direction"] == "out"
                && l["number"] == problem_number),
        "{incident}"
    );
    let accepted_list = proposals(&agent, "accepted").await;
    assert_eq!(accepted_list[0]["problem_number"], problem_number);
    // The problem's record says where it came from and starts at detection.
    let (s, record) = agent
        .get(&format!("/api/v1/problems/{problem_number}"))
        .await;
    assert_eq!(s, 200, "{record}");
    assert_eq!(
        (
            record["record"]["source"].as_str(),
            record["record"]["status"].as_str()
        ),
        (Some("trend"), Some("detection")),
        "{record}"
    );

    // Decided once only.
    let (s, e) = agent
        .post(
            &format!("/api/v1/problem-proposals/{}/dismiss", hl7["id"]),
            json!({}),
        )
        .await;
    assert_eq!(
        (s.as_u16(), e["code"].as_str()),
        (409, Some("proposal_decided"))
    );
    // Its incidents now have their problem: the next run proposes only the third trend.
    let report = run(&admin).await;
    assert_eq!(
        (report["found"].as_u64(), report["added"].as_u64()),
        (Some(1), Some(0)),
        "{report}"
    );

    // The console page shows the reason and the incidents; accepting there opens the problem.
    let browser = app.browser();
    browser.sign_in(AGENT, testkit::DEMO_PASSWORD).await;
    let (s, page) = browser.text("/console/problem-proposals").await;
    assert_eq!(s, 200);
    let portal = by_item("portal-web-03");
    assert!(
        page.contains("9 incidents on configuration item portal-web-03")
            || page.contains("9 incidents sur l"),
        "{page}"
    );
    for number in incident_numbers(&portal) {
        assert!(page.contains(&number), "{number} listed");
    }
    let response = browser
        .post_form(
            &format!("/console/problem-proposals/{}/accept", portal["id"]),
            &[],
        )
        .await;
    assert!(
        response.status().is_redirection() || response.url().path().starts_with("/tickets/PRB-"),
        "{}",
        response.status()
    );

    // Partners never see proposals; agents may not run detection or change thresholds.
    let partner = app.api_as(PARTNER_LRA).await;
    let (s, _) = partner.get("/api/v1/problem-proposals").await;
    assert_eq!(s, 403);
    let (s, _) = partner
        .post(
            &format!("/api/v1/problem-proposals/{}/accept", pacs["id"]),
            json!({}),
        )
        .await;
    assert_eq!(s, 403);
    let (s, _) = agent.post("/api/v1/problem-proposals/run", json!({})).await;
    assert_eq!(s, 403);
    let (s, _) = agent
        .put("/api/v1/problem-proposals/settings", json!({}))
        .await;
    assert_eq!(s, 403);
}

#[tokio::test]
async fn the_scheduled_run_happens_once_a_period_on_one_node() {
    let app = TestApp::spawn().await;
    let state = app.state();
    // The server ran detection at start; the next run is due a day later.
    let ran = testkit::eventually(
        async || {
            let mut conn = app.db().reader().acquire().await.unwrap();
            store::problem_trends::setting(&mut conn, "problem_trends.last_run")
                .await
                .unwrap()
        },
        Option::is_some,
    )
    .await;
    assert!(ran.is_some(), "ran at start");
    assert!(web::problem_trends::run_due(state).await.unwrap().is_none());

    // Another node holding the lease: this one waits its turn.
    domain::time::advance(SignedDuration::from_hours(25));
    let mut tx = app.db().begin().await.unwrap();
    let lease = store::leases::acquire(&mut tx, "problem_trends", SignedDuration::from_mins(10))
        .await
        .unwrap()
        .expect("free");
    tx.commit().await.unwrap();
    assert!(web::problem_trends::run_due(state).await.unwrap().is_none());
    let mut tx = app.db().begin().await.unwrap();
    store::leases::release(&mut tx, lease).await.unwrap();
    tx.commit().await.unwrap();

    let report = web::problem_trends::run_due(state).await.unwrap();
    assert!(report.is_some(), "due after a day, lease free");
    assert!(web::problem_trends::run_due(state).await.unwrap().is_none());
}
