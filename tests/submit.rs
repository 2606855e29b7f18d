//! One submit, one record (issue 17): every form that makes a record, sent
//! twice in a row and twice at the same moment, makes it once; the second
//! answer leads where the first did. And no failure that lies: with the
//! database cut just before the commit nothing is saved and the page says
//! so; cut just after it, the page says it cannot tell, and sending again
//! keeps one record.

mod common;

use common::routes::{demo, member_of_every_unit};
use common::{Browser, Page, TestApp, location};
use lotsen::auth::Role;
use reqwest::StatusCode;
use sqlx::PgPool;
use std::collections::HashMap;

/// What each field of the create forms gets, by name, unless the form
/// already holds something (a hidden id, a chosen option).
const TYPED: &[(&str, &str)] = &[
    ("first_name", "Ada"),
    ("last_name", "Dubblett"),
    ("identity_kind", "none"),
    ("birth_date", "1998-05-05"),
    ("gender", "woman"),
    ("resident", "yes"),
    ("has_coordinated_plan", "no"),
    ("first_contact_on", "2026-02-20"),
    ("note_event_on", "2026-03-01"),
    ("note_body", "Samtal om veckan."),
    ("body", "Rättad text."),
    ("reason", "Fel datum i texten."),
    ("relative_name", "Bo Dubblett"),
    ("relative_relation", "Bror"),
    ("consent_given", "2026-03-01"),
    ("consent_note", "Muntligt."),
    ("has_support", "yes"),
    ("support_from", "2026-03-02"),
    ("support_hours", "4"),
    ("support_provider", "Boendestödet"),
    ("goal_description", "Komma i tid."),
    ("activity_description", "Öva på bussen."),
    ("assessed_on", "2026-03-02"),
    ("assessment", "Klarar fyra timmar."),
    ("assessment_method", "Samtal"),
    ("name", "Dubbelklick AB"),
    ("title", "Promenad"),
    ("day", "2026-03-20"),
    ("from", "10:00"),
    ("to", "11:00"),
    ("place", "Parken"),
    ("email", "dubbel@lotsen.test"),
    ("password", "ett-långt-lösenord-för-test"),
    ("note", "Studiedag."),
    ("period_day", "2026-03-02"),
    ("period_from", "13:00"),
    ("period_to", "16:00"),
    ("period_note", "Våren."),
];

