//! `/dashboard/audit`: what operators did, newest first, fifty to a page (`?before=seq`), each
//! target linked to its page.

use axum::extract::{Query, State};
use axum::response::Response;
use maud::{Markup, html};
use serde::Deserialize;

use super::auth;
use super::layout::{self, Ctx, Section};
use crate::service::audit;
use crate::state::AppState;

const PAGE: i64 = 50;

#[derive(Deserialize)]
pub struct Page {
    before: Option<i64>,
}

/// The dashboard page of an object, by its id's prefix.
fn target_link(target: &str) -> Option<String> {
    let page = [
        ("pay_", "/dashboard/payments/"),
        ("cs_", "/dashboard/sessions/"),
        ("pi_", "/dashboard/intents/"),
        ("re_", "/dashboard/refunds/"),
        ("evt_", "/dashboard/events/"),
        ("we_", "/dashboard/webhooks#"),
        ("key_", "/dashboard/keys#"),
        ("recon_", "/dashboard/reconciliation#"),
    ];
    let safe = target
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'_');
    page.iter()
        .find(|(prefix, _)| target.starts_with(prefix))
        .filter(|_| safe)
        .map(|(_, path)| format!("{path}{target}"))
}

fn target(t: &str) -> Markup {
    match target_link(t) {
        Some(href) => html! { a href=(href) { code { (t) } } },
        None => html! { code { (t) } },
    }
}

/// `GET /dashboard/audit`
pub async fn show(State(state): State<AppState>, ctx: Ctx, Query(q): Query<Page>) -> Response {
    let entries = match audit::list(state.services(), None, q.before, PAGE).await {
        Ok(e) => e,
        Err(e) => return auth::unavailable(ctx.lang, &e),
    };
    let older = entries
        .last()
        .filter(|_| i64::try_from(entries.len()).is_ok_and(|n| n == PAGE))
        .map(|e| e.seq);
    let body = html! {
        @if entries.is_empty() {
            p.hint { (ctx.t("Nothing recorded yet.", "暂无记录。")) }
        } @else {
            div.table-wrap {
                table {
                    thead { tr {
                        th { (ctx.t("When", "时间")) }
                        th { (ctx.t("Who", "操作员")) }
                        th { (ctx.t("What", "操作")) }
                        th { (ctx.t("Target", "对象")) }
                        th { (ctx.t("Detail", "详情")) }
                    } }
                    tbody {
                        @for e in &entries {
                            tr {
                                td { (layout::when(e.at)) }
                                td { (e.username) }
                                td { code { (e.action) } }
                                td { (target(&e.target)) }
                                td { @if e.detail != "{}" { code { (e.detail) } } }
                            }
                        }
                    }
                }
            }
        }
        nav.pager aria-label=(ctx.t("Pages", "分页")) {
            @if q.before.is_some() {
                a href="/dashboard/audit" { (ctx.t("Newest", "最新")) }
            }
            @if let Some(seq) = older {
                a href={ "/dashboard/audit?before=" (seq) } { (ctx.t("Older", "更早")) }
            }
        }
    };
    layout::page(&ctx, Section::Audit, ctx.t("Audit log", "操作日志"), body)
}

#[cfg(test)]
mod tests {
    use super::target_link;

    #[test]
    fn targets_link_to_their_pages() {
        assert_eq!(
            target_link("pay_ab12").as_deref(),
            Some("/dashboard/payments/pay_ab12")
        );
        assert_eq!(
            target_link("cs_ab12").as_deref(),
            Some("/dashboard/sessions/cs_ab12")
        );
        assert_eq!(target_link("-"), None);
        assert_eq!(target_link("pay_\"><x"), None);
    }
}
