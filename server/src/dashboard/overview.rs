//! `/dashboard`: the overview. KPIs of a range of Beijing days (`?days=7|14|30|90`), charts of
//! each day drawn as SVG with their numbers as tables, and the checkout funnel per environment.

use axum::extract::{RawQuery, State};
use axum::response::Response;
use maud::{Markup, html};
use time::OffsetDateTime;

use super::auth;
use super::charts::{self, Datum};
use super::layout::{self, Ctx, Lang, Section};
use crate::domain::now_millis;
use crate::service::insights::{self, Day, Funnel, Overview, Range};
use crate::state::AppState;

/// `GET /dashboard`
pub async fn show(State(state): State<AppState>, ctx: Ctx, RawQuery(query): RawQuery) -> Response {
    let days = query.as_deref().and_then(|q| {
        url::form_urlencoded::parse(q.as_bytes())
            .find(|(k, _)| k == "days")
            .and_then(|(_, v)| v.parse::<i64>().ok())
    });
    let range = Range::ending(now_millis(), days);
    match insights::overview(state.services(), range).await {
        Ok(o) => {
            let title = ctx.t("Overview", "概览");
            layout::page(&ctx, Section::Overview, title, body(&ctx, &o))
        }
        Err(e) => auth::unavailable(ctx.lang, &e),
    }
}

/// `2026-12-07` of a Beijing day's number.
fn date(day: i64) -> String {
    OffsetDateTime::from_unix_timestamp(day.saturating_mul(86_400))
        .map(|t| t.date().to_string())
        .unwrap_or_default()
}

/// `12-07`: the date without its year, under a chart's axis.
fn short_date(day: i64) -> String {
    date(day).get(5..).unwrap_or_default().to_owned()
}

/// `66.7%` of `part / whole` (rounded half up in integer arithmetic), `–` for no whole.
fn percent(part: i64, whole: i64) -> String {
    if whole <= 0 {
        return "–".to_owned();
    }
    let tenths = (part.saturating_mul(1000) + whole / 2) / whole;
    format!("{}.{}%", tenths / 10, tenths % 10)
}

fn cny(amount: i64) -> String {
    layout::money(amount, "CNY")
}

/// Money on a chart's axis: whole yuan without the fen (`¥20`), else exact (`¥0.50`).
fn axis_money(fen: i64) -> String {
    if fen % 100 == 0 {
        format!("¥{}", fen / 100)
    } else {
        cny(fen)
    }
}

/// The environment class's name for people.
fn environment_name(lang: Lang, class: &str) -> &'static str {
    match class {
        "wechat" => lang.t("WeChat browser", "微信内浏览器"),
        "wechat_mini_program" => lang.t("WeChat mini program", "微信小程序"),
        "mobile" => lang.t("Phone browser", "手机浏览器"),
        "desktop" => lang.t("Desktop browser", "电脑浏览器"),
        "wechat_desktop" => lang.t("WeChat for desktop", "微信电脑版"),
        "wecom" => lang.t("WeCom", "企业微信"),
        "alipay" => lang.t("Alipay app", "支付宝"),
        _ => lang.t("Other", "其他"),
    }
}

fn body(ctx: &Ctx, o: &Overview) -> Markup {
    let range = o.range;
    let last = range.first_day + range.days - 1;
    html! {
        nav.ranges aria-label=(ctx.t("Range", "时间范围")) {
            ul {
                @for days in [7, 14, 30, 90] {
                    li {
                        @let label = format!("{days} {}", ctx.t("days", "天"));
                        @if days == range.days {
                            a href={ "/dashboard?days=" (days) } aria-current="page" { (label) }
                        } @else {
                            a href={ "/dashboard?days=" (days) } { (label) }
                        }
                    }
                }
            }
        }
        p.hint #range {
            (ctx.t("Beijing time, ", "北京时间，")) (date(range.first_day)) " – " (date(last))
        }
        (kpis(ctx, o))
        div.grid.charts {
            (volume_chart(ctx, o))
            (count_chart(ctx, o))
            (rate_chart(ctx, o))
        }
        (funnel(ctx, &o.funnel))
    }
}

