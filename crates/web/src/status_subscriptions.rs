//! Subscriptions to the public status page: to everything, to chosen components, or to one
//! open incident or maintenance, by email with double opt-in.
//!
//! - `GET/POST /status/subscribe` (and `POST /api/v1/status/subscriptions`) take the
//!   request and mail a confirmation link; the answer is always "check your mail", so it
//!   never tells whether an address is already subscribed. An address whose subscription
//!   is already confirmed gets the link to its preferences page instead, and nothing changes.
//! - `GET/POST /status/subscriptions/{token}/confirm` confirms (only the POST acts: mail
//!   scanners open links).
//! - `GET/POST /status/subscriptions/{token}` is the preferences page: language,
//!   everything or chosen components, unsubscribe. Every notice links to it.
//!
//! The tokens are [`crate::mail::Composer::signed_id`] tokens (`status-confirm`,
//! `status-manage`): the signed link is the authority, as for `/unsubscribe/{token}`, so the
//! confirm and preferences POSTs need neither a session nor a CSRF token (whoever could
//! forge the request would need the token, which only the mailbox has).
//!
//! No mail bomb: a client (IP address) may ask [`ClientLimit::MAX`] times per
//! [`ClientLimit::WINDOW`] on this node (then 429 `rate_limited`), and an address gets at
//! most [`MAX_MAILS_PER_ADDRESS`] subscribe mails per 24 hours, counted on its subscription
//! rows (`confirmations_sent`, `last_confirmation_at`) across all its subscriptions.
use crate::AppState;
use crate::csrf::CsrfForm;
use crate::ctx::Ctx;
use crate::error::{AppError, AppResult};
use crate::html::{Shell, render, render_status, shown_on_form};
use crate::mail::{Audience, Draft};
use crate::service::event;
use askama::Template;
use axum::Router;
use axum::extract::{Form, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use domain::text::{Email, Locale};
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};
use store::audit::{Actor, append};
use store::status_page::{self as sp, Subscriber};

/// Token purposes: a confirmation link cannot open a preferences page, nor the reverse.
pub const CONFIRM: &str = "status-confirm";
pub const MANAGE: &str = "status-manage";

/// Subscribe mails (confirmations, preferences links) one address may receive per 24 h.
pub const MAX_MAILS_PER_ADDRESS: i64 = 3;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/status/subscribe",
            get(subscribe_page).post(subscribe_submit),
        )
        .route(
            "/status/subscriptions/{token}/confirm",
            get(confirm_page).post(confirm_submit),
        )
        .route(
            "/status/subscriptions/{token}",
            get(preferences_page).post(preferences_submit),
        )
}

// ---------- the per-client limit ----------

/// Subscribe requests per client on this node, in a sliding window. Kept in memory: a
/// restart or another node starts afresh, which the per-address limit (in the database)
/// backs up.
#[derive(Default)]
pub struct ClientLimit {
    seen: Mutex<HashMap<String, VecDeque<Instant>>>,
}

impl ClientLimit {
    pub const MAX: usize = 10;
    pub const WINDOW: Duration = Duration::from_secs(600);
    /// Above this many clients, forget those with nothing left in the window.
    const PRUNE_AT: usize = 10_000;

    /// Counts a request from `client`; false when it is over the limit (not counted).
    pub fn allow(&self, client: &str) -> bool {
        self.allow_at(client, Instant::now())
    }

    fn allow_at(&self, client: &str, now: Instant) -> bool {
        let mut seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
        let fresh = |t: &Instant| now.saturating_duration_since(*t) < Self::WINDOW;
        if seen.len() >= Self::PRUNE_AT {
            seen.retain(|_, times| times.back().is_some_and(fresh));
        }
        let times = seen.entry(client.to_owned()).or_default();
        while times.front().is_some_and(|t| !fresh(t)) {
            times.pop_front();
        }
        if times.len() >= Self::MAX {
            return false;
        }
        times.push_back(now);
        true
    }
}

// ---------- the rules ----------

