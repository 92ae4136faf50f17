//! The 277CA claim acknowledgment (005010X214): one claim-level status per claim,
//! a `TRN*2` with its CLM01 and an `STC` saying accepted or rejected and why,
//! grouped under the billing providers. The claims function decides; this writes.

use std::collections::HashMap;

use serde::Serialize;

use crate::ack999::{AckEnvelope, Writer};
use crate::claim::{Claim, DateRange, Text};
use crate::text::{amount, x12_date};

/// The claims function's decision on one claim.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Decision {
    /// STC01 `category:code`, e.g. `A1:20` (received, accepted for processing) or
    /// `A2:20` (accepted into adjudication).
    Accepted { category: String, code: String },
    /// STC01 e.g. `A7:21` (rejected for invalid information: missing or invalid
    /// information) or `A3:...` (returned as unprocessable), with an optional entity
    /// code (`IL` subscriber, `85` billing provider...).
    Rejected {
        category: String,
        code: String,
        entity: Option<String>,
    },
}

impl Decision {
    /// `A1:20`: received and accepted for processing.
    pub fn accepted() -> Decision {
        Decision::Accepted {
            category: "A1".into(),
            code: "20".into(),
        }
    }

    /// `A7:<code>`: rejected for invalid information (claim status code, e.g. `21`
    /// missing or invalid information, `562` NPI, `33` subscriber ID).
    pub fn rejected(code: &str) -> Decision {
        Decision::Rejected {
            category: "A7".into(),
            code: code.into(),
            entity: None,
        }
    }

    /// `A3:<code>`: returned as unprocessable.
    pub fn unprocessable(code: &str) -> Decision {
        Decision::Rejected {
            category: "A3".into(),
            code: code.into(),
            entity: None,
        }
    }

    /// The same decision naming the entity in error (STC01-3).
    pub fn for_entity(self, entity: &str) -> Decision {
        match self {
            Decision::Rejected { category, code, .. } => Decision::Rejected {
                category,
                code,
                entity: Some(entity.into()),
            },
            accepted => accepted,
        }
    }

    pub fn is_accepted(&self) -> bool {
        matches!(self, Decision::Accepted { .. })
    }
}

/// A party of the 277CA: name and ID in the NM1, IDs in the ISA and GS.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct AckParty {
    /// NM103 organisation name.
    pub name: String,
    /// NM109 (ETIN, qualifier 46).
    pub id: String,
    /// ISA05/ISA06 (or ISA07/ISA08).
    pub isa_qualifier: String,
    pub isa_id: String,
    /// GS02/GS03 application code.
    pub application_id: String,
}

/// The status of one claim, as written in a 2000D/2200D loop.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ClaimAck {
    /// CLM01: the trace number (TRN02).
    pub patient_control_number: Text,
    pub patient_last_name: Text,
    pub patient_first_name: Option<Text>,
    /// The subscriber's member ID (NM109 with MI).
    pub member_id: Text,
    pub total_charge_cents: i64,
    pub service_dates: Option<DateRange>,
    /// REF*1K: the payer's claim control number, for an accepted claim.
    pub payer_claim_number: Option<Text>,
    pub decision: Decision,
}

/// The claims of one billing provider (2000C).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ProviderAck {
    pub name: Text,
    pub first_name: Option<Text>,
    pub person: bool,
    pub npi: Option<Text>,
    pub tin: Option<Text>,
    pub claims: Vec<ClaimAck>,
}

/// A whole 277CA, ready to serialise as JSON or write as X12.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Ack277 {
    pub envelope: AckEnvelope,
    /// `P` production or `T` test (ISA15).
    pub usage: String,
    /// Us: the information source (2000A, NM1*PR).
    pub sender: AckParty,
    /// The submitter: the information receiver (2000B, NM1*41).
    pub receiver: AckParty,
    /// BHT03 and the 2200B TRN02: the submitter's batch reference (their BHT03).
    pub batch_reference: String,
    /// DTP*050: when the claims were received, `YYYY-MM-DD`.
    pub received_date: String,
    pub providers: Vec<ProviderAck>,
}

/// Collects claim decisions into a 277CA.
pub struct Ack277Builder {
    ack: Ack277,
    by_provider: HashMap<(Option<Text>, Text), usize>,
    /// The provider group of the claim added last.
    last: Option<usize>,
}

impl Ack277Builder {
    pub fn new(
        envelope: AckEnvelope,
        usage: &str,
        sender: AckParty,
        receiver: AckParty,
        batch_reference: &str,
        received_date: &str,
    ) -> Self {
        Ack277Builder {
            ack: Ack277 {
                envelope,
                usage: if usage == "P" { "P" } else { "T" }.to_owned(),
                sender,
                receiver,
                batch_reference: batch_reference.to_owned(),
                received_date: received_date.to_owned(),
                providers: Vec::new(),
            },
            by_provider: HashMap::new(),
            last: None,
        }
    }

