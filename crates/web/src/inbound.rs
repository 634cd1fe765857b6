//! Mail received by the desk. A message arrives raw (from an MTA pipe through
//! `triage mail ingest`, from a mail gateway through `POST /api/v1/inbound/email`, or from
//! the IMAP mailbox the desk polls, see `crate::imap`) and becomes one of:
//! - a reply on its ticket (the number in the subject, or the thread in its headers);
//! - a new email-channel ticket for its sender's organization;
//! - held, when nobody in the directory has the sender's address;
//! - quarantined, when it carries patient information, until an agent redacts it;
//! - ignored, when a machine wrote it (auto-reply, bounce, list mail, a loop): it is
//!   recorded and never answered, so two robots cannot keep each other busy.
//!
//! The row is written before anything else happens, keyed by Message-ID: a message
//! delivered twice is taken once, and one whose processing was cut short is taken again
//! when the MTA redelivers it.
use crate::AppState;
use crate::ctx::{AuthMethod, Identity};
use crate::error::{AppError, AppResult};
use crate::tickets::{CommentInput, RaiseInput, Upload};
use axum::http::StatusCode;
use domain::inbound::InboundAttachment;
use domain::ticket::Channel;
use serde::Serialize;
use store::audit::Actor;
use store::inbound::{KeptAttachment, NewInbound};

/// What became of a message.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Taken {
    /// The inbound message's id (Admin → Inbound mail).
    pub id: i64,
    /// ticket, comment, held, quarantined or ignored.
    pub status: String,
    pub reason: Option<String>,
    /// The ticket it opened or joined.
    pub ticket: Option<String>,
    /// True when this Message-ID had been taken before (nothing new was done).
    pub duplicate: bool,
}

/// Where a message came from, as recorded.
#[derive(Debug, Clone, Copy)]
pub enum Source {
    Api,
    Cli,
    Imap,
}

impl Source {
    fn as_str(self) -> &'static str {
        match self {
            Source::Api => "api",
            Source::Cli => "cli",
            Source::Imap => "imap",
        }
    }
}

/// The loop marker Triage writes in the `X-Loop` header of what it sends.
pub fn loop_marker(base_url: &str) -> String {
    crate::mail::bare_from_address(base_url)
}

/// Takes in one raw message.
pub async fn ingest(state: &AppState, raw: &[u8], source: Source) -> AppResult<Taken> {
    if raw.len() > state.settings.inbound_max_bytes {
        return Err(AppError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "message_too_large",
        ));
    }
    let base_url = &state.settings.public_base_url;
    let mail = domain::inbound::parse(raw, &loop_marker(base_url))
        .map_err(|e| AppError::invalid(e.code(), "message"))?;
    let thread = domain::inbound::ticket_number(&mail, &crate::mail::mail_host(base_url));
    let mut body = match thread {
        Some(_) => domain::inbound::reply_text(&mail.text),
        None => mail.text.clone(),
    };
    let (kept, refused, phi_attachment) = keep_attachments(state, &mail.attachments).await?;
    for (filename, code) in &refused {
        body.push_str(&format!(
            "\n\n[{}: {filename} ({code})]",
            crate::i18n::t(state.settings.default_locale, "inbound-attachment-refused")
        ));
    }
    let mut conn = state.db.reader().acquire().await?;
    let since = domain::time::to_db(domain::time::now() - jiff::SignedDuration::from_hours(1));
    let recent = store::inbound::recent_from(&mut conn, &mail.from.address, &since).await?;
    let sender = sender_identity(state, &mut conn, &mail.from.address).await?;
    drop(conn);

    let (status, reason) = if let Some(automated) = mail.automated {
        ("ignored", Some(automated.as_str().to_owned()))
    } else if recent >= state.settings.inbound_sender_limit_per_hour {
        ("ignored", Some("loop".to_owned()))
    } else if let Some(hit) = domain::ticket::find_phi([
        ("summary", mail.subject.as_str()),
        ("details", body.as_str()),
    ]) {
        ("quarantined", Some(phi_reason(&hit)))
    } else if phi_attachment {
        ("quarantined", Some("phi_attachment".to_owned()))
    } else if sender.is_none() {
        ("held", Some("unknown_sender".to_owned()))
    } else {
        ("received", None)
    };

    // Recorded first: a crash from here on leaves a 'received' row that a redelivery of
    // the same message picks up again.
    let mut tx = state.db.begin().await?;
    let new = NewInbound {
        source: source.as_str(),
        message_id: mail.message_id.as_deref(),
        from_address: &mail.from.address,
        from_name: mail.from.name.as_deref(),
        subject: &mail.subject,
        body: &body,
        thread_number: thread.as_deref(),
        attachments: &kept,
        status,
        reason: reason.as_deref(),
        ticket_id: None,
        person_id: sender.as_ref().map(|s| s.person.id),
    };
    let id = match store::inbound::insert(&mut tx, &new).await? {
        Some(id) => {
            tx.commit().await?;
            id
        }
        None => {
            let earlier = match &mail.message_id {
                Some(message_id) => store::inbound::by_message_id(&mut tx, message_id).await?,
                None => None,
            }
            .ok_or_else(AppError::internal)?;
            tx.rollback().await?;
            if earlier.status != "received" {
                return Ok(Taken {
                    id: earlier.id,
                    status: earlier.status,
                    reason: earlier.reason,
                    ticket: earlier.ticket_number,
                    duplicate: true,
                });
            }
            earlier.id
        }
    };
    metrics::counter!("triage_inbound_messages_total", "status" => status).increment(1);
    if status != "received" {
        tracing::info!(id, from = %mail.from.address, status, reason = ?reason, "inbound mail");
        return Ok(Taken {
            id,
            status: status.to_owned(),
            reason,
            ticket: None,
            duplicate: false,
        });
    }
    let sender = sender.expect("a received message has a known sender");
    let message = Message {
        subject: mail.subject.clone(),
        body,
        thread,
        attachments: kept,
    };
    let (status, number, ticket_id) = match deliver(state, &sender, &message).await {
        Ok(done) => done,
        // The sender may not raise tickets (no role, say) or the text is refused: an agent
        // decides, as for an unknown sender.
        Err(e) if e.status.is_client_error() => {
            let mut tx = state.db.begin().await?;
            store::inbound::hold(&mut tx, id, e.code).await?;
            tx.commit().await?;
            tracing::info!(id, from = %mail.from.address, reason = e.code, "inbound mail held");
            return Ok(Taken {
                id,
                status: "held".into(),
                reason: Some(e.code.to_owned()),
                ticket: None,
                duplicate: false,
            });
        }
        Err(e) => return Err(e),
    };
    let mut tx = state.db.begin().await?;
    store::inbound::record_outcome(&mut tx, id, status, ticket_id).await?;
    tx.commit().await?;
    Ok(Taken {
        id,
        status: status.to_owned(),
        reason: None,
        ticket: Some(number),
        duplicate: false,
    })
}

