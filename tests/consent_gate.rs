//! Samverkanspartner and the consent gate (issue 19, points 2 and 3): every
//! contact with an organisation about a person — in a follow-up, a samordnad
//! plan, a journal note of kind samverkan — needs a consent that covers that
//! organisation on that day, or a written urgent reason that the manager sees;
//! a withdrawn consent stops later contacts, not earlier ones; the database
//! refuses what the forms refuse. The samordnad plan comes before a plan is
//! activated and keeps its versions.

mod common;

use common::plans::*;
use common::{Browser, Page, Person, location};
use lotsen::auth::Role;
use reqwest::StatusCode;
use sqlx::PgPool;

/// Adds an organisation to the register as `browser`; its id.
async fn partner(browser: &Browser, kind: &str, name: &str) -> i64 {
    let response = browser.submit("/partners", "/partners", &[("kind", kind), ("name", name)]).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER, "{name}");
    location(&response).trim_start_matches("/partners/").parse().unwrap()
}

/// Registers a consent on the personakt, as its form does.
async fn consent(browser: &Browser, person: i64, scope: &str, partner: Option<i64>, given: &str) {
    let path = format!("/participants/{person}");
    let partner = partner.map(|p| p.to_string()).unwrap_or_default();
    let response = browser
        .submit(
            &path,
            &format!("{path}/consents"),
            &[("consent_scope", scope), ("consent_partner", &partner), ("consent_given", given)],
        )
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER, "consent {scope}");
}

/// A journal note of kind samverkan with `partner`, on `on`.
async fn cooperation_note(browser: &Browser, person: i64, partner: &str, on: &str, urgent: &str) -> reqwest::Response {
    let path = format!("/participants/{person}");
    browser
        .submit(
            &path,
            &format!("{path}/journal"),
            &[
                ("note_event_on", on),
                ("note_type", "cooperation"),
                ("partners", partner),
                ("urgent_reason", urgent),
                ("note_body", "Talade med handläggaren om planen."),
            ],
        )
        .await
}

async fn contacts(db: &PgPool, person: i64) -> Vec<(i64, String, Option<i64>, Option<String>)> {
    sqlx::query_as("SELECT partner_id, via, consent_id, urgent_reason FROM partner_contacts WHERE participant_id = $1 ORDER BY id")
        .bind(person)
        .fetch_all(db)
        .await
        .unwrap()
}

