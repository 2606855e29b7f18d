//! Brukarundersökning (issue 19, point 6): a yearly survey per unit, its
//! answers entered by staff from paper forms or by the participant on the
//! centre's tablet with a one-time code (`tablet`, no sign-in, no name), and
//! its results for women and men against the targets (the rule and the
//! suppression of small groups are `domain::survey`).

pub mod store;
pub mod tablet;

use crate::access::Authorized;
use crate::auth::context::Layout;
use crate::auth::{CurrentUser, Role};
use crate::db::Refused;
use crate::domain::survey::{self as rules, Figure};
use crate::error::AppResult;
use crate::ids::{SurveyId, UnitId};
use crate::participants::UnitChoice;
use crate::participants::model::Gender;
use crate::state::AppState;
use crate::web::form::{FieldErrors, FormData, Query, yes_no};
use crate::web::routes::{Routes, get, post};
use askama::Template;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::Datelike;
use serde::Deserialize;
use store::Answer;

pub fn routes() -> Routes {
    Routes::new()
        .route("/surveys", get(list).post(create))
        .route("/surveys/{id}", get(show))
        .route("/surveys/{id}/answers", post(add_answer))
        .route("/surveys/{id}/codes", post(codes))
        .merge(tablet::routes())
}

/// The questions on the scale 1–5, as the form and the results name them.
pub const SCALE_QUESTIONS: [(&str, &str); 3] = [
    ("satisfaction", "Hur nöjd är du sammantaget med verksamheten?"),
    ("competence", "Personalen är kunnig och kompetent."),
    ("respect", "Jag blir bemött med respekt."),
];
pub const COMPLAINT_QUESTION: &str = "Jag vet vart jag ska vända mig med synpunkter och klagomål.";
/// The scale's ends and middle, for the labels.
pub const SCALE: [&str; 5] = ["1 – Stämmer inte alls", "2", "3", "4", "5 – Stämmer helt"];

/// The questions, as `survey/_questions.html` asks them on paper entry and on the tablet.
#[derive(Default, Clone, Copy)]
pub struct Questions;

impl Questions {
    pub fn scale_questions(&self) -> &'static [(&'static str, &'static str)] {
        &SCALE_QUESTIONS
    }
    pub fn scale(&self) -> &'static [&'static str] {
        &SCALE
    }
    pub fn complaint_question(&self) -> &'static str {
        COMPLAINT_QUESTION
    }
    pub fn genders(&self) -> &'static [Gender] {
        Gender::ALL
    }
}

/// The answers as typed (on paper or on the tablet).
#[derive(Deserialize, Default, Clone)]
#[serde(default)]
pub struct AnswerForm {
    pub code: String,
    pub gender: String,
    pub satisfaction: String,
    pub competence: String,
    pub respect: String,
    pub knows_where_to_complain: String,
}

impl AnswerForm {
    pub fn value(&self, question: &str) -> &str {
        match question {
            "satisfaction" => &self.satisfaction,
            "competence" => &self.competence,
            "respect" => &self.respect,
            _ => "",
        }
    }

    /// The answer, or the field to say is wrong. Every question may be left
    /// blank but "Jag är" (for the split by gender; "vill inte svara" is a choice).
    pub fn answer(&self, errors: &mut FieldErrors) -> Option<Answer> {
        let gender = Gender::parse(&self.gender);
        if gender.is_none() {
            errors.add("gender", "Välj ett svar (det går att välja ”Annat eller vill inte svara”).");
        }
        let mut scale = |field: &'static str, value: &str| -> Option<i16> {
            if value.is_empty() {
                return None;
            }
            let n = value.parse::<i16>().ok().filter(|n| (1..=5).contains(n));
            if n.is_none() {
                errors.add(field, "Välj ett svar mellan 1 och 5.");
            }
            n
        };
        let satisfaction = scale("satisfaction", &self.satisfaction);
        let competence = scale("competence", &self.competence);
        let respect = scale("respect", &self.respect);
        let knows = yes_no(&self.knows_where_to_complain);
        if knows.is_none() && !self.knows_where_to_complain.is_empty() {
            errors.add("knows_where_to_complain", "Svara ja eller nej.");
        }
        Some(Answer {
            gender: gender?,
            satisfaction,
            competence,
            respect,
            knows_where_to_complain: knows,
        })
        .filter(|_| errors.is_empty())
    }
}

/// A row of the results: the figure of women, men, other or unstated, and all.
pub struct ResultRow {
    pub label: &'static str,
    pub target: Option<f64>,
    pub figures: [Figure; 4],
}

