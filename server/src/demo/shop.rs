//! The store's handlers: `GET /` (products and received webhooks), `POST /demo/buy` (create a
//! checkout session through the merchant API, then 303 to its hosted page) and
//! `GET /demo/thanks` (where the session's success URL returns the shopper).

use axum::extract::rejection::{FormRejection, QueryRejection};
use axum::extract::{Form, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use rand::Rng as _;
use rand::distributions::Alphanumeric;
use serde::Deserialize;
use url::Url;

use super::catalog::{self, PRODUCTS};
use super::{Demo, pages};

/// What the buy form posts: a product id and the order number the store page handed out.
/// Never a price.
#[derive(Debug, Deserialize)]
pub struct BuyForm {
    product: String,
    order: Option<String>,
}

/// The query of the success URL.
#[derive(Debug, Deserialize)]
pub struct ThanksQuery {
    order: Option<String>,
}

/// A fresh order number, `demo_` + 20 letters and digits.
fn new_order() -> String {
    let suffix: String = rand::thread_rng()
        .sample_iter(&Alphanumeric)
        .take(20)
        .map(char::from)
        .collect();
    format!("demo_{suffix}")
}

/// Order numbers are ours: `demo_` and 8–40 letters, digits, `_` or `-`.
fn is_order(s: &str) -> bool {
    s.strip_prefix("demo_").is_some_and(|rest| {
        (8..=40).contains(&rest.len())
            && rest
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    })
}

/// True when the request comes from a page of this server: `Origin` (which browsers send with
/// every form POST) or, failing that, `Referer` must have the public URL's origin. A request
/// with neither is refused too, so a cross-site form cannot buy by suppressing both.
fn same_origin(headers: &HeaderMap, public_url: &Url) -> bool {
    let expected = public_url.origin().ascii_serialization();
    if let Some(origin) = headers.get(header::ORIGIN) {
        return origin.to_str().is_ok_and(|o| o == expected);
    }
    headers
        .get(header::REFERER)
        .and_then(|v| v.to_str().ok())
        .and_then(|r| Url::parse(r).ok())
        .is_some_and(|u| u.origin().ascii_serialization() == expected)
}

/// `GET /`: the store. Registers the demo merchant's webhook endpoint on first use.
pub async fn store(State(demo): State<Demo>) -> Response {
    let notice = demo.ensure_webhook_endpoint().await.err();
    let orders: Vec<String> = PRODUCTS.iter().map(|_| new_order()).collect();
    pages::store(&orders, &demo.inbox().snapshot(), notice.as_deref())
}

/// `POST /demo/buy`: same-origin only; the price comes from the catalogue.
pub async fn buy(
    State(demo): State<Demo>,
    headers: HeaderMap,
    form: Result<Form<BuyForm>, FormRejection>,
) -> Response {
    if !same_origin(&headers, demo.public_url()) {
        return pages::message(
            StatusCode::FORBIDDEN,
            "请求被拒绝",
            "Request refused",
            &format!(
                "Buying works only from the store's own page at {}.",
                demo.public_url()
            ),
        );
    }
    let Ok(Form(form)) = form else {
        return pages::message(
            StatusCode::BAD_REQUEST,
            "无法识别的请求",
            "Unreadable request",
            "The form did not name a product.",
        );
    };
    let Some(product) = catalog::find(&form.product) else {
        return pages::message(
            StatusCode::BAD_REQUEST,
            "没有这个商品",
            "No such product",
            &format!("The store does not sell {:?}.", form.product),
        );
    };
    let order = form.order.filter(|o| is_order(o)).unwrap_or_else(new_order);
    if let Err(e) = demo.ensure_webhook_endpoint().await {
        // Buying still works; the store page says webhooks are missing.
        tracing::warn!(error = %e, "demo merchant has no webhook endpoint");
    }
    let (success_url, cancel_url) = match demo.return_urls(&order) {
        Ok(urls) => urls,
        Err(e) => return unavailable(&e.to_string()),
    };
    let session = match demo
        .api()
        .create_session(product, &order, &success_url, &cancel_url)
        .await
    {
        Ok(session) => session,
        Err(e) => {
            tracing::warn!(error = %e, product = product.id, "demo merchant could not create a session");
            return unavailable(&e.to_string());
        }
    };
    // The URL comes from our own API; refuse anything else rather than redirect off-site.
    let on_this_server =
        Url::parse(&session.url).is_ok_and(|u| u.origin() == demo.public_url().origin());
    if !on_this_server {
        return unavailable("the checkout session's URL is not on this server");
    }
    demo.remember_order(&order, &session.id);
    tracing::info!(session = %session.id, product = product.id, "demo merchant sent a shopper to checkout");
    Redirect::to(&session.url).into_response()
}

/// `GET /demo/thanks?order=…`: the order and what the merchant API says about its session.
pub async fn thanks(
    State(demo): State<Demo>,
    query: Result<Query<ThanksQuery>, QueryRejection>,
) -> Response {
    let order = query.ok().and_then(|Query(q)| q.order).unwrap_or_default();
    let Some(session_id) = demo.session_of(&order) else {
        return pages::message(
            StatusCode::NOT_FOUND,
            "找不到订单",
            "Unknown order",
            &format!(
                "The demo store has no order {order:?} (orders are kept in memory until a restart)."
            ),
        );
    };
    match demo.api().session(&session_id).await {
        Ok(session) => pages::thanks(&order, &session),
        Err(e) => unavailable(&e.to_string()),
    }
}

fn unavailable(why: &str) -> Response {
    pages::message(
        StatusCode::BAD_GATEWAY,
        "商户 API 调用失败",
        "The merchant API call failed",
        why,
    )
    .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(pairs: &[(header::HeaderName, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(k, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn only_this_servers_origin_may_post() {
        let public = Url::parse("http://127.0.0.1:8080/").unwrap();
        assert!(same_origin(
            &headers(&[(header::ORIGIN, "http://127.0.0.1:8080")]),
            &public
        ));
        assert!(same_origin(
            &headers(&[(header::REFERER, "http://127.0.0.1:8080/?x=1")]),
            &public
        ));
        for bad in [
            headers(&[(header::ORIGIN, "https://evil.example")]),
            headers(&[(header::ORIGIN, "null")]),
            headers(&[
                (header::ORIGIN, "https://evil.example"),
                (header::REFERER, "http://127.0.0.1:8080/"),
            ]),
            headers(&[(header::REFERER, "http://127.0.0.1:8080.evil.example/")]),
            headers(&[]),
        ] {
            assert!(!same_origin(&bad, &public), "{bad:?}");
        }
    }

    #[test]
    fn order_numbers_are_checked() {
        assert!(is_order(&new_order()));
        assert!(!is_order("demo_short"));
        assert!(!is_order("order_1234567890"));
        assert!(!is_order("demo_<script>alert(1)</script>"));
    }
}
