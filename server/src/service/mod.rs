//! The service layer: everything paybridge does with money, independent of HTTP. Checkout
//! sessions, paying, completing from verified provider reports, refunds, reconciliation, and the
//! objects the API and webhooks show — for the hosted page, the merchant API, background jobs
//! and any future front alike. Services return [`ServiceError`]; the HTTP layer alone decides
//! what status that is.

pub mod api_keys;
pub mod audit;
pub mod bills;
pub mod browse;
pub mod complete;
pub mod contents;
pub mod error;
pub mod insights;
pub mod intents;
pub mod keys;
pub mod oauth_state;
pub mod objects;
pub mod operators;
pub mod pay;
pub mod payment_links;
pub mod qr_png;
pub mod reconciliations;
pub mod refunds;
pub mod sessions;
pub mod sign_in;
pub mod signals;
pub mod success;
pub mod terms;
pub mod timeline;
pub mod urls;
pub mod webhooks;
mod write;

use std::sync::Arc;

pub use error::ServiceError;
pub use signals::Signals;
pub use urls::Urls;
pub use write::{Changed, Write};

use crate::metrics::Metrics;
use crate::providers::wechat::WechatClients;
use crate::providers::{PaymentProvider, Providers};
use crate::secret::Secret;
use crate::store::{Batched, Store};

/// What the merchant's input is held to.
#[derive(Debug, Clone)]
pub struct Rules {
    /// Largest amount of a session, in minor units.
    pub max_amount: i64,
    /// Origins success/cancel URLs must belong to; empty means any https origin.
    pub redirect_origins: Vec<String>,
    /// Live mode: private networks webhook endpoints may nevertheless reach.
    pub webhook_allowed_networks: Vec<ipnet::IpNet>,
}

/// What the services share: a cheap `Clone` of an `Arc`.
#[derive(Clone)]
pub struct Services(Arc<Inner>);

struct Inner {
    store: Store,
    providers: Providers,
    urls: Urls,
    signals: Signals,
    /// Payment successes, written in groups on SQLite.
    successes: Batched<success::Success, success::Written>,
    /// Recent attempts' terms, for checking notifications without a read.
    recent_terms: terms::RecentTerms,
    metrics: Metrics,
    /// Signs OAuth states and sealed openids.
    secret_key: Secret<String>,
    livemode: bool,
    rules: Rules,
}

/// What [`Services::new`] is built from.
pub struct Parts {
    pub store: Store,
    pub providers: Providers,
    pub urls: Urls,
    pub metrics: Metrics,
    pub secret_key: Secret<String>,
    pub livemode: bool,
    pub rules: Rules,
}

impl Services {
    /// Bundles the parts built at start.
    ///
    /// # Errors
    /// When the payment-success writer or the change notifier cannot be started.
    pub fn new(parts: Parts) -> std::io::Result<Self> {
        let successes = parts
            .store
            .batched(success::writer(parts.urls.clone(), parts.livemode))?;
        Ok(Self(Arc::new(Inner {
            signals: Signals::new(&parts.store)?,
            store: parts.store,
            providers: parts.providers,
            urls: parts.urls,
            successes,
            recent_terms: terms::RecentTerms::default(),
            metrics: parts.metrics,
            secret_key: parts.secret_key,
            livemode: parts.livemode,
            rules: parts.rules,
        })))
    }

    /// The database.
    #[must_use]
    pub fn store(&self) -> &Store {
        &self.0.store
    }

    /// The configured providers.
    #[must_use]
    pub fn providers(&self) -> &Providers {
        &self.0.providers
    }

    /// The provider that pays with `method`, when it is configured.
    #[must_use]
    pub fn provider(&self, method: crate::domain::PaymentMethod) -> Option<&dyn PaymentProvider> {
        self.0.providers.get(method)
    }

    /// The WeChat clients, when WeChat Pay is configured.
    #[must_use]
    pub fn wechat(&self) -> Option<&WechatClients> {
        self.0.providers.wechat()
    }

    /// The URLs paybridge hands out about itself.
    #[must_use]
    pub fn urls(&self) -> &Urls {
        &self.0.urls
    }

    /// Change signals (webhook worker, status streams).
    #[must_use]
    pub fn signals(&self) -> &Signals {
        &self.0.signals
    }

    /// Metric families.
    #[must_use]
    pub fn metrics(&self) -> &Metrics {
        &self.0.metrics
    }

    /// The server's secret for signed tokens.
    #[must_use]
    pub fn secret_key(&self) -> &str {
        self.0.secret_key.expose()
    }

    /// Whether this server moves real money (its objects say `livemode: true`).
    #[must_use]
    pub fn livemode(&self) -> bool {
        self.0.livemode
    }

    /// What the merchant's input is held to.
    #[must_use]
    pub fn rules(&self) -> &Rules {
        &self.0.rules
    }

    /// Recent attempts' terms (see [`terms`]).
    #[must_use]
    pub fn recent_terms(&self) -> &terms::RecentTerms {
        &self.0.recent_terms
    }

    /// Writes a payment success (see [`success`]).
    ///
    /// # Errors
    /// On a database error.
    pub async fn write_success(
        &self,
        success: success::Success,
    ) -> Result<success::Written, sqlx::Error> {
        self.0.successes.submit(success).await
    }
}
