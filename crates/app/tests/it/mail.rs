//! Mail delivery from the outbox to a real SMTP server (aiosmtpd, started by the test):
//! sent once, retried when the server is down or answers 4xx, given up visibly on 5xx, kept
//! locally without a server, and exactly once across a `kill -9` of the sender.
use serde_json::{Value, json};
use std::time::Duration;
use testkit::{SmtpSink, TestApp, eventually};

async fn raise(app: &TestApp, summary: &str) -> Value {
    let clinician = app.api_as("clinician@hhs.example").await;
    let (s, t) = clinician
        .post(
            "/api/v1/tickets",
            json!({"kind": "incident", "summary": summary, "details": "Viewer down for the ward."}),
        )
        .await;
    assert_eq!(s, 201, "{t}");
    t
}

async fn ticket_mail(app: &TestApp, ticket_id: i64) -> Vec<store::outbox::OutboxMessage> {
    let mut conn = app.db().reader().acquire().await.unwrap();
    store::outbox::for_ticket(&mut conn, ticket_id)
        .await
        .unwrap()
}

/// Waits until the ticket's messages are all in `status` (or the time is up).
async fn deliveries(
    app: &TestApp,
    ticket_id: i64,
    status: &str,
) -> Vec<store::outbox::OutboxMessage> {
    eventually(
        async || ticket_mail(app, ticket_id).await,
        |rows| !rows.is_empty() && rows.iter().all(|m| m.status == status),
    )
    .await
}

async fn last_mail(app: &TestApp, to: &str) -> store::outbox::OutboxMessage {
    app.last_mail_to(to).await.expect("a message")
}

fn to_clinician(messages: &[String]) -> Vec<&String> {
    messages
        .iter()
        .filter(|m| m.contains("X-Sink-Rcpt: clinician@hhs.example"))
        .collect()
}

#[tokio::test]
async fn ticket_mail_reaches_a_real_smtp_server_once() {
    let sink = SmtpSink::start();
    let app = TestApp::spawn_with_smtp(Some(sink.url())).await;
    let t = raise(&app, "Viewer down on 4 West").await;
    let number = t["number"].as_str().unwrap();
    let rows = deliveries(&app, t["id"].as_i64().unwrap(), "sent").await;
    assert_eq!(rows.len(), 1, "one acknowledgement: {rows:?}");
    assert_eq!(rows[0].status, "sent", "{rows:?}");
    assert!(rows[0].sent_at.is_some());
    let messages = sink.wait_for(1, 10).await;
    let mine = to_clinician(&messages);
    assert_eq!(mine.len(), 1, "{messages:?}");
    assert!(mine[0].contains(number), "the ticket number is in the mail");
    // Nothing more is sent on later passes.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(to_clinician(&sink.messages()).len(), 1);

    // Administrators see the delivery state.
    let admin = app.api_as("admin@operator.example").await;
    let (s, outbox) = admin.get("/api/v1/outbox").await;
    assert_eq!(s, 200);
    let row = outbox
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["ticket_id"] == t["id"])
        .expect("the ticket's message is listed");
    assert_eq!(row["status"], "sent");
    assert_eq!(row["attempts"], 1);
}

#[tokio::test]
async fn a_4xx_answer_is_retried_and_delivered_once() {
    let sink = SmtpSink::start_with(&["--refuse-first", "1"]);
    let app = TestApp::spawn_with_smtp(Some(sink.url())).await;
    let t = raise(&app, "Lab feed late").await;
    let rows = deliveries(&app, t["id"].as_i64().unwrap(), "sent").await;
    assert_eq!(rows[0].status, "sent", "{rows:?}");
    assert_eq!(rows[0].attempts, 2, "refused once, then accepted");
    assert_eq!(to_clinician(&sink.wait_for(1, 10).await).len(), 1);
}

