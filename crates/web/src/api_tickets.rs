//! Tickets, the request catalogue and canned responses in the JSON API.
use crate::AppState;
use crate::api::{ApiJson, ErrorBody};
use crate::ctx::ApiUser;
use crate::error::{AppError, AppResult};
use crate::tickets::{
    self, BulkResult, CommentInput, RaiseInput, RedactInput, TicketPatch, TicketView, Upload,
};
use axum::Json;
use axum::extract::{Multipart, Path, RawQuery, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use domain::policy::Action;
use domain::ticket::{Channel, Status, TicketKind};
use serde::{Deserialize, Serialize};
use store::catalogue::{CannedResponse, CatalogueService, SubcategoryInput, TypeInput};
use store::tickets::{Cursor, Filter, Sort, Ticket};
use utoipa::{IntoParams, ToSchema};

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct TicketQuery {
    /// Words to find in number, summary, details, references and public comments
    /// (accent-insensitive), or a ticket number.
    pub q: Option<String>,
    /// `open`, `all`, or statuses separated by commas (`new,in_progress`). Default: all.
    pub status: Option<String>,
    /// Organization id or code.
    pub organization: Option<String>,
    pub service: Option<String>,
    /// Support group id or code.
    pub group: Option<String>,
    /// Person id, `me`, or `none`.
    pub assignee: Option<String>,
    pub priority: Option<i64>,
    pub kind: Option<String>,
    /// `true`: only tickets I reported, that were raised for me, or shared with me.
    pub mine: Option<bool>,
    /// SLA state now: `on_track`, `at_risk`, `breached`, `paused` or `met`.
    pub sla: Option<String>,
    /// `newest` (default), `oldest`, `priority`, `updated`, `due` (resolution due time,
    /// soonest first).
    pub sort: Option<String>,
    /// From `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// 1 to 200, default 50.
    pub limit: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TicketList {
    pub items: Vec<Ticket>,
    /// Pass as `cursor` to get the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

/// Parses a query string, mapping mistakes to a 400 with a code.
pub fn parse_query<T: serde::de::DeserializeOwned + Default>(raw: Option<String>) -> AppResult<T> {
    match raw {
        None => Ok(T::default()),
        Some(raw) => serde_urlencoded::from_str(&raw).map_err(|e| {
            if e.to_string().contains("unknown field") {
                AppError::invalid("unknown_field", "query")
            } else {
                AppError::invalid("invalid_type", "query")
            }
        }),
    }
}

/// Turns list parameters into a store filter, resolving codes to ids.
pub async fn filter_from(state: &AppState, who_id: i64, q: &TicketQuery) -> AppResult<Filter> {
    let mut conn = state.db.reader().acquire().await?;
    let mut filter = Filter {
        q: q.q.clone(),
        limit: q.limit.unwrap_or(50),
        priority: q.priority,
        ..Default::default()
    };
    if let Some(limit) = q.limit
        && !(1..=200).contains(&limit)
    {
        return Err(AppError::invalid("out_of_range", "limit"));
    }
    match q.status.as_deref().map(str::trim) {
        None | Some("") | Some("all") => {}
        Some("open") => filter.open_only = true,
        Some(list) => {
            let statuses = list
                .split(',')
                .map(|s| Status::parse(s.trim()))
                .collect::<Option<Vec<_>>>()
                .ok_or(AppError::invalid("invalid_choice", "status"))?;
            filter.statuses = Some(statuses);
        }
    }
    if let Some(org) = q.organization.as_deref().filter(|s| !s.is_empty()) {
        let orgs = store::orgs::list(&mut conn, &domain::policy::OrgScope::All).await?;
        filter.organization_id = Some(
            orgs.iter()
                .find(|o| o.code.eq_ignore_ascii_case(org) || o.id.to_string() == org)
                .ok_or(AppError::invalid("unknown_organization", "organization"))?
                .id,
        );
    }
    if let Some(service) = q.service.as_deref().filter(|s| !s.is_empty()) {
        let services = store::orgs::services(&mut conn).await?;
        filter.service_id = Some(
            services
                .iter()
                .find(|s| s.code.eq_ignore_ascii_case(service) || s.id.to_string() == service)
                .ok_or(AppError::invalid("unknown_service", "service"))?
                .id,
        );
    }
    if let Some(group) = q.group.as_deref().filter(|s| !s.is_empty()) {
        let groups = store::groups::groups(&mut conn).await?;
        filter.support_group_id = Some(
            groups
                .iter()
                .find(|g| g.code.eq_ignore_ascii_case(group) || g.id.to_string() == group)
                .ok_or(AppError::invalid("unknown_group", "group"))?
                .id,
        );
    }
    match q.assignee.as_deref() {
        None | Some("") => {}
        Some("me") => filter.assignee_id = Some(who_id),
        Some("none") => filter.unassigned = true,
        Some(id) => {
            filter.assignee_id = Some(
                id.parse()
                    .map_err(|_| AppError::invalid("invalid_type", "assignee"))?,
            )
        }
    }
    if let Some(kind) = q.kind.as_deref().filter(|s| !s.is_empty()) {
        filter.kind =
            Some(TicketKind::parse(kind).ok_or(AppError::invalid("unknown_kind", "kind"))?);
    }
    if q.mine == Some(true) {
        filter.involving = Some(who_id);
    }
    if let Some(sla) = q.sla.as_deref().filter(|s| !s.is_empty()) {
        filter.sla = Some(
            domain::sla::SlaState::parse(sla).ok_or(AppError::invalid("invalid_choice", "sla"))?,
        );
    }
    if let Some(sort) = q.sort.as_deref().filter(|s| !s.is_empty()) {
        filter.sort = Sort::parse(sort).ok_or(AppError::invalid("invalid_choice", "sort"))?;
    }
    if let Some(cursor) = q.cursor.as_deref().filter(|s| !s.is_empty()) {
        filter.cursor =
            Some(Cursor::decode(cursor).ok_or(AppError::invalid("invalid_cursor", "cursor"))?);
    }
    Ok(filter)
}

/// Tickets you may see, filtered, sorted and paged by cursor.
#[utoipa::path(get, path = "/api/v1/tickets", tag = "tickets", params(TicketQuery),
    responses((status = 200, body = TicketList), (status = 422, body = ErrorBody)))]
pub async fn list_tickets(
    State(state): State<AppState>,
    api_user: ApiUser,
    RawQuery(raw): RawQuery,
) -> AppResult<Json<TicketList>> {
    let ApiUser(_, who) = api_user;
    let q: TicketQuery = parse_query(raw)?;
    let filter = filter_from(&state, who.person.id, &q).await?;
    let page = tickets::list(&state, &who.principal.ticket_scope(), &filter).await?;
    Ok(Json(TicketList {
        items: page.tickets,
        next_cursor: page.next.map(|c| c.encode()),
    }))
}

/// Raise a ticket. With `subcategory_id` the catalogue form decides the kind, the required
/// fields, the default impact/urgency and the support group. Text is checked for patient
/// health information (`phi_detected`, with `detail` pointing at the match).
#[utoipa::path(post, path = "/api/v1/tickets", tag = "tickets", request_body = RaiseInput,
    responses((status = 201, body = TicketView), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_ticket(
    State(state): State<AppState>,
    api_user: ApiUser,
    ApiJson(body): ApiJson<RaiseInput>,
) -> AppResult<Response> {
    let ApiUser(ctx, who) = api_user;
    let actor = ctx.actor();
    let raised = tickets::raise(&state, &who, &actor, &body, Channel::Api, &[]).await?;
    Ok((
        StatusCode::CREATED,
        [(
            header::LOCATION,
            format!("/api/v1/tickets/{}", raised.number),
        )],
        Json(raised.view()),
    )
        .into_response())
}

/// One ticket with its references, people, links, attachments and timeline. Reading a
/// privacy or security ticket is audited.
#[utoipa::path(get, path = "/api/v1/tickets/{number}", tag = "tickets", params(("number" = String, Path, example = "INC-000123")),
    responses((status = 200, body = TicketView), (status = 404, body = ErrorBody)))]