/// A subscribe request (the page's form and the API's body).
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SubscribeInput {
    pub email: String,
    /// `en`, `fr`, or `both` (default): the language of the messages.
    #[serde(default)]
    pub locale: Option<String>,
    /// Only these components: their numeric ids (`/api/v2` shows component 12 as
    /// `cmp12`); absent: everything.
    #[serde(default)]
    pub components: Option<Vec<i64>>,
    /// Only this open incident or maintenance.
    #[serde(default)]
    pub event_id: Option<i64>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SubscribeAccepted {
    /// Always `confirmation_sent`, whether or not a message was sent (it does not tell
    /// whether the address is subscribed).
    pub status: &'static str,
}

/// `en`, `fr`, or `both`/empty/absent (both languages in one message).
fn parse_locale(value: Option<&str>) -> AppResult<Option<Locale>> {
    match value.map(str::trim) {
        None | Some("") | Some("both") => Ok(None),
        Some(v) => Locale::parse(v).map(Some).ok_or_else(|| {
            AppError::invalid("invalid_choice", "locale").with_arg("value", v.to_owned())
        }),
    }
}

/// What a subscription follows, checked.
enum Scope {
    All,
    Components(Vec<i64>),
    /// An open incident or maintenance (its id).
    Event(i64),
}

impl Scope {
    fn key(&self) -> &'static str {
        match self {
            Scope::All => "all",
            Scope::Components(_) => "components",
            Scope::Event(_) => "event",
        }
    }
    fn event_id(&self) -> Option<i64> {
        match self {
            Scope::Event(id) => Some(*id),
            _ => None,
        }
    }
}

async fn checked_components(conn: &mut store::Conn, ids: &[i64]) -> AppResult<Vec<i64>> {
    if ids.is_empty() {
        return Err(AppError::invalid(
            "subscription_no_components",
            "components",
        ));
    }
    let known = sp::components(conn).await?;
    let mut out = Vec::new();
    for id in ids {
        if !known.iter().any(|c| c.id == *id) {
            return Err(AppError::invalid("unknown_component", "components")
                .with_detail(json!({"component_id": id})));
        }
        if !out.contains(id) {
            out.push(*id);
        }
    }
    out.sort_unstable();
    Ok(out)
}

async fn open_event(conn: &mut store::Conn, id: i64) -> AppResult<sp::Event> {
    let event = match sp::event(conn, id).await {
        Err(store::StoreError::NotFound) => {
            return Err(AppError::invalid("unknown_status_event", "event_id"));
        }
        other => other?,
    };
    if event.resolved_at.is_some() {
        return Err(AppError::invalid("status_event_closed", "event_id"));
    }
    Ok(event)
}

async fn scope_of(conn: &mut store::Conn, input: &SubscribeInput) -> AppResult<Scope> {
    match (&input.components, input.event_id) {
        (Some(_), Some(_)) => Err(AppError::invalid("subscription_one_scope", "event_id")),
        (None, Some(id)) => Ok(Scope::Event(open_event(conn, id).await?.id)),
        (Some(ids), None) => Ok(Scope::Components(checked_components(conn, ids).await?)),
        (None, None) => Ok(Scope::All),
    }
}

/// What a subscription follows, as the messages and pages say it.
async fn describe(
    conn: &mut store::Conn,
    subscriber: &Subscriber,
    locale: Locale,
) -> AppResult<String> {
    Ok(match subscriber.scope.as_str() {
        "components" => {
            let chosen = sp::subscriber_components(conn, subscriber.id).await?;
            let names: Vec<String> = sp::components(conn)
                .await?
                .into_iter()
                .filter(|c| chosen.contains(&c.id))
                .map(|c| locale.pick(&c.name_en, &c.name_fr).to_owned())
                .collect();
            names.join(", ")
        }
        "event" => match subscriber.event_id {
            Some(id) => {
                let e = sp::event(conn, id).await?;
                let key = if e.kind == crate::status::MAINTENANCE {
                    "status-sub-what-maintenance"
                } else {
                    "status-sub-what-incident"
                };
                crate::i18n::t_args(
                    locale,
                    key,
                    &[("title", locale.pick(&e.title_en, &e.title_fr).to_owned())],
                )
            }
            None => crate::i18n::t(locale, "status-sub-what-all"),
        },
        _ => crate::i18n::t(locale, "status-sub-what-all"),
    })
}

fn preferences_url(state: &AppState, composer: &crate::mail::Composer, id: i64) -> String {
    format!(
        "{}/status/subscriptions/{}",
        state.settings.public_base_url,
        composer.signed_id(MANAGE, id)
    )
}

fn confirm_url(state: &AppState, composer: &crate::mail::Composer, id: i64) -> String {
    format!(
        "{}/status/subscriptions/{}/confirm",
        state.settings.public_base_url,
        composer.signed_id(CONFIRM, id)
    )
}

