//! Cold-start meter: how long each Lambda function takes from `exec` to its first
//! `invocation/next` (init) and to its first response, against a hello-world
//! `lambda_runtime` binary built in the same run (`tests/bench/hello`).
//!
//! ```text
//! cargo bench -p cold-start --profile meter -- [--runs N] [--only NAME,..]
//!     [--compare NAME=PATH].. [--no-build] [--wrap 'CMD ARGS']
//! ```
//!
//! It builds the `lambda-release` binaries (the command is printed;
//! `--no-build` takes what is in the target directory), starts `moto_server`
//! (from `target/py`, which `tests/run` installs, or PATH), creates the stack
//! in it (the table, the buckets and queues, the small IPA's members and
//! providers and an auth, see [`stack`]) and what each function's event reads,
//! and runs a fake Lambda Runtime API on loopback (a port per spawn). Every
//! binary is first copied into `target/cold-start/bin`, written as Lambda's
//! extraction writes it (the linker's own file starts slower on this host).
//! Each run spawns one binary with a cleared environment plus the variables
//! Lambda sets, the stack's and the function's own, serves it its event twice
//! (a cold and a warm invocation), notes when its first `invocation/next` and
//! its responses arrive, reads its peak RSS (`VmHWM`) and kills it. Every spawn
//! of a function that changes something gets its own variant of the event (a
//! new idempotency key, object or claim, [`Function::fresh`]), so each cold
//! invocation does the first-time work, not a replay of the previous run's; the
//! warm one repeats the cold one's event, so for those functions it is a
//! replay. What a spawn reads is the same for every spawn, however many the
//! run makes: a function whose work reads a member's claims or an owner's
//! documents gets a member or owner of its own per spawn, and nothing the
//! others store comes due for a sweeper. The functions' AWS endpoint is an HTTP proxy to moto that adds up
//! the time a request to AWS was outstanding, so the table can show the
//! cold-start cost without the emulator's service time (moto is Python, a few
//! ms per call), and keeps the function's connections alive, as AWS endpoints
//! do and moto does not. The CPU time of the function's threads at its first
//! response is the figure free of both the emulator and a busy machine's
//! scheduling. Binaries are interleaved, `--runs` (default 9) each after one
//! unmeasured warm-up round, in a new random order each round; the tables give
//! medians, p90s, ratios to the baseline, binary and zip sizes, and whether the
//! targets are met (each ratio with its 95% interval, [`ratio_interval`]), under
//! a line naming the host (CPU model, vCPUs, memory) and when the run ended.
//!
//! `--compare eligibility=PATH` also measures another build of a function (e.g.
//! from before a change; a relative PATH is from the repository root) in the same
//! run; `--compare hello-world=PATH` measures another baseline (e.g. on another
//! runtime flavour) against the usual one. `--wrap` runs every binary under a
//! profiler (`--wrap 'strace -f -c -o /tmp/s'`), which makes its figures
//! meaningless. The `meter` profile is the release one without fat LTO: the
//! meter is a tool, not a shipped artefact.
//!
//! # Adding a function
//!
//! One entry in [`FUNCTIONS`]: its package and binary, the event it gets (from
//! events/, or tests/bench/cold_start/events/ when events/ has no sample of the
//! everyday work, as for the claim-edits message), the strings of the event each
//! spawn varies, what its first and second responses must contain, its own
//! environment (`{aws}` becomes the AWS endpoint URL; queues are
//! `QUEUE_URL_<NAME>` variables) and, if [`stack`] is not all it reads, a setup
//! that creates in moto what its first request reads: one record or object per
//! variant (`Stack::spawns` of them, named by [`fresh`]). Work that a setup for
//! every spawn at once would hand to the first spawn whole (what comes due for a
//! sweeper) is made just before each spawn instead (`before_spawn`). A second
//! entry for the same binary measures it on other work: a row of its own, named
//! as `--only` takes it (`prior-auth-sweeper-expiring`).

use std::collections::VecDeque;
use std::convert::Infallible;
use std::future::Future;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use aws_sdk_dynamodb::config::Credentials;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use mso_store::aws::SdkConfig;
use mso_store::aws::{DynamoRecordStore, S3DocumentStore, SqsWorkQueue};
use mso_store::{DocumentStore, RecordStore, WorkQueue};

/// The table every function of the stack shares (single-table design).
const TABLE: &str = "mso-cold-start";
/// The stack's paging-cursor key (a Secrets Manager value in AWS).
const CURSOR_KEY: &str = "cold-start-meter-cursor-key-0123456789abcdef";

/// A function under test: one row of [`FUNCTIONS`].
struct Function {
    /// Row label; also what `--only` and `--compare` name.
    name: &'static str,
    /// Cargo package and binary (`target/lambda-release/<bin>`).
    package: &'static str,
    bin: &'static str,
    /// The event served to it (twice), relative to the repository.
    event: &'static str,
    /// Strings of the event that each spawn gets a variant of ([`fresh`]): an
    /// idempotency key, an object key, a record ID. So every cold start does the
    /// first-time work rather than replay the previous run's; the setup creates
    /// what the variants name.
    fresh: &'static [&'static str],
    /// Its first response must contain this, so a misconfigured run (a 503 because
    /// the table is missing, say) cannot pass for a fast one.
    expect: &'static str,
    /// And its second, the same event again (for a handler that changes
    /// something, a replay).
    again: &'static str,
    /// Its own environment on top of Lambda's and the stack's ([`STACK_ENV`]);
    /// `{aws}` becomes the AWS endpoint.
    env: &'static [(&'static str, &'static str)],
    /// Creates in moto what its first request reads beyond [`stack`].
    setup: Option<for<'a> fn(&'a Stack) -> Setup<'a>>,
    /// Creates what its `k`-th spawn's work is, just before that spawn
    /// (unmeasured): for a sweeper with something due, which a setup made for
    /// every spawn at once would hand to the first spawn whole.
    before_spawn: Option<for<'a> fn(&'a Stack, usize) -> Setup<'a>>,
}

type Setup<'a> = Pin<Box<dyn Future<Output = anyhow::Result<()>> + 'a>>;

/// The baseline every function is divided by.
const HELLO: Function = Function {
    name: "hello-world",
    package: "hello-lambda",
    bin: "hello-lambda",
    event: "tests/bench/hello/event.json",
    fresh: &[],
    expect: r#""hello":"world""#,
    again: r#""hello":"world""#,
    env: &[],
    setup: None,
    before_spawn: None,
};

/// The variables every function of the stack gets (infra/template.yaml, Globals).
const STACK_ENV: &[(&str, &str)] = &[
    ("MSO_IPA", "sunrise"),
    ("TABLE_NAME", TABLE),
    ("CURSOR_KEY", CURSOR_KEY),
    ("RUST_LOG", "info"),
    // In the task root as in Lambda's: the package's copy of infra/partitions/.
    (
        "SMITHY_CLIENT_SDK_CUSTOM_PARTITION",
        "{task}/partitions/aws.json",
    ),
    ("AWS_ENDPOINT_URL", "{aws}"),
];

/// The stack's buckets, as the sample events name them.
const DOCUMENTS_BUCKET: &str = "mso-sunrise-docs-123456789012";
const CLAIMS_BUCKET: &str = "mso-sunrise-claims-123456789012";
const INTAKE_BUCKET: &str = "mso-sunrise-intake-123456789012";
/// The stack's queues (standard queues, `mso-<ipa>-<name>`), by the variable
/// that points a function at each (`SqsWorkQueue::from_env`).
const QUEUES: &[(&str, &str)] = &[
    ("QUEUE_URL_AUTH_EVENTS", "mso-sunrise-auth-events"),
    ("QUEUE_URL_DISPUTE_EVENTS", "mso-sunrise-dispute-events"),
    ("QUEUE_URL_CLAIM_EDITS", "mso-sunrise-claim-edits"),
    (
        "QUEUE_URL_CLAIM_READJUDICATION",
        "mso-sunrise-claim-readjudication",
    ),
];
const AUTH_EVENTS: (&str, &str) = (
    "QUEUE_URL_AUTH_EVENTS",
    "{aws}/123456789012/mso-sunrise-auth-events",
);
const DISPUTE_EVENTS: (&str, &str) = (
    "QUEUE_URL_DISPUTE_EVENTS",
    "{aws}/123456789012/mso-sunrise-dispute-events",
);
const CLAIM_EDITS: (&str, &str) = (
    "QUEUE_URL_CLAIM_EDITS",
    "{aws}/123456789012/mso-sunrise-claim-edits",
);
const CLAIM_READJUDICATION: (&str, &str) = (
    "QUEUE_URL_CLAIM_READJUDICATION",
    "{aws}/123456789012/mso-sunrise-claim-readjudication",
);
/// The auth the documents samples attach to (filed by [`stack`]).
const AUTH: &str = "PA-7K3Q9M";
/// The document `events/documents-verify/clinical-notes-uploaded.json` names.
const NOTES: &str = "DOC-7K3Q9M2P4X";
/// The auths documents-verify's documents belong to, one per spawn (its
/// variants): a verification notes the document on its owner's history, which
/// an owner shared by every spawn would grow, and each later spawn read more.
const NOTED_AUTH: &str = "PA-7K3R9M";
/// The auths prior-auth-sweeper-expiring's spawns expire (variants of it).
const EXPIRING_AUTH: &str = "PA-3X9Q7M";
/// The claim the meter's claim-edits message names.
const CLAIM: &str = "CLM-7K3Q9M2P4X";
/// The claim the meter's dispute names.
const DISPUTED_CLAIM: &str = "CLM-8M4R0N3Q5Y";
/// disputes-sweeper-flagging's claims and their disputes (variants of each).
const UNACKNOWLEDGED_CLAIM: &str = "CLM-9N5S1P4R6Z";
const UNACKNOWLEDGED_DISPUTE: &str = "DSP-9N5S1P";
/// The outbox event `tests/bench/cold_start/events/auth-event-stored-later.json`
/// names, and when it was stored (its row's sort key starts with the instant).
/// That is events/outbox-relay's sample stored in 2030: the sweepers relay
/// what is older than their grace, and the first sweep of a run sent and
/// removed every row stored for outbox-relay's spawns at the sample's 2026
/// instant, so those spawns found their rows gone and sent nothing.
const OUTBOX_EVENT: &str = "0195a7c3-1e2f-7a44-9c1d-5b6e7f8a9b0c";
const OUTBOX_EVENT_AT: &str = "2030-03-02T17:05:00Z";
/// The edit work items claims-sweeper-relaying's spawns find left in the
/// outbox (variants of it).
const LEFT_EVENT: &str = "0195a7c3-1e2f-7a44-9c1d-5b6e7f8a9c00";

