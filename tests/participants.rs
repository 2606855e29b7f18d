//! Participants: registration rules, unit scoping, concurrent edits, the
//! access log, and search at 10 000 people.

mod common;

use common::participants::{anna, count, register, registration};
use common::{Page, TestApp, location};
use lotsen::auth::Role;
use reqwest::StatusCode;
use sqlx::PgPool;

#[sqlx::test]
async fn a_participant_is_registered_with_the_number_stored_as_12_digits(db: PgPool) {
    let app = TestApp::spawn(db.clone()).await;
    let unit = common::create_unit(&db, "Lotsen Centrum").await;
    let (staff, _) = app.signed_in_at(Role::Staff, unit).await;
    let id = anna(&staff, unit).await;
    let (number, birth): (String, chrono::NaiveDate) = sqlx::query_as("SELECT identity_number, birth_date FROM participants WHERE id = $1")
        .bind(id)
        .fetch_one(&db)
        .await
        .unwrap();
    assert_eq!(number, "196408233234");
    assert_eq!(birth.to_string(), "1964-08-23");
    let page = staff.get_page(&format!("/participants/{id}")).await;
    assert_eq!(page.text("h1"), "Anna Berg");
    assert!(
        page.text("#details").contains("19640823-3234"),
        "the personakt shows the whole number"
    );
    // Lists show it masked.
    let list = staff.get_page("/participants").await;
    let row = list.text("tbody tr");
    assert!(row.contains("640823-XXXX") && !row.contains("3234"), "{row}");
    // The same number twice in one unit is refused.
    let again = register(&staff, unit, &[("first_name", "Annika")]).await;
    assert_eq!(again.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        Page::from(again).await.error("Nummer (ÅÅÅÅMMDD-NNNN eller ÅÅMMDD-NNNN)"),
        "Fel: Det finns redan en deltagare med det numret på enheten."
    );
}

#[sqlx::test]
async fn a_wrong_check_digit_or_a_person_under_18_is_refused(db: PgPool) {
    let app = TestApp::spawn(db.clone()).await;
    let unit = common::create_unit(&db, "Lotsen Centrum").await;
    let (staff, _) = app.signed_in_at(Role::Staff, unit).await;

    let response = register(&staff, unit, &[("identity_number", "640823-3235")]).await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        Page::from(response).await.error("Nummer (ÅÅÅÅMMDD-NNNN eller ÅÅMMDD-NNNN)"),
        "Fel: Kontrollsiffran stämmer inte. Kontrollera numret."
    );

    // The test clock says 2026-03-02: someone born 2008-03-03 is 17.
    let response = register(
        &staff,
        unit,
        &[("identity_kind", "none"), ("identity_number", ""), ("birth_date", "2008-03-03")],
    )
    .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = Page::from(response).await;
    assert_eq!(
        page.error("Födelsedatum (om personen saknar nummer eller har reservnummer)"),
        "Fel: Personen är under 18 år. Lotsen tar bara emot vuxna."
    );
    assert_eq!(
        page.value("Födelsedatum (om personen saknar nummer eller har reservnummer)"),
        "2008-03-03"
    );
    assert_eq!(count(&db, "SELECT count(*) FROM participants").await, 0);

    let response = register(
        &staff,
        unit,
        &[("identity_kind", "none"), ("identity_number", ""), ("birth_date", "2008-03-02")],
    )
    .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER, "18 today is an adult");
}