/// Queues the mail a subscribe request causes: `status-confirm` with the confirmation
/// link, or `status-manage` with the preferences link for a confirmed subscription.
async fn send_subscribe_mail(
    state: &AppState,
    conn: &mut store::Conn,
    subscriber: &Subscriber,
    key: &str,
    link: String,
) -> AppResult<()> {
    let composer = state.composer(conn).await?;
    let en = vec![
        ("what", describe(conn, subscriber, Locale::En).await?),
        ("link", link.clone()),
    ];
    let fr = vec![
        ("what", describe(conn, subscriber, Locale::Fr).await?),
        ("link", link),
    ];
    composer
        .send(
            conn,
            &Draft {
                to: &subscriber.email,
                audience: Audience::of(subscriber.locale.as_deref()),
                key,
                args: &en,
                fr_args: Some(&fr),
                unsubscribe: None,
            },
        )
        .await
}

/// Takes a subscribe request: checks it, creates or reuses the subscription and mails the
/// confirmation link. `Ok` says nothing about what was sent (see the module's notes).
pub async fn subscribe(
    state: &AppState,
    ip: Option<&str>,
    input: &SubscribeInput,
) -> AppResult<()> {
    // Every request counts, refused ones too: probing costs the same as asking.
    if !state.subscribe_clients.allow(ip.unwrap_or("unknown")) {
        metrics::counter!("triage_status_subscribe_refused_total", "why" => "client").increment(1);
        return Err(AppError::new(StatusCode::TOO_MANY_REQUESTS, "rate_limited"));
    }
    let email = Email::parse(&input.email)?;
    let locale = parse_locale(input.locale.as_deref())?;
    let locale_text = locale.map(|l| l.as_str());
    let mut tx = state.db.begin().await?;
    let scope = scope_of(&mut tx, input).await?;
    let window_start =
        domain::time::to_db(domain::time::now() - jiff::SignedDuration::from_hours(24));
    if sp::confirmations_since(&mut tx, email.as_str(), &window_start).await?
        >= MAX_MAILS_PER_ADDRESS
    {
        // The same answer as when a message goes out, and nothing sent: a different one
        // would tell a stranger that someone asked for this address, and the person who
        // really asked already has up to three messages with the link.
        metrics::counter!("triage_status_subscribe_refused_total", "why" => "address").increment(1);
        tracing::info!("status subscription: address over its daily limit, nothing sent");
        return Ok(());
    }
    let existing =
        sp::find_subscriber(&mut tx, email.as_str(), scope.key(), scope.event_id()).await?;
    let (id, key) = match existing {
        // Already confirmed and active: the preferences link, and nothing changes.
        Some(s) if s.confirmed_at.is_some() && s.unsubscribed_at.is_none() => {
            (s.id, "status-manage")
        }
        // Waiting for its confirmation, or ended: this request's choices, to confirm again.
        Some(s) => {
            if s.unsubscribed_at.is_some() {
                sp::restart_subscriber(&mut tx, s.id, locale_text).await?;
            }
            sp::set_subscriber_locale(&mut tx, s.id, locale_text).await?;
            (s.id, "status-confirm")
        }
        None => {
            let id = sp::insert_subscriber(
                &mut tx,
                &sp::NewSubscriber {
                    email: email.as_str(),
                    locale: locale_text,
                    scope: scope.key(),
                    event_id: scope.event_id(),
                    organization_id: None,
                    confirmed: false,
                },
            )
            .await
            .map_err(|e| match e {
                // The same request at the same moment: one of them wins.
                store::StoreError::Conflict(_) => {
                    AppError::new(StatusCode::CONFLICT, "subscription_exists")
                }
                other => other.into(),
            })?;
            (id, "status-confirm")
        }
    };
    if key == "status-confirm"
        && let Scope::Components(ids) = &scope
    {
        sp::set_subscriber_components(&mut tx, id, ids).await?;
    }
    let subscriber = sp::subscriber(&mut tx, id).await?;
    let composer = state.composer(&mut tx).await?;
    let link = if key == "status-manage" {
        preferences_url(state, &composer, id)
    } else {
        confirm_url(state, &composer, id)
    };
    send_subscribe_mail(state, &mut tx, &subscriber, key, link).await?;
    sp::note_confirmation_sent(&mut tx, id, &window_start).await?;
    tx.commit().await?;
    metrics::counter!("triage_status_subscribe_mails_total").increment(1);
    Ok(())
}

