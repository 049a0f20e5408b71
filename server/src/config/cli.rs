//! Command line and environment: every setting is a flag that mirrors an env var (DESIGN §6).
//! Values arrive as raw strings and are checked all at once in `validate`, so one run reports
//! every problem instead of the first.

use clap::{Args, Parser, Subcommand};

/// paybridge — self-hosted checkout for WeChat Pay and Alipay.
///
/// Starts in sandbox mode by default: a built-in simulator of WeChat Pay APIv3, WeChat OAuth and
/// Alipay answers every provider call, so no credentials are needed.
#[derive(Debug, Parser)]
#[command(name = "paybridge", version, about, long_about)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    #[command(flatten)]
    pub settings: Settings,
}

/// What to run.
#[derive(Debug, Clone, Subcommand)]
pub enum Command {
    /// Run the HTTP server (the default).
    Serve,
    /// Check the configuration, print it with secrets redacted, and exit.
    CheckConfig,
    /// Check a live configuration against WeChat Pay and Alipay (merchant key, verification
    /// keys, app secrets, public URL, verification files, clock) and print a checklist with the
    /// fix for each failure; exit 0 only when every check passes.
    Doctor,
    /// Manage merchant API keys.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Work with the event log.
    #[command(subcommand)]
    Events(EventsCommand),
    /// Manage the dashboard's operator accounts.
    #[command(subcommand)]
    Users(UsersCommand),
    /// Download WeChat's trade bill for a day (Beijing time), check its hash, and report every
    /// difference from paybridge's records. In sandbox mode the server must be running.
    Reconcile {
        /// The bill date, YYYY-MM-DD.
        #[arg(long)]
        date: String,
    },
}

/// `paybridge keys …`
#[derive(Debug, Clone, Subcommand)]
pub enum KeysCommand {
    /// Create a key for this mode (sk_test_… in sandbox, sk_live_… in live) and print it once.
    Create,
    /// List keys (never their secrets).
    List,
    /// Revoke a key by its id (key_…).
    Revoke { id: String },
}

/// `paybridge users …`
#[derive(Debug, Clone, Subcommand)]
pub enum UsersCommand {
    /// Create an operator. The password is read from stdin with `--password-stdin`; otherwise
    /// a strong one is generated and printed once.
    Create {
        username: String,
        /// Read the password (at least 12 characters) from the first line of stdin.
        #[arg(long)]
        password_stdin: bool,
    },
    /// List operators.
    List,
    /// Disable an operator and end their dashboard sessions.
    Disable { username: String },
    /// Print a one-time sign-in link for an operator (valid 24 hours).
    Link { username: String },
}

/// `paybridge events …`
#[derive(Debug, Clone, Subcommand)]
pub enum EventsCommand {
    /// Queue an event's webhooks again (a running server delivers them).
    Replay { id: String },
}

