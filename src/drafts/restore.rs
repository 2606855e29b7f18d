//! Puts drafts back into the forms of a page as it is sent: every field of the
//! form gets the value the user typed, a closed `<details>` around it opens,
//! and a notice before it says what happened and offers to throw the text
//! away. Works on the finished HTML, so no page handler needs to know.

use crate::drafts::store::OnPage;
use lol_html::html_content::{ContentType, Element};
use lol_html::{ElementContentHandlers, HandlerResult, RewriteStrSettings, Selector, rewrite_str};
use std::borrow::Cow;
use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

/// Field values of one draft, read in the order the form lists them.
#[derive(Default)]
struct Filler {
    fields: Vec<(String, String)>,
    /// How many fields of each name have been filled so far.
    used: HashMap<String, usize>,
    /// The `select` whose options are being read.
    select: Option<String>,
}

impl Filler {
    /// The next value typed for `name` (the n-th field of that name gets the n-th value).
    fn next(&mut self, name: &str) -> Option<String> {
        let n = self.used.entry(name.to_string()).or_default();
        let value = self.fields.iter().filter(|(f, _)| f == name).nth(*n).map(|(_, v)| v.clone());
        *n += 1;
        value
    }

    fn has(&self, name: &str, value: &str) -> bool {
        self.fields.iter().any(|(f, v)| f == name && v == value)
    }

    fn input(&mut self, el: &mut Element) -> HandlerResult {
        let Some(name) = el.get_attribute("name") else { return Ok(()) };
        let kind = el.get_attribute("type").unwrap_or_default().to_ascii_lowercase();
        match kind.as_str() {
            "checkbox" | "radio" => {
                let value = el.get_attribute("value").unwrap_or_else(|| "on".into());
                if self.has(&name, &value) {
                    el.set_attribute("checked", "")?;
                } else {
                    el.remove_attribute("checked");
                }
            }
            "submit" | "button" | "reset" | "image" | "file" | "password" => {}
            // The page's own tokens stay: a draft's were for an earlier showing.
            _ if name == "csrf_token" || name == crate::auth::submit::FIELD => {}
            _ => {
                if let Some(value) = self.next(&name) {
                    // lol_html escapes only `"` in attribute values: `&` is ours
                    // to escape, or typed "&amp;" would come back as "&".
                    el.set_attribute("value", &value.replace('&', "&amp;"))?;
                }
            }
        }
        Ok(())
    }

    fn textarea(&mut self, el: &mut Element) -> HandlerResult {
        if let Some(value) = el.get_attribute("name").and_then(|name| self.next(&name)) {
            el.set_inner_content(&value, ContentType::Text);
        }
        Ok(())
    }

    fn option(&mut self, el: &mut Element) -> HandlerResult {
        let (Some(select), Some(value)) = (self.select.clone(), el.get_attribute("value")) else {
            return Ok(());
        };
        if self.has(&select, &value) {
            el.set_attribute("selected", "")?;
        } else {
            el.remove_attribute("selected");
        }
        Ok(())
    }
}

fn selector(css: &str) -> Result<Selector, lol_html::errors::SelectorError> {
    css.parse()
}

/// The page `html` with each draft put back into the form that posts to its
/// action. `csrf_token` goes into the forms that throw a draft away.
pub fn fill(html: &str, drafts: &[OnPage], csrf_token: &str) -> Result<String, anyhow::Error> {
    type Handlers<'h> = Vec<(Cow<'static, Selector>, ElementContentHandlers<'h>)>;
    let mut handlers: Handlers = Vec::new();
    for draft in drafts {
        // Actions come from `drafts::FORMS` (letters, digits, `/`, `-`): safe inside quotes.
        if !draft.action.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'/' || b == b'-') {
            continue;
        }
        let form = format!("form[action=\"{}\"]", draft.action);
        let filler = Rc::new(RefCell::new(Filler {
            fields: draft.fields.clone(),
            ..Filler::default()
        }));
        let notice = notice(draft, csrf_token);

        handlers.push((
            Cow::Owned(selector(&form)?),
            ElementContentHandlers::default().element(move |el: &mut Element| {
                el.set_attribute("data-draft-restored", "")?;
                el.before(&notice, ContentType::Html);
                Ok(())
            }),
        ));
        handlers.push((
            Cow::Owned(selector(&format!("details[data-draft-for=\"{}\"]", draft.action))?),
            ElementContentHandlers::default().element(|el: &mut Element| {
                el.set_attribute("open", "")?;
                Ok(())
            }),
        ));
        let f = filler.clone();
        handlers.push((
            Cow::Owned(selector(&format!("{form} input"))?),
            ElementContentHandlers::default().element(move |el: &mut Element| f.borrow_mut().input(el)),
        ));
        let f = filler.clone();
        handlers.push((
            Cow::Owned(selector(&format!("{form} textarea"))?),
            ElementContentHandlers::default().element(move |el: &mut Element| f.borrow_mut().textarea(el)),
        ));
        let f = filler.clone();
        handlers.push((
            Cow::Owned(selector(&format!("{form} select"))?),
            ElementContentHandlers::default().element(move |el: &mut Element| {
                f.borrow_mut().select = el.get_attribute("name");
                Ok(())
            }),
        ));
        let f = filler;
        handlers.push((
            Cow::Owned(selector(&format!("{form} option"))?),
            ElementContentHandlers::default().element(move |el: &mut Element| f.borrow_mut().option(el)),
        ));
    }
    let mut settings = RewriteStrSettings::new();
    for handler in handlers {
        settings = settings.append_element_content_handler(handler);
    }
    Ok(rewrite_str(html, settings)?)
}

