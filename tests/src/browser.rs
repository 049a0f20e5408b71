//! Headless Chromium driven through chromedriver (both found on PATH and started here).

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use fantoccini::{Client, ClientBuilder};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::json;

use crate::wait;

/// Real User-Agents of each environment, from shared/tests/user_agents.tsv (sources there).
pub mod ua {
    /// Chrome on Windows (matomo-org/device-detector clienthints.yml): desktop.
    pub const DESKTOP: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/100.0.4896.88 Safari/537.36";
    /// Chrome on iPhone (matomo-org/device-detector unknown.yml): mobile.
    pub const PHONE: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 13_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/79.0.3945.73 Mobile/15E148 Safari/604.1";
    /// WeChat on Android (matomo-org/device-detector smartphone-39.yml): wechat.
    pub const WECHAT: &str = "Mozilla/5.0 (Linux; Android 13; PHF110 Build/RKQ1.211119.001; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/116.0.0.0 Mobile Safari/537.36 XWEB/1160117 MMWEBSDK/20231202 MMWEBID/4213 MicroMessenger/8.0.46.2540(0x28002E3C) WeChat/arm64 Weixin NetType/5G Language/zh_CN ABI/arm64";
    /// WeChat on iPhone (faisalman/ua-parser-js browser-all.json); in a mini program web-view
    /// only `window.__wxjs_environment` tells.
    pub const IPHONE_WECHAT: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 8_4_1 like Mac OS X) AppleWebKit/600.1.4 (KHTML, like Gecko) Mobile/12H321 MicroMessenger/6.3.6 NetType/WIFI Language/zh_CN";
    /// The Alipay app on Android (matomo-org/device-detector mobile_app.yml): alipay.
    pub const ALIPAY_APP: &str = "Mozilla/5.0 (Linux; U; Android 12; zh-CN; KB2000 Build/RKQ1.211119.001) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/69.0.3497.100 UWS/3.22.2.43 Mobile Safari/537.36 UCBS/3.22.2.43_220223200704 NebulaSDK/1.8.100112 Nebula AlipayDefined(nt:WIFI,ws:360|0|3.0) AliApp(AP/10.3.0.8000) AlipayClient/10.3.0.8000 Language/zh-Hans useStatusBar/true isConcaveScreen/true Region/CNAriver/1.0.0";
}

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
        Self::start_with(user_agent, &[]).await
    }

    /// [`Browser::start`] with extra Chromium flags (e.g. `--ignore-certificate-errors-spki-list=…`).
    ///
    /// # Panics
    /// As [`Browser::start`].
    pub async fn start_with(user_agent: Option<&str>, flags: &[String]) -> Self {
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
        args.extend_from_slice(flags);
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

    /// Waits until an element matching `css` exists and returns its text. An element that
    /// goes stale before its text is read (the page moved on in between) is looked up again.
    ///
    /// # Panics
    /// When it does not appear within `deadline`; the panic includes the page's text.
    pub async fn text_of(&self, css: &str, deadline: Duration) -> String {
        let until = std::time::Instant::now() + deadline;
        loop {
            let found = self
                .client
                .wait()
                .at_most(until.saturating_duration_since(std::time::Instant::now()))
                .for_element(fantoccini::Locator::Css(css))
                .await;
            match found {
                Ok(el) => match el.text().await {
                    Ok(text) => return text,
                    Err(e)
                        if e.is_stale_element_reference() && std::time::Instant::now() < until => {}
                    Err(e) => panic!("text of {css}: {e}"),
                },
                Err(e) => {
                    let body = self.client.source().await.unwrap_or_default();
                    panic!("{css} did not appear within {deadline:?}: {e}\npage source:\n{body}");
                }
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
    /// Sends the Chrome DevTools Protocol command `cmd` and returns its result.
    ///
    /// # Panics
    /// When chromedriver or Chromium refuses the command.
    pub async fn cdp(&self, cmd: &'static str, params: serde_json::Value) -> serde_json::Value {
        self.client
            .issue_cmd(Cdp { cmd, params })
            .await
            .unwrap_or_else(|e| panic!("CDP {cmd}: {e}"))
    }

    /// Makes the page's viewport `width` × `height` CSS pixels (one device pixel each), as a
    /// phone (`mobile`: the viewport meta tag applies) or a desktop window.
    pub async fn viewport(&self, width: u32, height: u32, mobile: bool) {
        self.cdp(
            "Emulation.setDeviceMetricsOverride",
            json!({"width": width, "height": height, "deviceScaleFactor": 1, "mobile": mobile}),
        )
        .await;
    }

    /// Sends `user_agent` (and reports it as `navigator.userAgent`) from the next navigation on.
    pub async fn user_agent(&self, user_agent: &str) {
        self.cdp(
            "Emulation.setUserAgentOverride",
            json!({"userAgent": user_agent}),
        )
        .await;
    }

    /// Runs `source` in every document before the page's own scripts (CDP
    /// `Page.addScriptToEvaluateOnNewDocument`), e.g. to set `window.__wxjs_environment` or to
    /// stub `wx.miniProgram`.
    ///
    /// # Panics
    /// When chromedriver refuses the command.
    pub async fn on_new_document(&self, source: &str) {
        self.cdp(
            "Page.addScriptToEvaluateOnNewDocument",
            json!({"source": source}),
        )
        .await;
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
