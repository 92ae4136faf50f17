//! The real X12 files in tests/samples: claims and key fields read by hand from the
//! files, envelope verdicts, the 999 and 277CA written for them.

use std::path::Path;

use mso_x12::ack277::{Ack277Builder, AckParty, Decision};
use mso_x12::ack999::{self, AckEnvelope, Stamp};
use mso_x12::{ClaimKind, Parsed, Parser, SegmentReader, Verdict};

fn read(name: &str) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/samples")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn parse(name: &str) -> Parsed {
    Parsed::from_slice(&read(name))
}

fn envelope() -> AckEnvelope {
    AckEnvelope {
        interchange_control_number: 42,
        group_control_number: 7,
        first_set_control_number: 1,
        stamp: Stamp::new("2026-01-31", "1230").unwrap(),
        our_qualifier: "ZZ".into(),
        our_id: "MSO".into(),
    }
}

fn ack999(p: &Parsed) -> String {
    p.interchanges
        .iter()
        .map(|i| ack999::write(i, &envelope()))
        .collect()
}

/// Every sample: (file, interchanges with an ISA, groups, transaction sets, claims
/// built + claims rejected, transaction sets that are not 5010 837s). Counts of ISA,
/// GS, ST and CLM are those of tests/samples/README.md.
const SAMPLES: &[(&str, usize, usize, usize, usize, usize)] = &[
    ("837P_imsweb_x12_bad_segment_identifier.txt", 1, 1, 1, 2, 0),
    ("837P_imsweb_x12_complex.txt", 1, 1, 2, 6, 0),
    ("837P_imsweb_x12_missing_elements.txt", 1, 1, 1, 2, 0),
    ("837P_imsweb_x12_multiple_gs.txt", 1, 3, 3, 6, 0),
    ("837P_imsweb_x12_multiple_isa.txt", 2, 2, 2, 4, 0),
    (
        "837P_imsweb_x12_multiple_transactions.txt",
        312,
        312,
        312,
        624,
        0,
    ),
    ("837P_imsweb_x12_no_isa_line.txt", 0, 1, 1, 2, 0),
    ("837P_imsweb_x12_valid.txt", 1, 1, 1, 2, 0),
    (
        "837P_imsweb_x12_valid_different_separators.txt",
        1,
        1,
        1,
        2,
        0,
    ),
    ("837P_lfh_demo.ambulance.example5.837", 1, 1, 1, 1, 0),
    ("837P_lfh_demo.autoaccident.837", 1, 1, 1, 1, 0),
    ("837P_lfh_demo.cob.example3.A.837", 1, 1, 1, 1, 0),
    ("837P_lfh_demo.drug.example10.1.837", 1, 1, 1, 1, 0),
    ("837P_lfh_demo.example1.837", 1, 1, 1, 1, 0),
    ("837P_lfh_demo.example2.837", 1, 1, 1, 1, 0),
    ("837P_lfh_demo.example7.837", 1, 1, 1, 1, 0),
    // 4010 inside a 5010 envelope: not claims for a 5010 intake.
    ("837P_lfh_patient-is-subscriber.837", 1, 1, 1, 0, 1),
    ("837P_mjkubba_edi837P-demo-005010X222.edi", 1, 1, 1, 1, 0),
    ("837P_pyx12_fail_no_IEA.txt", 1, 1, 1, 0, 1),
    ("837P_pyx12_simple_837p.txt", 1, 1, 1, 0, 1),
    ("837P_staedi_837-header-ref-only.edi", 1, 1, 1, 0, 0),
    ("837P_staedi_sample837-original.edi", 1, 1, 1, 1, 0),
    ("837P_staedi_sample837-small.edi", 1, 1, 2, 0, 0),
    ("837I_imsweb_x223-test.txt", 1, 1, 1, 1, 0),
    ("837I_lfh_institutional-claim.837i", 1, 1, 1, 1, 0),
    ("837I_lfh_institutional.837", 1, 1, 1, 0, 1),
    ("837I_lfh_ppo-repriced-claim.837i", 1, 1, 1, 1, 0),
    ("837I_lfh_two-claims-single-provider.837i", 1, 1, 1, 2, 0),
    ("837I_mjkubba_edi837I-demo-005010X223.edi", 1, 1, 1, 1, 0),
    ("837I_pyx12_simple_837i.txt", 1, 1, 1, 0, 1),
    ("837I_silvenga_complete.edi", 1, 1, 1, 2, 0),
    ("837I_silvenga_odd-separator.edi", 1, 1, 1, 2, 0),
    ("270_imsweb_x270.txt", 1, 1, 1, 0, 1),
    ("270_lfh_dependent-health-benefit-check.270", 1, 1, 1, 0, 1),
    ("270_lfh_subscriber-health-benefit-check.270", 1, 1, 1, 0, 1),
    ("270_mjkubba_edi270-demo-005010X279.edi", 1, 1, 1, 0, 1),
    ("270_x12pe_270_batch_multi.x12", 1, 1, 2, 0, 2),
    ("270_x12pe_270_custom_delimiters.x12", 1, 1, 1, 0, 1),
    (
        "270_x12pe_batch_with_one_bad_transaction.x12",
        1,
        1,
        3,
        0,
        3,
    ),
    ("271_imsweb_x271.txt", 1, 1, 1, 0, 1),
    ("271_lfh_dependent-health-benefit-check.271", 1, 1, 1, 0, 1),
    ("271_lfh_subscriber-health-benefit-check.271", 1, 1, 1, 0, 1),
    ("271_mjkubba_edi271-demo-005010X279.edi", 1, 1, 1, 0, 1),
    ("271_x12pe_271_active_response.x12", 1, 1, 1, 0, 1),
    ("271_x12pe_271_ls_le_wrapper.x12", 1, 1, 1, 0, 1),
    ("271_x12pe_271_multiple_eb_segments.x12", 1, 1, 1, 0, 1),
    ("276_lfh_claim-level-status.276", 1, 1, 1, 0, 1),
    ("276_lfh_provider-level-status.276", 1, 1, 1, 0, 1),
    ("276_mjkubba_edi276-demo-005010X212.edi", 1, 1, 1, 0, 1),
    ("277_lfh_claim-level-status.277", 1, 1, 1, 0, 1),
    ("277_lfh_provider-level-status.277", 1, 1, 1, 0, 1),
    ("277_mjkubba_edi277-demo-005010X212.edi", 1, 1, 1, 0, 1),
    ("277CA_imsweb_x12_277CA_accepted.txt", 1, 1, 1, 0, 1),
    ("278_mjkubba_edi278-demo-005010X217.edi", 1, 1, 1, 0, 1),
    ("278_pyx12_mult_trn.txt", 1, 3, 5, 0, 5),
    // A bare ST..SE: no ISA and no GS.
    ("835_edi835parser_blue_cross_nc_sample.txt", 0, 0, 1, 0, 1),
    ("835_edi835parser_emedny_sample.txt", 1, 1, 1, 0, 1),
    ("835_lfh_managed-care.835", 1, 1, 1, 0, 1),
    ("835_lfh_medicare-part-a.835", 1, 1, 1, 0, 1),
    ("835_lfh_secondary-payment.835", 1, 1, 1, 0, 1),
    ("835_mjkubba_edi835-demo-005010X221.edi", 1, 1, 1, 0, 1),
    ("835_pyx12_835_simple.txt", 1, 1, 1, 0, 1),
    ("999_imsweb_x12_999_accepted.txt", 1, 1, 1, 0, 1),
    ("999_imsweb_x12_999_rejected.txt", 1, 1, 1, 0, 1),
];

