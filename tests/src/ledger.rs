//! What WeChat (the sandbox) and paybridge each hold, side by side, for the tests and benches
//! that check one against the other: every order the provider has should be matched by exactly
//! one attempt in the order's state.

use std::collections::HashMap;

use sqlx::Row;

use crate::TestApp;

/// A payment attempt as stored.
#[derive(Debug, Clone)]
pub struct Attempt {
    pub id: String,
    pub session: String,
    pub status: String,
}

/// Every attempt by `out_trade_no`, and every sandbox order (`out_trade_no` → trade state).
///
/// # Panics
/// On a database error.
pub async fn snapshot(app: &TestApp) -> (HashMap<String, Vec<Attempt>>, HashMap<String, String>) {
    let pool = app.state.store().pool();
    let mut attempts: HashMap<String, Vec<Attempt>> = HashMap::new();
    for r in sqlx::query("SELECT id, session_id, status, out_trade_no FROM payments")
        .fetch_all(pool)
        .await
        .unwrap()
    {
        attempts
            .entry(r.get("out_trade_no"))
            .or_default()
            .push(Attempt {
                id: r.get("id"),
                session: r.get("session_id"),
                status: r.get("status"),
            });
    }
    let orders = sqlx::query("SELECT out_trade_no, trade_state FROM sandbox_orders")
        .fetch_all(pool)
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get("out_trade_no"), r.get("trade_state")))
        .collect();
    (attempts, orders)
}

/// Marks the sandbox's orders `trade_nos` paid as its pay sheets would (state, WeChat's
/// transaction id `4200<out_trade_no>`, a payer) without notifying anyone: the caller sends
/// WeChat's notifications itself.
///
/// # Panics
/// On a database error.
pub async fn pay_at_sandbox(app: &TestApp, trade_nos: &[String]) {
    let now = crate::notify::unix_now() * 1000;
    for chunk in trade_nos.chunks(500) {
        let list: Vec<String> = (0..chunk.len()).map(|i| format!("${}", i + 2)).collect();
        let sql = format!(
            "UPDATE sandbox_orders SET trade_state = 'SUCCESS', trade_state_desc = '支付成功', \
             transaction_id = '4200' || out_trade_no, success_at = $1, updated_at = $1, \
             payer_openid = COALESCE(payer_openid, 'o_sandbox_shopper') WHERE out_trade_no IN ({})",
            list.join(", ")
        );
        let mut q = sqlx::query(&sql).bind(now);
        for t in chunk {
            q = q.bind(t);
        }
        q.execute(app.state.store().pool()).await.unwrap();
    }
}
