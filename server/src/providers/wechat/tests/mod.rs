//! Tests of the library as a whole: published vectors, round trips, rejections, and a client
//! talking to a local server that checks every request.

mod http;
mod roundtrip;
mod vectors;