fn invalid_link() -> AppError {
    AppError::new(StatusCode::NOT_FOUND, "invalid_link")
}

/// The subscription a signed link stands for.
async fn from_token(state: &AppState, purpose: &str, token: &str) -> AppResult<Subscriber> {
    let mut conn = state.db.reader().acquire().await?;
    let composer = state.composer(&mut conn).await?;
    let id = composer
        .verify_signed_id(purpose, token)
        .ok_or_else(invalid_link)?;
    sp::subscriber(&mut conn, id)
        .await
        .map_err(|_| invalid_link())
}

fn subscriber_actor(subscriber: &Subscriber, ip: Option<String>) -> Actor {
    Actor {
        person_id: None,
        label: subscriber.email.clone(),
        ip,
    }
}

/// A subscription that was confirmed and then ended: its old confirmation link does not
/// start it again (subscribing again mails a new one).
fn ended(s: &Subscriber) -> bool {
    s.confirmed_at.is_some() && s.unsubscribed_at.is_some()
}

/// Confirms a subscription by its `status-confirm` link; returns it.
pub async fn confirm(state: &AppState, token: &str, ip: Option<String>) -> AppResult<Subscriber> {
    let s = from_token(state, CONFIRM, token).await?;
    if ended(&s) {
        return Err(AppError::new(StatusCode::GONE, "subscription_ended"));
    }
    if s.confirmed_at.is_none() {
        let mut tx = state.db.begin().await?;
        sp::confirm_subscriber(&mut tx, s.id).await?;
        append(
            &mut tx,
            &subscriber_actor(&s, ip),
            event(
                "status.subscribe.confirm",
                "status_subscriber",
                s.id,
                None,
                json!({}),
            ),
        )
        .await?;
        tx.commit().await?;
    }
    let mut conn = state.db.reader().acquire().await?;
    Ok(sp::subscriber(&mut conn, s.id).await?)
}

/// A change on the preferences page.
#[derive(Debug, Clone)]
pub enum Change {
    /// Language (`None`: both) and what to follow (`components` `None`: everything;
    /// an event subscription keeps its event when `keep_event`).
    Save {
        locale: Option<String>,
        components: Option<Vec<i64>>,
        keep_event: bool,
    },
    Unsubscribe,
    /// Starts again a confirmed subscription that was ended (the link proves the mailbox).
    Resume,
}

pub async fn change(
    state: &AppState,
    token: &str,
    ip: Option<String>,
    what: &Change,
) -> AppResult<Subscriber> {
    let s = from_token(state, MANAGE, token).await?;
    let actor = subscriber_actor(&s, ip);
    let mut tx = state.db.begin().await?;
    match what {
        Change::Unsubscribe => {
            if sp::unsubscribe(&mut tx, s.id).await? {
                append(
                    &mut tx,
                    &actor,
                    event(
                        "status.unsubscribe",
                        "status_subscriber",
                        s.id,
                        None,
                        json!({"via": "preferences"}),
                    ),
                )
                .await?;
            }
        }
        Change::Resume => {
            if ended(&s) {
                sp::confirm_subscriber(&mut tx, s.id).await?;
                append(
                    &mut tx,
                    &actor,
                    event(
                        "status.subscribe.resume",
                        "status_subscriber",
                        s.id,
                        None,
                        json!({}),
                    ),
                )
                .await?;
            }
        }
        Change::Save {
            locale,
            components,
            keep_event,
        } => {
            let locale = parse_locale(locale.as_deref())?;
            let scope = match (components, *keep_event && s.scope == "event") {
                (_, true) => "event",
                (Some(ids), false) => {
                    let ids = checked_components(&mut tx, ids).await?;
                    sp::set_subscriber_components(&mut tx, s.id, &ids).await?;
                    "components"
                }
                (None, false) => "all",
            };
            if scope != s.scope {
                sp::set_subscriber_scope(&mut tx, s.id, scope)
                    .await
                    .map_err(|e| match e {
                        store::StoreError::Conflict(_) => {
                            AppError::new(StatusCode::CONFLICT, "subscription_exists")
                        }
                        other => other.into(),
                    })?;
            }
            sp::set_subscriber_locale(&mut tx, s.id, locale.map(|l| l.as_str())).await?;
            append(
                &mut tx,
                &actor,
                event(
                    "status.subscribe.preferences",
                    "status_subscriber",
                    s.id,
                    None,
                    json!({"scope": scope, "locale": locale.map(|l| l.as_str())}),
                ),
            )
            .await?;
        }
    }
    tx.commit().await?;
    let mut conn = state.db.reader().acquire().await?;
    Ok(sp::subscriber(&mut conn, s.id).await?)
}

