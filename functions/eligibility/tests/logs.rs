//! What the eligibility handler logs. In a test binary of its own: `tracing` caches
//! whether a callsite is enabled process-wide, so a test running in parallel without
//! a subscriber can switch this test's spans off.

mod support;

use std::sync::{Arc, Mutex};

use eligibility::handle;
use support::*;

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn logs_carry_request_ids_but_no_phi() {
    let f = fixture().await;
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .json()
        .with_current_span(true)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    handle(
        &f.deps,
        eligibility(
            "member_id=SUN100001&dob=1984-03-15&dos=2026-03-02",
            SUNRISE_ORG,
        ),
    )
    .await;
    handle(
        &f.deps,
        eligibility(
            "member_id=SUN100001&dob=1984-02-30&dos=2026-03-02",
            SUNRISE_ORG,
        ),
    )
    .await;
    handle(
        &f.deps,
        eligibility(
            "member_id=SUN100001&dob=1984-03-16&dos=2026-03-02",
            SUNRISE_ORG,
        ),
    )
    .await;
    let logs = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(
        logs.contains("test-request"),
        "request ID is logged: {logs}"
    );
    // The field the template's metric filter counts (and alarms on).
    let mismatch = logs
        .lines()
        .find(|l| l.contains("eligibility_dob_mismatch"))
        .unwrap_or_else(|| panic!("no dob mismatch event: {logs}"));
    let event: serde_json::Value = serde_json::from_str(mismatch).unwrap();
    assert_eq!(
        event["fields"]["security_event"],
        "eligibility_dob_mismatch"
    );
    for phi in [
        "SUN100001",
        "1984-03-15",
        "1984-02-30",
        "1984-03-16",
        "Ana",
        "Testcase",
    ] {
        assert!(!logs.contains(phi), "{phi} leaked into logs: {logs}");
    }
}
