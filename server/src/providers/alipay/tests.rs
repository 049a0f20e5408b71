//! Known-answer tests from Alipay's official SDKs, through every RSA backend, plus the
//! rejections: a bad signature, another app's notification, a changed amount.
//!
//! Sources (each file in `testdata/` comes from one of these):
//! - alipay/alipay-sdk-java-all, `v2/src/test/java/com/alipay/api/RSACheckTest.java` with the
//!   "ProdCert" key of `v2/src/test/resources/fixture/privateKey.json`: the signed strings and
//!   their published RSA2 signatures (`java_*`).
//! - alipay/alipay-sdk-nodejs-all, `test/alipay.test.ts`: a real `trade_status_sync`
//!   notification and the Alipay public key it verifies with (`checkNotifySign`, the inline
//!   `notifyAlipayPublicKeyV1`), and a real gateway answer with its `sign` verified by
//!   `test/fixtures/alipay-public-key.pem` (`checkResponseSign`); the signed 40002
//!   `isv.invalid-signature` answer is quoted in `src/alipay.ts` (`node_*`).
//! - `computed_page_pay.sig`: computed with openssl for this project (not published) over a
//!   full `alipay.trade.page.pay` parameter set, to check sorting and joining end to end.

use std::sync::Arc;

use super::client::{AlipayClient, AlipayConfig};
use super::error::AlipayError;
use super::model::{CashierPay, PAGE_PRODUCT, TradeStatus};
use super::notification::{build_notification, parse_notification};
use super::trust::AlipayTrust;
use super::{keys, response, sign};
use crate::providers::wechat::{FixedClock, RsaBackend};

const JAVA_KEY: &str = include_str!("testdata/java_app_private_key.pem");
const NOTIFY_KEY: &str = include_str!("testdata/node_notify_alipay_public_key.pem");
const RESPONSE_KEY: &str = include_str!("testdata/node_alipay_public_key.pem");
const NOTIFICATION: &str = include_str!("testdata/node_trade_status_sync.form");

#[test]
fn java_sdk_signatures_are_reproduced_byte_for_byte() {
    let cases = [
        (
            vec![
                ("method", "koubei.marketing.data.indicator.query"),
                ("app_id", "2019090366875133"),
                ("sign_type", "RSA2"),
            ],
            include_str!("testdata/java_rsa2_basic.sig"),
        ),
        (
            vec![
                ("method", "koubei.marketing.data.indicator.query"),
                ("extra", "中文测试"),
                ("app_id", "2019090366875133"),
                ("sign_type", "RSA2"),
                ("sign", "left out"),
            ],
            include_str!("testdata/java_rsa2_chinese.sig"),
        ),
    ];
    for backend in RsaBackend::ALL {
        let key = keys::private_key(backend, JAVA_KEY).unwrap();
        for (params, expected) in &cases {
            let content = sign::signing_content(params.iter().copied(), sign::REQUEST_EXCLUDED);
            assert_eq!(sign::sign(&key, &content).unwrap(), expected.trim());
            assert!(sign::verify(key.public_key(), &content, expected.trim()));
            assert!(!sign::verify(
                key.public_key(),
                &content.replace("RSA2", "RSA"),
                expected.trim()
            ));
        }
    }
}

#[test]
fn bare_base64_keys_from_alipays_key_tool_are_accepted() {
    let body: String = JAVA_KEY
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .collect();
    let bare = keys::private_key(RsaBackend::default(), &body).unwrap();
    let pem = keys::private_key(RsaBackend::default(), JAVA_KEY).unwrap();
    assert!(bare.public_key() == pem.public_key());
    let public_pem = pem.public_key().to_pem().unwrap();
    let public_bare: String = public_pem
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .collect();
    assert!(keys::public_key(RsaBackend::default(), &public_bare).unwrap() == *pem.public_key());
    assert!(keys::private_key(RsaBackend::default(), "not a key").is_err());
}

#[test]
fn a_real_notification_verifies_and_decodes() {
    for backend in RsaBackend::ALL {
        let key = keys::public_key(backend, NOTIFY_KEY).unwrap();
        let n =
            parse_notification(&key, "2019073166072302", NOTIFICATION.trim().as_bytes()).unwrap();
        assert_eq!(n.out_trade_no, "20190815155618536-564-57");
        assert_eq!(n.trade_no, "2019081522001468450512505578");
        assert_eq!(n.trade_status, TradeStatus::Success);
        assert_eq!(n.total_amount, 10);
        assert_eq!(n.seller_id.as_deref(), Some("2088531891668739"));
        assert_eq!(n.refund_fee, None);
    }
}

#[test]
fn another_apps_or_a_changed_notification_is_refused() {
    let key = keys::public_key(RsaBackend::default(), NOTIFY_KEY).unwrap();
    let body = NOTIFICATION.trim();
    let refused = |body: &str, app: &str| {
        matches!(
            parse_notification(&key, app, body.as_bytes()),
            Err(AlipayError::Signature)
        )
    };
    assert!(
        refused(body, "2021000000000000"),
        "another app's notification"
    );
    assert!(refused(
        &body.replace("total_amount=0.10", "total_amount=0.01"),
        "2019073166072302"
    ));
    assert!(refused(
        &body.replace("trade_status=TRADE_SUCCESS", "trade_status=TRADE_FINISHED"),
        "2019073166072302"
    ));
    let unsigned: String = body
        .split('&')
        .filter(|p| !p.starts_with("sign="))
        .collect::<Vec<_>>()
        .join("&");
    assert!(refused(&unsigned, "2019073166072302"), "no sign");
    assert!(refused(
        &body.replace("sign_type=RSA2", "sign_type=RSA"),
        "2019073166072302"
    ));
}

