//! WeChat Pay notifications as WeChat would send them, signed and encrypted with the sandbox's
//! keys, for tests and benchmarks that exercise `/notify/wechat` directly.

use paybridge_server::providers::wechat::notification::{NotificationDraft, build_notification};
use paybridge_server::providers::wechat::{ApiV3Key, SigningIdentity};
use serde_json::json;

use crate::TestApp;

/// Headers and body of a TRANSACTION.SUCCESS notification for `out_trade_no`, with `appid` and
/// `total` (fen) as stated and `timestamp` (Unix seconds) in its signature.
///
/// # Panics
/// When the server is not in sandbox mode (the keys come from its simulator).
#[must_use]
pub fn transaction_success(
    app: &TestApp,
    out_trade_no: &str,
    appid: &str,
    total: i64,
    timestamp: i64,
) -> (Vec<(String, String)>, Vec<u8>) {
    let transaction_id = format!("4200{out_trade_no}");
    transaction_success_of(app, out_trade_no, &transaction_id, appid, total, timestamp)
}

/// [`transaction_success`] naming WeChat's `transaction_id` (the one the sandbox gave the
/// payment, when the test goes on to refund it).
///
/// # Panics
/// When the server is not in sandbox mode (the keys come from its simulator).
#[must_use]
pub fn transaction_success_of(
    app: &TestApp,
    out_trade_no: &str,
    transaction_id: &str,
    appid: &str,
    total: i64,
    timestamp: i64,
) -> (Vec<(String, String)>, Vec<u8>) {
    let keys = app.state.sandbox().expect("sandbox mode").keys();
    signed_transaction(
        &keys.platform,
        keys.apiv3_key.expose(),
        &keys.mchid,
        (appid, out_trade_no, transaction_id),
        total,
        timestamp,
    )
}

/// Now, in Unix seconds.
#[must_use]
pub fn unix_now() -> i64 {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    i64::try_from(secs).unwrap_or(i64::MAX)
}

/// The form body of an Alipay `trade_status_sync` notification for `out_trade_no`, signed with
/// `signer` (the sandbox's Alipay key unless a test forges one) for `app_id`.
///
/// # Panics
/// When the key cannot sign.
#[must_use]
pub fn alipay_trade(
    signer: &paybridge_server::providers::wechat::PrivateKey,
    app_id: &str,
    out_trade_no: &str,
    total_amount: &str,
    trade_status: &str,
) -> String {
    alipay_trade_with(
        signer,
        app_id,
        out_trade_no,
        total_amount,
        trade_status,
        &[],
    )
}

/// [`alipay_trade`] with `extra` parameters (e.g. `seller_id`) signed along.
#[must_use]
pub fn alipay_trade_with(
    signer: &paybridge_server::providers::wechat::PrivateKey,
    app_id: &str,
    out_trade_no: &str,
    total_amount: &str,
    trade_status: &str,
    extra: &[(&str, &str)],
) -> String {
    let trade_no = format!("2026112722001{out_trade_no}");
    let mut params = vec![
        ("notify_type", "trade_status_sync"),
        ("notify_id", "test-notification"),
        ("notify_time", "2026-11-27 10:00:00"),
        ("app_id", app_id),
        ("charset", "utf-8"),
        ("version", "1.0"),
        ("trade_no", &trade_no),
        ("out_trade_no", out_trade_no),
        ("trade_status", trade_status),
        ("total_amount", total_amount),
    ];
    params.extend_from_slice(extra);
    paybridge_server::providers::alipay::notification::build_notification(signer, &params)
        .expect("signs")
}

/// A TRANSACTION.SUCCESS notification signed by `platform` (a `PUB_KEY_ID_…` key or a platform
/// certificate's, named by its serial) and encrypted with `apiv3_key`, for merchant `mchid`;
/// `ids` are the appid, `out_trade_no` and WeChat's `transaction_id`.
///
/// # Panics
/// When the notification cannot be built (a bad APIv3 key).
#[must_use]
pub fn signed_transaction(
    platform: &SigningIdentity,
    apiv3_key: &str,
    mchid: &str,
    ids: (&str, &str, &str),
    total: i64,
    timestamp: i64,
) -> (Vec<(String, String)>, Vec<u8>) {
    let (appid, out_trade_no, transaction_id) = ids;
    let resource = json!({
        "appid": appid, "mchid": mchid, "out_trade_no": out_trade_no,
        "transaction_id": transaction_id, "trade_type": "NATIVE",
        "trade_state": "SUCCESS", "trade_state_desc": "支付成功", "bank_type": "OTHERS",
        "success_time": "2026-11-26T10:00:00+08:00", "payer": {"openid": "o_test"},
        "amount": {"total": total, "payer_total": total, "currency": "CNY", "payer_currency": "CNY"},
    });
    let draft = NotificationDraft {
        id: format!("EV-{out_trade_no}"),
        create_time: "2026-11-26T10:00:00+08:00".into(),
        event_type: "TRANSACTION.SUCCESS".into(),
        summary: "支付成功".into(),
        original_type: "transaction".into(),
        associated_data: "transaction".into(),
        plaintext: resource.to_string().into_bytes(),
    };
    let key = ApiV3Key::new(apiv3_key.as_bytes()).expect("APIv3 key");
    let (headers, body) = build_notification(
        platform,
        &key,
        &draft,
        &timestamp.to_string(),
        &format!("n{out_trade_no}"),
    )
    .expect("notification builds");
    let pairs = headers
        .pairs()
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    (pairs, body)
}
