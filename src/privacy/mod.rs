//! Data protection duties (issue 18): the records of processing (GDPR art. 30).

pub mod disposal;
pub mod extract;
pub mod processing;

use crate::web::routes::Routes;

pub fn routes() -> Routes {
    processing::routes().merge(extract::routes()).merge(disposal::routes())
}
