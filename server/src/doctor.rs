//! `paybridge doctor`: checks a live configuration against the real providers before the first
//! payment, and prints a checklist with the fix for each failure. Every check asks the provider
//! something harmless whose only right answer proves the setting: a signed query for an order
//! that cannot exist must answer "no such order", an OAuth exchange of a made-up code must answer
//! "invalid code" (a wrong appid or secret answers otherwise), and so on.

use std::time::Duration;

use crate::config::Config;
use crate::domain::PaymentMethod;
use crate::providers::alipay::provider::UNKNOWN_CERTIFICATE;
use crate::providers::wechat::{WechatClients, WechatError};
use crate::providers::{PaymentProvider, ProviderError, Providers};

/// How far our clock may be from WeChat's before signatures are refused.
const MAX_SKEW_SECS: i64 = 60;

/// One line of the checklist.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    pub name: &'static str,
    pub ok: bool,
    /// What was seen.
    pub detail: String,
    /// What to change, for a failure.
    pub fix: Option<String>,
}

impl Check {
    fn pass(name: &'static str, detail: impl Into<String>) -> Self {
        Self {
            name,
            ok: true,
            detail: detail.into(),
            fix: None,
        }
    }

    fn fail(name: &'static str, detail: impl Into<String>, fix: impl Into<String>) -> Self {
        Self {
            name,
            ok: false,
            detail: detail.into(),
            fix: Some(fix.into()),
        }
    }
}

/// The checklist as printed: `[ok]` or `[FAIL]`, the name, what was seen, and the fix.
#[must_use]
pub fn render(checks: &[Check]) -> String {
    let mut out = String::new();
    for c in checks {
        let mark = if c.ok { "[ok]  " } else { "[FAIL]" };
        out.push_str(&format!("{mark} {}: {}\n", c.name, c.detail));
        if let Some(fix) = &c.fix {
            out.push_str(&format!("       fix: {fix}\n"));
        }
    }
    let failed = checks.iter().filter(|c| !c.ok).count();
    if failed == 0 {
        out.push_str(&format!("all {} checks passed\n", checks.len()));
    } else {
        out.push_str(&format!("{failed} of {} checks failed\n", checks.len()));
    }
    out
}

/// Runs every check that applies to `config` with `providers` built from it.
pub async fn run(config: &Config, providers: &Providers) -> Vec<Check> {
    let mut checks = vec![Check::pass(
        "configuration",
        format!("valid for {} mode", config.mode.as_str()),
    )];
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap_or_default();
    if let Some(provider) = providers.get(PaymentMethod::WechatPay) {
        checks.push(wechat_merchant(provider).await);
    }
    if let Some(wechat) = providers.wechat() {
        checks.push(wechat_keys(wechat).await);
        checks.push(
            oauth(
                &wechat.oauth,
                "official account",
                "WECHAT_APPID",
                "WECHAT_APP_SECRET",
            )
            .await,
        );
        if let Some(mp) = &wechat.miniprogram {
            checks.push(
                oauth(
                    mp,
                    "mini program",
                    "WECHAT_MINIPROGRAM_APPID",
                    "WECHAT_MINIPROGRAM_SECRET",
                )
                .await,
            );
        }
        checks.push(clock(&http, config).await);
    }
    if let Some(provider) = providers.get(PaymentMethod::Alipay) {
        checks.push(alipay(provider).await);
    }
    checks.extend(public_url(&http, config).await);
    checks
}

fn random_trade_no() -> String {
    let mut bytes = [0_u8; 12];
    rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut bytes);
    format!("DOCTOR{}", hex::encode_upper(bytes))
}

