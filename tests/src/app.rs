//! `spawn_app()`: the real server, in process, on 127.0.0.1 port 0 with a temporary data dir.

use std::path::PathBuf;
use std::sync::Arc;

use clap::Parser;
use paybridge_server::Server;
use paybridge_server::config::Cli;
use paybridge_server::state::AppState;
use serde_json::Value;
use tokio::sync::oneshot;
use url::Url;

use crate::workspace_root;

/// A running server and a client for it. Dropping it shuts the server down.
pub struct TestApp {
    /// Base URL, e.g. `http://127.0.0.1:40123/`.
    pub base: Url,
    /// A client that does not follow redirects (tests look at them) and keeps cookies, as one
    /// shopper's browser would.
    pub client: reqwest::Client,
    /// The client's cookies.
    pub cookies: Arc<reqwest::cookie::Jar>,
    /// The sandbox's merchant API key.
    pub api_key: String,
    /// The server's state (tests use it to reach the database, e.g. to move time forward).
    pub state: AppState,
    /// The data dir (shared when a second instance is started on it).
    pub data_dir: Arc<tempfile::TempDir>,
    /// The operations listener (`/metrics`, readiness detail), e.g. `http://127.0.0.1:40124/`.
    pub admin: Url,
    shutdown: Option<oneshot::Sender<()>>,
    served: Option<tokio::task::JoinHandle<()>>,
}

/// How to start a test server.
#[derive(Default, Clone)]
pub struct Options {
    /// Extra command-line flags.
    pub args: Vec<String>,
    /// Reuse a data dir (a second instance, or a restart).
    pub data_dir: Option<Arc<tempfile::TempDir>>,
    /// `PAYBRIDGE_DATABASE_URL`; the data dir's SQLite file when `None`.
    pub database_url: Option<String>,
}

impl TestApp {
    /// Absolute URL of `path` on this server.
    #[must_use]
    pub fn url(&self, path: &str) -> Url {
        self.base.join(path).expect("valid path")
    }

