//! `make test-deploy`: the release tarball `make dist` built, unpacked as an operator would, run
//! as two instances on one Postgres database behind Caddy (Debian's package) with the shipped
//! `deploy/Caddyfile` and TLS from Caddy's internal CA; a shopper pays a checkout through
//! `https://` in headless Chromium, and the sandbox's notification reaches `/notify/wechat`
//! through Caddy. The Makefile does the shell part (Caddy installed, tarball built, Postgres
//! started); the rest is Rust so it shares the tests' Chromium, waiting and database helpers.

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine as _;
use paybridge_tests::browser::Browser;
use paybridge_tests::browser::ua::PHONE;
use paybridge_tests::{Db, fresh_database, session_request, wait};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use url::Url;

use crate::browser_flows::{click, lands_on, shows};

const START: Duration = Duration::from_secs(60);
const STEP: Duration = Duration::from_secs(30);
/// The address Caddy connects to the instances from, listed in `PAYBRIDGE_TRUSTED_PROXIES`.
const PROXY: &str = "127.0.0.1";
/// Two shoppers' addresses (Linux answers on all of 127.0.0.0/8), neither of them the proxy's.
const SHOPPER: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 5);
const OTHER_SHOPPER: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 6);
/// What a client claims to be in a forged `X-Forwarded-For`.
const FORGED: &str = "203.0.113.66";

#[tokio::test]
#[ignore = "needs the tarball of `make dist` and Caddy; run by `make test-deploy`"]
async fn a_release_behind_caddy_takes_a_payment_through_https() {
    let began = Instant::now();
    let tarball = std::env::var("PAYBRIDGE_DEPLOY_TARBALL").expect(
        "PAYBRIDGE_DEPLOY_TARBALL names the tarball of `make dist`: run `make test-deploy`",
    );
    let work = tempfile::tempdir().unwrap();
    let release = unpack(Path::new(&tarball), work.path());
    let bin = release.join("paybridge");
    every_variable_of_the_env_example_is_one_paybridge_reads(&bin, &release);
    the_unit_file_verifies(&release, work.path());

    let https = free_port();
    let public = Url::parse(&format!("https://localhost:{https}/")).unwrap();
    let (a_port, b_port) = (free_port(), free_port());
    let caddy = Caddy::start(work.path(), &release, https, [a_port, b_port]).await;
    let database_url = fresh_database(Db::Postgres).await.unwrap();
    // One data dir for both, as two units on one machine share /var/lib/paybridge: in sandbox
    // mode it holds the simulated merchant's keys and the secret key, which every instance must
    // share (one instance's WeChat client reaches the other's simulator through Caddy, and a
    // token one signs the other verifies). The first instance creates them; the second starts
    // once they exist.
    let data_dir = work.path().join("data");
    let env = Env {
        bin: &bin,
        release: &release,
        public: &public,
        data_dir: &data_dir,
        database_url: &database_url,
        ca: &caddy.root_ca,
        logs: work.path(),
    };
    let a = Instance::start("a", &env, a_port).await;
    let b = Instance::start("b", &env, b_port).await;
    let key = std::fs::read_to_string(data_dir.join("sandbox_api_key")).unwrap();
    let shop = Https::new(&caddy.root_ca, https, key.trim(), SHOPPER);
    eprintln!(
        "deploy: unpacked, Caddy and two instances up in {:?}",
        began.elapsed()
    );

    // The public site is Caddy's, and /metrics is not on it.
    let health = shop.get(public.join("healthz").unwrap()).await;
    assert_eq!(health.0, 200, "{}", health.1);
    assert_eq!(shop.get(public.join("metrics").unwrap()).await.0, 404);

    // Through Caddy, the shopper's own address is used, whatever X-Forwarded-For it sent.
    let db = Postgres::connect(&database_url).await;
    let (id, _) = shop.session(&public, 1200).await;
    let cashier = shop
        .h5_pay(public.join(&format!("api/checkout/{id}/pay")).unwrap())
        .await;
    assert_eq!(db.payer_ip(&cashier).await, SHOPPER.to_string());

    // A checkout paid in Chromium through https: the phone's H5 flow, every page and API call
    // through Caddy, Caddy's certificate pinned in the browser by its public key.
    let (id, success) = shop.session(&public, 2500).await;
    let browser = Browser::start_with(Some(PHONE), &[caddy.spki_pin()]).await;
    browser
        .client
        .goto(public.join(&format!("pay/{id}")).unwrap().as_str())
        .await
        .unwrap();
    shows(&browser, "[data-state=summary]").await;
    click(&browser, "#pay").await;
    lands_on(&browser, "the H5 cashier", |u| {
        u.origin() == public.origin() && u.path().starts_with("/sandbox/wechat/")
    })
    .await;
    assert_eq!(shows(&browser, "#amount").await, "¥25.00");
    click(&browser, "button#pay").await;
    lands_on(&browser, "the merchant's success page", |u| *u == success).await;
    browser.close().await;

    // Complete, exactly once; the sandbox's notification came through Caddy and was answered
    // on its first try.
    let session = shop
        .api(&format!("v1/checkout_sessions/{id}"), &public)
        .await;
    assert_eq!(session["status"], "complete", "{session}");
    let payment_id = session["payment"].as_str().unwrap();
    let payment = shop
        .api(&format!("v1/payments/{payment_id}"), &public)
        .await;
    assert_eq!(payment["status"], "succeeded", "{payment}");
    let notified = db
        .delivered_notification(payment["out_trade_no"].as_str().unwrap())
        .await;
    assert_eq!(
        notified,
        (
            public.join("notify/wechat").unwrap().to_string(),
            1,
            "204".to_owned()
        ),
        "(notify_url, attempts, last status) of the sandbox's notification"
    );
    assert_eq!(
        shop.events_about("payment.succeeded", payment_id, &public)
            .await,
        1
    );
    assert_eq!(
        shop.events_about("checkout.session.completed", &id, &public)
            .await,
        1
    );

    // Both instances served requests through Caddy (nothing else has reached them yet), and
    // between them one notification, answered 204.
    let (a_metrics, b_metrics) = (a.metrics().await, b.metrics().await);
    assert!(requests(&a_metrics, "") > 0, "instance a served nothing");
    assert!(requests(&b_metrics, "") > 0, "instance b served nothing");
    let notify = r#"route="/notify/wechat",status="204""#;
    assert_eq!(
        requests(&a_metrics, notify) + requests(&b_metrics, notify),
        1
    );

    // Straight to an instance, not from the proxy: X-Forwarded-For is not believed.
    let direct = Https::new(&caddy.root_ca, https, key.trim(), OTHER_SHOPPER);
    let (id, _) = shop.session(&public, 1300).await;
    let cashier = direct
        .h5_pay(Url::parse(&format!("http://127.0.0.1:{a_port}/api/checkout/{id}/pay")).unwrap())
        .await;
    assert_eq!(db.payer_ip(&cashier).await, OTHER_SHOPPER.to_string());

    // systemd's stop: SIGTERM, and each instance exits cleanly.
    a.stop().await;
    b.stop().await;
    drop(caddy);
    eprintln!("deploy: passed in {:?}", began.elapsed());
}

