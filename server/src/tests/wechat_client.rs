//! The client against a small local server that checks the signature of every request, like
//! WeChat does, and answers signed responses — some of them tampered with on purpose.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use sha1::{Digest, Sha1};
use url::Url;

use crate::providers::wechat::aead::ApiV3Key;
use crate::providers::wechat::authorization::verify_request;
use crate::providers::wechat::certificates::{PlatformKeys, encrypt_certificates};
use crate::providers::wechat::client::{WechatPayClient, WechatPayConfig};
use crate::providers::wechat::clock::{Clock, SystemClock};
use crate::providers::wechat::crypto::{PublicKey, RsaBackend};
use crate::providers::wechat::error::{ApiErrorCode, OAuthErrorCode, WechatError};
use crate::providers::wechat::notification::{
    NotificationDraft, NotificationEvent, build_notification,
};
use crate::providers::wechat::oauth::{OAuthConfig, WechatOAuthClient};
use crate::providers::wechat::orders::{
    H5Info, H5Order, H5SceneInfo, JsapiOrder, NativeOrder, OrderAmount, OrderCommon, Payer,
    TradeState,
};
use crate::providers::wechat::refunds::{RefundAmountRequest, RefundRequest, RefundStatus};
use crate::providers::wechat::retry::RetryPolicy;
use crate::providers::wechat::signer::{SigningIdentity, new_nonce};
use crate::providers::wechat::testkit::{VECTORS, generated, read, test_private_key};
use crate::providers::wechat::verifier::VerifyError;
use crate::secret::Secret;

const MCHID: &str = "1900000109";
const PREFIX: &str = "/sandbox/wechat/pay";
const PUB_KEY_ID: &str = "PUB_KEY_ID_0119000001092025010100000000001";
const CERT_SERIAL: &str = "D7CE59D1F522D701";
const APIV3: &[u8; 32] = b"0123456789abcdef0123456789abcdef";

struct Fake {
    merchant_key: PublicKey,
    platform: SigningIdentity,
    apiv3: ApiV3Key,
    good_requests: AtomicUsize,
    bad_requests: AtomicUsize,
    certificate_downloads: AtomicUsize,
    flaky_failures_left: AtomicUsize,
    base: std::sync::OnceLock<String>,
}

fn json_response(status: StatusCode, body: &serde_json::Value) -> Response {
    (
        status,
        [("content-type", "application/json")],
        body.to_string(),
    )
        .into_response()
}

impl Fake {
    fn signed(&self, status: StatusCode, body: Vec<u8>, tweak: &str) -> Response {
        let now = SystemClock.now_unix();
        let timestamp = if tweak == "stale" { now - 400 } else { now };
        let mut headers = self
            .platform
            .sign_response(&body, &timestamp.to_string(), &new_nonce())
            .unwrap();
        let mut body = body;
        match tweak {
            "tampered" => {
                body = String::from_utf8(body)
                    .unwrap()
                    .replace("NOTPAY", "SUCCESS")
                    .into_bytes();
            }
            "probe" => headers.signature = format!("WECHATPAY/SIGNTEST/{}", headers.signature),
            "unknownserial" => headers.serial = "7132D72A03E93CDDF8C03BBD1F37EEDF".into(),
            _ => {}
        }
        let mut response = (status, body).into_response();
        if tweak != "unsigned" {
            for (name, value) in headers.pairs() {
                response.headers_mut().insert(name, value.parse().unwrap());
            }
        }
        response
    }

    fn transaction(&self, out_trade_no: &str, state: &str) -> Vec<u8> {
        serde_json::json!({
            "appid": "wxd678efh567hg6787", "mchid": MCHID, "out_trade_no": out_trade_no,
            "trade_state": state, "trade_state_desc": "", "amount": {"total": 100, "payer_currency": "CNY"},
            "transaction_id": if state == "SUCCESS" { Some("4200000000000000000000000001") } else { None },
        })
        .to_string()
        .into_bytes()
    }
}

