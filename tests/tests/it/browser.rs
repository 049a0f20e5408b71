//! The page in real headless Chromium: the wasm loads under our CSP and renders its states.

use std::time::Duration;

use paybridge_tests::browser::Browser;
use paybridge_tests::spawn_app;

#[tokio::test]
async fn an_unknown_checkout_renders_the_not_found_state_in_chromium() {
    let app = spawn_app().await;
    let browser = Browser::start(None).await;
    browser
        .client
        .goto(app.url("/pay/cs_missing").as_str())
        .await
        .unwrap();
    let text = browser
        .text_of("[data-state=not-found]", Duration::from_secs(30))
        .await;
    assert_eq!(text, "Checkout not found");
    // The page asked the BFF (the round trip this test proves) and was told 404.
    let metrics = app.admin_get("/metrics").await.text().await.unwrap();
    assert!(
        metrics.contains(r#"route="/api/checkout/{id}",status="404"} 1"#),
        "{metrics}"
    );
    browser.close().await;
}