#[sqlx::test]
async fn not_resident_without_a_reason_is_refused_and_the_form_keeps_what_was_typed(db: PgPool) {
    let app = TestApp::spawn(db.clone()).await;
    let unit = common::create_unit(&db, "Lotsen Centrum").await;
    let (staff, _) = app.signed_in_at(Role::Staff, unit).await;
    let response = register(
        &staff,
        unit,
        &[("resident", "no"), ("phone", "070-111 22 33"), ("first_name", "Åsa")],
    )
    .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = Page::from(response).await;
    assert_eq!(
        page.error("Skäl till undantag (krävs om personen inte är folkbokförd i kommunen)"),
        "Fel: Skriv skälet till undantaget när personen inte är folkbokförd i kommunen."
    );
    // The message stands beside its field, which is marked invalid.
    assert!(page.is_invalid("Skäl till undantag (krävs om personen inte är folkbokförd i kommunen)"));
    assert_eq!(page.value("Förnamn"), "Åsa");
    assert_eq!(page.value("Telefon"), "070-111 22 33");
    assert_eq!(page.value("Nummer (ÅÅÅÅMMDD-NNNN eller ÅÅMMDD-NNNN)"), "640823-3234");
    assert_eq!(page.chosen_in("Folkbokförd i kommunen"), "Nej", "Nej is still chosen");
    assert_eq!(count(&db, "SELECT count(*) FROM participants").await, 0);
    // The database holds the rule too.
    let direct = sqlx::query(
        "INSERT INTO participants (unit_id, first_name, last_name, identity_kind, birth_date, gender, resident, referral_source, created_at, updated_at)
         VALUES ($1, 'A', 'B', 'none', '1990-01-01', 'woman', false, 'self', now(), now())",
    )
    .bind(unit)
    .execute(&db)
    .await;
    assert!(direct.is_err());
}

#[sqlx::test]
async fn staff_cannot_open_participants_of_other_units_and_the_attempt_is_logged(db: PgPool) {
    let app = TestApp::spawn(db.clone()).await;
    let centrum = common::create_unit(&db, "Lotsen Centrum").await;
    let ryd = common::create_unit(&db, "Lotsen Ryd").await;
    let (at_centrum, _) = app.signed_in_at(Role::Staff, centrum).await;
    let (at_ryd, ryd_user) = app.signed_in_at(Role::Staff, ryd).await;
    let id = anna(&at_centrum, centrum).await;

    for path in [
        format!("/participants/{id}"),
        format!("/participants/{id}/edit"),
        format!("/participants/{id}/print"),
    ] {
        let response = at_ryd.get(&path).await;
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "{path}");
    }
    let response = at_ryd
        .submit(
            "/",
            &format!("/participants/{id}/journal"),
            &[("note_event_on", "2026-03-01"), ("note_type", "event"), ("note_body", "x")],
        )
        .await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    // Every other form on the record is refused the same way, with well-formed input.
    let forms: [(&str, &[(&str, &str)]); 6] = [
        ("edit", &[("first_name", "X"), ("version", "1")]),
        ("status", &[("status", "dormant"), ("status_on", "2026-03-02")]),
        ("key-worker", &[("key_worker_from", "2026-03-02")]),
        ("home-support", &[("support_from", "2026-03-01"), ("has_support", "yes")]),
        ("relatives", &[("relative_kind", "relative"), ("relative_name", "X")]),
        ("consents", &[("consent_scope", "psychiatry"), ("consent_given", "2026-03-01")]),
    ];
    for (action, fields) in forms {
        let response = at_ryd.submit("/", &format!("/participants/{id}/{action}"), fields).await;
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "{action}");
    }
    let denied: i64 =
        sqlx::query_scalar("SELECT count(*) FROM access_log WHERE action = 'denied' AND user_id = $1 AND participant_id = $2")
            .bind(ryd_user)
            .bind(id)
            .fetch_one(&db)
            .await
            .unwrap();
    assert_eq!(denied, 10);
    assert_eq!(
        count(&db, "SELECT count(*) FROM participant_status_events").await,
        1,
        "nothing written"
    );
    assert_eq!(count(&db, "SELECT count(*) FROM journal_notes").await, 0);
    // Nor do they show up in the other unit's list or search.
    assert_eq!(at_ryd.get_page("/participants").await.count("tbody tr"), 0);
    let search = at_ryd
        .follow(at_ryd.submit("/participants", "/participants/search", &[("q", "Anna")]).await)
        .await;
    assert_eq!(search.count("tbody tr"), 0);
}