async fn wechat_merchant(provider: &dyn PaymentProvider) -> Check {
    const NAME: &str = "WeChat Pay merchant key";
    match provider.query(&random_trade_no()).await {
        Err(ProviderError::NotFound) => Check::pass(
            NAME,
            "a signed query for an order that cannot exist was answered ORDER_NOT_EXIST: the merchant id, private key and serial work",
        ),
        Ok(_) => Check::fail(
            NAME,
            "WeChat Pay reported an order no one made",
            "check WECHAT_PAY_API_BASE: it must be WeChat Pay's API",
        ),
        Err(ProviderError::Refused { code, message }) => {
            let fix = match code.as_str() {
                "SIGN_ERROR" => {
                    "WECHAT_MCH_SERIAL_NO must be the serial of the merchant API certificate whose private key is WECHAT_MCH_PRIVATE_KEY_PATH (merchant platform → API security)"
                }
                "MCH_NOT_EXISTS" => {
                    "WECHAT_MCHID is not a WeChat Pay merchant id: copy it from the merchant platform"
                }
                "NO_AUTH" | "RULE_LIMIT" => {
                    "the merchant may not use this API yet: finish the product activation in the merchant platform"
                }
                _ => "compare the settings with the merchant platform; WeChat's message says which",
            };
            Check::fail(NAME, format!("WeChat Pay answered {code}: {message}"), fix)
        }
        Err(e) => Check::fail(
            NAME,
            format!("WeChat Pay could not be asked: {e}"),
            "check the network path to WeChat Pay (WECHAT_PAY_API_BASE) and that its answers verify with the configured keys",
        ),
    }
}

async fn wechat_keys(wechat: &WechatClients) -> Check {
    const NAME: &str = "WeChat Pay verification keys";
    let keys = wechat.pay.platform_keys();
    if keys.downloads()
        && let Err(e) = wechat.pay.refresh_certificates().await
    {
        return Check::fail(
            NAME,
            format!("platform certificates could not be downloaded: {e}"),
            "new merchants have no platform certificates: download the WeChat Pay public key and set WECHAT_PAY_PUBLIC_KEY_PATH and WECHAT_PAY_PUBLIC_KEY_ID (or check WECHAT_APIV3_KEY, which decrypts them)",
        );
    }
    let now = crate::domain::now_millis() / 1000;
    let health = keys.health();
    if health.is_empty() {
        return Check::fail(
            NAME,
            "no key can verify WeChat's answers",
            "set WECHAT_PAY_PUBLIC_KEY_PATH and WECHAT_PAY_PUBLIC_KEY_ID, or WECHAT_PLATFORM_CERT_DOWNLOAD=on",
        );
    }
    let listed: Vec<String> = health
        .iter()
        .map(|k| match k.not_after {
            Some(end) => format!(
                "{} {} ({} days left)",
                k.kind,
                k.serial,
                (end - now) / 86_400
            ),
            None => format!("{} {}", k.kind, k.serial),
        })
        .collect();
    match health.iter().find(|k| {
        k.not_after
            .is_some_and(|end| end - now <= crate::service::keys::WARN_BEFORE_SECS)
    }) {
        Some(k) => Check::fail(
            NAME,
            format!("{} ends within 30 days: {}", k.serial, listed.join(", ")),
            "move to the WeChat Pay public key, or replace the certificate file",
        ),
        None => Check::pass(NAME, listed.join(", ")),
    }
}

async fn oauth(
    client: &crate::providers::wechat::WechatOAuthClient,
    what: &'static str,
    appid_env: &str,
    secret_env: &str,
) -> Check {
    let name = if what == "mini program" {
        "mini program appid and secret"
    } else {
        "official account appid and secret"
    };
    let result = if what == "mini program" {
        client.jscode2session("paybridge-doctor").await.map(drop)
    } else {
        client.exchange_code("paybridge-doctor").await.map(drop)
    };
    match result {
        // A made-up code can only be refused as a code once the app itself is accepted.
        Err(WechatError::OAuth { errcode: 40029, .. }) => Check::pass(
            name,
            format!(
                "the {what}'s credentials were accepted (a made-up code was answered 40029 invalid code)"
            ),
        ),
        Err(WechatError::OAuth { errcode: 40013, .. }) => Check::fail(
            name,
            format!("WeChat does not know {appid_env} (40013 invalid appid)"),
            format!("copy {appid_env} from the {what}'s settings (开发 → 基本配置)"),
        ),
        Err(WechatError::OAuth {
            errcode: 40125 | 40001,
            ..
        }) => Check::fail(
            name,
            format!("WeChat refused {secret_env} (invalid appsecret)"),
            format!("reset the AppSecret in the {what}'s settings and set {secret_env}"),
        ),
        Err(e) => Check::fail(
            name,
            format!("unexpected answer: {e}"),
            format!("check {appid_env}, {secret_env} and the network path to WeChat"),
        ),
        Ok(()) => Check::fail(
            name,
            "a made-up code was accepted",
            "check WECHAT_OAUTH_BASE and WECHAT_API_BASE: they must be WeChat's",
        ),
    }
}

