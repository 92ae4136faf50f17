//! Claim files through the release `mso serve`, on loopback: an 820-claim and a
//! 10,000-claim X12 837 file posted, and the time until every claim is judged
//! and in the file's 277CA (`GET /v1/claim-files/{id}` says `acknowledged`),
//! and a JSON claim's submit latency.
//!
//! `cargo bench --bench claims_load` (env: MSO_CLAIMS_SIZES=820,10000).
//!
//! The claims are the demo IPA's 300 members (every coverage situation, so some
//! are rejected, as in life), billed by the Sunrise practice for office visits
//! on distinct dates, so the edits judge each one for real (eligibility on the
//! date, timely filing, duplicates against the member's other claims).

#[path = "../support/mod.rs"]
mod support;

use std::time::{Duration, Instant};

use mso_testkit::x12::{Line, Spec, professional};
use serde_json::Value;
use support::{Server, token};

fn main() {
    let sizes: Vec<usize> = std::env::var("MSO_CLAIMS_SIZES")
        .unwrap_or_else(|_| "820,10000".into())
        .split(',')
        .filter_map(|s| s.trim().parse().ok())
        .collect();
    let data = tempfile::tempdir().unwrap();
    let server = Server::start_logging(data.path(), "warn");
    let practice = "sunrise-family-medicine";
    let provider = token(data.path(), practice, "provider_user", &[]);
    let billing = mso::demo::providers()
        .into_iter()
        .find(|p| p.org_id == practice)
        .unwrap()
        .npi;
    let policy = mso_api::policies::load("sunrise").unwrap();
    let today = jiff::Timestamp::now()
        .in_tz("America/Los_Angeles")
        .unwrap()
        .date();
    let members = mso::demo::members(&policy, today);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let mut rows = Vec::new();
    rt.block_on(async {
        let client = reqwest::Client::new();
        for (round, size) in sizes.iter().enumerate() {
            let specs: Vec<Spec> = (0..*size)
                .map(|i| {
                    let m = &members[(i * 7 + round) % members.len()];
                    // Member (7i + round) mod 300 comes once in every 300
                    // claims; each time a day earlier, so no two claims of a
                    // member bill the same service.
                    let date = today
                        .checked_sub(jiff::Span::new().days((i / 300) as i64 + 1))
                        .unwrap();
                    Spec {
                        clm01: format!("B{round}-{i}"),
                        member_id: m.member_id.clone(),
                        dob: m.dob.replace('-', ""),
                        billing_npi: billing.clone(),
                        rendering_npi: None,
                        frequency: "1".into(),
                        original: None,
                        prior_auth: None,
                        diagnosis: "J069".into(),
                        lines: vec![Line {
                            code: "99213".into(),
                            charge_cents: 12_500,
                            units: 1,
                            date: date.strftime("%Y%m%d").to_string(),
                        }],
                    }
                })
                .collect();
            let file = professional(1000 + round as u32, &specs);
            let started = Instant::now();
            let resp = client
                .post(format!("{}/v1/claim-files", server.base))
                .bearer_auth(&provider)
                .header("idempotency-key", format!("bench-{round}"))
                .header("content-type", "application/edi-x12")
                .body(file.clone())
                .send()
                .await
                .unwrap();
            assert_eq!(resp.status(), 202);
            let posted_in = started.elapsed();
            let id = resp.json::<Value>().await.unwrap()["id"]
                .as_str()
                .unwrap()
                .to_string();
            let url = format!("{}/v1/claim-files/{id}", server.base);
            let mut read_after = None;
            let v = loop {
                let v: Value = client
                    .get(&url)
                    .bearer_auth(&provider)
                    .send()
                    .await
                    .unwrap()
                    .json()
                    .await
                    .unwrap();
                if v["status"] == "acknowledged" || started.elapsed() > Duration::from_secs(120) {
                    break v;
                }
                if read_after.is_none() && v["status"] != "received" {
                    read_after = Some(started.elapsed());
                }
                // Each read counts the file's claims; poll gently.
                tokio::time::sleep(Duration::from_millis(50)).await;
            };
            let total = started.elapsed();
            let trn = v["ack_277ca"].as_str().unwrap_or_default().matches("TRN*2*").count();
            println!(
                "{size} claims ({} KB): POST answered in {:.0} ms; file read (999 out, claims stored and queued) seen after {}; every claim in the 277CA after {:.2} s ({} TRN*2 claim lines; accepted {}, rejected {}, pended {}) -> {:.0} claims/s",
                file.len() / 1024,
                posted_in.as_secs_f64() * 1000.0,
                read_after.map_or("- (done between two reads)".to_string(), |d| format!("{:.2} s", d.as_secs_f64())),
                total.as_secs_f64(),
                trn.saturating_sub(1),
                v["counts"]["accepted"],
                v["counts"]["rejected"],
                v["counts"]["pended"],
                *size as f64 / total.as_secs_f64(),
            );
            assert_eq!(v["status"], "acknowledged", "{}", v["counts"]);
            let target = if *size <= 1_000 { "under 2 s" } else { "under 10 s" };
            rows.push(format!(
                "| {size} claims, {} KB | {:.0} ms | **{:.2} s** ({} accepted, {} rejected) | {:.0} | {target} |",
                file.len() / 1000,
                posted_in.as_secs_f64() * 1000.0,
                total.as_secs_f64(),
                v["counts"]["accepted"],
                v["counts"]["rejected"],
                *size as f64 / total.as_secs_f64(),
            ));
        }
    });
    drop(server);
    // For docs/performance.md (`cargo bench -p perf-report`).
    println!("\n<!-- report:claims-load -->");
    println!("| file | POST answered | every claim in the 277CA | claims/s | target |");
    println!("|---|---|---|---|---|");
    for row in rows {
        println!("{row}");
    }
    println!("<!-- /report:claims-load -->");
}
