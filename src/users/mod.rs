//! User accounts, administered by admins: create, edit role, job title and
//! units, deactivate, reset password.

pub mod account;
pub mod queries;
pub mod store;

use crate::auth::context::Layout;
use crate::auth::{CurrentUser, Role, password, throttle};
use crate::db::Refused;
use crate::error::{AppError, AppResult};
use crate::ids::{UnitId, UserId};
use crate::state::AppState;
use crate::web::form::{FieldErrors, FormData, email, required_text};
use crate::web::routes::Routes;
use crate::web::routes::{get, post};
use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
pub use queries::{UnitChoice, UserRow};
use serde::Deserialize;
use store::Account;

pub fn routes() -> Routes {
    Routes::new()
        .route("/admin/users", get(list).post(create))
        .route("/admin/users/new", get(new_form))
        .route("/admin/users/{id}", get(edit_form).post(update))
        .route("/admin/users/{id}/password", post(reset_password))
        .route("/admin/users/{id}/unlock", post(unlock))
        .route("/admin/users/{id}/two-factor/reset", post(reset_two_factor))
}

#[derive(Template)]
#[template(path = "users/list.html")]
struct ListPage {
    layout: Layout,
    users: Vec<UserRow>,
}

async fn list(State(state): State<AppState>, current: CurrentUser) -> AppResult<Response> {
    current.require(&[Role::Admin])?;
    let users = queries::list(&state.db).await?;
    Ok(Html(
        ListPage {
            layout: Layout::new(&current.ctx, "users"),
            users,
        }
        .render()?,
    )
    .into_response())
}

/// What the user typed, kept as typed so a refused form shows it again.
#[derive(Deserialize, Default)]
#[serde(default)]
pub struct UserForm {
    email: String,
    name: String,
    job_title: String,
    role: String,
    unit_ids: Vec<String>,
    password: String,
    active: Option<String>,
    /// The id at the identity provider (`sub`), when sign-in through it is set up.
    oidc_subject: String,
}

#[derive(Template)]
#[template(path = "users/form.html")]
struct FormPage {
    layout: Layout,
    /// None when creating a new user.
    user_id: Option<UserId>,
    /// The name as saved, for the heading (the form may hold an edit).
    stored_name: String,
    form: UserForm,
    units: Vec<UnitChoice>,
    roles: [Role; 3],
    errors: FieldErrors,
    password_errors: FieldErrors,
    /// Failed sign-ins that count against the account now, from any address.
    sign_in_failures: i64,
    /// The identity provider's name, when sign-in through it is set up.
    provider: Option<String>,
}

impl FormPage {
    fn new(state: &AppState, current: &CurrentUser, user_id: Option<UserId>, form: UserForm, units: Vec<UnitChoice>) -> Self {
        FormPage {
            layout: Layout::new(&current.ctx, "users"),
            user_id,
            stored_name: form.name.clone(),
            form,
            units,
            roles: Role::ALL,
            errors: FieldErrors::default(),
            password_errors: FieldErrors::default(),
            sign_in_failures: 0,
            provider: state.config.oidc.as_ref().map(|o| o.label.clone()),
        }
    }

    /// The form again, with what was typed (never a password) and the messages.
    fn refused(mut self) -> AppResult<Response> {
        self.form.password.clear();
        Ok((StatusCode::UNPROCESSABLE_ENTITY, Html(self.render()?)).into_response())
    }

    fn unit_checked(&self, id: &UnitId) -> bool {
        self.form.unit_ids.iter().any(|u| u == &id.to_string())
    }
}

impl From<queries::UserDetail> for UserForm {
    fn from(user: queries::UserDetail) -> Self {
        UserForm {
            email: user.email,
            name: user.name,
            job_title: user.job_title,
            role: user.role.code().into(),
            unit_ids: user.unit_ids.iter().map(UnitId::to_string).collect(),
            password: String::new(),
            active: user.active.then(|| "on".into()),
            oidc_subject: user.oidc_subject.unwrap_or_default(),
        }
    }
}

