//! The APIv3 transport: signs each request over the exact bytes sent, verifies each 2xx answer
//! over the raw body, times out every call and retries idempotent calls with jitter.

use std::sync::Arc;
use std::time::Duration;

use reqwest::Method;
use reqwest::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, HeaderMap, USER_AGENT};
use serde::Serialize;
use serde::de::DeserializeOwned;
use url::Url;

use super::aead::ApiV3Key;
use super::certificates::{CERTIFICATES_PATH, PlatformKeys, decrypt_certificates};
use super::clock::Clock;
use super::crypto::PublicKey;
use super::error::{ApiErrorCode, WechatError};
use super::retry::RetryPolicy;
use super::signer::{SignedHeaders, SigningIdentity, header, new_nonce};
use super::verifier::{PUBLIC_KEY_ID_PREFIX, VerifyError, verify_signed_body};

/// Everything the client needs; all of it comes from configuration.
#[derive(Debug)]
pub struct WechatPayConfig {
    pub mchid: String,
    /// `WECHAT_PAY_API_BASE`, e.g. WeChat's API host or the sandbox's `/sandbox/wechat/pay`.
    pub api_base: Url,
    /// The merchant key and its certificate serial.
    pub merchant: SigningIdentity,
    pub apiv3_key: ApiV3Key,
    pub platform_keys: PlatformKeys,
    /// Whole-call timeout, connection included.
    pub timeout: Duration,
    pub retry: RetryPolicy,
}

/// A WeChat Pay APIv3 client for one merchant. Cheap to share behind an `Arc`.
pub struct WechatPayClient {
    http: reqwest::Client,
    config: WechatPayConfig,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for WechatPayClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WechatPayClient")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

/// An answer as received: status, headers and the raw body bytes.
#[derive(Debug, Clone)]
pub struct RawResponse {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

/// Whether a call may be repeated safely (same `out_trade_no` / `out_refund_no`, queries, close).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Idempotency {
    Idempotent,
    Once,
}

/// Whether the answer is signed by WeChat (bill files are not).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Verification {
    Required,
    /// `/v3/certificates` is verified by its caller with the certificates it carries.
    Deferred,
    /// Downloaded bill files: integrity comes from the SHA1 in a verified answer.
    Unsigned,
}

impl WechatPayClient {
    /// Builds a client with its own HTTP connection pool.
    pub fn new(config: WechatPayConfig, clock: Arc<dyn Clock>) -> Result<Self, WechatError> {
        let builder = reqwest::Client::builder()
            .timeout(config.timeout)
            .connect_timeout(config.timeout);
        let http = crate::tls_roots::with_extra_roots(builder)
            .map_err(|e| WechatError::InvalidRequest(format!("HTTP client: {e}")))?
            .build()
            .map_err(|e| WechatError::InvalidRequest(format!("HTTP client: {e}")))?;
        Ok(Self {
            http,
            config,
            clock,
        })
    }

    /// Gives the configuration back (to rebuild a client with other settings).
    #[must_use]
    pub fn into_config(self) -> WechatPayConfig {
        self.config
    }

    /// The merchant id the client signs for.
    #[must_use]
    pub fn mchid(&self) -> &str {
        &self.config.mchid
    }

    /// The platform keys (to inspect, or to install certificates loaded elsewhere).
    #[must_use]
    pub const fn platform_keys(&self) -> &PlatformKeys {
        &self.config.platform_keys
    }

    /// The merchant's signing identity (JSAPI pay params are signed with it).
    #[must_use]
    pub const fn merchant(&self) -> &SigningIdentity {
        &self.config.merchant
    }

    /// The clock used for timestamps and the verification window.
    #[must_use]
    pub fn now_unix(&self) -> i64 {
        self.clock.now_unix()
    }

    /// Sends a JSON request and decodes a verified JSON answer.
    pub(crate) async fn call_json<Req: Serialize + ?Sized, Resp: DeserializeOwned>(
        &self,
        method: Method,
        path_with_query: &str,
        body: Option<&Req>,
        idempotency: Idempotency,
    ) -> Result<Resp, WechatError> {
        let response = self
            .call(method, path_with_query, body, idempotency)
            .await?;
        serde_json::from_slice(&response.body).map_err(|e| WechatError::InvalidResponse {
            status: response.status,
            detail: format!("{path_with_query}: {e}"),
        })
    }

