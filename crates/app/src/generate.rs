//! `triage demo --tickets N`: fills the database with realistic tickets for load and search
//! benchmarks. Rows go in with multi-row INSERTs in large transactions (the API path, one
//! ticket per transaction, is what the benchmarks measure; this only prepares data).
use anyhow::Context;
use sqlx::Row;
use std::time::{Duration, Instant};
use store::{Backend, Db};

/// A small deterministic generator (xorshift64*): the same N gives the same tickets.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

const SYMPTOMS_EN: &[&str] = &[
    "slow",
    "not loading",
    "timeout",
    "blank page",
    "error 500",
    "missing results",
    "duplicate results",
    "wrong patient context",
    "cannot sign in",
    "account locked",
    "password reset fails",
    "feed delayed",
    "feed stopped",
    "messages rejected",
    "unmapped codes",
    "printing fails",
    "search returns nothing",
    "session expires",
];
const SYMPTOMS_FR: &[&str] = &[
    "lenteur",
    "page blanche",
    "délai dépassé",
    "résultats manquants",
    "résultats en double",
    "connexion impossible",
    "compte verrouillé",
    "réinitialisation échouée",
    "flux retardé",
    "flux interrompu",
    "messages rejetés",
    "codes non associés",
    "impression impossible",
    "événement de maintenance",
    "recherche sans résultat",
    "session expirée",
];
const SYSTEMS: &[&str] = &[
    "viewer",
    "visualiseur",
    "lab feed",
    "flux de laboratoire",
    "ADT feed",
    "radiology feed",
    "pharmacy feed",
    "password tool",
    "access tool",
    "portal",
    "EMR download",
    "HL7 interface",
    "VPN",
    "extranet",
    "single sign-on",
    "ONE ID",
    "patient summary",
    "discharge summaries",
];
const PLACES: &[&str] = &[
    "emergency",
    "urgence",
    "ICU",
    "soins intensifs",
    "outpatient clinic",
    "clinique externe",
    "main site",
    "site principal",
    "north campus",
    "campus nord",
    "laboratory",
    "pharmacie",
    "medical imaging",
    "imagerie médicale",
    "family health team",
    "équipe de santé familiale",
];
const FILLER: &[&str] = &[
    "since",
    "this morning",
    "depuis",
    "ce matin",
    "users report",
    "les utilisateurs signalent",
    "intermittent",
    "intermittente",
    "all workstations",
    "tous les postes",
    "after the update",
    "après la mise à jour",
    "we restarted",
    "nous avons redémarré",
    "cleared the cache",
    "vidé le cache",
    "still failing",
    "toujours en échec",
    "affects",
    "touche",
    "several sites",
    "plusieurs sites",
    "one user",
    "un utilisateur",
    "no workaround",
    "aucune solution de rechange",
    "workaround in place",
    "solution de rechange en place",
    "please advise",
    "merci de nous aider",
];
const STATUSES_OPEN: &[&str] = &[
    "new",
    "in_progress",
    "pending_customer",
    "pending_vendor",
    "in_progress",
];

/// Everything the generator picks from, read once from the database.
struct Pools {
    orgs: Vec<(i64, Vec<i64>)>,
    subs: Vec<(i64, String, i64, i64, i64, i64)>,
    agents: Vec<(i64, i64)>,
    sequences: Vec<(String, i64)>,
    next_id: i64,
    /// The selected policy pack: generated tickets carry its clocks like real ones.
    pack: Option<(i64, domain::policy_pack::PolicyPack)>,
}

