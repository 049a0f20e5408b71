//! `/dashboard/keys`: the merchant API keys of this server's mode — listed without their
//! secrets, created (the key shown on the answer page only), revoked after a confirmation.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};
use serde::Deserialize;
use serde_json::json;

use super::auth::{self, NoFields, Posted};
use super::layout::{self, Ctx, Section};
use crate::service::api_keys;
use crate::state::AppState;

#[derive(Deserialize)]
pub struct Notice {
    notice: Option<String>,
}

fn notice(ctx: &Ctx, code: Option<&str>) -> Markup {
    match code {
        Some("revoked") => html! {
            p.notice role="status" { (ctx.t("The key is revoked: requests made with it are refused from now on.", "密钥已吊销：此后使用它的请求都会被拒绝。")) }
        },
        _ => html! {},
    }
}

/// `GET /dashboard/keys`
pub async fn show(State(state): State<AppState>, ctx: Ctx, Query(q): Query<Notice>) -> Response {
    let svc = state.services();
    let keys = match api_keys::list(svc).await {
        Ok(k) => k,
        Err(e) => return auth::unavailable(ctx.lang, &e),
    };
    let mode = api_keys::mode(svc);
    let body = html! {
        (notice(&ctx, q.notice.as_deref()))
        section.card aria-labelledby="new-key" {
            h2 #new-key { (ctx.t("Create a key", "创建密钥")) }
            p.hint {
                (ctx.t("A new key works at once for the merchant API of this server, mode:", "新密钥立即可用于本服务器的商户 API，模式："))
                " " code { "sk_" (mode) "_…" }
            }
            form method="post" action="/dashboard/keys" {
                (ctx.csrf_field())
                button type="submit" { (ctx.t("Create key", "创建密钥")) }
            }
        }
        h2 { (ctx.t("Keys", "密钥")) }
        @if keys.is_empty() {
            p.hint { (ctx.t("No keys yet.", "还没有密钥。")) }
        } @else {
            div.table-wrap {
                table {
                    thead { tr {
                        th { (ctx.t("Key", "密钥")) }
                        th { (ctx.t("Mode", "模式")) }
                        th { (ctx.t("Created", "创建时间")) }
                        th { (ctx.t("State", "状态")) }
                        th { span.sr-only { (ctx.t("Actions", "操作")) } }
                    } }
                    tbody {
                        @for k in &keys {
                            tr id=(k.id) {
                                td { code { (k.display) } br; span.hint { (k.id) } }
                                td { (k.mode) }
                                td { (layout::when(k.created_at)) }
                                td {
                                    @if let Some(at) = k.revoked_at {
                                        (layout::badge("revoked")) " " span.hint { (layout::when(at)) }
                                    } @else {
                                        (layout::badge("active"))
                                    }
                                }
                                td {
                                    @if k.revoked_at.is_none() {
                                        a.button.secondary href={ "/dashboard/keys/" (k.id) "/revoke" } aria-label={ (ctx.t("Revoke key", "吊销密钥")) " " (k.display) } { (ctx.t("Revoke…", "吊销…")) }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    };
    layout::page(&ctx, Section::Keys, ctx.t("API keys", "API 密钥"), body)
}

/// `POST /dashboard/keys`: the new key, on the one page that shows it.
pub async fn create(State(state): State<AppState>, posted: Posted<NoFields>) -> Response {
    let ctx = posted.ctx;
    let svc = state.services();
    let (key, secret) = match api_keys::create(svc).await {
        Ok(k) => k,
        Err(e) => return auth::unavailable(ctx.lang, &e),
    };
    let detail = json!({ "mode": key.mode });
    if let Err(page) = ctx.audit(svc, "api_key.create", &key.id, &detail).await {
        return page;
    }
    let body = html! {
        div.card {
            label for="api-key" { (ctx.t("Your new API key", "新的 API 密钥")) }
            p.secret #api-key { (secret.expose()) }
            p.problem role="alert" {
                (ctx.t("Copy it now: it is not shown again. paybridge keeps only its hash, so a lost key cannot be recovered — revoke it and create another.", "请立即复制：它不会再次显示。paybridge 只保存它的哈希，丢失后无法找回——请吊销它并创建新的密钥。"))
            }
            p.hint { (ctx.t("Send it as Authorization: Bearer … with each merchant API request.", "每个商户 API 请求都以 Authorization: Bearer … 携带它。")) }
            p { a.button href="/dashboard/keys" { (ctx.t("I have copied it", "我已复制")) } }
        }
    };
    layout::page(
        &ctx,
        Section::Keys,
        ctx.t("Key created", "密钥已创建"),
        body,
    )
}

fn not_active(ctx: &Ctx) -> Response {
    layout::page_with_status(
        ctx,
        StatusCode::NOT_FOUND,
        Section::Keys,
        ctx.t("No such active key", "没有这个有效密钥"),
        html! { p { a href="/dashboard/keys" { (ctx.t("Back to API keys", "返回 API 密钥")) } } },
    )
}

/// `GET /dashboard/keys/{id}/revoke`: what revoking does, and the button that does it.
pub async fn confirm_revoke(
    State(state): State<AppState>,
    Path(id): Path<String>,
    ctx: Ctx,
) -> Response {
    let keys = match api_keys::list(state.services()).await {
        Ok(k) => k,
        Err(e) => return auth::unavailable(ctx.lang, &e),
    };
    let Some(key) = keys.iter().find(|k| k.id == id && k.revoked_at.is_none()) else {
        return not_active(&ctx);
    };
    layout::confirm(
        &ctx,
        Section::Keys,
        &layout::Confirm {
            question: ctx.t("Revoke the key", "吊销密钥"),
            object: &key.display,
            warning: ctx.t(
                "Every request made with it is refused from now on. This cannot be undone.",
                "此后使用它的每个请求都会被拒绝。此操作不可撤销。",
            ),
            action: format!("/dashboard/keys/{}/revoke", key.id),
            button: ctx.t("Revoke key", "吊销密钥"),
            back: "/dashboard/keys",
        },
    )
}

/// `POST /dashboard/keys/{id}/revoke`
pub async fn revoke(
    State(state): State<AppState>,
    Path(id): Path<String>,
    posted: Posted<NoFields>,
) -> Response {
    let ctx = posted.ctx;
    let svc = state.services();
    match api_keys::revoke(svc, &id).await {
        Ok(true) => {
            if let Err(page) = ctx.audit(svc, "api_key.revoke", &id, &json!({})).await {
                return page;
            }
            Redirect::to("/dashboard/keys?notice=revoked").into_response()
        }
        Ok(false) => not_active(&ctx),
        Err(e) => auth::unavailable(ctx.lang, &e),
    }
}
