//! The daily e-mail digest: each kontaktman with open reminders gets one
//! e-mail a day with counts and a link to "Att göra" — never a name, number
//! or anything else about a person. A unit's managers also hear, once, of
//! each follow-up or renewal that has escalated to them: a digest counts the
//! escalations since that manager's previous digest. Only sent when SMTP is configured
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
    /// Escalations in the units this user manages, new since their last digest.
    pub escalated: i64,
}

/// The subject and body: counts and a link, nothing about any person.
pub fn compose(digest: &Digest, public_url: &str) -> (String, String) {
    let subject = match (digest.open, digest.escalated) {
        (0, e) => format!("Lotsen: {e} eskalerade påminnelser"),
        (n, 0) => format!("Lotsen: {n} påminnelser att se över"),
        (n, e) => format!("Lotsen: {n} påminnelser att se över, {e} eskalerade"),
    };
    let mut body = String::from("Hej!\n\n");
    if digest.open > 0 {
        let overdue = if digest.overdue > 0 {
            format!(", varav {} är försenade", digest.overdue)
        } else {
            String::new()
        };
        body.push_str(&format!(
            "Du har {} påminnelser i Lotsen om uppföljning, förnyelse eller tvåårsgräns för dina deltagare{overdue}.\n\n",
            digest.open
        ));
    }
    if digest.escalated > 0 {
        body.push_str(&format!(
            "{} uppföljningar eller förnyelser på din enhet har nu varit försenade längre än enhetens gräns och har eskalerats till dig.\n\n",
            digest.escalated
        ));
    }
    body.push_str(&format!(
        "Se dem under Att göra: {}/todo\n\n\
         Meddelandet innehåller inga namn eller personuppgifter; logga in i Lotsen för att se vem det gäller.\n",
        public_url.trim_end_matches('/')
    ));
    (subject, body)
}

/// Kontaktmän with open reminders, and managers with escalations new since
/// their previous digest, who have not had today's digest.
pub async fn due(db: &PgPool, today: NaiveDate) -> Result<Vec<Digest>, sqlx::Error> {
    sqlx::query_as!(
        Digest,
        r#"WITH own AS (
               SELECT k.user_id, count(*) AS open, count(*) FILTER (WHERE r.due_on < $1) AS overdue
               FROM reminders r
               JOIN key_worker_assignments k ON k.participant_id = r.participant_id AND k.to_on IS NULL
               WHERE r.cleared_at IS NULL
               GROUP BY k.user_id),
           escalated AS (
               SELECT m.user_id, count(*) AS escalated
               FROM users mu
               JOIN unit_memberships m ON m.user_id = mu.id
               JOIN reminders r ON r.unit_id = m.unit_id AND r.cleared_at IS NULL AND r.escalated_on IS NOT NULL
               WHERE mu.role = 'manager' AND mu.active
                 AND r.escalated_on > coalesce(
                     (SELECT max(d.sent_on) FROM reminder_digests d WHERE d.user_id = mu.id AND d.sent_on < $1), '-infinity')
               GROUP BY m.user_id)
           SELECT u.id AS user_id, u.email, coalesce(own.open, 0) AS "open!", coalesce(own.overdue, 0) AS "overdue!",
                  coalesce(e.escalated, 0) AS "escalated!"
           FROM users u
           LEFT JOIN own ON own.user_id = u.id
           LEFT JOIN escalated e ON e.user_id = u.id
           WHERE u.active AND (own.user_id IS NOT NULL OR e.user_id IS NOT NULL)
             AND NOT EXISTS (SELECT 1 FROM reminder_digests d WHERE d.user_id = u.id AND d.sent_on = $1)
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
            escalated: 0,
        };
        let (subject, body) = compose(&digest, "https://lotsen.example/");
        assert_eq!(subject, "Lotsen: 5 påminnelser att se över");
        assert!(body.contains("Du har 5 påminnelser"));
        assert!(body.contains("varav 2 är försenade"));
        assert!(body.contains("https://lotsen.example/todo"));
        let none_overdue = Digest {
            overdue: 0,
            ..digest.clone()
        };
        assert!(!compose(&none_overdue, "http://x").1.contains("försenade"));
        // A manager with escalations only.
        let manager = Digest {
            open: 0,
            overdue: 0,
            escalated: 3,
            ..digest
        };
        let (subject, body) = compose(&manager, "http://x");
        assert_eq!(subject, "Lotsen: 3 eskalerade påminnelser");
        assert!(body.contains("3 uppföljningar eller förnyelser på din enhet"));
        assert!(!body.contains("Du har"));
    }
}