#[test]
fn notifications_built_for_the_sandbox_verify_and_carry_refunds() {
    let key = keys::private_key(RsaBackend::default(), JAVA_KEY).unwrap();
    let body = build_notification(
        &key,
        &[
            ("app_id", "2021000000000001"),
            ("notify_id", "n1"),
            ("notify_time", "2026-11-27 10:00:00"),
            ("trade_no", "2026112722001"),
            ("out_trade_no", "abc"),
            ("trade_status", "TRADE_SUCCESS"),
            ("total_amount", "12.34"),
            ("out_biz_no", "re_1"),
            ("refund_fee", "1.00"),
            ("subject", "a b&c=d"),
        ],
    )
    .unwrap();
    let n = parse_notification(key.public_key(), "2021000000000001", body.as_bytes()).unwrap();
    assert_eq!(n.total_amount, 1234);
    assert_eq!(n.out_biz_no.as_deref(), Some("re_1"));
    assert_eq!(n.refund_fee, Some(100));
    // The parser differential: empty values are not signed, so an empty `out_biz_no=` put in
    // front of the signed one still verifies; read first, it turned this refund notice into a
    // trade completion. A name given twice is refused.
    for forged in [
        format!("out_biz_no=&{body}"),
        format!("{body}&out_biz_no="),
        format!("{body}&trade_status=TRADE_SUCCESS"),
    ] {
        assert!(
            matches!(
                parse_notification(key.public_key(), "2021000000000001", forged.as_bytes()),
                Err(AlipayError::Signature)
            ),
            "{forged}"
        );
    }
}

#[derive(Debug, serde::Deserialize)]
struct FileUpload {
    file_id: String,
}

#[test]
fn a_real_gateway_answer_verifies_over_its_raw_text() {
    let body = include_str!("testdata/node_file_upload_response.json").trim();
    for backend in RsaBackend::ALL {
        let key = AlipayTrust::PublicKey(keys::public_key(backend, RESPONSE_KEY).unwrap());
        let answer: FileUpload = response::parse(&key, "alipay.open.file.upload", body).unwrap();
        assert_eq!(answer.file_id, "CAxAToWB1JsAAAAAAAAAAAAADgSLAQBr");
        // The same JSON re-spaced is not what Alipay signed.
        let respaced = body.replace("\"code\":\"10000\"", "\"code\": \"10000\"");
        assert!(matches!(
            response::parse::<FileUpload>(&key, "alipay.open.file.upload", &respaced),
            Err(AlipayError::Signature)
        ));
        let changed = body.replace("CAxAToWB1Js", "CAxAToWB1Jt");
        assert!(matches!(
            response::parse::<FileUpload>(&key, "alipay.open.file.upload", &changed),
            Err(AlipayError::Signature)
        ));
    }
}

#[test]
fn a_signed_failure_is_reported_with_its_codes() {
    let body = include_str!("testdata/node_invalid_signature_response.json").trim();
    let key =
        AlipayTrust::PublicKey(keys::public_key(RsaBackend::default(), RESPONSE_KEY).unwrap());
    match response::parse::<FileUpload>(&key, "alipay.security.risk.content.analyze", body) {
        Err(AlipayError::Api { code, sub_code, .. }) => {
            assert_eq!(code, "40002");
            assert_eq!(sub_code, "isv.invalid-signature");
        }
        other => panic!("expected the API failure, got {other:?}"),
    }
}

#[test]
fn an_unsigned_success_is_refused() {
    let key =
        AlipayTrust::PublicKey(keys::public_key(RsaBackend::default(), RESPONSE_KEY).unwrap());
    let body =
        r#"{"alipay_open_file_upload_response":{"code":"10000","msg":"Success","file_id":"x"}}"#;
    assert!(matches!(
        response::parse::<FileUpload>(&key, "alipay.open.file.upload", body),
        Err(AlipayError::Signature)
    ));
    let unsigned_failure = r#"{"error_response":{"code":"40002","msg":"Invalid Arguments","sub_code":"isv.invalid-app-id"}}"#;
    assert!(matches!(
        response::parse::<FileUpload>(&key, "alipay.open.file.upload", unsigned_failure),
        Err(AlipayError::Api { .. })
    ));
}

#[test]
fn a_page_pay_url_carries_the_expected_signature() {
    // 2024-01-01 12:00:00 in Beijing.
    let clock = Arc::new(FixedClock::at(1_704_081_600));
    let client = AlipayClient::new(
        AlipayConfig {
            app_id: "2021003126695331".into(),
            gateway: url::Url::parse("https://openapi.alipay.com/gateway.do").unwrap(),
            app_key: keys::private_key(RsaBackend::default(), JAVA_KEY).unwrap(),
            trust: AlipayTrust::PublicKey(
                keys::public_key(RsaBackend::default(), RESPONSE_KEY).unwrap(),
            ),
            timeout: std::time::Duration::from_secs(1),
        },
        clock,
    )
    .unwrap();
    let pay = CashierPay {
        out_trade_no: "20240101000000001".into(),
        total_amount: "0.01".into(),
        subject: "测试商品".into(),
        product_code: PAGE_PRODUCT.into(),
        time_expire: None,
        quit_url: None,
        goods_detail: None,
    };
    let url = client
        .cashier_url(
            "alipay.trade.page.pay",
            &pay,
            "https://example.com/alipay/notify",
            "https://example.com/alipay/return",
        )
        .unwrap();
    let params: Vec<(String, String)> = url.query_pairs().into_owned().collect();
    let get = |k: &str| params.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    assert_eq!(get("timestamp"), Some("2024-01-01 12:00:00"));
    assert_eq!(
        get("sign"),
        Some(include_str!("testdata/computed_page_pay.sig").trim())
    );
}
