//! `paybridge doctor` against a live configuration whose WeChat Pay, WeChat OAuth and Alipay
//! are a running sandbox: every check passes, and each misconfiguration the sandbox answers like
//! the real providers do (a wrong serial, merchant id, app secret, Alipay key) fails its check
//! with the fix.

use paybridge_server::config::Cli;
use paybridge_server::doctor::{self, Check};
use paybridge_tests::TestApp;

/// The live flags for the sandbox `app`'s credentials and endpoints, with `changes` applied
/// (flag → value; an empty value leaves the flag out).
fn live_flags(
    app: &TestApp,
    data_dir: &std::path::Path,
    changes: &[(&str, String)],
) -> Vec<String> {
    let sandbox = app.state.sandbox().unwrap();
    let wechat = sandbox.keys().wechat_config();
    let mp = wechat.miniprogram.clone().unwrap();
    let public = wechat.pay_public_key.clone().unwrap();
    let alipay = sandbox.alipay_keys().config();
    let base = app.url("/").to_string();
    let wechat_base = format!("{base}sandbox/wechat");
    let mut flags: Vec<(&str, String)> = vec![
        ("--mode", "live".into()),
        ("--listen", "127.0.0.1:0".into()),
        ("--data-dir", data_dir.display().to_string()),
        ("--public-url", base.clone()),
        (
            "--secret-key",
            "0123456789abcdef0123456789abcdef0123".into(),
        ),
        ("--wechat-mchid", wechat.mchid.clone()),
        ("--wechat-appid", wechat.appid.clone()),
        ("--wechat-app-secret", wechat.app_secret.expose().clone()),
        ("--wechat-miniprogram-appid", mp.appid.clone()),
        ("--wechat-miniprogram-secret", mp.secret.expose().clone()),
        ("--wechat-mch-serial-no", wechat.mch_serial_no.clone()),
        (
            "--wechat-mch-private-key-path",
            wechat.mch_private_key_path.display().to_string(),
        ),
        ("--wechat-apiv3-key", wechat.apiv3_key.expose().clone()),
        (
            "--wechat-pay-public-key-path",
            public.path.display().to_string(),
        ),
        ("--wechat-pay-public-key-id", public.id.clone()),
        ("--wechat-pay-api-base", wechat_base.clone()),
        ("--wechat-oauth-base", wechat_base.clone()),
        ("--wechat-api-base", wechat_base),
        (
            "--alipay-gateway",
            format!("{base}sandbox/alipay/gateway.do"),
        ),
    ];
    flags.extend(paybridge_tests::live::alipay_flags(&alipay));
    for (flag, value) in changes {
        if value.is_empty() {
            flags.retain(|(f, _)| f != flag);
            continue;
        }
        match flags.iter_mut().find(|(f, _)| f == flag) {
            Some(entry) => entry.1.clone_from(value),
            None => flags.push((flag, value.clone())),
        }
    }
    std::iter::once("paybridge".to_owned())
        .chain(flags.into_iter().flat_map(|(f, v)| [f.to_owned(), v]))
        .collect()
}

async fn doctor_with(app: &TestApp, changes: &[(&str, String)]) -> (Vec<Check>, String) {
    let data = tempfile::tempdir().unwrap();
    let mut args = live_flags(app, data.path(), changes);
    args.push("doctor".into());
    let cli = <Cli as clap::Parser>::try_parse_from(args).unwrap();
    let config = cli.settings.validate().unwrap_or_else(|p| panic!("{p}"));
    let providers = paybridge_server::server::live_providers(&config).unwrap();
    let checks = doctor::run(&config, &providers).await;
    let text = doctor::render(&checks);
    (checks, text)
}

fn failed<'a>(checks: &'a [Check], name: &str) -> &'a Check {
    checks
        .iter()
        .find(|c| c.name == name)
        .filter(|c| !c.ok)
        .unwrap_or_else(|| panic!("{name} should fail: {checks:#?}"))
}

#[tokio::test]
async fn a_sound_live_configuration_passes_every_check() {
    let verify = tempfile::tempdir().unwrap();
    std::fs::write(verify.path().join("MP_verify_doctor.txt"), "doctor").unwrap();
    let app =
        paybridge_tests::spawn_app_with(&["--verify-dir", verify.path().to_str().unwrap()]).await;
    let (checks, text) = doctor_with(
        &app,
        &[("--verify-dir", verify.path().display().to_string())],
    )
    .await;
    assert!(checks.iter().all(|c| c.ok), "{text}");
    for line in [
        "[ok]   configuration: valid for live mode",
        "[ok]   WeChat Pay merchant key: a signed query for an order that cannot exist was answered ORDER_NOT_EXIST",
        "[ok]   WeChat Pay verification keys: public_key PUB_KEY_ID_",
        "[ok]   official account appid and secret: the official account's credentials were accepted",
        "[ok]   mini program appid and secret: the mini program's credentials were accepted",
        "[ok]   clock:",
        "[ok]   Alipay app: a signed query for a trade that cannot exist was answered ACQ.TRADE_NOT_EXIST",
        "[ok]   public URL:",
        "[ok]   domain-verification files: served: MP_verify_doctor.txt",
        "all 9 checks passed",
    ] {
        assert!(text.contains(line), "missing {line:?} in\n{text}");
    }
}

