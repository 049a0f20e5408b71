//! Sandbox mode's simulator of WeChat Pay APIv3, WeChat OAuth and the shopper's side (pay sheet,
//! H5 cashier, scan page), served under `/sandbox/…` by the same process (DESIGN §8). It is as
//! strict as WeChat: requests are verified, answers and notifications are signed with its own
//! platform key, and orders persist in the same database as everything else.
//!
//! Nothing here is mounted in live mode ([`router`] returns an empty router there).

pub mod alipay;
mod api;
mod auth;
mod bills;
mod html;

pub mod keys;
mod notify;
mod oauth;
mod orders;
mod outbox;
mod pages;
mod refunds;
pub mod scenarios;
mod shopper;
mod util;
mod wire;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::routing::{any, get, post};
use url::Url;

use crate::config::{Config, WechatConfig, WechatEndpoints};
use crate::store::Store;

pub use crate::providers::wechat::WechatClients;
pub use keys::SandboxKeys;
pub use notify::Notifier;
pub use scenarios::Scenario;

/// Path prefix of everything the simulator serves.
pub const PREFIX: &str = "/sandbox";
/// Where the simulated WeChat APIs live: pay (`/v3/…`), OAuth (`/connect/…`) and `/sns/…`.
pub const WECHAT_PREFIX: &str = "/sandbox/wechat";
/// The `WeixinJSBridge` stand-in; load it only in sandbox mode, only where the real one is absent.
pub const BRIDGE_SCRIPT_PATH: &str = "/sandbox/bridge.js";

/// Why the sandbox could not start.
#[derive(Debug, thiserror::Error)]
pub enum SandboxError {
    #[error(transparent)]
    Keys(#[from] keys::KeysError),
    #[error("key generation task failed: {0}")]
    Join(String),
    #[error("HTTP client: {0}")]
    Http(String),
}

/// The running simulator: its credentials, the store it keeps state in, and its timings.
/// A cheap `Clone` of an `Arc`.
#[derive(Clone)]
pub struct Sandbox(Arc<Inner>);

struct Inner {
    keys: SandboxKeys,
    alipay_keys: alipay::AlipayKeys,
    store: Store,
    public_url: Url,
    time_scale: f64,
    merchant_name: String,
    /// Wakes the notifier when a notification or refund is queued.
    wake: tokio::sync::Notify,
    /// Sends notifications (WeChat waits 5 s for an answer).
    http: reqwest::Client,
}

impl std::fmt::Debug for Sandbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sandbox")
            .field("keys", &self.0.keys)
            .field("public_url", &self.0.public_url.as_str())
            .field("time_scale", &self.0.time_scale)
            .finish_non_exhaustive()
    }
}

impl Sandbox {
    /// Loads (or on first start generates) the sandbox credentials in the data dir.
    ///
    /// # Errors
    /// [`SandboxError`] when key files cannot be prepared.
    pub async fn start(
        config: &Config,
        store: &Store,
        public_url: &Url,
    ) -> Result<Self, SandboxError> {
        let data_dir = config.data_dir.clone();
        let certificates = config.sandbox_wechat_certificates;
        let alipay_certificates = config.sandbox_alipay_certificates;
        let (keys, alipay_keys) = tokio::task::spawn_blocking(move || {
            let keys = SandboxKeys::load_or_create(&data_dir)?;
            let keys = if certificates {
                keys.with_platform_certificate()?
            } else {
                keys
            };
            let alipay_keys = alipay::AlipayKeys::load_or_create(&data_dir)?;
            let alipay_keys = if alipay_certificates {
                alipay_keys.with_certificates()?
            } else {
                alipay_keys
            };
            Ok::<_, keys::KeysError>((keys, alipay_keys))
        })
        .await
        .map_err(|e| SandboxError::Join(e.to_string()))??;
        let http = crate::tls_roots::with_extra_roots(
            reqwest::Client::builder()
                .timeout(Duration::from_secs(5))
                .redirect(reqwest::redirect::Policy::none())
                .user_agent("Mozilla/4.0 (compatible; paybridge sandbox notifier)"),
        )
        .map_err(|e| SandboxError::Http(e.to_string()))?
        .build()
        .map_err(|e| SandboxError::Http(e.to_string()))?;
        tracing::info!(mchid = %keys.mchid, appid = %keys.appid, pub_key_id = %keys.platform.serial_no(), "sandbox ready");
        Ok(Self(Arc::new(Inner {
            keys,
            alipay_keys,
            store: store.clone(),
            public_url: public_url.clone(),
            time_scale: config.sandbox_time_scale,
            merchant_name: config.merchant_name.clone(),
            wake: tokio::sync::Notify::new(),
            http,
        })))
    }

    /// The simulated merchant's and platform's credentials.
    #[must_use]
    pub fn keys(&self) -> &SandboxKeys {
        &self.0.keys
    }

    /// The merchant credentials as live configuration would hold them (files in the data dir).
    #[must_use]
    pub fn wechat_config(&self) -> WechatConfig {
        self.0.keys.wechat_config()
    }

    /// Base URLs of the simulated WeChat services under `public_url`.
    #[must_use]
    pub fn wechat_endpoints(public_url: &Url) -> WechatEndpoints {
        let base = public_url
            .join("sandbox/wechat")
            .unwrap_or_else(|_| public_url.clone());
        WechatEndpoints {
            pay_api_base: base.clone(),
            oauth_base: base.clone(),
            api_base: base,
        }
    }

