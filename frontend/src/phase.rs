//! The checkout's states: where it is (`Phase`), why paying failed (`Reason`), and the
//! copyable handles the controller (`checkout`) and the screens (`screens`) share (`Ctx`).

use leptos::prelude::*;
use paybridge_shared::{CheckoutView, Environment};

use crate::api::ApiError;
use crate::i18n::Lang;

/// Why paying did not work, as the failed screen explains it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Reason {
    Api(ApiError),
    /// WeChat reported `fail`, with its description when it gave one.
    Declined(Option<String>),
    /// The attempt failed at WeChat (e.g. the bank refused) as the status API reports it.
    PaymentFailed,
    OauthDenied,
    /// WeChat sign-in did not complete (its link was used or expired, or WeChat did not
    /// confirm it); trying again starts a fresh one.
    OauthIncomplete,
    NoBridge,
    NoMiniProgram,
}

/// Where the checkout is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Phase {
    Loading,
    NotFound,
    LoadFailed(ApiError),
    Summary,
    Starting,
    Redirecting,
    Qr {
        code_url: String,
        expires_at: i64,
    },
    Sheet,
    MiniProgram,
    /// Alipay inside WeChat: open `url` in the phone's browser.
    OpenInBrowser {
        url: String,
    },
    Confirming,
    Succeeded {
        url: String,
    },
    Failed(Reason),
    Cancelled,
    Expired,
}

/// The checkout's shared state: copyable handles the screens use.
#[derive(Clone, Copy)]
pub struct Ctx {
    pub id: StoredValue<String>,
    pub view: RwSignal<Option<CheckoutView>>,
    pub phase: RwSignal<Phase>,
    pub lang: RwSignal<Lang>,
    pub env: StoredValue<Environment>,
    /// Paying with Alipay rather than WeChat Pay.
    pub alipay: RwSignal<bool>,
    /// Confirming for long enough to offer "I have paid" / "pay again".
    pub slow: RwSignal<bool>,
    /// Seconds until the success redirect.
    pub countdown: RwSignal<i64>,
    /// Unix seconds, ticking while a QR code is shown.
    pub now: RwSignal<i64>,
    /// Once expired, where a new session with the same contents opens (when the merchant
    /// enabled recovery): from the view or from a status answer.
    pub recovery: RwSignal<Option<String>>,
    /// Bumped when a status watch (or countdown) starts, which ends the previous one.
    pub(crate) generation: StoredValue<u32>,
    /// Phase changes whose screen has not been drawn yet: its heading, if it has one, should
    /// take the focus once shown.
    pub(crate) unfocused: StoredValue<u32>,
}