#[test]
fn every_sample_yields_its_envelopes_and_claims() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/samples");
    let on_disk = std::fs::read_dir(&dir).unwrap().filter_map(|e| {
        let name = e.ok()?.file_name().into_string().ok()?;
        (!name.starts_with("LICENSE") && name != "README.md").then_some(name)
    });
    let mut on_disk: Vec<String> = on_disk.collect();
    on_disk.sort();
    let mut listed: Vec<String> = SAMPLES.iter().map(|s| s.0.to_owned()).collect();
    listed.sort();
    assert_eq!(on_disk, listed, "every sample file is in the table");

    for &(name, isa, gs, st, claims, not_claims) in SAMPLES {
        let p = parse(name);
        let with_header = p.interchanges.iter().filter(|i| i.has_header).count();
        let groups = p
            .interchanges
            .iter()
            .flat_map(|i| &i.groups)
            .filter(|g| !g.functional_id.is_empty())
            .count();
        let sets: u64 = p
            .interchanges
            .iter()
            .flat_map(|i| &i.groups)
            .map(|g| g.received_sets)
            .sum();
        assert_eq!(
            (
                with_header,
                groups,
                sets as usize,
                p.claims.len() + p.claim_errors.len(),
                p.not_claims.len()
            ),
            (isa, gs, st, claims, not_claims),
            "{name}"
        );
    }
}

