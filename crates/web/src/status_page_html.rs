//! The public status page's HTML and each event's detail page, rendered once per snapshot
//! (askama templates `status_public*.html`). Standalone pages: no signed-in shell, no
//! script, no inline style (the page's CSP forbids both); their CSS is the status-page
//! section of `/static/app.css`. Every word comes from `locales/*/status_public.ftl` or from
//! the domain's bilingual labels; colour only repeats what the text says.
use crate::i18n::{Tr, t, t_args};
use crate::status_snapshot::{ComponentView, EventView, HISTORY_DAYS, Model};
use askama::Template;
use domain::status_page::{ComponentStatus, UptimeDay, format_duration};
use domain::text::Locale;
use jiff::Timestamp;
use std::str::FromStr;

// ---------- view models ----------

/// What every public page's frame shows.
struct Frame {
    tr: Tr,
    /// The document title.
    title: String,
    /// `?lang=en` or `?lang=fr`, kept on every link of the page.
    q: String,
    other_lang: &'static str,
    /// The same page in the other language.
    switch_href: String,
    updated: TimeText,
    time_zone_note: String,
    /// How many days the page looks back.
    history_days: String,
}

/// An instant: machine-readable (RFC 3339, UTC) and as people read it in the page's zone.
struct TimeText {
    iso: String,
    text: String,
}

struct AffectedLine {
    name: String,
    /// A component status's `as_str()`, or `unknown`.
    status_class: &'static str,
    status_label: String,
    text: String,
}

struct UpdateLine {
    status_label: String,
    when: TimeText,
    body: String,
}

/// An incident or a maintenance as a card (page) or in full (detail page).
struct EventCard {
    id: i64,
    href: String,
    title: String,
    maintenance: bool,
    kind_label: String,
    status_label: String,
    /// `Impact: Major`, for incidents.
    impact_label: Option<String>,
    /// `Major`, for incidents.
    impact_text: Option<String>,
    /// An impact's `as_str()`.
    impact_class: &'static str,
    /// A maintenance's start and end.
    window: Option<String>,
    started: Option<TimeText>,
    closed: Option<TimeText>,
    affected: Vec<AffectedLine>,
    updates: Vec<UpdateLine>,
    /// "Next update by hh:mm" when the latest update of an open event promises one.
    next_update: Option<String>,
}

struct DayBar {
    /// A component status's `as_str()`, or `no_data`.
    class: &'static str,
    /// `2026-11-03: Partial Outage, 2 h 5 min of downtime`.
    label: String,
    date: String,
    status: String,
    downtime: String,
    /// Where the tooltip anchors so that it stays on screen: `start`, `end` or ``.
    edge: &'static str,
}

struct ComponentCard {
    code: String,
    name: String,
    description: String,
    status_class: &'static str,
    status_label: &'static str,
    bars_label: String,
    days_ago: String,
    percent: String,
    days: Vec<DayBar>,
}

struct Section {
    /// None: the components without a group.
    name: Option<String>,
    status_class: &'static str,
    status_label: &'static str,
    components: Vec<ComponentCard>,
}

struct LegendItem {
    class: &'static str,
    label: String,
}

struct HistoryItem {
    href: String,
    title: String,
    kind_label: String,
    status_label: String,
    closed: Option<TimeText>,
}

struct HistoryDay {
    date: String,
    items: Vec<HistoryItem>,
}

struct BannerView {
    level: &'static str,
    text: String,
}

#[derive(Template)]
#[template(path = "status_public.html")]
struct PageTemplate {
    frame: Frame,
    overall_class: &'static str,
    overall_text: &'static str,
    banner: Option<BannerView>,
    incidents: Vec<EventCard>,
    active_maintenances: Vec<EventCard>,
    upcoming_maintenances: Vec<EventCard>,
    sections: Vec<Section>,
    legend: Vec<LegendItem>,
    history: Vec<HistoryDay>,
    history_empty: String,
}

#[derive(Template)]
#[template(path = "status_public_event.html")]
struct EventTemplate {
    frame: Frame,
    /// None: the page of an unknown event.
    event: Option<EventCard>,
}

// ---------- rendering ----------

