//! A live-mode server for tests that check what live mode must not expose. Its credentials
//! (WeChat Pay and Alipay) are throwaway keys generated the way the sandbox makes its own, and
//! its public URL is an https name nothing resolves: nothing it does reaches WeChat or Alipay.

use paybridge_server::Server;
use paybridge_server::config::{AlipayConfig, AlipayVerification, Cli};
use paybridge_server::sandbox::SandboxKeys;
use paybridge_server::state::AppState;
use tokio::sync::oneshot;

use crate::workspace_root;

/// A running live-mode server; call [`LiveApp::stop`] at the end of the test.
pub struct LiveApp {
    /// `http://127.0.0.1:<port>`, without a trailing slash.
    pub base: String,
    /// The operations listener, `http://127.0.0.1:<port>`, without a trailing slash.
    pub admin: String,
    /// A client that does not follow redirects.
    pub client: reqwest::Client,
    /// The server's state.
    pub state: AppState,
    /// Its throwaway WeChat Pay credentials (the simulated WeChat's keys among them).
    pub keys: SandboxKeys,
    stop: oneshot::Sender<()>,
    served: tokio::task::JoinHandle<std::io::Result<()>>,
    _dirs: (tempfile::TempDir, tempfile::TempDir),
}

impl LiveApp {
    /// `GET base + path`.
    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .expect("server answers")
    }

    /// `GET admin + path` (the operations listener).
    pub async fn admin_get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(format!("{}{path}", self.admin))
            .send()
            .await
            .expect("server answers")
    }

    /// Stops the server gracefully and checks it stopped cleanly.
    pub async fn stop(self) {
        let _ = self.stop.send(());
        self.served
            .await
            .expect("server task")
            .expect("server stops cleanly");
    }
}

/// The flags of a live-mode server on 127.0.0.1 port 0 with throwaway credentials made in
/// `keys_dir` and its data in `data_dir`.
///
/// # Panics
/// When the keys cannot be made.
#[must_use]
pub fn live_args(keys_dir: &std::path::Path, data_dir: &std::path::Path) -> Vec<String> {
    let wechat = SandboxKeys::load_or_create(keys_dir)
        .expect("throwaway keys")
        .wechat_config();
    let public = wechat.pay_public_key.clone().expect("public-key mode");
    let alipay = paybridge_server::sandbox::alipay::AlipayKeys::load_or_create(keys_dir)
        .expect("throwaway Alipay keys")
        .config();
    [
        "paybridge",
        "--mode",
        "live",
        "--listen",
        "127.0.0.1:0",
        "--admin-listen",
        "127.0.0.1:0",
        "--data-dir",
        &data_dir.display().to_string(),
        "--dist-dir",
        &workspace_root().join("dist").display().to_string(),
        "--public-url",
        "https://pay.example.com/",
        "--secret-key",
        "0123456789abcdef0123456789abcdef0123",
        "--wechat-mchid",
        &wechat.mchid,
        "--wechat-appid",
        &wechat.appid,
        "--wechat-app-secret",
        wechat.app_secret.expose(),
        "--wechat-mch-serial-no",
        &wechat.mch_serial_no,
        "--wechat-mch-private-key-path",
        &wechat.mch_private_key_path.display().to_string(),
        "--wechat-apiv3-key",
        wechat.apiv3_key.expose(),
        "--wechat-pay-public-key-path",
        &public.path.display().to_string(),
        "--wechat-pay-public-key-id",
        &public.id,
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .chain(
        alipay_flags(&alipay)
            .into_iter()
            .flat_map(|(flag, value)| [flag.to_owned(), value]),
    )
    .collect()
}

/// The live flags naming an Alipay app's id, key and (by its mode) Alipay's public key or the
/// three certificate files.
#[must_use]
pub fn alipay_flags(alipay: &AlipayConfig) -> Vec<(&'static str, String)> {
    let path = |p: &std::path::Path| p.display().to_string();
    let mut flags = vec![
        ("--alipay-app-id", alipay.app_id.clone()),
        ("--alipay-private-key-path", path(&alipay.private_key_path)),
    ];
    match &alipay.verification {
        AlipayVerification::PublicKey(key) => flags.push(("--alipay-public-key-path", path(key))),
        AlipayVerification::Certificates {
            app_cert,
            alipay_cert,
            root_cert,
        } => flags.extend([
            ("--alipay-app-cert-path", path(app_cert)),
            ("--alipay-cert-path", path(alipay_cert)),
            ("--alipay-root-cert-path", path(root_cert)),
        ]),
    }
    flags
}

/// Starts a live-mode server on 127.0.0.1 port 0. Started without [`crate::spawn`]: that helper
/// runs sandbox mode and takes its public URL from the port, while live mode requires https.
pub async fn spawn_live() -> LiveApp {
    spawn_live_with(&[]).await
}

/// [`spawn_live`] with extra flags.
pub async fn spawn_live_with(extra: &[&str]) -> LiveApp {
    let keys_dir = tempfile::tempdir().expect("temp dir");
    let data_dir = tempfile::tempdir().expect("temp dir");
    let mut args = live_args(keys_dir.path(), data_dir.path());
    args.extend(extra.iter().map(|s| (*s).to_owned()));
    let cli = <Cli as clap::Parser>::try_parse_from(args).expect("live flags parse");
    let config = cli.settings.validate().unwrap_or_else(|p| panic!("{p}"));
    let server = Server::bind(config).await.expect("live server starts");
    let base = format!("http://{}", server.local_addr().expect("bound address"));
    let admin = format!(
        "http://{}",
        server.admin_addr().expect("operations listener")
    );
    let state = server.state().clone();
    let (stop, stopped) = oneshot::channel::<()>();
    let served = tokio::spawn(server.serve(async move { drop(stopped.await) }));
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let keys = SandboxKeys::load_or_create(keys_dir.path()).expect("throwaway keys");
    LiveApp {
        base,
        admin,
        client,
        state,
        keys,
        stop,
        served,
        _dirs: (keys_dir, data_dir),
    }
}
