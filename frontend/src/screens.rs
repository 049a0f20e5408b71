//! What the shopper sees in each phase of the checkout. Every screen carries `data-state` (the
//! browser tests wait on it) and lives in one `aria-live` region so status changes are announced.
//!
//! The page's shell is one static `view!`; what fills it is drawn by hand (`dom`) from effects
//! that follow the checkout's signals. Leptos compiles each `view!` shape and each reactive
//! closure into code of its own, and the screens drawn that way were a fifth of the wasm; drawn
//! by hand they cost a few bytes per element. Buttons are real `<button>`s whose clicks reach
//! one handler on the page, which acts by the button's id.

use leptos::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::Element;

use crate::api::ApiError;
use crate::dom::{add, append_markup, button, by_id, clear, prepend_markup, set, text};
use crate::format::{minutes_seconds, number};
use crate::i18n::Text;
use crate::phase::{Ctx, Phase, Reason};
use crate::summary::{self, SUMMARY_ID, SUPPORT_ID};
use crate::{bridge, qr};

/// The heading of the state shown, which takes the focus when the state changes.
const STATE_HEADING: &str = "#status h1, #status h2";

/// WeChat Pay's mark: a green disc with a tick, on a white ground so it shows on the accent
/// colour too (a simple shape of our own, not WeChat's logo). Decorative beside the name.
const WECHAT_PAY_MARK: &str = r##"<svg class="mark" viewBox="0 0 24 24" aria-hidden="true" focusable="false"><circle cx="12" cy="12" r="12" fill="#fff"/><circle cx="12" cy="12" r="10" fill="#07c160"/><path d="m7.5 12.5 3 3 6-6.5" fill="none" stroke="#fff" stroke-width="2.4" stroke-linecap="round" stroke-linejoin="round"/></svg>"##;
/// Alipay's mark: a blue rounded square with an "A" (our own shape, not Alipay's logo).
const ALIPAY_MARK: &str = r##"<svg class="mark" viewBox="0 0 24 24" aria-hidden="true" focusable="false"><rect width="24" height="24" rx="6" fill="#fff"/><rect x="2" y="2" width="20" height="20" rx="5" fill="#1677ff"/><path d="M7.5 17 12 7l4.5 10M9.3 13.5h5.4" fill="none" stroke="#fff" stroke-width="2.2" stroke-linecap="round" stroke-linejoin="round"/></svg>"##;

/// The whole page: language switch, order summary, the current phase, the other ways on, the
/// merchant's support contacts.
pub fn page(ctx: Ctx) -> impl IntoView {
    // The summary follows the session and the language.
    Effect::new(move || {
        let t = ctx.t();
        ctx.view.with(|v| {
            if let Some(v) = v {
                summary::draw(v, t);
            }
        });
    });
    // The screen follows the phase, the method, the recovery URL and the language.
    Effect::new(move || {
        let phase = ctx.phase.get();
        ctx.alipay.track();
        ctx.recovery.track();
        ctx.view.track();
        draw(ctx, &phase, ctx.t());
    });
    // The live parts of a screen: countdowns, and the choices offered once confirming is slow.
    Effect::new(move || {
        ctx.now.track();
        ctx.countdown.track();
        ctx.slow.track();
        live(ctx, ctx.t());
    });
    view! {
        <main class="card" on:click=move |e| clicked(ctx, &e)>
            <div class="bar">
                <button type="button" id="lang" class="link"></button>
            </div>
            <div id=SUMMARY_ID></div>
            <section id="status" aria-live="polite" aria-atomic="true"></section>
            <div id="more"></div>
            <p id=SUPPORT_ID class="support muted"></p>
        </main>
    }
}

/// What a click on one of the page's buttons does.
fn clicked(ctx: Ctx, e: &web_sys::MouseEvent) {
    let id = e
        .target()
        .and_then(|t| t.dyn_into::<Element>().ok())
        .and_then(|t| t.closest("button").ok().flatten())
        .map(|b| b.id())
        .unwrap_or_default();
    match id.as_str() {
        "lang" => ctx.set_lang(ctx.lang.get_untracked().other()),
        "reload" => {
            let _ = window().location().reload();
        }
        "pay" | "retry" | "pay-again" => ctx.start(false),
        "qr-instead" | "new-qr" => ctx.start(true),
        "paid" => ctx.watch(),
        "other-method" => ctx.switch_method(),
        "back-to-merchant" => go_back(ctx),
        _ => {}
    }
}

