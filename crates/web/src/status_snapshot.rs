//! The public status page is served from memory: a snapshot of everything it shows, with
//! every public body (the HTML page, the API v2 documents, banners, feeds, the status line)
//! rendered once per change, not once per request. During an outage everyone reloads at
//! once; a request then costs a lookup and a copy of a reference-counted buffer.
//!
//! A change on this node rebuilds the snapshot at once; every node also polls the page's
//! version row each second and rebuilds when it moved (another node's change), and once a
//! minute in any case, since "upcoming" and today's uptime move with the clock.
use crate::AppState;
use crate::error::AppResult;
use axum::body::Bytes;
use domain::status_page::{
    self as rules, ComponentStatus, IncidentImpact, IncidentStatus, MaintenanceStatus, Overall,
    StatusChange, Uptime,
};
use domain::text::Locale;
use jiff::Timestamp;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::str::FromStr;
use std::sync::{Arc, RwLock};
use store::status_page::{self as sp, Affected, Banner, Component, Event, Group, Update};

/// How many days of history the page and its uptime bars show.
pub const HISTORY_DAYS: u16 = 90;
/// How many past events the API's lists return (as the hosted API does).
const API_LIST_LIMIT: usize = 50;
/// Rebuild at least this often: what is "upcoming" and today's bar change with time.
const MAX_AGE: jiff::SignedDuration = jiff::SignedDuration::from_secs(60);

/// A component as the page shows it.
#[derive(Debug, Clone)]
pub struct ComponentView {
    pub row: Component,
    pub status: ComponentStatus,
    pub uptime: Uptime,
}

/// An incident or a maintenance with its components and updates (newest first).
#[derive(Debug, Clone)]
pub struct EventView {
    pub row: Event,
    pub affected: Vec<Affected>,
    pub updates: Vec<Update>,
}

impl EventView {
    pub fn is_maintenance(&self) -> bool {
        self.row.kind == crate::status::MAINTENANCE
    }
    pub fn is_open(&self) -> bool {
        self.row.resolved_at.is_none()
    }
    pub fn maintenance_status(&self) -> Option<MaintenanceStatus> {
        MaintenanceStatus::from_str(&self.row.status).ok()
    }
    pub fn incident_status(&self) -> Option<IncidentStatus> {
        IncidentStatus::from_str(&self.row.status).ok()
    }
    pub fn impact(&self) -> Option<IncidentImpact> {
        IncidentImpact::from_str(&self.row.impact).ok()
    }
    pub fn title(&self, locale: Locale) -> &str {
        locale.pick(&self.row.title_en, &self.row.title_fr)
    }
    pub fn starts_at(&self) -> Option<Timestamp> {
        self.row
            .scheduled_for
            .as_deref()
            .and_then(domain::time::from_db)
    }
    pub fn ends_at(&self) -> Option<Timestamp> {
        self.row
            .scheduled_until
            .as_deref()
            .and_then(domain::time::from_db)
    }
}

/// Everything the public page shows, as of `built_at`.
#[derive(Debug, Clone)]
pub struct Model {
    pub built_at: Timestamp,
    pub base_url: String,
    pub time_zone: jiff::tz::TimeZone,
    pub time_zone_name: String,
    pub overall: Overall,
    pub groups: Vec<Group>,
    pub components: Vec<ComponentView>,
    /// Newest first (maintenances by their start).
    pub events: Vec<EventView>,
    pub banners: Vec<Banner>,
}

impl Model {
    pub fn unresolved_incidents(&self) -> impl Iterator<Item = &EventView> {
        self.events
            .iter()
            .filter(|e| !e.is_maintenance() && e.is_open())
    }
    pub fn active_maintenances(&self) -> impl Iterator<Item = &EventView> {
        self.events
            .iter()
            .filter(|e| e.is_maintenance() && e.maintenance_status().is_some_and(|s| s.is_active()))
    }
    /// Scheduled and not begun, soonest first.
    pub fn upcoming_maintenances(&self) -> Vec<&EventView> {
        let mut list: Vec<&EventView> = self
            .events
            .iter()
            .filter(|e| {
                e.is_maintenance() && e.maintenance_status() == Some(MaintenanceStatus::Scheduled)
            })
            .collect();
        list.sort_by_key(|e| e.starts_at());
        list
    }
    /// Closed events, newest first: the history.
    pub fn history(&self) -> impl Iterator<Item = &EventView> {
        self.events.iter().filter(|e| !e.is_open())
    }
    pub fn component(&self, id: i64) -> Option<&ComponentView> {
        self.components.iter().find(|c| c.row.id == id)
    }
    pub fn event(&self, id: i64) -> Option<&EventView> {
        self.events.iter().find(|e| e.row.id == id)
    }
    /// The banner for `scope` (a component code), else the one for every environment.
    pub fn banner(&self, scope: &str) -> Option<&Banner> {
        self.banners
            .iter()
            .find(|b| !scope.is_empty() && b.scope == scope)
            .or_else(|| self.banners.iter().find(|b| b.scope.is_empty()))
    }
}

