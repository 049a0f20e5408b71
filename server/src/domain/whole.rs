//! Whole numbers in JSON bodies: JSON Schema's `integer` allows `12.0` as well as `12`, and the
//! API's schema promises what it accepts, so both are taken; fractions are refused.

/// Deserializes a whole number sent as JSON `12` or `12.0` (JSON Schema's `integer` allows
/// both), refusing fractions; for `#[serde(deserialize_with)]` on optional fields.
///
/// # Errors
/// When the value is not a whole number within `i64`.
pub fn whole_number_opt<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    let n: Option<serde_json::Number> = serde::Deserialize::deserialize(d)?;
    n.map(|n| whole(&n)).transpose()
}

/// [`whole_number_opt`] for a required field.
///
/// # Errors
/// When the value is not a whole number within `i64`.
pub fn whole_number<'de, D: serde::Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
    let n: serde_json::Number = serde::Deserialize::deserialize(d)?;
    whole(&n)
}

fn whole<E: serde::de::Error>(n: &serde_json::Number) -> Result<i64, E> {
    if let Some(i) = n.as_i64() {
        return Ok(i);
    }
    // Within ±2^53 a float holds every whole number exactly.
    const EXACT: f64 = 9_007_199_254_740_992.0;
    match n.as_f64() {
        Some(f) if f.fract() == 0.0 && f.abs() <= EXACT =>
        {
            #[allow(
                clippy::cast_possible_truncation,
                reason = "checked to be whole and within 2^53"
            )]
            Ok(f as i64)
        }
        _ => Err(E::custom(format!(
            "invalid type: {n} is not a whole number"
        ))),
    }
}
