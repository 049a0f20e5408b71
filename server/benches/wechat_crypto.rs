//! Placeholder replaced by the WeChat Pay crypto benchmarks.
fn main() {}
