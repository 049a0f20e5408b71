//! Turns raw [`Settings`] into a [`Config`], collecting every problem before failing.

use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::time::Duration;

use ipnet::IpNet;
use url::{Host, Url};

use super::{
    AlipayConfig, AlipayVerification, Config, DatabaseConfig, JobsConfig, LogFormat, LogoFile,
    MiniProgramConfig, Mode, PayPublicKey, Problems, Settings, WechatConfig, WechatEndpoints,
};
use crate::secret::Secret;

const WECHAT_PAY_API: &str = "https://api.mch.weixin.qq.com";
const WECHAT_OAUTH: &str = "https://open.weixin.qq.com";
const WECHAT_API: &str = "https://api.weixin.qq.com";
const ALIPAY_GATEWAY: &str = "https://openapi.alipay.com/gateway.do";

/// A value given and not blank.
fn given(v: Option<&String>) -> Option<&str> {
    v.map(|s| s.trim()).filter(|s| !s.is_empty())
}

fn mode(s: &Settings, p: &mut Problems) -> Mode {
    match s.mode.trim() {
        "sandbox" => Mode::Sandbox,
        "live" => Mode::Live,
        other => {
            p.push(
                "PAYBRIDGE_MODE",
                format!("{other:?} is not `sandbox` or `live`"),
            );
            Mode::Sandbox
        }
    }
}

/// The data dir and the database URL (the data dir's SQLite file unless one is given).
fn database(s: &Settings, p: &mut Problems) -> (PathBuf, String) {
    let data_dir = PathBuf::from(s.data_dir.trim());
    if s.data_dir.trim().is_empty() {
        p.push("PAYBRIDGE_DATA_DIR", "must not be empty");
    }
    let database_url = match given(s.database_url.as_ref()) {
        Some(raw) => {
            if !(raw.starts_with("sqlite:")
                || raw.starts_with("postgres://")
                || raw.starts_with("postgresql://"))
            {
                p.push(
                    "PAYBRIDGE_DATABASE_URL",
                    "must start with sqlite:, postgres:// or postgresql://",
                );
            } else if raw.starts_with("sqlite:")
                && (raw.contains(":memory:") || raw.contains("mode=memory"))
            {
                // Every pooled connection would open a database of its own, and a payment
                // would be lost at the first restart.
                p.push(
                    "PAYBRIDGE_DATABASE_URL",
                    "an in-memory SQLite database is not supported: name a file",
                );
            }
            raw.to_owned()
        }
        None => format!("sqlite://{}", data_dir.join("paybridge.db").display()),
    };
    (data_dir, database_url)
}

/// Only what opening the database needs (for `paybridge keys`): the mode, the data dir and
/// the database URL.
pub(super) fn validate_database(s: &Settings) -> Result<DatabaseConfig, Problems> {
    let mut p = Problems::default();
    let mode = mode(s, &mut p);
    let (data_dir, database_url) = database(s, &mut p);
    if !p.is_empty() {
        return Err(p);
    }
    Ok(DatabaseConfig {
        mode,
        data_dir,
        database_url: Secret::new(database_url),
    })
}

