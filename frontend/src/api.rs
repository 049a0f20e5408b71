//! Calls to the BFF's shopper API.

use gloo_net::http::Request;
use paybridge_shared::{ApiErrorBody, CheckoutView};

/// Why the view model could not be loaded, in terms the page can explain to a shopper.
#[derive(Clone, Debug)]
pub enum LoadError {
    NotFound,
    Failed(String),
}

/// `GET /api/checkout/{id}`.
pub async fn checkout_view(id: &str) -> Result<CheckoutView, LoadError> {
    let url = format!("/api/checkout/{}", js_sys::encode_uri_component(id));
    let res = Request::get(&url).send().await.map_err(|_| {
        LoadError::Failed(
            "We could not reach the payment server. Check your connection and try again.".into(),
        )
    })?;
    if res.ok() {
        return res.json::<CheckoutView>().await.map_err(|_| {
            LoadError::Failed(
                "The payment server sent an answer this page does not understand.".into(),
            )
        });
    }
    if res.status() == 404 {
        return Err(LoadError::NotFound);
    }
    let message = match res.json::<ApiErrorBody>().await {
        Ok(body) => body.error.message,
        Err(_) => format!("The payment server answered {}.", res.status()),
    };
    Err(LoadError::Failed(message))
}
