//! What the HTTP handlers share: the services, and what only HTTP needs (the configuration, the
//! per-client limits, the page's status streams, the built page, the simulator in sandbox mode).
//! A cheap `Clone` of an `Arc`.

use std::sync::Arc;

use crate::config::Config;
use crate::guard::failures::FailureGate;
use crate::guard::rate::ShopperLimiter;
use crate::guard::streams::StatusStreams;
use crate::metrics::Metrics;
use crate::providers::PaymentProvider;
use crate::providers::wechat::WechatClients;
use crate::sandbox::Sandbox;
use crate::service::Services;
use crate::store::Store;
use crate::web::page::Page;

/// Wrong passwords (or used login links) one client may try per minute.
const LOGIN_FAILURES_PER_MINUTE: u32 = 10;

/// Everything handlers share.
#[derive(Clone)]
pub struct AppState(Arc<Inner>);

struct Inner {
    services: Services,
    config: Config,
    limiter: ShopperLimiter,
    /// Failed API authentications, per client.
    auth_failures: FailureGate,
    /// Refused provider notifications, per client.
    notify_refusals: FailureGate,
    /// Failed dashboard sign-ins, per client.
    login_failures: FailureGate,
    /// The page's status streams and their watchers.
    status_streams: Arc<StatusStreams>,
    page: Page,
    /// Request handlers running to completion in tasks of their own (see `api::detached`).
    detached: tokio_util::task::TaskTracker,
    /// The simulator, in sandbox mode only.
    sandbox: Option<Sandbox>,
}

impl axum::extract::FromRef<AppState> for Page {
    fn from_ref(state: &AppState) -> Self {
        state.0.page.clone()
    }
}

impl axum::extract::FromRef<AppState> for Services {
    fn from_ref(state: &AppState) -> Self {
        state.0.services.clone()
    }
}

impl AppState {
    /// Bundles the parts built at start.
    #[must_use]
    pub fn new(config: Config, services: Services, page: Page, sandbox: Option<Sandbox>) -> Self {
        Self(Arc::new(Inner {
            limiter: ShopperLimiter::new(config.shopper_rate_limit),
            status_streams: StatusStreams::new(config.limits),
            auth_failures: FailureGate::new(config.limits.auth_failures_per_minute),
            notify_refusals: FailureGate::new(config.limits.notify_refusals_per_minute),
            login_failures: FailureGate::new(LOGIN_FAILURES_PER_MINUTE),
            services,
            config,
            page,
            detached: tokio_util::task::TaskTracker::new(),
            sandbox,
        }))
    }

    /// The services every payment goes through.
    #[must_use]
    pub fn services(&self) -> &Services {
        &self.0.services
    }

    /// The validated configuration.
    #[must_use]
    pub fn config(&self) -> &Config {
        &self.0.config
    }

    /// The public base URL (set at bind time when not configured).
    #[must_use]
    pub fn public_url(&self) -> url::Url {
        self.0.services.urls().public().clone()
    }

    /// Completes when new webhook deliveries were committed.
    pub async fn outbox_wait(&self) {
        self.0.services.signals().outbox_wait().await;
    }

    /// Delivers a change to this instance's streams.
    pub fn publish_local(&self, session: &str) {
        self.0.services.signals().publish_local(session);
    }

    /// Failed API authentications, per client.
    #[must_use]
    pub fn auth_failures(&self) -> &FailureGate {
        &self.0.auth_failures
    }

    /// Refused provider notifications, per client.
    #[must_use]
    pub fn notify_refusals(&self) -> &FailureGate {
        &self.0.notify_refusals
    }

    /// Failed dashboard sign-ins, per client.
    #[must_use]
    pub fn login_failures(&self) -> &FailureGate {
        &self.0.login_failures
    }

    /// The page's status streams.
    #[must_use]
    pub fn status_streams(&self) -> &Arc<StatusStreams> {
        &self.0.status_streams
    }

    /// The shopper API's per-IP limiter.
    #[must_use]
    pub fn shopper_limiter(&self) -> &ShopperLimiter {
        &self.0.limiter
    }

    /// The tasks request handlers run in; a graceful shutdown waits for them.
    #[must_use]
    pub fn detached(&self) -> &tokio_util::task::TaskTracker {
        &self.0.detached
    }

    /// The database (reads by the merchant API and the tests).
    #[must_use]
    pub fn store(&self) -> &Store {
        self.0.services.store()
    }

    /// Metric families.
    #[must_use]
    pub fn metrics(&self) -> &Metrics {
        self.0.services.metrics()
    }

    /// The built checkout page.
    #[must_use]
    pub fn page(&self) -> &Page {
        &self.0.page
    }

    /// The WeChat clients, when WeChat Pay is configured.
    #[must_use]
    pub fn wechat(&self) -> Option<&WechatClients> {
        self.0.services.wechat()
    }

    /// The provider that pays with `method`, when it is configured.
    #[must_use]
    pub fn provider(&self, method: crate::domain::PaymentMethod) -> Option<&dyn PaymentProvider> {
        self.0.services.provider(method)
    }

    /// The sandbox simulator (sandbox mode only).
    #[must_use]
    pub fn sandbox(&self) -> Option<&Sandbox> {
        self.0.sandbox.as_ref()
    }
}
