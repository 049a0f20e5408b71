//! Building the WeChat provider clients from configuration. Mode-independent on purpose: live
//! mode passes its validated [`WechatConfig`]; sandbox mode passes [`super::Sandbox::wechat_config`]
//! and the `/sandbox/wechat` endpoints, so both run exactly the same client code.

use std::sync::Arc;
use std::time::Duration;

use crate::config::{WechatConfig, WechatEndpoints};
use crate::providers::wechat::{
    ApiV3Key, OAuthConfig, PlatformCertificate, PlatformKeys, PrivateKey, PublicKey, RetryPolicy,
    RsaBackend, SigningIdentity, SystemClock, WechatOAuthClient, WechatPayClient, WechatPayConfig,
};

/// How long one call to WeChat may take, connection included.
const TIMEOUT: Duration = Duration::from_secs(10);
/// How often platform certificates are re-downloaded in certificate mode.
const CERTIFICATE_REFRESH_MIN_INTERVAL: Duration = Duration::from_secs(60);

/// Why the clients could not be built.
#[derive(Debug, thiserror::Error)]
pub enum ClientsError {
    #[error("cannot read {what}: {source}")]
    Read {
        what: &'static str,
        source: std::io::Error,
    },
    #[error("{0}")]
    Wechat(#[from] crate::providers::wechat::WechatError),
    #[error("key: {0}")]
    Key(#[from] crate::providers::wechat::KeyError),
    #[error("APIv3 key: {0}")]
    ApiV3(#[from] crate::providers::wechat::aead::AeadError),
    #[error(
        "the platform certificate {serial} in {path} expired (not after {not_after}, Unix seconds)"
    )]
    Expired {
        serial: String,
        path: String,
        not_after: i64,
    },
}

/// The APIv3 client plus OAuth clients for the official account and (if configured) the mini program.
#[derive(Debug, Clone)]
pub struct WechatClients {
    pub pay: Arc<WechatPayClient>,
    /// Official-account appid (JSAPI in the WeChat browser, H5, Native).
    pub appid: String,
    pub oauth: WechatOAuthClient,
    pub miniprogram: Option<WechatOAuthClient>,
}

impl WechatClients {
    /// Reads the key files named by `config` and builds every client.
    ///
    /// # Errors
    /// [`ClientsError`] naming the file or value that failed.
    pub fn from_config(
        config: &WechatConfig,
        endpoints: &WechatEndpoints,
    ) -> Result<Self, ClientsError> {
        let backend = RsaBackend::default();
        let pem = std::fs::read_to_string(&config.mch_private_key_path).map_err(|source| {
            ClientsError::Read {
                what: "the merchant private key",
                source,
            }
        })?;
        let merchant = SigningIdentity::new(
            config.mch_serial_no.clone(),
            PrivateKey::from_pem(backend, &pem)?,
        );
        // Every configured source at once: verification picks the key its serial names.
        let mut platform_keys = PlatformKeys::new();
        if let Some(public) = &config.pay_public_key {
            let pem =
                std::fs::read_to_string(&public.path).map_err(|source| ClientsError::Read {
                    what: "the WeChat Pay public key",
                    source,
                })?;
            platform_keys =
                platform_keys.with_public_key(&public.id, PublicKey::from_pem(backend, &pem)?);
        }
        for path in &config.platform_cert_paths {
            let pem = std::fs::read(path).map_err(|source| ClientsError::Read {
                what: "a platform certificate",
                source,
            })?;
            let cert = PlatformCertificate::from_pem(backend, &pem)?;
            // An expired certificate must verify nothing: say so at start, not at the first
            // notification.
            if cert.not_after <= crate::domain::now_millis() / 1000 {
                return Err(ClientsError::Expired {
                    serial: cert.serial_no,
                    path: path.display().to_string(),
                    not_after: cert.not_after,
                });
            }
            platform_keys = platform_keys.with_certificate(cert);
        }
        if config.download_certificates {
            platform_keys =
                platform_keys.with_certificate_download(CERTIFICATE_REFRESH_MIN_INTERVAL);
        }
        let pay = WechatPayClient::new(
            WechatPayConfig {
                mchid: config.mchid.clone(),
                api_base: endpoints.pay_api_base.clone(),
                merchant,
                apiv3_key: ApiV3Key::new(config.apiv3_key.expose().as_bytes())?,
                platform_keys,
                timeout: TIMEOUT,
                retry: RetryPolicy::default(),
            },
            Arc::new(SystemClock),
        )?;
        let oauth_for = |appid: &str, secret: &crate::secret::Secret<String>| {
            WechatOAuthClient::new(OAuthConfig {
                appid: appid.to_owned(),
                secret: secret.clone(),
                oauth_base: endpoints.oauth_base.clone(),
                api_base: endpoints.api_base.clone(),
                timeout: TIMEOUT,
            })
        };
        let oauth = oauth_for(&config.appid, &config.app_secret)?;
        let miniprogram = config
            .miniprogram
            .as_ref()
            .map(|mp| oauth_for(&mp.appid, &mp.secret))
            .transpose()?;
        Ok(Self {
            pay: Arc::new(pay),
            appid: config.appid.clone(),
            oauth,
            miniprogram,
        })
    }
}
