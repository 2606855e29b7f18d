//! Sign-in through the municipality's identity provider with OpenID Connect
//! (issue 17): the authorization code flow with PKCE, a state bound to the
//! browser by a cookie, and a nonce; the ID token's signature, issuer,
//! audience, expiry and nonce are checked by `openidconnect`.
//!
//! An account is matched by the provider's stable subject (`sub`), which an
//! administrator enters on the user's page; roles and units are still set in
//! Lotsen. The provider's sign-in is the strong one (SITHS card,
//! e-legitimation), so a session started here asks for no TOTP code.

use crate::auth::context::RequestContext;
use crate::auth::login::{self, SignIn};
use crate::auth::middleware::{build_cookie, removal_cookie};
use crate::auth::{safe_next, session};
use crate::config::OidcSettings;
use crate::error::{AppError, AppResult};
use crate::ids::UserId;
use crate::state::AppState;
use crate::web::form::Query;
use crate::web::routes::Routes;
use crate::web::routes::get;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::cookie::CookieJar;
use openidconnect::core::{CoreAuthenticationFlow, CoreClient, CoreProviderMetadata};
use openidconnect::reqwest;
use openidconnect::{
    AccessTokenHash, AuthorizationCode, ClientId, ClientSecret, CsrfToken, IssuerUrl, Nonce, OAuth2TokenResponse, PkceCodeChallenge,
    PkceCodeVerifier, RedirectUrl, TokenResponse,
};
use serde::Deserialize;
use std::time::{Duration, Instant};
use subtle::ConstantTimeEq;

pub const START: &str = "/login/oidc";
pub const CALLBACK: &str = "/login/oidc/callback";

/// The cookie that binds a sign-in at the provider to this browser.
pub const COOKIE: &str = "lotsen_oidc";
pub const COOKIE_SECURE: &str = "__Host-lotsen_oidc";

pub fn cookie_name(secure: bool) -> &'static str {
    if secure { COOKIE_SECURE } else { COOKIE }
}

/// How long the sign-in at the provider may take.
const FLOW_MINUTES: i64 = 10;
/// How long the provider's endpoints and keys are kept before they are
/// fetched again (at once when a token is signed with a key not among them).
const METADATA_TTL: Duration = Duration::from_secs(3600);
/// How long a call to the provider may take.
const PROVIDER_TIMEOUT: Duration = Duration::from_secs(10);

pub fn routes() -> Routes {
    Routes::new().route(START, get(start)).route(CALLBACK, get(callback))
}

/// Why a sign-in through the provider did not go through; each has its words
/// on the sign-in page.
#[derive(Debug, PartialEq, Eq)]
pub enum Failure {
    /// The provider could not be reached (or answered nonsense) at the start.
    Unavailable,
    /// The user stopped at the provider.
    Cancelled,
    /// No sign-in of this browser waits for this answer: too late, another
    /// tab, or a link someone else made.
    NoSignIn,
    /// The provider's answer did not pass the checks.
    Rejected,
    /// The provider knows the person, Lotsen has no active account for them.
    NotLinked(String),
}

impl Failure {
    pub fn message(&self, label: &str) -> String {
        match self {
            Failure::Unavailable => {
                format!("Det går inte att nå {label} just nu. Försök igen om en stund, eller logga in med e-post och lösenord.")
            }
            Failure::Cancelled => format!("Inloggningen med {label} avbröts. Du är inte inloggad."),
            Failure::NoSignIn => {
                "Inloggningen gick inte att slutföra: den tog för lång tid eller gjordes i en annan flik. Börja om.".into()
            }
            Failure::Rejected => {
                format!(
                    "Svaret från {label} kunde inte godkännas, så du är inte inloggad. Börja om, och kontakta en administratör om det händer igen."
                )
            }
            Failure::NotLinked(subject) => format!(
                "Du är inloggad hos {label}, men inget aktivt konto i Lotsen är kopplat till dig. \
                 Be en administratör koppla ditt id till ditt konto: {subject}"
            ),
        }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            Failure::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            Failure::Cancelled | Failure::NoSignIn => StatusCode::BAD_REQUEST,
            Failure::Rejected => StatusCode::BAD_GATEWAY,
            Failure::NotLinked(_) => StatusCode::FORBIDDEN,
        }
    }
}

