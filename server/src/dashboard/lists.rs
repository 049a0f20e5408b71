//! The lists: checkout sessions, payment intents, payments and refunds, each filtered by the
//! shared filter bar and linking to a detail page with the whole timeline.

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use maud::{Markup, html};

use super::auth;
use super::filters::{self, Offer};
use super::layout::{self, Ctx, Section, badge, money, when};
use crate::domain::status::State as _;
use crate::service::browse::{self, Criteria, Problem};
use crate::state::AppState;

fn failed(ctx: &Ctx, section: Section, title: &str, p: &Problem) -> Response {
    match p {
        Problem::Criteria(e) => layout::page_with_status(
            ctx,
            StatusCode::UNPROCESSABLE_ENTITY,
            section,
            title,
            html! { p.problem role="alert" { (ctx.t("The filter is not valid: ", "筛选条件无效：")) (e.to_string()) } },
        ),
        Problem::Db(e) => auth::unavailable(ctx.lang, e),
    }
}

fn empty(ctx: &Ctx) -> Markup {
    html! { p.hint #no-results { (ctx.t("Nothing matches.", "没有符合条件的记录。")) } }
}

fn session_table(ctx: &Ctx, rows: &[crate::domain::CheckoutSession], intents: bool) -> Markup {
    html! {
        div.table-wrap {
            table #results {
                caption.sr-only { (ctx.t("Results", "结果")) }
                thead { tr {
                    th scope="col" { "ID" }
                    th scope="col" { (ctx.t("Created", "创建时间")) }
                    th scope="col" { (ctx.t("Status", "状态")) }
                    th.num scope="col" { (ctx.t("Amount", "金额")) }
                    th scope="col" { (ctx.t("Merchant reference", "商户订单号")) }
                    th scope="col" { (ctx.t("Description", "描述")) }
                } }
                tbody {
                    @for s in rows {
                        @let id = if intents { s.id.same_as::<crate::domain::ids::IntentKind>().to_string() } else { s.id.to_string() };
                        @let href = if intents { format!("/dashboard/intents/{id}") } else { format!("/dashboard/sessions/{id}") };
                        tr {
                            td { a.mono href=(href) { (id) } }
                            td { (when(s.created_at)) }
                            td { (badge(s.status.as_str())) }
                            td.num { (money(s.amount, s.currency.code())) }
                            td { (s.merchant_reference.as_deref().unwrap_or("—")) }
                            td { (s.description) }
                        }
                    }
                }
            }
        }
    }
}

async fn sessions_of(state: &AppState, ctx: &Ctx, c: &Criteria, intents: bool) -> Response {
    let (section, title, action, kind) = if intents {
        (
            Section::Intents,
            ctx.t("Payment intents", "支付意图"),
            "/dashboard/intents",
            "intent",
        )
    } else {
        (
            Section::Sessions,
            ctx.t("Checkout sessions", "收银会话"),
            "/dashboard/sessions",
            "checkout",
        )
    };
    let offer = Offer {
        statuses: &browse::SESSION_STATUSES,
        payment_fields: true,
    };
    match browse::sessions(state.services(), c, kind).await {
        Ok(rows) => layout::page(
            ctx,
            section,
            title,
            html! {
                (filters::form(ctx, action, &offer, c))
                @if rows.is_empty() { (empty(ctx)) } @else { (session_table(ctx, &rows, intents)) }
                (filters::pager(ctx, action, c, rows.len() as i64 == browse::PAGE_SIZE))
            },
        ),
        Err(p) => failed(ctx, section, title, &p),
    }
}

/// `GET /dashboard/sessions`
pub async fn sessions(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(c): Query<Criteria>,
) -> Response {
    sessions_of(&state, &ctx, &c, false).await
}

/// `GET /dashboard/intents`
pub async fn intents(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(c): Query<Criteria>,
) -> Response {
    sessions_of(&state, &ctx, &c, true).await
}

