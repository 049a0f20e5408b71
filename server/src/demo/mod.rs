//! Sandbox mode's demo store at `/`: a few products whose "Buy" goes through a small server-side
//! demo merchant. It uses the merchant API like any merchant backend would — over HTTP on this
//! server's public URL, with the sandbox key — redirects the shopper to the hosted checkout, and
//! lists the signed webhooks it receives at `/demo/webhooks`.
//!
//! Nothing here is mounted in live mode ([`router`] is empty there and `/` stays the page).

mod catalog;
mod inbox;
mod merchant;
mod pages;
mod shop;

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, PoisonError, RwLock};

use axum::Router;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use url::Url;

use crate::config::Mode;
use crate::secret::Secret;
use crate::state::AppState;

pub use catalog::{PRODUCTS, Product};
use merchant::MerchantApi;

const STYLESHEET: &str = include_str!("../../../static/demo/demo.css");
/// Orders remembered for the thanks page.
const ORDERS_KEPT: usize = 200;

/// True when the demo store serves `/` (sandbox mode); otherwise `/` is the checkout page.
#[must_use]
pub fn owns_root(state: &AppState) -> bool {
    state.config().mode == Mode::Sandbox
}

/// The demo merchant: its API client, its webhook secret and what it has seen. A cheap `Clone`.
#[derive(Clone)]
pub struct Demo(Arc<Inner>);

struct Inner {
    api: MerchantApi,
    public_url: Url,
    /// Serialises registration, so concurrent first visitors register one endpoint.
    registering: tokio::sync::Mutex<()>,
    /// The `whsec_` of the endpoint this process registered; shown by the API only once.
    webhook_secret: RwLock<Option<Secret<String>>>,
    inbox: inbox::Inbox,
    /// (order, session id), newest first.
    orders: Mutex<VecDeque<(String, String)>>,
}

impl Demo {
    fn new(state: &AppState) -> Result<Self, reqwest::Error> {
        let public_url = state.public_url();
        Ok(Self(Arc::new(Inner {
            api: MerchantApi::new(public_url.clone(), &state.config().data_dir)?,
            public_url,
            registering: tokio::sync::Mutex::new(()),
            webhook_secret: RwLock::new(None),
            inbox: inbox::Inbox::default(),
            orders: Mutex::new(VecDeque::new()),
        })))
    }

    fn api(&self) -> &MerchantApi {
        &self.0.api
    }

    fn public_url(&self) -> &Url {
        &self.0.public_url
    }

    fn inbox(&self) -> &inbox::Inbox {
        &self.0.inbox
    }

    fn webhook_secret(&self) -> Option<Secret<String>> {
        self.0
            .webhook_secret
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    fn url(&self, path: &str) -> Result<Url, url::ParseError> {
        self.0.public_url.join(path)
    }

    /// Where the checkout sends the shopper back: the thanks page for `order`, or the store.
    fn return_urls(&self, order: &str) -> Result<(Url, Url), url::ParseError> {
        let mut success = self.url("demo/thanks")?;
        success.query_pairs_mut().append_pair("order", order);
        Ok((success, self.url("")?))
    }

    /// Registers `<public>/demo/webhooks` once per process, replacing an endpoint left by an
    /// earlier run (its secret is gone with that process).
    async fn ensure_webhook_endpoint(&self) -> Result<(), String> {
        if self.webhook_secret().is_some() {
            return Ok(());
        }
        let _guard = self.0.registering.lock().await;
        if self.webhook_secret().is_some() {
            return Ok(());
        }
        let url = self.url("demo/webhooks").map_err(|e| e.to_string())?;
        let secret = self
            .api()
            .replace_endpoint(&url)
            .await
            .map_err(|e| e.to_string())?;
        *self
            .0
            .webhook_secret
            .write()
            .unwrap_or_else(PoisonError::into_inner) = Some(secret);
        Ok(())
    }

    fn remember_order(&self, order: &str, session_id: &str) {
        let mut orders = self.0.orders.lock().unwrap_or_else(PoisonError::into_inner);
        if orders.iter().any(|(o, _)| o == order) {
            return;
        }
        orders.push_front((order.to_owned(), session_id.to_owned()));
        orders.truncate(ORDERS_KEPT);
    }

    fn session_of(&self, order: &str) -> Option<String> {
        self.0
            .orders
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .find(|(o, _)| o == order)
            .map(|(_, s)| s.clone())
    }
}

async fn stylesheet() -> Response {
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/css; charset=utf-8"),
            ),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
        ],
        STYLESHEET,
    )
        .into_response()
}

/// The demo store's routes in sandbox mode (including `/`); an empty router in live mode.
pub fn router(state: &AppState) -> Router<AppState> {
    if !owns_root(state) {
        return Router::new();
    }
    let demo = match Demo::new(state) {
        Ok(demo) => demo,
        Err(e) => {
            tracing::error!(error = %e, "demo store unavailable: cannot build its HTTP client");
            return Router::new().route(
                "/",
                get(|| async {
                    (
                        StatusCode::SERVICE_UNAVAILABLE,
                        "The demo store could not start; see the log.",
                    )
                }),
            );
        }
    };
    Router::new()
        .route("/", get(shop::store))
        .route("/demo/buy", post(shop::buy))
        .route("/demo/thanks", get(shop::thanks))
        .route("/demo/webhooks", post(inbox::receive))
        .route(pages::STYLESHEET_PATH, get(stylesheet))
        .with_state(demo)
}
