//! Webhooks for machines. Administrators register endpoints with the event types they
//! want; each ticket event then queues one JSON delivery per subscribed endpoint, in the
//! transaction of the change, as an outbox row that the mail sender delivers and retries
//! (`crate::delivery`), signed in the Standard Webhooks format. Privacy and security
//! tickets are never sent.
use crate::AppState;
use crate::ctx::Identity;
use crate::error::{AppError, AppResult};
use crate::fresh::Fresh;
use axum::http::StatusCode;
use domain::policy::Action;
use serde::Deserialize;
use std::sync::Arc;
use store::Conn;
use store::audit::{Actor, Event, append};
use store::outbox::NewMail;
use store::webhooks::Endpoint;

/// The active endpoints, cached (see [`crate::fresh`]): most tickets are written with no
/// endpoint to tell, and then checking costs no query.
#[derive(Clone, Default)]
pub struct Cache(Fresh<Vec<Endpoint>>);

impl Cache {
    pub async fn get(&self, conn: &mut Conn) -> AppResult<Arc<Vec<Endpoint>>> {
        if let Some(list) = self.0.get() {
            return Ok(list);
        }
        Ok(self.0.put(store::webhooks::active(conn).await?))
    }

    pub fn changed(&self) {
        self.0.clear();
    }
}

/// What an event says about its ticket.
pub struct TicketFacts<'a> {
    pub id: i64,
    pub number: &'a str,
    pub kind: &'a str,
    pub status: &'a str,
    pub priority: i64,
    pub organization_id: i64,
    pub summary: &'a str,
    pub restricted: bool,
}

impl<'a> TicketFacts<'a> {
    pub fn of(t: &'a store::tickets::Ticket) -> Self {
        Self {
            id: t.id,
            number: &t.number,
            kind: &t.kind,
            status: &t.status,
            priority: t.priority,
            organization_id: t.organization_id,
            summary: &t.summary,
            restricted: t.is_restricted(),
        }
    }
}

/// The deliveries of one ticket event: one per active endpoint subscribed to it that may
/// hear about this ticket. `occurrence` tells this event apart from others of the same
/// type on the ticket (a timeline entry's id), so that it is queued once per endpoint.
pub fn deliveries(
    endpoints: &[Endpoint],
    base_url: &str,
    event: &str,
    ticket: &TicketFacts<'_>,
    occurrence: &str,
    extra: serde_json::Value,
) -> Vec<NewMail> {
    if ticket.restricted {
        return Vec::new();
    }
    let body = serde_json::json!({
        "type": event,
        "timestamp": jiff::Timestamp::now().to_string(),
        "data": {
            "number": ticket.number,
            "kind": ticket.kind,
            "status": ticket.status,
            "priority": ticket.priority,
            "organization_id": ticket.organization_id,
            "summary": ticket.summary,
            "url": format!("{base_url}/tickets/{}", ticket.number),
            "event": extra,
        }
    })
    .to_string();
    endpoints
        .iter()
        .filter(|e| domain::webhook::subscribed(&e.types(), event))
        .filter(|e| {
            e.organization_id
                .is_none_or(|org| org == ticket.organization_id)
        })
        .map(|e| NewMail {
            kind: "webhook".into(),
            to: e.url.clone(),
            subject: event.to_owned(),
            message: body.clone(),
            idempotency_key: Some(format!(
                "webhook:{}:{event}:{}:{occurrence}",
                e.id, ticket.number
            )),
            template_version: None,
            endpoint_id: Some(e.id),
        })
        .collect()
}

/// Queues an event's deliveries in the caller's transaction.
pub async fn queue(
    state: &AppState,
    tx: &mut Conn,
    event: &str,
    ticket: &TicketFacts<'_>,
    occurrence: &str,
    extra: serde_json::Value,
) -> AppResult<()> {
    let endpoints = state.webhooks.get(tx).await?;
    if endpoints.is_empty() {
        return Ok(());
    }
    for delivery in deliveries(
        &endpoints,
        &state.settings.public_base_url,
        event,
        ticket,
        occurrence,
        extra,
    ) {
        store::outbox::enqueue(tx, Some(ticket.id), &delivery).await?;
    }
    Ok(())
}

#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EndpointInput {
    /// `https://…` (or `http://…`) where the events are posted.
    pub url: String,
    #[serde(default)]
    pub description: String,
    /// `ticket.created`, `ticket.updated`, `ticket.commented`, or `*` for all.
    pub event_types: Vec<String>,
    /// Only this organization's tickets (id); default: every organization's.
    pub organization_id: Option<i64>,
}

