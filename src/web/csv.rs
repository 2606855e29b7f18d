//! CSV for Swedish Excel: the one rule for a field, shared by every export.

/// A CSV field, quoted when it holds a separator, a quote or a line break.
/// Text that Excel would take for a formula (a unit named "=…") gets a
/// leading apostrophe, so it stays text.
pub fn field(text: &str) -> String {
    let text = if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{text}")
    } else {
        text.to_string()
    };
    if text.contains([';', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text
    }
}
