//! One transaction per request that changes something.
//!
//! A POST runs inside `scope`. Its commands (`db::in_transaction`) do their
//! work in one transaction that stays open until the answer is made: the
//! flash message and the form's one-time token (`auth::submit`) are written
//! in it, and the commit is the last thing that happens before the answer
//! leaves. An error page can therefore only follow work that was rolled back,
//! and a success is only sent for work that is committed.
//!
//! Outside a request (the command line, background rounds, tests that call a
//! store directly) each command commits its own transaction as before.

use crate::error::AppError;
use crate::ids::UserId;
use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgPool, Postgres, Transaction};
use std::cell::RefCell;

tokio::task_local! {
    static WORK: RefCell<Work>;
}

/// A form's one-time token, claimed by the first command of its request in
/// that command's transaction (`auth::submit`).
pub struct Claim {
    pub token: String,
    pub user: UserId,
    pub at: DateTime<Utc>,
}

/// What a request's commands have done and what its answer must also store.
#[derive(Default)]
pub struct Work {
    tx: Option<Transaction<'static, Postgres>>,
    flash: Option<String>,
    claim: Option<Claim>,
    claimed: bool,
}

impl Work {
    /// The open transaction (when a command kept something), the flash
    /// message, and the token when the transaction holds its claim.
    pub fn into_parts(self) -> (Option<Transaction<'static, Postgres>>, Option<String>, Option<Claim>) {
        let claim = if self.claimed { self.claim } else { None };
        (self.tx, self.flash, claim)
    }
}

/// Runs `request` with a unit of work of its own, and hands back what it did.
pub async fn scope<F: Future>(claim: Option<Claim>, request: F) -> (F::Output, Work) {
    let work = Work { claim, ..Work::default() };
    WORK.scope(RefCell::new(work), async move {
        let output = request.await;
        let work = WORK.with(|work| std::mem::take(&mut *work.borrow_mut()));
        (output, work)
    })
    .await
}

/// The message shown once on the next page, stored with the request's work.
/// Returns false outside a request.
pub fn flash(message: &str) -> bool {
    WORK.try_with(|work| work.borrow_mut().flash = Some(message.to_string())).is_ok()
}

/// Where a command runs: in the request's transaction (opened by the first
/// command that keeps something), or in one of its own outside a request.
enum Place {
    Alone,
    /// The request's first command, with the token to claim (if any).
    First(Option<(String, UserId, DateTime<Utc>)>),
    Later(Transaction<'static, Postgres>),
}

fn place() -> Place {
    WORK.try_with(|work| {
        let mut work = work.borrow_mut();
        match work.tx.take() {
            Some(tx) => Place::Later(tx),
            None => Place::First(work.claim.as_ref().map(|c| (c.token.clone(), c.user, c.at))),
        }
    })
    .unwrap_or(Place::Alone)
}

/// Keeps the request's transaction open for the next command and the answer.
fn park(tx: Transaction<'static, Postgres>, claimed: bool) {
    // Only called after `place` found a request, so the scope is there.
    let _ = WORK.try_with(|work| {
        let mut work = work.borrow_mut();
        work.tx = Some(tx);
        work.claimed |= claimed;
    });
}

/// Claims the form's token before the first command does its work: a second
/// submit of the same form waits here for the first to end, and if the first
/// kept its work, does nothing and is answered where the first one led.
async fn claim(tx: &mut PgConnection, token: &str, user: UserId, at: DateTime<Utc>) -> Result<(), AppError> {
    let claimed = sqlx::query!(
        "INSERT INTO submissions (token, user_id, made_at, location) VALUES ($1, $2, $3, '/') ON CONFLICT (token) DO NOTHING",
        token,
        user as _,
        at
    )
    .execute(tx)
    .await?;
    if claimed.rows_affected() == 1 {
        Ok(())
    } else {
        Err(AppError::SentBefore)
    }
}

/// Runs a command in its place; `keeps` decides whether its work stays.
pub(crate) async fn run<T>(
    db: &PgPool,
    keeps: impl Fn(&T) -> bool,
    write: impl AsyncFnOnce(&mut PgConnection) -> Result<T, AppError>,
) -> Result<T, AppError> {
    match place() {
        Place::Alone => {
            let mut tx = db.begin().await?;
            let result = write(&mut tx).await?;
            if keeps(&result) {
                tx.commit().await?;
            }
            Ok(result)
        }
        Place::First(token) => {
            let mut tx = db.begin().await?;
            if let Some((token, user, at)) = &token {
                claim(&mut tx, token, *user, *at).await?;
            }
            let result = write(&mut tx).await?;
            if keeps(&result) {
                park(tx, token.is_some());
            }
            Ok(result)
        }
        Place::Later(mut tx) => {
            // A savepoint: a later command that is refused or fails takes
            // back only its own work.
            let outcome = async {
                let mut savepoint = sqlx::Acquire::begin(&mut tx).await?;
                let result = write(&mut savepoint).await?;
                if keeps(&result) {
                    savepoint.commit().await?;
                }
                Ok(result)
            }
            .await;
            park(tx, false);
            outcome
        }
    }
}
