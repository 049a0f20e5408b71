//! `/dashboard`: the overview.

use axum::response::Response;
use maud::html;

use super::layout::{self, Ctx, Section};

/// `GET /dashboard`
pub async fn show(ctx: Ctx) -> Response {
    let title = ctx.t("Overview", "概览");
    layout::page(&ctx, Section::Overview, title, html! {})
}
