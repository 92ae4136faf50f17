//! Runs the real `mso` binary: a server on a free port with its own data directory.

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub const MSO: &str = env!("CARGO_BIN_EXE_mso");

pub fn mso(args: &[&str], data_dir: &Path) -> Output {
    Command::new(MSO)
        .args(args)
        .arg("--data-dir")
        .arg(data_dir)
        .env_remove("MSO_POLICY_FILE")
        .output()
        .unwrap()
}

/// A running `mso serve`; killed on drop.
pub struct Server {
    child: Child,
    pub base: String,
    /// The banner's ready-to-paste curl line.
    pub curl_line: String,
    /// Everything the server printed before the banner (first-start notice).
    pub preamble: String,
    stderr: Arc<Mutex<String>>,
}

impl Server {
    pub fn start(data_dir: &Path) -> Server {
        Server::start_logging(data_dir, "info")
    }

    /// Starts the server with `RUST_LOG=log_level` (the load bench keeps it quiet).
    pub fn start_logging(data_dir: &Path, log_level: &str) -> Server {
        Server::start_with(data_dir, &[("RUST_LOG", log_level)])
    }

    /// Starts the server with extra environment variables.
    /// `MSO_BIN` runs another build of `mso` (a profiling build, for `perf`).
    pub fn start_with(data_dir: &Path, env: &[(&str, &str)]) -> Server {
        let bin = std::env::var_os("MSO_BIN").unwrap_or_else(|| MSO.into());
        let mut child = Command::new(bin)
            .args(["serve", "--port", "0", "--data-dir"])
            .arg(data_dir)
            .env("RUST_LOG", "info")
            .envs(env.iter().copied())
            .env_remove("MSO_POLICY_FILE")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stderr = Arc::new(Mutex::new(String::new()));
        let mut err = child.stderr.take().unwrap();
        let sink = stderr.clone();
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = err.read(&mut buf) {
                if n == 0 {
                    break;
                }
                sink.lock()
                    .unwrap()
                    .push_str(&String::from_utf8_lossy(&buf[..n]));
            }
        });
        let mut out = BufReader::new(child.stdout.take().unwrap());
        let (mut base, mut curl_line) = (String::new(), String::new());
        let deadline = Instant::now() + Duration::from_secs(60);
        while curl_line.is_empty() {
            assert!(
                Instant::now() < deadline,
                "server did not start: {}",
                stderr.lock().unwrap()
            );
            let mut line = String::new();
            if out.read_line(&mut line).unwrap() == 0 {
                panic!("server exited: {}", stderr.lock().unwrap());
            }
            if let Some(rest) = line.strip_prefix("mso serve: ") {
                base = rest
                    .split(" on ")
                    .nth(1)
                    .unwrap()
                    .split_whitespace()
                    .next()
                    .unwrap()
                    .to_string();
            }
            if line.trim_start().starts_with("curl ") {
                curl_line = line.trim().to_string();
            }
        }
        // Keep draining stdout so the server never blocks on a full pipe.
        std::thread::spawn(move || std::io::copy(&mut out, &mut std::io::sink()));
        let preamble = stderr.lock().unwrap().clone();
        Server {
            child,
            base,
            curl_line,
            preamble,
            stderr,
        }
    }

    /// `host:port` of the server.
    pub fn addr(&self) -> String {
        self.base.trim_start_matches("http://").to_string()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// What the server logged so far.
    pub fn logs(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    pub fn stop(mut self) -> String {
        let _ = self.child.kill();
        let _ = self.child.wait();
        std::thread::sleep(Duration::from_millis(50));
        self.logs()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A dev token from `mso token`, as a user would mint it.
pub fn token(data_dir: &Path, org: &str, role: &str, npis: &[&str]) -> String {
    let mut args = vec!["token", "--org", org, "--role", role];
    for n in npis {
        args.extend(["--npi", n]);
    }
    let out = mso(&args, data_dir);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

/// The NPIs of a demo organisation's providers.
pub fn npis_of(org: &str) -> Vec<String> {
    mso::demo::providers()
        .into_iter()
        .filter(|p| p.org_id == org)
        .map(|p| p.npi)
        .collect()
}

/// One API call with a bearer token, an optional JSON body and Idempotency-Key;
/// the status and the body (JSON, or the text as a JSON string).
pub async fn send(
    method: reqwest::Method,
    url: &str,
    token: &str,
    body: Option<&serde_json::Value>,
    key: Option<&str>,
) -> (reqwest::StatusCode, serde_json::Value) {
    let mut req = reqwest::Client::new()
        .request(method, url)
        .bearer_auth(token);
    if let Some(body) = body {
        req = req.json(body);
    }
    if let Some(key) = key {
        req = req.header("idempotency-key", key);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status();
    let text = resp.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(serde_json::Value::String(text)),
    )
}

/// Reads `url` until `done` holds (the server's queue consumers, sweepers and
/// bucket events run in the background), for at most 20 seconds.
pub async fn until(
    url: &str,
    token: &str,
    done: impl Fn(&serde_json::Value) -> bool,
) -> serde_json::Value {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let (status, v) = send(reqwest::Method::GET, url, token, None, None).await;
        assert_eq!(status, 200, "{v}");
        if done(&v) {
            return v;
        }
        assert!(Instant::now() < deadline, "never done: {v}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