/// Says that the form holds text that is not saved, and offers to throw it away.
fn notice(draft: &OnPage, csrf_token: &str) -> String {
    let token: String = csrf_token
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect();
    format!(
        r#"<div class="draft-notice" role="status"><p><strong>Ej sparad text återställd.</strong> Det du skrev {at} står i formuläret nedan. Det sparas först när du skickar formuläret.</p><form method="post" action="/drafts/{id}/discard" class="inline-form" data-draft-discard><input type="hidden" name="csrf_token" value="{token}"><button type="submit" class="secondary">Släng den ej sparade texten</button></form></div>"#,
        at = crate::web::format::local_time(draft.saved_at),
        id = draft.id,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::DraftId;
    use chrono::TimeZone;

    fn draft(action: &str, fields: &[(&str, &str)]) -> OnPage {
        OnPage {
            id: DraftId(7),
            action: action.into(),
            fields: fields.iter().map(|(n, v)| (n.to_string(), v.to_string())).collect(),
            saved_at: chrono::Utc.with_ymd_and_hms(2026, 3, 2, 8, 15, 0).unwrap(),
        }
    }

    const PAGE: &str = r#"<main><details data-draft-for="/participants/1/journal"><summary>Ny</summary>
<form method="post" action="/participants/1/journal"><input type="hidden" name="csrf_token" value="live">
<input name="title" value=""><textarea name="text">old</textarea>
<select name="kind"><option value="a" selected>A</option><option value="b">B</option></select>
<input type="checkbox" name="flag" value="yes"><input type="checkbox" name="other" value="yes" checked>
<input type="radio" name="r" value="1" checked><input type="radio" name="r" value="2"><button>Spara</button></form></details>
<form method="post" action="/participants/1/relatives"><input name="title" value="keep"></form></main>"#;

    #[test]
    fn every_kind_of_field_gets_what_was_typed_and_nothing_else_changes() {
        let d = draft(
            "/participants/1/journal",
            &[
                ("title", "Rubrik \"x\" <b> & co &amp;"),
                ("text", "Rad 1\n</textarea><script>"),
                ("kind", "b"),
                ("flag", "yes"),
                ("r", "2"),
            ],
        );
        let out = fill(PAGE, &[d], "tok_en-1").unwrap();
        assert!(
            out.contains(r#"<details data-draft-for="/participants/1/journal" open="">"#),
            "{out}"
        );
        // In an attribute only `"` and `&` need escaping.
        assert!(out.contains(r#"value="Rubrik &quot;x&quot; <b> &amp; co &amp;amp;""#), "{out}");
        assert!(
            out.contains("<textarea name=\"text\">Rad 1\n&lt;/textarea&gt;&lt;script&gt;</textarea>"),
            "{out}"
        );
        assert!(
            out.contains(r#"<option value="a">A</option><option value="b" selected="">B</option>"#),
            "{out}"
        );
        assert!(out.contains(r#"name="flag" value="yes" checked="">"#), "{out}");
        assert!(out.contains(r#"<input type="checkbox" name="other" value="yes">"#), "{out}");
        assert!(
            out.contains(r#"<input type="radio" name="r" value="1"><input type="radio" name="r" value="2" checked="">"#),
            "{out}"
        );
        // The form token is the page's own, never one from the draft.
        assert!(out.contains(r#"name="csrf_token" value="live""#));
        // The other form is untouched.
        assert!(out.contains(r#"<form method="post" action="/participants/1/relatives"><input name="title" value="keep">"#));
        assert!(out.contains(r#"action="/drafts/7/discard""#) && out.contains(r#"value="tok_en-1""#));
        assert!(out.contains("2026-03-02 09:15"));
    }
}