#[sqlx::test]
async fn a_save_from_a_stale_form_is_refused_with_what_changed(db: PgPool) {
    let app = TestApp::spawn(db.clone()).await;
    let unit = common::create_unit(&db, "Lotsen Centrum").await;
    let (first, _) = app.signed_in_at(Role::Staff, unit).await;
    let (second, _) = app.signed_in_at(Role::Staff, unit).await;
    let id = anna(&first, unit).await;
    let edit = format!("/participants/{id}/edit");

    // Both open the form at version 1.
    let first_form = first.get_page(&edit).await;
    let second_form = second.get_page(&edit).await;
    assert_eq!(first_form.attr("input[name=version]", "value").as_deref(), Some("1"));
    let fields = |page: &Page, phone: &str| -> Vec<(String, String)> {
        let mut f = registration(&unit.to_string(), &[])
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect::<Vec<_>>();
        f.push(("phone".into(), phone.into()));
        f.push(("version".into(), page.attr("input[name=version]", "value").unwrap()));
        f.push(("csrf_token".into(), page.csrf_token()));
        f
    };
    let post = |browser: &common::Browser, f: Vec<(String, String)>| {
        let body: Vec<(String, String)> = f;
        let client = browser.client.clone();
        let url = format!("{}{}", browser.base, edit);
        async move { client.post(url).form(&body).send().await.unwrap() }
    };
    let saved = post(&first, fields(&first_form, "070-111 11 11")).await;
    assert_eq!(saved.status(), StatusCode::SEE_OTHER);

    let refused = post(&second, fields(&second_form, "070-222 22 22")).await;
    assert_eq!(refused.status(), StatusCode::CONFLICT);
    let page = Page::from(refused).await;
    assert!(page.text(".conflict h2").contains("Någon annan har sparat"));
    let change = page.text(".conflict tbody tr");
    assert!(change.contains("Telefon") && change.contains("070-111 11 11"), "{change}");
    assert_eq!(page.value("Telefon"), "070-222 22 22", "what the second person typed is kept");
    assert_eq!(
        page.attr("input[name=version]", "value").as_deref(),
        Some("2"),
        "saving again is a deliberate overwrite"
    );
    let phone: String = sqlx::query_scalar("SELECT phone FROM participants WHERE id = $1")
        .bind(id)
        .fetch_one(&db)
        .await
        .unwrap();
    assert_eq!(phone, "070-111 11 11", "the first save stands");
    assert_eq!(count(&db, "SELECT count(*) FROM participant_versions").await, 2);
}

