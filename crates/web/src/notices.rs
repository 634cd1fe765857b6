//! Mail templates (administrators edit them; each save is a version), distribution lists
//! (per service, per contact role, custom; removal asked by the member and confirmed by the
//! desk), notices sent to lists, and the one-click unsubscribe links in mail.
use crate::AppState;
use crate::ctx::Identity;
use crate::error::{AppError, AppResult};
use crate::mail::{Audience, Draft, Unsubscribe};
use crate::service::event;
use axum::http::StatusCode;
use domain::mail_template::{self, Source};
use domain::policy::Action;
use domain::role::Role;
use domain::text::{Email, Locale, required};
use serde::{Deserialize, Serialize};
use serde_json::json;
use store::audit::{Actor, append};
use store::lists::{List, Member, Recipient, Who};

// ---------- templates ----------

/// One language of one template, as in use.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct TemplateVersion {
    pub key: String,
    pub locale: String,
    /// 0: the shipped text.
    pub version: i64,
    pub subject: String,
    pub body: String,
    pub saved_at: Option<String>,
    pub saved_by: Option<String>,
}

impl TemplateVersion {
    fn shipped(key: &str, locale: Locale) -> Self {
        let source = &mail_template::shipped(locale)[key];
        Self {
            key: key.to_owned(),
            locale: locale.as_str().to_owned(),
            version: 0,
            subject: source.subject.clone(),
            body: source.body.clone(),
            saved_at: None,
            saved_by: None,
        }
    }

    fn saved(v: store::mail_templates::Version) -> Self {
        Self {
            key: v.key,
            locale: v.locale,
            version: v.version,
            subject: v.subject,
            body: v.body,
            saved_at: Some(v.created_at),
            saved_by: v.created_by_name,
        }
    }
}

/// A message kind with what it may use and its current text in both languages.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct TemplateSummary {
    pub key: String,
    pub variables: Vec<String>,
    pub en: TemplateVersion,
    pub fr: TemplateVersion,
}

fn parse_locale(locale: &str) -> AppResult<Locale> {
    match locale {
        "en" => Ok(Locale::En),
        "fr" => Ok(Locale::Fr),
        _ => Err(AppError::not_found()),
    }
}

fn kind_of(key: &str) -> AppResult<&'static mail_template::Kind> {
    mail_template::kind(key).ok_or_else(AppError::not_found)
}

/// Administrators: every template, as in use.
pub async fn templates(state: &AppState, who: &Identity) -> AppResult<Vec<TemplateSummary>> {
    who.require(Action::CreateOrganization)?;
    let mut conn = state.db.reader().acquire().await?;
    let saved = store::mail_templates::current(&mut conn).await?;
    let current = |key: &str, locale: Locale| {
        saved
            .iter()
            .find(|v| v.key == key && v.locale == locale.as_str())
            .cloned()
            .map(TemplateVersion::saved)
            .unwrap_or_else(|| TemplateVersion::shipped(key, locale))
    };
    Ok(mail_template::KINDS
        .iter()
        .map(|k| TemplateSummary {
            key: k.key.to_owned(),
            variables: k.variables.iter().map(|v| (*v).to_owned()).collect(),
            en: current(k.key, Locale::En),
            fr: current(k.key, Locale::Fr),
        })
        .collect())
}

/// One template in one language: the version in use, then the older ones, then version 0.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct TemplateHistory {
    pub key: String,
    pub locale: String,
    pub variables: Vec<String>,
    /// Newest first; the last is the shipped version 0.
    pub versions: Vec<TemplateVersion>,
}

pub async fn template(
    state: &AppState,
    who: &Identity,
    key: &str,
    locale: &str,
) -> AppResult<TemplateHistory> {
    who.require(Action::CreateOrganization)?;
    let kind = kind_of(key)?;
    let locale = parse_locale(locale)?;
    let mut conn = state.db.reader().acquire().await?;
    let mut versions: Vec<TemplateVersion> =
        store::mail_templates::history(&mut conn, key, locale.as_str())
            .await?
            .into_iter()
            .map(TemplateVersion::saved)
            .collect();
    versions.push(TemplateVersion::shipped(key, locale));
    Ok(TemplateHistory {
        key: key.to_owned(),
        locale: locale.as_str().to_owned(),
        variables: kind.variables.iter().map(|v| (*v).to_owned()).collect(),
        versions,
    })
}

