//! Administration of users and units, and who may reach it.

mod common;

use common::{PASSWORD, Page, TestApp, location};
use lotsen::auth::Role;
use reqwest::StatusCode;
use sqlx::PgPool;

#[sqlx::test]
async fn staff_and_managers_get_403_on_admin_pages(db: PgPool) {
    let app = TestApp::spawn(db.clone()).await;
    for role in [Role::Staff, Role::Manager] {
        let (browser, _) = app.signed_in(role).await;
        for path in ["/admin/users", "/admin/users/new", "/admin/units"] {
            let response = browser.get(path).await;
            assert_eq!(response.status(), StatusCode::FORBIDDEN, "{role:?} {path}");
            assert_eq!(Page::from(response).await.text("h1"), "Åtkomst nekad");
        }
        // A well-formed POST (valid CSRF token) is refused as well, and changes nothing.
        let response = browser.submit("/", "/admin/units", &[("name", "Ny enhet")]).await;
        assert_eq!(response.status(), StatusCode::FORBIDDEN);
        let response = browser
            .submit(
                "/",
                "/admin/users",
                &[
                    ("email", "x@lotsen.test"),
                    ("name", "X"),
                    ("role", "admin"),
                    ("password", "ett långt lösenord"),
                ],
            )
            .await;
        assert_eq!(response.status(), StatusCode::FORBIDDEN);
    }
    let units: i64 = sqlx::query_scalar("SELECT count(*) FROM units").fetch_one(&db).await.unwrap();
    let admins: i64 = sqlx::query_scalar("SELECT count(*) FROM users WHERE role = 'admin'")
        .fetch_one(&db)
        .await
        .unwrap();
    assert_eq!((units, admins), (0, 0));
}

#[sqlx::test]
async fn anonymous_visitors_are_sent_to_sign_in(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let response = app.browser().get("/admin/users").await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&response), "/login?next=%2Fadmin%2Fusers");
}

#[sqlx::test]
async fn the_navigation_follows_the_role(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let (admin, _) = app.signed_in(Role::Admin).await;
    let (staff, _) = app.signed_in(Role::Staff).await;
    let admin_nav = admin.get_page("/").await.texts("nav[aria-label=Huvudmeny] a");
    let staff_nav = staff.get_page("/").await.texts("nav[aria-label=Huvudmeny] a");
    assert!(admin_nav.contains(&"Användare".to_string()) && admin_nav.contains(&"Enheter".to_string()));
    assert!(!staff_nav.contains(&"Användare".to_string()) && !staff_nav.contains(&"Enheter".to_string()));
}

#[sqlx::test]
async fn an_admin_creates_a_unit_and_a_user_who_can_then_sign_in(db: PgPool) {
    let app = TestApp::spawn(db.clone()).await;
    let (admin, admin_id) = app.signed_in(Role::Admin).await;

    let response = admin.submit("/admin/units", "/admin/units", &[("name", "Lotsen Centrum")]).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let unit_id: i64 = sqlx::query_scalar("SELECT id FROM units WHERE name = 'Lotsen Centrum'")
        .fetch_one(&db)
        .await
        .unwrap();

    let unit = unit_id.to_string();
    let response = admin
        .submit(
            "/admin/users/new",
            "/admin/users",
            &[
                ("name", "Ines Arbetsterapeut"),
                ("email", "Ines@Lotsen.test"),
                ("job_title", "arbetsterapeut"),
                ("role", "staff"),
                ("unit_ids", unit.as_str()),
                ("password", "ett långt lösenord"),
                ("active", "on"),
            ],
        )
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&response), "/admin/users");
    let list = admin.get_page("/admin/users").await;
    assert!(list.text(".flash").contains("Ines Arbetsterapeut"));
    let row = list.texts("tbody tr").into_iter().find(|r| r.contains("Ines")).unwrap();
    assert!(
        row.contains("ines@lotsen.test") && row.contains("arbetsterapeut") && row.contains("Personal") && row.contains("Lotsen Centrum"),
        "{row}"
    );

    let audited: Vec<(String, Option<i64>)> =
        sqlx::query_as("SELECT action, actor_user_id FROM audit_log WHERE action LIKE '%_created' ORDER BY id")
            .fetch_all(&db)
            .await
            .unwrap();
    assert_eq!(
        audited,
        vec![
            ("unit_created".to_string(), Some(admin_id)),
            ("user_created".to_string(), Some(admin_id))
        ]
    );

    let ines = app.browser();
    assert_eq!(
        ines.login("ines@lotsen.test", "ett långt lösenord").await.status(),
        StatusCode::SEE_OTHER
    );
    // The admin chose the password: Ines chooses her own first.
    let changed = ines
        .get_page("/account/password")
        .await
        .form("Byt lösenord")
        .fill("Nuvarande lösenord", "ett långt lösenord")
        .fill("Nytt lösenord", "ines eget lösenord i vår")
        .fill("Upprepa det nya lösenordet", "ines eget lösenord i vår")
        .submit(&ines)
        .await;
    assert_eq!(location(&changed), "/");
    let home = ines.get_page("/").await;
    assert_eq!(home.texts("#units-heading + ul li"), vec!["Lotsen Centrum".to_string()]);
}