#[test]
fn streaming_from_a_reader_gives_the_same_events_as_a_slice() {
    for &(name, ..) in SAMPLES {
        let data = read(name);
        let from_slice: Vec<String> = Parser::from_slice(&data)
            .map(|e| format!("{:?}", e.unwrap()))
            .collect();
        let from_reader: Vec<String> = Parser::from_reader(std::io::Cursor::new(&data))
            .map(|e| format!("{:?}", e.unwrap()))
            .collect();
        assert_eq!(from_slice, from_reader, "{name}");
    }
}

#[test]
fn professional_claim_fields_match_the_file() {
    // 837P_lfh_demo.example1.837, read by hand.
    let p = parse("837P_lfh_demo.example1.837");
    assert!(p.interchanges[0].accepted());
    let c = &p.claims[0];
    assert_eq!(c.kind, ClaimKind::Professional);
    assert_eq!(c.patient_control_number, "26463774");
    assert_eq!(c.total_charge_cents, 10_000);
    assert_eq!(
        (
            c.facility_code.as_str(),
            c.facility_code_qualifier.as_str(),
            c.frequency.as_str()
        ),
        ("11", "B", "1")
    );
    assert_eq!(c.source.sender_id, "000000005");
    assert_eq!(c.source.interchange_control_number, "000000907");
    assert_eq!(c.source.group_control_number, "1");
    assert_eq!(c.source.set_control_number, "0021");
    assert_eq!(c.source.reference, "244579");
    assert_eq!(
        c.source.submitter.as_ref().unwrap().id.as_deref(),
        Some("TGJ23")
    );
    let bp = &c.billing_provider;
    assert_eq!(bp.name.last_or_organization, "BEN KILDARE SERVICE");
    assert_eq!(bp.npi.as_deref(), Some("1912301953"));
    assert_eq!(bp.tin.as_deref(), Some("587654321"));
    assert_eq!(bp.taxonomy.as_deref(), Some("203BF0100Y"));
    let addr = bp.address.as_ref().unwrap();
    assert_eq!(
        (
            addr.line1.as_str(),
            addr.city.as_str(),
            addr.postal_code.as_deref()
        ),
        ("234 SEAWAY ST", "MIAMI", Some("331110000"))
    );
    assert_eq!(
        c.pay_to.as_ref().unwrap().address.as_ref().unwrap().line1,
        "2345 OCEAN BLVD"
    );
    assert_eq!(c.subscriber.member_id, "JS00111223333");
    assert_eq!(c.subscriber.group_number.as_deref(), Some("2222-SJ"));
    assert_eq!(c.subscriber.claim_filing_indicator.as_deref(), Some("CI"));
    assert_eq!(c.payer.id.as_deref(), Some("999996666"));
    let patient = c.patient.as_ref().unwrap();
    assert_eq!(patient.relationship, "19");
    assert_eq!(
        (
            patient.name.last_or_organization.as_str(),
            patient.name.first.as_deref()
        ),
        ("SMITH", Some("TED"))
    );
    assert_eq!(patient.birth_date.unwrap(), "1973-05-01");
    assert_eq!(patient.sex.as_deref(), Some("M"));
    assert_eq!(c.principal_diagnosis(), Some("0340"));
    assert_eq!(c.diagnoses().count(), 2);
    assert_eq!(c.lines.len(), 4);
    let l = &c.lines[2];
    assert_eq!(l.number, 3);
    assert_eq!(l.procedure.as_ref().unwrap().code, "99214");
    assert_eq!(l.charge_cents, 3500);
    assert_eq!(
        (l.unit_basis.as_deref(), l.units.as_deref()),
        (Some("UN"), Some("1.00"))
    );
    assert_eq!(l.diagnosis_pointers, [2]);
    assert_eq!(l.service_date.unwrap().from, "2006-10-10");
    assert_eq!(
        c.lines.iter().map(|l| l.charge_cents).sum::<i64>(),
        c.total_charge_cents
    );
}

