//! Påminnelser: the background round raises what is due once, clears what
//! is answered, and the daily e-mail digest goes once a day with counts only.

mod common;

use common::Person;
use common::plans::*;
use lotsen::auth::Role;
use reqwest::StatusCode;
use sqlx::PgPool;

use lotsen::reminders::sweep;

async fn open_reminders(db: &PgPool) -> Vec<(i64, String, String)> {
    sqlx::query_as("SELECT plan_id, kind, due_on::text FROM reminders WHERE cleared_at IS NULL ORDER BY plan_id, kind")
        .fetch_all(db)
        .await
        .unwrap()
}

#[sqlx::test]
async fn the_sweep_flags_what_is_due_once_however_often_it_runs(db: PgPool) {
    let s = setup(&db).await;
    let p1 = Person::at(s.unit).born("1990-01-01").key_worker(Some(s.staff_id)).insert(&db).await;
    let p2 = young(&db, s.unit, s.staff_id).await;
    let fst = draft(&s.staff, p1, "first_step", &[]).await;
    let isa = draft(&s.staff, p2, "team_isa", &[]).await;
    activate(&s.staff, fst, "2026-03-02").await;
    activate(&s.staff, isa, "2026-03-02").await;
    let today = |clock: &lotsen::clock::ManualClock| lotsen::clock::Clock::today(clock);
    let now = |clock: &lotsen::clock::ManualClock| lotsen::clock::Clock::now(clock);
    // Team ISA due 2026-04-13: nothing on 2026-03-29 (15 days before), flagged on 2026-03-30 (14 days before).
    s.travel_to(2026, 3, 29).await;
    let report = sweep::run(&db, today(&s.app.clock), now(&s.app.clock)).await.unwrap().unwrap();
    assert_eq!(report.raised, 0);
    s.advance_days(1).await;
    for _ in 0..3 {
        sweep::run(&db, today(&s.app.clock), now(&s.app.clock)).await.unwrap().unwrap();
    }
    assert_eq!(open_reminders(&db).await, vec![(isa, "follow_up".into(), "2026-04-13".into())]);
    // Overdue: still one reminder per due date.
    s.travel_to(2026, 6, 10).await;
    sweep::run(&db, today(&s.app.clock), now(&s.app.clock)).await.unwrap().unwrap();
    sweep::run(&db, today(&s.app.clock), now(&s.app.clock)).await.unwrap().unwrap();
    assert_eq!(
        open_reminders(&db).await,
        vec![
            (fst, "follow_up".into(), "2026-06-02".into()),
            (isa, "follow_up".into(), "2026-04-13".into())
        ]
    );
    // The kontaktman sees them on "Att göra", the overdue marked.
    let todo = s.staff.get_page("/todo").await;
    assert_eq!(todo.count("#mine-h ~ .table-wrap tbody tr"), 2);
    assert!(todo.text("main").contains("Försenad 58 dagar"));
    // A manager sees the unit's.
    let (manager, _) = s.app.signed_in_at(Role::Manager, s.unit).await;
    let unit = manager.get_page("/todo").await;
    assert_eq!(unit.count("#unit-h ~ .table-wrap tbody tr"), 2);
    // Holding the follow-up clears its reminder.
    let held = follow_up(&s.staff, isa, &[("held_on", "2026-06-10")]).await;
    assert_eq!(held.status(), StatusCode::SEE_OTHER);
    assert_eq!(open_reminders(&db).await, vec![(fst, "follow_up".into(), "2026-06-02".into())]);
    // Renewal: a year after the plan was set; renewing clears it.
    s.travel_to(2027, 2, 20).await;
    sweep::run(&db, today(&s.app.clock), now(&s.app.clock)).await.unwrap().unwrap();
    assert!(open_reminders(&db).await.contains(&(fst, "renewal".into(), "2027-03-02".into())));
    let renewed = s
        .staff
        .submit(
            &format!("/plans/{fst}"),
            &format!("/plans/{fst}/renew"),
            &[
                ("renewed_on", "2027-02-20"),
                ("renewal_review", "Målen och timmarna; planen fortsätter."),
            ],
        )
        .await;
    assert_eq!(renewed.status(), StatusCode::SEE_OTHER);
    assert!(
        !open_reminders(&db)
            .await
            .iter()
            .any(|(plan, kind, _)| *plan == fst && kind == "renewal")
    );
    let due: chrono::NaiveDate = sqlx::query_scalar("SELECT renewal_due_on FROM plans WHERE id = $1")
        .bind(fst)
        .fetch_one(&db)
        .await
        .unwrap();
    assert_eq!(due.to_string(), "2028-02-20");
}

