//! `mso serve` against a misbehaving client: odd headers, forged or slow uploads,
//! too many connections. Raw TCP, because a well-behaved HTTP client cannot send
//! these.

mod support;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use support::{Server, token};

/// Sends `request` and reads until the server closes or `wait` passes; returns
/// what came back (empty when nothing did).
fn exchange(addr: &str, request: &[u8], wait: Duration) -> String {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream.set_read_timeout(Some(wait)).unwrap();
    stream.write_all(request).unwrap();
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => out.extend_from_slice(&buf[..n]),
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn status_line(response: &str) -> &str {
    response.lines().next().unwrap_or_default()
}

#[test]
fn odd_host_and_forwarding_headers_get_an_answer_not_a_dropped_connection() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start(data.path());
    let t = token(data.path(), "coastal-pediatrics", "provider_user", &[]);
    for odd in [
        "Host: a b",
        "Host: [::1",
        "Host: a:99999",
        "X-Forwarded-Proto: 1",
        "X-Forwarded-Proto: javascript:alert(1)",
        "X-Forwarded-Host: a b",
    ] {
        let request = format!(
            "GET /v1/policy HTTP/1.1\r\n{odd}\r\nAuthorization: Bearer {t}\r\nConnection: close\r\n\r\n"
        );
        let response = exchange(&server.addr(), request.as_bytes(), Duration::from_secs(10));
        assert_eq!(
            status_line(&response),
            "HTTP/1.1 200 OK",
            "{odd}: {response}"
        );
    }
    // And the server is still there.
    let ok = exchange(
        &server.addr(),
        b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        Duration::from_secs(10),
    );
    assert_eq!(status_line(&ok), "HTTP/1.1 200 OK");
}

#[test]
fn a_forged_upload_is_refused_before_its_body_is_read() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start(data.path());
    // Announces 100 MiB and sends none of it: the signature is checked first.
    let request = "PUT /_local/objects/documents/x?X-Mso-Method=PUT&X-Mso-Expires=9999999999\
        &X-Mso-Content-Type=application%2Fpdf&X-Mso-Content-Length=5&X-Mso-Signature=00 HTTP/1.1\r\n\
        Host: x\r\nContent-Type: application/pdf\r\nContent-Length: 104857600\r\n\r\n";
    let started = Instant::now();
    let response = exchange(&server.addr(), request.as_bytes(), Duration::from_secs(10));
    assert_eq!(
        status_line(&response),
        "HTTP/1.1 403 Forbidden",
        "{response}"
    );
    assert!(response.contains("signature does not match"), "{response}");
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[test]
fn a_body_that_trickles_in_is_cut_off() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start_with(data.path(), &[("MSO_BODY_TIMEOUT_SECS", "1")]);
    let t = token(data.path(), "coastal-pediatrics", "provider_user", &[]);
    let request = format!(
        "GET /v1/policy HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {t}\r\nContent-Length: 1000\r\n\r\nab"
    );
    let started = Instant::now();
    let response = exchange(&server.addr(), request.as_bytes(), Duration::from_secs(10));
    assert_eq!(
        status_line(&response),
        "HTTP/1.1 408 Request Timeout",
        "{response}"
    );
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[test]
fn connections_beyond_the_cap_wait_for_a_free_one() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start_with(data.path(), &[("MSO_MAX_CONNECTIONS", "2")]);
    let idle: Vec<TcpStream> = (0..2)
        .map(|_| TcpStream::connect(server.addr()).unwrap())
        .collect();
    std::thread::sleep(Duration::from_millis(200));
    let mut third = TcpStream::connect(server.addr()).unwrap();
    third
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .unwrap();
    third
        .set_read_timeout(Some(Duration::from_millis(700)))
        .unwrap();
    let mut buf = [0u8; 64];
    assert!(
        third.read(&mut buf).is_err(),
        "a third connection is not served while two are held"
    );
    drop(idle);
    third
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut response = String::new();
    let _ = third.read_to_string(&mut response);
    assert_eq!(status_line(&response), "HTTP/1.1 200 OK", "{response}");
}
