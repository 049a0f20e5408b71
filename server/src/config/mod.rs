//! Typed, validated configuration (DESIGN §6). Loaded once at start; secrets are wrapped.

mod cli;
mod limits;
mod problems;
mod validate;

use std::net::SocketAddr;
use std::path::PathBuf;

use ipnet::IpNet;
use url::Url;

pub use cli::{Cli, Command, EventsCommand, KeysCommand, Settings, UsersCommand};
pub use limits::{Limits, Retention};
pub use problems::Problems;
pub use validate::is_loopback;

use crate::secret::Secret;

/// Where provider calls go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Built-in simulator; zero credentials.
    Sandbox,
    /// Real WeChat Pay / Alipay (or any compatible endpoint).
    Live,
}

impl Mode {
    /// The name used in config and logs.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Sandbox => "sandbox",
            Self::Live => "live",
        }
    }
}

/// How logs are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// Pretty on a terminal, JSON otherwise.
    Auto,
    Pretty,
    Json,
}

/// The whole validated configuration.
#[derive(Debug, Clone)]
pub struct Config {
    pub mode: Mode,
    pub listen: SocketAddr,
    /// The operations listener (`/metrics`, readiness detail).
    pub admin_listen: SocketAddr,
    /// Explicit public URL; `None` means "the address we end up bound to".
    pub public_url: Option<Url>,
    pub data_dir: PathBuf,
    pub database_url: Secret<String>,
    pub dist_dir: PathBuf,
    /// Domain-verification files served at the site root (`PAYBRIDGE_VERIFY_DIR`).
    pub verify_dir: Option<PathBuf>,
    pub trusted_proxies: Vec<IpNet>,
    /// Origins allowed in CSP `frame-ancestors`; empty means the page may not be framed.
    pub frame_ancestors: Vec<String>,
    /// Signs short-lived tokens. In sandbox mode it may be filled in from the data dir at start.
    pub secret_key: Option<Secret<String>>,
    pub log_format: LogFormat,
    pub merchant_name: String,
    /// The brand every session's page wears unless the session overrides a part.
    pub branding: crate::domain::branding::Branding,
    /// `PAYBRIDGE_BRAND_LOGO` as a file: its bytes and media type, served at [`LOGO_PATH`].
    pub logo_file: Option<LogoFile>,
    /// Largest amount per checkout, in minor units.
    pub max_amount: i64,
    /// Origins success/cancel URLs must belong to; empty means any https origin.
    pub redirect_origins: Vec<String>,
    pub jobs: JobsConfig,
    /// Shopper API requests per second per client IP.
    pub shopper_rate_limit: std::num::NonZeroU32,
    /// Sandbox only: multiplier on the simulator's waits, in (0, 1].
    pub sandbox_time_scale: f64,
    /// The simulated WeChat Pay signs with a platform certificate (`PAYBRIDGE_SANDBOX_WECHAT_CERTIFICATES`).
    pub sandbox_wechat_certificates: bool,
    /// The simulated Alipay app is in certificate mode (`PAYBRIDGE_SANDBOX_ALIPAY_CERTIFICATES`).
    pub sandbox_alipay_certificates: bool,
    /// Live WeChat Pay credentials; `None` in sandbox mode, where the simulator provides them.
    pub wechat: Option<WechatConfig>,
    /// Live Alipay credentials, when Alipay is enabled.
    pub alipay: Option<AlipayConfig>,
    pub wechat_endpoints: WechatEndpoints,
    pub alipay_gateway: Url,
    pub limits: Limits,
    pub retention: Retention,
    /// Live mode: networks webhook endpoints may resolve to although private.
    pub webhook_allowed_networks: Vec<IpNet>,
}

/// Timing of background jobs.
#[derive(Debug, Clone, Copy)]
pub struct JobsConfig {
    pub poll: std::time::Duration,
    pub lease: std::time::Duration,
    /// Multiplier on webhook retry delays.
    pub webhook_backoff_scale: f64,
    /// When the previous day's bill is reconciled each day (Beijing time), if at all.
    pub reconcile_at: Option<time::Time>,
}

/// Base URLs of WeChat's services, replaceable by any compatible endpoint.
#[derive(Debug, Clone)]
pub struct WechatEndpoints {
    pub pay_api_base: Url,
    pub oauth_base: Url,
    pub api_base: Url,
}

/// Merchant credentials for WeChat Pay APIv3 and WeChat OAuth.
#[derive(Debug, Clone)]
pub struct WechatConfig {
    pub mchid: String,
    pub appid: String,
    pub app_secret: Secret<String>,
    pub miniprogram: Option<MiniProgramConfig>,
    pub mch_serial_no: String,
    pub mch_private_key_path: PathBuf,
    pub apiv3_key: Secret<String>,
    /// The WeChat Pay public key (`PUB_KEY_ID_…`), when the account has one.
    pub pay_public_key: Option<PayPublicKey>,
    /// Platform certificate files trusted beside it.
    pub platform_cert_paths: Vec<PathBuf>,
    /// Whether platform certificates are downloaded (at start and every 12 hours). Any mix of
    /// the three works at once: a notification is verified with whichever key its
    /// `Wechatpay-Serial` names, so a merchant moving from certificates to a public key never
    /// drops one.
    pub download_certificates: bool,
}

