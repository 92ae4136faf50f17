//! Load run of `mso serve` on loopback: an open-loop generator sends the requests
//! of each scenario at fixed offered rates and reports latency percentiles
//! (measured from each request's scheduled send time, so a stalled server cannot
//! hide its queueing delay) and the achieved throughput. Every scenario runs
//! against the same server process, one after the other, so their figures are
//! from the same run.
//!
//! `cargo bench --bench serve_load`. Environment:
//! - `MSO_LOAD_SCENARIO`: comma-separated scenarios, default
//!   `healthz,eligibility,eligibility+healthz,claim-status,claim-list,prior-auth-submit`.
//!   `a+b` interleaves two scenarios' requests in one stream (one `a`, one `b`,
//!   ...) at the rate given, and reports each: `eligibility+healthz` compares the
//!   two under the very same conditions.
//! - `MSO_LOAD_RATE`: comma-separated offered rates (requests/s) run for every
//!   scenario; by default each scenario's own (1,000/s; 200/s for
//!   prior-auth-submit, whose every request is a durable transaction).
//! - `MSO_LOAD_SECONDS`: measured seconds per scenario and rate (default 20),
//!   after 2 s of warm-up at the same rate.
//!
//! Scenarios:
//! - `healthz`: `GET /healthz`, the server's floor (no token, no function);
//! - `eligibility`: lookups for every demo member (eligible, termed, gaps, unknown);
//! - `claim-status`: `GET /v1/claims/{id}` of 20 claims submitted (and judged)
//!   in setup;
//! - `claim-list`: `GET /v1/claims`, the practice's first page (those 20 claims);
//! - `prior-auth-submit`: criteria-met prior auths (approved in the request),
//!   each with its own Idempotency-Key, so every one is filed and stored.

#[path = "../support/mod.rs"]
mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use support::{Server, npis_of, send, token, until};
use tokio::sync::Mutex;

const DEFAULT_SCENARIOS: &str =
    "healthz,eligibility,eligibility+healthz,claim-status,claim-list,prior-auth-submit";
/// Claims submitted in setup for the claim scenarios.
const CLAIMS: usize = 20;

/// Requests sent so far: every POST gets a fresh Idempotency-Key.
static SENT: AtomicU64 = AtomicU64::new(0);

/// One request of a scenario: URL, JSON body (GET when `None`), bearer token,
/// and which scenario of a mix it belongs to.
#[derive(Clone)]
struct Planned {
    part: usize,
    url: String,
    body: Option<String>,
    token: Option<Arc<str>>,
}

/// What the scenarios need: the server and the tokens and claims made in setup.
struct Setup {
    base: String,
    provider: Arc<str>,
    /// A provider user whose token carries the practice's billing NPI.
    biller: Arc<str>,
    claim_ids: Vec<String>,
    today: jiff::civil::Date,
}

impl Setup {
    async fn new(server: &Server, data: &std::path::Path) -> Setup {
        let org = "sunrise-family-medicine";
        let npis = npis_of(org);
        let today = jiff::Timestamp::now()
            .in_tz("America/Los_Angeles")
            .unwrap()
            .date();
        let mut setup = Setup {
            base: server.base.clone(),
            provider: token(data, org, "provider_user", &[]).into(),
            biller: token(data, org, "provider_user", &[&npis[0]]).into(),
            claim_ids: Vec::new(),
            today,
        };
        let scenarios = std::env::var("MSO_LOAD_SCENARIO").unwrap_or(DEFAULT_SCENARIOS.into());
        if scenarios.contains("claim-") {
            setup.claim_ids = setup.submit_claims(&npis[0]).await;
        }
        setup
    }

    /// Submits [`CLAIMS`] office visits on distinct dates and waits until each
    /// is judged, so the reads see a claim's steady state.
    async fn submit_claims(&self, npi: &str) -> Vec<String> {
        let mut ids = Vec::with_capacity(CLAIMS);
        for i in 0..CLAIMS {
            let dos = self.today - jiff::Span::new().days(i as i64 + 1);
            let claim = serde_json::json!({
                "claim_type": "professional", "patient_control_number": format!("LOAD-{i}"),
                "billing_provider": {"npi": npi, "tin": "95-1234567"},
                "member_id": "SUN100001", "dob": "1984-03-15", "place_of_service": "11",
                "diagnoses": ["J06.9"],
                "lines": [{"code": "99213", "units": 1, "charge": "125.00",
                           "service_from": dos.to_string(), "diagnosis_pointers": [1]}]
            });
            let (status, received) = send(
                reqwest::Method::POST,
                &format!("{}/v1/claims", self.base),
                &self.biller,
                Some(&claim),
                Some(&format!("load-claim-{i}")),
            )
            .await;
            assert_eq!(status, 202, "{received}");
            ids.push(received["id"].as_str().unwrap().to_string());
        }
        for id in &ids {
            let url = format!("{}/v1/claims/{id}", self.base);
            until(&url, &self.biller, |v| v["status"] != "received").await;
        }
        ids
    }

