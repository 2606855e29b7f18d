//! Data protection duties (issue 18): the records of processing (GDPR art. 30).

pub mod disposal;
pub mod processing;
pub mod register_extract;

use crate::web::routes::Routes;

pub fn routes() -> Routes {
    processing::routes().merge(register_extract::routes()).merge(disposal::routes())
}