#[tokio::test]
async fn each_misconfiguration_fails_its_check_with_the_fix() {
    let app = paybridge_tests::spawn_app().await;
    let (checks, text) = doctor_with(
        &app,
        &[(
            "--wechat-mch-serial-no",
            "0123456789ABCDEF0123456789ABCDEF01234567".into(),
        )],
    )
    .await;
    let c = failed(&checks, "WeChat Pay merchant key");
    assert!(c.detail.contains("SIGN_ERROR"), "{text}");
    assert!(
        c.fix.as_deref().unwrap().contains("WECHAT_MCH_SERIAL_NO"),
        "{text}"
    );
    assert!(text.contains("checks failed"), "{text}");

    let (checks, text) = doctor_with(&app, &[("--wechat-mchid", "1900000000".into())]).await;
    let c = failed(&checks, "WeChat Pay merchant key");
    assert!(c.detail.contains("MCH_NOT_EXISTS"), "{text}");
    assert!(c.fix.as_deref().unwrap().contains("WECHAT_MCHID"));

    let (checks, text) = doctor_with(
        &app,
        &[(
            "--wechat-app-secret",
            "0123456789abcdef0123456789abcdef".into(),
        )],
    )
    .await;
    let c = failed(&checks, "official account appid and secret");
    assert!(c.detail.contains("WECHAT_APP_SECRET"), "{text}");

    let (checks, text) = doctor_with(
        &app,
        &[("--wechat-miniprogram-appid", "wx0000000000000000".into())],
    )
    .await;
    let c = failed(&checks, "mini program appid and secret");
    assert!(c.detail.contains("40013"), "{text}");
    assert!(
        c.fix
            .as_deref()
            .unwrap()
            .contains("WECHAT_MINIPROGRAM_APPID")
    );

    // Alipay: the app key is not the one uploaded (here: the WeChat merchant key).
    let wechat_key = app
        .state
        .sandbox()
        .unwrap()
        .keys()
        .wechat_config()
        .mch_private_key_path
        .display()
        .to_string();
    let (checks, text) = doctor_with(&app, &[("--alipay-private-key-path", wechat_key)]).await;
    let c = failed(&checks, "Alipay app");
    assert!(c.detail.contains("isv.invalid-signature"), "{text}");
    assert!(
        c.fix
            .as_deref()
            .unwrap()
            .contains("ALIPAY_PRIVATE_KEY_PATH")
    );

    // A public URL nothing answers at.
    let (checks, text) = doctor_with(&app, &[("--public-url", "http://127.0.0.1:1/".into())]).await;
    let c = failed(&checks, "public URL");
    assert!(c.detail.contains("could not be reached"), "{text}");
}

#[tokio::test]
async fn alipay_certificate_mode_passes_and_each_certificate_mistake_is_explained() {
    let app = paybridge_tests::spawn_app_with(&["--sandbox-alipay-certificates", "on"]).await;
    let config = app.state.sandbox().unwrap().alipay_keys().config();
    let paybridge_server::config::AlipayVerification::Certificates {
        app_cert,
        alipay_cert,
        ..
    } = &config.verification
    else {
        panic!("certificate mode");
    };
    let path = |p: &std::path::Path| p.display().to_string();
    let (checks, text) = doctor_with(&app, &[]).await;
    assert!(checks.iter().all(|c| c.ok), "{text}");

    // Configured in public-key mode while the app is in certificate mode.
    let public_key = config
        .private_key_path
        .with_file_name("alipay_public_key.pem");
    let (checks, text) = doctor_with(
        &app,
        &[
            ("--alipay-app-cert-path", String::new()),
            ("--alipay-cert-path", String::new()),
            ("--alipay-root-cert-path", String::new()),
            ("--alipay-public-key-path", path(&public_key)),
        ],
    )
    .await;
    let c = failed(&checks, "Alipay app");
    assert!(c.detail.contains("isv.missing-app-cert-sn"), "{text}");
    assert!(
        c.fix.as_deref().unwrap().contains("ALIPAY_APP_CERT_PATH"),
        "{text}"
    );

    // Alipay signs under a certificate the file does not hold.
    let (checks, text) = doctor_with(&app, &[("--alipay-cert-path", path(app_cert))]).await;
    let c = failed(&checks, "Alipay app");
    assert!(c.detail.contains("ALIPAY_CERT_SN_UNKNOWN"), "{text}");
    assert!(
        c.fix.as_deref().unwrap().contains("ALIPAY_CERT_PATH"),
        "{text}"
    );

    // A root file that is not Alipay's roots.
    let (checks, text) = doctor_with(&app, &[("--alipay-root-cert-path", path(alipay_cert))]).await;
    let c = failed(&checks, "Alipay app");
    assert!(
        c.detail.contains("isv.invalid-alipay-root-cert-sn"),
        "{text}"
    );
    assert!(
        c.fix.as_deref().unwrap().contains("ALIPAY_ROOT_CERT_PATH"),
        "{text}"
    );
}