pub async fn get_ticket(
    State(state): State<AppState>,
    api_user: ApiUser,
    Path(number): Path<String>,
) -> AppResult<Json<TicketView>> {
    let ApiUser(ctx, who) = api_user;
    Ok(Json(
        tickets::view(&state, &who, &ctx.actor(), &number).await?,
    ))
}

/// Why a ticket is due when it is: policy pack and version, priority and calendar, each
/// clock's state, the stretches of history counted and paused, holidays and closures
/// skipped, and the warnings and escalations still to come.
#[utoipa::path(get, path = "/api/v1/tickets/{number}/sla", tag = "tickets", params(("number" = String, Path, example = "INC-000123")),
    responses((status = 200, body = crate::sla::SlaView), (status = 404, body = ErrorBody)))]
pub async fn ticket_sla(
    State(state): State<AppState>,
    api_user: ApiUser,
    Path(number): Path<String>,
) -> AppResult<Json<crate::sla::SlaView>> {
    let ApiUser(ctx, who) = api_user;
    let t = tickets::load(&state, &who, &ctx.actor(), &number).await?;
    let mut conn = state.db.reader().acquire().await?;
    let evaluation = crate::sla::evaluate(&state.packs, &mut conn, &t, domain::time::now()).await?;
    Ok(Json(evaluation.view))
}