    /// Adds a claim (a built one, or the partial claim of a [`crate::ClaimError`])
    /// with its decision.
    pub fn claim(&mut self, claim: &Claim, decision: Decision) -> &mut Self {
        let bp = &claim.billing_provider;
        let ack = ClaimAck {
            patient_control_number: claim.patient_control_number.clone(),
            patient_last_name: claim.patient_name().last_or_organization.clone(),
            patient_first_name: claim.patient_name().first.clone(),
            member_id: claim.subscriber.member_id.clone(),
            total_charge_cents: claim.total_charge_cents,
            service_dates: service_dates(claim),
            payer_claim_number: None,
            decision,
        };
        let key = (bp.npi.clone(), bp.name.last_or_organization.clone());
        let providers = &mut self.ack.providers;
        let i = *self.by_provider.entry(key).or_insert_with(|| {
            providers.push(ProviderAck {
                name: bp.name.last_or_organization.clone(),
                first_name: bp.name.first.clone(),
                person: bp.name.person,
                npi: bp.npi.clone(),
                tin: bp.tin.clone(),
                claims: Vec::new(),
            });
            providers.len() - 1
        });
        self.ack.providers[i].claims.push(ack);
        self.last = Some(i);
        self
    }

    /// Sets the payer claim number (REF*1K) of the claim added last.
    pub fn payer_claim_number(&mut self, number: &str) -> &mut Self {
        // The last claim of the group the last claim went to (groups are not in
        // the order claims arrive).
        if let Some(c) = self
            .last
            .and_then(|i| self.ack.providers.get_mut(i))
            .and_then(|p| p.claims.last_mut())
        {
            c.payer_claim_number = Some(Text::from(number));
        }
        self
    }

    pub fn build(self) -> Ack277 {
        self.ack
    }
}

/// The claim's dates of service: statement dates (837I), else the span of its
/// lines' and claim's service dates.
fn service_dates(c: &Claim) -> Option<DateRange> {
    if let Some(s) = c.dates.statement {
        return Some(s);
    }
    let all = c
        .lines
        .iter()
        .filter_map(|l| l.service_date)
        .chain(c.dates.service);
    all.reduce(|a, r| DateRange {
        from: a.from.min(r.from),
        to: a.to.max(r.to),
    })
}

impl Ack277 {
    /// The claims accepted and rejected, and their total charges in cents.
    pub fn totals(&self) -> (usize, i64, usize, i64) {
        let mut t = (0, 0, 0, 0);
        for c in self.providers.iter().flat_map(|p| &p.claims) {
            if c.decision.is_accepted() {
                t.0 += 1;
                t.1 += c.total_charge_cents;
            } else {
                t.2 += 1;
                t.3 += c.total_charge_cents;
            }
        }
        t
    }

