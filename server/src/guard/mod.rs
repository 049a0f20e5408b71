//! Bounds on what one client can make the server do or hold, free of HTTP: failed
//! authentications and refused notifications per minute, the shopper API's rate, and the page's
//! status streams. The HTTP layer applies them.

pub mod failures;
pub mod rate;
pub mod streams;
