//! A signed-in dashboard operator for tests: its own cookie jar, the sign-in form's CSRF cookie
//! and field, and forms posted with the session's CSRF token scraped from a page.

use std::sync::Arc;

use paybridge_tests::TestApp;

/// An operator's browser, signed in to the dashboard of one server.
pub struct Dashboard {
    pub client: reqwest::Client,
    base: url::Url,
    /// The session's CSRF token, as its pages carry it.
    pub csrf: String,
}

/// A page's answer: status, `Location` (for redirects) and body.
pub struct Answer {
    pub status: u16,
    pub location: Option<String>,
    pub body: String,
}

/// The value of the first hidden `csrf` field of `html`.
///
/// # Panics
/// When the page has no such field.
#[must_use]
pub fn csrf_field(html: &str) -> String {
    let marker = r#"name="csrf" value=""#;
    let start = html.find(marker).expect("a csrf field on the page") + marker.len();
    html[start..]
        .split('"')
        .next()
        .unwrap_or_default()
        .to_owned()
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

impl Dashboard {
    /// Creates operator `username` and signs in with the password form.
    ///
    /// # Panics
    /// When signing in fails.
    pub async fn sign_in(app: &TestApp, username: &str) -> Self {
        let password = "correct horse battery staple";
        paybridge_server::service::operators::create(app.state.store(), username, password)
            .await
            .expect("operator created");
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .cookie_provider(Arc::new(reqwest::cookie::Jar::default()))
            .build()
            .expect("client");
        let mut me = Self {
            client,
            base: app.base.clone(),
            csrf: String::new(),
        };
        let form = me.get("/dashboard/login").await;
        assert_eq!(form.status, 200, "{}", form.body);
        let token = csrf_field(&form.body);
        let signed_in = me
            .send_form(
                "/dashboard/login",
                &[
                    ("csrf", token.as_str()),
                    ("username", username),
                    ("password", password),
                    ("next", "/dashboard"),
                ],
            )
            .await;
        assert_eq!(signed_in.status, 303, "{}", signed_in.body);
        assert_eq!(signed_in.location.as_deref(), Some("/dashboard"));
        let home = me.get("/dashboard").await;
        assert_eq!(home.status, 200, "{}", home.body);
        me.csrf = csrf_field(&home.body);
        me
    }

    async fn answer(res: reqwest::Response) -> Answer {
        let status = res.status().as_u16();
        let location = res
            .headers()
            .get("location")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        Answer {
            status,
            location,
            body: res.text().await.unwrap_or_default(),
        }
    }

    /// `GET path`.
    pub async fn get(&self, path: &str) -> Answer {
        let res = self
            .client
            .get(self.base.join(path).expect("path"))
            .send()
            .await
            .expect("server answers");
        Self::answer(res).await
    }

    /// Posts `fields` as a urlencoded form, exactly as given (no CSRF token added).
    pub async fn send_form(&self, path: &str, fields: &[(&str, &str)]) -> Answer {
        let res = self
            .client
            .post(self.base.join(path).expect("path"))
            .form(fields)
            .send()
            .await
            .expect("server answers");
        Self::answer(res).await
    }

    /// Posts `fields` with the session's CSRF token, as the page's form would.
    pub async fn post(&self, path: &str, fields: &[(&str, &str)]) -> Answer {
        let mut all = vec![("csrf", self.csrf.as_str())];
        all.extend_from_slice(fields);
        self.send_form(path, &all).await
    }
}

#[test]
fn tokens_are_found_in_pages() {
    let html = r#"<form><input type="hidden" name="csrf" value="abc-_1"></form><p>whsec_0a1bZ</p>"#;
    assert_eq!(csrf_field(html), "abc-_1");
    assert_eq!(token_after(html, "whsec_").as_deref(), Some("whsec_0a1b"));
    assert_eq!(token_after(html, "sk_test_"), None);
}
