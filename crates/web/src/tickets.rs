//! Ticket operations shared by the portal, the agent console and the API: check the policy
//! and the workflow, scan for PHI, then write the change, its timeline entry, its audit row,
//! its search text and its mail in one transaction.
use crate::AppState;
use crate::ctx::Identity;
use crate::error::{AppError, AppResult};
use axum::http::StatusCode;
use domain::policy::{Action, TicketScope};
use domain::ticket::{
    self, Channel, Draft, DraftInput, LinkKind, MAX_TIER, PhiHit, Status, TicketKind,
};
use serde::{Deserialize, Serialize};
use serde_json::json;
use store::audit::{Actor, Event, append};
use store::tickets::{ColumnValue, NewTicket, Ticket};
use store::{Backend, Conn};

/// A file someone is attaching.
#[derive(Debug, Clone)]
pub struct Upload {
    pub filename: String,
    pub bytes: Vec<u8>,
}

/// Turns a PHI hit into the error the person sees: which field, what kind, where.
pub fn phi_error(hit: &PhiHit) -> AppError {
    let kind = hit.found.kind.as_str().to_owned();
    AppError {
        status: StatusCode::UNPROCESSABLE_ENTITY,
        code: "phi_detected",
        field: Some(hit.field),
        args: vec![
            ("excerpt", hit.found.excerpt.clone()),
            ("what", kind.clone()),
        ],
        detail: Some(json!({
            "field": hit.field,
            "kind": kind,
            "start": hit.found.start,
            "end": hit.found.end,
            "excerpt": hit.found.excerpt,
        })),
    }
}

pub(crate) fn check_phi<'a>(
    texts: impl IntoIterator<Item = (&'static str, &'a str)>,
) -> AppResult<()> {
    match ticket::find_phi(texts) {
        Some(hit) => Err(phi_error(&hit)),
        None => Ok(()),
    }
}

/// Checks uploads before anything is written: type, size, PHI in text files, and the
/// configured virus scanner.
pub async fn check_uploads(
    state: &AppState,
    uploads: &[Upload],
) -> AppResult<Vec<(domain::attachment::Accepted, Vec<u8>)>> {
    let mut out = Vec::new();
    for upload in uploads {
        let accepted = domain::attachment::check(
            &upload.filename,
            &upload.bytes,
            state.settings.attachment_max_bytes,
        )?;
        if accepted.is_text {
            let text = String::from_utf8_lossy(&upload.bytes);
            check_phi([("attachment", text.as_ref())])?;
        }
        scan_for_viruses(state, &upload.bytes).await?;
        out.push((accepted, upload.bytes.clone()));
    }
    Ok(out)
}

/// The virus-scan hook: runs the configured command with the file on standard input.
async fn scan_for_viruses(state: &AppState, bytes: &[u8]) -> AppResult<()> {
    let Some(command) = &state.settings.attachment_scan_command else {
        return Ok(());
    };
    use tokio::io::AsyncWriteExt;
    let mut child = tokio::process::Command::new("sh")
        .arg("-c")
        .arg(command)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .map_err(|e| {
            tracing::error!(error = %e, "attachment scanner did not start");
            AppError::new(StatusCode::SERVICE_UNAVAILABLE, "scanner_unavailable")
        })?;
    if let Some(mut stdin) = child.stdin.take() {
        let _ = stdin.write_all(bytes).await;
    }
    let status = child
        .wait()
        .await
        .map_err(|_| AppError::new(StatusCode::SERVICE_UNAVAILABLE, "scanner_unavailable"))?;
    if status.success() {
        Ok(())
    } else {
        Err(AppError::invalid("attachment_infected", "attachment"))
    }
}

/// Stores checked files and records them on the ticket inside the transaction.
async fn store_uploads(
    files_store: &store::files::FileStore,
    tx: &mut Conn,
    ticket_id: i64,
    event_id: Option<i64>,
    internal: bool,
    person: i64,
    files: &[(domain::attachment::Accepted, Vec<u8>)],
) -> AppResult<Vec<i64>> {
    let mut ids = Vec::new();
    for (accepted, bytes) in files {
        let sha = files_store.put(bytes).await.map_err(|e| {
            tracing::error!(error = %e, "storing attachment");
            AppError::internal()
        })?;
        ids.push(
            store::tickets::add_attachment(
                tx,
                ticket_id,
                event_id,
                &accepted.filename,
                accepted.content_type,
                bytes.len() as i64,
                &sha,
                internal,
                Some(person),
            )
            .await?,
        );
    }
    Ok(ids)
}

/// What someone submits to raise a ticket (portal form, phone intake, API).
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RaiseInput {
    /// Ticket kind. Optional when a sub-category is given (it decides the kind).
    pub kind: Option<String>,
    /// Catalogue sub-category; its form decides which fields are required.
    pub subcategory_id: Option<i64>,
    /// Required for agents; partners raise for their own organization.
    pub organization_id: Option<i64>,
    /// The organization's code, instead of `organization_id`.
    pub organization: Option<String>,
    pub service_id: Option<i64>,
    /// Person the ticket is raised for: id or email of someone in the organization.
    pub on_behalf_of: Option<String>,
    #[serde(default)]
    pub summary: String,
    #[serde(default)]
    pub details: String,
    pub impact: Option<i64>,
    pub urgency: Option<i64>,
    pub configuration_item: Option<String>,
    /// RFC 3339, or `YYYY-MM-DDTHH:MM` in the operator's time zone.
    pub first_occurrence: Option<String>,
    pub service_impact: Option<String>,
    pub user_impact: Option<String>,
    pub troubleshooting: Option<String>,
    pub workaround: Option<String>,
    #[serde(default)]
    pub no_workaround: bool,
    #[serde(default)]
    pub partner_references: Vec<String>,
    /// Values of the form's custom fields (`x_…`).
    #[serde(default)]
    pub custom: std::collections::BTreeMap<String, String>,
    /// Agents only: phone, email, monitoring, partner. Defaults to portal or api.
    pub channel: Option<String>,
    /// Agents only: route to this group instead of the sub-category's default.
    pub support_group_id: Option<i64>,
}

fn zone(state: &AppState) -> jiff::tz::TimeZone {
    jiff::tz::TimeZone::get(&state.settings.time_zone).unwrap_or(jiff::tz::TimeZone::UTC)
}

/// A ticket just raised, as written.
pub struct Raised {
    pub id: i64,
    pub number: String,
    pub ticket: Ticket,
    /// In the order the ticket page lists them.
    pub partner_references: Vec<String>,
    /// Its first timeline entry.
    pub created: store::tickets::Event,
}

impl Raised {
    /// What `GET /api/v1/tickets/{number}` shows of it: nobody is named on a new ticket,
    /// nothing is linked, and its timeline is its creation.
    pub fn view(self) -> TicketView {
        assemble(
            self.ticket,
            self.partner_references,
            Vec::new(),
            Vec::new(),
            Vec::new(),
            vec![self.created],
            false,
            None,
        )
    }
}

