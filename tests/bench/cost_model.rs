//! Cost model of one IPA's stack per month, at list prices, printed as the
//! markdown tables of docs/performance.md ("Cost model"): `cargo bench --bench
//! cost_model`. Every figure comes from the constants below, each with where it
//! comes from; change one and re-run. No I/O, no dependencies.
//!
//! For each kind of invocation: how many a member causes per month, how long one
//! runs (measured own time where docs/performance.md has it, plus the AWS calls it
//! makes one after another at an assumed latency each), the memory it is deployed
//! with (infra/template.yaml), and the DynamoDB, S3 and SQS requests it makes
//! (from what the code does, read off the handler).

/// List prices assumed: AWS's public price pages for us-west-2 (Oregon) as of
/// 2025 (DynamoDB on-demand after its November 2024 reduction). No free tier,
/// no savings plan.
mod price {
    /// Lambda, arm64, per GB-second (first 7.5 billion GB-s a month).
    pub const LAMBDA_GB_SECOND: f64 = 0.000_013_333_4;
    /// Lambda, per request.
    pub const LAMBDA_REQUEST: f64 = 0.20 / 1e6;
    /// API Gateway HTTP API, per request (first 300 million a month; each 512 KB
    /// of a request counts as one).
    pub const HTTP_API_REQUEST: f64 = 1.00 / 1e6;
    /// DynamoDB on-demand, standard table class.
    pub const DYNAMO_WRU: f64 = 0.625 / 1e6;
    pub const DYNAMO_RRU: f64 = 0.125 / 1e6;
    /// DynamoDB storage and point-in-time recovery (enabled in the template), per GB-month.
    pub const DYNAMO_GB_MONTH: f64 = 0.25 + 0.20;
    /// S3 Standard.
    pub const S3_PUT: f64 = 0.005 / 1e3;
    pub const S3_GET: f64 = 0.0004 / 1e3;
    pub const S3_GB_MONTH: f64 = 0.023;
    /// SQS standard queue, per request (each 64 KB of a request counts as one).
    pub const SQS_REQUEST: f64 = 0.40 / 1e6;
    /// CloudWatch Logs ingestion, per GB (storage, $0.03/GB-month, left out).
    pub const LOGS_GB: f64 = 0.50;
    /// Fixed per stack: the table's KMS key ($1/month), the JWT secret ($0.40),
    /// and the template's 29 CloudWatch alarms ($0.10 each). The table stream's
    /// reads by Lambda (the outbox relay) are free.
    pub const FIXED_MONTH: f64 = 1.00 + 0.40 + 29.0 * 0.10;
}

/// Log bytes per invocation: Lambda's START/END/REPORT lines, our request and
/// outcome lines, and API Gateway's access log line for HTTP invocations.
const LOG_BYTES_PER_INVOCATION: f64 = 1_000.0;

/// Latency assumed for one AWS call from a Lambda function in the same region
/// (keep-alive connections; DynamoDB's "single-digit milliseconds").
mod latency_ms {
    pub const DYNAMO_ITEM: f64 = 4.0; // GetItem, PutItem, a one-page Query
    pub const DYNAMO_TRANSACTION: f64 = 10.0; // TransactWriteItems
    pub const S3_SMALL: f64 = 15.0; // GetObject/PutObject under 100 KB
    pub const S3_DOCUMENT: f64 = 40.0; // GetObject of a 500 KB document
    pub const SQS: f64 = 8.0; // SendMessage(Batch)
}

/// A Lambda function gets one vCPU at 1,769 MB and a share in proportion below
/// (AWS Lambda documentation), so own (CPU) time measured on one core of the
/// development machine is scaled by 1769 / memory below that.
const FULL_VCPU_MB: f64 = 1769.0;
/// Cold starts: an assumed 1% of invocations of the request-driven functions,
/// each adding the init phase, which Lambda bills. Measured init: 2.8 ms on a
/// full core (docs/performance.md, "Cold starts"), scaled as own time.
const COLD_FRACTION: f64 = 0.01;
const INIT_MS_FULL_CORE: f64 = 2.8;
/// Minutes in a 30-day month: the three sweepers run every minute (`rate(1 minute)`).
const MINUTES_PER_MONTH: f64 = 30.0 * 24.0 * 60.0;