/// Mini program credentials.
#[derive(Debug, Clone)]
pub struct MiniProgramConfig {
    pub appid: String,
    pub secret: Secret<String>,
}

/// WeChat Pay public key (public-key verification mode).
#[derive(Debug, Clone)]
pub struct PayPublicKey {
    pub id: String,
    pub path: PathBuf,
}

/// Where a configured logo file is served.
pub const LOGO_PATH: &str = "/brand/logo";

/// A logo image read from a file at start.
#[derive(Clone)]
pub struct LogoFile {
    pub bytes: std::sync::Arc<[u8]>,
    /// `image/png`, `image/jpeg`, `image/webp` or `image/svg+xml`.
    pub media_type: &'static str,
}

impl std::fmt::Debug for LogoFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LogoFile")
            .field("bytes", &self.bytes.len())
            .field("media_type", &self.media_type)
            .finish()
    }
}

/// Alipay application credentials.
#[derive(Debug, Clone)]
pub struct AlipayConfig {
    pub app_id: String,
    pub private_key_path: PathBuf,
    /// What verifies Alipay's answers and notifications.
    pub verification: AlipayVerification,
    /// The merchant's seller id (2088…); notifications naming another seller are refused.
    pub seller_id: Option<String>,
}

/// How an Alipay app verifies Alipay: with Alipay's public key (公钥模式) or with certificates
/// issued by Alipay (公钥证书模式). An app is in one mode or the other, as set on the open platform.
#[derive(Debug, Clone)]
pub enum AlipayVerification {
    /// `ALIPAY_PUBLIC_KEY_PATH`.
    PublicKey(PathBuf),
    /// `ALIPAY_APP_CERT_PATH`, `ALIPAY_CERT_PATH`, `ALIPAY_ROOT_CERT_PATH`.
    Certificates {
        /// The app's public key certificate (`appCertPublicKey_<app id>.crt`).
        app_cert: PathBuf,
        /// Alipay's public key certificate(s) (`alipayCertPublicKey_RSA2.crt`).
        alipay_cert: PathBuf,
        /// Alipay's root certificates (`alipayRootCert.crt`).
        root_cert: PathBuf,
    },
}

impl Settings {
    /// Checks every setting and returns the typed config, or every problem found.
    ///
    /// # Errors
    /// [`Problems`] listing each missing or malformed value by its env var name.
    pub fn validate(&self) -> Result<Config, Problems> {
        validate::validate(self)
    }

    /// Checks only what opening the database needs (the mode, the data dir, the database URL):
    /// enough for `paybridge keys`, which an operator runs before configuring WeChat.
    ///
    /// # Errors
    /// [`Problems`] naming each malformed value.
    pub fn validate_database(&self) -> Result<DatabaseConfig, Problems> {
        validate::validate_database(self)
    }
}

/// What opening the database needs.
#[derive(Debug, Clone)]
pub struct DatabaseConfig {
    pub mode: Mode,
    pub data_dir: std::path::PathBuf,
    pub database_url: Secret<String>,
}

impl Config {
    /// Fills in what sandbox mode generates on first start (the secret key in the data dir).
    ///
    /// # Errors
    /// When the data dir cannot be created or read.
    pub fn prepare_data_dir(&mut self) -> std::io::Result<()> {
        create_private_dir(&self.data_dir)?;
        if self.secret_key.is_none() {
            self.secret_key = Some(load_or_create_secret(&self.data_dir.join("secret_key"))?);
        }
        Ok(())
    }
}

/// Reads the sandbox secret key, creating it (owner-only permissions) on first start.
fn load_or_create_secret(path: &std::path::Path) -> std::io::Result<Secret<String>> {
    match std::fs::read_to_string(path) {
        Ok(s) if s.trim().len() >= 32 => return Ok(Secret::new(s.trim().to_owned())),
        Ok(_) => {
            return Err(std::io::Error::other(format!(
                "{} is shorter than 32 characters; delete it to generate a new one",
                path.display()
            )));
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e),
    }
    let mut bytes = [0_u8; 32];
    rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut bytes);
    let key = hex::encode(bytes);
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path)?;
    std::io::Write::write_all(&mut file, key.as_bytes())?;
    Ok(Secret::new(key))
}

/// Creates `dir` (and its parents) and makes it readable by its owner only: it holds the
/// database (webhook secrets, openids), the secret key and the sandbox's keys.
///
/// # Errors
/// When the directory cannot be created or its permissions set.
pub fn create_private_dir(dir: &std::path::Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
    }
    Ok(())
}