const CREATED: &str = r#""statusCode":201"#;
const OK: &str = r#""statusCode":200"#;

/// Every Lambda function of the stack (infra/build-lambdas.sh, FUNCTIONS), each
/// on the event of its everyday work, and its environment as
/// infra/template.yaml sets it.
const FUNCTIONS: &[Function] = &[
    Function {
        name: "eligibility",
        package: "eligibility",
        bin: "eligibility",
        event: "events/eligibility/eligible.json",
        fresh: &[],
        expect: OK,
        again: OK,
        env: &[],
        setup: None,
        before_spawn: None,
    },
    Function {
        name: "prior-auth",
        package: "prior-auth",
        bin: "prior-auth",
        // events/prior-auth's sample a year on: its approval, valid until April
        // 2026, would expire at once, and prior-auth-sweeper's next spawn with it.
        event: "tests/bench/cold_start/events/auth-criteria-met-next-year.json",
        fresh: &["replay-criteria-met"],
        expect: CREATED,
        again: CREATED,
        env: &[AUTH_EVENTS],
        setup: None,
        before_spawn: None,
    },
    Function {
        name: "prior-auth-sweeper",
        package: "prior-auth",
        bin: "prior-auth-sweeper",
        event: "events/prior-auth-sweeper/scheduled.json",
        fresh: &[],
        expect: r#""overdue_count""#,
        again: r#""overdue_count""#,
        env: &[AUTH_EVENTS],
        setup: None,
        before_spawn: None,
    },
    // The same sweeper on a minute when an approval's last valid day has
    // passed: it expires the auth (its read, its transaction with the event).
    // The row above is the everyday minute, with nothing due.
    Function {
        name: "prior-auth-sweeper-expiring",
        package: "prior-auth",
        bin: "prior-auth-sweeper",
        event: "events/prior-auth-sweeper/scheduled.json",
        fresh: &[],
        expect: r#""expired":["PA-"#,
        again: r#""expired":[]"#,
        env: &[AUTH_EVENTS],
        setup: None,
        before_spawn: Some(an_approval_past_its_window),
    },
    Function {
        name: "documents",
        package: "documents",
        bin: "documents",
        event: "events/documents/upload-clinical-notes.json",
        fresh: &["replay-upload-notes", AUTH],
        expect: CREATED,
        again: CREATED,
        env: &[
            ("DOCUMENTS_BUCKET", DOCUMENTS_BUCKET),
            AUTH_EVENTS,
            DISPUTE_EVENTS,
        ],
        setup: Some(auths_to_attach_to),
        before_spawn: None,
    },
    Function {
        name: "documents-verify",
        package: "documents",
        bin: "documents-verify",
        event: "events/documents-verify/clinical-notes-uploaded.json",
        fresh: &[NOTES],
        expect: r#""outcome":"available""#,
        again: r#""outcome":"unchanged""#,
        env: &[
            ("DOCUMENTS_BUCKET", DOCUMENTS_BUCKET),
            AUTH_EVENTS,
            DISPUTE_EVENTS,
        ],
        setup: Some(uploaded_documents),
        before_spawn: None,
    },
    Function {
        name: "claims",
        package: "claims",
        bin: "claims",
        event: "events/claims/submit-visit.json",
        fresh: &["replay-visit"],
        expect: r#""statusCode":202"#,
        again: r#""statusCode":202"#,
        env: &[("CLAIMS_BUCKET", CLAIMS_BUCKET), CLAIM_EDITS],
        setup: None,
        before_spawn: None,
    },
    Function {
        name: "claims-s3",
        package: "claims",
        bin: "claims-s3",
        event: "events/claims-s3/file-dropped.json",
        fresh: &["batch+501"],
        expect: r#""outcome":"read""#,
        again: r#""outcome":"unchanged""#,
        env: &[("CLAIMS_BUCKET", CLAIMS_BUCKET), CLAIM_EDITS],
        setup: Some(dropped_claim_files),
        before_spawn: None,
    },
    Function {
        name: "claims-edits",
        package: "claims",
        bin: "claims-edits",
        event: "tests/bench/cold_start/events/claim-received.json",
        fresh: &[CLAIM],
        expect: r#""batchItemFailures":[]"#,
        again: r#""batchItemFailures":[]"#,
        env: &[("CLAIMS_BUCKET", CLAIMS_BUCKET), CLAIM_EDITS],
        setup: Some(received_claims),
        before_spawn: None,
    },
    Function {
        name: "claims-sweeper",
        package: "claims",
        bin: "claims-sweeper",
        event: "events/claims-sweeper/scheduled.json",
        fresh: &[],
        expect: r#""relayed_events""#,
        again: r#""relayed_events""#,
        env: &[("CLAIMS_BUCKET", CLAIMS_BUCKET), CLAIM_EDITS],
        setup: None,
        before_spawn: None,
    },
    // The same sweeper on a minute when a claim's edit work item was left in
    // the outbox (its writer's send failed, or the stream lags): it sends it
    // and removes its row. The row above is the everyday minute.
    Function {
        name: "claims-sweeper-relaying",
        package: "claims",
        bin: "claims-sweeper",
        event: "events/claims-sweeper/scheduled.json",
        fresh: &[],
        expect: r#""relayed_events":1"#,
        again: r#""relayed_events":0"#,
        env: &[("CLAIMS_BUCKET", CLAIMS_BUCKET), CLAIM_EDITS],
        setup: None,
        before_spawn: Some(an_edit_work_item_left_behind),
    },
    Function {
        name: "disputes",
        package: "disputes",
        bin: "disputes",
        event: "tests/bench/cold_start/events/dispute-underpayment.json",
        fresh: &["meter-underpayment", DISPUTED_CLAIM],
        expect: CREATED,
        again: CREATED,
        env: &[DISPUTE_EVENTS, CLAIM_READJUDICATION, AUTH_EVENTS],
        setup: Some(paid_claims),
        before_spawn: None,
    },
    Function {
        name: "disputes-sweeper",
        package: "disputes",
        bin: "disputes-sweeper",
        event: "events/disputes-sweeper/scheduled.json",
        fresh: &[],
        expect: r#""overdue_count""#,
        again: r#""overdue_count""#,
        env: &[DISPUTE_EVENTS, CLAIM_READJUDICATION],
        setup: None,
        before_spawn: None,
    },
    // The same sweeper on a minute when a dispute's acknowledgement has come
    // due unanswered: it flags the dispute (its history, its event). The row
    // above is the everyday minute.
    Function {
        name: "disputes-sweeper-flagging",
        package: "disputes",
        bin: "disputes-sweeper",
        event: "events/disputes-sweeper/scheduled.json",
        fresh: &[],
        expect: r#""flagged":["DSP-"#,
        again: r#""flagged":[]"#,
        env: &[DISPUTE_EVENTS, CLAIM_READJUDICATION],
        setup: None,
        before_spawn: Some(a_dispute_unacknowledged),
    },
    Function {
        name: "intake",
        package: "intake",
        bin: "intake",
        event: "events/intake/list-queued.json",
        fresh: &[],
        expect: OK,
        again: OK,
        env: &[
            ("INTAKE_BUCKET", INTAKE_BUCKET),
            ("DOCUMENTS_BUCKET", DOCUMENTS_BUCKET),
            AUTH_EVENTS,
            DISPUTE_EVENTS,
        ],
        setup: None,
        before_spawn: None,
    },
    Function {
        name: "intake-s3",
        package: "intake",
        bin: "intake-s3",
        event: "events/intake-s3/fax-received.json",
        fresh: &["164000-0142"],
        expect: r#""outcome":"filed""#,
        again: r#""outcome":"unchanged""#,
        env: &[
            ("INTAKE_BUCKET", INTAKE_BUCKET),
            ("DOCUMENTS_BUCKET", DOCUMENTS_BUCKET),
            AUTH_EVENTS,
            DISPUTE_EVENTS,
        ],
        setup: Some(received_faxes),
        before_spawn: None,
    },
    Function {
        name: "outbox-relay",
        package: "outbox-relay",
        bin: "outbox-relay",
        event: "tests/bench/cold_start/events/auth-event-stored-later.json",
        fresh: &[OUTBOX_EVENT],
        expect: r#""batchItemFailures":[]"#,
        again: r#""batchItemFailures":[]"#,
        env: &[
            AUTH_EVENTS,
            DISPUTE_EVENTS,
            CLAIM_EDITS,
            CLAIM_READJUDICATION,
        ],
        setup: Some(stored_events),
        before_spawn: None,
    },
];

/// The `k`-th variant of `s` (its last two characters replaced by `k` in
/// Crockford base 32, so a reference ID stays one): `k` below [`VARIANTS`].
fn fresh(s: &str, k: usize) -> String {
    use mso_domain::ids::CROCKFORD;
    let keep = s.len() - 2;
    let digit = |d: usize| char::from(CROCKFORD[d % 32]);
    format!("{}{}{}", &s[..keep], digit(k / 32), digit(k))
}

const VARIANTS: usize = 32 * 32;

/// The `k`-th spawn's service date: a different day each, so claims made for
/// different spawns are not duplicates of each other.
fn service_day(k: usize) -> jiff::civil::Date {
    jiff::civil::date(2026, 3, 12) + jiff::Span::new().days(k as i64)
}

/// Moto as the functions see it, through the store's own adapters, for the
/// setups; `spawns` is how many times each function will be spawned (the
/// variants `0..spawns` of its [`Function::fresh`] strings).
struct Stack {
    sdk: SdkConfig,
    records: Arc<dyn RecordStore>,
    queue: Arc<dyn WorkQueue>,
    policy: mso_domain::policy::Policy,
    root: PathBuf,
    spawns: usize,
}

