//! Building the WeChat provider clients from configuration. Mode-independent on purpose: live
//! mode passes its validated [`WechatConfig`]; sandbox mode passes [`super::Sandbox::wechat_config`]
//! and the `/sandbox/wechat` endpoints, so both run exactly the same client code.

use std::sync::Arc;
use std::time::Duration;

use crate::config::{WechatConfig, WechatEndpoints};
use crate::providers::wechat::{
    ApiV3Key, OAuthConfig, PlatformKeys, PrivateKey, PublicKey, RetryPolicy, RsaBackend,
    SigningIdentity, SystemClock, WechatOAuthClient, WechatPayClient, WechatPayConfig,
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
        let platform_keys = match &config.pay_public_key {
            Some(public) => {
                let pem =
                    std::fs::read_to_string(&public.path).map_err(|source| ClientsError::Read {
                        what: "the WeChat Pay public key",
                        source,
                    })?;
                PlatformKeys::new().with_public_key(&public.id, PublicKey::from_pem(backend, &pem)?)
            }
            None => PlatformKeys::new().with_certificate_download(CERTIFICATE_REFRESH_MIN_INTERVAL),
        };
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
