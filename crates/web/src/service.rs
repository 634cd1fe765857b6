//! Operations shared by the HTML pages and the JSON API: check the policy, validate, write
//! the change, its audit row and its mail in one transaction.
use crate::AppState;
use crate::ctx::Identity;
use crate::error::{AppError, AppResult};
use axum::http::StatusCode;
use domain::org::{OrgInput, OrgType};
use domain::person::{check_new_password, validate_person};
use domain::policy::{Action, OrgScope, Principal};
use domain::role::{Role, TrainingModule};
use domain::text::{Email, Locale};
use serde::{Deserialize, Serialize};
use serde_json::json;
use store::audit::{Actor, Event, append};
use store::orgs::Organization;
use store::people::{Person, RoleAssignment, TrainingRecord};

fn require(principal: &Principal, action: Action) -> AppResult<()> {
    if principal.allows(action) {
        Ok(())
    } else {
        Err(AppError::forbidden())
    }
}

pub(crate) fn event<'a>(
    action: &'a str,
    entity_type: &'a str,
    id: impl ToString,
    org: Option<i64>,
    detail: serde_json::Value,
) -> Event<'a> {
    Event {
        action,
        entity_type,
        entity_id: Some(id.to_string()),
        organization_id: org,
        detail,
    }
}

/// Only the keys whose values differ, as `{key: [before, after]}`.
pub fn diff(before: &serde_json::Value, after: &serde_json::Value) -> serde_json::Value {
    let mut out = serde_json::Map::new();
    if let (Some(b), Some(a)) = (before.as_object(), after.as_object()) {
        for (k, av) in a {
            let bv = b.get(k).unwrap_or(&serde_json::Value::Null);
            if bv != av {
                out.insert(k.clone(), json!([bv, av]));
            }
        }
    }
    serde_json::Value::Object(out)
}

// ---------- organizations ----------

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct OrganizationDetail {
    #[serde(flatten)]
    pub organization: Organization,
    pub oidc_enabled: bool,
    pub services: Vec<store::orgs::Service>,
}

pub async fn organization(
    state: &AppState,
    who: &Identity,
    id: i64,
) -> AppResult<OrganizationDetail> {
    let mut conn = state.db.reader().acquire().await?;
    let organization = store::orgs::get(&mut conn, &who.principal.org_scope(), id).await?;
    let services = store::orgs::services_of(&mut conn, id).await?;
    Ok(OrganizationDetail {
        oidc_enabled: organization.oidc_enabled(),
        organization,
        services,
    })
}

pub async fn create_organization(
    state: &AppState,
    who: &Identity,
    actor: &Actor,
    input: &OrgInput,
    service_ids: &[i64],
    oidc_secret: Option<&str>,
) -> AppResult<i64> {
    require(&who.principal, Action::CreateOrganization)?;
    let fields = input.validate()?;
    if fields.org_type == OrgType::Operator {
        return Err(AppError::invalid("invalid_choice", "org_type"));
    }
    let mut tx = state.db.begin().await?;
    let id = store::orgs::create(&mut tx, &fields, false).await?;
    store::orgs::set_services(&mut tx, id, service_ids).await?;
    if let Some(secret) = oidc_secret.filter(|s| !s.trim().is_empty()) {
        store::orgs::set_oidc_secret(&mut tx, id, Some(secret.trim())).await?;
    }
    let detail = json!({"fields": serde_json::to_value(&fields).unwrap_or_default(), "services": service_ids});
    append(
        &mut tx,
        actor,
        event("organization.create", "organization", id, Some(id), detail),
    )
    .await?;
    tx.commit().await?;
    state.directory.changed();
    Ok(id)
}