/// Unpacks `tarball` into `into` and returns its one top directory, checking its layout.
fn unpack(tarball: &Path, into: &Path) -> PathBuf {
    let status = Command::new("tar")
        .arg("-xzf")
        .arg(tarball)
        .arg("-C")
        .arg(into)
        .status()
        .expect("tar runs");
    assert!(status.success(), "tar -xzf {}", tarball.display());
    let name = tarball
        .file_name()
        .and_then(|n| n.to_str())
        .and_then(|n| n.strip_suffix("-linux.tar.gz"))
        .and_then(|n| n.rsplit_once('-'))
        .map(|(stem, _arch)| stem.to_owned())
        .expect("paybridge-<version>-<arch>-linux.tar.gz");
    let release = into.join(&name);
    for file in [
        "paybridge",
        "README.md",
        "dist/index.html",
        "deploy/paybridge.service",
        "deploy/Caddyfile",
        "deploy/paybridge.env.example",
    ] {
        assert!(release.join(file).is_file(), "{name}/{file} is missing");
    }
    release
}

/// The names in `deploy/paybridge.env.example`, set or commented out, are all in `--help`.
fn every_variable_of_the_env_example_is_one_paybridge_reads(bin: &Path, release: &Path) {
    let help = Command::new(bin).arg("--help").output().unwrap();
    let help = String::from_utf8_lossy(&help.stdout);
    let example = std::fs::read_to_string(release.join("deploy/paybridge.env.example")).unwrap();
    let names: Vec<&str> = example
        .lines()
        .map(|l| l.trim_start_matches('#'))
        .filter_map(|l| l.split_once('='))
        .map(|(name, _)| name)
        .filter(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_uppercase() || b == b'_'))
        .collect();
    assert!(names.len() > 20, "{names:?}");
    for name in names {
        assert!(
            help.contains(&format!("[env: {name}")),
            "{name} in paybridge.env.example is not a setting of paybridge"
        );
    }
}