/// Raw settings as given by flags or env vars.
#[derive(Debug, Clone, Default, Args)]
#[allow(clippy::struct_field_names)]
pub struct Settings {
    /// `sandbox` (simulated providers, no credentials) or `live`.
    #[arg(long, env = "PAYBRIDGE_MODE", default_value = "sandbox", global = true)]
    pub mode: String,
    /// Address to listen on.
    #[arg(
        long,
        env = "PAYBRIDGE_LISTEN",
        default_value = "127.0.0.1:8080",
        global = true
    )]
    pub listen: String,
    /// Address of the operations listener: `/metrics` and the readiness detail (loopback by
    /// default: keep it off the public network).
    #[arg(
        long,
        env = "PAYBRIDGE_ADMIN_LISTEN",
        default_value = "127.0.0.1:9464",
        global = true
    )]
    pub admin_listen: String,
    /// Public base URL shoppers and providers reach (https in live mode); defaults to the listen address.
    #[arg(long, env = "PAYBRIDGE_PUBLIC_URL", global = true)]
    pub public_url: Option<String>,
    /// Directory for the SQLite file and sandbox keys.
    #[arg(
        long,
        env = "PAYBRIDGE_DATA_DIR",
        default_value = "./data",
        global = true
    )]
    pub data_dir: String,
    /// Database URL: sqlite://… (default `sqlite://<data dir>/paybridge.db`) or postgres://….
    #[arg(
        long,
        env = "PAYBRIDGE_DATABASE_URL",
        hide_env_values = true,
        global = true
    )]
    pub database_url: Option<String>,
    /// Directory holding the built checkout page (Trunk's output).
    #[arg(
        long,
        env = "PAYBRIDGE_DIST_DIR",
        default_value = "dist",
        global = true
    )]
    pub dist_dir: String,
    /// Directory of domain-verification files (`MP_verify_….txt`, Alipay's) served at the
    /// site root.
    #[arg(long, env = "PAYBRIDGE_VERIFY_DIR", global = true)]
    pub verify_dir: Option<String>,
    /// Comma-separated proxy addresses or CIDRs whose X-Forwarded-For is believed.
    #[arg(long, env = "PAYBRIDGE_TRUSTED_PROXIES", global = true)]
    pub trusted_proxies: Option<String>,
    /// Comma-separated origins allowed to frame the checkout page (none by default).
    #[arg(long, env = "PAYBRIDGE_FRAME_ANCESTORS", global = true)]
    pub frame_ancestors: Option<String>,
    /// Signs short-lived tokens; at least 32 characters. Generated into the data dir in sandbox mode.
    #[arg(
        long,
        env = "PAYBRIDGE_SECRET_KEY",
        hide_env_values = true,
        global = true
    )]
    pub secret_key: Option<String>,
    /// Merchant name shown on the checkout page.
    #[arg(
        long,
        env = "PAYBRIDGE_MERCHANT_NAME",
        default_value = "paybridge demo store",
        global = true
    )]
    pub merchant_name: String,
    /// The checkout page's logo: an image file (PNG, JPEG, WebP or SVG, at most 256 KiB) served
    /// by paybridge, or an https URL.
    #[arg(long, env = "PAYBRIDGE_BRAND_LOGO", global = true)]
    pub brand_logo: Option<String>,
    /// The pay button's colour, `#rrggbb`, dark enough for white text (WCAG AA, 4.5:1).
    #[arg(long, env = "PAYBRIDGE_BRAND_COLOR", global = true)]
    pub brand_color: Option<String>,
    /// A phone number shoppers can call, shown on the page.
    #[arg(long, env = "PAYBRIDGE_BRAND_SUPPORT_PHONE", global = true)]
    pub brand_support_phone: Option<String>,
    /// An https page where shoppers get help, linked from the page.
    #[arg(long, env = "PAYBRIDGE_BRAND_SUPPORT_URL", global = true)]
    pub brand_support_url: Option<String>,
    /// Largest amount one checkout may ask for, in minor units (fen).
    #[arg(
        long,
        env = "PAYBRIDGE_MAX_AMOUNT",
        default_value = "100000000",
        global = true
    )]
    pub max_amount: String,
    /// Comma-separated origins that success/cancel URLs must belong to (any https origin when empty).
    #[arg(long, env = "PAYBRIDGE_REDIRECT_ORIGINS", global = true)]
    pub redirect_origins: Option<String>,
    /// Requests per second one client IP may make to the shopper API (bursts of 3 s allowed).
    #[arg(
        long,
        env = "PAYBRIDGE_SHOPPER_RATE_LIMIT",
        default_value = "20",
        global = true
    )]
    pub shopper_rate_limit: String,
    /// Connections served at once; a connection beyond it is closed at once.
    #[arg(
        long,
        env = "PAYBRIDGE_MAX_CONNECTIONS",
        default_value = "4096",
        global = true
    )]
    pub max_connections: String,
    /// Connections one client address (an IPv6 client's /64) may hold; trusted proxies are exempt.
    #[arg(
        long,
        env = "PAYBRIDGE_MAX_CONNECTIONS_PER_IP",
        default_value = "256",
        global = true
    )]
    pub max_connections_per_ip: String,
    /// Seconds to receive a request's headers; also how long an idle keep-alive connection is
    /// kept (set a proxy's upstream keep-alive below it).
    #[arg(
        long,
        env = "PAYBRIDGE_HEADER_READ_TIMEOUT_SECS",
        default_value = "20",
        global = true
    )]
    pub header_read_timeout_secs: String,
    /// Seconds without a byte read or written after which a connection is closed.
    #[arg(
        long,
        env = "PAYBRIDGE_IDLE_TIMEOUT_SECS",
        default_value = "60",
        global = true
    )]
    pub idle_timeout_secs: String,
    /// Checkout status streams (Server-Sent Events) one client address may hold.
    #[arg(
        long,
        env = "PAYBRIDGE_MAX_STREAMS_PER_IP",
        default_value = "32",
        global = true
    )]
    pub max_streams_per_ip: String,
    /// Checkout status streams one checkout session may have.
    #[arg(
        long,
        env = "PAYBRIDGE_MAX_STREAMS_PER_SESSION",
        default_value = "4",
        global = true
    )]
    pub max_streams_per_session: String,
    /// Seconds a status stream lasts before it ends (the page then polls).
    #[arg(
        long,
        env = "PAYBRIDGE_STREAM_LIFETIME_SECS",
        default_value = "600",
        global = true
    )]
    pub stream_lifetime_secs: String,
    /// Failed API authentications one client address may make in a minute before it is
    /// answered 429 without its key being looked up (a key known valid still works).
    #[arg(
        long,
        env = "PAYBRIDGE_AUTH_FAILURES_PER_MINUTE",
        default_value = "20",
        global = true
    )]
    pub auth_failures_per_minute: String,
    /// Refused provider notifications one client address may send in a minute before the
    /// rest are answered 429 unchecked.
    #[arg(
        long,
        env = "PAYBRIDGE_NOTIFY_REFUSALS_PER_MINUTE",
        default_value = "30",
        global = true
    )]
    pub notify_refusals_per_minute: String,
    /// Days an idempotency key and its stored answer are kept.
    #[arg(
        long,
        env = "PAYBRIDGE_IDEMPOTENCY_RETENTION_DAYS",
        default_value = "7",
        global = true
    )]
    pub idempotency_retention_days: String,
    /// Days each webhook delivery attempt's record is kept.
    #[arg(
        long,
        env = "PAYBRIDGE_WEBHOOK_ATTEMPT_RETENTION_DAYS",
        default_value = "90",
        global = true
    )]
    pub webhook_attempt_retention_days: String,
    /// Live mode: comma-separated CIDRs webhook endpoints may resolve to although private
    /// (loopback, RFC 1918, link-local, CGNAT and unique-local targets are refused otherwise).
    #[arg(long, env = "PAYBRIDGE_WEBHOOK_ALLOWED_NETWORKS", global = true)]
    pub webhook_allowed_networks: Option<String>,
    /// How often background jobs look for due work, in milliseconds.
    #[arg(
        long,
        env = "PAYBRIDGE_JOB_POLL_MS",
        default_value = "1000",
        global = true
    )]
    pub job_poll_ms: String,
    /// How long a claimed job (e.g. a webhook delivery) stays with one instance before another may take it over, in seconds.
    #[arg(
        long,
        env = "PAYBRIDGE_JOB_LEASE_SECONDS",
        default_value = "60",
        global = true
    )]
    pub job_lease_seconds: String,
    /// Reconcile the previous day's WeChat Pay trade bill every day at this time, `HH:MM`
    /// Beijing time (bills are ready after 10:00), once across all instances; the result is
    /// kept for the dashboard. Off when unset. A day whose time has passed while no instance
    /// ran is reconciled at start.
    #[arg(long, env = "PAYBRIDGE_RECONCILE_AT", global = true)]
    pub reconcile_at: Option<String>,
    /// Multiplies webhook retry delays (1 = real schedule; tests use a small value).
    #[arg(
        long,
        env = "PAYBRIDGE_WEBHOOK_BACKOFF_SCALE",
        default_value = "1",
        global = true
    )]
    pub webhook_backoff_scale: String,
    /// Sandbox only: multiplies the simulator's waits (notification retry schedule, OAuth code
    /// lifetime, refund processing); 1 = WeChat's real timings, tests use a small value.
    #[arg(
        long,
        env = "PAYBRIDGE_SANDBOX_TIME_SCALE",
        default_value = "1",
        global = true
    )]
    pub sandbox_time_scale: String,
    /// Sandbox only, `on` or `off`: the simulated WeChat Pay signs with a platform certificate
    /// (served at `/v3/certificates`) instead of a WeChat Pay public key, as older merchant
    /// accounts do; paybridge then downloads it like a live server in certificate mode.
    #[arg(long, env = "PAYBRIDGE_SANDBOX_WECHAT_CERTIFICATES", global = true)]
    pub sandbox_wechat_certificates: Option<String>,
    /// Sandbox only, `on` or `off`: the simulated Alipay app is in certificate mode (公钥证书):
    /// requests must name its certificates and answers carry `alipay_cert_sn`.
    #[arg(long, env = "PAYBRIDGE_SANDBOX_ALIPAY_CERTIFICATES", global = true)]
    pub sandbox_alipay_certificates: Option<String>,
    /// Log format: `auto` (pretty on a terminal, JSON otherwise), `pretty` or `json`.
    #[arg(
        long,
        env = "PAYBRIDGE_LOG_FORMAT",
        default_value = "auto",
        global = true
    )]
    pub log_format: String,

    /// WeChat Pay merchant id.
    #[arg(long, env = "WECHAT_MCHID", global = true)]
    pub wechat_mchid: Option<String>,
    /// Official-account appid (wx…).
    #[arg(long, env = "WECHAT_APPID", global = true)]
    pub wechat_appid: Option<String>,
    /// Official-account app secret.
    #[arg(long, env = "WECHAT_APP_SECRET", hide_env_values = true, global = true)]
    pub wechat_app_secret: Option<String>,
    /// Mini program appid (optional).
    #[arg(long, env = "WECHAT_MINIPROGRAM_APPID", global = true)]
    pub wechat_miniprogram_appid: Option<String>,
    /// Mini program app secret (with the mini program appid).
    #[arg(
        long,
        env = "WECHAT_MINIPROGRAM_SECRET",
        hide_env_values = true,
        global = true
    )]
    pub wechat_miniprogram_secret: Option<String>,
    /// Serial number of the merchant API certificate.
    #[arg(long, env = "WECHAT_MCH_SERIAL_NO", global = true)]
    pub wechat_mch_serial_no: Option<String>,
    /// Path to the merchant private key (PEM, PKCS#8 or PKCS#1).
    #[arg(long, env = "WECHAT_MCH_PRIVATE_KEY_PATH", global = true)]
    pub wechat_mch_private_key_path: Option<String>,
    /// The 32-character APIv3 key.
    #[arg(long, env = "WECHAT_APIV3_KEY", hide_env_values = true, global = true)]
    pub wechat_apiv3_key: Option<String>,
    /// Path to the WeChat Pay public key (public-key mode).
    #[arg(long, env = "WECHAT_PAY_PUBLIC_KEY_PATH", global = true)]
    pub wechat_pay_public_key_path: Option<String>,
    /// Id of the WeChat Pay public key (`PUB_KEY_ID_…`).
    #[arg(long, env = "WECHAT_PAY_PUBLIC_KEY_ID", global = true)]
    pub wechat_pay_public_key_id: Option<String>,
    /// Comma-separated platform certificate files (PEM), trusted beside the public key.
    #[arg(long, env = "WECHAT_PLATFORM_CERT_PATHS", global = true)]
    pub wechat_platform_cert_paths: Option<String>,
    /// `on` or `off`: download platform certificates at start and every 12 hours (default on
    /// without a WeChat Pay public key, off with one).
    #[arg(long, env = "WECHAT_PLATFORM_CERT_DOWNLOAD", global = true)]
    pub wechat_platform_cert_download: Option<String>,
    /// WeChat Pay API base URL.
    #[arg(long, env = "WECHAT_PAY_API_BASE", global = true)]
    pub wechat_pay_api_base: Option<String>,
    /// WeChat OAuth (authorize page) base URL.
    #[arg(long, env = "WECHAT_OAUTH_BASE", global = true)]
    pub wechat_oauth_base: Option<String>,
    /// WeChat API base URL (sns/oauth2, jscode2session).
    #[arg(long, env = "WECHAT_API_BASE", global = true)]
    pub wechat_api_base: Option<String>,

    /// Alipay application id (enables Alipay in live mode).
    #[arg(long, env = "ALIPAY_APP_ID", global = true)]
    pub alipay_app_id: Option<String>,
    /// Path to the Alipay application private key (PEM).
    #[arg(long, env = "ALIPAY_PRIVATE_KEY_PATH", global = true)]
    pub alipay_private_key_path: Option<String>,
    /// Alipay seller id (2088…); when given, a notification naming another seller is refused.
    #[arg(long, env = "ALIPAY_SELLER_ID", global = true)]
    pub alipay_seller_id: Option<String>,
    /// Path to the Alipay public key (PEM), for an app in public-key mode.
    #[arg(long, env = "ALIPAY_PUBLIC_KEY_PATH", global = true)]
    pub alipay_public_key_path: Option<String>,
    /// Certificate mode: path to the app's public key certificate (`appCertPublicKey_….crt`).
    #[arg(long, env = "ALIPAY_APP_CERT_PATH", global = true)]
    pub alipay_app_cert_path: Option<String>,
    /// Certificate mode: path to Alipay's public key certificate (`alipayCertPublicKey_RSA2.crt`;
    /// may hold the next certificate too).
    #[arg(long, env = "ALIPAY_CERT_PATH", global = true)]
    pub alipay_cert_path: Option<String>,
    /// Certificate mode: path to Alipay's root certificates (`alipayRootCert.crt`).
    #[arg(long, env = "ALIPAY_ROOT_CERT_PATH", global = true)]
    pub alipay_root_cert_path: Option<String>,
    /// Alipay OpenAPI gateway URL.
    #[arg(long, env = "ALIPAY_GATEWAY", global = true)]
    pub alipay_gateway: Option<String>,
}