// ---------- pages ----------

fn field<'a>(form: &'a [(String, String)], name: &str) -> &'a str {
    form.iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
        .unwrap_or_default()
}

/// Component ids ticked on a form (unknown values are kept as -1 so they are refused).
fn ticked(form: &[(String, String)]) -> Vec<i64> {
    form.iter()
        .filter(|(k, _)| k == "components")
        .map(|(_, v)| v.trim().parse().unwrap_or(-1))
        .collect()
}

pub struct Choice {
    pub id: i64,
    pub name: String,
    pub checked: bool,
}

pub struct ChoiceGroup {
    pub name: String,
    pub components: Vec<Choice>,
}

/// The components in their groups (ungrouped ones last), `chosen` ticked.
async fn choices(
    conn: &mut store::Conn,
    locale: Locale,
    chosen: &[i64],
) -> AppResult<Vec<ChoiceGroup>> {
    let groups = sp::groups(conn).await?;
    let components = sp::components(conn).await?;
    let choice = |c: &sp::Component| Choice {
        id: c.id,
        name: locale.pick(&c.name_en, &c.name_fr).to_owned(),
        checked: chosen.contains(&c.id),
    };
    let mut out: Vec<ChoiceGroup> = groups
        .iter()
        .map(|g| ChoiceGroup {
            name: locale.pick(&g.name_en, &g.name_fr).to_owned(),
            components: components
                .iter()
                .filter(|c| c.group_id == Some(g.id))
                .map(choice)
                .collect(),
        })
        .filter(|g| !g.components.is_empty())
        .collect();
    let rest: Vec<Choice> = components
        .iter()
        .filter(|c| {
            c.group_id
                .is_none_or(|id| !groups.iter().any(|g| g.id == id))
        })
        .map(choice)
        .collect();
    if !rest.is_empty() {
        out.push(ChoiceGroup {
            name: if out.is_empty() {
                String::new()
            } else {
                crate::i18n::t(locale, "status-sub-other-components")
            },
            components: rest,
        });
    }
    Ok(out)
}

#[derive(Template)]
#[template(path = "status_subscribe.html")]
struct SubscribePage {
    shell: Shell,
    email: String,
    /// en, fr or both.
    locale: String,
    /// all, components or event.
    scope: String,
    groups: Vec<ChoiceGroup>,
    /// The open event offered: id and title.
    event: Option<(i64, String)>,
    error: Option<String>,
}

#[derive(Deserialize)]
struct Preselect {
    component: Option<String>,
    event: Option<String>,
}

async fn subscribe_view(
    state: &AppState,
    ctx: &Ctx,
    status: StatusCode,
    form: SubscribeForm,
    error: Option<String>,
) -> AppResult<Response> {
    let shell = Shell::new(ctx);
    let locale = shell.tr.0;
    let mut conn = state.db.reader().acquire().await?;
    let groups = choices(&mut conn, locale, &form.components).await?;
    let event = match form.event_id {
        Some(id) => open_event(&mut conn, id)
            .await
            .ok()
            .map(|e| (e.id, locale.pick(&e.title_en, &e.title_fr).to_owned())),
        None => None,
    };
    let scope = if form.scope == "event" && event.is_none() {
        "all".to_owned()
    } else {
        form.scope
    };
    Ok(render_status(
        status,
        &SubscribePage {
            shell,
            email: form.email,
            locale: form.locale,
            scope,
            groups,
            event,
            error,
        },
    ))
}

/// What the subscribe form holds.
struct SubscribeForm {
    email: String,
    locale: String,
    scope: String,
    components: Vec<i64>,
    event_id: Option<i64>,
}