impl Stack {
    /// What the table's stream and outbox-relay do in the stack, between two
    /// spawns (unmeasured): every event a writer stored is sent and removed, so
    /// a sweeper's relay finds only what it would in AWS, nothing. The events
    /// stored for outbox-relay's own spawns ([`stored_events`]) stay.
    async fn play_the_stream(&self) -> anyhow::Result<()> {
        let metered = &OUTBOX_EVENT[..OUTBOX_EVENT.len() - 2];
        for (_, queue) in QUEUES {
            let logical = queue.trim_start_matches("mso-sunrise-");
            let partition = mso_store::keys::outbox_partition(logical);
            let page = self
                .records
                .query(mso_store::Query::primary(partition, "").limit(1000))
                .await?;
            let keys: Vec<mso_store::Key> = page
                .records
                .into_iter()
                .map(|record| record.key)
                .filter(|key| !key.sk.contains(metered))
                .collect();
            for relayed in
                mso_api::outbox::relay_stored(self.records.as_ref(), self.queue.as_ref(), &keys)
                    .await
            {
                relayed?;
            }
        }
        Ok(())
    }

    /// Removes the prior-auth timers due by now. The sweepers run on the real
    /// clock, by which every approval the setups filed (service windows of
    /// 2026) is past its window: the run's first sweep would expire them all
    /// through moto, a transaction each, which took more than a spawn's 30 s
    /// once a `--compare` doubled the setups. On the everyday minute the
    /// stack's sweeper has already handled them: nothing is due.
    /// prior-auth-sweeper-expiring's auths are filed after this, before each
    /// of its spawns.
    async fn clear_due_timers(&self) -> anyhow::Result<()> {
        let due = mso_records::due_by(jiff::Timestamp::now());
        loop {
            let query = mso_store::Query::between(
                mso_store::keys::PRIOR_AUTH_TIMERS,
                String::new(),
                due.as_str(),
            );
            let page = self.records.query(query.limit(100)).await?;
            let keys: Vec<mso_store::Key> = page.records.into_iter().map(|r| r.key).collect();
            if keys.is_empty() {
                return Ok(());
            }
            self.records.delete_many_lazy(&keys).await?;
        }
    }

    fn ports(&self) -> mso_records::Ports<'_> {
        mso_records::Ports {
            records: self.records.as_ref(),
            queue: self.queue.as_ref(),
        }
    }

    fn bucket(&self, name: &str) -> S3DocumentStore {
        S3DocumentStore::new(&self.sdk, name)
    }

    fn read(&self, path: &str) -> anyhow::Result<Bytes> {
        let path = self.root.join(path);
        let bytes = std::fs::read(&path).with_context(|| format!("{}", path.display()))?;
        Ok(bytes.into())
    }
}

fn invalid(e: impl std::fmt::Debug) -> anyhow::Error {
    anyhow::anyhow!("{e:?}")
}

/// What every function shares: the table, the buckets and queues, the small
/// IPA's members and providers (mso-testkit, as the functions' tests have them)
/// and the auth the documents samples attach to.
async fn stack(sdk: &SdkConfig, root: &Path, spawns: usize) -> anyhow::Result<Stack> {
    use aws_sdk_s3::types::{BucketLocationConstraint, CreateBucketConfiguration};
    let dynamo = aws_sdk_dynamodb::Client::new(sdk);
    mso_store::aws::create_table(&dynamo, TABLE).await?;
    let key = mso_store::CursorKey::from_secret(CURSOR_KEY.as_bytes())?;
    let urls = QUEUES
        .iter()
        .map(|(var, name)| {
            let queue = var.trim_start_matches("QUEUE_URL_").to_ascii_lowercase();
            let url = format!("{}/123456789012/{name}", sdk.endpoint_url().unwrap_or(""));
            (queue.replace('_', "-"), url)
        })
        .collect();
    let sqs = SqsWorkQueue::new(sdk, urls);
    for (_, name) in QUEUES {
        sqs.client().create_queue().queue_name(*name).send().await?;
    }
    let stack = Stack {
        sdk: sdk.clone(),
        records: Arc::new(DynamoRecordStore::new(sdk, TABLE, key)),
        queue: Arc::new(sqs),
        policy: mso_api::policies::load("sunrise")?,
        root: root.to_path_buf(),
        spawns,
    };
    for bucket in [DOCUMENTS_BUCKET, CLAIMS_BUCKET, INTAKE_BUCKET] {
        let location = CreateBucketConfiguration::builder()
            .location_constraint(BucketLocationConstraint::UsWest2)
            .build();
        let s3 = stack.bucket(bucket);
        let request = s3.client().create_bucket().bucket(bucket);
        request.create_bucket_configuration(location).send().await?;
    }
    mso_testkit::load_directory(stack.records.as_ref(), &stack.policy).await;
    let filed: jiff::Timestamp = mso_testkit::NOW.parse()?;
    let (records, queue) = (stack.records.as_ref(), stack.queue.as_ref());
    mso_testkit::file_auth(records, queue, &stack.policy, filed, AUTH).await;
    Ok(stack)
}

/// documents: per spawn, an auth of its own to upload to. An upload reads its
/// owner's documents, so every spawn reads as many (the one its replay adds);
/// on one auth for all, each spawn read every upload before it.
fn auths_to_attach_to(stack: &Stack) -> Setup<'_> {
    Box::pin(file_auths(stack, AUTH))
}

/// prior-auth-sweeper-expiring: an approval whose service window ended in
/// April 2026 (the testkit's auth, filed at the testkit's instant), so its
/// expiry is due; its filing's events are sent and removed, as the stack's
/// stream would have done by the next minute.
fn an_approval_past_its_window(stack: &Stack, k: usize) -> Setup<'_> {
    Box::pin(async move {
        let filed: jiff::Timestamp = mso_testkit::NOW.parse()?;
        let (records, queue) = (stack.records.as_ref(), stack.queue.as_ref());
        let id = fresh(EXPIRING_AUTH, k);
        mso_testkit::file_auth(records, queue, &stack.policy, filed, &id).await;
        stack.play_the_stream().await
    })
}

/// claims-sweeper-relaying: a claim's edit work item in the outbox, stored
/// longer ago than the sweeper's grace and not sent since.
fn an_edit_work_item_left_behind(stack: &Stack, k: usize) -> Setup<'_> {
    use mso_api::outbox::OutboxEvent;
    Box::pin(async move {
        let event = OutboxEvent {
            queue: mso_records::claims::CLAIM_EDITS.into(),
            id: fresh(LEFT_EVENT, k),
            body: format!(r#"{{"claim_id":"{}","group":"meter"}}"#, fresh(CLAIM, k)),
            at: mso_testkit::NOW.parse()?,
        };
        stack.records.transact(vec![event.stage()?]).await?;
        Ok(())
    })
}

/// Files an auth per spawn, the variants of `base` (except [`AUTH`], which
/// [`stack`] filed), at the testkit's instant.
async fn file_auths(stack: &Stack, base: &str) -> anyhow::Result<()> {
    let filed: jiff::Timestamp = mso_testkit::NOW.parse()?;
    let (records, queue) = (stack.records.as_ref(), stack.queue.as_ref());
    for k in 0..stack.spawns {
        let id = fresh(base, k);
        if id != AUTH {
            mso_testkit::file_auth(records, queue, &stack.policy, filed, &id).await;
        }
    }
    Ok(())
}

/// documents-verify: per spawn, an auth of its own (a variant of
/// [`NOTED_AUTH`]) with a clinical-notes PDF awaiting its upload, and the PDF's
/// bytes in the bucket (as events/documents-verify expects).
fn uploaded_documents(stack: &Stack) -> Setup<'_> {
    use mso_domain::document::DocumentType;
    use mso_domain::ids::OrgId;
    use mso_domain::prior_auth::Actor;
    use mso_records::documents::{self as records, Change, Document, Owner, OwnerKind};
    Box::pin(async move {
        let pdf = stack.read("shared/domain/tests/fixtures/documents/letter.pdf")?;
        let bucket = stack.bucket(DOCUMENTS_BUCKET);
        file_auths(stack, NOTED_AUTH).await?;
        for k in 0..stack.spawns {
            let owner = fresh(NOTED_AUTH, k);
            let doc = Document::awaiting(
                records::parse_id(&fresh(NOTES, k)).context("document ID")?,
                Owner::parse(OwnerKind::PriorAuth, &owner).map_err(invalid)?,
                OrgId::parse(mso_testkit::SUNRISE_ORG).map_err(invalid)?,
                "clinical-notes.pdf".into(),
                DocumentType::Pdf,
                pdf.len() as u64,
                1,
                Actor::system(),
                jiff::Timestamp::now(),
            );
            Change::created(&doc)?.commit(stack.ports(), None).await?;
            bucket
                .put(&doc.object_key, "application/pdf", pdf.clone())
                .await?;
        }
        Ok(())
    })
}

/// claims-s3: per spawn, `events/claims-s3/one-visit.837` under the variant of
/// the sample's key, its visit on a day of its own (another file, other claims).
fn dropped_claim_files(stack: &Stack) -> Setup<'_> {
    Box::pin(async move {
        let file = stack.read("events/claims-s3/one-visit.837")?;
        let file = std::str::from_utf8(&file)?;
        let bucket = stack.bucket(CLAIMS_BUCKET);
        for k in 0..stack.spawns {
            let day = service_day(k).strftime("%Y%m%d").to_string();
            let body = file.replace("DTP*472*D8*20260312", &format!("DTP*472*D8*{day}"));
            // The event's key, URL-decoded (S3 events encode a space as `+`).
            let key = format!("inbound/acme/2026-03-20 {}.837", fresh("batch 501", k));
            bucket
                .put(&key, "application/edi-x12", body.into_bytes().into())
                .await?;
        }
        Ok(())
    })
}

/// A claim of the Sunrise PCP's for Ana, received at `at`: one line of
/// `procedure` on `day`, $125.00.
fn claim(
    stack: &Stack,
    id: &str,
    procedure: &str,
    day: jiff::civil::Date,
    at: jiff::Timestamp,
) -> anyhow::Result<mso_domain::claims::Claim> {
    claim_of(stack, mso_testkit::ANA, id, procedure, day, at)
}