/// The public page: overall status, what is happening, what is planned, the components with
/// their uptime bars, the history and the ways to follow it.
pub fn render(model: &Model, locale: Locale) -> String {
    let tr = Tr(locale);
    let overall = model.overall.indicator;
    let frame = frame(
        model,
        locale,
        format!(
            "{} · {}",
            overall.description(locale),
            t(locale, "sp-title")
        ),
        "/status",
    );
    let page = PageTemplate {
        overall_class: overall.as_str(),
        overall_text: overall.description(locale),
        banner: model.banner("").map(|b| BannerView {
            level: crate::status::BANNER_LEVELS
                .iter()
                .copied()
                .find(|l| *l == b.level)
                .unwrap_or("warning"),
            text: tr.pick(&b.text_en, &b.text_fr).to_owned(),
        }),
        incidents: model
            .unresolved_incidents()
            .map(|e| card(model, e, locale))
            .collect(),
        active_maintenances: model
            .active_maintenances()
            .map(|e| card(model, e, locale))
            .collect(),
        upcoming_maintenances: model
            .upcoming_maintenances()
            .into_iter()
            .map(|e| card(model, e, locale))
            .collect(),
        sections: sections(model, locale),
        legend: legend(locale),
        history: history(model, locale),
        history_empty: t_args(
            locale,
            "sp-history-empty",
            &[("days", HISTORY_DAYS.to_string())],
        ),
        frame,
    };
    to_html(&page)
}

/// The page of one incident or maintenance: everything about it, every update.
pub fn render_event(model: &Model, event: &EventView, locale: Locale) -> String {
    let card = card(model, event, locale);
    let frame = frame(
        model,
        locale,
        format!("{} · {}", card.title, t(locale, "sp-title")),
        &format!("/status/events/{}", event.row.id),
    );
    to_html(&EventTemplate {
        frame,
        event: Some(card),
    })
}

/// The page of an event the snapshot does not know (answered with 404).
pub fn render_missing_event(model: &Model, locale: Locale) -> String {
    let frame = frame(
        model,
        locale,
        format!(
            "{} · {}",
            t(locale, "sp-event-missing-title"),
            t(locale, "sp-title")
        ),
        "/status",
    );
    to_html(&EventTemplate { frame, event: None })
}

fn to_html(page: &impl Template) -> String {
    page.render().unwrap_or_else(|e| {
        tracing::error!(error = %e, "status page template");
        String::new()
    })
}

fn frame(model: &Model, locale: Locale, title: String, path: &str) -> Frame {
    let other = match locale {
        Locale::En => Locale::Fr,
        Locale::Fr => Locale::En,
    };
    Frame {
        tr: Tr(locale),
        title,
        q: format!("?lang={}", locale.as_str()),
        other_lang: other.as_str(),
        switch_href: format!("{path}?lang={}", other.as_str()),
        updated: instant(model.built_at, model, locale),
        time_zone_note: t_args(
            locale,
            "sp-time-zone",
            &[("zone", model.time_zone_name.clone())],
        ),
        history_days: HISTORY_DAYS.to_string(),
    }
}

fn instant(at: Timestamp, model: &Model, locale: Locale) -> TimeText {
    let db = domain::time::to_db(at);
    TimeText {
        iso: at
            .to_zoned(jiff::tz::TimeZone::UTC)
            .strftime("%Y-%m-%dT%H:%M:%SZ")
            .to_string(),
        text: crate::status::local_time(&db, &model.time_zone, locale),
    }
}

fn stored_instant(db: &str, model: &Model, locale: Locale) -> TimeText {
    match domain::time::from_db(db) {
        Some(at) => instant(at, model, locale),
        None => TimeText {
            iso: String::new(),
            text: db.to_owned(),
        },
    }
}

/// "14:30 EST" when `at` falls on the day the page was built, else the full local time.
fn clock(at: Timestamp, model: &Model, locale: Locale) -> String {
    let zoned = at.to_zoned(model.time_zone.clone());
    if zoned.date() == model.built_at.to_zoned(model.time_zone.clone()).date() {
        let format = match locale {
            Locale::Fr => "%H h %M %Z",
            Locale::En => "%H:%M %Z",
        };
        zoned.strftime(format).to_string()
    } else {
        crate::status::local_time(&domain::time::to_db(at), &model.time_zone, locale)
    }
}

fn local_date(at: Timestamp, model: &Model) -> String {
    at.to_zoned(model.time_zone.clone())
        .strftime("%Y-%m-%d")
        .to_string()
}

fn component_name(c: &ComponentView, locale: Locale) -> String {
    locale.pick(&c.row.name_en, &c.row.name_fr).to_owned()
}

fn kind_label(e: &EventView, locale: Locale) -> String {
    t(
        locale,
        if e.is_maintenance() {
            "sp-kind-maintenance"
        } else {
            "sp-kind-incident"
        },
    )
}