async fn clock(http: &reqwest::Client, config: &Config) -> Check {
    const NAME: &str = "clock";
    let url = config.wechat_endpoints.pay_api_base.clone();
    let date = match http.get(url).send().await {
        Ok(res) => res
            .headers()
            .get(reqwest::header::DATE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| {
                time::OffsetDateTime::parse(v, &time::format_description::well_known::Rfc2822).ok()
            }),
        Err(e) => {
            return Check::fail(
                NAME,
                format!("WeChat Pay could not be reached to compare clocks: {e}"),
                "check the network path to WeChat Pay",
            );
        }
    };
    let Some(theirs) = date else {
        return Check::fail(
            NAME,
            "WeChat Pay's answer had no Date header",
            "check WECHAT_PAY_API_BASE",
        );
    };
    let skew = time::OffsetDateTime::now_utc().unix_timestamp() - theirs.unix_timestamp();
    if skew.abs() < MAX_SKEW_SECS {
        Check::pass(NAME, format!("{skew:+} s from WeChat Pay's"))
    } else {
        Check::fail(
            NAME,
            format!("{skew:+} s from WeChat Pay's: signatures older than 5 minutes are refused"),
            "run NTP (systemd-timesyncd or chrony) on this host",
        )
    }
}

async fn alipay(provider: &dyn PaymentProvider) -> Check {
    const NAME: &str = "Alipay app";
    match provider.query(&random_trade_no()).await {
        Err(ProviderError::NotFound) => Check::pass(
            NAME,
            "a signed query for a trade that cannot exist was answered ACQ.TRADE_NOT_EXIST and its signature verified",
        ),
        Ok(_) => Check::fail(
            NAME,
            "Alipay reported a trade no one made",
            "check ALIPAY_GATEWAY",
        ),
        Err(ProviderError::Refused { code, message }) => {
            let fix = match code.as_str() {
                "isv.invalid-app-id" => "ALIPAY_APP_ID is not an app of this Alipay account",
                "isv.invalid-signature" => {
                    "the app public key uploaded to Alipay does not match ALIPAY_PRIVATE_KEY_PATH (key type RSA2)"
                }
                "isv.missing-app-cert-sn" | "isv.missing-alipay-root-cert-sn" => {
                    "this Alipay app is in certificate mode (公钥证书): set ALIPAY_APP_CERT_PATH, ALIPAY_CERT_PATH and ALIPAY_ROOT_CERT_PATH instead of ALIPAY_PUBLIC_KEY_PATH"
                }
                "isv.invalid-app-cert-sn" => {
                    "ALIPAY_APP_CERT_PATH is not this app's current certificate: download appCertPublicKey_<app id>.crt again from the open platform"
                }
                "isv.invalid-alipay-root-cert-sn" => {
                    "ALIPAY_ROOT_CERT_PATH is not Alipay's root certificate file: download alipayRootCert.crt again"
                }
                UNKNOWN_CERTIFICATE => {
                    "download Alipay's current public key certificate (alipayCertPublicKey_RSA2.crt) into ALIPAY_CERT_PATH; the file may hold the old and the new one while Alipay switches"
                }
                "isv.insufficient-isv-permissions" => {
                    "the app lacks the product: sign 电脑网站支付 / 手机网站支付 / 当面付 on the open platform"
                }
                _ => {
                    "compare the settings with the Alipay open platform; Alipay's message says which"
                }
            };
            Check::fail(NAME, format!("Alipay answered {code}: {message}"), fix)
        }
        Err(e) => Check::fail(
            NAME,
            format!("Alipay could not be asked: {e}"),
            "check ALIPAY_GATEWAY, and ALIPAY_PUBLIC_KEY_PATH (Alipay's own public key) or ALIPAY_CERT_PATH (Alipay's certificate), which verify its answers",
        ),
    }
}