/// The provider's metadata (endpoints and keys) and the HTTP client that
/// talks to it, kept per instance.
#[derive(Default)]
struct Provider {
    http: std::sync::OnceLock<reqwest::Client>,
    metadata: tokio::sync::Mutex<Option<(Instant, CoreProviderMetadata)>>,
}

impl Provider {
    fn http(&self) -> AppResult<&reqwest::Client> {
        if let Some(client) = self.http.get() {
            return Ok(client);
        }
        let client = reqwest::ClientBuilder::new()
            // Following redirects would let the provider's answers send us elsewhere.
            .redirect(reqwest::redirect::Policy::none())
            .timeout(PROVIDER_TIMEOUT)
            .build()
            .map_err(|err| AppError::Internal(err.into()))?;
        Ok(self.http.get_or_init(|| client))
    }

    /// The metadata, fetched when missing, older than an hour, or `fresh` is asked for.
    async fn metadata(&self, settings: &OidcSettings, fresh: bool) -> Result<CoreProviderMetadata, Failure> {
        let mut kept = self.metadata.lock().await;
        if let Some((at, metadata)) = kept.as_ref()
            && !fresh
            && at.elapsed() < METADATA_TTL
        {
            return Ok(metadata.clone());
        }
        let issuer = IssuerUrl::new(settings.issuer.clone()).map_err(|_| Failure::Unavailable)?;
        let http = self.http().map_err(|_| Failure::Unavailable)?;
        match CoreProviderMetadata::discover_async(issuer, http).await {
            Ok(metadata) => {
                *kept = Some((Instant::now(), metadata.clone()));
                Ok(metadata)
            }
            Err(err) => {
                tracing::warn!(error = %err, "the identity provider's metadata could not be fetched");
                Err(Failure::Unavailable)
            }
        }
    }
}

/// The link that starts a sign-in at the provider and comes back to `next`.
pub fn start_link(next: &str) -> String {
    if next == "/" {
        return START.to_string();
    }
    let query = form_urlencoded::Serializer::new(String::new()).append_pair("next", next).finish();
    format!("{START}?{query}")
}

fn provider(state: &AppState) -> std::sync::Arc<Provider> {
    state.caches.get::<Provider>()
}

