//! Mail received by the desk, end to end through a real server: a known sender's message
//! opens an email ticket and a reply threads into it; unknown senders are held, patient
//! information is quarantined until an agent redacts it; robots are never answered; bad
//! messages are refused with a reason; `triage mail ingest` does the same from stdin.
use serde_json::{Value, json};
use testkit::{INBOUND_TOKEN, TestApp};

async fn deliver(app: &TestApp, raw: &str) -> (reqwest::StatusCode, Value) {
    deliver_with(app, raw, Some(INBOUND_TOKEN)).await
}

async fn deliver_with(
    app: &TestApp,
    raw: &str,
    token: Option<&str>,
) -> (reqwest::StatusCode, Value) {
    let mut req = reqwest::Client::new()
        .post(app.url("/api/v1/inbound/email"))
        .header("content-type", "message/rfc822")
        .body(raw.to_owned());
    if let Some(token) = token {
        req = req.header("x-inbound-token", token);
    }
    testkit::read(req.send().await.unwrap()).await
}

pub(crate) fn message(
    from: &str,
    subject: &str,
    id: &str,
    extra_headers: &str,
    body: &str,
) -> String {
    format!(
        "From: {from}\r\nTo: desk@triage.localhost\r\nSubject: {subject}\r\nMessage-ID: <{id}@mail.example>\r\n\
         Date: Fri, 4 Dec 2026 09:00:00 -0500\r\n{extra_headers}MIME-Version: 1.0\r\n\
         Content-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n"
    )
}

async fn outbox_to(app: &TestApp, to: &str) -> Vec<store::outbox::OutboxMessage> {
    let mut conn = app.db().reader().acquire().await.unwrap();
    store::outbox::list(&mut conn, None, 500)
        .await
        .unwrap()
        .into_iter()
        .filter(|m| m.to_address == to)
        .collect()
}

