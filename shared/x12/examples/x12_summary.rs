//! Prints what the parser makes of X12 files: claims, claim problems, envelope verdicts.
//!   cargo run -p mso-x12 --example x12_summary -- FILE...
fn main() {
    for path in std::env::args().skip(1) {
        let data = std::fs::read(&path).unwrap_or_default();
        let p = mso_x12::Parsed::from_slice(&data);
        println!(
            "== {path}: {} claims, {} claim errors, {} not-claims",
            p.claims.len(),
            p.claim_errors.len(),
            p.not_claims.len()
        );
        for c in &p.claims {
            println!(
                "  claim {} {:?} {} lines, charge {}",
                c.patient_control_number,
                c.kind,
                c.lines.len(),
                c.total_charge_cents
            );
        }
        for e in &p.claim_errors {
            println!("  BAD claim {:?}:", e.claim.patient_control_number);
            for pr in &e.problems {
                println!("     {} at {}: {}", pr.segment_id, pr.position, pr.reason);
            }
        }
        for n in &p.not_claims {
            println!(
                "  not claims: {} {} ({})",
                n.transaction_set, n.implementation, n.reason
            );
        }
        for i in &p.interchanges {
            println!(
                "  interchange {} accepted={} errors={:?}",
                i.control_number,
                i.accepted(),
                i.errors
                    .iter()
                    .map(|n| (n.code, n.reason.as_ref()))
                    .collect::<Vec<_>>()
            );
            for g in &i.groups {
                println!(
                    "    group {} {:?} {:?}",
                    g.control_number,
                    g.verdict,
                    g.errors
                        .iter()
                        .map(|n| (n.code, n.reason.as_ref()))
                        .collect::<Vec<_>>()
                );
                for s in g.sets.iter().take(3) {
                    println!(
                        "      set {} {:?} {:?}",
                        s.control_number,
                        s.verdict,
                        s.errors
                            .iter()
                            .map(|n| (n.code, n.reason.as_ref()))
                            .collect::<Vec<_>>()
                    );
                    for se in s.segment_errors.iter().take(6) {
                        println!(
                            "        IK3 {} pos {} code {} {} {:?}",
                            se.segment_id,
                            se.position.in_set,
                            se.code,
                            se.reason,
                            se.elements
                                .iter()
                                .map(|e| (e.element, e.component, e.code))
                                .collect::<Vec<_>>()
                        );
                    }
                }
            }
        }
    }
}