fn redirect_url(state: &AppState) -> String {
    format!("{}{CALLBACK}", state.config.public_url.trim_end_matches('/'))
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct StartQuery {
    next: Option<String>,
}

/// Sends the browser to the provider, with a new state, nonce and PKCE
/// challenge kept for the answer.
async fn start(State(state): State<AppState>, ctx: RequestContext, Query(query): Query<StartQuery>) -> AppResult<Response> {
    let Some(settings) = state.config.oidc.as_ref() else {
        return Err(AppError::NotFound);
    };
    let next = safe_next(query.next.as_deref()).to_string();
    if ctx.user.is_some() {
        return Ok(Redirect::to(&next).into_response());
    }
    let metadata = match provider(&state).metadata(settings, false).await {
        Ok(metadata) => metadata,
        Err(failure) => return refused(&state, &ctx, &next, failure),
    };
    let redirect = RedirectUrl::new(redirect_url(&state)).map_err(|err| AppError::Internal(err.into()))?;
    let client = CoreClient::from_provider_metadata(
        metadata,
        ClientId::new(settings.client_id.clone()),
        settings.client_secret.as_ref().map(|s| ClientSecret::new(s.0.clone())),
    )
    .set_redirect_uri(redirect);
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (url, csrf, nonce) = client
        .authorize_url(CoreAuthenticationFlow::AuthorizationCode, CsrfToken::new_random, Nonce::new_random)
        .set_pkce_challenge(challenge)
        .url();
    sqlx::query!(
        "INSERT INTO oidc_sign_ins (state_hash, nonce, pkce_verifier, next, created_at) VALUES ($1, $2, $3, $4, $5)",
        &session::token_hash(csrf.secret())[..],
        nonce.secret(),
        verifier.secret(),
        next,
        state.clock.now()
    )
    .execute(&state.db)
    .await?;
    let secure = state.config.cookie_secure;
    let cookies = CookieJar::new().add(build_cookie(cookie_name(secure), csrf.secret().clone(), secure));
    Ok((cookies, Redirect::to(url.as_str())).into_response())
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct CallbackQuery {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
    /// The issuer of the answer (RFC 9207), when the provider names it.
    iss: Option<String>,
}

/// The provider's answer: the code exchanged for tokens, the ID token
/// checked, the subject matched to an account, and a session started.
async fn callback(
    State(state): State<AppState>,
    ctx: RequestContext,
    headers: axum::http::HeaderMap,
    jar: CookieJar,
    Query(query): Query<CallbackQuery>,
) -> AppResult<Response> {
    let Some(settings) = state.config.oidc.as_ref() else {
        return Err(AppError::NotFound);
    };
    let now = state.clock.now();
    let secure = state.config.cookie_secure;
    let bound = jar.get(cookie_name(secure)).map(|c| c.value().to_string());
    let (outcome, next) = match taken_sign_in(&state, bound.as_deref(), &query, now).await? {
        None => (Err(Failure::NoSignIn), "/".to_string()),
        Some(waiting) => {
            let next = waiting.next.clone();
            (answer(&state, settings, waiting, query).await, next)
        }
    };
    match outcome {
        Ok(user) => {
            let device = session::device_of(
                headers
                    .get(axum::http::header::USER_AGENT)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or(""),
            );
            let how = format!("{} (OpenID Connect)", settings.label);
            let sign_in = SignIn {
                user,
                device: &device,
                how: &how,
                next: &next,
                external: true,
                attempt: None,
            };
            login::start_session(&state, &ctx, sign_in, now).await
        }
        Err(failure) => {
            match &failure {
                Failure::NotLinked(_) => {
                    login::sign_in_refused(
                        &state,
                        None,
                        "login_failed",
                        "inget aktivt konto för id:t hos identitetsleverantören",
                        now,
                    )
                    .await?
                }
                Failure::Rejected => {
                    login::sign_in_refused(&state, None, "login_failed", "identitetsleverantörens svar godkändes inte", now).await?
                }
                _ => {}
            }
            refused(&state, &ctx, &next, failure)
        }
    }
}

/// The sign-in this answer belongs to, taken (so it is used once): the state
/// in the address must be the one this browser's cookie holds.
struct Waiting {
    nonce: String,
    pkce_verifier: String,
    next: String,
}

async fn taken_sign_in(
    state: &AppState,
    bound: Option<&str>,
    query: &CallbackQuery,
    now: chrono::DateTime<chrono::Utc>,
) -> AppResult<Option<Waiting>> {
    let Some(bound) = bound else { return Ok(None) };
    let bound_hash = session::token_hash(bound);
    let row = sqlx::query!(
        "DELETE FROM oidc_sign_ins WHERE state_hash = $1 RETURNING nonce, pkce_verifier, next, created_at",
        &bound_hash[..]
    )
    .fetch_optional(&state.db)
    .await?;
    let Some(row) = row else { return Ok(None) };
    let sent = session::token_hash(query.state.as_deref().unwrap_or(""));
    let same_state = bool::from(sent.ct_eq(&bound_hash));
    if !same_state || row.created_at <= now - chrono::Duration::minutes(FLOW_MINUTES) {
        return Ok(None);
    }
    Ok(Some(Waiting {
        nonce: row.nonce,
        pkce_verifier: row.pkce_verifier,
        next: safe_next(Some(&row.next)).to_string(),
    }))
}

/// The provider's answer checked, down to the account it signs in.
async fn answer(state: &AppState, settings: &OidcSettings, waiting: Waiting, query: CallbackQuery) -> Result<UserId, Failure> {
    if let Some(error) = query.error.as_deref() {
        return Err(if error == "access_denied" {
            Failure::Cancelled
        } else {
            tracing::warn!(error, "the identity provider answered with an error");
            Failure::Rejected
        });
    }
    let provider = provider(state);
    let metadata = provider.metadata(settings, false).await?;
    // An answer that names another issuer is a mix-up: refused.
    if query.iss.as_deref().is_some_and(|iss| iss != metadata.issuer().as_str()) {
        tracing::warn!("the identity provider's answer named another issuer");
        return Err(Failure::Rejected);
    }
    let code = query.code.filter(|c| !c.is_empty()).ok_or(Failure::Rejected)?;
    let redirect = RedirectUrl::new(redirect_url(state)).map_err(|_| Failure::Rejected)?;
    let client_of = |metadata: CoreProviderMetadata| {
        CoreClient::from_provider_metadata(
            metadata,
            ClientId::new(settings.client_id.clone()),
            settings.client_secret.as_ref().map(|s| ClientSecret::new(s.0.clone())),
        )
        .set_redirect_uri(redirect.clone())
    };
    let client = client_of(metadata);
    let http = provider.http().map_err(|_| Failure::Rejected)?;
    let tokens = client
        .exchange_code(AuthorizationCode::new(code))
        .map_err(|err| {
            tracing::warn!(error = %err, "the identity provider has no token endpoint");
            Failure::Rejected
        })?
        .set_pkce_verifier(PkceCodeVerifier::new(waiting.pkce_verifier))
        .request_async(http)
        .await
        .map_err(|err| {
            tracing::warn!(error = %err, "the identity provider refused the code");
            Failure::Rejected
        })?;
    let id_token = tokens.id_token().ok_or_else(|| {
        tracing::warn!("the identity provider sent no ID token");
        Failure::Rejected
    })?;
    let nonce = Nonce::new(waiting.nonce);
    // A token signed with a key we do not have yet: the provider may have
    // rotated its keys, so they are fetched once more before refusing.
    let known_key = id_token.claims(&client.id_token_verifier(), &nonce).is_ok();
    let client = if known_key {
        client
    } else {
        client_of(provider.metadata(settings, true).await?)
    };
    let verifier = client.id_token_verifier();
    let claims = id_token.claims(&verifier, &nonce).map_err(|err| {
        tracing::warn!(error = %err, "the ID token did not pass its checks");
        Failure::Rejected
    })?;
    // The access token must be the one the ID token was issued with.
    if let Some(expected) = claims.access_token_hash() {
        let actual = id_token
            .signing_alg()
            .ok()
            .zip(id_token.signing_key(&verifier).ok())
            .and_then(|(alg, key)| AccessTokenHash::from_token(tokens.access_token(), alg, key).ok());
        if actual.as_ref() != Some(expected) {
            tracing::warn!("the access token does not match the ID token's hash");
            return Err(Failure::Rejected);
        }
    }
    let subject = claims.subject().as_str();
    let account = sqlx::query_scalar!(
        r#"SELECT id AS "id: UserId" FROM users WHERE oidc_subject = $1 AND active"#,
        subject
    )
    .fetch_optional(&state.db)
    .await
    .map_err(|err| {
        tracing::error!(error = %err, "the account of a provider sign-in could not be read");
        Failure::Unavailable
    })?;
    account.ok_or_else(|| Failure::NotLinked(subject.to_string()))
}

/// The sign-in page again, with why, and the browser's binding removed.
fn refused(state: &AppState, ctx: &RequestContext, next: &str, failure: Failure) -> AppResult<Response> {
    let label = state.config.oidc.as_ref().map(|s| s.label.as_str()).unwrap_or_default();
    let secure = state.config.cookie_secure;
    let page = login::page(state, ctx, "", next, failure.message(label), "", failure.status())?;
    Ok((CookieJar::new().add(removal_cookie(cookie_name(secure), secure)), page).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_failure_says_what_to_do_and_never_succeeds() {
        let all = [
            Failure::Unavailable,
            Failure::Cancelled,
            Failure::NoSignIn,
            Failure::Rejected,
            Failure::NotLinked("abc-123".into()),
        ];
        for failure in all {
            assert!(!failure.status().is_success(), "{failure:?}");
            assert!(!failure.message("Kommunens inloggning").is_empty());
        }
        // The person needs their id to ask for the account to be linked.
        assert!(Failure::NotLinked("abc-123".into()).message("X").contains("abc-123"));
    }

    #[test]
    fn the_start_link_carries_where_to_go_after() {
        assert_eq!(start_link("/"), "/login/oidc");
        assert_eq!(
            start_link("/participants?q=a&b=1"),
            "/login/oidc?next=%2Fparticipants%3Fq%3Da%26b%3D1"
        );
    }
}