#[sqlx::test]
async fn two_instances_sweeping_at_once_raise_each_reminder_once(db: PgPool) {
    let s = setup(&db).await;
    let mut plans = Vec::new();
    for _ in 0..20 {
        let p = Person::at(s.unit).born("1990-01-01").key_worker(Some(s.staff_id)).insert(&db).await;
        plans.push(draft(&s.staff, p, "first_step", &[("weekly_hours", "4")]).await);
    }
    for plan in &plans {
        activate(&s.staff, *plan, "2026-03-02").await;
    }
    let today = chrono::NaiveDate::from_ymd_opt(2026, 6, 1).unwrap();
    let now = chrono::TimeZone::with_ymd_and_hms(&chrono::Utc, 2026, 6, 1, 8, 0, 0).unwrap();
    // Two instances: two pools against the same database.
    let other_pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(2)
        .connect_with((*db.connect_options()).clone())
        .await
        .unwrap();
    for _ in 0..10 {
        let (a, b) = tokio::join!(sweep::run(&db, today, now), sweep::run(&other_pool, today, now));
        let (a, b) = (a.unwrap(), b.unwrap());
        // Either one held the lock and the other skipped, or they ran one after the other.
        let raised = a.map_or(0, |r| r.raised) + b.map_or(0, |r| r.raised);
        assert!(raised == 20 || raised == 0, "raised {raised}");
    }
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM reminders").fetch_one(&db).await.unwrap();
    assert_eq!(count, 20);
    // While one instance holds the lock, the other skips its round.
    let mut tx = db.begin().await.unwrap();
    sqlx::query("SELECT pg_advisory_xact_lock(x'4c6f7473656e0002'::bigint)")
        .execute(&mut *tx)
        .await
        .unwrap();
    assert_eq!(sweep::run(&other_pool, today, now).await.unwrap(), None);
    tx.rollback().await.unwrap();
    // Ending a plan answers its reminders.
    let ended = s
        .staff
        .submit(
            &format!("/plans/{}", plans[0]),
            &format!("/plans/{}/end", plans[0]),
            &[("ended_on", "2026-03-02"), ("outcome", "studies")],
        )
        .await;
    assert_eq!(ended.status(), StatusCode::SEE_OTHER);
    let open: i64 = sqlx::query_scalar("SELECT count(*) FROM reminders WHERE cleared_at IS NULL")
        .fetch_one(&db)
        .await
        .unwrap();
    assert_eq!(open, 19);
}

#[sqlx::test]
async fn people_nearing_two_years_are_flagged(db: PgPool) {
    let s = setup(&db).await;
    let p = Person::at(s.unit).born("1990-01-01").key_worker(Some(s.staff_id)).insert(&db).await;
    let plan = draft(
        &s.staff,
        p,
        "first_step",
        &[("start_on", "2026-03-02"), ("planned_end_on", "2028-03-01")],
    )
    .await;
    activate(&s.staff, plan, "2026-03-02").await;
    let (warning, last): (chrono::NaiveDate, chrono::NaiveDate) =
        sqlx::query_as("SELECT limit_warning_on, limit_last_day FROM plans WHERE id = $1")
            .bind(plan)
            .fetch_one(&db)
            .await
            .unwrap();
    assert_eq!(last.to_string(), "2028-03-01");
    let day_before = warning.pred_opt().unwrap();
    let at = |d: chrono::NaiveDate| chrono::TimeZone::from_utc_datetime(&chrono::Utc, &d.and_hms_opt(8, 0, 0).unwrap());
    sweep::run(&db, day_before, at(day_before)).await.unwrap();
    assert!(!open_reminders(&db).await.iter().any(|(_, k, _)| k == "two_year_limit"));
    sweep::run(&db, warning, at(warning)).await.unwrap();
    assert!(
        open_reminders(&db)
            .await
            .contains(&(plan, "two_year_limit".into(), "2028-03-01".into()))
    );
}

