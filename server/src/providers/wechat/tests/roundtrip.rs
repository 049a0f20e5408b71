//! Round trips with freshly generated keys, and one test per rejection.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;

use crate::providers::wechat::aead::ApiV3Key;
use crate::providers::wechat::authorization::{Authorization, verify_request};
use crate::providers::wechat::bills::{BillInfo, check_bill_hash};
use crate::providers::wechat::crypto::{PrivateKey, RsaBackend};
use crate::providers::wechat::error::WechatError;
use crate::providers::wechat::notification::{
    NotificationDraft, NotificationEvent, build_notification, verify_and_decrypt,
};
use crate::providers::wechat::orders::{TradeState, Transaction, format_time_expire};
use crate::providers::wechat::pay_params::JsapiPayParams;
use crate::providers::wechat::refunds::{Refund, RefundStatus};
use crate::providers::wechat::signer::{SignedHeaders, SigningIdentity};
use crate::providers::wechat::testkit::{generated, json, read, str_of};
use crate::providers::wechat::verifier::{MAX_CLOCK_SKEW_SECS, VerifyError, verify_signed_body};

const NOW: i64 = 1_700_000_000;
const MCHID: &str = "1900000109";

fn merchant(backend: RsaBackend) -> SigningIdentity {
    SigningIdentity::new(
        "5157F09EFDC096DE15EBE81A47057A7232F1B8E1".into(),
        generated().0.with_backend(backend).unwrap(),
    )
}

fn platform(backend: RsaBackend) -> SigningIdentity {
    SigningIdentity::new(
        "PUB_KEY_ID_0119000001092025010100000000001".into(),
        generated().1.with_backend(backend).unwrap(),
    )
}

fn signed(body: &[u8], timestamp: i64) -> SignedHeaders {
    platform(RsaBackend::default())
        .sign_response(body, &timestamp.to_string(), "nonce-0123456789")
        .unwrap()
}

#[test]
fn a_request_signed_by_the_merchant_verifies_on_the_receiving_side_with_either_backend() {
    for signer_backend in RsaBackend::ALL {
        let m = merchant(signer_backend);
        let body = br#"{"mchid":"1900000109"}"#;
        let header = m
            .authorization(
                MCHID,
                "POST",
                "/v3/pay/transactions/jsapi?x=1",
                body,
                &NOW.to_string(),
                "abc",
            )
            .unwrap();
        assert!(
            header.starts_with("WECHATPAY2-SHA256-RSA2048 mchid=\"1900000109\",nonce_str=\"abc\"")
        );
        for verifier_backend in RsaBackend::ALL {
            let key = m.key().public_key().with_backend(verifier_backend).unwrap();
            let auth = verify_request(
                &key,
                MCHID,
                &header,
                "POST",
                "/v3/pay/transactions/jsapi?x=1",
                body,
                NOW + 10,
            )
            .unwrap();
            assert_eq!(auth.serial_no, m.serial_no());
            assert_eq!(
                verify_request(
                    &key,
                    MCHID,
                    &header,
                    "POST",
                    "/v3/pay/transactions/jsapi?x=2",
                    body,
                    NOW
                ),
                Err(VerifyError::BadSignature),
                "the query string is signed"
            );
        }
    }
}

#[test]
fn a_request_for_another_merchant_is_refused() {
    let m = merchant(RsaBackend::default());
    let header = m
        .authorization(
            "1111111111",
            "GET",
            "/v3/certificates",
            b"",
            &NOW.to_string(),
            "n",
        )
        .unwrap();
    let err = verify_request(
        m.key().public_key(),
        MCHID,
        &header,
        "GET",
        "/v3/certificates",
        b"",
        NOW,
    )
    .unwrap_err();
    assert_eq!(err, VerifyError::WrongMerchant("1111111111".into()));
}

#[test]
fn malformed_authorization_headers_are_refused() {
    for header in [
        "",
        "Bearer x",
        r#"WECHATPAY2-SHA256-RSA2048 mchid="1",nonce_str="n",timestamp="1",serial_no="s""#,
        r#"WECHATPAY2-SHA256-RSA2048 mchid=1,nonce_str="n",timestamp="1",serial_no="s",signature="x""#,
        r#"WECHATPAY2-SHA256-RSA2048 mchid="1",mchid="2",nonce_str="n",timestamp="1",serial_no="s",signature="x""#,
        r#"WECHATPAY2-SHA256-RSA2048 mchid="1",nonce_str="n",timestamp="1",serial_no="s",signature="x",extra="y""#,
    ] {
        assert!(
            matches!(
                Authorization::parse(header),
                Err(VerifyError::MalformedAuthorization(_))
            ),
            "{header:?}"
        );
    }
}

