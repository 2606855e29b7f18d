//! Group activities: scheduling, changing without overwriting another
//! change, Yngre Lotsen 18–35, calling off, and attendance.

mod common;

use common::attendance::desk;
use common::{Browser, Page, Person, location};
use lotsen::auth::Role;
use reqwest::StatusCode;
use sqlx::PgPool;

async fn activity(browser: &Browser, unit: i64, kind: &str, day: &str) -> i64 {
    let response = browser
        .submit(
            &format!("/activities?unit={unit}"),
            "/activities",
            &[
                ("unit_id", &unit.to_string()),
                ("kind", kind),
                ("title", "Fika och spel"),
                ("day", day),
                ("from", "13:00"),
                ("to", "15:00"),
                ("place", "Caféet"),
                ("leaders", &leader_of(browser).await),
            ],
        )
        .await;
    assert_eq!(
        response.status(),
        StatusCode::SEE_OTHER,
        "{}",
        Page::from(response).await.html.html()
    );
    location(&response).trim_start_matches("/activities/").parse().unwrap()
}

/// Adds a participant to an activity's attendance from its page.
async fn attend(browser: &Browser, activity: i64, participant: i64) -> reqwest::Response {
    browser
        .submit(
            &format!("/activities/{activity}"),
            &format!("/activities/{activity}/attendance"),
            &[("participant_id", &participant.to_string())],
        )
        .await
}

/// The signed-in user's id, read from the leader checkbox they are offered first.
async fn leader_of(browser: &Browser) -> String {
    browser
        .get_page("/activities")
        .await
        .attr("input[name=leaders][checked]", "value")
        .unwrap()
}

#[sqlx::test]
async fn yngre_lotsen_activities_refuse_ages_17_and_36(db: PgPool) {
    let d = desk(&db).await;
    let id = activity(&d.staff, d.unit, "young_adults", "2026-03-02").await;
    let seventeen = Person::at(d.unit).named("Sjutton", "Ung").born("2008-03-03").insert(&db).await;
    let eighteen = Person::at(d.unit).named("Arton", "Ung").born("2008-03-02").insert(&db).await;
    let thirty_five = Person::at(d.unit).named("Trettiofem", "Vuxen").born("1990-03-03").insert(&db).await;
    let thirty_six = Person::at(d.unit).named("Trettiosex", "Vuxen").born("1990-03-02").insert(&db).await;
    let page = format!("/activities/{id}");
    let action = format!("/activities/{id}/attendance");
    for (who, allowed) in [(seventeen, false), (eighteen, true), (thirty_five, true), (thirty_six, false)] {
        let response = d.staff.submit(&page, &action, &[("participant_id", &who.to_string())]).await;
        if allowed {
            assert_eq!(response.status(), StatusCode::SEE_OTHER);
        } else {
            assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
            assert!(Page::from(response).await.error("Lägg till deltagare (namn)").contains("18–35"));
        }
    }
    let attending: Vec<i64> =
        sqlx::query_scalar("SELECT participant_id FROM group_activity_attendance WHERE activity_id = $1 ORDER BY participant_id")
            .bind(id)
            .fetch_all(&db)
            .await
            .unwrap();
    assert_eq!(attending, vec![eighteen, thirty_five]);
    // The database refuses it as well.
    let refused = sqlx::query("INSERT INTO group_activity_attendance (activity_id, participant_id, recorded_by, recorded_at) SELECT $1, $2, id, now() FROM users LIMIT 1")
        .bind(id)
        .bind(thirty_six)
        .execute(&db)
        .await;
    assert!(refused.unwrap_err().to_string().contains("18 to 35"));
    // Other activities take everyone; a name search lists the matches.
    let social = activity(&d.staff, d.unit, "social", "2026-03-02").await;
    let listed = d
        .staff
        .submit(
            &format!("/activities/{social}"),
            &format!("/activities/{social}/attendance"),
            &[("q", "tre")],
        )
        .await;
    assert_eq!(Page::from(listed).await.count("ul.hits li"), 2);
    let added = attend(&d.staff, social, thirty_six).await;
    assert_eq!(added.status(), StatusCode::SEE_OTHER);
}

fn changed<'a>(leader: &'a str, version: &'a str, replace: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    let mut fields = vec![
        ("kind", "social"),
        ("title", "Promenad"),
        ("day", "2026-03-03"),
        ("from", "10:00"),
        ("to", "11:30"),
        ("place", "Parken"),
        ("leaders", leader),
        ("version", version),
    ];
    for (name, value) in replace {
        fields.iter_mut().filter(|(n, _)| n == name).for_each(|f| f.1 = value);
    }
    fields
}

async fn audited(db: &PgPool, action: &str, id: i64) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM audit_log WHERE action = $1 AND record_type = 'group_activity' AND record_id = $2")
        .bind(action)
        .bind(id)
        .fetch_one(db)
        .await
        .unwrap()
}

