//! Shared application state: a cheap `Clone` of `Arc`s.

use std::sync::Arc;

use crate::config::Config;
use crate::metrics::Metrics;
use crate::store::Store;
use crate::web::page::Page;

/// Failed authentications one client may make in a minute before it is refused unheard.
pub const AUTH_FAILURES_PER_MINUTE: u32 = 20;
/// Refused notifications one client may send in a minute (WeChat and Alipay send only
/// authentic ones; a misconfigured key shows in the first refusal's log line).
pub const NOTIFY_REFUSALS_PER_MINUTE: u32 = 30;

/// Everything handlers share.
#[derive(Clone)]
pub struct AppState(Arc<Inner>);

struct Inner {
    outbox: tokio::sync::Notify,
    limiter: crate::api::rate_limit::ShopperLimiter,
    /// Ids of sessions whose status may have changed, for the page's event streams.
    changes: tokio::sync::broadcast::Sender<String>,
    /// Failed API authentications, per client.
    auth_failures: crate::api::failures::FailureGate,
    /// Refused provider notifications, per client.
    notify_refusals: crate::api::failures::FailureGate,
    /// The page's status streams and their watchers.
    status_streams: Arc<crate::api::streams::StatusStreams>,
    public_url: url::Url,
    config: Config,
    store: Store,
    /// Payment successes, written in groups on SQLite.
    successes:
        crate::store::Batched<crate::payments::success::Success, crate::payments::success::Written>,
    metrics: Metrics,
    page: Page,
    /// Request handlers running to completion in tasks of their own (see `api::detached`).
    detached: tokio_util::task::TaskTracker,
    /// The simulator, installed at start in sandbox mode only.
    sandbox: std::sync::OnceLock<crate::sandbox::Sandbox>,
    /// WeChat Pay and OAuth clients (the sandbox's in sandbox mode).
    wechat: std::sync::OnceLock<crate::providers::wechat::WechatClients>,
    /// The Alipay client (the sandbox's in sandbox mode), when configured.
    alipay: std::sync::OnceLock<crate::providers::alipay::AlipayProvider>,
}

impl AppState {
    /// Bundles the parts built at start.
    ///
    /// # Errors
    /// When the payment-success writer's thread cannot be started.
    pub fn new(
        config: Config,
        public_url: url::Url,
        store: Store,
        metrics: Metrics,
        page: Page,
    ) -> std::io::Result<Self> {
        let successes = store.batched(crate::payments::success::writer(
            public_url.clone(),
            config.mode == crate::config::Mode::Live,
        ))?;
        Ok(Self(Arc::new(Inner {
            outbox: tokio::sync::Notify::new(),
            limiter: crate::api::rate_limit::ShopperLimiter::new(config.shopper_rate_limit),
            changes: tokio::sync::broadcast::channel(1024).0,
            status_streams: crate::api::streams::StatusStreams::new(config.limits),
            auth_failures: crate::api::failures::FailureGate::new(AUTH_FAILURES_PER_MINUTE),
            notify_refusals: crate::api::failures::FailureGate::new(NOTIFY_REFUSALS_PER_MINUTE),
            successes,
            public_url,
            config,
            store,
            metrics,
            page,
            detached: tokio_util::task::TaskTracker::new(),
            sandbox: std::sync::OnceLock::new(),
            wechat: std::sync::OnceLock::new(),
            alipay: std::sync::OnceLock::new(),
        })))
    }

    /// The validated configuration.
    #[must_use]
    pub fn config(&self) -> &Config {
        &self.0.config
    }

    /// The public base URL (set at bind time when not configured).
    #[must_use]
    pub fn public_url(&self) -> url::Url {
        self.0.public_url.clone()
    }

    /// Wakes the webhook worker: new deliveries were committed.
    pub fn outbox_changed(&self) {
        self.0.outbox.notify_one();
    }

    /// Tells every open event stream of `session` — on this instance directly, on every
    /// instance through Postgres `NOTIFY` — that its status may have changed.
    pub async fn session_changed(&self, session: &str) {
        match self.0.store.kind() {
            crate::store::DbKind::Sqlite => self.publish_local(session),
            crate::store::DbKind::Postgres => {
                let sent = sqlx::query("SELECT pg_notify('paybridge_sessions', $1)")
                    .bind(session)
                    .execute(self.0.store.pool())
                    .await;
                if let Err(e) = sent {
                    tracing::warn!(error = %e, "cannot NOTIFY a session change; telling local streams only");
                    self.publish_local(session);
                }
            }
        }
    }

