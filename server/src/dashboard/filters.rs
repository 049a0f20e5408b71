//! The filter bar every list shares: choices as selects, days as date inputs, one search box
//! for any id, all in the query string so a filtered list can be bookmarked or shared.

use maud::{Markup, html};

use super::layout::{Ctx, url_encode};
use crate::service::browse::{self, Criteria};

/// Which filters a list offers.
pub struct Offer {
    pub statuses: &'static [&'static str],
    pub payment_fields: bool,
}

fn select(ctx: &Ctx, name: &str, label: &str, choices: &[&str], current: &str) -> Markup {
    let id = format!("f-{name}");
    html! {
        div.field {
            label for=(id) { (label) }
            select #(id) name=(name) {
                option value="" selected[current.is_empty()] { (ctx.t("Any", "全部")) }
                @for c in choices {
                    option value=(c) selected[*c == current] { (c) }
                }
            }
        }
    }
}

/// The filter form, submitting to `action` by GET.
#[must_use]
pub fn form(ctx: &Ctx, action: &str, offer: &Offer, c: &Criteria) -> Markup {
    html! {
        form.filters method="get" action=(action) role="search" {
            div.field.search {
                label for="f-q" { (ctx.t("Search by id, merchant reference, transaction id or out_trade_no", "按编号、商户订单号、交易单号或 out_trade_no 搜索")) }
                input #f-q type="search" name="q" value=(c.q) autocomplete="off";
            }
            (select(ctx, "status", ctx.t("Status", "状态"), offer.statuses, &c.status))
            @if offer.payment_fields {
                (select(ctx, "method", ctx.t("Method", "支付方式"), &browse::METHODS, &c.method))
                (select(ctx, "channel", ctx.t("Channel", "渠道"), &browse::CHANNELS, &c.channel))
                (select(ctx, "environment", ctx.t("Environment", "环境"), &browse::ENVIRONMENTS, &c.environment))
            }
            div.field {
                label for="f-from" { (ctx.t("From", "开始日期")) }
                input #f-from type="date" name="from" value=(c.from);
            }
            div.field {
                label for="f-to" { (ctx.t("To", "结束日期")) }
                input #f-to type="date" name="to" value=(c.to);
            }
            button type="submit" { (ctx.t("Filter", "筛选")) }
        }
    }
}

/// The query string of `c` on another page.
fn query(c: &Criteria, page: i64) -> String {
    let pairs = [
        ("q", c.q.as_str()),
        ("status", c.status.as_str()),
        ("method", c.method.as_str()),
        ("channel", c.channel.as_str()),
        ("environment", c.environment.as_str()),
        ("from", c.from.as_str()),
        ("to", c.to.as_str()),
    ];
    let mut out: Vec<String> = pairs
        .iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| format!("{k}={}", url_encode(v)))
        .collect();
    out.push(format!("page={page}"));
    out.join("&")
}

/// Previous/next links; `full` when this page had a whole page of rows.
#[must_use]
pub fn pager(ctx: &Ctx, action: &str, c: &Criteria, full: bool) -> Markup {
    html! {
        nav.pager aria-label=(ctx.t("Pages", "分页")) {
            @if c.page > 0 {
                a href={ (action) "?" (query(c, c.page - 1)) } rel="prev" { (ctx.t("← Newer", "← 较新")) }
            }
            @if full {
                a href={ (action) "?" (query(c, c.page + 1)) } rel="next" { (ctx.t("Older →", "较早 →")) }
            }
        }
    }
}
