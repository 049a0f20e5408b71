//! `POST /dashboard/events/{id}/replay`: queues an event's webhooks again (as `paybridge events
//! replay` does), records it in the audit log, and goes back to the page it came from.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use maud::html;
use serde::Deserialize;
use serde_json::json;

use super::auth::{self, Posted};
use super::layout::{self, Section};
use crate::service::{ServiceError, webhooks};
use crate::state::AppState;

#[derive(Deserialize)]
pub struct Replay {
    /// The dashboard page to return to.
    back: Option<String>,
}

/// `back` when it is a dashboard page, else the event's own page: never another site.
fn back_to(back: Option<&str>, event: &str) -> String {
    back.filter(|b| {
        (b.starts_with("/dashboard/") || *b == "/dashboard")
            && !b.contains("//")
            && !b.contains('\\')
            && !b.contains('?')
            && !b.contains('#')
    })
    .map_or_else(|| format!("/dashboard/events/{event}"), str::to_owned)
}

/// `POST /dashboard/events/{id}/replay`
pub async fn replay(
    State(state): State<AppState>,
    Path(id): Path<String>,
    posted: Posted<Replay>,
) -> Response {
    let Posted { ctx, form } = posted;
    let svc = state.services();
    match webhooks::replay(svc, &id).await {
        Ok(queued) => {
            let detail = json!({ "queued": queued });
            if let Err(page) = ctx.audit(svc, "event.replay", &id, &detail).await {
                return page;
            }
            let back = back_to(form.back.as_deref(), &id);
            Redirect::to(&format!("{back}?notice=replayed")).into_response()
        }
        Err(ServiceError::NotFound { .. }) => layout::page_with_status(
            &ctx,
            StatusCode::NOT_FOUND,
            Section::Webhooks,
            ctx.t("No such event", "没有这个事件"),
            html! { p { a href="/dashboard/webhooks" { (ctx.t("Back to webhooks", "返回 Webhook")) } } },
        ),
        Err(e) => auth::unavailable(ctx.lang, &e),
    }
}

#[cfg(test)]
mod tests {
    use super::back_to;

    #[test]
    fn replay_only_returns_to_dashboard_pages() {
        let event_page = "/dashboard/events/evt_1";
        assert_eq!(
            back_to(Some("/dashboard/webhooks"), "evt_1"),
            "/dashboard/webhooks"
        );
        assert_eq!(back_to(Some("https://evil.example/"), "evt_1"), event_page);
        assert_eq!(back_to(Some("//evil.example"), "evt_1"), event_page);
        assert_eq!(back_to(Some("/dashboard/x?notice=1"), "evt_1"), event_page);
        assert_eq!(back_to(None, "evt_1"), event_page);
    }
}