/// A form that makes a record: the page it is on, where it posts, fields
/// the generic values above do not cover, and how to count what it makes.
struct Case {
    page: String,
    action: String,
    fields: Vec<(&'static str, String)>,
    count: String,
    /// Changes for the second record, where the first one's values would be refused.
    next: Vec<(&'static str, String)>,
    /// Sent by an administrator (the others by a manager of every unit).
    admin: bool,
}

fn case(page: String, action: String, fields: &[(&'static str, &str)], count: String) -> Case {
    Case {
        page,
        action,
        fields: fields.iter().map(|(k, v)| (*k, v.to_string())).collect(),
        count,
        next: Vec::new(),
        admin: false,
    }
}

impl Case {
    fn admin(mut self) -> Case {
        self.admin = true;
        self
    }

    fn next(mut self, changes: &[(&'static str, &str)]) -> Case {
        self.next = changes.iter().map(|(k, v)| (*k, v.to_string())).collect();
        self
    }
}

fn cases(records: &HashMap<&'static str, i64>, unit: i64, attendees: (i64, i64), active: i64) -> Vec<Case> {
    let p = records["/participants/{id}"];
    let plan = records["/plans/{id}"];
    let note = records["{note_id}"];
    let activity = records["/activities/{id}"];
    let count = |table: &str, filter: String| format!("SELECT count(*) FROM {table} WHERE {filter}");
    vec![
        case(
            "/participants/new".into(),
            "/participants".into(),
            &[("unit_id", &unit.to_string()), ("identity_kind", "none"), ("identity_number", "")],
            count("participants", "last_name = 'Dubblett'".into()),
        ),
        case(
            format!("/participants/{p}"),
            format!("/participants/{p}/journal"),
            &[("partners", "")],
            count("journal_notes", format!("participant_id = {p}")),
        ),
        case(
            format!("/participants/{p}"),
            format!("/participants/{p}/journal/{note}/dispute"),
            &[],
            count("journal_notes", format!("disputes_id = {note}")),
        ),
        case(
            format!("/participants/{p}"),
            format!("/participants/{p}/relatives"),
            &[],
            count("relatives", format!("participant_id = {p}")),
        ),
        case(
            format!("/participants/{p}"),
            format!("/participants/{p}/consents"),
            &[("consent_partner", "")],
            count("consents", format!("participant_id = {p}")),
        ),
        case(
            format!("/participants/{p}"),
            format!("/participants/{p}/home-support"),
            &[],
            count("home_support_entries", format!("participant_id = {p}")),
        )
        .next(&[("support_from", "2026-03-01")]),
        case(
            format!("/plans/{plan}"),
            format!("/plans/{plan}/goals"),
            &[],
            count("plan_goals", format!("plan_id = {plan}")),
        ),
        case(
            format!("/plans/{plan}"),
            format!("/plans/{plan}/activities"),
            &[],
            count("plan_activities", format!("plan_id = {plan}")),
        ),
        case(
            format!("/plans/{plan}"),
            format!("/plans/{plan}/assessments"),
            &[],
            count("capacity_assessments", format!("plan_id = {plan}")),
        ),
        case(
            format!("/plans/{plan}/follow-ups/new"),
            format!("/plans/{plan}/follow-ups/new"),
            &[
                ("participant_took_part", "yes"),
                ("weekly_hours", "10"),
                ("notes", "Gick igenom målen."),
                ("held_on", "2026-03-01"),
            ],
            count("follow_ups", format!("plan_id = {plan}")),
        )
        .next(&[("held_on", "2026-03-02")]),
        case(
            format!("/activities?unit={unit}"),
            "/activities".into(),
            &[],
            count("group_activities", "title = 'Promenad'".into()),
        ),
        case(
            format!("/activities/{activity}"),
            format!("/activities/{activity}/attendance"),
            &[("participant_id", &attendees.0.to_string())],
            count("group_activity_attendance", format!("activity_id = {activity}")),
        )
        .next(&[("participant_id", &attendees.1.to_string())]),
        case(
            "/employers".into(),
            "/employers".into(),
            &[],
            count("employers", "name LIKE 'Dubbelklick%'".into()),
        )
        .next(&[("name", "Dubbelklick 2 AB")]),
        case(
            format!("/intakes?unit={unit}"),
            "/intakes".into(),
            &[("home_support", "no")],
            count("intakes", "last_name = 'Dubblett'".into()),
        ),
        case(
            format!("/outreach?unit={unit}"),
            "/outreach".into(),
            &[("person", "Dubblett, 30 år"), ("home_support", "yes")],
            count("outreach_contacts", "person = 'Dubblett, 30 år'".into()),
        ),
        case(
            format!("/outreach/meetings?unit={unit}"),
            "/outreach/meetings".into(),
            &[("topic", "Dubbel träff"), ("women", "3")],
            count("information_meetings", "topic = 'Dubbel träff'".into()),
        ),
        case(
            "/partners".into(),
            "/partners".into(),
            &[("name", "Dubbelklick partner")],
            count("partners", "name LIKE 'Dubbelklick partner%'".into()),
        )
        .next(&[("name", "Dubbelklick partner 2")]),
        case(
            format!("/calendar?unit={unit}"),
            "/calendar/young-adults".into(),
            &[],
            count("young_adult_periods", format!("unit_id = {unit}")),
        )
        .next(&[("period_day", "2026-03-03")]),
        case(
            format!("/participants/{active}/plans/new"),
            format!("/participants/{active}/plans"),
            &[
                ("programme", "first_step"),
                ("employer_id", ""),
                ("summary", "Vill prova att arbeta."),
                ("weekly_hours", "4"),
                ("start_on", "2026-03-02"),
            ],
            count("plans", format!("participant_id = {active}")),
        ),
        case(
            "/admin/users/new".into(),
            "/admin/users".into(),
            &[("role", "staff")],
            count("users", "email LIKE 'dubbel%'".into()),
        )
        .admin()
        .next(&[("email", "dubbel2@lotsen.test")]),
        case(
            "/admin/units".into(),
            "/admin/units".into(),
            &[("name", "Lotsen Dubbel")],
            count("units", "name LIKE 'Lotsen Dubbel%'".into()),
        )
        .admin()
        .next(&[("name", "Lotsen Dubbel 2")]),
        case(
            format!("/visits?unit={unit}"),
            "/visits/drop-in".into(),
            &[("gender", "man"), ("change", "1")],
            format!("SELECT coalesce(sum(visitors), 0)::bigint FROM drop_in_visits WHERE unit_id = {unit}"),
        ),
    ]
}

async fn number(db: &PgPool, sql: &str) -> i64 {
    sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(sql.to_string()))
        .fetch_one(db)
        .await
        .unwrap()
}

/// Every table's rows, hashed: equal before and after means nothing was
/// written (sessions aside, where the flash message lives).
async fn everything(db: &PgPool) -> Vec<(String, i64, i64)> {
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT table_name::text FROM information_schema.tables
         WHERE table_schema = 'public' AND table_type = 'BASE TABLE' AND table_name NOT IN ('sessions', '_sqlx_migrations')
         ORDER BY table_name",
    )
    .fetch_all(db)
    .await
    .unwrap();
    let mut out = Vec::new();
    for table in tables {
        let sql = format!("SELECT count(*), coalesce(sum(hashtext(t::text)), 0)::bigint FROM \"{table}\" t");
        let (rows, hash): (i64, i64) = sqlx::query_as(sqlx::AssertSqlSafe(sql)).fetch_one(db).await.unwrap();
        out.push((table, rows, hash));
    }
    out
}

/// The form as the page shows it, filled as a user would.
async fn filled(browser: &Browser, case: &Case, round: usize) -> Vec<(String, String)> {
    let page = browser.get_page(&case.page).await;
    let mut form = page.form_to(&case.action).first_choices();
    for (name, value) in TYPED {
        if form.has(name) && form.value_of(name).is_none_or(str::is_empty) {
            form = form.set(name, value);
        }
    }
    for (name, value) in &case.fields {
        form = form.set(name, value);
    }
    if round > 0 {
        for (name, value) in &case.next {
            form = form.set(name, value);
        }
    }
    if case.action == "/activities" {
        // The first leader on the list.
        let leader = page.attr("input[name=leaders]", "value").unwrap();
        form = form.set("leaders", &leader);
    }
    assert!(
        form.value_of("once").is_some(),
        "{}: the form carries a one-time token",
        case.action
    );
    form.fields().to_vec()
}

async fn post(browser: &Browser, action: &str, fields: &[(String, String)]) -> reqwest::Response {
    let borrowed: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    browser.post_raw(action, &borrowed).await
}

#[sqlx::test]
async fn every_create_form_sent_twice_makes_one_record(db: PgPool) {
    let (app, records) = demo(&db).await;
    let (manager, _) = member_of_every_unit(&app, Role::Manager).await;
    let (admin, _) = app.signed_in(Role::Admin).await;
    let unit = common::routes::scalar(&db, "SELECT min(id) FROM units").await;
    let attendee = |which: &str| {
        format!(
            "SELECT {which}(p.id) FROM participants p JOIN group_activities a ON a.unit_id = p.unit_id
             WHERE a.id = {} AND NOT EXISTS (SELECT FROM group_activity_attendance g WHERE g.activity_id = a.id AND g.participant_id = p.id)",
            records["/activities/{id}"]
        )
    };
    let attendees = (
        common::routes::scalar(&db, &attendee("min")).await,
        common::routes::scalar(&db, &attendee("max")).await,
    );
    let active = common::routes::scalar(&db, "SELECT min(id) FROM participants WHERE status = 'active'").await;
    for case in cases(&records, unit, attendees, active) {
        let user = if case.admin { &admin } else { &manager };
        // In a row: a double click, or Back and send again.
        let fields = filled(user, &case, 0).await;
        let before = number(&db, &case.count).await;
        let first = post(user, &case.action, &fields).await;
        assert_eq!(
            first.status(),
            StatusCode::SEE_OTHER,
            "{}: {}",
            case.action,
            Page::from(first).await.text("main")
        );
        assert_eq!(
            number(&db, &case.count).await,
            before + 1,
            "{}: the first submit makes the record",
            case.action
        );
        let written = everything(&db).await;
        let second = post(user, &case.action, &fields).await;
        assert_eq!(second.status(), StatusCode::SEE_OTHER, "{}", case.action);
        assert_eq!(
            location(&second),
            location(&first),
            "{}: the second answer leads where the first did",
            case.action
        );
        assert_eq!(everything(&db).await, written, "{}: the second submit writes nothing", case.action);
        let shown = user.follow(second).await;
        assert_eq!(shown.text(".flash"), lotsen::auth::submit::SENT_BEFORE, "{}", case.action);

        // At the same moment: one of the two makes the record.
        let fields = filled(user, &case, 1).await;
        let before = number(&db, &case.count).await;
        let (a, b) = tokio::join!(post(user, &case.action, &fields), post(user, &case.action, &fields));
        if a.status() != StatusCode::SEE_OTHER {
            panic!("{}: {} {}", case.action, a.status(), Page::from(a).await.text("main"));
        }
        assert_eq!(b.status(), StatusCode::SEE_OTHER, "{}", case.action);
        assert_eq!(location(&a), location(&b), "{}", case.action);
        assert_eq!(
            number(&db, &case.count).await,
            before + 1,
            "{}: two at once make one record",
            case.action
        );
    }
}

#[sqlx::test]
async fn a_token_is_the_senders_own(db: PgPool) {
    let (app, records) = demo(&db).await;
    let (anna, _) = member_of_every_unit(&app, Role::Manager).await;
    let (bo, _) = member_of_every_unit(&app, Role::Manager).await;
    let unit = common::routes::scalar(&db, "SELECT min(id) FROM units").await;
    let journal = cases(&records, unit, (0, 0), 0).into_iter().nth(1).unwrap();
    let fields = filled(&anna, &journal, 0).await;
    let before = number(&db, &journal.count).await;
    assert_eq!(post(&anna, &journal.action, &fields).await.status(), StatusCode::SEE_OTHER);
    // Bo sends a form with Anna's token (and his own CSRF token): he is not
    // answered about her note, and his is not kept twice-tokened.
    let mut his = filled(&bo, &journal, 0).await;
    let anna_once = fields.iter().find(|(k, _)| k == "once").unwrap().1.clone();
    his.iter_mut().find(|(k, _)| k == "once").unwrap().1 = anna_once;
    let answer = post(&bo, &journal.action, &his).await;
    assert_eq!(answer.status(), StatusCode::CONFLICT, "refused, not claimed as saved");
    assert_eq!(
        number(&db, &journal.count).await,
        before + 1,
        "the token was spent: Bo's copy keeps nothing"
    );
}

/// A relay that forwards the app's database traffic and, once armed, cuts
/// every connection at the next COMMIT: before it reaches the database
/// (nothing is saved) or after (saved, but the answer is lost).
mod cutting {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicU8, Ordering};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    pub const OPEN: u8 = 0;
    /// At the statement before the commit: the one-time token's insert.
    pub const BEFORE_COMMIT: u8 = 1;
    pub const AFTER_COMMIT: u8 = 2;
    const CUT: u8 = 3;

    pub struct Relay {
        pub port: u16,
        pub mode: Arc<AtomicU8>,
    }

    pub async fn start() -> Relay {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let mode = Arc::new(AtomicU8::new(OPEN));
        let shared = mode.clone();
        tokio::spawn(async move {
            loop {
                let Ok((inbound, _)) = listener.accept().await else { return };
                let mode = shared.clone();
                tokio::spawn(async move {
                    let Ok(outbound) = tokio::net::TcpStream::connect("127.0.0.1:5432").await else {
                        return;
                    };
                    let (mut from_app, mut to_app) = inbound.into_split();
                    let (mut from_db, mut to_db) = outbound.into_split();
                    let up = {
                        let mode = mode.clone();
                        async move {
                            let mut buf = vec![0u8; 64 * 1024];
                            loop {
                                let n = match from_app.read(&mut buf).await {
                                    Ok(0) | Err(_) => return,
                                    Ok(n) => n,
                                };
                                let chunk = &buf[..n];
                                let has = |text: &[u8]| chunk.windows(text.len()).any(|w| w == text);
                                let commit = has(b"COMMIT");
                                match mode.load(Ordering::SeqCst) {
                                    CUT => return,
                                    BEFORE_COMMIT if has(b"INSERT INTO submissions") => {
                                        mode.store(CUT, Ordering::SeqCst);
                                        return;
                                    }
                                    AFTER_COMMIT if commit => {
                                        // Nothing more reaches the app from here on.
                                        mode.store(CUT, Ordering::SeqCst);
                                        let _ = to_db.write_all(chunk).await;
                                        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
                                        return;
                                    }
                                    _ => {}
                                }
                                if to_db.write_all(chunk).await.is_err() {
                                    return;
                                }
                            }
                        }
                    };
                    let down = async move {
                        let mut buf = vec![0u8; 64 * 1024];
                        loop {
                            let n = match from_db.read(&mut buf).await {
                                Ok(0) | Err(_) => return,
                                Ok(n) => n,
                            };
                            if mode.load(Ordering::SeqCst) == CUT || to_app.write_all(&buf[..n]).await.is_err() {
                                return;
                            }
                        }
                    };
                    // Either side ending ends both: the app sees the connection drop.
                    tokio::select! {
                        _ = up => {}
                        _ = down => {}
                    }
                });
            }
        });
        Relay { port, mode }
    }
}

async fn through_relay(db: &PgPool) -> (TestApp, cutting::Relay) {
    let relay = cutting::start().await;
    // Every statement sent with its text, so the relay can see where it is.
    let options = (*db.connect_options()).clone().port(relay.port).statement_cache_capacity(0);
    let mut config = lotsen::config::Config::for_tests("postgres://unused");
    config.db_acquire_timeout = std::time::Duration::from_secs(2);
    let pool = lotsen::db::pool_with(&config, options);
    let app = TestApp::spawn_with(pool, |c| c.db_acquire_timeout = std::time::Duration::from_secs(2)).await;
    (app, relay)
}

async fn journal_of(app: &TestApp) -> (Browser, i64, Vec<(String, String)>) {
    let (staff, person, form) = common::participants::journal_note(app).await;
    (staff, person, form.fields().to_vec())
}

async fn notes(db: &PgPool, person: i64) -> i64 {
    number(db, &format!("SELECT count(*) FROM journal_notes WHERE participant_id = {person}")).await
}

async fn flash_of(db: &PgPool) -> Vec<Option<String>> {
    sqlx::query_scalar("SELECT flash FROM sessions").fetch_all(db).await.unwrap()
}

#[sqlx::test]
async fn cut_before_the_commit_nothing_is_saved_and_the_page_says_so(db: PgPool) {
    let (app, relay) = through_relay(&db).await;
    let (staff, person, fields) = journal_of(&app).await;
    let action = format!("/participants/{person}/journal");

    relay.mode.store(cutting::BEFORE_COMMIT, std::sync::atomic::Ordering::SeqCst);
    let answer = post(&staff, &action, &fields).await;
    assert_eq!(answer.status(), StatusCode::SERVICE_UNAVAILABLE);
    let page = Page::from(answer).await;
    assert_eq!(page.text("h1"), "Det du skickade är inte sparat");
    assert_eq!(notes(&db, person).await, 0, "the note was not saved");
    assert!(flash_of(&db).await.iter().all(Option::is_none), "nor its message");

    // The database is back: the same form, sent again, is saved once.
    relay.mode.store(cutting::OPEN, std::sync::atomic::Ordering::SeqCst);
    let again = post(&staff, &action, &fields).await;
    assert_eq!(again.status(), StatusCode::SEE_OTHER);
    assert_eq!(notes(&db, person).await, 1);
    assert_eq!(staff.follow(again).await.text(".flash"), "Anteckningen är sparad.");
}

#[sqlx::test]
async fn cut_after_the_commit_the_page_cannot_tell_and_sending_again_keeps_one(db: PgPool) {
    let (app, relay) = through_relay(&db).await;
    let (staff, person, fields) = journal_of(&app).await;
    let action = format!("/participants/{person}/journal");

    relay.mode.store(cutting::AFTER_COMMIT, std::sync::atomic::Ordering::SeqCst);
    let answer = post(&staff, &action, &fields).await;
    assert_eq!(answer.status(), StatusCode::SERVICE_UNAVAILABLE);
    let page = Page::from(answer).await;
    assert_eq!(page.text("h1"), "Det gick inte att bekräfta att det sparades");
    assert_eq!(notes(&db, person).await, 1, "the commit reached the database");

    relay.mode.store(cutting::OPEN, std::sync::atomic::Ordering::SeqCst);
    let again = post(&staff, &action, &fields).await;
    assert_eq!(again.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&again), format!("/participants/{person}#journal"));
    assert_eq!(notes(&db, person).await, 1, "sending again did not make a second note");
    assert_eq!(staff.follow(again).await.text(".flash"), lotsen::auth::submit::SENT_BEFORE);
}

#[sqlx::test]
async fn spent_tokens_are_swept_after_a_day(db: PgPool) {
    let app = TestApp::spawn(db.clone()).await;
    let (staff, person, form) = common::participants::journal_note(&app).await;
    assert_eq!(form.submit(&staff).await.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        number(&db, &format!("SELECT count(*) FROM journal_notes WHERE participant_id = {person}")).await,
        1
    );
    let tokens = || number(&db, "SELECT count(*) FROM submissions");
    let spent = tokens().await;
    assert!(spent >= 2, "the registration's and the note's");
    let state = lotsen::AppState::new(db.clone(), app.config.clone(), app.clock.clone());
    assert_eq!(lotsen::jobs::housekeeping(&state).await.unwrap().unwrap().tokens, 0);
    app.clock.advance(chrono::Duration::days(2));
    assert_eq!(lotsen::jobs::housekeeping(&state).await.unwrap().unwrap().tokens as i64, spent);
    assert_eq!(tokens().await, 0);
}