/// `GET /dashboard/payments`
pub async fn payments(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(c): Query<Criteria>,
) -> Response {
    let title = ctx.t("Payments", "支付");
    let offer = Offer {
        statuses: &browse::PAYMENT_STATUSES,
        payment_fields: true,
    };
    let rows = match browse::payments(state.services(), &c).await {
        Ok(rows) => rows,
        Err(p) => return failed(&ctx, Section::Payments, title, &p),
    };
    layout::page(
        &ctx,
        Section::Payments,
        title,
        html! {
            (filters::form(&ctx, "/dashboard/payments", &offer, &c))
            @if rows.is_empty() { (empty(&ctx)) } @else {
                div.table-wrap { table #results {
                    caption.sr-only { (ctx.t("Results", "结果")) }
                    thead { tr {
                        th scope="col" { "ID" }
                        th scope="col" { (ctx.t("Created", "创建时间")) }
                        th scope="col" { (ctx.t("Status", "状态")) }
                        th.num scope="col" { (ctx.t("Amount", "金额")) }
                        th scope="col" { (ctx.t("Method · channel", "方式 · 渠道")) }
                        th scope="col" { (ctx.t("Environment", "环境")) }
                        th scope="col" { (ctx.t("Merchant reference", "商户订单号")) }
                        th scope="col" { "out_trade_no" }
                    } }
                    tbody { @for p in &rows {
                        tr {
                            td { a.mono href={ "/dashboard/payments/" (p.payment.id) } { (p.payment.id) } }
                            td { (when(p.payment.created_at)) }
                            td { (badge(p.payment.status.as_str())) }
                            td.num { (money(p.payment.amount, &p.payment.currency)) }
                            td { (p.payment.method.as_str()) " · " (p.payment.channel.as_str()) }
                            td { (p.payment.environment.unwrap_or("—")) }
                            td { (p.merchant_reference.as_deref().unwrap_or("—")) }
                            td.mono { (p.payment.out_trade_no) }
                        }
                    } }
                } }
            }
            (filters::pager(&ctx, "/dashboard/payments", &c, rows.len() as i64 == browse::PAGE_SIZE))
        },
    )
}

/// `GET /dashboard/refunds`
pub async fn refunds(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(c): Query<Criteria>,
) -> Response {
    let title = ctx.t("Refunds", "退款");
    let offer = Offer {
        statuses: &browse::REFUND_STATUSES,
        payment_fields: true,
    };
    let rows = match browse::refunds(state.services(), &c).await {
        Ok(rows) => rows,
        Err(p) => return failed(&ctx, Section::Refunds, title, &p),
    };
    layout::page(
        &ctx,
        Section::Refunds,
        title,
        html! {
            (filters::form(&ctx, "/dashboard/refunds", &offer, &c))
            @if rows.is_empty() { (empty(&ctx)) } @else {
                div.table-wrap { table #results {
                    caption.sr-only { (ctx.t("Results", "结果")) }
                    thead { tr {
                        th scope="col" { "ID" }
                        th scope="col" { (ctx.t("Created", "创建时间")) }
                        th scope="col" { (ctx.t("Status", "状态")) }
                        th.num scope="col" { (ctx.t("Amount", "金额")) }
                        th scope="col" { (ctx.t("Payment", "支付")) }
                        th scope="col" { (ctx.t("Reason", "原因")) }
                    } }
                    tbody { @for r in &rows {
                        tr {
                            td.mono { (r.id) }
                            td { (when(r.created_at)) }
                            td { (badge(r.status.as_str())) }
                            td.num { (money(r.amount, "CNY")) }
                            td { a.mono href={ "/dashboard/payments/" (r.payment_id) } { (r.payment_id) } }
                            td { (r.reason.as_deref().unwrap_or("—")) }
                        }
                    } }
                } }
            }
            (filters::pager(&ctx, "/dashboard/refunds", &c, rows.len() as i64 == browse::PAGE_SIZE))
        },
    )
}
