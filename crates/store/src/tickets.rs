//! Tickets, their timeline, people named on them, links, partner references and the search
//! index. Every read takes a `TicketScope`; it becomes part of the WHERE clause.
use crate::error::{StoreError, StoreResult};
use crate::{Backend, now_db, scope};
use domain::policy::TicketScope;
use domain::ticket::{Draft, Status, TicketKind};
use serde::Serialize;
use sqlx::{AnyConnection, FromRow, Row};

/// The SQL condition for the tickets (`t`) a scope may see.
pub fn visible(scope: &TicketScope) -> String {
    let p = scope.person_id;
    let mut parts = vec![format!(
        "(t.restriction = 0 AND {})",
        scope::condition(&scope.orgs, "t.organization_id", None)
    )];
    if scope.privacy {
        parts.push("t.restriction = 1".to_owned());
    }
    if scope.security {
        parts.push("t.restriction = 2".to_owned());
    }
    parts.push(format!(
        "t.reporter_id = {p} OR t.on_behalf_of_id = {p} OR t.assignee_id = {p} \
         OR EXISTS (SELECT 1 FROM ticket_people tp WHERE tp.ticket_id = t.id AND tp.person_id = {p})"
    ));
    format!("({})", parts.join(" OR "))
}

/// A ticket with the names a page shows next to its ids.
#[derive(Debug, Clone, Serialize, FromRow, utoipa::ToSchema)]
pub struct Ticket {
    pub id: i64,
    pub number: String,
    pub kind: String,
    #[serde(skip)]
    pub restriction: i64,
    pub organization_id: i64,
    pub organization_code: String,
    pub organization_name_en: String,
    pub organization_name_fr: String,
    pub service_id: Option<i64>,
    pub service_code: Option<String>,
    pub subcategory_id: Option<i64>,
    pub configuration_item: Option<String>,
    pub summary: String,
    pub details: String,
    pub reporter_id: i64,
    pub reporter_name: String,
    pub on_behalf_of_id: Option<i64>,
    pub on_behalf_of_name: Option<String>,
    pub impact: i64,
    pub urgency: i64,
    pub priority: i64,
    #[serde(serialize_with = "crate::orgs::as_bool")]
    #[schema(value_type = bool)]
    pub priority_overridden: i64,
    pub status: String,
    pub support_group_id: Option<i64>,
    pub support_group_code: Option<String>,
    pub assignee_id: Option<i64>,
    pub assignee_name: Option<String>,
    pub tier: i64,
    pub channel: String,
    pub first_occurrence: Option<String>,
    pub service_impact: Option<String>,
    pub user_impact: Option<String>,
    pub troubleshooting: Option<String>,
    pub workaround: Option<String>,
    #[serde(serialize_with = "crate::orgs::as_bool")]
    #[schema(value_type = bool)]
    pub no_workaround: i64,
    #[serde(skip)]
    pub custom_fields: String,
    pub merged_into_id: Option<i64>,
    pub created_at: String,
    pub updated_at: String,
    pub resolved_at: Option<String>,
    pub closed_at: Option<String>,
    pub version: i64,
    /// The policy pack version the ticket was opened under.
    pub policy_pack_id: Option<i64>,
    /// The first public reply by an agent: stops the response clock.
    pub first_response_at: Option<String>,
    /// The resolution clock at the last change: `running`, `paused`, `met`, `breached` or
    /// `none` (no SLA). Whether a running clock is at risk or breached depends on the time
    /// of the question: see `sla_due_at` and `sla_warn_at`.
    pub sla_clock: String,
    pub sla_due_at: Option<String>,
    pub sla_warn_at: Option<String>,
    pub sla_respond_due_at: Option<String>,
    /// The SLA state when read: on_track, at_risk, breached, paused or met; absent without
    /// an SLA.
    #[sqlx(skip)]
    pub sla_state: Option<String>,
}

impl Ticket {
    /// Fills `sla_state` from the stored clock as of now.
    fn with_sla_state(mut self, now: jiff::Timestamp) -> Self {
        let at = |v: &Option<String>| v.as_deref().and_then(domain::time::from_db);
        self.sla_state = domain::sla::state_at(
            &self.sla_clock,
            at(&self.sla_due_at),
            at(&self.sla_warn_at),
            now,
        )
        .map(|s| s.as_str().to_owned());
        self
    }
    pub fn kind(&self) -> TicketKind {
        TicketKind::parse(&self.kind).unwrap_or(TicketKind::Incident)
    }
    pub fn status(&self) -> Status {
        Status::parse(&self.status).unwrap_or(Status::New)
    }
    pub fn custom(&self) -> Vec<(String, String)> {
        serde_json::from_str(&self.custom_fields).unwrap_or_default()
    }
    pub fn is_restricted(&self) -> bool {
        self.restriction != 0
    }
    /// Whether the person is named on the ticket as reporter or the person it is for.
    pub fn concerns(&self, person: i64) -> bool {
        self.reporter_id == person || self.on_behalf_of_id == Some(person)
    }
}

const SELECT: &str = "SELECT t.id, t.number, t.kind, t.restriction, t.organization_id,
    o.code AS organization_code, o.name_en AS organization_name_en, o.name_fr AS organization_name_fr,
    t.service_id, s.code AS service_code, t.subcategory_id, t.configuration_item, t.summary, t.details,
    t.reporter_id, r.display_name AS reporter_name, t.on_behalf_of_id, b.display_name AS on_behalf_of_name,
    t.impact, t.urgency, t.priority, t.priority_overridden, t.status, t.support_group_id,
    g.code AS support_group_code, t.assignee_id, a.display_name AS assignee_name, t.tier, t.channel,
    t.first_occurrence, t.service_impact, t.user_impact, t.troubleshooting, t.workaround, t.no_workaround,
    t.custom_fields, t.merged_into_id, t.created_at, t.updated_at, t.resolved_at, t.closed_at, t.version,
    t.policy_pack_id, t.first_response_at, t.sla_clock, t.sla_due_at, t.sla_warn_at, t.sla_respond_due_at
  FROM tickets t
  JOIN organizations o ON o.id = t.organization_id
  JOIN people r ON r.id = t.reporter_id
  LEFT JOIN people b ON b.id = t.on_behalf_of_id
  LEFT JOIN people a ON a.id = t.assignee_id
  LEFT JOIN services s ON s.id = t.service_id
  LEFT JOIN support_groups g ON g.id = t.support_group_id";

/// Everything a new ticket needs once it has been checked.
#[derive(Debug, Clone)]
pub struct NewTicket {
    pub kind: TicketKind,
    pub organization_id: i64,
    pub service_id: Option<i64>,
    pub subcategory_id: Option<i64>,
    pub reporter_id: i64,
    pub on_behalf_of_id: Option<i64>,
    pub draft: Draft,
    pub priority: i64,
    pub support_group_id: Option<i64>,
    pub channel: domain::ticket::Channel,
    /// The selected policy pack when the ticket is opened.
    pub policy_pack_id: Option<i64>,
    /// Its clocks at creation.
    pub sla: SlaColumns,
    /// The creation instant: the ticket's `created_at` and its first timeline entry, and
    /// the start of its clocks (computed before the rows are written).
    pub created_at: jiff::Timestamp,
}

pub async fn add_partner_reference(
    conn: &mut AnyConnection,
    ticket_id: i64,
    reference: &str,
) -> StoreResult<()> {
    sqlx::query("INSERT INTO ticket_partner_refs (ticket_id, reference) VALUES ($1, $2)")
        .bind(ticket_id)
        .bind(reference)
        .execute(&mut *conn)
        .await
        .map_err(StoreError::unique_as("reference_exists"))?;
    Ok(())
}

pub async fn remove_partner_reference(
    conn: &mut AnyConnection,
    ticket_id: i64,
    reference: &str,
) -> StoreResult<bool> {
    let done =
        sqlx::query("DELETE FROM ticket_partner_refs WHERE ticket_id = $1 AND reference = $2")
            .bind(ticket_id)
            .bind(reference)
            .execute(&mut *conn)
            .await?;
    Ok(done.rows_affected() > 0)
}

pub async fn partner_references(
    conn: &mut AnyConnection,
    ticket_id: i64,
) -> StoreResult<Vec<String>> {
    // Sorted here, not by the database: the same order under any collation.
    let mut references: Vec<String> =
        sqlx::query_scalar("SELECT reference FROM ticket_partner_refs WHERE ticket_id = $1")
            .bind(ticket_id)
            .fetch_all(&mut *conn)
            .await?;
    references.sort();
    Ok(references)
}

