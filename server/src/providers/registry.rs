//! The configured providers, built once at start from configuration — live credentials, or the
//! sandbox's, which take exactly the same way — and looked up by payment method.

use url::Url;

use super::PaymentProvider;
use super::alipay::AlipayProvider;
use super::alipay::provider::AlipaySetupError;
use super::wechat::WechatClients;
use super::wechat::clients::ClientsError;
use crate::config::{AlipayConfig, WechatConfig, WechatEndpoints};
use crate::domain::PaymentMethod;

/// Why the providers could not be built.
#[derive(Debug, thiserror::Error)]
pub enum ProvidersError {
    #[error("WeChat Pay: {0}")]
    Wechat(#[from] ClientsError),
    #[error("Alipay: {0}")]
    Alipay(#[from] AlipaySetupError),
}

/// The payment providers this server can use.
#[derive(Debug, Default)]
pub struct Providers {
    wechat: Option<WechatClients>,
    alipay: Option<AlipayProvider>,
    miniprogram_appid: Option<String>,
}

impl Providers {
    /// Builds the clients of each configured provider.
    ///
    /// # Errors
    /// [`ProvidersError`] naming the provider and the file or value that failed.
    pub fn build(
        wechat: Option<(&WechatConfig, &WechatEndpoints)>,
        alipay: Option<(&AlipayConfig, &Url)>,
    ) -> Result<Self, ProvidersError> {
        Ok(Self {
            miniprogram_appid: wechat
                .and_then(|(c, _)| c.miniprogram.as_ref())
                .map(|m| m.appid.clone()),
            wechat: wechat
                .map(|(config, endpoints)| WechatClients::from_config(config, endpoints))
                .transpose()?,
            alipay: alipay
                .map(|(config, gateway)| AlipayProvider::from_config(config, gateway))
                .transpose()?,
        })
    }

    /// The provider that pays with `method`, when it is configured.
    #[must_use]
    pub fn get(&self, method: PaymentMethod) -> Option<&dyn PaymentProvider> {
        match method {
            PaymentMethod::WechatPay => self.wechat.as_ref().map(|p| p as &dyn PaymentProvider),
            PaymentMethod::Alipay => self.alipay.as_ref().map(|p| p as &dyn PaymentProvider),
        }
    }

    /// The WeChat clients (OAuth, the mini program's login, JSAPI signing), when configured.
    #[must_use]
    pub const fn wechat(&self) -> Option<&WechatClients> {
        self.wechat.as_ref()
    }

    /// The Alipay provider (its key health), when configured.
    #[must_use]
    pub const fn alipay(&self) -> Option<&AlipayProvider> {
        self.alipay.as_ref()
    }

    /// The mini program appid orders are made with, when one is configured.
    #[must_use]
    pub fn miniprogram_appid(&self) -> Option<&str> {
        self.miniprogram_appid.as_deref()
    }
}