#[sqlx::test]
async fn views_searches_and_prints_are_logged_and_managers_see_who_opened(db: PgPool) {
    let app = TestApp::spawn(db.clone()).await;
    let unit = common::create_unit(&db, "Lotsen Centrum").await;
    let (staff, staff_id) = app.signed_in_at(Role::Staff, unit).await;
    let (manager, _) = app.signed_in_at(Role::Manager, unit).await;
    let id = anna(&staff, unit).await;
    let log = |action: &'static str| {
        let db = db.clone();
        async move {
            sqlx::query_scalar::<_, i64>("SELECT count(*) FROM access_log WHERE action = $1 AND user_id = $2 AND participant_id = $3")
                .bind(action)
                .bind(staff_id)
                .bind(id)
                .fetch_one(&db)
                .await
                .unwrap()
        }
    };
    staff.get_page(&format!("/participants/{id}")).await;
    assert_eq!(log("view").await, 1);
    let results = staff
        .follow(staff.submit("/participants", "/participants/search", &[("q", "anna be")]).await)
        .await;
    assert_eq!(results.count("tbody tr"), 1);
    assert_eq!(log("search").await, 1);
    let print = staff.get_page(&format!("/participants/{id}/print")).await;
    assert!(print.text("h1").contains("Anna Berg"));
    assert_eq!(log("print").await, 1);
    let (role, unit_logged): (String, i64) = sqlx::query_as("SELECT user_role, unit_id FROM access_log WHERE action = 'print'")
        .fetch_one(&db)
        .await
        .unwrap();
    assert_eq!((role.as_str(), unit_logged), ("staff", unit));

    // The manager sees it on the personakt and in the unit's access log; staff see neither.
    let personakt = manager.get_page(&format!("/participants/{id}")).await;
    let opened = personakt.texts("#access tbody tr");
    assert!(
        opened
            .iter()
            .any(|r| r.contains("Test Personal") && r.contains("Skrev ut personakten")),
        "{opened:?}"
    );
    assert_eq!(staff.get_page(&format!("/participants/{id}")).await.count("#access"), 0);
    assert_eq!(staff.get("/access-log").await.status(), StatusCode::FORBIDDEN);
    let user = staff_id.to_string();
    let by_manager = &manager;
    let filters = |from: &'static str, to: &'static str| {
        let user = user.clone();
        async move {
            let kept = by_manager
                .submit(
                    "/access-log",
                    "/access-log/search",
                    &[("user", &user), ("person", "640823-3234"), ("from", from), ("to", to)],
                )
                .await;
            assert!(!location(&kept).contains("640823"), "no number in the URL");
            by_manager.follow(kept).await
        }
    };
    let filtered = filters("2026-03-01", "2026-03-02").await;
    assert_eq!(
        filtered.count("tbody tr"),
        4,
        "two views, a search and a print: {:?}",
        filtered.texts("tbody tr")
    );
    let none = filters("2026-03-03", "").await;
    assert_eq!(none.count("tbody tr"), 0);
    // The personakt's link shows that person's reads.
    let linked = manager.get_page(&format!("/access-log?participant={id}")).await;
    assert!(linked.count("tbody tr") >= 5, "{:?}", linked.texts("tbody tr"));
}

#[sqlx::test]
async fn ending_and_coming_back_stay_on_one_record(db: PgPool) {
    let app = TestApp::spawn(db.clone()).await;
    let unit = common::create_unit(&db, "Lotsen Centrum").await;
    let (staff, staff_id) = app.signed_in_at(Role::Staff, unit).await;
    let id = anna(&staff, unit).await;
    let path = format!("/participants/{id}");
    staff
        .submit(
            &path,
            &format!("{path}/key-worker"),
            &[("key_worker_id", &staff_id.to_string()), ("key_worker_from", "2026-03-02")],
        )
        .await;
    assert_eq!(staff.get_page("/participants/mine").await.count("tbody tr"), 1);

    let refused = staff
        .submit(
            &path,
            &format!("{path}/status"),
            &[("status", "ended"), ("status_on", "2026-03-02")],
        )
        .await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        Page::from(refused).await.error("Avslutsorsak (vid avslut)"),
        "Fel: Välj avslutsorsak."
    );
    staff
        .submit(
            &path,
            &format!("{path}/status"),
            &[("status", "ended"), ("status_on", "2026-03-02"), ("end_reason", "moved_on")],
        )
        .await;
    let (status, reason): (String, Option<String>) = sqlx::query_as("SELECT status, end_reason FROM participants WHERE id = $1")
        .bind(id)
        .fetch_one(&db)
        .await
        .unwrap();
    assert_eq!((status.as_str(), reason.as_deref()), ("ended", Some("moved_on")));
    assert_eq!(
        staff.get_page("/participants/mine").await.count("tbody tr"),
        0,
        "no current kontaktman after the end"
    );

    staff
        .submit(
            &path,
            &format!("{path}/status"),
            &[("status", "active"), ("status_on", "2026-03-02"), ("status_note", "Kom tillbaka")],
        )
        .await;
    assert_eq!(
        count(&db, "SELECT count(*) FROM participants").await,
        1,
        "the return is on the same record"
    );
    let events: Vec<String> = sqlx::query_scalar("SELECT status FROM participant_status_events ORDER BY id")
        .fetch_all(&db)
        .await
        .unwrap();
    assert_eq!(events, vec!["active", "ended", "active"]);
    let (status, reason): (String, Option<String>) = sqlx::query_as("SELECT status, end_reason FROM participants WHERE id = $1")
        .bind(id)
        .fetch_one(&db)
        .await
        .unwrap();
    assert_eq!((status.as_str(), reason), ("active", None));
}