/// Raises a ticket.
pub async fn raise(
    state: &AppState,
    who: &Identity,
    actor: &Actor,
    input: &RaiseInput,
    default_channel: Channel,
    uploads: &[Upload],
) -> AppResult<Raised> {
    let principal = &who.principal;
    let is_agent = principal.allows(Action::WorkTickets);
    let mut conn = state.db.reader().acquire().await?;
    let directory = state.directory.get(&mut conn).await?;
    let sub = match input.subcategory_id {
        Some(id) => {
            let sub = store::catalogue::subcategory(&mut conn, id)
                .await
                .map_err(|_| AppError::invalid("unknown_subcategory", "subcategory_id"))?;
            if !sub.is_active() {
                return Err(AppError::invalid("unknown_subcategory", "subcategory_id"));
            }
            Some(sub)
        }
        None => None,
    };
    let kind = match (&input.kind, &sub) {
        (Some(k), sub) => {
            let kind = TicketKind::parse(k).ok_or(AppError::invalid("unknown_kind", "kind"))?;
            if let Some(sub) = sub
                && sub.kind() != kind
            {
                return Err(AppError::invalid("kind_mismatch", "kind"));
            }
            kind
        }
        (None, Some(sub)) => sub.kind(),
        (None, None) => return Err(AppError::invalid("required", "kind")),
    };
    if !is_agent && !kind.customer_may_raise() {
        return Err(AppError::invalid("unknown_kind", "kind"));
    }
    let by_code = match input.organization.as_deref().map(str::trim) {
        Some(code) if !code.is_empty() => Some(
            directory
                .organization_by_code(code)
                .ok_or(AppError::invalid("unknown_organization", "organization"))?
                .id,
        ),
        _ => None,
    };
    let organization_id = match input.organization_id.or(by_code) {
        Some(org) => org,
        None if is_agent => return Err(AppError::invalid("required", "organization_id")),
        None => principal.organization_id,
    };
    if !principal.allows(Action::RaiseTicket(organization_id)) {
        return Err(AppError::forbidden());
    }
    let org = directory
        .organization(organization_id)
        .ok_or(AppError::invalid("unknown_organization", "organization_id"))?;
    if org.active == 0 {
        return Err(AppError::invalid("unknown_organization", "organization_id"));
    }
    let on_behalf_of = match input.on_behalf_of.as_deref().map(str::trim) {
        Some(p) if !p.is_empty() => Some(
            store::tickets::colleague(&mut conn, organization_id, p)
                .await
                .map_err(|_| AppError::invalid("person_not_in_organization", "on_behalf_of"))?,
        ),
        _ => None,
    };
    let form = sub.as_ref().map(|s| s.fields()).unwrap_or_default();
    let defaults = sub.as_ref().map_or((3, 3), |s| (s.impact, s.urgency));
    let draft_input = DraftInput {
        summary: input.summary.clone(),
        details: input.details.clone(),
        impact: input.impact,
        urgency: input.urgency,
        configuration_item: input.configuration_item.clone(),
        first_occurrence: input.first_occurrence.clone(),
        service_impact: input.service_impact.clone(),
        user_impact: input.user_impact.clone(),
        troubleshooting: input.troubleshooting.clone(),
        workaround: input.workaround.clone(),
        no_workaround: input.no_workaround,
        partner_references: input.partner_references.clone(),
        custom: input
            .custom
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
        has_on_behalf_of: on_behalf_of.is_some(),
    };
    let draft = ticket::check_draft(
        &draft_input,
        &form,
        defaults,
        &zone(state),
        domain::time::now(),
    )?;
    check_phi(draft.texts())?;
    let files = check_uploads(state, uploads).await?;
    let channel = match &input.channel {
        Some(c) if is_agent => {
            Channel::parse(c).ok_or(AppError::invalid("invalid_choice", "channel"))?
        }
        Some(_) => return Err(AppError::invalid("invalid_choice", "channel")),
        None => default_channel,
    };
    let service_id = match (&sub, input.service_id) {
        (Some(sub), _) => Some(
            store::catalogue::request_type(&mut conn, sub.request_type_id)
                .await?
                .service_id,
        ),
        (None, Some(id)) => {
            directory
                .service(id)
                .ok_or(AppError::invalid("unknown_service", "service_id"))?;
            Some(id)
        }
        (None, None) => None,
    };
    let support_group_id = match input.support_group_id {
        Some(g) if is_agent => {
            directory
                .group(g)
                .ok_or(AppError::invalid("unknown_group", "support_group_id"))?;
            Some(g)
        }
        Some(_) => return Err(AppError::forbidden()),
        None => match &sub {
            Some(sub) => Some(sub.support_group_id),
            None => default_group(&directory, kind),
        },
    };
    let policy_pack_id = state.packs.selected_id(&mut conn).await?;
    let priority = match policy_pack_id {
        Some(id) => {
            let pack = state.packs.get(&mut conn, id).await?;
            crate::sla::priority_from_pack(&pack, kind, draft.impact, draft.urgency)
        }
        None => None,
    }
    .unwrap_or_else(|| ticket::default_priority(draft.impact, draft.urgency));
    drop(conn);
    let new = NewTicket {
        kind,
        organization_id,
        service_id,
        subcategory_id: sub.as_ref().map(|s| s.id),
        reporter_id: who.person.id,
        on_behalf_of_id: on_behalf_of.as_ref().map(|p| p.0),
        draft,
        priority,
        support_group_id,
        channel,
        policy_pack_id,
        sla: Default::default(),
        created_at: domain::time::now(),
    };
    let names = store::tickets::Names {
        organization_code: org.code.clone(),
        organization_name_en: org.name_en.clone(),
        organization_name_fr: org.name_fr.clone(),
        service_code: service_id.and_then(|id| directory.service(id).map(|s| s.code.clone())),
        reporter_name: who.person.display_name.clone(),
        on_behalf_of_name: on_behalf_of.map(|p| p.1),
        support_group_code: support_group_id
            .and_then(|id| directory.group(id).map(|g| g.code.clone())),
    };
    let written = state
        .creates
        .submit(
            state,
            CreateJob {
                new,
                actor: actor.clone(),
                files,
                reporter: who.person.clone(),
            },
        )
        .await?;
    metrics::counter!("triage_tickets_created_total", "kind" => kind.as_str()).increment(1);
    let mut partner_references = written.new.draft.partner_references.clone();
    partner_references.sort();
    partner_references.dedup();
    Ok(Raised {
        id: written.inserted.id,
        created: store::tickets::created_event(written.inserted, actor, &written.new),
        ticket: Ticket::written(
            written.inserted,
            &written.number,
            &written.new,
            names,
            domain::time::now(),
        ),
        number: written.number,
        partner_references,
    })
}

/// A ticket the writer committed: its ids and number, and the row as written (creation
/// instant and clocks are set by the writer).
pub struct Written {
    pub inserted: store::tickets::Inserted,
    pub number: String,
    pub new: NewTicket,
}

/// A checked ticket waiting to be written.
pub struct CreateJob {
    pub new: NewTicket,
    pub actor: Actor,
    pub files: Vec<(domain::attachment::Accepted, Vec<u8>)>,
    /// Receives the acknowledgement mail.
    pub reporter: store::people::Person,
}

/// What writing a ticket needs besides the job: taken from the application state when the
/// writer starts, so that the writer does not keep the state alive.
struct Writer {
    db: store::Db,
    base_url: String,
    mailer: crate::mail::Mailer,
    files: store::files::FileStore,
    packs: std::sync::Arc<crate::sla::Packs>,
    webhooks: crate::webhooks::Cache,
}

type CreateReply = tokio::sync::oneshot::Sender<AppResult<Written>>;

/// Group commit for new tickets. Tickets raised while a transaction is being written wait
/// and are then written together in the next one (up to [`CreateQueue::BATCH`]): one commit,
/// and one pass over the pages every insert touches, for the lot. If any of them fails, the
/// batch is rolled back and each is written again in its own transaction, so one ticket's
/// error is reported to that ticket's caller only and nothing is stored half-way.
#[derive(Default)]
pub struct CreateQueue {
    sender: std::sync::OnceLock<tokio::sync::mpsc::Sender<(CreateJob, CreateReply)>>,
}

impl CreateQueue {
    pub const BATCH: usize = 32;

    /// Writes the ticket (with its timeline, search document, audit row and acknowledgement
    /// mail) and answers once it is committed.
    pub async fn submit(&self, state: &AppState, job: CreateJob) -> AppResult<Written> {
        let sender = self.sender.get_or_init(|| {
            let (sender, receiver) = tokio::sync::mpsc::channel(1024);
            let writer = Writer {
                db: state.db.clone(),
                base_url: state.settings.public_base_url.clone(),
                mailer: state.mailer.clone(),
                files: state.files.clone(),
                packs: state.packs.clone(),
                webhooks: state.webhooks.clone(),
            };
            tokio::spawn(write_queued(writer, receiver));
            sender
        });
        let (reply, answer) = tokio::sync::oneshot::channel();
        sender.send((job, reply)).await.map_err(|_| {
            tracing::error!("the ticket writer has stopped");
            AppError::internal()
        })?;
        answer.await.map_err(|_| {
            tracing::error!("the ticket writer dropped a ticket");
            AppError::internal()
        })?
    }
}