/// `systemd-analyze verify` finds nothing to say about the unit (pointed at the unpacked
/// release instead of /opt/paybridge/current). Skipped where systemd is not installed.
fn the_unit_file_verifies(release: &Path, work: &Path) {
    let Ok(found) = Command::new("systemd-analyze").arg("--version").output() else {
        eprintln!("deploy: systemd-analyze not installed; the unit file is not verified");
        return;
    };
    assert!(found.status.success());
    let unit = std::fs::read_to_string(release.join("deploy/paybridge.service")).unwrap();
    let path = work.join("paybridge.service");
    std::fs::write(
        &path,
        unit.replace("/opt/paybridge/current", &release.display().to_string()),
    )
    .unwrap();
    let out = Command::new("systemd-analyze")
        .arg("verify")
        .arg(&path)
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success() && said.trim().is_empty(), "{said}");
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap()
}

/// A child process whose output goes to a log file; killed when dropped, and its log's end
/// printed when that happens because the test failed.
struct Process {
    name: String,
    child: Child,
    log: PathBuf,
}

impl Process {
    fn spawn(name: &str, mut command: Command, logs: &Path) -> Self {
        let log = logs.join(format!("{name}.log"));
        let file = File::create(&log).unwrap();
        let child = command
            .stdin(Stdio::null())
            .stdout(file.try_clone().unwrap())
            .stderr(file)
            .spawn()
            .unwrap_or_else(|e| panic!("{name} does not start: {e}"));
        Self {
            name: name.to_owned(),
            child,
            log,
        }
    }

    /// Panics with the log when the process has exited.
    fn alive(&mut self) {
        if let Some(status) = self.child.try_wait().unwrap() {
            panic!("{} exited ({status}):\n{}", self.name, self.tail());
        }
    }

    fn tail(&self) -> String {
        let lines: Vec<String> = BufReader::new(File::open(&self.log).unwrap())
            .lines()
            .map_while(Result::ok)
            .collect();
        lines[lines.len().saturating_sub(40)..].join("\n")
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if std::thread::panicking() {
            eprintln!("--- {} log (end) ---\n{}", self.name, self.tail());
        }
    }
}

/// Caddy running the shipped Caddyfile for `localhost`, with certificates from its own CA.
struct Caddy {
    _process: Process,
    root_ca: PathBuf,
    leaf: PathBuf,
}

impl Caddy {
    async fn start(work: &Path, release: &Path, https: u16, upstreams: [u16; 2]) -> Self {
        let home = work.join("caddy");
        let storage = home.join("storage");
        std::fs::create_dir_all(&storage).unwrap();
        // Test-only global options around the shipped file: no admin endpoint, certificates
        // from Caddy's internal CA (its root kept out of the system's trust store), free ports.
        let config = home.join("Caddyfile");
        std::fs::write(
            &config,
            format!(
                "{{\n\tadmin off\n\tlocal_certs\n\tskip_install_trust\n\thttp_port {http}\n\t\
                 https_port {https}\n\tstorage file_system {storage}\n}}\n\nimport {shipped}\n",
                http = free_port(),
                storage = storage.display(),
                shipped = release.join("deploy/Caddyfile").display(),
            ),
        )
        .unwrap();
        let mut command = Command::new("caddy");
        command
            .args(["run", "--adapter", "caddyfile", "--config"])
            .arg(&config)
            .env_clear()
            .env("HOME", &home)
            .env("XDG_DATA_HOME", home.join("data"))
            .env("XDG_CONFIG_HOME", home.join("config"))
            .env("PAYBRIDGE_DOMAIN", "localhost")
            .env("PAYBRIDGE_UPSTREAM_1", format!("{PROXY}:{}", upstreams[0]))
            .env("PAYBRIDGE_UPSTREAM_2", format!("{PROXY}:{}", upstreams[1]));
        let mut process = Process::spawn("caddy", command, work);
        let root_ca = storage.join("pki/authorities/local/root.crt");
        let leaf = storage.join("certificates/local/localhost/localhost.crt");
        wait::until(
            "Caddy's CA and its certificate for localhost",
            START,
            || {
                process.alive();
                let ready = root_ca.is_file() && leaf.is_file();
                async move { ready.then_some(()) }
            },
        )
        .await;
        Self {
            _process: process,
            root_ca,
            leaf,
        }
    }