pub(super) fn validate(s: &Settings) -> Result<Config, Problems> {
    let mut p = Problems::default();

    let mode = mode(s, &mut p);
    let listen = s.listen.trim().parse::<SocketAddr>().unwrap_or_else(|_| {
        p.push(
            "PAYBRIDGE_LISTEN",
            format!("{:?} is not an address like 127.0.0.1:8080", s.listen),
        );
        SocketAddr::from(([127, 0, 0, 1], 8080))
    });
    let admin_listen = if s.admin_listen.is_empty() {
        SocketAddr::from(([127, 0, 0, 1], 9464))
    } else {
        s.admin_listen
            .trim()
            .parse::<SocketAddr>()
            .unwrap_or_else(|_| {
                p.push(
                    "PAYBRIDGE_ADMIN_LISTEN",
                    format!("{:?} is not an address like 127.0.0.1:9464", s.admin_listen),
                );
                SocketAddr::from(([127, 0, 0, 1], 9464))
            })
    };
    let public_url = given(s.public_url.as_ref()).and_then(|raw| public_url(raw, mode, &mut p));
    if mode == Mode::Live && public_url.is_none() && given(s.public_url.as_ref()).is_none() {
        p.push(
            "PAYBRIDGE_PUBLIC_URL",
            "required in live mode: the https URL shoppers and WeChat reach",
        );
    }
    let (data_dir, database_url) = database(s, &mut p);
    let trusted_proxies = networks(
        s.trusted_proxies.as_ref(),
        "PAYBRIDGE_TRUSTED_PROXIES",
        &mut p,
    );
    let frame_ancestors = list(s.frame_ancestors.as_ref())
        .filter_map(|item| origin(item, "PAYBRIDGE_FRAME_ANCESTORS", &mut p))
        .collect();
    let secret_key = given(s.secret_key.as_ref()).map(|k| Secret::new(k.to_owned()));
    if let Some(k) = &secret_key {
        if k.expose().len() < 32 {
            p.push("PAYBRIDGE_SECRET_KEY", "must be at least 32 characters");
        }
    } else if mode == Mode::Live {
        p.push(
            "PAYBRIDGE_SECRET_KEY",
            "required in live mode (at least 32 random characters)",
        );
    }
    let log_format = match s.log_format.trim() {
        "auto" => LogFormat::Auto,
        "pretty" => LogFormat::Pretty,
        "json" => LogFormat::Json,
        other => {
            p.push(
                "PAYBRIDGE_LOG_FORMAT",
                format!("{other:?} is not `auto`, `pretty` or `json`"),
            );
            LogFormat::Auto
        }
    };
    let merchant_name = s.merchant_name.trim().to_owned();
    if merchant_name.is_empty() || merchant_name.chars().count() > 64 {
        p.push("PAYBRIDGE_MERCHANT_NAME", "must be 1 to 64 characters");
    }
    let (branding, logo_file) = brand(s, &mut p);
    let max_amount = match s.max_amount.trim().parse::<i64>() {
        Ok(n) if n >= 1 => n,
        _ => {
            p.push(
                "PAYBRIDGE_MAX_AMOUNT",
                format!("{:?} is not a positive whole number of fen", s.max_amount),
            );
            crate::domain::amount::DEFAULT_MAX_MINOR
        }
    };
    let redirect_origins = list(s.redirect_origins.as_ref())
        .filter_map(|item| origin(item, "PAYBRIDGE_REDIRECT_ORIGINS", &mut p))
        .collect();
    let shopper_rate_limit = s
        .shopper_rate_limit
        .trim()
        .parse::<std::num::NonZeroU32>()
        .unwrap_or_else(|_| {
            p.push(
                "PAYBRIDGE_SHOPPER_RATE_LIMIT",
                format!("{:?} is not a positive whole number", s.shopper_rate_limit),
            );
            std::num::NonZeroU32::MIN
        });
    let jobs = JobsConfig {
        poll: Duration::from_millis(p.positive(&s.job_poll_ms, "PAYBRIDGE_JOB_POLL_MS", 1000)),
        lease: Duration::from_secs(p.positive(
            &s.job_lease_seconds,
            "PAYBRIDGE_JOB_LEASE_SECONDS",
            60,
        )),
        webhook_backoff_scale: match s.webhook_backoff_scale.trim().parse::<f64>() {
            Ok(f) if f.is_finite() && f > 0.0 && f <= 1.0 => f,
            _ => {
                p.push(
                    "PAYBRIDGE_WEBHOOK_BACKOFF_SCALE",
                    "must be a number in (0, 1]",
                );
                1.0
            }
        },
        reconcile_at: reconcile_at(s.reconcile_at.as_ref(), &mut p),
    };
    // Blank means the real timings (settings built in code leave it empty).
    let sandbox_time_scale = match s.sandbox_time_scale.trim() {
        "" => 1.0,
        raw => match raw.parse::<f64>() {
            Ok(f) if f.is_finite() && f > 0.0 && f <= 1.0 => f,
            _ => {
                p.push("PAYBRIDGE_SANDBOX_TIME_SCALE", "must be a number in (0, 1]");
                1.0
            }
        },
    };
    let wechat_endpoints = WechatEndpoints {
        pay_api_base: base_url(
            s.wechat_pay_api_base.as_ref(),
            WECHAT_PAY_API,
            "WECHAT_PAY_API_BASE",
            &mut p,
        ),
        oauth_base: base_url(
            s.wechat_oauth_base.as_ref(),
            WECHAT_OAUTH,
            "WECHAT_OAUTH_BASE",
            &mut p,
        ),
        api_base: base_url(
            s.wechat_api_base.as_ref(),
            WECHAT_API,
            "WECHAT_API_BASE",
            &mut p,
        ),
    };
    let alipay_gateway = base_url(
        s.alipay_gateway.as_ref(),
        ALIPAY_GATEWAY,
        "ALIPAY_GATEWAY",
        &mut p,
    );
    let limits = super::limits::limits(s, &mut p);
    let retention = super::limits::retention(s, &mut p);
    let webhook_allowed_networks = networks(
        s.webhook_allowed_networks.as_ref(),
        "PAYBRIDGE_WEBHOOK_ALLOWED_NETWORKS",
        &mut p,
    );
    if mode == Mode::Live {
        for (url, env) in [
            (&wechat_endpoints.pay_api_base, "WECHAT_PAY_API_BASE"),
            (&wechat_endpoints.oauth_base, "WECHAT_OAUTH_BASE"),
            (&wechat_endpoints.api_base, "WECHAT_API_BASE"),
            (&alipay_gateway, "ALIPAY_GATEWAY"),
        ] {
            if url.scheme() != "https" && !is_loopback(url) {
                p.push(
                    env,
                    "must be https in live mode (http only for a loopback host)",
                );
            }
        }
    }
    let (wechat, alipay) = if mode == Mode::Live {
        (wechat_live(s, &mut p), alipay_live(s, &mut p))
    } else {
        (None, None)
    };

    let on_off = |value: Option<&String>, env: &str, p: &mut Problems| match given(value) {
        None | Some("off") => false,
        Some("on") => true,
        Some(_) => {
            p.push(env, "must be on or off");
            false
        }
    };
    let sandbox_wechat_certificates = on_off(
        s.sandbox_wechat_certificates.as_ref(),
        "PAYBRIDGE_SANDBOX_WECHAT_CERTIFICATES",
        &mut p,
    );
    let sandbox_alipay_certificates = on_off(
        s.sandbox_alipay_certificates.as_ref(),
        "PAYBRIDGE_SANDBOX_ALIPAY_CERTIFICATES",
        &mut p,
    );
    let verify_dir = given(s.verify_dir.as_ref()).map(PathBuf::from);
    if let Some(dir) = &verify_dir
        && !dir.is_dir()
    {
        p.push("PAYBRIDGE_VERIFY_DIR", "is not a readable directory");
    }
    if !p.is_empty() {
        return Err(p);
    }
    Ok(Config {
        mode,
        listen,
        admin_listen,
        public_url,
        data_dir,
        database_url: Secret::new(database_url),
        dist_dir: PathBuf::from(s.dist_dir.trim()),
        verify_dir,
        trusted_proxies,
        frame_ancestors,
        secret_key,
        log_format,
        merchant_name,
        branding,
        logo_file,
        max_amount,
        redirect_origins,
        jobs,
        shopper_rate_limit,
        sandbox_time_scale,
        sandbox_wechat_certificates,
        sandbox_alipay_certificates,
        wechat,
        alipay,
        wechat_endpoints,
        alipay_gateway,
        limits,
        retention,
        webhook_allowed_networks,
    })
}

