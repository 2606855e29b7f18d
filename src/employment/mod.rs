//! The way out (issue 19, points 4 and 5): lärandeplatser at employers of
//! the register (`placements`), forumträffar and employer contacts per staff
//! member (`employers`), and stöd vid arbete for up to a year after a plan
//! ends in employment (`support`; the rule is `domain::employment`). A
//! placement and a support contact with the employer pass the consent gate.

pub mod employers;
pub mod placements;
pub mod store;
pub mod support;

use crate::web::routes::Routes;

pub fn routes() -> Routes {
    placements::routes().merge(support::routes()).merge(employers::routes())
}

coded!(
    /// How an employer was contacted.
    EmployerContactKind {
        Visit = "visit" => "Besök",
        Phone = "phone" => "Telefon",
        Meeting = "meeting" => "Möte",
        Email = "email" => "E-post",
    }
);

coded!(
    /// Who a contact of stöd vid arbete was with.
    SupportWith {
        Person = "person" => "Personen",
        Employer = "employer" => "Arbetsgivaren",
    }
);