#[sqlx::test]
async fn a_scheduled_activity_is_changed_without_overwriting_another_change(db: PgPool) {
    let d = desk(&db).await;
    let (colleague, _) = d.app.signed_in_at(Role::Staff, d.unit).await;
    let id = activity(&d.staff, d.unit, "social", "2026-03-02").await;
    let edit = format!("/activities/{id}/edit");
    let leader = leader_of(&d.staff).await;

    // The form opens with the activity as it is.
    let form = d.staff.get_page(&edit).await;
    assert_eq!(form.value("Rubrik"), "Fika och spel");
    assert_eq!(form.value("Från (TT:MM)"), "13:00");
    assert_eq!(form.attr("input[name=version]", "value").as_deref(), Some("1"));
    assert_eq!(form.attr("input[name=leaders][checked]", "value"), Some(leader.clone()));

    // A mistake is explained beside its field, and what was typed stays.
    let refused = d.staff.submit(&edit, &edit, &changed(&leader, "1", &[("to", "09:00")])).await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = Page::from(refused).await;
    assert!(page.error("Till (TT:MM)").contains("efter starttiden"));
    assert_eq!(page.value("Rubrik"), "Promenad");
    // 02:30 does not exist on the day summer time begins.
    let skipped = d
        .staff
        .submit(
            &edit,
            &edit,
            &changed(&leader, "1", &[("day", "2026-03-29"), ("from", "02:30"), ("to", "04:00")]),
        )
        .await;
    assert_eq!(skipped.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(Page::from(skipped).await.error("Från (TT:MM)").contains("finns inte"));

    let saved = d.staff.submit(&edit, &edit, &changed(&leader, "1", &[])).await;
    assert_eq!(saved.status(), StatusCode::SEE_OTHER);
    let row: (String, String, String, i32) = sqlx::query_as(
        "SELECT title, place, to_char(starts_at AT TIME ZONE 'Europe/Stockholm', 'YYYY-MM-DD HH24:MI'), version FROM group_activities WHERE id = $1",
    )
    .bind(id)
    .fetch_one(&db)
    .await
    .unwrap();
    assert_eq!(row, ("Promenad".into(), "Parken".into(), "2026-03-03 10:00".into(), 2));
    assert_eq!(audited(&db, "group_activity_changed", id).await, 1);

    // A colleague who opened the form before that change is told, keeps
    // what they typed, and overwrites nothing.
    let stale = colleague
        .submit(&edit, &edit, &changed(&leader, "1", &[("title", "Bowling")]))
        .await;
    assert_eq!(stale.status(), StatusCode::CONFLICT);
    let page = Page::from(stale).await;
    assert!(page.text(".conflict").contains("ändrade aktiviteten"), "{}", page.text(".conflict"));
    assert_eq!(page.value("Rubrik"), "Bowling");
    assert_eq!(
        page.attr("input[name=version]", "value").as_deref(),
        Some("2"),
        "saving again takes the new version"
    );
    let title: String = sqlx::query_scalar("SELECT title FROM group_activities WHERE id = $1")
        .bind(id)
        .fetch_one(&db)
        .await
        .unwrap();
    assert_eq!(title, "Promenad");

    // Leaders are replaced, not added to: only the colleague leads now.
    let colleague_id = leader_of(&colleague).await;
    let resaved = colleague.submit(&edit, &edit, &changed(&colleague_id, "2", &[])).await;
    assert_eq!(resaved.status(), StatusCode::SEE_OTHER);
    let leaders: Vec<String> = sqlx::query_scalar("SELECT user_id::text FROM group_activity_leaders WHERE activity_id = $1")
        .bind(id)
        .fetch_all(&db)
        .await
        .unwrap();
    assert_eq!(leaders, vec![colleague_id]);
}

#[sqlx::test]
async fn an_activity_with_older_attendees_does_not_become_yngre_lotsen(db: PgPool) {
    let d = desk(&db).await;
    let id = activity(&d.staff, d.unit, "social", "2026-03-02").await;
    let forty = Person::at(d.unit).named("Fyrtio", "Vuxen").born("1986-01-01").insert(&db).await;
    let added = attend(&d.staff, id, forty).await;
    assert_eq!(added.status(), StatusCode::SEE_OTHER);
    let edit = format!("/activities/{id}/edit");
    let leader = leader_of(&d.staff).await;
    let refused = d
        .staff
        .submit(&edit, &edit, &changed(&leader, "1", &[("kind", "young_adults")]))
        .await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(Page::from(refused).await.error("Typ").contains("Fyrtio Vuxen som deltog är 40 år"));
    // The database refuses it as well, for a new type or a new day.
    let kind = sqlx::query("UPDATE group_activities SET kind = 'young_adults' WHERE id = $1")
        .bind(id)
        .execute(&db)
        .await;
    assert!(kind.unwrap_err().to_string().contains("18 to 35"));
    let young = activity(&d.staff, d.unit, "young_adults", "2026-03-02").await;
    let born = Person::at(d.unit).named("Trettiofem", "Vuxen").born("1990-03-03").insert(&db).await;
    sqlx::query("INSERT INTO group_activity_attendance (activity_id, participant_id, recorded_by, recorded_at) SELECT $1, $2, min(id), now() FROM users")
        .bind(young)
        .bind(born)
        .execute(&db)
        .await
        .unwrap();
    let later = sqlx::query(
        "UPDATE group_activities SET starts_at = starts_at + interval '1 day', ends_at = ends_at + interval '1 day' WHERE id = $1",
    )
    .bind(young)
    .execute(&db)
    .await;
    assert!(later.unwrap_err().to_string().contains("18 to 35"), "36 on 3 March");
}

#[sqlx::test]
async fn a_called_off_activity_is_kept_with_its_attendance_and_takes_no_one_more(db: PgPool) {
    let d = desk(&db).await;
    let id = activity(&d.staff, d.unit, "social", "2026-03-02").await;
    let anna = Person::at(d.unit).named("Anna", "Berg").born("1990-01-01").insert(&db).await;
    let bo = Person::at(d.unit).named("Bo", "Ek").born("1990-01-01").insert(&db).await;
    let show = format!("/activities/{id}");
    let attendance = format!("/activities/{id}/attendance");
    attend(&d.staff, id, anna).await;

    // A call-off from a page that is out of date changes nothing.
    let edit = format!("/activities/{id}/edit");
    let leader = leader_of(&d.staff).await;
    d.staff.submit(&edit, &edit, &changed(&leader, "1", &[])).await;
    let stale = d
        .staff
        .submit(&show, &format!("/activities/{id}/cancel"), &[("version", "1"), ("reason", "Sjuk")])
        .await;
    assert_eq!(stale.status(), StatusCode::SEE_OTHER);
    assert!(d.staff.get_page(&show).await.html.html().contains("Aktiviteten är inte inställd"));
    assert_eq!(audited(&db, "group_activity_cancelled", id).await, 0);

    let cancelled = d
        .staff
        .submit(
            &show,
            &format!("/activities/{id}/cancel"),
            &[("version", "2"), ("reason", "Ledaren är sjuk")],
        )
        .await;
    assert_eq!(cancelled.status(), StatusCode::SEE_OTHER);
    let page = d.staff.get_page(&show).await;
    assert!(page.text(".notice").contains("Inställd"));
    assert!(page.text(".notice").contains("Ledaren är sjuk"));
    assert_eq!(page.count("form[action$='/attendance']"), 0, "no one can be added");
    assert_eq!(page.text(".card h2"), "Närvaro (1)", "the attendance it had is kept");
    assert_eq!(audited(&db, "group_activity_cancelled", id).await, 1);
    assert!(d.staff.get_page("/activities").await.text("table").contains("Inställd"));

    // Adding someone is refused politely, and by the database.
    let refused = d
        .staff
        .post_raw(
            &attendance,
            &[("csrf_token", &page.csrf_token()), ("participant_id", &bo.to_string())],
        )
        .await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(Page::from(refused).await.text(".error-summary").contains("Aktiviteten är inställd"));
    let direct = sqlx::query("INSERT INTO group_activity_attendance (activity_id, participant_id, recorded_by, recorded_at) SELECT $1, $2, min(id), now() FROM users")
        .bind(id)
        .bind(bo)
        .execute(&db)
        .await;
    assert!(direct.unwrap_err().to_string().contains("called off"));
    // A called-off activity is not changed afterwards.
    let late = d.staff.submit(&show, &edit, &changed(&leader, "3", &[])).await;
    assert_eq!(late.status(), StatusCode::SEE_OTHER);
    let title: String = sqlx::query_scalar("SELECT title FROM group_activities WHERE id = $1")
        .bind(id)
        .fetch_one(&db)
        .await
        .unwrap();
    assert_eq!(title, "Promenad");
}

#[sqlx::test]
async fn attendance_added_while_the_activity_is_called_off_is_refused(db: PgPool) {
    let d = desk(&db).await;
    let id = activity(&d.staff, d.unit, "social", "2026-03-02").await;
    let anna = Person::at(d.unit).named("Anna", "Berg").born("1990-01-01").insert(&db).await;
    // The call-off is under way (not committed) when the attendance arrives.
    let mut call_off = db.begin().await.unwrap();
    sqlx::query("UPDATE group_activities SET cancelled_at = now(), cancelled_by = created_by WHERE id = $1")
        .bind(id)
        .execute(&mut *call_off)
        .await
        .unwrap();
    let adding = tokio::spawn({
        let db = db.clone();
        async move {
            sqlx::query("INSERT INTO group_activity_attendance (activity_id, participant_id, recorded_by, recorded_at) SELECT $1, $2, min(id), now() FROM users")
                .bind(id)
                .bind(anna)
                .execute(&db)
                .await
        }
    });
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert!(!adding.is_finished(), "the attendance waits for the call-off");
    call_off.commit().await.unwrap();
    let added = adding.await.unwrap();
    assert!(added.unwrap_err().to_string().contains("called off"));
    let attending: i64 = sqlx::query_scalar("SELECT count(*) FROM group_activity_attendance WHERE activity_id = $1")
        .bind(id)
        .fetch_one(&db)
        .await
        .unwrap();
    assert_eq!(attending, 0);
}