    /// The requests of one scenario, cycled through.
    fn plan(&self, scenario: &str, part: usize) -> Vec<Planned> {
        let base = &self.base;
        let today = self.today;
        let get = |url: String, token: Option<&Arc<str>>| Planned {
            part,
            url,
            body: None,
            token: token.cloned(),
        };
        match scenario {
            "healthz" => vec![get(format!("{base}/healthz"), None)],
            "eligibility" => {
                let policy = mso_api::policies::load("sunrise").unwrap();
                mso::demo::members(&policy, today)
                    .iter()
                    .map(|m| {
                        get(
                            format!(
                                "{base}/v1/eligibility?member_id={}&dob={}&dos={today}",
                                m.member_id, m.dob
                            ),
                            Some(&self.provider),
                        )
                    })
                    .collect()
            }
            "claim-status" => self
                .claim_ids
                .iter()
                .map(|id| get(format!("{base}/v1/claims/{id}"), Some(&self.biller)))
                .collect(),
            "claim-list" => vec![get(format!("{base}/v1/claims"), Some(&self.biller))],
            "prior-auth-submit" => {
                let npis = npis_of("sunrise-family-medicine");
                let body = serde_json::json!({
                    "member_id": "SUN100001", "dob": "1984-03-15",
                    "setting": "outpatient", "category": "imaging", "urgency": "routine",
                    "service_from": today.to_string(), "service_to": today.to_string(),
                    "requesting_npi": npis[0], "servicing_npi": npis[1], "place_of_service": "22",
                    "diagnoses": ["M54.16"], "lines": [{"code": "72148", "units": 1}],
                    "contact": {"name": "Front desk", "phone": "657-555-0199"}
                });
                vec![Planned {
                    part,
                    url: format!("{base}/v1/prior-auths"),
                    body: Some(body.to_string()),
                    token: Some(self.provider.clone()),
                }]
            }
            other => panic!("unknown scenario {other:?} (one of {DEFAULT_SCENARIOS})"),
        }
    }

    /// A scenario or a mix (`a+b`): its parts' requests interleaved.
    fn plan_mix(&self, parts: &[&str]) -> Vec<Planned> {
        let plans: Vec<Vec<Planned>> = parts
            .iter()
            .enumerate()
            .map(|(i, s)| self.plan(s, i))
            .collect();
        let longest = plans.iter().map(Vec::len).max().unwrap_or(0);
        (0..longest)
            .flat_map(|i| plans.iter().map(move |p| p[i % p.len()].clone()))
            .collect()
    }
}

fn default_rate(scenario: &str) -> u64 {
    if scenario.contains("prior-auth-submit") {
        200
    } else {
        1000
    }
}

