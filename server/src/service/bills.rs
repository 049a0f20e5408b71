//! `paybridge reconcile --date`: downloads WeChat's trade bill for a (Beijing) day, checks its
//! hash, and reports every difference from paybridge's own records.

use std::collections::{BTreeMap, BTreeSet};

use time::macros::{format_description, offset};

use crate::domain::status::State;
use crate::domain::{Payment, PaymentStatus};
use crate::providers::wechat::WechatClients;
use crate::store::Store;

/// One line of the bill that matters for reconciliation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BillRow {
    pub out_trade_no: String,
    pub transaction_id: String,
    pub trade_state: String,
    /// Fen.
    pub amount: i64,
}

/// A difference between WeChat's bill and paybridge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mismatch {
    /// WeChat has a paid order paybridge does not know.
    UnknownOrder { out_trade_no: String },
    /// WeChat says paid, paybridge does not.
    NotSucceededHere { payment: String, status: String },
    /// Amounts differ.
    Amount {
        payment: String,
        bill: i64,
        ours: i64,
    },
    /// paybridge says succeeded that day, the bill has no such payment.
    MissingFromBill { payment: String },
}

/// The outcome of one day's reconciliation.
#[derive(Debug, Clone, Default)]
pub struct Report {
    pub rows: usize,
    pub matched: usize,
    pub mismatches: Vec<Mismatch>,
}

/// Why reconciliation could not run.
#[derive(Debug, thiserror::Error)]
pub enum ReconcileError {
    #[error("the date must be YYYY-MM-DD")]
    Date,
    #[error("WeChat: {0}")]
    Wechat(#[from] crate::providers::wechat::WechatError),
    #[error("the bill is not UTF-8 CSV")]
    Format,
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

/// Parses "12.34" (yuan, as bills write it) into fen, exactly.
fn fen(yuan: &str) -> Option<i64> {
    paybridge_shared::MinorUnits::parse_decimal(yuan, paybridge_shared::Currency::Cny).map(|m| m.0)
}

/// The payment rows of a trade bill (WeChat prefixes each cell with a backtick).
///
/// # Errors
/// When the file is not the expected CSV.
pub fn parse_bill(bytes: &[u8]) -> Result<Vec<BillRow>, ReconcileError> {
    let text = std::str::from_utf8(bytes).map_err(|_| ReconcileError::Format)?;
    let mut lines = text.lines();
    let header: Vec<&str> = lines
        .next()
        .ok_or(ReconcileError::Format)?
        .trim_start_matches('\u{feff}')
        .split(',')
        .collect();
    let col = |name: &str| {
        header
            .iter()
            .position(|h| *h == name)
            .ok_or(ReconcileError::Format)
    };
    let (c_tx, c_out, c_state, c_amount) = (
        col("微信订单号")?,
        col("商户订单号")?,
        col("交易状态")?,
        col("订单金额")?,
    );
    let mut rows = Vec::new();
    for line in lines {
        if !line.starts_with('`') {
            break; // the summary section follows the rows
        }
        let cells: Vec<&str> = line.split(',').map(|c| c.trim_start_matches('`')).collect();
        let cell = |i: usize| cells.get(i).copied().ok_or(ReconcileError::Format);
        rows.push(BillRow {
            out_trade_no: cell(c_out)?.to_owned(),
            transaction_id: cell(c_tx)?.to_owned(),
            trade_state: cell(c_state)?.to_owned(),
            amount: fen(cell(c_amount)?).ok_or(ReconcileError::Format)?,
        });
    }
    Ok(rows)
}

/// Compares the bill's paid rows with paybridge's attempts.
#[must_use]
pub fn compare(
    rows: &[BillRow],
    ours: &BTreeMap<String, Payment>,
    succeeded_that_day: &BTreeSet<String>,
) -> Report {
    let mut report = Report {
        rows: rows.len(),
        ..Report::default()
    };
    let mut seen = BTreeSet::new();
    for row in rows.iter().filter(|r| r.trade_state == "SUCCESS") {
        seen.insert(row.out_trade_no.clone());
        match ours.get(&row.out_trade_no) {
            None => report.mismatches.push(Mismatch::UnknownOrder {
                out_trade_no: row.out_trade_no.clone(),
            }),
            Some(p) if p.status != PaymentStatus::Succeeded => {
                report.mismatches.push(Mismatch::NotSucceededHere {
                    payment: p.id.to_string(),
                    status: p.status.as_str().into(),
                });
            }
            Some(p) if p.amount != row.amount => {
                report.mismatches.push(Mismatch::Amount {
                    payment: p.id.to_string(),
                    bill: row.amount,
                    ours: p.amount,
                });
            }
            Some(_) => report.matched += 1,
        }
    }
    for out in succeeded_that_day.difference(&seen) {
        let payment = ours
            .get(out)
            .map_or_else(|| out.clone(), |p| p.id.to_string());
        report
            .mismatches
            .push(Mismatch::MissingFromBill { payment });
    }
    report
}

/// Downloads the bill of `date` and reconciles it against the store.
///
/// # Errors
/// [`ReconcileError`].
pub async fn reconcile(
    store: &Store,
    wechat: &WechatClients,
    date: &str,
) -> Result<Report, ReconcileError> {
    let day = time::Date::parse(date, format_description!("[year]-[month]-[day]"))
        .map_err(|_| ReconcileError::Date)?;
    let start = day.midnight().assume_offset(offset!(+8)).unix_timestamp() * 1000;
    let info = wechat.pay.trade_bill(date, "ALL").await?;
    let bytes = wechat.pay.download_bill(&info).await?;
    let rows = parse_bill(&bytes)?;
    let mut ours = BTreeMap::new();
    for row in &rows {
        if let Some(p) = store.payment_by_out_trade_no(&row.out_trade_no).await? {
            ours.insert(row.out_trade_no.clone(), p);
        }
    }
    let mut succeeded = BTreeSet::new();
    for p in store.succeeded_between(start, start + 86_400_000).await? {
        succeeded.insert(p.out_trade_no.clone());
        ours.entry(p.out_trade_no.clone()).or_insert(p);
    }
    Ok(compare(&rows, &ours, &succeeded))
}

impl std::fmt::Display for Mismatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::UnknownOrder { out_trade_no } => write!(
                f,
                "WeChat has paid order {out_trade_no}, unknown to paybridge"
            ),
            Self::NotSucceededHere { payment, status } => {
                write!(f, "{payment}: paid at WeChat, {status} in paybridge")
            }
            Self::Amount {
                payment,
                bill,
                ours,
            } => write!(f, "{payment}: bill says {bill} fen, paybridge {ours}"),
            Self::MissingFromBill { payment } => {
                write!(f, "{payment}: succeeded in paybridge, absent from the bill")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_published_sample_bill_parses_with_exact_amounts() {
        let bytes = std::fs::read(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/vectors/samples/bill_ALL.csv"
        ))
        .unwrap();
        let rows = parse_bill(&bytes).unwrap();
        assert!(rows.len() >= 4, "{rows:?}");
        let native = rows
            .iter()
            .find(|r| r.out_trade_no == "autotest_20190219015232_89201")
            .unwrap();
        assert_eq!(native.amount, 3);
        assert_eq!(native.trade_state, "SUCCESS");
        assert_eq!(native.transaction_id, "4200000263201902167700134902");
    }

    #[test]
    fn yuan_strings_become_fen_without_floats() {
        assert_eq!(fen("0.01"), Some(1));
        assert_eq!(fen("12.3"), Some(1230));
        assert_eq!(fen("100"), Some(10000));
        assert_eq!(fen("1.234"), None);
    }
}
