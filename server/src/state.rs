//! Shared application state: a cheap `Clone` of `Arc`s.

use std::sync::Arc;

use crate::config::Config;
use crate::metrics::Metrics;
use crate::store::Store;
use crate::web::page::Page;

/// Everything handlers share.
#[derive(Clone)]
pub struct AppState(Arc<Inner>);

struct Inner {
    config: Config,
    store: Store,
    metrics: Metrics,
    page: Page,
}

impl AppState {
    /// Bundles the parts built at start.
    #[must_use]
    pub fn new(config: Config, store: Store, metrics: Metrics, page: Page) -> Self {
        Self(Arc::new(Inner {
            config,
            store,
            metrics,
            page,
        }))
    }

    /// The validated configuration.
    #[must_use]
    pub fn config(&self) -> &Config {
        &self.0.config
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
}
