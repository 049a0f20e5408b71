//! Payment providers, one module each, with no knowledge of checkout sessions.

pub mod wechat;
