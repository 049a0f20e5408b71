//! What the binary writes to its log when things go wrong from outside: a provider that cannot
//! be reached never makes a secret appear (reqwest's errors carry the URL, and WeChat's OAuth
//! and jscode2session URLs carry the app secrets), and floods of forged notifications or bad API
//! keys are logged once per client and minute, then refused unchecked.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use paybridge_tests::binary::paybridge_bin;
use paybridge_tests::live::live_args;
use paybridge_tests::wait;
use serde_json::{Value, json};

const MINIPROGRAM_SECRET: &str = "mp-secret-4f1d9c2b7a6e5d4c3b2a1908";
const UNREACHABLE: &str = "http://127.0.0.1:1";

/// The live-mode flags, without the program name, for a server whose providers are unreachable.
fn flags(keys: &std::path::Path, data: &std::path::Path) -> Vec<String> {
    let mut args = live_args(keys, data);
    args.remove(0);
    args.extend(
        [
            "--wechat-api-base",
            UNREACHABLE,
            "--wechat-pay-api-base",
            UNREACHABLE,
            "--alipay-gateway",
            "http://127.0.0.1:1/gateway.do",
            "--wechat-miniprogram-appid",
            "wx0123456789abcdef",
            "--wechat-miniprogram-secret",
            MINIPROGRAM_SECRET,
            "--log-format",
            "json",
        ]
        .iter()
        .map(|s| (*s).to_owned()),
    );
    args
}

fn flag<'a>(args: &'a [String], name: &str) -> &'a str {
    let i = args.iter().position(|a| a == name).expect(name);
    &args[i + 1]
}

struct Running {
    child: Child,
    lines: Arc<Mutex<Vec<String>>>,
}

impl Running {
    fn start(args: &[String]) -> Self {
        let mut child = Command::new(paybridge_bin())
            .env_clear()
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let lines = Arc::new(Mutex::new(Vec::new()));
        // Logs go to stdout, the banner to stderr: both are read.
        let out: Box<dyn std::io::Read + Send> = Box::new(child.stdout.take().unwrap());
        let err: Box<dyn std::io::Read + Send> = Box::new(child.stderr.take().unwrap());
        for stream in [out, err] {
            let sink = Arc::clone(&lines);
            std::thread::spawn(move || {
                for line in BufReader::new(stream).lines().map_while(Result::ok) {
                    sink.lock().unwrap().push(line);
                }
            });
        }
        Self { child, lines }
    }

    fn log(&self) -> Vec<String> {
        self.lines.lock().unwrap().clone()
    }