#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TemplateInput {
    pub subject: String,
    pub body: String,
}

/// What a template gives with example values.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Preview {
    pub subject: String,
    pub body: String,
}

fn checked(key: &str, input: &TemplateInput) -> AppResult<(Source, Preview)> {
    let source = Source {
        subject: input.subject.trim().to_owned(),
        body: input.body.replace("\r\n", "\n"),
    };
    match mail_template::validate(key, &source) {
        Ok(rendered) => Ok((
            source,
            Preview {
                subject: rendered.subject,
                body: rendered.body,
            },
        )),
        Err(mail_template::TemplateError::UnknownKind(_)) => Err(AppError::not_found()),
        Err(mail_template::TemplateError::SubjectLength) => {
            Err(AppError::invalid("template_length", "subject"))
        }
        Err(mail_template::TemplateError::BodyLength) => {
            Err(AppError::invalid("template_length", "template_body"))
        }
        Err(mail_template::TemplateError::Invalid { part, reason }) => Err(AppError::invalid(
            "template_invalid",
            if part == "subject" {
                "subject"
            } else {
                "template_body"
            },
        )
        .with_arg("reason", reason.clone())
        .with_detail(json!({"part": part, "reason": reason}))),
    }
}

/// Renders a draft with example values, without saving it.
pub fn preview(who: &Identity, key: &str, input: &TemplateInput) -> AppResult<Preview> {
    who.require(Action::CreateOrganization)?;
    kind_of(key)?;
    Ok(checked(key, input)?.1)
}

/// Saves a new version. It is checked first: it must parse and may use only its kind's
/// variables. The next message uses it.
pub async fn save_template(
    state: &AppState,
    who: &Identity,
    actor: &Actor,
    key: &str,
    locale: &str,
    input: &TemplateInput,
) -> AppResult<TemplateVersion> {
    who.require(Action::CreateOrganization)?;
    kind_of(key)?;
    let locale = parse_locale(locale)?;
    let (source, _) = checked(key, input)?;
    let mut tx = state.db.begin().await?;
    let version = store::mail_templates::save(
        &mut tx,
        key,
        locale.as_str(),
        &source.subject,
        &source.body,
        Some(who.person.id),
    )
    .await?;
    append(
        &mut tx,
        actor,
        event(
            "mail_template.save",
            "mail_template",
            format!("{key}/{}", locale.as_str()),
            None,
            json!({"version": version}),
        ),
    )
    .await?;
    let saved = store::mail_templates::get(&mut tx, key, locale.as_str(), version).await?;
    tx.commit().await?;
    state.mailer.changed();
    Ok(TemplateVersion::saved(saved))
}

// ---------- distribution lists ----------

#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ListInput {
    /// Short code, letters, digits, `-` and `_`.
    pub code: String,
    pub name_en: String,
    pub name_fr: String,
    /// `service` (organizations live on the service are members), `role` (everyone
    /// holding a partner contact role) or `custom`.
    pub kind: String,
    /// For a service list.
    pub service_id: Option<i64>,
    /// For a role list: `local_help_desk`, `cpc`, `privacy_contact`, `lra`, …
    pub role: Option<String>,
}