    /// The 277CA as X12 text (`*`, `:`, `^`, `~` and a line break per segment).
    pub fn to_x12(&self) -> String {
        let env = &self.envelope;
        let mut w = Writer::default();
        w.isa(
            &self.sender.isa_qualifier,
            &self.sender.isa_id,
            &self.receiver.isa_qualifier,
            &self.receiver.isa_id,
            env,
            &self.usage,
        );
        let date = env.stamp.ccyymmdd();
        let time = env.stamp.hhmm();
        let gs06 = env.group_control_number.to_string();
        let st02 = format!("{:04}", env.first_set_control_number);
        let app = |p: &AckParty| {
            if p.application_id.is_empty() {
                p.isa_id.clone()
            } else {
                p.application_id.clone()
            }
        };
        w.seg(&[
            "GS",
            "HN",
            &app(&self.sender),
            &app(&self.receiver),
            &date,
            time,
            &gs06,
            "X",
            "005010X214",
        ]);
        let start = w.count;
        w.seg(&["ST", "277", &st02, "005010X214"]);
        w.seg(&[
            "BHT",
            "0085",
            "08",
            &self.batch_reference,
            &date,
            time,
            "TH",
        ]);
        w.seg(&["HL", "1", "", "20", "1"]);
        w.seg(&[
            "NM1",
            "PR",
            "2",
            &self.sender.name,
            "",
            "",
            "",
            "",
            "46",
            &self.sender.id,
        ]);
        w.seg(&[
            "TRN",
            "1",
            &format!("{:09}", env.interchange_control_number % 1_000_000_000),
        ]);
        w.seg(&["DTP", "050", "D8", &x12_date(&self.received_date)]);
        w.seg(&["DTP", "009", "D8", &date]);
        w.seg(&[
            "HL",
            "2",
            "1",
            "21",
            if self.providers.is_empty() { "0" } else { "1" },
        ]);
        w.seg(&[
            "NM1",
            "41",
            "2",
            &self.receiver.name,
            "",
            "",
            "",
            "",
            "46",
            &self.receiver.id,
        ]);
        w.seg(&["TRN", "2", &self.batch_reference]);
        let (acc_n, acc_c, rej_n, rej_c) = self.totals();
        w.seg_composite_first("STC", "A1:19:PR", &[&date, "WQ", &amount(acc_c + rej_c)]);
        quantities(&mut w, acc_n, acc_c, rej_n, rej_c, ("90", "AA"));
        let mut hl = 2;
        for p in &self.providers {
            hl += 1;
            let provider_hl = hl;
            w.seg(&["HL", &provider_hl.to_string(), "2", "19", "1"]);
            let (q, id) = match (&p.npi, &p.tin) {
                (Some(npi), _) => ("XX", npi.as_str()),
                (None, Some(tin)) => ("FI", tin.as_str()),
                (None, None) => ("", ""),
            };
            let kind = if p.person { "1" } else { "2" };
            let first = p.first_name.as_deref().unwrap_or("");
            w.seg(&["NM1", "85", kind, &p.name, first, "", "", "", q, id]);
            w.seg(&["TRN", "1", "0"]);
            let mut t = (0, 0, 0, 0);
            for c in &p.claims {
                if c.decision.is_accepted() {
                    t.0 += 1;
                    t.1 += c.total_charge_cents;
                } else {
                    t.2 += 1;
                    t.3 += c.total_charge_cents;
                }
            }
            quantities(&mut w, t.0, t.1, t.2, t.3, ("QA", "QC"));
            for c in &p.claims {
                hl += 1;
                w.seg(&["HL", &hl.to_string(), &provider_hl.to_string(), "PT"]);
                let first = c.patient_first_name.as_deref().unwrap_or("");
                let (mq, mid) = if c.member_id.is_empty() {
                    ("", "")
                } else {
                    ("MI", c.member_id.as_str())
                };
                // NM103 is required: a claim rejected for its missing patient still needs one.
                let last = if c.patient_last_name.is_empty() {
                    "UNKNOWN"
                } else {
                    &c.patient_last_name
                };
                w.seg(&["NM1", "QC", "1", last, first, "", "", "", mq, mid]);
                w.seg(&["TRN", "2", &c.patient_control_number]);
                let (stc01, action) = match &c.decision {
                    Decision::Accepted { category, code } => (format!("{category}:{code}"), "WQ"),
                    Decision::Rejected {
                        category,
                        code,
                        entity,
                    } => match entity {
                        Some(e) => (format!("{category}:{code}:{e}"), "U"),
                        None => (format!("{category}:{code}"), "U"),
                    },
                };
                // STC01 is a composite: its parts keep their ':' separators.
                w.seg_composite_first(
                    "STC",
                    &stc01,
                    &[&date, action, &amount(c.total_charge_cents)],
                );
                if let (Some(n), true) = (&c.payer_claim_number, c.decision.is_accepted()) {
                    w.seg(&["REF", "1K", n]);
                }
                if let Some(d) = &c.service_dates {
                    if d.from == d.to {
                        w.seg(&["DTP", "472", "D8", &d.from.x12()]);
                    } else {
                        w.seg(&[
                            "DTP",
                            "472",
                            "RD8",
                            &format!("{}-{}", d.from.x12(), d.to.x12()),
                        ]);
                    }
                }
            }
        }
        let count = (w.count - start + 1).to_string();
        w.seg(&["SE", &count, &st02]);
        w.seg(&["GE", "1", &gs06]);
        w.seg(&[
            "IEA",
            "1",
            &format!("{:09}", env.interchange_control_number % 1_000_000_000),
        ]);
        w.out
    }
}

fn quantities(
    w: &mut Writer,
    acc_n: usize,
    acc_c: i64,
    rej_n: usize,
    rej_c: i64,
    (qa, qr): (&str, &str),
) {
    if acc_n > 0 {
        w.seg(&["QTY", qa, &acc_n.to_string()]);
    }
    if rej_n > 0 {
        w.seg(&["QTY", qr, &rej_n.to_string()]);
    }
    if acc_n > 0 {
        w.seg(&["AMT", "YU", &amount(acc_c)]);
    }
    if rej_n > 0 {
        w.seg(&["AMT", "YY", &amount(rej_c)]);
    }
}