/// The form checked: an account ready to store, or the messages in `errors`.
fn validate(form: &UserForm, units: &[UnitChoice], errors: &mut FieldErrors) -> Option<Account> {
    let email = email(&form.email).map_err(|m| errors.add("email", m)).ok();
    let name = required_text(&form.name, "namn", 120).map_err(|m| errors.add("name", m)).ok();
    let job_title = form.job_title.trim().to_string();
    if job_title.chars().count() > 80 {
        errors.add("job_title", "Högst 80 tecken.");
    }
    let role = Role::parse(&form.role);
    if role.is_none() {
        errors.add("role", "Välj en roll.");
    }
    let mut unit_ids = Vec::new();
    for raw in &form.unit_ids {
        match raw.parse::<UnitId>().ok().filter(|id| units.iter().any(|u| u.id == *id)) {
            Some(id) => unit_ids.push(id),
            None => errors.add("unit_ids", "Välj bland enheterna i listan."),
        }
    }
    let oidc_subject = Some(form.oidc_subject.trim()).filter(|s| !s.is_empty());
    if oidc_subject.is_some_and(|s| s.len() > 255 || !s.bytes().all(|b| b.is_ascii_graphic())) {
        errors.add(
            "oidc_subject",
            "Id:t är högst 255 tecken, utan mellanslag och utan å, ä, ö. Kopiera det precis som inloggningstjänsten visar det.",
        );
    }
    if !errors.is_empty() {
        return None;
    }
    Some(Account {
        email: email?,
        name: name?,
        job_title,
        role: role?,
        unit_ids,
        active: form.active.is_some(),
        oidc_subject: oidc_subject.map(str::to_string),
    })
}

async fn new_form(State(state): State<AppState>, current: CurrentUser) -> AppResult<Response> {
    current.require(&[Role::Admin])?;
    let form = UserForm {
        role: Role::Staff.code().into(),
        active: Some("on".into()),
        ..UserForm::default()
    };
    let page = FormPage::new(&state, &current, None, form, queries::unit_choices(&state.db).await?);
    Ok(Html(page.render()?).into_response())
}

async fn create(State(state): State<AppState>, current: CurrentUser, FormData(form): FormData<UserForm>) -> AppResult<Response> {
    current.require(&[Role::Admin])?;
    let now = state.clock.now();
    let units = queries::unit_choices(&state.db).await?;
    let mut errors = FieldErrors::default();
    if let Err(message) = password::check_policy(&form.password, &[&form.email, &form.name]) {
        errors.add("password", message);
    }
    let valid = validate(&form, &units, &mut errors);
    let refuse = |form: UserForm, errors: FieldErrors| {
        FormPage {
            errors,
            ..FormPage::new(&state, &current, None, form, units.clone())
        }
        .refused()
    };
    let Some(valid) = valid.filter(|_| errors.is_empty()) else {
        return refuse(form, errors);
    };

    let hash = password::hash_blocking(form.password.clone()).await?;
    if let Err(Refused { field, message }) = store::create(&state.db, &valid, &hash, current.stamp(now)).await? {
        errors.add(field, message);
        return refuse(form, errors);
    }

    current.flash(&format!("Användaren {} är skapad.", valid.name));
    Ok(Redirect::to("/admin/users").into_response())
}

async fn edit_form(State(state): State<AppState>, current: CurrentUser, Path(id): Path<UserId>) -> AppResult<Response> {
    current.require(&[Role::Admin])?;
    let user = queries::find(&state.db, id).await?.ok_or(AppError::NotFound)?;
    let sign_in_failures = throttle::account_failures(&state.db, &user.email, state.clock.now()).await?;
    let page = FormPage {
        sign_in_failures,
        ..FormPage::new(&state, &current, Some(id), user.into(), queries::unit_choices(&state.db).await?)
    };
    Ok(Html(page.render()?).into_response())
}