    /// Delivers a change to this instance's streams.
    pub fn publish_local(&self, session: &str) {
        let _ = self.0.changes.send(session.to_owned());
    }

    /// A receiver of session changes.
    #[must_use]
    pub fn subscribe_changes(&self) -> tokio::sync::broadcast::Receiver<String> {
        self.0.changes.subscribe()
    }

    /// Whether this server moves real money (its objects say `livemode: true`).
    #[must_use]
    pub fn livemode(&self) -> bool {
        self.0.config.mode == crate::config::Mode::Live
    }

    /// Failed API authentications, per client.
    #[must_use]
    pub fn auth_failures(&self) -> &crate::api::failures::FailureGate {
        &self.0.auth_failures
    }

    /// Refused provider notifications, per client.
    #[must_use]
    pub fn notify_refusals(&self) -> &crate::api::failures::FailureGate {
        &self.0.notify_refusals
    }

    /// The page's status streams.
    #[must_use]
    pub fn status_streams(&self) -> &Arc<crate::api::streams::StatusStreams> {
        &self.0.status_streams
    }

    /// The shopper API's per-IP limiter.
    #[must_use]
    pub fn shopper_limiter(&self) -> &crate::api::rate_limit::ShopperLimiter {
        &self.0.limiter
    }

    /// Completes at the next [`AppState::outbox_changed`].
    pub async fn outbox_wait(&self) {
        self.0.outbox.notified().await;
    }

    /// Writes a payment success (see [`crate::payments::success`]).
    ///
    /// # Errors
    /// On a database error.
    pub async fn write_success(
        &self,
        success: crate::payments::success::Success,
    ) -> Result<crate::payments::success::Written, sqlx::Error> {
        self.0.successes.submit(success).await
    }

    /// The tasks request handlers run in; a graceful shutdown waits for them.
    #[must_use]
    pub fn detached(&self) -> &tokio_util::task::TaskTracker {
        &self.0.detached
    }

    /// The database.
    #[must_use]
    pub fn store(&self) -> &Store {
        &self.0.store
    }

    /// Metric families.
    #[must_use]
    pub fn metrics(&self) -> &Metrics {
        &self.0.metrics
    }

    /// The built checkout page.
    #[must_use]
    pub fn page(&self) -> &Page {
        &self.0.page
    }

    /// The WeChat clients, once installed at start.
    #[must_use]
    pub fn wechat(&self) -> Option<&crate::providers::wechat::WechatClients> {
        self.0.wechat.get()
    }

    /// The provider that pays with `method`, when it is configured.
    #[must_use]
    pub fn provider(
        &self,
        method: crate::domain::PaymentMethod,
    ) -> Option<&dyn crate::providers::PaymentProvider> {
        match method {
            crate::domain::PaymentMethod::WechatPay => self
                .0
                .wechat
                .get()
                .map(|p| p as &dyn crate::providers::PaymentProvider),
            crate::domain::PaymentMethod::Alipay => self
                .0
                .alipay
                .get()
                .map(|p| p as &dyn crate::providers::PaymentProvider),
        }
    }

    /// Installs the Alipay client (once, at start).
    pub fn install_alipay(&self, provider: crate::providers::alipay::AlipayProvider) {
        let _ = self.0.alipay.set(provider);
    }

    /// The mini program appid orders are made with, when one is configured.
    #[must_use]
    pub fn wechat_miniprogram_appid(&self) -> Option<String> {
        match self.sandbox() {
            Some(sandbox) => sandbox.wechat_config().miniprogram.map(|m| m.appid),
            None => self
                .0
                .config
                .wechat
                .as_ref()
                .and_then(|w| w.miniprogram.as_ref())
                .map(|m| m.appid.clone()),
        }
    }

    /// Installs the WeChat clients (once, at start).
    pub fn install_wechat(&self, clients: crate::providers::wechat::WechatClients) {
        let _ = self.0.wechat.set(clients);
    }

    /// The sandbox simulator (sandbox mode only).
    #[must_use]
    pub fn sandbox(&self) -> Option<&crate::sandbox::Sandbox> {
        self.0.sandbox.get()
    }

    /// Installs the simulator once, at start; a second call is ignored.
    pub fn install_sandbox(&self, sandbox: crate::sandbox::Sandbox) {
        let _ = self.0.sandbox.set(sandbox);
    }
}