    /// `GET path` on the operations listener.
    pub async fn admin_get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(self.admin.join(path).expect("valid path"))
            .send()
            .await
            .expect("server answers")
    }

    /// `GET path`.
    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(self.url(path))
            .send()
            .await
            .expect("server answers")
    }

    /// Authenticated `GET` of the merchant API → (status, JSON).
    pub async fn api_get(&self, path: &str) -> (u16, Value) {
        let res = self
            .client
            .get(self.url(path))
            .bearer_auth(&self.api_key)
            .send()
            .await
            .expect("server answers");
        let status = res.status().as_u16();
        (status, res.json().await.unwrap_or(Value::Null))
    }

    /// How many of the last hundred events of type `kind` are about the object `object`.
    pub async fn events_about(&self, kind: &str, object: &str) -> usize {
        let (_, list) = self
            .api_get(&format!("/v1/events?type={kind}&limit=100"))
            .await;
        list["data"].as_array().map_or(0, |events| {
            events
                .iter()
                .filter(|e| e["data"]["object"]["id"] == object)
                .count()
        })
    }

    /// Events of type `kind` per object id, paging through all of `/v1/events`.
    pub async fn events_per_object(&self, kind: &str) -> std::collections::HashMap<String, usize> {
        let mut counts = std::collections::HashMap::new();
        let mut after: Option<String> = None;
        loop {
            let path = match &after {
                Some(a) => format!("/v1/events?type={kind}&limit=100&starting_after={a}"),
                None => format!("/v1/events?type={kind}&limit=100"),
            };
            let (status, page) = self.api_get(&path).await;
            assert_eq!(status, 200, "{page}");
            let data = page["data"].as_array().expect("a list");
            for e in data {
                let object = e["data"]["object"]["id"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned();
                *counts.entry(object).or_insert(0) += 1;
            }
            if page["has_more"] != true || data.is_empty() {
                return counts;
            }
            after = data
                .last()
                .and_then(|e| e["id"].as_str())
                .map(str::to_owned);
        }
    }

    /// `POST /notify/wechat` with a notification's headers and body → the status.
    pub async fn post_wechat_notification(
        &self,
        headers: &[(String, String)],
        body: Vec<u8>,
    ) -> u16 {
        self.wechat_notification_request(&self.client, headers, body)
            .send()
            .await
            .expect("server answers")
            .status()
            .as_u16()
    }

    /// `POST /notify/alipay` with a notification's form body → (status, the answer's text).
    pub async fn post_alipay_notification(&self, form: String) -> (u16, String) {
        let res = self
            .client
            .post(self.url("/notify/alipay"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form)
            .send()
            .await
            .expect("server answers");
        (res.status().as_u16(), res.text().await.unwrap_or_default())
    }

    /// The `POST /notify/wechat` request for a notification, on `client`.
    pub fn wechat_notification_request(
        &self,
        client: &reqwest::Client,
        headers: &[(String, String)],
        body: Vec<u8>,
    ) -> reqwest::RequestBuilder {
        let mut req = client
            .post(self.url("/notify/wechat"))
            .header("content-type", "application/json")
            .body(body);
        for (k, v) in headers {
            req = req.header(k.as_str(), v.as_str());
        }
        req
    }

    /// Authenticated `POST` of JSON, with an optional Idempotency-Key → (status, JSON).
    pub async fn api_post(
        &self,
        path: &str,
        body: &Value,
        idempotency_key: Option<&str>,
    ) -> (u16, Value) {
        let mut req = self
            .client
            .post(self.url(path))
            .bearer_auth(&self.api_key)
            .json(body);
        if let Some(k) = idempotency_key {
            req = req.header("idempotency-key", k);
        }
        let res = req.send().await.expect("server answers");
        let status = res.status().as_u16();
        (status, res.json().await.unwrap_or(Value::Null))
    }

    /// Expires session `id` through the merchant API.
    ///
    /// # Panics
    /// Unless the API answers 200.
    pub async fn expire_session(&self, id: &str) {
        let (status, body) = self
            .api_post(
                &format!("/v1/checkout_sessions/{id}/expire"),
                &serde_json::json!({}),
                None,
            )
            .await;
        assert_eq!(status, 200, "{body}");
    }

    /// The page's view model of session `id` (`GET /api/checkout/{id}`).
    ///
    /// # Panics
    /// When the answer is not JSON.
    pub async fn page_view(&self, id: &str) -> Value {
        self.get(&format!("/api/checkout/{id}"))
            .await
            .json()
            .await
            .expect("view JSON")
    }

    /// What the page's status API says about session `id`.
    ///
    /// # Panics
    /// When the answer is not JSON.
    pub async fn page_status(&self, id: &str) -> Value {
        self.get(&format!("/api/checkout/{id}/status"))
            .await
            .json()
            .await
            .expect("status JSON")
    }

    /// Waits until the page's status API reports session `id` complete (asking the provider
    /// about a stale pending attempt, as the page's polls do).
    ///
    /// # Panics
    /// After 20 seconds.
    pub async fn until_complete(&self, id: &str) {
        crate::wait::until(
            "the status API to report the session complete",
            std::time::Duration::from_secs(20),
            || async {
                let s: Value = self
                    .get(&format!("/api/checkout/{id}/status"))
                    .await
                    .json()
                    .await
                    .ok()?;
                (s["status"] == "complete").then_some(())
            },
        )
        .await;
    }

    /// Creates a session with `amount` fen and returns its JSON.
    pub async fn create_session(&self, amount: i64) -> Value {
        let (status, body) = self
            .api_post("/v1/checkout_sessions", &session_request(amount), None)
            .await;
        assert_eq!(status, 200, "{body}");
        body
    }

    /// Stops the server gracefully and waits until it has stopped.
    pub async fn stop(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(h) = self.served.take() {
            let _ = h.await;
        }
    }

    /// Stops the server at once, like a crash: requests and jobs in flight are dropped.
    pub fn kill(mut self) {
        if let Some(h) = self.served.take() {
            h.abort();
        }
    }
}

/// A valid create-session body for `amount` fen.
#[must_use]
pub fn session_request(amount: i64) -> Value {
    serde_json::json!({
        "amount": amount,
        "currency": "cny",
        "description": "Two coffees",
        "merchant_reference": "order-1001",
        "success_url": "https://shop.example.com/thanks",
        "cancel_url": "https://shop.example.com/cart",
        "metadata": {"cart": "42"},
    })
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

/// Starts a sandbox server with default settings.
pub async fn spawn_app() -> TestApp {
    spawn(Options::default()).await
}

/// Starts a sandbox server with default settings on a fresh database of kind `db`.
pub async fn spawn_on(db: crate::db::Db) -> TestApp {
    spawn(Options {
        database_url: crate::db::fresh_database(db).await,
        ..Options::default()
    })
    .await
}

/// Starts a sandbox server with extra command-line flags (e.g. `["--frame-ancestors", "https://shop.example"]`).
pub async fn spawn_app_with(extra: &[&str]) -> TestApp {
    spawn(Options {
        args: extra.iter().map(|s| (*s).to_owned()).collect(),
        ..Options::default()
    })
    .await
}

/// Starts a sandbox server as `options` say.
///
/// # Panics
/// When the flags are invalid or the server cannot start — both test bugs.
pub async fn spawn(options: Options) -> TestApp {
    let data_dir = options
        .data_dir
        .unwrap_or_else(|| Arc::new(tempfile::tempdir().expect("temp dir")));
    let dist: PathBuf = workspace_root().join("dist");
    let mut args = vec![
        "paybridge".to_owned(),
        "--listen".into(),
        "127.0.0.1:0".into(),
        "--admin-listen".into(),
        "127.0.0.1:0".into(),
        "--data-dir".into(),
        data_dir.path().display().to_string(),
        "--dist-dir".into(),
        dist.display().to_string(),
        "--log-format".into(),
        "json".into(),
    ];
    // Test-speed timings, unless the caller sets them (a benchmark wants production timings).
    for (flag, value) in [("--job-poll-ms", "50"), ("--webhook-backoff-scale", "0.01")] {
        if !options.args.iter().any(|a| a == flag) {
            args.extend([flag.to_owned(), value.to_owned()]);
        }
    }
    if let Some(url) = options.database_url {
        args.extend(["--database-url".to_owned(), url]);
    }
    args.extend(options.args);
    let cli = Cli::try_parse_from(args).expect("test flags parse");
    let config = cli.settings.validate().unwrap_or_else(|p| panic!("{p}"));
    if std::env::var_os("PAYBRIDGE_TEST_LOG").is_some() {
        paybridge_server::telemetry::init(config.log_format);
    }
    let server = Server::bind(config).await.expect("server starts");
    let base = server.public_url();
    let admin = Url::parse(&format!(
        "http://{}/",
        server.admin_addr().expect("operations listener")
    ))
    .expect("admin URL");
    let api_key = server
        .sandbox_key()
        .map(|k| k.expose().clone())
        .unwrap_or_default();
    let state = server.state().clone();
    let (tx, rx) = oneshot::channel::<()>();
    let served = tokio::spawn(async move {
        let _ = server.serve(async { drop(rx.await) }).await;
    });
    let cookies = Arc::new(reqwest::cookie::Jar::default());
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .cookie_provider(Arc::clone(&cookies))
        .build()
        .expect("client");
    TestApp {
        base,
        client,
        cookies,
        api_key,
        state,
        data_dir,
        admin,
        shutdown: Some(tx),
        served: Some(served),
    }
}