#[sqlx::test]
async fn a_follow_up_with_a_partner_needs_a_consent_that_covers_it_or_an_urgent_reason_the_manager_sees(db: PgPool) {
    let s = setup(&db).await;
    let fk = partner(&s.staff, "social_insurance", "Försäkringskassan Linköping").await;
    let af = partner(&s.staff, "employment_service", "Arbetsförmedlingen Linköping").await;
    let p = Person::at(s.unit).born("1990-01-01").key_worker(Some(s.staff_id)).insert(&db).await;
    consent(&s.staff, p, "social_insurance", None, "2026-01-10").await;
    consent(&s.staff, p, "employment_service", None, "2026-01-10").await;
    let plan = draft(&s.staff, p, "first_step", &[]).await;
    assert_eq!(activate(&s.staff, plan, "2026-03-02").await.status(), StatusCode::SEE_OTHER);
    // The joint plan made for the activation had no partners: no contacts yet.
    assert!(contacts(&db, p).await.is_empty());
    // The consent to Arbetsförmedlingen is withdrawn: the form marks it.
    let withdraw: i64 = sqlx::query_scalar("SELECT id FROM consents WHERE participant_id = $1 AND scope = 'employment_service'")
        .bind(p)
        .fetch_one(&db)
        .await
        .unwrap();
    let path = format!("/participants/{p}");
    s.staff
        .submit(
            &path,
            &format!("{path}/consents/{withdraw}/withdraw"),
            &[("withdrawn_on", "2026-03-01")],
        )
        .await;
    let form = s.staff.get_page(&format!("/plans/{plan}/follow-ups/new")).await;
    // Arbetsförmedlingen is listed first (by kind), Försäkringskassan after it.
    let first = form.text("label[for=f-partners]");
    assert!(
        first.contains("Arbetsförmedlingen Linköping") && first.contains("samtycke saknas"),
        "{first}"
    );
    assert!(
        !form.text(&format!("label[for=f-partners-{fk}]")).contains("samtycke saknas"),
        "FK is covered"
    );

    // Arbetsförmedlingen without consent and without a reason: refused beside the field, the text kept.
    let af_text = af.to_string();
    let refused = follow_up(
        &s.staff,
        plan,
        &[
            ("held_on", "2026-03-02"),
            ("partners", &af_text),
            ("notes", "Möte med AF om praktik"),
        ],
    )
    .await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = Page::from(refused).await;
    let message = page.error("Samverkansparter som deltog");
    assert!(message.contains("Arbetsförmedlingen Linköping"), "{message}");
    assert!(message.contains("2026-03-02"), "{message}");
    assert_eq!(page.text("#f-notes"), "Möte med AF om praktik");
    assert_eq!(page.count("#f-urgent_reason"), 1, "the urgent reason's field is offered");
    let held: i64 = sqlx::query_scalar("SELECT count(*) FROM follow_ups WHERE plan_id = $1")
        .bind(plan)
        .fetch_one(&db)
        .await
        .unwrap();
    assert_eq!(held, 0, "nothing was recorded");

    // With a written urgent reason it is recorded, and listed for the manager.
    let fk_text = fk.to_string();
    let recorded = follow_up(
        &s.staff,
        plan,
        &[
            ("held_on", "2026-03-02"),
            ("partners", &fk_text),
            ("partners", &af_text),
            ("urgent_reason", "Praktikplatsen måste bekräftas i dag; personen nåddes inte."),
            ("notes", "Möte med FK och AF"),
        ],
    )
    .await;
    assert_eq!(recorded.status(), StatusCode::SEE_OTHER);
    let made = contacts(&db, p).await;
    assert_eq!(made.len(), 2);
    let by_partner = |id: i64| made.iter().find(|c| c.0 == id).unwrap().clone();
    assert_eq!(by_partner(fk).1, "follow_up");
    assert!(by_partner(fk).2.is_some(), "FK stands on its consent");
    assert_eq!(by_partner(fk).3, None);
    assert_eq!(by_partner(af).2, None);
    assert_eq!(
        by_partner(af).3.as_deref(),
        Some("Praktikplatsen måste bekräftas i dag; personen nåddes inte.")
    );
    let shown = s.staff.get_page(&format!("/plans/{plan}")).await;
    assert!(shown.text("#follow-ups").contains("utan samtycke: Arbetsförmedlingen Linköping"));

    // Staff may not open the list; the unit's manager sees the exception and checks it.
    assert_eq!(s.staff.get("/partners/urgent").await.status(), StatusCode::FORBIDDEN);
    let (manager, _) = s.app.signed_in_at(Role::Manager, s.unit).await;
    let list = manager.get_page("/partners/urgent").await;
    assert!(list.text("main").contains("Praktikplatsen måste bekräftas i dag"));
    assert!(list.text("main").contains("1 väntar på granskning"));
    let todo = manager.get_page("/todo").await;
    assert!(todo.text("main").contains("Kontakter utan samtycke"), "on Att göra");
    let contact: i64 = sqlx::query_scalar("SELECT id FROM partner_contacts WHERE urgent_reason IS NOT NULL")
        .fetch_one(&db)
        .await
        .unwrap();
    let reviewed = manager
        .submit(
            "/partners/urgent",
            &format!("/partners/urgent/{contact}/review"),
            &[("note", "Rimligt.")],
        )
        .await;
    assert_eq!(reviewed.status(), StatusCode::SEE_OTHER);
    assert!(
        manager
            .get_page("/partners/urgent")
            .await
            .text("main")
            .contains("0 väntar på granskning")
    );
    // A manager of another unit cannot check it.
    let elsewhere = common::create_unit(&db, "Annan enhet").await;
    let (other, _) = s.app.signed_in_at(Role::Manager, elsewhere).await;
    assert!(!other.get_page("/partners/urgent").await.text("main").contains("Praktikplatsen"));
}

