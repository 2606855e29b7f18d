//! Build script (Cargo.toml `build`): the binary embeds the migrations
//! (`sqlx::migrate!`), so a new file in `migrations/` must rebuild it, or the
//! app would start with the schema of its last build.
fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
