//! The binary as `make run` starts it: prints the URL to open, serves, and stops cleanly on SIGTERM.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use paybridge_tests::binary::paybridge_bin;
use paybridge_tests::workspace_root;

#[tokio::test]
async fn the_printed_url_answers_and_sigterm_stops_the_server_cleanly() {
    let data = tempfile::tempdir().unwrap();
    let mut child = Command::new(paybridge_bin())
        .env_clear()
        .env("PAYBRIDGE_LISTEN", "127.0.0.1:0")
        .env("PAYBRIDGE_ADMIN_LISTEN", "127.0.0.1:0")
        .env("PAYBRIDGE_DATA_DIR", data.path())
        .env("PAYBRIDGE_DIST_DIR", workspace_root().join("dist"))
        .env("PAYBRIDGE_LOG_FORMAT", "json")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();

    // Read stderr on a thread; the URL line arrives once the listener is bound.
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if let Some(url) = line.split("open ").nth(1) {
                let _ = tx.send(url.trim().to_owned());
            }
        }
    });
    let url = rx
        .recv_timeout(Duration::from_secs(30))
        .expect("paybridge printed the URL to open");
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");

    let res = reqwest::get(format!("{url}healthz")).await.unwrap();
    assert_eq!(res.status(), 200);
    // Sandbox mode generated its secret key into the data dir, owner-readable only.
    let key = data.path().join("secret_key");
    assert!(std::fs::read_to_string(&key).unwrap().len() >= 32);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&key).unwrap().permissions().mode() & 0o077,
            0
        );
    }

    let kill = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let deadline = std::time::Instant::now() + Duration::from_secs(15);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "paybridge did not stop after SIGTERM"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert!(status.success(), "exit status after SIGTERM: {status}");
}