/// Registers an endpoint; the answer carries its secret, shown this once.
pub async fn create(
    state: &AppState,
    who: &Identity,
    actor: &Actor,
    input: &EndpointInput,
) -> AppResult<Endpoint> {
    who.require(Action::CreateOrganization)?;
    let url = input.url.trim();
    let parsed = url::Url::parse(url).map_err(|_| AppError::invalid("invalid_url", "url"))?;
    if !matches!(parsed.scheme(), "http" | "https")
        || parsed.host_str().is_none()
        || url.len() > 2000
    {
        return Err(AppError::invalid("invalid_url", "url"));
    }
    let description = domain::text::clean("description", &input.description, 200)?;
    let types = domain::webhook::check_event_types(&input.event_types)
        .map_err(|_| AppError::invalid("unknown_event_type", "event_types"))?;
    let mut tx = state.db.begin().await?;
    if let Some(org) = input.organization_id {
        store::orgs::get_unscoped(&mut tx, org)
            .await
            .map_err(|_| AppError::invalid("unknown_organization", "organization_id"))?;
    }
    let mut key = [0u8; 32];
    rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut key);
    let secret = domain::webhook::secret_from_bytes(&key);
    let id = store::webhooks::create(
        &mut tx,
        &store::webhooks::NewEndpoint {
            url,
            description: &description,
            event_types: &types,
            secret: &secret,
            organization_id: input.organization_id,
            created_by: Some(who.person.id),
        },
    )
    .await?;
    append(
        &mut tx,
        actor,
        Event {
            action: "webhook.create",
            entity_type: "webhook_endpoint",
            entity_id: Some(id.to_string()),
            organization_id: input.organization_id,
            detail: serde_json::json!({"url": url, "event_types": types}),
        },
    )
    .await?;
    let endpoint = store::webhooks::get(&mut tx, id).await?;
    tx.commit().await?;
    state.webhooks.changed();
    Ok(endpoint)
}

pub async fn list(state: &AppState, who: &Identity) -> AppResult<Vec<Endpoint>> {
    who.require(Action::CreateOrganization)?;
    let mut conn = state.db.reader().acquire().await?;
    Ok(store::webhooks::list(&mut conn)
        .await?
        .into_iter()
        .map(Endpoint::without_secret)
        .collect())
}

/// An endpoint with its delivery log (newest first).
pub async fn show(
    state: &AppState,
    who: &Identity,
    id: i64,
) -> AppResult<(Endpoint, Vec<store::outbox::OutboxMessage>)> {
    who.require(Action::CreateOrganization)?;
    let mut conn = state.db.reader().acquire().await?;
    let endpoint = store::webhooks::get(&mut conn, id).await?.without_secret();
    let log = store::outbox::for_endpoint(&mut conn, id, 100).await?;
    Ok((endpoint, log))
}

/// Turns an endpoint off; what was still queued for it is given up.
pub async fn deactivate(state: &AppState, who: &Identity, actor: &Actor, id: i64) -> AppResult<()> {
    who.require(Action::CreateOrganization)?;
    let mut tx = state.db.begin().await?;
    store::webhooks::get(&mut tx, id).await?;
    if !store::webhooks::deactivate(&mut tx, id).await? {
        return Err(AppError::new(StatusCode::CONFLICT, "already_inactive"));
    }
    append(
        &mut tx,
        actor,
        Event {
            action: "webhook.deactivate",
            entity_type: "webhook_endpoint",
            entity_id: Some(id.to_string()),
            organization_id: None,
            detail: serde_json::json!({}),
        },
    )
    .await?;
    tx.commit().await?;
    state.webhooks.changed();
    Ok(())
}

/// Queues a `webhook.test` delivery to one endpoint, to check it end to end.
pub async fn send_test(state: &AppState, who: &Identity, id: i64) -> AppResult<i64> {
    who.require(Action::CreateOrganization)?;
    let mut tx = state.db.begin().await?;
    let endpoint = store::webhooks::get(&mut tx, id).await?;
    if endpoint.active == 0 {
        return Err(AppError::new(StatusCode::CONFLICT, "already_inactive"));
    }
    let body = serde_json::json!({
        "type": "webhook.test",
        "timestamp": jiff::Timestamp::now().to_string(),
        "data": {"endpoint": id},
    });
    let queued = store::outbox::enqueue(
        &mut tx,
        None,
        &NewMail {
            kind: "webhook".into(),
            to: endpoint.url.clone(),
            subject: "webhook.test".into(),
            message: body.to_string(),
            idempotency_key: Some(format!(
                "webhook:{id}:test:{}",
                uuid::Uuid::new_v4().simple()
            )),
            template_version: None,
            endpoint_id: Some(id),
        },
    )
    .await?
    .ok_or_else(AppError::internal)?;
    tx.commit().await?;
    Ok(queued)
}

/// A delivery as the sender posts it: the body and the three Standard Webhooks headers.
#[derive(Debug)]
pub struct Signed {
    pub id: String,
    pub timestamp: i64,
    pub signature: String,
}

pub fn sign(secret: &str, outbox_id: i64, body: &str) -> Result<Signed, String> {
    let id = format!("msg_{outbox_id}");
    let timestamp = jiff::Timestamp::now().as_second();
    let signature =
        domain::webhook::sign(secret, &id, timestamp, body).map_err(|e| e.to_string())?;
    Ok(Signed {
        id,
        timestamp,
        signature,
    })
}