/// A rendered public body.
#[derive(Debug, Clone)]
pub struct Body {
    pub content_type: &'static str,
    pub bytes: Bytes,
}

/// The model and every public body rendered from it.
#[derive(Debug)]
pub struct Snapshot {
    pub version: i64,
    pub model: Arc<Model>,
    /// `"…"`, changes with every rebuild.
    pub etag: String,
    /// An HTTP date.
    pub last_modified: String,
    bodies: HashMap<(String, Locale), Body>,
}

impl Snapshot {
    fn empty() -> Self {
        Snapshot {
            version: 0,
            model: Arc::new(Model {
                built_at: Timestamp::UNIX_EPOCH,
                base_url: String::new(),
                time_zone: jiff::tz::TimeZone::UTC,
                time_zone_name: "UTC".into(),
                overall: rules::overall(&[], &[], false),
                groups: vec![],
                components: vec![],
                events: vec![],
                banners: vec![],
            }),
            etag: "\"0\"".into(),
            last_modified: httpdate(Timestamp::UNIX_EPOCH),
            bodies: HashMap::new(),
        }
    }

    /// A rendered body by its route key (`summary.json`, `page`, `banner.json:chr`, …).
    pub fn body(&self, key: &str, locale: Locale) -> Option<&Body> {
        self.bodies.get(&(key.to_owned(), locale))
    }
}

/// The current snapshot, shared by every request of this node.
pub struct Live {
    current: RwLock<Arc<Snapshot>>,
    rebuild: tokio::sync::Mutex<()>,
}

impl Default for Live {
    fn default() -> Self {
        Live {
            current: RwLock::new(Arc::new(Snapshot::empty())),
            rebuild: tokio::sync::Mutex::new(()),
        }
    }
}

impl Live {
    pub fn get(&self) -> Arc<Snapshot> {
        self.current
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }

    /// After a change on this node: rebuild now, so the change shows on the next request.
    pub async fn changed(&self, state: &AppState) {
        if let Err(e) = self.rebuild(state, true).await {
            tracing::error!(code = e.code, "status page snapshot");
        }
    }

    /// Rebuilds when the page's version moved (or the snapshot is a minute old).
    pub async fn refresh(&self, state: &AppState) -> AppResult<()> {
        self.rebuild(state, false).await
    }

    async fn rebuild(&self, state: &AppState, force: bool) -> AppResult<()> {
        let _one_at_a_time = self.rebuild.lock().await;
        let mut conn = state.db.reader().acquire().await?;
        let version = sp::version(&mut conn).await?;
        let current = self.get();
        let now = domain::time::now();
        if !force
            && version == current.version
            && now.duration_since(current.model.built_at) < MAX_AGE
        {
            return Ok(());
        }
        let model = load(state, &mut conn, now).await?;
        drop(conn);
        let snapshot = tokio::task::spawn_blocking(move || render(version, model))
            .await
            .map_err(|_| crate::error::AppError::internal())?;
        *self
            .current
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = Arc::new(snapshot);
        metrics::counter!("triage_status_snapshot_builds_total").increment(1);
        Ok(())
    }
}

/// Polls the version each second; also the status page's clock (maintenance start and
/// completion, notices at their offsets, update reminders) every few seconds.
pub fn spawn_refresher(state: AppState) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(1));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut ticks: u64 = 0;
        loop {
            tick.tick().await;
            if let Err(e) = state.status.refresh(&state).await {
                tracing::warn!(code = e.code, "status page snapshot");
            }
            if ticks.is_multiple_of(5)
                && let Err(e) = crate::status::run_due(&state).await
            {
                tracing::warn!(code = e.code, "status page schedule");
            }
            ticks += 1;
        }
    });
}