async fn handle(
    State(fake): State<Arc<Fake>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path_and_query = uri.path_and_query().map_or("/", |p| p.as_str()).to_owned();
    if let Some(rest) = uri.path().strip_prefix("/sns/") {
        return oauth(rest, uri.query().unwrap_or_default());
    }
    let authorization = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let verified = verify_request(
        &fake.merchant_key,
        MCHID,
        authorization,
        method.as_str(),
        &path_and_query,
        &body,
        SystemClock.now_unix(),
    );
    if let Err(e) = verified {
        fake.bad_requests.fetch_add(1, Ordering::SeqCst);
        return json_response(
            StatusCode::UNAUTHORIZED,
            &serde_json::json!({"code": "SIGN_ERROR", "message": e.to_string()}),
        );
    }
    fake.good_requests.fetch_add(1, Ordering::SeqCst);
    let Some(path) = uri.path().strip_prefix(PREFIX) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let request: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
    match (method.as_str(), segments.as_slice()) {
        ("GET", ["v3", "certificates"]) => {
            fake.certificate_downloads.fetch_add(1, Ordering::SeqCst);
            let pem = read("keys/wechatpay-go.platform_cert_D7CE59D1F522D701.pem");
            let body = encrypt_certificates(
                &fake.apiv3,
                &[(CERT_SERIAL, &pem)],
                ("2021-04-27T16:55:23+08:00", "2031-04-25T16:55:23+08:00"),
            )
            .unwrap();
            fake.signed(StatusCode::OK, body, "")
        }
        ("POST", ["v3", "pay", "transactions", kind]) => {
            assert_eq!(request["mchid"], MCHID);
            let n = request["out_trade_no"].as_str().unwrap();
            let body = match *kind {
                "jsapi" => serde_json::json!({"prepay_id": format!("wx{n}")}),
                "native" => {
                    serde_json::json!({"code_url": format!("weixin://wxpay/bizpayurl?pr={n}")})
                }
                _ => {
                    serde_json::json!({"h5_url": format!("https://wx.example.test/checkmweb?prepay_id=wx{n}")})
                }
            };
            fake.signed(StatusCode::OK, body.to_string().into_bytes(), "")
        }
        ("GET", ["v3", "pay", "transactions", "out-trade-no", n]) => match *n {
            "missing" => json_response(
                StatusCode::NOT_FOUND,
                &serde_json::json!({"code": "ORDER_NOT_EXIST", "message": "order not exist"}),
            ),
            "slow" => std::future::pending().await,
            "flaky" if fake.flaky_failures_left.load(Ordering::SeqCst) > 0 => {
                fake.flaky_failures_left.fetch_sub(1, Ordering::SeqCst);
                json_response(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    &serde_json::json!({"code": "SYSTEM_ERROR", "message": "busy"}),
                )
            }
            tweak => fake.signed(StatusCode::OK, fake.transaction(n, "NOTPAY"), tweak),
        },
        ("GET", ["v3", "pay", "transactions", "id", id]) => fake.signed(
            StatusCode::OK,
            fake.transaction(&format!("by-{id}"), "SUCCESS"),
            "",
        ),
        ("POST", ["v3", "pay", "transactions", "out-trade-no", _, "close"]) => {
            assert_eq!(request, serde_json::json!({"mchid": MCHID}));
            fake.signed(StatusCode::NO_CONTENT, Vec::new(), "")
        }
        ("POST", ["v3", "refund", "domestic", "refunds"])
        | ("GET", ["v3", "refund", "domestic", "refunds", _]) => {
            let out_refund_no = request["out_refund_no"]
                .as_str()
                .map_or_else(|| segments[4].to_owned(), str::to_owned);
            let body = serde_json::json!({
                "refund_id": "50000000382019052709732678859", "out_refund_no": out_refund_no,
                "transaction_id": "4200000000000000000000000001", "out_trade_no": "order-1",
                "status": "PROCESSING", "amount": {"total": 100, "refund": 40, "currency": "CNY"},
            });
            fake.signed(StatusCode::OK, body.to_string().into_bytes(), "")
        }
        ("GET", ["v3", "bill", "tradebill" | "fundflowbill"]) => {
            let file = std::fs::read(format!("{VECTORS}/samples/bill_ALL.csv")).unwrap();
            let base = fake.base.get().unwrap();
            let body = serde_json::json!({
                "hash_type": "SHA1", "hash_value": hex::encode(Sha1::digest(&file)),
                "download_url": format!("{base}/v3/billdownload/file?token=t0ken"),
            });
            fake.signed(StatusCode::OK, body.to_string().into_bytes(), "")
        }
        ("GET", ["v3", "billdownload", "file"]) => {
            std::fs::read(format!("{VECTORS}/samples/bill_ALL.csv"))
                .unwrap()
                .into_response()
        }
        _ => StatusCode::NOT_FOUND.into_response(),
    }
}