async fn pools(db: &Db) -> anyhow::Result<Pools> {
    let mut conn = db.reader().acquire().await?;
    let org_rows = sqlx::query("SELECT id FROM organizations WHERE is_operator = 0 ORDER BY id")
        .fetch_all(&mut *conn)
        .await?;
    let mut orgs = Vec::new();
    for row in org_rows {
        let id: i64 = row.try_get("id")?;
        let people: Vec<i64> =
            sqlx::query_scalar("SELECT id FROM people WHERE organization_id = $1 ORDER BY id")
                .bind(id)
                .fetch_all(&mut *conn)
                .await?;
        if !people.is_empty() {
            orgs.push((id, people));
        }
    }
    anyhow::ensure!(
        !orgs.is_empty(),
        "load the demo data first (no partner people)"
    );
    let subs = sqlx::query(
        "SELECT sc.id, sc.kind, sc.support_group_id, rt.service_id, sc.impact, sc.urgency
         FROM request_subcategories sc JOIN request_types rt ON rt.id = sc.request_type_id ORDER BY sc.id",
    )
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .map(|r| {
        Ok((
            r.try_get("id")?,
            r.try_get("kind")?,
            r.try_get("support_group_id")?,
            r.try_get("service_id")?,
            r.try_get("impact")?,
            r.try_get("urgency")?,
        ))
    })
    .collect::<Result<Vec<_>, sqlx::Error>>()?;
    anyhow::ensure!(!subs.is_empty(), "the catalogue is empty");
    let agents = sqlx::query(
        "SELECT group_id, person_id FROM support_group_members ORDER BY group_id, person_id",
    )
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .map(|r| Ok((r.try_get("group_id")?, r.try_get("person_id")?)))
    .collect::<Result<Vec<_>, sqlx::Error>>()?;
    let sequences = sqlx::query("SELECT kind, last FROM ticket_sequences")
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(|r| Ok((r.try_get("kind")?, r.try_get("last")?)))
        .collect::<Result<Vec<_>, sqlx::Error>>()?;
    let next_id: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(id), 0) + 1 FROM tickets")
        .fetch_one(&mut *conn)
        .await?;
    let pack = match store::policy_packs::selected(&mut conn).await? {
        Some(stored) => Some((
            stored.id,
            domain::policy_pack::PolicyPack::parse_toml(&stored.source)
                .map_err(|e| anyhow::anyhow!("selected policy pack: {e}"))?,
        )),
        None => None,
    };
    Ok(Pools {
        orgs,
        subs,
        agents,
        sequences,
        next_id,
        pack,
    })
}

struct NewRow {
    id: i64,
    number: String,
    kind: String,
    organization_id: i64,
    service_id: i64,
    subcategory_id: i64,
    summary: String,
    details: String,
    reporter_id: i64,
    impact: i64,
    urgency: i64,
    status: &'static str,
    support_group_id: i64,
    assignee_id: Option<i64>,
    created_at: String,
    closed_at: Option<String>,
    /// When the ticket took its current status, if not at creation.
    status_at: Option<String>,
    policy_pack_id: Option<i64>,
    sla: store::tickets::SlaColumns,
}

/// Rows per INSERT. Small on purpose: SQLite looks bound parameters up by name, which costs
/// time proportional to the parameters already in the statement.
const BATCH: usize = 20;