async fn load(state: &AppState, conn: &mut store::Conn, now: Timestamp) -> AppResult<Model> {
    let time_zone_name = state.settings.time_zone.clone();
    let time_zone = jiff::tz::TimeZone::get(&time_zone_name).unwrap_or(jiff::tz::TimeZone::UTC);
    let since = now - jiff::SignedDuration::from_hours(24 * (i64::from(HISTORY_DAYS) + 1));
    let since_db = domain::time::to_db(since);
    let groups = sp::groups(conn).await?;
    let rows = sp::components(conn).await?;
    let mut changes: HashMap<i64, Vec<StatusChange>> = HashMap::new();
    for change in sp::changes_since(conn, &since_db).await? {
        if let (Some(at), Ok(status)) = (
            domain::time::from_db(&change.at),
            ComponentStatus::from_str(&change.status),
        ) {
            changes
                .entry(change.component_id)
                .or_default()
                .push(StatusChange { at, status });
        }
    }
    let mut components = Vec::with_capacity(rows.len());
    for row in rows {
        let status = ComponentStatus::from_str(&row.status).unwrap_or(ComponentStatus::Operational);
        let history = changes.remove(&row.id).unwrap_or_default();
        // The bars start with the component's first recorded status.
        let since = history.first().map(|c| c.at);
        let uptime =
            rules::uptime(&history, since, now, &time_zone, HISTORY_DAYS).unwrap_or(Uptime {
                days: vec![],
                percent: 100.0,
            });
        components.push(ComponentView {
            row,
            status,
            uptime,
        });
    }
    let detail = sp::events_with_detail(conn, &since_db).await?;
    let mut affected = detail.affected;
    let mut updates = detail.updates;
    let events: Vec<EventView> = detail
        .events
        .into_iter()
        .map(|row| EventView {
            affected: affected.remove(&row.id).unwrap_or_default(),
            updates: updates.remove(&row.id).unwrap_or_default(),
            row,
        })
        .collect();
    let banners = sp::banners(conn).await?;
    let statuses: Vec<ComponentStatus> = components.iter().map(|c| c.status).collect();
    let impacts: Vec<IncidentImpact> = events
        .iter()
        .filter(|e| !e.is_maintenance() && e.is_open())
        .filter_map(EventView::impact)
        .collect();
    let maintenance_active = events
        .iter()
        .any(|e| e.is_maintenance() && e.maintenance_status().is_some_and(|s| s.is_active()));
    Ok(Model {
        built_at: now,
        base_url: state.settings.public_base_url.clone(),
        time_zone,
        time_zone_name,
        overall: rules::overall(&statuses, &impacts, maintenance_active),
        groups,
        components,
        events,
        banners,
    })
}

fn render(version: i64, model: Model) -> Snapshot {
    let model = Arc::new(model);
    let mut bodies = HashMap::new();
    let mut put = |key: &str, locale: Locale, content_type: &'static str, text: String| {
        bodies.insert(
            (key.to_owned(), locale),
            Body {
                content_type,
                bytes: Bytes::from(text),
            },
        );
    };
    const JSON: &str = "application/json";
    for locale in [Locale::En, Locale::Fr] {
        let v2 = V2 {
            model: &model,
            locale,
        };
        for (key, doc) in [
            ("summary.json", v2.summary()),
            ("status.json", v2.status()),
            ("components.json", v2.components()),
            ("incidents.json", v2.incidents(false)),
            ("incidents/unresolved.json", v2.incidents(true)),
            ("scheduled-maintenances.json", v2.maintenances(Which::All)),
            (
                "scheduled-maintenances/upcoming.json",
                v2.maintenances(Which::Upcoming),
            ),
            (
                "scheduled-maintenances/active.json",
                v2.maintenances(Which::Active),
            ),
        ] {
            put(key, locale, JSON, doc.to_string());
        }
        put(
            "status.txt",
            locale,
            "text/plain; charset=utf-8",
            status_line(&model, locale),
        );
        let mut scopes: Vec<&str> = vec![""];
        scopes.extend(model.components.iter().map(|c| c.row.code.as_str()));
        for scope in scopes {
            let banner = model.banner(scope);
            put(
                &format!("banner.json:{scope}"),
                locale,
                JSON,
                banner_json(banner, locale).to_string(),
            );
            put(
                &format!("banner.html:{scope}"),
                locale,
                "text/html; charset=utf-8",
                banner_html(banner, locale),
            );
        }
        put(
            "history.atom",
            locale,
            "application/atom+xml; charset=utf-8",
            rules::atom(&feed(&model, locale, "history.atom")),
        );
        put(
            "history.rss",
            locale,
            "application/rss+xml; charset=utf-8",
            rules::rss(&feed(&model, locale, "history.rss")),
        );
        put(
            "maintenances.ics",
            locale,
            "text/calendar; charset=utf-8",
            rules::icalendar(&maintenance_calendar(&model, locale)),
        );
        put(
            "page",
            locale,
            "text/html; charset=utf-8",
            crate::status_public::page_html(&model, locale),
        );
        for (key, html) in crate::status_public::event_pages(&model, locale) {
            put(&key, locale, "text/html; charset=utf-8", html);
        }
    }
    Snapshot {
        version,
        etag: format!("\"{version}-{}\"", model.built_at.as_second()),
        last_modified: httpdate(model.built_at),
        model,
        bodies,
    }
}

