//! Headless Chromium driven through chromedriver (both found on PATH and started here).

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use fantoccini::{Client, ClientBuilder};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::json;

use crate::wait;

/// A chromedriver process and one browser session; both end when dropped.
pub struct Browser {
    pub client: Client,
    driver: Child,
    _profile: tempfile::TempDir,
}

fn on_path(names: &[&str]) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .flat_map(|dir| names.iter().map(move |n| dir.join(n)))
        .find(|p| p.is_file())
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

impl Browser {
    /// Starts chromedriver and a headless Chromium session, optionally with a User-Agent.
    ///
    /// # Panics
    /// When chromium or chromedriver is not installed (`make test` installs them) or fails to start.
    pub async fn start(user_agent: Option<&str>) -> Self {
        let chromedriver =
            on_path(&["chromedriver"]).expect("chromedriver on PATH (make test installs it)");
        let chromium = on_path(&["chromium", "chromium-browser", "google-chrome"])
            .expect("chromium on PATH (make test installs it)");
        let port = free_port();
        let driver = Command::new(chromedriver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        let status_url = format!("http://127.0.0.1:{port}/status");
        let http = reqwest::Client::new();
        wait::until("chromedriver to be ready", Duration::from_secs(20), || {
            let req = http.get(&status_url).send();
            async move {
                let body: serde_json::Value = req.await.ok()?.json().await.ok()?;
                body["value"]["ready"].as_bool().filter(|r| *r)
            }
        })
        .await;

        let profile = tempfile::tempdir().expect("profile dir");
        let mut args = vec![
            "--headless".to_owned(),
            "--no-sandbox".into(),
            "--disable-gpu".into(),
            "--disable-quic".into(),
            "--no-first-run".into(),
            "--disable-background-networking".into(),
            "--disable-component-update".into(),
            "--disable-sync".into(),
            "--disable-dev-shm-usage".into(),
            "--window-size=390,844".into(),
            format!("--user-data-dir={}", profile.path().display()),
        ];
        if let Some(ua) = user_agent {
            args.push(format!("--user-agent={ua}"));
        }
        let mut caps = serde_json::Map::new();
        caps.insert(
            "goog:chromeOptions".into(),
            json!({"binary": chromium.display().to_string(), "args": args}),
        );
        let client = ClientBuilder::new(HttpConnector::new())
            .capabilities(caps)
            .connect(&format!("http://127.0.0.1:{port}"))
            .await
            .expect("browser session starts");
        Self {
            client,
            driver,
            _profile: profile,
        }
    }

    /// Waits until an element matching `css` exists and returns its text.
    ///
    /// # Panics
    /// When it does not appear within `deadline`; the panic includes the page's text.
    pub async fn text_of(&self, css: &str, deadline: Duration) -> String {
        let found = self
            .client
            .wait()
            .at_most(deadline)
            .for_element(fantoccini::Locator::Css(css))
            .await;
        match found {
            Ok(el) => el.text().await.expect("element text"),
            Err(e) => {
                let body = self.client.source().await.unwrap_or_default();
                panic!("{css} did not appear within {deadline:?}: {e}\npage source:\n{body}");
            }
        }
    }
}

/// A Chrome DevTools Protocol command sent through chromedriver's `goog/cdp/execute`.
#[derive(Debug)]
struct Cdp {
    cmd: &'static str,
    params: serde_json::Value,
}

impl fantoccini::wd::WebDriverCompatibleCommand for Cdp {
    fn endpoint(
        &self,
        base_url: &url::Url,
        session_id: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        base_url.join(&format!(
            "session/{}/goog/cdp/execute",
            session_id.unwrap_or_default()
        ))
    }

    fn method_and_body(&self, _: &url::Url) -> (axum::http::Method, Option<String>) {
        let body = json!({"cmd": self.cmd, "params": self.params});
        (axum::http::Method::POST, Some(body.to_string()))
    }
}

impl Browser {
    /// Runs `source` in every document before the page's own scripts (CDP
    /// `Page.addScriptToEvaluateOnNewDocument`), e.g. to set `window.__wxjs_environment` or to
    /// stub `wx.miniProgram`.
    ///
    /// # Panics
    /// When chromedriver refuses the command.
    pub async fn on_new_document(&self, source: &str) {
        self.client
            .issue_cmd(Cdp {
                cmd: "Page.addScriptToEvaluateOnNewDocument",
                params: json!({"source": source}),
            })
            .await
            .expect("CDP Page.addScriptToEvaluateOnNewDocument");
    }
}

impl Browser {
    /// Ends the session (closing Chromium) and stops chromedriver.
    pub async fn close(mut self) {
        let _ = self.client.clone().close().await;
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        // The session closes with chromedriver; killing it also ends its Chromium.
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}
