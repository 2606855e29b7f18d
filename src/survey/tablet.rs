//! The survey on the centre's shared tablet: no sign-in, a one-time code
//! from the staff, then the questions; the code is voided with the answer
//! (`store::answer_with_code`). Nothing is asked or kept that names the one
//! who answers, and the code travels in the form, never in the address.

use super::store::{self, CODE_NOT_VALID};
use super::{AnswerForm, Questions};
use crate::auth::context::{Layout, RequestContext};
use crate::db::Refused;
use crate::error::AppResult;
use crate::state::AppState;
use crate::web::form::{FieldErrors, FormData};
use crate::web::routes::{Routes, get, post};
use askama::Template;
use axum::extract::State;
use axum::response::Response;

pub fn routes() -> Routes {
    Routes::new()
        .route("/survey", get(start).post(questions))
        .route("/survey/answer", post(answer))
}

#[derive(Template)]
#[template(path = "survey/tablet.html")]
struct TabletPage {
    layout: Layout,
    /// Which step: "code", "questions" or "thanks".
    step: &'static str,
    form: AnswerForm,
    errors: FieldErrors,
    questions: Questions,
}

fn render(ctx: &RequestContext, step: &'static str, form: AnswerForm, errors: FieldErrors) -> AppResult<Response> {
    // A signed-in session is never handed to a participant with the tablet.
    let step = if ctx.user.is_some() { "signed_in" } else { step };
    let refused = !errors.is_empty();
    let page = TabletPage {
        layout: Layout::new(ctx, "survey"),
        step,
        form,
        errors,
        questions: Questions,
    };
    crate::web::page(&page, refused)
}

async fn start(ctx: RequestContext) -> AppResult<Response> {
    render(&ctx, "code", AnswerForm::default(), FieldErrors::default())
}

/// The code first: an open code leads to the questions.
async fn questions(State(state): State<AppState>, ctx: RequestContext, FormData(form): FormData<AnswerForm>) -> AppResult<Response> {
    if ctx.user.is_some() {
        return render(&ctx, "signed_in", AnswerForm::default(), FieldErrors::default());
    }
    if !store::code_open(&state.db, &form.code, state.clock.today()).await? {
        let mut errors = FieldErrors::default();
        errors.add("code", CODE_NOT_VALID);
        return render(&ctx, "code", AnswerForm::default(), errors);
    }
    let form = AnswerForm {
        code: form.code.trim().to_string(),
        ..AnswerForm::default()
    };
    render(&ctx, "questions", form, FieldErrors::default())
}

async fn answer(State(state): State<AppState>, ctx: RequestContext, FormData(form): FormData<AnswerForm>) -> AppResult<Response> {
    if ctx.user.is_some() {
        return render(&ctx, "signed_in", AnswerForm::default(), FieldErrors::default());
    }
    let mut errors = FieldErrors::default();
    let Some(answer) = form.answer(&mut errors) else {
        return render(&ctx, "questions", form, errors);
    };
    match store::answer_with_code(&state.db, &form.code, &answer, state.clock.today()).await? {
        Ok(()) => render(&ctx, "thanks", AnswerForm::default(), FieldErrors::default()),
        Err(Refused { field, message }) => {
            let mut errors = FieldErrors::default();
            errors.add(field, message);
            render(&ctx, "code", AnswerForm::default(), errors)
        }
    }
}