#[test]
fn a_signed_response_verifies_through_both_backends() {
    let body = br#"{"prepay_id":"wx201410272009395522657a690389285100"}"#;
    for backend in RsaBackend::ALL {
        let p = platform(backend);
        let headers = p.sign_response(body, &NOW.to_string(), "n0nce").unwrap();
        for verifier in RsaBackend::ALL {
            let key = p.key().public_key().with_backend(verifier).unwrap();
            assert_eq!(verify_signed_body(&key, &headers, body, NOW), Ok(()));
        }
    }
}

#[test]
fn a_response_with_a_changed_body_is_refused() {
    let headers = signed(b"{\"a\":1}", NOW);
    let key = generated().1.public_key();
    assert_eq!(
        verify_signed_body(key, &headers, b"{\"a\":2}", NOW),
        Err(VerifyError::BadSignature)
    );
    assert_eq!(
        verify_signed_body(key, &headers, b"{\"a\": 1}", NOW),
        Err(VerifyError::BadSignature),
        "raw bytes, not re-serialized JSON"
    );
}

#[test]
fn a_response_signed_by_another_key_is_refused() {
    let headers = merchant(RsaBackend::default())
        .sign_response(b"{}", &NOW.to_string(), "n")
        .unwrap();
    assert_eq!(
        verify_signed_body(generated().1.public_key(), &headers, b"{}", NOW),
        Err(VerifyError::BadSignature)
    );
}

#[test]
fn a_timestamp_300_seconds_away_is_refused_in_either_direction_and_299_is_accepted() {
    let key = generated().1.public_key();
    for (ts, ok) in [
        (NOW - 299, true),
        (NOW + 299, true),
        (NOW - MAX_CLOCK_SKEW_SECS, false),
        (NOW + 300, false),
        (NOW - 86_400, false),
    ] {
        let headers = signed(b"{}", ts);
        let got = verify_signed_body(key, &headers, b"{}", NOW);
        assert_eq!(got.is_ok(), ok, "timestamp {ts}: {got:?}");
        if !ok {
            assert!(matches!(got, Err(VerifyError::Stale { .. })));
        }
    }
    let mut headers = signed(b"{}", NOW);
    headers.timestamp = "yesterday".into();
    assert_eq!(
        verify_signed_body(key, &headers, b"{}", NOW),
        Err(VerifyError::MalformedTimestamp("yesterday".into()))
    );
}

#[test]
fn a_signtest_probe_is_refused_even_when_everything_else_is_fine() {
    let mut headers = signed(b"{}", NOW);
    headers.signature = format!("WECHATPAY/SIGNTEST/{}", headers.signature);
    assert_eq!(
        verify_signed_body(generated().1.public_key(), &headers, b"{}", NOW),
        Err(VerifyError::Probe)
    );
}

#[test]
fn a_signature_that_is_not_base64_is_refused() {
    let mut headers = signed(b"{}", NOW);
    headers.signature = "not base64!".into();
    assert_eq!(
        verify_signed_body(generated().1.public_key(), &headers, b"{}", NOW),
        Err(VerifyError::MalformedSignature)
    );
}

#[test]
fn a_request_with_a_stale_timestamp_is_refused() {
    let m = merchant(RsaBackend::default());
    let header = m
        .authorization(
            MCHID,
            "GET",
            "/v3/certificates",
            b"",
            &(NOW - 600).to_string(),
            "n",
        )
        .unwrap();
    let err = verify_request(
        m.key().public_key(),
        MCHID,
        &header,
        "GET",
        "/v3/certificates",
        b"",
        NOW,
    )
    .unwrap_err();
    assert_eq!(err, VerifyError::Stale { skew_secs: 600 });
}

fn transaction_plaintext() -> Vec<u8> {
    let v = json("samples/query_order_success_docs_example.json");
    str_of(&v, "body_raw").as_bytes().to_vec()
}