/// Volumes per member per month, plausible for a capitated IPA's mix of
/// commercial HMO, Medicare Advantage and Medi-Cal members. Assumptions, not data
/// of ours; each says where it comes from.
mod volume {
    /// Eligibility: practices re-verify their assigned panel monthly (1.0) and
    /// check at scheduling and at check-in for a visit (2 per visit); US office
    /// visits run about 4.5 a person a year (CDC NAMCS), so 2 x 4.5 / 12 = 0.75.
    pub const ELIGIBILITY: f64 = 1.0 + 0.75;
    /// Prior auths: 40 per 1,000 members per month, a common utilisation
    /// management benchmark for a delegated IPA with Medicare Advantage members.
    pub const PRIOR_AUTHS: f64 = 0.040;
    /// Each auth's status is read 3 times (provider and UM queue).
    pub const PRIOR_AUTH_READS: f64 = PRIOR_AUTHS * 3.0;
    /// Half of the auths are not approved at submission and take a UM decision.
    pub const PRIOR_AUTH_DECISIONS: f64 = PRIOR_AUTHS * 0.5;
    /// Professional claims: 6 per member per year for the IPA's capitated and
    /// fee-for-service services (office visits, specialists, labs).
    pub const CLAIMS: f64 = 6.0 / 12.0;
    /// 80% arrive in 837 files from clearinghouses, 20% through the JSON API.
    pub const CLAIMS_IN_FILES: f64 = CLAIMS * 0.8;
    pub const CLAIMS_JSON: f64 = CLAIMS * 0.2;
    /// Claims per 837 file: a practice's daily batch through its clearinghouse.
    pub const CLAIMS_PER_FILE: f64 = 200.0;
    /// Claim status and list reads: half of the claims are looked up once, and a
    /// list page per 10 claims.
    pub const CLAIM_READS: f64 = CLAIMS * 0.5 + CLAIMS * 0.1;
    /// Provider disputes: 1.5% of claims.
    pub const DISPUTES: f64 = CLAIMS * 0.015;
    /// Each dispute is read 5 times and decided once.
    pub const DISPUTE_READS: f64 = DISPUTES * 5.0;
    /// Documents: 1.5 attachments per prior auth, one per 20 claims.
    pub const DOCUMENTS: f64 = PRIOR_AUTHS * 1.5 + CLAIMS * 0.05;
    /// Each document is read (downloaded) twice.
    pub const DOCUMENT_READS: f64 = DOCUMENTS * 2.0;
    /// Intake (fax and email): 30% of auths arrive by fax, plus correspondence on
    /// 2% of claims and half the disputes.
    pub const INTAKE_ITEMS: f64 = PRIOR_AUTHS * 0.3 + CLAIMS * 0.02 + DISPUTES * 0.5;
    /// A clerk opens each item twice and files it once.
    pub const INTAKE_CLERK_CALLS: f64 = INTAKE_ITEMS * 3.0;
    /// Events the jobs store in the outbox, which the outbox relay sends: one
    /// per auth submitted or decided, two per claim (its work item, its
    /// judgement), three per document verified (the owner's events), one per
    /// dispute filed and per fifth read-or-decision, one per intake item and
    /// per clerk's filing.
    pub const OUTBOX_EVENTS: f64 = PRIOR_AUTHS
        + PRIOR_AUTH_DECISIONS
        + CLAIMS * 2.0
        + DOCUMENTS * 3.0
        + DISPUTES
        + (DISPUTE_READS + DISPUTES) * 0.2
        + INTAKE_ITEMS
        + INTAKE_CLERK_CALLS * 0.3;
}

/// One kind of invocation.
struct Invocation {
    function: &'static str,
    what: &'static str,
    /// Per member per month; `None` for the sweepers (per minute, whatever the size).
    per_member_month: Option<f64>,
    /// Requests (or claims, or files) served per invocation: SQS batches of 10.
    per_invocation: f64,
    memory_mb: f64,
    /// Own time on one core of the development machine, ms, and its source.
    own_ms: f64,
    /// AWS calls made one after another: DynamoDB item calls, transactions, small
    /// S3 calls, S3 document reads, SQS sends.
    calls: [f64; 5],
    /// Requests to other services per invocation: DynamoDB read and write units,
    /// S3 PUTs and GETs, SQS requests (send, receive and delete each count).
    rru: f64,
    wru: f64,
    s3_put: f64,
    s3_get: f64,
    sqs: f64,
    http_api: bool,
}