fn kpis(ctx: &Ctx, o: &Overview) -> Markup {
    let (attempted, paid) = (o.attempted(), o.attempted_paid());
    html! {
        section.kpis aria-label=(ctx.t("Key figures", "关键指标")) {
            div.kpi {
                div.label { (ctx.t("Paid volume", "支付金额")) }
                div.value #kpi-volume { (cny(o.paid_amount())) }
            }
            div.kpi {
                div.label { (ctx.t("Payments", "支付笔数")) }
                div.value #kpi-count { (o.paid_count()) }
            }
            div.kpi {
                div.label { (ctx.t("Success rate", "支付成功率")) }
                div.value #kpi-rate { (percent(paid, attempted)) }
                div.hint #kpi-rate-detail {
                    (paid) " / " (attempted) " " (ctx.t("sessions", "个会话"))
                }
            }
            div.kpi {
                div.label { (ctx.t("Refunds", "退款")) }
                div.value #kpi-refunds { (cny(o.refunds.amount)) }
                div.hint #kpi-refund-count {
                    (o.refunds.count) " "
                    @if o.refunds.count == 1 { (ctx.t("refund", "笔")) } @else { (ctx.t("refunds", "笔")) }
                }
            }
        }
        p.hint #definitions {
            (ctx.t(
                "Paid volume and payments count checkout sessions and payment intents by the day they were paid. Success rate: of the sessions created in the range for which a payment was attempted (a QR code, cashier or payment sheet was asked for), the share that was paid.",
                "支付金额与笔数按支付当天统计收银会话和支付意图。支付成功率：本时间范围内创建、且发起过支付（请求了二维码、收银台或支付弹窗）的会话中，已支付的比例。"
            ))
        }
    }
}

/// A chart in its card: heading, the SVG, and its numbers as a table for anyone who cannot
/// see it (or wants the figures).
fn figure(heading: &str, svg: String, table: &Markup, ctx: &Ctx) -> Markup {
    html! {
        figure.card.chart-card {
            figcaption { h2 { (heading) } }
            (layout::trusted(svg))
            details {
                summary { (ctx.t("Show as a table", "以表格显示")) }
                div.table-wrap { (table) }
            }
        }
    }
}

fn day_table(ctx: &Ctx, heading: &str, days: &[Day], value: impl Fn(&Day) -> String) -> Markup {
    html! {
        table {
            thead { tr { th scope="col" { (ctx.t("Day", "日期")) } th.num scope="col" { (heading) } } }
            tbody {
                @for d in days {
                    tr { th scope="row" { (date(d.day)) } td.num { (value(d)) } }
                }
            }
        }
    }
}

fn volume_chart(ctx: &Ctx, o: &Overview) -> Markup {
    let title = ctx.t("Paid volume per day", "每日支付金额");
    let data: Vec<Datum> = o
        .days
        .iter()
        .map(|d| Datum {
            label: short_date(d.day),
            value: d.paid_amount,
            text: cny(d.paid_amount),
        })
        .collect();
    let svg = charts::bars("chart-volume", title, &data, axis_money);
    let table = day_table(ctx, ctx.t("Paid volume", "支付金额"), &o.days, |d| {
        cny(d.paid_amount)
    });
    figure(title, svg, &table, ctx)
}

fn count_chart(ctx: &Ctx, o: &Overview) -> Markup {
    let title = ctx.t("Payments per day", "每日支付笔数");
    let data: Vec<Datum> = o
        .days
        .iter()
        .map(|d| Datum {
            label: short_date(d.day),
            value: d.paid_count,
            text: d.paid_count.to_string(),
        })
        .collect();
    let svg = charts::bars("chart-count", title, &data, |n| n.to_string());
    let table = day_table(ctx, ctx.t("Payments", "支付笔数"), &o.days, |d| {
        d.paid_count.to_string()
    });
    figure(title, svg, &table, ctx)
}

fn rate_text(d: &Day) -> String {
    if d.attempted == 0 {
        "–".to_owned()
    } else {
        format!(
            "{} ({}/{})",
            percent(d.attempted_paid, d.attempted),
            d.attempted_paid,
            d.attempted
        )
    }
}

fn rate_chart(ctx: &Ctx, o: &Overview) -> Markup {
    let title = ctx.t("Success rate per day", "每日支付成功率");
    let labels: Vec<String> = o.days.iter().map(|d| short_date(d.day)).collect();
    let labels: Vec<&str> = labels.iter().map(String::as_str).collect();
    let values: Vec<Option<f64>> = o.days.iter().map(Day::success_rate).collect();
    let texts: Vec<String> = o.days.iter().map(rate_text).collect();
    let svg = charts::line("chart-rate", title, &labels, &values, &texts);
    let table = day_table(
        ctx,
        ctx.t("Paid / attempted", "已支付 / 发起支付"),
        &o.days,
        rate_text,
    );
    figure(title, svg, &table, ctx)
}

/// The environment that lost the most shoppers (opened but not paid there), if any did.
fn most_lost(funnel: &[Funnel]) -> Option<&Funnel> {
    funnel
        .iter()
        .filter(|f| f.opened > f.paid)
        .max_by_key(|f| (f.opened - f.paid, std::cmp::Reverse(f.environment)))
}

