//! Every URL paybridge hands out about itself, from its public base URL: the checkout page, the
//! provider notification endpoints, the cashiers' way back and the OAuth return.

use url::Url;

use crate::domain::PaymentMethod;

/// URLs under the public base URL.
#[derive(Debug, Clone)]
pub struct Urls {
    public: Url,
}

impl Urls {
    /// URLs under `public` (configured, or derived from the bound address).
    #[must_use]
    pub const fn new(public: Url) -> Self {
        Self { public }
    }

    /// The public base URL.
    #[must_use]
    pub const fn public(&self) -> &Url {
        &self.public
    }

    fn join(&self, path: &str) -> String {
        self.public
            .join(path)
            .map_or_else(|_| format!("/{path}"), String::from)
    }

    /// The hosted checkout page of `session`.
    #[must_use]
    pub fn checkout_page(&self, session: &str) -> String {
        self.join(&format!("pay/{session}"))
    }

    /// Where `method`'s provider sends notifications (about payments and refunds alike).
    #[must_use]
    pub fn notify(&self, method: PaymentMethod) -> String {
        self.join(match method {
            PaymentMethod::WechatPay => "notify/wechat",
            PaymentMethod::Alipay => "notify/alipay",
        })
    }

    /// Where a provider's cashier sends the shopper back: the page confirms on `?return=…`
    /// (`h5` from WeChat's H5 cashier, `alipay` from Alipay's).
    #[must_use]
    pub fn cashier_return(&self, session: &str, method: PaymentMethod) -> String {
        let back = match method {
            PaymentMethod::WechatPay => "h5",
            PaymentMethod::Alipay => "alipay",
        };
        self.join(&format!("pay/{session}?return={back}"))
    }

    /// Where an expired session with recovery opens a new one with the same contents.
    #[must_use]
    pub fn recovery(&self, session: &str) -> String {
        self.join(&format!("pay/{session}/recover"))
    }

    /// `s`'s recovery URL: only once expired, when its merchant enabled recovery, for a session
    /// of the hosted page.
    #[must_use]
    pub fn recovery_of(&self, s: &crate::domain::CheckoutSession) -> Option<String> {
        use crate::domain::SessionStatus;
        use crate::domain::session::Flow;
        (s.status == SessionStatus::Expired && s.extras.recovery && s.flow == Flow::Hosted)
            .then(|| self.recovery(s.id.as_str()))
    }

    /// A payment link: each visit opens a new session.
    #[must_use]
    pub fn payment_link(&self, link: &str) -> String {
        self.join(&format!("l/{link}"))
    }

    /// WeChat's OAuth return.
    #[must_use]
    pub fn oauth_callback(&self) -> String {
        self.join("oauth/wechat/callback")
    }
}