/// Adds a timeline entry; returns its id.
pub async fn add_event(
    conn: &mut AnyConnection,
    ticket_id: i64,
    actor: &crate::audit::Actor,
    kind: &str,
    internal: bool,
    body: Option<&str>,
    data: serde_json::Value,
) -> StoreResult<i64> {
    add_event_at(
        conn,
        ticket_id,
        &now_db(),
        actor,
        kind,
        internal,
        body,
        data,
    )
    .await
}

/// Adds a timeline entry that happened at `at` (the demo's past incidents).
#[allow(clippy::too_many_arguments)]
pub async fn add_event_at(
    conn: &mut AnyConnection,
    ticket_id: i64,
    at: &str,
    actor: &crate::audit::Actor,
    kind: &str,
    internal: bool,
    body: Option<&str>,
    data: serde_json::Value,
) -> StoreResult<i64> {
    Ok(sqlx::query_scalar(
        "INSERT INTO ticket_events (ticket_id, at, actor_id, actor_label, kind, internal, body, data)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
    )
    .bind(ticket_id)
    .bind(at)
    .bind(actor.person_id)
    .bind(&actor.label)
    .bind(kind)
    .bind(internal as i64)
    .bind(body)
    .bind(data.to_string())
    .fetch_one(&mut *conn)
    .await?)
}

async fn index_insert(
    conn: &mut AnyConnection,
    backend: Backend,
    id: i64,
    doc: &str,
) -> StoreResult<()> {
    let sql = match backend {
        Backend::Sqlite => "INSERT INTO ticket_search (rowid, doc) VALUES ($1, $2)",
        Backend::Postgres => {
            "INSERT INTO ticket_search (ticket_id, doc) VALUES ($1, to_tsvector('simple', $2))"
        }
    };
    sqlx::query(sql)
        .bind(id)
        .bind(doc)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Adds text (a public comment, a new reference) to a ticket's search document.
pub async fn index_append(
    conn: &mut AnyConnection,
    backend: Backend,
    id: i64,
    text: &str,
) -> StoreResult<()> {
    let folded = domain::ticket::search_text("", &[text]);
    let sql = match backend {
        Backend::Sqlite => "UPDATE ticket_search SET doc = doc || ' ' || $2 WHERE rowid = $1",
        Backend::Postgres => {
            "UPDATE ticket_search SET doc = doc || to_tsvector('simple', $2) WHERE ticket_id = $1"
        }
    };
    sqlx::query(sql)
        .bind(id)
        .bind(folded)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Rebuilds a ticket's search document from what is stored (after an edit or a redaction).
pub async fn reindex(conn: &mut AnyConnection, backend: Backend, id: i64) -> StoreResult<()> {
    let row = sqlx::query("SELECT number, summary, details FROM tickets WHERE id = $1")
        .bind(id)
        .fetch_one(&mut *conn)
        .await?;
    let number: String = row.try_get("number")?;
    let summary: String = row.try_get("summary")?;
    let details: String = row.try_get("details")?;
    let comments: Vec<String> = sqlx::query_scalar(
        "SELECT body FROM ticket_events WHERE ticket_id = $1 AND kind = 'comment' AND internal = 0 AND body IS NOT NULL ORDER BY id",
    )
    .bind(id)
    .fetch_all(&mut *conn)
    .await?;
    let references = partner_references(conn, id).await?;
    let mut parts: Vec<&str> = vec![&summary, &details];
    parts.extend(references.iter().map(String::as_str));
    parts.extend(comments.iter().map(String::as_str));
    let doc = domain::ticket::search_text(&number, &parts);
    let delete = match backend {
        Backend::Sqlite => "DELETE FROM ticket_search WHERE rowid = $1",
        Backend::Postgres => "DELETE FROM ticket_search WHERE ticket_id = $1",
    };
    sqlx::query(delete).bind(id).execute(&mut *conn).await?;
    index_insert(conn, backend, id, &doc).await
}

pub async fn get(conn: &mut AnyConnection, scope: &TicketScope, id: i64) -> StoreResult<Ticket> {
    let sql = format!("{SELECT} WHERE t.id = $1 AND {}", visible(scope));
    sqlx::query_as::<_, Ticket>(&sql)
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?
        .map(|t| t.with_sla_state(domain::time::now()))
        .ok_or(StoreError::NotFound)
}

/// A ticket's id by its number, whoever may see it (for a signed link that names it).
pub async fn id_by_number(conn: &mut AnyConnection, number: &str) -> StoreResult<Option<i64>> {
    Ok(
        sqlx::query_scalar("SELECT id FROM tickets WHERE number = $1")
            .bind(number)
            .fetch_optional(&mut *conn)
            .await?,
    )
}

pub async fn get_by_number(
    conn: &mut AnyConnection,
    scope: &TicketScope,
    number: &str,
) -> StoreResult<Ticket> {
    let (kind, sequence) = domain::ticket::parse_number(number).ok_or(StoreError::NotFound)?;
    let number = domain::ticket::format_number(kind, sequence);
    let sql = format!("{SELECT} WHERE t.number = $1 AND {}", visible(scope));
    sqlx::query_as::<_, Ticket>(&sql)
        .bind(number)
        .fetch_optional(&mut *conn)
        .await?
        .map(|t| t.with_sla_state(domain::time::now()))
        .ok_or(StoreError::NotFound)
}

/// Which tickets a list shows.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub q: Option<String>,
    /// `None`: every status; `Some(vec![])` is treated as "open".
    pub statuses: Option<Vec<Status>>,
    pub open_only: bool,
    pub organization_id: Option<i64>,
    pub service_id: Option<i64>,
    pub support_group_id: Option<i64>,
    pub assignee_id: Option<i64>,
    pub unassigned: bool,
    pub priority: Option<i64>,
    pub kind: Option<TicketKind>,
    /// Tickets this person reported, or were raised for them, or shared with them.
    pub involving: Option<i64>,
    /// SLA state of the resolution clock at `now` (see `domain::sla::state_at`).
    pub sla: Option<domain::sla::SlaState>,
    pub sort: Sort,
    pub cursor: Option<Cursor>,
    pub limit: i64,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Sort {
    #[default]
    Newest,
    Oldest,
    /// Highest priority first, then oldest: the order a queue is worked in.
    Priority,
    Updated,
    /// Resolution due time, soonest (or most overdue) first; tickets without one last.
    Due,
}

impl Sort {
    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "newest" => Some(Sort::Newest),
            "oldest" => Some(Sort::Oldest),
            "priority" => Some(Sort::Priority),
            "updated" => Some(Sort::Updated),
            "due" => Some(Sort::Due),
            _ => None,
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Sort::Newest => "newest",
            Sort::Oldest => "oldest",
            Sort::Priority => "priority",
            Sort::Updated => "updated",
            Sort::Due => "due",
        }
    }
}

/// Where the next page starts: the sort key of the last row shown and its id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor {
    pub key: String,
    pub id: i64,
}

impl Cursor {
    pub fn encode(&self) -> String {
        use base64::Engine;
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("{}|{}", self.id, self.key))
    }
    pub fn decode(value: &str) -> Option<Self> {
        use base64::Engine;
        let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(value)
            .ok()?;
        let raw = String::from_utf8(raw).ok()?;
        let (id, key) = raw.split_once('|')?;
        let cursor = Self {
            key: key.to_owned(),
            id: id.parse().ok()?,
        };
        // Keys are priorities (digits) or stored instants; anything else is a forgery.
        let key_ok = cursor.key.is_empty()
            || cursor.key.bytes().all(|b| b.is_ascii_digit())
            || domain::time::from_db(&cursor.key).is_some();
        key_ok.then_some(cursor)
    }
}

/// A page of tickets and the cursor of the next one.
#[derive(Debug, Clone)]
pub struct Page {
    pub tickets: Vec<Ticket>,
    pub next: Option<Cursor>,
}

