//! The demo merchant's side of the merchant API: a plain HTTP client of `/v1` on this server's
//! public URL with the sandbox key, exactly what a merchant's backend would do.

use std::path::PathBuf;
use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use url::Url;

use super::catalog::Product;
use crate::secret::Secret;

/// The file `crate::sandbox_key` keeps the sandbox key in, inside the data dir.
const KEY_FILE: &str = "sandbox_api_key";

/// Why a call to the merchant API failed.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("cannot read the sandbox API key: {0}")]
    Key(#[source] std::io::Error),
    #[error("the merchant API did not answer: {0}")]
    Http(#[from] reqwest::Error),
    #[error("the merchant API answered {status}: {message}")]
    Status { status: u16, message: String },
    #[error("cannot build the URL of {0}")]
    Url(String),
}

/// The parts of a `checkout.session` the demo shows.
#[derive(Debug, Clone, Deserialize)]
pub struct Session {
    pub id: String,
    pub url: String,
    pub status: String,
    pub amount: i64,
    pub description: String,
}

/// The parts of a `webhook_endpoint` the demo needs.
#[derive(Debug, Clone, Deserialize)]
struct Endpoint {
    id: String,
    url: String,
    secret: Option<String>,
}

#[derive(Debug, Deserialize)]
struct List<T> {
    data: Vec<T>,
}

#[derive(Debug, Deserialize)]
struct ErrorBody {
    error: ErrorDetail,
}

#[derive(Debug, Deserialize)]
struct ErrorDetail {
    message: String,
}

/// A `/v1` client for the demo merchant.
#[derive(Debug, Clone)]
pub struct MerchantApi {
    http: reqwest::Client,
    base: Url,
    key_path: PathBuf,
}

impl MerchantApi {
    /// A client of the API under `base`, authenticating with the key file in `data_dir`.
    ///
    /// # Errors
    /// When the HTTP client cannot be built.
    pub fn new(base: Url, data_dir: &std::path::Path) -> Result<Self, reqwest::Error> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .redirect(reqwest::redirect::Policy::none())
            .user_agent("paybridge demo merchant")
            .build()?;
        Ok(Self {
            http,
            base,
            key_path: data_dir.join(KEY_FILE),
        })
    }

    /// Creates a checkout session for `product`, order `order`. The same order sends the same
    /// body with the same `Idempotency-Key`, so a double submit yields one session.
    ///
    /// # Errors
    /// [`ApiError`] when the API refuses or cannot be reached.
    pub async fn create_session(
        &self,
        product: &Product,
        order: &str,
        success_url: &Url,
        cancel_url: &Url,
    ) -> Result<Session, ApiError> {
        // Listed as a line item (the page shows it; WeChat Pay and Alipay get it as goods
        // details), and recoverable once expired, as a real shop would ask.
        let body = json!({
            "line_items": [{
                "name": format!("{} / {}", product.name_zh, product.name_en),
                "quantity": 1,
                "unit_amount": product.amount,
                "sku": product.id,
            }],
            "after_expiration": {"recovery": {"enabled": true}},
            "currency": "cny",
            "description": format!("{} / {}", product.name_zh, product.name_en),
            "merchant_reference": order,
            "success_url": success_url.as_str(),
            "cancel_url": cancel_url.as_str(),
            "metadata": {"product": product.id, "source": "demo store"},
            "payment_methods": ["wechat_pay", "alipay"],
        });
        let url = self.url(&["v1", "checkout_sessions"])?;
        let idempotency_key = format!("demo-buy-{order}");
        self.send(Method::POST, url, Some(&body), Some(&idempotency_key))
            .await
    }

    /// `GET /v1/checkout_sessions/{id}`.
    ///
    /// # Errors
    /// [`ApiError`] when the API refuses or cannot be reached.
    pub async fn session(&self, id: &str) -> Result<Session, ApiError> {
        let url = self.url(&["v1", "checkout_sessions", id])?;
        self.send(Method::GET, url, None, None).await
    }

    /// Registers `url` for every event and returns the new secret. Endpoints already registered
    /// for the same URL are deleted first: their secret was shown once, to an earlier process,
    /// and keeping them would pile up duplicate deliveries at every start.
    ///
    /// # Errors
    /// [`ApiError`] when the API refuses or cannot be reached.
    pub async fn replace_endpoint(&self, url: &Url) -> Result<Secret<String>, ApiError> {
        let list_url = self.url(&["v1", "webhook_endpoints"])?;
        let existing: List<Endpoint> = self.send(Method::GET, list_url.clone(), None, None).await?;
        for old in existing.data.iter().filter(|e| e.url == url.as_str()) {
            let delete_url = self.url(&["v1", "webhook_endpoints", &old.id])?;
            let res = self.request(Method::DELETE, delete_url, None, None).await?;
            // Someone else deleting it first is as good.
            if !(res.status().is_success() || res.status() == StatusCode::NOT_FOUND) {
                return Err(status_error(res).await);
            }
            tracing::info!(endpoint = %old.id, "demo merchant replaced its old webhook endpoint");
        }
        // No Idempotency-Key: a stored replay would keep the secret in the idempotency table.
        let body = json!({"url": url.as_str(), "enabled_events": ["*"]});
        let created: Endpoint = self.send(Method::POST, list_url, Some(&body), None).await?;
        let secret = created.secret.ok_or_else(|| ApiError::Status {
            status: 200,
            message: "the new webhook endpoint came without its secret".to_owned(),
        })?;
        tracing::info!(endpoint = %created.id, "demo merchant registered its webhook endpoint");
        Ok(Secret::new(secret))
    }

    fn url(&self, segments: &[&str]) -> Result<Url, ApiError> {
        let mut url = self.base.clone();
        url.path_segments_mut()
            .map_err(|()| ApiError::Url(segments.join("/")))?
            .pop_if_empty()
            .extend(segments);
        Ok(url)
    }

    async fn key(&self) -> Result<String, ApiError> {
        let text = tokio::fs::read_to_string(&self.key_path)
            .await
            .map_err(ApiError::Key)?;
        Ok(text.trim().to_owned())
    }

    async fn request(
        &self,
        method: Method,
        url: Url,
        body: Option<&Value>,
        idempotency_key: Option<&str>,
    ) -> Result<reqwest::Response, ApiError> {
        let mut req = self
            .http
            .request(method, url)
            .bearer_auth(self.key().await?);
        if let Some(body) = body {
            req = req.json(body);
        }
        if let Some(key) = idempotency_key {
            req = req.header("idempotency-key", key);
        }
        Ok(req.send().await?)
    }

    async fn send<T: DeserializeOwned>(
        &self,
        method: Method,
        url: Url,
        body: Option<&Value>,
        idempotency_key: Option<&str>,
    ) -> Result<T, ApiError> {
        let res = self.request(method, url, body, idempotency_key).await?;
        if !res.status().is_success() {
            return Err(status_error(res).await);
        }
        Ok(res.json().await?)
    }
}

async fn status_error(res: reqwest::Response) -> ApiError {
    let status = res.status().as_u16();
    let message = res
        .json::<ErrorBody>()
        .await
        .map_or_else(|_| "no error message".to_owned(), |b| b.error.message);
    ApiError::Status { status, message }
}