/// [`claim`] for `member` (ID and date of birth).
fn claim_of(
    stack: &Stack,
    member: (&str, &str),
    id: &str,
    procedure: &str,
    day: jiff::civil::Date,
    at: jiff::Timestamp,
) -> anyhow::Result<mso_domain::claims::Claim> {
    use mso_domain::claims::{Claim, Source};
    use mso_domain::ids::{OrgId, ReferenceId};
    use mso_domain::prior_auth::Actor;
    let submission = serde_json::from_value(serde_json::json!({
        "claim_type": "professional", "frequency": "1", "original_claim_id": null,
        "patient_control_number": "ACCT-1001", "billing_npi": mso_testkit::PCP_NPI,
        "billing_tin": "95-1234567", "rendering_npi": null, "referring_npi": null,
        "member_id": member.0, "dob": member.1,
        "place_of_service": "11", "type_of_bill": null, "diagnoses": ["M54.16"],
        "prior_auth_id": null, "total_charge_cents": 12500,
        "lines": [{"procedure": procedure, "modifiers": [], "revenue_code": null,
            "units": "1", "charge_cents": 12500, "service_from": day.to_string(),
            "service_to": null, "diagnosis_pointers": [1], "rendering_npi": null,
            "place_of_service": null, "prior_auth_id": null}]
    }))?;
    Ok(Claim::received(
        ReferenceId::parse(id).map_err(invalid)?,
        OrgId::parse(mso_testkit::SUNRISE_ORG).map_err(invalid)?,
        Source::Portal,
        submission,
        at,
        &stack.policy,
        Actor::system(),
    ))
}

/// claims-edits: per spawn, a member of its own (Ana's plan and PCP) with the
/// same history, [`EARLIER_CLAIMS`] claims judged earlier in the year, and a
/// received claim of theirs waiting for its edits (an office visit, not the one
/// of claims-s3's files). The edits read the member's claims, so every spawn
/// reads as many, however many runs and binaries the meter spawns; on Ana, to
/// whom every claims function adds, each spawn read more than the one before.
fn received_claims(stack: &Stack) -> Setup<'_> {
    use mso_api::directory;
    use mso_domain::claims::edits::Outcome;
    use mso_domain::ids::CROCKFORD;
    use mso_domain::roster::{MemberRow, members_from_rows};
    Box::pin(async move {
        let now = jiff::Timestamp::now();
        let earlier: jiff::Timestamp = "2026-02-20T17:00:00Z".parse()?;
        let ids: Vec<String> = (0..stack.spawns).map(|k| format!("SUN3{k:05}")).collect();
        let rows = ids.iter().enumerate().map(|(line, id)| {
            let row = MemberRow {
                member_id: id.clone(),
                first_name: "Meter".into(),
                last_name: "Testcase".into(),
                dob: mso_testkit::ANA.1.into(),
                sex: "F".into(),
                plan_id: "GSHP-MCAL".into(),
                line_of_business: "medi_cal".into(),
                coverage_start: "2025-01-01".into(),
                coverage_end: String::new(),
                pcp_npi: mso_testkit::PCP_NPI.into(),
            };
            (line as u64 + 2, row)
        });
        let members = members_from_rows(rows, &stack.policy).map_err(invalid)?;
        let writes = directory::member_writes(&members)?;
        directory::write_all(stack.records.as_ref(), writes).await?;
        for (k, id) in ids.iter().enumerate() {
            let member = (id.as_str(), mso_testkit::ANA.1);
            for (week, digit) in CROCKFORD[..EARLIER_CLAIMS].iter().enumerate() {
                let day = jiff::civil::date(2026, 1, 5) + jiff::Span::new().weeks(week as i64);
                let earlier_id = fresh(&format!("CLM-6H2P8RT{}00", *digit as char), k);
                let mut claim = claim_of(stack, member, &earlier_id, "99213", day, earlier)?;
                claim.judged(Outcome::of(vec![]), earlier);
                let change = mso_records::claims::Change::created(&claim, earlier)?;
                stack.records.transact(change.ops).await?;
            }
            let claim = claim_of(
                stack,
                member,
                &fresh(CLAIM, k),
                "99214",
                service_day(k),
                now,
            )?;
            // Only the records: the meter's event is the work item.
            let change = mso_records::claims::Change::created(&claim, now)?;
            stack.records.transact(change.ops).await?;
        }
        Ok(())
    })
}

/// The claims each claims-edits spawn's member made before the one it judges.
const EARLIER_CLAIMS: usize = 3;

/// disputes: per spawn, an accepted claim (a lumbar MRI) paid before the
/// remittance date of the meter's dispute, which disputes its amount.
fn paid_claims(stack: &Stack) -> Setup<'_> {
    use mso_domain::claims::edits::Outcome;
    Box::pin(async move {
        let at: jiff::Timestamp = "2026-10-01T17:00:00Z".parse()?;
        for k in 0..stack.spawns {
            let id = fresh(DISPUTED_CLAIM, k);
            let mut claim = claim(stack, &id, "72148", service_day(k), at)?;
            claim.judged(Outcome::of(vec![]), at);
            let change = mso_records::claims::Change::created(&claim, at)?;
            stack.records.transact(change.ops).await?;
        }
        Ok(())
    })
}

/// disputes-sweeper-flagging: a paid claim of its own, and a payment dispute
/// on it filed a week ago and never acknowledged (a PDR's acknowledgement is
/// due in days, its decision in weeks: only the first has come due).
fn a_dispute_unacknowledged(stack: &Stack, k: usize) -> Setup<'_> {
    use mso_domain::claims::edits::Outcome;
    use mso_domain::disputes::{Channel, Kind, ReasonCategory, Request, SubjectRef};
    use mso_domain::ids::ReferenceId;
    use mso_domain::money::Money;
    use mso_domain::prior_auth::{Actor, Contact};
    Box::pin(async move {
        let paid: jiff::Timestamp = "2026-10-01T17:00:00Z".parse()?;
        let id = fresh(UNACKNOWLEDGED_CLAIM, k);
        // Another service than disputes' claims on the same days: a claim of
        // the same member, day and service would be refused as a duplicate.
        let mut claim = claim(stack, &id, "73721", service_day(k), paid)?;
        claim.judged(Outcome::of(vec![]), paid);
        let change = mso_records::claims::Change::created(&claim, paid)?;
        stack.records.transact(change.ops).await?;

        let request = Request {
            kind: Kind::Pdr,
            subject: SubjectRef::Claim(ReferenceId::parse(&id).map_err(invalid)?),
            reason_category: ReasonCategory::Underpayment,
            reason: "Paid below the contract rate.".into(),
            amount_disputed: Some(Money::from_cents(12_500)),
            remittance_date: Some(jiff::civil::date(2026, 10, 20)),
            expedited: false,
            contact: Contact {
                name: "Billing office".into(),
                phone: "657-555-0199".into(),
                extension: None,
                fax: None,
                email: None,
            },
        };
        let received = jiff::Timestamp::now() - jiff::SignedDuration::from_hours(7 * 24);
        let dispute = mso_records::disputes::file(
            stack.records.as_ref(),
            &stack.policy,
            None,
            request,
            received,
            Channel::Electronic,
            None,
            ReferenceId::parse(&fresh(UNACKNOWLEDGED_DISPUTE, k)).map_err(invalid)?,
            Actor::system(),
            received,
        )
        .await
        .map_err(|e| anyhow::anyhow!("filing the meter's dispute: {e:?}"))?;
        mso_records::disputes::Change::created(&dispute, received)?
            .commit(stack.ports(), None)
            .await?;
        stack.play_the_stream().await
    })
}

/// intake-s3: per spawn, the one-page Authorization Request Form fax under the
/// variant of the sample's key, and the fax gateway's sidecar beside it. Each
/// fax arrives now, so the auth it files is not yet due: received in the past,
/// each was overdue, and every prior-auth-sweeper spawn after it read one
/// overdue auth more.
fn received_faxes(stack: &Stack) -> Setup<'_> {
    Box::pin(async move {
        let pdf = stack.read("functions/intake/tests/fixtures/auth-request-form.pdf")?;
        let sidecar = serde_json::json!({
            "from": "+13235550142", "received_at": jiff::Timestamp::now().to_string(), "pages": 1
        });
        let sidecar = Bytes::from(serde_json::to_vec(&sidecar)?);
        let bucket = stack.bucket(INTAKE_BUCKET);
        for k in 0..stack.spawns {
            let name = format!("fax/20260228-{}", fresh("164000-0142", k));
            let json = sidecar.clone();
            bucket
                .put(&format!("{name}.json"), "application/json", json)
                .await?;
            bucket
                .put(&format!("{name}.pdf"), "application/pdf", pdf.clone())
                .await?;
        }
        Ok(())
    })
}

/// outbox-relay: per spawn, an auth's event in the outbox, as a writer stores
/// it with its change; the meter's event is the stream's record of its row.
fn stored_events(stack: &Stack) -> Setup<'_> {
    use mso_api::outbox::OutboxEvent;
    Box::pin(async move {
        for k in 0..stack.spawns {
            let event = OutboxEvent {
                queue: "auth-events".into(),
                id: fresh(OUTBOX_EVENT, k),
                body: format!(r#"{{"auth_id":"{AUTH}","kind":"approved"}}"#),
                at: OUTBOX_EVENT_AT.parse()?,
            };
            stack.records.transact(vec![event.stage()?]).await?;
        }
        Ok(())
    })
}