impl ResultRow {
    pub fn cells(&self) -> Vec<String> {
        self.figures.iter().map(|f| f.text()).collect()
    }
    /// "Når målet" for women and men, where there is a target.
    pub fn verdict(&self) -> String {
        let Some(target) = self.target else { return "–".into() };
        let say = |f: Figure, who: &str| match f {
            Figure::Value { .. } if f.reaches(target) => format!("{who}: når målet"),
            Figure::Value { .. } => format!("{who}: under målet"),
            _ => format!("{who}: för få svar"),
        };
        format!("{}; {}", say(self.figures[0], "kvinnor"), say(self.figures[1], "män"))
    }
    pub fn target_text(&self) -> String {
        match self.label {
            l if l.starts_with("Vet vart") => format!("minst {:.0} %", self.target.unwrap_or_default()),
            _ => self.target.map_or("–".into(), |t| format!("över {t:.0}")),
        }
    }
}

/// The survey's results, by gender, suppressed as `domain::survey` says.
pub async fn results(db: &sqlx::PgPool, survey: SurveyId) -> Result<(Vec<ResultRow>, usize), sqlx::Error> {
    let answers = sqlx::query!(
        "SELECT gender, satisfaction, competence, respect, knows_where_to_complain FROM survey_answers WHERE survey_id = $1",
        survey as _
    )
    .fetch_all(db)
    .await?;
    let groups = [Gender::Woman, Gender::Man, Gender::OtherOrUnstated];
    let scale = |pick: &dyn Fn(&_) -> Option<i16>| {
        let of = |g: Option<Gender>| -> Figure {
            let values: Vec<i16> = answers
                .iter()
                .filter(|a| g.is_none_or(|g| a.gender == g.code()))
                .filter_map(pick)
                .collect();
            Figure::index(&values)
        };
        rules::by_group(groups.map(|g| of(Some(g))), of(None))
    };
    let share = || {
        let of = |g: Option<Gender>| -> Figure {
            let values: Vec<bool> = answers
                .iter()
                .filter(|a| g.is_none_or(|g| a.gender == g.code()))
                .filter_map(|a| a.knows_where_to_complain)
                .collect();
            Figure::share(&values)
        };
        rules::by_group(groups.map(|g| of(Some(g))), of(None))
    };
    let rows = vec![
        ResultRow {
            label: "Nöjdhetsindex",
            target: Some(rules::SATISFACTION_TARGET),
            figures: scale(&|a| a.satisfaction),
        },
        ResultRow {
            label: "Personalen är kunnig och kompetent (index)",
            target: Some(rules::COMPETENCE_TARGET),
            figures: scale(&|a| a.competence),
        },
        ResultRow {
            label: "Bemött med respekt (index)",
            target: None,
            figures: scale(&|a| a.respect),
        },
        ResultRow {
            label: "Vet vart man vänder sig med synpunkter och klagomål (andel, %)",
            target: Some(rules::KNOWS_WHERE_TO_COMPLAIN_TARGET),
            figures: share(),
        },
    ];
    Ok((rows, answers.len()))
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct UnitQuery {
    unit: String,
}

pub struct SurveyRow {
    pub id: SurveyId,
    pub year: i32,
    pub answers: i64,
    pub codes_open: i64,
}

#[derive(Deserialize, Default, Clone)]
#[serde(default)]
pub struct CreateForm {
    pub unit_id: String,
    pub year: String,
}

#[derive(Template)]
#[template(path = "survey/list.html")]
struct ListPage {
    layout: Layout,
    unit_id: UnitId,
    units: Vec<UnitChoice>,
    rows: Vec<SurveyRow>,
    may_create: bool,
    form: CreateForm,
    errors: FieldErrors,
}

async fn render_list(
    state: &AppState,
    current: &CurrentUser,
    unit_id: UnitId,
    form: CreateForm,
    errors: FieldErrors,
) -> AppResult<Response> {
    let rows = sqlx::query_as!(
        SurveyRow,
        r#"SELECT s.id AS "id: SurveyId", s.year,
                  (SELECT count(*) FROM survey_answers a WHERE a.survey_id = s.id) AS "answers!",
                  (SELECT count(*) FROM survey_codes c WHERE c.survey_id = s.id) AS "codes_open!"
           FROM surveys s WHERE s.unit_id = $1 ORDER BY s.year DESC"#,
        unit_id as _
    )
    .fetch_all(&state.db)
    .await?;
    let refused = !errors.is_empty();
    let page = ListPage {
        layout: Layout::new(&current.ctx, "surveys"),
        unit_id,
        units: crate::participants::unit_choices(&state.db, current.user.id).await?,
        rows,
        may_create: current.user.role == Role::Manager,
        form,
        errors,
    };
    crate::web::page(&page, refused)
}

async fn list(State(state): State<AppState>, current: CurrentUser, Query(q): Query<UnitQuery>) -> AppResult<Response> {
    let unit_id = current.chosen_unit(&q.unit)?;
    let form = CreateForm {
        unit_id: unit_id.to_string(),
        year: state.clock.today().year().to_string(),
    };
    render_list(&state, &current, unit_id, form, FieldErrors::default()).await
}

async fn create(State(state): State<AppState>, current: CurrentUser, FormData(form): FormData<CreateForm>) -> AppResult<Response> {
    let unit_id = current.chosen_unit(&form.unit_id)?;
    current.require_manager_of(unit_id)?;
    let this_year = state.clock.today().year();
    let Some(year) = form
        .year
        .trim()
        .parse::<i32>()
        .ok()
        .filter(|y| (this_year - 1..=this_year + 1).contains(y))
    else {
        let mut errors = FieldErrors::default();
        errors.add("year", format!("Välj ett år från {} till {}.", this_year - 1, this_year + 1));
        return render_list(&state, &current, unit_id, form, errors).await;
    };
    match store::create(&state.db, unit_id, year, current.stamp(state.clock.now())).await? {
        Ok(id) => {
            current.flash(&format!("Brukarundersökningen {year} är upplagd."));
            Ok(Redirect::to(&format!("/surveys/{id}")).into_response())
        }
        Err(Refused { field, message }) => {
            let mut errors = FieldErrors::default();
            errors.add(field, message);
            render_list(&state, &current, unit_id, form, errors).await
        }
    }
}

#[derive(Template)]
#[template(path = "survey/show.html")]
struct ShowPage {
    layout: Layout,
    id: SurveyId,
    year: i32,
    unit_name: String,
    rows: Vec<ResultRow>,
    answers: usize,
    form: AnswerForm,
    errors: FieldErrors,
    /// Codes made by this request, shown once.
    new_codes: Vec<String>,
    questions: Questions,
}

async fn render_show(
    state: &AppState,
    auth: &Authorized<SurveyId>,
    form: AnswerForm,
    errors: FieldErrors,
    new_codes: Vec<String>,
) -> AppResult<Response> {
    let head = sqlx::query!(
        "SELECT s.year, u.name FROM surveys s JOIN units u ON u.id = s.unit_id WHERE s.id = $1",
        auth.id as _
    )
    .fetch_one(&state.db)
    .await?;
    let (rows, answers) = results(&state.db, auth.id).await?;
    let refused = !errors.is_empty();
    let page = ShowPage {
        layout: Layout::new(&auth.current.ctx, "surveys"),
        id: auth.id,
        year: head.year,
        unit_name: head.name,
        rows,
        answers,
        form,
        errors,
        new_codes,
        questions: Questions,
    };
    crate::web::page(&page, refused)
}

async fn show(State(state): State<AppState>, auth: Authorized<SurveyId>) -> AppResult<Response> {
    render_show(&state, &auth, AnswerForm::default(), FieldErrors::default(), Vec::new()).await
}

async fn add_answer(
    State(state): State<AppState>,
    auth: Authorized<SurveyId>,
    FormData(form): FormData<AnswerForm>,
) -> AppResult<Response> {
    let mut errors = FieldErrors::default();
    let Some(answer) = form.answer(&mut errors) else {
        return render_show(&state, &auth, form, errors, Vec::new()).await;
    };
    store::add_paper_answer(&state.db, auth.id, &answer, auth.current.stamp(state.clock.now())).await?;
    auth.current.flash("Svaret är registrerat.");
    Ok(Redirect::to(&format!("/surveys/{}#answer", auth.id)).into_response())
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct CodesForm {
    count: String,
}

/// New one-time codes for the tablet, shown on this answer only.
async fn codes(State(state): State<AppState>, auth: Authorized<SurveyId>, FormData(form): FormData<CodesForm>) -> AppResult<Response> {
    let Some(n) = form.count.trim().parse::<usize>().ok().filter(|n| (1..=200).contains(n)) else {
        let mut errors = FieldErrors::default();
        errors.add("count", "Välj ett antal från 1 till 200.");
        return render_show(&state, &auth, AnswerForm::default(), errors, Vec::new()).await;
    };
    let today = state.clock.today();
    let codes = store::new_codes(&state.db, auth.id, n, today, auth.current.stamp(state.clock.now())).await?;
    render_show(&state, &auth, AnswerForm::default(), FieldErrors::default(), codes).await
}