fn main() {
    let scenarios = std::env::var("MSO_LOAD_SCENARIO").unwrap_or(DEFAULT_SCENARIOS.into());
    let rates: Vec<u64> = std::env::var("MSO_LOAD_RATE")
        .ok()
        .map(|v| v.split(',').filter_map(|r| r.trim().parse().ok()).collect())
        .unwrap_or_default();
    let seconds: u64 = std::env::var("MSO_LOAD_SECONDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20);
    let data = tempfile::tempdir().unwrap();
    let server = Server::start_logging(data.path(), "warn");

    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let setup = Setup::new(&server, data.path()).await;
        let client = reqwest::Client::builder()
            .pool_max_idle_per_host(256)
            .tcp_nodelay(true)
            .build()
            .unwrap();
        let mut rows = Vec::new();
        let mut plotted: Vec<(String, [f64; 3])> = Vec::new();
        for scenario in scenarios.split(',').map(str::trim) {
            let parts: Vec<&str> = scenario.split('+').collect();
            let plan = setup.plan_mix(&parts);
            let rates = if rates.is_empty() {
                vec![default_rate(scenario)]
            } else {
                rates.clone()
            };
            for rate in rates {
                eprintln!("{scenario} at {rate} requests/s: 2 s warm-up, {seconds} s measured");
                run(&client, &plan, rate, 2).await;
                let (results, elapsed) = run(&client, &plan, rate, seconds).await;
                for (i, part) in parts.iter().enumerate() {
                    let label = if parts.len() > 1 {
                        format!("{part} (in {scenario})")
                    } else {
                        part.to_string()
                    };
                    let mut latencies: Vec<Duration> = results
                        .iter()
                        .filter(|r| r.0 == i)
                        .map(|r| r.1)
                        .collect();
                    let errors = results.iter().filter(|r| r.0 == i && !r.2).count();
                    // A mix's parts share its rate.
                    let offered = rate / parts.len() as u64;
                    let (text, figures) = row(&label, offered, &mut latencies, errors, elapsed);
                    eprintln!("{text}");
                    rows.push(text);
                    plotted.push((format!("{label} {offered}/s"), figures));
                }
            }
        }
        // Between markers, for a tool that splices it into docs/performance.md.
        println!(
            "\n<!-- report:serve-load -->\n| scenario | offered | achieved | p50 | p90 | p99 | p99.9 | max | errors |\n|---|---|---|---|---|---|---|---|---|"
        );
        for r in rows {
            println!("{r}");
        }
        println!("<!-- /report:serve-load -->");
        let series = |name: &str, i: usize| {
            serde_json::json!({"name": name, "values": plotted.iter().map(|(_, f)| f[i]).collect::<Vec<_>>()})
        };
        let plot = serde_json::json!({
            "title": "mso serve on loopback, open loop at fixed offered rates",
            "y_label": "latency, ms",
            "categories": plotted.iter().map(|(c, _)| c.as_str()).collect::<Vec<_>>(),
            "series": [series("p50", 0), series("p99", 1), series("p99.9", 2)],
        });
        println!("<!-- plot:serve-load {plot} -->");
    });
    drop(server);
}

/// One markdown table row: the part's offered and achieved rate and latencies;
/// and its p50, p99 and p99.9 in ms, for the plot.
fn row(
    label: &str,
    rate: u64,
    latencies: &mut [Duration],
    errors: usize,
    elapsed: Duration,
) -> (String, [f64; 3]) {
    latencies.sort_unstable();
    let n = latencies.len().max(1);
    let pct = |p: f64| latencies[((n as f64 * p) as usize).min(n - 1)];
    let ms = |d: Duration| format!("{:.2} ms", d.as_secs_f64() * 1000.0);
    let figures = [0.50, 0.99, 0.999].map(|p| pct(p).as_secs_f64() * 1000.0);
    let text = format!(
        "| {label} | {rate}/s | {:.0}/s | {} | {} | **{}** | {} | {} | {errors} |",
        latencies.len() as f64 / elapsed.as_secs_f64(),
        ms(pct(0.50)),
        ms(pct(0.90)),
        ms(pct(0.99)),
        ms(pct(0.999)),
        ms(*latencies.last().unwrap()),
    );
    (text, figures)
}

/// Sends `rate` requests per second for `seconds`, each at its scheduled instant;
/// per request: its part, its latency from the scheduled instant, success.
/// A plain thread paces the sends with `nanosleep` (tokio's timer ticks in whole
/// milliseconds, which would add up to 1 ms of generator lateness to every sample).
async fn run(
    client: &reqwest::Client,
    plan: &[Planned],
    rate: u64,
    seconds: u64,
) -> (Vec<(usize, Duration, bool)>, Duration) {
    let total = (rate * seconds) as usize;
    let results = Arc::new(Mutex::new(Vec::with_capacity(total)));
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
        let (client, planned, results) = (
            client.clone(),
            plan[i % plan.len()].clone(),
            results.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let mut request = match &planned.body {
                None => client.get(&planned.url),
                Some(body) => client
                    .post(&planned.url)
                    .header("content-type", "application/json")
                    .header(
                        "idempotency-key",
                        format!("load-{}", SENT.fetch_add(1, Ordering::Relaxed)),
                    )
                    .body(body.clone()),
            };
            if let Some(token) = &planned.token {
                request = request.bearer_auth(token);
            }
            let ok = match request.send().await {
                Ok(resp) => resp.status().is_success() && resp.bytes().await.is_ok(),
                Err(_) => false,
            };
            let latency = scheduled.elapsed();
            results.lock().await.push((planned.part, latency, ok));
        }));
    }
    let _ = pacer.join();
    for t in tasks {
        let _ = t.await;
    }
    let elapsed = start.elapsed();
    let results = std::mem::take(&mut *results.lock().await);
    (results, elapsed)
}