/// Creates `count` tickets. About 5% stay open, spread over the support groups; the rest
/// are closed, over the last three years. Calls `progress` after each transaction.
pub async fn tickets(db: &Db, count: u64, progress: impl Fn(u64)) -> anyhow::Result<Duration> {
    let started = Instant::now();
    let mut p = pools(db).await?;
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15 ^ (p.next_id as u64).wrapping_mul(31));
    let now = jiff::Timestamp::now();
    let mut done = 0u64;
    while done < count {
        let mut tx = db.begin().await?;
        for _ in 0..500 {
            if done >= count {
                break;
            }
            let n = (count - done).min(BATCH as u64) as usize;
            let mut rows = Vec::with_capacity(n);
            for _ in 0..n {
                let (org, people) = rng.pick(&p.orgs).clone();
                let (sub, kind, group, service, impact, urgency) = rng.pick(&p.subs).clone();
                let kind_enum = domain::ticket::TicketKind::parse(&kind).context("kind")?;
                let seq = p
                    .sequences
                    .iter_mut()
                    .find(|(k, _)| *k == kind)
                    .context("sequence")?;
                seq.1 += 1;
                let open = rng.below(100) < 5;
                let age_minutes = if open {
                    rng.below(60 * 24 * 30)
                } else {
                    rng.below(60 * 24 * 365 * 3)
                } as i64;
                let created = now - jiff::SignedDuration::from_mins(age_minutes + 1);
                let members: Vec<i64> = p
                    .agents
                    .iter()
                    .filter(|(g, _)| *g == group)
                    .map(|(_, a)| *a)
                    .collect();
                let assignee = if !members.is_empty() && (!open || rng.below(2) == 0) {
                    Some(*rng.pick(&members))
                } else {
                    None
                };
                let status = if open {
                    *rng.pick(STATUSES_OPEN)
                } else if rng.below(20) == 0 {
                    "cancelled"
                } else {
                    "closed"
                };
                let closed_at = (!open).then(|| {
                    domain::time::to_db(
                        created
                            + jiff::SignedDuration::from_mins(30 + rng.below(60 * 24 * 5) as i64),
                    )
                });
                let summary = format!(
                    "{} {} – {}",
                    rng.pick(SYSTEMS),
                    if rng.below(2) == 0 {
                        rng.pick(SYMPTOMS_EN)
                    } else {
                        rng.pick(SYMPTOMS_FR)
                    },
                    rng.pick(PLACES)
                );
                let mut details = String::new();
                for i in 0..(12 + rng.below(20)) {
                    if i > 0 {
                        details.push(' ');
                    }
                    let pool = match rng.below(4) {
                        0 => SYMPTOMS_EN,
                        1 => SYMPTOMS_FR,
                        2 => SYSTEMS,
                        _ => FILLER,
                    };
                    let word = pool[rng.below(pool.len())];
                    details.push_str(word);
                }
                // A specific identifier, as people paste host names and interface ids.
                details.push_str(&format!(
                    " host srv{:05} interface if{:06}",
                    rng.below(20_000),
                    rng.below(500_000)
                ));
                // Open tickets moved to their status a minute after creation; closed ones
                // at their closing time. The clocks follow from that history.
                let status_at = match (status, &closed_at) {
                    ("new", _) => None,
                    (_, Some(closed)) => Some(closed.clone()),
                    _ => Some(domain::time::to_db(
                        created + jiff::SignedDuration::from_mins(1),
                    )),
                };
                let mut history = vec![domain::sla::StatusChange::new(
                    created,
                    domain::ticket::Status::New,
                )];
                if let Some(at) = status_at.as_deref().and_then(domain::time::from_db) {
                    history.push(domain::sla::StatusChange::new(
                        at,
                        domain::ticket::Status::parse(status).context("status")?,
                    ));
                }
                let sla = match &p.pack {
                    Some((pack_id, pack)) => {
                        web::sla::evaluate_facts(
                            *pack_id,
                            pack,
                            &web::sla::ClockFacts {
                                id: p.next_id,
                                kind: kind_enum,
                                priority: domain::ticket::default_priority(impact, urgency),
                                channel: "portal",
                                history: &history,
                                first_response: None,
                            },
                            now,
                        )
                        .map_err(|e| anyhow::anyhow!("SLA clocks: {}", e.code))?
                        .columns
                    }
                    None => store::tickets::SlaColumns {
                        clock: "none".into(),
                        ..Default::default()
                    },
                };
                rows.push(NewRow {
                    status_at,
                    policy_pack_id: p.pack.as_ref().map(|(id, _)| *id),
                    sla,
                    id: p.next_id,
                    number: domain::ticket::format_number(kind_enum, seq.1),
                    kind,
                    organization_id: org,
                    service_id: service,
                    subcategory_id: sub,
                    summary,
                    details,
                    reporter_id: *rng.pick(&people),
                    impact,
                    urgency,
                    status,
                    support_group_id: group,
                    assignee_id: assignee,
                    created_at: domain::time::to_db(created),
                    closed_at,
                });
                p.next_id += 1;
            }
            insert(&mut tx, db.backend(), &rows).await?;
            done += n as u64;
        }
        for (kind, last) in &p.sequences {
            sqlx::query("UPDATE ticket_sequences SET last = $1 WHERE kind = $2")
                .bind(*last)
                .bind(kind)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        progress(done);
    }
    if db.backend() == Backend::Postgres {
        let mut tx = db.begin().await?;
        sqlx::query(
            "SELECT setval(pg_get_serial_sequence('tickets', 'id'), (SELECT MAX(id) FROM tickets))",
        )
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        // After a bulk load: statistics for the planner, hint bits and the visibility map
        // set, the GIN index's pending list merged. Without it the first queries and
        // autovacuum pay for all of that while people work.
        let mut conn = db.reader().acquire().await?;
        sqlx::query("VACUUM (ANALYZE) tickets, ticket_search, ticket_events")
            .execute(&mut *conn)
            .await?;
    } else {
        let mut conn = db.reader().acquire().await?;
        sqlx::query("ANALYZE").execute(&mut *conn).await?;
    }
    Ok(started.elapsed())
}

