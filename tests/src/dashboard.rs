//! Signing in to the dashboard in tests: an operator made through the service layer and a
//! one-time login link, as `paybridge users link` gives one.

use crate::TestApp;

/// A new operator's one-time sign-in URL (`/dashboard/login/link?token=…`).
pub async fn login_link(app: &TestApp) -> url::Url {
    let store = app.state.store();
    let name = format!("ops-{}", &uuid::Uuid::new_v4().simple().to_string()[..8]);
    let op = paybridge_server::service::operators::create(store, &name, "a long test password")
        .await
        .expect("operator created");
    let token = paybridge_server::service::operators::login_link(store, &op)
        .await
        .expect("login link");
    let mut url = app.url("/dashboard/login/link");
    url.query_pairs_mut().append_pair("token", token.expose());
    url
}

/// Signs the app's client in (its cookie jar keeps the session).
///
/// # Panics
/// Unless the link signs in and leads to the dashboard.
pub async fn sign_in(app: &TestApp) {
    let res = app
        .client
        .get(login_link(app).await)
        .send()
        .await
        .expect("server answers");
    assert_eq!(res.status().as_u16(), 303, "the link signs in");
    assert_eq!(
        res.headers().get("location").and_then(|v| v.to_str().ok()),
        Some("/dashboard")
    );
}

/// The dashboard page at `path`, signed in.
///
/// # Panics
/// Unless it answers 200.
pub async fn page(app: &TestApp, path: &str) -> String {
    let res = app.get(path).await;
    assert_eq!(res.status().as_u16(), 200, "{path}");
    res.text().await.expect("a page")
}