fn oauth(path: &str, query: &str) -> Response {
    let params: std::collections::HashMap<String, String> =
        url::form_urlencoded::parse(query.as_bytes())
            .into_owned()
            .collect();
    assert_eq!(
        (params["appid"].as_str(), params["secret"].as_str()),
        ("wxappid", "app-secret")
    );
    assert_eq!(params["grant_type"], "authorization_code");
    let code = params
        .get("code")
        .or_else(|| params.get("js_code"))
        .unwrap();
    let body = match (path, code.as_str()) {
        (_, "used") => serde_json::json!({"errcode": 40163, "errmsg": "code been used"}),
        ("oauth2/access_token", code) => {
            serde_json::json!({"access_token": "AT", "expires_in": 7200, "openid": format!("o-{code}"), "scope": "snsapi_base"})
        }
        (_, code) => serde_json::json!({"openid": format!("mp-{code}"), "session_key": "SK"}),
    };
    json_response(StatusCode::OK, &body)
}

struct Harness {
    fake: Arc<Fake>,
    base: String,
    _server: tokio::task::JoinHandle<()>,
}

/// Starts the fake on 127.0.0.1:0; `certificates` makes it sign with the certificate test key.
async fn start(certificates: bool) -> Harness {
    let platform = if certificates {
        SigningIdentity::new(CERT_SERIAL.into(), test_private_key(RsaBackend::Ring))
    } else {
        SigningIdentity::new(PUB_KEY_ID.into(), generated().1.clone())
    };
    let fake = Arc::new(Fake {
        merchant_key: generated().0.public_key().clone(),
        platform,
        apiv3: ApiV3Key::new(APIV3).unwrap(),
        good_requests: AtomicUsize::new(0),
        bad_requests: AtomicUsize::new(0),
        certificate_downloads: AtomicUsize::new(0),
        flaky_failures_left: AtomicUsize::new(2),
        base: std::sync::OnceLock::new(),
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}{PREFIX}", listener.local_addr().unwrap());
    fake.base.set(base.clone()).unwrap();
    let app = axum::Router::new()
        .fallback(handle)
        .with_state(Arc::clone(&fake));
    let server = tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    Harness {
        fake,
        base,
        _server: server,
    }
}

fn client(
    h: &Harness,
    backend: RsaBackend,
    platform_keys: PlatformKeys,
    retry: RetryPolicy,
) -> WechatPayClient {
    let config = WechatPayConfig {
        mchid: MCHID.into(),
        api_base: Url::parse(&h.base).unwrap(),
        merchant: SigningIdentity::new(
            "5157F09EFDC096DE15EBE81A47057A7232F1B8E1".into(),
            generated().0.with_backend(backend).unwrap(),
        ),
        apiv3_key: ApiV3Key::new(APIV3).unwrap(),
        platform_keys,
        timeout: Duration::from_millis(1500),
        retry,
    };
    WechatPayClient::new(config, Arc::new(SystemClock)).unwrap()
}

fn public_key_mode() -> PlatformKeys {
    PlatformKeys::new().with_public_key(PUB_KEY_ID, generated().1.public_key().clone())
}

fn fast_retries() -> RetryPolicy {
    RetryPolicy {
        max_attempts: 3,
        base_delay: Duration::from_millis(1),
        max_delay: Duration::from_millis(5),
    }
}

fn common(out_trade_no: &str) -> OrderCommon {
    OrderCommon {
        appid: "wxd678efh567hg6787".into(),
        mchid: MCHID.into(),
        description: "Image形象店-深圳腾大-QQ公仔".into(),
        out_trade_no: out_trade_no.into(),
        time_expire: Some("2018-06-08T10:34:56+08:00".into()),
        attach: None,
        notify_url: "https://pay.example.com/notify/wechat".into(),
        amount: OrderAmount {
            total: 100,
            currency: Some("CNY".into()),
        },
        detail: None,
    }
}

#[tokio::test]
async fn every_typed_call_is_signed_as_wechat_expects_and_every_answer_is_verified() {
    let h = start(false).await;
    for backend in RsaBackend::ALL {
        let c = client(&h, backend, public_key_mode(), RetryPolicy::none());
        let jsapi = JsapiOrder {
            common: common("order_1*|-"),
            payer: Payer {
                openid: "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o".into(),
            },
        };
        assert_eq!(
            c.create_jsapi_order(&jsapi).await.unwrap().prepay_id,
            "wxorder_1*|-"
        );
        assert!(
            c.create_native_order(&NativeOrder {
                common: common("order_2")
            })
            .await
            .unwrap()
            .code_url
            .starts_with("weixin://")
        );
        let h5 = H5Order {
            common: common("order_3"),
            scene_info: H5SceneInfo {
                payer_client_ip: "203.0.113.7".into(),
                h5_info: H5Info { kind: "Wap".into() },
            },
        };
        assert!(
            c.create_h5_order(&h5)
                .await
                .unwrap()
                .h5_url
                .contains("wxorder_3")
        );
        assert_eq!(
            c.query_order_by_out_trade_no("order_2")
                .await
                .unwrap()
                .trade_state,
            TradeState::NotPay
        );
        let paid = c
            .query_order_by_transaction_id("4200000000000000000000000001")
            .await
            .unwrap();
        assert_eq!(
            (paid.trade_state, paid.amount.total),
            (TradeState::Success, 100)
        );
        c.close_order("order_2").await.unwrap();
        let refund = RefundRequest {
            transaction_id: None,
            out_trade_no: Some("order-1".into()),
            out_refund_no: "refund-1".into(),
            reason: None,
            notify_url: None,
            amount: RefundAmountRequest {
                refund: 40,
                total: 100,
                currency: "CNY".into(),
            },
        };
        assert_eq!(
            c.create_refund(&refund).await.unwrap().status,
            RefundStatus::Processing
        );
        assert_eq!(
            c.query_refund("refund-1").await.unwrap().out_refund_no,
            "refund-1"
        );
        let bill = c.trade_bill("2019-02-19", "ALL").await.unwrap();
        assert_eq!(c.download_bill(&bill).await.unwrap().len(), 14_686);
        let flow = c.fund_flow_bill("2019-02-19", "BASIC").await.unwrap();
        assert_eq!(flow.hash_value, bill.hash_value);
    }
    assert_eq!(
        h.fake.bad_requests.load(Ordering::SeqCst),
        0,
        "the server refused a request signature"
    );
    assert_eq!(
        h.fake.good_requests.load(Ordering::SeqCst),
        RsaBackend::ALL.len() * 11,
        "eleven calls per backend"
    );
}

#[tokio::test]
async fn a_tampered_answer_is_refused_and_not_retried() {
    let h = start(false).await;
    let c = client(&h, RsaBackend::Ring, public_key_mode(), fast_retries());
    let err = c.query_order_by_out_trade_no("tampered").await.unwrap_err();
    assert!(
        matches!(err, WechatError::Verify(VerifyError::BadSignature)),
        "{err:?}"
    );
    assert_eq!(h.fake.good_requests.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn a_2xx_answer_without_signature_headers_is_treated_as_forged() {
    let h = start(false).await;
    let err = client(&h, RsaBackend::Ring, public_key_mode(), RetryPolicy::none())
        .query_order_by_out_trade_no("unsigned")
        .await
        .unwrap_err();
    assert!(
        matches!(err, WechatError::Verify(VerifyError::MissingHeaders)),
        "{err:?}"
    );
}

#[tokio::test]
async fn a_stale_answer_is_refused() {
    let h = start(false).await;
    let err = client(
        &h,
        RsaBackend::RustCrypto,
        public_key_mode(),
        RetryPolicy::none(),
    )
    .query_order_by_out_trade_no("stale")
    .await
    .unwrap_err();
    assert!(
        matches!(err, WechatError::Verify(VerifyError::Stale { .. })),
        "{err:?}"
    );
}

#[tokio::test]
async fn a_signtest_probe_answer_is_refused() {
    let h = start(false).await;
    let err = client(&h, RsaBackend::Ring, public_key_mode(), RetryPolicy::none())
        .query_order_by_out_trade_no("probe")
        .await
        .unwrap_err();
    assert!(
        matches!(err, WechatError::Verify(VerifyError::Probe)),
        "{err:?}"
    );
}

#[tokio::test]
async fn an_answer_from_an_unknown_serial_is_refused_without_downloads_in_public_key_mode() {
    let h = start(false).await;
    let err = client(&h, RsaBackend::Ring, public_key_mode(), RetryPolicy::none())
        .query_order_by_out_trade_no("unknownserial")
        .await
        .unwrap_err();
    assert!(
        matches!(err, WechatError::Verify(VerifyError::UnknownSerial(_))),
        "{err:?}"
    );
    assert_eq!(h.fake.certificate_downloads.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn a_business_error_becomes_its_code_and_is_not_retried() {
    let h = start(false).await;
    let err = client(&h, RsaBackend::Ring, public_key_mode(), fast_retries())
        .query_order_by_out_trade_no("missing")
        .await
        .unwrap_err();
    assert_eq!(err.api_code(), Some(&ApiErrorCode::OrderNotExist));
    assert!(!err.retryable());
    assert_eq!(h.fake.good_requests.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn a_transient_system_error_is_retried_until_the_query_succeeds() {
    let h = start(false).await;
    let t = client(&h, RsaBackend::Ring, public_key_mode(), fast_retries())
        .query_order_by_out_trade_no("flaky")
        .await
        .unwrap();
    assert_eq!(t.out_trade_no, "flaky");
    assert_eq!(
        h.fake.good_requests.load(Ordering::SeqCst),
        3,
        "two failures, then success"
    );
}

#[tokio::test]
async fn retries_stop_when_the_budget_is_spent() {
    let h = start(false).await;
    h.fake.flaky_failures_left.store(10, Ordering::SeqCst);
    let err = client(&h, RsaBackend::Ring, public_key_mode(), fast_retries())
        .query_order_by_out_trade_no("flaky")
        .await
        .unwrap_err();
    assert_eq!(err.api_code(), Some(&ApiErrorCode::SystemError));
    assert_eq!(h.fake.good_requests.load(Ordering::SeqCst), 3);
}

#[tokio::test]
async fn a_call_that_gets_no_answer_times_out() {
    let h = start(false).await;
    let mut c = client(&h, RsaBackend::Ring, public_key_mode(), RetryPolicy::none());
    c = WechatPayClient::new(
        WechatPayConfig {
            timeout: Duration::from_millis(200),
            ..c.into_config()
        },
        Arc::new(SystemClock),
    )
    .unwrap();
    let err = c.query_order_by_out_trade_no("slow").await.unwrap_err();
    assert!(matches!(err, WechatError::Timeout), "{err:?}");
    assert!(err.retryable());
}

#[tokio::test]
async fn an_unknown_certificate_serial_triggers_a_download_then_verifies() {
    let h = start(true).await;
    let keys = PlatformKeys::new().with_certificate_download(Duration::from_secs(3600));
    let c = client(&h, RsaBackend::RustCrypto, keys, RetryPolicy::none());
    assert_eq!(
        c.query_order_by_out_trade_no("order_9")
            .await
            .unwrap()
            .trade_state,
        TradeState::NotPay
    );
    assert_eq!(
        c.query_order_by_out_trade_no("order_9")
            .await
            .unwrap()
            .out_trade_no,
        "order_9"
    );
    assert_eq!(h.fake.certificate_downloads.load(Ordering::SeqCst), 1);
    assert_eq!(c.platform_keys().downloaded_count(), 1);
    assert_eq!(
        c.platform_keys().preferred_serial().as_deref(),
        Some(CERT_SERIAL)
    );
}

#[tokio::test]
async fn a_flood_of_unknown_serials_causes_one_certificate_download() {
    let h = start(true).await;
    let keys = PlatformKeys::new().with_certificate_download(Duration::from_secs(3600));
    let c = Arc::new(client(&h, RsaBackend::Ring, keys, RetryPolicy::none()));
    let tasks: Vec<_> = (0..20)
        .map(|_| {
            let c = Arc::clone(&c);
            tokio::spawn(async move { c.query_order_by_out_trade_no("unknownserial").await })
        })
        .collect();
    for task in tasks {
        let err = task.await.unwrap().unwrap_err();
        assert!(
            matches!(err, WechatError::Verify(VerifyError::UnknownSerial(_))),
            "{err:?}"
        );
    }
    assert_eq!(h.fake.certificate_downloads.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn the_periodic_refresh_installs_certificates_without_being_asked() {
    let h = start(true).await;
    let keys = PlatformKeys::new().with_certificate_download(Duration::from_secs(3600));
    let c = Arc::new(client(&h, RsaBackend::Ring, keys, RetryPolicy::none()));
    let refresher = c.spawn_certificate_refresh(Duration::from_secs(3600));
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while c.platform_keys().downloaded_count() == 0 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "no refresh within 10 s"
        );
        tokio::task::yield_now().await;
    }
    refresher.abort();
    assert!(c.platform_keys().get(CERT_SERIAL).is_some());
}

#[tokio::test]
async fn a_notification_is_verified_by_serial_and_decrypted_through_the_client() {
    let h = start(false).await;
    let c = client(&h, RsaBackend::Ring, public_key_mode(), RetryPolicy::none());
    let draft = NotificationDraft {
        id: "EV-1".into(),
        create_time: "2024-01-01T00:00:00+08:00".into(),
        event_type: "TRANSACTION.SUCCESS".into(),
        summary: "支付成功".into(),
        original_type: "transaction".into(),
        associated_data: "transaction".into(),
        plaintext: h.fake.transaction("order_5", "SUCCESS"),
    };
    let (signed, body) = build_notification(
        &h.fake.platform,
        &h.fake.apiv3,
        &draft,
        &c.now_unix().to_string(),
        &new_nonce(),
    )
    .unwrap();
    let mut headers = HeaderMap::new();
    for (name, value) in signed.pairs() {
        headers.insert(name, value.parse().unwrap());
    }
    let n = c.parse_notification(&headers, &body).await.unwrap();
    let NotificationEvent::Transaction(t) = n.event else {
        panic!("{:?}", n.event)
    };
    assert_eq!(
        (t.out_trade_no.as_str(), t.trade_state),
        ("order_5", TradeState::Success)
    );

    headers.insert(
        "wechatpay-serial",
        "PUB_KEY_ID_0000000000000000000000000000000000"
            .parse()
            .unwrap(),
    );
    let err = c.parse_notification(&headers, &body).await.unwrap_err();
    assert!(
        matches!(err, WechatError::Verify(VerifyError::UnknownSerial(_))),
        "{err:?}"
    );
    headers.remove("wechatpay-signature");
    let err = c.parse_notification(&headers, &body).await.unwrap_err();
    assert!(
        matches!(err, WechatError::Verify(VerifyError::MissingHeaders)),
        "{err:?}"
    );
}

#[tokio::test]
async fn oauth_codes_become_openids_and_a_used_code_is_a_typed_error() {
    let h = start(false).await;
    let base = Url::parse(&format!("{}/", h.base.trim_end_matches(PREFIX))).unwrap();
    let oauth = WechatOAuthClient::new(OAuthConfig {
        appid: "wxappid".into(),
        secret: Secret::new("app-secret".into()),
        oauth_base: base.clone(),
        api_base: base,
        timeout: Duration::from_secs(2),
    })
    .unwrap();
    assert_eq!(oauth.exchange_code("c0de").await.unwrap().openid, "o-c0de");
    assert_eq!(oauth.jscode2session("js").await.unwrap().openid, "mp-js");
    let err = oauth.exchange_code("used").await.unwrap_err();
    assert!(
        matches!(
            err,
            WechatError::OAuth {
                code: OAuthErrorCode::CodeUsed,
                ..
            }
        ),
        "{err:?}"
    );
}

#[tokio::test]
async fn a_failed_code_exchange_never_shows_the_app_secret() {
    // Nothing listens on port 1: every call fails at the network level.
    let nowhere = Url::parse("http://127.0.0.1:1/").unwrap();
    let secret = "app-secret-0123456789abcdef";
    let oauth = WechatOAuthClient::new(OAuthConfig {
        appid: "wxappid".into(),
        secret: Secret::new(secret.into()),
        oauth_base: nowhere.clone(),
        api_base: nowhere,
        timeout: Duration::from_secs(2),
    })
    .unwrap();
    for err in [
        oauth.exchange_code("c0de").await.unwrap_err(),
        oauth.jscode2session("js").await.unwrap_err(),
    ] {
        // What the handlers log (`error = %e`) and what a debug print shows.
        for text in [err.to_string(), format!("{err:?}")] {
            assert!(!text.contains(secret), "{text}");
            assert!(!text.contains("secret="), "{text}");
            assert!(text.contains("127.0.0.1/sns/"), "says where: {text}");
        }
    }
}