/// A minimal SMTP server that accepts every message and keeps what it got.
async fn fake_smtp() -> (u16, std::sync::Arc<std::sync::Mutex<Vec<String>>>) {
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let messages = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let store = messages.clone();
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            let store = store.clone();
            tokio::spawn(async move {
                let (read, mut write) = socket.into_split();
                let mut lines = BufReader::new(read).lines();
                write.write_all(b"220 fake ESMTP\r\n").await.unwrap();
                let mut in_data = false;
                let mut message = String::new();
                while let Ok(Some(line)) = lines.next_line().await {
                    if in_data {
                        if line == "." {
                            in_data = false;
                            store.lock().unwrap().push(std::mem::take(&mut message));
                            write.write_all(b"250 queued\r\n").await.unwrap();
                        } else {
                            message.push_str(&line);
                            message.push('\n');
                        }
                        continue;
                    }
                    let verb = line.split_whitespace().next().unwrap_or("").to_uppercase();
                    let reply: &[u8] = match verb.as_str() {
                        "EHLO" | "HELO" => b"250 fake\r\n",
                        "DATA" => {
                            in_data = true;
                            b"354 go ahead\r\n"
                        }
                        "QUIT" => {
                            write.write_all(b"221 bye\r\n").await.unwrap();
                            break;
                        }
                        _ => b"250 OK\r\n",
                    };
                    write.write_all(reply).await.unwrap();
                }
            });
        }
    });
    (port, messages)
}

#[sqlx::test]
async fn the_daily_digest_has_counts_and_a_link_and_goes_once_a_day(db: PgPool) {
    use lotsen::reminders::{digest, sweep};
    let s = setup(&db).await;
    let p = Person::at(s.unit).born("1990-01-01").key_worker(Some(s.staff_id)).insert(&db).await;
    sqlx::query("UPDATE participants SET first_name = 'Hemliga', last_name = 'Namnet' WHERE id = $1")
        .bind(p)
        .execute(&db)
        .await
        .unwrap();
    let plan = draft(&s.staff, p, "first_step", &[]).await;
    activate(&s.staff, plan, "2026-03-02").await;
    let today = chrono::NaiveDate::from_ymd_opt(2026, 6, 10).unwrap();
    let at = |hour: u32| chrono::TimeZone::with_ymd_and_hms(&chrono::Utc, 2026, 6, 10, hour, 0, 0).unwrap();
    sweep::run(&db, today, at(4)).await.unwrap();

    // Without SMTP nothing is sent and nothing fails.
    let mut config = lotsen::config::Config::for_tests("postgres://unused");
    assert_eq!(digest::send_due(&db, &config, today, at(8)).await.unwrap(), 0);

    let (port, messages) = fake_smtp().await;
    config.smtp_url = Some(lotsen::config::SmtpUrl(format!("smtp://127.0.0.1:{port}")));
    config.public_url = "https://lotsen.example".into();
    // 06:00 in Stockholm (04:00 UTC in summer) is before the digest hour.
    assert_eq!(digest::send_due(&db, &config, today, at(4)).await.unwrap(), 0);
    // Two instances at once: one e-mail.
    let (a, b) = tokio::join!(
        digest::send_due(&db, &config, today, at(8)),
        digest::send_due(&db, &config, today, at(8))
    );
    assert_eq!(a.unwrap() + b.unwrap(), 1);
    assert_eq!(digest::send_due(&db, &config, today, at(9)).await.unwrap(), 0, "once a day");
    let sent = messages.lock().unwrap().clone();
    assert_eq!(sent.len(), 1);
    let text = &sent[0];
    assert!(text.contains("https://lotsen.example/todo"), "{text}");
    assert!(
        !text.contains("Hemliga") && !text.contains("Namnet") && !text.contains("1990"),
        "no personal data: {text}"
    );
    // The next day, another.
    let tomorrow = today.succ_opt().unwrap();
    let next = chrono::TimeZone::with_ymd_and_hms(&chrono::Utc, 2026, 6, 11, 8, 0, 0).unwrap();
    assert_eq!(digest::send_due(&db, &config, tomorrow, next).await.unwrap(), 1);
}