/// `HH:MM`, a time of day (Beijing time), or nothing.
fn reconcile_at(raw: Option<&String>, p: &mut Problems) -> Option<time::Time> {
    let raw = given(raw)?;
    let parsed = raw.split_once(':').and_then(|(h, m)| {
        let two_digits = |t: &str| t.len() == 2 && t.bytes().all(|b| b.is_ascii_digit());
        if !two_digits(h) || !two_digits(m) {
            return None;
        }
        time::Time::from_hms(h.parse().ok()?, m.parse().ok()?, 0).ok()
    });
    if parsed.is_none() {
        p.push(
            "PAYBRIDGE_RECONCILE_AT",
            format!(
                "{raw:?} is not a time of day HH:MM (00:00 to 23:59, Beijing time), e.g. 10:30"
            ),
        );
    }
    parsed
}

/// A comma-separated list of addresses or CIDRs.
fn networks(raw: Option<&String>, env: &str, p: &mut Problems) -> Vec<IpNet> {
    list(raw)
        .filter_map(|item| {
            let parsed = item
                .parse::<IpNet>()
                .or_else(|_| item.parse::<IpAddr>().map(IpNet::from));
            if parsed.is_err() {
                p.push(env, format!("{item:?} is not an IP address or CIDR"));
            }
            parsed.ok()
        })
        .collect()
}

fn list(raw: Option<&String>) -> impl Iterator<Item = &str> {
    raw.map(String::as_str)
        .unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
}