pub fn httpdate(at: Timestamp) -> String {
    at.to_zoned(jiff::tz::TimeZone::UTC)
        .strftime("%a, %d %b %Y %H:%M:%S GMT")
        .to_string()
}

// ---------- the hosted status-page API v2 ----------

enum Which {
    All,
    Upcoming,
    Active,
}

struct V2<'a> {
    model: &'a Model,
    locale: Locale,
}

fn iso(db: &str) -> Value {
    match domain::time::from_db(db) {
        Some(ts) => Value::String(rfc3339(ts)),
        None => Value::Null,
    }
}

fn iso_opt(db: Option<&str>) -> Value {
    db.map(iso).unwrap_or(Value::Null)
}

fn rfc3339(ts: Timestamp) -> String {
    ts.to_zoned(jiff::tz::TimeZone::UTC)
        .strftime("%Y-%m-%dT%H:%M:%S%.3fZ")
        .to_string()
}

pub fn component_id(id: i64) -> String {
    format!("cmp{id}")
}
pub fn group_id(id: i64) -> String {
    format!("grp{id}")
}
pub fn event_id(id: i64) -> String {
    format!("evt{id}")
}

impl V2<'_> {
    fn page(&self) -> Value {
        let m = self.model;
        json!({
            "id": "triage",
            "name": self.locale.pick("Service status", "État des services"),
            "url": format!("{}/status", m.base_url),
            "time_zone": m.time_zone_name,
            "updated_at": rfc3339(m.built_at),
        })
    }

    fn status_value(&self) -> Value {
        json!({
            "indicator": self.model.overall.indicator.as_str(),
            "description": self.model.overall.indicator.description(self.locale),
        })
    }

    fn component(&self, c: &ComponentView) -> Value {
        json!({
            "id": component_id(c.row.id),
            "name": self.locale.pick(&c.row.name_en, &c.row.name_fr),
            "status": c.status.as_str(),
            "created_at": iso(&c.row.created_at),
            "updated_at": iso(&c.row.updated_at),
            "position": c.row.position,
            "description": Some(self.locale.pick(&c.row.description_en, &c.row.description_fr))
                .filter(|d| !d.is_empty()),
            "showcase": true,
            "start_date": Value::Null,
            "group_id": c.row.group_id.map(group_id),
            "page_id": "triage",
            "group": false,
            "only_show_if_degraded": false,
        })
    }

    fn component_list(&self) -> Vec<Value> {
        let m = self.model;
        let mut out: Vec<Value> = m.components.iter().map(|c| self.component(c)).collect();
        // Groups are components that list their members, as in the hosted API.
        for g in &m.groups {
            let members: Vec<&ComponentView> = m
                .components
                .iter()
                .filter(|c| c.row.group_id == Some(g.id))
                .collect();
            let worst = members
                .iter()
                .map(|c| c.status)
                .fold(ComponentStatus::Operational, ComponentStatus::worse);
            out.push(json!({
                "id": group_id(g.id),
                "name": self.locale.pick(&g.name_en, &g.name_fr),
                "status": worst.as_str(),
                "created_at": iso(&g.created_at),
                "updated_at": iso(&g.created_at),
                "position": g.position,
                "description": Value::Null,
                "showcase": false,
                "start_date": Value::Null,
                "group_id": Value::Null,
                "page_id": "triage",
                "group": true,
                "only_show_if_degraded": false,
                "components": members.iter().map(|c| component_id(c.row.id)).collect::<Vec<_>>(),
            }));
        }
        out
    }

    fn event(&self, e: &EventView) -> Value {
        let components: Vec<Value> = e
            .affected
            .iter()
            .filter_map(|a| self.model.component(a.component_id))
            .map(|c| self.component(c))
            .collect();
        let affected: Vec<Value> = e
            .affected
            .iter()
            .filter_map(|a| {
                let c = self.model.component(a.component_id)?;
                Some(json!({
                    "code": component_id(c.row.id),
                    "name": self.locale.pick(&c.row.name_en, &c.row.name_fr),
                    "old_status": "operational",
                    "new_status": a.status,
                }))
            })
            .collect();
        let updates: Vec<Value> = e
            .updates
            .iter()
            .map(|u| {
                json!({
                    "id": format!("upd{}", u.id),
                    "status": u.status,
                    "body": self.locale.pick(&u.body_en, &u.body_fr),
                    "incident_id": event_id(e.row.id),
                    "created_at": iso(&u.created_at),
                    "updated_at": iso(&u.created_at),
                    "display_at": iso(&u.created_at),
                    "affected_components": affected,
                    "deliver_notifications": true,
                    "custom_tweet": Value::Null,
                    "tweet_id": Value::Null,
                })
            })
            .collect();
        let monitoring_at = e
            .updates
            .iter()
            .filter(|u| u.status == IncidentStatus::Monitoring.as_str())
            .map(|u| u.created_at.as_str())
            .min();
        let mut doc = json!({
            "id": event_id(e.row.id),
            "name": e.title(self.locale),
            "status": e.row.status,
            "created_at": iso(&e.row.created_at),
            "updated_at": iso(&e.row.updated_at),
            "monitoring_at": iso_opt(monitoring_at),
            "resolved_at": iso_opt(e.row.resolved_at.as_deref()),
            "impact": e.row.impact,
            "shortlink": format!("{}/status/events/{}", self.model.base_url, e.row.id),
            "started_at": iso_opt(e.row.started_at.as_deref().or(Some(&e.row.created_at))),
            "page_id": "triage",
            "incident_updates": updates,
            "components": components,
        });
        if e.is_maintenance() {
            doc["scheduled_for"] = iso_opt(e.row.scheduled_for.as_deref());
            doc["scheduled_until"] = iso_opt(e.row.scheduled_until.as_deref());
        }
        doc
    }

    fn summary(&self) -> Value {
        let m = self.model;
        let mut maintenances: Vec<&EventView> = m.active_maintenances().collect();
        maintenances.extend(m.upcoming_maintenances());
        json!({
            "page": self.page(),
            "components": self.component_list(),
            "incidents": m.unresolved_incidents().map(|e| self.event(e)).collect::<Vec<_>>(),
            "scheduled_maintenances": maintenances.iter().map(|e| self.event(e)).collect::<Vec<_>>(),
            "status": self.status_value(),
        })
    }

    fn status(&self) -> Value {
        json!({ "page": self.page(), "status": self.status_value() })
    }

    fn components(&self) -> Value {
        json!({ "page": self.page(), "components": self.component_list() })
    }

    fn incidents(&self, unresolved_only: bool) -> Value {
        let list: Vec<Value> = self
            .model
            .events
            .iter()
            .filter(|e| !e.is_maintenance() && (!unresolved_only || e.is_open()))
            .take(API_LIST_LIMIT)
            .map(|e| self.event(e))
            .collect();
        json!({ "page": self.page(), "incidents": list })
    }

    fn maintenances(&self, which: Which) -> Value {
        let m = self.model;
        let list: Vec<&EventView> = match which {
            Which::All => m
                .events
                .iter()
                .filter(|e| e.is_maintenance())
                .take(API_LIST_LIMIT)
                .collect(),
            Which::Upcoming => m.upcoming_maintenances(),
            Which::Active => m.active_maintenances().collect(),
        };
        json!({
            "page": self.page(),
            "scheduled_maintenances": list.iter().map(|e| self.event(e)).collect::<Vec<_>>(),
        })
    }
}