#[sqlx::test]
async fn home_support_is_a_dated_history_and_marks_the_priority_group(db: PgPool) {
    let app = TestApp::spawn(db.clone()).await;
    let unit = common::create_unit(&db, "Lotsen Centrum").await;
    let (staff, _) = app.signed_in_at(Role::Staff, unit).await;
    let id = anna(&staff, unit).await;
    let path = format!("/participants/{id}");
    let bad = staff
        .submit(
            &path,
            &format!("{path}/home-support"),
            &[("support_from", "2025-03-01"), ("has_support", "yes"), ("support_hours", "fyra")],
        )
        .await;
    assert_eq!(
        Page::from(bad).await.error("Timmar per vecka (t.ex. 4,5)"),
        "Fel: Skriv timmar per vecka som ett tal, t.ex. 4,5."
    );
    staff
        .submit(
            &path,
            &format!("{path}/home-support"),
            &[
                ("support_from", "2025-03-01"),
                ("has_support", "yes"),
                ("support_provider", "Boendestöd Öst"),
                ("support_hours", "8"),
            ],
        )
        .await;
    staff
        .submit(
            &path,
            &format!("{path}/home-support"),
            &[("support_from", "2026-02-01"), ("has_support", "yes"), ("support_hours", "4,5")],
        )
        .await;
    let hours: Vec<f64> = sqlx::query_scalar("SELECT hours_per_week::float8 FROM home_support_entries ORDER BY valid_from")
        .fetch_all(&db)
        .await
        .unwrap();
    assert_eq!(hours, vec![8.0, 4.5]);
    let listed = staff
        .follow(
            staff
                .submit("/participants", "/participants/search", &[("home_support", "yes")])
                .await,
        )
        .await;
    assert_eq!(listed.count("tbody tr"), 1);
    assert!(listed.text("tbody tr").contains("prioriterad"));
}

#[sqlx::test]
async fn search_finds_the_right_people_among_10_000(db: PgPool) {
    let app = TestApp::spawn(db.clone()).await;
    let unit = common::create_unit(&db, "Lotsen Centrum").await;
    let other = common::create_unit(&db, "Lotsen Ryd").await;
    let (staff, _) = app.signed_in_at(Role::Staff, unit).await;
    sqlx::query(
        "INSERT INTO participants (unit_id, first_name, last_name, identity_kind, birth_date, gender, resident, referral_source, created_at, updated_at)
         SELECT CASE WHEN g % 10 = 0 THEN $2 ELSE $1 END, 'Person' || g, 'Efternamn' || (g % 500), 'none', DATE '1980-01-01' + g, 'man', true, 'self', now(), now()
         FROM generate_series(1, 10000) AS g",
    )
    .bind(unit)
    .bind(other)
    .execute(&db)
    .await
    .unwrap();
    let id = anna(&staff, unit).await;

    let by_name = staff
        .follow(staff.submit("/participants", "/participants/search", &[("q", "anna berg")]).await)
        .await;
    assert_eq!(by_name.texts("tbody tr td:first-child"), vec!["Berg, Anna".to_string()]);
    for number in ["640823-3234", "196408233234", "19640823", "640823"] {
        let page = staff
            .follow(staff.submit("/participants", "/participants/search", &[("q", number)]).await)
            .await;
        assert_eq!(page.attr("tbody tr a", "href"), Some(format!("/participants/{id}")), "{number}");
    }
    // "Efternamn7" matches Efternamn7, Efternamn70–79 and Efternamn700… but only in this unit.
    let many = staff
        .follow(staff.submit("/participants", "/participants/search", &[("q", "efternamn7 ")]).await)
        .await;
    let expected: i64 = sqlx::query_scalar("SELECT count(*) FROM participants WHERE unit_id = $1 AND search_name LIKE '%efternamn7%'")
        .bind(unit)
        .fetch_one(&db)
        .await
        .unwrap();
    assert!(
        many.text(".result-count").starts_with(&format!("{expected} deltagare")),
        "{}",
        many.text(".result-count")
    );
    assert_eq!(many.count("tbody tr"), 25, "one page at a time");
    // The next page is a link: the search is kept, its URL holds no name.
    let next = many.attr(".pager a", "href").unwrap();
    assert!(next.starts_with("/participants?search=") && !next.contains("efternamn"), "{next}");
    let page_two = staff.get_page(&next).await;
    assert!(page_two.count("tbody tr") > 0);
    assert_ne!(page_two.texts("tbody tr"), many.texts("tbody tr"));
    // Words in any order.
    let reversed = staff
        .follow(staff.submit("/participants", "/participants/search", &[("q", "berg anna")]).await)
        .await;
    assert_eq!(reversed.texts("tbody tr td:first-child"), vec!["Berg, Anna".to_string()]);
}