/// Lists tickets the scope may see, filtered, sorted and paged by cursor. A query `q`
/// that is a ticket number finds that ticket; other text goes to the full-text index.
pub async fn list(
    conn: &mut AnyConnection,
    backend: Backend,
    scope: &TicketScope,
    filter: &Filter,
) -> StoreResult<Page> {
    let q = filter.q.as_deref().map(str::trim).filter(|q| !q.is_empty());
    let Some(q) = q.filter(|q| domain::ticket::parse_number(q).is_none()) else {
        return list_where(conn, backend, scope, filter, None).await;
    };
    if filter.sort != Sort::Newest {
        return list_where(conn, backend, scope, filter, None).await;
    }
    let terms = domain::ticket::search_terms(q);
    if terms.is_empty() {
        return Ok(Page {
            tickets: Vec::new(),
            next: None,
        });
    }
    // Newest first: walk the index's matches from the newest down in growing chunks and
    // keep the visible ones, so a common word costs a page, not every match.
    let limit = filter.limit.clamp(1, 200);
    let mut upper = filter.cursor.as_ref().map_or(i64::MAX, |c| c.id);
    let mut chunk: i64 = 200;
    let mut walked: i64 = 0;
    let mut found: Vec<Ticket> = Vec::new();
    let inner = Filter {
        q: None,
        cursor: None,
        ..filter.clone()
    };
    while found.len() as i64 <= limit {
        if walked > 100_000 {
            // A narrow scope and a common word: let the database do the rest at once.
            let rest = Filter {
                cursor: Some(Cursor {
                    key: String::new(),
                    id: upper,
                }),
                limit: limit + 1 - found.len() as i64,
                ..filter.clone()
            };
            // Asking for one row more than the page holds tells whether a next page exists.
            found.extend(list_where(conn, backend, scope, &rest, None).await?.tickets);
            break;
        }
        let ids = search_ids(conn, backend, &terms, upper, chunk).await?;
        let Some(&last) = ids.last() else { break };
        upper = last;
        walked += ids.len() as i64;
        let page = list_where(
            conn,
            backend,
            scope,
            &Filter {
                limit: limit + 1 - found.len() as i64,
                ..inner.clone()
            },
            Some(&ids),
        )
        .await?;
        found.extend(page.tickets);
        if (ids.len() as i64) < chunk {
            break;
        }
        chunk = (chunk * 4).min(20_000);
    }
    let next = if found.len() as i64 > limit {
        found.truncate(limit as usize);
        found.last().map(|t| Cursor {
            key: String::new(),
            id: t.id,
        })
    } else {
        None
    };
    Ok(Page {
        tickets: found,
        next,
    })
}

/// Ids of tickets whose search document matches every term, newest first, below `upper`.
async fn search_ids(
    conn: &mut AnyConnection,
    backend: Backend,
    terms: &[String],
    upper: i64,
    limit: i64,
) -> StoreResult<Vec<i64>> {
    match backend {
        Backend::Sqlite => Ok(sqlx::query_scalar(
            "SELECT rowid FROM ticket_search WHERE ticket_search MATCH $1 AND rowid < $2 ORDER BY rowid DESC LIMIT $3",
        )
        .bind(fts5_query(terms))
        .bind(upper)
        .bind(limit)
        .fetch_all(&mut *conn)
        .await?),
        Backend::Postgres => postgres_search_ids(conn, terms, upper, limit).await,
    }
}

/// A word in at least this share of tickets is "common": its matches are dense among the
/// newest rows, so reading those rows newest first finds a page quickly.
const COMMON_SHARE: f64 = 0.02;

