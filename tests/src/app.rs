//! `spawn_app()`: the real server, in process, on 127.0.0.1 port 0 with a temporary data dir.

use clap::Parser;
use paybridge_server::Server;
use paybridge_server::config::{Cli, Settings};
use tokio::sync::oneshot;
use url::Url;

use crate::workspace_root;

/// A running server and a client for it. Dropping it shuts the server down.
pub struct TestApp {
    /// Base URL, e.g. `http://127.0.0.1:40123/`.
    pub base: Url,
    /// A client that does not follow redirects (tests look at them).
    pub client: reqwest::Client,
    _data_dir: tempfile::TempDir,
    shutdown: Option<oneshot::Sender<()>>,
}

impl TestApp {
    /// Absolute URL of `path` on this server.
    ///
    /// # Panics
    /// When `path` is not a valid relative URL.
    #[must_use]
    pub fn url(&self, path: &str) -> Url {
        self.base.join(path).expect("valid path")
    }

    /// `GET path`.
    ///
    /// # Panics
    /// When the server cannot be reached.
    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(self.url(path))
            .send()
            .await
            .expect("server answers")
    }
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
    spawn_app_with(&[]).await
}

/// Starts a sandbox server with extra command-line flags (e.g. `["--frame-ancestors", "https://shop.example"]`).
///
/// # Panics
/// When the flags are invalid or the server cannot start — both test bugs.
pub async fn spawn_app_with(extra: &[&str]) -> TestApp {
    let data_dir = tempfile::tempdir().expect("temp dir");
    let dist = workspace_root().join("dist");
    let mut args = vec![
        "paybridge".to_owned(),
        "--listen".into(),
        "127.0.0.1:0".into(),
        "--data-dir".into(),
        data_dir.path().display().to_string(),
        "--dist-dir".into(),
        dist.display().to_string(),
        "--log-format".into(),
        "json".into(),
    ];
    args.extend(extra.iter().map(|s| (*s).to_owned()));
    let cli = Cli::try_parse_from(args).expect("test flags parse");
    let settings: Settings = cli.settings;
    let config = settings.validate().unwrap_or_else(|p| panic!("{p}"));
    let server = Server::bind(config).await.expect("server starts");
    let base = server.public_url().cloned().expect("public url");
    let (tx, rx) = oneshot::channel::<()>();
    tokio::spawn(async move {
        let _ = server.serve(async { drop(rx.await) }).await;
    });
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    TestApp {
        base,
        client,
        _data_dir: data_dir,
        shutdown: Some(tx),
    }
}