#[sqlx::test]
async fn sub_records_of_another_participant_cannot_be_reached_through_this_one(db: PgPool) {
    let app = TestApp::spawn(db.clone()).await;
    let unit = common::create_unit(&db, "Lotsen Centrum").await;
    let (staff, _) = app.signed_in_at(Role::Staff, unit).await;
    let first = anna(&staff, unit).await;
    let second_response = register(&staff, unit, &[("identity_number", "800101-8129"), ("first_name", "Bo")]).await;
    let second: i64 = location(&second_response).trim_start_matches("/participants/").parse().unwrap();
    let p1 = format!("/participants/{first}");
    staff
        .submit(
            &p1,
            &format!("{p1}/consents"),
            &[("consent_scope", "psychiatry"), ("consent_given", "2026-03-01")],
        )
        .await;
    staff
        .submit(
            &p1,
            &format!("{p1}/journal"),
            &[("note_event_on", "2026-03-01"), ("note_type", "event"), ("note_body", "Anna.")],
        )
        .await;
    let consent: i64 = sqlx::query_scalar("SELECT id FROM consents").fetch_one(&db).await.unwrap();
    let note: i64 = sqlx::query_scalar("SELECT id FROM journal_notes").fetch_one(&db).await.unwrap();
    let p2 = format!("/participants/{second}");
    let withdraw = staff
        .submit(&p2, &format!("{p2}/consents/{consent}/withdraw"), &[("withdrawn_on", "2026-03-02")])
        .await;
    assert_eq!(withdraw.status(), StatusCode::NOT_FOUND);
    let correct = staff
        .submit(&p2, &format!("{p2}/journal/{note}/correct"), &[("body", "x"), ("reason", "y")])
        .await;
    assert_eq!(correct.status(), StatusCode::NOT_FOUND);
    assert_eq!(count(&db, "SELECT count(*) FROM consents WHERE withdrawn_on IS NOT NULL").await, 0);
    assert_eq!(count(&db, "SELECT count(*) FROM journal_notes").await, 1);
    // The schema refuses a correction pointing at another participant's note.
    let cross = sqlx::query(
        "INSERT INTO journal_notes (participant_id, event_on, note_type, body, author_id, author_name, author_title, created_at, corrects_id, correction_reason)
         SELECT $1, event_on, note_type, 'x', author_id, author_name, author_title, created_at, id, 'y' FROM journal_notes",
    )
    .bind(second)
    .execute(&db)
    .await;
    assert!(cross.is_err());
}

#[sqlx::test]
async fn the_edit_form_counts_as_a_view_and_the_access_log_is_append_only(db: PgPool) {
    let app = TestApp::spawn(db.clone()).await;
    let unit = common::create_unit(&db, "Lotsen Centrum").await;
    let (staff, _) = app.signed_in_at(Role::Staff, unit).await;
    let id = anna(&staff, unit).await;
    staff.get_page(&format!("/participants/{id}/edit")).await;
    assert_eq!(count(&db, "SELECT count(*) FROM access_log WHERE action = 'view'").await, 1);
    assert!(sqlx::query("UPDATE access_log SET action = 'search'").execute(&db).await.is_err());
    assert!(sqlx::query("DELETE FROM access_log").execute(&db).await.is_err());
}

