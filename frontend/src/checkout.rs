//! The checkout's state machine: load the session, pick the flow for where the page runs, drive
//! it (QR, H5 redirect, OAuth → JSAPI, mini program hand-over), then watch the status until the
//! session completes or expires. The screens for each phase are in `screens`.

use std::cell::Cell;
use std::rc::Rc;

use leptos::prelude::*;
use leptos::task::spawn_local;
use paybridge_shared::{
    CheckoutStatus, Environment, JsapiParams, NextAction, PaymentMethod, StatusView, detect,
};

use crate::api::{self, ApiError};
use crate::bridge::{self, BridgeResult};
use crate::i18n::{Lang, Text};
use crate::phase::{Ctx, Phase, Reason};

/// How often the status is polled, in watch ticks of one second.
const POLL_EVERY_TICKS: u32 = 2;
/// How long "confirming" waits before offering "I have paid" / "pay again".
const CONFIRM_PATIENCE_MS: f64 = 15_000.0;
/// How long to wait for `WeixinJSBridgeReady` when the bridge is not there.
const BRIDGE_PATIENCE_MS: i32 = 10_000;
/// Seconds shown before going to the merchant's success page.
const SUCCESS_COUNTDOWN: i64 = 3;

fn detect_here() -> Environment {
    detect(&bridge::user_agent(), &bridge::hints())
}

/// The environment a sandbox devices-page link asks the page to play (`?device=`).
fn simulated(name: &str) -> Option<Environment> {
    Some(match name {
        "wechat" => Environment::Wechat,
        "wechat_mini_program" => Environment::WechatMiniProgram,
        "wechat_desktop" => Environment::WechatDesktop,
        "wecom_mobile" => Environment::WeCom { mobile: true },
        "wecom_desktop" => Environment::WeCom { mobile: false },
        "alipay" => Environment::Alipay,
        "mobile" => Environment::Mobile,
        "desktop" => Environment::Desktop,
        _ => return None,
    })
}

fn now_secs() -> i64 {
    // Whole seconds since the epoch fit an i64 for the next 290 billion years.
    (bridge::now_ms() / 1000.0) as i64
}

impl Ctx {
    fn new(id: String) -> Self {
        Self {
            id: StoredValue::new(id),
            view: RwSignal::new(None),
            phase: RwSignal::new(Phase::Loading),
            lang: RwSignal::new(Lang::choose(None, &bridge::browser_language())),
            env: StoredValue::new(detect_here()),
            alipay: RwSignal::new(false),
            slow: RwSignal::new(false),
            countdown: RwSignal::new(SUCCESS_COUNTDOWN),
            now: RwSignal::new(now_secs()),
            recovery: RwSignal::new(None),
            generation: StoredValue::new(0),
            unfocused: StoredValue::new(0),
        }
    }