fn card(model: &Model, e: &EventView, locale: Locale) -> EventCard {
    let impact = (!e.is_maintenance()).then(|| e.impact()).flatten();
    let window = match (e.starts_at(), e.ends_at()) {
        (Some(start), Some(end)) if e.is_maintenance() => Some(t_args(
            locale,
            "sp-window",
            &[
                ("start", instant(start, model, locale).text),
                ("end", instant(end, model, locale).text),
            ],
        )),
        _ => None,
    };
    let affected = e
        .affected
        .iter()
        .filter_map(|a| {
            let c = model.component(a.component_id)?;
            let status = ComponentStatus::from_str(&a.status).ok();
            Some(AffectedLine {
                name: component_name(c, locale),
                status_class: status.map_or("unknown", ComponentStatus::as_str),
                status_label: status
                    .map(|s| s.label(locale).to_owned())
                    .unwrap_or_else(|| a.status.clone()),
                text: locale.pick(&a.text_en, &a.text_fr).to_owned(),
            })
        })
        .collect();
    let updates = e
        .updates
        .iter()
        .map(|u| UpdateLine {
            status_label: update_status_label(e, &u.status, locale),
            when: stored_instant(&u.created_at, model, locale),
            body: locale.pick(&u.body_en, &u.body_fr).to_owned(),
        })
        .collect();
    // Updates come newest first: the first one says what is promised now.
    let next_update = e
        .is_open()
        .then(|| e.updates.first())
        .flatten()
        .and_then(|u| u.next_update_by.as_deref())
        .and_then(domain::time::from_db)
        .map(|at| {
            t_args(
                locale,
                "sp-next-update",
                &[("time", clock(at, model, locale))],
            )
        });
    EventCard {
        id: e.row.id,
        href: format!("/status/events/{}?lang={}", e.row.id, locale.as_str()),
        title: e.title(locale).to_owned(),
        maintenance: e.is_maintenance(),
        kind_label: kind_label(e, locale),
        status_label: crate::status::status_label(&e.row, locale),
        impact_label: impact.map(|i| {
            t_args(
                locale,
                "sp-impact",
                &[("impact", i.label(locale).to_owned())],
            )
        }),
        impact_text: impact.map(|i| i.label(locale).to_owned()),
        impact_class: impact.map_or("none", |i| i.as_str()),
        window,
        started: e
            .row
            .started_at
            .as_deref()
            .or(Some(e.row.created_at.as_str()))
            .filter(|_| !e.is_maintenance())
            .map(|db| stored_instant(db, model, locale)),
        closed: e
            .row
            .resolved_at
            .as_deref()
            .map(|db| stored_instant(db, model, locale)),
        affected,
        updates,
        next_update,
    }
}

fn update_status_label(e: &EventView, status: &str, locale: Locale) -> String {
    let label = if e.is_maintenance() {
        domain::status_page::MaintenanceStatus::from_str(status)
            .ok()
            .map(|s| s.label(locale))
    } else {
        domain::status_page::IncidentStatus::from_str(status)
            .ok()
            .map(|s| s.label(locale))
    };
    label.map_or_else(|| status.to_owned(), str::to_owned)
}

fn day_bar(day: &UptimeDay, index: usize, count: usize, locale: Locale) -> DayBar {
    let date = day.date.to_string();
    let edge = if index < 12 {
        "start"
    } else if index + 12 >= count {
        "end"
    } else {
        ""
    };
    if day.no_data {
        return DayBar {
            class: "no_data",
            label: t_args(locale, "sp-day-no-data", &[("date", date.clone())]),
            date,
            status: t(locale, "sp-no-data"),
            downtime: String::new(),
            edge,
        };
    }
    let downtime = match day.downtime_seconds() {
        0 => t(locale, "sp-no-downtime"),
        seconds => t_args(
            locale,
            "sp-downtime",
            &[("duration", format_duration(seconds, locale))],
        ),
    };
    let status = day.worst.label(locale).to_owned();
    DayBar {
        class: day.worst.as_str(),
        label: t_args(
            locale,
            "sp-day-label",
            &[
                ("date", date.clone()),
                ("status", status.clone()),
                ("downtime", downtime.clone()),
            ],
        ),
        date,
        status,
        downtime,
        edge,
    }
}

/// 99.95 in English, 99,95 in French; whole numbers without decimals.
fn percent(value: f64, locale: Locale) -> String {
    let mut text = format!("{value:.2}");
    if text.contains('.') {
        text = text.trim_end_matches('0').trim_end_matches('.').to_owned();
    }
    match locale {
        Locale::Fr => text.replace('.', ","),
        Locale::En => text,
    }
}

fn component_card(c: &ComponentView, locale: Locale) -> ComponentCard {
    let name = component_name(c, locale);
    let count = c.uptime.days.len();
    ComponentCard {
        code: c.row.code.clone(),
        description: locale
            .pick(&c.row.description_en, &c.row.description_fr)
            .to_owned(),
        status_class: c.status.as_str(),
        status_label: c.status.label(locale),
        bars_label: t_args(
            locale,
            "sp-uptime-bars",
            &[("days", count.to_string()), ("name", name.clone())],
        ),
        days_ago: t_args(locale, "sp-days-ago", &[("days", count.to_string())]),
        percent: t_args(
            locale,
            "sp-uptime-percent",
            &[("percent", percent(c.uptime.percent, locale))],
        ),
        days: c
            .uptime
            .days
            .iter()
            .enumerate()
            .map(|(i, d)| day_bar(d, i, count, locale))
            .collect(),
        name,
    }
}