#[sqlx::test]
async fn a_consent_naming_one_organisation_covers_it_alone_and_a_withdrawal_stops_later_contacts_only(db: PgPool) {
    let s = setup(&db).await;
    let clinic = partner(&s.staff, "psychiatry", "Psykiatriska kliniken").await;
    let other_clinic = partner(&s.staff, "psychiatry", "Psykiatrin Norr").await;
    let p = Person::at(s.unit).born("1990-01-01").key_worker(Some(s.staff_id)).insert(&db).await;
    consent(&s.staff, p, "psychiatry", Some(clinic), "2026-01-10").await;
    // A consent cannot name an organisation of another kind.
    let fk = partner(&s.staff, "social_insurance", "Försäkringskassan").await;
    let path = format!("/participants/{p}");
    let wrong = s
        .staff
        .submit(
            &path,
            &format!("{path}/consents"),
            &[
                ("consent_scope", "psychiatry"),
                ("consent_partner", &fk.to_string()),
                ("consent_given", "2026-01-10"),
            ],
        )
        .await;
    assert_eq!(wrong.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        Page::from(wrong)
            .await
            .error("Gäller bara organisationen (valfritt)")
            .contains("Psykiatrin")
    );

    // The named clinic is covered; the other clinic is not.
    let clinic_text = clinic.to_string();
    assert_eq!(
        cooperation_note(&s.staff, p, &clinic_text, "2026-02-01", "").await.status(),
        StatusCode::SEE_OTHER
    );
    let refused = cooperation_note(&s.staff, p, &other_clinic.to_string(), "2026-02-01", "").await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = Page::from(refused).await;
    assert!(page.error("Samverkanspartner (för typen Samverkan)").contains("Psykiatrin Norr"));
    assert_eq!(page.text("#f-note_body"), "Talade med handläggaren om planen.");

    // Withdrawn from 1 March: a contact on 2 March is refused, one on 15 February is not.
    let id: i64 = sqlx::query_scalar("SELECT id FROM consents WHERE participant_id = $1")
        .bind(p)
        .fetch_one(&db)
        .await
        .unwrap();
    s.staff
        .submit(&path, &format!("{path}/consents/{id}/withdraw"), &[("withdrawn_on", "2026-03-01")])
        .await;
    assert_eq!(
        cooperation_note(&s.staff, p, &clinic_text, "2026-03-02", "").await.status(),
        StatusCode::UNPROCESSABLE_ENTITY
    );
    assert_eq!(
        cooperation_note(&s.staff, p, &clinic_text, "2026-02-15", "").await.status(),
        StatusCode::SEE_OTHER
    );
    // The contacts made before the withdrawal stay as they were, on the consent.
    let made = contacts(&db, p).await;
    assert_eq!(made.len(), 2);
    assert!(made.iter().all(|c| c.0 == clinic && c.1 == "journal" && c.2 == Some(id)));
}

#[sqlx::test]
async fn a_samverkan_note_names_its_partner_and_other_notes_name_none(db: PgPool) {
    let s = setup(&db).await;
    let fk = partner(&s.staff, "social_insurance", "Försäkringskassan").await;
    let p = Person::at(s.unit).born("1990-01-01").insert(&db).await;
    let without = cooperation_note(&s.staff, p, "", "2026-03-02", "").await;
    assert_eq!(without.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        Page::from(without)
            .await
            .error("Samverkanspartner (för typen Samverkan)")
            .contains("Välj samverkanspartnern")
    );
    let path = format!("/participants/{p}");
    let event = s
        .staff
        .submit(
            &path,
            &format!("{path}/journal"),
            &[
                ("note_event_on", "2026-03-02"),
                ("note_type", "event"),
                ("partners", &fk.to_string()),
                ("note_body", "Händelse."),
            ],
        )
        .await;
    assert_eq!(event.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let notes: i64 = sqlx::query_scalar("SELECT count(*) FROM journal_notes")
        .fetch_one(&db)
        .await
        .unwrap();
    assert_eq!(notes, 0);
}

#[sqlx::test]
async fn the_database_refuses_a_contact_no_consent_covers_and_keeps_contacts_as_written(db: PgPool) {
    let s = setup(&db).await;
    let fk = partner(&s.staff, "social_insurance", "Försäkringskassan").await;
    let af = partner(&s.staff, "employment_service", "Arbetsförmedlingen").await;
    let p = Person::at(s.unit).born("1990-01-01").insert(&db).await;
    consent(&s.staff, p, "social_insurance", None, "2026-02-01").await;
    let consent_id: i64 = sqlx::query_scalar("SELECT id FROM consents").fetch_one(&db).await.unwrap();
    let note: i64 = sqlx::query_scalar(
        "INSERT INTO journal_notes (participant_id, event_on, note_type, body, author_id, author_name, author_title, created_at)
         VALUES ($1, '2026-03-02', 'cooperation', 'x', $2, 'A', '', now()) RETURNING id",
    )
    .bind(p)
    .bind(s.staff_id)
    .fetch_one(&db)
    .await
    .unwrap();
    let insert = |partner: i64, on: &'static str| {
        let db = db.clone();
        async move {
            sqlx::query(
                "INSERT INTO partner_contacts (participant_id, partner_id, contact_on, via, journal_note_id, consent_id, recorded_by, recorded_at)
                 VALUES ($1, $2, $3::date, 'journal', $4, $5, $6, now())",
            )
            .bind(p)
            .bind(partner)
            .bind(on)
            .bind(note)
            .bind(consent_id)
            .bind(s.staff_id)
            .execute(&db)
            .await
        }
    };
    // Another organisation's kind, or a day before the consent: refused by the trigger.
    for (partner, on) in [(af, "2026-03-02"), (fk, "2026-01-15")] {
        let err = insert(partner, on).await.unwrap_err();
        assert_eq!(
            err.as_database_error().and_then(|e| e.code()).as_deref(),
            Some("23514"),
            "{partner} on {on}: {err}"
        );
    }
    insert(fk, "2026-03-02").await.unwrap();
    // Neither consent nor reason: the CHECK.
    let neither = sqlx::query(
        "INSERT INTO partner_contacts (participant_id, partner_id, contact_on, via, journal_note_id, recorded_by, recorded_at)
         VALUES ($1, $2, '2026-03-02', 'journal', $3, $4, now())",
    )
    .bind(p)
    .bind(af)
    .bind(note)
    .bind(s.staff_id)
    .execute(&db)
    .await;
    assert!(neither.is_err());
    // Written once: never changed or deleted.
    assert!(
        sqlx::query("UPDATE partner_contacts SET contact_on = contact_on - 1")
            .execute(&db)
            .await
            .is_err()
    );
    assert!(sqlx::query("DELETE FROM partner_contacts").execute(&db).await.is_err());
}

