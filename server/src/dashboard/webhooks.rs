//! `/dashboard/webhooks`: the endpoints (URL, events, created, state), registering one (the
//! `whsec_` secret shown on the answer page only), rolling its secret (the new one shown once),
//! disabling it after a confirmation, and each endpoint's recent deliveries with a replay button.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};
use serde::Deserialize;
use serde_json::json;

use super::auth::{self, NoFields, Posted};
use super::layout::{self, Ctx, Section};
use crate::service::ServiceError;
use crate::service::webhooks::{self, CreateEndpoint, DeliverySummary, Endpoint, RollSecret};
use crate::state::AppState;

/// Recent deliveries listed per endpoint.
const DELIVERIES_SHOWN: usize = 10;

#[derive(Deserialize)]
pub struct Notice {
    notice: Option<String>,
}

fn notice(ctx: &Ctx, code: Option<&str>) -> Markup {
    let text = match code {
        Some("disabled") => ctx.t(
            "The endpoint is disabled: nothing more is sent to it.",
            "该端点已停用，不再向它发送任何事件。",
        ),
        Some("replayed") => ctx.t(
            "The event is queued again; its deliveries below update as they are made.",
            "事件已重新排队，下方的投递记录会随发送更新。",
        ),
        _ => return html! {},
    };
    html! { p.notice role="status" { (text) } }
}

fn create_form(ctx: &Ctx, url: &str, problem: Option<&str>) -> Markup {
    html! {
        section.card aria-labelledby="new-endpoint" {
            h2 #new-endpoint { (ctx.t("Add an endpoint", "添加端点")) }
            @if let Some(p) = problem {
                p.problem role="alert" { (p) }
            }
            form method="post" action="/dashboard/webhooks" {
                (ctx.csrf_field())
                label for="endpoint-url" { (ctx.t("URL (https; http only for localhost)", "URL（https；仅 localhost 可用 http）")) }
                input #endpoint-url type="url" name="url" value=(url) required size="48" placeholder="https://shop.example.com/webhooks/paybridge";
                fieldset.checks {
                    legend { (ctx.t("Events", "事件")) }
                    label { input type="checkbox" name="event" value="*" checked; " " (ctx.t("All events", "全部事件")) }
                    @for t in webhooks::event_types() {
                        label { input type="checkbox" name="event" value=(t); " " code { (t) } }
                    }
                }
                p { button type="submit" { (ctx.t("Add endpoint", "添加端点")) } }
            }
        }
    }
}