/// Agents: the ticket's outgoing messages and their delivery (queued, sent, stored
/// locally, failed), with attempts and the last error.
#[utoipa::path(get, path = "/api/v1/tickets/{number}/deliveries", tag = "tickets", params(("number" = String, Path, example = "INC-000123")),
    responses((status = 200, body = Vec<store::outbox::OutboxMessage>), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn ticket_deliveries(
    State(state): State<AppState>,
    api_user: ApiUser,
    Path(number): Path<String>,
) -> AppResult<Json<Vec<store::outbox::OutboxMessage>>> {
    let ApiUser(ctx, who) = api_user;
    if !who.principal.allows(Action::WorkTickets) {
        return Err(AppError::forbidden());
    }
    let t = tickets::load(&state, &who, &ctx.actor(), &number).await?;
    let mut conn = state.db.reader().acquire().await?;
    Ok(Json(store::outbox::for_ticket(&mut conn, t.id).await?))
}

/// The stored policy pack versions; `selected` is the one new tickets are opened under.
#[utoipa::path(get, path = "/api/v1/policy-packs", tag = "tickets",
    responses((status = 200, body = PolicyPackList), (status = 403, body = ErrorBody)))]
pub async fn list_policy_packs(
    State(state): State<AppState>,
    api_user: ApiUser,
) -> AppResult<Json<PolicyPackList>> {
    let ApiUser(_, who) = api_user;
    if !who.principal.allows(Action::WorkTickets) {
        return Err(AppError::forbidden());
    }
    let mut conn = state.db.reader().acquire().await?;
    Ok(Json(PolicyPackList {
        selected: store::policy_packs::selected(&mut conn)
            .await?
            .map(|p| p.id),
        packs: store::policy_packs::list(&mut conn).await?,
    }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PolicyPackList {
    pub selected: Option<i64>,
    pub packs: Vec<store::policy_packs::StoredPack>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewPolicyPack {
    /// The pack file's TOML text (see `policies/priority.toml`).
    pub source: String,
    /// Also open new tickets under it.
    #[serde(default)]
    pub select: bool,
}

/// Checks a policy pack file and stores it as a new version (administrators). A refused file
/// stores nothing: 422 `invalid_policy`, with the line and field in the message and in
/// `detail` (`line`, `field`, `code`, `message`). A code and version already loaded: 409
/// `version_exists`. Audited.
#[utoipa::path(post, path = "/api/v1/policy-packs", tag = "tickets", request_body = NewPolicyPack,
    responses((status = 201, body = store::policy_packs::StoredPack), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn load_policy_pack(
    State(state): State<AppState>,
    api_user: ApiUser,
    ApiJson(body): ApiJson<NewPolicyPack>,
) -> AppResult<(StatusCode, Json<store::policy_packs::StoredPack>)> {
    let ApiUser(ctx, who) = api_user;
    if !who.principal.allows(Action::ManagePolicy) {
        return Err(AppError::forbidden());
    }
    let (id, _) =
        crate::policy_admin::load(&state.db, &body.source, &ctx.actor(), body.select).await?;
    if body.select {
        state.packs.selection_changed();
    }
    let mut conn = state.db.reader().acquire().await?;
    let stored = store::policy_packs::get(&mut conn, id).await?;
    Ok((StatusCode::CREATED, Json(stored)))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PolicySelection {
    /// A stored pack version's id (from `GET /api/v1/policy-packs`).
    pub id: i64,
}

/// Opens new tickets under a stored pack version (administrators). Tickets already open keep
/// theirs. Audited.
#[utoipa::path(put, path = "/api/v1/policy-packs/selected", tag = "tickets", request_body = PolicySelection,
    responses((status = 200, body = store::policy_packs::StoredPack), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn select_policy_pack(
    State(state): State<AppState>,
    api_user: ApiUser,
    ApiJson(body): ApiJson<PolicySelection>,
) -> AppResult<Json<store::policy_packs::StoredPack>> {
    let ApiUser(ctx, who) = api_user;
    if !who.principal.allows(Action::ManagePolicy) {
        return Err(AppError::forbidden());
    }
    match crate::policy_admin::select(&state.db, &ctx.actor(), body.id).await {
        Ok(_) => {}
        Err(crate::policy_admin::LoadError::Store(store::StoreError::NotFound)) => {
            return Err(AppError::invalid("invalid_choice", "id"));
        }
        Err(e) => return Err(e.into()),
    }
    state.packs.selection_changed();
    let mut conn = state.db.reader().acquire().await?;
    Ok(Json(store::policy_packs::get(&mut conn, body.id).await?))
}

/// One-off calendar closures: dates on which a calendar (or every calendar that follows
/// holiday rules) is closed all day. They are calendar data kept outside policy pack
/// versions, so they move the due times of open tickets too.
#[utoipa::path(get, path = "/api/v1/calendar-closures", tag = "tickets",
    responses((status = 200, body = Vec<store::calendar_closures::CalendarClosure>), (status = 403, body = ErrorBody)))]
pub async fn list_calendar_closures(
    State(state): State<AppState>,
    api_user: ApiUser,
) -> AppResult<Json<Vec<store::calendar_closures::CalendarClosure>>> {
    let ApiUser(_, who) = api_user;
    if !who.principal.allows(Action::WorkTickets) {
        return Err(AppError::forbidden());
    }
    let mut conn = state.db.reader().acquire().await?;
    Ok(Json(store::calendar_closures::list(&mut conn).await?))
}

/// Adds a closure (administrators); the clocks of open tickets are computed again before the
/// answer. The same date twice for the same calendar: 409 `closure_exists`. Audited.
#[utoipa::path(post, path = "/api/v1/calendar-closures", tag = "tickets", request_body = crate::policy_admin::ClosureInput,
    responses((status = 201, body = store::calendar_closures::CalendarClosure), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn add_calendar_closure(
    State(state): State<AppState>,
    api_user: ApiUser,
    ApiJson(body): ApiJson<crate::policy_admin::ClosureInput>,
) -> AppResult<(StatusCode, Json<store::calendar_closures::CalendarClosure>)> {
    let ApiUser(ctx, who) = api_user;
    if !who.principal.allows(Action::ManagePolicy) {
        return Err(AppError::forbidden());
    }
    let change = crate::policy_admin::add_closure(&state, &ctx.actor(), &body).await?;
    Ok((StatusCode::CREATED, Json(change.closure)))
}

/// Removes a closure (administrators); the clocks of open tickets are computed again before
/// the answer. Audited.
#[utoipa::path(delete, path = "/api/v1/calendar-closures/{id}", tag = "tickets", params(("id" = i64, Path)),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn remove_calendar_closure(
    State(state): State<AppState>,
    api_user: ApiUser,
    Path(id): Path<i64>,
) -> AppResult<StatusCode> {
    let ApiUser(ctx, who) = api_user;
    if !who.principal.allows(Action::ManagePolicy) {
        return Err(AppError::forbidden());
    }
    crate::policy_admin::remove_closure(&state, &ctx.actor(), id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Change fields, status, priority (with a reason), group, assignee, or escalate.
#[utoipa::path(patch, path = "/api/v1/tickets/{number}", tag = "tickets", params(("number" = String, Path)), request_body = TicketPatch,
    responses((status = 200, body = TicketView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn patch_ticket(
    State(state): State<AppState>,
    api_user: ApiUser,
    Path(number): Path<String>,
    ApiJson(body): ApiJson<TicketPatch>,
) -> AppResult<Json<TicketView>> {
    let ApiUser(ctx, who) = api_user;
    let actor = ctx.actor();
    let t = tickets::update(&state, &who, &actor, &number, &body).await?;
    Ok(Json(tickets::view(&state, &who, &actor, &t.number).await?))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedEntry {
    /// Timeline entry id.
    pub id: i64,
}

/// Add a public comment, or an internal note (agents).
#[utoipa::path(post, path = "/api/v1/tickets/{number}/comments", tag = "tickets", params(("number" = String, Path)), request_body = CommentInput,
    responses((status = 201, body = CreatedEntry), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn add_comment(
    State(state): State<AppState>,
    api_user: ApiUser,
    Path(number): Path<String>,
    ApiJson(body): ApiJson<CommentInput>,
) -> AppResult<Response> {
    let ApiUser(ctx, who) = api_user;
    let id = tickets::comment(&state, &who, &ctx.actor(), &number, &body, &[]).await?;
    Ok((StatusCode::CREATED, Json(CreatedEntry { id })).into_response())
}

/// Multipart form: what was read, text fields and files.
pub struct MultipartForm {
    pub fields: Vec<(String, String)>,
    pub files: Vec<Upload>,
}

impl MultipartForm {
    pub fn get(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
    pub fn all(&self, name: &str) -> Vec<String> {
        self.fields
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .collect()
    }
}

/// A multipart form: its text fields, its files, and the first problem with a file. The
/// file inputs come last in every form, so that when a file is refused everything typed
/// before it has been read and can be shown again.
pub async fn read_form(
    state: &AppState,
    mut multipart: Multipart,
) -> AppResult<(MultipartForm, Option<AppError>)> {
    let max = state.settings.attachment_max_bytes;
    let bad = |_| AppError::bad_request("invalid_form");
    let mut form = MultipartForm {
        fields: Vec::new(),
        files: Vec::new(),
    };
    while let Some(mut field) = multipart.next_field().await.map_err(bad)? {
        let name = field.name().unwrap_or_default().to_owned();
        match field.file_name().map(str::to_owned) {
            Some(filename) => {
                let mut bytes = Vec::new();
                while let Some(chunk) = field.chunk().await.map_err(bad)? {
                    if bytes.len() + chunk.len() > max {
                        let e = AppError::invalid("attachment_too_large", "attachment");
                        return Ok((form, Some(e)));
                    }
                    bytes.extend_from_slice(&chunk);
                }
                if filename.is_empty() && bytes.is_empty() {
                    continue; // an empty file input
                }
                if form.files.len() >= 10 {
                    return Ok((form, Some(AppError::invalid("too_many", "attachment"))));
                }
                form.files.push(Upload { filename, bytes });
            }
            None => {
                let mut bytes = Vec::new();
                while let Some(chunk) = field.chunk().await.map_err(bad)? {
                    if bytes.len() + chunk.len() > 256 * 1024 {
                        return Err(AppError::new(
                            StatusCode::PAYLOAD_TOO_LARGE,
                            "payload_too_large",
                        ));
                    }
                    bytes.extend_from_slice(&chunk);
                }
                let value =
                    String::from_utf8(bytes).map_err(|_| AppError::bad_request("invalid_form"))?;
                form.fields.push((name, value));
            }
        }
    }
    Ok((form, None))
}

/// Reads a multipart body, refusing any file over the configured size while it streams and
/// more than 10 files.
pub async fn read_multipart(state: &AppState, multipart: Multipart) -> AppResult<MultipartForm> {
    match read_form(state, multipart).await? {
        (form, None) => Ok(form),
        (_, Some(file_error)) => Err(file_error),
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedAttachments {
    pub ids: Vec<i64>,
    /// The timeline entry the files were added with.
    pub entry: i64,
}

#[allow(dead_code)]
#[derive(ToSchema)]
struct AttachmentUpload {
    /// One or more files (`file` parts).
    #[schema(value_type = Vec<String>, format = Binary)]
    file: Vec<u8>,
    /// Optional comment sent with the files.
    comment: Option<String>,
    /// `true` for an internal attachment (agents).
    internal: Option<bool>,
}

/// Attach files (multipart/form-data, `file` parts, optional `comment` and `internal`).
/// Types are checked against the file's first bytes; text files are scanned for PHI.
#[utoipa::path(post, path = "/api/v1/tickets/{number}/attachments", tag = "tickets", params(("number" = String, Path)),
    request_body(content = AttachmentUpload, content_type = "multipart/form-data"),
    responses((status = 201, body = CreatedAttachments), (status = 422, body = ErrorBody)))]
pub async fn upload_attachments(
    State(state): State<AppState>,
    api_user: ApiUser,
    Path(number): Path<String>,
    multipart: Multipart,
) -> AppResult<Response> {
    let ApiUser(ctx, who) = api_user;
    let form = read_multipart(&state, multipart).await?;
    if form.files.is_empty() {
        return Err(AppError::invalid("required", "attachment"));
    }
    let input = CommentInput {
        body: form.get("comment").unwrap_or_default().to_owned(),
        internal: matches!(form.get("internal"), Some("true" | "1" | "on")),
    };
    let actor = ctx.actor();
    let entry = tickets::comment(&state, &who, &actor, &number, &input, &form.files).await?;
    let mut conn = state.db.reader().acquire().await?;
    let t =
        store::tickets::get_by_number(&mut conn, &who.principal.ticket_scope(), &number).await?;
    let ids = store::tickets::attachments(&mut conn, t.id, true)
        .await?
        .into_iter()
        .filter(|a| a.event_id == Some(entry))
        .map(|a| a.id)
        .collect();
    Ok((StatusCode::CREATED, Json(CreatedAttachments { ids, entry })).into_response())
}

/// Download an attachment (same visibility as the ticket; internal files for agents only).
#[utoipa::path(get, path = "/api/v1/tickets/{number}/attachments/{id}", tag = "tickets", params(("number" = String, Path), ("id" = i64, Path)),
    responses((status = 200, content_type = "application/octet-stream", body = Vec<u8>), (status = 404, body = ErrorBody)))]
pub async fn download_attachment(
    State(state): State<AppState>,
    api_user: ApiUser,
    Path((number, id)): Path<(String, i64)>,
) -> AppResult<Response> {
    let ApiUser(ctx, who) = api_user;
    let (a, bytes) = tickets::attachment(&state, &who, &ctx.actor(), &number, id).await?;
    Ok(attachment_response(&a, bytes))
}

/// The file as a download, never rendered inline (a stored HTML or SVG cannot run).
pub fn attachment_response(a: &store::tickets::Attachment, bytes: Vec<u8>) -> Response {
    let safe_name: String = a
        .filename
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || ".-_ ".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    let inline = a.content_type.starts_with("image/") || a.content_type == "application/pdf";
    (
        [
            (header::CONTENT_TYPE, a.content_type.clone()),
            (
                header::CONTENT_DISPOSITION,
                format!(
                    "{}; filename=\"{safe_name}\"",
                    if inline { "inline" } else { "attachment" }
                ),
            ),
            (header::CACHE_CONTROL, "private, no-store".to_owned()),
        ],
        bytes,
    )
        .into_response()
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ShareBody {
    /// Email or id of a colleague in the ticket's organization.
    pub person: String,
}

/// Share a ticket with a colleague of the same organization.
#[utoipa::path(post, path = "/api/v1/tickets/{number}/share", tag = "tickets", params(("number" = String, Path)), request_body = ShareBody,
    responses((status = 204), (status = 422, body = ErrorBody)))]
pub async fn share_ticket(
    State(state): State<AppState>,
    api_user: ApiUser,
    Path(number): Path<String>,
    ApiJson(body): ApiJson<ShareBody>,
) -> AppResult<StatusCode> {
    let ApiUser(ctx, who) = api_user;
    tickets::share(&state, &who, &ctx.actor(), &number, &body.person).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MuteBody {
    pub muted: bool,
}

/// Turn your notifications for this ticket off (`muted: true`) or back on.
#[utoipa::path(put, path = "/api/v1/tickets/{number}/notifications", tag = "tickets", params(("number" = String, Path)), request_body = MuteBody,
    responses((status = 204), (status = 404, body = ErrorBody)))]
pub async fn mute_ticket(
    State(state): State<AppState>,
    api_user: ApiUser,
    Path(number): Path<String>,
    ApiJson(body): ApiJson<MuteBody>,
) -> AppResult<StatusCode> {
    let ApiUser(_, who) = api_user;
    tickets::mute(&state, &who, &number, body.muted).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WatchBody {
    pub watching: bool,
}

/// Agents: watch a ticket or stop watching it.
#[utoipa::path(put, path = "/api/v1/tickets/{number}/watch", tag = "tickets", params(("number" = String, Path)), request_body = WatchBody,
    responses((status = 204), (status = 403, body = ErrorBody)))]
pub async fn watch_ticket(
    State(state): State<AppState>,
    api_user: ApiUser,
    Path(number): Path<String>,
    ApiJson(body): ApiJson<WatchBody>,
) -> AppResult<StatusCode> {
    let ApiUser(ctx, who) = api_user;
    tickets::watch(&state, &who, &ctx.actor(), &number, body.watching).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LinkBody {
    /// The other ticket's number.
    pub number: String,
    /// `related`, `caused_by` (incident → problem) or `fixed_by` (→ change).
    pub kind: String,
}

/// Agents: link this ticket to another.
#[utoipa::path(post, path = "/api/v1/tickets/{number}/links", tag = "tickets", params(("number" = String, Path)), request_body = LinkBody,
    responses((status = 204), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn link_ticket(
    State(state): State<AppState>,
    api_user: ApiUser,
    Path(number): Path<String>,
    ApiJson(body): ApiJson<LinkBody>,
) -> AppResult<StatusCode> {
    let ApiUser(ctx, who) = api_user;
    tickets::link(
        &state,
        &who,
        &ctx.actor(),
        &number,
        &body.number,
        &body.kind,
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MergeBody {
    /// The ticket that survives.
    pub into: String,
}

/// Agents: merge this duplicate into another open ticket of the same organization.
#[utoipa::path(post, path = "/api/v1/tickets/{number}/merge", tag = "tickets", params(("number" = String, Path)), request_body = MergeBody,
    responses((status = 204), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn merge_ticket(
    State(state): State<AppState>,
    api_user: ApiUser,
    Path(number): Path<String>,
    ApiJson(body): ApiJson<MergeBody>,
) -> AppResult<StatusCode> {
    let ApiUser(ctx, who) = api_user;
    tickets::merge(&state, &who, &ctx.actor(), &number, &body.into).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Redacted {
    pub count: usize,
}

/// Agents: redact text (an exact piece, or every PHI match) from a field or a comment. The
/// audit log records the redaction, not the removed text.
#[utoipa::path(post, path = "/api/v1/tickets/{number}/redactions", tag = "tickets", params(("number" = String, Path)), request_body = RedactInput,
    responses((status = 200, body = Redacted), (status = 422, body = ErrorBody)))]
pub async fn redact_ticket(
    State(state): State<AppState>,
    api_user: ApiUser,
    Path(number): Path<String>,
    ApiJson(body): ApiJson<RedactInput>,
) -> AppResult<Json<Redacted>> {
    let ApiUser(ctx, who) = api_user;
    let count = tickets::redact(&state, &who, &ctx.actor(), &number, &body).await?;
    Ok(Json(Redacted { count }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BulkBody {
    pub numbers: Vec<String>,
    pub patch: TicketPatch,
}

/// Agents: apply one change (assign, transition, group) to up to 200 tickets.
#[utoipa::path(post, path = "/api/v1/tickets/bulk", tag = "tickets", request_body = BulkBody,
    responses((status = 200, body = Vec<BulkResult>), (status = 403, body = ErrorBody)))]
pub async fn bulk_tickets(
    State(state): State<AppState>,
    api_user: ApiUser,
    ApiJson(body): ApiJson<BulkBody>,
) -> AppResult<Json<Vec<BulkResult>>> {
    let ApiUser(ctx, who) = api_user;
    Ok(Json(
        tickets::bulk(&state, &who, &ctx.actor(), &body.numbers, &body.patch).await?,
    ))
}

/// The request catalogue: services → request types → sub-categories with their forms.
#[utoipa::path(get, path = "/api/v1/catalogue", tag = "catalogue",
    responses((status = 200, body = Vec<CatalogueService>)))]
pub async fn get_catalogue(
    State(state): State<AppState>,
    api_user: ApiUser,
) -> AppResult<Json<Vec<CatalogueService>>> {
    let ApiUser(_, who) = api_user;
    let mut conn = state.db.reader().acquire().await?;
    let all = who.principal.allows(Action::EditCatalogue);
    Ok(Json(store::catalogue::tree(&mut conn, !all).await?))
}

async fn catalogue_write<T>(
    state: &AppState,
    api_user: ApiUser,
    action: &'static str,
    id: Option<i64>,
    body: &T,
    save: impl AsyncFnOnce(&mut store::Conn, Option<i64>, &T) -> store::StoreResult<i64>,
) -> AppResult<Json<crate::api::Created>>
where
    T: std::fmt::Debug,
{
    let ApiUser(ctx, who) = api_user;
    if !who.principal.allows(Action::EditCatalogue) {
        return Err(AppError::forbidden());
    }
    let mut tx = state.db.begin().await?;
    let saved = save(&mut tx, id, body).await?;
    store::audit::append(
        &mut tx,
        &ctx.actor(),
        store::audit::Event {
            action,
            entity_type: "catalogue",
            entity_id: Some(saved.to_string()),
            organization_id: None,
            detail: serde_json::json!({ "input": format!("{body:?}") }),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(Json(crate::api::Created { id: saved }))
}

/// Administrators: add a request type.
#[utoipa::path(post, path = "/api/v1/catalogue/request-types", tag = "catalogue", request_body = TypeInput,
    responses((status = 200, body = crate::api::Created), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_request_type(
    State(state): State<AppState>,
    api_user: ApiUser,
    ApiJson(body): ApiJson<TypeInput>,
) -> AppResult<Json<crate::api::Created>> {
    catalogue_write(
        &state,
        api_user,
        "catalogue.type.create",
        None,
        &body,
        async |c, id, b| store::catalogue::save_type(c, id, b).await,
    )
    .await
}

/// Administrators: change a request type.
#[utoipa::path(put, path = "/api/v1/catalogue/request-types/{id}", tag = "catalogue", params(("id" = i64, Path)), request_body = TypeInput,
    responses((status = 200, body = crate::api::Created), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn update_request_type(
    State(state): State<AppState>,
    api_user: ApiUser,
    Path(id): Path<i64>,
    ApiJson(body): ApiJson<TypeInput>,
) -> AppResult<Json<crate::api::Created>> {
    catalogue_write(
        &state,
        api_user,
        "catalogue.type.update",
        Some(id),
        &body,
        async |c, id, b| store::catalogue::save_type(c, id, b).await,
    )
    .await
}

/// Administrators: add a sub-category with its form.
#[utoipa::path(post, path = "/api/v1/catalogue/subcategories", tag = "catalogue", request_body = SubcategoryInput,
    responses((status = 200, body = crate::api::Created), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_subcategory(
    State(state): State<AppState>,
    api_user: ApiUser,
    ApiJson(body): ApiJson<SubcategoryInput>,
) -> AppResult<Json<crate::api::Created>> {
    catalogue_write(
        &state,
        api_user,
        "catalogue.subcategory.create",
        None,
        &body,
        async |c, id, b| store::catalogue::save_subcategory(c, id, b).await,
    )
    .await
}

/// Administrators: change a sub-category and its form.
#[utoipa::path(put, path = "/api/v1/catalogue/subcategories/{id}", tag = "catalogue", params(("id" = i64, Path)), request_body = SubcategoryInput,
    responses((status = 200, body = crate::api::Created), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn update_subcategory(
    State(state): State<AppState>,
    api_user: ApiUser,
    Path(id): Path<i64>,
    ApiJson(body): ApiJson<SubcategoryInput>,
) -> AppResult<Json<crate::api::Created>> {
    catalogue_write(
        &state,
        api_user,
        "catalogue.subcategory.update",
        Some(id),
        &body,
        async |c, id, b| store::catalogue::save_subcategory(c, id, b).await,
    )
    .await
}

/// Canned responses agents insert into replies (EN and FR).
#[utoipa::path(get, path = "/api/v1/canned-responses", tag = "catalogue",
    responses((status = 200, body = Vec<CannedResponse>), (status = 403, body = ErrorBody)))]
pub async fn list_canned(
    State(state): State<AppState>,
    api_user: ApiUser,
) -> AppResult<Json<Vec<CannedResponse>>> {
    let ApiUser(_, who) = api_user;
    if !who.principal.allows(Action::WorkTickets) {
        return Err(AppError::forbidden());
    }
    let mut conn = state.db.reader().acquire().await?;
    Ok(Json(store::catalogue::canned_responses(&mut conn).await?))
}

/// Administrators: add or replace (by code) a canned response.
#[utoipa::path(post, path = "/api/v1/canned-responses", tag = "catalogue", request_body = CannedResponse,
    responses((status = 200, body = crate::api::Created), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn save_canned(
    State(state): State<AppState>,
    api_user: ApiUser,
    ApiJson(body): ApiJson<CannedResponse>,
) -> AppResult<Json<crate::api::Created>> {
    catalogue_write(
        &state,
        api_user,
        "catalogue.canned.save",
        None,
        &body,
        async |c, _, b| store::catalogue::save_canned_response(c, b).await,
    )
    .await
}