#[sqlx::test]
async fn dates_and_periods_on_the_record_stay_consistent(db: PgPool) {
    let app = TestApp::spawn(db.clone()).await;
    let unit = common::create_unit(&db, "Lotsen Centrum").await;
    let (staff, staff_id) = app.signed_in_at(Role::Staff, unit).await;
    let (other, other_id) = app.signed_in_at(Role::Staff, unit).await;
    drop(other);
    let id = anna(&staff, unit).await;
    let path = format!("/participants/{id}");
    let future = staff
        .submit(
            &path,
            &format!("{path}/status"),
            &[("status", "dormant"), ("status_on", "2026-04-01")],
        )
        .await;
    assert_eq!(
        Page::from(future).await.error("Från och med"),
        "Fel: Datumet kan inte ligga i framtiden."
    );
    let same = staff
        .submit(
            &path,
            &format!("{path}/status"),
            &[("status", "active"), ("status_on", "2026-03-02")],
        )
        .await;
    assert_eq!(Page::from(same).await.error("Ny status"), "Fel: Deltagaren har redan den statusen.");

    let first = staff
        .submit(
            &path,
            &format!("{path}/key-worker"),
            &[("key_worker_id", &staff_id.to_string()), ("key_worker_from", "2026-02-01")],
        )
        .await;
    assert_eq!(first.status(), StatusCode::SEE_OTHER);
    let second = staff
        .submit(
            &path,
            &format!("{path}/key-worker"),
            &[("key_worker_id", &other_id.to_string()), ("key_worker_from", "2026-03-01")],
        )
        .await;
    assert_eq!(second.status(), StatusCode::SEE_OTHER);
    let periods: Vec<(i64, chrono::NaiveDate, Option<chrono::NaiveDate>)> =
        sqlx::query_as("SELECT user_id, from_on, to_on FROM key_worker_assignments ORDER BY from_on")
            .fetch_all(&db)
            .await
            .unwrap();
    assert_eq!(
        periods[0].2.map(|d| d.to_string()).as_deref(),
        Some("2026-02-28"),
        "the first period ends the day before"
    );
    assert_eq!(periods[1].0, other_id);
    // Back into a closed period: refused beside the field, not a 500.
    let overlapping = staff
        .submit(
            &path,
            &format!("{path}/key-worker"),
            &[("key_worker_id", &staff_id.to_string()), ("key_worker_from", "2026-02-15")],
        )
        .await;
    assert_eq!(overlapping.status(), StatusCode::UNPROCESSABLE_ENTITY);

    // Boendestöd ends: the priority flag follows the latest entry.
    staff
        .submit(
            &path,
            &format!("{path}/home-support"),
            &[("support_from", "2026-01-01"), ("has_support", "yes"), ("support_hours", "6")],
        )
        .await;
    assert_eq!(count(&db, "SELECT count(*) FROM participants WHERE has_home_support").await, 1);
    staff
        .submit(
            &path,
            &format!("{path}/home-support"),
            &[("support_from", "2026-03-01"), ("has_support", "no")],
        )
        .await;
    assert_eq!(count(&db, "SELECT count(*) FROM participants WHERE has_home_support").await, 0);
}

#[sqlx::test]
async fn a_reservnummer_is_found_by_search(db: PgPool) {
    let app = TestApp::spawn(db.clone()).await;
    let unit = common::create_unit(&db, "Lotsen Centrum").await;
    let (staff, _) = app.signed_in_at(Role::Staff, unit).await;
    let response = register(
        &staff,
        unit,
        &[
            ("identity_kind", "reservnummer"),
            ("identity_number", "RES-4711"),
            ("birth_date", "1990-01-01"),
        ],
    )
    .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let found = staff
        .follow(staff.submit("/participants", "/participants/search", &[("q", "RES-4711")]).await)
        .await;
    assert_eq!(found.count("tbody tr"), 1);
}

