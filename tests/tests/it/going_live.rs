//! Going live: domain-verification files at the site root, webhook secret rotation.

use paybridge_tests::spawn_app_with;

#[tokio::test]
async fn domain_verification_files_are_served_exactly_and_nothing_else() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("MP_verify_Ab12Cd34.txt"), "Ab12Cd34").unwrap();
    std::fs::write(dir.path().join(".hidden.txt"), "no").unwrap();
    std::fs::write(dir.path().join("page.html"), "<p>no</p>").unwrap();
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(outside.path().join("secret.txt"), "secret").unwrap();
    #[cfg(unix)]
    std::os::unix::fs::symlink(
        outside.path().join("secret.txt"),
        dir.path().join("linked.txt"),
    )
    .unwrap();
    let app = spawn_app_with(&["--verify-dir", dir.path().to_str().unwrap()]).await;

    let res = app.get("/MP_verify_Ab12Cd34.txt").await;
    assert_eq!(res.status(), 200);
    assert_eq!(
        res.headers()["content-type"].to_str().unwrap(),
        "text/plain; charset=utf-8"
    );
    assert_eq!(res.text().await.unwrap(), "Ab12Cd34");
    // A file dropped in later is served without a restart.
    std::fs::write(dir.path().join("alipay_verify.txt"), "later").unwrap();
    assert_eq!(
        app.get("/alipay_verify.txt").await.text().await.unwrap(),
        "later"
    );
    for refused in [
        "/.hidden.txt",
        "/page.html",
        "/linked.txt",
        "/missing.txt",
        "/..%2Fsecret.txt",
        "/%2e%2e%2fsecret.txt",
    ] {
        let res = app.get(refused).await;
        assert_eq!(res.status(), 404, "{refused}");
        assert_ne!(res.text().await.unwrap(), "secret", "{refused}");
    }
    // The rest of the site is as before.
    assert_eq!(app.get("/healthz").await.status(), 200);
    assert_eq!(app.get("/openapi.json").await.status(), 200);
}

