//! What one client can hold open is bounded: slow or silent connections are closed, a client
//! address and the whole server hold at most so many connections, and the page's status
//! streams are capped per client and per session, end after their lifetime and share one
//! watcher per session. Raw TCP clients, so nothing in between smooths over the server.

use std::time::{Duration, Instant};

use paybridge_tests::shopper::{pay_qr, scan};
use paybridge_tests::{TestApp, spawn_app_with, wait};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const CLOSED_WITHIN: Duration = Duration::from_secs(10);

async fn connect(app: &TestApp) -> TcpStream {
    let addr = format!(
        "{}:{}",
        app.base.host_str().unwrap(),
        app.base.port().unwrap()
    );
    TcpStream::connect(addr).await.expect("connects")
}

/// Reads until the server closes the connection, or panics after `CLOSED_WITHIN`.
async fn closed_by_server(conn: &mut TcpStream, what: &str) -> Duration {
    let start = Instant::now();
    let mut buf = [0_u8; 4096];
    let outcome = tokio::time::timeout(CLOSED_WITHIN, async {
        loop {
            match conn.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        }
    })
    .await;
    assert!(
        outcome.is_ok(),
        "{what}: still open after {CLOSED_WITHIN:?}"
    );
    start.elapsed()
}

/// Sends a whole `GET /healthz` on `conn` and returns the status line.
async fn healthz(conn: &mut TcpStream) -> String {
    conn.write_all(b"GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n")
        .await
        .expect("writes");
    let mut buf = vec![0_u8; 4096];
    let n = tokio::time::timeout(CLOSED_WITHIN, conn.read(&mut buf))
        .await
        .expect("answered in time")
        .expect("reads");
    String::from_utf8_lossy(&buf[..n])
        .lines()
        .next()
        .unwrap_or_default()
        .to_owned()
}

#[tokio::test]
async fn headers_sent_slowly_or_never_close_the_connection() {
    let app = spawn_app_with(&["--header-read-timeout-secs", "1"]).await;
    let mut slow = connect(&app).await;
    slow.write_all(b"GET /healthz HTTP/1.1\r\nHost: t\r\n")
        .await
        .unwrap();
    let took = closed_by_server(&mut slow, "half a request's headers").await;
    assert!(took >= Duration::from_millis(900), "closed after {took:?}");
    let mut silent = connect(&app).await;
    closed_by_server(&mut silent, "a connection that never sends").await;
    // An idle keep-alive connection is closed the same way once it has been served.
    let mut kept = connect(&app).await;
    assert_eq!(healthz(&mut kept).await, "HTTP/1.1 200 OK");
    closed_by_server(&mut kept, "an idle keep-alive connection").await;
}

#[tokio::test]
async fn a_body_that_stops_arriving_closes_the_connection() {
    // Well inside the 30 s request timeout, which would otherwise be the only bound.
    let app = spawn_app_with(&["--idle-timeout-secs", "1"]).await;
    let mut stalled = connect(&app).await;
    stalled
        .write_all(
            b"POST /notify/wechat HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n\
              Content-Length: 1000\r\n\r\n{\"id\":",
        )
        .await
        .unwrap();
    closed_by_server(&mut stalled, "a stalled body").await;
}

