//! WeChat Pay crypto per RSA backend: request signing, response verification, and notification
//! verify + decrypt; plus bare `ring` signing as the baseline the ring backend must stay near.

#![allow(
    clippy::expect_used,
    reason = "a benchmark should stop loudly on a broken fixture"
)]
use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use paybridge_server::providers::wechat::aead::ApiV3Key;
use paybridge_server::providers::wechat::crypto::{PrivateKey, RsaBackend};
use paybridge_server::providers::wechat::notification::{
    NotificationDraft, build_notification, verify_and_decrypt,
};
use paybridge_server::providers::wechat::signer::{
    SigningIdentity, request_message, response_message,
};
use ring::signature::{RSA_PKCS1_SHA256, RsaKeyPair};

const KEY: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/vectors/keys/wechatpay-go.test_private_key.pem"
));
const NOW: i64 = 1_700_000_000;

fn transaction() -> Vec<u8> {
    r#"{"transaction_id":"1217752501201407033233368018","amount":{"payer_total":100,"total":100,"currency":"CNY","payer_currency":"CNY"},"mchid":"1230000109","trade_state":"SUCCESS","bank_type":"CMC","success_time":"2018-06-08T10:34:56+08:00","payer":{"openid":"oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"},"out_trade_no":"1217752501201407033233368018","appid":"wxd678efh567hg6787","trade_state_desc":"支付成功","trade_type":"JSAPI","attach":"","scene_info":{"device_id":"013467007045764"}}"#.as_bytes().to_vec()
}

fn bench(c: &mut Criterion) {
    let body = br#"{"appid":"wxd678efh567hg6787","mchid":"1230000109","description":"Image","out_trade_no":"1217752501201407033233368018","notify_url":"https://pay.example.com/notify/wechat","amount":{"total":100,"currency":"CNY"},"payer":{"openid":"oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"}}"#;
    let message = request_message(
        "POST",
        "/v3/pay/transactions/jsapi",
        "1700000000",
        "593BEC0C930BF1AFEB40B4A08C8FB242",
        body,
    );
    let apiv3 = ApiV3Key::new(b"0123456789abcdef0123456789abcdef").expect("key");

    let mut group = c.benchmark_group("wechat");
    group.throughput(Throughput::Elements(1));

    {
        let der = {
            use rsa::pkcs1::EncodeRsaPrivateKey;
            use rsa::pkcs8::DecodePrivateKey;
            rsa::RsaPrivateKey::from_pkcs8_pem(KEY)
                .expect("pem")
                .to_pkcs1_der()
                .expect("der")
        };
        let pair = RsaKeyPair::from_der(der.as_bytes()).expect("ring key");
        let rng = ring::rand::SystemRandom::new();
        group.bench_function("bare_ring/sign", |b| {
            b.iter(|| {
                let mut sig = vec![0; pair.public().modulus_len()];
                pair.sign(&RSA_PKCS1_SHA256, &rng, black_box(&message), &mut sig)
                    .expect("sign");
                sig
            });
        });
    }

    for backend in RsaBackend::ALL {
        let name = backend.as_str();
        let key = PrivateKey::from_pem(backend, KEY).expect("key");
        let identity = SigningIdentity::new("PUB_KEY_ID_0000".into(), key.clone());
        group.bench_function(format!("{name}/sign"), |b| {
            b.iter(|| key.sign(black_box(&message)).expect("sign"));
        });
        group.bench_function(format!("{name}/authorization_header"), |b| {
            b.iter(|| {
                identity
                    .authorization(
                        "1230000109",
                        "POST",
                        "/v3/pay/transactions/jsapi",
                        black_box(body),
                        "1700000000",
                        "593BEC0C930BF1AFEB40B4A08C8FB242",
                    )
                    .expect("sign")
            });
        });

        let response = response_message("1700000000", "nonce", body);
        let signature = key.sign(&response).expect("sign");
        let public = key.public_key().clone();
        group.bench_function(format!("{name}/verify"), |b| {
            b.iter(|| assert!(public.verify(black_box(&response), &signature)));
        });

        let draft = NotificationDraft {
            id: "EV-2018022511223320873".into(),
            create_time: "2018-06-08T10:34:56+08:00".into(),
            event_type: "TRANSACTION.SUCCESS".into(),
            summary: "支付成功".into(),
            original_type: "transaction".into(),
            associated_data: "transaction".into(),
            plaintext: transaction(),
        };
        let (headers, notification) =
            build_notification(&identity, &apiv3, &draft, &NOW.to_string(), "nonce")
                .expect("notification");
        group.bench_function(format!("{name}/notification_verify_decrypt"), |b| {
            b.iter(|| {
                verify_and_decrypt(&public, &headers, black_box(&notification), &apiv3, NOW)
                    .expect("valid")
            });
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
