//! Förteckning över behandlingar (GDPR art. 30): what Lotsen keeps, why, for
//! how long and who can see it. Made from the settings in force (retention,
//! the research rule, session and draft times, the reason asked outside the
//! caseload) and the roles, so the page says what this installation does.

use crate::auth::{CurrentUser, Role};
use crate::config::Config;
use crate::error::AppResult;
use crate::state::AppState;
use crate::web::routes::{Routes, get};
use askama::Template;
use axum::extract::State;
use axum::response::{Html, IntoResponse, Response};

pub const PATH: &str = "/admin/processing";

pub fn routes() -> Routes {
    Routes::new().route(PATH, get(page))
}

/// One kind of record: what it holds, why, how long it is kept, who sees it.
pub struct Processing {
    pub name: &'static str,
    pub holds: &'static str,
    pub purpose: &'static str,
    pub kept: String,
    pub seen_by: String,
}

/// What each role sees (for the page's table of roles).
pub struct RoleAccess {
    pub role: Role,
    pub sees: &'static str,
}

/// The records of processing for the settings in `config`.
pub fn records(config: &Config) -> Vec<Processing> {
    let retention = config.retention;
    let person_kept = if retention.keep_for_research {
        format!(
            "Gallras {} år efter den sista anteckningen om personen, senast under kalenderåret därefter (SoL 12 kap. 1 §). \
             Uppgifter om personer födda den 5:e, 15:e eller 25:e i en månad bevaras för forskning (socialtjänstförordningen 7 kap. 2 §).",
            retention.years
        )
    } else {
        format!(
            "Gallras {} år efter den sista anteckningen om personen, senast under kalenderåret därefter (SoL 12 kap. 1 §). \
             Regeln om att bevara uppgifter för forskning är avstängd i den här installationen.",
            retention.years
        )
    };
    let reason = if config.reason_outside_caseload {
        "Personal, enhetschefer och administratörer på personens enhet. Den som inte är kontaktman eller namngiven i personens plan anger skäl för åtkomst innan personakten öppnas."
    } else {
        "Personal, enhetschefer och administratörer på personens enhet."
    };
    let idle = config.session_idle_timeout.as_secs() / 60;
    let absolute = config.session_absolute_timeout.as_secs() / 3600;
    vec![
        Processing {
            name: "Personakt",
            holds: "Namn, personnummer eller samordningsnummer, födelsedatum, kön, kontaktuppgifter, status, kontaktman, boendestöd, närstående och samtycken, med alla tidigare versioner.",
            purpose: "Dokumentation av insatsen dagverksamhet och förstegsträning enligt SoL 11 kap. 5 §; att kunna ge stöd, planera och följa upp.",
            kept: person_kept.clone(),
            seen_by: reason.into(),
        },
        Processing {
            name: "Journal, planer, uppföljningar och bedömningar",
            holds: "Anteckningar med rättelser och invändningar, planer med versioner och mål, uppföljningar, arbetsförmågebedömningar och arbetade timmar.",
            purpose: "Dokumentation av genomförandet och uppföljning av planen (SoL 11 kap. 5 §).",
            kept: person_kept.clone(),
            seen_by: reason.into(),
        },
        Processing {
            name: "Besök, närvaro och gruppaktiviteter",
            holds: "Vem som kom vilken dag till vilken enhet, deltagande i gruppaktiviteter.",
            purpose: "Dokumentation, kapacitetsplanering och den statistik kommunen redovisar (uppdelad på kvinnor och män).",
            kept: person_kept,
            seen_by: "Personal på enheten (besöken); statistik utan namn för enhetschefer.".into(),
        },
        Processing {
            name: "Åtkomstlogg",
            holds: "Vem som öppnade, sökte fram eller skrev ut vilken personakt, när, och skäl för åtkomst.",
            purpose: "Behörighetskontroll och loggkontroll; personens rätt att få veta vem som tagit del av uppgifterna (registerutdrag).",
            kept: "Sparas. Raderna kan inte ändras eller tas bort av programmet; när en person gallras pekar de på en anonym rad. Ett skäl för åtkomst med egna ord finns kvar som det skrevs.".into(),
            seen_by: "Enhetschefer på enheten.".into(),
        },
        Processing {
            name: "Granskningslogg",
            holds: "Ändringar, inloggningar, misslyckade och spärrade inloggningar.",
            purpose: "Spårbarhet och säkerhet.",
            kept: "Sparas; raderna kan inte ändras eller tas bort av programmet.".into(),
            seen_by: "Administratörer (via databasen).".into(),
        },
        Processing {
            name: "Användarkonton",
            holds: "Namn, e-postadress, titel, roll, enheter, lösenord (som argon2-hash), tvåstegsverifiering och id hos kommunens inloggningstjänst.",
            purpose: "Inloggning och behörighetsstyrning.",
            kept: "Så länge kontot finns; ett inaktiverat konto kan inte logga in.".into(),
            seen_by: "Administratörer.".into(),
        },
        Processing {
            name: "Inloggningar och utkast",
            holds: "Sessioner (enhet och webbläsare, senaste aktivitet), utkast av text som inte sparats, sökningar.",
            purpose: "Att användaren ska vara inloggad och inte förlora text.",
            kept: format!(
                "En session upphör efter {idle} minuter utan aktivitet och senast efter {absolute} timmar. Utkast tas bort {} dagar efter senaste ändringen. Sökningar försvinner med sessionen.",
                config.draft_days
            ),
            seen_by: "Användaren själv.".into(),
        },
    ]
}

pub fn roles() -> Vec<RoleAccess> {
    vec![
        RoleAccess {
            role: Role::Staff,
            sees: "Deltagarna på sina enheter; personakter utanför den egna ärendelistan efter angivet skäl.",
        },
        RoleAccess {
            role: Role::Manager,
            sees: "Deltagarna, översikter, statistik och åtkomstloggen för sina enheter.",
        },
        RoleAccess {
            role: Role::Admin,
            sees: "Användare och enheter; deltagarna på de enheter administratören själv tillhör.",
        },
    ]
}

#[derive(Template)]
#[template(path = "privacy/processing.html")]
struct ProcessingPage {
    layout: crate::auth::context::Layout,
    records: Vec<Processing>,
    roles: Vec<RoleAccess>,
}

async fn page(State(state): State<AppState>, current: CurrentUser) -> AppResult<Response> {
    current.require(&[Role::Admin])?;
    let page = ProcessingPage {
        layout: crate::auth::context::Layout::new(&current.ctx, "processing"),
        records: records(&state.config),
        roles: roles(),
    };
    Ok(Html(page.render()?).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_records_follow_the_settings_in_force() {
        let mut config = Config::for_tests("postgres://unused");
        let text = |config: &Config| {
            records(config)
                .iter()
                .map(|r| format!("{} {}", r.kept, r.seen_by))
                .collect::<String>()
        };
        assert!(text(&config).contains("Gallras 5 år"));
        assert!(text(&config).contains("bevaras för forskning"));
        assert!(text(&config).contains("anger skäl för åtkomst"));
        config.retention.years = 7;
        config.retention.keep_for_research = false;
        config.reason_outside_caseload = false;
        assert!(text(&config).contains("Gallras 7 år"));
        assert!(text(&config).contains("avstängd"));
        assert!(!text(&config).contains("anger skäl"));
    }
}