/// What Lambda sets for a `provided.al2023` function, besides the runtime API
/// address, the function name and its log group; the credentials are moto's.
/// No HOME: Lambda sets none.
const LAMBDA_ENV: &[(&str, &str)] = &[
    ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256"),
    ("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST"),
    ("AWS_LAMBDA_INITIALIZATION_TYPE", "on-demand"),
    (
        "AWS_LAMBDA_LOG_STREAM_NAME",
        "2026/03/02/[$LATEST]0123456789abcdef0123456789abcdef",
    ),
    ("AWS_LAMBDA_LOG_FORMAT", "JSON"),
    ("AWS_REGION", "us-west-2"),
    ("AWS_DEFAULT_REGION", "us-west-2"),
    ("AWS_ACCESS_KEY_ID", "testing"),
    ("AWS_ACCESS_KEY", "testing"),
    ("AWS_SECRET_ACCESS_KEY", "testing"),
    ("AWS_SECRET_KEY", "testing"),
    ("AWS_SESSION_TOKEN", "testing"),
    ("AWS_XRAY_CONTEXT_MISSING", "LOG_ERROR"),
    ("AWS_XRAY_DAEMON_ADDRESS", "169.254.79.129:2000"),
    ("_AWS_XRAY_DAEMON_ADDRESS", "169.254.79.129"),
    ("_AWS_XRAY_DAEMON_PORT", "2000"),
    ("_HANDLER", "bootstrap"),
    ("LAMBDA_TASK_ROOT", "/var/task"),
    ("LAMBDA_RUNTIME_DIR", "/var/runtime"),
    ("LANG", "en_US.UTF-8"),
    ("PATH", "/usr/local/bin:/usr/bin/:/bin:/opt/bin"),
    (
        "LD_LIBRARY_PATH",
        "/lib64:/usr/lib64:/var/runtime:/var/runtime/lib:/var/task:/var/task/lib:/opt/lib",
    ),
    ("TZ", ":UTC"),
];

/// One binary to measure: a row of the table.
struct Subject<'f> {
    label: String,
    function: &'f Function,
    binary: PathBuf,
    event: Bytes,
}

/// What one run measured, from just before `exec`.
#[derive(Clone, Copy)]
struct Sample {
    /// To the first `invocation/next`.
    init: Duration,
    /// To the first response.
    first_response: Duration,
    /// Time before the first response during which a request to AWS was
    /// outstanding.
    aws_wait: Duration,
    /// Round trips to AWS in turn before the first response (requests sent
    /// together count once): what a cold invocation waits on in AWS, where each
    /// costs milliseconds, whatever the emulator's own service time.
    aws_turns: usize,
    /// From the second `invocation/next` to the second response.
    warm_invoke: Duration,
    /// Time between the two responses during which a request to AWS was
    /// outstanding.
    warm_aws_wait: Duration,
    /// CPU time of all its threads at the first response (from schedstat): what
    /// the function itself spent, free of the emulator's time and of waiting
    /// for a core on a busy machine.
    first_cpu: Duration,
    /// Minor page faults by the first `invocation/next` and by the first
    /// response: code and data touched for the first time, which a warm
    /// invocation no longer pays.
    init_faults: u64,
    first_faults: u64,
    peak_rss_kb: u64,
}

impl Sample {
    /// Init and the first invocation less the AWS wait: the function's own
    /// time, the table's "less AWS wait" and its target's ratio and interval.
    fn less_aws_wait(&self) -> Duration {
        self.first_response - self.aws_wait
    }
}

fn main() {
    if let Err(e) = meter() {
        eprintln!("error: {e:#}");
        std::process::exit(1);
    }
}

fn meter() -> anyhow::Result<()> {
    let options = Options::parse()?;
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../..")
        .canonicalize()?;
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target"));
    let functions: Vec<&Function> = FUNCTIONS
        .iter()
        .filter(|f| options.only.is_empty() || options.only.iter().any(|o| o == f.name))
        .collect();
    if functions.is_empty() {
        bail!("--only matches no function (known: {})", names().join(", "));
    }

    // The functions as infra/build-lambdas.sh builds them: all in one invocation,
    // so each has the features the others unify into the shared crates, whatever
    // --only picks. The hello-world on its own, as a user's first function would
    // be: built with the functions, it would link their tokio and serde features.
    let base = ["build", "--locked", "--profile", "lambda-release", "--bins"];
    let mut all = base.to_vec();
    for f in FUNCTIONS {
        // One -p per package (claims has four functions).
        if !all.contains(&f.package) {
            all.extend(["-p", f.package]);
        }
    }
    let mut hello = base.to_vec();
    hello.extend(["-p", HELLO.package]);
    for build in [&all, &hello] {
        println!("binaries: cargo {}", build.join(" "));
        if !options.no_build {
            cargo(&root, build)?;
        }
    }

    let event = |f: &Function| -> anyhow::Result<Bytes> {
        let path = root.join(f.event);
        let bytes = std::fs::read(&path).with_context(|| format!("{}", path.display()))?;
        Ok(bytes.into())
    };
    let built = |f: &'static Function, label: String| -> anyhow::Result<Subject<'static>> {
        Ok(Subject {
            label,
            function: f,
            binary: target.join("lambda-release").join(f.bin),
            event: event(f)?,
        })
    };
    let mut subjects = vec![built(&HELLO, format!("{} (baseline)", HELLO.name))?];
    for f in &functions {
        subjects.push(built(f, f.name.into())?);
    }
    for (name, path) in &options.compare {
        let f = std::iter::once(&HELLO)
            .chain(FUNCTIONS.iter())
            .find(|f| f.name == name)
            .with_context(|| {
                let known = names().join(", ");
                format!("--compare {name}=..: no such function (known: hello-world, {known})")
            })?;
        subjects.push(Subject {
            label: format!("{name} @ {}", path.display()),
            function: f,
            // Cargo runs a bench in its package's directory.
            binary: root.join(path),
            event: event(f)?,
        });
    }
    for s in &subjects {
        if !s.binary.is_file() {
            bail!(
                "{} is missing: build it (command above)",
                s.binary.display()
            );
        }
    }
    // Every subject runs from a copy written with write(2), as Lambda's
    // extraction of a code package writes it. On this host a binary as the
    // linker wrote it (through mmap) started 0.2 to 0.7 ms slower, with about 20
    // more page faults at init, than a byte-identical copy, so a `--compare`
    // build copied aside beat the build it was compared with
    // (docs/performance.md, "Cold starts").
    let copies = target.join("cold-start").join("bin");
    if copies.exists() {
        std::fs::remove_dir_all(&copies).with_context(|| format!("{}", copies.display()))?;
    }
    std::fs::create_dir_all(&copies).with_context(|| format!("{}", copies.display()))?;
    for (i, s) in subjects.iter_mut().enumerate() {
        let copy = copies.join(format!("{i}-{}", s.function.bin));
        std::fs::copy(&s.binary, &copy)
            .with_context(|| format!("copying {} to {}", s.binary.display(), copy.display()))?;
        s.binary = copy;
    }

    // Each function's variants are numbered across its subjects (a --compare
    // build of it gets other ones).
    let spawns = (options.runs + 1) * (1 + options.compare.len());
    if spawns > VARIANTS {
        bail!("at most {VARIANTS} spawns of a function: fewer --runs");
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()?;
    let moto = Moto::start(&root)?;
    let stack = rt.block_on(async {
        let sdk = moto.sdk().await;
        let stack = stack(&sdk, &root, spawns)
            .await
            .context("setting up the stack in moto")?;
        for f in &functions {
            if let Some(setup) = f.setup {
                let what = || format!("setting up {} in moto", f.name);
                setup(&stack).await.with_context(what)?;
            }
        }
        stack
            .clear_due_timers()
            .await
            .context("removing the setup's due expiries")?;
        anyhow::Ok(stack)
    })?;
    let aws = rt.block_on(AwsProxy::start(moto.addr))?;
    let api = RuntimeApi {
        runtime: rt.handle().clone(),
    };
    let task_root = target.join("cold-start/task");
    let logs = target.join("cold-start/logs");
    std::fs::create_dir_all(&logs)?;
    // What infra/build-lambdas.sh packages beside each bootstrap.
    std::fs::create_dir_all(task_root.join("partitions"))?;
    for table in std::fs::read_dir(root.join("infra/partitions"))? {
        let table = table?.path();
        if table.extension().is_some_and(|x| x == "json") {
            std::fs::copy(
                &table,
                task_root
                    .join("partitions")
                    .join(table.file_name().unwrap()),
            )?;
        }
    }
    let env = Env {
        api: &api,
        aws: &aws,
        wrap: &options.wrap,
        task_root: &task_root,
    };

    let wrapped = match options.wrap.is_empty() {
        true => String::new(),
        false => format!(", under `{}`", options.wrap.join(" ")),
    };
    println!(
        "measuring {} binaries, {} runs each after a warm-up round, interleaved{wrapped}",
        subjects.len(),
        options.runs,
    );
    let mut samples: Vec<Vec<Sample>> = vec![Vec::new(); subjects.len()];
    let mut order: Vec<usize> = (0..subjects.len()).collect();
    let mut rng = fastrand::Rng::with_seed(0x5eed);
    let mut spawned = std::collections::HashMap::<&str, usize>::new();
    for round in 0..=options.runs {
        // A new order each round, so no binary always follows the same one.
        rng.shuffle(&mut order);
        for &k in &order {
            let s = &subjects[k];
            let log = logs.join(format!("{k}.log"));
            let variant = spawned.entry(s.function.name).or_default();
            if let Some(before) = s.function.before_spawn {
                rt.block_on(before(&stack, *variant))
                    .with_context(|| format!("preparing {}'s spawn in moto", s.label))?;
            }
            let event = s.event_for(*variant);
            *variant += 1;
            let sample = measure(s, event, &env, &log)
                .with_context(|| format!("{} (its output: {})", s.label, log.display()))?;
            if round > 0 {
                samples[k].push(sample);
            }
            rt.block_on(stack.play_the_stream())
                .context("relaying the events the spawn stored")?;
        }
    }
    drop(moto);

    report(&subjects, &samples);
    Ok(())
}

fn names() -> Vec<&'static str> {
    FUNCTIONS.iter().map(|f| f.name).collect()
}

/// What every run shares.
struct Env<'a> {
    api: &'a RuntimeApi,
    aws: &'a AwsProxy,
    wrap: &'a [String],
    task_root: &'a Path,
}

impl Subject<'_> {
    /// Its event for the `k`-th spawn of its function ([`Function::fresh`]).
    fn event_for(&self, k: usize) -> Bytes {
        let fresh_strings = self.function.fresh;
        if fresh_strings.is_empty() {
            return self.event.clone();
        }
        let mut text = String::from_utf8_lossy(&self.event).into_owned();
        for s in fresh_strings {
            text = text.replace(s, &fresh(s, k));
        }
        text.into()
    }
}