/// Takes a user's second factor away (a lost phone): they sign in with the
/// password and, where their role needs one, add a new one first.
async fn reset_two_factor(State(state): State<AppState>, current: CurrentUser, Path(id): Path<UserId>) -> AppResult<Response> {
    current.require(&[Role::Admin])?;
    let user = queries::find(&state.db, id).await?.ok_or(AppError::NotFound)?;
    store::remove_second_factor(&state.db, id, current.stamp(state.clock.now())).await?;
    current.flash(&format!("Tvåstegsverifieringen för {} är borttagen.", user.name));
    Ok(Redirect::to(&format!("/admin/users/{id}")).into_response())
}

/// Lifts the sign-in lock of an account: its failures so far count no more.
async fn unlock(State(state): State<AppState>, current: CurrentUser, Path(id): Path<UserId>) -> AppResult<Response> {
    current.require(&[Role::Admin])?;
    let user = queries::find(&state.db, id).await?.ok_or(AppError::NotFound)?;
    store::unlock_sign_in(&state.db, id, current.stamp(state.clock.now())).await?;
    current.flash(&format!("Spärren är hävd: {} kan logga in igen.", user.name));
    Ok(Redirect::to(&format!("/admin/users/{id}")).into_response())
}

async fn update(
    State(state): State<AppState>,
    current: CurrentUser,
    Path(id): Path<UserId>,
    FormData(form): FormData<UserForm>,
) -> AppResult<Response> {
    current.require(&[Role::Admin])?;
    let now = state.clock.now();
    let stored = queries::find(&state.db, id).await?.ok_or(AppError::NotFound)?;
    let units = queries::unit_choices(&state.db).await?;
    let mut errors = FieldErrors::default();
    let valid = validate(&form, &units, &mut errors).map(|mut account| {
        // Without the identity provider the field is not on the form: the id stays.
        if state.config.oidc.is_none() {
            account.oidc_subject = stored.oidc_subject.clone();
        }
        account
    });
    // An admin cannot lock themselves out.
    if id == current.user.id {
        if form.active.is_none() {
            errors.add("active", "Du kan inte inaktivera ditt eget konto.");
        }
        if Role::parse(&form.role).is_some_and(|r| r != Role::Admin) {
            errors.add("role", "Du kan inte ta bort din egen administratörsroll.");
        }
    }
    let refuse = |form: UserForm, errors: FieldErrors| {
        FormPage {
            errors,
            stored_name: stored.name.clone(),
            ..FormPage::new(&state, &current, Some(id), form, units.clone())
        }
        .refused()
    };
    let Some(valid) = valid.filter(|_| errors.is_empty()) else {
        return refuse(form, errors);
    };

    if let Err(Refused { field, message }) = store::update(&state.db, id, &valid, current.stamp(now)).await? {
        errors.add(field, message);
        return refuse(form, errors);
    }

    current.flash(&format!("Ändringarna för {} är sparade.", valid.name));
    Ok(Redirect::to("/admin/users").into_response())
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct ResetForm {
    new_password: String,
}

async fn reset_password(
    State(state): State<AppState>,
    current: CurrentUser,
    Path(id): Path<UserId>,
    FormData(reset): FormData<ResetForm>,
) -> AppResult<Response> {
    current.require(&[Role::Admin])?;
    let now = state.clock.now();
    let user = queries::find(&state.db, id).await?.ok_or(AppError::NotFound)?;
    if let Err(message) = password::check_policy(&reset.new_password, &[&user.email, &user.name]) {
        let mut password_errors = FieldErrors::default();
        password_errors.add("new_password", message);
        let units = queries::unit_choices(&state.db).await?;
        return FormPage {
            password_errors,
            ..FormPage::new(&state, &current, Some(id), user.into(), units)
        }
        .refused();
    }
    let hash = password::hash_blocking(reset.new_password).await?;
    store::reset_password(&state.db, id, &hash, current.stamp(now)).await?;
    current.flash(&format!("Nytt lösenord är satt för {}.", user.name));
    Ok(Redirect::to(&format!("/admin/users/{id}")).into_response())
}