/// Whether `url`'s host is this machine (`localhost` or a loopback address).
#[must_use]
pub fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(Host::Ipv4(ip)) => ip.is_loopback(),
        Some(Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

fn public_url(raw: &str, mode: Mode, p: &mut Problems) -> Option<Url> {
    let Ok(url) = Url::parse(raw) else {
        p.push(
            "PAYBRIDGE_PUBLIC_URL",
            format!("{raw:?} is not an absolute URL"),
        );
        return None;
    };
    let ok_scheme = url.scheme() == "https"
        || (url.scheme() == "http" && (mode == Mode::Sandbox || is_loopback(&url)));
    if !ok_scheme {
        p.push(
            "PAYBRIDGE_PUBLIC_URL",
            "must be https in live mode (http only for a loopback host)",
        );
        return None;
    }
    if url.query().is_some() || url.fragment().is_some() || url.cannot_be_a_base() {
        p.push(
            "PAYBRIDGE_PUBLIC_URL",
            "must be a plain base URL without query or fragment",
        );
        return None;
    }
    Some(url)
}

fn origin(item: &str, env: &str, p: &mut Problems) -> Option<String> {
    match Url::parse(item) {
        Ok(u)
            if matches!(u.scheme(), "https" | "http")
                && u.host().is_some()
                && u.path() == "/"
                && u.query().is_none() =>
        {
            Some(u.origin().ascii_serialization())
        }
        _ => {
            p.push(
                env,
                format!("{item:?} is not an origin like https://shop.example.com"),
            );
            None
        }
    }
}

fn base_url(raw: Option<&String>, default: &str, env: &str, p: &mut Problems) -> Url {
    let text = given(raw).unwrap_or(default);
    match Url::parse(text) {
        Ok(u) if matches!(u.scheme(), "https" | "http") => u,
        _ => {
            p.push(env, format!("{text:?} is not an http(s) URL"));
            #[allow(clippy::expect_used)]
            Url::parse(default).expect("built-in default URLs parse")
        }
    }
}

fn required<'a>(v: Option<&'a String>, env: &str, what: &str, p: &mut Problems) -> Option<&'a str> {
    let got = given(v);
    if got.is_none() {
        p.push(env, format!("required in live mode: {what}"));
    }
    got
}

fn readable_file(v: Option<&String>, env: &str, what: &str, p: &mut Problems) -> Option<PathBuf> {
    let path = Path::new(required(v, env, what, p)?);
    if !path.is_file() {
        p.push(env, format!("{} is not a readable file", path.display()));
        return None;
    }
    Some(path.to_path_buf())
}