#[sqlx::test]
async fn a_refused_user_form_keeps_what_was_typed_and_says_what_is_wrong(db: PgPool) {
    let app = TestApp::spawn(db.clone()).await;
    let (admin, _) = app.signed_in(Role::Admin).await;
    common::create_user(&db, "taken@lotsen.test", Role::Staff, PASSWORD).await;

    let response = admin
        .get_page("/admin/users/new")
        .await
        .form("Skapa användare")
        .fill("Namn", "Bo Berg")
        .fill("E-postadress", "inte-en-adress")
        .fill("Titel", "stödassistent")
        .fill("Roll", "Personal")
        .fill("Första lösenord (12–128 tecken)", "kort")
        .submit(&admin)
        .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = Page::from(response).await;
    assert_eq!(page.error("E-postadress"), "Fel: Skriv e-postadressen som namn@exempel.se.");
    assert_eq!(
        page.error("Första lösenord (12–128 tecken)"),
        "Fel: Lösenordet måste ha minst 12 tecken."
    );
    assert_eq!(page.value("Namn"), "Bo Berg");
    assert_eq!(page.value("E-postadress"), "inte-en-adress");
    assert_eq!(page.value("Titel"), "stödassistent");
    assert_eq!(page.value("Första lösenord (12–128 tecken)"), "", "passwords are not sent back");
    assert_eq!(page.count(".error-summary li"), 2);

    let response = page
        .form("Skapa användare")
        .fill("E-postadress", "TAKEN@lotsen.test")
        .fill("Första lösenord (12–128 tecken)", "ett långt lösenord")
        .submit(&admin)
        .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        Page::from(response).await.error("E-postadress"),
        "Fel: Det finns redan en användare med den e-postadressen."
    );
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM users WHERE name = 'Bo Berg'")
        .fetch_one(&db)
        .await
        .unwrap();
    assert_eq!(count, 0);
}

#[sqlx::test]
async fn deactivating_a_user_ends_their_sessions(db: PgPool) {
    let app = TestApp::spawn(db.clone()).await;
    let (admin, _) = app.signed_in(Role::Admin).await;
    let (staff, staff_id) = app.signed_in(Role::Staff).await;
    assert_eq!(staff.get("/").await.status(), StatusCode::OK);

    let path = format!("/admin/users/{staff_id}");
    let response = admin
        .submit(
            &path,
            &path,
            &[("name", "Test Personal"), ("email", "bort@lotsen.test"), ("role", "staff")],
        )
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let sessions: i64 = sqlx::query_scalar("SELECT count(*) FROM sessions WHERE user_id = $1")
        .bind(staff_id)
        .fetch_one(&db)
        .await
        .unwrap();
    assert_eq!(sessions, 0, "the user's sessions are deleted");
    assert_eq!(staff.get("/").await.status(), StatusCode::SEE_OTHER, "signed out at once");
    let active: bool = sqlx::query_scalar("SELECT active FROM users WHERE id = $1")
        .bind(staff_id)
        .fetch_one(&db)
        .await
        .unwrap();
    assert!(!active);
}