/// Applies a partial update: keys present in `patch` replace the current values.
pub async fn update_organization(
    state: &AppState,
    who: &Identity,
    actor: &Actor,
    id: i64,
    patch: &serde_json::Map<String, serde_json::Value>,
) -> AppResult<()> {
    let scope = who.principal.org_scope();
    let mut conn = state.db.reader().acquire().await?;
    let current = store::orgs::get(&mut conn, &scope, id).await?;
    drop(conn);
    require(&who.principal, Action::EditOrganization(id))?;
    let mut merged = current.fields_json();
    let special = ["services", "oidc_client_secret"];
    for (k, v) in patch {
        if special.contains(&k.as_str()) {
            continue;
        }
        if merged.get(k).is_none() {
            return Err(AppError::invalid("unknown_field", "body"));
        }
        merged[k] = v.clone();
    }
    let input: OrgInput =
        serde_json::from_value(merged).map_err(|_| AppError::invalid("invalid_type", "body"))?;
    let fields = input.validate()?;
    if current.is_operator() != (fields.org_type == OrgType::Operator) {
        return Err(AppError::invalid("invalid_choice", "org_type"));
    }
    let mut tx = state.db.begin().await?;
    let before = store::orgs::update(&mut tx, &scope, id, &fields).await?;
    let after = store::orgs::get(&mut tx, &scope, id).await?;
    let mut changes = diff(&before.fields_json(), &after.fields_json());
    if let Some(services) = patch.get("services") {
        let ids: Vec<i64> = serde_json::from_value(services.clone())
            .map_err(|_| AppError::invalid("invalid_type", "services"))?;
        store::orgs::set_services(&mut tx, id, &ids).await?;
        changes["services"] = json!(ids);
    }
    if let Some(secret) = patch.get("oidc_client_secret") {
        let secret = secret.as_str().map(str::trim).filter(|s| !s.is_empty());
        store::orgs::set_oidc_secret(&mut tx, id, secret).await?;
        changes["oidc_client_secret"] = json!(if secret.is_some() {
            "changed"
        } else {
            "removed"
        });
    }
    let contact_fields = [
        "helpdesk",
        "escalation",
        "after_hours",
        "spoc",
        "distribution",
    ];
    let action = if changes.as_object().is_some_and(|m| {
        m.keys()
            .any(|k| contact_fields.iter().any(|c| k.starts_with(c)))
    }) {
        "organization.contacts_change"
    } else {
        "organization.update"
    };
    append(
        &mut tx,
        actor,
        event(action, "organization", id, Some(id), changes),
    )
    .await?;
    tx.commit().await?;
    state.directory.changed();
    Ok(())
}

// ---------- people ----------

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PersonDetail {
    #[serde(flatten)]
    pub person: Person,
    pub roles: Vec<RoleAssignment>,
    pub trainings: Vec<TrainingRecord>,
}