#[test]
fn a_built_transaction_notification_verifies_and_decrypts_to_a_typed_event() {
    let apiv3 = ApiV3Key::new(b"0123456789abcdef0123456789abcdef").unwrap();
    let draft = NotificationDraft {
        id: "EV-2018022511223320873".into(),
        create_time: "2015-05-20T13:29:35+08:00".into(),
        event_type: "TRANSACTION.SUCCESS".into(),
        summary: "支付成功".into(),
        original_type: "transaction".into(),
        associated_data: "transaction".into(),
        plaintext: transaction_plaintext(),
    };
    for backend in RsaBackend::ALL {
        let p = platform(backend);
        let (headers, body) =
            build_notification(&p, &apiv3, &draft, &NOW.to_string(), "nonce").unwrap();
        let n = verify_and_decrypt(p.key().public_key(), &headers, &body, &apiv3, NOW).unwrap();
        let NotificationEvent::Transaction(t) = n.event else {
            panic!("{:?}", n.event)
        };
        assert_eq!(t.trade_state, TradeState::Success);
        assert_eq!((t.amount.total, t.amount.payer_total), (100, Some(100)));
        assert_eq!(t.payer.unwrap().openid, "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o");
        assert_eq!(
            t.transaction_id.as_deref(),
            Some("1217752501201407033233368018")
        );

        let wrong_key = ApiV3Key::new(b"fedcba9876543210fedcba9876543210").unwrap();
        let err =
            verify_and_decrypt(p.key().public_key(), &headers, &body, &wrong_key, NOW).unwrap_err();
        assert!(matches!(err, WechatError::Decrypt(_)), "{err:?}");
    }
}

#[test]
fn refund_notifications_of_each_outcome_decrypt_to_a_typed_refund() {
    let apiv3 = ApiV3Key::new(b"0123456789abcdef0123456789abcdef").unwrap();
    let sample = json("samples/refund_notification.json");
    for (event_type, status, expected) in [
        ("REFUND.SUCCESS", "SUCCESS", RefundStatus::Success),
        ("REFUND.ABNORMAL", "ABNORMAL", RefundStatus::Abnormal),
        ("REFUND.CLOSED", "CLOSED", RefundStatus::Closed),
    ] {
        let mut resource = sample["decrypted_resource"].clone();
        resource["refund_status"] = status.into();
        let draft = NotificationDraft {
            id: "EV-1".into(),
            create_time: "2018-06-08T10:34:56+08:00".into(),
            event_type: event_type.into(),
            summary: "退款".into(),
            original_type: "refund".into(),
            associated_data: String::new(),
            plaintext: serde_json::to_vec(&resource).unwrap(),
        };
        let p = platform(RsaBackend::default());
        let (headers, body) =
            build_notification(&p, &apiv3, &draft, &NOW.to_string(), "n").unwrap();
        let n = verify_and_decrypt(p.key().public_key(), &headers, &body, &apiv3, NOW).unwrap();
        let NotificationEvent::Refund(r) = n.event else {
            panic!("{:?}", n.event)
        };
        assert_eq!(r.refund_status, expected);
        assert_eq!((r.amount.total, r.amount.refund), (999, 999));
        assert_eq!(r.out_refund_no, "7752501201407033233368018");
    }
}

#[test]
fn an_unknown_event_type_is_an_unknown_event_not_a_panic() {
    let apiv3 = ApiV3Key::new(b"0123456789abcdef0123456789abcdef").unwrap();
    let draft = NotificationDraft {
        id: "EV-2".into(),
        create_time: "2024-01-01T00:00:00+08:00".into(),
        event_type: "MCHTRANSFER.BILL.FINISHED".into(),
        summary: String::new(),
        original_type: "mch_payment".into(),
        associated_data: "mch_payment".into(),
        plaintext: b"{\"state\":\"SUCCESS\"}".to_vec(),
    };
    let p = platform(RsaBackend::default());
    let (headers, body) = build_notification(&p, &apiv3, &draft, &NOW.to_string(), "n").unwrap();
    let n = verify_and_decrypt(p.key().public_key(), &headers, &body, &apiv3, NOW).unwrap();
    assert_eq!(
        n.event,
        NotificationEvent::Unknown {
            event_type: "MCHTRANSFER.BILL.FINISHED".into(),
            plaintext: "{\"state\":\"SUCCESS\"}".into()
        }
    );
}

#[test]
fn jsapi_pay_params_use_wechats_names_and_verify_with_the_merchant_key() {
    let m = merchant(RsaBackend::default());
    let params = JsapiPayParams::sign(
        &m,
        "wxd678efh567hg6787",
        "wx201410272009395522657a690389285100",
        1_414_561_699,
        "5K8264ILTKCH16CQ2502SI8ZNMTM67VS",
    )
    .unwrap();
    let v = serde_json::to_value(&params).unwrap();
    let mut keys: Vec<_> = v.as_object().unwrap().keys().cloned().collect();
    keys.sort();
    assert_eq!(
        keys,
        [
            "appId",
            "nonceStr",
            "package",
            "paySign",
            "signType",
            "timeStamp"
        ]
    );
    assert_eq!(
        (
            v["package"].as_str(),
            v["signType"].as_str(),
            v["timeStamp"].as_str()
        ),
        (
            Some("prepay_id=wx201410272009395522657a690389285100"),
            Some("RSA"),
            Some("1414561699")
        )
    );
    let message = "wxd678efh567hg6787\n1414561699\n5K8264ILTKCH16CQ2502SI8ZNMTM67VS\nprepay_id=wx201410272009395522657a690389285100\n";
    assert!(m.key().public_key().verify(
        message.as_bytes(),
        &BASE64.decode(&params.pay_sign).unwrap()
    ));
    for backend in RsaBackend::ALL {
        assert_eq!(
            params.verify(&m.key().public_key().with_backend(backend).unwrap()),
            Ok(())
        );
    }
    let mut forged = params.clone();
    forged.app_id = "wxanotherapp".into();
    assert_eq!(
        forged.verify(m.key().public_key()),
        Err(VerifyError::BadSignature)
    );
    assert_eq!(
        params.prepay_id(),
        Some("wx201410272009395522657a690389285100")
    );
}