/// Administrators: create a list.
pub async fn create_list(
    state: &AppState,
    who: &Identity,
    actor: &Actor,
    input: &ListInput,
) -> AppResult<List> {
    who.require(Action::CreateOrganization)?;
    let code = input.code.trim();
    if code.is_empty()
        || code.len() > 40
        || !code
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return Err(AppError::invalid("invalid_code", "code"));
    }
    let name_en = required("name_en", &input.name_en, 200)?;
    let name_fr = required("name_fr", &input.name_fr, 200)?;
    let kind = input.kind.trim();
    if !store::lists::KINDS.contains(&kind) {
        return Err(AppError::invalid("invalid_choice", "kind"));
    }
    let mut tx = state.db.begin().await?;
    let (service_id, role) = match kind {
        "service" => {
            let id = input
                .service_id
                .ok_or(AppError::invalid("required", "service_id"))?;
            if state.directory.get(&mut tx).await?.service(id).is_none() {
                return Err(AppError::invalid("unknown_service", "service_id"));
            }
            (Some(id), None)
        }
        "role" => {
            let role = input
                .role
                .as_deref()
                .and_then(Role::parse)
                .filter(|r| !r.is_operator_role())
                .ok_or(AppError::invalid("invalid_choice", "role"))?;
            (None, Some(role.as_str()))
        }
        _ => (None, None),
    };
    let id = store::lists::create(
        &mut tx,
        &store::lists::NewList {
            code,
            name_en: &name_en,
            name_fr: &name_fr,
            kind,
            service_id,
            role,
            created_by: Some(who.person.id),
        },
    )
    .await?;
    append(
        &mut tx,
        actor,
        event(
            "list.create",
            "distribution_list",
            id,
            None,
            json!({"code": code, "kind": kind}),
        ),
    )
    .await?;
    let list = store::lists::get(&mut tx, id).await?;
    tx.commit().await?;
    Ok(list)
}

/// A list with how many it reaches and how many removal requests wait.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ListSummary {
    #[serde(flatten)]
    pub list: List,
    pub recipients: usize,
    pub pending_removals: usize,
}