fn wechat_live(s: &Settings, p: &mut Problems) -> Option<WechatConfig> {
    let mchid = required(
        s.wechat_mchid.as_ref(),
        "WECHAT_MCHID",
        "the WeChat Pay merchant id",
        p,
    );
    if let Some(m) = mchid
        && !m.bytes().all(|b| b.is_ascii_digit())
    {
        p.push("WECHAT_MCHID", "must be digits");
    }
    let appid = required(
        s.wechat_appid.as_ref(),
        "WECHAT_APPID",
        "the official-account appid",
        p,
    );
    check_appid(appid, "WECHAT_APPID", p);
    let app_secret = required(
        s.wechat_app_secret.as_ref(),
        "WECHAT_APP_SECRET",
        "the official-account app secret",
        p,
    );
    let serial = required(
        s.wechat_mch_serial_no.as_ref(),
        "WECHAT_MCH_SERIAL_NO",
        "the merchant certificate serial",
        p,
    );
    if let Some(sn) = serial
        && !sn.bytes().all(|b| b.is_ascii_hexdigit())
    {
        p.push("WECHAT_MCH_SERIAL_NO", "must be hexadecimal");
    }
    let key_path = readable_file(
        s.wechat_mch_private_key_path.as_ref(),
        "WECHAT_MCH_PRIVATE_KEY_PATH",
        "the merchant private key PEM",
        p,
    );
    let apiv3 = required(
        s.wechat_apiv3_key.as_ref(),
        "WECHAT_APIV3_KEY",
        "the 32-character APIv3 key",
        p,
    );
    if let Some(k) = apiv3
        && k.len() != 32
    {
        p.push(
            "WECHAT_APIV3_KEY",
            format!("must be exactly 32 characters (got {})", k.len()),
        );
    }
    let pay_public_key = match (
        given(s.wechat_pay_public_key_id.as_ref()),
        given(s.wechat_pay_public_key_path.as_ref()),
    ) {
        (None, None) => None,
        (Some(id), Some(_)) => {
            if !id.starts_with("PUB_KEY_ID_") {
                p.push("WECHAT_PAY_PUBLIC_KEY_ID", "must start with PUB_KEY_ID_");
            }
            readable_file(
                s.wechat_pay_public_key_path.as_ref(),
                "WECHAT_PAY_PUBLIC_KEY_PATH",
                "",
                p,
            )
            .map(|path| PayPublicKey {
                id: id.to_owned(),
                path,
            })
        }
        (None, Some(_)) => {
            p.push(
                "WECHAT_PAY_PUBLIC_KEY_ID",
                "required with WECHAT_PAY_PUBLIC_KEY_PATH",
            );
            None
        }
        (Some(_), None) => {
            p.push(
                "WECHAT_PAY_PUBLIC_KEY_PATH",
                "required with WECHAT_PAY_PUBLIC_KEY_ID",
            );
            None
        }
    };
    let miniprogram = match (
        given(s.wechat_miniprogram_appid.as_ref()),
        given(s.wechat_miniprogram_secret.as_ref()),
    ) {
        (None, None) => None,
        (Some(appid), Some(secret)) => {
            check_appid(Some(appid), "WECHAT_MINIPROGRAM_APPID", p);
            Some(MiniProgramConfig {
                appid: appid.to_owned(),
                secret: Secret::new(secret.to_owned()),
            })
        }
        (Some(_), None) => {
            p.push(
                "WECHAT_MINIPROGRAM_SECRET",
                "required with WECHAT_MINIPROGRAM_APPID",
            );
            None
        }
        (None, Some(_)) => {
            p.push(
                "WECHAT_MINIPROGRAM_APPID",
                "required with WECHAT_MINIPROGRAM_SECRET",
            );
            None
        }
    };
    let mut platform_cert_paths = Vec::new();
    for (i, item) in list(s.wechat_platform_cert_paths.as_ref()).enumerate() {
        let path = PathBuf::from(item);
        if std::fs::File::open(&path).is_ok() {
            platform_cert_paths.push(path);
        } else {
            p.push(
                "WECHAT_PLATFORM_CERT_PATHS",
                format!("item {} is not a readable file", i + 1),
            );
        }
    }
    let download_certificates = match given(s.wechat_platform_cert_download.as_ref()) {
        None => pay_public_key.is_none(),
        Some("on") => true,
        Some("off") => false,
        Some(_) => {
            p.push("WECHAT_PLATFORM_CERT_DOWNLOAD", "must be on or off");
            false
        }
    };
    if pay_public_key.is_none() && platform_cert_paths.is_empty() && !download_certificates {
        p.push(
            "WECHAT_PLATFORM_CERT_DOWNLOAD",
            "is off with no WeChat Pay public key and no certificate files: nothing could verify WeChat's answers",
        );
    }
    Some(WechatConfig {
        mchid: mchid?.to_owned(),
        appid: appid?.to_owned(),
        app_secret: Secret::new(app_secret?.to_owned()),
        miniprogram,
        mch_serial_no: serial?.to_owned(),
        mch_private_key_path: key_path?,
        apiv3_key: Secret::new(apiv3?.to_owned()),
        pay_public_key,
        platform_cert_paths,
        download_certificates,
    })
}

fn check_appid(appid: Option<&str>, env: &str, p: &mut Problems) {
    if let Some(a) = appid
        && !(a.len() == 18 && a.starts_with("wx") && a.bytes().all(|b| b.is_ascii_alphanumeric()))
    {
        p.push(
            env,
            format!("{a:?} is not an appid like wx0123456789abcdef"),
        );
    }
}

/// Logo files paybridge serves, by extension.
const LOGO_TYPES: [(&str, &str); 5] = [
    ("png", "image/png"),
    ("jpg", "image/jpeg"),
    ("jpeg", "image/jpeg"),
    ("webp", "image/webp"),
    ("svg", "image/svg+xml"),
];
const LOGO_MAX_BYTES: usize = 256 * 1024;

/// `PAYBRIDGE_BRAND_*`: the server's brand, with the logo read now when it is a file.
fn brand(s: &Settings, p: &mut Problems) -> (crate::domain::branding::Branding, Option<LogoFile>) {
    use crate::domain::branding::{Branding, RawBranding, parse};
    let logo = given(s.brand_logo.as_ref());
    let mut logo_file = None;
    let mut logo_url = None;
    match logo {
        Some(url) if url.starts_with("https://") => logo_url = Some(url),
        Some(path) => match read_logo(Path::new(path)) {
            Ok(file) => logo_file = Some(file),
            Err(problem) => p.push("PAYBRIDGE_BRAND_LOGO", problem),
        },
        None => {}
    }
    let raw = RawBranding {
        display_name: None,
        logo_url,
        accent_color: given(s.brand_color.as_ref()),
        support_phone: given(s.brand_support_phone.as_ref()),
        support_url: given(s.brand_support_url.as_ref()),
    };
    let branding = match parse("brand", &raw) {
        Ok(b) => b,
        Err(e) => {
            let env = match e.param.as_str() {
                "brand[accent_color]" => "PAYBRIDGE_BRAND_COLOR",
                "brand[support_phone]" => "PAYBRIDGE_BRAND_SUPPORT_PHONE",
                "brand[support_url]" => "PAYBRIDGE_BRAND_SUPPORT_URL",
                _ => "PAYBRIDGE_BRAND_LOGO",
            };
            p.push(env, e.message);
            Branding::default()
        }
    };
    // The served file's path is not an https URL; it is set after the check.
    let branding = Branding {
        logo_url: logo_file
            .as_ref()
            .map(|_| super::LOGO_PATH.to_owned())
            .or(branding.logo_url),
        ..branding
    };
    (branding, logo_file)
}