/// The part of a message that becomes a ticket or a reply.
struct Message {
    subject: String,
    body: String,
    thread: Option<String>,
    attachments: Vec<KeptAttachment>,
}

/// Adds the message to its ticket when it names one the sender may see and that is still
/// open to replies; otherwise opens an email-channel ticket. Returns what it did, the
/// ticket's number and id.
async fn deliver(
    state: &AppState,
    sender: &Identity,
    message: &Message,
) -> AppResult<(&'static str, String, i64)> {
    let actor = Actor {
        person_id: Some(sender.person.id),
        label: sender.person.email.clone(),
        ip: None,
    };
    let uploads = load_attachments(state, &message.attachments).await?;
    let mut follow_up = None;
    if let Some(number) = &message.thread {
        let body = if message.body.trim().is_empty() && uploads.is_empty() {
            crate::i18n::t(sender_locale(sender), "inbound-empty-reply")
        } else {
            message.body.clone()
        };
        let input = CommentInput {
            body,
            internal: false,
        };
        match crate::tickets::comment(state, sender, &actor, number, &input, &uploads).await {
            Ok(_) => {
                let mut conn = state.db.reader().acquire().await?;
                let t = store::tickets::get_by_number(
                    &mut conn,
                    &sender.principal.ticket_scope(),
                    number,
                )
                .await?;
                return Ok(("comment", t.number.clone(), t.id));
            }
            // A closed ticket, or one the sender may not see: the message opens a new one.
            Err(e) if e.code == "ticket_closed" => follow_up = Some(number.clone()),
            Err(e) if matches!(e.code, "not_found" | "forbidden") => {}
            Err(e) => return Err(e),
        }
    }
    let locale = sender_locale(sender);
    let summary = if message.subject.trim().is_empty() {
        crate::i18n::t(locale, "inbound-no-subject")
    } else {
        message.subject.clone()
    };
    let mut details = if message.body.trim().is_empty() {
        crate::i18n::t(locale, "inbound-empty-body")
    } else {
        message.body.clone()
    };
    if let Some(earlier) = &follow_up {
        details = format!(
            "{}\n\n{details}",
            crate::i18n::t_args(locale, "inbound-follow-up", &[("number", earlier.clone())])
        );
    }
    let input = RaiseInput {
        kind: Some("incident".into()),
        organization_id: Some(sender.person.organization_id),
        summary,
        details: details.chars().take(domain::ticket::DETAILS_MAX).collect(),
        ..Default::default()
    };
    let raised =
        crate::tickets::raise(state, sender, &actor, &input, Channel::Email, &uploads).await?;
    Ok(("ticket", raised.number, raised.id))
}