pub async fn person(state: &AppState, who: &Identity, id: i64) -> AppResult<PersonDetail> {
    let mut conn = state.db.reader().acquire().await?;
    let person = store::people::get(&mut conn, &who.principal.people_scope(), id).await?;
    Ok(PersonDetail {
        roles: store::people::roles_of(&mut conn, id).await?,
        trainings: store::people::training_records(&mut conn, id).await?,
        person,
    })
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewPerson {
    pub organization_id: i64,
    pub email: String,
    pub display_name: String,
    pub phone: Option<String>,
    /// `en` or `fr`; defaults to the server's language.
    pub locale: Option<String>,
    /// Optional initial password; without one, the person gets a link to choose one.
    pub password: Option<String>,
    #[serde(default)]
    pub roles: Vec<Role>,
}

pub async fn create_person(
    state: &AppState,
    who: &Identity,
    actor: &Actor,
    input: &NewPerson,
) -> AppResult<i64> {
    let org_id = input.organization_id;
    let mut conn = state.db.reader().acquire().await?;
    let org = store::orgs::get(&mut conn, &who.principal.org_scope(), org_id)
        .await
        .map_err(|_| AppError::invalid("unknown_organization", "organization_id"))?;
    require(&who.principal, Action::ManagePeople(org_id))?;
    let default_locale = state.settings.default_locale.as_str();
    let fields = validate_person(
        &input.email,
        &input.display_name,
        input.phone.as_deref(),
        input.locale.as_deref().unwrap_or(default_locale),
    )?;
    if let Some(pw) = &input.password {
        check_new_password(pw)?;
    }
    let is_admin = who.principal.allows(Action::CreateOrganization);
    if !is_admin
        && !org.is_operator()
        && !store::people::privacy_contact_trained(&mut conn, org_id).await?
    {
        return Err(AppError::new(
            StatusCode::CONFLICT,
            "privacy_contact_training_required",
        ));
    }
    let mut roles = input.roles.clone();
    let existing = store::people::list(
        &mut conn,
        &OrgScope::Orgs(vec![org_id]),
        &store::people::PeopleFilter {
            organization_id: Some(org_id),
            limit: 1,
            ..Default::default()
        },
    )
    .await?;
    drop(conn);
    if roles.is_empty() {
        // A sole practitioner is by default both signatory and the only LRA (actors.md).
        roles = if org.org_type() == Some(OrgType::SolePractitioner) && existing.is_empty() {
            vec![Role::Signatory, Role::Lra, Role::EndUser]
        } else if org.is_operator() {
            vec![]
        } else {
            vec![Role::EndUser]
        };
    }
    for role in &roles {
        if role.is_operator_role() != org.is_operator() {
            return Err(AppError::invalid("role_not_for_organization", "roles"));
        }
        require(&who.principal, Action::GrantRole(org_id, *role)).or_else(|e| {
            if input.roles.is_empty() {
                Ok(())
            } else {
                Err(e)
            }
        })?;
    }
    let hash = match &input.password {
        Some(pw) => Some(store::passwords::hash(pw.clone()).await),
        None => None,
    };
    let mut tx = state.db.begin().await?;
    let id = store::people::create(&mut tx, org_id, &fields, hash.as_deref()).await?;
    for role in &roles {
        let granted =
            store::people::grant_role(&mut tx, id, org_id, *role, actor.person_id).await?;
        append(
            &mut tx,
            actor,
            event(
                "role.grant",
                "person",
                id,
                Some(org_id),
                json!({"role": role, "status": granted.status}),
            ),
        )
        .await?;
    }
    let detail = json!({"email": fields.email, "display_name": fields.display_name, "organization_id": org_id});
    append(
        &mut tx,
        actor,
        event("person.create", "person", id, Some(org_id), detail),
    )
    .await?;
    if hash.is_none() {
        let secret = store::auth::create_reset(&mut tx, id).await?;
        let link = format!("{}/reset/{secret}", state.settings.public_base_url);
        let organization = fields.locale.pick(&org.name_en, &org.name_fr).to_owned();
        state
            .composer(&mut tx)
            .await?
            .send(
                &mut tx,
                &crate::mail::Draft {
                    to: fields.email.as_str(),
                    audience: crate::mail::Audience::One(fields.locale),
                    key: "welcome",
                    args: &[
                        ("name", fields.display_name.clone()),
                        ("link", link),
                        ("organization", organization),
                    ],
                    fr_args: None,
                    unsubscribe: None,
                },
            )
            .await?;
    }
    tx.commit().await?;
    state.callers.clear();
    Ok(id)
}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PersonPatch {
    pub email: Option<String>,
    pub display_name: Option<String>,
    pub phone: Option<String>,
    pub locale: Option<String>,
    pub active: Option<bool>,
}

pub async fn update_person(
    state: &AppState,
    who: &Identity,
    actor: &Actor,
    id: i64,
    patch: &PersonPatch,
) -> AppResult<()> {
    let scope = who.principal.people_scope();
    let mut conn = state.db.reader().acquire().await?;
    let current = store::people::get(&mut conn, &scope, id).await?;
    drop(conn);
    let editing_self = id == who.person.id;
    let manager = who
        .principal
        .allows(Action::ManagePeople(current.organization_id));
    let own_details_only = editing_self && patch.email.is_none() && patch.active.is_none();
    if !(manager || own_details_only) {
        return Err(AppError::forbidden());
    }
    if editing_self && patch.active == Some(false) {
        return Err(AppError::new(
            StatusCode::CONFLICT,
            "cannot_deactivate_self",
        ));
    }
    let fields = validate_person(
        patch.email.as_deref().unwrap_or(&current.email),
        patch
            .display_name
            .as_deref()
            .unwrap_or(&current.display_name),
        patch.phone.as_deref().or(current.phone.as_deref()),
        patch.locale.as_deref().unwrap_or(&current.locale),
    )?;
    let active = patch.active.unwrap_or(current.is_active());
    let mut tx = state.db.begin().await?;
    let before = store::people::update(&mut tx, &scope, id, &fields, active).await?;
    let changes = diff(
        &json!({"email": before.email, "display_name": before.display_name, "phone": before.phone, "locale": before.locale, "active": before.is_active()}),
        &json!({"email": fields.email, "display_name": fields.display_name, "phone": fields.phone, "locale": fields.locale, "active": active}),
    );
    append(
        &mut tx,
        actor,
        event(
            "person.update",
            "person",
            id,
            Some(current.organization_id),
            changes,
        ),
    )
    .await?;
    tx.commit().await?;
    state.callers.clear();
    Ok(())
}

pub async fn grant_role(
    state: &AppState,
    who: &Identity,
    actor: &Actor,
    person_id: i64,
    role: Role,
) -> AppResult<RoleAssignment> {
    let mut conn = state.db.reader().acquire().await?;
    let person = store::people::get(&mut conn, &who.principal.people_scope(), person_id).await?;
    let org = store::orgs::get_unscoped(&mut conn, person.organization_id).await?;
    drop(conn);
    require(
        &who.principal,
        Action::GrantRole(person.organization_id, role),
    )?;
    if role.is_operator_role() != org.is_operator() {
        return Err(AppError::invalid("role_not_for_organization", "role"));
    }
    let mut tx = state.db.begin().await?;
    let granted = store::people::grant_role(
        &mut tx,
        person_id,
        person.organization_id,
        role,
        actor.person_id,
    )
    .await?;
    append(
        &mut tx,
        actor,
        event(
            "role.grant",
            "person",
            person_id,
            Some(person.organization_id),
            json!({"role": role, "status": granted.status}),
        ),
    )
    .await?;
    tx.commit().await?;
    state.callers.clear();
    Ok(granted)
}

pub async fn revoke_role(
    state: &AppState,
    who: &Identity,
    actor: &Actor,
    person_id: i64,
    role: Role,
) -> AppResult<()> {
    let mut conn = state.db.reader().acquire().await?;
    let person = store::people::get(&mut conn, &who.principal.people_scope(), person_id).await?;
    drop(conn);
    require(
        &who.principal,
        Action::GrantRole(person.organization_id, role),
    )?;
    if person_id == who.person.id && role == Role::Administrator {
        return Err(AppError::new(
            StatusCode::CONFLICT,
            "cannot_revoke_own_admin",
        ));
    }
    let mut tx = state.db.begin().await?;
    store::people::revoke_role(&mut tx, person_id, role).await?;
    append(
        &mut tx,
        actor,
        event(
            "role.revoke",
            "person",
            person_id,
            Some(person.organization_id),
            json!({"role": role}),
        ),
    )
    .await?;
    tx.commit().await?;
    state.callers.clear();
    Ok(())
}

pub async fn record_training(
    state: &AppState,
    who: &Identity,
    actor: &Actor,
    person_id: i64,
    module: TrainingModule,
    completed_on: &str,
) -> AppResult<Vec<Role>> {
    let completed_on: jiff::civil::Date = completed_on
        .trim()
        .parse()
        .map_err(|_| AppError::invalid("invalid_date", "completed_on"))?;
    let mut conn = state.db.reader().acquire().await?;
    let person = store::people::get(&mut conn, &who.principal.people_scope(), person_id).await?;
    drop(conn);
    require(
        &who.principal,
        Action::RecordTraining(person.organization_id),
    )?;
    let mut tx = state.db.begin().await?;
    let activated = store::people::record_training(
        &mut tx,
        person_id,
        module,
        &completed_on.to_string(),
        actor.person_id,
    )
    .await?;
    append(
        &mut tx,
        actor,
        event("training.record", "person", person_id, Some(person.organization_id), json!({"module": module, "completed_on": completed_on.to_string(), "activated": activated})),
    )
    .await?;
    tx.commit().await?;
    state.callers.clear();
    Ok(activated)
}

// ---------- sign-in and passwords ----------

#[derive(Debug)]
pub enum SignIn {
    Ok { session: String, person_id: i64 },
    Failed,
    Locked,
}

pub async fn sign_in(
    state: &AppState,
    email: &str,
    password: &str,
    ip: Option<String>,
    user_agent: Option<&str>,
) -> AppResult<SignIn> {
    let email = Email::parse(email)
        .map(|e| e.as_str().to_owned())
        .unwrap_or_default();
    let mut conn = state.db.reader().acquire().await?;
    let creds = store::people::credentials_by_email(&mut conn, &email).await?;
    drop(conn);
    let now = domain::time::to_db(domain::time::now());
    let actor = Actor {
        person_id: creds.as_ref().map(|c| c.id),
        label: email.clone(),
        ip,
    };
    if let Some(c) = &creds
        && c.locked_until
            .as_deref()
            .is_some_and(|until| until > now.as_str())
    {
        let mut tx = state.db.begin().await?;
        append(
            &mut tx,
            &actor,
            event(
                "auth.sign_in_locked",
                "person",
                c.id,
                Some(c.organization_id),
                json!({}),
            ),
        )
        .await?;
        tx.commit().await?;
        metrics::counter!("triage_sign_ins_total", "result" => "locked").increment(1);
        return Ok(SignIn::Locked);
    }
    let usable = creds.as_ref().filter(|c| c.active != 0);
    let ok = store::passwords::verify(
        password.to_owned(),
        usable.and_then(|c| c.password_hash.clone()),
    )
    .await;
    let mut tx = state.db.begin().await?;
    let result = match (usable, ok) {
        (Some(c), true) => {
            store::people::record_sign_in(&mut tx, c.id).await?;
            let session = store::auth::create_session(&mut tx, c.id, user_agent).await?;
            append(
                &mut tx,
                &actor,
                event(
                    "auth.sign_in",
                    "person",
                    c.id,
                    Some(c.organization_id),
                    json!({"method": "password"}),
                ),
            )
            .await?;
            SignIn::Ok {
                session,
                person_id: c.id,
            }
        }
        (Some(c), false) => {
            let until = domain::time::to_db(
                domain::time::now()
                    + jiff::SignedDuration::from_mins(state.settings.lockout_minutes),
            );
            let count = store::people::record_failed_sign_in(
                &mut tx,
                c.id,
                state.settings.lockout_threshold,
                &until,
            )
            .await?;
            let locked = count >= state.settings.lockout_threshold;
            append(
                &mut tx,
                &actor,
                event(
                    "auth.sign_in_failed",
                    "person",
                    c.id,
                    Some(c.organization_id),
                    json!({"failures": count, "locked": locked}),
                ),
            )
            .await?;
            if locked {
                SignIn::Locked
            } else {
                SignIn::Failed
            }
        }
        (None, _) => {
            append(
                &mut tx,
                &actor,
                Event {
                    action: "auth.sign_in_failed",
                    entity_type: "person",
                    entity_id: None,
                    organization_id: creds.as_ref().map(|c| c.organization_id),
                    detail: json!({"reason": "unknown or inactive account"}),
                },
            )
            .await?;
            SignIn::Failed
        }
    };
    tx.commit().await?;
    let label = match &result {
        SignIn::Ok { .. } => "ok",
        SignIn::Failed => "failed",
        SignIn::Locked => "locked",
    };
    metrics::counter!("triage_sign_ins_total", "result" => label).increment(1);
    Ok(result)
}

/// Sends a reset link if the account exists and uses the operator's credentials; the
/// answer never says whether it does.
pub async fn forgot_password(
    state: &AppState,
    email: &str,
    locale: Locale,
    ip: Option<String>,
) -> AppResult<()> {
    let email = Email::parse(email)?;
    let mut conn = state.db.reader().acquire().await?;
    let creds = store::people::credentials_by_email(&mut conn, email.as_str()).await?;
    let Some(c) = creds.filter(|c| c.active != 0) else {
        return Ok(());
    };
    let org = store::orgs::get_unscoped(&mut conn, c.organization_id).await?;
    drop(conn);
    let mut tx = state.db.begin().await?;
    let actor = Actor {
        person_id: Some(c.id),
        label: c.email.clone(),
        ip,
    };
    let person_locale = Locale::parse(&c.locale).unwrap_or(locale);
    let (key, args) = if org.identity_provider() != Some(domain::org::IdentityProvider::Operator) {
        // Federated and provincial credentials cannot be reset here (actors.md).
        let organization = person_locale.pick(&org.name_en, &org.name_fr).to_owned();
        ("reset-elsewhere", vec![("organization", organization)])
    } else {
        let secret = store::auth::create_reset(&mut tx, c.id).await?;
        let link = format!("{}/reset/{secret}", state.settings.public_base_url);
        let minutes = store::auth::RESET_MINUTES.to_string();
        ("reset", vec![("link", link), ("minutes", minutes)])
    };
    state
        .composer(&mut tx)
        .await?
        .send(
            &mut tx,
            &crate::mail::Draft {
                to: &c.email,
                audience: crate::mail::Audience::One(person_locale),
                key,
                args: &args,
                fr_args: None,
                unsubscribe: None,
            },
        )
        .await?;
    append(
        &mut tx,
        &actor,
        event(
            "auth.reset_requested",
            "person",
            c.id,
            Some(c.organization_id),
            json!({}),
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

pub async fn check_reset_link(state: &AppState, secret: &str) -> AppResult<()> {
    let mut conn = state.db.reader().acquire().await?;
    store::auth::check_reset(&mut conn, secret, false)
        .await?
        .map(|_| ())
        .map_err(|p| AppError::new(StatusCode::GONE, p.code()))
}

pub async fn reset_password(
    state: &AppState,
    secret: &str,
    password: &str,
    ip: Option<String>,
) -> AppResult<()> {
    check_new_password(password)?;
    let hash = store::passwords::hash(password.to_owned()).await;
    let mut tx = state.db.begin().await?;
    let person_id = store::auth::check_reset(&mut tx, secret, true)
        .await?
        .map_err(|p| AppError::new(StatusCode::GONE, p.code()))?;
    store::people::set_password(&mut tx, person_id, &hash).await?;
    store::auth::end_sessions(&mut tx, person_id).await?;
    let actor = Actor {
        person_id: Some(person_id),
        label: format!("person:{person_id}"),
        ip,
    };
    append(
        &mut tx,
        &actor,
        Event {
            action: "auth.password_reset",
            entity_type: "person",
            entity_id: Some(person_id.to_string()),
            organization_id: None,
            detail: json!({}),
        },
    )
    .await?;
    tx.commit().await?;
    state.callers.clear();
    Ok(())
}

pub async fn sign_out(
    state: &AppState,
    who: &Identity,
    actor: &Actor,
    session: &str,
) -> AppResult<()> {
    let mut tx = state.db.begin().await?;
    store::auth::end_session(&mut tx, session).await?;
    append(
        &mut tx,
        actor,
        event(
            "auth.sign_out",
            "person",
            who.person.id,
            Some(who.person.organization_id),
            json!({}),
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

// ---------- API tokens ----------

pub async fn create_token(
    state: &AppState,
    who: &Identity,
    actor: &Actor,
    name: &str,
) -> AppResult<(store::auth::ApiToken, String)> {
    let name = domain::text::required("name", name, 100)?;
    let mut tx = state.db.begin().await?;
    let (token, secret) = store::auth::create_token(&mut tx, who.person.id, &name).await?;
    append(
        &mut tx,
        actor,
        event(
            "token.create",
            "api_token",
            token.id,
            Some(who.person.organization_id),
            json!({"name": name, "prefix": token.prefix}),
        ),
    )
    .await?;
    tx.commit().await?;
    Ok((token, secret))
}

pub async fn revoke_token(
    state: &AppState,
    who: &Identity,
    actor: &Actor,
    token_id: i64,
) -> AppResult<()> {
    let mut tx = state.db.begin().await?;
    let token = store::auth::revoke_token(&mut tx, who.person.id, token_id).await?;
    append(
        &mut tx,
        actor,
        event(
            "token.revoke",
            "api_token",
            token.id,
            Some(who.person.organization_id),
            json!({"name": token.name}),
        ),
    )
    .await?;
    tx.commit().await?;
    state.callers.clear();
    Ok(())
}

/// Puts a failed message back in the queue (administrators), after the cause was fixed.
pub async fn retry_mail(state: &AppState, who: &Identity, actor: &Actor, id: i64) -> AppResult<()> {
    require(&who.principal, Action::ViewOutbox)?;
    let mut tx = state.db.begin().await?;
    if !store::outbox::retry(&mut tx, id).await? {
        return Err(AppError::invalid("not_failed", "id"));
    }
    append(
        &mut tx,
        actor,
        Event {
            action: "outbox.retry",
            entity_type: "outbox",
            entity_id: Some(id.to_string()),
            organization_id: None,
            detail: json!({}),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

// ---------- credential requests ----------

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CredentialRequestInput {
    pub organization_id: i64,
    pub name: String,
    pub email: String,
    pub phone: Option<String>,
    pub job_title: Option<String>,
    pub reason: String,
}

/// A public request for portal credentials; it reaches the organization's LRAs by mail.
pub async fn request_credentials(
    state: &AppState,
    input: &CredentialRequestInput,
    ip: Option<String>,
) -> AppResult<i64> {
    let name = domain::text::required("name", &input.name, 200)?;
    let email = Email::parse(&input.email)?;
    let phone = domain::text::optional("phone", input.phone.as_deref(), 40)?;
    let job_title = domain::text::optional("job_title", input.job_title.as_deref(), 200)?;
    let reason = domain::text::required("reason", &input.reason, 2000)?;
    let mut tx = state.db.begin().await?;
    let id = store::credentials::create(
        &mut tx,
        &store::credentials::NewCredentialRequest {
            organization_id: input.organization_id,
            name: &name,
            email: email.as_str(),
            phone: phone.as_deref(),
            job_title: job_title.as_deref(),
            reason: &reason,
        },
    )
    .await?;
    let org = store::orgs::get_unscoped(&mut tx, input.organization_id).await?;
    // The LRAs in their language; failing them, the help desk address in both languages.
    let mut recipients: Vec<(String, crate::mail::Audience)> =
        store::people::holders_of(&mut tx, org.id, Role::Lra)
            .await?
            .into_iter()
            .map(|p| (p.email, crate::mail::Audience::of(Some(&p.locale))))
            .collect();
    if recipients.is_empty()
        && let Some(helpdesk) = &org.helpdesk_email
    {
        recipients.push((helpdesk.clone(), crate::mail::Audience::Both));
    }
    let composer = state.composer(&mut tx).await?;
    for (to, audience) in &recipients {
        let organization = match audience {
            crate::mail::Audience::One(Locale::Fr) => org.name_fr.clone(),
            _ => org.name_en.clone(),
        };
        composer
            .send(
                &mut tx,
                &crate::mail::Draft {
                    to,
                    audience: *audience,
                    key: "credentials-request",
                    args: &[
                        ("name", name.clone()),
                        ("email", email.to_string()),
                        ("reason", reason.clone()),
                        ("organization", organization),
                    ],
                    fr_args: None,
                    unsubscribe: None,
                },
            )
            .await?;
    }
    let actor = Actor {
        person_id: None,
        label: email.to_string(),
        ip,
    };
    append(
        &mut tx,
        &actor,
        event(
            "credentials.request",
            "credential_request",
            id,
            Some(org.id),
            json!({"name": name, "notified": recipients.len()}),
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

// ---------- support groups ----------

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewSupportGroup {
    pub code: String,
    pub name_en: String,
    pub name_fr: String,
    /// An existing calendar's id, or none to create one from `time_zone` and `weekly_hours`.
    pub calendar_id: Option<i64>,
    pub time_zone: Option<String>,
    /// One day per line: `mon 08:00-17:00`; `sat closed`; `holiday 24h`.
    pub weekly_hours: Option<String>,
    pub email: Option<String>,
}

pub async fn create_support_group(
    state: &AppState,
    who: &Identity,
    actor: &Actor,
    input: &NewSupportGroup,
) -> AppResult<i64> {
    require(&who.principal, Action::ManageSupportGroups)?;
    let code = domain::text::required("code", &input.code, 32)?.to_ascii_uppercase();
    let name_en = domain::text::required("name_en", &input.name_en, 200)?;
    let name_fr = domain::text::required("name_fr", &input.name_fr, 200)?;
    let email = match domain::text::optional("email", input.email.as_deref(), 254)? {
        Some(e) => Some(Email::parse(&e)?.to_string()),
        None => None,
    };
    let mut tx = state.db.begin().await?;
    let calendar_id = match input.calendar_id {
        Some(id) => {
            if !store::groups::calendars(&mut tx)
                .await?
                .iter()
                .any(|c| c.id == id)
            {
                return Err(AppError::invalid("unknown_calendar", "calendar_id"));
            }
            id
        }
        None => {
            let tz = input
                .time_zone
                .clone()
                .unwrap_or_else(|| state.settings.time_zone.clone());
            if jiff::tz::TimeZone::get(&tz).is_err() {
                return Err(AppError::invalid("invalid_time_zone", "time_zone"));
            }
            let hours = input.weekly_hours.clone().unwrap_or_default();
            store::groups::validate_weekly_hours(&hours)?;
            store::groups::create_calendar(
                &mut tx,
                &format!("{code} hours"),
                &tz,
                &hours,
                "ontario",
            )
            .await?
        }
    };
    let id = store::groups::create_group(
        &mut tx,
        &code,
        &name_en,
        &name_fr,
        calendar_id,
        email.as_deref(),
    )
    .await?;
    append(
        &mut tx,
        actor,
        Event {
            action: "support_group.create",
            entity_type: "support_group",
            entity_id: Some(id.to_string()),
            organization_id: None,
            detail: json!({"code": code, "calendar_id": calendar_id}),
        },
    )
    .await?;
    tx.commit().await?;
    state.directory.changed();
    Ok(id)
}