#[test]
fn claim_level_providers_references_and_modifiers() {
    let c = &parse("837P_lfh_demo.cob.example3.A.837").claims[0];
    assert_eq!(c.patient_control_number, "26407789");
    let r = c.providers.rendering.as_ref().unwrap();
    assert_eq!(
        (r.name.last_or_organization.as_str(), r.npi.as_deref()),
        ("KILDARE", Some("1999996666"))
    );
    assert_eq!(
        c.providers
            .service_facility
            .as_ref()
            .unwrap()
            .npi
            .as_deref(),
        Some("1581234567")
    );
    assert_eq!(c.lines[0].diagnosis_pointers, [1, 2, 3, 4]);
    // The 2330A other subscriber (NM1*IL after SBR*S) does not replace the subscriber.
    assert_eq!(c.subscriber.name.first.as_deref(), Some("JANE"));
    assert_ne!(c.subscriber.member_id, "T55TY666");

    let c = &parse("837P_lfh_demo.example7.837").claims[0];
    assert_eq!(c.patient_control_number, "R03996273 #01");
    let p = c.lines[0].procedure.as_ref().unwrap();
    assert_eq!(p.code, "E1390");
    assert_eq!(p.modifiers, ["RR"]);
    let d = c.lines[0].service_date.unwrap();
    assert_eq!((d.from, d.to), (d.from, d.from));
    assert_eq!(d.from, "2005-03-21");
}

#[test]
fn institutional_claim_fields_match_the_file() {
    let p = parse("837I_lfh_institutional-claim.837i");
    assert!(p.interchanges[0].accepted());
    let c = &p.claims[0];
    assert_eq!(c.kind, ClaimKind::Institutional);
    assert_eq!(c.patient_control_number, "756048Q");
    assert_eq!(c.total_charge_cents, 8993);
    assert_eq!(c.type_of_bill.as_deref(), Some("141"));
    assert_eq!(c.dates.statement.unwrap().from, "1996-09-11");
    let i = c.institutional.as_ref().unwrap();
    assert_eq!(
        (i.admission_type.as_deref(), i.patient_status.as_deref()),
        (Some("3"), Some("01"))
    );
    assert_eq!(
        c.providers
            .attending
            .as_ref()
            .unwrap()
            .name
            .last_or_organization,
        "JONES"
    );
    assert_eq!(c.subscriber.member_id, "030005074A");
    assert_eq!(c.subscriber.birth_date.unwrap(), "1926-11-11");
    assert_eq!(c.payer.name.last_or_organization, "MEDICARE B");
    assert!(
        c.patient.is_none(),
        "SBR02 18: the patient is the subscriber"
    );
    // HI: principal, other diagnoses, occurrence (BH), value (BE) and condition (BG) codes.
    let quals: Vec<&str> = c
        .health_codes
        .iter()
        .map(|h| h.qualifier.as_str())
        .collect();
    assert_eq!(
        quals,
        ["BK", "BF", "BF", "BH", "BH", "BH", "BH", "BE", "BG"]
    );
    assert_eq!(
        c.other_payers[0].name.last_or_organization,
        "STATE TEACHERS"
    );
    let l = &c.lines[1];
    assert_eq!(
        (
            l.revenue_code.as_deref(),
            l.procedure.as_ref().unwrap().code.as_str()
        ),
        (Some("0730"), "93005")
    );
    assert_eq!((l.charge_cents, l.units.as_deref()), (7654, Some("3.00")));
}