    /// Chromium's flag trusting Caddy's certificate by the SHA-256 of its public key — this one
    /// certificate, instead of ignoring every certificate error.
    fn spki_pin(&self) -> String {
        let pem = std::fs::read(&self.leaf).unwrap();
        let (_, pem) = x509_parser::pem::parse_x509_pem(&pem).unwrap();
        let cert = pem.parse_x509().unwrap();
        let hash = Sha256::digest(cert.public_key().raw);
        format!(
            "--ignore-certificate-errors-spki-list={}",
            base64::engine::general_purpose::STANDARD.encode(hash)
        )
    }
}

/// What both instances are started with.
struct Env<'a> {
    bin: &'a Path,
    release: &'a Path,
    public: &'a Url,
    data_dir: &'a Path,
    database_url: &'a str,
    ca: &'a Path,
    logs: &'a Path,
}

/// One instance of the unpacked release, configured by environment as systemd would.
struct Instance {
    process: Process,
    admin: Url,
}

impl Instance {
    async fn start(name: &str, env: &Env<'_>, port: u16) -> Self {
        let admin_port = free_port();
        let mut command = Command::new(env.bin);
        command
            .env_clear()
            .current_dir(env.release)
            .env("PAYBRIDGE_MODE", "sandbox")
            .env("PAYBRIDGE_LISTEN", format!("127.0.0.1:{port}"))
            .env("PAYBRIDGE_ADMIN_LISTEN", format!("127.0.0.1:{admin_port}"))
            .env("PAYBRIDGE_PUBLIC_URL", env.public.as_str())
            .env("PAYBRIDGE_TRUSTED_PROXIES", PROXY)
            .env("PAYBRIDGE_DATA_DIR", env.data_dir)
            .env("PAYBRIDGE_DATABASE_URL", env.database_url)
            .env("PAYBRIDGE_DIST_DIR", env.release.join("dist"))
            .env("PAYBRIDGE_LOG_FORMAT", "json")
            // The sandbox's clients call the public URL, whose certificate Caddy's CA issued.
            .env("SSL_CERT_FILE", env.ca);
        let mut process = Process::spawn(&format!("paybridge-{name}"), command, env.logs);
        let admin = Url::parse(&format!("http://127.0.0.1:{admin_port}/")).unwrap();
        let http = reqwest::Client::new();
        let readyz = admin.join("readyz").unwrap();
        wait::until(&format!("instance {name} to be ready"), START, || {
            process.alive();
            let req = http.get(readyz.clone()).send();
            async move { req.await.ok()?.status().is_success().then_some(()) }
        })
        .await;
        Self { process, admin }
    }

    async fn metrics(&self) -> String {
        reqwest::get(self.admin.join("metrics").unwrap())
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    }

    /// SIGTERM, then a clean exit.
    async fn stop(mut self) {
        let pid = self.process.child.id().to_string();
        assert!(
            Command::new("kill")
                .args(["-TERM", &pid])
                .status()
                .unwrap()
                .success()
        );
        let deadline = Instant::now() + STEP;
        let status = loop {
            if let Some(status) = self.process.child.try_wait().unwrap() {
                break status;
            }
            assert!(
                Instant::now() < deadline,
                "{} did not stop after SIGTERM",
                self.process.name
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        };
        assert!(
            status.success(),
            "{} after SIGTERM: {status}\n{}",
            self.process.name,
            self.process.tail()
        );
    }
}

/// The total of `paybridge_http_requests_total` over the series whose labels contain `labels`.
fn requests(metrics: &str, labels: &str) -> u64 {
    metrics
        .lines()
        .filter(|l| l.starts_with("paybridge_http_requests_total{") && l.contains(labels))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .map(|v| v as u64)
        .sum()
}

/// A client of the public https URL trusting Caddy's CA (and nothing else), connecting from
/// `from`, with the sandbox's merchant API key.
struct Https {
    client: reqwest::Client,
    key: String,
}

impl Https {
    fn new(ca: &Path, https: u16, key: &str, from: Ipv4Addr) -> Self {
        let ca = reqwest::Certificate::from_pem(&std::fs::read(ca).unwrap()).unwrap();
        let client = reqwest::Client::builder()
            .tls_built_in_root_certs(false)
            .add_root_certificate(ca)
            // `from` reaches Caddy only over IPv4.
            .resolve("localhost", SocketAddr::from((Ipv4Addr::LOCALHOST, https)))
            .local_address(IpAddr::V4(from))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        Self {
            client,
            key: key.to_owned(),
        }
    }