    fn count(&self, text: &str) -> usize {
        self.log().iter().filter(|l| l.contains(text)).count()
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Sends `n` requests one after another; their statuses.
async fn flood(n: usize, request: impl Fn(usize) -> reqwest::RequestBuilder) -> Vec<u16> {
    let mut statuses = Vec::with_capacity(n);
    for i in 0..n {
        statuses.push(request(i).send().await.unwrap().status().as_u16());
    }
    statuses
}

#[tokio::test]
async fn unreachable_providers_leave_no_secret_in_logs_and_floods_are_logged_once() {
    let keys = tempfile::tempdir().unwrap();
    let data = tempfile::tempdir().unwrap();
    let args = flags(keys.path(), data.path());
    let secrets = [
        flag(&args, "--wechat-app-secret").to_owned(),
        flag(&args, "--wechat-apiv3-key").to_owned(),
        flag(&args, "--secret-key").to_owned(),
        MINIPROGRAM_SECRET.to_owned(),
    ];
    let created = Command::new(paybridge_bin())
        .env_clear()
        .args(&args)
        .args(["keys", "create"])
        .output()
        .unwrap();
    let printed = String::from_utf8_lossy(&created.stdout).into_owned();
    let api_key = printed
        .split_whitespace()
        .find(|w| w.starts_with("sk_live_"))
        .unwrap_or_else(|| panic!("a live key: {printed}"))
        .to_owned();

    let server = Running::start(&args);
    let addr = wait::until("the server to start", Duration::from_secs(30), || async {
        let log = server.log();
        log.iter().find_map(|l| {
            let v: Value = serde_json::from_str(l).ok()?;
            v["addr"].as_str().map(str::to_owned)
        })
    })
    .await;
    let base = format!("http://{addr}");
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .cookie_store(true)
        .build()
        .unwrap();
    let mut bodies = Vec::new();

    // A session, a WeChat sign-in whose code exchange cannot reach WeChat, a mini program login
    // whose jscode2session cannot either, and a pay whose order cannot be placed.
    let s: Value = client
        .post(format!("{base}/v1/checkout_sessions"))
        .bearer_auth(&api_key)
        .json(&{
            let mut body = paybridge_tests::session_request(100);
            body["payment_methods"] = json!(["wechat_pay", "alipay"]);
            body
        })
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = s["id"].as_str().unwrap_or_else(|| panic!("{s}")).to_owned();
    let pay = |body: Value| {
        let (client, url) = (client.clone(), format!("{base}/api/checkout/{id}/pay"));
        async move { client.post(url).json(&body).send().await.unwrap() }
    };
    let oauth: Value = pay(json!({"method": "wechat_pay", "environment": "wechat"}))
        .await
        .json()
        .await
        .unwrap();
    let authorize =
        url::Url::parse(oauth["url"].as_str().unwrap_or_else(|| panic!("{oauth}"))).unwrap();
    let state = authorize
        .query_pairs()
        .find(|(k, _)| k == "state")
        .unwrap()
        .1
        .into_owned();
    let back = client
        .get(format!("{base}/oauth/wechat/callback"))
        .query(&[("code", "a-code"), ("state", &state)])
        .send()
        .await
        .unwrap();
    assert_eq!(
        back.headers()["location"].to_str().unwrap(),
        format!("/pay/{id}?oauth=failed")
    );
    bodies.push(back.text().await.unwrap());
    let login = client
        .post(format!("{base}/api/miniprogram/login"))
        .json(&json!({"cs": id, "code": "a-code"}))
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), 400);
    bodies.push(login.text().await.unwrap());
    let native = pay(json!({"method": "wechat_pay", "environment": "desktop"})).await;
    assert!(native.status().is_server_error(), "{}", native.status());
    bodies.push(native.text().await.unwrap());
    let alipay = pay(json!({"method": "alipay", "environment": "desktop", "prefer": "qr"})).await;
    assert!(alipay.status().is_server_error(), "{}", alipay.status());
    bodies.push(alipay.text().await.unwrap());
    wait::until(
        "the failures to be logged",
        Duration::from_secs(10),
        || async {
            (server.count("OAuth code exchange failed") == 1
                && server.count("jscode2session failed") == 1)
                .then_some(())
        },
    )
    .await;

    // Forged notifications: refused, logged once; past the share, refused unchecked.
    let forged = flood(40, |_| {
        client
            .post(format!("{base}/notify/wechat"))
            .header("content-type", "application/json")
            .body(r#"{"id":"forged"}"#)
    })
    .await;
    assert_eq!(forged, [vec![401; 30], vec![429; 10]].concat());
    // Bad API keys: the same, and a known key still works.
    let guesses = flood(25, |i| {
        client
            .get(format!("{base}/v1/checkout_sessions"))
            .bearer_auth(format!("sk_live_guess{i}"))
    })
    .await;
    assert_eq!(guesses, [vec![401; 20], vec![429; 5]].concat());
    let ok = client
        .get(format!("{base}/v1/checkout_sessions"))
        .bearer_auth(&api_key)
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 200, "a valid key is not shut out");
    wait::until(
        "the floods to be logged",
        Duration::from_secs(10),
        || async {
            (server.count("too many refused notifications") == 1
                && server.count("too many failed API authentications") == 1)
                .then_some(())
        },
    )
    .await;
    assert_eq!(server.count("refused a provider notification"), 1);
    assert_eq!(server.count("failed API authentication (further"), 1);

    let log = server.log().join("\n");
    for secret in &secrets {
        assert!(
            !log.contains(secret.as_str()),
            "a secret in the log:\n{log}"
        );
        for body in &bodies {
            assert!(
                !body.contains(secret.as_str()),
                "a secret in an answer: {body}"
            );
        }
    }
    assert!(!log.contains(&api_key), "the API key in the log");
}