#[test]
fn newline_terminated_indented_file_reads_like_any_other() {
    // staedi: segment terminator is LF, segments indented with spaces, component '>'.
    let p = parse("837P_staedi_sample837-original.edi");
    assert!(p.interchanges[0].accepted(), "{:?}", p.interchanges[0]);
    let c = &p.claims[0];
    assert_eq!(
        (c.patient_control_number.as_str(), c.total_charge_cents),
        ("945405", 533_254)
    );
    assert_eq!(c.facility_code, "12");
    assert_eq!(c.lines[0].procedure.as_ref().unwrap().code, "J2941");
    assert_eq!(c.lines[0].control_number.as_deref(), Some("1099999731"));
    assert_eq!(
        c.patient.as_ref().unwrap().name.first.as_deref(),
        Some("COLE")
    );
}

#[test]
fn other_separators_give_the_same_claims() {
    let plain = parse("837P_imsweb_x12_valid.txt");
    let odd = parse("837P_imsweb_x12_valid_different_separators.txt");
    assert_eq!(plain.claims, odd.claims);
    assert_eq!(plain.claims.len(), 2);
    assert_eq!(plain.claims[1].patient_control_number, "A37YH667");
    assert_eq!(
        plain.claims[1].lines[0]
            .procedure
            .as_ref()
            .unwrap()
            .modifiers,
        ["25"]
    );

    let complete = parse("837I_silvenga_complete.edi");
    let pipes = parse("837I_silvenga_odd-separator.edi");
    assert_eq!(
        complete.claims[0].health_codes,
        pipes.claims[0].health_codes
    );
    assert_eq!(pipes.claims[0].patient_control_number, "756048Q");
}

#[test]
fn several_interchanges_and_groups_keep_their_own_identity() {
    let p = parse("837P_imsweb_x12_multiple_isa.txt");
    let isa13: Vec<&str> = p
        .claims
        .iter()
        .map(|c| c.source.interchange_control_number.as_str())
        .collect();
    assert_eq!(isa13, ["000000905", "000000905", "000000906", "000000906"]);
    assert_eq!(p.claims[2].patient_control_number, "A37YH5561");

    let p = parse("837P_imsweb_x12_multiple_gs.txt");
    assert_eq!(p.interchanges[0].groups.len(), 3);
    // IEA01 says 1 group for 3: the interchange is rejected (TA1 note 021).
    assert_eq!(p.interchanges[0].errors[0].code, Some("021"));
    assert!(ack999(&p).contains("TA1*000000905*030101*1253*R*021~"));

    let p = parse("837P_imsweb_x12_multiple_transactions.txt");
    assert_eq!(p.interchanges.len(), 312);
    let sets: std::collections::HashSet<u64> =
        p.claims.iter().map(|c| c.source.set_index).collect();
    assert_eq!(sets.len(), 312);
}

#[test]
fn bad_segment_ids_are_rejected_with_their_positions_and_the_good_claim_still_built() {
    let p = parse("837P_imsweb_x12_bad_segment_identifier.txt");
    let ack = ack999(&p);
    // '*IC*...' (no ID) at 4, 'Nd4' at 9, 'NM31' at 18 in the transaction set.
    for ik3 in ["IK3*UNK*4**1~", "IK3*Nd4*9**1~", "IK3*UNK*18**1~"] {
        assert!(ack.contains(ik3), "{ik3} in\n{ack}");
    }
    assert!(ack.contains("IK5*R*4*5~"), "{ack}");
    assert!(ack.contains("AK9*R*1*1*0~"), "{ack}");
    // NM31 replaced the subscriber's NM1*IL: that claim alone is rejected.
    assert_eq!(p.claims.len(), 1);
    assert_eq!(p.claims[0].patient_control_number, "A37YH667");
    let bad = &p.claim_errors[0];
    assert_eq!(bad.claim.patient_control_number, "A37YH556");
    assert!(bad.problems[0].reason.contains("2010BA NM1*IL"), "{bad}");
    assert_eq!(bad.problems[0].position.in_set, 20);
}