impl Invocation {
    fn count(&self, members: f64) -> f64 {
        match self.per_member_month {
            Some(v) => members * v / self.per_invocation,
            None => MINUTES_PER_MONTH,
        }
    }

    fn cpu_scale(&self) -> f64 {
        (FULL_VCPU_MB / self.memory_mb).max(1.0)
    }

    /// Billed duration of a warm invocation: Lambda bills in 1 ms steps.
    fn billed_ms(&self) -> f64 {
        let [item, txn, s3, doc, sqs] = self.calls;
        let wait = item * latency_ms::DYNAMO_ITEM
            + txn * latency_ms::DYNAMO_TRANSACTION
            + s3 * latency_ms::S3_SMALL
            + doc * latency_ms::S3_DOCUMENT
            + sqs * latency_ms::SQS;
        (self.own_ms * self.cpu_scale() + wait).ceil()
    }

    fn lambda_cost(&self, n: f64) -> f64 {
        let cold = if self.per_member_month.is_some() {
            COLD_FRACTION * (INIT_MS_FULL_CORE * self.cpu_scale()).ceil()
        } else {
            0.0
        };
        let gb_s = n * (self.billed_ms() + cold) / 1000.0 * self.memory_mb / 1024.0;
        gb_s * price::LAMBDA_GB_SECOND + n * price::LAMBDA_REQUEST
    }
}