    async fn get(&self, url: Url) -> (u16, String) {
        let res = self.client.get(url).send().await.unwrap();
        (res.status().as_u16(), res.text().await.unwrap_or_default())
    }

    async fn api(&self, path: &str, public: &Url) -> Value {
        let res = self
            .client
            .get(public.join(path).unwrap())
            .bearer_auth(&self.key)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200, "GET {path}");
        res.json().await.unwrap()
    }

    /// A new session of `amount` fen whose success URL is on the public site → (id, success URL).
    async fn session(&self, public: &Url, amount: i64) -> (String, Url) {
        let success = public.join("healthz?paid=1").unwrap();
        let mut body = session_request(amount);
        body["success_url"] = json!(success.as_str());
        let res = self
            .client
            .post(public.join("v1/checkout_sessions").unwrap())
            .bearer_auth(&self.key)
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = res.status();
        let session: Value = res.json().await.unwrap_or_default();
        assert_eq!(status, 200, "{session}");
        (session["id"].as_str().unwrap().to_owned(), success)
    }

    /// A phone's "pay" at `pay` (a session's `/api/checkout/{id}/pay`), claiming to be
    /// [`FORGED`] in `X-Forwarded-For`; → the H5 cashier URL.
    async fn h5_pay(&self, pay: Url) -> Url {
        let res = self
            .client
            .post(pay)
            .header("x-forwarded-for", FORGED)
            .json(&json!({"method": "wechat_pay", "environment": "mobile"}))
            .send()
            .await
            .unwrap();
        let status = res.status();
        let action: Value = res.json().await.unwrap_or_default();
        assert_eq!(status, 200, "{action}");
        assert_eq!(action["type"], "redirect", "{action}");
        Url::parse(action["url"].as_str().unwrap()).unwrap()
    }

    /// How many events of type `kind` are about the object `object` (one page is enough here).
    async fn events_about(&self, kind: &str, object: &str, public: &Url) -> usize {
        let list = self
            .api(&format!("v1/events?type={kind}&limit=100"), public)
            .await;
        assert_eq!(list["has_more"], false, "{list}");
        list["data"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["data"]["object"]["id"] == object)
            .count()
    }
}

/// The instances' database, read where the simulated WeChat Pay keeps what it was told.
struct Postgres(sqlx::PgPool);

impl Postgres {
    async fn connect(url: &str) -> Self {
        Self(sqlx::PgPool::connect(url).await.unwrap())
    }

    /// The `payer_client_ip` WeChat Pay got with the H5 order behind `cashier`.
    async fn payer_ip(&self, cashier: &Url) -> String {
        let prepay_id = cashier
            .query_pairs()
            .find(|(k, _)| k == "prepay_id")
            .map(|(_, v)| v.into_owned())
            .expect("the cashier URL names its prepay_id");
        sqlx::query_scalar("SELECT payer_client_ip FROM sandbox_orders WHERE prepay_id = $1")
            .bind(prepay_id)
            .fetch_one(&self.0)
            .await
            .unwrap()
    }

    /// Waits until the order's notification was acknowledged; → (notify_url, attempts, last
    /// status) of its only delivery.
    async fn delivered_notification(&self, out_trade_no: &str) -> (String, i64, String) {
        wait::until(
            "the sandbox's notification to be acknowledged",
            STEP,
            || {
                let query = sqlx::query_as::<_, (String, i64, String, Option<i64>)>(
                    "SELECT notify_url, attempts, COALESCE(last_status, ''), delivered_at \
                 FROM sandbox_notifications WHERE out_trade_no = $1",
                )
                .bind(out_trade_no.to_owned())
                .fetch_all(&self.0);
                async move {
                    let rows = query.await.ok()?;
                    assert!(rows.len() <= 1, "{rows:?}");
                    let (url, attempts, status, delivered) = rows.into_iter().next()?;
                    delivered.map(|_| (url, attempts, status))
                }
            },
        )
        .await
    }
}
