fn main() {
    let env = mso_x12::ack999::AckEnvelope { interchange_control_number: 42, group_control_number: 7, first_set_control_number: 1, stamp: mso_x12::ack999::Stamp::new("2026-01-31", "1230").unwrap(), our_qualifier: "ZZ".into(), our_id: "MSO".into() };
    for path in std::env::args().skip(1) {
        let data = std::fs::read(&path).unwrap();
        let p = mso_x12::Parsed::from_slice(&data);
        for i in &p.interchanges { println!("{}", mso_x12::ack999::write(i, &env)); }
        let c = p.claims.first().or(p.claim_errors.first().map(|e| &e.claim));
        if let Some(c) = c {
            let mut b = mso_x12::ack277::Ack277Builder::new(env.clone(), "T", mso_x12::ack277::AckParty { name: "MSO".into(), id: "MSO1".into(), isa_qualifier: "ZZ".into(), isa_id: "MSO".into(), application_id: "MSOAPP".into() }, mso_x12::ack277::AckParty { name: "SUBMITTER".into(), id: "S1".into(), isa_qualifier: "ZZ".into(), isa_id: "SUB".into(), application_id: String::new() }, &c.source.reference, "2026-01-30");
            for c in &p.claims { b.claim(c, mso_x12::ack277::Decision::accepted()); }
            for e in &p.claim_errors { b.claim(&e.claim, mso_x12::ack277::Decision::rejected("21").for_entity("IL")); }
            println!("{}", b.build().to_x12());
        }
    }
}