/// Own times: measured figures in docs/performance.md where they exist. One row
/// per line: function, invocation, per member-month, MB, own ms, [item, transaction,
/// small S3, document S3, SQS] calls in sequence, RRU, WRU, S3 PUT, S3 GET, SQS.
#[rustfmt::skip]
fn invocations() -> Vec<Invocation> {
    use volume::*;
    let http =
        |function, what, per, memory_mb, own_ms, calls, rru, wru, s3_put, s3_get, sqs| Invocation {
            function,
            what,
            per_member_month: Some(per),
            per_invocation: 1.0,
            memory_mb,
            own_ms,
            calls,
            rru,
            wru,
            s3_put,
            s3_get,
            sqs,
            http_api: true,
        };
    vec![
        // 1.0 ms: warm invoke less AWS wait (12.3 - 11.3 ms), "Cold starts". Calls
        // in turn (the cold-start meter counts them): the not-found counter with
        // the member and the rendering provider, the PCP, the audit append (3).
        // Items under 4 KB, strongly consistent: 1 RRU each; the audit record
        // (under 1 KB) and its gsi1 entry: 2 WRU.
        http("eligibility", "GET /v1/eligibility", ELIGIBILITY, 256.0, 1.0, [3.0, 0.0, 0.0, 0.0, 0.0], 3.0, 2.0, 0.0, 0.0, 0.0),
        // 1.12 ms: the in-process submit p50, "Prior authorisation" (includes the
        // embedded store's fsync: an upper bound). Calls in turn: the idempotency
        // claim with the counter, the member and the two providers; the PCP; then
        // one transaction of about 9 items (auth 2 KB, list rows, timers, outbox, audit, idempotency
        // completion; 2 WRU per KB in a transaction, plus gsi1 entries). Its
        // event leaves through the outbox relay (below), as every job's does.
        http("prior-auth", "POST /v1/prior-auths", PRIOR_AUTHS, 256.0, 1.12, [2.0, 1.0, 0.0, 0.0, 0.0], 5.0, 26.0, 0.0, 0.0, 0.0),
        // Reads: the auth (up to 8 KB: 2 RRU) and the audit append. Own time
        // assumed as eligibility's.
        http("prior-auth", "GET /v1/prior-auths/{id}, UM queue", PRIOR_AUTH_READS, 256.0, 1.0, [2.0, 0.0, 0.0, 0.0, 0.0], 2.0, 2.0, 0.0, 0.0, 0.0),
        http("prior-auth", "POST .../decision", PRIOR_AUTH_DECISIONS, 256.0, 1.12, [3.0, 1.0, 0.0, 0.0, 0.0], 4.0, 20.0, 0.0, 0.0, 0.0),
        // JSON claim: the idempotency claim with the providers it names, then one
        // transaction (claim, rows, guard, outbox, audit; the work item reaches
        // claim-edits through the outbox relay).
        http("claims", "POST /v1/claims", CLAIMS_JSON, 512.0, 1.12, [1.0, 1.0, 0.0, 0.0, 0.0], 4.0, 22.0, 0.0, 0.0, 0.0),
        http("claims", "GET /v1/claims/{id}, list", CLAIM_READS, 512.0, 1.0, [3.0, 0.0, 0.0, 0.0, 0.0], 3.0, 2.0, 0.0, 0.0, 0.0),
        // An 837 file of CLAIMS_PER_FILE claims (per invocation): S3 object read,
        // then the file's record created, the providers read and both forms of
        // the 999 written (one round trip), then
        // the 277CA; one transaction per 90 writes with eight in flight (so about
        // one round here; the last one marks the file read); each claim's work
        // item goes through the outbox relay. Own time: parse at 216 MB/s ("X12 837
        // reader", 400 bytes a claim) plus building records, about 0.05 ms a
        // claim (assumed).
        Invocation {
            function: "claims-s3",
            what: "837 file (200 claims)",
            per_member_month: Some(CLAIMS_IN_FILES),
            per_invocation: CLAIMS_PER_FILE,
            memory_mb: 1024.0,
            own_ms: CLAIMS_PER_FILE * 0.05,
            calls: [1.0, 1.0, 2.0, 0.0, 0.0],
            rru: 2.0,
            wru: CLAIMS_PER_FILE * 9.0,
            s3_put: 2.0,
            s3_get: 1.0,
            sqs: 0.0,
            http_api: true,
        },
        // Judging claims: SQS batches of 10 (BatchSize 10), members' groups
        // concurrently. Per claim: member, PCPs, auths, other claims (one Query
        // each), one transaction (claim 3 KB, rows, member's turn, the
        // judgement's event in the outbox).
        // Own time: 10,000 claims judged in 7.17 s on 2 shared cores, parsing and
        // storing included ("Claims"), about 0.7 ms a claim.
        Invocation {
            function: "claims-edits",
            what: "SQS batch of 10 claims",
            per_member_month: Some(CLAIMS),
            per_invocation: 10.0,
            memory_mb: 256.0,
            own_ms: 10.0 * 0.7,
            calls: [4.0, 1.0, 0.0, 0.0, 0.0],
            rru: 10.0 * 6.0,
            wru: 10.0 * 13.0,
            s3_put: 0.0,
            s3_get: 0.0,
            // Receive (one per batch) and delete (batched).
            sqs: 2.0,
            http_api: false,
        },
        // Presign: the idempotency claim with one query of the owner's partition
        // (the owner, its messages and documents), one transaction (document
        // record, audit); then the client's PUT of the object.
        http("documents", "POST upload (presign)", DOCUMENTS, 256.0, 1.0, [1.0, 1.0, 0.0, 0.0, 0.0], 2.0, 8.0, 1.0, 0.0, 0.0),
        http("documents", "GET download (presign)", DOCUMENT_READS, 256.0, 1.0, [3.0, 0.0, 0.0, 0.0, 0.0], 3.0, 2.0, 0.0, 1.0, 0.0),
        // ObjectCreated: read the 500 KB object, verify (1.8 ms for 25 MB,
        // "Document verification": a bound), mark it available (the owner's
        // events in the outbox).
        Invocation {
            function: "documents-verify",
            what: "S3 ObjectCreated",
            per_member_month: Some(DOCUMENTS),
            per_invocation: 1.0,
            memory_mb: 512.0,
            own_ms: 1.8,
            calls: [1.0, 1.0, 0.0, 1.0, 0.0],
            rru: 2.0,
            wru: 5.0,
            s3_put: 0.0,
            s3_get: 1.0,
            sqs: 0.0,
            http_api: false,
        },
        // Filing: the idempotency claim with the subject and the open-duplicate
        // guard, the member's coverage, then one transaction.
        http("disputes", "POST /v1/disputes", DISPUTES, 256.0, 1.12, [2.0, 1.0, 0.0, 0.0, 0.0], 5.0, 22.0, 0.0, 0.0, 0.0),
        http("disputes", "reads and decisions", DISPUTE_READS + DISPUTES, 256.0, 1.0, [3.0, 0.2, 0.0, 0.0, 0.0], 3.0, 6.0, 0.0, 0.0, 0.0),
        // A fax or email: the object read with its sidecar and whether it was
        // filed, parsed (3.0 ms for a 10-page fax, "Intake parsing"), 1.5
        // documents written to S3 while the quoted members and records are read,
        // one transaction: three round trips.
        Invocation {
            function: "intake-s3",
            what: "fax or email received",
            per_member_month: Some(INTAKE_ITEMS),
            per_invocation: 1.0,
            memory_mb: 1024.0,
            own_ms: 3.0,
            calls: [0.0, 1.0, 0.0, 2.0, 0.0],
            rru: 4.0,
            wru: 24.0,
            s3_put: 1.5,
            s3_get: 2.0,
            sqs: 0.0,
            http_api: false,
        },
        http("intake", "clerk: read, file", INTAKE_CLERK_CALLS, 256.0, 1.0, [3.0, 0.3, 0.0, 0.0, 0.0], 3.0, 6.0, 0.0, 0.0, 0.0),
        // Every event above, from the table's stream: the row read (1 RRU), sent,
        // removed (1 WRU). One record per invocation (at these rates a stream
        // poll seldom finds more; a burst, such as an 837 file's claims, comes
        // in batches of up to 100, read in one request, sent ten a request and
        // removed 25 a request, which this overstates). Own time assumed.
        Invocation {
            function: "outbox-relay",
            what: "stream record (one event)",
            per_member_month: Some(OUTBOX_EVENTS),
            per_invocation: 1.0,
            memory_mb: 256.0,
            own_ms: 0.3,
            calls: [2.0, 0.0, 0.0, 0.0, 1.0],
            rru: 1.0,
            wru: 1.0,
            s3_put: 0.0,
            s3_get: 0.0,
            sqs: 1.0,
            http_api: false,
        },
        sweeper("prior-auth-sweeper", 256.0),
        sweeper("claims-sweeper", 128.0),
        sweeper("disputes-sweeper", 256.0),
    ]
}