async fn insert(tx: &mut store::Conn, backend: Backend, rows: &[NewRow]) -> anyhow::Result<()> {
    let placeholders = |width: usize, count: usize, wrap: &dyn Fn(usize, usize) -> String| {
        (0..count)
            .map(|r| {
                let cols: Vec<String> = (0..width).map(|c| wrap(c, r * width + c + 1)).collect();
                format!("({})", cols.join(", "))
            })
            .collect::<Vec<_>>()
            .join(", ")
    };
    let plain = |_: usize, n: usize| format!("${n}");
    let sql = format!(
        "INSERT INTO tickets (id, number, kind, restriction, organization_id, service_id, subcategory_id, summary, details,
           reporter_id, impact, urgency, priority, status, is_open, support_group_id, assignee_id, tier, channel,
           no_workaround, custom_fields, created_at, updated_at, resolved_at, closed_at,
           policy_pack_id, sla_clock, sla_due_at, sla_warn_at, sla_respond_due_at) VALUES {}",
        placeholders(30, rows.len(), &plain)
    );
    let mut q = sqlx::query(&sql);
    for r in rows {
        let kind = domain::ticket::TicketKind::parse(&r.kind).expect("known kind");
        let open = !matches!(r.status, "closed" | "cancelled");
        q = q
            .bind(r.id)
            .bind(&r.number)
            .bind(&r.kind)
            .bind(kind.restriction().as_db())
            .bind(r.organization_id)
            .bind(r.service_id)
            .bind(r.subcategory_id)
            .bind(&r.summary)
            .bind(&r.details)
            .bind(r.reporter_id)
            .bind(r.impact)
            .bind(r.urgency)
            .bind(domain::ticket::default_priority(r.impact, r.urgency))
            .bind(r.status)
            .bind(open as i64)
            .bind(r.support_group_id)
            .bind(r.assignee_id)
            .bind(1i64)
            .bind("portal")
            .bind(0i64)
            .bind("[]")
            .bind(&r.created_at)
            .bind(r.closed_at.as_ref().unwrap_or(&r.created_at))
            .bind(&r.closed_at)
            .bind(&r.closed_at)
            .bind(r.policy_pack_id)
            .bind(&r.sla.clock)
            .bind(&r.sla.due_at)
            .bind(&r.sla.warn_at)
            .bind(&r.sla.respond_due_at);
    }
    q.execute(&mut *tx).await?;
    let events: Vec<(i64, &str, i64, &str, String)> = rows
        .iter()
        .flat_map(|r| {
            let created = (
                r.id,
                r.created_at.as_str(),
                r.reporter_id,
                "created",
                "{\"channel\":\"portal\"}".to_owned(),
            );
            let changed = r.status_at.as_deref().map(|at| {
                (
                    r.id,
                    at,
                    r.reporter_id,
                    "status",
                    serde_json::json!({"from": "new", "to": r.status}).to_string(),
                )
            });
            std::iter::once(created).chain(changed)
        })
        .collect();
    let sql = format!(
        "INSERT INTO ticket_events (ticket_id, at, actor_id, actor_label, kind, internal, data) VALUES {}",
        placeholders(7, events.len(), &plain)
    );
    let mut q = sqlx::query(&sql);
    for (ticket, at, actor, kind, data) in &events {
        q = q
            .bind(*ticket)
            .bind(*at)
            .bind(*actor)
            .bind("generator")
            .bind(*kind)
            .bind(0i64)
            .bind(data.as_str());
    }
    q.execute(&mut *tx).await?;
    let tsvector = |c: usize, n: usize| {
        if c == 1 {
            format!("to_tsvector('simple', ${n})")
        } else {
            format!("${n}")
        }
    };
    let sql = match backend {
        Backend::Sqlite => format!(
            "INSERT INTO ticket_search (rowid, doc) VALUES {}",
            placeholders(2, rows.len(), &plain)
        ),
        Backend::Postgres => format!(
            "INSERT INTO ticket_search (ticket_id, doc) VALUES {}",
            placeholders(2, rows.len(), &tsvector)
        ),
    };
    let mut q = sqlx::query(&sql);
    for r in rows {
        q = q.bind(r.id).bind(domain::ticket::search_text(
            &r.number,
            &[&r.summary, &r.details],
        ));
    }
    q.execute(&mut *tx).await?;
    Ok(())
}
