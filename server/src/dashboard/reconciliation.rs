//! `/dashboard/reconciliation`: the latest run of WeChat's trade bill against paybridge's
//! records (its day, when, outcome, counts and every difference, linked to the payment), the
//! earlier runs, the daily schedule, and a form to reconcile a day now.

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};
use serde::Deserialize;
use serde_json::{Value, json};

use super::auth::{self, Posted};
use super::layout::{self, Ctx, Section};
use crate::service::reconciliations::{self, Reconciliation, Refused, Trigger};
use crate::state::AppState;

const PAGE: i64 = 20;

#[derive(Deserialize)]
pub struct Params {
    before: Option<i64>,
    notice: Option<String>,
}

fn yesterday() -> String {
    let today = reconciliations::today();
    reconciliations::date_text(today.previous_day().unwrap_or(today))
}

fn run_form(ctx: &Ctx, date: &str, problem: Option<&str>) -> Markup {
    html! {
        section.card aria-labelledby="run-now" {
            h2 #run-now { (ctx.t("Reconcile a day now", "立即对账")) }
            @if let Some(p) = problem {
                p.problem role="alert" { (p) }
            }
            form.actions method="post" action="/dashboard/reconciliation" {
                (ctx.csrf_field())
                div {
                    label for="bill-date" { (ctx.t("Bill date (Beijing time)", "账单日期（北京时间）")) }
                    input #bill-date type="date" name="date" value=(date) max=(reconciliations::date_text(reconciliations::today())) required;
                }
                button type="submit" { (ctx.t("Reconcile", "对账")) }
            }
        }
    }
}

fn summary(r: &Reconciliation) -> Value {
    serde_json::from_str(&r.summary).unwrap_or(Value::Null)
}

fn count(v: &Value, key: &str) -> String {
    v[key]
        .as_u64()
        .map_or_else(|| "—".to_owned(), |n| n.to_string())
}

fn trigger(ctx: &Ctx, s: &Value) -> String {
    match s["trigger"].as_str() {
        Some("schedule") => ctx.t("daily schedule", "每日定时").to_owned(),
        Some("command") => ctx.t("command line", "命令行").to_owned(),
        Some("operator") => s["operator"].as_str().unwrap_or("").to_owned(),
        _ => String::new(),
    }
}

fn differences(ctx: &Ctx, r: &Reconciliation) -> Markup {
    let list: Vec<Value> = serde_json::from_str(&r.differences).unwrap_or_default();
    if list.is_empty() {
        return html! {};
    }
    html! {
        div.table-wrap {
            table {
                caption.sr-only { (ctx.t("Differences", "差异")) }
                thead { tr {
                    th { (ctx.t("Payment or order", "支付或订单")) }
                    th { (ctx.t("Difference", "差异")) }
                } }
                tbody {
                    @for d in &list {
                        tr {
                            td {
                                @match (d["payment"].as_str(), d["out_trade_no"].as_str()) {
                                    (Some(p), _) if p.starts_with("pay_") => { a href={ "/dashboard/payments/" (p) } { code { (p) } } }
                                    (Some(p), _) => { code { (p) } }
                                    (None, Some(o)) => { code { (o) } }
                                    (None, None) => { "—" }
                                }
                            }
                            td { (d["text"].as_str().unwrap_or_default()) }
                        }
                    }
                }
            }
        }
    }
}

fn latest(ctx: &Ctx, r: &Reconciliation) -> Markup {
    let s = summary(r);
    html! {
        section.card #(r.id) aria-labelledby="latest-run" {
            h2 #latest-run { (ctx.t("Latest run", "最近一次")) }
            dl.facts {
                dt { (ctx.t("Bill date", "账单日期")) } dd { (r.bill_date) }
                dt { (ctx.t("Ran at", "运行时间")) } dd { (layout::when(r.ran_at)) }
                dt { (ctx.t("Outcome", "结果")) } dd { (layout::badge(&r.outcome)) }
                dt { (ctx.t("Bill rows", "账单行数")) } dd { (count(&s, "rows")) }
                dt { (ctx.t("Matched", "已核对")) } dd { (count(&s, "matched")) }
                dt { (ctx.t("Differences", "差异")) } dd { (count(&s, "differences")) }
                dt { (ctx.t("Started by", "发起")) } dd { (trigger(ctx, &s)) }
                @if let Some(e) = s["error"].as_str() {
                    dt { (ctx.t("Why it failed", "失败原因")) } dd { (e) }
                }
            }
            (differences(ctx, r))
        }
    }
}