#[sqlx::test]
async fn the_samordnad_plan_comes_before_activation_keeps_its_versions_and_gates_its_partners(db: PgPool) {
    let s = setup(&db).await;
    let fk = partner(&s.staff, "social_insurance", "Försäkringskassan").await;
    let af = partner(&s.staff, "employment_service", "Arbetsförmedlingen").await;
    let p = Person::at(s.unit).born("1990-01-01").key_worker(Some(s.staff_id)).insert(&db).await;
    consent(&s.staff, p, "social_insurance", None, "2026-01-10").await;
    let plan = draft(&s.staff, p, "first_step", &[]).await;
    add_goal(&s.staff, plan).await;
    // No samordnad plan: the activation is refused and says what to do.
    let refused = s
        .staff
        .submit(
            &format!("/plans/{plan}"),
            &format!("/plans/{plan}/activate"),
            &[("set_on", "2026-03-02")],
        )
        .await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(Page::from(refused).await.text("main").contains("samordnade planen"));
    assert_eq!(status_of(&db, plan).await, "draft");

    let edit = format!("/participants/{p}/joint-plan/edit");
    let save = format!("/participants/{p}/joint-plan");
    let (fk_text, af_text) = (fk.to_string(), af.to_string());
    let fields = |version: &'static str, partner: &'static str| {
        vec![
            ("version", version),
            ("agreed_on", "2026-03-01"),
            ("participant_took_part", "yes"),
            ("aim", "Pröva arbete i lager."),
            ("next_review_on", "2026-06-01"),
            ("part_partner", partner),
            ("part_person", "Maria"),
            ("part_task", "Aktivitetsersättning under insatsen"),
        ]
    };
    // Arbetsförmedlingen has no consent: refused beside the partners, the text kept.
    let mut without = fields("0", "");
    without[5] = ("part_partner", af_text.as_str());
    let refused = s.staff.submit(&edit, &save, &without).await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = Page::from(refused).await;
    assert!(
        page.error("Samverkansparterna och vad var och en gör")
            .contains("Arbetsförmedlingen")
    );
    assert_eq!(page.text("#f-aim"), "Pröva arbete i lager.");
    // Försäkringskassan is covered: version 1.
    let mut with = fields("0", "");
    with[5] = ("part_partner", fk_text.as_str());
    assert_eq!(s.staff.submit(&edit, &save, &with).await.status(), StatusCode::SEE_OTHER);
    // A second save from the same opened form would overwrite it: refused, the text kept.
    let mut stale = with.clone();
    stale[4] = ("next_review_on", "2026-07-01");
    let conflict = s.staff.submit(&edit, &save, &stale).await;
    assert_eq!(conflict.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = Page::from(conflict).await;
    assert!(page.text("main").contains("Någon annan har sparat"));
    assert_eq!(page.attr("#f-next_review_on", "value").as_deref(), Some("2026-07-01"));
    // From version 1: version 2; both are kept and shown.
    let mut next = with.clone();
    next[0] = ("version", "1");
    next[3] = ("aim", "Pröva arbete i butik.");
    assert_eq!(s.staff.submit(&edit, &save, &next).await.status(), StatusCode::SEE_OTHER);
    let shown = s.staff.get_page(&save).await;
    assert!(shown.text("main").contains("Gällande version (2)"));
    assert!(shown.text("main").contains("Pröva arbete i lager."), "version 1 is kept");
    let contacts = contacts(&db, p).await;
    assert_eq!(contacts.len(), 2, "each version is a contact with its partners");
    assert!(contacts.iter().all(|c| c.0 == fk && c.1 == "joint_plan" && c.2.is_some()));

    // Agreed on 1 March: a plan set on 28 February is refused, on 2 March it starts.
    let early = s
        .staff
        .submit(
            &format!("/plans/{plan}"),
            &format!("/plans/{plan}/activate"),
            &[("set_on", "2026-02-28")],
        )
        .await;
    assert_eq!(early.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(activate(&s.staff, plan, "2026-03-02").await.status(), StatusCode::SEE_OTHER);
    assert_eq!(status_of(&db, plan).await, "active");
}