#[test]
fn missing_elements_are_reported_per_element_and_per_claim() {
    let p = parse("837P_imsweb_x12_missing_elements.txt");
    let ack = ack999(&p);
    assert!(
        ack.contains("IK3*NM1*5**8~\nIK4*2**1~"),
        "NM102 empty in NM1*40:\n{ack}"
    );
    assert!(
        ack.contains("IK3*CLM*29**8~\nIK4*5**1~"),
        "CLM05 empty:\n{ack}"
    );
    assert_eq!(p.claims.len(), 1);
    assert_eq!(p.claims[0].patient_control_number, "A37YH556");
    let bad = &p.claim_errors[0];
    assert_eq!(bad.claim.patient_control_number, "A37YH667");
    assert!(
        bad.problems
            .iter()
            .any(|pr| pr.reason == "CLM05-1 place of service is missing"),
        "{bad}"
    );
}

#[test]
fn a_malformed_claim_is_noted_in_the_999_and_rejected_alone_in_the_277ca() {
    // A clean two-claim file whose second claim has a letter O in its charge.
    let clean = String::from_utf8(read("837I_lfh_two-claims-single-provider.837i")).unwrap();
    let bad = clean.replacen("CLM*756049Q*50.00*", "CLM*756049Q*5O.00*", 1);
    let p = Parsed::from_slice(bad.as_bytes());
    let ack = ack999(&p);
    // The envelope is sound: the set is accepted with the error noted (E), not rejected.
    assert!(
        ack.contains("IK3*CLM*39**8~\nIK4*2**6~\nIK5*E*5~\nAK9*E*1*1*1~"),
        "{ack}"
    );
    let ic = &p.interchanges[0];
    assert!(ic.accepted() && ic.set_accepted(p.claims[0].source.set_index));
    assert_eq!(p.claims.len(), 1);
    assert_eq!(p.claims[0].patient_control_number, "756048Q");
    let bad_claim = &p.claim_errors[0];
    assert_eq!(bad_claim.claim.patient_control_number, "756049Q");
    assert_eq!(
        bad_claim.problems[0].reason,
        "CLM02 total claim charge is not a dollar amount"
    );
    assert_eq!(bad_claim.problems[0].position.in_set, 39);

    // The 277CA: the good claim accepted, the bad one rejected, each by its CLM01.
    let mut b = Ack277Builder::new(
        envelope(),
        "T",
        AckParty::default(),
        AckParty::default(),
        "0123",
        "2026-01-30",
    );
    b.claim(&p.claims[0], Decision::accepted());
    b.claim(&bad_claim.claim, Decision::rejected("21"));
    let x12 = b.build().to_x12();
    assert!(
        x12.contains("TRN*2*756048Q~\nSTC*A1:20*20260131*WQ*89.95~"),
        "{x12}"
    );
    assert!(
        x12.contains("TRN*2*756049Q~\nSTC*A7:21*20260131*U*0~"),
        "{x12}"
    );

    // The clean file is accepted outright.
    let p = Parsed::from_slice(clean.as_bytes());
    assert!(ack999(&p).contains("IK5*A~\nAK9*A*1*1*1~"));
}