fn earlier(ctx: &Ctx, runs: &[Reconciliation]) -> Markup {
    html! {
        div.table-wrap {
            table {
                thead { tr {
                    th { (ctx.t("Bill date", "账单日期")) }
                    th { (ctx.t("Ran at", "运行时间")) }
                    th { (ctx.t("Outcome", "结果")) }
                    th.num { (ctx.t("Rows", "行数")) }
                    th.num { (ctx.t("Matched", "已核对")) }
                    th { (ctx.t("Differences", "差异")) }
                    th { (ctx.t("Started by", "发起")) }
                } }
                tbody {
                    @for r in runs {
                        @let s = summary(r);
                        tr id=(r.id) {
                            td { (r.bill_date) }
                            td { (layout::when(r.ran_at)) }
                            td { (layout::badge(&r.outcome)) }
                            td.num { (count(&s, "rows")) }
                            td.num { (count(&s, "matched")) }
                            td {
                                @if r.outcome == "differences" {
                                    details {
                                        summary { (count(&s, "differences")) }
                                        (differences(ctx, r))
                                    }
                                } @else if let Some(e) = s["error"].as_str() {
                                    span.hint { (e) }
                                } @else {
                                    (count(&s, "differences"))
                                }
                            }
                            td { (trigger(ctx, &s)) }
                        }
                    }
                }
            }
        }
    }
}

async fn page(
    state: &AppState,
    ctx: &Ctx,
    q: &Params,
    status: StatusCode,
    form: Markup,
) -> Response {
    let runs = match reconciliations::list(state.services(), q.before, PAGE).await {
        Ok(r) => r,
        Err(e) => return auth::unavailable(ctx.lang, &e),
    };
    let schedule = state.config().jobs.reconcile_at;
    let (first, rest) = match (q.before, runs.split_first()) {
        (None, Some((first, rest))) => (Some(first), rest),
        _ => (None, runs.as_slice()),
    };
    let older = runs
        .last()
        .filter(|_| i64::try_from(runs.len()).is_ok_and(|n| n == PAGE))
        .map(|r| r.ran_at);
    let body = html! {
        @if q.notice.as_deref() == Some("reconciled") {
            p.notice role="status" { (ctx.t("The day is reconciled; its result is below.", "已完成对账，结果见下方。")) }
        }
        p.hint {
            @if let Some(at) = schedule {
                (ctx.t("Each day at", "每天北京时间")) " " (format!("{:02}:{:02}", at.hour(), at.minute())) " "
                (ctx.t("(Beijing time) the previous day's bill is reconciled.", "自动核对前一天的账单。"))
            } @else {
                (ctx.t("No daily run is scheduled: set PAYBRIDGE_RECONCILE_AT=HH:MM (Beijing time) to have one.", "未设置每日对账：设置 PAYBRIDGE_RECONCILE_AT=HH:MM（北京时间）即可启用。"))
            }
        }
        (form)
        @if let Some(r) = first {
            (latest(ctx, r))
        }
        @if runs.is_empty() {
            p.hint { (ctx.t("No runs yet.", "还没有对账记录。")) }
        }
        @if !rest.is_empty() {
            h2 { (ctx.t("Earlier runs", "更早的记录")) }
            (earlier(ctx, rest))
        }
        nav.pager aria-label=(ctx.t("Pages", "分页")) {
            @if q.before.is_some() {
                a href="/dashboard/reconciliation" { (ctx.t("Newest", "最新")) }
            }
            @if let Some(at) = older {
                a href={ "/dashboard/reconciliation?before=" (at) } { (ctx.t("Older", "更早")) }
            }
        }
    };
    layout::page_with_status(
        ctx,
        status,
        Section::Reconciliation,
        ctx.t("Reconciliation", "对账"),
        body,
    )
}

/// `GET /dashboard/reconciliation`
pub async fn show(State(state): State<AppState>, ctx: Ctx, Query(q): Query<Params>) -> Response {
    let form = run_form(&ctx, &yesterday(), None);
    page(&state, &ctx, &q, StatusCode::OK, form).await
}

#[derive(Deserialize)]
pub struct RunNow {
    #[serde(default)]
    date: String,
}

/// `POST /dashboard/reconciliation`: reconciles the day now, through the same service as the
/// schedule and the command line.
pub async fn run(State(state): State<AppState>, posted: Posted<RunNow>) -> Response {
    let Posted { ctx, form } = posted;
    let svc = state.services();
    let trigger = Trigger::Operator(ctx.signed_in.operator.username.clone());
    let problem = match reconciliations::run(svc, &form.date, trigger).await {
        Ok(r) => {
            let s = summary(&r);
            let detail = json!({"bill_date": r.bill_date, "outcome": r.outcome, "differences": s["differences"]});
            if let Err(page) = ctx.audit(svc, "reconciliation.run", &r.id, &detail).await {
                return page;
            }
            return Redirect::to("/dashboard/reconciliation?notice=reconciled").into_response();
        }
        Err(Refused::Date) => ctx.t(
            "Choose a day no later than today (Beijing time).",
            "请选择不晚于今天（北京时间）的日期。",
        ),
        Err(Refused::NoWechat) => ctx.t(
            "WeChat Pay is not configured here: there is no bill to reconcile.",
            "此服务器未配置微信支付，没有可核对的账单。",
        ),
        Err(Refused::Db(e)) => return auth::unavailable(ctx.lang, &e),
    };
    let q = Params {
        before: None,
        notice: None,
    };
    let form_markup = run_form(&ctx, &form.date, Some(problem));
    page(
        &state,
        &ctx,
        &q,
        StatusCode::UNPROCESSABLE_ENTITY,
        form_markup,
    )
    .await
}
