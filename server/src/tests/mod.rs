//! Tests that stand up an HTTP server beside the code under test. They live here, at the crate's
//! top, so that the layers themselves (service, store, providers, domain) never import a server
//! framework, not even in their test modules.

mod wechat_client;