#[sqlx::test]
async fn the_plain_list_pages_through_everyone_without_counting(db: PgPool) {
    let app = TestApp::spawn(db.clone()).await;
    let unit = common::create_unit(&db, "Lotsen Centrum").await;
    let (staff, _) = app.signed_in_at(Role::Staff, unit).await;
    sqlx::query(
        "INSERT INTO participants (unit_id, first_name, last_name, identity_kind, birth_date, gender, resident, referral_source, created_at, updated_at)
         SELECT $1, 'Person', 'Namn' || lpad(g::text, 2, '0'), 'none', DATE '1980-01-01', 'woman', true, 'self', now(), now()
         FROM generate_series(1, 30) AS g",
    )
    .bind(unit)
    .execute(&db)
    .await
    .unwrap();
    let first = staff.get_page("/participants").await;
    assert_eq!(first.count("tbody tr"), 25);
    assert_eq!(first.text(".result-count"), "Sida 1.");
    assert_eq!(first.attr("nav.pager a", "href").as_deref(), Some("/participants?page=2"));
    let second = staff.get_page("/participants?page=2").await;
    assert_eq!(
        second.texts("tbody tr td:first-child").first().map(String::as_str),
        Some("Namn26, Person")
    );
    assert_eq!(second.count("tbody tr"), 5);
    assert_eq!(second.texts("nav.pager a"), vec!["Föregående sida".to_string()]);
    // A plain list is not a search: nothing is logged for it.
    assert_eq!(count(&db, "SELECT count(*) FROM access_log").await, 0);
}

#[sqlx::test]
async fn the_first_contact_is_a_real_date_or_said_to_be_unknown_and_the_first_visit_comes_from_the_desk(db: PgPool) {
    let app = TestApp::spawn(db.clone()).await;
    let unit = common::create_unit(&db, "Lotsen Centrum").await;
    let (staff, _) = app.signed_in_at(Role::Staff, unit).await;
    for (value, unknown, message) in [
        ("", "", "markera att det är okänt"),
        ("2030-01-01", "", "framtiden"),
        ("1900-01-01", "", "före födelsedagen"),
        ("2026-02-01", "yes", "inte båda"),
    ] {
        let refused = register(&staff, unit, &[("first_contact_on", value), ("first_contact_unknown", unknown)]).await;
        assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY, "{value:?} {unknown:?}");
        let page = Page::from(refused).await;
        assert!(
            page.error("Datum för första kontakt").contains(message),
            "{value:?}: {}",
            page.error("Datum för första kontakt")
        );
        assert_eq!(page.value("Efternamn"), "Berg", "what was typed is kept");
    }
    assert_eq!(count(&db, "SELECT count(*) FROM participants").await, 0);
    // Said to be unknown: stored empty, shown as unknown.
    let response = register(&staff, unit, &[("first_contact_on", ""), ("first_contact_unknown", "yes")]).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let id: i64 = location(&response).trim_start_matches("/participants/").parse().unwrap();
    let page = staff.get_page(&format!("/participants/{id}")).await;
    assert!(page.text("#details").contains("Första kontaktOkänt"), "{}", page.text("#details"));
    assert!(page.text("#details").contains("Första besök–"));
    // The first check-in is the first visit when none was typed.
    sqlx::query(
        "INSERT INTO visits (participant_id, unit_id, visit_on, checked_in_at, created_by)
         SELECT $1, $2, '2026-03-02', now(), min(id) FROM users",
    )
    .bind(id)
    .bind(unit)
    .execute(&db)
    .await
    .unwrap();
    let page = staff.get_page(&format!("/participants/{id}")).await;
    assert!(
        page.text("#details").contains("Första besök2026-03-02 (första incheckningen)"),
        "{}",
        page.text("#details")
    );
}
