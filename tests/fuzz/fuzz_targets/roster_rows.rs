//! Roster validation on arbitrary rows (fields split on `,`, rows on newlines): every
//! problem reported by line and column, never a panic, never a half-built member.
#![no_main]

use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use mso_domain::policy::Policy;
use mso_domain::roster::{MemberRow, ProviderRow, members_from_rows, providers_from_rows};

static POLICY: LazyLock<Policy> =
    LazyLock::new(|| Policy::from_toml(include_str!("../../../infra/ipas/sunrise.toml"), "sunrise.toml").unwrap());

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let mut members = Vec::new();
    let mut providers = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let f: Vec<String> = line.split(',').map(String::from).collect();
        let get = |n: usize| f.get(n).cloned().unwrap_or_default();
        let line_no = i as u64 + 2;
        members.push((
            line_no,
            MemberRow {
                member_id: get(0),
                first_name: get(1),
                last_name: get(2),
                dob: get(3),
                sex: get(4),
                plan_id: get(5),
                line_of_business: get(6),
                coverage_start: get(7),
                coverage_end: get(8),
                pcp_npi: get(9),
            },
        ));
        providers.push((line_no, ProviderRow { npi: get(0), name: get(1), org_id: get(2), specialty: get(3), network: get(4) }));
    }
    let rows = members.len() as u64;
    match members_from_rows(members, &POLICY) {
        Ok(ms) => assert!(ms.iter().all(|m| !m.spans.is_empty() && m.spans.windows(2).all(|w| w[0].start <= w[1].start))),
        Err(errors) => assert!(errors.iter().all(|e| e.line >= 2 && e.line < rows + 2)),
    }
    let _ = providers_from_rows(providers);
});