/// A scheduled sweeper: one Query of the timers due (usually a page or less),
/// once a minute whatever the IPA's size; what it applies is small next to that.
fn sweeper(function: &'static str, memory_mb: f64) -> Invocation {
    Invocation {
        function,
        what: "every minute",
        per_member_month: None,
        per_invocation: 1.0,
        memory_mb,
        own_ms: 0.5,
        calls: [1.0, 0.0, 0.0, 0.0, 0.0],
        rru: 1.0,
        wru: 0.0,
        s3_put: 0.0,
        s3_get: 0.0,
        sqs: 0.0,
        http_api: false,
    }
}

/// Storage kept: a year of records. DynamoDB: about 0.5 KB kept per write unit
/// (a transaction bills 2 units per KB; list rows, counters and idempotency
/// claims are overwritten or expire), documents 500 KB each in S3, intake
/// objects 300 KB, 837 files 80 KB.
fn storage_gb(members: f64, invocations: &[Invocation]) -> (f64, f64) {
    let wru: f64 = invocations
        .iter()
        .filter(|i| i.per_member_month.is_some())
        .map(|i| i.count(members) * i.wru)
        .sum();
    let dynamo = 12.0 * wru * 0.5e3 / 1e9;
    let s3 = 12.0
        * members
        * (volume::DOCUMENTS * 500e3
            + volume::INTAKE_ITEMS * 300e3
            + volume::CLAIMS_IN_FILES / volume::CLAIMS_PER_FILE * 80e3)
        / 1e9;
    (dynamo, s3)
}