fn read_logo(path: &Path) -> Result<LogoFile, String> {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .unwrap_or_default();
    let media_type = LOGO_TYPES
        .iter()
        .find(|(e, _)| *e == ext)
        .map(|(_, t)| *t)
        .ok_or_else(|| {
            format!(
                "{} is not a .png, .jpg, .webp or .svg file (or an https URL)",
                path.display()
            )
        })?;
    let bytes = std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    if bytes.is_empty() || bytes.len() > LOGO_MAX_BYTES {
        return Err(format!("{} must be 1 byte to 256 KiB", path.display()));
    }
    Ok(LogoFile {
        bytes: bytes.into(),
        media_type,
    })
}

fn alipay_live(s: &Settings, p: &mut Problems) -> Option<AlipayConfig> {
    let any = [
        &s.alipay_app_id,
        &s.alipay_private_key_path,
        &s.alipay_public_key_path,
        &s.alipay_app_cert_path,
        &s.alipay_cert_path,
        &s.alipay_root_cert_path,
        &s.alipay_seller_id,
    ]
    .iter()
    .any(|v| given(v.as_ref()).is_some());
    if !any {
        return None;
    }
    let app_id = required(
        s.alipay_app_id.as_ref(),
        "ALIPAY_APP_ID",
        "the Alipay application id",
        p,
    );
    let private_key_path = readable_file(
        s.alipay_private_key_path.as_ref(),
        "ALIPAY_PRIVATE_KEY_PATH",
        "the application private key PEM",
        p,
    );
    let verification = alipay_verification(s, p);
    let seller_id = given(s.alipay_seller_id.as_ref()).map(str::to_owned);
    if let Some(id) = &seller_id
        && !(id.len() == 16 && id.starts_with("2088") && id.bytes().all(|b| b.is_ascii_digit()))
    {
        p.push("ALIPAY_SELLER_ID", "must be 16 digits starting with 2088");
    }
    Some(AlipayConfig {
        app_id: app_id?.to_owned(),
        private_key_path: private_key_path?,
        verification: verification?,
        seller_id,
    })
}

