//! Static files: served from `LOTSEN_STATIC_DIR` with a content hash in the
//! URL, so browsers may keep them for a year.

use sha2::{Digest, Sha256};

pub const FILES: [&str; 3] = ["app.css", "app.js", "favicon.svg"];

/// A short hash of the static files' contents.
pub fn version(dir: &str) -> String {
    let mut hasher = Sha256::new();
    for file in FILES {
        if let Ok(bytes) = std::fs::read(std::path::Path::new(dir).join(file)) {
            hasher.update(&bytes);
        }
    }
    hex::encode(&hasher.finalize()[..6])
}
