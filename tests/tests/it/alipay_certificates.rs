//! An Alipay app in certificate mode (公钥证书), against the sandbox in certificate mode: every
//! request names the app's certificate and Alipay's roots, every answer is verified with the
//! certificate it names, notifications verify with Alipay's certificate, and the certificates'
//! ends are reported like WeChat Pay's. The doctor explains each certificate mistake.

use std::time::Duration;

use paybridge_server::config::AlipayVerification;
use paybridge_tests::{shopper, spawn_app_with, wait};
use serde_json::json;
use url::Url;

#[tokio::test]
async fn a_certificate_mode_app_pays_refunds_and_reports_its_certificates() {
    let app = spawn_app_with(&["--sandbox-alipay-certificates", "on"]).await;
    let certs = app
        .state
        .sandbox()
        .unwrap()
        .alipay_keys()
        .certificates
        .clone()
        .expect("certificate mode");
    let mut request = paybridge_tests::app::session_request(2600);
    request["payment_methods"] = json!(["alipay"]);
    let (status, session) = app.api_post("/v1/checkout_sessions", &request, None).await;
    assert_eq!(status, 200, "{session}");
    let id = session["id"].as_str().unwrap();

    // The cashier URL names the app's certificate and the RSA roots, as Alipay's SDKs do.
    let action = shopper::pay(
        &app,
        id,
        &json!({"method": "alipay", "environment": "desktop"}),
    )
    .await;
    assert_eq!(action["type"], "redirect", "{action}");
    let url = Url::parse(action["url"].as_str().unwrap()).unwrap();
    let param = |name: &str| {
        url.query_pairs()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
    };
    assert_eq!(param("app_cert_sn"), Some(certs.app_cert_sn.clone()));
    assert_eq!(
        param("alipay_root_cert_sn"),
        Some(certs.root_cert_sn.clone())
    );
    assert_eq!(certs.app_cert_sn.len(), 32);
    assert!(
        !certs.root_cert_sn.contains('_'),
        "the ECDSA root is left out"
    );

    // Paid: the notification verifies with Alipay's certificate.
    let back = shopper::alipay_cashier(&app, url.as_str(), "pay").await;
    assert_eq!(back.status(), 303);
    app.until_complete(id).await;
    let payment = action["payment"].as_str().unwrap();

    // A refund: the gateway's answers carry alipay_cert_sn and verify with that certificate.
    let (status, refund) = app
        .api_post("/v1/refunds", &json!({"payment": payment}), None)
        .await;
    assert_eq!(status, 200, "{refund}");
    let rid = refund["id"].as_str().unwrap().to_owned();
    wait::until("the refund to succeed", Duration::from_secs(20), || async {
        let (_, r) = app.api_get(&format!("/v1/refunds/{rid}")).await;
        (r["status"] == "succeeded").then_some(())
    })
    .await;

    // Both certificates' ends are reported with their SNs.
    let detail: serde_json::Value = app.admin_get("/readyz").await.json().await.unwrap();
    let keys = detail["keys"].as_array().unwrap();
    for (kind, sn) in [
        ("alipay_app_certificate", &certs.app_cert_sn),
        ("alipay_certificate", &certs.alipay_cert_sn),
    ] {
        let key = keys
            .iter()
            .find(|k| k["kind"] == kind)
            .unwrap_or_else(|| panic!("{kind} in {detail}"));
        assert_eq!(key["serial"], sn.as_str(), "{detail}");
        assert_eq!(key["source"], "file");
        assert_eq!(key["status"], "ok");
    }
    let metrics = app.admin_get("/metrics").await.text().await.unwrap();
    assert!(
        metrics.contains(&format!(
            "paybridge_key_expiry_seconds{{kind=\"alipay_certificate\",serial=\"{}\"}}",
            certs.alipay_cert_sn
        )),
        "{metrics}"
    );
}

#[tokio::test]
async fn an_app_certificate_for_another_key_refuses_to_start() {
    let app = spawn_app_with(&["--sandbox-alipay-certificates", "on"]).await;
    let config = app.state.sandbox().unwrap().alipay_keys().config();
    let AlipayVerification::Certificates { alipay_cert, .. } = &config.verification else {
        panic!("certificate mode");
    };
    let keys_dir = tempfile::tempdir().unwrap();
    let data_dir = tempfile::tempdir().unwrap();
    let mut args = paybridge_tests::live::live_args(keys_dir.path(), data_dir.path());
    // Certificate mode, with Alipay's certificate given as the app's.
    let public = args
        .iter()
        .position(|a| a == "--alipay-public-key-path")
        .unwrap();
    args.drain(public..public + 2);
    let mut flags = paybridge_tests::live::alipay_flags(&config);
    for flag in &mut flags {
        if flag.0 == "--alipay-app-cert-path" {
            flag.1 = alipay_cert.display().to_string();
        }
    }
    for (flag, value) in flags {
        match args.iter().position(|a| a == flag) {
            Some(i) => args[i + 1] = value,
            None => args.extend([flag.to_owned(), value]),
        }
    }
    let cli = <paybridge_server::config::Cli as clap::Parser>::try_parse_from(args).unwrap();
    let config = cli.settings.validate().unwrap_or_else(|p| panic!("{p}"));
    let err = paybridge_server::Server::bind(config)
        .await
        .err()
        .expect("an app certificate for another key refuses to start");
    let text = err.to_string();
    assert!(text.contains("ALIPAY_APP_CERT_PATH"), "{text}");
    assert!(text.contains("ALIPAY_PRIVATE_KEY_PATH"), "{text}");
}