    /// Sends a request and returns the verified raw answer (2xx only).
    pub(crate) async fn call<Req: Serialize + ?Sized>(
        &self,
        method: Method,
        path_with_query: &str,
        body: Option<&Req>,
        idempotency: Idempotency,
    ) -> Result<RawResponse, WechatError> {
        let url = self.url(path_with_query)?;
        let body = body
            .map(serde_json::to_vec)
            .transpose()
            .map_err(|e| WechatError::InvalidRequest(e.to_string()))?;
        self.execute(
            &method,
            &url,
            body.as_deref(),
            idempotency,
            Verification::Required,
        )
        .await
    }

    /// Signed GET of an absolute URL on the API's origin whose answer is not signed (bill files).
    pub(crate) async fn get_unsigned(&self, url: &Url) -> Result<RawResponse, WechatError> {
        let base = &self.config.api_base;
        if url.origin() != base.origin() {
            return Err(WechatError::InvalidRequest(format!(
                "download URL is not on the API origin: {url}"
            )));
        }
        self.execute(
            &Method::GET,
            url,
            None,
            Idempotency::Idempotent,
            Verification::Unsigned,
        )
        .await
    }

    fn url(&self, path_with_query: &str) -> Result<Url, WechatError> {
        let base = self.config.api_base.as_str().trim_end_matches('/');
        Url::parse(&format!("{base}{path_with_query}"))
            .map_err(|e| WechatError::InvalidRequest(format!("URL: {e}")))
    }

    async fn execute(
        &self,
        method: &Method,
        url: &Url,
        body: Option<&[u8]>,
        idempotency: Idempotency,
        verification: Verification,
    ) -> Result<RawResponse, WechatError> {
        let mut failed = 0;
        loop {
            let result = self.execute_once(method, url, body, verification).await;
            match result {
                Err(e) if idempotency == Idempotency::Idempotent && e.retryable() => {
                    failed += 1;
                    let Some(delay) = self.config.retry.delay(failed, rand::random::<f64>()) else {
                        return Err(e);
                    };
                    tracing::warn!(error = %e, attempt = failed, ?delay, "WeChat Pay call failed; retrying");
                    tokio::time::sleep(delay).await;
                }
                other => return other,
            }
        }
    }

    async fn execute_once(
        &self,
        method: &Method,
        url: &Url,
        body: Option<&[u8]>,
        verification: Verification,
    ) -> Result<RawResponse, WechatError> {
        // Sign exactly the request-target that goes on the wire, base path prefix included.
        let path_with_query = match url.query() {
            Some(q) => format!("{}?{q}", url.path()),
            None => url.path().to_owned(),
        };
        let timestamp = self.clock.now_unix().to_string();
        let nonce = new_nonce();
        let body = body.unwrap_or_default();
        let authorization = self.config.merchant.authorization(
            &self.config.mchid,
            method.as_str(),
            &path_with_query,
            body,
            &timestamp,
            &nonce,
        )?;
        let mut request = self
            .http
            .request(method.clone(), url.clone())
            .header(AUTHORIZATION, authorization)
            .header(ACCEPT, "application/json")
            .header(USER_AGENT, concat!("paybridge/", env!("CARGO_PKG_VERSION")));
        if let Some(serial) = self.config.platform_keys.preferred_serial() {
            request = request.header(header::SERIAL, serial);
        }
        if !body.is_empty() {
            request = request
                .header(CONTENT_TYPE, "application/json")
                .body(body.to_vec());
        }
        let response = request
            .send()
            .await
            .map_err(|e| WechatError::from_reqwest(&e))?;
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let body = response
            .bytes()
            .await
            .map_err(|e| WechatError::from_reqwest(&e))?
            .to_vec();
        let raw = RawResponse {
            status,
            headers,
            body,
        };
        if !(200..300).contains(&status) {
            return Err(api_error(&raw));
        }
        if verification == Verification::Required {
            self.verify_response(&raw).await?;
        }
        Ok(raw)
    }

    /// Verifies a 2xx answer: a missing signature is a forgery, not an unsigned success.
    async fn verify_response(&self, raw: &RawResponse) -> Result<(), WechatError> {
        let headers =
            SignedHeaders::from_header_map(&raw.headers).ok_or(VerifyError::MissingHeaders)?;
        let key = self.platform_key(&headers.serial).await?;
        verify_signed_body(&key, &headers, &raw.body, self.clock.now_unix())?;
        Ok(())
    }

