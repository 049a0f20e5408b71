//! Detail pages: a checkout session, a payment intent or a payment, each with its facts, what
//! an operator can do with it (refund, expire), and the whole timeline; and an event with its
//! payload and deliveries.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use maud::{Markup, html};
use serde::Deserialize;

use super::auth;
use super::layout::{self, Ctx, Section, badge, money, when};
use super::timeline;
use crate::domain::status::State as _;
use crate::domain::{PaymentStatus, SessionStatus};
use crate::service::browse;
use crate::service::timeline::Timeline;
use crate::state::AppState;

/// What a detail page was opened for.
enum Focus {
    Session,
    Intent,
    Payment(String),
}

/// A notice carried over a redirect after an action (`?done=…`).
#[derive(Deserialize, Default)]
#[serde(default)]
pub struct Done {
    done: String,
    refund: String,
}

fn notice(ctx: &Ctx, d: &Done) -> Markup {
    let text = match d.done.as_str() {
        "refunded" => Some(ctx.t("Refund sent.", "退款已提交。")),
        "refund_earlier" => Some(ctx.t(
            "This form was already sent: the refund below was made then, not again.",
            "此表单已提交过：下方退款为当时所建，未重复退款。",
        )),
        "expired" => Some(ctx.t("The checkout session is expired.", "收银会话已过期。")),
        _ => None,
    };
    html! {
        @if let Some(t) = text {
            p.notice role="status" #notice { (t) @if !d.refund.is_empty() { " " span.mono { (d.refund) } } }
        }
    }
}

fn not_found(ctx: &Ctx, section: Section) -> Response {
    layout::page_with_status(
        ctx,
        StatusCode::NOT_FOUND,
        section,
        ctx.t("Not found", "未找到"),
        html! { p { (ctx.t("Nothing here has that id.", "没有此编号的记录。")) } },
    )
}

fn refunded(t: &Timeline, payment: &str) -> i64 {
    t.refunds
        .iter()
        .filter(|r| r.payment_id == payment && r.status.as_str() != "failed")
        .map(|r| r.amount)
        .sum()
}

