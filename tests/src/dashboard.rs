//! A signed-in dashboard operator over HTTP: its own cookie jar, the session's CSRF token
//! scraped from a page as a browser would submit it, and forms posted like a browser does.

use std::sync::Arc;

use crate::TestApp;

/// The password every test operator gets.
pub const PASSWORD: &str = "correct horse battery staple";

/// A signed-in operator.
pub struct Operator {
    pub client: reqwest::Client,
    pub base: url::Url,
    /// This session's CSRF token, as its pages carry it.
    pub csrf: String,
    pub username: String,
}

/// The value of the first `<input … name="{name}" value="…">` in `html`.
#[must_use]
pub fn input_value(html: &str, name: &str) -> Option<String> {
    let at = html.find(&format!("name=\"{name}\""))?;
    let tag_start = html[..at].rfind('<')?;
    let tag_end = at + html[at..].find('>')?;
    let tag = &html[tag_start..tag_end];
    let v = tag.find("value=\"")? + "value=\"".len();
    let end = tag[v..].find('"')?;
    Some(tag[v..v + end].replace("&amp;", "&"))
}

/// A client that keeps cookies and does not follow redirects.
#[must_use]
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .cookie_provider(Arc::new(reqwest::cookie::Jar::default()))
        .build()
        .expect("client")
}

/// Creates operator `username` in `app`'s database.
pub async fn create_operator(app: &TestApp, username: &str) {
    paybridge_server::service::operators::create(app.state.store(), username, PASSWORD)
        .await
        .expect("operator created");
}

/// Signs in with the password form: GET the form (its CSRF cookie and field), POST it.
/// Returns the client and the POST's response.
pub async fn post_sign_in(
    app: &TestApp,
    username: &str,
    password: &str,
) -> (reqwest::Client, reqwest::Response) {
    let client = client();
    let form = client
        .get(app.url("/dashboard/login"))
        .send()
        .await
        .expect("answers");
    assert_eq!(form.status(), 200);
    let html = form.text().await.expect("page");
    let token = input_value(&html, "csrf").expect("the sign-in form has a CSRF token");
    let res = client
        .post(app.url("/dashboard/login"))
        .form(&[
            ("csrf", token.as_str()),
            ("username", username),
            ("password", password),
            ("next", "/dashboard"),
        ])
        .send()
        .await
        .expect("answers");
    (client, res)
}

/// Creates an operator and signs them in.
pub async fn sign_in(app: &TestApp, username: &str) -> Operator {
    create_operator(app, username).await;
    let (client, res) = post_sign_in(app, username, PASSWORD).await;
    assert_eq!(res.status(), 303, "signed in");
    let mut op = Operator {
        client,
        base: app.base.clone(),
        csrf: String::new(),
        username: username.to_owned(),
    };
    let (status, html) = op.get("/dashboard").await;
    assert_eq!(status, 200, "{html}");
    op.csrf = input_value(&html, "csrf").expect("pages carry the CSRF token");
    op
}

impl Operator {
    /// `GET path` → (status, body).
    pub async fn get(&self, path: &str) -> (u16, String) {
        let res = self
            .client
            .get(self.base.join(path).expect("path"))
            .send()
            .await
            .expect("answers");
        let status = res.status().as_u16();
        (status, res.text().await.unwrap_or_default())
    }

    /// POSTs a form with this session's CSRF token → (status, Location, body).
    pub async fn post(&self, path: &str, fields: &[(&str, &str)]) -> (u16, String, String) {
        let mut all: Vec<(&str, &str)> = vec![("csrf", self.csrf.as_str())];
        all.extend_from_slice(fields);
        self.post_raw(path, &all).await
    }

    /// POSTs exactly `fields` (no CSRF token unless given) → (status, Location, body).
    pub async fn post_raw(&self, path: &str, fields: &[(&str, &str)]) -> (u16, String, String) {
        let res = self
            .client
            .post(self.base.join(path).expect("path"))
            .form(fields)
            .send()
            .await
            .expect("answers");
        let status = res.status().as_u16();
        let location = res
            .headers()
            .get("location")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        (status, location, res.text().await.unwrap_or_default())
    }
}