/// Spawns `s` once, serves it `event` twice and measures it.
fn measure(s: &Subject, event: Bytes, env: &Env, log: &Path) -> anyhow::Result<Sample> {
    let served = env.api.serve(event)?;
    let marks = &served.marks;
    let mut command = match env.wrap.split_first() {
        Some((program, args)) => {
            let mut c = Command::new(program);
            c.args(args).arg(&s.binary);
            c
        }
        None => Command::new(&s.binary),
    };
    // The function's name: a row on another event of the same binary is still it.
    let name = s.function.bin;
    let aws_url = format!("http://{}", env.aws.addr);
    let log = std::fs::File::create(log)?;
    command
        .env_clear()
        .envs(LAMBDA_ENV.iter().copied())
        .env("AWS_LAMBDA_RUNTIME_API", served.addr.to_string())
        .env("AWS_LAMBDA_FUNCTION_NAME", format!("mso-sunrise-{name}"))
        .env(
            "AWS_LAMBDA_LOG_GROUP_NAME",
            format!("/mso/sunrise/lambda/{name}"),
        )
        .envs(
            match std::ptr::eq(s.function, &HELLO) {
                true => &[][..],
                false => STACK_ENV,
            }
            .iter()
            .chain(s.function.env)
            .map(|(k, v)| {
                let v = v.replace("{aws}", &aws_url);
                (*k, v.replace("{task}", &env.task_root.to_string_lossy()))
            }),
        )
        .current_dir(env.task_root)
        .stdin(Stdio::null())
        .stdout(Stdio::from(log.try_clone()?))
        .stderr(Stdio::from(log))
        // Its own process group, so a profiler's child dies with it (--wrap).
        .process_group(0);

    // Read the binary just before its exec, for every subject alike: on this VM a
    // page-cache page left idle for a few seconds costs more to touch again, so
    // without this a large binary paid more the more subjects a run rotated through
    // (docs/performance.md, "Cold starts").
    std::hint::black_box(std::fs::read(&s.binary)?);
    env.aws.reset();
    let start = Instant::now();
    let child = command
        .spawn()
        .with_context(|| format!("spawning {}", s.binary.display()))?;
    let mut child = KillOnDrop {
        child,
        group: !env.wrap.is_empty(),
    };
    let deadline = start + Duration::from_secs(30);
    let mut next = [None; 2];
    let mut init_faults = 0;
    let mut first = None;
    loop {
        match marks.recv_timeout(Duration::from_millis(5)) {
            Ok(Mark::Next(n, at)) => {
                next[n] = Some(at);
                if n == 0 {
                    // It waits for the event now, so the count stands still.
                    init_faults = minor_faults(child.child.id()).context("reading stat")?;
                }
            }
            Ok(Mark::Response(n, at, body)) => {
                let text = String::from_utf8_lossy(&body);
                let expect = [s.function.expect, s.function.again][n];
                if !text.contains(expect) {
                    bail!("response {} lacks {expect:?}: {}", n + 1, truncate(&text));
                }
                if n == 0 {
                    let pid = child.child.id();
                    let cpu = cpu_time(pid).context("reading schedstat")?;
                    let faults = minor_faults(pid).context("reading stat")?;
                    first = Some((at, env.aws.waited(), env.aws.turns(), cpu, faults));
                    continue;
                }
                let (first_at, aws_wait, aws_turns, first_cpu, first_faults) =
                    first.context("the second response came first")?;
                return Ok(Sample {
                    init: next[0].context("a response before any invocation/next")? - start,
                    first_response: first_at - start,
                    aws_wait,
                    aws_turns,
                    warm_invoke: at - next[1].context("no second invocation/next")?,
                    warm_aws_wait: env.aws.waited() - aws_wait,
                    first_cpu,
                    init_faults,
                    first_faults,
                    peak_rss_kb: peak_rss_kb(child.child.id()).context("reading VmHWM")?,
                });
            }
            Ok(Mark::Error(path, body)) => {
                let body = String::from_utf8_lossy(&body);
                bail!("it posted {path}: {}", truncate(&body))
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {}
            Err(mpsc::RecvTimeoutError::Disconnected) => bail!("the runtime API stopped"),
        }
        if let Some(status) = child.child.try_wait()? {
            bail!("it exited ({status}) before answering twice");
        }
        if Instant::now() > deadline {
            bail!("no two responses within 30 s");
        }
    }
}

/// Runs `cargo ARGS` in the workspace.
fn cargo(root: &Path, args: &[&str]) -> anyhow::Result<()> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    // Without the variables cargo set for this bench: build scripts that track
    // one (ring's, CARGO_MANIFEST_DIR) would rebuild from a plain shell's build.
    let ours = [
        "CARGO_MANIFEST_",
        "CARGO_PKG_",
        "CARGO_CRATE_",
        "CARGO_PRIMARY_",
    ];
    let mut command = Command::new(cargo);
    for (name, _) in std::env::vars_os() {
        let name_str = name.to_string_lossy();
        if ours.iter().any(|prefix| name_str.starts_with(prefix)) {
            command.env_remove(&name);
        }
    }
    let status = command
        .args(args)
        .current_dir(root)
        .status()
        .context("running cargo")?;
    if !status.success() {
        bail!("cargo build failed");
    }
    Ok(())
}

fn truncate(text: &str) -> String {
    text.chars().take(400).collect()
}

/// The CPU time a live process's threads have had so far (the first field of
/// each `/proc/PID/task/TID/schedstat`, in nanoseconds).
fn cpu_time(pid: u32) -> anyhow::Result<Duration> {
    let mut nanos = 0;
    for task in std::fs::read_dir(format!("/proc/{pid}/task"))? {
        // A thread that ends meanwhile has no file left to read.
        let Ok(stat) = std::fs::read_to_string(task?.path().join("schedstat")) else {
            continue;
        };
        nanos += stat
            .split_whitespace()
            .next()
            .and_then(|n| n.parse::<u64>().ok())
            .context("a schedstat line without its run time")?;
    }
    Ok(Duration::from_nanos(nanos))
}

/// The minor page faults of a live process so far (`/proc/PID/stat`, field 10).
fn minor_faults(pid: u32) -> anyhow::Result<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    // The command name, field 2, is in parentheses and may hold spaces.
    let after_name = &stat[stat.rfind(')').context("no command name")? + 1..];
    Ok(after_name
        .split_whitespace()
        .nth(7)
        .context("a short stat line")?
        .parse()?)
}

/// The peak resident set size of a live process, in kB.
fn peak_rss_kb(pid: u32) -> anyhow::Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let line = proc_values(&status, "VmHWM")
        .next()
        .context("no VmHWM line")?;
    Ok(line.trim_end_matches("kB").trim().parse()?)
}

/// The values of the `name: value` lines of a /proc file (`status`,
/// `meminfo`, `cpuinfo`), trimmed.
fn proc_values<'a>(text: &'a str, name: &'a str) -> impl Iterator<Item = &'a str> {
    text.lines()
        .filter_map(|line| line.split_once(':'))
        .filter(move |(key, _)| key.trim() == name)
        .map(|(_, value)| value.trim())
}

