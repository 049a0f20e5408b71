//! Calls to the BFF's shopper API.

use gloo_net::http::{Request, Response};
use paybridge_shared::{
    ApiErrorBody, CheckoutView, Environment, NextAction, PayRequest, StatusView,
};
use serde::de::DeserializeOwned;

/// Why a call failed, in terms the page can explain to a shopper.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ApiError {
    /// 404: no such checkout.
    NotFound,
    /// The server could not be reached.
    Network,
    /// The answer was not what the page expects.
    BadAnswer,
    /// WeChat Pay refused (502 `provider_error`).
    Provider,
    /// Any other error, with the server's message.
    Server(String),
}

/// `/api/checkout/{id}`.
pub fn base(id: &str) -> String {
    format!("/api/checkout/{}", js_sys::encode_uri_component(id))
}

async fn read<T: DeserializeOwned>(res: Result<Response, gloo_net::Error>) -> Result<T, ApiError> {
    let res = res.map_err(|_| ApiError::Network)?;
    if res.ok() {
        return res.json::<T>().await.map_err(|_| ApiError::BadAnswer);
    }
    if res.status() == 404 {
        return Err(ApiError::NotFound);
    }
    match res.json::<ApiErrorBody>().await {
        Ok(body) if body.error.code.starts_with("provider_") => Err(ApiError::Provider),
        Ok(body) => Err(ApiError::Server(body.error.message)),
        Err(_) => Err(ApiError::BadAnswer),
    }
}

/// `GET /api/checkout/{id}`.
pub async fn checkout_view(id: &str) -> Result<CheckoutView, ApiError> {
    read(Request::get(&base(id)).send().await).await
}

/// `POST /api/checkout/{id}/pay`.
pub async fn pay(
    id: &str,
    environment: Environment,
    prefer_qr: bool,
) -> Result<NextAction, ApiError> {
    let body = PayRequest {
        method: "wechat_pay".into(),
        environment: Some(environment),
        prefer: prefer_qr.then(|| "qr".to_owned()),
    };
    let req = Request::post(&format!("{}/pay", base(id)))
        .json(&body)
        .map_err(|_| ApiError::BadAnswer)?;
    read(req.send().await).await
}

/// `GET /api/checkout/{id}/status`.
pub async fn status(id: &str) -> Result<StatusView, ApiError> {
    read(Request::get(&format!("{}/status", base(id))).send().await).await
}
