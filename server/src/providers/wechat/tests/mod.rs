//! Tests of the library as a whole: published vectors, round trips and rejections. The client
//! against a local server that checks every request is in `crate::tests::wechat_client`, outside
//! the provider layer, which never depends on an HTTP server.

mod roundtrip;
mod vectors;