/// Escalation: a follow-up overdue by more than the unit's days (14 by
/// default) reaches the managers once, however many rounds and instances
/// run; Att göra shows both dates, and each manager's digest counts it once.
#[sqlx::test]
async fn an_overdue_follow_up_escalates_to_the_managers_once(db: PgPool) {
    use lotsen::reminders::digest;
    let s = setup(&db).await;
    let (_, manager_id) = s.app.signed_in_at(Role::Manager, s.unit).await;
    let p = Person::at(s.unit).born("1990-01-01").key_worker(Some(s.staff_id)).insert(&db).await;
    let plan = draft(&s.staff, p, "first_step", &[]).await;
    activate(&s.staff, plan, "2026-03-02").await;
    let round = |day: &str| {
        let db = db.clone();
        let day: chrono::NaiveDate = day.parse().unwrap();
        async move {
            let now = chrono::TimeZone::from_utc_datetime(&chrono::Utc, &day.and_hms_opt(5, 0, 0).unwrap());
            sweep::run(&db, day, now).await.unwrap()
        }
    };
    let escalated = || async {
        sqlx::query_scalar::<_, Option<chrono::NaiveDate>>("SELECT escalated_on FROM reminders WHERE plan_id = $1 AND kind = 'follow_up'")
            .bind(plan)
            .fetch_one(&db)
            .await
            .unwrap()
            .map(|d| d.to_string())
    };
    // Due 2 June (three months after it was set). Fourteen days overdue is not yet more than fourteen.
    round("2026-06-16").await;
    assert_eq!(escalated().await, None);
    // The 15th day: two instances at once, and again.
    let (a, b) = tokio::join!(round("2026-06-17"), round("2026-06-17"));
    let escalations: u64 = [a, b].iter().flatten().map(|r| r.escalated).sum();
    assert_eq!(escalations, 1);
    round("2026-06-17").await;
    round("2026-06-18").await;
    assert_eq!(escalated().await.as_deref(), Some("2026-06-17"), "marked once, with its day");

    // The manager's Att göra lists it with both dates; the kontaktman's says so too.
    s.travel_to(2026, 6, 18).await;
    let manager = s.app.sign_in_again(manager_id).await;
    let todo = manager.get_page("/todo").await;
    let rows = todo.texts("#escalated-h ~ .table-wrap tbody tr");
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert!(rows[0].contains("2026-06-02") && rows[0].contains("2026-06-17"), "{rows:?}");
    let mine = s.staff.get_page("/todo").await;
    assert!(mine.text("main").contains("eskalerad till chef 2026-06-17"));

    // The digest: the manager hears of it in one digest, not every day.
    let digests = |day: &str| {
        let db = db.clone();
        let day: chrono::NaiveDate = day.parse().unwrap();
        async move { digest::due(&db, day).await.unwrap() }
    };
    let first = digests("2026-06-17").await;
    let for_manager = first.iter().find(|d| d.user_id.get() == manager_id).expect("the manager's digest");
    assert_eq!((for_manager.open, for_manager.escalated), (0, 1));
    let for_staff = first.iter().find(|d| d.user_id.get() == s.staff_id).unwrap();
    assert_eq!((for_staff.open, for_staff.escalated), (1, 0), "staff are not told of escalations");
    sqlx::query("INSERT INTO reminder_digests (user_id, sent_on, sent_at) VALUES ($1, '2026-06-17', now())")
        .bind(manager_id)
        .execute(&db)
        .await
        .unwrap();
    let next = digests("2026-06-18").await;
    assert!(next.iter().all(|d| d.user_id.get() != manager_id), "told once: {next:?}");
}

/// The days before escalation are the unit's setting.
#[sqlx::test]
async fn escalation_follows_the_unit_s_setting(db: PgPool) {
    let s = setup(&db).await;
    let p = Person::at(s.unit).born("1990-01-01").key_worker(Some(s.staff_id)).insert(&db).await;
    let plan = draft(&s.staff, p, "first_step", &[]).await;
    activate(&s.staff, plan, "2026-03-02").await;
    let (admin, _) = s.app.signed_in_at(Role::Admin, s.unit).await;
    let path = format!("/admin/units/{}", s.unit);
    let settings = |days: &'static str| {
        let (admin, path) = (&admin, &path);
        async move {
            let fields = [
                ("name", "Lotsen Centrum"),
                ("active", "on"),
                ("first_step_hours", "105"),
                ("team_isa_places", "6"),
                ("escalation_days", days),
            ];
            admin.submit(path, path, &fields).await
        }
    };
    let refused = settings("0").await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = common::Page::from(refused).await;
    assert!(page.error("Eskalera efter antal dagar försenad").contains("mellan 1 och 365"));
    assert_eq!(page.value("Eskalera efter antal dagar försenad"), "0", "what was typed stays");
    assert_eq!(settings("30").await.status(), StatusCode::SEE_OTHER);
    let day: chrono::NaiveDate = "2026-07-02".parse().unwrap();
    sweep::run(&db, day, lotsen::clock::Clock::now(&*s.app.clock)).await.unwrap();
    let escalated: i64 = sqlx::query_scalar("SELECT count(*) FROM reminders WHERE escalated_on IS NOT NULL")
        .fetch_one(&db)
        .await
        .unwrap();
    assert_eq!(escalated, 0, "30 days overdue is not more than 30");
    sweep::run(&db, day.succ_opt().unwrap(), lotsen::clock::Clock::now(&*s.app.clock))
        .await
        .unwrap();
    let escalated: i64 = sqlx::query_scalar("SELECT count(*) FROM reminders WHERE escalated_on = '2026-07-03'")
        .fetch_one(&db)
        .await
        .unwrap();
    assert_eq!(escalated, 1);
}
