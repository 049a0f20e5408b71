//! The operations tests' view of a signed-in operator: [`paybridge_tests::dashboard::Operator`]
//! with answers as a struct, and secrets found in pages.

use paybridge_tests::TestApp;
use paybridge_tests::dashboard::{self, Operator};

/// An operator's browser, signed in to the dashboard of one server.
pub struct Dashboard(Operator);

/// A page's answer: status, `Location` (for redirects) and body.
pub struct Answer {
    pub status: u16,
    pub location: Option<String>,
    pub body: String,
}

/// The first run of `prefix` followed by lowercase hex digits in `html`, e.g. a `whsec_` secret.
#[must_use]
pub fn token_after(html: &str, prefix: &str) -> Option<String> {
    let start = html.find(prefix)?;
    let rest = &html[start + prefix.len()..];
    let hex: String = rest
        .chars()
        .take_while(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
        .collect();
    (!hex.is_empty()).then(|| format!("{prefix}{hex}"))
}

fn answer((status, location, body): (u16, String, String)) -> Answer {
    Answer {
        status,
        location: (!location.is_empty()).then_some(location),
        body,
    }
}

impl Dashboard {
    /// Creates operator `username` and signs in with the password form.
    pub async fn sign_in(app: &TestApp, username: &str) -> Self {
        Self(dashboard::sign_in(app, username).await)
    }

    /// `GET path`.
    pub async fn get(&self, path: &str) -> Answer {
        let (status, body) = self.0.get(path).await;
        Answer {
            status,
            location: None,
            body,
        }
    }

    /// Posts `fields` as a urlencoded form, exactly as given (no CSRF token added).
    pub async fn send_form(&self, path: &str, fields: &[(&str, &str)]) -> Answer {
        answer(self.0.post_raw(path, fields).await)
    }

    /// Posts `fields` with the session's CSRF token, as the page's form would.
    pub async fn post(&self, path: &str, fields: &[(&str, &str)]) -> Answer {
        answer(self.0.post(path, fields).await)
    }
}

#[test]
fn tokens_are_found_in_pages() {
    let html = r#"<form><input type="hidden" name="csrf" value="abc-_1"></form><p>whsec_0a1bZ</p>"#;
    assert_eq!(
        dashboard::input_value(html, "csrf").as_deref(),
        Some("abc-_1")
    );
    assert_eq!(token_after(html, "whsec_").as_deref(), Some("whsec_0a1b"));
    assert_eq!(token_after(html, "sk_test_"), None);
}