/// PostgreSQL estimates every word outside its most-common list at the same frequency, so
/// left alone it reads a rare word's matches by scanning the newest rows of the whole table.
/// We decide instead, from the same statistics: if every word is common, walk the newest
/// rows (primary key, backwards); otherwise ask the GIN index (bitmap scan) for the few
/// matches and sort them.
async fn postgres_search_ids(
    conn: &mut AnyConnection,
    terms: &[String],
    upper: i64,
    limit: i64,
) -> StoreResult<Vec<i64>> {
    let shares = word_shares(conn).await?;
    let all_common = terms
        .iter()
        .all(|t| shares.get(t).is_some_and(|share| *share >= COMMON_SHARE));
    let (forbid_a, forbid_b) = if all_common {
        ("enable_bitmapscan", "enable_seqscan")
    } else {
        ("enable_indexscan", "enable_seqscan")
    };
    let mut tx = sqlx::Connection::begin(&mut *conn).await?;
    // A prepared statement's generic plan knows nothing of the word and ANDs the GIN
    // bitmap with a range scan over the whole primary key; plan each search for its words.
    sqlx::query(
        "SELECT set_config($1, 'off', true), set_config($2, 'off', true),
                set_config('plan_cache_mode', 'force_custom_plan', true)",
    )
    .bind(forbid_a)
    .bind(forbid_b)
    .execute(&mut *tx)
    .await?;
    // Two statement texts, one per plan: PostgreSQL caches a prepared statement's plan, and
    // a plan made under one set of settings must not be reused under the other.
    let sql = if all_common {
        "SELECT ticket_id FROM ticket_search /* newest first */ WHERE doc @@ to_tsquery('simple', $1)
           AND ticket_id < $2 ORDER BY ticket_id DESC LIMIT $3"
    } else {
        "SELECT ticket_id FROM ticket_search /* gin */ WHERE doc @@ to_tsquery('simple', $1)
           AND ticket_id < $2 ORDER BY ticket_id DESC LIMIT $3"
    };
    let ids: Vec<i64> = sqlx::query_scalar(sql)
        .bind(tsquery(terms))
        .bind(upper)
        .bind(limit)
        .fetch_all(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(ids)
}

type WordShares = std::collections::HashMap<String, f64>;

/// The share of tickets containing each of the most common words, from PostgreSQL's own
/// statistics (refreshed by autovacuum's ANALYZE), read at most every five minutes.
async fn word_shares(conn: &mut AnyConnection) -> StoreResult<std::sync::Arc<WordShares>> {
    use std::sync::{Arc, Mutex};
    use std::time::{Duration, Instant};
    static CACHE: Mutex<Option<(Instant, Arc<WordShares>)>> = Mutex::new(None);
    if let Some((at, shares)) = CACHE.lock().expect("cache lock").as_ref()
        && at.elapsed() < Duration::from_secs(300)
    {
        return Ok(shares.clone());
    }
    let row: Option<(Option<String>, Option<String>)> = sqlx::query_as(
        "SELECT most_common_elems::text, most_common_elem_freqs::text FROM pg_stats
         WHERE tablename = 'ticket_search' AND attname = 'doc' LIMIT 1",
    )
    .fetch_optional(&mut *conn)
    .await?;
    let mut shares = WordShares::new();
    if let Some((Some(words), Some(freqs))) = row {
        let list = |text: &str| -> Vec<String> {
            text.trim_matches(|c| c == '{' || c == '}')
                .split(',')
                .map(|w| w.trim_matches('"').to_owned())
                .collect()
        };
        for (word, freq) in list(&words).into_iter().zip(list(&freqs)) {
            if let Ok(freq) = freq.parse::<f64>() {
                shares.insert(word, freq);
            }
        }
    }
    let shares = Arc::new(shares);
    *CACHE.lock().expect("cache lock") = Some((Instant::now(), shares.clone()));
    Ok(shares)
}

/// The list query itself; `only_ids` restricts it to those tickets (a chunk of search hits).
async fn list_where(
    conn: &mut AnyConnection,
    backend: Backend,
    scope: &TicketScope,
    filter: &Filter,
    only_ids: Option<&[i64]>,
) -> StoreResult<Page> {
    let mut sql = format!("{SELECT} WHERE {}", visible(scope));
    let mut binds: Vec<Bind> = Vec::new();
    fn push(binds: &mut Vec<Bind>, sql: &mut String, clause: &str, value: Bind) {
        binds.push(value);
        sql.push_str(&clause.replace('?', &format!("${}", binds.len())));
    }
    if let Some(ids) = only_ids {
        let list: Vec<String> = ids.iter().map(i64::to_string).collect();
        match backend {
            // Planning this many-join query costs PostgreSQL milliseconds: one statement text
            // for every chunk of ids lets it be prepared once per connection.
            Backend::Postgres => push(
                &mut binds,
                &mut sql,
                " AND t.id = ANY(CAST(? AS BIGINT[]))",
                Bind::Text(format!("{{{}}}", list.join(","))),
            ),
            // SQLite prepares in microseconds, and a literal list lets it look each id up.
            Backend::Sqlite => sql.push_str(&format!(" AND t.id IN ({})", list.join(", "))),
        }
    }
    if let Some(q) = filter.q.as_deref().map(str::trim).filter(|q| !q.is_empty()) {
        if let Some((kind, seq)) = domain::ticket::parse_number(q) {
            push(
                &mut binds,
                &mut sql,
                " AND t.number = ?",
                Bind::Text(domain::ticket::format_number(kind, seq)),
            );
        } else {
            let terms = domain::ticket::search_terms(q);
            if terms.is_empty() {
                return Ok(Page {
                    tickets: Vec::new(),
                    next: None,
                });
            }
            let (clause, query) = match backend {
                Backend::Sqlite => (
                    " AND t.id IN (SELECT rowid FROM ticket_search WHERE ticket_search MATCH ?)",
                    fts5_query(&terms),
                ),
                Backend::Postgres => (
                    " AND t.id IN (SELECT ticket_id FROM ticket_search WHERE doc @@ to_tsquery('simple', ?))",
                    tsquery(&terms),
                ),
            };
            push(&mut binds, &mut sql, clause, Bind::Text(query));
        }
    }
    if let Some(statuses) = &filter.statuses {
        let list: Vec<String> = statuses
            .iter()
            .map(|s| format!("'{}'", s.as_str()))
            .collect();
        if !list.is_empty() {
            sql.push_str(&format!(" AND t.status IN ({})", list.join(", ")));
        }
    }
    if filter.open_only {
        sql.push_str(" AND t.is_open = 1");
    }
    if let Some(org) = filter.organization_id {
        push(
            &mut binds,
            &mut sql,
            " AND t.organization_id = ?",
            Bind::Int(org),
        );
    }
    if let Some(service) = filter.service_id {
        push(
            &mut binds,
            &mut sql,
            " AND t.service_id = ?",
            Bind::Int(service),
        );
    }
    if let Some(group) = filter.support_group_id {
        push(
            &mut binds,
            &mut sql,
            " AND t.support_group_id = ?",
            Bind::Int(group),
        );
    }
    if let Some(assignee) = filter.assignee_id {
        push(
            &mut binds,
            &mut sql,
            " AND t.assignee_id = ?",
            Bind::Int(assignee),
        );
    }
    if filter.unassigned {
        sql.push_str(" AND t.assignee_id IS NULL");
    }
    if let Some(priority) = filter.priority {
        push(
            &mut binds,
            &mut sql,
            " AND t.priority = ?",
            Bind::Int(priority),
        );
    }
    if let Some(kind) = filter.kind {
        push(
            &mut binds,
            &mut sql,
            " AND t.kind = ?",
            Bind::Text(kind.as_str().to_owned()),
        );
    }
    if let Some(state) = filter.sla {
        use domain::sla::SlaState;
        binds.push(Bind::Text(crate::now_db()));
        let now = format!("${}", binds.len());
        // Written on the due-time sort key, so that the index on it serves the ranges.
        sql.push_str(&match state {
            SlaState::Breached => format!(
                " AND (t.sla_clock = 'breached' OR (t.sla_clock = 'running' AND {DUE_KEY} < {now}))"
            ),
            SlaState::AtRisk => format!(
                " AND t.sla_clock = 'running' AND {DUE_KEY} >= {now} AND t.sla_warn_at <= {now}"
            ),
            SlaState::OnTrack => format!(
                " AND t.sla_clock = 'running' AND {DUE_KEY} >= {now} AND (t.sla_warn_at IS NULL OR t.sla_warn_at > {now})"
            ),
            SlaState::Paused => " AND t.sla_clock = 'paused'".to_owned(),
            SlaState::Met => " AND t.sla_clock = 'met'".to_owned(),
        });
    }
    if let Some(person) = filter.involving {
        sql.push_str(&format!(
            " AND (t.reporter_id = {person} OR t.on_behalf_of_id = {person} \
             OR EXISTS (SELECT 1 FROM ticket_people tp2 WHERE tp2.ticket_id = t.id AND tp2.person_id = {person}))"
        ));
    }
    if let Some(cursor) = &filter.cursor {
        let id = cursor.id;
        match filter.sort {
            Sort::Newest => sql.push_str(&format!(" AND t.id < {id}")),
            Sort::Oldest => sql.push_str(&format!(" AND t.id > {id}")),
            Sort::Priority => {
                let p: i64 = cursor.key.parse().unwrap_or(0);
                sql.push_str(&format!(
                    " AND (t.priority > {p} OR (t.priority = {p} AND t.id > {id}))"
                ));
            }
            Sort::Updated => {
                binds.push(Bind::Text(cursor.key.clone()));
                let n = binds.len();
                sql.push_str(&format!(
                    " AND (t.updated_at < ${n} OR (t.updated_at = ${n} AND t.id < {id}))"
                ));
            }
            Sort::Due => {
                binds.push(Bind::Text(cursor.key.clone()));
                let n = binds.len();
                sql.push_str(&format!(
                    " AND ({DUE_KEY} > ${n} OR ({DUE_KEY} = ${n} AND t.id > {id}))"
                ));
            }
        }
    }
    sql.push_str(match filter.sort {
        Sort::Newest => " ORDER BY t.id DESC",
        Sort::Oldest => " ORDER BY t.id ASC",
        Sort::Priority => " ORDER BY t.priority ASC, t.id ASC",
        Sort::Updated => " ORDER BY t.updated_at DESC, t.id DESC",
        Sort::Due => " ORDER BY COALESCE(t.sla_due_at, '9999') ASC, t.id ASC", // DUE_KEY
    });
    let limit = filter.limit.clamp(1, 200);
    sql.push_str(&format!(" LIMIT {}", limit + 1));
    let mut query = sqlx::query_as::<_, Ticket>(&sql);
    for bind in binds {
        query = match bind {
            Bind::Int(v) => query.bind(v),
            Bind::Text(v) => query.bind(v),
        };
    }
    let now = domain::time::now();
    let mut tickets: Vec<Ticket> = query
        .fetch_all(&mut *conn)
        .await?
        .into_iter()
        .map(|t| t.with_sla_state(now))
        .collect();
    let next = if tickets.len() as i64 > limit {
        tickets.truncate(limit as usize);
        tickets.last().map(|t| Cursor {
            key: match filter.sort {
                Sort::Priority => t.priority.to_string(),
                Sort::Updated => t.updated_at.clone(),
                Sort::Due => t.sla_due_at.clone().unwrap_or_else(|| "9999".to_owned()),
                _ => String::new(),
            },
            id: t.id,
        })
    } else {
        None
    };
    Ok(Page { tickets, next })
}

/// The due-time sort key: tickets without a due time sort after every instant.
const DUE_KEY: &str = "COALESCE(t.sla_due_at, '9999')";

enum Bind {
    Int(i64),
    Text(String),
}

/// `"a" "b"`: every word must match, whole words only. (A prefix on the last word made FTS5
/// merge every matching term's list before returning the first row: 3 to 10 times slower
/// on common words at a million tickets.)
fn fts5_query(terms: &[String]) -> String {
    terms
        .iter()
        .map(|t| format!("\"{t}\""))
        .collect::<Vec<_>>()
        .join(" ")
}

/// `a & b`: the same for PostgreSQL.
fn tsquery(terms: &[String]) -> String {
    terms.join(" & ")
}

/// Open tickets the scope may see that involve the person: the portal's "Requests" counter.
pub async fn count_open_involving(
    conn: &mut AnyConnection,
    scope: &TicketScope,
    person: i64,
) -> StoreResult<i64> {
    let sql = format!(
        "SELECT COUNT(*) FROM tickets t WHERE t.is_open = 1 AND {} AND (t.reporter_id = {person} OR t.on_behalf_of_id = {person}
           OR EXISTS (SELECT 1 FROM ticket_people tp2 WHERE tp2.ticket_id = t.id AND tp2.person_id = {person}))",
        visible(scope)
    );
    Ok(sqlx::query_scalar(&sql).fetch_one(&mut *conn).await?)
}

/// Open tickets per support group: the queue counters of the agent console.
pub async fn open_counts_by_group(
    conn: &mut AnyConnection,
    scope: &TicketScope,
) -> StoreResult<Vec<(i64, i64)>> {
    let sql = format!(
        "SELECT t.support_group_id, COUNT(*) AS n FROM tickets t
         WHERE t.is_open = 1 AND t.support_group_id IS NOT NULL AND {} GROUP BY t.support_group_id",
        visible(scope)
    );
    let rows = sqlx::query(&sql).fetch_all(&mut *conn).await?;
    rows.iter()
        .map(|r| Ok((r.try_get::<i64, _>(0)?, r.try_get::<i64, _>(1)?)))
        .collect()
}

/// One entry of a ticket's timeline.
#[derive(Debug, Clone, Serialize, FromRow, utoipa::ToSchema)]
pub struct Event {
    pub id: i64,
    pub at: String,
    pub actor_id: Option<i64>,
    pub actor_label: String,
    pub kind: String,
    #[serde(serialize_with = "crate::orgs::as_bool")]
    #[schema(value_type = bool)]
    pub internal: i64,
    pub body: Option<String>,
    #[schema(value_type = Object)]
    #[serde(serialize_with = "as_json")]
    pub data: String,
    #[serde(serialize_with = "crate::orgs::as_bool")]
    #[schema(value_type = bool)]
    pub redacted: i64,
}

/// Serializes a column holding JSON text as the JSON it holds (`null` if unreadable).
pub(crate) fn as_json<S: serde::Serializer>(value: &str, s: S) -> Result<S::Ok, S::Error> {
    let v: serde_json::Value = serde_json::from_str(value).unwrap_or(serde_json::Value::Null);
    v.serialize(s)
}

