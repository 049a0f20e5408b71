//! Small helpers shared by the simulator: clocks, WeChat-looking ids, Beijing-time formatting.

use rand::Rng as _;
use rand::distributions::Alphanumeric;
use time::OffsetDateTime;
use time::macros::{format_description, offset};

/// Now, in Unix milliseconds.
#[must_use]
pub fn now_ms() -> i64 {
    i64::try_from(OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX)
}

/// A Unix-millisecond time as WeChat writes times: `2018-06-08T10:34:56+08:00`.
#[must_use]
pub fn wechat_time(ms: i64) -> String {
    OffsetDateTime::from_unix_timestamp(ms.div_euclid(1000))
        .map(crate::providers::wechat::orders::format_time_expire)
        .unwrap_or_default()
}

/// `yyyyMMddHHmmss` in Beijing time, the prefix of WeChat's ids.
#[must_use]
pub fn compact_time(ms: i64) -> String {
    let fmt = format_description!("[year][month][day][hour][minute][second]");
    OffsetDateTime::from_unix_timestamp(ms.div_euclid(1000))
        .map(|t| t.to_offset(offset!(+8)).format(&fmt).unwrap_or_default())
        .unwrap_or_default()
}

/// `n` random digits.
#[must_use]
pub fn digits(n: usize) -> String {
    let mut rng = rand::thread_rng();
    (0..n)
        .map(|_| char::from(b'0' + rng.gen_range(0..10_u8)))
        .collect()
}

/// `n` random letters and digits.
#[must_use]
pub fn alnum(n: usize) -> String {
    rand::thread_rng()
        .sample_iter(&Alphanumeric)
        .take(n)
        .map(char::from)
        .collect()
}

/// `n` random lower-case hex characters.
#[must_use]
pub fn hex_chars(n: usize) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut rng = rand::thread_rng();
    (0..n)
        .map(|_| char::from(HEX[rng.gen_range(0..16_usize)]))
        .collect()
}

/// Fen as yuan with two decimals, `1234` → `12.34`.
#[must_use]
pub fn yuan(fen: i64) -> String {
    paybridge_shared::MinorUnits(fen).decimal(paybridge_shared::Currency::Cny)
}

/// `hex(SHA-256(bytes))`, to compare repeated requests.
#[must_use]
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest as _;
    hex::encode(sha2::Sha256::digest(bytes))
}

/// The canonical JSON of a request (keys sorted), so field order does not matter when comparing.
#[must_use]
pub fn canonical_hash(kind: &str, body: &[u8]) -> String {
    let value: serde_json::Value = serde_json::from_slice(body).unwrap_or_default();
    sha256_hex(format!("{kind}\n{}", sort_keys(&value)).as_bytes())
}

fn sort_keys(v: &serde_json::Value) -> serde_json::Value {
    match v {
        serde_json::Value::Object(map) => {
            let sorted: std::collections::BTreeMap<_, _> =
                map.iter().map(|(k, v)| (k.clone(), sort_keys(v))).collect();
            serde_json::to_value(sorted).unwrap_or_default()
        }
        serde_json::Value::Array(items) => items.iter().map(sort_keys).collect(),
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yuan_formats_fen_exactly() {
        assert_eq!(yuan(0), "0.00");
        assert_eq!(yuan(7), "0.07");
        assert_eq!(yuan(4001), "40.01");
        assert_eq!(yuan(-150), "-1.50");
    }

    #[test]
    fn canonical_hash_ignores_key_order() {
        assert_eq!(
            canonical_hash("jsapi", br#"{"a":1,"b":{"c":2,"d":3}}"#),
            canonical_hash("jsapi", br#"{"b":{"d":3,"c":2},"a":1}"#)
        );
        assert_ne!(
            canonical_hash("jsapi", br#"{"a":1}"#),
            canonical_hash("h5", br#"{"a":1}"#)
        );
    }
}
