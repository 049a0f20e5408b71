//! The binary as `make run` starts it: prints the URL to open, serves, and stops cleanly on SIGTERM —
//! event streams end at once, requests in flight (a provider call among them) still get their answers.

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
    exits_cleanly(
        &mut child,
        std::time::Instant::now() + Duration::from_secs(15),
    )
    .await;
}

/// A sandbox-mode binary with JSON logs; returns it, the URL it printed, and its later output
/// lines (the banner on stderr, the logs on stdout).
fn start(data: &std::path::Path) -> (std::process::Child, String, mpsc::Receiver<String>) {
    let mut child = Command::new(paybridge_bin())
        .env_clear()
        .env("PAYBRIDGE_LISTEN", "127.0.0.1:0")
        .env("PAYBRIDGE_ADMIN_LISTEN", "127.0.0.1:0")
        .env("PAYBRIDGE_DATA_DIR", data)
        .env("PAYBRIDGE_DIST_DIR", workspace_root().join("dist"))
        .env("PAYBRIDGE_LOG_FORMAT", "json")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (tx, rx) = mpsc::channel();
    let outputs: [Box<dyn std::io::Read + Send>; 2] = [
        Box::new(child.stdout.take().unwrap()),
        Box::new(child.stderr.take().unwrap()),
    ];
    for output in outputs {
        let tx = tx.clone();
        std::thread::spawn(move || {
            // Read to the end even once nobody listens: a closed pipe would fail the server's
            // next log line.
            for line in BufReader::new(output).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
    }
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    let url = loop {
        let line = rx
            .recv_timeout(deadline.saturating_duration_since(std::time::Instant::now()))
            .expect("paybridge printed the URL to open");
        if let Some(url) = line.split("open ").nth(1) {
            break url.trim().to_owned();
        }
    };
    (child, url, rx)
}

#[tokio::test]
async fn sigterm_ends_event_streams_and_lets_a_provider_call_in_flight_finish() {
    use futures_util::StreamExt as _;

    let data = tempfile::tempdir().unwrap();
    let (mut child, url, logs) = start(data.path());
    let key = std::fs::read_to_string(data.path().join("sandbox_api_key")).unwrap();
    let client = reqwest::Client::new();
    // 40.05: every WeChat Pay call about the order answers after 2 s.
    let session: serde_json::Value = client
        .post(format!("{url}v1/checkout_sessions"))
        .bearer_auth(key.trim())
        .json(&paybridge_tests::app::session_request(4005))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = session["id"].as_str().expect("a session").to_owned();

    let stream = client
        .get(format!("{url}api/checkout/{id}/events"))
        .header("accept", "text/event-stream")
        .send()
        .await
        .unwrap();
    assert_eq!(stream.status(), 200);
    let mut stream = stream.bytes_stream();
    let pay = tokio::spawn({
        let (client, url, id) = (client.clone(), url.clone(), id.clone());
        async move {
            client
                .post(format!("{url}api/checkout/{id}/pay"))
                .json(&serde_json::json!({"method": "wechat_pay", "environment": "desktop"}))
                .send()
                .await
        }
    });
    // The order call is at WeChat Pay (the simulator) when the signal comes. (Waited for off the
    // test's runtime thread, which the pay request needs.)
    let slow = tokio::task::spawn_blocking(move || {
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        while let Ok(line) =
            logs.recv_timeout(deadline.saturating_duration_since(std::time::Instant::now()))
        {
            if line.contains("sandbox slow scenario") {
                return true;
            }
        }
        false
    });
    assert!(slow.await.unwrap(), "the simulator logs the slow answer");
    let signalled = std::time::Instant::now();
    assert!(
        Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status()
            .unwrap()
            .success()
    );

    // The event stream ends at once instead of holding the shutdown up.
    tokio::time::timeout(Duration::from_secs(10), async {
        while let Some(chunk) = stream.next().await {
            if chunk.is_err() {
                break;
            }
        }
    })
    .await
    .expect("the event stream ended at shutdown");
    // The pay request in flight still gets its answer: the QR code from the slow call.
    let res = pay.await.unwrap().expect("the pay request was answered");
    assert_eq!(res.status(), 200);
    let action: serde_json::Value = res.json().await.unwrap();
    assert_eq!(action["type"], "qr", "{action}");
    exits_cleanly(&mut child, signalled + Duration::from_secs(15)).await;
}

/// Waits (until `deadline`) for `child` to exit after SIGTERM, and checks it exited 0.
async fn exits_cleanly(child: &mut std::process::Child, deadline: std::time::Instant) {
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
