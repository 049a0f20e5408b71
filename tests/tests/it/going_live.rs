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