/// A child process, killed (with its process group if `group`) on drop.
struct KillOnDrop {
    child: Child,
    group: bool,
}

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        if self.group {
            // SIGINT first, so a profiler writes its data out, then SIGKILL.
            let group = format!("-{}", self.child.id());
            let _ = Command::new("kill").args(["-INT", "--", &group]).status();
            let deadline = Instant::now() + Duration::from_secs(10);
            while Instant::now() < deadline && matches!(self.child.try_wait(), Ok(None)) {
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = Command::new("kill").args(["-KILL", "--", &group]).status();
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

// ---------------------------------------------------------------------------
// The fake Lambda Runtime API
// ---------------------------------------------------------------------------

enum Mark {
    /// Invocation `n` (0 or 1) was handed out at this instant.
    Next(usize, Instant),
    /// The response to invocation `n` arrived, with its body.
    Response(usize, Instant, Bytes),
    /// `invocation/<id>/error` or `init/error` (the path), with the body.
    Error(String, Bytes),
}

/// The run in progress: the invocations not handed out yet, and where marks go.
struct Run {
    pending: VecDeque<(usize, Bytes)>,
    marks: mpsc::Sender<Mark>,
}

/// Serves each spawn's run on a port of its own: the killed process of the run
/// before may still have an `invocation/next` in the meter's socket buffers,
/// which on a shared port took the next process's first invocation (and the
/// next process then got the second one first).
struct RuntimeApi {
    runtime: tokio::runtime::Handle,
}

/// One spawn's runtime API; stops accepting when dropped.
struct Served {
    addr: SocketAddr,
    marks: mpsc::Receiver<Mark>,
    accept: tokio::task::JoinHandle<()>,
}

impl Drop for Served {
    fn drop(&mut self) {
        self.accept.abort();
    }
}

impl RuntimeApi {
    /// Serves `event` twice on a new port; its marks arrive on the result.
    fn serve(&self, event: Bytes) -> anyhow::Result<Served> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let (marks, rx) = mpsc::channel();
        let pending = VecDeque::from([(0, event.clone()), (1, event)]);
        let run = Arc::new(Mutex::new(Run { pending, marks }));
        let accept = self.runtime.spawn(async move {
            let Ok(listener) = tokio::net::TcpListener::from_std(listener) else {
                return;
            };
            while let Ok((stream, _)) = listener.accept().await {
                let _ = stream.set_nodelay(true);
                let run = run.clone();
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(move |req| serve(run.clone(), req));
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Ok(Served {
            addr,
            marks: rx,
            accept,
        })
    }
}

/// Request IDs of the two invocations of a run.
const REQUEST_IDS: [&str; 2] = [
    "8476a536-e9f4-11e8-9739-2dfe598c3fcd",
    "9a3e5f2c-e9f4-11e8-9739-2dfe598c3fcd",
];

async fn serve(
    run: Arc<Mutex<Run>>,
    req: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let arrived = Instant::now();
    let path = req.uri().path().to_owned();
    let Some(tail) = path.strip_prefix("/2018-06-01/runtime/") else {
        return Ok(status(StatusCode::NOT_FOUND));
    };
    if req.method() == Method::GET && tail == "invocation/next" {
        let invocation = {
            let mut run = run.lock().unwrap();
            let next = run.pending.pop_front();
            if let Some((n, _)) = &next {
                let _ = run.marks.send(Mark::Next(*n, arrived));
            }
            next
        };
        let Some((n, event)) = invocation else {
            // Both served: this `next` waits until the meter kills the process.
            return std::future::pending().await;
        };
        let deadline = jiff::Timestamp::now().as_millisecond() + 900_000;
        let response = Response::builder()
            .header("content-type", "application/json")
            .header("lambda-runtime-aws-request-id", REQUEST_IDS[n])
            .header("lambda-runtime-deadline-ms", deadline.to_string())
            .header(
                "lambda-runtime-invoked-function-arn",
                "arn:aws:lambda:us-west-2:123456789012:function:cold-start",
            )
            .header(
                "lambda-runtime-trace-id",
                "Root=1-5bef4de7-ad49b0e87f6ef6c87fc2e700;Parent=9a9197af755a6419;Sampled=1",
            )
            .body(Full::new(event))
            .expect("valid headers");
        return Ok(response);
    }
    if req.method() != Method::POST {
        return Ok(status(StatusCode::METHOD_NOT_ALLOWED));
    }
    let body = req.into_body().collect().await.map(|b| b.to_bytes());
    let body = body.unwrap_or_default();
    let arrived = Instant::now();
    let response = REQUEST_IDS
        .iter()
        .position(|id| tail == format!("invocation/{id}/response"));
    let mark = match response {
        Some(n) => Mark::Response(n, arrived, body),
        None if tail.ends_with("/error") => Mark::Error(path.clone(), body),
        None => return Ok(status(StatusCode::NOT_FOUND)),
    };
    let _ = run.lock().unwrap().marks.send(mark);
    Ok(status(StatusCode::ACCEPTED))
}

fn status(code: StatusCode) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::new()));
    *response.status_mut() = code;
    response
}

// ---------------------------------------------------------------------------
// AWS: moto behind a proxy that times the waits
// ---------------------------------------------------------------------------

/// An HTTP/1.1 proxy to moto ([`forward`]) that adds up the wall time during
/// which at least one request was outstanding, on any connection.
struct AwsProxy {
    addr: SocketAddr,
    busy: Arc<Mutex<Busy>>,
}

#[derive(Default)]
struct Busy {
    outstanding: usize,
    since: Option<Instant>,
    total: Duration,
    /// Periods with a request outstanding: round trips in turn, those sent
    /// together counted once.
    turns: usize,
}

impl Busy {
    fn begin(&mut self) {
        if self.outstanding == 0 {
            self.since = Some(Instant::now());
            self.turns += 1;
        }
        self.outstanding += 1;
    }

    fn end(&mut self) {
        self.outstanding -= 1;
        if self.outstanding == 0
            && let Some(since) = self.since.take()
        {
            self.total += since.elapsed();
        }
    }
}

impl AwsProxy {
    async fn start(upstream: SocketAddr) -> anyhow::Result<AwsProxy> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let busy: Arc<Mutex<Busy>> = Arc::default();
        let shared = busy.clone();
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let _ = client.set_nodelay(true);
                let busy = shared.clone();
                let service =
                    hyper::service::service_fn(move |req| forward(req, upstream, busy.clone()));
                tokio::spawn(
                    hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(client), service),
                );
            }
        });
        Ok(AwsProxy { addr, busy })
    }

    fn reset(&self) {
        *self.busy.lock().unwrap() = Busy::default();
    }

    fn waited(&self) -> Duration {
        self.busy.lock().unwrap().total
    }

    fn turns(&self) -> usize {
        self.busy.lock().unwrap().turns
    }
}

/// Forwards one request to moto, on a connection of its own (moto closes each
/// after its response), and returns the response without moto's `Connection:
/// close`, so the function keeps its connection as it would with AWS, whose
/// endpoints keep connections alive: with moto's close passed on, every AWS call
/// in the function paid a new connection, which in AWS only the first one does.
/// The request is outstanding from its arrival to its response's return.
async fn forward(
    req: Request<Incoming>,
    upstream: SocketAddr,
    busy: Arc<Mutex<Busy>>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    busy.lock().unwrap().begin();
    let forwarded = async {
        let (parts, body) = req.into_parts();
        let body = body.collect().await?.to_bytes();
        let stream = tokio::net::TcpStream::connect(upstream).await?;
        stream.set_nodelay(true)?;
        let (mut sender, connection) =
            hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
        tokio::spawn(connection);
        let response = sender
            .send_request(Request::from_parts(parts, Full::new(body)))
            .await?;
        let (mut parts, body) = response.into_parts();
        let body = body.collect().await?.to_bytes();
        parts.headers.remove(hyper::header::CONNECTION);
        anyhow::Ok(Response::from_parts(parts, Full::new(body)))
    }
    .await;
    busy.lock().unwrap().end();
    Ok(forwarded.unwrap_or_else(|_| status(StatusCode::BAD_GATEWAY)))
}

/// A running `moto_server`, killed on drop.
struct Moto {
    _child: KillOnDrop,
    addr: SocketAddr,
}

impl Moto {
    fn start(root: &Path) -> anyhow::Result<Moto> {
        let venv = root.join("target/py/bin/moto_server");
        let program = match venv.is_file() {
            true => venv,
            false => PathBuf::from("moto_server"),
        };
        for _ in 0..3 {
            // A free port, released for moto: retried if another process takes it.
            let port = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
            let child = Command::new(&program)
                .args(["-H", "127.0.0.1", "-p", &port.to_string()])
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .with_context(|| {
                    format!(
                        "starting {}: run tests/run once (it installs moto into target/py), \
                         or pip install 'moto[server]'",
                        program.display()
                    )
                })?;
            let mut child = KillOnDrop {
                child,
                group: false,
            };
            let addr = SocketAddr::from(([127, 0, 0, 1], port));
            let deadline = Instant::now() + Duration::from_secs(20);
            while Instant::now() < deadline {
                if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
                    return Ok(Moto {
                        _child: child,
                        addr,
                    });
                }
                if child.child.try_wait()?.is_some() {
                    break; // exited, e.g. the port was taken
                }
                std::thread::sleep(Duration::from_millis(50));
            }
        }
        bail!("moto_server did not start (3 attempts)")
    }

    async fn sdk(&self) -> SdkConfig {
        mso_store::aws::sdk_config_for(
            "us-west-2",
            Some(&format!("http://{}", self.addr)),
            Credentials::new("testing", "testing", None, None, "moto"),
        )
    }
}

// ---------------------------------------------------------------------------
// Options and the report
// ---------------------------------------------------------------------------

struct Options {
    runs: usize,
    only: Vec<String>,
    compare: Vec<(String, PathBuf)>,
    no_build: bool,
    wrap: Vec<String>,
}

impl Options {
    fn parse() -> anyhow::Result<Options> {
        let mut options = Options {
            runs: 9,
            only: vec![],
            compare: vec![],
            no_build: false,
            wrap: vec![],
        };
        let mut args = std::env::args().skip(1);
        while let Some(arg) = args.next() {
            let mut value = || args.next().with_context(|| format!("{arg} needs a value"));
            match arg.as_str() {
                "--bench" => {} // what `cargo bench` passes
                "--runs" => options.runs = value()?.parse().context("--runs")?,
                "--only" => options.only.extend(value()?.split(',').map(String::from)),
                "--compare" => {
                    let v = value()?;
                    let (name, path) = v.split_once('=').context("--compare NAME=PATH")?;
                    options.compare.push((name.into(), path.into()));
                }
                "--no-build" => options.no_build = true,
                "--wrap" => options.wrap = value()?.split_whitespace().map(String::from).collect(),
                other => bail!(
                    "unknown argument {other:?} (see the top of tests/bench/cold_start/main.rs)"
                ),
            }
        }
        if options.runs == 0 {
            bail!("--runs must be at least 1");
        }
        Ok(options)
    }
}

/// Median and p90 (nearest rank).
fn p50_p90(mut values: Vec<Duration>) -> (Duration, Duration) {
    values.sort_unstable();
    (
        values[rank(values.len(), 0.5)],
        values[rank(values.len(), 0.9)],
    )
}

/// The index of the `p` quantile in `n` sorted values (nearest rank).
fn rank(n: usize, p: f64) -> usize {
    ((n as f64 * p).ceil() as usize).clamp(1, n) - 1
}

/// Resamples behind each ratio's interval.
const DRAWS: usize = 2_000;

/// The 95% interval of a ratio to hello-world (the median of `value` over a
/// function's runs against the same over hello-world's), by resampling the
/// rounds: a round's run of the function and hello-world's run of that round
/// are drawn together, so a few busy rounds, which slow both, move the ratio
/// less than they move either median. A fixed seed, so the same samples give the
/// same interval. A target inside the interval is one this run cannot tell met
/// from missed: another run may read either side of it.
fn ratio_interval(runs: &[Sample], base: &[Sample], value: fn(&Sample) -> Duration) -> (f64, f64) {
    let n = runs.len().min(base.len());
    let mut rng = fastrand::Rng::with_seed(0x2a7);
    let (mut ours, mut theirs) = (vec![Duration::ZERO; n], vec![Duration::ZERO; n]);
    let median = rank(n, 0.5);
    let mut ratios: Vec<f64> = (0..DRAWS)
        .map(|_| {
            for i in 0..n {
                let round = rng.usize(..n);
                (ours[i], theirs[i]) = (value(&runs[round]), value(&base[round]));
            }
            ours.sort_unstable();
            theirs.sort_unstable();
            ours[median].as_secs_f64() / theirs[median].as_secs_f64()
        })
        .collect();
    ratios.sort_by(f64::total_cmp);
    (ratios[rank(DRAWS, 0.025)], ratios[rank(DRAWS, 0.975)])
}

/// A ratio target's verdict line: the run's ratio, its interval, and whether the
/// target lies inside the interval.
fn ratio_verdict(what: String, ratio: f64, (low, high): (f64, f64), target: f64) -> (bool, String) {
    let line = if low <= target && target < high {
        ", on the line"
    } else {
        ""
    };
    (
        ratio <= target,
        format!("{what} (x{ratio:.2}; 95% interval x{low:.2} to x{high:.2}{line})"),
    )
}