// ---------- banner, status line, feeds ----------

fn banner_json(banner: Option<&Banner>, locale: Locale) -> Value {
    match banner {
        Some(b) => json!({
            "active": true,
            "level": b.level,
            "text": locale.pick(&b.text_en, &b.text_fr),
            "text_en": b.text_en,
            "text_fr": b.text_fr,
            "updated_at": iso(&b.updated_at),
            "incident_id": b.event_id.map(event_id),
        }),
        None => json!({ "active": false }),
    }
}

fn banner_html(banner: Option<&Banner>, locale: Locale) -> String {
    match banner {
        Some(b) => format!(
            "<div class=\"triage-banner triage-banner-{}\" role=\"status\" lang=\"{}\">{}</div>\n",
            rules::escape_xml(&b.level),
            locale.as_str(),
            rules::escape_xml(locale.pick(&b.text_en, &b.text_fr)),
        ),
        None => String::new(),
    }
}

/// One line a phone system can read out: the overall status, then what is wrong.
fn status_line(model: &Model, locale: Locale) -> String {
    let overall = model.overall.indicator.description(locale).to_owned();
    let sentences: Vec<String> = std::iter::once(overall)
        .chain(
            model
                .unresolved_incidents()
                .map(|e| e.title(locale).to_owned()),
        )
        .chain(model.active_maintenances().map(|e| {
            format!(
                "{} {}",
                locale.pick("Maintenance:", "Maintenance :"),
                e.title(locale)
            )
        }))
        // A title may end with its own full stop; the line adds one to each sentence.
        .map(|s| s.trim().trim_end_matches(['.', '!', '?']).to_owned())
        .collect();
    format!("{}.\n", sentences.join(". "))
}