fn deliveries_table(ctx: &Ctx, list: &[&DeliverySummary]) -> Markup {
    if list.is_empty() {
        return html! { p.hint { (ctx.t("No deliveries yet.", "暂无投递。")) } };
    }
    html! {
        div.table-wrap {
            table {
                thead { tr {
                    th { (ctx.t("Event", "事件")) }
                    th { (ctx.t("Status", "状态")) }
                    th.num { (ctx.t("Attempts", "尝试次数")) }
                    th { (ctx.t("Last answer", "最近应答")) }
                    th { (ctx.t("Created", "创建时间")) }
                    th { (ctx.t("Replay", "重放")) }
                } }
                tbody {
                    @for d in list {
                        tr {
                            td {
                                a href={ "/dashboard/events/" (d.event_id) } { code { (d.event_id) } }
                                br; span.hint { (d.event_type) }
                            }
                            td { (layout::badge(&d.status)) }
                            td.num { (d.attempts) }
                            td {
                                @if let Some(code) = d.last_status { "HTTP " (code) }
                                @if let Some(e) = &d.last_error { br; span.hint { (e) } }
                                @if d.last_status.is_none() && d.last_error.is_none() { "—" }
                            }
                            td { (layout::when(d.created_at)) }
                            td {
                                form method="post" action={ "/dashboard/events/" (d.event_id) "/replay" } {
                                    (ctx.csrf_field())
                                    input type="hidden" name="back" value="/dashboard/webhooks";
                                    button.secondary type="submit" aria-label={ (ctx.t("Replay event", "重放事件")) " " (d.event_id) } { (ctx.t("Replay", "重放")) }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn endpoint_card(ctx: &Ctx, e: &Endpoint, deliveries: &[DeliverySummary]) -> Markup {
    let mine: Vec<&DeliverySummary> = deliveries
        .iter()
        .filter(|d| d.endpoint_id == e.id)
        .collect();
    html! {
        section.card id=(e.id) aria-label=(e.url) {
            dl.facts {
                dt { "URL" } dd { code { (e.url) } }
                dt { (ctx.t("Events", "事件")) } dd { (e.enabled_events.join(", ")) }
                dt { (ctx.t("Created", "创建时间")) } dd { (layout::when(e.created_at)) }
                dt { (ctx.t("State", "状态")) } dd { (layout::badge("active")) }
                dt { "ID" } dd { code { (e.id) } }
            }
            div.actions {
                form method="post" action={ "/dashboard/webhooks/" (e.id) "/roll" } {
                    (ctx.csrf_field())
                    div {
                        label for={ "grace-" (e.id) } { (ctx.t("Old secret keeps signing for", "旧密钥继续签名")) }
                        select id={ "grace-" (e.id) } name="expires_in" {
                            option value="0" { (ctx.t("no time: retire it now", "不保留：立即停用")) }
                            option value="3600" { (ctx.t("1 hour", "1 小时")) }
                            option value="86400" selected { (ctx.t("24 hours", "24 小时")) }
                            option value="604800" { (ctx.t("7 days", "7 天")) }
                        }
                    }
                    button.secondary type="submit" { (ctx.t("Roll secret", "更换密钥")) }
                }
                a.button.secondary href={ "/dashboard/webhooks/" (e.id) "/disable" } { (ctx.t("Disable…", "停用…")) }
            }
            h3 { (ctx.t("Recent deliveries", "最近投递")) }
            (deliveries_table(ctx, &mine))
        }
    }
}

async fn list_page(
    state: &AppState,
    ctx: &Ctx,
    status: StatusCode,
    top: Markup,
    form: Markup,
) -> Response {
    let svc = state.services();
    let endpoints = match webhooks::list(svc).await {
        Ok(e) => e,
        Err(e) => return auth::unavailable(ctx.lang, &e),
    };
    let deliveries = match webhooks::recent_deliveries(svc, DELIVERIES_SHOWN).await {
        Ok(d) => d,
        Err(e) => return auth::unavailable(ctx.lang, &e),
    };
    let body = html! {
        (top)
        (form)
        h2 { (ctx.t("Endpoints", "端点")) }
        @if endpoints.is_empty() {
            p.hint { (ctx.t("No endpoint yet: events are kept, but sent nowhere.", "还没有端点：事件会保存，但不会发送。")) }
        }
        @for e in &endpoints {
            (endpoint_card(ctx, e, &deliveries))
        }
    };
    layout::page_with_status(
        ctx,
        status,
        Section::Webhooks,
        ctx.t("Webhooks", "Webhook"),
        body,
    )
}

/// `GET /dashboard/webhooks`
pub async fn show(State(state): State<AppState>, ctx: Ctx, Query(q): Query<Notice>) -> Response {
    let top = notice(&ctx, q.notice.as_deref());
    let form = create_form(&ctx, "", None);
    list_page(&state, &ctx, StatusCode::OK, top, form).await
}

/// The secret of an endpoint, on the one page that shows it.
fn secret_page(ctx: &Ctx, title: &str, url: &str, secret: &str, after_roll: bool) -> Response {
    let body = html! {
        div.card {
            p { (ctx.t("Endpoint", "端点")) ": " code { (url) } }
            label for="secret" { (ctx.t("Signing secret", "签名密钥")) }
            p.secret #secret { (secret) }
            p.problem role="alert" {
                (ctx.t("Copy it now: it is not shown again. Keep it where your receiver verifies Paybridge-Signature.", "请立即复制：它不会再次显示。把它保存在接收方校验 Paybridge-Signature 的地方。"))
            }
            @if after_roll {
                p.hint { (ctx.t("Until the grace period ends, deliveries carry a signature with the old secret too.", "宽限期内，投递同时带有旧密钥的签名。")) }
            }
            p { a.button href="/dashboard/webhooks" { (ctx.t("I have copied it", "我已复制")) } }
        }
    };
    layout::page(ctx, Section::Webhooks, title, body)
}

/// The create form's fields: `url` and any number of `event` checkboxes.
type Fields = Vec<(String, String)>;

/// `POST /dashboard/webhooks`
pub async fn create(State(state): State<AppState>, posted: Posted<Fields>) -> Response {
    let Posted { ctx, form } = posted;
    let url = form
        .iter()
        .find(|(k, _)| k == "url")
        .map(|(_, v)| v.clone())
        .unwrap_or_default();
    let mut events: Vec<String> = form
        .iter()
        .filter(|(k, _)| k == "event")
        .map(|(_, v)| v.clone())
        .collect();
    if events.iter().any(|e| e == "*") {
        events = vec!["*".to_owned()];
    }
    let svc = state.services();
    let req = CreateEndpoint {
        url: url.clone(),
        enabled_events: Some(events.clone()),
    };
    match webhooks::create(svc, req).await {
        Ok(endpoint) => {
            let detail = json!({"url": endpoint.url, "enabled_events": endpoint.enabled_events});
            if let Err(page) = ctx
                .audit(svc, "webhook_endpoint.create", &endpoint.id, &detail)
                .await
            {
                return page;
            }
            let secret = endpoint.secret.clone().unwrap_or_default();
            secret_page(
                &ctx,
                ctx.t("Endpoint added", "端点已添加"),
                &endpoint.url,
                &secret,
                false,
            )
        }
        Err(ServiceError::Invalid(invalid)) => {
            let problem = if invalid.param == "enabled_events" {
                ctx.t(
                    "Choose at least one event, or all events.",
                    "请至少选择一个事件，或选择全部事件。",
                )
                .to_owned()
            } else {
                format!("{}: {}", invalid.param, invalid.message)
            };
            let form = create_form(&ctx, &url, Some(&problem));
            list_page(
                &state,
                &ctx,
                StatusCode::UNPROCESSABLE_ENTITY,
                html! {},
                form,
            )
            .await
        }
        Err(e) => auth::unavailable(ctx.lang, &e),
    }
}

fn not_found(ctx: &Ctx) -> Response {
    layout::page_with_status(
        ctx,
        StatusCode::NOT_FOUND,
        Section::Webhooks,
        ctx.t("No such endpoint", "没有这个端点"),
        html! { p { a href="/dashboard/webhooks" { (ctx.t("Back to webhooks", "返回 Webhook")) } } },
    )
}

#[derive(Deserialize)]
pub struct Roll {
    expires_in: Option<i64>,
}

/// `POST /dashboard/webhooks/{id}/roll`
pub async fn roll(
    State(state): State<AppState>,
    Path(id): Path<String>,
    posted: Posted<Roll>,
) -> Response {
    let Posted { ctx, form } = posted;
    let svc = state.services();
    let req = RollSecret {
        expires_in: form.expires_in,
    };
    match webhooks::roll_secret(svc, &id, req).await {
        Ok(endpoint) => {
            let detail = json!({"expires_in": form.expires_in, "previous_secret_expires_at": endpoint.previous_secret_expires_at});
            if let Err(page) = ctx
                .audit(svc, "webhook_endpoint.roll_secret", &id, &detail)
                .await
            {
                return page;
            }
            let secret = endpoint.secret.clone().unwrap_or_default();
            secret_page(
                &ctx,
                ctx.t("Secret rolled", "密钥已更换"),
                &endpoint.url,
                &secret,
                endpoint.previous_secret_expires_at.is_some(),
            )
        }
        Err(ServiceError::NotFound { .. }) => not_found(&ctx),
        Err(ServiceError::Invalid(invalid)) => layout::page_with_status(
            &ctx,
            StatusCode::UNPROCESSABLE_ENTITY,
            Section::Webhooks,
            ctx.t("The secret was not rolled", "密钥未更换"),
            html! { p.problem role="alert" { (invalid.param) ": " (invalid.message) } },
        ),
        Err(e) => auth::unavailable(ctx.lang, &e),
    }
}

/// `GET /dashboard/webhooks/{id}/disable`: what disabling does, and the button that does it.
pub async fn confirm_disable(
    State(state): State<AppState>,
    Path(id): Path<String>,
    ctx: Ctx,
) -> Response {
    let endpoints = match webhooks::list(state.services()).await {
        Ok(e) => e,
        Err(e) => return auth::unavailable(ctx.lang, &e),
    };
    let Some(endpoint) = endpoints.iter().find(|e| e.id == id) else {
        return not_found(&ctx);
    };
    layout::confirm(
        &ctx,
        Section::Webhooks,
        &layout::Confirm {
            question: ctx.t("Disable the endpoint", "停用端点"),
            object: &endpoint.url,
            warning: ctx.t("Nothing more is sent to it, and its deliveries not yet made are dropped. This cannot be undone: add it again to receive events.", "此后不再向它发送任何事件，未完成的投递会被丢弃。此操作不可撤销：如需再次接收事件，请重新添加。"),
            action: format!("/dashboard/webhooks/{}/disable", endpoint.id),
            button: ctx.t("Disable endpoint", "停用端点"),
            back: "/dashboard/webhooks",
        },
    )
}

/// `POST /dashboard/webhooks/{id}/disable`
pub async fn disable(
    State(state): State<AppState>,
    Path(id): Path<String>,
    posted: Posted<NoFields>,
) -> Response {
    let ctx = posted.ctx;
    let svc = state.services();
    match webhooks::delete(svc, &id).await {
        Ok(()) => {
            if let Err(page) = ctx
                .audit(svc, "webhook_endpoint.disable", &id, &json!({}))
                .await
            {
                return page;
            }
            Redirect::to("/dashboard/webhooks?notice=disabled").into_response()
        }
        Err(ServiceError::NotFound { .. }) => not_found(&ctx),
        Err(e) => auth::unavailable(ctx.lang, &e),
    }
}
