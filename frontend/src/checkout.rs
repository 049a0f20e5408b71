//! The checkout screen: loading → summary, or a readable error (never a blank page).

use leptos::prelude::*;
use paybridge_shared::CheckoutView;

use crate::api::{self, LoadError};

#[component]
pub fn Checkout(id: String) -> impl IntoView {
    let view_model = LocalResource::new(move || {
        let id = id.clone();
        async move { api::checkout_view(&id).await }
    });
    view! {
        <main class="card" aria-live="polite">
            <Suspense fallback=|| view! { <p class="state" data-state="loading">"Loading… 加载中…"</p> }>
                {move || Suspend::new(async move {
                    match view_model.await {
                        Ok(v) => view! { <Summary v=v /> }.into_any(),
                        Err(LoadError::NotFound) => view! {
                            <h1 data-state="not-found">"Checkout not found"</h1>
                            <p class="muted" lang="zh-CN">"找不到该支付订单"</p>
                            <p class="muted">"This payment link is wrong or no longer exists. Please go back to the shop and start again."</p>
                        }.into_any(),
                        Err(LoadError::Failed(message)) => view! {
                            <h1 data-state="error">"Something went wrong"</h1>
                            <p class="muted">{message}</p>
                        }.into_any(),
                    }
                })}
            </Suspense>
        </main>
    }
}

#[component]
fn Summary(v: CheckoutView) -> impl IntoView {
    view! {
        <h1 data-state="summary">{v.merchant_name}</h1>
        <p class="muted">{v.description}</p>
        <p class="amount">{v.amount.display(v.currency)}</p>
    }
}
