//! Drawing a checkout's timeline: each entry a list item with its time, what happened, and the
//! detail an operator needs (a delivery's every try with the receiver's answer).

use maud::{Markup, html};

use super::layout::{Ctx, badge, money, when};
use crate::domain::status::State as _;
use crate::service::timeline::{Delivery, Entry, Timeline};

/// One delivery with each try and the receiver's answer.
#[must_use]
pub fn delivery(ctx: &Ctx, d: &Delivery) -> Markup {
    html! {
        li.delivery data-delivery=(d.row.id) {
            (badge(&d.row.status)) " "
            span.mono { (d.row.url) }
            " · " (d.row.attempts) " " (ctx.t("tries", "次尝试"))
            @if !d.attempts.is_empty() {
                ul {
                    @for a in &d.attempts {
                        li {
                            (when(a.attempted_at)) " · "
                            @match (a.status_code, &a.error) {
                                (Some(code), _) => { "HTTP " (code) }
                                (None, Some(e)) => { (e) }
                                (None, None) => { (ctx.t("no answer", "无应答")) }
                            }
                            " · " (a.duration_ms) " ms"
                        }
                    }
                }
            }
        }
    }
}

fn entry(ctx: &Ctx, e: &Entry) -> Markup {
    match e {
        Entry::Created => html! { span.what { (ctx.t("Checkout created", "创建收银会话")) } },
        Entry::Attempt(p) => html! {
            span.what { (ctx.t("Payment attempt", "发起支付")) " " }
            a.mono href={ "/dashboard/payments/" (p.payment.id) } { (p.payment.id) }
            div { (p.payment.method.as_str()) " · " (p.payment.channel.as_str())
                @if let Some(env) = p.payment.environment { " · " (env) }
                " · out_trade_no " span.mono { (p.payment.out_trade_no) } }
        },
        Entry::Reported(p) => html! {
            span.what { (ctx.t("Provider reported", "支付渠道回报")) " " } (badge(p.payment.status.as_str()))
            div {
                @if let Some(t) = &p.payment.provider_transaction_id { (ctx.t("transaction ", "交易单号 ")) span.mono { (t) } }
                @if let Some(r) = &p.payment.failure_reason { " · " (r) }
            }
        },
        Entry::Refund(r) => html! {
            span.what { (ctx.t("Refund", "退款")) " " (money(r.amount, "CNY")) " " } (badge(r.status.as_str()))
            div.mono { (r.id) @if let Some(reason) = &r.reason { " · " span { (reason) } } }
        },
        Entry::Event(ev, deliveries) => html! {
            span.what { (ctx.t("Event ", "事件 ")) code { (ev.kind) } " " }
            a.mono href={ "/dashboard/events/" (ev.id) } { (ev.id) }
            @if deliveries.is_empty() {
                div.hint { (ctx.t("No webhook endpoint was subscribed.", "没有订阅此事件的 Webhook 端点。")) }
            } @else {
                ul.deliveries { @for d in deliveries { (delivery(ctx, d)) } }
            }
        },
        Entry::Completed => html! { span.what { (ctx.t("Checkout complete", "收银完成")) } },
        Entry::Expired => html! { span.what { (ctx.t("Checkout expired", "收银会话已过期")) } },
        Entry::Operator(a) => html! {
            span.what { (ctx.t("Operator ", "操作员 ")) (a.username) ": " code { (a.action) } }
            div.mono { (a.detail) }
        },
    }
}

/// The timeline, oldest first.
#[must_use]
pub fn render(ctx: &Ctx, t: &Timeline) -> Markup {
    html! {
        h2 #timeline-title { (ctx.t("Timeline", "时间线")) }
        ol.timeline #timeline aria-labelledby="timeline-title" {
            @for (at, e) in &t.entries {
                li {
                    time.at { (when(*at)) }
                    (entry(ctx, e))
                }
            }
        }
    }
}
