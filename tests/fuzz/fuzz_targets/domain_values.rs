//! Every value parser on arbitrary text: never a panic, and what parses re-parses
//! from its own display to the same value.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mso_domain::codes::{BilledProcedure, CodeRange, Icd10, Modifier, PlaceOfService, ProcedureCode};
use mso_domain::dates::parse_date;
use mso_domain::ids::{MemberId, Npi, OrgId, PlanId};
use mso_domain::member::{LineOfBusiness, Sex};
use mso_domain::money::Money;
use mso_domain::provider::Network;

macro_rules! round_trips {
    ($s:expr, $($parse:path),*) => {$(
        if let Ok(v) = $parse($s) {
            assert_eq!($parse(&v.to_string()).ok(), Some(v));
        }
    )*};
}

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else { return };
    round_trips!(
        s,
        Npi::parse,
        MemberId::parse,
        OrgId::parse,
        PlanId::parse,
        Icd10::parse,
        ProcedureCode::parse,
        Modifier::parse,
        PlaceOfService::parse,
        CodeRange::parse,
        parse_date
    );
    if let Ok(m) = Money::parse_dollars(s) {
        assert_eq!(Money::parse_dollars(&m.to_string()).ok(), Some(m));
    }
    let _ = BilledProcedure::parse(s);
    let _ = LineOfBusiness::parse(s);
    let _ = Sex::parse(s);
    let _ = Network::parse(s);
});