/// Draws the language switch, the screen of `phase` and the links below it.
fn draw(ctx: Ctx, phase: &Phase, t: &'static Text) {
    if let Some(lang) = by_id("lang") {
        let other = ctx.lang.get_untracked().other();
        lang.set_text_content(Some(other.text().own_name));
        set(&lang, "lang", other.tag());
        set(&lang, "aria-label", t.switch_label);
    }
    if let Some(status) = by_id("status") {
        clear(&status);
        screen(ctx, &status, phase, t);
    }
    if let Some(more) = by_id("more") {
        clear(&more);
        links(ctx, &more, phase, t);
    }
    live(ctx, t);
    // A new state's heading takes the focus so screen readers announce it and keyboard users
    // continue from there; switching language leaves the focus alone.
    if ctx.take_focus() {
        bridge::focus(STATE_HEADING);
    }
}

fn screen(ctx: Ctx, status: &Element, phase: &Phase, t: &'static Text) -> Option<()> {
    let alipay = ctx.alipay.get_untracked();
    match phase {
        Phase::Loading => set(
            &text(status, "p", "state", t.loading)?,
            "data-state",
            "loading",
        ),
        Phase::NotFound => {
            set(
                &text(status, "h1", "", t.not_found)?,
                "data-state",
                "not-found",
            );
            text(status, "p", "muted", t.not_found_body)?;
        }
        Phase::LoadFailed(e) => {
            set(&text(status, "h1", "", t.error)?, "data-state", "error");
            text(status, "p", "muted", &api_message(t, e))?;
            button(status, "reload", "primary", t.retry)?;
        }
        Phase::Summary => {
            let label = if alipay { t.alipay } else { t.pay };
            let pay = method_button(status, "pay", "primary", label, alipay)?;
            set(&pay, "data-state", "summary");
        }
        Phase::Starting => progress(status, "starting", t.starting)?,
        Phase::Redirecting if alipay => progress(status, "redirecting", t.alipay_redirecting)?,
        Phase::Redirecting => progress(status, "redirecting", t.redirecting)?,
        Phase::OpenInBrowser { url } => {
            let div = state(status, "open-in-browser")?;
            text(&div, "h2", "", t.open_in_browser)?;
            text(&div, "p", "muted", t.open_in_browser_body)?;
            let input = add(&div, "input", "")?;
            for (name, value) in [
                ("id", "page-link"),
                ("type", "url"),
                ("readonly", ""),
                ("value", url.as_str()),
                ("aria-label", t.open_in_browser),
            ] {
                set(&input, name, value);
            }
        }
        Phase::Sheet => progress(status, "sheet", t.sheet)?,
        Phase::MiniProgram => progress(status, "mini-program", t.mini_program)?,
        Phase::Qr { code_url, .. } => qr_code(ctx, status, code_url, t)?,
        Phase::Confirming => {
            let div = state(status, "confirming")?;
            text(&div, "h2", "", t.confirming)?;
            set(&add(&div, "progress", "")?, "aria-label", t.confirming);
        }
        Phase::Succeeded { url } => {
            let div = state(status, "succeeded")?;
            text(&div, "h2", "", t.succeeded)?;
            if !bridge::framed() {
                set(&add(&div, "p", "muted")?, "id", "countdown");
            }
            let a = text(&div, "a", "button primary", t.continue_)?;
            for (name, value) in [
                ("id", "continue"),
                ("href", url.as_str()),
                ("target", "_top"),
            ] {
                set(&a, name, value);
            }
        }
        Phase::Failed(reason) => {
            let div = notice(status, "failed", t.failed, &reason_message(t, reason))?;
            set(&div, "role", "alert");
            if let Some(body) = div.last_element_child() {
                set(&body, "id", "reason");
            }
            button(&div, "retry", "primary", t.retry)?;
        }
        Phase::Cancelled => {
            let div = notice(status, "cancelled", t.cancelled, t.cancelled_body)?;
            button(&div, "retry", "primary", t.retry)?;
        }
        Phase::Expired => match ctx.recovery.get_untracked() {
            // A new session with the same contents, when the merchant enabled recovery.
            Some(url) => {
                let div = notice(status, "expired", t.expired, t.recover_body)?;
                let a = text(&div, "a", "button primary", t.recover)?;
                set(&a, "id", "recover");
                set(&a, "href", &url);
            }
            None => {
                notice(status, "expired", t.expired, t.expired_body)?;
            }
        },
    }
    Some(())
}