    /// The texts in the current language (reactive).
    #[must_use]
    pub fn t(self) -> &'static Text {
        self.lang.get().text()
    }

    /// Whether the server runs in sandbox mode.
    #[must_use]
    pub fn sandbox(self) -> bool {
        self.view
            .with_untracked(|v| v.as_ref().is_some_and(|v| v.sandbox))
    }

    /// Whether the session offers both methods (so the shopper may switch). Not in a mini
    /// program's web-view, where Alipay cannot be reached at all (DESIGN §2).
    #[must_use]
    pub fn both_methods(self) -> bool {
        if self.env.get_value() == Environment::WechatMiniProgram {
            return false;
        }
        self.view.with(|v| {
            v.as_ref().is_some_and(|v| {
                PaymentMethod::ALL
                    .iter()
                    .all(|m| v.payment_methods.iter().any(|o| o == m.as_str()))
            })
        })
    }

    /// Pays with the other method from now on.
    pub fn switch_method(self) {
        self.alipay.update(|a| *a = !*a);
        self.start(false);
    }

    /// Where the page runs: detected, or in sandbox mode the device the sandbox's devices page
    /// asked this tab to play.
    fn environment(self) -> Environment {
        let device = if self.sandbox() {
            bridge::simulated_device()
        } else {
            None
        };
        device
            .as_deref()
            .and_then(simulated)
            .unwrap_or_else(detect_here)
    }

    /// Switches the page's language, and `<html lang>` with it.
    pub fn set_lang(self, lang: Lang) {
        self.lang.set(lang);
        bridge::set_document_language(lang.tag());
    }

    fn set(self, phase: Phase) {
        self.unfocused.set_value(1);
        self.phase.set(phase);
    }

    /// Whether the phase changed since the last call: the screen being drawn is a new state
    /// (not the same one in the other language) whose heading should take the focus.
    #[must_use]
    pub fn take_focus(self) -> bool {
        let pending = self.unfocused.get_value() > 0;
        self.unfocused.set_value(0);
        pending
    }

    /// Ends any status watch or countdown and returns the new generation.
    fn next_generation(self) -> u32 {
        let next = self.generation.get_value().wrapping_add(1);
        self.generation.set_value(next);
        next
    }

    fn current(self, generation: u32) -> bool {
        self.generation.get_value() == generation
    }

    async fn load(self) {
        let id = self.id.get_value();
        // A sandbox devices-page link's device counts as where the page runs, as it pays there.
        let here = bridge::simulated_device()
            .as_deref()
            .and_then(simulated)
            .unwrap_or_else(|| self.env.get_value());
        let v = match api::checkout_view(&id, here).await {
            Ok(v) => v,
            Err(ApiError::NotFound) => return self.set(Phase::NotFound),
            Err(e) => return self.set(Phase::LoadFailed(e)),
        };
        if let Some(locale) = v.locale.as_deref() {
            self.set_lang(Lang::choose(Some(locale), &bridge::browser_language()));
        }
        let status = v.status;
        self.recovery.set(v.recovery_url.clone());
        if let Some(color) = v.branding.accent_color.as_deref() {
            bridge::set_accent(color);
        }
        let offers = |m: PaymentMethod| v.payment_methods.iter().any(|o| o == m.as_str());
        let (alipay, wechat_pay) = (
            offers(PaymentMethod::Alipay),
            offers(PaymentMethod::WechatPay),
        );
        self.view.set(Some(v));
        self.env.set_value(self.environment());
        // Alipay first where it is the only method or the page runs in the Alipay app.
        self.alipay
            .set(alipay && (!wechat_pay || self.env.get_value() == Environment::Alipay));
        match status {
            // The status API tells where to go next.
            CheckoutStatus::Complete => self.confirm(),
            CheckoutStatus::Expired => self.finish_expired(),
            CheckoutStatus::Open => self.resume(&id),
        }
    }

    /// What an open session shows first: the return from a cashier confirms, a shopper who
    /// already chose to pay (before OAuth or a frame break-out) continues, a desktop shows its
    /// QR code at once; phones wait for a tap (the flows leave the page).
    fn resume(self, id: &str) {
        // Back from a cashier (WeChat H5 or Alipay): maybe paid.
        if bridge::query_param("return").is_some() {
            return self.confirm();
        }
        match bridge::query_param("oauth").as_deref() {
            Some("denied") => return self.set(Phase::Failed(Reason::OauthDenied)),
            Some("used" | "expired" | "failed") => {
                return self.set(Phase::Failed(Reason::OauthIncomplete));
            }
            _ => {}
        }
        let chose = bridge::take_intent(id) || bridge::query_param("go").as_deref() == Some("1");
        // A desktop shows WeChat Pay's QR code at once; Alipay lets the shopper choose between
        // its website and a QR code.
        let desktop_qr = !self.env.get_value().is_mobile_device() && !self.alipay.get_untracked();
        if chose || desktop_qr {
            self.start(false);
        } else {
            self.set(Phase::Summary);
        }
    }

    /// Asks the server for the next step and takes it.
    pub fn start(self, prefer_qr: bool) {
        spawn_local(async move { self.pay(prefer_qr).await });
    }

    async fn pay(self, prefer_qr: bool) {
        self.next_generation();
        self.set(Phase::Starting);
        let id = self.id.get_value();
        let env = self.env.get_value();
        let method = if self.alipay.get_untracked() {
            PaymentMethod::Alipay
        } else {
            PaymentMethod::WechatPay
        };
        let action = match api::pay(&id, method.as_str(), env, prefer_qr).await {
            Ok(action) => action,
            Err(ApiError::NotFound) => return self.set(Phase::NotFound),
            Err(e) => return self.set(Phase::Failed(Reason::Api(e))),
        };
        match action {
            NextAction::Oauth { url } => {
                // WeChat returns to /pay/{id} (a full load); carry on paying there.
                bridge::remember_intent(&id);
                self.set(Phase::Redirecting);
                bridge::navigate_top(&url);
            }
            NextAction::Redirect { url, .. } => {
                self.set(Phase::Redirecting);
                bridge::navigate_top(&url);
            }
            NextAction::Jsapi { params, .. } if bridge::framed() => {
                // getBrandWCPayRequest only works in the top window: reload there and continue.
                let _ = params;
                self.set(Phase::Redirecting);
                bridge::navigate_top(
                    &[
                        "/pay/",
                        &String::from(js_sys::encode_uri_component(&id)),
                        "?go=1",
                    ]
                    .concat(),
                );
            }
            NextAction::Jsapi { params, .. } => self.jsapi(&params).await,
            NextAction::Qr {
                code_url,
                expires_at,
                ..
            } => {
                self.now.set(now_secs());
                self.set(Phase::Qr {
                    code_url,
                    expires_at,
                });
                self.watch();
            }
            NextAction::MiniProgram { path } => {
                if bridge::mini_program_navigate(&path).await {
                    self.set(Phase::MiniProgram);
                    self.watch();
                } else {
                    self.set(Phase::Failed(Reason::NoMiniProgram));
                }
            }
            NextAction::OpenInBrowser { url } => self.set(Phase::OpenInBrowser { url }),
            NextAction::AlreadyPaid { success_url } => self.succeed(success_url),
            NextAction::Expired => {
                // The pay answer does not carry the recovery URL; the status does. Learnt
                // first, so the expired screen (and its focused heading) is drawn once.
                if let Ok(s) = api::status(&id).await {
                    self.learn_recovery(&s);
                }
                self.finish_expired();
            }
            // Only the direct API hands out app orders; the page never asks for one.
            NextAction::AppPay { .. } => self.set(Phase::Failed(Reason::PaymentFailed)),
        }
    }

    /// The WeChat pay sheet: wait for the bridge (the sandbox's stand-in where the real one
    /// is absent in sandbox mode), invoke it, and map its answer.
    async fn jsapi(self, params: &JsapiParams) {
        self.set(Phase::Sheet);
        if !bridge::bridge_present() {
            if self.sandbox() {
                let _ = bridge::load_script(bridge::SANDBOX_BRIDGE).await;
            }
            if !bridge::wait_for_bridge(BRIDGE_PATIENCE_MS).await {
                return self.set(Phase::Failed(Reason::NoBridge));
            }
        }
        match bridge::get_brand_wcpay_request(params).await {
            Some(BridgeResult::Ok) => self.confirm(),
            Some(BridgeResult::Cancel) => self.set(Phase::Cancelled),
            Some(BridgeResult::Fail(desc)) => self.set(Phase::Failed(Reason::Declined(desc))),
            None => self.set(Phase::Failed(Reason::NoBridge)),
        }
    }

    /// "Maybe paid": show progress while the server confirms.
    pub fn confirm(self) {
        self.set(Phase::Confirming);
        self.watch();
    }

    /// Follows the status over Server-Sent Events, falling back to polling when the stream
    /// fails, and ticks the QR countdown, until the session completes or expires or another
    /// flow starts.
    pub fn watch(self) {
        let generation = self.next_generation();
        self.slow.set(false);
        let started = bridge::now_ms();
        let streaming = Rc::new(Cell::new(true));
        let stream = {
            let failed = Rc::clone(&streaming);
            bridge::EventStream::open(
                &(api::base(&self.id.get_value()) + "/events"),
                "status",
                move |data| {
                    if let Some(s) = api::parse_status(&data)
                        && self.current(generation)
                    {
                        self.apply(&s);
                    }
                },
                move || failed.set(false),
            )
        };
        if stream.is_none() {
            streaming.set(false);
        }
        spawn_local(async move {
            let mut tick = 0_u32;
            while self.current(generation) {
                if !streaming.get() && tick.is_multiple_of(POLL_EVERY_TICKS) {
                    if let Some(stream) = &stream {
                        stream.close();
                    }
                    let status = api::status(&self.id.get_value()).await;
                    if !self.current(generation) {
                        return;
                    }
                    match status {
                        Ok(s) if self.apply(&s) => return,
                        Err(ApiError::NotFound) => return self.set(Phase::NotFound),
                        // Anything else is transient: keep asking.
                        Ok(_) | Err(_) => {}
                    }
                }
                if bridge::now_ms() - started > CONFIRM_PATIENCE_MS {
                    self.slow.set(true);
                }
                self.now.set(now_secs());
                bridge::sleep(1000).await;
                tick = tick.wrapping_add(1);
            }
            drop(stream);
        });
    }

    /// Takes a status answer; true when the checkout is over.
    fn apply(self, s: &StatusView) -> bool {
        match s.status {
            CheckoutStatus::Complete => {
                if let Some(url) = &s.success_url {
                    self.succeed(url.clone());
                }
                true
            }
            CheckoutStatus::Expired => {
                self.learn_recovery(s);
                self.finish_expired();
                true
            }
            CheckoutStatus::Open => {
                let failed = s.payment_status.as_deref() == Some("failed");
                if failed {
                    self.next_generation();
                    self.set(Phase::Failed(Reason::PaymentFailed));
                }
                failed
            }
        }
    }

    fn learn_recovery(self, s: &StatusView) {
        if s.recovery_url.is_some() {
            self.recovery.set(s.recovery_url.clone());
        }
    }

    fn finish_expired(self) {
        self.next_generation();
        self.set(Phase::Expired);
        bridge::post_to_parent(&self.id.get_value(), "expired");
    }

    /// Paid: tell an embedding page, then go to the merchant's success page after a short
    /// countdown (a framed page leaves that to its parent and offers a button).
    fn succeed(self, url: String) {
        let generation = self.next_generation();
        self.countdown.set(SUCCESS_COUNTDOWN);
        self.set(Phase::Succeeded { url: url.clone() });
        bridge::post_to_parent(&self.id.get_value(), "complete");
        if bridge::framed() {
            return;
        }
        spawn_local(async move {
            while self.current(generation) {
                if self.countdown.get_untracked() <= 0 {
                    bridge::replace_location(&url);
                    return;
                }
                bridge::sleep(1000).await;
                self.countdown.update(|n| *n -= 1);
            }
        });
    }
}

/// The checkout page for session `id`.
pub fn checkout(id: String) -> impl IntoView {
    let ctx = Ctx::new(id);
    // `__wxjs_environment` may only be set once the bridge is ready: look again then.
    bridge::on_bridge_ready(move || ctx.env.set_value(ctx.environment()));
    ctx.set_lang(ctx.lang.get_untracked());
    spawn_local(ctx.load());
    crate::screens::page(ctx)
}