#[test]
fn a_truncated_file_is_a_999_reject_and_its_complete_claims_are_built() {
    // No SE, GE or IEA; the second claim is cut off before its service lines.
    let p = parse("837I_silvenga_odd-separator.edi");
    let ic = &p.interchanges[0];
    assert_eq!(ic.errors[0].code, Some("023"));
    assert_eq!(ic.groups[0].errors[0].code, Some("3"));
    assert_eq!(ic.groups[0].sets[0].errors[0].code, Some("2"));
    assert_eq!(ic.groups[0].verdict, Verdict::Rejected);
    assert!(!ic.set_accepted(p.claims[0].source.set_index));
    let ack = ack999(&p);
    assert!(ack.contains("TA1*000010216*080503*1705*R*023~"), "{ack}");
    assert!(
        ack.contains("IK5*R*2~") && ack.contains("AK9*R*1*1*0*3~"),
        "{ack}"
    );
    assert_eq!(p.claims[0].patient_control_number, "756048Q");
    assert_eq!(p.claim_errors[0].claim.patient_control_number, "756049Q");

    let p = parse("837P_pyx12_fail_no_IEA.txt");
    assert_eq!(p.interchanges[0].errors[0].code, Some("023"));
    assert!(!p.interchanges[0].accepted());
}

#[test]
fn a_file_without_isa_is_rejected_but_read() {
    let p = parse("837P_imsweb_x12_no_isa_line.txt");
    let ic = &p.interchanges[0];
    assert!(!ic.has_header);
    assert_eq!(ic.errors[0].code, Some("022"));
    assert_eq!(p.claims.len(), 2);
    let ack = ack999(&p);
    // Addressed to the GS sender, from our own ID.
    assert!(
        ack.starts_with("ISA*00*          *00*          *ZZ*MSO            *ZZ*SENDER CODE    *"),
        "{ack}"
    );
    assert!(ack.contains("TA1*000000000*260131*1230*R*022~"), "{ack}");
    assert!(ack.contains("AK1*HC*1*005010X222A1~"));
}

#[test]
fn a_bad_isa_is_a_reject() {
    // The ISA06 sender ID cut short: the delimiters are still found by counting.
    let good = String::from_utf8(read("837P_lfh_demo.example1.837")).unwrap();
    let short = good.replacen("*000000005      *", "*000000005*", 1);
    let p = Parsed::from_slice(short.as_bytes());
    assert_eq!(p.interchanges[0].errors[0].code, Some("006"));
    assert!(!p.interchanges[0].accepted());
    assert!(ack999(&p).contains("*R*006~"));
    assert_eq!(p.claims.len(), 1, "still read, so its claims can be named");

    // Unusable delimiters: nothing can be read; the interchange is rejected alone.
    let broken = good.replacen("ISA*", "ISAA", 1);
    let p = Parsed::from_slice(broken.as_bytes());
    assert!(p.claims.is_empty());
    assert!(!p.interchanges[0].accepted());
    let unreadable = good.replacen("*:~", "*~~", 1);
    let p = Parsed::from_slice(unreadable.as_bytes());
    assert_eq!(p.interchanges[0].errors[0].code, Some("027"));
    assert!(ack999(&p).contains("TA1*000000000*260131*1230*R*027~\nIEA*0*000000042~"));
}

#[test]
fn a_clean_file_gets_an_accepting_999() {
    let p = parse("837I_lfh_two-claims-single-provider.837i");
    assert_eq!(
        ack999(&p),
        "ISA*00*          *00*          *30*12345          *30*000000005      *260131*1230*^*00501*000000042*0*T*:~\n\
         GS*FA*54321*000000005*20260131*1230*7*X*005010X231A1~\n\
         ST*999*0001*005010X231A1~\n\
         AK1*HC*1*005010X223A3~\n\
         AK2*837*987654*005010X223A3~\n\
         IK5*A~\n\
         AK9*A*1*1*1~\n\
         SE*6*0001~\n\
         GE*1*7~\n\
         IEA*1*000000042~\n"
    );
}

#[test]
fn non_837_files_are_read_and_reported_as_not_claims() {
    for &(name, ..) in SAMPLES.iter().filter(|s| !s.0.starts_with("837")) {
        let p = parse(name);
        assert!(p.claims.is_empty() && p.claim_errors.is_empty(), "{name}");
        assert!(
            p.not_claims
                .iter()
                .all(|n| n.transaction_set != "837" || n.implementation.starts_with("004010")),
            "{name}"
        );
        assert!(!p.not_claims.is_empty(), "{name}");
    }
    // Custom delimiters: '|' elements, '!' terminator, '~' repetition.
    let data = read("270_x12pe_270_custom_delimiters.x12");
    let mut r = SegmentReader::from_slice(&data);
    let mut ids = Vec::new();
    while let Some(s) = r.next_segment() {
        let s = s.unwrap();
        ids.push(String::from_utf8_lossy(s.id()).into_owned());
        if s.is("NM1") && s.element(1) == b"IL" {
            assert_eq!(s.element(9), b"000123453");
        }
    }
    assert_eq!(ids.len(), 17);
    assert_eq!(r.separators().repetition, Some(b'~'));
}