/// `<div data-state=…>` in `parent`.
fn state(parent: &Element, name: &str) -> Option<Element> {
    let div = add(parent, "div", "")?;
    set(&div, "data-state", name);
    Some(div)
}

/// A closing screen: heading and explanation.
fn notice(parent: &Element, name: &str, heading: &str, body: &str) -> Option<Element> {
    let div = state(parent, name)?;
    text(&div, "h2", "", heading)?;
    text(&div, "p", "muted", body)?;
    Some(div)
}

fn progress(parent: &Element, name: &str, label: &str) -> Option<()> {
    let div = state(parent, name)?;
    text(&div, "p", "", label)?;
    set(&add(&div, "progress", "")?, "aria-label", label);
    Some(())
}

/// A button that pays with one method, wearing its mark.
fn method_button(
    parent: &Element,
    id: &str,
    class: &str,
    label: &str,
    alipay: bool,
) -> Option<Element> {
    let b = button(parent, id, class, label)?;
    prepend_markup(&b, if alipay { ALIPAY_MARK } else { WECHAT_PAY_MARK });
    Some(b)
}

fn qr_code(ctx: Ctx, status: &Element, code_url: &str, t: &'static Text) -> Option<()> {
    let alipay = ctx.alipay.get_untracked();
    let (scan_text, label) = if alipay {
        (t.alipay_scan, t.alipay_qr_label)
    } else {
        (t.scan, t.qr_label)
    };
    let div = state(status, "qr")?;
    div.set_class_name("qr");
    text(&div, "p", "", scan_text)?;
    if let Some((size, d)) = qr::svg_path(code_url) {
        let size = number(size as u64);
        // Only the page's own constants and the encoder's digits and letters go in here.
        append_markup(
            &div,
            &[
                r##"<svg class="qr-code" viewBox="0 0 "##,
                &size,
                " ",
                &size,
                r##"" role="img" aria-label=""##,
                label,
                r##"" shape-rendering="crispEdges"><rect width=""##,
                &size,
                r##"" height=""##,
                &size,
                r##"" fill="#fff"/><path d=""##,
                &d,
                r##"" fill="#000"/></svg>"##,
            ]
            .concat(),
        );
    }
    let countdown = add(&div, "p", "muted")?;
    set(&countdown, "role", "timer");
    set(&countdown, "id", "qr-countdown");
    if ctx.sandbox() {
        // An Alipay QR code is itself a link to the (simulated) Alipay scan page.
        let href = if alipay {
            code_url.to_owned()
        } else {
            [
                "/sandbox/wechat/scan?code_url=",
                &String::from(js_sys::encode_uri_component(code_url)),
            ]
            .concat()
        };
        let a = text(&add(&div, "p", "")?, "a", "", t.simulate_scan)?;
        for (name, value) in [
            ("id", "simulate-scan"),
            ("href", href.as_str()),
            ("target", "_blank"),
            ("rel", "noopener"),
        ] {
            set(&a, name, value);
        }
    }
    Some(())
}