async fn subscribe_page(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(pre): Query<Preselect>,
) -> AppResult<Response> {
    let component = pre.component.and_then(|v| v.trim().parse::<i64>().ok());
    let event_id = pre.event.and_then(|v| v.trim().parse::<i64>().ok());
    let scope = if event_id.is_some() {
        "event"
    } else if component.is_some() {
        "components"
    } else {
        "all"
    };
    let form = SubscribeForm {
        email: String::new(),
        locale: ctx.locale.as_str().to_owned(),
        scope: scope.to_owned(),
        components: component.into_iter().collect(),
        event_id,
    };
    subscribe_view(&state, &ctx, StatusCode::OK, form, None).await
}

#[derive(Template)]
#[template(path = "status_subscribe_sent.html")]
struct SentPage {
    shell: Shell,
    email: String,
}

async fn subscribe_submit(
    State(state): State<AppState>,
    ctx: Ctx,
    CsrfForm(pairs): CsrfForm<Vec<(String, String)>>,
) -> AppResult<Response> {
    let form = SubscribeForm {
        email: field(&pairs, "email").trim().to_owned(),
        locale: field(&pairs, "locale").to_owned(),
        scope: field(&pairs, "scope").to_owned(),
        components: ticked(&pairs),
        event_id: field(&pairs, "event_id").trim().parse().ok(),
    };
    let input = SubscribeInput {
        email: form.email.clone(),
        locale: Some(form.locale.clone()),
        components: (form.scope == "components").then(|| form.components.clone()),
        event_id: match form.scope.as_str() {
            // A missing or altered event id is refused as unknown.
            "event" => Some(form.event_id.unwrap_or(0)),
            _ => None,
        },
    };
    match subscribe(&state, ctx.ip.as_deref(), &input).await {
        Ok(()) => Ok(render(&SentPage {
            shell: Shell::new(&ctx),
            email: form.email,
        })),
        Err(e) if shown_on_form(&e) && e.status != StatusCode::TOO_MANY_REQUESTS => {
            let message = e.message(ctx.locale);
            subscribe_view(&state, &ctx, e.status, form, Some(message)).await
        }
        Err(e) => Err(e),
    }
}

#[derive(Template)]
#[template(path = "status_confirm.html")]
struct ConfirmPage {
    shell: Shell,
    token: String,
    email: String,
    what: String,
    /// Confirmed: the preferences link.
    preferences: Option<String>,
}

async fn confirm_view(
    state: &AppState,
    ctx: &Ctx,
    token: String,
    s: &Subscriber,
    done: bool,
) -> AppResult<Response> {
    let mut conn = state.db.reader().acquire().await?;
    let what = describe(&mut conn, s, ctx.locale).await?;
    let preferences = if done {
        let composer = state.composer(&mut conn).await?;
        Some(preferences_url(state, &composer, s.id))
    } else {
        None
    };
    Ok(render(&ConfirmPage {
        shell: Shell::new(ctx),
        token,
        email: s.email.clone(),
        what,
        preferences,
    }))
}

/// Says what the link confirms and asks (mail scanners open links; only a POST acts).
async fn confirm_page(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(token): Path<String>,
) -> AppResult<Response> {
    let s = from_token(&state, CONFIRM, &token).await?;
    if ended(&s) {
        return Err(AppError::new(StatusCode::GONE, "subscription_ended"));
    }
    let done = s.confirmed_at.is_some();
    confirm_view(&state, &ctx, token, &s, done).await
}

/// The signed link is the authority: no session or CSRF token needed.
async fn confirm_submit(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(token): Path<String>,
) -> AppResult<Response> {
    let s = confirm(&state, &token, ctx.ip.clone()).await?;
    confirm_view(&state, &ctx, token, &s, true).await
}

#[derive(Template)]
#[template(path = "status_preferences.html")]
struct PreferencesPage {
    shell: Shell,
    token: String,
    email: String,
    what: String,
    locale: String,
    scope: String,
    groups: Vec<ChoiceGroup>,
    confirmed: bool,
    unsubscribed: bool,
    notice: Option<String>,
    error: Option<String>,
}

async fn preferences_view(
    state: &AppState,
    ctx: &Ctx,
    token: String,
    s: &Subscriber,
    status: StatusCode,
    notice: Option<String>,
    error: Option<String>,
) -> AppResult<Response> {
    let locale = ctx.locale;
    let mut conn = state.db.reader().acquire().await?;
    let what = describe(&mut conn, s, locale).await?;
    let chosen = sp::subscriber_components(&mut conn, s.id).await?;
    let groups = choices(&mut conn, locale, &chosen).await?;
    Ok(render_status(
        status,
        &PreferencesPage {
            shell: Shell::new(ctx),
            token,
            email: s.email.clone(),
            what,
            locale: s.locale.clone().unwrap_or_else(|| "both".into()),
            scope: s.scope.clone(),
            groups,
            confirmed: s.confirmed_at.is_some(),
            unsubscribed: s.unsubscribed_at.is_some(),
            notice,
            error,
        },
    ))
}

