//! The binary refuses bad configuration with exit code 2, naming every problem.

use std::process::Command;

use paybridge_tests::binary::paybridge_bin;

/// Runs `paybridge` with a clean environment plus `vars`, returning (exit code, stderr).
fn run_with(vars: &[(&str, &str)]) -> (Option<i32>, String) {
    let data = tempfile::tempdir().unwrap();
    let out = Command::new(paybridge_bin())
        .env_clear()
        .env("PAYBRIDGE_DATA_DIR", data.path())
        .envs(vars.iter().copied())
        .output()
        .unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn a_malformed_listen_address_exits_2_and_names_the_variable() {
    let (code, err) = run_with(&[("PAYBRIDGE_LISTEN", "not-an-address")]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("PAYBRIDGE_LISTEN"), "{err}");
    assert!(err.contains("--listen"), "{err}");
}

#[test]
fn live_mode_without_credentials_lists_every_missing_value_and_exits_2() {
    let (code, err) = run_with(&[
        ("PAYBRIDGE_MODE", "live"),
        ("WECHAT_APIV3_KEY", "too-short-secret-zz"),
    ]);
    assert_eq!(code, Some(2), "{err}");
    for name in [
        "PAYBRIDGE_PUBLIC_URL",
        "PAYBRIDGE_SECRET_KEY",
        "WECHAT_MCHID",
        "WECHAT_APPID",
        "WECHAT_APP_SECRET",
        "WECHAT_MCH_SERIAL_NO",
        "WECHAT_MCH_PRIVATE_KEY_PATH",
        "WECHAT_APIV3_KEY",
    ] {
        assert!(err.contains(name), "{name} not named in:\n{err}");
    }
    assert!(
        !err.contains("too-short-secret-zz"),
        "a secret was printed:\n{err}"
    );
}

#[test]
fn an_unknown_mode_exits_2() {
    let (code, err) = run_with(&[("PAYBRIDGE_MODE", "production")]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("PAYBRIDGE_MODE"), "{err}");
}

#[test]
fn help_lists_the_settings_and_their_env_vars() {
    let out = Command::new(paybridge_bin())
        .arg("--help")
        .output()
        .unwrap();
    assert!(out.status.success());
    let help = String::from_utf8_lossy(&out.stdout);
    for name in [
        "PAYBRIDGE_MODE",
        "PAYBRIDGE_LISTEN",
        "PAYBRIDGE_DATABASE_URL",
        "WECHAT_APIV3_KEY",
        "ALIPAY_GATEWAY",
    ] {
        assert!(help.contains(name), "{name} missing from --help");
    }
}
