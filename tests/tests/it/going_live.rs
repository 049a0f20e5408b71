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