async fn preferences_page(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(token): Path<String>,
) -> AppResult<Response> {
    let s = from_token(&state, MANAGE, &token).await?;
    preferences_view(&state, &ctx, token, &s, StatusCode::OK, None, None).await
}

/// `action=save|unsubscribe|resume`. The signed link is the authority: no session or CSRF
/// token needed.
async fn preferences_submit(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(token): Path<String>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> AppResult<Response> {
    let (what, notice) = match field(&pairs, "action") {
        "unsubscribe" => (Change::Unsubscribe, "status-sub-unsubscribed"),
        "resume" => (Change::Resume, "status-sub-resumed"),
        _ => {
            let scope = field(&pairs, "scope");
            (
                Change::Save {
                    locale: Some(field(&pairs, "locale").to_owned()),
                    components: (scope == "components").then(|| ticked(&pairs)),
                    keep_event: scope == "event",
                },
                "status-sub-preferences-saved",
            )
        }
    };
    match change(&state, &token, ctx.ip.clone(), &what).await {
        Ok(s) => {
            let notice = Some(ctx.tr().t(notice));
            preferences_view(&state, &ctx, token, &s, StatusCode::OK, notice, None).await
        }
        Err(e) if shown_on_form(&e) && e.status != StatusCode::GONE => {
            let s = from_token(&state, MANAGE, &token).await?;
            let message = e.message(ctx.locale);
            preferences_view(&state, &ctx, token, &s, e.status, None, Some(message)).await
        }
        Err(e) => Err(e),
    }
}

// ---------- the API ----------

/// Subscribe an address to the status page's notices (no sign-in). Mails a confirmation
/// link (double opt-in); nothing is sent to the address before it is opened. Always 202,
/// whether or not the address was already subscribed. At most 3 messages per address per
/// 24 hours; too many requests from one client: 429 `rate_limited`.
#[utoipa::path(post, path = "/api/v1/status/subscriptions", tag = "status", request_body = SubscribeInput, security(()),
    responses((status = 202, body = SubscribeAccepted), (status = 422, body = crate::api::ErrorBody), (status = 429, body = crate::api::ErrorBody)))]
pub async fn create_status_subscription(
    State(state): State<AppState>,
    ctx: Ctx,
    crate::api::ApiJson(input): crate::api::ApiJson<SubscribeInput>,
) -> AppResult<impl IntoResponse> {
    subscribe(&state, ctx.ip.as_deref(), &input).await?;
    Ok((
        StatusCode::ACCEPTED,
        axum::Json(SubscribeAccepted {
            status: "confirmation_sent",
        }),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_client_gets_ten_requests_per_ten_minutes() {
        let limit = ClientLimit::default();
        let start = Instant::now();
        for i in 0..ClientLimit::MAX {
            assert!(
                limit.allow_at("10.0.0.1", start + Duration::from_secs(i as u64)),
                "{i}"
            );
        }
        assert!(!limit.allow_at("10.0.0.1", start + Duration::from_secs(30)));
        // Another client is not held up.
        assert!(limit.allow_at("10.0.0.2", start + Duration::from_secs(30)));
        // The window slides: the first request leaves it after ten minutes.
        assert!(!limit.allow_at(
            "10.0.0.1",
            start + ClientLimit::WINDOW - Duration::from_millis(1)
        ));
        assert!(limit.allow_at("10.0.0.1", start + ClientLimit::WINDOW));
        assert!(!limit.allow_at("10.0.0.1", start + ClientLimit::WINDOW));
    }

    #[test]
    fn languages_are_en_fr_or_both() {
        assert_eq!(parse_locale(None).unwrap(), None);
        assert_eq!(parse_locale(Some("both")).unwrap(), None);
        assert_eq!(parse_locale(Some("fr")).unwrap(), Some(Locale::Fr));
        assert_eq!(parse_locale(Some("de")).unwrap_err().code, "invalid_choice");
    }
}