#[tokio::test]
async fn a_rolled_webhook_secret_signs_beside_the_old_one_for_its_grace_period() {
    use paybridge_server::jobs::signature::{VerifyError, verify};
    use paybridge_tests::receiver::Receiver;
    use std::time::Duration;

    let app = paybridge_tests::spawn_app().await;
    let receiver = Receiver::start(&[]).await;
    let (status, endpoint) = app
        .api_post(
            "/v1/webhook_endpoints",
            &serde_json::json!({"url": receiver.url, "enabled_events": ["checkout.session.expired"]}),
            None,
        )
        .await;
    assert_eq!(status, 200, "{endpoint}");
    let id = endpoint["id"].as_str().unwrap();
    let first = endpoint["secret"].as_str().unwrap().to_owned();
    let now = || paybridge_tests::notify::unix_now();
    // One delivery per expired session; the n-th delivery's signature header and body.
    let deliver = |n: usize| {
        let (app, receiver) = (&app, &receiver);
        async move {
            let session = app.create_session(700 + i64::try_from(n).unwrap()).await;
            app.expire_session(session["id"].as_str().unwrap()).await;
            let got = receiver.wait_for(n, Duration::from_secs(20)).await;
            let last = &got[n - 1];
            (
                last.headers["paybridge-signature"]
                    .to_str()
                    .unwrap()
                    .to_owned(),
                last.body.clone(),
            )
        }
    };
    let (header, body) = deliver(1).await;
    assert_eq!(header.matches("v1=").count(), 1);
    assert_eq!(verify(&first, &header, &body, now(), 300), Ok(()));

    // Rolled with an hour's grace: both secrets sign.
    let (status, rolled) = app
        .api_post(
            &format!("/v1/webhook_endpoints/{id}/roll_secret"),
            &serde_json::json!({"expires_in": 3600}),
            None,
        )
        .await;
    assert_eq!(status, 200, "{rolled}");
    let second = rolled["secret"].as_str().unwrap().to_owned();
    assert_ne!(second, first);
    assert!(rolled["previous_secret_expires_at"].as_i64().unwrap() > now() + 3500);
    let (header, body) = deliver(2).await;
    assert_eq!(header.matches("v1=").count(), 2, "{header}");
    assert_eq!(verify(&first, &header, &body, now(), 300), Ok(()));
    assert_eq!(verify(&second, &header, &body, now(), 300), Ok(()));

    // Rolled again with no grace: only the newest signs.
    let res = app
        .client
        .post(app.url(&format!("/v1/webhook_endpoints/{id}/roll_secret")))
        .bearer_auth(&app.api_key)
        .json(&serde_json::json!({"expires_in": 0}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let third = res.json::<serde_json::Value>().await.unwrap()["secret"]
        .as_str()
        .unwrap()
        .to_owned();
    let (header, body) = deliver(3).await;
    assert_eq!(header.matches("v1=").count(), 1, "{header}");
    assert_eq!(verify(&third, &header, &body, now(), 300), Ok(()));
    assert_eq!(
        verify(&second, &header, &body, now(), 300),
        Err(VerifyError::Mismatch)
    );

    let (status, _) = app
        .api_post(
            "/v1/webhook_endpoints/we_nope/roll_secret",
            &serde_json::json!({}),
            None,
        )
        .await;
    assert_eq!(status, 404);
    let (status, body) = app
        .api_post(
            &format!("/v1/webhook_endpoints/{id}/roll_secret"),
            &serde_json::json!({"expires_in": 604_801}),
            None,
        )
        .await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["error"]["param"], "expires_in");
}

#[tokio::test]
async fn one_server_verifies_its_public_key_and_a_platform_certificate_at_once() {
    use paybridge_server::providers::wechat::{PrivateKey, RsaBackend, SigningIdentity};
    use paybridge_tests::notify::{signed_transaction, unix_now};

    // A merchant in the middle of WeChat's migration: the WeChat Pay public key and a platform
    // certificate (a published test certificate, valid until 2031) configured together.
    let vectors = paybridge_tests::workspace_root().join("server/tests/vectors/keys");
    let cert = vectors.join("wechatpay-go.platform_cert_D7CE59D1F522D701.pem");
    let app = paybridge_tests::live::spawn_live_with(&[
        "--wechat-platform-cert-paths",
        cert.to_str().unwrap(),
    ])
    .await;
    let cert_key = PrivateKey::from_pem(
        RsaBackend::default(),
        &std::fs::read_to_string(vectors.join("wechatpay-go.test_private_key.pem")).unwrap(),
    )
    .unwrap();

    // Key health shows both, with the certificate's end.
    let ready: serde_json::Value = app.admin_get("/readyz").await.json().await.unwrap();
    let keys = ready["keys"].as_array().unwrap();
    assert_eq!(keys.len(), 2, "{ready}");
    let certificate = keys.iter().find(|k| k["kind"] == "certificate").unwrap();
    assert_eq!(certificate["serial"], "D7CE59D1F522D701");
    assert_eq!(certificate["source"], "file");
    assert_eq!(certificate["status"], "ok");
    assert!(certificate["not_after"].as_i64().unwrap() > unix_now());
    let public = keys.iter().find(|k| k["kind"] == "public_key").unwrap();
    assert_eq!(public["serial"], app.keys.platform.serial_no());
    let metrics = app.admin_get("/metrics").await.text().await.unwrap();
    assert!(
        metrics.contains(
            "paybridge_key_expiry_seconds{kind=\"certificate\",serial=\"D7CE59D1F522D701\"}"
        ),
        "{metrics}"
    );

    // A notification signed by each key is authentic; one naming an unknown serial is not.
    let apiv3 = app.keys.apiv3_key.expose().clone();
    let by_certificate = SigningIdentity::new("D7CE59D1F522D701".into(), cert_key.clone());
    let stranger = SigningIdentity::new("0123456789ABCDEF".into(), cert_key);
    let post = |identity: &SigningIdentity, n: &str| {
        let (headers, body) = signed_transaction(
            identity,
            &apiv3,
            &app.keys.mchid,
            (&app.keys.appid, n, &format!("4200{n}")),
            100,
            unix_now(),
        );
        let mut req = app
            .client
            .post(format!("{}/notify/wechat", app.base))
            .body(body);
        for (k, v) in headers {
            req = req.header(k, v);
        }
        async move { req.send().await.unwrap().status().as_u16() }
    };
    assert_eq!(post(&app.keys.platform, "PUBKEY0001").await, 204);
    assert_eq!(post(&by_certificate, "CERT0001").await, 204);
    let refused = post(&stranger, "STRANGER0001").await;
    assert!((400..500).contains(&refused), "{refused}");
    app.stop().await;
}

#[tokio::test]
async fn a_certificate_near_its_end_is_reported_and_alerted_once() {
    // A platform certificate that ends in 10 days, made with the published test RSA key.
    let vectors = paybridge_tests::workspace_root().join("server/tests/vectors/keys");
    let pem = std::fs::read_to_string(vectors.join("wechatpay-go.test_private_key.pem")).unwrap();
    let key = rcgen::KeyPair::from_pem_and_sign_algo(&pem, &rcgen::PKCS_RSA_SHA256).unwrap();
    let mut params = rcgen::CertificateParams::new(vec!["wechatpay.example".to_owned()]).unwrap();
    let now = time::OffsetDateTime::now_utc();
    params.not_before = now - time::Duration::days(350);
    params.not_after = now + time::Duration::days(10);
    params.serial_number = Some(rcgen::SerialNumber::from(vec![
        0x5A, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77,
    ]));
    let dir = tempfile::tempdir().unwrap();
    let cert = dir.path().join("platform.pem");
    std::fs::write(&cert, params.self_signed(&key).unwrap().pem()).unwrap();
    let app = paybridge_tests::live::spawn_live_with(&[
        "--wechat-platform-cert-paths",
        cert.to_str().unwrap(),
    ])
    .await;

    let ready: serde_json::Value = app.admin_get("/readyz").await.json().await.unwrap();
    let expiring = ready["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["serial"] == "5A11223344556677")
        .cloned()
        .unwrap_or_else(|| panic!("{ready}"));
    assert_eq!(expiring["status"], "expiring");
    // The key job alerts at start: one event, whatever the number of checks.
    let store = app.state.store().clone();
    let events = paybridge_tests::wait::until(
        "the key expiry alert",
        std::time::Duration::from_secs(20),
        || async {
            let events = store
                .list_events(Some("paybridge.key_expiring"), None, 10)
                .await
                .unwrap();
            (!events.is_empty()).then_some(events)
        },
    )
    .await;
    assert_eq!(events.len(), 1);
    let payload: serde_json::Value = serde_json::from_str(&events[0].payload).unwrap();
    let object = &payload["data"]["object"];
    assert_eq!(object["serial"], "5A11223344556677");
    assert!(
        (9..=10).contains(&object["days_left"].as_i64().unwrap()),
        "{object}"
    );
    assert!(
        !paybridge_server::service::keys::alert_expiring(app.state.services())
            .await
            .map(|n| n == 0)
            .unwrap()
    );
    let again = store
        .list_events(Some("paybridge.key_expiring"), None, 10)
        .await
        .unwrap();
    assert_eq!(again.len(), 1, "one alert a day");
    app.stop().await;
}

#[tokio::test]
async fn an_expired_certificate_file_stops_the_server_at_start() {
    let vectors = paybridge_tests::workspace_root().join("server/tests/vectors/keys");
    let pem = std::fs::read_to_string(vectors.join("wechatpay-go.test_private_key.pem")).unwrap();
    let key = rcgen::KeyPair::from_pem_and_sign_algo(&pem, &rcgen::PKCS_RSA_SHA256).unwrap();
    let mut params = rcgen::CertificateParams::new(vec!["wechatpay.example".to_owned()]).unwrap();
    let now = time::OffsetDateTime::now_utc();
    params.not_before = now - time::Duration::days(400);
    params.not_after = now - time::Duration::days(1);
    let dir = tempfile::tempdir().unwrap();
    let cert = dir.path().join("old.pem");
    std::fs::write(&cert, params.self_signed(&key).unwrap().pem()).unwrap();
    let keys_dir = tempfile::tempdir().unwrap();
    let data_dir = tempfile::tempdir().unwrap();
    let mut args = paybridge_tests::live::live_args(keys_dir.path(), data_dir.path());
    args.extend([
        "--wechat-platform-cert-paths".into(),
        cert.display().to_string(),
    ]);
    let cli = <paybridge_server::config::Cli as clap::Parser>::try_parse_from(args).unwrap();
    let config = cli.settings.validate().unwrap();
    let err = paybridge_server::Server::bind(config)
        .await
        .err()
        .expect("an expired certificate refuses to start");
    assert!(err.to_string().contains("expired"), "{err}");
}

#[tokio::test]
async fn in_certificate_mode_the_platform_certificate_is_downloaded_at_start_and_verifies() {
    // The simulated WeChat Pay signs with a platform certificate, as older accounts' WeChat
    // does: paybridge has no public key and must download the certificate.
    let app = spawn_app_with(&["--sandbox-wechat-certificates", "on"]).await;
    let serial = app
        .state
        .sandbox()
        .unwrap()
        .keys()
        .certificate
        .clone()
        .unwrap()
        .serial;
    let keys = paybridge_tests::wait::until(
        "the refresh job to download the certificate",
        std::time::Duration::from_secs(20),
        || async {
            let detail: serde_json::Value = app.admin_get("/readyz").await.json().await.unwrap();
            let keys = detail["keys"].as_array()?.clone();
            keys.iter()
                .any(|k| k["source"] == "download" && k["serial"] == serial.as_str())
                .then_some(keys)
        },
    )
    .await;
    assert_eq!(keys.len(), 1, "no public key in certificate mode: {keys:?}");
    assert_eq!(keys[0]["kind"], "certificate");
    assert_eq!(keys[0]["status"], "ok");
    // A payment's answers and its notification verify with the downloaded certificate.
    let session = app.create_session(1901).await;
    let id = session["id"].as_str().unwrap();
    let qr = paybridge_tests::shopper::pay_qr(&app, id).await;
    assert_eq!(qr["type"], "qr", "{qr}");
    paybridge_tests::shopper::scan(&app, qr["code_url"].as_str().unwrap(), "pay").await;
    app.until_complete(id).await;
    let metrics = app.admin_get("/metrics").await.text().await.unwrap();
    assert!(
        metrics.contains(&format!(
            "paybridge_key_expiry_seconds{{kind=\"certificate\",serial=\"{serial}\"}}"
        )),
        "{metrics}"
    );
}