/// Public-key mode (`ALIPAY_PUBLIC_KEY_PATH`) or certificate mode (the three certificate
/// files), never both: an Alipay app is in one mode.
fn alipay_verification(s: &Settings, p: &mut Problems) -> Option<AlipayVerification> {
    let certs = [
        (
            &s.alipay_app_cert_path,
            "ALIPAY_APP_CERT_PATH",
            "the app public key certificate (appCertPublicKey_….crt)",
        ),
        (
            &s.alipay_cert_path,
            "ALIPAY_CERT_PATH",
            "Alipay's public key certificate (alipayCertPublicKey_RSA2.crt)",
        ),
        (
            &s.alipay_root_cert_path,
            "ALIPAY_ROOT_CERT_PATH",
            "Alipay's root certificate (alipayRootCert.crt)",
        ),
    ];
    let cert_mode = certs.iter().any(|(v, _, _)| given(v.as_ref()).is_some());
    if !cert_mode {
        return readable_file(
            s.alipay_public_key_path.as_ref(),
            "ALIPAY_PUBLIC_KEY_PATH",
            "the Alipay public key PEM (or, in certificate mode, ALIPAY_APP_CERT_PATH, ALIPAY_CERT_PATH and ALIPAY_ROOT_CERT_PATH)",
            p,
        )
        .map(AlipayVerification::PublicKey);
    }
    if given(s.alipay_public_key_path.as_ref()).is_some() {
        p.push(
            "ALIPAY_PUBLIC_KEY_PATH",
            "an Alipay app is in public-key mode or certificate mode, not both: give ALIPAY_PUBLIC_KEY_PATH or the three certificate paths",
        );
    }
    let [app_cert, alipay_cert, root_cert] =
        certs.map(|(v, env, what)| readable_file(v.as_ref(), env, what, p));
    Some(AlipayVerification::Certificates {
        app_cert: app_cert?,
        alipay_cert: alipay_cert?,
        root_cert: root_cert?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(s: &Settings) -> Vec<String> {
        match validate(s) {
            Ok(_) => vec![],
            Err(p) => p.names().map(str::to_owned).collect(),
        }
    }

    fn sandbox() -> Settings {
        Settings {
            mode: "sandbox".into(),
            listen: "127.0.0.1:0".into(),
            data_dir: "./data".into(),
            dist_dir: "dist".into(),
            log_format: "auto".into(),
            merchant_name: "shop".into(),
            max_amount: "100000000".into(),
            job_poll_ms: "1000".into(),
            shopper_rate_limit: "20".into(),
            job_lease_seconds: "60".into(),
            webhook_backoff_scale: "1".into(),
            ..Settings::default()
        }
    }

    #[test]
    fn the_reconcile_time_is_hh_mm_or_refused_by_name() {
        let at = |v: &str| Settings {
            reconcile_at: Some(v.into()),
            ..sandbox()
        };
        let cfg = validate(&at("10:30")).unwrap();
        assert_eq!(cfg.jobs.reconcile_at, Some(time::macros::time!(10:30)));
        assert_eq!(validate(&sandbox()).unwrap().jobs.reconcile_at, None);
        for bad in ["24:00", "9:30", "10:60", "10.30", "noon", "10:30:00"] {
            assert_eq!(names(&at(bad)), ["PAYBRIDGE_RECONCILE_AT"], "{bad}");
        }
    }

    #[test]
    fn sandbox_needs_no_credentials() {
        let cfg = validate(&sandbox());
        assert!(cfg.is_ok(), "{cfg:?}");
    }

    #[test]
    fn live_mode_names_every_missing_value_at_once() {
        let s = Settings {
            mode: "live".into(),
            ..sandbox()
        };
        let got = names(&s);
        for want in [
            "PAYBRIDGE_PUBLIC_URL",
            "PAYBRIDGE_SECRET_KEY",
            "WECHAT_MCHID",
            "WECHAT_APPID",
            "WECHAT_APP_SECRET",
            "WECHAT_MCH_SERIAL_NO",
            "WECHAT_MCH_PRIVATE_KEY_PATH",
            "WECHAT_APIV3_KEY",
        ] {
            assert!(got.iter().any(|g| g == want), "{want} missing from {got:?}");
        }
    }

    #[test]
    fn live_mode_refuses_plain_http_except_on_loopback() {
        let base = Settings {
            mode: "live".into(),
            ..sandbox()
        };
        let remote = Settings {
            public_url: Some("http://pay.example.com".into()),
            ..base.clone()
        };
        assert!(names(&remote).contains(&"PAYBRIDGE_PUBLIC_URL".to_owned()));
        let local = Settings {
            public_url: Some("http://127.0.0.1:9000".into()),
            ..base
        };
        assert!(!names(&local).contains(&"PAYBRIDGE_PUBLIC_URL".to_owned()));
    }

    #[test]
    fn live_mode_refuses_plain_http_provider_endpoints_except_on_loopback() {
        let plain = Settings {
            mode: "live".into(),
            wechat_pay_api_base: Some("http://api.mch.example.com".into()),
            wechat_api_base: Some("http://api.example.com".into()),
            wechat_oauth_base: Some("http://localhost:9000".into()),
            alipay_gateway: Some("http://openapi.example.com/gateway.do".into()),
            ..sandbox()
        };
        let named = names(&plain);
        for env in ["WECHAT_PAY_API_BASE", "WECHAT_API_BASE", "ALIPAY_GATEWAY"] {
            assert!(named.contains(&env.to_owned()), "{env}: {named:?}");
        }
        assert!(!named.contains(&"WECHAT_OAUTH_BASE".to_owned()), "loopback");
        // The sandbox talks to itself over plain http.
        let sandbox = Settings {
            mode: "sandbox".into(),
            ..plain
        };
        assert!(
            !names(&sandbox)
                .iter()
                .any(|n| n.starts_with("WECHAT_") || n == "ALIPAY_GATEWAY")
        );
    }

    #[test]
    fn limits_are_whole_numbers_blank_meaning_the_default() {
        let config = validate(&sandbox()).unwrap();
        assert_eq!(config.limits.max_connections_per_ip, 256);
        assert_eq!(config.limits.header_read_timeout, Duration::from_secs(20));
        let bad = Settings {
            max_connections: "0".into(),
            stream_lifetime_secs: "ten".into(),
            alipay_seller_id: Some("1234".into()),
            mode: "live".into(),
            ..sandbox()
        };
        let named = names(&bad);
        for env in [
            "PAYBRIDGE_MAX_CONNECTIONS",
            "PAYBRIDGE_STREAM_LIFETIME_SECS",
            "ALIPAY_SELLER_ID",
        ] {
            assert!(named.contains(&env.to_owned()), "{env}: {named:?}");
        }
    }

    #[test]
    fn an_alipay_app_is_in_public_key_mode_or_certificate_mode_never_both() {
        let live = |f: fn(&mut Settings)| {
            let mut s = Settings {
                mode: "live".into(),
                alipay_app_id: Some("2021000000000001".into()),
                ..sandbox()
            };
            f(&mut s);
            names(&s)
        };
        // Neither: the public key is asked for.
        assert!(live(|_| {}).contains(&"ALIPAY_PUBLIC_KEY_PATH".to_owned()));
        // Certificate mode started: the missing certificate files are named, not the key.
        let partial = live(|s| s.alipay_app_cert_path = Some("/nonexistent/app.crt".into()));
        for env in [
            "ALIPAY_APP_CERT_PATH",
            "ALIPAY_CERT_PATH",
            "ALIPAY_ROOT_CERT_PATH",
        ] {
            assert!(partial.contains(&env.to_owned()), "{env}: {partial:?}");
        }
        assert!(
            !partial.contains(&"ALIPAY_PUBLIC_KEY_PATH".to_owned()),
            "{partial:?}"
        );
        // Both modes at once.
        let both = live(|s| {
            s.alipay_public_key_path = Some("/nonexistent/alipay.pem".into());
            s.alipay_cert_path = Some("/nonexistent/alipay.crt".into());
        });
        assert!(
            both.contains(&"ALIPAY_PUBLIC_KEY_PATH".to_owned()),
            "{both:?}"
        );
        let err = validate(&Settings {
            mode: "live".into(),
            alipay_public_key_path: Some("/nonexistent/alipay.pem".into()),
            alipay_cert_path: Some("/nonexistent/alipay.crt".into()),
            ..sandbox()
        })
        .err()
        .map(|p| p.to_string())
        .unwrap_or_default();
        assert!(err.contains("not both"), "{err}");
    }

    #[test]
    fn malformed_values_are_named_without_echoing_secrets() {
        let s = Settings {
            listen: "nowhere".into(),
            trusted_proxies: Some("10.0.0.0/8, not-an-ip".into()),
            frame_ancestors: Some("https://shop.example.com, javascript:alert(1)".into()),
            secret_key: Some("short-secret-value".into()),
            ..sandbox()
        };
        let err = validate(&s)
            .err()
            .map(|p| p.to_string())
            .unwrap_or_default();
        for want in [
            "PAYBRIDGE_LISTEN",
            "PAYBRIDGE_TRUSTED_PROXIES",
            "PAYBRIDGE_FRAME_ANCESTORS",
            "PAYBRIDGE_SECRET_KEY",
            "--listen",
        ] {
            assert!(err.contains(want), "{want} not in {err}");
        }
        assert!(!err.contains("short-secret-value"), "secret echoed: {err}");
    }

    #[test]
    fn in_memory_sqlite_is_refused() {
        for url in ["sqlite::memory:", "sqlite://file.db?mode=memory"] {
            let s = Settings {
                database_url: Some(url.into()),
                ..sandbox()
            };
            let err = validate(&s)
                .err()
                .map(|p| p.to_string())
                .unwrap_or_default();
            assert!(err.contains("PAYBRIDGE_DATABASE_URL"), "{url}: {err}");
        }
        let file = Settings {
            database_url: Some("sqlite://data/paybridge.db".into()),
            ..sandbox()
        };
        assert!(validate(&file).is_ok());
    }

    #[test]
    fn frame_ancestors_are_normalised_to_origins() {
        let s = Settings {
            frame_ancestors: Some("https://Shop.Example.com/, http://localhost:3000".into()),
            ..sandbox()
        };
        let cfg = validate(&s)
            .ok()
            .map(|c| c.frame_ancestors)
            .unwrap_or_default();
        assert_eq!(
            cfg,
            vec![
                "https://shop.example.com".to_owned(),
                "http://localhost:3000".to_owned()
            ]
        );
    }
}