/// The components without a group first, then each group (in the store's order) that has
/// members, with its worst status.
fn sections(model: &Model, locale: Locale) -> Vec<Section> {
    let mut out = Vec::new();
    let known = |id: Option<i64>| id.is_some_and(|g| model.groups.iter().any(|x| x.id == g));
    let loose: Vec<ComponentCard> = model
        .components
        .iter()
        .filter(|c| !known(c.row.group_id))
        .map(|c| component_card(c, locale))
        .collect();
    if !loose.is_empty() {
        out.push(Section {
            name: None,
            status_class: "",
            status_label: "",
            components: loose,
        });
    }
    for g in &model.groups {
        let members: Vec<&ComponentView> = model
            .components
            .iter()
            .filter(|c| c.row.group_id == Some(g.id))
            .collect();
        if members.is_empty() {
            continue;
        }
        let worst = members
            .iter()
            .map(|c| c.status)
            .fold(ComponentStatus::Operational, ComponentStatus::worse);
        out.push(Section {
            name: Some(locale.pick(&g.name_en, &g.name_fr).to_owned()),
            status_class: worst.as_str(),
            status_label: worst.label(locale),
            components: members
                .into_iter()
                .map(|c| component_card(c, locale))
                .collect(),
        });
    }
    out
}

fn legend(locale: Locale) -> Vec<LegendItem> {
    let mut items: Vec<LegendItem> = [
        ComponentStatus::Operational,
        ComponentStatus::DegradedPerformance,
        ComponentStatus::PartialOutage,
        ComponentStatus::MajorOutage,
        ComponentStatus::UnderMaintenance,
    ]
    .into_iter()
    .map(|s| LegendItem {
        class: s.as_str(),
        label: s.label(locale).to_owned(),
    })
    .collect();
    items.push(LegendItem {
        class: "no_data",
        label: t(locale, "sp-no-data"),
    });
    items
}

/// Closed events, newest first, under the day (in the page's zone) they began.
fn history(model: &Model, locale: Locale) -> Vec<HistoryDay> {
    let mut days: Vec<HistoryDay> = Vec::new();
    for e in model.history() {
        // The order of the history: a maintenance's start, else when it was posted.
        let began = e
            .starts_at()
            .or_else(|| domain::time::from_db(&e.row.created_at))
            .unwrap_or(model.built_at);
        let date = local_date(began, model);
        let item = HistoryItem {
            href: format!("/status/events/{}?lang={}", e.row.id, locale.as_str()),
            title: e.title(locale).to_owned(),
            kind_label: kind_label(e, locale),
            status_label: crate::status::status_label(&e.row, locale),
            closed: e
                .row
                .resolved_at
                .as_deref()
                .map(|db| stored_instant(db, model, locale)),
        };
        match days.last_mut() {
            Some(day) if day.date == date => day.items.push(item),
            _ => days.push(HistoryDay {
                date,
                items: vec![item],
            }),
        }
    }
    days
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentages_read_naturally_in_each_language() {
        assert_eq!(percent(100.0, Locale::En), "100");
        assert_eq!(percent(99.95, Locale::En), "99.95");
        assert_eq!(percent(99.5, Locale::Fr), "99,5");
        assert_eq!(percent(70.0, Locale::Fr), "70");
    }

    #[test]
    fn a_day_says_its_date_status_and_downtime() {
        let day = UptimeDay {
            date: jiff::civil::date(2026, 11, 3),
            worst: ComponentStatus::PartialOutage,
            major_seconds: 0,
            partial_seconds: 2 * 3600 + 5 * 60,
            degraded_seconds: 0,
            maintenance_seconds: 0,
            observed_seconds: 86_400,
            no_data: false,
        };
        let bar = day_bar(&day, 50, 90, Locale::En);
        assert_eq!(bar.class, "partial_outage");
        assert_eq!(
            bar.label,
            "2026-11-03: Partial Outage, 2 h 5 min of downtime"
        );
        assert_eq!(bar.edge, "");
        let bar = day_bar(&day, 89, 90, Locale::Fr);
        assert_eq!(
            bar.label,
            "2026-11-03 : Panne partielle, 2 h 5 min d’interruption"
        );
        assert_eq!(bar.edge, "end");
        let empty = UptimeDay {
            no_data: true,
            ..day
        };
        let bar = day_bar(&empty, 0, 90, Locale::En);
        assert_eq!(bar.class, "no_data");
        assert_eq!(bar.label, "2026-11-03: no data");
        assert_eq!(bar.edge, "start");
    }
}
