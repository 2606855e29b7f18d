//! The daily e-mail digest: each kontaktman with open reminders gets one
//! e-mail a day with counts and a link to "Att göra" — never a name, number
//! or anything else about a person. Only sent when SMTP is configured
//! (`LOTSEN_SMTP_URL`); without it nothing is sent and nothing breaks.
//!
//! Exactly once across instances: a row in `reminder_digests` (user, day)
//! is claimed before the e-mail is sent; an instance that cannot claim it
//! skips that user. A failed send gives the claim back, so the next round
//! tries again.

use crate::config::Config;
use crate::ids::UserId;
use chrono::{DateTime, NaiveDate, Timelike, Utc};
use lettre::message::header::ContentType;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use sqlx::PgPool;

/// One kontaktman's counts for today.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Digest {
    pub user_id: UserId,
    pub email: String,
    pub open: i64,
    pub overdue: i64,
}

/// The subject and body: counts and a link, nothing about any person.
pub fn compose(digest: &Digest, public_url: &str) -> (String, String) {
    let subject = format!("Lotsen: {} påminnelser att se över", digest.open);
    let overdue = if digest.overdue > 0 {
        format!(", varav {} är försenade", digest.overdue)
    } else {
        String::new()
    };
    let body = format!(
        "Hej!\n\nDu har {} påminnelser i Lotsen om uppföljning, förnyelse eller tvåårsgräns för dina deltagare{overdue}.\n\n\
         Se dem under Att göra: {}/todo\n\n\
         Meddelandet innehåller inga namn eller personuppgifter; logga in i Lotsen för att se vem det gäller.\n",
        digest.open,
        public_url.trim_end_matches('/')
    );
    (subject, body)
}

/// Kontaktmän with open reminders who have not had today's digest.
pub async fn due(db: &PgPool, today: NaiveDate) -> Result<Vec<Digest>, sqlx::Error> {
    sqlx::query_as!(
        Digest,
        r#"SELECT u.id AS user_id, u.email, count(*) AS "open!", count(*) FILTER (WHERE r.due_on < $1) AS "overdue!"
           FROM reminders r
           JOIN key_worker_assignments k ON k.participant_id = r.participant_id AND k.to_on IS NULL
           JOIN users u ON u.id = k.user_id AND u.active
           WHERE r.cleared_at IS NULL
             AND NOT EXISTS (SELECT 1 FROM reminder_digests d WHERE d.user_id = u.id AND d.sent_on = $1)
           GROUP BY u.id, u.email
           ORDER BY u.id"#,
        today
    )
    .fetch_all(db)
    .await
}

/// Sends today's digests if SMTP is configured and the local hour has come.
/// Returns how many were sent.
pub async fn send_due(db: &PgPool, config: &Config, today: NaiveDate, now: DateTime<Utc>) -> anyhow::Result<usize> {
    let Some(url) = config.smtp_url.as_ref().map(|u| u.as_str()) else {
        return Ok(0);
    };
    let local_hour = now.with_timezone(&chrono_tz::Europe::Stockholm).hour();
    if local_hour < config.digest_hour {
        return Ok(0);
    }
    let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)?
        .timeout(Some(std::time::Duration::from_secs(20)))
        .build();
    let from = config.mail_from.parse()?;
    let mut sent = 0;
    for digest in due(db, today).await? {
        let claimed = sqlx::query_scalar!(
            "INSERT INTO reminder_digests (user_id, sent_on, sent_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING RETURNING user_id",
            digest.user_id as _,
            today,
            now
        )
        .fetch_optional(db)
        .await?;
        if claimed.is_none() {
            continue; // another instance has it
        }
        let (subject, body) = compose(&digest, &config.public_url);
        let result = match digest.email.parse() {
            Ok(to) => {
                let message = Message::builder()
                    .from(Clone::clone(&from))
                    .to(to)
                    .subject(subject)
                    .header(ContentType::TEXT_PLAIN)
                    .body(body)?;
                transport.send(message).await.map(|_| ()).map_err(anyhow::Error::from)
            }
            Err(err) => Err(anyhow::Error::from(err)),
        };
        match result {
            Ok(()) => sent += 1,
            Err(err) => {
                // Logged by user id only; the claim is given back for the next round.
                tracing::warn!(user_id = %digest.user_id, error = %err, "could not send the reminder digest");
                sqlx::query!(
                    "DELETE FROM reminder_digests WHERE user_id = $1 AND sent_on = $2",
                    digest.user_id as _,
                    today
                )
                .execute(db)
                .await?;
            }
        }
    }
    Ok(sent)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_digest_holds_counts_and_a_link_only() {
        let digest = Digest {
            user_id: UserId(7),
            email: "sami@lotsen.example".into(),
            open: 5,
            overdue: 2,
        };
        let (subject, body) = compose(&digest, "https://lotsen.example/");
        assert_eq!(subject, "Lotsen: 5 påminnelser att se över");
        assert!(body.contains("Du har 5 påminnelser"));
        assert!(body.contains("varav 2 är försenade"));
        assert!(body.contains("https://lotsen.example/todo"));
        let none_overdue = Digest { overdue: 0, ..digest };
        assert!(!compose(&none_overdue, "http://x").1.contains("försenade"));
    }
}