/// An agent decides on a held or quarantined message. For a held one, `person` names who
/// sent it (an address in the directory, by default the sender's); for a quarantined one,
/// `subject` and `body` are the redacted text, checked again. The message then becomes a
/// ticket or a reply as if it had just arrived; a quarantined message whose sender is
/// unknown becomes held, with its redacted text.
pub async fn release(
    state: &AppState,
    agent: &Identity,
    id: i64,
    input: &ReleaseInput,
) -> AppResult<Taken> {
    agent.require(domain::policy::Action::WorkTickets)?;
    let mut conn = state.db.reader().acquire().await?;
    let message = store::inbound::get(&mut conn, id).await?;
    if !matches!(message.status.as_str(), "held" | "quarantined") {
        return Err(AppError::new(StatusCode::CONFLICT, "not_waiting"));
    }
    let subject = match &input.subject {
        Some(s) => domain::text::clean("subject", s, domain::inbound::SUBJECT_MAX)?,
        None => message.subject.clone(),
    };
    let body = match &input.body {
        Some(b) => domain::text::clean("body", b, domain::ticket::DETAILS_MAX)?,
        None => message.body.clone(),
    };
    if let Some(hit) =
        domain::ticket::find_phi([("summary", subject.as_str()), ("details", body.as_str())])
    {
        return Err(crate::tickets::phi_error(&hit));
    }
    let address = input
        .person
        .as_deref()
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .unwrap_or(&message.from_address)
        .to_owned();
    let sender = sender_identity(state, &mut conn, &address).await?;
    drop(conn);
    let actor = agent.actor(None);
    let Some(sender) = sender else {
        if input.person.is_some() {
            return Err(AppError::invalid("unknown_person", "person"));
        }
        // Redacted, but still nobody to file it for: it waits as held.
        let mut tx = state.db.begin().await?;
        if !store::inbound::settle(
            &mut tx,
            id,
            "held",
            &subject,
            &body,
            None,
            None,
            agent.person.id,
        )
        .await?
        {
            return Err(AppError::new(StatusCode::CONFLICT, "not_waiting"));
        }
        audit(&mut tx, &actor, "inbound.redact", id, None).await?;
        tx.commit().await?;
        return Ok(Taken {
            id,
            status: "held".into(),
            reason: Some("unknown_sender".into()),
            ticket: None,
            duplicate: false,
        });
    };
    let thread = message.thread_number.clone();
    let (status, number, ticket_id) = deliver(
        state,
        &sender,
        &Message {
            subject: subject.clone(),
            body: body.clone(),
            thread,
            attachments: message.kept_attachments(),
        },
    )
    .await?;
    let mut tx = state.db.begin().await?;
    store::inbound::settle(
        &mut tx,
        id,
        status,
        &subject,
        &body,
        Some(ticket_id),
        Some(sender.person.id),
        agent.person.id,
    )
    .await?;
    audit(
        &mut tx,
        &actor,
        "inbound.release",
        id,
        Some(serde_json::json!({"ticket": number, "person": sender.person.email})),
    )
    .await?;
    tx.commit().await?;
    Ok(Taken {
        id,
        status: status.into(),
        reason: None,
        ticket: Some(number),
        duplicate: false,
    })
}

/// An agent throws a waiting message away; its text is not kept.
pub async fn discard(state: &AppState, agent: &Identity, id: i64) -> AppResult<()> {
    agent.require(domain::policy::Action::WorkTickets)?;
    let mut tx = state.db.begin().await?;
    if !store::inbound::settle(
        &mut tx,
        id,
        "discarded",
        "",
        "",
        None,
        None,
        agent.person.id,
    )
    .await?
    {
        store::inbound::get(&mut tx, id).await?;
        return Err(AppError::new(StatusCode::CONFLICT, "not_waiting"));
    }
    audit(&mut tx, &agent.actor(None), "inbound.discard", id, None).await?;
    tx.commit().await?;
    Ok(())
}

/// One message for an agent. Reading a quarantined one (which may hold patient
/// information) is audited.
pub async fn read(
    state: &AppState,
    agent: &Identity,
    id: i64,
) -> AppResult<store::inbound::InboundMessage> {
    agent.require(domain::policy::Action::WorkTickets)?;
    let mut conn = state.db.reader().acquire().await?;
    let message = store::inbound::get(&mut conn, id).await?;
    drop(conn);
    if message.status == "quarantined" {
        let mut tx = state.db.begin().await?;
        audit(&mut tx, &agent.actor(None), "inbound.read", id, None).await?;
        tx.commit().await?;
    }
    Ok(message)
}