#[tokio::test]
async fn mail_waits_while_the_server_is_down_and_goes_after_a_restart() {
    // Nothing listens on this port.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let mut app = TestApp::spawn_with_smtp(Some(format!("smtp://127.0.0.1:{port}"))).await;
    let t = raise(&app, "Portal sign-in fails").await;
    let id = t["id"].as_i64().unwrap();
    let row = eventually(
        async || ticket_mail(&app, id).await.remove(0),
        // Claiming counts the attempt; the failure is recorded when the server fails.
        |row| row.last_error.is_some(),
    )
    .await;
    assert_eq!(row.status, "queued", "kept for a later try: {row:?}");
    assert!(
        row.last_error.as_deref().is_some_and(|e| !e.is_empty()),
        "{row:?}"
    );
    assert!(row.next_attempt_at.is_some());

    let sink = SmtpSink::start();
    app.smtp_url = Some(sink.url());
    app.restart().await;
    let rows = deliveries(&app, id, "sent").await;
    assert_eq!(rows[0].status, "sent", "{rows:?}");
    assert!(rows[0].last_error.is_none());
    assert_eq!(to_clinician(&sink.wait_for(1, 10).await).len(), 1);
}

#[tokio::test]
async fn a_permanent_refusal_is_given_up_with_its_reason() {
    let sink = SmtpSink::start();
    let app = TestApp::spawn_with_smtp(Some(sink.url())).await;
    let mail = web::mail::render(
        &app.base,
        "reject@hhs.example",
        domain::text::Locale::En,
        "ticket-created",
        &[
            ("their_number", String::new()),
            ("number", "INC-000001".into()),
            ("summary", "x".into()),
            ("link", "x".into()),
        ],
    )
    .unwrap()
    .for_event("INC-000001:e1");
    let mut tx = app.db().begin().await.unwrap();
    let id = store::outbox::enqueue(&mut tx, None, &mail)
        .await
        .unwrap()
        .expect("queued");
    // The same event for the same recipient is not queued twice.
    let again = store::outbox::enqueue(&mut tx, None, &mail).await.unwrap();
    assert_eq!(again, None);
    tx.commit().await.unwrap();
    let mut conn = app.db().reader().acquire().await.unwrap();
    let rows = store::outbox::list(&mut conn, Some("reject@hhs.example"), 10)
        .await
        .unwrap();
    assert_eq!(rows.len(), 1);
    drop(conn);
    let row = eventually(
        async || last_mail(&app, "reject@hhs.example").await,
        |row| row.status != "queued",
    )
    .await;
    assert_eq!((row.id, row.status.as_str()), (id, "failed"), "{row:?}");
    assert_eq!(row.attempts, 1, "a 5xx is not retried");
    assert!(
        row.last_error.as_deref().unwrap_or("").contains("550"),
        "{row:?}"
    );

    // An administrator sends it again (it fails again, visibly); only a failed message can
    // be sent again, and only by an administrator.
    let admin = app.api_as("admin@operator.example").await;
    let clinician = app.api_as("clinician@hhs.example").await;
    let (s, _) = clinician
        .post(&format!("/api/v1/outbox/{id}/retry"), json!({}))
        .await;
    assert_eq!(s, 403);
    let (s, e) = admin
        .post(&format!("/api/v1/outbox/{id}/retry"), json!({}))
        .await;
    assert_eq!(s, 204, "{e}");
    let (s, e) = admin
        .post(&format!("/api/v1/outbox/{id}/retry"), json!({}))
        .await;
    // Queued again, unless the sender already took it and it failed again.
    assert!(
        s == 204 || (s == 422 && e["code"] == "not_failed"),
        "{s} {e}"
    );
    let row = eventually(
        async || last_mail(&app, "reject@hhs.example").await,
        |row| row.status == "failed",
    )
    .await;
    assert_eq!(row.status, "failed", "{row:?}");
    assert!(row.attempts >= 2, "{row:?}");
    let (s, e) = admin.post("/api/v1/outbox/999999/retry", json!({})).await;
    assert_eq!((s.as_u16(), e["code"].as_str()), (422, Some("not_failed")));
}

