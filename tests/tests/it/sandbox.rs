//! The sandbox simulator, driven only through the real WeChat Pay / OAuth clients (built from the
//! sandbox's generated credentials exactly as live mode builds them) and through the simulated
//! shopper's screens — never by reaching into sandbox state.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use paybridge_server::providers::wechat::notification::NotificationEvent;
use paybridge_server::providers::wechat::orders::{
    JsapiOrder, NativeOrder, OrderAmount, OrderCommon, Payer, TradeState,
};
use paybridge_server::providers::wechat::refunds::{
    RefundAmountRequest, RefundRequest, RefundStatus,
};
use paybridge_server::providers::wechat::signer::new_nonce;
use paybridge_server::providers::wechat::{
    ApiErrorCode, JsapiPayParams, OAuthErrorCode, WechatError,
};
use paybridge_server::sandbox::WechatClients;
use paybridge_tests::app::{Options, TestApp, spawn};
use paybridge_tests::wait;

const FAST: [&str; 2] = ["--sandbox-time-scale", "0.001"];
const DEADLINE: Duration = Duration::from_secs(15);

async fn sandbox_app(extra: &[&str]) -> (TestApp, WechatClients) {
    let fast: &[&str] = if extra.contains(&FAST[0]) { &[] } else { &FAST };
    let args = fast.iter().chain(extra).map(|s| (*s).to_owned()).collect();
    let app = spawn(Options {
        args,
        ..Options::default()
    })
    .await;
    let clients = app
        .state
        .sandbox()
        .expect("sandbox mode")
        .wechat_clients(&app.base)
        .unwrap();
    (app, clients)
}

/// One notification as received: its headers and raw body.
type Received = (HeaderMap, Bytes);

/// A merchant `notify_url` on 127.0.0.1:0 that answers 500 to the first `fail_first` posts.
struct Receiver {
    url: String,
    got: Arc<Mutex<Vec<Received>>>,
}