#[tokio::test]
async fn one_client_address_holds_at_most_its_share_of_connections() {
    let app = spawn_app_with(&["--max-connections-per-ip", "3"]).await;
    let mut held = Vec::new();
    for _ in 0..3 {
        let mut conn = connect(&app).await;
        assert_eq!(healthz(&mut conn).await, "HTTP/1.1 200 OK");
        held.push(conn);
    }
    let mut extra = connect(&app).await;
    closed_by_server(&mut extra, "a fourth connection from one address").await;
    assert_eq!(
        healthz(&mut held[0]).await,
        "HTTP/1.1 200 OK",
        "the first three are still served"
    );
    drop(held.pop());
    wait::until("a place to free up", Duration::from_secs(10), || async {
        let mut conn = connect(&app).await;
        conn.write_all(b"GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n")
            .await
            .ok()?;
        let mut buf = [0_u8; 64];
        let n = conn.read(&mut buf).await.ok()?;
        buf[..n].starts_with(b"HTTP/1.1 200").then_some(())
    })
    .await;
    let metrics = app.admin_get("/metrics").await.text().await.unwrap();
    assert!(
        metrics.contains(r#"paybridge_refused_total{limit="connections_per_ip"}"#),
        "{metrics}"
    );
}

#[tokio::test]
async fn the_server_holds_at_most_its_maximum_of_connections() {
    let app = spawn_app_with(&["--max-connections", "2"]).await;
    let mut first = connect(&app).await;
    let mut second = connect(&app).await;
    assert_eq!(healthz(&mut first).await, "HTTP/1.1 200 OK");
    assert_eq!(healthz(&mut second).await, "HTTP/1.1 200 OK");
    let mut third = connect(&app).await;
    closed_by_server(&mut third, "a connection beyond the maximum").await;
    assert_eq!(healthz(&mut first).await, "HTTP/1.1 200 OK");
}

/// Opens the page's status stream for `session`: the response, still streaming.
async fn stream(app: &TestApp, session: &str) -> reqwest::Response {
    app.client
        .get(app.url(&format!("/api/checkout/{session}/events")))
        .send()
        .await
        .expect("server answers")
}

/// Reads a stream until it ends; what it carried.
async fn until_end(res: reqwest::Response, what: &str) -> String {
    tokio::time::timeout(CLOSED_WITHIN, res.text())
        .await
        .unwrap_or_else(|_| panic!("{what}: the stream did not end"))
        .unwrap_or_default()
}

#[tokio::test]
async fn status_streams_are_capped_per_client_and_per_session() {
    let app = spawn_app_with(&[
        "--max-streams-per-ip",
        "3",
        "--max-streams-per-session",
        "2",
    ])
    .await;
    let a = app.create_session(100).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let b = app.create_session(100).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let a1 = stream(&app, &a).await;
    let a2 = stream(&app, &a).await;
    assert_eq!((a1.status().as_u16(), a2.status().as_u16()), (200, 200));
    let a3 = stream(&app, &a).await;
    assert_eq!(a3.status(), 429, "a third stream of one session");
    let b1 = stream(&app, &b).await;
    assert_eq!(b1.status(), 200);
    let b2 = stream(&app, &b).await;
    assert_eq!(b2.status(), 429, "a fourth stream from one address");
    let body: serde_json::Value = b2.json().await.unwrap();
    assert_eq!(body["error"]["code"], "rate_limited", "{body}");
    // Closing a stream gives its place back.
    drop(a1);
    wait::until("a stream's place to free up", CLOSED_WITHIN, || async {
        (stream(&app, &b).await.status() == 200).then_some(())
    })
    .await;
}

#[tokio::test]
async fn a_stream_ends_after_its_lifetime() {
    let app = spawn_app_with(&["--stream-lifetime-secs", "1"]).await;
    let id = app.create_session(100).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let res = stream(&app, &id).await;
    assert_eq!(res.status(), 200);
    let carried = until_end(res, "a stream past its lifetime").await;
    assert!(carried.contains("event: status"), "{carried}");
    assert!(carried.contains(r#""status":"open""#), "{carried}");
}

#[tokio::test]
async fn streams_of_one_session_share_one_watcher_and_all_see_it_complete() {
    let app = spawn_app_with(&[]).await;
    let id = app.create_session(100).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let streams = app.state.status_streams();
    let first = stream(&app, &id).await;
    let second = stream(&app, &id).await;
    assert_eq!(
        (first.status().as_u16(), second.status().as_u16()),
        (200, 200)
    );
    assert_eq!(streams.watched(), 1, "one watcher for one session");
    let qr = pay_qr(&app, &id).await;
    scan(&app, qr["code_url"].as_str().unwrap(), "pay").await;
    for (n, res) in [first, second].into_iter().enumerate() {
        let carried = until_end(res, "a stream of a completed session").await;
        assert!(
            carried.contains(r#""status":"complete""#),
            "stream {n}: {carried}"
        );
    }
    wait::until("the watcher to stop", CLOSED_WITHIN, || async {
        (streams.watched() == 0).then_some(())
    })
    .await;
}