fn ms(d: Duration) -> String {
    format!("{:.1}", d.as_secs_f64() * 1000.0)
}

fn mb(bytes: u64) -> String {
    format!("{:.1}", bytes as f64 / 1e6)
}

/// Targets (docs/performance.md, "Cold starts").
const INIT_RATIO: f64 = 1.5;
const FIRST_RESPONSE_RATIO: f64 = 2.0;
const MAX_BINARY: u64 = 8_000_000;
const MAX_ZIP: u64 = 5_000_000;
/// How far a row's p90 (less AWS wait) may sit over its p50 in a quiet run, for
/// hello-world and for the median row. In the quiet runs of 2026-12-07 on the
/// third VM the median row's was 5 to 7% and hello-world's 4 to 14%; in busy
/// ones the median row's was 40 to 49%, and in one of them hello-world's only
/// 9%, so hello-world alone can miss a busy run (docs/performance.md, "Cold
/// starts").
const QUIET_SPREAD: f64 = 0.15;

fn report(subjects: &[Subject], samples: &[Vec<Sample>]) {
    struct Row {
        init: (Duration, Duration),
        first: (Duration, Duration),
        aws: Duration,
        turns: u64,
        own: (Duration, Duration),
        warm: Duration,
        warm_aws: Duration,
        cpu: Duration,
        faults: (u64, u64),
        rss_kb: u64,
    }
    let rows: Vec<Row> = samples
        .iter()
        .map(|s| {
            let all = |f: fn(&Sample) -> Duration| p50_p90(s.iter().map(f).collect());
            let median = |f: fn(&Sample) -> u64| {
                let mut v: Vec<u64> = s.iter().map(f).collect();
                v.sort_unstable();
                v[rank(v.len(), 0.5)]
            };
            Row {
                init: all(|x| x.init),
                first: all(|x| x.first_response),
                aws: all(|x| x.aws_wait).0,
                turns: median(|x| x.aws_turns as u64),
                own: all(Sample::less_aws_wait),
                warm: all(|x| x.warm_invoke).0,
                warm_aws: all(|x| x.warm_aws_wait).0,
                cpu: all(|x| x.first_cpu).0,
                faults: (
                    median(|x| x.init_faults),
                    median(|x| x.first_faults - x.init_faults),
                ),
                rss_kb: median(|x| x.peak_rss_kb),
            }
        })
        .collect();
    let base = &rows[0];
    let ratio = |a: Duration, b: Duration| a.as_secs_f64() / b.as_secs_f64();

    // One table, as docs/performance.md shows it (`cargo bench -p perf-report`).
    println!();
    println!("<!-- report:cold-start -->");
    println!(
        "Measured on {}; the run ended {} UTC.",
        host(),
        jiff::Timestamp::now().strftime("%Y-%m-%d %H:%M")
    );
    println!();
    println!(
        "| function | init | p90 | x hello | init + 1st invoke | AWS wait (round trips in turn) \
         | less AWS wait | p90 \
         | x hello | CPU to 1st response | x hello | warm invoke (AWS wait) \
         | page faults (init + 1st invoke) | peak RSS | stripped binary | zip |"
    );
    println!("|{}", " --- |".repeat(16));
    let mut verdicts = Vec::new();
    for ((s, row), runs) in subjects.iter().zip(&rows).zip(samples) {
        let size = std::fs::metadata(&s.binary).map(|m| m.len()).unwrap_or(0);
        let zip = zip_size(&s.binary);
        let zip_shown = zip.map(mb).unwrap_or_else(|| "n/a (no zip CLI)".into());
        println!(
            "| {} | {} ms | {} | x{:.2} | {} ms | {} ms ({}) | {} ms | {} | x{:.2} | {} ms | x{:.2} | {} ms ({}) | {} + {} | {:.1} MB | {} MB | {zip_shown} MB |",
            s.label,
            ms(row.init.0),
            ms(row.init.1),
            ratio(row.init.0, base.init.0),
            ms(row.first.0),
            ms(row.aws),
            row.turns,
            ms(row.own.0),
            ms(row.own.1),
            ratio(row.own.0, base.own.0),
            ms(row.cpu),
            ratio(row.cpu, base.cpu),
            ms(row.warm),
            ms(row.warm_aws),
            row.faults.0,
            row.faults.1,
            row.rss_kb as f64 / 1000.0,
            mb(size),
        );
        if std::ptr::eq(s.function, &HELLO) {
            continue;
        }
        let label = &s.label;
        let interval = |value| ratio_interval(runs, &samples[0], value);
        verdicts.extend([
            ratio_verdict(
                format!("{label}: init <= {INIT_RATIO}x hello-world"),
                ratio(row.init.0, base.init.0),
                interval(|x| x.init),
                INIT_RATIO,
            ),
            ratio_verdict(
                format!("{label}: init + first invoke <= {FIRST_RESPONSE_RATIO}x hello-world"),
                ratio(row.first.0, base.first.0),
                interval(|x| x.first_response),
                FIRST_RESPONSE_RATIO,
            ),
            ratio_verdict(
                format!(
                    "{label}: init + first invoke less AWS wait <= {FIRST_RESPONSE_RATIO}x \
                     hello-world"
                ),
                ratio(row.own.0, base.own.0),
                interval(Sample::less_aws_wait),
                FIRST_RESPONSE_RATIO,
            ),
            ratio_verdict(
                format!(
                    "{label}: CPU to the first response <= {FIRST_RESPONSE_RATIO}x hello-world"
                ),
                ratio(row.cpu, base.cpu),
                interval(|x| x.first_cpu),
                FIRST_RESPONSE_RATIO,
            ),
            (
                size <= MAX_BINARY,
                format!("{label}: binary <= 8 MB ({} MB)", mb(size)),
            ),
            (
                zip.is_none_or(|z| z <= MAX_ZIP),
                format!("{label}: zip <= 5 MB ({zip_shown} MB)"),
            ),
        ]);
    }
    println!("<!-- /report:cold-start -->");
    let millis = |d: Duration| d.as_secs_f64() * 1e3;
    let plot = serde_json::json!({
        "title": "Cold start per function against hello-world (p50)",
        "y_label": "ms",
        "categories": subjects.iter().map(|s| s.label.as_str()).collect::<Vec<_>>(),
        "series": [
            {"name": "init (exec to first invocation/next)", "values": rows.iter().map(|r| millis(r.init.0)).collect::<Vec<_>>()},
            {"name": "init + first invoke, less AWS wait", "values": rows.iter().map(|r| millis(r.own.0)).collect::<Vec<_>>()},
            {"name": "CPU to the first response", "values": rows.iter().map(|r| millis(r.cpu)).collect::<Vec<_>>()},
            {"name": format!("{INIT_RATIO}x hello-world's init (the target)"), "values": rows.iter().map(|_| millis(base.init.0) * INIT_RATIO).collect::<Vec<_>>()},
        ],
    });
    println!("<!-- plot:cold-start {plot} -->");
    println!();
    for (met, what) in verdicts {
        println!("{} {what}", if met { "met   " } else { "MISSED" });
    }
    let spread = |row: &Row| ratio(row.own.1, row.own.0) - 1.0;
    let mut spreads: Vec<f64> = rows.iter().map(spread).collect();
    spreads.sort_by(f64::total_cmp);
    let median = spreads[rank(spreads.len(), 0.5)];
    let hello = spread(base);
    if hello.max(median) > QUIET_SPREAD {
        println!(
            "note   a busy host: the p90s (less AWS wait) sit {:.0}% over the p50s in the \
             median row and {:.0}% in hello-world's (at most {:.0}% in a quiet run), so \
             this run's ratios read high: measure again",
            median * 100.0,
            hello * 100.0,
            QUIET_SPREAD * 100.0
        );
    }
}

/// The machine a run measured, as the report names it: the ratios to
/// hello-world carry across hosts for init but not for the first invocation
/// (docs/performance.md, "Targets"), so every table says where it was made.
fn host() -> String {
    let read = |path: &str| std::fs::read_to_string(path).unwrap_or_default();
    let (cpuinfo, meminfo) = (read("/proc/cpuinfo"), read("/proc/meminfo"));
    fn field<'a>(text: &'a str, name: &'a str) -> Option<&'a str> {
        proc_values(text, name).next()
    }
    let cpus = proc_values(&cpuinfo, "processor").count();
    let cpu = match (
        field(&cpuinfo, "vendor_id"),
        field(&cpuinfo, "cpu family"),
        field(&cpuinfo, "model"),
    ) {
        (Some(vendor), Some(family), Some(model)) => {
            let name = field(&cpuinfo, "model name").unwrap_or_default();
            format!("{vendor} family {family} model {model} ({name})")
        }
        // Arm's /proc/cpuinfo names the part, not a family and model.
        _ => format!(
            "{} part {}",
            std::env::consts::ARCH,
            field(&cpuinfo, "CPU part").unwrap_or("unknown")
        ),
    };
    let memory = field(&meminfo, "MemTotal")
        .and_then(|kb| kb.trim_end_matches("kB").trim().parse::<f64>().ok())
        .map(|kb| format!(", {:.0} GiB", kb / (1024.0 * 1024.0)))
        .unwrap_or_default();
    format!("{cpus} vCPUs of {cpu}{memory}")
}

/// The size of `binary` zipped as a Lambda deployment package (`bootstrap` at the
/// root), with the `zip` CLI; `None` without it.
fn zip_size(binary: &Path) -> Option<u64> {
    let dir = std::env::temp_dir().join(format!("cold-start-zip-{}", std::process::id()));
    std::fs::create_dir_all(&dir).ok()?;
    let bootstrap = dir.join("bootstrap");
    let archive = dir.join("function.zip");
    let _ = std::fs::remove_file(&archive);
    std::fs::copy(binary, &bootstrap).ok()?;
    let zipped = Command::new("zip")
        .args(["-q", "-X", "-j"])
        .arg(&archive)
        .arg(&bootstrap)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    let size = std::fs::metadata(&archive).ok().map(|m| m.len());
    let _ = std::fs::remove_dir_all(&dir);
    size.filter(|_| zipped)
}
