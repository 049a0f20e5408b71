//! Handlers run to completion whatever the client does.
//!
//! axum drops a handler's future when its client goes away (a closed page, a proxy's timeout,
//! a load balancer's idle cut-off). A payment handler dropped half way can leave work undone
//! that must not be: an attempt stored but never marked pending although the provider has the
//! order, a notification verified but not recorded, a transaction begun and never finished on a
//! pooled connection. So every request's handler runs in a task of its own: the client going
//! away drops only the wait for its answer, never the work. The tasks are tracked so a graceful
//! shutdown waits for them too.

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::state::AppState;

/// Middleware: runs the rest of the stack (routing and the handler) in a tracked task.
pub async fn run_to_completion(
    State(state): State<AppState>,
    req: Request,
    next: Next,
) -> Response {
    let task = state.detached().spawn(next.run(req));
    match task.await {
        Ok(res) => res,
        // A handler that panicked: the panic is logged by the runtime; the client gets an
        // opaque 500 as from any internal error.
        Err(e) => crate::error::AppError::internal(e).into_response(),
    }
}
