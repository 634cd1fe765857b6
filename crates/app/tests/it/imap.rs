//! Mail to the desk taken from an IMAP mailbox: a private Dovecot server polled as
//! `triage serve` and `triage mail poll` poll it. A known sender's message becomes an email
//! ticket and is flagged \Seen; polling again creates nothing; a reply threads; a final
//! refusal is flagged \Seen while a temporary fault leaves the message for the next poll; a
//! server that is down or a wrong password is reported without stopping the server.
use crate::inbound::message;
use serde_json::Value;
use testkit::{Dovecot, TestApp};
use web::imap::{ImapAccount, PollError, PollReport, poll_once};

fn account(url: &str) -> ImapAccount {
    ImapAccount::from_url(url).expect("imap url")
}

fn only(report: &PollReport) -> &web::imap::Polled {
    match report.messages.as_slice() {
        [polled] => polled,
        _ => panic!("expected one message: {report:?}"),
    }
}

/// A 127.0.0.1 port nothing listens on.
fn closed_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port()
}

/// Runs `triage mail poll` against the app's database; returns (exit code, stdout, stderr).
fn poll_command(app: &TestApp, imap_url: &str) -> (i32, String, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_triage"))
        .args(["mail", "poll"])
        .env("TRIAGE_DATABASE_URL", &app.database_url)
        .env(
            "TRIAGE_ATTACHMENTS_DIR",
            app.config().attachments_dir.expect("attachments dir"),
        )
        .env("TRIAGE_IMAP_URL", imap_url)
        .env_remove("TRIAGE_CONFIG")
        .output()
        .expect("triage runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[tokio::test]
async fn imap_a_known_senders_message_becomes_one_email_ticket_and_a_reply_threads_into_it() {
    let dovecot = Dovecot::start();
    let app = TestApp::spawn().await;
    let mailbox = account(&dovecot.url());
    let first = message(
        "Hamilton Help Desk <helpdesk@hhs.example>",
        "Viewer shows a blank page",
        "imap-first-1",
        "",
        "Since 8:00 the viewer shows a blank page for every user.",
    );
    dovecot.deliver(&first).await;
    assert_eq!(dovecot.uids(false).await.len(), 1);

    let report = poll_once(app.state(), &mailbox).await.expect("poll");
    assert!(report.polled);
    assert_eq!(report.unseen, 1);
    let polled = only(&report);
    assert_eq!(polled.outcome, "ticket", "{report:?}");
    assert!(polled.marked_seen);
    let number = polled.ticket.clone().expect("a ticket number");
    assert!(dovecot.uids(false).await.is_empty());
    assert_eq!(dovecot.uids(true).await, [polled.uid]);

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
    let inbound_id = polled.inbound_id.expect("an inbound message");
    let (_, m) = desk.get(&format!("/api/v1/inbound/{inbound_id}")).await;
    assert_eq!(m["source"], "imap", "{m}");

    // Nothing unseen is left: a second poll does nothing.
    let again = poll_once(app.state(), &mailbox).await.expect("poll");
    assert!(again.polled);
    assert_eq!((again.unseen, again.messages.len()), (0, 0), "{again:?}");

    // The same message fetched again (by a second node, or marked unread by someone) is
    // answered as taken before: no second ticket.
    dovecot.deliver(&first).await;
    let again = poll_once(app.state(), &mailbox).await.expect("poll");
    let polled = only(&again);
    assert_eq!(polled.outcome, "duplicate", "{again:?}");
    assert_eq!(polled.ticket.as_deref(), Some(number.as_str()));
    assert!(polled.marked_seen);
    let (_, tickets) = desk.get("/api/v1/inbound?status=ticket").await;
    assert_eq!(tickets.as_array().map(Vec::len), Some(1), "{tickets}");

    // A reply with the number in its subject threads into the ticket.
    dovecot
        .deliver(&message(
            "helpdesk@hhs.example",
            &format!("Re: [{number}] Viewer shows a blank page"),
            "imap-reply-1",
            "",
            "It is back for some users now.",
        ))
        .await;
    let report = poll_once(app.state(), &mailbox).await.expect("poll");
    let polled = only(&report);
    assert_eq!(polled.outcome, "comment", "{report:?}");
    assert_eq!(polled.ticket.as_deref(), Some(number.as_str()));
    let (_, t) = desk.get(&format!("/api/v1/tickets/{number}")).await;
    let comments: Vec<&Value> = t["timeline"]
        .as_array()
        .expect("timeline")
        .iter()
        .filter(|e| e["kind"] == "comment")
        .collect();
    assert_eq!(comments.len(), 1, "{t}");
    assert_eq!(comments[0]["body"], "It is back for some users now.");
    assert!(dovecot.uids(false).await.is_empty());
}

#[tokio::test]
async fn imap_final_outcomes_are_marked_seen_and_a_temporary_fault_waits_for_the_next_poll() {
    let dovecot = Dovecot::start();
    let app = TestApp::spawn().await;
    let mailbox = account(&dovecot.url());
    dovecot
        .deliver(&message(
            "New Person <new.person@hhs.example>",
            "Cannot sign in",
            "imap-held-1",
            "",
            "My account does not work.",
        ))
        .await;
    dovecot
        .deliver("To: desk@triage.localhost\r\nSubject: Who am I\r\n\r\nNo sender.\r\n")
        .await;
    // Its attachment cannot be stored while the attachments folder is broken (a full or
    // unmounted disk): a fault on our side, not in the message.
    dovecot
        .deliver(
            "From: helpdesk@hhs.example\r\nTo: desk@triage.localhost\r\nSubject: Log attached\r\n\
             Message-ID: <imap-attachment-1@mail.example>\r\nMIME-Version: 1.0\r\n\
             Content-Type: multipart/mixed; boundary=\"m\"\r\n\r\n--m\r\nContent-Type: text/plain\r\n\r\n\
             The viewer log is attached.\r\n--m\r\nContent-Type: text/plain\r\n\
             Content-Disposition: attachment; filename=\"viewer.log\"\r\n\r\n\
             09:00 blank page\r\n--m--\r\n",
        )
        .await;
    let attachments = std::path::PathBuf::from(app.config().attachments_dir.unwrap());
    std::fs::remove_dir_all(&attachments).unwrap();
    std::fs::write(&attachments, b"not a folder").unwrap();

    let report = poll_once(app.state(), &mailbox).await.expect("poll");
    let outcomes: Vec<(&str, Option<&str>, bool)> = report
        .messages
        .iter()
        .map(|m| (m.outcome.as_str(), m.reason.as_deref(), m.marked_seen))
        .collect();
    assert_eq!(
        outcomes,
        [
            ("held", Some("unknown_sender"), true),
            ("refused", Some("no_sender"), true),
            ("deferred", Some("internal"), false),
        ],
        "{report:?}"
    );
    assert_eq!(report.deferred(), 1);
    let left = dovecot.uids(false).await;
    assert_eq!(left, [report.messages[2].uid]);

    // Once the fault is gone, the next poll takes it.
    std::fs::remove_file(&attachments).unwrap();
    std::fs::create_dir_all(&attachments).unwrap();
    let report = poll_once(app.state(), &mailbox).await.expect("poll");
    let polled = only(&report);
    assert_eq!((polled.uid, polled.outcome.as_str()), (left[0], "ticket"));
    assert!(dovecot.uids(false).await.is_empty());
    let desk = app.api_as("agent1@operator.example").await;
    let (_, t) = desk
        .get(&format!(
            "/api/v1/tickets/{}",
            polled.ticket.as_ref().unwrap()
        ))
        .await;
    assert_eq!(t["attachments"][0]["filename"], "viewer.log", "{t}");

    // Over inbound_max_mb: refused without being fetched, and marked seen.
    let mut settings = app.config().web_settings(&app.base);
    settings.inbound_max_bytes = 1024;
    let small_limit = web::AppState::new(app.db().clone(), settings);
    let long = "x".repeat(2000);
    dovecot
        .deliver(&message(
            "helpdesk@hhs.example",
            "Long",
            "imap-long-1",
            "",
            &long,
        ))
        .await;
    let report = poll_once(&small_limit, &mailbox).await.expect("poll");
    let polled = only(&report);
    assert_eq!(
        (polled.outcome.as_str(), polled.reason.as_deref()),
        ("refused", Some("message_too_large"))
    );
    assert!(dovecot.uids(false).await.is_empty());
}

#[tokio::test]
async fn imap_serve_polls_the_mailbox_every_period() {
    let dovecot = Dovecot::start();
    dovecot
        .deliver(&message(
            "helpdesk@hhs.example",
            "Printer queue stuck",
            "imap-serve-1",
            "",
            "Nothing prints since the update.",
        ))
        .await;
    let app = TestApp::spawn_with_imap(&dovecot.url()).await;
    let desk = app.api_as("agent1@operator.example").await;
    let (_, taken) = testkit::eventually(
        async || desk.get("/api/v1/inbound?status=ticket").await,
        |(_, list)| list.as_array().is_some_and(|l| !l.is_empty()),
    )
    .await;
    assert_eq!(taken[0]["source"], "imap", "{taken}");
    assert_eq!(taken[0]["subject"], "Printer queue stuck");
    let unseen = testkit::eventually(async || dovecot.uids(false).await, Vec::is_empty).await;
    assert!(unseen.is_empty(), "{}", dovecot.log());
}

#[tokio::test]
async fn imap_a_server_that_is_down_is_reported_and_the_app_keeps_running() {
    let url = format!(
        "imap://desk:password@127.0.0.1:{}/INBOX?tls=none",
        closed_port()
    );
    // The app polls it every second, and keeps serving.
    let app = TestApp::spawn_with_imap(&url).await;
    tokio::time::sleep(std::time::Duration::from_millis(2500)).await;
    let health = reqwest::get(app.url("/healthz")).await.unwrap();
    assert_eq!(health.status(), 200);

    // The app's own poller may hold the lease for a moment: ask until this poll ran.
    let mut outcome = poll_once(app.state(), &account(&url)).await;
    for _ in 0..50 {
        if !matches!(&outcome, Ok(report) if !report.polled) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        outcome = poll_once(app.state(), &account(&url)).await;
    }
    let e = outcome.expect_err("an unreachable server is an error");
    assert!(matches!(e, PollError::Connect { .. }), "{e:?}");
    assert!(e.to_string().starts_with("cannot reach 127.0.0.1:"), "{e}");
    assert!(!e.to_string().contains("password"), "{e}");
    let health = reqwest::get(app.url("/healthz")).await.unwrap();
    assert_eq!(health.status(), 200);
}

#[tokio::test]
async fn imap_a_refused_login_and_an_unreachable_server_fail_the_poll_command() {
    let dovecot = Dovecot::start();
    let app = TestApp::spawn().await;
    dovecot
        .deliver(&message(
            "helpdesk@hhs.example",
            "Scanner offline",
            "imap-cli-1",
            "",
            "The scanner at the front desk is offline.",
        ))
        .await;
    let wrong = dovecot.url_with_password("not-the-password");
    let e = poll_once(app.state(), &account(&wrong))
        .await
        .expect_err("a wrong password is an error");
    assert!(matches!(e, PollError::Login { .. }), "{e:?}");
    assert!(e.to_string().contains("Authentication failed"), "{e}");
    assert!(!e.to_string().contains("not-the-password"), "{e}");
    assert_eq!(dovecot.uids(false).await.len(), 1);

    let (code, _, stderr) = poll_command(&app, &wrong);
    assert_eq!(code, 77, "{stderr}");
    assert!(stderr.contains("refused the login of desk"), "{stderr}");
    let down = format!(
        "imap://desk:password@127.0.0.1:{}/INBOX?tls=none",
        closed_port()
    );
    let (code, _, stderr) = poll_command(&app, &down);
    assert_eq!(code, 69, "{stderr}");
    assert!(stderr.contains("cannot reach 127.0.0.1:"), "{stderr}");
    assert_eq!(dovecot.uids(false).await.len(), 1);

    // While another node holds the polling lease, a poll does nothing.
    let lease = {
        let mut tx = app.db().begin().await.unwrap();
        let lease =
            store::leases::acquire(&mut tx, "imap_poll", jiff::SignedDuration::from_secs(60))
                .await
                .unwrap()
                .expect("the lease is free");
        tx.commit().await.unwrap();
        lease
    };
    let (code, stdout, stderr) = poll_command(&app, &dovecot.url());
    assert_eq!(code, 0, "{stderr}");
    let report: Value = serde_json::from_str(&stdout).expect("JSON report");
    assert_eq!(report["polled"], false, "{report}");
    assert_eq!(dovecot.uids(false).await.len(), 1);
    let mut tx = app.db().begin().await.unwrap();
    store::leases::release(&mut tx, lease).await.unwrap();
    tx.commit().await.unwrap();

    let (code, stdout, stderr) = poll_command(&app, &dovecot.url());
    assert_eq!(code, 0, "{stderr}");
    let report: Value = serde_json::from_str(&stdout).expect("JSON report");
    assert_eq!(report["messages"][0]["outcome"], "ticket", "{report}");
    assert_eq!(report["messages"][0]["marked_seen"], true, "{report}");
    assert!(dovecot.uids(false).await.is_empty());
}
