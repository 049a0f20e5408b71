//! What the shopper sees in each phase of the checkout. Every screen carries `data-state` (the
//! browser tests wait on it) and lives in one `aria-live` region so status changes are announced.

use leptos::prelude::*;
use paybridge_shared::CheckoutView;

use crate::api::ApiError;
use crate::i18n::{Text, minutes_seconds};
use crate::phase::{Ctx, Phase, Reason};
use crate::{bridge, qr};

/// The heading of the state shown, which takes the focus when the state changes.
const STATE_HEADING: &str = "#status h1, #status h2";

/// The whole page: language switch, order summary, the current phase, "QR instead".
pub fn page(ctx: Ctx) -> impl IntoView {
    view! {
        <main class="card">
            <div class="bar">
                <button
                    type="button"
                    id="lang"
                    class="link"
                    aria-label=move || ctx.t().switch_label
                    lang=move || ctx.lang.get().other().tag()
                    on:click=move |_| ctx.set_lang(ctx.lang.get_untracked().other())
                >
                    {move || ctx.lang.get().other().text().own_name}
                </button>
            </div>
            {move || ctx.view.get().map(|v| summary(ctx, &v))}
            <section id="status" aria-live="polite" aria-atomic="true">
                {move || {
                    let screen = phase(ctx);
                    // A new state's heading takes the focus so screen readers announce it and
                    // keyboard users continue from there; switching language leaves focus alone.
                    if ctx.take_focus() {
                        // After this screen is in the document.
                        leptos::task::spawn_local(async {
                            bridge::sleep(0).await;
                            bridge::focus(STATE_HEADING);
                        });
                    }
                    screen
                }}
            </section>
            {move || qr_instead(ctx)}
            {move || other_method(ctx)}
            {move || back_to_merchant(ctx)}
        </main>
    }
}

fn summary(ctx: Ctx, v: &CheckoutView) -> impl IntoView + use<> {
    let amount = v.amount.display(v.currency);
    view! {
        <h1 id="merchant">{v.merchant_name.clone()}</h1>
        <p class="muted" id="description">{v.description.clone()}</p>
        <p class="amount">
            <span class="visually-hidden">{move || ctx.t().amount}" "</span>
            <span id="amount">{amount}</span>
        </p>
    }
}

fn phase(ctx: Ctx) -> AnyView {
    let t = ctx.t();
    match ctx.phase.get() {
        Phase::Loading => {
            view! { <p class="state" data-state="loading">{t.loading}</p> }.into_any()
        }
        Phase::NotFound => view! {
            <h1 data-state="not-found">{t.not_found}</h1>
            <p class="muted">{t.not_found_body}</p>
        }
        .into_any(),
        Phase::LoadFailed(e) => view! {
            <h1 data-state="error">{t.error}</h1>
            <p class="muted">{api_message(t, &e)}</p>
            {button(ctx, "reload", "primary", t.retry, Act::Reload)}
        }
        .into_any(),
        Phase::Summary => {
            let label = if ctx.alipay.get() { t.alipay } else { t.pay };
            button(ctx, "pay", "primary", label, Act::Pay)
        }
        Phase::Starting => progress("starting", t.starting),
        Phase::Redirecting if ctx.alipay.get() => progress("redirecting", t.alipay_redirecting),
        Phase::Redirecting => progress("redirecting", t.redirecting),
        Phase::OpenInBrowser { url } => view! {
            <div data-state="open-in-browser">
                <h2>{t.open_in_browser}</h2>
                <p class="muted">{t.open_in_browser_body}</p>
                <input id="page-link" type="url" readonly value=url aria-label=t.open_in_browser></input>
            </div>
        }
        .into_any(),
        Phase::Sheet => progress("sheet", t.sheet),
        Phase::MiniProgram => progress("mini-program", t.mini_program),
        Phase::Qr {
            code_url,
            expires_at,
        } => qr_code(ctx, &code_url, expires_at),
        Phase::Confirming => view! {
            <div data-state="confirming">
                <h2>{t.confirming}</h2>
                <progress aria-label=t.confirming></progress>
                {move || ctx.slow.get().then(|| view! {
                    <p class="muted">{t.confirming_slow}</p>
                    {button(ctx, "paid", "primary", t.i_have_paid, Act::Watch)}
                    {button(ctx, "pay-again", "secondary", t.pay_again, Act::Pay)}
                })}
            </div>
        }
        .into_any(),
        Phase::Succeeded { url } => succeeded(ctx, t, url),
        Phase::Failed(reason) => notice(
            ("failed", Some("alert"), Some("reason")),
            t.failed,
            reason_message(t, &reason),
            Some(button(ctx, "retry", "primary", t.retry, Act::Pay)),
        ),
        Phase::Cancelled => notice(
            ("cancelled", None, None),
            t.cancelled,
            t.cancelled_body.to_owned(),
            Some(button(ctx, "retry", "primary", t.retry, Act::Pay)),
        ),
        Phase::Expired => notice(
            ("expired", None, None),
            t.expired,
            t.expired_body.to_owned(),
            None,
        ),
    }
}

/// What a button does.
#[derive(Clone, Copy)]
enum Act {
    Reload,
    Pay,
    QrPay,
    Watch,
    Switch,
}