    /// Provider clients configured exactly as live mode builds them, pointed at this sandbox.
    ///
    /// # Errors
    /// When the key files cannot be read or a client cannot be built.
    pub fn wechat_clients(
        &self,
        public_url: &Url,
    ) -> Result<WechatClients, crate::providers::wechat::clients::ClientsError> {
        WechatClients::from_config(&self.wechat_config(), &Self::wechat_endpoints(public_url))
    }

    /// Every provider, configured exactly as live mode builds them, pointed at this sandbox.
    ///
    /// # Errors
    /// When the key files cannot be read or a client cannot be built.
    pub fn providers(
        &self,
        public_url: &Url,
    ) -> Result<crate::providers::Providers, crate::providers::ProvidersError> {
        let gateway = public_url
            .join(alipay::GATEWAY_PATH.trim_start_matches('/'))
            .unwrap_or_else(|_| public_url.clone());
        crate::providers::Providers::build(
            Some((&self.wechat_config(), &Self::wechat_endpoints(public_url))),
            Some((&self.0.alipay_keys.config(), &gateway)),
        )
    }

    /// The simulated Alipay app's and gateway's credentials.
    #[must_use]
    pub fn alipay_keys(&self) -> &alipay::AlipayKeys {
        &self.0.alipay_keys
    }

    /// Whether `key` fires now: true the first time only (scenario "fail on the first try").
    pub(crate) async fn fault_once(&self, key: &str) -> Result<bool, sqlx::Error> {
        let inserted = sqlx::query(
            "INSERT INTO sandbox_faults (fault_key, created_at) VALUES ($1, $2) \
             ON CONFLICT (fault_key) DO NOTHING",
        )
        .bind(key)
        .bind(util::now_ms())
        .execute(self.0.store.pool())
        .await?
        .rows_affected();
        Ok(inserted == 1)
    }

    /// Starts delivering queued notifications; stop it on shutdown.
    #[must_use]
    pub fn spawn_notifier(&self) -> Notifier {
        Notifier::spawn(self.clone())
    }

    pub(crate) fn store(&self) -> &Store {
        &self.0.store
    }

    /// Whether `url` is on this server's own origin (scheme, host and port): where the simulated
    /// providers may send a shopper back, as WeChat checks a registered domain.
    pub(crate) fn is_own_origin(&self, url: &Url) -> bool {
        url.origin() == self.0.public_url.origin()
    }

    pub(crate) fn merchant_name(&self) -> &str {
        &self.0.merchant_name
    }

    pub(crate) fn http(&self) -> &reqwest::Client {
        &self.0.http
    }

    /// A real-world wait compressed by the time scale.
    pub(crate) fn scaled(&self, real: Duration) -> Duration {
        real.mul_f64(self.0.time_scale)
    }

    pub(crate) fn wake_notifier(&self) {
        self.0.wake.notify_one();
    }

    pub(crate) async fn notifier_woken(&self) {
        self.0.wake.notified().await;
    }

    /// An absolute URL on this server.
    pub(crate) fn url(&self, path: &str) -> String {
        self.0
            .public_url
            .join(path.trim_start_matches('/'))
            .map_or_else(|_| path.to_owned(), String::from)
    }
}

/// The `/sandbox/…` routes in sandbox mode; an empty router in live mode.
pub fn router<S: Clone + Send + Sync + 'static>(sandbox: Option<&Sandbox>) -> Router<S> {
    let Some(sandbox) = sandbox else {
        return Router::new();
    };
    Router::new()
        .route("/sandbox/wechat/v3/{*rest}", any(api::handle))
        .route(
            "/sandbox/wechat/connect/oauth2/authorize",
            get(oauth::authorize_page),
        )
        .route(
            "/sandbox/wechat/connect/oauth2/approve",
            post(oauth::approve),
        )
        .route(
            "/sandbox/wechat/sns/oauth2/access_token",
            get(oauth::access_token),
        )
        .route(
            "/sandbox/wechat/sns/jscode2session",
            get(oauth::jscode2session),
        )
        .route(
            "/sandbox/wechat/miniprogram/login",
            post(oauth::miniprogram_login),
        )
        .route("/sandbox/bridge.js", get(pages::bridge_js))
        .route("/sandbox/assets/sandbox.css", get(pages::stylesheet))
        .route("/sandbox/wechat/jsapi/check", post(shopper::jsapi_check))
        .route("/sandbox/wechat/jsapi/pay", post(shopper::jsapi_pay))
        .route(
            "/sandbox/wechat/cgi-bin/mmpayweb-bin/checkmweb",
            get(pages::cashier),
        )
        .route("/sandbox/wechat/h5/pay", post(shopper::h5_pay))
        .route("/sandbox/wechat/scan", get(pages::scan))
        .route("/sandbox/wechat/scan/pay", post(shopper::scan_pay))
        .merge(alipay::routes())
        .route(
            "/sandbox/devices",
            get(pages::devices::devices).post(pages::devices::mini_program_pay),
        )
        .route("/sandbox/devices/intent", post(pages::intent::intent))
        .route("/sandbox", get(pages::dashboard))
        .route("/sandbox/", get(pages::dashboard))
        .with_state(sandbox.clone())
}