fn dollars(v: f64) -> String {
    if v >= 100.0 {
        let whole = v.round() as u64;
        let s = whole.to_string();
        let mut out = String::new();
        for (i, c) in s.chars().enumerate() {
            if i > 0 && (s.len() - i).is_multiple_of(3) {
                out.push(',');
            }
            out.push(c);
        }
        format!("${out}")
    } else {
        format!("${v:.2}")
    }
}

fn count(v: f64) -> String {
    if v >= 1e6 {
        format!("{:.2} M", v / 1e6)
    } else if v >= 1e3 {
        format!("{:.1} k", v / 1e3)
    } else {
        format!("{v:.0}")
    }
}

fn main() {
    let invocations = invocations();
    // Between markers, for a tool that splices it into docs/performance.md.
    println!("<!-- report:cost-model -->");
    println!("### Per invocation\n");
    println!(
        "| function | invocation | memory | own time (1 core) | AWS calls in sequence | billed (warm) | RRU | WRU | S3 PUT/GET | SQS |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|");
    for i in &invocations {
        let calls: f64 = i.calls.iter().sum();
        println!(
            "| {} | {} | {} MB | {:.2} ms | {:.1} | {} ms | {} | {} | {}/{} | {} |",
            i.function,
            i.what,
            i.memory_mb,
            i.own_ms,
            calls,
            i.billed_ms(),
            i.rru,
            i.wru,
            i.s3_put,
            i.s3_get,
            i.sqs
        );
    }
    for (label, members) in [("50,000", 50_000.0), ("1,000,000", 1_000_000.0)] {
        println!("\n### {label} members, per month\n");
        println!(
            "| function | invocation | invocations | Lambda | HTTP API | DynamoDB | S3 | SQS | logs | total |"
        );
        println!("|---|---|---|---|---|---|---|---|---|---|");
        let mut totals = [0.0; 7];
        for i in &invocations {
            let n = i.count(members);
            let lambda = i.lambda_cost(n);
            let api = if i.http_api {
                n * price::HTTP_API_REQUEST
            } else {
                0.0
            };
            let dynamo = n * (i.rru * price::DYNAMO_RRU + i.wru * price::DYNAMO_WRU);
            let s3 = n * (i.s3_put * price::S3_PUT + i.s3_get * price::S3_GET);
            let sqs = n * i.sqs * price::SQS_REQUEST;
            let logs = n * LOG_BYTES_PER_INVOCATION / 1e9 * price::LOGS_GB;
            let row = [
                lambda,
                api,
                dynamo,
                s3,
                sqs,
                logs,
                lambda + api + dynamo + s3 + sqs + logs,
            ];
            for (t, v) in totals.iter_mut().zip(row) {
                *t += v;
            }
            println!(
                "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
                i.function,
                i.what,
                count(n),
                dollars(row[0]),
                dollars(row[1]),
                dollars(row[2]),
                dollars(row[3]),
                dollars(row[4]),
                dollars(row[5]),
                dollars(row[6]),
            );
        }
        let (dynamo_gb, s3_gb) = storage_gb(members, &invocations);
        let storage = dynamo_gb * price::DYNAMO_GB_MONTH + s3_gb * price::S3_GB_MONTH;
        println!(
            "| **requests** | | | **{}** | **{}** | **{}** | **{}** | **{}** | **{}** | **{}** |",
            dollars(totals[0]),
            dollars(totals[1]),
            dollars(totals[2]),
            dollars(totals[3]),
            dollars(totals[4]),
            dollars(totals[5]),
            dollars(totals[6]),
        );
        println!(
            "| storage after a year | DynamoDB {dynamo_gb:.1} GB, S3 {s3_gb:.0} GB | | | | {} | {} | | | {} |",
            dollars(dynamo_gb * price::DYNAMO_GB_MONTH),
            dollars(s3_gb * price::S3_GB_MONTH),
            dollars(storage),
        );
        println!(
            "| fixed | KMS key, secret, 29 alarms | | | | | | | | {} |",
            dollars(price::FIXED_MONTH)
        );
        let total = totals[6] + storage + price::FIXED_MONTH;
        println!(
            "| **total** | | | | | | | | | **{}** (${:.5} a member) |",
            dollars(total),
            total / members,
        );
    }
    println!("<!-- /report:cost-model -->");
}