/// The refund form of a succeeded attempt; a fresh idempotency key per rendering, so a
/// double submission refunds once.
fn refund_form(ctx: &Ctx, t: &Timeline, payment: &str, amount: i64, currency: &str) -> Markup {
    let left = amount - refunded(t, payment);
    html! {
        section.card aria-labelledby="refund-title" {
            h2 #refund-title { (ctx.t("Refund", "退款")) }
            @if left <= 0 {
                p { (ctx.t("Fully refunded.", "已全额退款。")) }
            } @else {
                p { (ctx.t("Refundable: ", "可退金额：")) strong #refundable { (money(left, currency)) } }
                form.actions method="post" action={ "/dashboard/payments/" (payment) "/refund" } {
                    (ctx.csrf_field())
                    input type="hidden" name="idempotency_key" value=(uuid::Uuid::new_v4().to_string());
                    div {
                        label for="refund-amount" { (ctx.t("Amount in yuan (empty: all that is left)", "金额（元，留空为全部剩余）")) }
                        input #refund-amount name="amount" inputmode="decimal" pattern="[0-9]+(\\.[0-9]{1,2})?" autocomplete="off";
                    }
                    div {
                        label for="refund-reason" { (ctx.t("Reason (optional)", "原因（可选）")) }
                        input #refund-reason name="reason" maxlength="80";
                    }
                    button.danger type="submit" #refund-submit { (ctx.t("Refund", "退款")) }
                }
            }
        }
    }
}

fn facts(ctx: &Ctx, t: &Timeline) -> Markup {
    let s = &t.session;
    html! {
        section.card {
            dl.facts {
                dt { (ctx.t("Status", "状态")) } dd { (badge(s.status.as_str())) }
                dt { (ctx.t("Amount", "金额")) } dd #amount { (money(s.amount, s.currency.code())) }
                dt { (ctx.t("Description", "描述")) } dd { (s.description) }
                dt { (ctx.t("Merchant reference", "商户订单号")) } dd #reference { (s.merchant_reference.as_deref().unwrap_or("—")) }
                dt { (ctx.t("Session", "收银会话")) } dd.mono { (s.id) }
                @if let Some(pi) = t.intent_id() { dt { (ctx.t("Payment intent", "支付意图")) } dd.mono { (pi) } }
                dt { (ctx.t("Created", "创建时间")) } dd { (when(s.created_at)) }
                dt { (ctx.t("Expires", "过期时间")) } dd { (when(s.expires_at)) }
                @if !s.extras.line_items.is_empty() {
                    dt { (ctx.t("Items", "商品")) }
                    dd { ul { @for l in &s.extras.line_items { li { (l.name) " × " (l.quantity) " · " (money(l.amount(), s.currency.code())) } } } }
                }
                @for (k, v) in &s.metadata { dt { "metadata." (k) } dd { (v) } }
            }
        }
    }
}

fn payments_table(ctx: &Ctx, t: &Timeline) -> Markup {
    html! {
        h2 { (ctx.t("Payment attempts", "支付尝试")) }
        @if t.payments.is_empty() { p.hint { (ctx.t("The shopper has not tried to pay yet.", "顾客尚未发起支付。")) } } @else {
            div.table-wrap { table {
                thead { tr {
                    th scope="col" { "ID" } th scope="col" { (ctx.t("Status", "状态")) }
                    th.num scope="col" { (ctx.t("Amount", "金额")) } th scope="col" { (ctx.t("Method · channel", "方式 · 渠道")) }
                    th scope="col" { (ctx.t("Environment", "环境")) } th scope="col" { (ctx.t("Transaction", "交易单号")) }
                } }
                tbody { @for p in &t.payments { tr {
                    td { a.mono href={ "/dashboard/payments/" (p.payment.id) } { (p.payment.id) } }
                    td { (badge(p.payment.status.as_str())) }
                    td.num { (money(p.payment.amount, &p.payment.currency)) }
                    td { (p.payment.method.as_str()) " · " (p.payment.channel.as_str()) }
                    td { (p.payment.environment.unwrap_or("—")) }
                    td.mono { (p.payment.provider_transaction_id.as_deref().unwrap_or("—")) }
                } } }
            } }
        }
    }
}

fn actions(ctx: &Ctx, t: &Timeline, focus: &Focus) -> Markup {
    let s = &t.session;
    let payment = match focus {
        Focus::Payment(id) => t.payments.iter().find(|p| p.payment.id.as_str() == id),
        _ => t.paid(),
    };
    html! {
        @if let Some(p) = payment.filter(|p| p.payment.status == PaymentStatus::Succeeded) {
            (refund_form(ctx, t, p.payment.id.as_str(), p.payment.amount, &p.payment.currency))
        }
        @if s.status == SessionStatus::Open && matches!(focus, Focus::Session) {
            section.card {
                h2 { (ctx.t("Expire", "使过期")) }
                p.hint { (ctx.t("The shopper can no longer pay; an unpaid order at the provider is closed.", "顾客将无法再支付；渠道侧未支付的订单会被关闭。")) }
                form method="post" action={ "/dashboard/sessions/" (s.id) "/expire" } {
                    (ctx.csrf_field())
                    button.danger type="submit" #expire-submit { (ctx.t("Expire this checkout now", "立即使此收银会话过期")) }
                }
            }
        }
    }
}

async fn show(state: &AppState, ctx: &Ctx, raw: &str, focus: Focus, done: &Done) -> Response {
    let section = match focus {
        Focus::Session => Section::Sessions,
        Focus::Intent => Section::Intents,
        Focus::Payment(_) => Section::Payments,
    };
    let svc = state.services();
    let session = match browse::session_of_any(svc, raw).await {
        Ok(Some(s)) => s,
        Ok(None) => return not_found(ctx, section),
        Err(e) => return auth::unavailable(ctx.lang, &e),
    };
    let t = match crate::service::timeline::of_session(svc, &session).await {
        Ok(Some(t)) => t,
        Ok(None) => return not_found(ctx, section),
        Err(e) => return auth::unavailable(ctx.lang, &e),
    };
    let title = match &focus {
        Focus::Session => format!("{} {}", ctx.t("Checkout session", "收银会话"), t.session.id),
        Focus::Intent => format!("{} {raw}", ctx.t("Payment intent", "支付意图")),
        Focus::Payment(id) => format!("{} {id}", ctx.t("Payment", "支付")),
    };
    layout::page(
        ctx,
        section,
        &title,
        html! {
            (notice(ctx, done))
            div.grid {
                (facts(ctx, &t))
                div { (actions(ctx, &t, &focus)) }
            }
            (payments_table(ctx, &t))
            (timeline::render(ctx, &t))
        },
    )
}

/// `GET /dashboard/sessions/{id}`
pub async fn session(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Query(d): Query<Done>,
) -> Response {
    if !id.starts_with("cs_") {
        return not_found(&ctx, Section::Sessions);
    }
    show(&state, &ctx, &id, Focus::Session, &d).await
}

/// `GET /dashboard/intents/{id}`
pub async fn intent(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Query(d): Query<Done>,
) -> Response {
    if !id.starts_with("pi_") {
        return not_found(&ctx, Section::Intents);
    }
    show(&state, &ctx, &id, Focus::Intent, &d).await
}

/// `GET /dashboard/payments/{id}`
pub async fn payment(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Query(d): Query<Done>,
) -> Response {
    if !id.starts_with("pay_") {
        return not_found(&ctx, Section::Payments);
    }
    show(&state, &ctx, &id.clone(), Focus::Payment(id), &d).await
}

/// `GET /dashboard/events/{id}`: the payload as sent, and each delivery with its tries.
pub async fn event(State(state): State<AppState>, ctx: Ctx, Path(id): Path<String>) -> Response {
    let ev = match crate::service::timeline::event(state.services(), &id).await {
        Ok(Some(e)) => e,
        Ok(None) => return not_found(&ctx, Section::Webhooks),
        Err(e) => return auth::unavailable(ctx.lang, &e),
    };
    let deliveries = match crate::service::timeline::deliveries(state.services(), &ev.id).await {
        Ok(d) => d,
        Err(e) => return auth::unavailable(ctx.lang, &e),
    };
    let pretty = serde_json::from_str::<serde_json::Value>(&ev.payload)
        .and_then(|v| serde_json::to_string_pretty(&v))
        .unwrap_or_else(|_| ev.payload.clone());
    let title = format!("{} {}", ctx.t("Event", "事件"), ev.id);
    layout::page(
        &ctx,
        Section::Webhooks,
        &title,
        html! {
            section.card { dl.facts {
                dt { (ctx.t("Type", "类型")) } dd { code { (ev.kind) } }
                dt { (ctx.t("About", "对象")) } dd.mono { (ev.object_id) }
                dt { (ctx.t("Recorded", "记录时间")) } dd { (when(ev.created_at)) }
            } }
            h2 { (ctx.t("Deliveries", "投递")) }
            @if deliveries.is_empty() {
                p.hint { (ctx.t("No webhook endpoint was subscribed.", "没有订阅此事件的 Webhook 端点。")) }
            } @else {
                ul.deliveries #deliveries { @for d in &deliveries { (timeline::delivery(&ctx, d)) } }
            }
            form method="post" action={ "/dashboard/events/" (ev.id) "/replay" } {
                (ctx.csrf_field())
                button type="submit" #replay-submit { (ctx.t("Send this event's webhooks again", "重新发送此事件的 Webhook")) }
            }
            details { summary { (ctx.t("Payload", "内容")) } pre { (pretty) } }
        },
    )
}