pub async fn list(
    state: &AppState,
    agent: &Identity,
    status: Option<&str>,
) -> AppResult<Vec<store::inbound::InboundMessage>> {
    agent.require(domain::policy::Action::WorkTickets)?;
    const STATUSES: [&str; 8] = [
        "waiting",
        "held",
        "quarantined",
        "ticket",
        "comment",
        "ignored",
        "discarded",
        "received",
    ];
    let status = status.filter(|s| !s.is_empty());
    if let Some(s) = status
        && !STATUSES.contains(&s)
    {
        return Err(AppError::invalid("invalid_choice", "status"));
    }
    let mut conn = state.db.reader().acquire().await?;
    Ok(store::inbound::list(&mut conn, status, 200).await?)
}

#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::ToSchema)]
pub struct ReleaseInput {
    /// Held messages: the address of the person it is filed for (default: its sender).
    pub person: Option<String>,
    /// Quarantined messages: the subject without the patient information.
    pub subject: Option<String>,
    /// Quarantined messages: the text without the patient information.
    pub body: Option<String>,
}

async fn audit(
    conn: &mut store::Conn,
    actor: &Actor,
    action: &str,
    id: i64,
    detail: Option<serde_json::Value>,
) -> AppResult<()> {
    store::audit::append(
        conn,
        actor,
        store::audit::Event {
            action,
            entity_type: "inbound_message",
            entity_id: Some(id.to_string()),
            organization_id: None,
            detail: detail.unwrap_or_else(|| serde_json::json!({})),
        },
    )
    .await?;
    Ok(())
}

/// The person with this address, as the portal would know them; `None` when nobody active
/// has it.
async fn sender_identity(
    state: &AppState,
    conn: &mut store::Conn,
    address: &str,
) -> AppResult<Option<Identity>> {
    let operator = state.operator_org_id(conn).await?;
    let caller = store::people::caller(
        conn,
        store::people::Credential::MailSender(address),
        operator,
    )
    .await?;
    Ok(caller.and_then(|caller| {
        Some(Identity {
            principal: caller.principal?,
            person: caller.person,
            method: AuthMethod::Mail,
        })
    }))
}

fn sender_locale(sender: &Identity) -> domain::text::Locale {
    domain::text::Locale::parse(&sender.person.locale).unwrap_or_default()
}

fn phi_reason(hit: &domain::ticket::PhiHit) -> String {
    format!("phi_{}", hit.found.kind.as_str())
}

/// Keeps each acceptable attachment in the file store. Refused ones (type, size, virus)
/// are named in the text instead; a text attachment with patient information sends the
/// whole message to quarantine.
async fn keep_attachments(
    state: &AppState,
    attachments: &[InboundAttachment],
) -> AppResult<(Vec<KeptAttachment>, Vec<(String, &'static str)>, bool)> {
    let mut kept = Vec::new();
    let mut refused = Vec::new();
    let mut phi = false;
    for attachment in attachments {
        let upload = [Upload {
            filename: attachment.filename.clone(),
            bytes: attachment.bytes.clone(),
        }];
        match crate::tickets::check_uploads(state, &upload).await {
            Ok(mut accepted) => {
                let (accepted, bytes) = accepted.remove(0);
                let sha256 = state.files.put(&bytes).await.map_err(|e| {
                    tracing::error!(error = %e, "storing an inbound attachment");
                    AppError::internal()
                })?;
                kept.push(KeptAttachment {
                    filename: accepted.filename,
                    content_type: accepted.content_type.to_owned(),
                    sha256,
                    size: bytes.len() as i64,
                });
            }
            Err(e) if e.code == "phi_detected" => phi = true,
            Err(e) if e.status == StatusCode::SERVICE_UNAVAILABLE => return Err(e),
            Err(e) => refused.push((attachment.filename.clone(), e.code)),
        }
    }
    Ok((kept, refused, phi))
}

async fn load_attachments(state: &AppState, kept: &[KeptAttachment]) -> AppResult<Vec<Upload>> {
    let mut uploads = Vec::with_capacity(kept.len());
    for attachment in kept {
        let bytes = state.files.read(&attachment.sha256).await.map_err(|e| {
            tracing::error!(error = %e, sha256 = %attachment.sha256, "an inbound attachment is missing");
            AppError::internal()
        })?;
        uploads.push(Upload {
            filename: attachment.filename.clone(),
            bytes,
        });
    }
    Ok(uploads)
}