async fn receiver(fail_first: usize) -> Receiver {
    let got: Arc<Mutex<Vec<Received>>> = Arc::default();
    let store = Arc::clone(&got);
    let app = axum::Router::new().route(
        "/notify",
        axum::routing::post(move |headers: HeaderMap, body: Bytes| {
            let store = Arc::clone(&store);
            async move {
                let mut got = store.lock().unwrap();
                got.push((headers, body));
                if got.len() <= fail_first {
                    (
                        StatusCode::INTERNAL_SERVER_ERROR,
                        r#"{"code":"FAIL","message":"busy"}"#,
                    )
                } else {
                    (StatusCode::OK, r#"{"code":"SUCCESS","message":"成功"}"#)
                }
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    Receiver {
        url: format!("http://{addr}/notify"),
        got,
    }
}

impl Receiver {
    fn received(&self) -> Vec<Received> {
        self.got.lock().unwrap().clone()
    }

    /// Waits until at least `n` notifications arrived.
    async fn wait_for(&self, n: usize) -> Vec<Received> {
        wait::until(&format!("{n} notifications"), DEADLINE, || async {
            let got = self.received();
            (got.len() >= n).then_some(got)
        })
        .await
    }
}

fn common(
    clients: &WechatClients,
    out_trade_no: &str,
    total: i64,
    notify_url: &str,
) -> OrderCommon {
    OrderCommon {
        appid: clients.appid.clone(),
        mchid: clients.pay.mchid().to_owned(),
        description: "sandbox test order".into(),
        out_trade_no: out_trade_no.into(),
        time_expire: None,
        attach: Some("attached".into()),
        notify_url: notify_url.into(),
        amount: OrderAmount {
            total,
            currency: Some("CNY".into()),
        },
        detail: None,
    }
}

fn out_trade_no() -> String {
    format!("T{}", new_nonce()[..20].to_owned())
}

async fn native(clients: &WechatClients, total: i64, notify_url: &str) -> (String, String) {
    let n = out_trade_no();
    let prepay = clients
        .pay
        .create_native_order(&NativeOrder {
            common: common(clients, &n, total, notify_url),
        })
        .await
        .unwrap();
    (n, prepay.code_url)
}

/// The simulated phone scans the QR and taps Pay (or Cancel); returns the page's result marker.
async fn scan_and(app: &TestApp, code_url: &str, action: &str) -> String {
    let page = app
        .client
        .post(app.url("/sandbox/wechat/scan/pay"))
        .form(&[
            ("code_url", code_url),
            ("action", action),
            ("user", "tester"),
        ])
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let marker = page
        .split("data-result=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap_or_default();
    marker.to_owned()
}

async fn state_of(clients: &WechatClients, n: &str) -> TradeState {
    clients
        .pay
        .query_order_by_out_trade_no(n)
        .await
        .unwrap()
        .trade_state
}

/// Sends a raw APIv3 request signed over `signed_body` but carrying `sent_body`.
async fn raw_post(
    app: &TestApp,
    clients: &WechatClients,
    path: &str,
    signed_body: &[u8],
    sent_body: &[u8],
    timestamp: i64,
) -> (u16, HeaderMap, serde_json::Value) {
    let full = format!("/sandbox/wechat{path}");
    let authorization = clients
        .pay
        .merchant()
        .authorization(
            clients.pay.mchid(),
            "POST",
            &full,
            signed_body,
            &timestamp.to_string(),
            &new_nonce(),
        )
        .unwrap();
    let res = app
        .client
        .post(app.url(&full))
        .header("authorization", authorization)
        .header("content-type", "application/json")
        .header("accept", "application/json")
        .body(sent_body.to_vec())
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    let headers = res.headers().clone();
    let body = res.json().await.unwrap_or_default();
    (status, headers, body)
}

fn api_code(e: &WechatError) -> Option<&str> {
    e.api_code().map(ApiErrorCode::as_str)
}

#[tokio::test]
async fn a_signed_order_is_accepted_and_a_tampered_one_gets_401_sign_error() {
    let (app, clients) = sandbox_app(&[]).await;
    let (n, code_url) = native(&clients, 100, "https://shop.example/notify").await;
    assert!(
        code_url.starts_with("weixin://wxpay/bizpayurl?pr="),
        "{code_url}"
    );
    let tx = clients.pay.query_order_by_out_trade_no(&n).await.unwrap();
    assert_eq!(tx.trade_state, TradeState::NotPay);
    assert_eq!(tx.amount.total, 100);
    assert_eq!(tx.trade_state_desc, "订单未支付");

    let now = clients.pay.now_unix();
    let order = serde_json::to_vec(&NativeOrder {
        common: common(
            &clients,
            &out_trade_no(),
            100,
            "https://shop.example/notify",
        ),
    })
    .unwrap();
    let tampered = String::from_utf8(order.clone())
        .unwrap()
        .replace("\"total\":100", "\"total\":1")
        .into_bytes();
    let path = "/v3/pay/transactions/native";
    let (status, headers, body) = raw_post(&app, &clients, path, &order, &tampered, now).await;
    assert_eq!(status, 401, "{body}");
    assert_eq!(body["code"], "SIGN_ERROR");
    assert!(
        headers.contains_key("wechatpay-signature"),
        "errors are signed too"
    );

    let (status, _, body) = raw_post(&app, &clients, path, &order, &order, now - 400).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (401, Some("SIGN_ERROR")),
        "stale timestamp"
    );
    let (status, _, body) = raw_post(&app, &clients, path, &order, &order, now).await;
    assert_eq!(status, 200, "the untampered request is accepted: {body}");

    let missing = app
        .client
        .get(app.url("/sandbox/wechat/v3/pay/transactions/out-trade-no/nope123?mchid=1"))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 401, "no Authorization at all");

    let err = clients
        .pay
        .query_order_by_out_trade_no("does-not-exist")
        .await
        .unwrap_err();
    assert_eq!(api_code(&err), Some("ORDER_NOT_EXIST"), "{err:?}");
}

#[tokio::test]
async fn orders_are_idempotent_by_out_trade_no_close_is_enforced_and_state_survives_a_restart() {
    let (app, clients) = sandbox_app(&[]).await;
    let n = out_trade_no();
    let order = NativeOrder {
        common: common(&clients, &n, 300, "https://shop.example/notify"),
    };
    let first = clients.pay.create_native_order(&order).await.unwrap();
    let again = clients.pay.create_native_order(&order).await.unwrap();
    assert_eq!(
        first.code_url, again.code_url,
        "same out_trade_no, same parameters"
    );
    let mut changed = order.clone();
    changed.common.amount.total = 301;
    let err = clients.pay.create_native_order(&changed).await.unwrap_err();
    assert_eq!(api_code(&err), Some("OUT_TRADE_NO_USED"), "{err:?}");

    clients.pay.close_order(&n).await.unwrap();
    clients.pay.close_order(&n).await.unwrap();
    assert_eq!(state_of(&clients, &n).await, TradeState::Closed);
    let err = clients.pay.create_native_order(&order).await.unwrap_err();
    assert_eq!(api_code(&err), Some("ORDER_CLOSED"), "{err:?}");
    assert_eq!(
        scan_and(&app, &first.code_url, "pay").await,
        "fail",
        "a closed order cannot be paid"
    );

    let (paid, code_url) = native(&clients, 500, "https://shop.example/notify").await;
    assert_eq!(scan_and(&app, &code_url, "pay").await, "ok");
    let err = clients.pay.close_order(&paid).await.unwrap_err();
    assert_eq!(api_code(&err), Some("ORDERPAID"), "{err:?}");

    let mut expired = NativeOrder {
        common: common(
            &clients,
            &out_trade_no(),
            100,
            "https://shop.example/notify",
        ),
    };
    expired.common.time_expire = Some("2020-01-01T00:00:00+08:00".into());
    let err = clients.pay.create_native_order(&expired).await.unwrap_err();
    assert_eq!(
        api_code(&err),
        Some("PARAM_ERROR"),
        "time_expire in the past: {err:?}"
    );

    let data_dir = Arc::clone(&app.data_dir);
    let mchid = clients.pay.mchid().to_owned();
    app.stop().await;
    let restarted = spawn(Options {
        args: FAST.iter().map(|s| (*s).to_owned()).collect(),
        data_dir: Some(data_dir),
        ..Options::default()
    })
    .await;
    let clients = restarted
        .state
        .sandbox()
        .unwrap()
        .wechat_clients(&restarted.base)
        .unwrap();
    assert_eq!(clients.pay.mchid(), mchid, "credentials are reused");
    assert_eq!(state_of(&clients, &n).await, TradeState::Closed);
    assert_eq!(state_of(&clients, &paid).await, TradeState::Success);
}

#[tokio::test]
async fn notifications_arrive_signed_and_decryptable_and_are_retried_until_acknowledged() {
    let (app, clients) = sandbox_app(&[]).await;
    let merchant = receiver(2).await;
    let (n, code_url) = native(&clients, 1234, &merchant.url).await;
    assert_eq!(scan_and(&app, &code_url, "pay").await, "ok");
    let got = merchant.wait_for(3).await;
    let mut ids = Vec::new();
    for (headers, body) in &got {
        let notification = clients.pay.parse_notification(headers, body).await.unwrap();
        assert_eq!(notification.event_type, "TRANSACTION.SUCCESS");
        let NotificationEvent::Transaction(tx) = notification.event else {
            panic!("not a transaction: {notification:?}");
        };
        assert_eq!(tx.out_trade_no, n);
        assert_eq!(tx.trade_state, TradeState::Success);
        assert_eq!(tx.amount.total, 1234);
        assert_eq!(tx.mchid, clients.pay.mchid());
        assert_eq!(tx.appid, clients.appid);
        assert!(tx.transaction_id.is_some() && tx.payer.is_some());
        ids.push(notification.id);
    }
    assert!(
        ids.windows(2).all(|w| w[0] == w[1]),
        "retries repeat the same notification id"
    );

    // Tampering with a delivered body breaks its signature.
    let (headers, body) = &got[0];
    let mut forged = body.to_vec();
    forged[10] ^= 1;
    assert!(
        clients
            .pay
            .parse_notification(headers, &forged)
            .await
            .is_err()
    );

    // Once acknowledged, nothing more comes: a later refund's notification is the next one.
    clients
        .pay
        .create_refund(&RefundRequest {
            transaction_id: None,
            out_trade_no: Some(n.clone()),
            out_refund_no: format!("R{n}"),
            reason: None,
            notify_url: None,
            amount: RefundAmountRequest {
                refund: 34,
                total: 1234,
                currency: "CNY".into(),
            },
        })
        .await
        .unwrap();
    let got = merchant.wait_for(4).await;
    assert_eq!(got.len(), 4, "no repeat of the acknowledged notification");
    let refund = clients
        .pay
        .parse_notification(&got[3].0, &got[3].1)
        .await
        .unwrap();
    assert_eq!(refund.event_type, "REFUND.SUCCESS");
    let NotificationEvent::Refund(notice) = refund.event else {
        panic!("not a refund: {refund:?}");
    };
    assert_eq!(
        (notice.amount.refund, notice.refund_status),
        (34, RefundStatus::Success)
    );
}

#[tokio::test]
async fn each_scenario_amount_behaves_as_documented() {
    let (app, clients) = sandbox_app(&["--sandbox-time-scale", "0.05"]).await;
    let merchant = receiver(0).await;

    // 4001: the payer declines; nothing changes.
    let (declined, code) = native(&clients, 4001, &merchant.url).await;
    assert_eq!(scan_and(&app, &code, "pay").await, "cancel");
    assert_eq!(state_of(&clients, &declined).await, TradeState::NotPay);

    // 4002: payment error.
    let (failed, code) = native(&clients, 4002, &merchant.url).await;
    assert_eq!(scan_and(&app, &code, "pay").await, "fail");
    assert_eq!(state_of(&clients, &failed).await, TradeState::PayError);

    // 4003: paid, but only a query says so.
    let (silent, code) = native(&clients, 4003, &merchant.url).await;
    assert_eq!(scan_and(&app, &code, "pay").await, "ok");
    assert_eq!(state_of(&clients, &silent).await, TradeState::Success);

    // 4004: three deliveries of one notification, the last one after a later refund's.
    let (triple, code) = native(&clients, 4004, &merchant.url).await;
    assert_eq!(scan_and(&app, &code, "pay").await, "ok");
    merchant.wait_for(2).await;
    clients
        .pay
        .create_refund(&RefundRequest {
            transaction_id: None,
            out_trade_no: Some(triple.clone()),
            out_refund_no: format!("R{triple}"),
            reason: None,
            notify_url: None,
            amount: RefundAmountRequest {
                refund: 1,
                total: 4004,
                currency: "CNY".into(),
            },
        })
        .await
        .unwrap();
    let got = merchant.wait_for(4).await;
    let mut events = Vec::new();
    for (headers, body) in &got {
        let n = clients.pay.parse_notification(headers, body).await.unwrap();
        events.push((n.event_type, n.id));
    }
    let transaction_copies: Vec<_> = events
        .iter()
        .filter(|(t, _)| t == "TRANSACTION.SUCCESS")
        .collect();
    assert_eq!(transaction_copies.len(), 3, "{events:?}");
    assert!(
        transaction_copies
            .iter()
            .all(|(_, id)| *id == transaction_copies[0].1)
    );
    assert_eq!(
        events[2].0, "REFUND.SUCCESS",
        "the last copy arrives out of order: {events:?}"
    );
    assert_eq!(events[3].0, "TRANSACTION.SUCCESS");
    assert!(
        got.iter()
            .all(|(_, body)| !String::from_utf8_lossy(body).contains(&silent)),
        "4003 never notifies (its id is not even in the envelope, but the resource is encrypted anyway)"
    );

    // 4005: slow provider.
    let started = Instant::now();
    let (slow, _) = native(&clients, 4005, &merchant.url).await;
    assert!(
        started.elapsed() >= Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(state_of(&clients, &slow).await, TradeState::NotPay);

    // 4006: the first try answers 500; the client's retry succeeds.
    let order = serde_json::to_vec(&NativeOrder {
        common: common(&clients, &out_trade_no(), 4006, &merchant.url),
    })
    .unwrap();
    let now = clients.pay.now_unix();
    let path = "/v3/pay/transactions/native";
    let (status, _, body) = raw_post(&app, &clients, path, &order, &order, now).await;
    assert_eq!((status, body["code"].as_str()), (500, Some("SYSTEM_ERROR")));
    let (status, _, body) = raw_post(&app, &clients, path, &order, &order, now).await;
    assert_eq!(status, 200, "{body}");
    let (retried, _) = native(&clients, 4006, &merchant.url).await;
    assert_eq!(state_of(&clients, &retried).await, TradeState::NotPay);

    // Nothing for 4001/4002/4003: exactly the four deliveries above.
    assert_eq!(merchant.received().len(), 4);
}

#[tokio::test]
async fn refunds_never_exceed_what_was_paid_and_bills_match_their_hash() {
    let (app, clients) = sandbox_app(&[]).await;
    let (n, code) = native(&clients, 1000, "https://shop.example/notify").await;
    assert_eq!(scan_and(&app, &code, "pay").await, "ok");
    let refund = |no: &str, amount: i64| RefundRequest {
        transaction_id: None,
        out_trade_no: Some(n.clone()),
        out_refund_no: no.into(),
        reason: Some("test".into()),
        notify_url: None,
        amount: RefundAmountRequest {
            refund: amount,
            total: 1000,
            currency: "CNY".into(),
        },
    };
    let first = clients
        .pay
        .create_refund(&refund("R1-ok", 600))
        .await
        .unwrap();
    let again = clients
        .pay
        .create_refund(&refund("R1-ok", 600))
        .await
        .unwrap();
    assert_eq!(
        first.refund_id, again.refund_id,
        "same out_refund_no, same refund"
    );
    let err = clients
        .pay
        .create_refund(&refund("R2-too-much", 401))
        .await
        .unwrap_err();
    assert_eq!(api_code(&err), Some("INVALID_REQUEST"), "{err:?}");
    clients
        .pay
        .create_refund(&refund("R3-rest", 400))
        .await
        .unwrap();
    wait::until("the refund to settle", DEADLINE, || async {
        let r = clients.pay.query_refund("R1-ok").await.unwrap();
        (r.status == RefundStatus::Success).then_some(())
    })
    .await;
    assert_eq!(state_of(&clients, &n).await, TradeState::Refund);

    let paid_at = clients
        .pay
        .query_order_by_out_trade_no(&n)
        .await
        .unwrap()
        .success_time
        .unwrap();
    let today = paid_at[..10].to_owned();
    let info = clients.pay.trade_bill(&today, "ALL").await.unwrap();
    let file = clients.pay.download_bill(&info).await.unwrap();
    let text = String::from_utf8(file).unwrap();
    assert!(text.starts_with('\u{feff}'));
    assert!(text.contains(&format!("`{n}")), "{text}");
    assert!(text.contains("`R1-ok"));
}

#[tokio::test]
async fn oauth_codes_are_single_use_and_openids_are_stable() {
    let (app, clients) = sandbox_app(&[]).await;
    let callback = app.url("/oauth/wechat/callback").to_string();
    let authorize = clients.oauth.authorize_url(&callback, "st4te");
    // snsapi_base is silent, as in WeChat: straight back with a code (302), no consent page.
    let silent = app.client.get(&authorize).send().await.unwrap();
    assert_eq!(silent.status(), 302);
    let back = url::Url::parse(silent.headers()["location"].to_str().unwrap()).unwrap();
    assert!(back.as_str().starts_with(&callback), "{back}");
    let q: std::collections::HashMap<_, _> = back.query_pairs().into_owned().collect();
    assert_eq!(q["state"], "st4te");
    let silent_token = clients.oauth.exchange_code(&q["code"]).await.unwrap();
    // snsapi_userinfo asks: a consent page.
    let userinfo = authorize.replace("snsapi_base", "snsapi_userinfo");
    let consent = app.client.get(&userinfo).send().await.unwrap();
    assert_eq!(consent.status(), 200);
    assert!(consent.text().await.unwrap().contains("approve"));

    let code_for = |user: &'static str| {
        let app = &app;
        let appid = clients.appid.clone();
        let callback = callback.clone();
        async move {
            let res = app
                .client
                .post(app.url("/sandbox/wechat/connect/oauth2/approve"))
                .form(&[
                    ("appid", appid.as_str()),
                    ("redirect_uri", callback.as_str()),
                    ("scope", "snsapi_base"),
                    ("state", "st4te"),
                    ("user", user),
                    ("decision", "allow"),
                ])
                .send()
                .await
                .unwrap();
            assert_eq!(res.status(), 303);
            let location = url::Url::parse(res.headers()["location"].to_str().unwrap()).unwrap();
            assert!(location.as_str().starts_with(&callback));
            let q: std::collections::HashMap<_, _> = location.query_pairs().into_owned().collect();
            assert_eq!(q["state"], "st4te");
            q["code"].clone()
        }
    };
    let code = code_for("alice").await;
    let token = clients.oauth.exchange_code(&code).await.unwrap();
    assert_ne!(
        silent_token.openid, token.openid,
        "the silent sign-in is another user's"
    );
    let shopper = clients
        .oauth
        .exchange_code(&code_for("shopper").await)
        .await
        .unwrap();
    assert_eq!(
        silent_token.openid, shopper.openid,
        "the silent user is the consent page's default"
    );
    let err = clients.oauth.exchange_code(&code).await.unwrap_err();
    assert!(
        matches!(
            err,
            WechatError::OAuth {
                code: OAuthErrorCode::CodeUsed,
                errcode: 40163,
                ..
            }
        ),
        "{err:?}"
    );
    let again = clients
        .oauth
        .exchange_code(&code_for("alice").await)
        .await
        .unwrap();
    assert_eq!(token.openid, again.openid, "stable per user");
    let bob = clients
        .oauth
        .exchange_code(&code_for("bob").await)
        .await
        .unwrap();
    assert_ne!(token.openid, bob.openid);
    let err = clients.oauth.exchange_code("made-up").await.unwrap_err();
    assert!(
        matches!(
            err,
            WechatError::OAuth {
                code: OAuthErrorCode::InvalidCode,
                ..
            }
        ),
        "{err:?}"
    );

    // A foreign redirect_uri is refused like an unregistered domain.
    let foreign = clients.oauth.authorize_url("https://evil.example/cb", "s");
    let page = app
        .client
        .get(&foreign)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("10003"), "{page}");

    // The openid pays a JSAPI order through the pay sheet's endpoint, with a merchant paySign.
    let n = out_trade_no();
    let prepay = clients
        .pay
        .create_jsapi_order(&JsapiOrder {
            common: common(&clients, &n, 88, "https://shop.example/notify"),
            payer: Payer {
                openid: token.openid.clone(),
            },
        })
        .await
        .unwrap();
    let params = JsapiPayParams::sign(
        clients.pay.merchant(),
        &clients.appid,
        &prepay.prepay_id,
        clients.pay.now_unix(),
        &new_nonce(),
    )
    .unwrap();
    let mut forged = params.clone();
    forged.pay_sign = JsapiPayParams::sign(
        clients.pay.merchant(),
        &clients.appid,
        "wx-other",
        clients.pay.now_unix(),
        &new_nonce(),
    )
    .unwrap()
    .pay_sign;
    let pay = |params: JsapiPayParams| {
        let app = &app;
        async move {
            app.client
                .post(app.url("/sandbox/wechat/jsapi/pay"))
                .json(&serde_json::json!({"params": params, "action": "pay"}))
                .send()
                .await
                .unwrap()
                .json::<serde_json::Value>()
                .await
                .unwrap()
        }
    };
    assert_eq!(
        pay(forged).await["result"],
        "fail",
        "a bad paySign is refused"
    );
    assert_eq!(pay(params).await["result"], "ok");
    let tx = clients.pay.query_order_by_out_trade_no(&n).await.unwrap();
    assert_eq!(tx.payer.map(|p| p.openid), Some(token.openid));

    // An openid of another app cannot order.
    let mut stranger = JsapiOrder {
        common: common(&clients, &out_trade_no(), 88, "https://shop.example/notify"),
        payer: Payer {
            openid: "oSomeoneElse0000000000000000".into(),
        },
    };
    stranger.common.description = "x".into();
    let err = clients.pay.create_jsapi_order(&stranger).await.unwrap_err();
    assert_eq!(api_code(&err), Some("PARAM_ERROR"), "{err:?}");

    // Mini program: wx.login's code → jscode2session, once.
    let mp = clients.miniprogram.clone().unwrap();
    let login: serde_json::Value = app
        .client
        .post(app.url("/sandbox/wechat/miniprogram/login"))
        .json(&serde_json::json!({"appid": mp.appid(), "user": "alice"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let js_code = login["code"].as_str().unwrap();
    let session = mp.jscode2session(js_code).await.unwrap();
    assert!(session.openid.starts_with('o'));
    let err = mp.jscode2session(js_code).await.unwrap_err();
    assert!(
        matches!(err, WechatError::OAuth { errcode: 40163, .. }),
        "{err:?}"
    );
}

#[tokio::test]
async fn expired_oauth_codes_are_refused() {
    let (app, clients) = sandbox_app(&["--sandbox-time-scale", "0.000001"]).await;
    let callback = app.url("/oauth/wechat/callback").to_string();
    let res = app
        .client
        .post(app.url("/sandbox/wechat/connect/oauth2/approve"))
        .form(&[
            ("appid", clients.appid.as_str()),
            ("redirect_uri", callback.as_str()),
            ("scope", "snsapi_base"),
            ("state", "s"),
            ("decision", "allow"),
        ])
        .send()
        .await
        .unwrap();
    let location = url::Url::parse(res.headers()["location"].to_str().unwrap()).unwrap();
    let code = location
        .query_pairs()
        .find(|(k, _)| k == "code")
        .map(|(_, v)| v.into_owned())
        .unwrap();
    // The code lived 0.3 ms; any exchange comes too late.
    let err = clients.oauth.exchange_code(&code).await.unwrap_err();
    assert!(
        matches!(err, WechatError::OAuth { errcode: 40029, .. }),
        "{err:?}"
    );
}

#[tokio::test]
async fn the_h5_cashier_wants_the_merchant_referer_and_returns_to_redirect_url() {
    let (app, clients) = sandbox_app(&[]).await;
    let n = out_trade_no();
    let prepay = clients
        .pay
        .create_h5_order(&paybridge_server::providers::wechat::orders::H5Order {
            common: common(&clients, &n, 66, "https://shop.example/notify"),
            scene_info: paybridge_server::providers::wechat::orders::H5SceneInfo {
                payer_client_ip: "203.0.113.7".into(),
                h5_info: paybridge_server::providers::wechat::orders::H5Info { kind: "Wap".into() },
            },
        })
        .await
        .unwrap();
    let back = app.url("/pay/back").to_string();
    let cashier = format!(
        "{}&redirect_url={}",
        prepay.h5_url,
        url::form_urlencoded::byte_serialize(back.as_bytes()).collect::<String>()
    );
    let without = app
        .client
        .get(&cashier)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        without.contains("商家参数格式有误"),
        "no Referer, no cashier"
    );
    let with = app
        .client
        .get(&cashier)
        .header("referer", app.base.as_str())
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(with.contains("¥0.66"), "{with}");
    let prepay_id = url::Url::parse(&prepay.h5_url)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == "prepay_id")
        .map(|(_, v)| v.into_owned())
        .unwrap();
    let res = app
        .client
        .post(app.url("/sandbox/wechat/h5/pay"))
        .form(&[
            ("prepay_id", prepay_id.as_str()),
            ("redirect_url", back.as_str()),
            ("action", "pay"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    assert_eq!(res.headers()["location"], back.as_str());
    assert_eq!(state_of(&clients, &n).await, TradeState::Success);
}

#[tokio::test]
async fn the_dashboard_lists_orders_and_the_bridge_script_is_served() {
    let (app, clients) = sandbox_app(&[]).await;
    let (n, _) = native(&clients, 4242, "https://shop.example/notify").await;
    let page = app.get("/sandbox").await.text().await.unwrap();
    assert!(page.contains(&n) && page.contains("4003"), "{page}");
    let script = app.get("/sandbox/bridge.js").await;
    assert_eq!(script.status(), 200);
    let text = script.text().await.unwrap();
    assert!(text.contains("WeixinJSBridgeReady") && text.contains("if (window.WeixinJSBridge)"));
}

#[tokio::test]
async fn sandbox_routes_are_404_in_live_mode() {
    let app = paybridge_tests::live::spawn_live().await;
    assert!(app.state.sandbox().is_none());
    // Both providers come from live configuration.
    for method in [
        paybridge_server::domain::PaymentMethod::WechatPay,
        paybridge_server::domain::PaymentMethod::Alipay,
    ] {
        assert!(app.state.provider(method).is_some(), "{method:?}");
    }
    for path in [
        "/sandbox",
        "/sandbox/alipay/gateway.do",
        "/sandbox/devices",
        "/sandbox/bridge.js",
        "/sandbox/wechat/v3/pay/transactions/native",
        "/sandbox/wechat/connect/oauth2/authorize",
        "/sandbox/wechat/scan",
    ] {
        assert_eq!(app.get(path).await.status(), 404, "{path}");
    }
    assert_eq!(
        app.get("/healthz").await.status(),
        200,
        "the live server itself is up"
    );
    app.stop().await;
}

#[tokio::test]
async fn return_addresses_must_be_this_servers_origin_and_the_devices_form_its_own_page() {
    let (app, clients) = sandbox_app(&[]).await;
    // Same host, another port: another origin, as WeChat's registered domains are.
    let mut elsewhere = app.base.clone();
    elsewhere.set_port(Some(1)).unwrap();
    let callback = elsewhere
        .join("/oauth/wechat/callback")
        .unwrap()
        .to_string();
    let res = app
        .client
        .get(clients.oauth.authorize_url(&callback, "st4te"))
        .send()
        .await
        .unwrap();
    assert_ne!(res.status(), 302, "no code sent to another origin");
    assert!(res.text().await.unwrap().contains("10003"));

    let id = app.create_session(100).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let h5 = paybridge_tests::shopper::pay(
        &app,
        &id,
        &serde_json::json!({"method": "wechat_pay", "environment": "mobile"}),
    )
    .await;
    let prepay_id = url::Url::parse(h5["url"].as_str().unwrap())
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == "prepay_id")
        .unwrap()
        .1
        .into_owned();
    let cancel = |redirect: String| {
        let (app, prepay_id) = (&app, prepay_id.clone());
        async move {
            app.client
                .post(app.url("/sandbox/wechat/h5/pay"))
                .form(&[
                    ("prepay_id", prepay_id.as_str()),
                    ("redirect_url", redirect.as_str()),
                    ("action", "cancel"),
                ])
                .send()
                .await
                .unwrap()
        }
    };
    let other = cancel(elsewhere.join(&format!("/pay/{id}")).unwrap().to_string()).await;
    assert_eq!(
        other.status(),
        200,
        "a result page, not a redirect to another origin"
    );
    let own = cancel(app.url(&format!("/pay/{id}")).to_string()).await;
    assert_eq!(own.status(), 303);

    // The devices page's pay button: only from the devices page itself.
    for origin in [None, Some(elsewhere.origin().ascii_serialization())] {
        let mut req = app
            .client
            .post(app.url("/sandbox/devices"))
            .form(&[("checkout", id.as_str())]);
        if let Some(o) = &origin {
            req = req.header("origin", o);
        }
        let body = req.send().await.unwrap().text().await.unwrap();
        assert!(!body.contains("data-result=\"ok\""), "{origin:?}: {body}");
    }
    assert_eq!(app.page_status(&id).await["status"], "open");
}
