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

#[test]
fn keys_need_only_the_database_settings_even_in_live_mode() {
    let data = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| {
        Command::new(paybridge_bin())
            .env_clear()
            .env("PAYBRIDGE_DATA_DIR", data.path())
            .env("PAYBRIDGE_MODE", "live")
            .args(args)
            .output()
            .unwrap()
    };
    // No public URL, no secret key, no WeChat: the server would refuse to start, the keys work.
    let created = run(&["keys", "create"]);
    let out = String::from_utf8_lossy(&created.stdout).into_owned();
    assert!(
        created.status.success(),
        "{out} {}",
        String::from_utf8_lossy(&created.stderr)
    );
    let (id, secret) = out.trim().split_once('\t').unwrap();
    assert!(secret.starts_with("sk_live_"), "{out}");
    let listed = run(&["keys", "list"]);
    assert!(String::from_utf8_lossy(&listed.stdout).contains(id));
    assert!(run(&["keys", "revoke", id]).status.success());
    // A malformed database setting is still refused, by name.
    let bad = Command::new(paybridge_bin())
        .env_clear()
        .env("PAYBRIDGE_DATA_DIR", data.path())
        .env("PAYBRIDGE_DATABASE_URL", "mysql://nope")
        .args(["keys", "list"])
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("PAYBRIDGE_DATABASE_URL"));
}

#[cfg(unix)]
#[test]
fn the_data_dir_and_the_database_files_are_the_owners_alone() {
    use std::os::unix::fs::PermissionsExt;
    let parent = tempfile::tempdir().unwrap();
    let data = parent.path().join("fresh").join("data");
    let out = Command::new(paybridge_bin())
        .env_clear()
        .env("PAYBRIDGE_DATA_DIR", &data)
        .args(["keys", "create"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&data), 0o700, "data dir");
    assert_eq!(mode(&data.join("paybridge.db")), 0o600, "database file");
    let wal = data.join("paybridge.db-wal");
    if wal.exists() {
        assert_eq!(mode(&wal), 0o600, "WAL file");
    }
}

/// Server::bind on `args`: the error's text, or `None` when it started.
async fn start_error(args: Vec<String>) -> Option<String> {
    let cli = <paybridge_server::config::Cli as clap::Parser>::try_parse_from(args).unwrap();
    let config = cli.settings.validate().unwrap_or_else(|p| panic!("{p}"));
    match paybridge_server::Server::bind(config).await {
        Ok(server) => {
            drop(server);
            None
        }
        Err(e) => Some(e.to_string()),
    }
}

#[tokio::test]
async fn a_database_used_in_one_mode_refuses_the_other_and_says_how_to_start_fresh() {
    // Sandbox data, then live mode on the same data dir.
    let app = paybridge_tests::spawn_app().await;
    let s = app.create_session(100).await;
    assert_eq!(s["livemode"], false, "{s}");
    let data_dir = std::sync::Arc::clone(&app.data_dir);
    app.stop().await;
    let keys = tempfile::tempdir().unwrap();
    let live = paybridge_tests::live::live_args(keys.path(), data_dir.path());
    let refused = start_error(live.clone())
        .await
        .expect("live refuses sandbox data");
    assert!(refused.contains("holds sandbox data"), "{refused}");
    assert!(refused.contains("PAYBRIDGE_DATABASE_URL"), "{refused}");
    // A database from before modes were recorded is judged by what it holds.
    let store = paybridge_server::store::Store::connect(&format!(
        "sqlite://{}/paybridge.db",
        data_dir.path().display()
    ))
    .await
    .unwrap();
    sqlx::query("DELETE FROM paybridge_meta")
        .execute(store.pool())
        .await
        .unwrap();
    store.close().await;
    let refused = start_error(live).await.expect("still sandbox data");
    assert!(refused.contains("holds sandbox data"), "{refused}");

    // Live data, then the sandbox on it.
    let live_dir = tempfile::tempdir().unwrap();
    let live_app = {
        let args = paybridge_tests::live::live_args(keys.path(), live_dir.path());
        start_error(args).await
    };
    assert_eq!(live_app, None, "a fresh database takes live mode");
    let sandbox = vec![
        "paybridge".to_owned(),
        "--listen".into(),
        "127.0.0.1:0".into(),
        "--data-dir".into(),
        live_dir.path().display().to_string(),
    ];
    let refused = start_error(sandbox)
        .await
        .expect("the sandbox refuses live data");
    assert!(refused.contains("holds live data"), "{refused}");
}

#[test]
fn a_malformed_daily_reconcile_time_exits_2_and_says_what_it_should_be() {
    let (code, err) = run_with(&[("PAYBRIDGE_RECONCILE_AT", "25:00")]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("PAYBRIDGE_RECONCILE_AT"), "{err}");
    assert!(err.contains("--reconcile-at"), "{err}");
    assert!(err.contains("HH:MM"), "{err}");
}