#[sqlx::test]
async fn an_admin_cannot_lock_themselves_out(db: PgPool) {
    let app = TestApp::spawn(db.clone()).await;
    let (admin, admin_id) = app.signed_in(Role::Admin).await;
    let path = format!("/admin/users/{admin_id}");
    let response = admin
        .submit(
            &path,
            &path,
            &[("name", "Test Administratör"), ("email", "admin@lotsen.test"), ("role", "staff")],
        )
        .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = Page::from(response).await;
    assert_eq!(page.error("Roll"), "Fel: Du kan inte ta bort din egen administratörsroll.");
    assert_eq!(
        page.error("Kontot är aktivt (kan logga in)"),
        "Fel: Du kan inte inaktivera ditt eget konto."
    );
    let role: String = sqlx::query_scalar("SELECT role FROM users WHERE id = $1")
        .bind(admin_id)
        .fetch_one(&db)
        .await
        .unwrap();
    assert_eq!(role, "admin");
}

#[sqlx::test]
async fn an_admin_resets_a_password_and_the_old_one_stops_working(db: PgPool) {
    let app = TestApp::spawn(db.clone()).await;
    let (admin, _) = app.signed_in(Role::Admin).await;
    let staff_id = common::create_user(&db, "bo@lotsen.test", Role::Staff, PASSWORD).await;
    let bo = app.browser();
    bo.login("bo@lotsen.test", PASSWORD).await;

    let path = format!("/admin/users/{staff_id}");
    let short = admin.submit(&path, &format!("{path}/password"), &[("new_password", "kort")]).await;
    assert_eq!(short.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        Page::from(short).await.error("Nytt lösenord (12–128 tecken)"),
        "Fel: Lösenordet måste ha minst 12 tecken."
    );

    let done = admin
        .submit(&path, &format!("{path}/password"), &[("new_password", "ett helt nytt lösenord")])
        .await;
    assert_eq!(done.status(), StatusCode::SEE_OTHER);
    assert_eq!(bo.get("/").await.status(), StatusCode::SEE_OTHER, "Bo is signed out");
    assert_eq!(
        app.browser().login("bo@lotsen.test", PASSWORD).await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.browser().login("bo@lotsen.test", "ett helt nytt lösenord").await.status(),
        StatusCode::SEE_OTHER
    );
}

#[sqlx::test]
async fn unit_names_are_unique_regardless_of_case(db: PgPool) {
    let app = TestApp::spawn(db.clone()).await;
    let (admin, _) = app.signed_in(Role::Admin).await;
    admin.submit("/admin/units", "/admin/units", &[("name", "Lotsen Ryd")]).await;
    let response = admin.submit("/admin/units", "/admin/units", &[("name", "lotsen ryd")]).await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = Page::from(response).await;
    assert_eq!(page.error("Enhetens namn"), "Fel: Det finns redan en enhet med det namnet.");
    assert_eq!(page.value("Enhetens namn"), "lotsen ryd");
    let empty = admin.submit("/admin/units", "/admin/units", &[("name", "   ")]).await;
    assert_eq!(Page::from(empty).await.error("Enhetens namn"), "Fel: Fyll i enhetens namn.");
}

#[sqlx::test]
async fn demo_data_can_be_loaded_twice(db: PgPool) {
    let now = common::start_time();
    lotsen::demo::load(&db, now).await.unwrap();
    lotsen::demo::load(&db, now).await.unwrap();
    let users: i64 = sqlx::query_scalar("SELECT count(*) FROM users").fetch_one(&db).await.unwrap();
    let units: i64 = sqlx::query_scalar("SELECT count(*) FROM units").fetch_one(&db).await.unwrap();
    assert_eq!((users, units), (lotsen::demo::USERS.len() as i64, lotsen::demo::UNITS.len() as i64));
    let app = TestApp::spawn(db).await;
    assert_eq!(
        app.browser()
            .login("admin@lotsen.example", lotsen::demo::DEMO_PASSWORD)
            .await
            .status(),
        StatusCode::SEE_OTHER
    );
}