#[test]
fn acknowledgments_we_write_read_back_cleanly() {
    for &(name, ..) in SAMPLES {
        let p = parse(name);
        let ack = ack999(&p);
        let back = Parsed::from_slice(ack.as_bytes());
        for ic in &back.interchanges {
            assert!(ic.errors.is_empty(), "{name}: {:?}\n{ack}", ic.errors);
            for g in &ic.groups {
                // Our own 999s are not 837s; every other envelope check passes.
                assert!(
                    g.errors.iter().all(|e| e.code == Some("1")),
                    "{name}: {:?}",
                    g.errors
                );
                for s in &g.sets {
                    assert!(
                        s.errors.iter().all(|e| e.code == Some("1")),
                        "{name}: {:?}\n{ack}",
                        s.errors
                    );
                }
            }
        }
    }
}

#[test]
fn the_277ca_has_one_status_per_claim() {
    let p = parse("837P_imsweb_x12_missing_elements.txt");
    let sender = AckParty {
        name: "SUNRISE MSO".into(),
        id: "MSO1".into(),
        isa_qualifier: "ZZ".into(),
        isa_id: "RECEIVERS.ID".into(),
        application_id: "RECEIVER CODE".into(),
    };
    let submitter = p.claims[0].source.submitter.clone().unwrap();
    let receiver = AckParty {
        name: submitter.name.last_or_organization.to_string(),
        id: submitter.id.clone().unwrap().to_string(),
        isa_qualifier: p.claims[0].source.sender_qualifier.clone(),
        isa_id: p.claims[0].source.sender_id.clone(),
        application_id: p.claims[0].source.group_sender.clone(),
    };
    let mut b = Ack277Builder::new(
        envelope(),
        "T",
        sender,
        receiver,
        &p.claims[0].source.reference,
        "2026-01-30",
    );
    b.claim(&p.claims[0], Decision::accepted())
        .payer_claim_number("PAYER123");
    b.claim(
        &p.claim_errors[0].claim,
        Decision::rejected("21").for_entity("85"),
    );
    let ack = b.build();
    let json = serde_json::to_value(&ack).unwrap();
    assert_eq!(
        json["providers"][0]["claims"][1]["decision"]["status"],
        "rejected"
    );
    let x12 = ack.to_x12();
    assert!(x12.contains("NM1*41*2*ANGELASZEK MEDICAL*****46*999999999~\nTRN*2*0123~\nSTC*A1:19:PR*20260131*WQ*1000~\nQTY*90*1~\nQTY*AA*1~\nAMT*YU*500~\nAMT*YY*500~"), "{x12}");
    assert!(x12.contains("TRN*2*A37YH556~\nSTC*A1:20*20260131*WQ*500~\nREF*1K*PAYER123~\nDTP*472*RD8*20050314-20050325~"), "{x12}");
    assert!(
        x12.contains("TRN*2*A37YH667~\nSTC*A7:21:85*20260131*U*500~"),
        "{x12}"
    );
    assert_eq!(
        x12.matches("TRN*2*").count(),
        3,
        "one per claim, and the batch"
    );
    // Our 277CA reads back with correct counts and control numbers.
    let back = Parsed::from_slice(x12.as_bytes());
    assert!(back.interchanges[0].errors.is_empty());
    assert!(
        back.interchanges[0].groups[0].sets[0]
            .errors
            .iter()
            .all(|e| e.code == Some("1"))
    );
    assert_eq!(back.not_claims[0].transaction_set, "277");
}