#[test]
fn sample_query_answers_parse_including_real_unpaid_orders() {
    let success: Transaction = serde_json::from_str(str_of(
        &json("samples/query_order_success_docs_example.json"),
        "body_raw",
    ))
    .unwrap();
    assert_eq!(success.trade_state, TradeState::Success);
    for file in [
        "samples/query_order_notpay_real_capture_47818898591.json",
        "samples/query_order_notpay_real_capture_8885319265.json",
    ] {
        let t: Transaction = serde_json::from_str(str_of(&json(file), "body_raw")).unwrap();
        assert_eq!(t.trade_state, TradeState::NotPay);
        assert!(t.transaction_id.is_none() && t.payer.is_none());
    }
    let states = json("samples/trade_state_values.json");
    for s in states["trade_state"].as_array().unwrap() {
        let state: TradeState = serde_json::from_value(s["value"].clone()).unwrap();
        assert!(!matches!(state, TradeState::Other(_)), "{state:?}");
    }
    let refund: Refund =
        serde_json::from_value(json("samples/refund_create_response.json")["body"].clone())
            .unwrap();
    assert_eq!(
        (refund.status, refund.amount.refund),
        (RefundStatus::Success, 100)
    );
}

#[test]
fn a_downloaded_bill_must_match_its_sha1() {
    let meta = json("samples/bill_ALL.csv.json");
    let file = std::fs::read(format!(
        "{}/samples/bill_ALL.csv",
        crate::providers::wechat::testkit::VECTORS
    ))
    .unwrap();
    let info = BillInfo {
        hash_type: "SHA1".into(),
        hash_value: str_of(&meta, "sha1").to_uppercase(),
        download_url: String::new(),
    };
    assert!(check_bill_hash(&file, &info).is_ok());
    let mut changed = file.clone();
    changed[100] ^= 1;
    assert!(matches!(
        check_bill_hash(&changed, &info),
        Err(WechatError::BillHashMismatch)
    ));
}

#[test]
fn keys_never_appear_in_debug_output() {
    let key = &generated().0;
    let pem = key.to_pkcs8_pem().unwrap();
    let body_line = pem.expose().lines().nth(1).unwrap().to_owned();
    let apiv3 = ApiV3Key::new(b"0123456789abcdef0123456789abcdef").unwrap();
    for shown in [
        format!("{key:?}"),
        format!("{:?}", merchant(RsaBackend::RustCrypto)),
        format!("{apiv3:?}"),
        format!("{pem:?}"),
    ] {
        assert!(
            !shown.contains(&body_line) && !shown.contains("0123456789abcdef"),
            "{shown}"
        );
        assert!(shown.contains("redacted"), "{shown}");
    }
    let reloaded = PrivateKey::from_pem(RsaBackend::default(), pem.expose()).unwrap();
    assert_eq!(reloaded.public_key(), key.public_key());
    assert!(read("keys/wechatpay-go.test_public_key.pem").contains("PUBLIC KEY"));
}

#[test]
fn a_generated_public_key_round_trips_through_pem_for_public_key_mode() {
    let pem = generated().1.public_key().to_pem().unwrap();
    assert!(pem.starts_with("-----BEGIN PUBLIC KEY-----"));
    for backend in RsaBackend::ALL {
        assert_eq!(
            &crate::providers::wechat::PublicKey::from_pem(backend, &pem).unwrap(),
            generated().1.public_key()
        );
    }
}

#[test]
fn time_expire_is_formatted_in_china_time_with_an_explicit_offset() {
    let at = time::OffsetDateTime::from_unix_timestamp(1_528_425_296).unwrap();
    assert_eq!(format_time_expire(at), "2018-06-08T10:34:56+08:00");
}
