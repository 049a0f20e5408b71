//! The paybridge checkout page, mounted at `/pay/{id}` (and `/` in sandbox mode).

mod api;
mod bridge;
mod checkout;
mod dom;
mod format;
mod i18n;
#[cfg(all(test, target_arch = "wasm32"))]
mod in_browser;
mod phase;
mod qr;
mod screens;
mod summary;

use leptos::prelude::*;

fn main() {
    leptos::mount::mount_to_body(App);
}

/// Which screen the current URL asks for. The page never changes route on the client:
/// WeChat on iOS checks the pay directory against the first URL loaded (DESIGN §2).
enum Screen {
    Checkout(String),
    Home,
}

impl Screen {
    fn from_path(path: &str) -> Self {
        match path.strip_prefix("/pay/") {
            Some(id) if !id.is_empty() && !id.contains('/') => Self::Checkout(id.to_owned()),
            _ => Self::Home,
        }
    }
}

#[component]
fn App() -> impl IntoView {
    let path = window().location().pathname().unwrap_or_default();
    match Screen::from_path(&path) {
        Screen::Checkout(id) => checkout::checkout(id).into_any(),
        Screen::Home => view! {
            <main class="card">
                <h1>"paybridge"</h1>
                <p class="state" data-state="home">
                    "The server is running. Create a checkout session with the merchant API and open its URL."
                </p>
            </main>
        }
        .into_any(),
    }
}