#[tokio::test]
async fn a_known_senders_mail_opens_an_email_ticket_and_a_reply_threads_into_it() {
    let app = TestApp::spawn().await;
    let raw = message(
        "Hamilton Help Desk <helpdesk@hhs.example>",
        "Viewer shows a blank page",
        "first-1",
        "",
        "Since 8:00 the viewer shows a blank page for every user.",
    );
    let (s, taken) = deliver(&app, &raw).await;
    assert_eq!(s, 200, "{taken}");
    assert_eq!(taken["status"], "ticket", "{taken}");
    assert_eq!(taken["duplicate"], false);
    let number = taken["ticket"].as_str().unwrap().to_owned();
    assert!(number.starts_with("INC-"), "{number}");

    let desk = app.api_as("agent1@operator.example").await;
    let (s, t) = desk.get(&format!("/api/v1/tickets/{number}")).await;
    assert_eq!(s, 200, "{t}");
    assert_eq!(t["channel"], "email");
    assert_eq!(t["summary"], "Viewer shows a blank page");
    assert_eq!(
        t["reporter_id"],
        app.person_id("helpdesk@hhs.example").await
    );
    assert_eq!(t["organization_id"], app.org_id("HHS").await);
    // Email tickets have no SLA, only the first-response objective.
    assert_eq!(t["sla_clock"], "none", "{t}");

    // The acknowledgement names the ticket, threads, and says no robot should answer it.
    let ack = outbox_to(&app, "helpdesk@hhs.example").await;
    let ack = ack
        .iter()
        .find(|m| m.subject.contains(&number))
        .expect("an acknowledgement");
    assert!(ack.message.contains("Auto-Submitted: auto-generated"));
    let ack_id = ack
        .message
        .lines()
        .find_map(|l| l.strip_prefix("Message-ID: "))
        .unwrap()
        .trim()
        .to_owned();

    // A reply without the number in its subject still threads, by its headers; the quoted
    // history is not repeated on the timeline.
    let reply = message(
        "helpdesk@hhs.example",
        "Re: your message",
        "reply-1",
        &format!(
            "In-Reply-To: {ack_id}\r\nReferences: <ticket.{number}@triage.localhost> {ack_id}\r\n"
        ),
        "It is back for some users now.\r\n\r\nOn Fri, 4 Dec 2026 at 09:01, Triage <no-reply@triage.localhost> wrote:\r\n> We received your request",
    );
    let (s, taken) = deliver(&app, &reply).await;
    assert_eq!(s, 200, "{taken}");
    assert_eq!(taken["status"], "comment", "{taken}");
    assert_eq!(taken["ticket"], number.as_str());
    let (_, t) = desk.get(&format!("/api/v1/tickets/{number}")).await;
    let comment = t["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == "comment")
        .expect("the reply on the timeline");
    assert_eq!(comment["body"], "It is back for some users now.", "{t}");

    // The same message delivered again is taken once.
    let (s, again) = deliver(&app, &reply).await;
    assert_eq!(s, 200);
    assert_eq!(again["duplicate"], true, "{again}");
    assert_eq!(again["id"], taken["id"]);
    let (_, t) = desk.get(&format!("/api/v1/tickets/{number}")).await;
    let comments = t["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "comment")
        .count();
    assert_eq!(comments, 1);
}

#[tokio::test]
async fn a_reply_naming_another_organizations_ticket_opens_a_new_one() {
    let app = TestApp::spawn().await;
    let hhs = app.api_as("helpdesk@hhs.example").await;
    let (s, theirs) = hhs
        .post(
            "/api/v1/tickets",
            json!({"kind": "incident", "summary": "HHS only", "details": "Private to HHS"}),
        )
        .await;
    assert_eq!(s, 201, "{theirs}");
    let number = theirs["number"].as_str().unwrap();
    let raw = message(
        "helpdesk@niagara.example",
        &format!("Re: [{number}] HHS only"),
        "cross-1",
        "",
        "Is this about us too?",
    );
    let (s, taken) = deliver(&app, &raw).await;
    assert_eq!(s, 200, "{taken}");
    assert_eq!(taken["status"], "ticket", "{taken}");
    assert_ne!(taken["ticket"], number, "{taken}");
    let (_, t) = hhs.get(&format!("/api/v1/tickets/{number}")).await;
    assert!(
        !t["timeline"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["kind"] == "comment")
    );
}

#[tokio::test]
async fn an_unknown_sender_is_held_until_an_agent_files_it() {
    let app = TestApp::spawn().await;
    let raw = message(
        "New Person <new.person@hhs.example>",
        "Cannot sign in",
        "held-1",
        "",
        "My account does not work.",
    );
    let (s, taken) = deliver(&app, &raw).await;
    assert_eq!(s, 200, "{taken}");
    assert_eq!(taken["status"], "held");
    assert_eq!(taken["reason"], "unknown_sender");
    let id = taken["id"].as_i64().unwrap();
    assert!(outbox_to(&app, "new.person@hhs.example").await.is_empty());

    let customer = app.api_as("helpdesk@hhs.example").await;
    let (s, _) = customer.get("/api/v1/inbound?status=waiting").await;
    assert_eq!(s, 403);

    let desk = app.api_as("agent1@operator.example").await;
    let (s, waiting) = desk.get("/api/v1/inbound?status=waiting").await;
    assert_eq!(s, 200);
    assert!(waiting.as_array().unwrap().iter().any(|m| m["id"] == id));
    let (s, e) = desk
        .post(
            &format!("/api/v1/inbound/{id}/release"),
            json!({"person": "nobody@nowhere.example"}),
        )
        .await;
    assert_eq!(
        (s.as_u16(), e["code"].as_str()),
        (422, Some("unknown_person"))
    );
    let (s, filed) = desk
        .post(
            &format!("/api/v1/inbound/{id}/release"),
            json!({"person": "helpdesk@hhs.example"}),
        )
        .await;
    assert_eq!(s, 200, "{filed}");
    assert_eq!(filed["status"], "ticket");
    let number = filed["ticket"].as_str().unwrap();
    let (_, t) = desk.get(&format!("/api/v1/tickets/{number}")).await;
    assert_eq!(t["summary"], "Cannot sign in");
    assert_eq!(
        t["reporter_id"],
        app.person_id("helpdesk@hhs.example").await
    );
    let (s, e) = desk
        .post(&format!("/api/v1/inbound/{id}/release"), json!({}))
        .await;
    assert_eq!((s.as_u16(), e["code"].as_str()), (409, Some("not_waiting")));
}

#[tokio::test]
async fn patient_information_is_quarantined_until_redacted() {
    let app = TestApp::spawn().await;
    // 9876543217 passes the health card check digit (a test value).
    let raw = message(
        "helpdesk@hhs.example",
        "Result missing",
        "phi-1",
        "",
        "The lab result for card 9876-543-217 is missing from the viewer.",
    );
    let (s, taken) = deliver(&app, &raw).await;
    assert_eq!(s, 200, "{taken}");
    assert_eq!(taken["status"], "quarantined", "{taken}");
    assert_eq!(taken["reason"], "phi_health_card");
    let id = taken["id"].as_i64().unwrap();

    let desk = app.api_as("agent1@operator.example").await;
    let (s, m) = desk.get(&format!("/api/v1/inbound/{id}")).await;
    assert_eq!(s, 200);
    assert!(m["body"].as_str().unwrap().contains("9876-543-217"));
    let mut conn = app.db().reader().acquire().await.unwrap();
    let reads: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM audit_log WHERE action = 'inbound.read' AND entity_id = $1",
    )
    .bind(id.to_string())
    .fetch_one(&mut *conn)
    .await
    .unwrap();
    assert_eq!(reads, 1);
    drop(conn);

    let (s, e) = desk
        .post(
            &format!("/api/v1/inbound/{id}/release"),
            json!({"subject": "Result missing", "body": m["body"]}),
        )
        .await;
    assert_eq!(
        (s.as_u16(), e["code"].as_str()),
        (422, Some("phi_detected"))
    );
    let (s, released) = desk
        .post(
            &format!("/api/v1/inbound/{id}/release"),
            json!({"subject": "Result missing", "body": "The lab result for one patient is missing from the viewer."}),
        )
        .await;
    assert_eq!(s, 200, "{released}");
    assert_eq!(released["status"], "ticket");
    let (_, m) = desk.get(&format!("/api/v1/inbound/{id}")).await;
    assert!(!m["body"].as_str().unwrap().contains("9876"), "{m}");
    let number = released["ticket"].as_str().unwrap();
    let (_, t) = desk.get(&format!("/api/v1/tickets/{number}")).await;
    assert!(!t.to_string().contains("9876"));
}

#[tokio::test]
async fn robots_are_recorded_and_never_answered() {
    let app = TestApp::spawn().await;
    let before = outbox_to(&app, "helpdesk@hhs.example").await.len();
    let auto_reply = message(
        "helpdesk@hhs.example",
        "Out of office",
        "robot-1",
        "Auto-Submitted: auto-replied\r\n",
        "I am away until Monday.",
    );
    let bulk = message(
        "helpdesk@hhs.example",
        "Newsletter",
        "robot-2",
        "Precedence: bulk\r\n",
        "News.",
    );
    let bounce = "From: MAILER-DAEMON@mail.hhs.example\r\nTo: no-reply@triage.localhost\r\n\
        Subject: Undelivered Mail Returned to Sender\r\nMessage-ID: <robot-3@mail.example>\r\nMIME-Version: 1.0\r\n\
        Content-Type: multipart/report; report-type=delivery-status; boundary=\"b\"\r\n\r\n\
        --b\r\nContent-Type: text/plain\r\n\r\nThe mail could not be delivered.\r\n\
        --b\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mail.hhs.example\r\n\r\nFinal-Recipient: rfc822; x@hhs.example\r\nAction: failed\r\nStatus: 5.1.1\r\n\r\n--b--\r\n";
    // Our own notice come back (a forwarding loop).
    let ours = message(
        "no-reply@triage.localhost",
        "[INC-000001] We received your request",
        "robot-4",
        "X-Loop: no-reply@triage.localhost\r\n",
        "Your request was received.",
    );
    for (raw, reason) in [
        (auto_reply.as_str(), "auto_reply"),
        (bulk.as_str(), "bulk"),
        (bounce, "bounce"),
        (ours.as_str(), "loop"),
    ] {
        let (s, taken) = deliver(&app, raw).await;
        assert_eq!(s, 200, "{taken}");
        assert_eq!(taken["status"], "ignored", "{reason}: {taken}");
        assert_eq!(taken["reason"], reason, "{taken}");
        assert_eq!(taken["ticket"], Value::Null);
    }
    assert_eq!(outbox_to(&app, "helpdesk@hhs.example").await.len(), before);
}

#[tokio::test]
async fn bad_messages_are_refused_with_a_reason() {
    let app = TestApp::spawn().await;
    let raw = message("helpdesk@hhs.example", "Hi", "bad-1", "", "Hello");
    let (s, e) = deliver_with(&app, &raw, None).await;
    assert_eq!(
        (s.as_u16(), e["code"].as_str()),
        (401, Some("invalid_token"))
    );
    let (s, e) = deliver_with(&app, &raw, Some("wrong-token-wrong-token")).await;
    assert_eq!(
        (s.as_u16(), e["code"].as_str()),
        (401, Some("invalid_token"))
    );
    let (s, e) = deliver(&app, "").await;
    assert_eq!(
        (s.as_u16(), e["code"].as_str()),
        (422, Some("malformed_message"))
    );
    let no_from = "To: desk@triage.localhost\r\nSubject: Who am I\r\n\r\nNo sender.\r\n";
    let (s, e) = deliver(&app, no_from).await;
    assert_eq!(
        (s.as_u16(), e["code"].as_str()),
        (422, Some("no_sender")),
        "{e}"
    );

    // A 25 MB attachment is over the attachment limit: the message is taken, the file is
    // named in the text and not kept.
    let big = "A".repeat(25 * 1024 * 1024);
    let encoded = base64_lines(big.as_bytes());
    let with_big = format!(
        "From: helpdesk@hhs.example\r\nSubject: Huge log\r\nMessage-ID: <big-1@mail.example>\r\nMIME-Version: 1.0\r\n\
         Content-Type: multipart/mixed; boundary=\"m\"\r\n\r\n--m\r\nContent-Type: text/plain\r\n\r\nLog attached.\r\n\
         --m\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; filename=\"big.pdf\"\r\n\
         Content-Transfer-Encoding: base64\r\n\r\n{encoded}\r\n--m--\r\n"
    );
    let (s, taken) = deliver(&app, &with_big).await;
    assert_eq!(s, 200, "{taken}");
    assert_eq!(taken["status"], "ticket", "{taken}");
    let desk = app.api_as("agent1@operator.example").await;
    let (_, t) = desk
        .get(&format!(
            "/api/v1/tickets/{}",
            taken["ticket"].as_str().unwrap()
        ))
        .await;
    assert!(t["details"].as_str().unwrap().contains("big.pdf"), "{t}");
    assert_eq!(t["attachments"], json!([]));
}

#[tokio::test]
async fn an_attachment_is_kept_on_the_ticket() {
    let app = TestApp::spawn().await;
    let png: &[u8] = &[
        0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0x0d, b'I', b'H', b'D', b'R',
    ];
    let raw = format!(
        "From: helpdesk@hhs.example\r\nSubject: Screenshot of the error\r\nMessage-ID: <att-1@mail.example>\r\nMIME-Version: 1.0\r\n\
         Content-Type: multipart/mixed; boundary=\"m\"\r\n\r\n--m\r\nContent-Type: text/plain; charset=iso-8859-1\r\n\
         Content-Transfer-Encoding: quoted-printable\r\n\r\nL'=E9cran est vide.\r\n\
         --m\r\nContent-Type: image/png\r\nContent-Disposition: attachment; filename=\"screen.png\"\r\n\
         Content-Transfer-Encoding: base64\r\n\r\n{}\r\n--m--\r\n",
        base64_lines(png)
    );
    let (s, taken) = deliver(&app, &raw).await;
    assert_eq!(s, 200, "{taken}");
    let desk = app.api_as("agent1@operator.example").await;
    let (_, t) = desk
        .get(&format!(
            "/api/v1/tickets/{}",
            taken["ticket"].as_str().unwrap()
        ))
        .await;
    assert_eq!(t["details"], "L'écran est vide.", "{t}");
    assert_eq!(t["attachments"][0]["filename"], "screen.png", "{t}");
}

#[tokio::test]
async fn agents_see_waiting_mail_in_the_console() {
    let app = TestApp::spawn().await;
    let raw = message(
        "stranger@else.example",
        "Hello desk",
        "page-1",
        "",
        "Who do I ask?",
    );
    let (_, taken) = deliver(&app, &raw).await;
    let id = taken["id"].as_i64().unwrap();
    let browser = app.browser();
    browser
        .sign_in("agent1@operator.example", testkit::DEMO_PASSWORD)
        .await;
    let (s, page) = browser.text("/inbound").await;
    assert_eq!(s, 200);
    assert!(page.contains("Hello desk") && page.contains("stranger@else.example"));
    let (s, page) = browser.text(&format!("/inbound/{id}")).await;
    assert_eq!(s, 200);
    assert!(page.contains("Who do I ask?"));
    let r = browser
        .post_form(&format!("/inbound/{id}/discard"), &[])
        .await;
    assert!(r.status().is_redirection() || r.status().is_success());
    let desk = app.api_as("agent1@operator.example").await;
    let (_, m) = desk.get(&format!("/api/v1/inbound/{id}")).await;
    assert_eq!(m["status"], "discarded");
    assert_eq!(m["body"], "");
}

#[tokio::test]
async fn the_command_line_takes_a_message_from_stdin() {
    let app = TestApp::spawn().await;
    let bin = env!("CARGO_BIN_EXE_triage");
    let files = app.config().attachments_dir.unwrap();
    let run = async |input: &str| {
        testkit::run_cli_with(
            bin,
            &app.database_url,
            &["mail", "ingest"],
            &[("TRIAGE_ATTACHMENTS_DIR", &files)],
            Some(input.as_bytes()),
        )
        .await
        .unwrap()
    };
    let raw = message(
        "clinician@hhs.example",
        "Lab feed late",
        "cli-1",
        "",
        "Results arrive an hour late.",
    );
    let (code, out, err) = run(&raw).await;
    assert_eq!(code, 0, "{err}");
    let taken: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(taken["status"], "ticket", "{out}");
    let desk = app.api_as("agent1@operator.example").await;
    let (s, t) = desk
        .get(&format!(
            "/api/v1/tickets/{}",
            taken["ticket"].as_str().unwrap()
        ))
        .await;
    assert_eq!(s, 200);
    assert_eq!(t["channel"], "email");
    let (code, _, err) = run("not a mail at all").await;
    assert_eq!(code, 65, "{err}");
    assert!(
        err.contains("no_sender") || err.contains("malformed_message"),
        "{err}"
    );
}

fn base64_lines(bytes: &[u8]) -> String {
    const TABLE: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len() * 4 / 3 + bytes.len() / 57 * 2 + 4);
    for (i, chunk) in bytes.chunks(3).enumerate() {
        if i > 0 && i % 19 == 0 {
            out.push_str("\r\n");
        }
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for j in 0..4 {
            if j <= chunk.len() {
                out.push(TABLE[((n >> (18 - 6 * j)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}