/// Agents: every list.
pub async fn lists(state: &AppState, who: &Identity) -> AppResult<Vec<ListSummary>> {
    who.require(Action::WorkTickets)?;
    let mut conn = state.db.reader().acquire().await?;
    let mut out = Vec::new();
    for list in store::lists::list(&mut conn).await? {
        let members = store::lists::members(&mut conn, list.id).await?;
        let recipients = store::lists::recipients(&mut conn, &list, &members)
            .await?
            .len();
        let pending_removals = members
            .iter()
            .filter(|m| m.status == "removal_requested")
            .count();
        out.push(ListSummary {
            list,
            recipients,
            pending_removals,
        });
    }
    Ok(out)
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ListDetail {
    pub list: List,
    /// Members added by hand, and automatic members who asked to be removed (pending
    /// requests first).
    pub members: Vec<Member>,
    /// Everyone a notice would reach now, one per address.
    pub recipients: Vec<Recipient>,
    pub notices: Vec<store::lists::Notice>,
}

/// Agents: one list.
pub async fn list(state: &AppState, who: &Identity, id: i64) -> AppResult<ListDetail> {
    who.require(Action::WorkTickets)?;
    let mut conn = state.db.reader().acquire().await?;
    let list = store::lists::get(&mut conn, id).await?;
    let members = store::lists::members(&mut conn, id).await?;
    Ok(ListDetail {
        recipients: store::lists::recipients(&mut conn, &list, &members).await?,
        members,
        notices: store::lists::notices_of(&mut conn, id).await?,
        list,
    })
}

#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MembersInput {
    /// Addresses: a person's address adds that person (in their language); any other
    /// address gets notices in both languages.
    #[serde(default)]
    pub emails: Vec<String>,
    /// Organizations: their help desk contacts and their list or help desk address.
    #[serde(default)]
    pub organization_ids: Vec<i64>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Added {
    /// New members (one already on the list, or removed from it, is left as it is).
    pub added: u64,
}

/// At most this many members per request.
const MAX_MEMBERS_PER_REQUEST: usize = 20_000;

/// Agents: add members by hand.
pub async fn add_members(
    state: &AppState,
    who: &Identity,
    actor: &Actor,
    id: i64,
    input: &MembersInput,
) -> AppResult<Added> {
    who.require(Action::WorkTickets)?;
    if input.emails.len() + input.organization_ids.len() > MAX_MEMBERS_PER_REQUEST {
        return Err(AppError::invalid("too_many", "emails"));
    }
    if input.emails.is_empty() && input.organization_ids.is_empty() {
        return Err(AppError::invalid("required", "emails"));
    }
    let mut emails = Vec::with_capacity(input.emails.len());
    for e in &input.emails {
        emails.push(Email::parse(e)?.as_str().to_lowercase());
    }
    let mut tx = state.db.begin().await?;
    store::lists::get(&mut tx, id).await?;
    let mut members: Vec<Who> = Vec::with_capacity(emails.len() + input.organization_ids.len());
    let people = store::lists::people_by_email(&mut tx, &emails).await?;
    for email in &emails {
        match people.get(email) {
            Some(person) => members.push(Who::Person(*person)),
            None => members.push(Who::Address(email.clone())),
        }
    }
    for org in &input.organization_ids {
        store::orgs::get_unscoped(&mut tx, *org)
            .await
            .map_err(|_| AppError::invalid("unknown_organization", "organization_ids"))?;
        members.push(Who::Organization(*org));
    }
    let added = store::lists::add_members(&mut tx, id, &members, Some(who.person.id)).await?;
    append(
        &mut tx,
        actor,
        event(
            "list.add_members",
            "distribution_list",
            id,
            None,
            json!({"added": added}),
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(Added { added })
}

/// A list as its member sees it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct MyList {
    pub list: List,
    /// active, removal_requested or removed.
    pub status: String,
}

/// The lists the signed-in person receives, and those they asked to leave.
pub async fn my_lists(state: &AppState, who: &Identity) -> AppResult<Vec<MyList>> {
    let mut conn = state.db.reader().acquire().await?;
    Ok(store::lists::of_person(&mut conn, who.person.id)
        .await?
        .into_iter()
        .map(|(list, own)| MyList {
            status: own.map_or_else(|| "active".to_owned(), |m| m.status),
            list,
        })
        .collect())
}

#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RemovalInput {
    #[serde(default)]
    pub reason: String,
}

/// The signed-in person asks to leave a list they receive; the desk confirms.
pub async fn request_removal(
    state: &AppState,
    who: &Identity,
    actor: &Actor,
    id: i64,
    input: &RemovalInput,
) -> AppResult<()> {
    let reason = domain::text::clean("reason", &input.reason, 500)?;
    let mut tx = state.db.begin().await?;
    let list = store::lists::get(&mut tx, id).await?;
    let members = store::lists::members(&mut tx, id).await?;
    let receives = store::lists::recipients(&mut tx, &list, &members)
        .await?
        .iter()
        .any(|r| r.person_id == Some(who.person.id));
    if !receives {
        return Err(AppError::new(StatusCode::CONFLICT, "not_a_member"));
    }
    let member =
        store::lists::request_removal(&mut tx, id, &Who::Person(who.person.id), &reason).await?;
    append(
        &mut tx,
        actor,
        event(
            "list.removal_request",
            "distribution_list",
            id,
            None,
            json!({"member": member}),
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Agents: confirm (the member is removed and told) or decline a removal request.
pub async fn decide_removal(
    state: &AppState,
    who: &Identity,
    actor: &Actor,
    id: i64,
    member_id: i64,
    confirm: bool,
) -> AppResult<()> {
    who.require(Action::WorkTickets)?;
    let mut tx = state.db.begin().await?;
    let list = store::lists::get(&mut tx, id).await?;
    let member = store::lists::member(&mut tx, id, member_id).await?;
    store::lists::decide_removal(&mut tx, id, member_id, confirm, Some(who.person.id)).await?;
    if confirm && let Some(address) = &member.address {
        let locale = match member.person_id {
            Some(p) => store::people::get(&mut tx, &domain::policy::OrgScope::All, p)
                .await
                .ok()
                .map(|p| p.locale),
            None => None,
        };
        let composer = state.composer(&mut tx).await?;
        composer
            .send(
                &mut tx,
                &Draft {
                    to: address,
                    audience: Audience::of(locale.as_deref()),
                    key: "list-removal-confirmed",
                    args: &[("list", list.name_en.clone())],
                    fr_args: Some(&[("list", list.name_fr.clone())]),
                    unsubscribe: None,
                },
            )
            .await?;
    }
    append(
        &mut tx,
        actor,
        event(
            if confirm {
                "list.removal_confirm"
            } else {
                "list.removal_decline"
            },
            "distribution_list",
            id,
            None,
            json!({"member": member_id}),
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

// ---------- notices ----------

#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NoticeInput {
    pub list_ids: Vec<i64>,
    pub subject_en: String,
    pub subject_fr: String,
    pub body_en: String,
    pub body_fr: String,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct NoticeSent {
    pub id: i64,
    /// Addresses reached (each once, even when on several of the lists).
    pub recipients: usize,
}

/// Agents: send a notice to lists. Every recipient gets one message, in their language
/// (both when unknown), with a link to ask to leave the list; all are queued in one
/// transaction.
pub async fn send_notice(
    state: &AppState,
    who: &Identity,
    actor: &Actor,
    input: &NoticeInput,
) -> AppResult<NoticeSent> {
    who.require(Action::WorkTickets)?;
    let subject_en = required("subject_en", &input.subject_en, 300)?;
    let subject_fr = required("subject_fr", &input.subject_fr, 300)?;
    let body_en = required("body_en", &input.body_en, 20_000)?;
    let body_fr = required("body_fr", &input.body_fr, 20_000)?;
    crate::tickets::check_phi([
        ("subject_en", subject_en.as_str()),
        ("subject_fr", subject_fr.as_str()),
        ("body_en", body_en.as_str()),
        ("body_fr", body_fr.as_str()),
    ])?;
    let mut list_ids = input.list_ids.clone();
    list_ids.sort_unstable();
    list_ids.dedup();
    if list_ids.is_empty() {
        return Err(AppError::invalid("required", "list_ids"));
    }
    let mut tx = state.db.begin().await?;
    // Each address once, with the index of the first of the lists that reaches it.
    let mut reached: Vec<(Recipient, usize)> = Vec::new();
    let mut lists = Vec::new();
    for id in &list_ids {
        lists.push(
            store::lists::get(&mut tx, *id)
                .await
                .map_err(|_| AppError::invalid("unknown_list", "list_ids"))?,
        );
    }
    let mut seen = std::collections::HashSet::new();
    for (index, list) in lists.iter().enumerate() {
        let members = store::lists::members(&mut tx, list.id).await?;
        for r in store::lists::recipients(&mut tx, list, &members).await? {
            if seen.insert(r.email.clone()) {
                reached.push((r, index));
            }
        }
    }
    if reached.is_empty() {
        return Err(AppError::invalid("no_recipients", "list_ids"));
    }
    let id = store::lists::create_notice(
        &mut tx,
        &store::lists::NewNotice {
            list_ids: &list_ids,
            subject_en: &subject_en,
            subject_fr: &subject_fr,
            body_en: &body_en,
            body_fr: &body_fr,
            created_by: Some(who.person.id),
        },
    )
    .await?;
    let composer = state.composer(&mut tx).await?;
    let started = std::time::Instant::now();
    // Composing is CPU work, done off the async workers in chunks; each chunk is written
    // while the next is being composed.
    let recipients = reached.len();
    let texts = [subject_en, body_en, subject_fr, body_fr];
    let (chunks, mut composed) = tokio::sync::mpsc::channel(2);
    let composer_task = tokio::task::spawn_blocking(move || {
        for chunk in reached.chunks(NOTICE_CHUNK) {
            let mails = compose_notice(&composer, id, &lists, chunk, &texts);
            let failed = mails.is_err();
            if chunks.blocking_send(mails).is_err() || failed {
                break;
            }
        }
    });
    let mut queued = 0;
    while let Some(mails) = composed.recv().await {
        queued += store::outbox::enqueue_notice(&mut tx, id, &mails?).await?;
    }
    composer_task.await.map_err(|_| AppError::internal())?;
    store::lists::set_notice_recipients(&mut tx, id, queued as i64).await?;
    tracing::info!(
        notice = id,
        recipients = queued,
        ms = started.elapsed().as_millis() as u64,
        "notice queued"
    );
    append(
        &mut tx,
        actor,
        event(
            "notice.send",
            "notice",
            id,
            None,
            json!({"lists": list_ids, "recipients": queued}),
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(NoticeSent { id, recipients })
}

/// How many of a notice's messages are composed and written at a time.
const NOTICE_CHUNK: usize = 1000;

/// Composes a notice's messages, one per recipient, on every core: each message is rendered
/// and encoded on its own, and a notice may go to thousands.
fn compose_notice(
    composer: &crate::mail::Composer,
    notice_id: i64,
    lists: &[List],
    reached: &[(Recipient, usize)],
    texts: &[String; 4],
) -> AppResult<Vec<store::outbox::NewMail>> {
    let compose_one = |(r, index): &(Recipient, usize)| {
        let list = &lists[*index];
        let en = [
            ("list", list.name_en.clone()),
            ("subject", texts[0].clone()),
            ("body", texts[1].clone()),
        ];
        let fr = [
            ("list", list.name_fr.clone()),
            ("subject", texts[2].clone()),
            ("body", texts[3].clone()),
        ];
        let unsubscribe = match r.person_id {
            Some(person_id) => Unsubscribe::ListPerson {
                list_id: list.id,
                person_id,
            },
            None => Unsubscribe::ListAddress {
                list_id: list.id,
                email: r.email.clone(),
            },
        };
        composer
            .compose(&Draft {
                to: &r.email,
                audience: Audience::of(r.locale.as_deref()),
                key: "notice",
                args: &en,
                fr_args: Some(&fr),
                unsubscribe: Some(unsubscribe),
            })
            .map(|mail| mail.for_event(&format!("n{notice_id}")))
    };
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    if threads == 1 || reached.len() < 200 {
        return reached.iter().map(compose_one).collect();
    }
    let chunk = reached.len().div_ceil(threads);
    std::thread::scope(|scope| {
        let workers: Vec<_> = reached
            .chunks(chunk)
            .map(|part| {
                scope.spawn(move || part.iter().map(compose_one).collect::<AppResult<Vec<_>>>())
            })
            .collect();
        let mut mails = Vec::with_capacity(reached.len());
        for worker in workers {
            mails.extend(worker.join().map_err(|_| AppError::internal())??);
        }
        Ok(mails)
    })
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct NoticeDetail {
    pub notice: store::lists::Notice,
    /// How its messages stand: queued, sent, stored, failed.
    pub deliveries: Vec<(String, i64)>,
}

pub async fn notice(state: &AppState, who: &Identity, id: i64) -> AppResult<NoticeDetail> {
    who.require(Action::WorkTickets)?;
    let mut conn = state.db.reader().acquire().await?;
    Ok(NoticeDetail {
        notice: store::lists::notice(&mut conn, id).await?,
        deliveries: store::lists::notice_deliveries(&mut conn, id).await?,
    })
}

// ---------- unsubscribe links ----------

/// What a link in a mail would do, for the confirmation page.
pub enum LinkTarget {
    /// Notifications of one ticket, for one person.
    Ticket { number: String },
    /// Ask to leave a list.
    List { name_en: String, name_fr: String },
    /// A status-page subscription of this address.
    StatusPage { email: String },
}

async fn target(state: &AppState, token: &str) -> AppResult<(Unsubscribe, LinkTarget)> {
    let mut conn = state.db.reader().acquire().await?;
    let composer = state.composer(&mut conn).await?;
    let what = composer
        .verify_unsubscribe(token)
        .ok_or(AppError::new(StatusCode::NOT_FOUND, "invalid_link"))?;
    let target = match &what {
        Unsubscribe::Ticket { number, .. } => LinkTarget::Ticket {
            number: number.clone(),
        },
        Unsubscribe::ListPerson { list_id, .. } | Unsubscribe::ListAddress { list_id, .. } => {
            let list = store::lists::get(&mut conn, *list_id)
                .await
                .map_err(|_| AppError::new(StatusCode::NOT_FOUND, "invalid_link"))?;
            LinkTarget::List {
                name_en: list.name_en,
                name_fr: list.name_fr,
            }
        }
        Unsubscribe::StatusSubscriber { subscriber_id } => {
            let subscriber = store::status_page::subscriber(&mut conn, *subscriber_id)
                .await
                .map_err(|_| AppError::new(StatusCode::NOT_FOUND, "invalid_link"))?;
            LinkTarget::StatusPage {
                email: subscriber.email,
            }
        }
    };
    Ok((what, target))
}

/// Reads a link without acting on it (the page that asks "turn off?").
pub async fn describe_link(state: &AppState, token: &str) -> AppResult<LinkTarget> {
    Ok(target(state, token).await?.1)
}

/// Acts on a link: turns the ticket's notifications off for that person, or records the
/// list member's removal request. Doing it twice is harmless.
pub async fn follow_link(
    state: &AppState,
    token: &str,
    ip: Option<String>,
) -> AppResult<LinkTarget> {
    let (what, target) = target(state, token).await?;
    let mut tx = state.db.begin().await?;
    let (person, label) = match &what {
        Unsubscribe::Ticket { person_id, .. } | Unsubscribe::ListPerson { person_id, .. } => {
            let p = store::people::get(&mut tx, &domain::policy::OrgScope::All, *person_id)
                .await
                .map_err(|_| AppError::new(StatusCode::NOT_FOUND, "invalid_link"))?;
            (Some(p.id), p.email)
        }
        Unsubscribe::ListAddress { email, .. } => (None, email.clone()),
        Unsubscribe::StatusSubscriber { .. } => match &target {
            LinkTarget::StatusPage { email } => (None, email.clone()),
            _ => return Err(AppError::new(StatusCode::NOT_FOUND, "invalid_link")),
        },
    };
    let actor = Actor {
        person_id: person,
        label,
        ip,
    };
    match &what {
        Unsubscribe::Ticket { number, person_id } => {
            let ticket_id = store::tickets::id_by_number(&mut tx, number).await?;
            let ticket_id =
                ticket_id.ok_or(AppError::new(StatusCode::NOT_FOUND, "invalid_link"))?;
            store::tickets::set_muted(&mut tx, ticket_id, *person_id, true).await?;
            append(
                &mut tx,
                &actor,
                event(
                    "ticket.mute",
                    "ticket",
                    number.clone(),
                    None,
                    json!({"via": "mail_link"}),
                ),
            )
            .await?;
        }
        Unsubscribe::ListPerson { list_id, person_id } => {
            removal_by_link(&mut tx, &actor, *list_id, &Who::Person(*person_id)).await?;
        }
        Unsubscribe::ListAddress { list_id, email } => {
            removal_by_link(&mut tx, &actor, *list_id, &Who::Address(email.clone())).await?;
        }
        Unsubscribe::StatusSubscriber { subscriber_id } => {
            if store::status_page::unsubscribe(&mut tx, *subscriber_id).await? {
                append(
                    &mut tx,
                    &actor,
                    event(
                        "status.unsubscribe",
                        "status_subscriber",
                        subscriber_id,
                        None,
                        json!({"via": "mail_link"}),
                    ),
                )
                .await?;
            }
        }
    }
    tx.commit().await?;
    Ok(target)
}

async fn removal_by_link(
    tx: &mut store::Conn,
    actor: &Actor,
    list_id: i64,
    who: &Who,
) -> AppResult<()> {
    match store::lists::request_removal(tx, list_id, who, "").await {
        Ok(member) => {
            append(
                tx,
                actor,
                event(
                    "list.removal_request",
                    "distribution_list",
                    list_id,
                    None,
                    json!({"member": member, "via": "mail_link"}),
                ),
            )
            .await?;
            Ok(())
        }
        // Already asked, or already removed: the link has done its work.
        Err(store::StoreError::Conflict(_)) => Ok(()),
        Err(e) => Err(e.into()),
    }
}