/// Brings the live parts of the screen shown up to date: the QR code's countdown (and "get a
/// new QR code" once it has expired), the success countdown, and "I have paid" / "pay again"
/// once confirming takes long.
fn live(ctx: Ctx, t: &'static Text) -> Option<()> {
    match ctx.phase.get_untracked() {
        Phase::Qr { expires_at, .. } => {
            let countdown = by_id("qr-countdown")?;
            let left = expires_at - ctx.now.get_untracked();
            if left > 0 {
                countdown
                    .set_text_content(Some(&[t.expires_in, " ", &minutes_seconds(left)].concat()));
            } else {
                countdown.set_text_content(Some(t.qr_expired));
                if by_id("new-qr").is_none() {
                    let new_qr = leptos::prelude::document().create_element("button").ok()?;
                    new_qr.set_class_name("primary");
                    new_qr.set_text_content(Some(t.new_qr));
                    set(&new_qr, "type", "button");
                    set(&new_qr, "id", "new-qr");
                    countdown.after_with_node_1(&new_qr).ok()?;
                }
            }
        }
        Phase::Succeeded { .. } => {
            let seconds = number(ctx.countdown.get_untracked().max(0).unsigned_abs());
            by_id("countdown")?
                .set_text_content(Some(&[t.returning, " ", &seconds, " ", t.seconds].concat()));
        }
        Phase::Confirming if ctx.slow.get_untracked() && by_id("paid").is_none() => {
            let div = by_id("status")?.first_element_child()?;
            text(&div, "p", "muted", t.confirming_slow)?;
            button(&div, "paid", "primary", t.i_have_paid)?;
            button(&div, "pay-again", "secondary", t.pay_again)?;
        }
        _ => {}
    }
    Some(())
}

/// Below the screen: "Pay with a QR code instead", "Pay with Alipay / WeChat Pay instead" and
/// "Back to {merchant}", where each applies.
fn links(ctx: Ctx, more: &Element, phase: &Phase, t: &'static Text) -> Option<()> {
    // "Pay with a QR code instead": offered whenever the shopper could want it.
    if matches!(
        phase,
        Phase::Summary
            | Phase::Failed(_)
            | Phase::Cancelled
            | Phase::Confirming
            | Phase::Sheet
            | Phase::MiniProgram
    ) {
        button(more, "qr-instead", "link", t.qr_instead)?;
    }
    // The other method, when the session offers both.
    if ctx.both_methods()
        && matches!(
            phase,
            Phase::Summary
                | Phase::Qr { .. }
                | Phase::Failed(_)
                | Phase::Cancelled
                | Phase::OpenInBrowser { .. }
        )
    {
        let alipay = !ctx.alipay.get_untracked();
        let label = if alipay {
            t.alipay_instead
        } else {
            t.wechat_instead
        };
        method_button(more, "other-method", "link", label, alipay)?;
    }
    // "Back to {merchant}" on the screens where paying stopped: the shopper is never
    // stranded. It leads to the session's `cancel_url`; a framed page tells its parent
    // instead (`{type: "paybridge.checkout", status: "canceled"}`).
    if matches!(phase, Phase::Failed(_) | Phase::Cancelled | Phase::Expired) {
        let merchant = ctx.view.with_untracked(|v| {
            v.as_ref()
                .filter(|v| v.cancel_url.is_some())
                .map(|v| v.merchant_name.clone())
        })?;
        button(
            more,
            "back-to-merchant",
            "link",
            &[t.back_to, merchant.as_str()].concat(),
        )?;
    }
    Some(())
}

fn go_back(ctx: Ctx) {
    if bridge::framed() {
        bridge::post_to_parent(&ctx.id.get_value(), "canceled");
        return;
    }
    if let Some(url) = ctx.view.get_untracked().and_then(|v| v.cancel_url) {
        bridge::navigate_top(&url);
    }
}

fn api_message(t: &'static Text, e: &ApiError) -> String {
    match e {
        ApiError::NotFound => t.not_found_body.to_owned(),
        ApiError::Network => t.network.to_owned(),
        ApiError::BadAnswer => t.bad_answer.to_owned(),
        ApiError::Provider => t.provider.to_owned(),
        ApiError::Server(message) => message.clone(),
    }
}

fn reason_message(t: &'static Text, reason: &Reason) -> String {
    match reason {
        Reason::Api(e) => api_message(t, e),
        Reason::Declined(Some(desc)) => [t.failed_body, " (", desc, ")"].concat(),
        Reason::Declined(None) | Reason::PaymentFailed => t.failed_body.to_owned(),
        Reason::OauthDenied => t.oauth_denied.to_owned(),
        Reason::OauthIncomplete => t.oauth_incomplete.to_owned(),
        Reason::NoBridge => t.no_bridge.to_owned(),
        Reason::NoMiniProgram => t.no_mini_program.to_owned(),
    }
}