/// "Back to {merchant}" on the screens where paying stopped (cancelled, failed, expired): the
/// shopper is never stranded. It leads to the session's `cancel_url`; a framed page tells its
/// parent instead (`{type: "paybridge.checkout", status: "canceled"}`).
fn back_to_merchant(ctx: Ctx) -> Option<AnyView> {
    let stopped = matches!(
        ctx.phase.get(),
        Phase::Failed(_) | Phase::Cancelled | Phase::Expired
    );
    let view = ctx.view.get()?;
    view.cancel_url.as_ref()?;
    let label = [ctx.t().back_to, view.merchant_name.as_str()].concat();
    stopped.then(|| {
        view! {
            <button type="button" id="back-to-merchant" class="link" on:click=move |_| go_back(ctx)>
                {label}
            </button>
        }
        .into_any()
    })
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

/// Every button in a phase: one view type for all of them. The summary's pay button also
/// carries `data-state="summary"`.
fn button(
    ctx: Ctx,
    id: &'static str,
    class: &'static str,
    text: &'static str,
    act: Act,
) -> AnyView {
    let state = (id == "pay").then_some("summary");
    view! {
        <button type="button" id=id class=class data-state=state on:click=move |_| match act {
            Act::Reload => {
                let _ = window().location().reload();
            }
            Act::Pay => ctx.start(false),
            Act::QrPay => ctx.start(true),
            Act::Watch => ctx.watch(),
            Act::Switch => ctx.switch_method(),
        }>{text}</button>
    }
    .into_any()
}

/// A closing screen: heading, explanation and perhaps a button. `attrs` are the screen's
/// `data-state`, its `role` and the explanation's `id`.
fn notice(
    attrs: (&'static str, Option<&'static str>, Option<&'static str>),
    heading: &'static str,
    body: String,
    action: Option<AnyView>,
) -> AnyView {
    let (state, role, body_id) = attrs;
    view! {
        <div data-state=state role=role>
            <h2>{heading}</h2>
            <p class="muted" id=body_id>{body}</p>
            {action}
        </div>
    }
    .into_any()
}

fn progress(state: &'static str, text: &'static str) -> AnyView {
    view! {
        <div data-state=state>
            <p>{text}</p>
            <progress aria-label=text></progress>
        </div>
    }
    .into_any()
}

fn qr_code(ctx: Ctx, code_url: &str, expires_at: i64) -> AnyView {
    let t = ctx.t();
    let alipay = ctx.alipay.get_untracked();
    let (scan_text, label) = if alipay {
        (t.alipay_scan, t.alipay_qr_label)
    } else {
        (t.scan, t.qr_label)
    };
    let drawing = qr::svg_path(code_url).map(|(size, d)| {
        let mut number = String::new();
        qr::push_number(&mut number, size as u64);
        let view_box = ["0 0 ", &number, " ", &number].concat();
        let size = number;
        view! {
            <svg class="qr-code" viewBox=view_box role="img" aria-label=label shape-rendering="crispEdges">
                <rect width=size.clone() height=size fill="#fff"></rect>
                <path d=d fill="#000"></path>
            </svg>
        }
    });
    let scan = ctx.sandbox().then(|| {
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
        view! {
            <p><a id="simulate-scan" href=href target="_blank" rel="noopener">{t.simulate_scan}</a></p>
        }
    });
    let left = move || expires_at - ctx.now.get();
    view! {
        <div data-state="qr" class="qr">
            <p>{scan_text}</p>
            {drawing}
            <p class="muted" role="timer" id="qr-countdown">
                {move || if left() > 0 {
                    [t.expires_in, " ", &minutes_seconds(left())].concat()
                } else {
                    t.qr_expired.to_owned()
                }}
            </p>
            {move || (left() <= 0).then(|| button(ctx, "new-qr", "primary", t.new_qr, Act::QrPay))}
            {scan}
        </div>
    }
    .into_any()
}

fn succeeded(ctx: Ctx, t: &'static Text, url: String) -> AnyView {
    let framed = bridge::framed();
    view! {
        <div data-state="succeeded">
            <h2>{t.succeeded}</h2>
            {(!framed).then(|| view! {
                <p class="muted" id="countdown">{t.returning}" "{move || ctx.countdown.get().max(0)}" "{t.seconds}</p>
            })}
            <a id="continue" class="button primary" href=url target="_top">{t.continue_}</a>
        </div>
    }
    .into_any()
}

/// "Pay with a QR code instead": offered whenever the shopper could want it.
fn qr_instead(ctx: Ctx) -> Option<impl IntoView + use<>> {
    let offered = matches!(
        ctx.phase.get(),
        Phase::Summary
            | Phase::Failed(_)
            | Phase::Cancelled
            | Phase::Confirming
            | Phase::Sheet
            | Phase::MiniProgram
    );
    let t = ctx.t();
    offered.then(|| button(ctx, "qr-instead", "link", t.qr_instead, Act::QrPay))
}

/// "Pay with Alipay / WeChat Pay instead", when the session offers both.
fn other_method(ctx: Ctx) -> Option<impl IntoView + use<>> {
    let offered = ctx.both_methods()
        && matches!(
            ctx.phase.get(),
            Phase::Summary
                | Phase::Qr { .. }
                | Phase::Failed(_)
                | Phase::Cancelled
                | Phase::OpenInBrowser { .. }
        );
    let t = ctx.t();
    let label = if ctx.alipay.get() {
        t.wechat_instead
    } else {
        t.alipay_instead
    };
    offered.then(|| button(ctx, "other-method", "link", label, Act::Switch))
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