impl Event {
    pub fn data(&self) -> serde_json::Value {
        serde_json::from_str(&self.data).unwrap_or(serde_json::Value::Null)
    }
}

pub async fn events(
    conn: &mut AnyConnection,
    ticket_id: i64,
    include_internal: bool,
) -> StoreResult<Vec<Event>> {
    let sql = format!(
        "SELECT id, at, actor_id, actor_label, kind, internal, body, data, redacted FROM ticket_events
         WHERE ticket_id = $1 {} ORDER BY id",
        if include_internal { "" } else { "AND internal = 0" }
    );
    Ok(sqlx::query_as(&sql)
        .bind(ticket_id)
        .fetch_all(&mut *conn)
        .await?)
}

pub async fn event(conn: &mut AnyConnection, ticket_id: i64, event_id: i64) -> StoreResult<Event> {
    sqlx::query_as(
        "SELECT id, at, actor_id, actor_label, kind, internal, body, data, redacted FROM ticket_events WHERE ticket_id = $1 AND id = $2",
    )
    .bind(ticket_id)
    .bind(event_id)
    .fetch_optional(&mut *conn)
    .await?
    .ok_or(StoreError::NotFound)
}

pub async fn set_event_body(
    conn: &mut AnyConnection,
    event_id: i64,
    body: &str,
) -> StoreResult<()> {
    sqlx::query("UPDATE ticket_events SET body = $1, redacted = 1 WHERE id = $2")
        .bind(body)
        .bind(event_id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Writes changed columns of a ticket, bumping its version. `expected_version` guards
/// against two people editing at once: a stale version is a conflict, nothing is written.
pub async fn update_columns(
    conn: &mut AnyConnection,
    id: i64,
    expected_version: i64,
    changes: &[(&'static str, ColumnValue)],
) -> StoreResult<()> {
    let mut sql = String::from("UPDATE tickets SET version = version + 1, updated_at = $1");
    for (i, (column, _)) in changes.iter().enumerate() {
        debug_assert!(column.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'));
        sql.push_str(&format!(", {column} = ${}", i + 2));
    }
    let n = changes.len();
    sql.push_str(&format!(" WHERE id = ${} AND version = ${}", n + 2, n + 3));
    let mut query = sqlx::query(&sql).bind(now_db());
    for (_, value) in changes {
        query = match value {
            ColumnValue::Int(v) => query.bind(*v),
            ColumnValue::Text(v) => query.bind(v.clone()),
        };
    }
    let done = query
        .bind(id)
        .bind(expected_version)
        .execute(&mut *conn)
        .await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::Conflict("stale_version"));
    }
    Ok(())
}

#[derive(Debug, Clone, PartialEq)]
pub enum ColumnValue {
    Int(Option<i64>),
    Text(Option<String>),
}

/// People named on a ticket beyond reporter, raised-for and assignee.
#[derive(Debug, Clone, Serialize, FromRow, utoipa::ToSchema)]
pub struct NamedPerson {
    pub person_id: i64,
    pub display_name: String,
    pub email: String,
    pub role: String,
    #[serde(serialize_with = "crate::orgs::as_bool")]
    #[schema(value_type = bool)]
    pub muted: i64,
}

pub async fn people(conn: &mut AnyConnection, ticket_id: i64) -> StoreResult<Vec<NamedPerson>> {
    Ok(sqlx::query_as(
        "SELECT tp.person_id, p.display_name, p.email, tp.role, tp.muted FROM ticket_people tp
         JOIN people p ON p.id = tp.person_id WHERE tp.ticket_id = $1 ORDER BY p.display_name",
    )
    .bind(ticket_id)
    .fetch_all(&mut *conn)
    .await?)
}

/// Names a person on the ticket (`watcher` or `shared`). Returns false if already named.
pub async fn add_person(
    conn: &mut AnyConnection,
    ticket_id: i64,
    person_id: i64,
    role: &str,
) -> StoreResult<bool> {
    let exists: Option<i64> =
        sqlx::query_scalar("SELECT 1 FROM ticket_people WHERE ticket_id = $1 AND person_id = $2")
            .bind(ticket_id)
            .bind(person_id)
            .fetch_optional(&mut *conn)
            .await?;
    if exists.is_some() {
        return Ok(false);
    }
    sqlx::query(
        "INSERT INTO ticket_people (ticket_id, person_id, role, muted) VALUES ($1, $2, $3, 0)",
    )
    .bind(ticket_id)
    .bind(person_id)
    .bind(role)
    .execute(&mut *conn)
    .await?;
    Ok(true)
}

pub async fn remove_person(
    conn: &mut AnyConnection,
    ticket_id: i64,
    person_id: i64,
) -> StoreResult<bool> {
    let done = sqlx::query(
        "DELETE FROM ticket_people WHERE ticket_id = $1 AND person_id = $2 AND muted = 0",
    )
    .bind(ticket_id)
    .bind(person_id)
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected() > 0)
}

/// Turns a person's notifications for a ticket off or on. A reporter who mutes is kept as
/// a `muted` row so that the choice survives.
pub async fn set_muted(
    conn: &mut AnyConnection,
    ticket_id: i64,
    person_id: i64,
    muted: bool,
) -> StoreResult<()> {
    let updated =
        sqlx::query("UPDATE ticket_people SET muted = $1 WHERE ticket_id = $2 AND person_id = $3")
            .bind(muted as i64)
            .bind(ticket_id)
            .bind(person_id)
            .execute(&mut *conn)
            .await?;
    if updated.rows_affected() == 0 && muted {
        sqlx::query("INSERT INTO ticket_people (ticket_id, person_id, role, muted) VALUES ($1, $2, 'self', 1)")
            .bind(ticket_id)
            .bind(person_id)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

pub async fn is_muted(
    conn: &mut AnyConnection,
    ticket_id: i64,
    person_id: i64,
) -> StoreResult<bool> {
    let muted: Option<i64> = sqlx::query_scalar(
        "SELECT muted FROM ticket_people WHERE ticket_id = $1 AND person_id = $2",
    )
    .bind(ticket_id)
    .bind(person_id)
    .fetch_optional(&mut *conn)
    .await?;
    Ok(muted == Some(1))
}

/// A link between two tickets, seen from one of them.
#[derive(Debug, Clone, Serialize, FromRow, utoipa::ToSchema)]
pub struct Link {
    pub kind: String,
    /// `out` when this ticket points at the other (this incident is caused by that problem).
    pub direction: String,
    pub ticket_id: i64,
    pub number: String,
    pub summary: String,
    pub status: String,
}

/// Links of a ticket. Only linked tickets the scope may see are listed.
pub async fn links(
    conn: &mut AnyConnection,
    scope: &TicketScope,
    ticket_id: i64,
) -> StoreResult<Vec<Link>> {
    let sql = format!(
        "SELECT l.kind, 'out' AS direction, t.id AS ticket_id, t.number, t.summary, t.status
           FROM ticket_links l JOIN tickets t ON t.id = l.to_id WHERE l.from_id = $1 AND {v}
         UNION ALL
         SELECT l.kind, 'in' AS direction, t.id AS ticket_id, t.number, t.summary, t.status
           FROM ticket_links l JOIN tickets t ON t.id = l.from_id WHERE l.to_id = $1 AND {v}
         ORDER BY number",
        v = visible(scope)
    );
    Ok(sqlx::query_as(&sql)
        .bind(ticket_id)
        .fetch_all(&mut *conn)
        .await?)
}

pub async fn add_link(
    conn: &mut AnyConnection,
    from_id: i64,
    to_id: i64,
    kind: domain::ticket::LinkKind,
) -> StoreResult<()> {
    let existing: Option<i64> = sqlx::query_scalar(
        "SELECT 1 FROM ticket_links WHERE (from_id = $1 AND to_id = $2) OR (from_id = $2 AND to_id = $1)",
    )
    .bind(from_id)
    .bind(to_id)
    .fetch_optional(&mut *conn)
    .await?;
    if existing.is_some() {
        return Err(StoreError::Conflict("already_linked"));
    }
    sqlx::query(
        "INSERT INTO ticket_links (from_id, to_id, kind, created_at) VALUES ($1, $2, $3, $4)",
    )
    .bind(from_id)
    .bind(to_id)
    .bind(kind.as_str())
    .bind(now_db())
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// An attachment's stored metadata.
#[derive(Debug, Clone, Serialize, FromRow, utoipa::ToSchema)]
pub struct Attachment {
    pub id: i64,
    pub ticket_id: i64,
    pub event_id: Option<i64>,
    pub filename: String,
    pub content_type: String,
    pub size: i64,
    pub sha256: String,
    #[serde(serialize_with = "crate::orgs::as_bool")]
    #[schema(value_type = bool)]
    pub internal: i64,
    pub uploaded_by: Option<i64>,
    pub created_at: String,
}

#[allow(clippy::too_many_arguments)]
pub async fn add_attachment(
    conn: &mut AnyConnection,
    ticket_id: i64,
    event_id: Option<i64>,
    filename: &str,
    content_type: &str,
    size: i64,
    sha256: &str,
    internal: bool,
    uploaded_by: Option<i64>,
) -> StoreResult<i64> {
    Ok(sqlx::query_scalar(
        "INSERT INTO attachments (ticket_id, event_id, filename, content_type, size, sha256, internal, uploaded_by, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
    )
    .bind(ticket_id)
    .bind(event_id)
    .bind(filename)
    .bind(content_type)
    .bind(size)
    .bind(sha256)
    .bind(internal as i64)
    .bind(uploaded_by)
    .bind(now_db())
    .fetch_one(&mut *conn)
    .await?)
}

pub async fn attachments(
    conn: &mut AnyConnection,
    ticket_id: i64,
    include_internal: bool,
) -> StoreResult<Vec<Attachment>> {
    let sql = format!(
        "SELECT id, ticket_id, event_id, filename, content_type, size, sha256, internal, uploaded_by, created_at
         FROM attachments WHERE ticket_id = $1 {} ORDER BY id",
        if include_internal { "" } else { "AND internal = 0" }
    );
    Ok(sqlx::query_as(&sql)
        .bind(ticket_id)
        .fetch_all(&mut *conn)
        .await?)
}

pub async fn attachment(
    conn: &mut AnyConnection,
    ticket_id: i64,
    id: i64,
) -> StoreResult<Attachment> {
    sqlx::query_as(
        "SELECT id, ticket_id, event_id, filename, content_type, size, sha256, internal, uploaded_by, created_at
         FROM attachments WHERE ticket_id = $1 AND id = $2",
    )
    .bind(ticket_id)
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?
    .ok_or(StoreError::NotFound)
}

/// Moves what a duplicate holds onto the surviving ticket: people, partner references,
/// attachments and links. The duplicate keeps its own timeline.
pub async fn merge_into(
    conn: &mut AnyConnection,
    duplicate: i64,
    survivor: i64,
) -> StoreResult<()> {
    for sql in [
        "INSERT INTO ticket_people (ticket_id, person_id, role, muted)
           SELECT $2, person_id, role, muted FROM ticket_people d WHERE d.ticket_id = $1
           AND NOT EXISTS (SELECT 1 FROM ticket_people s WHERE s.ticket_id = $2 AND s.person_id = d.person_id)",
        "INSERT INTO ticket_partner_refs (ticket_id, reference)
           SELECT $2, reference FROM ticket_partner_refs d WHERE d.ticket_id = $1
           AND NOT EXISTS (SELECT 1 FROM ticket_partner_refs s WHERE s.ticket_id = $2 AND s.reference = d.reference)",
        "UPDATE attachments SET ticket_id = $2, event_id = NULL WHERE ticket_id = $1",
    ] {
        sqlx::query(sql).bind(duplicate).bind(survivor).execute(&mut *conn).await?;
    }
    Ok(())
}

/// People of an organization who may be named on its tickets (share, raise on behalf of).
pub async fn colleague(
    conn: &mut AnyConnection,
    organization_id: i64,
    person: &str,
) -> StoreResult<(i64, String)> {
    let row = match person.trim().parse::<i64>() {
        Ok(id) => {
            sqlx::query("SELECT id, display_name FROM people WHERE id = $1 AND organization_id = $2 AND active = 1")
                .bind(id)
                .bind(organization_id)
                .fetch_optional(&mut *conn)
                .await?
        }
        Err(_) => {
            sqlx::query("SELECT id, display_name FROM people WHERE email = $1 AND organization_id = $2 AND active = 1")
                .bind(person.trim().to_lowercase())
                .bind(organization_id)
                .fetch_optional(&mut *conn)
                .await?
        }
    };
    let row = row.ok_or(StoreError::Conflict("person_not_in_organization"))?;
    Ok((row.try_get("id")?, row.try_get("display_name")?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::policy::OrgScope;

    #[test]
    fn cursors_round_trip_and_refuse_forgery() {
        let c = Cursor {
            key: "2".into(),
            id: 99,
        };
        assert_eq!(Cursor::decode(&c.encode()), Some(c));
        let t = Cursor {
            key: "2026-11-23T10:00:00.000000Z".into(),
            id: 5,
        };
        assert_eq!(Cursor::decode(&t.encode()), Some(t));
        use base64::Engine;
        let forged = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode("1|1 OR 1=1");
        assert_eq!(Cursor::decode(&forged), None);
        assert_eq!(Cursor::decode("%%%"), None);
    }

    #[test]
    fn search_queries_are_built_from_safe_terms() {
        let terms = domain::ticket::search_terms("flux \"HL7\" retardé");
        assert_eq!(fts5_query(&terms), "\"flux\" \"hl7\" \"retarde\"");
        assert_eq!(tsquery(&terms), "flux & hl7 & retarde");
    }

    #[test]
    fn visibility_condition() {
        let scope = TicketScope {
            person_id: 7,
            orgs: OrgScope::Nothing,
            privacy: false,
            security: true,
        };
        let sql = visible(&scope);
        assert!(sql.contains("(t.restriction = 0 AND 1 = 0)"));
        assert!(sql.contains("t.restriction = 2"));
        assert!(!sql.contains("t.restriction = 1"));
        assert!(sql.contains("t.reporter_id = 7"));
    }
}

/// The SLA figures derived from a ticket's history (see `domain::sla`), stored so that
/// queues can filter and sort on them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SlaColumns {
    /// `running`, `paused`, `met`, `breached` or `none`.
    pub clock: String,
    pub due_at: Option<String>,
    pub warn_at: Option<String>,
    pub respond_due_at: Option<String>,
}

/// Ids of open tickets that have a policy pack (and so SLA clocks), above `after_id`, in
/// order: for recomputing their stored clocks in batches after a calendar change.
pub async fn open_ids_with_policy(
    conn: &mut AnyConnection,
    after_id: i64,
    limit: i64,
) -> StoreResult<Vec<i64>> {
    Ok(sqlx::query_scalar(
        "SELECT id FROM tickets WHERE is_open = 1 AND policy_pack_id IS NOT NULL AND id > $1
         ORDER BY id LIMIT $2",
    )
    .bind(after_id)
    .bind(limit)
    .fetch_all(&mut *conn)
    .await?)
}

/// Writes the derived SLA columns. Not a change of the ticket: its version stays.
pub async fn set_sla_columns(
    conn: &mut AnyConnection,
    ticket_id: i64,
    sla: &SlaColumns,
) -> StoreResult<()> {
    sqlx::query(
        "UPDATE tickets SET sla_clock = $1, sla_due_at = $2, sla_warn_at = $3, sla_respond_due_at = $4 WHERE id = $5",
    )
    .bind(&sla.clock)
    .bind(&sla.due_at)
    .bind(&sla.warn_at)
    .bind(&sla.respond_due_at)
    .bind(ticket_id)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Records the first public response by an agent, once; true if this was it.
pub async fn set_first_response(conn: &mut AnyConnection, ticket_id: i64) -> StoreResult<bool> {
    let done = sqlx::query(
        "UPDATE tickets SET first_response_at = $1 WHERE id = $2 AND first_response_at IS NULL",
    )
    .bind(now_db())
    .bind(ticket_id)
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// The status history of a ticket from its timeline: (instant, status from then on),
/// creation first.
pub async fn status_history(
    conn: &mut AnyConnection,
    ticket_id: i64,
) -> StoreResult<Vec<(String, String)>> {
    let rows: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT at, kind, data FROM ticket_events
         WHERE ticket_id = $1 AND kind IN ('created', 'status', 'reopened', 'merged') ORDER BY id",
    )
    .bind(ticket_id)
    .fetch_all(&mut *conn)
    .await?;
    Ok(rows
        .into_iter()
        .filter_map(|(at, kind, data)| {
            let status = if kind == "created" {
                "new".to_owned()
            } else if kind == "merged" {
                // A duplicate merged into another ticket is cancelled.
                "cancelled".to_owned()
            } else {
                let data: serde_json::Value = serde_json::from_str(&data).ok()?;
                data.get("to")?.as_str()?.to_owned()
            };
            Some((at, status))
        })
        .collect())
}

/// What is written with a new ticket besides its own rows.
pub struct Companions<'a> {
    pub audit_action: &'a str,
    pub audit_detail: serde_json::Value,
    pub mails: &'a [crate::outbox::NewMail],
    pub job_kind: &'a str,
    pub jobs: &'a [(String, jiff::Timestamp)],
}

/// The audit sequence and ticket number a new ticket takes.
#[derive(Debug, Clone)]
pub struct Reserved {
    pub seq: i64,
    pub number: String,
}

/// What [`reserve`] took for a batch of new tickets: each ticket's audit sequence and
/// number, in the order asked, and the hash the batch's audit rows chain from.
#[derive(Debug, Clone)]
pub struct Reservation {
    pub tickets: Vec<Reserved>,
    pub chain: String,
}

/// Takes the next audit sequences and each kind's next ticket numbers for a batch of new
/// tickets in one round trip (one statement on PostgreSQL, a script on SQLite), however many
/// tickets and kinds the batch holds. The rows stay locked until the transaction ends.
pub async fn reserve(
    conn: &mut AnyConnection,
    backend: Backend,
    kinds: &[domain::ticket::TicketKind],
) -> StoreResult<Reservation> {
    let mut counts: Vec<(domain::ticket::TicketKind, i64)> = Vec::new();
    for &kind in kinds {
        match counts.iter_mut().find(|(k, _)| *k == kind) {
            Some((_, n)) => *n += 1,
            None => counts.push((kind, 1)),
        }
    }
    if counts.is_empty() {
        return Err(StoreError::Other("nothing to reserve".into()));
    }
    let total = kinds.len() as i64;
    let (head, lasts): (sqlx::any::AnyRow, Vec<sqlx::any::AnyRow>) = match backend {
        Backend::Postgres => {
            let mut cases = String::new();
            let mut listed = Vec::new();
            for i in 0..counts.len() {
                let (k, n) = (2 + 2 * i, 3 + 2 * i);
                cases.push_str(&format!(" WHEN ${k} THEN ${n}::bigint"));
                listed.push(format!("${k}"));
            }
            let sql = format!(
                "WITH a AS (UPDATE audit_head SET seq = seq + $1 WHERE id = 1 RETURNING seq, hash),
                      q AS (UPDATE ticket_sequences SET last = last + CASE kind{cases} END
                            WHERE kind IN ({}) RETURNING kind, last)
                 SELECT a.seq, a.hash, q.kind, q.last FROM a, q",
                listed.join(", ")
            );
            let mut query = sqlx::query(&sql).bind(total);
            for (kind, n) in &counts {
                query = query.bind(kind.as_str()).bind(*n);
            }
            let rows = query.fetch_all(&mut *conn).await?;
            match rows.first() {
                Some(first) => (first.clone(), rows),
                None => return Err(StoreError::Other("no audit head".into())),
            }
        }
        Backend::Sqlite => {
            let mut sql = String::new();
            for i in 0..counts.len() {
                let (k, n) = (2 + 2 * i, 3 + 2 * i);
                sql.push_str(&format!(
                    "UPDATE ticket_sequences SET last = last + ${n} WHERE kind = ${k} RETURNING kind, last;\n"
                ));
            }
            sql.push_str("UPDATE audit_head SET seq = seq + $1 WHERE id = 1 RETURNING seq, hash");
            let mut query = sqlx::query(&sql).bind(total);
            for (kind, n) in &counts {
                query = query.bind(kind.as_str()).bind(*n);
            }
            let mut rows = query.fetch_all(&mut *conn).await?;
            match rows.pop() {
                Some(head) if rows.len() == counts.len() => (head, rows),
                _ => return Err(StoreError::Other("a ticket kind has no sequence".into())),
            }
        }
    };
    let head_seq: i64 = head.try_get("seq")?;
    let chain: String = head.try_get("hash")?;
    // Each kind's first new number: its new last value less the numbers the batch takes.
    let mut next: Vec<(domain::ticket::TicketKind, i64)> = Vec::with_capacity(counts.len());
    for (kind, n) in &counts {
        let last = lasts
            .iter()
            .find_map(|row| {
                let k: String = row.try_get("kind").ok()?;
                (k == kind.as_str()).then(|| row.try_get::<i64, _>("last").ok())?
            })
            .ok_or_else(|| StoreError::Other(format!("no sequence for {kind}")))?;
        next.push((*kind, last - n + 1));
    }
    let first_seq = head_seq - total + 1;
    let tickets = kinds
        .iter()
        .enumerate()
        .map(|(i, kind)| {
            let slot = next
                .iter_mut()
                .find(|(k, _)| k == kind)
                .expect("every kind was counted");
            let number = domain::ticket::format_number(*kind, slot.1);
            slot.1 += 1;
            Reserved {
                seq: first_seq + i as i64,
                number,
            }
        })
        .collect();
    Ok(Reservation { tickets, chain })
}

/// A new ticket with its partner references, configuration item link, first timeline entry,
/// search document, audit row, outbox mails and scheduled jobs in one round trip, after [`reserve`]: on
/// PostgreSQL one statement (data-modifying CTEs), on SQLite one script of statements run
/// together on its connection's thread. Each statement on its own would cost a network
/// round trip (PostgreSQL) or a thread hop (SQLite). Parameters are numbered the same on
/// both. `chain` is the hash the audit row chains from; it becomes the new row's hash, so
/// a batch's tickets are written one after the other in their reservation's order.
pub async fn insert_with_companions(
    conn: &mut AnyConnection,
    backend: Backend,
    actor: &crate::audit::Actor,
    new: &NewTicket,
    reserved: &Reserved,
    chain: &mut String,
    with: &Companions<'_>,
) -> StoreResult<Inserted> {
    let Reserved { seq, number } = reserved;
    let seq = *seq;
    let prev_hash = chain.clone();
    let now = domain::time::to_db(new.created_at);
    let d = &new.draft;
    let entry = domain::audit::AuditEntry {
        seq,
        at: now.clone(),
        actor_id: actor.person_id,
        actor_label: actor.label.clone(),
        action: with.audit_action.to_owned(),
        entity_type: "ticket".to_owned(),
        entity_id: Some(number.clone()),
        organization_id: Some(new.organization_id),
        detail: with.audit_detail.to_string(),
        ip: actor.ip.clone(),
    };
    let hash = entry.hash(&prev_hash);

    const COLUMNS: &str = "number, kind, restriction, organization_id, service_id, subcategory_id,
            configuration_item, summary, details, reporter_id, on_behalf_of_id, impact, urgency, priority,
            status, is_open, support_group_id, tier, channel, first_occurrence, service_impact,
            user_impact, troubleshooting, workaround, no_workaround, custom_fields, created_at, updated_at,
            policy_pack_id, sla_clock, sla_due_at, sla_warn_at, sla_respond_due_at";
    const VALUES: &str =
        "$1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, 'new', 1, $15, 1, $16,
                 $17, $18, $19, $20, $21, $22, $23, $24, $24, $25, $26, $27, $28, $29";
    const AUDIT: &str =
        "INSERT INTO audit_log (seq, at, actor_id, actor_label, action, entity_type, entity_id,
                organization_id, detail, ip, prev_hash, hash)
                VALUES ($34, $24, $30, $31, $35, 'ticket', $1, $4, $36, $37, $38, $39)";
    // Rows that refer to the new ticket select its id: from the CTE `t` on PostgreSQL, by
    // its (unique) number on SQLite.
    let (from_ticket, search_doc, returning) = match backend {
        Backend::Postgres => ("FROM t", "to_tsvector('simple', $33)", " RETURNING id"),
        Backend::Sqlite => ("FROM tickets t WHERE t.number = $1", "$33", ""),
    };
    let mut statements = vec![
        format!(
            "INSERT INTO ticket_events (ticket_id, at, actor_id, actor_label, kind, internal, body, data)
             SELECT t.id, $24, $30, $31, 'created', 0, NULL, $32 {from_ticket}{returning}"
        ),
        match backend {
            Backend::Postgres => {
                format!("INSERT INTO ticket_search (ticket_id, doc) SELECT t.id, {search_doc} {from_ticket}")
            }
            Backend::Sqlite => {
                format!("INSERT INTO ticket_search (rowid, doc) SELECT t.id, {search_doc} {from_ticket}")
            }
        },
        AUDIT.to_owned(),
    ];
    let mut n = 39;
    let mut next = || {
        n += 1;
        n
    };
    for _ in &d.partner_references {
        statements.push(format!(
            "INSERT INTO ticket_partner_refs (ticket_id, reference) SELECT t.id, ${} {from_ticket}",
            next()
        ));
    }
    // A configuration item named by its CMDB code is linked to the item itself.
    if d.configuration_item.is_some() {
        let item = "JOIN configuration_items ci ON ci.code = LOWER(TRIM($7))";
        let from = match backend {
            Backend::Postgres => format!("FROM t {item}"),
            Backend::Sqlite => format!("FROM tickets t {item} WHERE t.number = $1"),
        };
        statements.push(format!(
            "INSERT INTO ticket_configuration_items (ticket_id, configuration_item_id, created_at)
             SELECT t.id, ci.id, $24 {from}"
        ));
    }
    for _ in with.mails {
        let (a, b, c, e, k, w, v) = (next(), next(), next(), next(), next(), next(), next());
        statements.push(format!(
            "INSERT INTO outbox (created_at, kind, to_address, subject, message, status, next_attempt_at, ticket_id, idempotency_key, endpoint_id, template_version)
             SELECT $24, ${a}, ${b}, ${c}, ${e}, 'queued', $24, t.id, ${k}, ${w}, ${v} {from_ticket}
             ON CONFLICT (idempotency_key) DO NOTHING"
        ));
    }
    for _ in with.jobs {
        let (a, b, c) = (next(), next(), next());
        statements.push(format!(
            "INSERT INTO scheduled_jobs (kind, ticket_id, created_at, step, run_at)
             SELECT ${a}, t.id, $24, ${b}, ${c} {from_ticket}"
        ));
    }
    let sql = match backend {
        Backend::Postgres => {
            let mut sql = format!(
                "WITH t AS (INSERT INTO tickets ({COLUMNS}) VALUES ({VALUES}) RETURNING id)"
            );
            for (i, statement) in statements.iter().enumerate() {
                sql.push_str(&format!(", w{i} AS ({statement})"));
            }
            sql.push_str(" SELECT t.id, w0.id FROM t, w0");
            sql
        }
        Backend::Sqlite => {
            let mut sql = format!("INSERT INTO tickets ({COLUMNS}) VALUES ({VALUES});\n");
            for statement in &statements {
                sql.push_str(statement);
                sql.push_str(";\n");
            }
            sql.push_str(
                "SELECT t.id, (SELECT MAX(e.id) FROM ticket_events e WHERE e.ticket_id = t.id)
                 FROM tickets t WHERE t.number = $1",
            );
            sql
        }
    };

    let custom = serde_json::to_string(&d.custom).expect("strings serialize");
    let mut parts: Vec<&str> = vec![&d.summary, &d.details];
    parts.extend(d.partner_references.iter().map(String::as_str));
    let doc = domain::ticket::search_text(number, &parts);
    let mut query = sqlx::query_as::<_, (i64, i64)>(&sql)
        .bind(number)
        .bind(new.kind.as_str())
        .bind(new.kind.restriction().as_db())
        .bind(new.organization_id)
        .bind(new.service_id)
        .bind(new.subcategory_id)
        .bind(&d.configuration_item)
        .bind(&d.summary)
        .bind(&d.details)
        .bind(new.reporter_id)
        .bind(new.on_behalf_of_id)
        .bind(d.impact)
        .bind(d.urgency)
        .bind(new.priority)
        .bind(new.support_group_id)
        .bind(new.channel.as_str())
        .bind(d.first_occurrence.map(domain::time::to_db))
        .bind(&d.service_impact)
        .bind(&d.user_impact)
        .bind(&d.troubleshooting)
        .bind(&d.workaround)
        .bind(d.no_workaround as i64)
        .bind(custom)
        .bind(&now)
        .bind(new.policy_pack_id)
        .bind(if new.sla.clock.is_empty() {
            "none"
        } else {
            new.sla.clock.as_str()
        })
        .bind(&new.sla.due_at)
        .bind(&new.sla.warn_at)
        .bind(&new.sla.respond_due_at)
        .bind(actor.person_id)
        .bind(&actor.label)
        .bind(created_event_data(new))
        .bind(doc)
        .bind(seq)
        .bind(with.audit_action)
        .bind(&entry.detail)
        .bind(&actor.ip)
        .bind(&prev_hash)
        .bind(&hash);
    for reference in &d.partner_references {
        query = query.bind(reference);
    }
    for mail in with.mails {
        query = query
            .bind(&mail.kind)
            .bind(&mail.to)
            .bind(&mail.subject)
            .bind(&mail.message)
            .bind(&mail.idempotency_key)
            .bind(mail.endpoint_id)
            .bind(&mail.template_version);
    }
    for (step, at) in with.jobs {
        query = query
            .bind(with.job_kind)
            .bind(step)
            .bind(domain::time::to_db(*at));
    }
    // All rows, not the first: through the Any driver SQLite's fetch_one looks at the first
    // statement's result only, and the id comes from the script's last statement.
    let ids = query
        .fetch_all(&mut *conn)
        .await
        .map_err(StoreError::unique_as("reference_exists"))?;
    let inserted = ids
        .last()
        .map(|&(id, event_id)| Inserted { id, event_id })
        .ok_or_else(|| StoreError::Other("the new ticket's id was not returned".into()))?;
    *chain = hash;
    Ok(inserted)
}

/// What [`insert_with_companions`] wrote: the ticket's id and its first timeline entry's.
#[derive(Debug, Clone, Copy)]
pub struct Inserted {
    pub id: i64,
    pub event_id: i64,
}

/// The names a ticket row shows next to its ids, when they are already known.
#[derive(Debug, Clone, Default)]
pub struct Names {
    pub organization_code: String,
    pub organization_name_en: String,
    pub organization_name_fr: String,
    pub service_code: Option<String>,
    pub reporter_name: String,
    pub on_behalf_of_name: Option<String>,
    pub support_group_code: Option<String>,
}

impl Ticket {
    /// The ticket [`insert_with_companions`] just wrote, as [`get`] would read it back,
    /// built from what was written (no round trip).
    pub fn written(
        inserted: Inserted,
        number: &str,
        new: &NewTicket,
        names: Names,
        now: jiff::Timestamp,
    ) -> Ticket {
        let d = &new.draft;
        let at = domain::time::to_db(new.created_at);
        Ticket {
            id: inserted.id,
            number: number.to_owned(),
            kind: new.kind.as_str().to_owned(),
            restriction: new.kind.restriction().as_db(),
            organization_id: new.organization_id,
            organization_code: names.organization_code,
            organization_name_en: names.organization_name_en,
            organization_name_fr: names.organization_name_fr,
            service_id: new.service_id,
            service_code: names.service_code,
            subcategory_id: new.subcategory_id,
            configuration_item: d.configuration_item.clone(),
            summary: d.summary.clone(),
            details: d.details.clone(),
            reporter_id: new.reporter_id,
            reporter_name: names.reporter_name,
            on_behalf_of_id: new.on_behalf_of_id,
            on_behalf_of_name: names.on_behalf_of_name,
            impact: d.impact,
            urgency: d.urgency,
            priority: new.priority,
            priority_overridden: 0,
            status: Status::New.as_str().to_owned(),
            support_group_id: new.support_group_id,
            support_group_code: names.support_group_code,
            assignee_id: None,
            assignee_name: None,
            tier: 1,
            channel: new.channel.as_str().to_owned(),
            first_occurrence: d.first_occurrence.map(domain::time::to_db),
            service_impact: d.service_impact.clone(),
            user_impact: d.user_impact.clone(),
            troubleshooting: d.troubleshooting.clone(),
            workaround: d.workaround.clone(),
            no_workaround: d.no_workaround as i64,
            custom_fields: serde_json::to_string(&d.custom).expect("strings serialize"),
            merged_into_id: None,
            created_at: at.clone(),
            updated_at: at,
            resolved_at: None,
            closed_at: None,
            version: 1,
            policy_pack_id: new.policy_pack_id,
            first_response_at: None,
            sla_clock: if new.sla.clock.is_empty() {
                "none".to_owned()
            } else {
                new.sla.clock.clone()
            },
            sla_due_at: new.sla.due_at.clone(),
            sla_warn_at: new.sla.warn_at.clone(),
            sla_respond_due_at: new.sla.respond_due_at.clone(),
            sla_state: None,
        }
        .with_sla_state(now)
    }
}

/// The first timeline entry [`insert_with_companions`] wrote.
pub fn created_event(inserted: Inserted, actor: &crate::audit::Actor, new: &NewTicket) -> Event {
    Event {
        id: inserted.event_id,
        at: domain::time::to_db(new.created_at),
        actor_id: actor.person_id,
        actor_label: actor.label.clone(),
        kind: "created".to_owned(),
        internal: 0,
        body: None,
        data: created_event_data(new),
        redacted: 0,
    }
}

fn created_event_data(new: &NewTicket) -> String {
    serde_json::json!({ "channel": new.channel.as_str(), "priority": new.priority }).to_string()
}