#[tokio::test]
async fn without_a_mail_server_mail_stays_in_the_local_outbox() {
    let app = TestApp::spawn().await;
    let t = raise(&app, "Feed stopped").await;
    let rows = deliveries(&app, t["id"].as_i64().unwrap(), "stored").await;
    assert_eq!(rows[0].status, "stored", "{rows:?}");
    assert!(rows[0].message.contains(t["number"].as_str().unwrap()));
}

/// The sender is killed (`kill -9`) while the mail server holds a message mid-batch. After a
/// restart every message arrives, each exactly once.
#[tokio::test]
async fn a_sender_killed_mid_batch_delivers_every_message_exactly_once() {
    const COUNT: usize = 30;
    let (database_url, _dir) = testkit::fresh_database().await;
    let files = std::env::temp_dir().join(format!("triage-kill-{}", std::process::id()));
    let bin = env!("CARGO_BIN_EXE_triage");
    let (code, _, err) = testkit::run_cli(bin, &database_url, &["migrate"])
        .await
        .unwrap();
    assert_eq!(code, 0, "{err}");
    let db = store::Db::connect(&database_url).await.unwrap();
    let mut tx = db.begin().await.unwrap();
    for i in 1..=COUNT {
        let mail = web::mail::render(
            "http://triage.example",
            &format!("person{i}@hhs.example"),
            domain::text::Locale::En,
            "ticket-created",
            &[
                ("their_number", String::new()),
                ("number", format!("INC-{i:06}")),
                ("summary", format!("Message {i}")),
                ("link", "x".into()),
            ],
        )
        .unwrap();
        store::outbox::enqueue(&mut tx, None, &mail).await.unwrap();
    }
    tx.commit().await.unwrap();

    // The 10th message is held by the server, and the sender killed meanwhile.
    let sink = SmtpSink::start_with(&["--hold-at", "10", "--hold-seconds", "5"]);
    let serve = || {
        std::process::Command::new(bin)
            .arg("serve")
            .env_remove("TRIAGE_CONFIG")
            .env("TRIAGE_DATABASE_URL", &database_url)
            .env("TRIAGE_LISTEN", "127.0.0.1:0")
            .env("TRIAGE_DEMO_DATA", "false")
            .env("TRIAGE_ATTACHMENTS_DIR", &files)
            .env("TRIAGE_SMTP_URL", sink.url())
            .env("TRIAGE_MAIL_CLAIM_SECONDS", "2")
            .env("TRIAGE_MAIL_RETRY_SECONDS", "1")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("triage serve")
    };
    let mut first = serve();
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while !sink.folder.join("holding").exists() {
        assert!(
            std::time::Instant::now() < deadline,
            "the sender never reached the 10th message"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    first.kill().unwrap(); // SIGKILL
    first.wait().unwrap();
    assert_eq!(sink.messages().len(), 9, "nine accepted before the kill");

    let mut second = serve();
    let messages = sink.wait_for(COUNT, 60).await;
    // The sender records the last acceptance just after the server gave it.
    let counts = eventually(
        async || {
            let mut conn = db.reader().acquire().await.unwrap();
            store::outbox::counts(&mut conn).await.unwrap()
        },
        |counts| counts.iter().all(|(s, _)| s == "sent"),
    )
    .await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let messages_after = sink.messages();
    second.kill().unwrap();
    second.wait().unwrap();
    let _ = std::fs::remove_dir_all(&files);

    assert_eq!(messages.len(), COUNT);
    assert_eq!(messages_after.len(), COUNT, "nothing is sent twice");
    for i in 1..=COUNT {
        let rcpt = format!("X-Sink-Rcpt: person{i}@hhs.example\r\n");
        let copies = messages_after
            .iter()
            .filter(|m| m.starts_with(&rcpt))
            .count();
        assert_eq!(copies, 1, "person{i} got {copies} copies");
    }
    assert_eq!(counts, vec![("sent".to_owned(), COUNT as i64)]);
}

/// Creating and resolving a ticket mails the reporter in their language (French here), each
/// message with its own `Message-ID` and both in the ticket's thread.
#[tokio::test]
async fn created_and_resolved_mails_arrive_in_french_in_one_thread() {
    let sink = SmtpSink::start();
    let app = TestApp::spawn_with_smtp(Some(sink.url())).await;
    let desk = app.api_as("helpdesk@niagara.example").await;
    let (s, t) = desk
        .post(
            "/api/v1/tickets",
            json!({"kind": "incident", "summary": "Visionneuse lente", "details": "Le dossier met 40 secondes à s'ouvrir."}),
        )
        .await;
    assert_eq!(s, 201, "{t}");
    let number = t["number"].as_str().unwrap().to_owned();
    let agent = app.api_as("agent1@operator.example").await;
    let (s, r) = agent
        .patch(
            &format!("/api/v1/tickets/{number}"),
            json!({"status": "resolved", "status_reason": "Nœud de base de données remplacé"}),
        )
        .await;
    assert_eq!(s, 200, "{r}");

    let mine: Vec<String> = eventually(
        async || {
            sink.messages()
                .into_iter()
                .filter(|m| m.starts_with("X-Sink-Rcpt: helpdesk@niagara.example\r\n"))
                .collect::<Vec<_>>()
        },
        |mine| mine.len() >= 2,
    )
    .await;
    assert_eq!(mine.len(), 2, "created and resolved: {mine:?}");
    let parsed: Vec<_> = mine
        .iter()
        .map(|raw| {
            mail_parser::MessageParser::default()
                .parse(raw.as_bytes())
                .expect("a valid message")
        })
        .collect();
    let subjects: Vec<&str> = parsed.iter().map(|m| m.subject().unwrap_or("")).collect();
    assert!(
        subjects[0].contains(&number) && subjects[0].contains("Nous avons reçu"),
        "{subjects:?}"
    );
    assert!(
        subjects[1].contains(&number) && subjects[1].contains("résolue"),
        "{subjects:?}"
    );
    let ids: Vec<&str> = parsed
        .iter()
        .map(|m| m.message_id().unwrap_or(""))
        .collect();
    assert!(!ids[0].is_empty() && ids[0] != ids[1], "{ids:?}");
    for m in &parsed {
        let thread = format!("ticket.{number}@");
        let references = m.references().as_text_list().unwrap_or_default().join(" ");
        assert!(references.contains(&thread), "{references}");
        let in_reply_to = m.in_reply_to().as_text_list().unwrap_or_default().join(" ");
        assert!(in_reply_to.contains(&thread), "{in_reply_to}");
    }
}

/// Two senders, each with its own connections to one database (two nodes), work through
/// the same queue at once: every message goes out exactly once.
#[tokio::test]
async fn two_nodes_share_the_queue_without_sending_twice() {
    const COUNT: usize = 40;
    let sink = SmtpSink::start();
    let app = TestApp::spawn().await;
    let mut tx = app.db().begin().await.unwrap();
    for i in 1..=COUNT {
        let mail = web::mail::render(
            "http://triage.example",
            &format!("node{i}@hhs.example"),
            domain::text::Locale::Fr,
            "ticket-created",
            &[
                ("their_number", String::new()),
                ("number", format!("INC-{i:06}")),
                ("summary", format!("Message {i}")),
                ("link", "x".into()),
            ],
        )
        .unwrap();
        store::outbox::enqueue(&mut tx, None, &mail).await.unwrap();
    }
    tx.commit().await.unwrap();
    // The app's own sender keeps mail local; these two nodes send to the sink. Whatever the
    // app's sender stores is taken from the queue just the same, so count both.
    let node = |db: store::Db| {
        web::delivery::Sender::new(
            db,
            web::delivery::Transport::from_url(Some(&sink.url())).unwrap(),
            Default::default(),
            jiff::SignedDuration::from_secs(60),
        )
    };
    let a = node(store::Db::connect(&app.database_url).await.unwrap());
    let b = node(store::Db::connect(&app.database_url).await.unwrap());
    let (pa, pb) = tokio::join!(a.deliver_due(), b.deliver_due());
    let (pa, pb) = (pa.unwrap(), pb.unwrap());
    assert_eq!(pa.failed + pb.failed, 0);

    // The app's sender may still be recording its last message.
    let counts = eventually(
        async || {
            let mut conn = app.db().reader().acquire().await.unwrap();
            store::outbox::counts(&mut conn).await.unwrap()
        },
        |counts| counts.iter().all(|(s, _)| s != "queued"),
    )
    .await;
    let total: i64 = counts.iter().map(|(_, n)| n).sum();
    assert_eq!(total, COUNT as i64, "{counts:?}");
    assert!(
        counts.iter().all(|(s, _)| s == "sent" || s == "stored"),
        "{counts:?}"
    );
    let sent = counts
        .iter()
        .find(|(s, _)| s == "sent")
        .map_or(0, |(_, n)| *n);
    assert_eq!(sent as usize, pa.delivered + pb.delivered, "{counts:?}");
    let messages = sink.wait_for(sent as usize, 10).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let messages = if sink.messages().len() > messages.len() {
        sink.messages()
    } else {
        messages
    };
    assert_eq!(messages.len(), sent as usize, "each accepted once");
    for i in 1..=COUNT {
        let rcpt = format!("X-Sink-Rcpt: node{i}@hhs.example\r\n");
        assert!(
            messages.iter().filter(|m| m.starts_with(&rcpt)).count() <= 1,
            "node{i} twice"
        );
    }
}

/// A database with `count` messages queued (`prefix{i}@hhs.example`), and no server
/// running a sender of its own.
async fn queued_database(prefix: &str, count: usize) -> (store::Db, Option<impl Drop>) {
    let (database_url, dir) = testkit::fresh_database().await;
    let db = store::Db::connect(&database_url).await.unwrap();
    db.migrate().await.unwrap();
    let mut tx = db.begin().await.unwrap();
    for i in 1..=count {
        let mail = web::mail::render(
            "http://triage.example",
            &format!("{prefix}{i}@hhs.example"),
            domain::text::Locale::En,
            "ticket-created",
            &[
                ("number", format!("INC-{i:06}")),
                ("their_number", String::new()),
                ("summary", format!("Message {i}")),
                ("link", "x".into()),
            ],
        )
        .unwrap();
        store::outbox::enqueue(&mut tx, None, &mail).await.unwrap();
    }
    tx.commit().await.unwrap();
    (db, dir)
}

/// A claim is extended only on the rows it still holds: not once its outcome is recorded,
/// nor once another sender claimed the row after this claim lapsed.
#[tokio::test]
async fn a_claim_is_extended_only_on_the_messages_it_still_holds() {
    let (db, _dir) = queued_database("lease", 3).await;
    let claim = async |lease: jiff::SignedDuration| {
        let mut tx = db.begin().await.unwrap();
        let claim = store::outbox::claim_due(&mut tx, db.backend(), 2, lease)
            .await
            .unwrap();
        tx.commit().await.unwrap();
        claim
    };
    let extend = async |claim: &mut store::outbox::Claim, ids: &[i64]| {
        let mut tx = db.begin().await.unwrap();
        let until = domain::time::now() + jiff::SignedDuration::from_secs(60);
        let held = store::outbox::extend_claim(&mut tx, claim, ids, until)
            .await
            .unwrap();
        tx.commit().await.unwrap();
        held
    };
    // A claim that has already lapsed, and another sender's claim on the same rows.
    let mut lapsed = claim(jiff::SignedDuration::from_secs(-1)).await;
    let ids: Vec<i64> = lapsed.messages.iter().map(|m| m.id).collect();
    assert_eq!(ids.len(), 2);
    let mut taken_over = claim(jiff::SignedDuration::from_secs(60)).await;
    assert_eq!(
        taken_over.messages.iter().map(|m| m.id).collect::<Vec<_>>(),
        ids,
        "the lapsed claim's rows are claimed again"
    );
    assert!(taken_over.messages.iter().all(|m| m.attempts == 2));
    assert_eq!(extend(&mut lapsed, &ids).await, Vec::<i64>::new());

    // The holder extends both; once one is recorded, only the other.
    assert_eq!(extend(&mut taken_over, &ids).await, ids);
    let mut tx = db.begin().await.unwrap();
    assert!(
        store::outbox::mark_delivered(&mut tx, ids[0], "sent")
            .await
            .unwrap()
    );
    tx.commit().await.unwrap();
    assert_eq!(extend(&mut taken_over, &ids).await, vec![ids[1]]);
    // A lapsed claim nobody took is still this sender's to extend.
    let mut alone = claim(jiff::SignedDuration::from_secs(-1)).await;
    let third: Vec<i64> = alone.messages.iter().map(|m| m.id).collect();
    assert_eq!(third.len(), 1);
    assert_eq!(extend(&mut alone, &third).await, third);
}

/// A sender holds a batch; the server holds its second message longer than the claim
/// lasts, and a second sender takes over what the first held. The first leaves those to
/// it, and every message is accepted once.
#[tokio::test]
async fn a_batch_whose_claim_lapsed_is_left_to_the_sender_that_took_it() {
    const COUNT: usize = 5;
    let (db, _dir) = queued_database("lapse", COUNT).await;
    let sink = SmtpSink::start_with(&["--hold-at", "2", "--hold-seconds", "4"]);
    let sender = || {
        web::delivery::Sender::new(
            db.clone(),
            web::delivery::Transport::from_url(Some(&sink.url())).unwrap(),
            Default::default(),
            jiff::SignedDuration::from_secs(1),
        )
    };
    let (first, second) = (sender(), sender());
    let first_pass = tokio::spawn(async move { first.deliver_due().await });
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while !sink.folder.join("holding").exists() {
        assert!(std::time::Instant::now() < deadline, "never held");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    // The first sender's claim (1.5 s) lapses while the server holds message 2.
    tokio::time::sleep(Duration::from_millis(2000)).await;
    let second_pass = second.deliver_due().await.unwrap();
    assert_eq!(second_pass.delivered, COUNT - 1, "{second_pass:?}");
    let first_pass = first_pass.await.unwrap().unwrap();
    assert_eq!(first_pass.delivered, 1, "{first_pass:?}");

    let messages = sink.wait_for(COUNT, 10).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(sink.messages().len(), COUNT, "{messages:?}");
    for i in 1..=COUNT {
        let rcpt = format!("X-Sink-Rcpt: lapse{i}@hhs.example\r\n");
        let copies = messages.iter().filter(|m| m.starts_with(&rcpt)).count();
        assert_eq!(copies, 1, "lapse{i} got {copies} copies");
    }
    let mut conn = db.reader().acquire().await.unwrap();
    assert_eq!(
        store::outbox::counts(&mut conn).await.unwrap(),
        vec![("sent".to_owned(), COUNT as i64)]
    );
}

/// Without a mail server, one pass keeps every batch in the local outbox.
#[tokio::test]
async fn without_a_mail_server_a_pass_stores_every_batch() {
    const COUNT: usize = 45;
    let (db, _dir) = queued_database("local", COUNT).await;
    let sender = web::delivery::Sender::new(
        db.clone(),
        web::delivery::Transport::Local,
        Default::default(),
        jiff::SignedDuration::from_secs(60),
    );
    let pass = sender.deliver_due().await.unwrap();
    assert_eq!(
        pass,
        web::delivery::Pass {
            delivered: COUNT,
            failed: 0
        }
    );
    let mut conn = db.reader().acquire().await.unwrap();
    assert_eq!(
        store::outbox::counts(&mut conn).await.unwrap(),
        vec![("stored".to_owned(), COUNT as i64)]
    );
}