/// The public URL: https, resolving, and `/notify/wechat` answered by paybridge through it;
/// the domain-verification files served through it.
async fn public_url(http: &reqwest::Client, config: &Config) -> Vec<Check> {
    const NAME: &str = "public URL";
    let Some(url) = &config.public_url else {
        return vec![Check::fail(
            NAME,
            "PAYBRIDGE_PUBLIC_URL is not set",
            "set PAYBRIDGE_PUBLIC_URL to the https address WeChat and shoppers reach",
        )];
    };
    let loopback = crate::config::is_loopback(url);
    if url.scheme() != "https" && !loopback {
        return vec![Check::fail(
            NAME,
            format!("{url} is not https"),
            "WeChat sends notifications only to https: put paybridge behind a TLS proxy",
        )];
    }
    let notify = match url.join("notify/wechat") {
        Ok(u) => u,
        Err(e) => return vec![Check::fail(NAME, e.to_string(), "fix PAYBRIDGE_PUBLIC_URL")],
    };
    // An unsigned notification must be refused by paybridge itself (`{"code":"FAIL"}`).
    let reached = match http
        .post(notify.clone())
        .header("content-type", "application/json")
        .body("{}")
        .send()
        .await
    {
        Ok(res) => {
            let status = res.status();
            let body = res.text().await.unwrap_or_default();
            if status.is_client_error() && body.contains("\"FAIL\"") {
                Check::pass(
                    NAME,
                    format!(
                        "{notify} is answered by paybridge{}",
                        if loopback {
                            " (a loopback address: for a test only)"
                        } else {
                            ""
                        }
                    ),
                )
            } else {
                Check::fail(
                    NAME,
                    format!(
                        "{notify} answered {status}, not paybridge's refusal of an unsigned notification"
                    ),
                    "route PAYBRIDGE_PUBLIC_URL's /notify/ to paybridge in the TLS proxy",
                )
            }
        }
        Err(e) => Check::fail(
            NAME,
            format!("{notify} could not be reached: {e}"),
            "check DNS for the host, the TLS certificate and the proxy in front of paybridge",
        ),
    };
    let mut checks = vec![reached];
    if let Some(dir) = &config.verify_dir {
        checks.push(verification_files(http, url, dir).await);
    }
    checks
}

async fn verification_files(
    http: &reqwest::Client,
    url: &url::Url,
    dir: &std::path::Path,
) -> Check {
    const NAME: &str = "domain-verification files";
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Check::fail(
            NAME,
            format!("{} cannot be read", dir.display()),
            "fix PAYBRIDGE_VERIFY_DIR",
        );
    };
    let mut served = Vec::new();
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if !name.ends_with(".txt") || name.starts_with('.') {
            continue;
        }
        // The same rule the server serves by.
        if !crate::web::verify::servable(&name) {
            return Check::fail(
                NAME,
                format!("{name} is not a name paybridge serves"),
                "name it with letters, digits, _ - and . only, ending in .txt, not starting with a dot",
            );
        }
        let Ok(want) = std::fs::read(entry.path()) else {
            continue;
        };
        let Ok(at) = url.join(&name) else { continue };
        let got = match http.get(at.clone()).send().await {
            Ok(res) if res.status().is_success() => res.bytes().await.ok(),
            _ => None,
        };
        if got.as_deref() != Some(want.as_slice()) {
            return Check::fail(
                NAME,
                format!("{at} does not serve {name} as it is"),
                "route the site root's .txt files to paybridge in the TLS proxy",
            );
        }
        served.push(name);
    }
    if served.is_empty() {
        Check::fail(
            NAME,
            format!("no .txt file in {}", dir.display()),
            "put the MP_verify_….txt WeChat gave you there",
        )
    } else {
        Check::pass(NAME, format!("served: {}", served.join(", ")))
    }
}
