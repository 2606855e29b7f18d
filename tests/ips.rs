//! IPS-trohet (issue 19, point 7): the items the records answer for Team
//! ISA — caseload per specialist, days to the first employer contact,
//! employer contacts per week, competitive placements, support after
//! employment — computed from the records they name.

mod common;

use common::plans::*;
use lotsen::auth::Role;
use reqwest::StatusCode;
use sqlx::PgPool;

#[sqlx::test]
async fn the_ips_items_are_computed_from_the_records(db: PgPool) {
    let s = setup(&db).await;
    let employer = s.staff.submit("/employers", "/employers", &[("name", "Bageriet i Ryd")]).await;
    assert_eq!(employer.status(), StatusCode::SEE_OTHER);
    let employer: i64 = sqlx::query_scalar("SELECT id FROM employers").fetch_one(&db).await.unwrap();
    let person = young(&db, s.unit, s.staff_id).await;
    let plan = draft(&s.staff, person, "team_isa", &[]).await;
    assert_eq!(activate(&s.staff, plan, "2026-03-02").await.status(), StatusCode::SEE_OTHER);
    // Consent for employers, then a placement on the open labour market twelve days in.
    let path = format!("/participants/{person}");
    s.staff
        .submit(
            &path,
            &format!("{path}/consents"),
            &[
                ("consent_scope", "employer"),
                ("consent_partner", ""),
                ("consent_given", "2026-03-02"),
            ],
        )
        .await;
    s.travel_to(2026, 3, 14).await;
    let placed = s
        .staff
        .submit(
            &format!("{path}/placements"),
            &format!("{path}/placements"),
            &[
                ("employer_id", &employer.to_string()),
                ("plan_id", &plan.to_string()),
                ("tasks", "Baka"),
                ("competitive", "yes"),
                ("start_on", "2026-03-14"),
            ],
        )
        .await;
    assert_eq!(placed.status(), StatusCode::SEE_OTHER);
    // Twelve employer contacts over the period 2–15 March (two weeks): six a week.
    let unit = s.unit.to_string();
    let staff = s.staff_id.to_string();
    for day in 2..=13u32 {
        let on = format!("2026-03-{day:02}");
        s.staff
            .submit(
                "/employers/contacts",
                "/employers/contacts",
                &[
                    ("unit_id", &unit),
                    ("contact_on", &on),
                    ("staff_id", &staff),
                    ("employer_id", &employer.to_string()),
                    ("kind", "visit"),
                ],
            )
            .await;
    }
    let (manager, _) = s.app.signed_in_at(Role::Manager, s.unit).await;
    let page = manager.get_page(&format!("/ips?unit={unit}&from=2026-03-02&to=2026-03-15")).await;
    let rows = page.texts("section[aria-labelledby=items-h] tbody tr");
    let row = |name: &str| {
        rows.iter()
            .find(|r| r.starts_with(name))
            .unwrap_or_else(|| panic!("{name}: {rows:?}"))
            .clone()
    };
    assert!(
        row("Ärenden per arbetsspecialist").starts_with("Ärenden per arbetsspecialist 1 högst 20"),
        "{}",
        row("Ärenden")
    );
    assert!(row("Tid till första arbetsgivarkontakt").contains("100 % (1 av 1) inom 30 dagar Når nivån"));
    assert!(row("Tid till första arbetsgivarkontakt").contains("Median 12 dagar"));
    assert!(row("Arbetsgivarkontakter per arbetsspecialist och vecka").contains("6 minst 6 i veckan Når nivån"));
    assert!(row("Platser på den öppna arbetsmarknaden").contains("100 % (1 av 1)"));
    // Ended in employment without stöd vid arbete: the follow-along item is not met.
    s.staff
        .submit(
            &format!("/plans/{plan}"),
            &format!("/plans/{plan}/end"),
            &[("ended_on", "2026-03-14"), ("outcome", "employment")],
        )
        .await;
    let page = manager.get_page(&format!("/ips?unit={unit}&from=2026-03-02&to=2026-03-15")).await;
    let support = page
        .texts("section[aria-labelledby=items-h] tbody tr")
        .into_iter()
        .find(|r| r.starts_with("Stöd efter anställning"))
        .unwrap();
    assert!(support.contains("0 % (0 av 1) alla som fått arbete Når inte nivån"), "{support}");
}