async fn write_queued(
    writer: Writer,
    mut receiver: tokio::sync::mpsc::Receiver<(CreateJob, CreateReply)>,
) {
    let mut queued = Vec::with_capacity(CreateQueue::BATCH);
    while receiver.recv_many(&mut queued, CreateQueue::BATCH).await > 0 {
        let (jobs, replies): (Vec<CreateJob>, Vec<CreateReply>) = queued.drain(..).unzip();
        metrics::histogram!("triage_ticket_create_batch_size").record(jobs.len() as f64);
        match write_batch(&writer, &jobs).await {
            Ok(created) => {
                for (reply, created) in replies.into_iter().zip(created) {
                    let _ = reply.send(Ok(created));
                }
            }
            Err(error) if jobs.len() == 1 => {
                if let Some(reply) = replies.into_iter().next() {
                    let _ = reply.send(Err(error));
                }
            }
            Err(_) => {
                for (job, reply) in jobs.iter().zip(replies) {
                    let alone = write_batch(&writer, std::slice::from_ref(job))
                        .await
                        .map(|mut created| created.remove(0));
                    let _ = reply.send(alone);
                }
            }
        }
    }
}

/// Writes the jobs in one transaction; all or none.
async fn write_batch(writer: &Writer, jobs: &[CreateJob]) -> AppResult<Vec<Written>> {
    let mut tx = writer.db.begin().await?;
    // Every number and audit sequence of the batch in one round trip.
    let kinds: Vec<TicketKind> = jobs.iter().map(|job| job.new.kind).collect();
    let reservation = store::tickets::reserve(&mut tx, writer.db.backend(), &kinds).await?;
    let mut chain = reservation.chain;
    let mut created = Vec::with_capacity(jobs.len());
    for (job, reserved) in jobs.iter().zip(reservation.tickets) {
        created.push(write_ticket(writer, &mut tx, job, reserved, &mut chain).await?);
    }
    tx.commit().await?;
    Ok(created)
}

async fn write_ticket(
    writer: &Writer,
    tx: &mut Conn,
    job: &CreateJob,
    reserved: store::tickets::Reserved,
    chain: &mut String,
) -> AppResult<Written> {
    let CreateJob {
        new,
        actor,
        files,
        reporter,
    } = job;
    // The clocks of a new ticket follow from its first status; they are stored with it.
    let mut evaluation = None;
    let mut new = std::borrow::Cow::Borrowed(new);
    if let Some(pack_id) = new.policy_pack_id {
        let pack = writer.packs.get(tx, pack_id).await?;
        // Written in the batch's transaction: the creation instant is now, and the clocks
        // start from the instant stored with the ticket.
        new.to_mut().created_at = domain::time::now();
        let now = new.created_at;
        let history = [domain::sla::StatusChange::new(now, Status::New)];
        let found = crate::sla::evaluate_facts(
            pack_id,
            &pack,
            &crate::sla::ClockFacts {
                id: 0,
                kind: new.kind,
                priority: new.priority,
                channel: new.channel.as_str(),
                history: &history,
                first_response: None,
            },
            now,
        )?;
        new.to_mut().sla = found.columns.clone();
        evaluation = Some(found);
    }
    let new = new.as_ref();
    let steps: Vec<(String, jiff::Timestamp)> = evaluation
        .map(|evaluation| {
            evaluation
                .view
                .upcoming
                .iter()
                .map(|n| (crate::sla::step_name(n), n.at))
                .collect()
        })
        .unwrap_or_default();
    let audit_detail = json!({"kind": new.kind.as_str(), "channel": new.channel.as_str(), "priority": new.priority});
    // One round trip for the ticket and what goes with it (see insert_with_companions).
    let backend = writer.db.backend();
    let composer = writer.mailer.composer(tx, &writer.base_url).await?;
    let mut mails = creation_mails(&composer, tx, &reserved.number, new, reporter).await?;
    let endpoints = writer.webhooks.get(tx).await?;
    if !endpoints.is_empty() {
        mails.extend(crate::webhooks::deliveries(
            &endpoints,
            &writer.base_url,
            "ticket.created",
            &crate::webhooks::TicketFacts {
                // The ticket's id is not known yet; the insert takes it from the new row.
                id: 0,
                number: &reserved.number,
                kind: new.kind.as_str(),
                status: Status::New.as_str(),
                priority: new.priority,
                organization_id: new.organization_id,
                summary: &new.draft.summary,
                restricted: new.kind.restriction() != domain::ticket::Restriction::None,
            },
            "created",
            json!({"channel": new.channel.as_str()}),
        ));
    }
    let inserted = store::tickets::insert_with_companions(
        tx,
        backend,
        actor,
        new,
        &reserved,
        chain,
        &store::tickets::Companions {
            audit_action: "ticket.create",
            audit_detail,
            mails: &mails,
            job_kind: crate::sla::SLA_JOB,
            jobs: &steps,
        },
    )
    .await?;
    let id = inserted.id;
    if !files.is_empty() {
        let event = store::tickets::add_event(
            tx,
            id,
            actor,
            "attachment",
            false,
            None,
            json!({"files": files.iter().map(|(a, _)| a.filename.clone()).collect::<Vec<_>>()}),
        )
        .await?;
        store_uploads(
            &writer.files,
            tx,
            id,
            Some(event),
            false,
            reporter.id,
            files,
        )
        .await?;
    }
    Ok(Written {
        inserted,
        number: reserved.number,
        new: new.clone(),
    })
}

/// The acknowledgement mails of a new ticket, to the reporter and the person it was raised
/// for (nobody can have turned a new ticket's notifications off).
async fn creation_mails(
    composer: &crate::mail::Composer,
    tx: &mut Conn,
    number: &str,
    ticket: &NewTicket,
    reporter: &store::people::Person,
) -> AppResult<Vec<store::outbox::NewMail>> {
    let mut people = vec![ticket.reporter_id];
    people.extend(ticket.on_behalf_of_id);
    Ok(notification_mails(
        composer,
        tx,
        0,
        number,
        &ticket.draft.summary,
        &people,
        "ticket-created",
        &[(
            "their_number",
            ticket
                .draft
                .partner_references
                .first()
                .cloned()
                .unwrap_or_default(),
        )],
        Some(reporter),
    )
    .await?
    .into_iter()
    .map(|mail| mail.for_event(number))
    .collect())
}