    /// The key for `serial`; an unknown certificate serial triggers one (rate-limited) refresh.
    pub async fn platform_key(&self, serial: &str) -> Result<PublicKey, WechatError> {
        let keys = &self.config.platform_keys;
        if let Some(key) = keys.get(serial) {
            return Ok(key);
        }
        if serial.starts_with(PUBLIC_KEY_ID_PREFIX) {
            return Err(VerifyError::UnknownSerial(serial.to_owned()).into());
        }
        if let Some(_gate) = keys.claim_refresh().await {
            // Another miss may have refreshed while we waited for the gate.
            if keys.get(serial).is_none() {
                // Boxed: the refresh itself goes through `execute`, which may land back here.
                if let Err(e) = Box::pin(self.refresh_certificates_now()).await {
                    tracing::warn!(error = %e, "platform certificate refresh failed");
                }
            }
        }
        keys.get(serial)
            .ok_or_else(|| VerifyError::UnknownSerial(serial.to_owned()).into())
    }

    /// Downloads `/v3/certificates`, decrypts it, verifies the answer with the certificates it
    /// carries (or those already known) and installs them. Returns how many were installed.
    pub async fn refresh_certificates(&self) -> Result<usize, WechatError> {
        self.refresh_certificates_now().await
    }

    async fn refresh_certificates_now(&self) -> Result<usize, WechatError> {
        let url = self.url(CERTIFICATES_PATH)?;
        let raw = self
            .execute(
                &Method::GET,
                &url,
                None,
                Idempotency::Idempotent,
                Verification::Deferred,
            )
            .await?;
        let backend = self.config.merchant.key().backend();
        let certificates = decrypt_certificates(backend, &raw.body, &self.config.apiv3_key)?;
        let headers =
            SignedHeaders::from_header_map(&raw.headers).ok_or(VerifyError::MissingHeaders)?;
        let key = certificates
            .iter()
            .find(|c| c.serial_no == headers.serial)
            .map(|c| c.public_key.clone())
            .or_else(|| self.config.platform_keys.get(&headers.serial))
            .ok_or_else(|| VerifyError::UnknownSerial(headers.serial.clone()))?;
        let now = self.clock.now_unix();
        verify_signed_body(&key, &headers, &raw.body, now)?;
        // An expired certificate must not verify anything, even if WeChat still lists it.
        let certificates: Vec<_> = certificates
            .into_iter()
            .filter(|c| c.not_after > now)
            .collect();
        let count = certificates.len();
        self.config.platform_keys.install(certificates);
        Ok(count)
    }

    /// The APIv3 key notifications and certificates are encrypted with.
    pub(super) const fn apiv3_key(&self) -> &ApiV3Key {
        &self.config.apiv3_key
    }

    /// Refreshes certificates every `every` until the handle is aborted (only when downloads are on).
    #[must_use]
    pub fn spawn_certificate_refresh(
        self: &Arc<Self>,
        every: Duration,
    ) -> tokio::task::JoinHandle<()> {
        let client = Arc::clone(self);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            loop {
                tick.tick().await;
                if !client.config.platform_keys.downloads() {
                    return;
                }
                if let Err(e) = client.refresh_certificates().await {
                    tracing::warn!(error = %e, "periodic platform certificate refresh failed");
                }
            }
        })
    }
}

#[derive(serde::Deserialize)]
struct ApiErrorBody {
    code: String,
    #[serde(default)]
    message: String,
}

fn api_error(raw: &RawResponse) -> WechatError {
    let status = raw.status;
    match serde_json::from_slice::<ApiErrorBody>(&raw.body) {
        Ok(body) => WechatError::Api {
            status,
            code: ApiErrorCode::parse(&body.code),
            message: body.message,
        },
        Err(_) if status >= 500 || status == 429 => WechatError::Api {
            status,
            code: ApiErrorCode::Other(format!("HTTP_{status}")),
            message: String::from_utf8_lossy(&raw.body)
                .chars()
                .take(200)
                .collect(),
        },
        Err(e) => WechatError::InvalidResponse {
            status,
            detail: format!("error body: {e}"),
        },
    }
}