fn feed(model: &Model, locale: Locale, file: &str) -> rules::Feed {
    let entries: Vec<rules::FeedEntry> = model
        .events
        .iter()
        .take(API_LIST_LIMIT)
        .map(|e| {
            let link = format!("{}/status/events/{}", model.base_url, e.row.id);
            let summary: String = e
                .updates
                .iter()
                .map(|u| {
                    format!(
                        "<p><strong>{}</strong> ({}) – {}</p>",
                        rules::escape_xml(&u.status),
                        rules::escape_xml(&crate::status::local_time(
                            &u.created_at,
                            &model.time_zone,
                            locale
                        )),
                        rules::escape_xml(locale.pick(&u.body_en, &u.body_fr)),
                    )
                })
                .collect();
            rules::FeedEntry {
                id: link.clone(),
                title: e.title(locale).to_owned(),
                link,
                published: domain::time::from_db(&e.row.created_at).unwrap_or(model.built_at),
                updated: domain::time::from_db(&e.row.updated_at).unwrap_or(model.built_at),
                html_summary: summary,
            }
        })
        .collect();
    let updated = entries
        .iter()
        .map(|e| e.updated)
        .max()
        .unwrap_or(model.built_at);
    rules::Feed {
        title: locale
            .pick("Service status – history", "État des services – historique")
            .to_owned(),
        page_url: format!("{}/status", model.base_url),
        feed_url: format!("{}/{file}", model.base_url),
        updated,
        entries,
    }
}

fn maintenance_calendar(model: &Model, locale: Locale) -> rules::MaintenanceCalendar {
    let host = model
        .base_url
        .split("://")
        .nth(1)
        .unwrap_or("triage")
        .split(['/', ':'])
        .next()
        .unwrap_or("triage")
        .to_owned();
    let entries = model
        .events
        .iter()
        .filter(|e| e.is_maintenance())
        .filter_map(|e| {
            Some(rules::MaintenanceEvent {
                uid: format!("maintenance-{}@{host}", e.row.id),
                sequence: u32::try_from(e.row.sequence).unwrap_or(0),
                summary: e.title(locale).to_owned(),
                description: e
                    .updates
                    .last()
                    .map(|u| locale.pick(&u.body_en, &u.body_fr).to_owned())
                    .unwrap_or_default(),
                url: format!("{}/status/events/{}", model.base_url, e.row.id),
                starts_at: e.starts_at()?,
                ends_at: e.ends_at()?,
                status: e.maintenance_status()?,
                updated: domain::time::from_db(&e.row.updated_at).unwrap_or(model.built_at),
            })
        })
        .collect();
    rules::MaintenanceCalendar {
        name: locale
            .pick("Scheduled maintenance", "Maintenances planifiées")
            .to_owned(),
        entries,
    }
}