#[allow(clippy::too_many_arguments)]
async fn notify(
    composer: &crate::mail::Composer,
    tx: &mut Conn,
    ticket_id: i64,
    event_id: i64,
    number: &str,
    summary: &str,
    people: &[i64],
    key: &str,
    extra: &[(&'static str, String)],
    known: Option<&store::people::Person>,
) -> AppResult<()> {
    // Both sides' numbers are quoted: ours, and the partner's own when it gave one.
    let their_number = store::tickets::partner_references(tx, ticket_id)
        .await?
        .into_iter()
        .next()
        .unwrap_or_default();
    let mut args = vec![("their_number", their_number)];
    args.extend(extra.iter().cloned());
    let mails = notification_mails(
        composer, tx, ticket_id, number, summary, people, key, &args, known,
    )
    .await?;
    for mail in mails {
        let mail = mail.for_event(&format!("{number}:e{event_id}"));
        store::outbox::enqueue(tx, Some(ticket_id).filter(|&id| id > 0), &mail).await?;
    }
    Ok(())
}

/// Who hears about a ticket's progress: the reporter, the person it was raised for, its
/// watchers and the colleagues it was shared with (each may turn it off for themselves).
async fn notified_people(tx: &mut Conn, t: &Ticket) -> AppResult<Vec<i64>> {
    let mut people = vec![t.reporter_id];
    people.extend(t.on_behalf_of_id);
    people.extend(
        store::tickets::people(tx, t.id)
            .await?
            .into_iter()
            .map(|p| p.person_id),
    );
    Ok(people)
}

/// The mails `notify` would store: one per person, in their language, skipping people who
/// turned the ticket's notifications off and deactivated people.
#[allow(clippy::too_many_arguments)]
async fn notification_mails(
    composer: &crate::mail::Composer,
    tx: &mut Conn,
    ticket_id: i64,
    number: &str,
    summary: &str,
    people: &[i64],
    key: &str,
    extra: &[(&'static str, String)],
    known: Option<&store::people::Person>,
) -> AppResult<Vec<store::outbox::NewMail>> {
    let mut seen = Vec::new();
    let mut mails = Vec::new();
    for &person in people {
        if seen.contains(&person) {
            continue;
        }
        // A ticket being created has nobody who turned its notifications off yet.
        if known.is_none() && store::tickets::is_muted(tx, ticket_id, person).await? {
            continue;
        }
        seen.push(person);
        let p = match known.filter(|k| k.id == person) {
            Some(k) => k.clone(),
            None => match store::people::get(tx, &domain::policy::OrgScope::All, person).await {
                Ok(p) => p,
                Err(_) => continue,
            },
        };
        if !p.is_active() {
            continue;
        }
        let mut args = vec![
            ("number", number.to_owned()),
            ("summary", summary.to_owned()),
            ("link", format!("{}/tickets/{number}", composer.base_url())),
        ];
        args.extend(extra.iter().cloned());
        mails.push(composer.compose(&crate::mail::Draft {
            to: &p.email,
            audience: crate::mail::Audience::of(Some(&p.locale)),
            key,
            args: &args,
            fr_args: None,
            unsubscribe: Some(crate::mail::Unsubscribe::Ticket {
                number: number.to_owned(),
                person_id: p.id,
            }),
        })?);
    }
    Ok(mails)
}

/// Where a ticket without a catalogue entry goes: restricted kinds to their team, others
/// to the service desk (the first tier-1 group).
fn default_group(directory: &crate::directory::Snapshot, kind: TicketKind) -> Option<i64> {
    let code = match kind {
        TicketKind::PrivacyRequest | TicketKind::PrivacyIncident => "PRIV",
        TicketKind::SecurityIncident => "SEC",
        _ => "SD",
    };
    directory.group_or_first_line(code).map(|g| g.id)
}

/// Loads a ticket the person may see. Reads of privacy and security tickets are audited.
pub async fn load(
    state: &AppState,
    who: &Identity,
    actor: &Actor,
    number: &str,
) -> AppResult<Ticket> {
    let scope = who.principal.ticket_scope();
    let mut conn = state.db.reader().acquire().await?;
    let t = store::tickets::get_by_number(&mut conn, &scope, number).await?;
    drop(conn);
    if t.is_restricted() {
        let mut tx = state.db.begin().await?;
        append(
            &mut tx,
            actor,
            Event {
                action: "ticket.read",
                entity_type: "ticket",
                entity_id: Some(t.number.clone()),
                organization_id: Some(t.organization_id),
                detail: json!({"kind": t.kind}),
            },
        )
        .await?;
        tx.commit().await?;
    }
    Ok(t)
}

/// Everything the ticket page and `GET /api/v1/tickets/{number}` show.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TicketView {
    #[serde(flatten)]
    pub ticket: Ticket,
    pub partner_references: Vec<String>,
    pub custom_fields: Vec<CustomValue>,
    pub people: Vec<store::tickets::NamedPerson>,
    pub links: Vec<store::tickets::Link>,
    pub attachments: Vec<store::tickets::Attachment>,
    pub timeline: Vec<store::tickets::Event>,
    /// Whether the caller turned notifications off for this ticket.
    pub muted: bool,
    pub merged_into: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CustomValue {
    pub name: String,
    pub value: String,
}

pub async fn view(
    state: &AppState,
    who: &Identity,
    actor: &Actor,
    number: &str,
) -> AppResult<TicketView> {
    let t = load(state, who, actor, number).await?;
    let scope = who.principal.ticket_scope();
    let agent = who.principal.allows(Action::WorkTickets);
    let mut conn = state.db.reader().acquire().await?;
    let partner_references = store::tickets::partner_references(&mut conn, t.id).await?;
    let people = store::tickets::people(&mut conn, t.id).await?;
    let links = store::tickets::links(&mut conn, &scope, t.id).await?;
    let attachments = store::tickets::attachments(&mut conn, t.id, agent).await?;
    let timeline = store::tickets::events(&mut conn, t.id, agent).await?;
    let muted = people
        .iter()
        .any(|p| p.person_id == who.person.id && p.muted != 0);
    let merged_into = match t.merged_into_id {
        Some(id) => store::tickets::get(&mut conn, &scope, id)
            .await
            .ok()
            .map(|m| m.number),
        None => None,
    };
    Ok(assemble(
        t,
        partner_references,
        people,
        links,
        attachments,
        timeline,
        muted,
        merged_into,
    ))
}

#[allow(clippy::too_many_arguments)]
fn assemble(
    ticket: Ticket,
    partner_references: Vec<String>,
    people: Vec<store::tickets::NamedPerson>,
    links: Vec<store::tickets::Link>,
    attachments: Vec<store::tickets::Attachment>,
    timeline: Vec<store::tickets::Event>,
    muted: bool,
    merged_into: Option<String>,
) -> TicketView {
    TicketView {
        partner_references,
        custom_fields: ticket
            .custom()
            .into_iter()
            .map(|(name, value)| CustomValue { name, value })
            .collect(),
        people,
        links,
        attachments,
        timeline,
        muted,
        merged_into,
        ticket,
    }
}

/// A change to a ticket: fields, status, priority, assignment, escalation. Absent keys are
/// left alone.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TicketPatch {
    pub status: Option<String>,
    /// Why: required when resolving, reopening or cancelling.
    pub status_reason: Option<String>,
    pub impact: Option<i64>,
    pub urgency: Option<i64>,
    /// An explicit priority overriding the matrix.
    pub priority: Option<i64>,
    /// Required whenever impact, urgency or priority change.
    pub priority_reason: Option<String>,
    /// 0 clears the group.
    pub support_group_id: Option<i64>,
    /// 0 unassigns.
    pub assignee_id: Option<i64>,
    /// Escalate to tier 2 or 3 (vendor); the group defaults to the first of that tier.
    pub escalate_to_tier: Option<i64>,
    pub summary: Option<String>,
    pub details: Option<String>,
    pub configuration_item: Option<String>,
    pub first_occurrence: Option<String>,
    pub service_impact: Option<String>,
    pub user_impact: Option<String>,
    pub troubleshooting: Option<String>,
    pub workaround: Option<String>,
    pub no_workaround: Option<bool>,
    #[serde(default)]
    pub add_partner_references: Vec<String>,
    #[serde(default)]
    pub remove_partner_references: Vec<String>,
    /// The version the editor saw; a newer stored version refuses the change.
    pub version: Option<i64>,
    /// Resolving a declared major incident: the root cause found. Without one, a problem
    /// is opened for it.
    #[serde(default)]
    pub root_cause: Option<String>,
}

impl TicketPatch {
    fn touches_fields(&self) -> bool {
        self.summary.is_some()
            || self.details.is_some()
            || self.configuration_item.is_some()
            || self.first_occurrence.is_some()
            || self.service_impact.is_some()
            || self.user_impact.is_some()
            || self.troubleshooting.is_some()
            || self.workaround.is_some()
            || self.no_workaround.is_some()
    }
    fn touches_work(&self) -> bool {
        self.impact.is_some()
            || self.urgency.is_some()
            || self.priority.is_some()
            || self.support_group_id.is_some()
            || self.assignee_id.is_some()
            || self.escalate_to_tier.is_some()
    }
    fn is_empty(&self) -> bool {
        !self.touches_fields()
            && !self.touches_work()
            && self.status.is_none()
            && self.add_partner_references.is_empty()
            && self.remove_partner_references.is_empty()
    }
}

fn reason(value: &Option<String>, field: &'static str) -> AppResult<Option<String>> {
    Ok(domain::text::optional(field, value.as_deref(), 2000)?)
}

/// Applies a patch in one transaction. Customers may change status (cancel, accept,
/// reopen) and add partner references; agents may change everything.
pub async fn update(
    state: &AppState,
    who: &Identity,
    actor: &Actor,
    number: &str,
    patch: &TicketPatch,
) -> AppResult<Ticket> {
    if patch.is_empty() {
        return Err(AppError::bad_request("nothing_to_change"));
    }
    let scope = who.principal.ticket_scope();
    let agent = who.principal.allows(Action::WorkTickets);
    let mut tx = state.db.begin().await?;
    let t = store::tickets::get_by_number(&mut tx, &scope, number).await?;
    if let Some(v) = patch.version
        && v != t.version
    {
        return Err(AppError::new(StatusCode::CONFLICT, "stale_version"));
    }
    let current = t.status();
    if current.is_final() {
        return Err(AppError::new(StatusCode::CONFLICT, "ticket_closed"));
    }
    // A problem's status follows its own workflow (`crate::problems::set_status`).
    if patch.status.is_some() && t.kind() == TicketKind::Problem {
        return Err(AppError::invalid("use_problem_workflow", "status"));
    }
    if !agent
        && (patch.touches_fields()
            || patch.touches_work()
            || !patch.remove_partner_references.is_empty())
    {
        return Err(AppError::forbidden());
    }
    let mut columns: Vec<(&'static str, ColumnValue)> = Vec::new();
    let mut events: Vec<(&'static str, serde_json::Value)> = Vec::new();
    let mut reindex = false;

    // Text fields.
    if patch.touches_fields() {
        let draft = patched_draft(state, &t, patch)?;
        check_phi(draft.texts())?;
        let text_changes: [(&'static str, Option<String>, Option<String>); 7] = [
            (
                "summary",
                Some(t.summary.clone()),
                Some(draft.summary.clone()),
            ),
            (
                "details",
                Some(t.details.clone()),
                Some(draft.details.clone()),
            ),
            (
                "configuration_item",
                t.configuration_item.clone(),
                draft.configuration_item.clone(),
            ),
            (
                "service_impact",
                t.service_impact.clone(),
                draft.service_impact.clone(),
            ),
            (
                "user_impact",
                t.user_impact.clone(),
                draft.user_impact.clone(),
            ),
            (
                "troubleshooting",
                t.troubleshooting.clone(),
                draft.troubleshooting.clone(),
            ),
            ("workaround", t.workaround.clone(), draft.workaround.clone()),
        ];
        for (name, before, after) in text_changes {
            if before != after {
                reindex |= name == "summary" || name == "details";
                events.push(("field", json!({"field": name, "from": before, "to": after})));
                columns.push((name, ColumnValue::Text(after)));
            }
        }
        let first = draft.first_occurrence.map(domain::time::to_db);
        if first != t.first_occurrence {
            events.push((
                "field",
                json!({"field": "first_occurrence", "from": t.first_occurrence, "to": first}),
            ));
            columns.push(("first_occurrence", ColumnValue::Text(first)));
        }
        if draft.no_workaround != (t.no_workaround != 0) {
            events.push(("field", json!({"field": "no_workaround", "from": t.no_workaround != 0, "to": draft.no_workaround})));
            columns.push((
                "no_workaround",
                ColumnValue::Int(Some(draft.no_workaround as i64)),
            ));
        }
    }

    // Priority reassessment keeps the old values and the reason.
    if patch.impact.is_some() || patch.urgency.is_some() || patch.priority.is_some() {
        let impact = ticket::check_level("impact", patch.impact.unwrap_or(t.impact))?;
        let urgency = ticket::check_level("urgency", patch.urgency.unwrap_or(t.urgency))?;
        // The ticket's own policy pack decides the matrix and which priorities exist (the
        // network requests' P10–P40 are chosen, not derived).
        let pack = match t.policy_pack_id {
            Some(id) => Some(state.packs.get(&mut tx, id).await?),
            None => None,
        };
        let derived = pack
            .as_deref()
            .and_then(|pack| crate::sla::priority_from_pack(pack, t.kind(), impact, urgency))
            .unwrap_or_else(|| ticket::default_priority(impact, urgency));
        let priority = match (patch.priority, pack.as_deref()) {
            (Some(p), Some(pack)) if crate::sla::pack_has_priority(pack, t.kind(), p) => p,
            (Some(p), _) => ticket::check_level("priority", p)?,
            (None, _) => derived,
        };
        if (impact, urgency, priority) != (t.impact, t.urgency, t.priority) {
            let why = reason(&patch.priority_reason, "priority_reason")?
                .ok_or(AppError::invalid("required", "priority_reason"))?;
            check_phi([("priority_reason", why.as_str())])?;
            events.push((
                "priority",
                json!({
                    "from": {"impact": t.impact, "urgency": t.urgency, "priority": t.priority},
                    "to": {"impact": impact, "urgency": urgency, "priority": priority},
                    "reason": why,
                }),
            ));
            columns.push(("impact", ColumnValue::Int(Some(impact))));
            columns.push(("urgency", ColumnValue::Int(Some(urgency))));
            columns.push(("priority", ColumnValue::Int(Some(priority))));
            columns.push((
                "priority_overridden",
                ColumnValue::Int(Some((priority != derived) as i64)),
            ));
        }
    }

    // Escalation and assignment.
    let mut group = t.support_group_id;
    let mut assignee = t.assignee_id;
    if let Some(tier) = patch.escalate_to_tier {
        if !(2..=MAX_TIER).contains(&tier) || tier <= t.tier {
            return Err(AppError::invalid("invalid_escalation", "escalate_to_tier"));
        }
        let groups = store::groups::groups(&mut tx).await?;
        let target = match patch.support_group_id.filter(|g| *g > 0) {
            Some(g) => groups.iter().find(|x| x.id == g && x.tier == tier),
            None => groups.iter().find(|x| x.tier == tier),
        }
        .ok_or(AppError::invalid("unknown_group", "support_group_id"))?;
        events.push(("escalated", json!({"from_tier": t.tier, "to_tier": tier, "from_group": t.support_group_code, "to_group": target.code})));
        columns.push(("tier", ColumnValue::Int(Some(tier))));
        group = Some(target.id);
        if patch.assignee_id.is_none() {
            assignee = None;
        }
    } else if let Some(g) = patch.support_group_id {
        group = if g == 0 {
            None
        } else {
            let found = store::groups::get(&mut tx, g)
                .await
                .map_err(|_| AppError::invalid("unknown_group", "support_group_id"))?;
            if found.tier != t.tier && found.tier > t.tier {
                // Moving up a tier is an escalation: record the tier too.
                columns.push(("tier", ColumnValue::Int(Some(found.tier))));
            }
            Some(g)
        };
        if group != t.support_group_id && patch.assignee_id.is_none() {
            assignee = None;
        }
    }
    if let Some(a) = patch.assignee_id {
        assignee = if a == 0 { None } else { Some(a) };
    }
    if let Some(a) = assignee
        && assignee != t.assignee_id
    {
        let Some(g) = group else {
            return Err(AppError::invalid("required", "support_group_id"));
        };
        if !store::groups::is_member(&mut tx, g, a).await? {
            return Err(AppError::invalid("not_group_member", "assignee_id"));
        }
    }
    if group != t.support_group_id {
        let code = match group {
            Some(g) => Some(store::groups::get(&mut tx, g).await?.code),
            None => None,
        };
        if patch.escalate_to_tier.is_none() {
            events.push(("group", json!({"from": t.support_group_code, "to": code})));
        }
        columns.push(("support_group_id", ColumnValue::Int(group)));
    }
    if assignee != t.assignee_id {
        let name = match assignee {
            Some(a) => Some(
                store::people::get(&mut tx, &domain::policy::OrgScope::All, a)
                    .await?
                    .display_name,
            ),
            None => None,
        };
        events.push(("assigned", json!({"from": t.assignee_name, "to": name})));
        columns.push(("assignee_id", ColumnValue::Int(assignee)));
    }

    // Status.
    let mut new_status = None;
    if let Some(s) = &patch.status {
        let to = Status::parse(s).ok_or(AppError::invalid("invalid_choice", "status"))?;
        if to != current {
            if !current.can_become(to) {
                return Err(
                    AppError::new(StatusCode::CONFLICT, "transition_not_allowed")
                        .with_arg("from", current.as_str())
                        .with_arg("to", to.as_str()),
                );
            }
            if !agent && !ticket::customer_may_set(current, to) {
                return Err(AppError::forbidden());
            }
            let why = reason(&patch.status_reason, "status_reason")?;
            if let Some(w) = &why {
                check_phi([("status_reason", w.as_str())])?;
            }
            let reopening = current == Status::Resolved && to == Status::InProgress;
            if reopening {
                let resolved_at = t
                    .resolved_at
                    .as_deref()
                    .and_then(domain::time::from_db)
                    .unwrap_or_else(domain::time::now);
                ticket::check_reopen(
                    resolved_at,
                    domain::time::now(),
                    jiff::SignedDuration::from_hours(24 * state.settings.reopen_days),
                )?;
            }
            if (to == Status::Resolved || reopening || (to == Status::Cancelled && agent))
                && why.is_none()
            {
                return Err(AppError::invalid("required", "status_reason"));
            }
            let now = domain::time::to_db(domain::time::now());
            columns.push(("status", ColumnValue::Text(Some(to.as_str().to_owned()))));
            columns.push(("is_open", ColumnValue::Int(Some(to.is_open() as i64))));
            match to {
                Status::Resolved => columns.push(("resolved_at", ColumnValue::Text(Some(now)))),
                Status::Closed | Status::Cancelled => {
                    columns.push(("closed_at", ColumnValue::Text(Some(now))))
                }
                Status::InProgress if reopening => {
                    columns.push(("resolved_at", ColumnValue::Text(None)))
                }
                _ => {}
            }
            events.push((
                if reopening { "reopened" } else { "status" },
                json!({"from": current.as_str(), "to": to.as_str(), "reason": why}),
            ));
            new_status = Some(to);
        }
    }

    // Partner references.
    let mut added_refs = Vec::new();
    if !patch.add_partner_references.is_empty() {
        let refs = ticket::check_partner_references(&patch.add_partner_references)?;
        let existing = store::tickets::partner_references(&mut tx, t.id).await?;
        if existing.len() + refs.len() > ticket::PARTNER_REFERENCES_MAX {
            return Err(AppError::invalid("too_many", "partner_reference"));
        }
        for r in refs {
            if !existing.contains(&r) {
                store::tickets::add_partner_reference(&mut tx, t.id, &r).await?;
                events.push(("reference_added", json!({"reference": r})));
                added_refs.push(r);
            }
        }
    }
    for r in &patch.remove_partner_references {
        if store::tickets::remove_partner_reference(&mut tx, t.id, r.trim()).await? {
            events.push(("reference_removed", json!({"reference": r.trim()})));
            reindex = true;
        }
    }

    if events.is_empty() {
        return Ok(t);
    }
    store::tickets::update_columns(&mut tx, t.id, t.version, &columns).await?;
    let mut last_event = 0;
    for (kind, data) in &events {
        last_event =
            store::tickets::add_event(&mut tx, t.id, actor, kind, false, None, data.clone())
                .await?;
    }
    let backend = state.db.backend();
    if reindex {
        store::tickets::reindex(&mut tx, backend, t.id).await?;
    } else {
        for r in &added_refs {
            store::tickets::index_append(&mut tx, backend, t.id, r).await?;
        }
    }
    append(
        &mut tx,
        actor,
        Event {
            action: "ticket.update",
            entity_type: "ticket",
            entity_id: Some(t.number.clone()),
            organization_id: Some(t.organization_id),
            detail: json!({"changes": events.iter().map(|(k, d)| if t.is_restricted() { json!({"kind": k}) } else { json!({"kind": k, "data": d}) }).collect::<Vec<_>>()}),
        },
    )
    .await?;
    if new_status == Some(Status::Resolved) {
        crate::major_incidents::on_resolved(state, &mut tx, actor, &t, patch.root_cause.as_deref())
            .await?;
    }
    if let Some(to) = new_status {
        let key = match to {
            Status::InProgress => Some("ticket-in-progress"),
            s if s.is_pending() => Some("ticket-pending"),
            Status::Resolved => Some("ticket-resolved"),
            Status::Closed => Some("ticket-closed"),
            _ => None,
        };
        if let Some(key) = key {
            let mut people = notified_people(&mut tx, &t).await?;
            people.retain(|p| *p != who.person.id);
            notify(
                &state.composer(&mut tx).await?,
                &mut tx,
                t.id,
                last_event,
                &t.number,
                &t.summary,
                &people,
                key,
                &[("status", to.as_str().to_owned())],
                None,
            )
            .await?;
        }
    }
    let updated = store::tickets::get(&mut tx, &scope, t.id).await?;
    crate::webhooks::queue(
        state,
        &mut tx,
        "ticket.updated",
        &crate::webhooks::TicketFacts::of(&updated),
        &format!("e{last_event}"),
        json!({"changes": events.iter().map(|(k, _)| k).collect::<Vec<_>>()}),
    )
    .await?;
    // Status, priority and reopenings move the clocks: derive them again from the history.
    crate::sla::refresh(state, &mut tx, t.id).await?;
    tx.commit().await?;
    Ok(updated)
}

fn patched_draft(state: &AppState, t: &Ticket, patch: &TicketPatch) -> AppResult<Draft> {
    let pick = |new: &Option<String>, old: &Option<String>| new.clone().or_else(|| old.clone());
    let input = DraftInput {
        summary: patch.summary.clone().unwrap_or_else(|| t.summary.clone()),
        details: patch.details.clone().unwrap_or_else(|| t.details.clone()),
        impact: Some(t.impact),
        urgency: Some(t.urgency),
        configuration_item: pick(&patch.configuration_item, &t.configuration_item),
        first_occurrence: pick(&patch.first_occurrence, &t.first_occurrence),
        service_impact: pick(&patch.service_impact, &t.service_impact),
        user_impact: pick(&patch.user_impact, &t.user_impact),
        troubleshooting: pick(&patch.troubleshooting, &t.troubleshooting),
        workaround: match (&patch.workaround, patch.no_workaround) {
            (Some(w), _) => Some(w.clone()),
            (None, Some(true)) => None,
            (None, _) => t.workaround.clone(),
        },
        no_workaround: patch.no_workaround.unwrap_or(t.no_workaround != 0),
        partner_references: Vec::new(),
        custom: Vec::new(),
        has_on_behalf_of: t.on_behalf_of_id.is_some(),
    };
    let mut draft = ticket::check_draft(
        &input,
        &[],
        (t.impact, t.urgency),
        &zone(state),
        domain::time::now(),
    )?;
    // Stored first-occurrence values are already instants; keep them as they are.
    if patch.first_occurrence.is_none() {
        draft.first_occurrence = t
            .first_occurrence
            .as_deref()
            .and_then(domain::time::from_db);
    }
    Ok(draft)
}

/// A comment (public reply) or, for agents, an internal note.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CommentInput {
    #[serde(default)]
    pub body: String,
    /// Internal notes are seen by agents only.
    #[serde(default)]
    pub internal: bool,
}

/// Adds a comment with optional attachments. A customer's reply to a ticket waiting on
/// them puts it back in progress. Returns the timeline entry's id.
pub async fn comment(
    state: &AppState,
    who: &Identity,
    actor: &Actor,
    number: &str,
    input: &CommentInput,
    uploads: &[Upload],
) -> AppResult<i64> {
    let agent = who.principal.allows(Action::WorkTickets);
    if input.internal && !agent {
        return Err(AppError::forbidden());
    }
    let body = domain::text::clean("body", &input.body, ticket::COMMENT_MAX)?;
    if body.is_empty() && uploads.is_empty() {
        return Err(AppError::invalid("required", "body"));
    }
    check_phi([("body", body.as_str())])?;
    let files = check_uploads(state, uploads).await?;
    let scope = who.principal.ticket_scope();
    let mut tx = state.db.begin().await?;
    let t = store::tickets::get_by_number(&mut tx, &scope, number).await?;
    if t.status().is_final() {
        return Err(AppError::new(StatusCode::CONFLICT, "ticket_closed"));
    }
    let kind = match (input.internal, body.is_empty()) {
        (true, _) => "note",
        (false, true) => "attachment",
        (false, false) => "comment",
    };
    let body_opt = (!body.is_empty()).then_some(body.as_str());
    let event = store::tickets::add_event(
        &mut tx,
        t.id,
        actor,
        kind,
        input.internal,
        body_opt,
        json!({"files": files.iter().map(|(a, _)| a.filename.clone()).collect::<Vec<_>>()}),
    )
    .await?;
    store_uploads(
        &state.files,
        &mut tx,
        t.id,
        Some(event),
        input.internal,
        who.person.id,
        &files,
    )
    .await?;
    let mut columns = Vec::new();
    if !agent && t.status() == Status::PendingCustomer {
        columns.push(("status", ColumnValue::Text(Some("in_progress".into()))));
        store::tickets::add_event(
            &mut tx,
            t.id,
            actor,
            "status",
            false,
            None,
            json!({"from": "pending_customer", "to": "in_progress", "reason": "customer replied"}),
        )
        .await?;
    }
    store::tickets::update_columns(&mut tx, t.id, t.version, &columns).await?;
    if !input.internal && !body.is_empty() {
        store::tickets::index_append(&mut tx, state.db.backend(), t.id, &body).await?;
    }
    append(
        &mut tx,
        actor,
        Event {
            action: if input.internal {
                "ticket.note"
            } else {
                "ticket.comment"
            },
            entity_type: "ticket",
            entity_id: Some(t.number.clone()),
            organization_id: Some(t.organization_id),
            detail: json!({"event": event, "attachments": files.len()}),
        },
    )
    .await?;
    if !input.internal && agent {
        let mut people = notified_people(&mut tx, &t).await?;
        people.retain(|p| *p != who.person.id);
        notify(
            &state.composer(&mut tx).await?,
            &mut tx,
            t.id,
            event,
            &t.number,
            &t.summary,
            &people,
            "ticket-reply",
            &[("body", body.clone())],
            None,
        )
        .await?;
    }
    if !input.internal {
        crate::webhooks::queue(
            state,
            &mut tx,
            "ticket.commented",
            &crate::webhooks::TicketFacts::of(&t),
            &format!("e{event}"),
            json!({"body": body, "by_agent": agent, "attachments": files.len()}),
        )
        .await?;
    }
    let first_response = !input.internal
        && agent
        && !body.is_empty()
        && store::tickets::set_first_response(&mut tx, t.id).await?;
    // Only a first response or the customer's reply to a pending ticket moves the clocks.
    if first_response || !columns.is_empty() {
        crate::sla::refresh(state, &mut tx, t.id).await?;
    }
    tx.commit().await?;
    Ok(event)
}

/// Shares a ticket with a colleague of the same organization (by email or id).
pub async fn share(
    state: &AppState,
    who: &Identity,
    actor: &Actor,
    number: &str,
    person: &str,
) -> AppResult<()> {
    let scope = who.principal.ticket_scope();
    let mut tx = state.db.begin().await?;
    let t = store::tickets::get_by_number(&mut tx, &scope, number).await?;
    let (person_id, name) = store::tickets::colleague(&mut tx, t.organization_id, person)
        .await
        .map_err(|_| AppError::invalid("person_not_in_organization", "person"))?;
    let role = if who.principal.allows(Action::WorkTickets)
        && t.organization_id == who.principal.operator_org_id
    {
        "watcher"
    } else {
        "shared"
    };
    if store::tickets::add_person(&mut tx, t.id, person_id, role).await? {
        store::tickets::add_event(
            &mut tx,
            t.id,
            actor,
            "shared",
            false,
            None,
            json!({"with": name}),
        )
        .await?;
        store::tickets::update_columns(&mut tx, t.id, t.version, &[]).await?;
        append(
            &mut tx,
            actor,
            Event {
                action: "ticket.share",
                entity_type: "ticket",
                entity_id: Some(t.number.clone()),
                organization_id: Some(t.organization_id),
                detail: json!({"person_id": person_id}),
            },
        )
        .await?;
    }
    tx.commit().await?;
    Ok(())
}

/// An agent watches a ticket (gets its notifications without being the assignee).
pub async fn watch(
    state: &AppState,
    who: &Identity,
    actor: &Actor,
    number: &str,
    on: bool,
) -> AppResult<()> {
    if !who.principal.allows(Action::WorkTickets) {
        return Err(AppError::forbidden());
    }
    let scope = who.principal.ticket_scope();
    let mut tx = state.db.begin().await?;
    let t = store::tickets::get_by_number(&mut tx, &scope, number).await?;
    let changed = if on {
        store::tickets::add_person(&mut tx, t.id, who.person.id, "watcher").await?
    } else {
        store::tickets::remove_person(&mut tx, t.id, who.person.id).await?
    };
    if changed {
        store::tickets::add_event(
            &mut tx,
            t.id,
            actor,
            if on { "watching" } else { "unwatching" },
            true,
            None,
            json!({}),
        )
        .await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Turns the caller's notifications for this ticket off or on.
pub async fn mute(state: &AppState, who: &Identity, number: &str, muted: bool) -> AppResult<()> {
    let scope = who.principal.ticket_scope();
    let mut tx = state.db.begin().await?;
    let t = store::tickets::get_by_number(&mut tx, &scope, number).await?;
    store::tickets::set_muted(&mut tx, t.id, who.person.id, muted).await?;
    tx.commit().await?;
    Ok(())
}

/// Links two tickets (incident → problem → change, or related).
pub async fn link(
    state: &AppState,
    who: &Identity,
    actor: &Actor,
    number: &str,
    other: &str,
    kind: &str,
) -> AppResult<()> {
    if !who.principal.allows(Action::WorkTickets) {
        return Err(AppError::forbidden());
    }
    let kind = LinkKind::parse(kind).ok_or(AppError::invalid("invalid_choice", "kind"))?;
    let scope = who.principal.ticket_scope();
    let mut tx = state.db.begin().await?;
    let a = store::tickets::get_by_number(&mut tx, &scope, number).await?;
    let b = store::tickets::get_by_number(&mut tx, &scope, other)
        .await
        .map_err(|_| AppError::invalid("unknown_ticket", "number"))?;
    if a.id == b.id {
        return Err(AppError::invalid("link_not_allowed", "number"));
    }
    ticket::check_link(kind, a.kind(), b.kind())?;
    store::tickets::add_link(&mut tx, a.id, b.id, kind).await?;
    store::tickets::add_event(
        &mut tx,
        a.id,
        actor,
        "linked",
        false,
        None,
        json!({"kind": kind.as_str(), "to": b.number}),
    )
    .await?;
    store::tickets::add_event(
        &mut tx,
        b.id,
        actor,
        "linked",
        false,
        None,
        json!({"kind": kind.as_str(), "from": a.number}),
    )
    .await?;
    append(
        &mut tx,
        actor,
        Event {
            action: "ticket.link",
            entity_type: "ticket",
            entity_id: Some(a.number.clone()),
            organization_id: Some(a.organization_id),
            detail: json!({"kind": kind.as_str(), "to": b.number}),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Merges a duplicate into another open ticket of the same organization: the duplicate is
/// cancelled with a pointer, its people, references and attachments move over.
pub async fn merge(
    state: &AppState,
    who: &Identity,
    actor: &Actor,
    number: &str,
    into: &str,
) -> AppResult<()> {
    if !who.principal.allows(Action::WorkTickets) {
        return Err(AppError::forbidden());
    }
    let scope = who.principal.ticket_scope();
    let mut tx = state.db.begin().await?;
    let dup = store::tickets::get_by_number(&mut tx, &scope, number).await?;
    let survivor = store::tickets::get_by_number(&mut tx, &scope, into)
        .await
        .map_err(|_| AppError::invalid("unknown_ticket", "into"))?;
    if dup.id == survivor.id
        || dup.organization_id != survivor.organization_id
        || dup.restriction != survivor.restriction
    {
        return Err(AppError::invalid("merge_not_allowed", "into"));
    }
    if dup.status().is_final() || survivor.status().is_final() {
        return Err(AppError::new(StatusCode::CONFLICT, "ticket_closed"));
    }
    store::tickets::merge_into(&mut tx, dup.id, survivor.id).await?;
    let now = domain::time::to_db(domain::time::now());
    store::tickets::update_columns(
        &mut tx,
        dup.id,
        dup.version,
        &[
            ("status", ColumnValue::Text(Some("cancelled".into()))),
            ("is_open", ColumnValue::Int(Some(0))),
            ("closed_at", ColumnValue::Text(Some(now))),
            ("merged_into_id", ColumnValue::Int(Some(survivor.id))),
        ],
    )
    .await?;
    store::tickets::update_columns(&mut tx, survivor.id, survivor.version, &[]).await?;
    store::tickets::add_event(
        &mut tx,
        dup.id,
        actor,
        "merged",
        false,
        None,
        json!({"into": survivor.number}),
    )
    .await?;
    store::tickets::add_event(
        &mut tx,
        survivor.id,
        actor,
        "merged_from",
        false,
        None,
        json!({"from": dup.number, "summary": dup.summary}),
    )
    .await?;
    store::tickets::reindex(&mut tx, state.db.backend(), survivor.id).await?;
    append(
        &mut tx,
        actor,
        Event {
            action: "ticket.merge",
            entity_type: "ticket",
            entity_id: Some(dup.number.clone()),
            organization_id: Some(dup.organization_id),
            detail: json!({"into": survivor.number}),
        },
    )
    .await?;
    crate::sla::refresh(state, &mut tx, dup.id).await?;
    tx.commit().await?;
    Ok(())
}

/// What to redact: a ticket field or a timeline entry, and either an exact piece of text
/// or every PHI match the guard finds there.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RedactInput {
    /// `summary`, `details`, `troubleshooting`, `service_impact`, `user_impact`,
    /// `workaround`, or `event:<id>` for a comment or note.
    pub target: String,
    /// The exact text to remove; absent: every PHI match in the target.
    pub text: Option<String>,
}

/// Replaces text with "[redacted]". The audit row records where and how much, never what.
pub async fn redact(
    state: &AppState,
    who: &Identity,
    actor: &Actor,
    number: &str,
    input: &RedactInput,
) -> AppResult<usize> {
    if !who.principal.allows(Action::WorkTickets) {
        return Err(AppError::forbidden());
    }
    let scope = who.principal.ticket_scope();
    let mut tx = state.db.begin().await?;
    let t = store::tickets::get_by_number(&mut tx, &scope, number).await?;
    let (original, event_id, column): (String, Option<i64>, Option<&'static str>) =
        if let Some(id) = input.target.strip_prefix("event:") {
            let id: i64 = id
                .parse()
                .map_err(|_| AppError::invalid("invalid_choice", "target"))?;
            let e = store::tickets::event(&mut tx, t.id, id)
                .await
                .map_err(|_| AppError::invalid("invalid_choice", "target"))?;
            (e.body.unwrap_or_default(), Some(id), None)
        } else {
            let (column, value): (&'static str, Option<String>) = match input.target.as_str() {
                "summary" => ("summary", Some(t.summary.clone())),
                "details" => ("details", Some(t.details.clone())),
                "troubleshooting" => ("troubleshooting", t.troubleshooting.clone()),
                "service_impact" => ("service_impact", t.service_impact.clone()),
                "user_impact" => ("user_impact", t.user_impact.clone()),
                "workaround" => ("workaround", t.workaround.clone()),
                _ => return Err(AppError::invalid("invalid_choice", "target")),
            };
            (value.unwrap_or_default(), None, Some(column))
        };
    let mut ranges: Vec<(usize, usize)> = match input.text.as_deref().filter(|s| !s.is_empty()) {
        Some(needle) => original
            .match_indices(needle)
            .map(|(i, m)| (i, i + m.len()))
            .collect(),
        None => domain::phi::scan_all(&original)
            .iter()
            .map(|m| (m.start, m.end))
            .collect(),
    };
    if ranges.is_empty() {
        return Err(AppError::invalid("nothing_to_redact", "text"));
    }
    ranges.sort();
    let mut redacted = original.clone();
    let mut removed = 0;
    for (start, end) in ranges.iter().rev() {
        removed += end - start;
        redacted = domain::phi::redact(&redacted, *start, *end);
    }
    match (event_id, column) {
        (Some(id), _) => store::tickets::set_event_body(&mut tx, id, &redacted).await?,
        (None, Some(column)) => {
            store::tickets::update_columns(
                &mut tx,
                t.id,
                t.version,
                &[(column, ColumnValue::Text(Some(redacted)))],
            )
            .await?
        }
        _ => unreachable!("target is an event or a column"),
    }
    store::tickets::add_event(
        &mut tx,
        t.id,
        actor,
        "redacted",
        true,
        None,
        json!({"target": input.target, "count": ranges.len()}),
    )
    .await?;
    store::tickets::reindex(&mut tx, state.db.backend(), t.id).await?;
    append(
        &mut tx,
        actor,
        Event {
            action: "ticket.redact",
            entity_type: "ticket",
            entity_id: Some(t.number.clone()),
            organization_id: Some(t.organization_id),
            detail: json!({"target": input.target, "matches": ranges.len(), "characters_removed": removed}),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(ranges.len())
}

/// Applies the same patch to several tickets; each succeeds or fails on its own.
pub async fn bulk(
    state: &AppState,
    who: &Identity,
    actor: &Actor,
    numbers: &[String],
    patch: &TicketPatch,
) -> AppResult<Vec<BulkResult>> {
    if !who.principal.allows(Action::WorkTickets) {
        return Err(AppError::forbidden());
    }
    if numbers.is_empty() || numbers.len() > 200 {
        return Err(AppError::invalid("invalid_choice", "numbers"));
    }
    let mut out = Vec::new();
    for number in numbers {
        let patch = TicketPatch {
            version: None,
            ..patch.clone()
        };
        let result = update(state, who, actor, number, &patch).await;
        out.push(BulkResult {
            number: number.clone(),
            ok: result.is_ok(),
            code: result.err().map(|e| e.code.to_owned()),
        });
    }
    Ok(out)
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct BulkResult {
    pub number: String,
    pub ok: bool,
    pub code: Option<String>,
}

/// Reads an attachment the person may see.
pub async fn attachment(
    state: &AppState,
    who: &Identity,
    actor: &Actor,
    number: &str,
    id: i64,
) -> AppResult<(store::tickets::Attachment, Vec<u8>)> {
    let t = load(state, who, actor, number).await?;
    let mut conn = state.db.reader().acquire().await?;
    let a = store::tickets::attachment(&mut conn, t.id, id).await?;
    if a.internal != 0 && !who.principal.allows(Action::WorkTickets) {
        return Err(AppError::not_found());
    }
    let bytes = state.files.read(&a.sha256).await.map_err(|e| {
        tracing::error!(error = %e, sha = %a.sha256, "attachment missing from the file store");
        AppError::not_found()
    })?;
    Ok((a, bytes))
}

/// Lists tickets for a scope with a filter (queues, portal lists, search, API).
pub async fn list(
    state: &AppState,
    scope: &TicketScope,
    filter: &store::tickets::Filter,
) -> AppResult<store::tickets::Page> {
    let mut conn = state.db.reader().acquire().await?;
    Ok(store::tickets::list(&mut conn, state.db.backend(), scope, filter).await?)
}

pub fn backend(state: &AppState) -> Backend {
    state.db.backend()
}
