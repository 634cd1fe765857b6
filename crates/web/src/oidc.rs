//! OpenID Connect sign-in per organization: authorization code flow with PKCE and a nonce.
//! The provider's `email` claim must match an active account of that organization; accounts
//! are still created by the organization's LRA, not by the provider.
use crate::AppState;
use crate::ctx::{Ctx, SESSION_COOKIE, set_cookie};
use crate::error::{AppError, AppResult};
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use openidconnect::core::{CoreAuthenticationFlow, CoreClient, CoreProviderMetadata};
use openidconnect::{
    AuthorizationCode, ClientId, ClientSecret, CsrfToken, IssuerUrl, Nonce, PkceCodeChallenge,
    PkceCodeVerifier, RedirectUrl, Scope, TokenResponse,
};
use serde::Deserialize;
use serde_json::json;
use store::audit::{Actor, Event, append};

fn redirect_uri(state: &AppState) -> String {
    format!("{}/auth/oidc/callback", state.settings.public_base_url)
}

fn failure(e: impl std::fmt::Display) -> AppError {
    tracing::warn!(error = %e, "oidc");
    AppError::new(StatusCode::BAD_GATEWAY, "oidc_failed")
}

async fn client(
    state: &AppState,
    org: &store::orgs::Organization,
) -> AppResult<
    CoreClient<
        openidconnect::EndpointSet,
        openidconnect::EndpointNotSet,
        openidconnect::EndpointNotSet,
        openidconnect::EndpointNotSet,
        openidconnect::EndpointMaybeSet,
        openidconnect::EndpointMaybeSet,
    >,
> {
    let (Some(issuer), Some(client_id), Some(secret)) = (
        &org.oidc_issuer,
        &org.oidc_client_id,
        &org.oidc_client_secret,
    ) else {
        return Err(AppError::new(StatusCode::NOT_FOUND, "oidc_not_configured"));
    };
    let http = openidconnect::reqwest::Client::builder()
        .redirect(openidconnect::reqwest::redirect::Policy::none())
        .timeout(std::time::Duration::from_secs(10))
        .build()
        .map_err(failure)?;
    let issuer = IssuerUrl::new(issuer.clone()).map_err(failure)?;
    let metadata = CoreProviderMetadata::discover_async(issuer, &http)
        .await
        .map_err(failure)?;
    let redirect = RedirectUrl::new(redirect_uri(state)).map_err(failure)?;
    Ok(CoreClient::from_provider_metadata(
        metadata,
        ClientId::new(client_id.clone()),
        Some(ClientSecret::new(secret.clone())),
    )
    .set_redirect_uri(redirect))
}

/// Sends the browser to the organization's identity provider.
pub async fn start(State(state): State<AppState>, Path(org_id): Path<i64>) -> AppResult<Response> {
    let mut conn = state.db.reader().acquire().await?;
    let org = store::orgs::get_unscoped(&mut conn, org_id).await?;
    drop(conn);
    let client = client(&state, &org).await?;
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (url, csrf, nonce) = client
        .authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .add_scope(Scope::new("email".into()))
        .set_pkce_challenge(challenge)
        .url();
    let mut tx = state.db.begin().await?;
    store::auth::save_oidc_login(
        &mut tx,
        &store::auth::OidcLogin {
            state: csrf.secret().clone(),
            organization_id: org.id,
            pkce_verifier: verifier.secret().clone(),
            nonce: nonce.secret().clone(),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(Redirect::to(url.as_str()).into_response())
}

#[derive(Deserialize)]
pub struct Callback {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
}

/// The provider sends the browser back here with a code; exchange it, check the ID token,
/// and open a session for the matching account.
pub async fn callback(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<Callback>,
) -> AppResult<Response> {
    if let Some(error) = q.error {
        return Err(failure(format!("provider returned {error}")));
    }
    let (Some(code), Some(login_state)) = (q.code, q.state) else {
        return Err(AppError::bad_request("oidc_failed"));
    };
    let mut tx = state.db.begin().await?;
    let login = store::auth::take_oidc_login(&mut tx, &login_state).await?;
    tx.commit().await?;
    let login = login.ok_or_else(|| AppError::bad_request("oidc_state_invalid"))?;
    let mut conn = state.db.reader().acquire().await?;
    let org = store::orgs::get_unscoped(&mut conn, login.organization_id).await?;
    drop(conn);
    let client = client(&state, &org).await?;
    let http = openidconnect::reqwest::Client::builder()
        .redirect(openidconnect::reqwest::redirect::Policy::none())
        .build()
        .map_err(failure)?;
    let token = client
        .exchange_code(AuthorizationCode::new(code))
        .map_err(failure)?
        .set_pkce_verifier(PkceCodeVerifier::new(login.pkce_verifier))
        .request_async(&http)
        .await
        .map_err(failure)?;
    let id_token = token.id_token().ok_or_else(|| failure("no id token"))?;
    let claims = id_token
        .claims(&client.id_token_verifier(), &Nonce::new(login.nonce))
        .map_err(failure)?;
    let email = claims
        .email()
        .map(|e| e.as_str().to_lowercase())
        .ok_or_else(|| failure("no email claim"))?;
    let mut conn = state.db.reader().acquire().await?;
    let creds = store::people::credentials_by_email(&mut conn, &email).await?;
    drop(conn);
    let actor = Actor {
        person_id: creds.as_ref().map(|c| c.id),
        label: email.clone(),
        ip: ctx.ip.clone(),
    };
    let mut tx = state.db.begin().await?;
    let Some(person) = creds.filter(|c| c.active != 0 && c.organization_id == org.id) else {
        append(
            &mut tx,
            &actor,
            Event {
                action: "auth.sign_in_failed",
                entity_type: "person",
                entity_id: None,
                organization_id: Some(org.id),
                detail: json!({"method": "oidc", "reason": "no matching account"}),
            },
        )
        .await?;
        tx.commit().await?;
        return Err(AppError::new(StatusCode::FORBIDDEN, "oidc_no_account"));
    };
    let session = store::auth::create_session(&mut tx, person.id, None).await?;
    append(
        &mut tx,
        &actor,
        Event {
            action: "auth.sign_in",
            entity_type: "person",
            entity_id: Some(person.id.to_string()),
            organization_id: Some(org.id),
            detail: json!({"method": "oidc", "issuer": org.oidc_issuer}),
        },
    )
    .await?;
    tx.commit().await?;
    metrics::counter!("triage_sign_ins_total", "result" => "ok_oidc").increment(1);
    let mut response = Redirect::to("/").into_response();
    response.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(
            &state,
            SESSION_COOKIE,
            &session,
            true,
            Some(store::auth::SESSION_HOURS * 3600),
        ),
    );
    Ok(response)
}