fn funnel(ctx: &Ctx, rows: &[Funnel]) -> Markup {
    let max = rows.iter().map(|f| f.opened).max().unwrap_or(0);
    html! {
        section.card #funnel aria-labelledby="funnel-heading" {
            h2 #funnel-heading { (ctx.t("Checkout funnel by environment", "各环境的支付漏斗")) }
            p.hint {
                (ctx.t(
                    "Checkout pages first opened in the range, where they were opened: how many went on to ask for a payment there, and how many paid there. Environments are classes (WeChat, phone browser, …); no user agent or personal data is kept.",
                    "本时间范围内首次打开的收银页，按打开时所在的环境：其中有多少在该环境发起了支付，多少在该环境完成了支付。环境只记录类别（微信、手机浏览器……），不保存 User-Agent 或任何个人信息。"
                ))
            }
            @if let Some(f) = most_lost(rows) {
                p.lost #funnel-lost {
                    (ctx.t("Most shoppers lost: ", "流失最多："))
                    strong { (environment_name(ctx.lang, f.environment)) }
                    " — " (f.opened - f.paid) " / " (f.opened) " "
                    (ctx.t("opened pages were not paid there.", "个打开的收银页没有在此完成支付。"))
                }
            }
            div.table-wrap {
                table.funnel {
                    thead {
                        tr {
                            th scope="col" { (ctx.t("Environment", "环境")) }
                            th.num scope="col" { (ctx.t("Opened", "打开")) }
                            th.num scope="col" { (ctx.t("Attempted", "发起支付")) }
                            th.num scope="col" { (ctx.t("Paid", "已支付")) }
                            th.num scope="col" { (ctx.t("Opened → paid", "打开 → 支付")) }
                        }
                    }
                    tbody {
                        @for f in rows {
                            tr data-env=(f.environment) {
                                th scope="row" {
                                    (environment_name(ctx.lang, f.environment))
                                    (layout::trusted(charts::funnel_meter(f.opened, f.attempted, f.paid, max)))
                                }
                                td.num data-step="opened" { (f.opened) }
                                td.num data-step="attempted" {
                                    (f.attempted)
                                    @if f.opened > 0 { " " span.pct { "(" (percent(f.attempted, f.opened)) ")" } }
                                }
                                td.num data-step="paid" {
                                    (f.paid)
                                    @if f.attempted > 0 { " " span.pct { "(" (percent(f.paid, f.attempted)) ")" } }
                                }
                                td.num data-step="conversion" { (percent(f.paid, f.opened)) }
                            }
                        }
                    }
                }
            }
            p.hint.legend aria-hidden="true" {
                span.key.opened {} (ctx.t("opened", "打开")) " "
                span.key.attempted {} (ctx.t("attempted", "发起支付")) " "
                span.key.paid {} (ctx.t("paid", "已支付"))
            }
            p.hint {
                (ctx.t(
                    "Attempted is shown as a share of opened, paid as a share of attempted. Payment intents confirmed by a merchant's own server have no page and are not in the funnel.",
                    "发起支付的百分比相对于打开数，已支付的百分比相对于发起支付数。由商户服务器确认的支付意图没有收银页，不计入漏斗。"
                ))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentages_round_half_up_without_floats() {
        assert_eq!(percent(2, 3), "66.7%");
        assert_eq!(percent(1, 3), "33.3%");
        assert_eq!(percent(1, 1), "100.0%");
        assert_eq!(percent(0, 5), "0.0%");
        assert_eq!(percent(1, 0), "–");
    }

    #[test]
    fn the_money_axis_drops_zero_fen() {
        assert_eq!(axis_money(2000), "¥20");
        assert_eq!(axis_money(0), "¥0");
        assert_eq!(axis_money(250), "¥2.50");
    }

    #[test]
    fn days_are_dates() {
        // Day 20_794 is 2026-12-07.
        assert_eq!(date(20_794), "2026-12-07");
        assert_eq!(short_date(20_794), "12-07");
    }

    #[test]
    fn the_environment_losing_most_shoppers_is_named() {
        let f = |environment, opened, paid| Funnel {
            environment,
            opened,
            attempted: paid,
            paid,
        };
        let rows = [f("wechat", 10, 9), f("mobile", 5, 1), f("desktop", 0, 0)];
        assert_eq!(most_lost(&rows).map(|f| f.environment), Some("mobile"));
        assert_eq!(most_lost(&[f("desktop", 2, 2)]), None);
    }
}
