//! Load run of `mso serve` on loopback: an open-loop generator sends requests of
//! one scenario at a fixed rate and reports latency percentiles (measured from
//! each request's scheduled send time, so a stalled server cannot hide its
//! queueing delay) and the achieved throughput.
//!
//! `cargo bench --bench serve_load` (env: MSO_LOAD_SCENARIO=eligibility,
//! MSO_LOAD_RATE=1000, MSO_LOAD_SECONDS=20). Scenarios:
//! - `eligibility`: lookups for every demo member (eligible, termed, gaps, unknown);
//! - `prior-auth-submit`: criteria-met prior auths (approved in the request),
//!   each with its own Idempotency-Key, so every one is filed and stored.

#[path = "../support/mod.rs"]
mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use support::{Server, token};
use tokio::sync::Mutex;

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Requests sent so far: every POST gets a fresh Idempotency-Key.
static SENT: AtomicU64 = AtomicU64::new(0);

/// One request of a scenario: method, URL and JSON body (GET when `None`).
#[derive(Clone)]
struct Planned {
    url: String,
    body: Option<String>,
}

/// The requests of `scenario`, cycled through; `Planned.body` gets a unique
/// Idempotency-Key per send.
fn plan(scenario: &str, base: &str) -> Vec<Planned> {
    let policy = mso_api::policies::load("sunrise").unwrap();
    let today = jiff::Timestamp::now()
        .in_tz("America/Los_Angeles")
        .unwrap()
        .date();
    match scenario {
        "eligibility" => mso::demo::members(&policy, today)
            .iter()
            .map(|m| Planned {
                url: format!(
                    "{base}/v1/eligibility?member_id={}&dob={}&dos={today}",
                    m.member_id, m.dob
                ),
                body: None,
            })
            .collect(),
        "prior-auth-submit" => {
            let npis: Vec<String> = mso::demo::providers()
                .into_iter()
                .filter(|p| p.org_id == "sunrise-family-medicine")
                .map(|p| p.npi)
                .collect();
            let body = serde_json::json!({
                "member_id": "SUN100001", "dob": "1984-03-15",
                "setting": "outpatient", "category": "imaging", "urgency": "routine",
                "service_from": today.to_string(), "service_to": today.to_string(),
                "requesting_npi": npis[0], "servicing_npi": npis[1], "place_of_service": "22",
                "diagnoses": ["M54.16"], "lines": [{"code": "72148", "units": 1}],
                "contact": {"name": "Front desk", "phone": "657-555-0199"}
            });
            vec![Planned {
                url: format!("{base}/v1/prior-auths"),
                body: Some(body.to_string()),
            }]
        }
        other => panic!("unknown MSO_LOAD_SCENARIO {other:?} (eligibility, prior-auth-submit)"),
    }
}

fn main() {
    let scenario = std::env::var("MSO_LOAD_SCENARIO").unwrap_or_else(|_| "eligibility".into());
    let rate = env_or("MSO_LOAD_RATE", 1000);
    let seconds = env_or("MSO_LOAD_SECONDS", 20);
    let data = tempfile::tempdir().unwrap();
    let server = Server::start_logging(data.path(), "warn");
    let base = server.base.clone();
    let token = token(data.path(), "sunrise-family-medicine", "provider_user", &[]);
    let urls = plan(&scenario, &base);
    println!("scenario {scenario}");

    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let client = reqwest::Client::builder().pool_max_idle_per_host(256).tcp_nodelay(true).build().unwrap();
        println!("warming up for 2 s at {rate} requests/s");
        run(&client, &urls, &token, rate, 2).await;
        println!("measuring for {seconds} s at {rate} requests/s");
        let (mut latencies, errors, elapsed) = run(&client, &urls, &token, rate, seconds).await;
        latencies.sort_unstable();
        let pct = |p: f64| latencies[((latencies.len() as f64 * p) as usize).min(latencies.len() - 1)];
        let ms = |d: Duration| d.as_secs_f64() * 1000.0;
        println!(
            "requests {}  errors {}  achieved {:.0} requests/s\nlatency ms: p50 {:.3}  p90 {:.3}  p99 {:.3}  p99.9 {:.3}  max {:.3}",
            latencies.len(),
            errors,
            latencies.len() as f64 / elapsed.as_secs_f64(),
            ms(pct(0.50)),
            ms(pct(0.90)),
            ms(pct(0.99)),
            ms(pct(0.999)),
            ms(*latencies.last().unwrap()),
        );
    });
    drop(server);
}

/// Sends `rate` requests per second for `seconds`, each at its scheduled instant.
/// A plain thread paces the sends with `nanosleep` (tokio's timer ticks in whole
/// milliseconds, which would add up to 1 ms of generator lateness to every sample).
async fn run(
    client: &reqwest::Client,
    urls: &[Planned],
    token: &str,
    rate: u64,
    seconds: u64,
) -> (Vec<Duration>, usize, Duration) {
    let total = (rate * seconds) as usize;
    let results = Arc::new(Mutex::new((Vec::with_capacity(total), 0usize)));
    let interval = Duration::from_nanos(1_000_000_000 / rate);
    let start = Instant::now();
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<(usize, Instant)>();
    let pacer = std::thread::spawn(move || {
        for i in 0..total {
            let scheduled = start + interval * i as u32;
            if let Some(wait) = scheduled.checked_duration_since(Instant::now()) {
                std::thread::sleep(wait);
            }
            if tx.send((i, scheduled)).is_err() {
                break;
            }
        }
    });
    let mut tasks = Vec::with_capacity(total);
    while let Some((i, scheduled)) = rx.recv().await {
        let (client, url, token, results) = (
            client.clone(),
            urls[i % urls.len()].clone(),
            token.to_string(),
            results.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let request = match &url.body {
                None => client.get(&url.url),
                Some(body) => client
                    .post(&url.url)
                    .header("content-type", "application/json")
                    .header(
                        "idempotency-key",
                        format!("load-{}", SENT.fetch_add(1, Ordering::Relaxed)),
                    )
                    .body(body.clone()),
            };
            let ok = match request.bearer_auth(&token).send().await {
                Ok(resp) => resp.status().is_success() && resp.bytes().await.is_ok(),
                Err(_) => false,
            };
            let latency = scheduled.elapsed();
            let mut r = results.lock().await;
            r.0.push(latency);
            if !ok {
                r.1 += 1;
            }
        }));
    }
    let _ = pacer.join();
    for t in tasks {
        let _ = t.await;
    }
    let elapsed = start.elapsed();
    let (latencies, errors) = std::mem::take(&mut *results.lock().await);
    (latencies, errors, elapsed)
}
