//! X12 837P files for the small IPA's members and providers, as a clearinghouse
//! would send them: one interchange, one set, a billing provider and a
//! subscriber loop per claim. For the claims job's tests and benches, where the
//! real samples (../shared/samples/x12) name providers and members this IPA
//! does not know.

use crate::{ANA, PCP_NPI, SUNRISE_NPI};

/// One claim of a generated file.
#[derive(Clone, Debug)]
pub struct Spec {
    /// CLM01.
    pub clm01: String,
    pub member_id: String,
    /// `YYYYMMDD`.
    pub dob: String,
    pub billing_npi: String,
    pub rendering_npi: Option<String>,
    /// CLM05-3: 1, 7 or 8.
    pub frequency: String,
    /// REF*F8: the claim a replacement or void names.
    pub original: Option<String>,
    /// REF*G1.
    pub prior_auth: Option<String>,
    /// ICD-10 without the dot (`M5416`).
    pub diagnosis: String,
    pub lines: Vec<Line>,
}

#[derive(Clone, Debug)]
pub struct Line {
    pub code: String,
    pub charge_cents: i64,
    pub units: u32,
    /// `YYYYMMDD`.
    pub date: String,
}

impl Spec {
    /// Ana's office visit (99213, $125.00) on `date` (`YYYYMMDD`), billed by the
    /// Sunrise practice's PCP: a claim every edit accepts.
    pub fn office_visit(clm01: &str, date: &str) -> Spec {
        Spec {
            clm01: clm01.into(),
            member_id: ANA.0.into(),
            dob: ANA.1.replace('-', ""),
            billing_npi: PCP_NPI.into(),
            rendering_npi: Some(SUNRISE_NPI.into()),
            frequency: "1".into(),
            original: None,
            prior_auth: None,
            diagnosis: "J069".into(),
            lines: vec![Line {
                code: "99213".into(),
                charge_cents: 12_500,
                units: 1,
                date: date.into(),
            }],
        }
    }

    pub fn with_line(mut self, code: &str, charge_cents: i64, units: u32) -> Spec {
        let date = self.lines[0].date.clone();
        self.lines.push(Line {
            code: code.into(),
            charge_cents,
            units,
            date,
        });
        self
    }
}

fn amount(cents: i64) -> String {
    format!("{}.{:02}", cents / 100, cents % 100)
}

/// An 837P interchange with control number `control` holding `claims`.
pub fn professional(control: u32, claims: &[Spec]) -> String {
    let mut segments: Vec<String> = Vec::new();
    let mut hl = 0;
    for c in claims {
        hl += 1;
        let billing = hl;
        segments.push(format!("HL*{billing}**20*1"));
        segments.push(format!(
            "NM1*85*2*SUNRISE FAMILY MEDICINE*****XX*{}",
            c.billing_npi
        ));
        segments.push("N3*100 MAIN ST".into());
        segments.push("N4*ANAHEIM*CA*928010000".into());
        segments.push("REF*EI*951234567".into());
        hl += 1;
        segments.push(format!("HL*{hl}*{billing}*22*0"));
        segments.push("SBR*P*18*******MC".into());
        segments.push(format!("NM1*IL*1*DOE*JANE****MI*{}", c.member_id));
        segments.push("N3*1 ELM ST".into());
        segments.push("N4*ANAHEIM*CA*928010000".into());
        segments.push(format!("DMG*D8*{}*F", c.dob));
        segments.push("NM1*PR*2*GOLDEN STATE HEALTH PLAN*****PI*GSHP".into());
        let total: i64 = c.lines.iter().map(|l| l.charge_cents).sum();
        segments.push(format!(
            "CLM*{}*{}***11:B:{}*Y*A*Y*Y",
            c.clm01,
            amount(total),
            c.frequency
        ));
        if let Some(original) = &c.original {
            segments.push(format!("REF*F8*{original}"));
        }
        if let Some(pa) = &c.prior_auth {
            segments.push(format!("REF*G1*{pa}"));
        }
        segments.push(format!("HI*ABK:{}", c.diagnosis));
        if let Some(r) = &c.rendering_npi {
            segments.push(format!("NM1*82*1*PARK*JAMES****XX*{r}"));
        }
        for (i, l) in c.lines.iter().enumerate() {
            segments.push(format!("LX*{}", i + 1));
            segments.push(format!(
                "SV1*HC:{}*{}*UN*{}***1",
                l.code,
                amount(l.charge_cents),
                l.units
            ));
            segments.push(format!("DTP*472*D8*{}", l.date));
        }
    }
    let mut out = String::new();
    let mut push = |s: &str| {
        out.push_str(s);
        out.push_str("~\n");
    };
    push(&format!(
        "ISA*00*          *00*          *ZZ*ACMECLEARING   *ZZ*SUNRISE        *261201*1200*^*00501*{control:09}*0*T*:"
    ));
    push(&format!(
        "GS*HC*ACMECLEARING*SUNRISE*20261201*1200*{control}*X*005010X222A1"
    ));
    push("ST*837*0001*005010X222A1");
    push(&format!("BHT*0019*00*BATCH{control}*20261201*1200*CH"));
    push("NM1*41*2*ACME CLEARING*****46*ACME01");
    push("PER*IC*BILLING DESK*TE*6575550100");
    push("NM1*40*2*SUNRISE IPA*****46*SUNRISE");
    for s in &segments {
        push(s);
    }
    // ST, BHT, the three 1000A/B segments, the claims' segments and SE.
    push(&format!("SE*{}*0001", segments.len() + 6));
    push(&format!("GE*1*{control}"));
    push(&format!("IEA*1*{control:09}"));
    out
}
