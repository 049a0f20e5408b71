//! The page document, its assets' caching, compression and the security headers.

use paybridge_shared::ApiErrorBody;
use paybridge_tests::spawn_app;
use paybridge_tests::spawn_app_with;

/// The hashed asset URLs the page references (`/assets/…`).
fn asset_urls(html: &str) -> Vec<String> {
    html.split(['"', '\''])
        .filter(|s| s.starts_with("/assets/") && !s.contains(' '))
        .map(str::to_owned)
        .collect()
}

#[tokio::test]
async fn the_page_is_served_for_any_checkout_id_without_caching() {
    let app = spawn_app().await;
    let res = app.get("/pay/cs_anything").await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["cache-control"], "no-cache");
    assert!(
        res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let html = res.text().await.unwrap();
    assert!(html.contains(".wasm"), "page references its wasm: {html}");
}

#[tokio::test]
async fn hashed_assets_are_immutable_and_the_wasm_has_its_mime_type() {
    let app = spawn_app().await;
    let html = app.get("/pay/cs_x").await.text().await.unwrap();
    let assets = asset_urls(&html);
    assert!(assets.iter().any(|a| a.ends_with(".wasm")), "{assets:?}");
    assert!(assets.iter().any(|a| a.ends_with(".js")), "{assets:?}");
    for asset in &assets {
        let res = app.get(asset).await;
        assert_eq!(res.status(), 200, "{asset}");
        assert_eq!(
            res.headers()["cache-control"],
            "public, max-age=31536000, immutable",
            "{asset}"
        );
        if asset.ends_with(".wasm") {
            assert_eq!(res.headers()["content-type"], "application/wasm");
        }
    }
}

#[tokio::test]
async fn assets_are_compressed_with_brotli_or_gzip_as_asked() {
    let app = spawn_app().await;
    let html = app.get("/pay/cs_x").await.text().await.unwrap();
    let wasm = asset_urls(&html)
        .into_iter()
        .find(|a| a.ends_with(".wasm"))
        .unwrap();
    for encoding in ["br", "gzip"] {
        let res = app
            .client
            .get(app.url(&wasm))
            .header("accept-encoding", encoding)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
        assert_eq!(res.headers()["content-encoding"], encoding);
        assert_eq!(res.headers()["vary"], "accept-encoding", "{encoding}");
        // The build's own brotli-11 / gzip-9 copy, not one made on the fly at a lower quality.
        let suffix = if encoding == "br" { "br" } else { "gz" };
        let name = wasm.trim_start_matches("/assets/");
        let built = std::fs::read(
            paybridge_tests::workspace_root()
                .join("dist")
                .join(format!("{name}.{suffix}")),
        )
        .unwrap();
        assert_eq!(res.bytes().await.unwrap(), built, "{encoding}");
    }
}

#[tokio::test]
async fn unknown_checkout_answers_the_standard_error_body() {
    let app = spawn_app().await;
    let res = app.get("/api/checkout/cs_missing").await;
    assert_eq!(res.status(), 404);
    assert!(
        res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/json")
    );
    let body: ApiErrorBody = res.json().await.unwrap();
    assert_eq!(body.error.code, "checkout_not_found");
    let res = app.get("/api/no/such/route").await;
    assert_eq!(res.status(), 404);
    let body: ApiErrorBody = res.json().await.unwrap();
    assert_eq!(body.error.code, "route_not_found");
}

#[tokio::test]
async fn security_headers_allow_the_wasm_and_nothing_inline_but_trunks_loader() {
    let app = spawn_app().await;
    let res = app.get("/pay/cs_x").await;
    let h = res.headers().clone();
    let csp = h["content-security-policy"].to_str().unwrap().to_owned();
    assert!(
        csp.contains("script-src 'self' 'wasm-unsafe-eval' 'sha256-"),
        "{csp}"
    );
    assert!(
        !csp.contains("'unsafe-inline'") && !csp.contains("'unsafe-eval'"),
        "{csp}"
    );
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    // The mini program web-view needs WeChat's JS-SDK: that one file, nothing else of its host.
    let script_src = csp
        .split(';')
        .find(|d| d.trim_start().starts_with("script-src"))
        .unwrap();
    assert!(
        script_src.ends_with(" https://res.wx.qq.com/open/js/jweixin-1.6.0.js"),
        "{script_src}"
    );
    assert_eq!(h["x-content-type-options"], "nosniff");
    assert_eq!(h["referrer-policy"], "strict-origin-when-cross-origin");
    assert_eq!(h["x-frame-options"], "DENY");
    // API answers carry the same headers.
    let api = app.get("/api/checkout/cs_x").await;
    assert_eq!(api.headers()["x-content-type-options"], "nosniff");
}

#[tokio::test]
async fn configured_frame_ancestors_may_embed_the_page() {
    let app = spawn_app_with(&[
        "--frame-ancestors",
        "https://shop.example.com,https://m.shop.example.com",
    ])
    .await;
    let res = app.get("/pay/cs_x").await;
    let csp = res.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        csp.contains("frame-ancestors https://shop.example.com https://m.shop.example.com"),
        "{csp}"
    );
    assert!(res.headers().get("x-frame-options").is_none());
}
