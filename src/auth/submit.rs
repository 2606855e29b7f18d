//! One submit, one record, and an answer that tells the truth.
//!
//! Every form that changes something carries a one-time token (`once`,
//! made fresh each time the form is shown). The session middleware runs a
//! POST inside `db::request::scope`, so its commands share one transaction
//! that is still open when the handler has made its answer. The first command
//! claims the token in that transaction (`db::request`); `finish` writes the
//! flash message and where the answer sends the user into it and commits it,
//! as the last step. So:
//!
//! - the same form sent again (a double click, Back and send, a retry after a
//!   lost answer) is answered by `again` with the place the first submit led
//!   to, and does nothing; two at the same moment meet at the token's primary
//!   key, the second waits for the first, and keeps nothing if it kept work;
//! - an error page only ever follows work that was rolled back, and a success
//!   only work that is committed.

use crate::auth::session;
use crate::db::request::Work;
use crate::error::{AppError, Failed, SentBefore, unconfirmed_response};
use crate::ids::UserId;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};
use sqlx::{PgConnection, PgPool};

/// The name of the token's hidden field.
pub const FIELD: &str = "once";

/// Said on the page a repeated submit leads to.
pub const SENT_BEFORE: &str = "Formuläret var redan skickat. Det du skickade är sparat en gång.";

/// Said when a form came with a token someone else has used.
const NOT_YOURS: &str = "Formuläret kunde inte sparas. Ladda om sidan och fyll i det igen.";

/// A fresh token for a form being shown.
pub fn new_token() -> String {
    session::new_token()
}

/// What identifies one submit of a form: its one-time token together with
/// what it holds (all fields but the CSRF token, which a new sign-in
/// changes). A double click or a retry sends the same and is answered as a
/// repeat; a form brought back with Back and changed is a new submit.
pub fn claim_key(body: &[u8]) -> Option<String> {
    let pairs: Vec<(String, String)> = form_urlencoded::parse(body)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let token = pairs.iter().find(|(key, _)| key == FIELD).map(|(_, value)| value.as_str())?;
    if !is_well_formed(token) {
        return None;
    }
    let mut digest = Sha256::new();
    for (key, value) in pairs.iter().filter(|(key, _)| key != "csrf_token") {
        digest.update(key.as_bytes());
        digest.update([0]);
        digest.update(value.as_bytes());
        digest.update([0]);
    }
    Some(URL_SAFE_NO_PAD.encode(digest.finalize()))
}
fn is_well_formed(token: &str) -> bool {
    (16..=64).contains(&token.len()) && token.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// Who sent a form and with what token.
pub struct Sent<'a> {
    pub token: Option<&'a str>,
    pub user: Option<UserId>,
    pub session: Option<&'a [u8; 32]>,
}

/// Where the first submit with this token led, if it kept work.
pub async fn answered(db: &PgPool, token: &str, user: UserId) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar!(
        "SELECT location FROM submissions WHERE token = $1 AND user_id = $2",
        token,
        user as _
    )
    .fetch_optional(db)
    .await
}

/// The answer to a form sent again: where the first submit led, saying so.
pub async fn again(db: &PgPool, session_hash: Option<&[u8; 32]>, location: &str) -> Response {
    if let Some(hash) = session_hash
        && let Err(err) = session::set_flash(db, hash, SENT_BEFORE).await
    {
        return AppError::from(err).into_response();
    }
    Redirect::to(location).into_response()
}

/// Keeps or lets go of the request's work and makes the answer: the flash
/// message and where the answer leads go into the work's transaction, and
/// its commit is the last thing that happens.
pub async fn finish(db: &PgPool, work: Work, response: Response, sent: Sent<'_>) -> Response {
    let (tx, flash, claim) = work.into_parts();
    let sent_before = response.extensions().get::<SentBefore>().is_some();
    let failed = response.extensions().get::<Failed>().is_some();
    if sent_before {
        // The first submit of this form kept its work (this one waited for it).
        return match (sent.token, sent.user) {
            (Some(token), Some(user)) => match answered(db, token, user).await {
                Ok(Some(first)) => again(db, sent.session, &first).await,
                // Another user's token: never answered with their record.
                Ok(None) => AppError::Conflict(NOT_YOURS).into_response(),
                Err(err) => AppError::from(err).into_response(),
            },
            _ => response,
        };
    }
    if failed {
        // The handler failed after a command: its work is rolled back (dropped).
        return response;
    }
    let Some(mut tx) = tx else {
        // Nothing was written; a message alone needs no transaction.
        if let (Some(message), Some(hash)) = (&flash, sent.session)
            && let Err(err) = session::set_flash(db, hash, message).await
        {
            return AppError::from(err).into_response();
        }
        return response;
    };
    let location = location_of(&response);
    let stored = async {
        if let (Some(message), Some(hash)) = (&flash, sent.session) {
            session::set_flash(&mut *tx, hash, message).await?;
        }
        if let Some(claim) = &claim {
            led_to(&mut tx, &claim.token, &location).await?;
        }
        Ok::<_, sqlx::Error>(())
    }
    .await;
    if let Err(err) = stored {
        return AppError::from(err).into_response();
    }
    match tx.commit().await {
        Ok(()) => response,
        Err(err) => {
            tracing::warn!(error = %err, "the connection failed while committing a request's work");
            let mut unconfirmed = unconfirmed_response();
            unconfirmed.extensions_mut().insert(Failed {
                retry: false,
                unavailable: false,
            });
            unconfirmed
        }
    }
}

/// Where the first submit of a form led, for its repeats.
async fn led_to(tx: &mut PgConnection, token: &str, location: &str) -> Result<(), sqlx::Error> {
    sqlx::query!("UPDATE submissions SET location = $2 WHERE token = $1", token, location)
        .execute(tx)
        .await?;
    Ok(())
}

/// Where the answer sends the user: its redirect, or the start page for an
/// answer that is a page of its own.
fn location_of(response: &Response) -> String {
    let redirect = matches!(response.status(), StatusCode::SEE_OTHER | StatusCode::FOUND);
    response
        .headers()
        .get(header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .filter(|l| redirect && l.starts_with('/') && !l.starts_with("//"))
        .unwrap_or("/")
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_submit_is_its_token_and_what_it_holds() {
        let token = new_token();
        let key = |body: String| claim_key(body.as_bytes());
        let first = key(format!("csrf_token=a&once={token}&note=Hej")).unwrap();
        assert_eq!(first.len(), 43);
        assert_eq!(
            key(format!("csrf_token=b&once={token}&note=Hej")),
            Some(first.clone()),
            "after a new sign-in"
        );
        assert_ne!(
            key(format!("csrf_token=a&once={token}&note=Hej+d%C3%A5")),
            Some(first.clone()),
            "changed"
        );
        assert_ne!(
            key(format!("csrf_token=a&once={}&note=Hej", new_token())),
            Some(first),
            "another showing"
        );
        assert_eq!(claim_key(b"once=short&note=Hej"), None);
        assert_eq!(claim_key(b"once=aaaaaaaaaaaaaaaaaaaa%27%3B--"), None);
        assert_eq!(claim_key(b"other=aaaaaaaaaaaaaaaaaaaa"), None);
    }

    #[test]
    fn an_answer_that_is_not_a_redirect_to_here_leads_to_the_start_page() {
        let redirect = Redirect::to("/participants/7#journal").into_response();
        assert_eq!(location_of(&redirect), "/participants/7#journal");
        assert_eq!(location_of(&Redirect::to("//evil.example").into_response()), "/");
        assert_eq!(location_of(&StatusCode::OK.into_response()), "/");
    }
}
